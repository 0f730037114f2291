/*
 * lineproto.h - the InfluxDB line protocol parser of the ingest paths
 * (/write, /api/v2/write; HE-7). Maps a line to one point of a series:
 *
 *   <quantity>,channel=<id>[,unit=..][,class=..][,epc=..][,instance=..]
 *             [,circuit=..][,name=..][,role=..][,wrap=..] value=<number> [<time>]
 *
 * Per-line problems become rejects of the batch (the good lines are kept);
 * only limits and unreadable input fail the whole batch.
 */
#ifndef ENEMANE_DOMAIN_LINEPROTO_H
#define ENEMANE_DOMAIN_LINEPROTO_H

#include "domain/ingest.h"

enum lp_precision { LP_NS = 0, LP_US, LP_MS, LP_S, LP_MIN, LP_HOUR };

/* "ns"/"n", "us"/"u", "ms", "s", "m", "h"; NULL or "" is ns. -EINVAL when unknown. */
int lineproto_precision(const char *s, enum lp_precision *out);
/* Parses body[0..len) into out (initialised by the caller). Lines without a
 * time get now_ms. Returns 0 (rejects may be recorded), or a negative errno
 * with *err filled: -E2BIG (limits), -EINVAL (input not text), -ENOMEM. */
int lineproto_parse(const char *body, size_t len, enum lp_precision prec, int64_t now_ms,
                    const struct ingest_limits *lim, struct ingest_batch *out,
                    struct ingest_error *err);

#endif
