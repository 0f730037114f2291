/*
 * ingest_json.h - the JSON measurement batch format of
 * POST /api/v1/gateway/measurements (HE-7):
 *
 *   {"batch_id": "...", "precision": "s"|"ms",
 *    "series": [{"channel": "main", "quantity": "energy", "unit": "Wh", ...}],
 *    "points": [[series_index, time, value], ...]}
 *
 * Strict: duplicate or unknown members, a bad series definition or a bad
 * batch id fail the batch with a JSON pointer; a bad point is a reject.
 */
#ifndef ENEMANE_DOMAIN_INGEST_JSON_H
#define ENEMANE_DOMAIN_INGEST_JSON_H

#include "domain/ingest.h"

/* Returns 0 (rejects may be recorded) or negative errno with *err filled:
 * -EINVAL (malformed JSON or a bad member; err->code "malformed_json" or
 * "validation_failed"), -E2BIG (limits), -ENOMEM. */
int ingest_json_parse(const char *body, size_t len, const struct ingest_limits *lim,
                      struct ingest_batch *out, struct ingest_error *err);

#endif
