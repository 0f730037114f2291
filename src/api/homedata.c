/*
 * homedata.c - a home's settings backup (HE-8) and device history (HE-9):
 * the gateway uploads its settings document (201, a new version; 200
 * "unchanged" when it equals the newest version, nothing stored) and reads
 * back the newest (a restore shows up there), and reports history events
 * in batches; the home's members list the versions, read one, compare two
 * and (the owner) restore a version of another home of theirs to a
 * replacement gateway; members and the operator read the history; the
 * operator reads the error statistics by model and firmware for
 * after-service. The store is store_homedata.h; the checks of the
 * document are tariff_from_settings() and the name lists below.
 *
 * Problem codes: settings_too_large (413), settings_too_deep (422: more
 * than SETTINGS_DEPTH_MAX levels), validation_failed (422; in
 * errors[]: invalid_tariff with the pointer into the document, type,
 * required, too_long, invalid, too_many, too_few, unknown_field,
 * out_of_range), no_settings (404: the gateway's home has no version yet),
 * settings_version_not_found (404), home_not_found (404: a from_home the
 * caller has no access to), not_owner (403), home_not_active (409: restore
 * into an ended home). The gateway's and the home's own access problems
 * come from api_gateway_home() and api_home_access().
 */
#include "api/api_energy.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/validate.h"
#include "domain/jsondiff.h"
#include "domain/member.h"
#include "domain/tariff.h"
#include "store/store_homedata.h"
#include "util/cleanup.h"
#include "util/timeutil.h"

_Static_assert(HOMEDATA_MODEL_MAX == GW_MODEL_MAX, "model sizes differ");
_Static_assert(HOMEDATA_FIRMWARE_MAX == GW_FIRMWARE_MAX, "firmware sizes differ");

#define SETTINGS_NAME_MAX 64            /* characters of a circuit, device or room name */
#define DIFF_CHANGES_MAX 1000           /* changes in one diff answer */
/* Nesting of a settings document: real ones have three or four levels;
 * the limit keeps every later reader (jsondiff's JSONDIFF_MAX_DEPTH among
 * them) far from its own. */
#define SETTINGS_DEPTH_MAX 32
#define VERSIONS_PAGE_DEFAULT HOMEDATA_VERSIONS_PAGE_MAX
#define HISTORY_PAGE_DEFAULT 100
#define ERRSTATS_DEFAULT 100
/* Event times: not before 2000 (a gateway whose clock was never set) and
 * at most a day ahead of the server (clock drift). */
#define HISTORY_MIN_AT 946684800LL
#define HISTORY_MAX_AHEAD 86400

/* ---- small checks ---------------------------------------------------------- */

/* Code points of a valid UTF-8 string (jansson's strings are). */
static size_t utf8_chars(const char *s)
{
        size_t n = 0;

        if (member_utf8_length(s, &n) < 0)
                return SIZE_MAX;
        return n;
}

/* No control characters (line breaks and tabs allowed when multiline). */
static bool no_controls(const char *s, bool multiline)
{
        for (; *s; s++) {
                unsigned char ch = (unsigned char)*s;

                if (multiline && (ch == '\n' || ch == '\t'))
                        continue;
                if (ch < 0x20 || ch == 0x7f)
                        return false;
        }
        return true;
}

/* A code: printable ASCII without spaces ("E-101", "H21", "0x0287:E1"). */
static bool code_ok(const char *s)
{
        if (!*s)
                return false;
        for (; *s; s++)
                if (*s < 0x21 || *s > 0x7e)
                        return false;
        return true;
}

static bool kind_ok(const char *s)
{
        return strcmp(s, "operation") == 0 || strcmp(s, "saving") == 0 ||
               strcmp(s, "error") == 0;
}

/* A text field of at most max characters without controls; records the
 * error. NULL when absent (not required) or bad. */
