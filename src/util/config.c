/*
 * config.c - the configuration key table and its loaders (see config.h).
 *
 * config_load() runs in four steps:
 *   1. scan the flags once without applying them: this rejects unknown or
 *      malformed flags before anything else happens and finds --config;
 *   2. read and apply the config file;
 *   3. apply the ENEMANE_* environment variables;
 *   4. apply the flags;
 * then checks the rules that span keys. Every value, whatever its source,
 * goes through config_apply(), which parses into a local and stores only
 * on success, so a failed set leaves the struct as it was.
 *
 * Error messages are built as "<source>: <key>: '<value>' is not allowed:
 * expected <what the row allows>", where the value is shown truncated and
 * with control bytes replaced so a hostile value cannot forge log lines.
 */
#include "util/config.h"

#include "util/buf.h"
#include "util/cleanup.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define KIB ((int64_t)1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)

#define MINUTE ((int64_t)60)
#define HOUR (MINUTE * 60)
#define DAY (HOUR * 24)

/* How much of a bad value or unknown name an error message shows. */
#define CONFIG_SHOW_MAX 64
/* Room for "ENEMANE_" or "--" plus the longest key name, and for messages. */
#define CONFIG_NAME_MAX 128
#define CONFIG_TEXT_MAX 256

/*
 * offsetof(struct config, f), but only when f has type ctype: a wrong type
 * in a table row matches no _Generic association and fails to compile, so
 * the loader can never write an int64_t into a bool.
 */
#define CONFIG_FIELD(f, ctype) \
        _Generic(((struct config *)NULL)->f, ctype : offsetof(struct config, f))

#define ROW_STRING(k, f, d, minlen, h) \
        { k, CONFIG_STRING, CONFIG_FIELD(f, const char *), d, minlen, CONFIG_STRING_MAX, NULL, h }
#define ROW_INT(k, f, d, lo, hi, h) \
        { k, CONFIG_INT, CONFIG_FIELD(f, int64_t), d, lo, hi, NULL, h }
#define ROW_SIZE(k, f, d, lo, hi, h) \
        { k, CONFIG_SIZE, CONFIG_FIELD(f, int64_t), d, lo, hi, NULL, h }
#define ROW_DURATION(k, f, d, lo, hi, h) \
        { k, CONFIG_DURATION, CONFIG_FIELD(f, int64_t), d, lo, hi, NULL, h }
#define ROW_BOOL(k, f, d, h) \
        { k, CONFIG_BOOL, CONFIG_FIELD(f, bool), d, 0, 1, NULL, h }
#define ROW_ENUM(k, f, d, ch, h) \
        { k, CONFIG_ENUM, CONFIG_FIELD(f, int), d, 0, 0, ch, h }

/* Order must match enum config_log_level. */
static const char *const config_log_levels[] = { "debug", "info", "warn", "error", NULL };

/*
 * The keys, in the order --help lists them. Defaults are parsed with the
 * same code as user input when config_defaults() runs (a bad default trips
 * an assert and the unit test), so write them the way a user would.
 */
