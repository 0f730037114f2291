/*
 * config.h - enemane's configuration: one typed struct filled from built-in
 * defaults, a config file, ENEMANE_* environment variables and command-line
 * flags, in that order of precedence (later wins).
 *
 * Every key lives in one static table (config.c). Adding a key means adding
 * a field to struct config and one row to that table; the file parser, the
 * environment and flag mapping, the error messages and `--help` all follow
 * from the row.
 *
 * Names. A key "http.max_body" is
 *   - "http.max_body = 1m" in the config file,
 *   - ENEMANE_HTTP_MAX_BODY in the environment ('.' -> '_', upper case),
 *   - --http-max-body 1m or --http-max-body=1m on the command line
 *     ('.' and '_' -> '-'). A BOOL key also takes --demo (true) and
 *     --no-demo (false); it never takes a separate value argument, use
 *     --demo=false for that.
 *
 * Config file. `key = value` lines; blank lines and lines starting with '#'
 * are ignored; whitespace around key and value is trimmed; an unquoted value
 * ends at a '#' that follows whitespace (an inline comment). A value may be
 * "double quoted" to keep surrounding spaces or a " #": inside quotes only
 * \" and \\ are escapes. Unknown keys are errors (a typo must not be
 * ignored). The file is --config PATH, else $ENEMANE_CONFIG, else
 * ./enemane.conf when it exists. Limits: 1 MiB per file, 4096 bytes per
 * line, 4095 bytes per string value.
 *
 * Value syntax per type:
 *   STRING    any bytes; the table's min/max bound its length
 *   INT       decimal integer, no suffix, no trailing garbage
 *   BOOL      true/false, yes/no, on/off, 1/0 (any case)
 *   SIZE      bytes, or with suffix k, m, g (x1024, any case): 64k, 1M, 2g
 *   DURATION  seconds, or with suffix s, m, h, d: 30, 30s, 15m, 24h, 7d
 *   ENUM      one of the row's choices (any case); stored as its index
 *
 * Ownership. struct config owns its strings. A string field either points
 * at the table's built-in default (static, never freed) or at a private
 * copy; config_free() tells them apart and frees only the copies. Treat
 * the strings as read-only and never assign to them directly; use
 * config_set().
 */
#ifndef ENEMANE_UTIL_CONFIG_H
#define ENEMANE_UTIL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Longest accepted config file line (without the newline) and file. */
#define CONFIG_LINE_MAX 4096
#define CONFIG_FILE_MAX (1024 * 1024)
/* Longest accepted STRING value, in bytes. */
#define CONFIG_STRING_MAX 4095

/* Index values of log.level (the order of its choices). */
enum config_log_level {
        CONFIG_LOG_DEBUG = 0,
        CONFIG_LOG_INFO = 1,
        CONFIG_LOG_WARN = 2,
        CONFIG_LOG_ERROR = 3,
};

struct config {
        const char *listen_host;        /* listen.host */
        int64_t listen_port;            /* listen.port */

        const char *db_path;            /* db.path */
        int64_t db_batch_max;           /* db.batch_max */

        int64_t http_workers;           /* http.workers */
        int64_t http_queue_max;         /* http.queue_max */
        int64_t http_max_body;          /* http.max_body, bytes */
        int64_t http_max_header;        /* http.max_header, bytes */
        int64_t http_request_timeout;   /* http.request_timeout, seconds */
        int64_t http_keepalive_timeout; /* http.keepalive_timeout, seconds */

        const char *tls_cert;           /* tls.cert, "" = no TLS */
        const char *tls_key;            /* tls.key */

        int log_level;                  /* log.level, enum config_log_level */
        bool log_requests;              /* log.requests */

        bool demo;                      /* demo */

        const char *web_root;           /* web.root */
        const char *docs_dir;           /* docs.dir */

        int64_t session_ttl;            /* session.ttl, seconds */

