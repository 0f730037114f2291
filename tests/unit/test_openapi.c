/*
 * test_openapi.c - keeps docs/openapi.yaml and the router table of
 * src/api/routes.c in step: every route is documented, every documented
 * operation is routed, each operation has an operationId (unique) and at
 * least one response, the document names itself as OpenAPI 3.1 with a
 * title and a version, and the copies built into the binary (served at
 * GET /api/openapi.yaml, /api/docs and /) are the files on disk.
 *
 * The YAML is not parsed in full: a line scanner relies on the layout the
 * document promises in its header comment. Under the top-level `paths:`
 * key each path is a line indented exactly 2 spaces ("  /api/v1/me:") and
 * each operation a line indented exactly 4 spaces ("    get:"); an
 * operation's own keys are indented 6 ("      operationId: getMe") and
 * its response codes 8 ("        '200':"). Block style only. Any other
 * line under `paths:` at indent 2 is reported as a layout error, so a
 * document that drifts from the layout fails loudly instead of silently
 * hiding routes from the check.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "http/http.h"
#include "http/router.h"

#ifndef ENEMANE_SOURCE_ROOT
#error "ENEMANE_SOURCE_ROOT must name the source tree (meson defines it)"
#endif

#define DOC_MAX_OPS 256
#define DOC_KEY_MAX 256
#define DOC_MAX_BYTES (4 * 1024 * 1024)
#define REPORT_MAX 4096

struct doc_op {
        char method[16];                /* upper case, "GET" */
        char path[DOC_KEY_MAX];
        char operation_id[DOC_KEY_MAX];
        int n_responses;
        int line;                       /* 1-based line of the method key */
};

struct doc {
        char *text;                     /* the whole file, NUL-terminated */
        size_t len;
        char openapi[DOC_KEY_MAX];      /* value of the top-level `openapi` */
        char title[DOC_KEY_MAX];        /* info.title */
        char version[DOC_KEY_MAX];      /* info.version */
        int paths_line;                 /* line of `paths:`, 0 when none */
        int components_line;            /* line of `components:`, 0 when none */
        struct doc_op ops[DOC_MAX_OPS];
        int n_ops;
        char errors[REPORT_MAX];        /* layout errors, one per line */
};

/* ---- small helpers -------------------------------------------------------- */