static const char *text_field(struct jv *v, json_t *obj, const char *prefix, const char *key,
                              bool required, size_t max, bool multiline)
{
        const char *s = jv_str(v, obj, prefix, key, required, 4 * max);

        if (!s)
                return NULL;
        if (utf8_chars(s) > max) {
                jv_error(v, prefix, key, "too_long", "Must be at most %zu characters.", max);
                return NULL;
        }
        if (!no_controls(s, multiline)) {
                jv_error(v, prefix, key, "invalid", "Must not contain control characters.");
                return NULL;
        }
        return s;
}

/* ---- query parameters --------------------------------------------------------- */

/* A string parameter of 1 .. max_bytes bytes; *out malloc'd, NULL when
 * absent. <0 with the error recorded. */
static int query_str(struct jv *v, struct api_ctx *c, const char *key, size_t max_bytes,
                     char **out)
{
        int r = http_query_get(c->req->query, key, out);

        if (r < 0) {
                *out = NULL;
                jv_error(v, NULL, key, "invalid", "Bad percent-encoding.");
                return r;
        }
        if (r == 0) {
                *out = NULL;
                return 0;
        }
        if (!**out || strlen(*out) > max_bytes) {
                jv_error(v, NULL, key, "invalid", "%s must be 1 to %zu bytes.", key, max_bytes);
                free(*out);
                *out = NULL;
                return -EINVAL;
        }
        return 0;
}

/* An RFC 3339 parameter (absent: *out unchanged). */
static int query_time(struct jv *v, struct api_ctx *c, const char *key, int64_t *out)
{
        _cleanup_free_ char *s = NULL;
        int r = http_query_get(c->req->query, key, &s);

        if (r < 0) {
                jv_error(v, NULL, key, "invalid", "Bad percent-encoding.");
                return r;
        }
        if (r == 0)
                return 0;
        if (time_parse_rfc3339(s, out) < 0) {
                jv_error(v, NULL, key, "invalid", "Must be an RFC 3339 time with an offset.");
                return -EINVAL;
        }
        return 0;
}

/* An integer parameter in [min, max] (absent: *out unchanged). */
static int query_int(struct jv *v, struct api_ctx *c, const char *key, int64_t min,
                     int64_t max, int64_t *out)
{
        _cleanup_free_ char *s = NULL;
        char *end = NULL;
        long long n = 0;
        int r = http_query_get(c->req->query, key, &s);
        bool ok;

        if (r == 0)
                return 0;
        ok = r > 0 && *s >= '0' && *s <= '9';
        if (ok) {
                errno = 0;
                n = strtoll(s, &end, 10);
                ok = !errno && !*end && n >= min && n <= max;
        }
        if (!ok) {
                jv_error(v, NULL, key, "invalid", "%s must be an integer from %lld to %lld.", key,
                         (long long)min, (long long)max);
                return -EINVAL;
        }
        *out = n;
        return 0;
}

/* from < to when both are given. */
static void query_range_check(struct jv *v, int64_t from, int64_t to)
{
        if (from != INT64_MIN && to != INT64_MAX && from >= to)
                jv_error(v, NULL, "to", "invalid", "to must be after from.");
}

/* ---- settings JSON ---------------------------------------------------------------- */

static json_t *version_json(const struct store_settings_version *sv)
{
        json_t *o = json_pack("{s:I, s:s}", "version", (json_int_t)sv->version, "source",
                              sv->source);

        if (!o)
                return NULL;
        json_object_set_new(o, "created_at", api_time(sv->created_at));
        json_object_set_new(o, "restored_from",
                            sv->restored_from_home
                                    ? json_pack("{s:I, s:I}", "home_id",
                                                (json_int_t)sv->restored_from_home, "version",
                                                (json_int_t)sv->restored_from_version)
                                    : json_null());
        return o;
}

/* The version with its document, or NULL when the stored text does not
 * parse (never expected: it was checked on the way in). */
