/*
 * api_firmware.h - placeholder being written (HE-14).
 */
#ifndef ENEMANE_API_API_FIRMWARE_H
#define ENEMANE_API_API_FIRMWARE_H

#include "api/api.h"

#endif