        int64_t login_max_failures_account; /* login.max_failures_account */
        int64_t login_max_failures_ip;      /* login.max_failures_ip */
        int64_t login_window;               /* login.window, seconds */
        int64_t login_lockout;              /* login.lockout, seconds */

        int64_t members_adult_age;      /* members.adult_age, years */

        const char *operator_name;      /* operator.name */

        const char *wallet_webhook_secret;  /* wallet.webhook_secret, "" = webhooks off */
        int64_t wallet_webhook_tolerance;   /* wallet.webhook_tolerance, seconds */
        int64_t ledger_sweep_interval;      /* ledger.sweep_interval, seconds */

        int64_t charging_grid_minutes;      /* charging.grid_minutes */
        int64_t charging_max_hourly_price;  /* charging.max_hourly_price, yen */
        int64_t charging_slot_horizon;      /* charging.slot_horizon, seconds */
        int64_t charging_pattern_max_slots; /* charging.pattern_max_slots */
        int64_t charging_photo_max_bytes;   /* charging.photo_max_bytes */
        int64_t charging_photos_max;        /* charging.photos_max */
        const char *charging_public_url;    /* charging.public_url */
        int64_t charging_search_max_radius_m; /* charging.search_max_radius_m */
        int64_t charging_search_max_range;  /* charging.search_max_range, seconds */
        int64_t charging_site_max_limit;    /* charging.site_max_limit */
        int64_t charging_listing_cache;     /* charging.listing_cache, entries */
        int64_t charging_host_admins_max;   /* charging.host_admins_max */
        int64_t charging_vehicles_max;      /* charging.vehicles_max */

        /* Reservation rules (issue 5, CS-14 to CS-34): see domain/resv.h. */
        int64_t resv_cancel_free_before;    /* charging.cancel_free_before, seconds */
        int64_t resv_cancel_half_before;    /* charging.cancel_half_before, seconds */
        int64_t resv_cancel_half_pct;       /* charging.cancel_half_pct */
        int64_t resv_cancel_late_pct;       /* charging.cancel_late_pct */
        int64_t resv_host_self_cancel_before; /* charging.host_self_cancel_before, seconds */
        int64_t resv_host_cancel_fee;       /* charging.host_cancel_fee, yen */
        int64_t resv_nonperformance_fee;    /* charging.nonperformance_fee, yen */
        int64_t resv_substitute_within;     /* charging.substitute_within, seconds */
        int64_t resv_substitutes_max;       /* charging.substitutes_max */
        int64_t resv_platform_fee_pct;      /* charging.platform_fee_pct */
        int64_t resv_penalty_share_pct;     /* charging.penalty_share_pct */
        int64_t resv_overstay_multiplier;   /* charging.overstay_multiplier */
        int64_t resv_unproven_overtime;     /* charging.unproven_overtime, seconds */
        int64_t resv_unproven_max_booking;  /* charging.unproven_max_booking, seconds */
        int64_t resv_overdue_close_after;   /* charging.overdue_close_after, seconds */
        int64_t resv_request_expiry;        /* charging.request_expiry, seconds */
        int64_t resv_checkin_distance_m;    /* charging.checkin_distance_m */
        int64_t resv_max_duration;          /* charging.booking_max_duration, seconds */

        /* Notifications (CS-39): inbox and mail outbox. */
        const char *mail_smtp_relay;        /* mail.smtp_relay, host:port, "" = no delivery */
        const char *mail_from;              /* mail.from */
        int64_t mail_retry_max;             /* mail.retry_max, attempts */
        int64_t mail_retry_base;            /* mail.retry_base, seconds */

        /* Home energy (issue 6). */
        int64_t energy_keep_after_deregistration; /* seconds (HE-4) */
        int64_t energy_future_tolerance;    /* seconds (HE-7) */
        int64_t energy_max_batch_points;
        int64_t energy_max_batch_series;
        int64_t energy_max_series_per_home;
        int64_t energy_max_decoded_body;    /* bytes, after gzip */
        int64_t energy_pairing_ttl;         /* seconds (HE-3) */
        int64_t energy_invitation_ttl;      /* seconds (HE-3) */
        int64_t energy_batch_id_retention;  /* seconds */
        int64_t energy_raw_max_points;      /* per raw series query */