static json_t *version_doc_json(const struct store_settings_version *sv)
{
        json_t *doc = json_loads(sv->doc, 0, NULL);
        json_t *o;

        if (!doc)
                return NULL;
        o = version_json(sv);
        if (!o) {
                json_decref(doc);
                return NULL;
        }
        json_object_set_new(o, "document", doc);
        return o;
}

/* Renders one stored version with its document as 200. */
static void version_respond(struct api_ctx *c, const struct store_settings_version *sv)
{
        json_t *o = version_doc_json(sv);

        if (!o) {
                problem_respond(c->res, 500, "internal_error",
                                "The stored settings could not be read.");
                return;
        }
        api_json(c, 200, o);
}

static void version_not_found(struct api_ctx *c, int64_t home_id, int64_t version)
{
        problem_respond(c->res, 404, "settings_version_not_found",
                        "Home %lld has no settings version %lld (the %d newest are kept).",
                        (long long)home_id, (long long)version, HOMEDATA_VERSIONS_KEPT);
}

/* ---- the settings document ---------------------------------------------------------- */

/* "/tariff/bands/1/from" -> "tariff.bands.1.from" ("~1" -> '/', "~0" -> '~'). */
static void pointer_to_field(const char *ptr, char *out, size_t len)
{
        size_t j = 0;

        if (*ptr == '/')
                ptr++;
        for (; *ptr && j + 1 < len; ptr++) {
                if (*ptr == '/') {
                        out[j++] = '.';
                } else if (ptr[0] == '~' && (ptr[1] == '0' || ptr[1] == '1')) {
                        out[j++] = ptr[1] == '0' ? '~' : '/';
                        ptr++;
                } else {
                        out[j++] = *ptr;
                }
        }
        out[j] = '\0';
}

/* circuits, devices and rooms: when present, arrays of objects each with
 * a name of 1 .. SETTINGS_NAME_MAX characters. */
static void settings_names_check(struct jv *v, json_t *doc)
{
        static const char *const lists[] = { "circuits", "devices", "rooms" };

        for (size_t k = 0; k < ELEMENTSOF(lists); k++) {
                json_t *arr = json_object_get(doc, lists[k]), *it;
                size_t i;

                if (!arr)
                        continue;
                if (!json_is_array(arr)) {
                        jv_error(v, NULL, lists[k], "type", "Must be an array of objects.");
                        continue;
                }
                json_array_foreach(arr, i, it) {
                        char prefix[32], idx[24];

                        snprintf(prefix, sizeof(prefix), "%s.%zu", lists[k], i);
                        snprintf(idx, sizeof(idx), "%zu", i);
                        if (!json_is_object(it)) {
                                jv_error(v, lists[k], idx, "type", "Must be an object.");
                                continue;
                        }
                        text_field(v, it, prefix, "name", true, SETTINGS_NAME_MAX, false);
                }
        }
}

/* Whether j nests at most max levels (a scalar is 0, [] or {} is 1). */
static bool depth_ok(const json_t *j, int max)
{
        const char *key;
        json_t *val;
        size_t i;

        if (!json_is_object(j) && !json_is_array(j))
                return true;
        if (max <= 0)
                return false;
        if (json_is_array(j)) {
                json_array_foreach(j, i, val)
                        if (!depth_ok(val, max - 1))
                                return false;
                return true;
        }
        json_object_foreach((json_t *)j, key, val)
                if (!depth_ok(val, max - 1))
                        return false;
        return true;
}

/* Checks the document; records every problem in v. */
static void settings_check(struct jv *v, json_t *doc)
{
        struct tariff t;
        struct tariff_error te;

        memset(&te, 0, sizeof(te));
        if (tariff_from_settings(doc, &t, &te) < 0) {
                char field[80];

                pointer_to_field(te.pointer, field, sizeof(field));
                jv_error(v, NULL, *field ? field : "tariff", "invalid_tariff", "%s",
                         *te.message ? te.message : "The tariff is not valid.");
        }
        settings_names_check(v, doc);
}