static const struct config_key config_table[] = {
        ROW_STRING("listen.host", listen_host, "127.0.0.1", 1,
                   "Address the HTTP server binds to."),
        ROW_INT("listen.port", listen_port, "8080", 1, 65535,
                "TCP port the HTTP server listens on."),
        ROW_STRING("db.path", db_path, "var/enemane.db", 1,
                   "SQLite database file."),
        ROW_INT("db.batch_max", db_batch_max, "256", 1, 10000,
                "Most queued writes committed in one transaction."),
        ROW_INT("http.workers", http_workers, "4", 1, 256,
                "Worker threads that handle requests."),
        ROW_INT("http.queue_max", http_queue_max, "1024", 1, 1000000,
                "Most requests waiting for a worker; further ones are refused."),
        ROW_SIZE("http.max_body", http_max_body, "1m", KIB, GIB,
                 "Largest accepted request body."),
        ROW_INT("http.max_header", http_max_header, "8192", 1024, 65535,
                "Largest accepted request header block, in bytes."),
        ROW_DURATION("http.request_timeout", http_request_timeout, "30s", 1, HOUR,
                     "Time allowed for receiving a request and sending its response."),
        ROW_DURATION("http.keepalive_timeout", http_keepalive_timeout, "5s", 1, HOUR,
                     "Idle time after which a kept-alive connection is closed."),
        ROW_STRING("tls.cert", tls_cert, "", 0,
                   "PEM certificate chain file; empty serves plain HTTP. Needs tls.key."),
        ROW_STRING("tls.key", tls_key, "", 0,
                   "PEM private key file for tls.cert."),
        ROW_ENUM("log.level", log_level, "info", config_log_levels,
                 "Least severe log messages that are written."),
        ROW_BOOL("log.requests", log_requests, "true",
                 "Write one access log line per request."),
        ROW_BOOL("demo", demo, "false",
                 "Load demo data on first start (empty database)."),
        ROW_STRING("web.root", web_root, "web", 1,
                   "Directory of the static web app."),
        ROW_STRING("docs.dir", docs_dir, "docs", 1,
                   "Directory of the published documents."),
        ROW_DURATION("session.ttl", session_ttl, "30d", MINUTE, 365 * DAY,
                     "Lifetime of a login session."),
        ROW_INT("login.max_failures_account", login_max_failures_account, "5", 1, 1000,
                "Failed logins for one account within login.window before it is locked."),
        ROW_INT("login.max_failures_ip", login_max_failures_ip, "20", 1, 100000,
                "Failed logins from one IP address within login.window before it is locked."),
        ROW_DURATION("login.window", login_window, "15m", 1, DAY,
                     "Period over which failed logins are counted."),
        ROW_DURATION("login.lockout", login_lockout, "15m", 1, DAY,
                     "How long a locked account or address stays locked."),
        ROW_INT("members.adult_age", members_adult_age, "18", 0, 150,
                "Age in years from which a member is an adult; younger members are minors (CS-2)."),
        ROW_STRING("operator.name", operator_name, "enemane", 1,
                   "Operator name shown in documents and demo data."),
        ROW_STRING("wallet.webhook_secret", wallet_webhook_secret, "", 0,
                   "Shared secret of the wallet provider's signed webhooks (HMAC-SHA256); "
                   "empty turns the webhooks off."),
        ROW_DURATION("wallet.webhook_tolerance", wallet_webhook_tolerance, "5m", 1, HOUR,
                     "How far a webhook's timestamp may be from the server's clock."),
        ROW_DURATION("ledger.sweep_interval", ledger_sweep_interval, "1s", 1, HOUR,
                     "How often expired wallet holds are voided."),
        ROW_INT("charging.grid_minutes", charging_grid_minutes, "15", 1, 1440,
                "Reservation grid: slots and bookings start and end on multiples of this "
                "many minutes (CS-24); must divide 1440."),
        ROW_INT("charging.max_hourly_price", charging_max_hourly_price, "100000", 1, 100000000,
                "Highest hourly price in yen a host may set on a slot."),
        ROW_DURATION("charging.slot_horizon", charging_slot_horizon, "366d", DAY, 3660 * DAY,
                     "How far ahead slots may be offered."),
        ROW_INT("charging.pattern_max_slots", charging_pattern_max_slots, "1000", 1, 100000,
                "Most slots one weekly pattern may create."),
        ROW_SIZE("charging.photo_max_bytes", charging_photo_max_bytes, "2m", KIB, 64 * MIB,
                 "Largest charger photo (JPEG or PNG) accepted."),
        ROW_INT("charging.photos_max", charging_photos_max, "10", 0, 100,
                "Most photos per charger."),
        ROW_STRING("charging.public_url", charging_public_url, "http://127.0.0.1:8080", 1,
                   "Public base URL encoded in chargers' QR codes (scheme://host[:port])."),
        ROW_INT("charging.search_max_radius_m", charging_search_max_radius_m, "50000", 100,
                2000000, "Largest search radius in metres."),
        ROW_DURATION("charging.search_max_range", charging_search_max_range, "7d", HOUR,
                     366 * DAY, "Longest time range a search or calendar may ask for."),
        ROW_INT("charging.site_max_limit", charging_site_max_limit, "100", 1, 10000,
                "Largest simultaneous-use limit a site may be given (CS-12)."),
        ROW_INT("charging.listing_cache", charging_listing_cache, "131072", 0, 16777216,
                "Chargers whose rendered public listing the search keeps in memory "
                "(about 600 bytes each; 0 turns the cache off)."),
        ROW_INT("charging.host_admins_max", charging_host_admins_max, "20", 1, 1000,
                "Most administrators a corporate host may appoint (CS-7)."),
        ROW_INT("charging.vehicles_max", charging_vehicles_max, "10", 1, 1000,
                "Most vehicles a user may register (CS-23)."),
        ROW_DURATION("charging.cancel_free_before", resv_cancel_free_before, "48h", 0,
                     3660 * DAY, "A user cancels a confirmed booking free of charge this long "
                     "or longer before its start (CS-27)."),
        ROW_DURATION("charging.cancel_half_before", resv_cancel_half_before, "24h", 0,
                     3660 * DAY, "From this long before the start (and under "
                     "charging.cancel_free_before) a user's cancellation costs "
                     "charging.cancel_half_pct of the fee; closer to the start, "
                     "charging.cancel_late_pct (CS-27)."),
        ROW_INT("charging.cancel_half_pct", resv_cancel_half_pct, "50", 0, 100,
                "Cancellation fee in percent of the booking fee, rounded down (CS-27)."),
        ROW_INT("charging.cancel_late_pct", resv_cancel_late_pct, "100", 0, 100,
                "Cancellation fee in percent close to the start (CS-27)."),
        ROW_DURATION("charging.host_self_cancel_before", resv_host_self_cancel_before, "168h",
                     0, 3660 * DAY, "A host may cancel a confirmed booking itself, free, only "
                     "more than this long before its start; later only the operator can, "
                     "charging an individual host charging.host_cancel_fee (CS-17)."),
        ROW_INT("charging.host_cancel_fee", resv_host_cancel_fee, "2200", 0, 100000000,
                "Handling fee in yen an individual host pays for a late cancellation (CS-17)."),
        ROW_INT("charging.nonperformance_fee", resv_nonperformance_fee, "2200", 0, 100000000,
                "Handling fee in yen an individual host pays for non-performance (CS-20)."),
        ROW_DURATION("charging.substitute_within", resv_substitute_within, "168h", 0,
                     3660 * DAY, "Substitute chargers are offered when an operator cancels "
                     "a booking this long or less before its start (CS-20, CS-28)."),
        ROW_INT("charging.substitutes_max", resv_substitutes_max, "5", 0, 50,
                "Most substitute chargers offered (CS-28)."),
        ROW_INT("charging.platform_fee_pct", resv_platform_fee_pct, "10", 0, 100,
                "Platform fee in percent of what a host receives, rounded down (CS-19)."),
        ROW_INT("charging.penalty_share_pct", resv_penalty_share_pct, "20", 0, 100,
                "Operator's share in percent of a penalty once paid (CS-21)."),
        ROW_INT("charging.overstay_multiplier", resv_overstay_multiplier, "2", 0, 100,
                "Overstay penalty = this x hourly price x overtime (CS-33)."),
        ROW_DURATION("charging.unproven_overtime", resv_unproven_overtime, "24h", 0,
                     366 * DAY, "Overtime counted when a booking is never checked out and "
                     "the real end cannot be proven (CS-33)."),
        ROW_DURATION("charging.unproven_max_booking", resv_unproven_max_booking, "24h", 0,
                     366 * DAY, "charging.unproven_overtime applies to bookings up to this "
                     "long; longer ones count their own duration (CS-33)."),
        ROW_DURATION("charging.overdue_close_after", resv_overdue_close_after, "24h", 0,
                     366 * DAY, "The system closes a booking not checked out this long "
                     "after its end (CS-33)."),
        ROW_DURATION("charging.request_expiry", resv_request_expiry, "24h", MINUTE,
                     366 * DAY, "An undecided request expires this long after it was sent, "
                     "or at its start if that is earlier (CS-14)."),
        ROW_INT("charging.checkin_distance_m", resv_checkin_distance_m, "200", 1, 100000,
                "Farthest a check-in location may be from the charger, in metres (CS-29)."),
        ROW_DURATION("charging.booking_max_duration", resv_max_duration, "7d", MINUTE,
                     366 * DAY, "Longest booking a user may request."),
        ROW_STRING("mail.smtp_relay", mail_smtp_relay, "", 0,
                   "SMTP relay (host:port) the outbox is delivered through; empty keeps "
                   "mail in the outbox (CS-39)."),
        ROW_STRING("mail.from", mail_from, "enemane@localhost", 3,
                   "Sender address of notification mail."),
        ROW_INT("mail.retry_max", mail_retry_max, "8", 1, 100,
                "Delivery attempts before a mail is marked failed."),
        ROW_DURATION("mail.retry_base", mail_retry_base, "30s", 1, DAY,
                     "Wait before the first retry; doubled after each failed attempt."),
        ROW_DURATION("energy.keep_after_deregistration", energy_keep_after_deregistration,
                     "90d", 0, 3660 * DAY, "How long a deregistered home's data is kept for "
                     "export before it is deleted (HE-4)."),
        ROW_DURATION("energy.future_tolerance", energy_future_tolerance, "5m", 0, DAY,
                     "Points further than this in the future are rejected (HE-7)."),
        ROW_INT("energy.max_batch_points", energy_max_batch_points, "100000", 1, 10000000,
                "Most points in one measurement batch."),
        ROW_INT("energy.max_batch_series", energy_max_batch_series, "2000", 1, 100000,
                "Most distinct series in one measurement batch."),
        ROW_INT("energy.max_series_per_home", energy_max_series_per_home, "1000", 1, 1024,
                "Most series one home may have."),
        ROW_SIZE("energy.max_decoded_body", energy_max_decoded_body, "32m", KIB, GIB,
                 "Largest measurement batch after gzip decoding."),
        ROW_DURATION("energy.pairing_ttl", energy_pairing_ttl, "10m", MINUTE, DAY,
                     "Lifetime of the pairing code a gateway shows (HE-3)."),
        ROW_DURATION("energy.invitation_ttl", energy_invitation_ttl, "7d", MINUTE, 366 * DAY,
                     "Lifetime of an invitation to a household (HE-3)."),
        ROW_DURATION("energy.batch_id_retention", energy_batch_id_retention, "7d", HOUR,
                     366 * DAY, "How long batch ids are remembered to answer resends."),
        ROW_INT("energy.raw_max_points", energy_raw_max_points, "200000", 100, 10000000,
                "Most raw points one series query returns."),
        ROW_DURATION("energy.service_end_notice", energy_service_end_notice, "30d", DAY,
                     3660 * DAY, "Shortest notice before the service may end (HE-5)."),
        ROW_DURATION("maintenance.notice_before", maintenance_notice_before, "24h", 0,
                     366 * DAY, "How long before planned maintenance its notice goes out (HE-6)."),
        ROW_STRING("firmware.signing_key", firmware_signing_key, "", 0,
                   "Ed25519 key file that signs firmware manifests; empty keeps one beside "
                   "the database (created on first use) (HE-14)."),
        ROW_SIZE("files.max_bytes", files_max_bytes, "64m", KIB, GIB,
                 "Largest firmware image or manual upload."),
        ROW_INT("firmware.failure_pause_pct", firmware_failure_pause_pct, "20", 1, 100,
                "A rollout pauses itself when this percentage of reported installs failed "
                "(HE-14)."),
        ROW_INT("firmware.failure_min_reports", firmware_failure_min_reports, "10", 1, 1000000,
                "Reports a rollout needs before its failure rate can pause it."),
        ROW_INT("weather.forecast_days", weather_forecast_days, "7", 1, 16,
                "Days of forecast a gateway is given (HE-11)."),
        ROW_INT("distribution.max_targets", distribution_max_targets, "10000", 1, 10000000,
                "Most recipients of one distributed content (HE-15)."),
};

