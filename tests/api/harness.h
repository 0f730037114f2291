/*
 * harness.h - black-box API test helpers: start the real enemane binary on a
 * free loopback port with a fresh database, talk HTTP to it with libcurl,
 * run its CLI, and pick values out of JSON answers.
 *
 * The binary is $ENEMANE_BIN (tests/meson.build sets it). Everything returns
 * plain codes so tests can assert them with cmocka: 0 or a count on success,
 * a negative errno on failure. Unlike library code, the harness prints what
 * went wrong to stderr (a server that failed to start, a curl error, the
 * tail of the server log when the server exited non-zero), because a test
 * log is the only place anyone will see it.
 *
 * Single-threaded: one libcurl easy handle is shared by every call so that
 * connections are kept alive between requests.
 *
 * Servers still running when the test executable exits (a failed assertion
 * skipped api_server_stop) are killed and their temp dirs removed by an
 * atexit handler; the server also gets SIGTERM if the test process dies.
 *
 * Environment:
 *   ENEMANE_BIN             path of the enemane executable (required)
 *   ENEMANE_KEEP_TEST_DIRS  when set, temp dirs (db, server.log) are kept
 *                           and their path printed
 */
#ifndef ENEMANE_TESTS_API_HARNESS_H
#define ENEMANE_TESTS_API_HARNESS_H

#include <errno.h>      /* the -E... codes returned below */
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

struct api_server {
        pid_t pid;              /* 0 when not running */
        int port;
        char dir[256];          /* /tmp/enemane-test-XXXXXX */
        char db_path[300];      /* DIR/enemane.db */
        char base_url[64];      /* http://127.0.0.1:PORT */
        char log_path[300];     /* DIR/server.log: the server's stdout+stderr */
};

/*
 * Creates a fresh temp dir and starts
 *   $ENEMANE_BIN serve --listen-host 127.0.0.1 --listen-port P
 *                --db-path DIR/enemane.db --log-level info [extra_args...]
 * extra_args is NULL-terminated and may be NULL. Waits up to 15 s for
 * GET /readyz to answer 200. If the server exits early saying its address
 * is in use, tries once more on another port. Returns 0, or -1 after
 * printing the server log's tail (the temp dir is then removed and *s has
 * pid 0).
 */
int api_server_start(struct api_server *s, const char *const *extra_args);

/*
 * SIGTERM, then waits up to 15 s (SIGKILL after that). Returns the exit
 * status: 0 for a clean exit, 1..255 for exit(n), 128+N when killed by
 * signal N (137 when it had to be SIGKILLed); -ESRCH when not running.
 * Prints the log tail when the status is not 0 (a sanitizer report of the
 * server ends up there). Removes the temp dir unless ENEMANE_KEEP_TEST_DIRS.
 */
int api_server_stop(struct api_server *s);

/*
 * Stops the server keeping its temp dir and database, then starts it again
 * on the same database (possibly a new port; base_url is updated) with
 * extra_args. *old_status (may be NULL) gets the stop status. Returns 0 or
 * -1 like api_server_start (or -ESRCH if it was not running).
 */
int api_server_restart(struct api_server *s, const char *const *extra_args, int *old_status);

/*
 * Runs `$ENEMANE_BIN args...` (args NULL-terminated) with stdin from
 * /dev/null, waits for it (60 s at most, then SIGKILL) and returns its exit
 * status (128+N for signal N, -errno when it could not be run at all,
 * -ETIMEDOUT after the kill). stdout and stderr together are returned in
 * *out_stdout (malloc'd, NUL-terminated, caller frees; may be NULL to
 * discard).
 */
int api_cli(const char *const *args, char **out_stdout);

struct api_resp {
        long status;            /* HTTP status, 0 when no answer */
        char *body;             /* NUL-terminated (never NULL after a call) */
        size_t len;             /* body length without the NUL */
        json_t *json;           /* body parsed as JSON, NULL if it is not */
        /* Response header values, "" when absent, truncated to fit. */
        char content_type[128];
        char request_id[64];    /* X-Request-Id */
        char retry_after[32];
        char allow[128];
        char location[256];
        char www_authenticate[128];
        char cache_control[64];
};

/* Frees body and json and zeroes r. Accepts NULL and a zeroed struct. */
void api_resp_free(struct api_resp *r);

/*
 * One request to s->base_url + path (path starts with '/', sent as is:
 * no dot-segment squashing). token NULL: no Authorization header, else
 * "Authorization: Bearer <token>". json_body non-NULL: sent with
 * Content-Type: application/json. *out is overwritten (free an earlier
 * answer with api_resp_free first) and must be freed by the caller, also
 * after an error. Returns 0 whenever an HTTP answer arrived (whatever its
 * status), -EIO on a transport error (printed), -EINVAL/-ENOMEM.
 */
int api_call(struct api_server *s, const char *method, const char *path,
             const char *token, const char *json_body, struct api_resp *out);

/*
 * Like api_call with full control: headers is a NULL-terminated list of
 * "Name: value" lines (may be NULL); body of body_len bytes may hold
 * anything (bad UTF-8, NULs) and may be NULL for none. No Content-Type is
 * sent unless headers has one (libcurl's form default is removed), and
 * "Expect: 100-continue" is not sent unless headers has an Expect line.
 */
int api_call_raw(struct api_server *s, const char *method, const char *path,
                 const char *const *headers, const char *body, size_t body_len,
                 struct api_resp *out);

/* asprintf that returns the string (caller frees) or NULL. */
char *api_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Looks up a dotted path: object keys, and array indexes as decimal
 * segments ("errors.0.field", "items.1.document"). j may be NULL.
 * api_json_str returns the string value (borrowed from j) or NULL when the
 * path is missing or not a string; api_json_int returns the integer value
 * or dflt when missing or not an integer.
 */
const char *api_json_str(json_t *j, const char *dotted_path);
json_int_t api_json_int(json_t *j, const char *dotted_path, json_int_t dflt);
/* The node itself (borrowed) or NULL; for objects, arrays, booleans. */
json_t *api_json_get(json_t *j, const char *dotted_path);

#endif