/* Appends a formatted line to a bounded report buffer. */
static void report_add(char *rep, size_t len, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void report_add(char *rep, size_t len, const char *fmt, ...)
{
        size_t used = strlen(rep);
        va_list ap;

        if (used + 1 >= len)
                return;
        va_start(ap, fmt);
        vsnprintf(rep + used, len - used, fmt, ap);
        va_end(ap);
        used = strlen(rep);
        if (used + 1 < len) {
                rep[used] = '\n';
                rep[used + 1] = '\0';
        }
}

/* Reads a whole file; returns a malloc'd NUL-terminated buffer or NULL. */
static char *read_file(const char *path, size_t *len_out)
{
        FILE *f = fopen(path, "rb");
        char *data = NULL;
        size_t len = 0;

        if (!f)
                return NULL;
        data = malloc(DOC_MAX_BYTES + 1);
        if (data)
                len = fread(data, 1, DOC_MAX_BYTES + 1, f);
        if (data && (ferror(f) || len > DOC_MAX_BYTES)) {
                free(data);
                data = NULL;
        }
        fclose(f);
        if (!data)
                return NULL;
        data[len] = '\0';
        *len_out = len;
        return data;
}

/* Copies s[0..n) into out without surrounding blanks or one pair of
 * matching quotes ('x' or "x"), and without a trailing " # comment" when
 * the value is not quoted. */
static void scalar_copy(char *out, size_t outlen, const char *s, size_t n)
{
        while (n > 0 && (*s == ' ' || *s == '\t')) {
                s++;
                n--;
        }
        if (n > 0 && *s != '\'' && *s != '"') {
                for (size_t i = 0; i + 1 < n; i++) {
                        if (s[i] == ' ' && s[i + 1] == '#') {
                                n = i;
                                break;
                        }
                }
        }
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
                n--;
        if (n >= 2 && (s[0] == '\'' || s[0] == '"') && s[n - 1] == s[0]) {
                s++;
                n -= 2;
        }
        if (n >= outlen)
                n = outlen - 1;
        memcpy(out, s, n);
        out[n] = '\0';
}

/*
 * Splits the content of one line (indentation already skipped) into a
 * mapping key and its value. The key ends at the first ':' followed by a
 * blank or the end of the line, outside quotes. Returns true for a
 * mapping line; key and value are unquoted copies (value "" when the key
 * opens a block).
 */
static bool split_key(const char *s, size_t n, char *key, size_t keylen, char *val,
                      size_t vallen)
{
        size_t i = 0;
        char quote = 0;

        if (n == 0 || *s == '-')
                return false;
        if (*s == '\'' || *s == '"') {
                quote = *s;
                for (i = 1; i < n && s[i] != quote; i++)
                        ;
                if (i >= n)
                        return false;
                i++;
        }
        for (; i < n; i++) {
                if (s[i] == ':' && (i + 1 == n || s[i + 1] == ' ' || s[i + 1] == '\t'))
                        break;
        }
        if (i >= n)
                return false;
        scalar_copy(key, keylen, s, i);
        scalar_copy(val, vallen, s + i + 1, n - i - 1);
        return true;
}

static bool is_method_key(const char *key)
{
        static const char *const methods[] = { "get", "put", "post", "delete", "options",
                                               "head", "patch", "trace", NULL };

        for (size_t i = 0; methods[i]; i++)
                if (strcmp(methods[i], key) == 0)
                        return true;
        return false;
}

/* '200', "4XX", 201, default */
static bool is_response_key(const char *key)
{
        size_t n = strlen(key);

        if (strcmp(key, "default") == 0)
                return true;
        if (n != 3 || key[0] < '1' || key[0] > '5')
                return false;
        for (size_t i = 1; i < 3; i++)
                if (!isdigit((unsigned char)key[i]) && key[i] != 'X')
                        return false;
        return true;
}

/* ---- the scanner ---------------------------------------------------------- */

enum section {
        SEC_NONE,
        SEC_INFO,
        SEC_PATHS,
        SEC_OTHER,
};

struct scan {
        struct doc *d;
        enum section sec;
        char path[DOC_KEY_MAX];         /* current path, "" when none */
        int op;                         /* index of the current operation or -1 */
        bool in_responses;              /* inside the current operation's responses */
        int block_scalar_indent;        /* > indent of a `|`/`>` key while inside it, else -1 */
};

static void scan_top(struct scan *sc, const char *key, const char *val, int lineno)
{
        struct doc *d = sc->d;

        sc->path[0] = '\0';
        sc->op = -1;
        if (strcmp(key, "openapi") == 0) {
                snprintf(d->openapi, sizeof(d->openapi), "%s", val);
                sc->sec = SEC_OTHER;
        } else if (strcmp(key, "info") == 0) {
                sc->sec = SEC_INFO;
        } else if (strcmp(key, "paths") == 0) {
                if (d->paths_line)
                        report_add(d->errors, sizeof(d->errors), "line %d: second `paths:`",
                                   lineno);
                d->paths_line = lineno;
                sc->sec = SEC_PATHS;
                if (*val)
                        report_add(d->errors, sizeof(d->errors),
                                   "line %d: `paths:` must open a block, not '%s'", lineno, val);
        } else {
                if (strcmp(key, "components") == 0)
                        d->components_line = lineno;
                sc->sec = SEC_OTHER;
        }
}

static void scan_path_line(struct scan *sc, int indent, const char *key, const char *val,
                           int lineno)
{
        struct doc *d = sc->d;
        struct doc_op *op;

        if (indent == 2) {
                sc->op = -1;
                sc->path[0] = '\0';
                if (key[0] != '/' || *val) {
                        report_add(d->errors, sizeof(d->errors),
                                   "line %d: expected a path block like '  /x:', got '%s'",
                                   lineno, key);
                        return;
                }
                snprintf(sc->path, sizeof(sc->path), "%s", key);
                return;
        }
        if (indent == 4) {
                sc->op = -1;
                sc->in_responses = false;
                if (!is_method_key(key))
                        return;         /* path-level summary, parameters, ... */
                if (!sc->path[0]) {
                        report_add(d->errors, sizeof(d->errors),
                                   "line %d: operation '%s' outside a path", lineno, key);
                        return;
                }
                if (d->n_ops >= DOC_MAX_OPS) {
                        report_add(d->errors, sizeof(d->errors),
                                   "line %d: more than %d operations", lineno, DOC_MAX_OPS);
                        return;
                }
                op = &d->ops[d->n_ops];
                memset(op, 0, sizeof(*op));
                for (size_t i = 0; key[i] && i + 1 < sizeof(op->method); i++)
                        op->method[i] = (char)toupper((unsigned char)key[i]);
                snprintf(op->path, sizeof(op->path), "%s", sc->path);
                op->line = lineno;
                sc->op = d->n_ops++;
                return;
        }
        if (sc->op < 0)
                return;
        op = &d->ops[sc->op];
        if (indent == 6) {
                sc->in_responses = strcmp(key, "responses") == 0;
                if (strcmp(key, "operationId") == 0)
                        snprintf(op->operation_id, sizeof(op->operation_id), "%s", val);
                return;
        }
        if (indent == 8 && sc->in_responses && is_response_key(key))
                op->n_responses++;
}

/* Scans d->text; layout problems are collected in d->errors. */
static void doc_scan(struct doc *d)
{
        struct scan sc = { .d = d, .sec = SEC_NONE, .op = -1, .block_scalar_indent = -1 };
        const char *p = d->text, *end = d->text + d->len;
        int lineno = 0;

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                const char *le = nl ? nl : end;
                const char *s = p;
                char key[DOC_KEY_MAX], val[DOC_KEY_MAX];
                int indent = 0;

                lineno++;
                p = nl ? nl + 1 : end;
                while (s < le && *s == ' ') {
                        s++;
                        indent++;
                }
                if (s < le && *s == '\t') {
                        report_add(d->errors, sizeof(d->errors),
                                   "line %d: tab in indentation", lineno);
                        continue;
                }
                if (s == le || *s == '#' || (le - s == 1 && *s == '\r'))
                        continue;
                /* Lines of a block scalar (`description: |`) are text, even
                 * when they look like "get:". */
                if (sc.block_scalar_indent >= 0) {
                        if (indent >= sc.block_scalar_indent)
                                continue;
                        sc.block_scalar_indent = -1;
                }
                if (!split_key(s, (size_t)(le - s), key, sizeof(key), val, sizeof(val)))
                        continue;       /* list items, continuation lines */
                if (val[0] == '|' || val[0] == '>')
                        sc.block_scalar_indent = indent + 1;
                if (indent == 0) {
                        scan_top(&sc, key, val, lineno);
                        continue;
                }
                if (sc.sec == SEC_INFO && indent == 2) {
                        if (strcmp(key, "title") == 0)
                                snprintf(d->title, sizeof(d->title), "%s", val);
                        else if (strcmp(key, "version") == 0)
                                snprintf(d->version, sizeof(d->version), "%s", val);
                        continue;
                }
                if (sc.sec == SEC_PATHS)
                        scan_path_line(&sc, indent, key, val, lineno);
        }
}