static void settings_too_large(struct api_ctx *c)
{
        problem_respond(c->res, 413, "settings_too_large",
                        "A settings document may have at most %d bytes.", HOMEDATA_DOC_MAX);
}

void api_gateway_settings_put(struct api_ctx *c)
{
        struct store_gateway gw;
        struct store_home home;
        json_t *doc = NULL;
        _cleanup_free_ char *text = NULL;
        int64_t version = 0, created_at = 0;
        struct jv v;
        int r;

        if (api_gateway_home(c, false, &gw, &home) < 0)
                return;
        if (c->req->body_len > HOMEDATA_DOC_MAX) {
                settings_too_large(c);
                return;
        }
        if (api_body_object(c->req, c->res, &doc) < 0)
                return;
        if (!depth_ok(doc, SETTINGS_DEPTH_MAX)) {
                json_decref(doc);
                problem_respond(c->res, 422, "settings_too_deep",
                                "A settings document may nest at most %d levels.",
                                SETTINGS_DEPTH_MAX);
                return;
        }
        jv_init(&v);
        settings_check(&v, doc);
        if (!jv_ok(&v)) {
                json_decref(doc);
                jv_render(&v, c->res);
                return;
        }
        text = json_dumps(doc, JSON_COMPACT);
        json_decref(doc);
        if (!text) {
                problem_respond(c->res, 500, "internal_error", "The answer could not be built.");
                return;
        }
        if (strlen(text) > HOMEDATA_DOC_MAX) {
                settings_too_large(c);
                return;
        }
        r = store_settings_put(c->app->st, home.id, text, c->now, &version, &created_at);
        if (r < 0) {
                api_store_error(c, r, "settings");
                return;
        }
        /* 200 when it equals the newest version: nothing new was stored. */
        api_json(c, r == 1 ? 200 : 201,
                 json_pack("{s:I, s:o, s:b}", "version", (json_int_t)version, "created_at",
                           api_time(created_at), "unchanged", r == 1));
}

void api_gateway_settings_get(struct api_ctx *c)
{
        struct store_settings_version sv;
        struct store_gateway gw;
        struct store_home home;
        int r;

        if (api_gateway_home(c, false, &gw, &home) < 0)
                return;
        r = store_settings_get(c->app->st, home.id, 0, &sv);
        if (r == -ENOENT) {
                problem_respond(c->res, 404, "no_settings",
                                "No settings have been uploaded or restored for this home yet.");
                return;
        }
        if (r < 0) {
                api_store_error(c, r, "settings");
                return;
        }
        version_respond(c, &sv);
        store_settings_version_free(&sv);
}

/* ---- the members' view of the settings ------------------------------------------------ */

struct versions_acc {
        json_t *items;
        int64_t last;
};

static void versions_cb(const struct store_settings_version *sv, void *ud)
{
        struct versions_acc *a = ud;

        json_array_append_new(a->items, version_json(sv));
        a->last = sv->version;
}

void api_home_settings_list(struct api_ctx *c)
{
        struct versions_acc acc = { 0 };
        struct store_home home;
        int64_t before = 0, limit = VERSIONS_PAGE_DEFAULT;
        struct jv v;
        int n;

        if (api_home_access(c, false, false, &home) < 0)
                return;
        jv_init(&v);
        query_int(&v, c, "before", 1, INT64_MAX, &before);
        query_int(&v, c, "limit", 1, HOMEDATA_VERSIONS_PAGE_MAX, &limit);
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                return;
        }
        acc.items = json_array();
        n = store_settings_list(c->app->st, home.id, before, (int)limit, versions_cb, &acc);
        if (n < 0) {
                json_decref(acc.items);
                api_store_error(c, n, "settings");
                return;
        }
        api_json(c, 200, json_pack("{s:o, s:o}", "items", acc.items, "next_before",
                                   n == limit && acc.last > 1 ? json_integer(acc.last)
                                                              : json_null()));
}

