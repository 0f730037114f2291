/*
 * withdrawal.c - the registry of withdrawal blockers (see withdrawal.h).
 */
#include "domain/withdrawal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static struct {
        const char *name;
        withdrawal_check_fn fn;
} checks[WITHDRAWAL_MAX_CHECKS];
static int n_checks;

int withdrawal_register(const char *name, withdrawal_check_fn fn)
{
        for (int i = 0; i < n_checks; i++)
                if (strcmp(checks[i].name, name) == 0)
                        return -EEXIST;
        if (n_checks >= WITHDRAWAL_MAX_CHECKS)
                return -ENOSPC;
        checks[n_checks].name = name;
        checks[n_checks].fn = fn;
        n_checks++;
        return 0;
}

void withdrawal_unregister_all(void)
{
        n_checks = 0;
}

int withdrawal_check_count(void)
{
        return n_checks;
}

int withdrawal_add(struct withdrawal_result *r, const char *code, const char *detail)
{
        if (r->n >= WITHDRAWAL_MAX_BLOCKERS)
                return -ENOSPC;
        snprintf(r->b[r->n].code, sizeof(r->b[r->n].code), "%s", code);
        snprintf(r->b[r->n].detail, sizeof(r->b[r->n].detail), "%s", detail);
        r->n++;
        return 0;
}

int withdrawal_check(void *ctx, int64_t member_id, int64_t now, struct withdrawal_result *out)
{
        out->n = 0;
        for (int i = 0; i < n_checks; i++) {
                int r = checks[i].fn(ctx, member_id, now, out);

                if (r < 0)
                        return r;
        }
        return 0;
}