static int doc_load(struct doc *d, const char *path)
{
        memset(d, 0, sizeof(*d));
        d->text = read_file(path, &d->len);
        if (!d->text) {
                int e = errno;

                return e > 0 ? -e : -EIO;
        }
        doc_scan(d);
        return 0;
}

static void doc_free(struct doc *d)
{
        if (!d)
                return;
        free(d->text);
        d->text = NULL;
}

/* ---- fixtures ------------------------------------------------------------- */

static int group_setup(void **state)
{
        struct doc *d = calloc(1, sizeof(*d));

        if (!d)
                return -1;
        if (doc_load(d, ENEMANE_SOURCE_ROOT "/docs/openapi.yaml") < 0) {
                fprintf(stderr, "cannot read %s\n", ENEMANE_SOURCE_ROOT "/docs/openapi.yaml");
                free(d);
                return -1;
        }
        *state = d;
        return 0;
}

static int group_teardown(void **state)
{
        struct doc *d = *state;

        doc_free(d);
        free(d);
        return 0;
}

static const struct doc_op *doc_find(const struct doc *d, const char *method, const char *path)
{
        for (int i = 0; i < d->n_ops; i++)
                if (strcasecmp(d->ops[i].method, method) == 0 && strcmp(d->ops[i].path, path) == 0)
                        return &d->ops[i];
        return NULL;
}

static bool route_exists(const char *method, const char *path)
{
        for (size_t i = 0; i < api_routes_count; i++)
                if (strcasecmp(http_method_name(api_routes[i].method), method) == 0 &&
                    strcmp(api_routes[i].pattern, path) == 0)
                        return true;
        return false;
}

/* ---- tests ---------------------------------------------------------------- */

static void test_layout_is_scannable(void **state)
{
        struct doc *d = *state;

        if (d->errors[0])
                fail_msg("docs/openapi.yaml breaks the layout the test relies on:\n%s",
                         d->errors);
        if (!d->paths_line)
                fail_msg("docs/openapi.yaml has no top-level `paths:`");
        if (!d->components_line)
                fail_msg("docs/openapi.yaml has no top-level `components:`");
        if (d->components_line < d->paths_line)
                fail_msg("`paths:` (line %d) must come before `components:` (line %d)",
                         d->paths_line, d->components_line);
        if (d->n_ops == 0)
                fail_msg("no operation found under `paths:`");
}