void api_home_settings_get(struct api_ctx *c)
{
        struct store_settings_version sv;
        struct store_home home;
        int64_t version;
        int r;

        if (api_home_access(c, false, false, &home) < 0)
                return;
        version = api_param_id(c, "version");
        if (!version)
                return;
        r = store_settings_get(c->app->st, home.id, version, &sv);
        if (r == -ENOENT) {
                version_not_found(c, home.id, version);
                return;
        }
        if (r < 0) {
                api_store_error(c, r, "settings");
                return;
        }
        version_respond(c, &sv);
        store_settings_version_free(&sv);
}

/* Loads the document of version of the home; 404 rendered when missing. */
static json_t *version_doc(struct api_ctx *c, int64_t home_id, int64_t version)
{
        struct store_settings_version sv;
        json_t *doc;
        int r = store_settings_get(c->app->st, home_id, version, &sv);

        if (r == -ENOENT) {
                version_not_found(c, home_id, version);
                return NULL;
        }
        if (r < 0) {
                api_store_error(c, r, "settings");
                return NULL;
        }
        doc = json_loads(sv.doc, 0, NULL);
        store_settings_version_free(&sv);
        if (!doc)
                problem_respond(c->res, 500, "internal_error",
                                "The stored settings could not be read.");
        return doc;
}

/* Keeps the first max changes; true when some were dropped. (The diff is
 * computed whole: documents are at most HOMEDATA_DOC_MAX bytes, so it is
 * bounded, and the answer still says where the first changes are.) */
static bool diff_cut(json_t *changes, size_t max)
{
        size_t n = json_array_size(changes);

        if (n <= max)
                return false;
        while (n > max)
                json_array_remove(changes, --n);
        return true;
}

void api_home_settings_diff(struct api_ctx *c)
{
        struct store_home home;
        int64_t from = 0, to = 0;
        json_t *a = NULL, *b = NULL, *changes = NULL;
        bool truncated = false;
        struct jv v;
        int r;

        if (api_home_access(c, false, false, &home) < 0)
                return;
        jv_init(&v);
        /* query_int leaves 0 only when the parameter is absent (or bad, said). */
        if (query_int(&v, c, "from", 1, INT64_MAX, &from) == 0 && !from)
                jv_error(&v, NULL, "from", "required", "from (a version) is required.");
        if (query_int(&v, c, "to", 1, INT64_MAX, &to) == 0 && !to)
                jv_error(&v, NULL, "to", "required", "to (a version) is required.");
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                return;
        }
        a = version_doc(c, home.id, from);
        if (a)
                b = version_doc(c, home.id, to);
        if (!a || !b) {
                json_decref(a);
                return;
        }
        r = jsondiff(a, b, JSONDIFF_UNLIMITED, &changes);
        json_decref(a);
        json_decref(b);
        if (r == 0)
                truncated = diff_cut(changes, DIFF_CHANGES_MAX);
        if (r < 0) {
                problem_respond(c->res, 500, "internal_error",
                                "The difference could not be built.");
                return;
        }
        api_json(c, 200, json_pack("{s:I, s:I, s:o, s:b}", "from", (json_int_t)from, "to",
                                   (json_int_t)to, "changes", changes, "truncated", truncated));
}

/* The member's own home from_id as its owner; renders 404/403 when not. */
static int restore_source(struct api_ctx *c, int64_t from_id, struct store_home *src)
{
        int r = store_home_get(c->app->st, from_id, c->member_id, src);

        if (r == -ENOENT || (r == 0 && !src->role[0])) {
                problem_respond(c->res, 404, "home_not_found", "You have no home %lld.",
                                (long long)from_id);
                return -ENOENT;
        }
        if (r < 0) {
                api_store_error(c, r, "home");
                return r;
        }
        if (strcmp(src->role, "owner") != 0) {
                problem_respond(c->res, 403, "not_owner",
                                "Only the owner of home %lld may restore its settings elsewhere.",
                                (long long)from_id);
                return -EPERM;
        }
        return 0;
}

