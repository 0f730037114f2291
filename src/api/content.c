/*
 * content.c - placeholder being written (HE-12, HE-15).
 */
#include "api/api_content.h"