/* ---- small helpers ------------------------------------------------------ */

static void *config_field(struct config *c, const struct config_key *k)
{
        return (char *)c + k->offset;
}

/* Frees a STRING field unless it still points at the static default. */
static void config_string_release(const struct config_key *k, const char **sp)
{
        if (*sp && *sp != k->def)
                free((void *)*sp);
        *sp = NULL;
}

/*
 * Writes "<src>: <formatted>" (or just the formatted text when src is NULL)
 * into err and returns r, so callers can `return config_fail(...)`.
 */
static int config_fail(char *err, size_t errlen, const char *src, int r, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));

static int config_fail(char *err, size_t errlen, const char *src, int r, const char *fmt, ...)
{
        va_list ap;
        int n = 0;

        if (!err || errlen == 0)
                return r;
        err[0] = '\0';
        if (src) {
                n = snprintf(err, errlen, "%s: ", src);
                if (n < 0)
                        n = 0;
        }
        if ((size_t)n >= errlen)
                return r;
        va_start(ap, fmt);
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
        va_end(ap);
        return r;
}

/*
 * Copies the first len bytes of s (or fewer, up to CONFIG_SHOW_MAX) into
 * out for an error message, replacing control bytes by '?' and marking a
 * cut with "...". out must hold CONFIG_SHOW_MAX + 4 bytes.
 */