void api_home_settings_restore(struct api_ctx *c)
{
        static const char *const allowed[] = { "from_home", "version", NULL };
        struct store_home home, src;
        json_t *body = NULL;
        int64_t from_home, version, new_version = 0;
        struct jv v;
        int r;

        if (api_home_access(c, true, false, &home) < 0)
                return;
        if (api_body_object(c->req, c->res, &body) < 0)
                return;
        jv_init(&v);
        jv_unknown(&v, body, NULL, allowed);
        from_home = jv_int(&v, body, NULL, "from_home", true, 1, INT64_MAX, 0);
        version = jv_int(&v, body, NULL, "version", true, 1, INT64_MAX, 0);
        json_decref(body);
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                return;
        }
        if (strcmp(home.state, "active") != 0) {
                problem_respond(c->res, 409, "home_not_active",
                                "Home %lld has ended: restore to the home of the gateway in use.",
                                (long long)home.id);
                return;
        }
        if (restore_source(c, from_home, &src) < 0)
                return;
        r = store_settings_restore(c->app->st, from_home, version, home.id, c->member_id, c->now,
                                   &new_version);
        if (r == -ENOENT) {
                version_not_found(c, from_home, version);
                return;
        }
        if (r < 0) {
                api_store_error(c, r, "settings");
                return;
        }
        api_json(c, 201, json_pack("{s:I, s:s, s:o, s:{s:I, s:I}}", "version",
                                   (json_int_t)new_version, "source", "restore", "created_at",
                                   api_time(c->now), "restored_from", "home_id",
                                   (json_int_t)from_home, "version", (json_int_t)version));
}

/* ---- history: the gateway's upload -------------------------------------------------------- */

/* Reads events[i] into *e; records every problem in v. */
static void event_read(struct jv *v, json_t *o, size_t i, int64_t now,
                       struct store_history_event *e)
{
        static const char *const allowed[] = { "time", "kind", "device", "code", "detail", NULL };
        const char *time_s, *kind, *device, *code, *detail;
        char prefix[32], idx[24];

        snprintf(prefix, sizeof(prefix), "events.%zu", i);
        if (!json_is_object(o)) {
                snprintf(idx, sizeof(idx), "%zu", i);
                jv_error(v, "events", idx, "type", "Must be an object.");
                return;
        }
        jv_unknown(v, o, prefix, allowed);
        time_s = jv_str(v, o, prefix, "time", true, 64);
        kind = jv_str(v, o, prefix, "kind", true, 16);
        device = text_field(v, o, prefix, "device", true, HOMEDATA_DEVICE_MAX, false);
        code = jv_str(v, o, prefix, "code", true, HOMEDATA_CODE_MAX);
        detail = text_field(v, o, prefix, "detail", false, HOMEDATA_DETAIL_MAX, true);
        if (time_s && time_parse_rfc3339(time_s, &e->at) < 0)
                jv_error(v, prefix, "time", "invalid", "Must be an RFC 3339 time with an offset.");
        else if (time_s && (e->at < HISTORY_MIN_AT || e->at > now + HISTORY_MAX_AHEAD))
                jv_error(v, prefix, "time", "out_of_range",
                         "Must be from 2000-01-01 to one day after the server's time.");
        if (kind && !kind_ok(kind))
                jv_error(v, prefix, "kind", "invalid", "Must be operation, saving or error.");
        if (code && !code_ok(code))
                jv_error(v, prefix, "code", "invalid",
                         "Must be printable ASCII without spaces.");
        if (!jv_ok(v))
                return;
        snprintf(e->kind, sizeof(e->kind), "%s", kind);
        snprintf(e->device, sizeof(e->device), "%s", device);
        snprintf(e->code, sizeof(e->code), "%s", code);
        snprintf(e->detail, sizeof(e->detail), "%s", detail ? detail : "");
}

