/*
 * firmware.c - placeholder being written (HE-14).
 */
#include "api/api_firmware.h"
