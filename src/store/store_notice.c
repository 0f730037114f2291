/*
 * store_notice.c - placeholder being written (HE-5, HE-6, HE-13).
 */
#include "store/store_notice.h"

const char store_m014_sql[] = "";