/* Reads the body {events:[...]} into *ev (malloc'd) and *n; renders the
 * problem and returns <0 when it is not valid. */
static int events_read(struct api_ctx *c, struct store_history_event **ev, size_t *n)
{
        static const char *const allowed[] = { "events", NULL };
        json_t *body = NULL, *arr, *it;
        struct store_history_event *out = NULL;
        struct jv v;
        size_t i;

        if (api_body_object(c->req, c->res, &body) < 0)
                return -EINVAL;
        jv_init(&v);
        jv_unknown(&v, body, NULL, allowed);
        arr = jv_array(&v, body, NULL, "events", true, HOMEDATA_EVENTS_MAX);
        if (arr && json_array_size(arr) == 0)
                jv_error(&v, NULL, "events", "too_few", "Send 1 to %d events.",
                         HOMEDATA_EVENTS_MAX);
        if (jv_ok(&v)) {
                out = calloc(json_array_size(arr), sizeof(*out));
                if (!out) {
                        json_decref(body);
                        jv_free(&v);
                        problem_respond(c->res, 500, "internal_error", "Out of memory.");
                        return -ENOMEM;
                }
                json_array_foreach(arr, i, it)
                        event_read(&v, it, i, c->now, &out[i]);
        }
        *n = arr ? json_array_size(arr) : 0;
        json_decref(body);
        if (!jv_ok(&v)) {
                free(out);
                jv_render(&v, c->res);
                return -EINVAL;
        }
        *ev = out;
        return 0;
}

void api_gateway_history_post(struct api_ctx *c)
{
        struct store_gateway gw;
        struct store_home home;
        struct store_history_source src;
        _cleanup_free_ struct store_history_event *ev = NULL;
        size_t n = 0;
        int r;

        if (api_gateway_home(c, false, &gw, &home) < 0)
                return;
        if (events_read(c, &ev, &n) < 0)
                return;
        src.home_id = home.id;
        src.gateway_id = gw.id;
        src.model = gw.model;
        src.firmware = gw.firmware;
        r = store_history_add(c->app->st, &src, ev, n, c->now);
        if (r < 0) {
                api_store_error(c, r, "history");
                return;
        }
        api_json(c, 201, json_pack("{s:I}", "accepted", (json_int_t)n));
}

/* ---- history: the members' and the operator's view ------------------------------------------ */

struct history_acc {
        json_t *items;
        int64_t last;
};

static void history_cb(const struct store_history_event *e, void *ud)
{
        struct history_acc *a = ud;
        json_t *o = json_pack("{s:I, s:o, s:s, s:s, s:s, s:o, s:o}", "id", (json_int_t)e->id,
                              "time", api_time(e->at), "kind", e->kind, "device", e->device,
                              "code", e->code, "detail",
                              e->detail[0] ? json_string(e->detail) : json_null(),
                              "received_at", api_time(e->received_at));

        json_array_append_new(a->items, o);
        a->last = e->id;
}

/* Reads the history filter from the query; <0 with 422 rendered. The
 * strings are malloc'd into the filter (history_filter_free). */
