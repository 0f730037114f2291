/*
 * api_content.h - placeholder being written (HE-12, HE-15).
 */
#ifndef ENEMANE_API_API_CONTENT_H
#define ENEMANE_API_API_CONTENT_H

#include "api/api.h"

#endif
