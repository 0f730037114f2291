/*
 * rollout.c - the rules of a staged firmware rollout (HE-14): buckets,
 * version order, the offer decision, report transitions and the automatic
 * pause. Pure functions; see rollout.h.
 */
#include "domain/rollout.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>

static void put_le64(unsigned char *p, uint64_t v)
{
        for (int i = 0; i < 8; i++)
                p[i] = (unsigned char)(v >> (8 * i));
}

int rollout_bucket(int64_t campaign_id, int64_t gateway_id)
{
        unsigned char in[16], out[8];
        uint64_t h = 0;

        put_le64(in, (uint64_t)campaign_id);
        put_le64(in + 8, (uint64_t)gateway_id);
        crypto_generichash(out, sizeof(out), in, sizeof(in), NULL, 0);
        for (int i = 7; i >= 0; i--)
                h = (h << 8) | out[i];
        return (int)(h % ROLLOUT_BUCKETS);
}

static bool is_sep(char ch)
{
        return ch == '.' || ch == '-' || ch == '+' || ch == '_';
}

static bool is_digit(char ch)
{
        return ch >= '0' && ch <= '9';
}

/* Length of the segment at s (up to the next separator or the end). */
static size_t seg_len(const char *s)
{
        size_t n = 0;

        while (s[n] && !is_sep(s[n]))
                n++;
        return n;
}

static bool all_digits(const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (!is_digit(s[i]))
                        return false;
        return n > 0;
}

/* Numeric comparison of two digit strings of any length. */
static int cmp_numeric(const char *a, size_t an, const char *b, size_t bn)
{
        while (an > 1 && *a == '0') {
                a++;
                an--;
        }
        while (bn > 1 && *b == '0') {
                b++;
                bn--;
        }
        if (an != bn)
                return an < bn ? -1 : 1;
        return memcmp(a, b, an);
}

static int cmp_bytes(const char *a, size_t an, const char *b, size_t bn)
{
        int r = memcmp(a, b, an < bn ? an : bn);

        if (r != 0)
                return r;
        if (an == bn)
                return 0;
        return an < bn ? -1 : 1;
}

int rollout_version_cmp(const char *a, const char *b)
{
        for (;;) {
                size_t an, bn;
                int r;

                if (!*a || !*b)
                        return (*a != '\0') - (*b != '\0');
                an = seg_len(a);
                bn = seg_len(b);
                if (all_digits(a, an) && all_digits(b, bn))
                        r = cmp_numeric(a, an, b, bn);
                else
                        r = cmp_bytes(a, an, b, bn);
                if (r != 0)
                        return r < 0 ? -1 : 1;
                a += an;
                b += bn;
                if (*a)
                        a++;
                if (*b)
                        b++;
        }
}

bool rollout_version_in_range(const char *v, const char *min, const char *max)
{
        if (!*v)
                return !*min && !*max;
        if (*min && rollout_version_cmp(v, min) < 0)
                return false;
        if (*max && rollout_version_cmp(v, max) > 0)
                return false;
        return true;
}

bool rollout_ranges_overlap(const char *amin, const char *amax, const char *bmin,
                            const char *bmax)
{
        /* Disjoint exactly when one ends before the other begins. */
        if (*amax && *bmin && rollout_version_cmp(amax, bmin) < 0)
                return false;
        if (*bmax && *amin && rollout_version_cmp(bmax, amin) < 0)
                return false;
        return true;
}

bool rollout_offers(const struct rollout_campaign *c, int64_t gateway_id, const char *model,
                    const char *firmware)
{
        if (!c->running || c->percent <= 0 || strcmp(c->model, model) != 0)
                return false;
        if (strcmp(firmware, c->version) == 0 ||
            !rollout_version_in_range(firmware, c->from_min, c->from_max))
                return false;
        return rollout_bucket(c->id, gateway_id) < c->percent;
}

static const char *const state_names[] = { "", "downloading", "installed", "failed" };

enum rollout_state rollout_state_parse(const char *s)
{
        for (int i = ROLLOUT_DOWNLOADING; i <= ROLLOUT_FAILED; i++)
                if (s && strcmp(s, state_names[i]) == 0)
                        return (enum rollout_state)i;
        return ROLLOUT_NONE;
}

const char *rollout_state_name(enum rollout_state s)
{
        if (s < ROLLOUT_NONE || s > ROLLOUT_FAILED)
                return "";
        return state_names[s];
}

int rollout_transition(enum rollout_state from, enum rollout_state to)
{
        if (from == to)
                return 0;
        if (from == ROLLOUT_INSTALLED)
                return -EPERM;
        return 1;
}

bool rollout_should_pause(int64_t installed, int64_t failed, int64_t pause_pct,
                          int64_t min_reports)
{
        int64_t reports = installed + failed;

        if (reports <= 0 || reports < min_reports)
                return false;
        return failed * 100 >= pause_pct * reports;
}
