/*
 * charger_fixture.h - test fixture (issue 4).
 *
 * PLACEHOLDER: being written for issue 4.
 */
#ifndef ENEMANE_TESTS_API_CHARGER_FIXTURE_H
#define ENEMANE_TESTS_API_CHARGER_FIXTURE_H

#include "common.h"

#endif
