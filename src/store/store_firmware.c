/*
 * store_firmware.c - placeholder being written (HE-14).
 */
#include "store/store_firmware.h"

const char store_m015_sql[] = "";