static const char *config_show_n(const char *s, size_t len, char *out)
{
        size_t i, n = len > CONFIG_SHOW_MAX ? CONFIG_SHOW_MAX : len;

        for (i = 0; i < n; i++) {
                unsigned char ch = (unsigned char)s[i];

                out[i] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
        }
        if (n < len) {
                memcpy(out + n, "...", 3);
                n += 3;
        }
        out[n] = '\0';
        return out;
}

static const char *config_show(const char *s, char *out)
{
        return config_show_n(s, strlen(s), out);
}

static bool config_is_blank(char ch)
{
        return ch == ' ' || ch == '\t';
}

static char *config_skip_blank(char *s)
{
        while (config_is_blank(*s))
                s++;
        return s;
}

static void config_rtrim(char *s)
{
        size_t n = strlen(s);

        while (n > 0 && config_is_blank(s[n - 1]))
                n--;
        s[n] = '\0';
}

/* "http.max_body" -> "ENEMANE_HTTP_MAX_BODY". */
static void config_env_name(const char *key, char *out, size_t outlen)
{
        size_t i, n;

        n = (size_t)snprintf(out, outlen, "ENEMANE_");
        for (i = 0; key[i] && n + 1 < outlen; i++, n++) {
                char ch = key[i];

                if (ch == '.')
                        ch = '_';
                else if (ch >= 'a' && ch <= 'z')
                        ch = (char)(ch - 'a' + 'A');
                out[n] = ch;
        }
        out[n] = '\0';
}

/* "http.max_body" -> "http-max-body" (without the leading "--"). */
static void config_flag_name(const char *key, char *out, size_t outlen)
{
        size_t n;

        for (n = 0; key[n] && n + 1 < outlen; n++)
                out[n] = (key[n] == '.' || key[n] == '_') ? '-' : key[n];
        out[n] = '\0';
}

/* The row whose flag name is exactly name[0..len), or NULL. */
static const struct config_key *config_find_flag(const char *name, size_t len)
{
        char buf[CONFIG_NAME_MAX];
        size_t i;

        for (i = 0; i < ELEMENTSOF(config_table); i++) {
                config_flag_name(config_table[i].key, buf, sizeof(buf));
                if (strlen(buf) == len && memcmp(buf, name, len) == 0)
                        return &config_table[i];
        }
        return NULL;
}

/* The row whose variable name is exactly name[0..len), or NULL. */
static const struct config_key *config_find_env(const char *name, size_t len)
{
        char buf[CONFIG_NAME_MAX];
        size_t i;

        for (i = 0; i < ELEMENTSOF(config_table); i++) {
                config_env_name(config_table[i].key, buf, sizeof(buf));
                if (strlen(buf) == len && memcmp(buf, name, len) == 0)
                        return &config_table[i];
        }
        return NULL;
}

/* ---- value parsers ------------------------------------------------------ */

/*
 * Reads a run of ASCII digits at *p into *out and advances *p past it.
 * Returns -EINVAL when there is no digit and -ERANGE on int64 overflow.
 * (Not strtoll: it skips blanks, accepts signs and depends on the locale.)
 */
static int config_parse_digits(const char **p, int64_t *out)
{
        const char *s = *p;
        int64_t v = 0;

        if (*s < '0' || *s > '9')
                return -EINVAL;
        while (*s >= '0' && *s <= '9') {
                int d = *s - '0';

                if (v > (INT64_MAX - d) / 10)
                        return -ERANGE;
                v = v * 10 + d;
                s++;
        }
        *p = s;
        *out = v;
        return 0;
}

/* A whole decimal integer with an optional leading '-'. */
static int config_parse_int(const char *s, int64_t *out)
{
        bool neg = false;
        int64_t v;
        int r;

        if (*s == '-') {
                neg = true;
                s++;
        }
        r = config_parse_digits(&s, &v);
        if (r < 0)
                return r;
        if (*s != '\0')
                return -EINVAL;
        *out = neg ? -v : v;
        return 0;
}

struct config_unit {
        char suffix;            /* lower case; matched in any case */
        int64_t factor;
};

static const struct config_unit config_size_units[] = {
        { 'k', KIB }, { 'm', MIB }, { 'g', GIB }, { 0, 0 },
};

static const struct config_unit config_duration_units[] = {
        { 's', 1 }, { 'm', MINUTE }, { 'h', HOUR }, { 'd', DAY }, { 0, 0 },
};