static void test_header(void **state)
{
        struct doc *d = *state;

        if (strncmp(d->text, "openapi: 3.1", strlen("openapi: 3.1")) != 0)
                fail_msg("docs/openapi.yaml must start with 'openapi: 3.1', starts with '%.20s'",
                         d->text);
        if (strncmp(d->openapi, "3.1.", 4) != 0 && strcmp(d->openapi, "3.1") != 0)
                fail_msg("openapi version is '%s', want 3.1.x", d->openapi);
        if (!d->title[0])
                fail_msg("info.title is missing or empty");
        if (!d->version[0])
                fail_msg("info.version is missing or empty");
}

static void test_every_route_documented(void **state)
{
        struct doc *d = *state;
        char missing[REPORT_MAX] = "";
        int n = 0;

        assert_true(api_routes_count > 0);
        for (size_t i = 0; i < api_routes_count; i++) {
                const char *m = http_method_name(api_routes[i].method);

                if (doc_find(d, m, api_routes[i].pattern))
                        continue;
                report_add(missing, sizeof(missing), "  %s %s (route '%s')", m,
                           api_routes[i].pattern, api_routes[i].name);
                n++;
        }
        if (n)
                fail_msg("%d route(s) of src/api/routes.c missing from docs/openapi.yaml:\n%s",
                         n, missing);
}

static void test_every_operation_routed(void **state)
{
        struct doc *d = *state;
        char extra[REPORT_MAX] = "";
        int n = 0;

        for (int i = 0; i < d->n_ops; i++) {
                if (route_exists(d->ops[i].method, d->ops[i].path))
                        continue;
#ifndef ENEMANE_TEST_CLOCK
                /* Test-only routes (/api/v1/_test/..., -Dtest_clock=true)
                 * are documented but not built into a release router. */
                if (strncmp(d->ops[i].path, "/api/v1/_test/", strlen("/api/v1/_test/")) == 0)
                        continue;
#endif
                report_add(extra, sizeof(extra), "  %s %s (line %d)", d->ops[i].method,
                           d->ops[i].path, d->ops[i].line);
                n++;
        }
        if (n)
                fail_msg("%d operation(s) of docs/openapi.yaml have no route in "
                         "src/api/routes.c:\n%s", n, extra);
}

static void test_no_duplicate_operations(void **state)
{
        struct doc *d = *state;
        char dup[REPORT_MAX] = "";
        int n = 0;

        for (int i = 0; i < d->n_ops; i++) {
                for (int j = i + 1; j < d->n_ops; j++) {
                        if (strcmp(d->ops[i].method, d->ops[j].method) != 0 ||
                            strcmp(d->ops[i].path, d->ops[j].path) != 0)
                                continue;
                        report_add(dup, sizeof(dup), "  %s %s (lines %d and %d)",
                                   d->ops[i].method, d->ops[i].path, d->ops[i].line,
                                   d->ops[j].line);
                        n++;
                }
        }
        if (n)
                fail_msg("%d operation(s) documented twice:\n%s", n, dup);
}

static void test_operations_complete(void **state)
{
        struct doc *d = *state;
        char bad[REPORT_MAX] = "";
        int n = 0;

        for (int i = 0; i < d->n_ops; i++) {
                const struct doc_op *op = &d->ops[i];

                if (!op->operation_id[0]) {
                        report_add(bad, sizeof(bad), "  %s %s (line %d): no operationId",
                                   op->method, op->path, op->line);
                        n++;
                }
                if (op->n_responses == 0) {
                        report_add(bad, sizeof(bad), "  %s %s (line %d): no response code",
                                   op->method, op->path, op->line);
                        n++;
                }
        }
        if (n)
                fail_msg("%d incomplete operation(s):\n%s", n, bad);
}

static void test_operation_ids_unique(void **state)
{
        struct doc *d = *state;
        char dup[REPORT_MAX] = "";
        int n = 0;

        for (int i = 0; i < d->n_ops; i++) {
                for (int j = i + 1; j < d->n_ops; j++) {
                        if (!d->ops[i].operation_id[0] ||
                            strcmp(d->ops[i].operation_id, d->ops[j].operation_id) != 0)
                                continue;
                        report_add(dup, sizeof(dup), "  '%s' on lines %d and %d",
                                   d->ops[i].operation_id, d->ops[i].line, d->ops[j].line);
                        n++;
                }
        }
        if (n)
                fail_msg("%d duplicate operationId(s):\n%s", n, dup);
}