static int history_filter_read(struct api_ctx *c, struct store_history_filter *f)
{
        _cleanup_free_ char *kind = NULL;
        int64_t limit = HISTORY_PAGE_DEFAULT;
        char *device = NULL, *code = NULL;
        struct jv v;

        memset(f, 0, sizeof(*f));
        f->from = INT64_MIN;
        f->to = INT64_MAX;
        jv_init(&v);
        query_str(&v, c, "kind", 16, &kind);
        if (kind && !kind_ok(kind))
                jv_error(&v, NULL, "kind", "invalid", "kind must be operation, saving or error.");
        query_str(&v, c, "device", 4 * HOMEDATA_DEVICE_MAX, &device);
        query_str(&v, c, "code", HOMEDATA_CODE_MAX, &code);
        query_time(&v, c, "from", &f->from);
        query_time(&v, c, "to", &f->to);
        query_range_check(&v, f->from, f->to);
        query_int(&v, c, "after", 1, INT64_MAX, &f->after_id);
        query_int(&v, c, "limit", 1, HOMEDATA_HISTORY_PAGE_MAX, &limit);
        f->limit = (int)limit;
        f->device = device;
        f->code = code;
        if (!jv_ok(&v)) {
                free(device);
                free(code);
                f->device = f->code = NULL;
                jv_render(&v, c->res);
                return -EINVAL;
        }
        /* kind_ok accepted it: point at the constant, not the copy. */
        f->kind = !kind ? NULL : strcmp(kind, "operation") == 0 ? "operation"
                               : strcmp(kind, "saving") == 0   ? "saving" : "error";
        return 0;
}

static void history_filter_free(struct store_history_filter *f)
{
        free((char *)f->device);
        free((char *)f->code);
}

void api_home_history(struct api_ctx *c)
{
        struct history_acc acc = { 0 };
        struct store_history_filter f;
        struct store_home home;
        int n;

        if (api_home_access(c, false, true, &home) < 0)
                return;
        if (history_filter_read(c, &f) < 0)
                return;
        acc.items = json_array();
        n = store_history_list(c->app->st, home.id, &f, history_cb, &acc);
        history_filter_free(&f);
        if (n == -ENOENT) {
                struct jv v;

                json_decref(acc.items);
                jv_init(&v);
                jv_error(&v, NULL, "after", "invalid", "after must be an event of this home.");
                jv_render(&v, c->res);
                return;
        }
        if (n < 0) {
                json_decref(acc.items);
                api_store_error(c, n, "history");
                return;
        }
        api_json(c, 200, json_pack("{s:o, s:o}", "items", acc.items, "next_after",
                                   n == f.limit ? json_integer(acc.last) : json_null()));
}

/* ---- the operator's error statistics -------------------------------------------------------- */

static void errstats_cb(const struct store_error_stat *s, void *ud)
{
        json_t *items = ud;
        json_t *o = json_pack("{s:s, s:o, s:s, s:I, s:I, s:o, s:o}", "model", s->model,
                              "firmware", s->firmware[0] ? json_string(s->firmware) : json_null(),
                              "code", s->code, "count", (json_int_t)s->count, "gateways",
                              (json_int_t)s->gateways, "first_at", api_time(s->first_at),
                              "last_at", api_time(s->last_at));

        json_array_append_new(items, o);
}

void api_gateway_errors_stats(struct api_ctx *c)
{
        struct store_error_filter f = { .from = INT64_MIN, .to = INT64_MAX };
        _cleanup_free_ char *model = NULL, *firmware = NULL;
        int64_t limit = ERRSTATS_DEFAULT;
        json_t *items;
        bool truncated = false;
        struct jv v;
        int n;

        jv_init(&v);
        query_str(&v, c, "model", HOMEDATA_MODEL_MAX, &model);
        query_str(&v, c, "firmware", HOMEDATA_FIRMWARE_MAX, &firmware);
        query_time(&v, c, "from", &f.from);
        query_time(&v, c, "to", &f.to);
        query_range_check(&v, f.from, f.to);
        query_int(&v, c, "limit", 1, HOMEDATA_ERRSTATS_MAX, &limit);
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                return;
        }
        f.model = model;
        f.firmware = firmware;
        f.limit = (int)limit + 1;       /* one more: was the list cut? */
        items = json_array();
        n = store_error_stats(c->app->st, &f, errstats_cb, items);
        if (n < 0) {
                json_decref(items);
                api_store_error(c, n, "error statistics");
                return;
        }
        if (n > limit) {
                json_array_remove(items, (size_t)limit);
                truncated = true;
        }
        api_json(c, 200, json_pack("{s:o, s:b}", "items", items, "truncated", truncated));
}