/* Digits with at most one unit suffix from units; no sign, no blanks. */
static int config_parse_scaled(const char *s, const struct config_unit *units, int64_t *out)
{
        int64_t v, factor = 1;
        int r;

        r = config_parse_digits(&s, &v);
        if (r < 0)
                return r;
        if (*s != '\0') {
                char ch = *s;
                const struct config_unit *u;

                if (ch >= 'A' && ch <= 'Z')
                        ch = (char)(ch - 'A' + 'a');
                for (u = units; u->suffix; u++)
                        if (u->suffix == ch)
                                break;
                if (!u->suffix || s[1] != '\0')
                        return -EINVAL;
                factor = u->factor;
        }
        if (v > INT64_MAX / factor)
                return -ERANGE;
        *out = v * factor;
        return 0;
}

static int config_parse_bool(const char *s, bool *out)
{
        static const char *const yes[] = { "true", "yes", "on", "1" };
        static const char *const no[] = { "false", "no", "off", "0" };
        size_t i;

        for (i = 0; i < ELEMENTSOF(yes); i++) {
                if (strcasecmp(s, yes[i]) == 0) {
                        *out = true;
                        return 0;
                }
                if (strcasecmp(s, no[i]) == 0) {
                        *out = false;
                        return 0;
                }
        }
        return -EINVAL;
}

static int config_parse_enum(const char *s, const char *const *choices, int *out)
{
        int i;

        for (i = 0; choices[i]; i++) {
                if (strcasecmp(s, choices[i]) == 0) {
                        *out = i;
                        return 0;
                }
        }
        return -EINVAL;
}

/* Shortest exact spelling of a number with units: 1048576 -> "1m". */
static void config_format_scaled(int64_t v, const struct config_unit *units, char *out, size_t outlen)
{
        const struct config_unit *u, *best = NULL;

        for (u = units; u->suffix; u++)
                if (u->factor > 1 && v != 0 && v % u->factor == 0)
                        best = u;
        if (best)
                snprintf(out, outlen, "%lld%c", (long long)(v / best->factor), best->suffix);
        else if (units == config_duration_units)
                snprintf(out, outlen, "%llds", (long long)v);
        else
                snprintf(out, outlen, "%lld", (long long)v);
}

/* What a row allows, without the leading "expected ": "an integer from 1 to 10". */
static void config_describe(const struct config_key *k, char *out, size_t outlen)
{
        char lo[32], hi[32];
        size_t n, i;

        switch (k->type) {
        case CONFIG_STRING:
                if (k->min == 0)
                        snprintf(out, outlen, "a string of at most %lld bytes", (long long)k->max);
                else if (k->min == 1)
                        snprintf(out, outlen, "a non-empty string of at most %lld bytes",
                                 (long long)k->max);
                else
                        snprintf(out, outlen, "a string of %lld to %lld bytes",
                                 (long long)k->min, (long long)k->max);
                break;
        case CONFIG_INT:
                snprintf(out, outlen, "an integer from %lld to %lld",
                         (long long)k->min, (long long)k->max);
                break;
        case CONFIG_BOOL:
                snprintf(out, outlen, "true or false (or yes/no, on/off, 1/0)");
                break;
        case CONFIG_SIZE:
                config_format_scaled(k->min, config_size_units, lo, sizeof(lo));
                config_format_scaled(k->max, config_size_units, hi, sizeof(hi));
                snprintf(out, outlen, "a size from %s to %s (bytes, or with suffix k, m or g)",
                         lo, hi);
                break;
        case CONFIG_DURATION:
                config_format_scaled(k->min, config_duration_units, lo, sizeof(lo));
                config_format_scaled(k->max, config_duration_units, hi, sizeof(hi));
                snprintf(out, outlen,
                         "a duration from %s to %s (seconds, or with suffix s, m, h or d)",
                         lo, hi);
                break;
        case CONFIG_ENUM:
                n = (size_t)snprintf(out, outlen, "one of");
                for (i = 0; k->choices[i] && n < outlen; i++)
                        n += (size_t)snprintf(out + n, outlen - n, "%s %s",
                                              i ? "," : "", k->choices[i]);
                break;
        }
}

/*
 * Parses value for row k and stores it in c. src names where the value came
 * from ("enemane.conf:3", "ENEMANE_LISTEN_PORT", "--listen-port") or is
 * NULL. Leaves c unchanged on error.
 */
static int config_apply(struct config *c, const struct config_key *k, const char *value,
                        const char *src, char *err, size_t errlen)
{
        void *field = config_field(c, k);
        char shown[CONFIG_SHOW_MAX + 4], allowed[CONFIG_TEXT_MAX];
        int64_t v = 0;
        bool b = false;
        int idx = 0, r = -EINVAL;
        size_t len;
        char *copy;

        if (!value)
                return config_fail(err, errlen, src, -EINVAL, "%s: missing value", k->key);

        switch (k->type) {
        case CONFIG_STRING:
                len = strlen(value);
                if ((int64_t)len < k->min || (int64_t)len > k->max)
                        break;
                copy = strdup(value);
                if (!copy)
                        return config_fail(err, errlen, src, -ENOMEM, "%s: out of memory", k->key);
                config_string_release(k, field);
                *(const char **)field = copy;
                return 0;
        case CONFIG_INT:
                r = config_parse_int(value, &v);
                break;
        case CONFIG_SIZE:
                r = config_parse_scaled(value, config_size_units, &v);
                break;
        case CONFIG_DURATION:
                r = config_parse_scaled(value, config_duration_units, &v);
                break;
        case CONFIG_BOOL:
                r = config_parse_bool(value, &b);
                if (r == 0) {
                        *(bool *)field = b;
                        return 0;
                }
                break;
        case CONFIG_ENUM:
                r = config_parse_enum(value, k->choices, &idx);
                if (r == 0) {
                        *(int *)field = idx;
                        return 0;
                }
                break;
        }

        /* Only the int64 types get here with r == 0; check their range. */
        if (r == 0 && v >= k->min && v <= k->max) {
                *(int64_t *)field = v;
                return 0;
        }
        config_describe(k, allowed, sizeof(allowed));
        return config_fail(err, errlen, src, -EINVAL, "%s: '%s' is not allowed: expected %s",
                           k->key, config_show(value, shown), allowed);
}