        /* Home energy, part 2 (issue 7). */
        int64_t energy_service_end_notice;  /* seconds: HE-5 minimum notice */
        int64_t maintenance_notice_before;  /* seconds: HE-6 automatic notice lead */
        const char *firmware_signing_key;   /* path of the Ed25519 key file, "" = beside db */
        int64_t files_max_bytes;            /* firmware images and manuals */
        int64_t firmware_failure_pause_pct; /* HE-14 automatic pause threshold */
        int64_t firmware_failure_min_reports;
        int64_t weather_forecast_days;
        int64_t distribution_max_targets;   /* HE-15 recipients per delivery */

        /* Not a key: the config file config_load() read, or NULL. Owned. */
        const char *config_file;
};

enum config_type {
        CONFIG_STRING,
        CONFIG_INT,
        CONFIG_BOOL,
        CONFIG_SIZE,
        CONFIG_DURATION,
        CONFIG_ENUM,
};

/*
 * One table row. min/max: INT range; SIZE range in bytes; DURATION range in
 * seconds; STRING length range in bytes; unused for BOOL and ENUM. The field
 * at offset is const char * (STRING), int64_t (INT, SIZE, DURATION), bool
 * (BOOL) or int (ENUM); config.c checks this at compile time.
 */
struct config_key {
        const char *key;
        enum config_type type;
        size_t offset;
        const char *def;
        int64_t min, max;
        const char *const *choices;     /* ENUM: NULL-terminated */
        const char *help;
};

/* Sets every key to its built-in default. Cannot fail; allocates nothing. */
void config_defaults(struct config *c);

/*
 * Layers the config file, the environment and the flags over c, which must
 * already hold defaults (config_defaults()) or an earlier load. argv holds
 * only the flags after the subcommand (argv[0] is the first flag); envp is
 * a NULL-terminated "NAME=value" array or NULL for none (pass `environ`).
 * ENEMANE_* variables that name no key are ignored. Finally checks rules
 * that span keys (config_validate()).
 *
 * Returns 0; -EINVAL for a bad value, unknown key, unknown flag, syntax
 * error or limit exceeded; -ENOENT when an explicitly named config file
 * (--config or ENEMANE_CONFIG) does not exist; another negative errno when
 * the file cannot be read or memory runs out. On error err holds one line
 * naming the source (file:line, variable or flag), the key, the value and
 * what is allowed, e.g.
 *   enemane.conf:3: listen.port: '99999' is not allowed: expected an integer from 1 to 65535
 * On error c is still consistent (some values may have been applied) and
 * must be released with config_free(). err may be NULL.
 *
 * `--help` is not handled here: it is an unknown option. The caller checks
 * for it first and calls config_print_help().
 */
int config_load(struct config *c, int argc, char **argv, char **envp, char *err, size_t errlen);

/* Frees the strings c owns and zeroes c. Accepts a zeroed struct and NULL. */
void config_free(struct config *c);

/* Prints every key with its flag, variable, type, range, default and help. */
void config_print_help(FILE *f);

/*
 * Parses value for key and stores it in c. Returns 0, -EINVAL (unknown key
 * or bad value; err says why, e.g. "listen.port: '0' is not allowed:
 * expected an integer from 1 to 65535") or -ENOMEM. On error c is unchanged.
 */
int config_set(struct config *c, const char *key, const char *value, char *err, size_t errlen);

/* Checks the rules that span keys (tls.cert and tls.key: both or neither). */
int config_validate(const struct config *c, char *err, size_t errlen);

/* The row for key, or NULL when there is no such key. */
const struct config_key *config_find(const char *key);

/* The whole table, for listings; *n receives the number of rows. */
const struct config_key *config_keys(size_t *n);

#endif