/* The server serves embedded copies; a stale build would serve an old
 * document. Compares the embedded bytes with the file on disk. */
static void check_embedded(const char *name, const char *path)
{
        const struct embedded_file *f = embedded_find(name);
        size_t len = 0;
        char *disk = read_file(path, &len);

        if (!disk)
                fail_msg("cannot read %s", path);
        if (!f) {
                free(disk);
                fail_msg("embedded_find(\"%s\") found nothing", name);
        }
        if (f->len != len || memcmp(f->data, disk, len) != 0) {
                size_t at = 0;

                while (at < len && at < f->len && f->data[at] == (unsigned char)disk[at])
                        at++;
                free(disk);
                fail_msg("embedded %s (%zu bytes) differs from %s (%zu bytes) at byte %zu; "
                         "rebuild", name, f->len, path, len, at);
        }
        free(disk);
}

static void test_embedded_openapi_matches_file(void **state)
{
        check_embedded("openapi.yaml", ENEMANE_SOURCE_ROOT "/docs/openapi.yaml");
}

static void test_embedded_web_pages_match_files(void **state)
{
        check_embedded("api-docs.html", ENEMANE_SOURCE_ROOT "/web/api-docs.html");
        check_embedded("index.html", ENEMANE_SOURCE_ROOT "/web/index.html");
        assert_null(embedded_find("no-such-file"));
        assert_null(embedded_find("openapi.yam"));
}

/* The scanner itself, on a small document that exercises its edges:
 * quoted keys, comments, block scalars that contain "get:" lines,
 * path-level keys, and a non-path at indent 2 under paths. */
static void test_scanner_edges(void **state)
{
        static const char text[] =
                "openapi: 3.1.0\n"
                "info:\n"
                "  title: 'T: x'\n"
                "  version: \"1\"  \n"
                "paths:\n"
                "  # a comment\n"
                "  /a:\n"
                "    summary: path level\n"
                "    get:\n"
                "      operationId: getA # trailing comment\n"
                "      description: |\n"
                "        get:\n"
                "          operationId: fake\n"
                "      responses:\n"
                "        '200':\n"
                "          description: ok\n"
                "        default:\n"
                "          description: error\n"
                "    post:\n"
                "      operationId: postA\n"
                "  '/b/{id}':\n"
                "    delete:\n"
                "      responses:\n"
                "        \"204\":\n"
                "          description: gone\n"
                "  notapath: 1\n"
                "components:\n"
                "  paths:\n"
                "    /c:\n"
                "      get: {}\n";
        struct doc *d = calloc(1, sizeof(*d));

        assert_non_null(d);
        d->text = strdup(text);
        assert_non_null(d->text);
        d->len = strlen(text);
        doc_scan(d);
        assert_string_equal(d->openapi, "3.1.0");
        assert_string_equal(d->title, "T: x");
        assert_string_equal(d->version, "1");
        assert_int_equal(d->paths_line, 5);
        assert_int_equal(d->components_line, 27);
        assert_int_equal(d->n_ops, 3);
        assert_string_equal(d->ops[0].method, "GET");
        assert_string_equal(d->ops[0].path, "/a");
        assert_string_equal(d->ops[0].operation_id, "getA");
        assert_int_equal(d->ops[0].n_responses, 2);
        assert_string_equal(d->ops[1].method, "POST");
        assert_string_equal(d->ops[1].operation_id, "postA");
        assert_int_equal(d->ops[1].n_responses, 0);
        assert_string_equal(d->ops[2].method, "DELETE");
        assert_string_equal(d->ops[2].path, "/b/{id}");
        assert_string_equal(d->ops[2].operation_id, "");
        assert_int_equal(d->ops[2].n_responses, 1);
        assert_non_null(strstr(d->errors, "line 26"));
        doc_free(d);
        free(d);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_layout_is_scannable),
                cmocka_unit_test(test_header),
                cmocka_unit_test(test_every_route_documented),
                cmocka_unit_test(test_every_operation_routed),
                cmocka_unit_test(test_no_duplicate_operations),
                cmocka_unit_test(test_operations_complete),
                cmocka_unit_test(test_operation_ids_unique),
                cmocka_unit_test(test_embedded_openapi_matches_file),
                cmocka_unit_test(test_embedded_web_pages_match_files),
                cmocka_unit_test(test_scanner_edges),
        };

        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
