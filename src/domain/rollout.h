/*
 * rollout.h - the rules of a staged firmware rollout (HE-14), pure: which
 * gateways a campaign offers its image to, how firmware versions compare,
 * which reports a gateway may send, and when the failure rate of the
 * reported installs pauses a campaign.
 *
 * Buckets. A gateway's bucket in a campaign is the first 8 bytes of
 * BLAKE2b-64(campaign id || gateway id, both 8 bytes little endian), read
 * little endian, modulo 100. A campaign at percent p offers to the gateways
 * with bucket < p: deterministic (every poll answers the same), stable when
 * p is raised (everyone offered at 10 % is still offered at 30 %), and a
 * different cohort for each campaign (the campaign id salts the hash).
 *
 * Versions compare segment by segment, segments split at '.', '-', '+' and
 * '_': two all-digit segments numerically (so 1.10 > 1.9), otherwise byte
 * by byte; a version that runs out of segments first is the smaller.
 */
#ifndef ENEMANE_DOMAIN_ROLLOUT_H
#define ENEMANE_DOMAIN_ROLLOUT_H

#include <stdbool.h>
#include <stdint.h>

#define ROLLOUT_FIELD_MAX 64            /* model and version characters */
#define ROLLOUT_BUCKETS 100

/* What the offer decision needs of a campaign. */
struct rollout_campaign {
        int64_t id;
        char model[ROLLOUT_FIELD_MAX + 1];
        char version[ROLLOUT_FIELD_MAX + 1];    /* the image's (target) version */
        char from_min[ROLLOUT_FIELD_MAX + 1];   /* current-version range, inclusive; */
        char from_max[ROLLOUT_FIELD_MAX + 1];   /* "" = unbounded on that side */
        int percent;                            /* 0..100 */
        bool running;                           /* not paused, not ended */
};

/* 0..99: the gateway's bucket in the campaign. */
int rollout_bucket(int64_t campaign_id, int64_t gateway_id);

/* <0, 0, >0 as a is older than, the same as, newer than b. */
int rollout_version_cmp(const char *a, const char *b);

/* Is version v inside [min, max] ("" bounds are open)? An empty v (the
 * gateway never told its version) is inside only a range with no bounds. */
bool rollout_version_in_range(const char *v, const char *min, const char *max);

/* Do the ranges [amin, amax] and [bmin, bmax] share a version? */
bool rollout_ranges_overlap(const char *amin, const char *amax, const char *bmin,
                            const char *bmax);

/* Does campaign c offer its image now to the gateway (id, model, current
 * firmware)? Running, same model, firmware in the range and not already
 * the target, bucket below the percent. */
bool rollout_offers(const struct rollout_campaign *c, int64_t gateway_id, const char *model,
                    const char *firmware);

/* A gateway's install report states. */
enum rollout_state {
        ROLLOUT_NONE = 0,               /* no report yet */
        ROLLOUT_DOWNLOADING,
        ROLLOUT_INSTALLED,
        ROLLOUT_FAILED,
};

/* "downloading" | "installed" | "failed" -> the state; ROLLOUT_NONE when
 * it is none of them. */
enum rollout_state rollout_state_parse(const char *s);
const char *rollout_state_name(enum rollout_state s);

/* May a gateway whose last report was `from` report `to`? 1 yes (a
 * change), 0 yes but nothing changes (the same report again), -EPERM no
 * (installed is final: nothing but installed again may follow it). */
int rollout_transition(enum rollout_state from, enum rollout_state to);

/*
 * The automatic pause: with `installed` gateways reporting success and
 * `failed` gateways whose last report is a failure, the campaign pauses
 * when at least min_reports of them reported (installed + failed) and
 * failed is at least pause_pct percent of them.
 */
bool rollout_should_pause(int64_t installed, int64_t failed, int64_t pause_pct,
                          int64_t min_reports);

#endif
