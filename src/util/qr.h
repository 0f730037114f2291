/*
 * qr.h - QR codes (libqrencode) rendered as PNG and SVG.
 *
 * PLACEHOLDER: being written for issue 4.
 */
#ifndef ENEMANE_UTIL_QR_H
#define ENEMANE_UTIL_QR_H

#endif
