/*
 * image.h - recognising JPEG and PNG images and reading their dimensions.
 *
 * PLACEHOLDER: being written for issue 4.
 */
#ifndef ENEMANE_UTIL_IMAGE_H
#define ENEMANE_UTIL_IMAGE_H

#endif
