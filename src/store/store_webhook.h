/*
 * store_webhook.h - replay protection for signed provider webhooks: every
 * signature accepted is remembered until it is too old to pass the
 * timestamp check anyway, so the exact same message is refused twice.
 */
#ifndef ENEMANE_STORE_WEBHOOK_H
#define ENEMANE_STORE_WEBHOOK_H

#include <stdint.h>

#include "store/store.h"

/* Records sig; -EEXIST when it was seen before. */
int store_webhook_seen(struct store *st, const char *sig, int64_t now);
/* Forgets signatures seen before `before`; *count gets how many. */
int store_webhook_prune(struct store *st, int64_t before, int *count);

#endif