/* ---- public: table ------------------------------------------------------ */

const struct config_key *config_find(const char *key)
{
        size_t i;

        if (!key)
                return NULL;
        for (i = 0; i < ELEMENTSOF(config_table); i++)
                if (strcmp(config_table[i].key, key) == 0)
                        return &config_table[i];
        return NULL;
}

const struct config_key *config_keys(size_t *n)
{
        if (n)
                *n = ELEMENTSOF(config_table);
        return config_table;
}

void config_defaults(struct config *c)
{
        size_t i;

        memset(c, 0, sizeof(*c));
        for (i = 0; i < ELEMENTSOF(config_table); i++) {
                const struct config_key *k = &config_table[i];
                int r;

                if (k->type == CONFIG_STRING) {
                        /* Points at the table; config_free() knows not to free it. */
                        *(const char **)config_field(c, k) = k->def;
                        continue;
                }
                r = config_apply(c, k, k->def, NULL, NULL, 0);
                assert(r == 0);
                (void)r;
        }
}

void config_free(struct config *c)
{
        size_t i;

        if (!c)
                return;
        for (i = 0; i < ELEMENTSOF(config_table); i++)
                if (config_table[i].type == CONFIG_STRING)
                        config_string_release(&config_table[i],
                                              config_field(c, &config_table[i]));
        free((void *)c->config_file);
        memset(c, 0, sizeof(*c));
}

int config_set(struct config *c, const char *key, const char *value, char *err, size_t errlen)
{
        const struct config_key *k = config_find(key);
        char shown[CONFIG_SHOW_MAX + 4];

        if (!k)
                return config_fail(err, errlen, NULL, -EINVAL, "unknown key '%s'",
                                   config_show(key ? key : "", shown));
        return config_apply(c, k, value, NULL, err, errlen);
}

int config_validate(const struct config *c, char *err, size_t errlen)
{
        bool cert = c->tls_cert && c->tls_cert[0];
        bool key = c->tls_key && c->tls_key[0];

        if (cert && !key)
                return config_fail(err, errlen, NULL, -EINVAL,
                                   "tls.cert is set but tls.key is not: set both or neither");
        if (key && !cert)
                return config_fail(err, errlen, NULL, -EINVAL,
                                   "tls.key is set but tls.cert is not: set both or neither");
        if (c->resv_cancel_half_before > c->resv_cancel_free_before)
                return config_fail(err, errlen, NULL, -EINVAL,
                                   "charging.cancel_half_before must not exceed "
                                   "charging.cancel_free_before");
        if (1440 % c->charging_grid_minutes != 0)
                return config_fail(err, errlen, NULL, -EINVAL,
                                   "charging.grid_minutes is %lld: it must divide a day "
                                   "(1440 minutes) evenly, e.g. 5, 10, 15, 30 or 60",
                                   (long long)c->charging_grid_minutes);
        return 0;
}

/* ---- config file -------------------------------------------------------- */

/*
 * Reads the whole file at path into *out (NUL-terminated; caller frees).
 * src names who asked for the file ("--config", "ENEMANE_CONFIG") or is NULL
 * for the implicit ./enemane.conf, which may be missing: then returns 1.
 */
static int config_read_file(const char *path, const char *src, char **out, size_t *outlen,
                            char *err, size_t errlen)
{
        char chunk[16384];
        struct buf b;
        struct stat st;
        int fd, r = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                r = -errno;
                if (r == -ENOENT && !src)
                        return 1;
                return config_fail(err, errlen, src, r, "cannot open config file '%s': %s",
                                   path, strerror(-r));
        }
        if (fstat(fd, &st) < 0)
                r = -errno;
        else if (S_ISDIR(st.st_mode))
                r = -EISDIR;
        if (r < 0) {
                close(fd);
                return config_fail(err, errlen, src, r, "cannot read config file '%s': %s",
                                   path, strerror(-r));
        }

        /* The buf cap enforces the size limit even for pipes and /dev files. */
        buf_init(&b, CONFIG_FILE_MAX);
        for (;;) {
                ssize_t n = read(fd, chunk, sizeof(chunk));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = -errno;
                        config_fail(err, errlen, src, r, "cannot read config file '%s': %s",
                                    path, strerror(-r));
                        break;
                }
                if (n == 0)
                        break;
                r = buf_append(&b, chunk, (size_t)n);
                if (r == -E2BIG) {
                        r = config_fail(err, errlen, src, -EINVAL,
                                        "config file '%s' is larger than %d bytes",
                                        path, CONFIG_FILE_MAX);
                        break;
                }
                if (r < 0) {
                        config_fail(err, errlen, src, r, "out of memory");
                        break;
                }
        }
        close(fd);
        if (r < 0) {
                buf_free(&b);
                return r;
        }
        /* An empty file leaves b.data NULL; hand out "" instead. */
        if (!b.data) {
                r = buf_append(&b, "", 0);
                if (r < 0)
                        return config_fail(err, errlen, src, r, "out of memory");
        }
        *out = buf_steal(&b, outlen);
        return 0;
}

