/*
 * store_content.c - placeholder being written (HE-12, HE-15).
 */
#include "store/store_content.h"

const char store_m017_sql[] = "";
