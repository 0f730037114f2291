/*
 * image.c - JPEG and PNG recognition.
 *
 * PLACEHOLDER: being written for issue 4.
 */
#include "util/image.h"