/*
 * Rewrites a quoted value in place: s points at the opening quote; the
 * unescaped text ends up at s. After the closing quote only blanks and a
 * '#' comment may follow. Returns 0 or -EINVAL with *why set.
 */
static int config_unquote(char *s, const char **why)
{
        char *r = s + 1, *w = s;

        for (;;) {
                if (*r == '\0') {
                        *why = "missing closing quote";
                        return -EINVAL;
                }
                if (*r == '"')
                        break;
                if (*r == '\\') {
                        if (r[1] != '"' && r[1] != '\\') {
                                *why = "unknown escape in quoted value (only \\\" and \\\\ are allowed)";
                                return -EINVAL;
                        }
                        r++;
                }
                *w++ = *r++;
        }
        r = config_skip_blank(r + 1);
        if (*r != '\0' && *r != '#') {
                *why = "unexpected text after the closing quote";
                return -EINVAL;
        }
        *w = '\0';
        return 0;
}

/* Parses one line (NUL-terminated, writable) of the file at path. */
static int config_parse_line(struct config *c, const char *path, unsigned lineno, char *line,
                             char *err, size_t errlen)
{
        char src[PATH_MAX + 32], shown[CONFIG_SHOW_MAX + 4];
        const struct config_key *k;
        const char *why = NULL;
        char *key, *eq, *value, *p;

        snprintf(src, sizeof(src), "%s:%u", path, lineno);
        key = config_skip_blank(line);
        if (*key == '\0' || *key == '#')
                return 0;
        eq = strchr(key, '=');
        if (!eq)
                return config_fail(err, errlen, src, -EINVAL, "expected 'key = value', got '%s'",
                                   config_show(key, shown));
        *eq = '\0';
        config_rtrim(key);
        if (*key == '\0')
                return config_fail(err, errlen, src, -EINVAL, "missing key before '='");
        k = config_find(key);
        if (!k)
                return config_fail(err, errlen, src, -EINVAL, "unknown key '%s'",
                                   config_show(key, shown));

        value = config_skip_blank(eq + 1);
        if (*value == '"') {
                if (config_unquote(value, &why) < 0)
                        return config_fail(err, errlen, src, -EINVAL, "%s: %s", k->key, why);
        } else {
                /*
                 * An unquoted value ends at a '#' that follows a blank.
                 * p[-1] is always inside the line: value starts after '='.
                 */
                for (p = value; *p; p++) {
                        if (*p == '#' && config_is_blank(p[-1])) {
                                *p = '\0';
                                break;
                        }
                }
                config_rtrim(value);
        }
        return config_apply(c, k, value, src, err, errlen);
}

/* Splits text into lines, enforcing the line limit, and parses each. */
static int config_parse_text(struct config *c, const char *path, char *text, size_t len,
                             char *err, size_t errlen)
{
        size_t pos = 0;
        unsigned lineno = 0;
        int r;

        /* A UTF-8 byte order mark is not part of the first key. */
        if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
                pos = 3;
        while (pos < len) {
                char *line = text + pos;
                char *nl = memchr(line, '\n', len - pos);
                size_t n = nl ? (size_t)(nl - line) : len - pos;

                lineno++;
                if (n > CONFIG_LINE_MAX)
                        return config_fail(err, errlen, NULL, -EINVAL,
                                           "%s:%u: line is longer than %d bytes",
                                           path, lineno, CONFIG_LINE_MAX);
                if (memchr(line, '\0', n))
                        return config_fail(err, errlen, NULL, -EINVAL,
                                           "%s:%u: line contains a NUL byte", path, lineno);
                line[n] = '\0';         /* the '\n', or the buf's terminator */
                if (n > 0 && line[n - 1] == '\r')
                        line[n - 1] = '\0';
                r = config_parse_line(c, path, lineno, line, err, errlen);
                if (r < 0)
                        return r;
                pos += n + 1;
        }
        return 0;
}

/* Reads and applies the config file; src as for config_read_file(). */
static int config_load_file(struct config *c, const char *path, const char *src,
                            char *err, size_t errlen)
{
        _cleanup_free_ char *text = NULL;
        char *name;
        size_t len = 0;
        int r;

        r = config_read_file(path, src, &text, &len, err, errlen);
        if (r != 0)
                return r < 0 ? r : 0;
        r = config_parse_text(c, path, text, len, err, errlen);
        if (r < 0)
                return r;
        name = strdup(path);
        if (!name)
                return config_fail(err, errlen, NULL, -ENOMEM, "out of memory");
        free((void *)c->config_file);
        c->config_file = name;
        return 0;
}

/* ---- environment -------------------------------------------------------- */

/* The value of the first envp entry called name, or NULL. */
static const char *config_env_lookup(char **envp, const char *name)
{
        size_t n = strlen(name);
        char **e;

        for (e = envp; e && *e; e++)
                if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
                        return *e + n + 1;
        return NULL;
}

