/*
 * fuzz_check.h - the invariants both ingest fuzz harnesses assert on a
 * parsed batch (tests/fuzz): counts add up, every point and reject index is
 * below n_input and each input index is either a point or a reject (both in
 * input order), series indices are in range and series are valid, values
 * are finite, messages are terminated. Header-only: each harness includes it
 * once. The checks call abort(), so they hold in any build type.
 */
#ifndef ENEMANE_TESTS_FUZZ_CHECK_H
#define ENEMANE_TESTS_FUZZ_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/ingest.h"

#define FUZZ_CHECK(cond)                                                                 \
        do {                                                                             \
                if (!(cond)) {                                                           \
                        fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__,       \
                                __LINE__, #cond);                                        \
                        abort();                                                         \
                }                                                                        \
        } while (0)

static void fuzz_check_text(const char *s, size_t size)
{
        FUZZ_CHECK(memchr(s, '\0', size) != NULL);
}

static void fuzz_check_error(int rc, const struct ingest_error *err)
{
        FUZZ_CHECK(rc == -EINVAL || rc == -E2BIG);
        FUZZ_CHECK(err->code != NULL);
        fuzz_check_text(err->message, sizeof(err->message));
        fuzz_check_text(err->pointer, sizeof(err->pointer));
}

static void fuzz_check_series(const struct ingest_series *s)
{
        fuzz_check_text(s->channel, sizeof(s->channel));
        fuzz_check_text(s->unit, sizeof(s->unit));
        fuzz_check_text(s->name, sizeof(s->name));
        fuzz_check_text(s->role, sizeof(s->role));
        FUZZ_CHECK(ingest_id_valid(s->channel, strlen(s->channel)));
        FUZZ_CHECK(energy_unit_valid(s->quantity, s->unit));
        FUZZ_CHECK(s->role[0] == '\0' || energy_role_valid(s->role));
        FUZZ_CHECK(ingest_name_valid(s->name, strlen(s->name)));
        FUZZ_CHECK(s->class_code >= -1 && s->class_code <= 0xFFFF);
        FUZZ_CHECK(s->epc >= -1 && s->epc <= 0xFF);
        FUZZ_CHECK(s->instance == -1 || (s->instance >= 1 && s->instance <= 127));
        FUZZ_CHECK(s->circuit >= -1 && s->circuit <= 255);
        FUZZ_CHECK(s->wrap == 0 || (isfinite(s->wrap) && s->wrap > 0));
        FUZZ_CHECK(energy_role_valid(ingest_default_role(s)));
}

/* Points and rejects partition 0..n_input-1, each list in input order. */
static void fuzz_check_indices(const struct ingest_batch *b)
{
        size_t i = 0, p = 0, r = 0;

        for (i = 0; i < b->n_input; i++) {
                if (p < b->n_points && b->points[p].index == i) {
                        FUZZ_CHECK(r >= b->n_rejects || b->rejects[r].index != i);
                        p++;
                } else {
                        FUZZ_CHECK(r < b->n_rejects && b->rejects[r].index == i);
                        r++;
                }
        }
        FUZZ_CHECK(p == b->n_points && r == b->n_rejects);
}

static void fuzz_check_batch(const struct ingest_batch *b, const struct ingest_limits *lim,
                             bool line_protocol)
{
        size_t i;

        FUZZ_CHECK(b->n_points + b->n_rejects == b->n_input);
        FUZZ_CHECK(b->n_input <= lim->max_points);
        FUZZ_CHECK(b->n_series <= lim->max_series);
        FUZZ_CHECK(b->n_points <= b->cap_points && b->n_rejects <= b->cap_rejects);
        fuzz_check_text(b->batch_id, sizeof(b->batch_id));
        for (i = 0; i < b->n_series; i++)
                fuzz_check_series(&b->series[i]);
        for (i = 0; i < b->n_points; i++) {
                const struct ingest_point *pt = &b->points[i];

                FUZZ_CHECK(pt->index < b->n_input);
                FUZZ_CHECK(pt->series < b->n_series);
                FUZZ_CHECK(isfinite(pt->value));
                FUZZ_CHECK(pt->ts_ms >= 0);
                FUZZ_CHECK(line_protocol ? pt->line >= 1 : pt->line == 0);
                FUZZ_CHECK(i == 0 || b->points[i - 1].line <= pt->line);
        }
        for (i = 0; i < b->n_rejects; i++) {
                const struct ingest_reject *rj = &b->rejects[i];

                FUZZ_CHECK(rj->index < b->n_input);
                FUZZ_CHECK(rj->code != NULL && rj->code[0] != '\0');
                fuzz_check_text(rj->message, sizeof(rj->message));
                FUZZ_CHECK(line_protocol ? rj->line >= 1 : rj->line == 0);
        }
        fuzz_check_indices(b);
}

/* The time window keeps the partition and moves only points outside it. */
static void fuzz_check_window(struct ingest_batch *b, const struct ingest_limits *lim,
                              bool line_protocol, int64_t min_ms, int64_t max_ms)
{
        size_t before = b->n_points, i;

        FUZZ_CHECK(ingest_batch_window(b, min_ms, max_ms) == 0);
        FUZZ_CHECK(b->n_points <= before);
        for (i = 0; i < b->n_points; i++)
                FUZZ_CHECK(b->points[i].ts_ms >= min_ms && b->points[i].ts_ms <= max_ms);
        fuzz_check_batch(b, lim, line_protocol);
}

#endif
