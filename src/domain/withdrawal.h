/*
 * withdrawal.h - what blocks a member's withdrawal (CS-4).
 *
 * CS-4: withdrawal is self-service but refused while the member has a
 * confirmed reservation, an unsettled transaction (a wallet hold or an
 * unpaid penalty) or an identity check in progress. Each module that owns
 * such a state registers a check at start-up (before any request is
 * served); the withdrawal endpoint runs every check and refuses with each
 * blocker named. The registry itself is pure: the checks receive an opaque
 * context (the store) and decide.
 */
#ifndef ENEMANE_DOMAIN_WITHDRAWAL_H
#define ENEMANE_DOMAIN_WITHDRAWAL_H

#include <stdint.h>

#define WITHDRAWAL_MAX_CHECKS 16
#define WITHDRAWAL_MAX_BLOCKERS 16

/* Stable blocker codes used by the modules. */
#define WITHDRAWAL_CONFIRMED_RESERVATION "confirmed_reservation"
#define WITHDRAWAL_WALLET_HOLD "wallet_hold"
#define WITHDRAWAL_UNPAID_PENALTY "unpaid_penalty"
#define WITHDRAWAL_IDENTITY_CHECK "identity_check_in_progress"

struct withdrawal_blocker {
        char code[48];
        char detail[256];
};

struct withdrawal_result {
        struct withdrawal_blocker b[WITHDRAWAL_MAX_BLOCKERS];
        int n;
};

/* A check adds zero or more blockers with withdrawal_add(); returns 0 or a
 * negative errno when it could not decide (the withdrawal is then refused
 * as an error, never allowed by default). */
typedef int (*withdrawal_check_fn)(void *ctx, int64_t member_id, int64_t now,
                                   struct withdrawal_result *out);

/* -ENOSPC when WITHDRAWAL_MAX_CHECKS are registered; -EEXIST for a name
 * registered twice. Not thread-safe: call at start-up. */
int withdrawal_register(const char *name, withdrawal_check_fn fn);
void withdrawal_unregister_all(void);
int withdrawal_check_count(void);

/* Runs every check. Returns 0 (out->n blockers found) or the first error. */
int withdrawal_check(void *ctx, int64_t member_id, int64_t now, struct withdrawal_result *out);
int withdrawal_add(struct withdrawal_result *r, const char *code, const char *detail);

#endif
