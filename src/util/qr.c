/*
 * qr.c - QR codes as PNG and SVG.
 *
 * PLACEHOLDER: being written for issue 4.
 */
#include "util/qr.h"