static int config_load_env(struct config *c, char **envp, char *err, size_t errlen)
{
        char src[CONFIG_NAME_MAX];
        char **e;
        int r;

        for (e = envp; e && *e; e++) {
                const struct config_key *k;
                const char *eq;

                if (strncmp(*e, "ENEMANE_", 8) != 0)
                        continue;
                eq = strchr(*e, '=');
                if (!eq)
                        continue;
                /* ENEMANE_CONFIG, ENEMANE_BIN and typos match no row. */
                k = config_find_env(*e, (size_t)(eq - *e));
                if (!k)
                        continue;
                snprintf(src, sizeof(src), "%.*s", (int)(eq - *e), *e);
                r = config_apply(c, k, eq + 1, src, err, errlen);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- flags -------------------------------------------------------------- */

/*
 * Walks the flags. With c == NULL it only checks them and reports the
 * --config path in *config_path (the last one wins); with c set it applies
 * every key flag. --config PATH / --config=PATH, --key VALUE / --key=VALUE,
 * and for BOOL keys --key and --no-key.
 */
static int config_walk_flags(struct config *c, int argc, char **argv, const char **config_path,
                             char *err, size_t errlen)
{
        char shown[CONFIG_SHOW_MAX + 4], src[CONFIG_NAME_MAX];
        int i, r;

        for (i = 0; i < argc; i++) {
                const char *arg = argv[i], *name, *eq, *value;
                const struct config_key *k;
                bool negated = false;
                size_t len;

                if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0' || arg[2] == '=')
                        return config_fail(err, errlen, NULL, -EINVAL, "unexpected argument '%s'",
                                           config_show(arg, shown));
                name = arg + 2;
                eq = strchr(name, '=');
                len = eq ? (size_t)(eq - name) : strlen(name);
                value = eq ? eq + 1 : NULL;

                if (len == 6 && memcmp(name, "config", 6) == 0) {
                        if (!value && i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0)
                                value = argv[++i];
                        if (!value || !*value)
                                return config_fail(err, errlen, NULL, -EINVAL,
                                                   "option '--config' needs a value");
                        if (config_path)
                                *config_path = value;
                        continue;
                }

                k = config_find_flag(name, len);
                if (!k && len > 3 && memcmp(name, "no-", 3) == 0) {
                        k = config_find_flag(name + 3, len - 3);
                        if (k && k->type != CONFIG_BOOL)
                                k = NULL;
                        negated = k != NULL;
                }
                if (!k)
                        return config_fail(err, errlen, NULL, -EINVAL, "unknown option '--%s'",
                                           config_show_n(name, len, shown));
                snprintf(src, sizeof(src), "--%.*s", (int)len, name);

                if (negated) {
                        if (value)
                                return config_fail(err, errlen, NULL, -EINVAL,
                                                   "option '%s' takes no value", src);
                        value = "false";
                } else if (k->type == CONFIG_BOOL) {
                        /* A BOOL flag never takes the next argument. */
                        if (!value)
                                value = "true";
                } else if (!value) {
                        if (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0)
                                return config_fail(err, errlen, NULL, -EINVAL,
                                                   "option '%s' needs a value", src);
                        value = argv[++i];
                }

                if (c) {
                        r = config_apply(c, k, value, src, err, errlen);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int config_load(struct config *c, int argc, char **argv, char **envp, char *err, size_t errlen)
{
        const char *path = NULL, *src = NULL;
        int r;

        if (err && errlen)
                err[0] = '\0';
        if (argc < 0 || !argv)
                argc = 0;

        r = config_walk_flags(NULL, argc, argv, &path, err, errlen);
        if (r < 0)
                return r;

        /* --config, else a non-empty ENEMANE_CONFIG, else optional ./enemane.conf. */
        if (path) {
                src = "--config";
        } else {
                path = config_env_lookup(envp, "ENEMANE_CONFIG");
                if (path && *path)
                        src = "ENEMANE_CONFIG";
                else
                        path = "enemane.conf";
        }
        r = config_load_file(c, path, src, err, errlen);
        if (r < 0)
                return r;

        r = config_load_env(c, envp, err, errlen);
        if (r < 0)
                return r;
        r = config_walk_flags(c, argc, argv, NULL, err, errlen);
        if (r < 0)
                return r;
        return config_validate(c, err, errlen);
}

/* ---- help --------------------------------------------------------------- */

void config_print_help(FILE *f)
{
        char flag[CONFIG_NAME_MAX], env[CONFIG_NAME_MAX], allowed[CONFIG_TEXT_MAX];
        size_t i;

        fprintf(f,
                "Configuration. Every key can be set in the config file (key = value),\n"
                "in the environment (ENEMANE_KEY) or as a flag (--key VALUE or --key=VALUE);\n"
                "later sources win: defaults < config file < environment < flags.\n"
                "The config file is --config PATH, else $ENEMANE_CONFIG, else ./enemane.conf\n"
                "when it exists. In it, a '#' at the start of a line or after a blank starts\n"
                "a comment, and values may be \"double quoted\".\n"
                "Boolean keys also take --key (true) and --no-key (false).\n"
                "Sizes take a suffix k, m or g (x1024); durations s, m, h or d.\n\n");
        for (i = 0; i < ELEMENTSOF(config_table); i++) {
                const struct config_key *k = &config_table[i];

                config_flag_name(k->key, flag, sizeof(flag));
                config_env_name(k->key, env, sizeof(env));
                config_describe(k, allowed, sizeof(allowed));
                fprintf(f, "  %s (--%s, %s)\n", k->key, flag, env);
                fprintf(f, "      %s\n", k->help);
                fprintf(f, "      allowed: %s\n", allowed);
                fprintf(f, "      default: %s\n", k->def[0] ? k->def : "(empty)");
        }
}
