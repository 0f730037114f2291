/*
 * content.c - electronic manuals (HE-12) and information distribution
 * (HE-15) over HTTP: the operator's manual uploads, the household's list
 * and download of the manuals of its connected models; contracted
 * distributors with API keys, their sends checked against their contract,
 * the delivery record, what gateways and members receive, and the
 * member's opt-out of distributed content.
 *
 * A distributor's API key ("edk_" + 43 base64url characters) is shown once
 * at creation and stored only as its BLAKE2b hash, like a gateway secret.
 * Distributor routes are API_PUBLIC and authenticate the key here, so a
 * member's session token is never taken for a distributor (and the
 * distributor's key never opens a member route: it is no session).
 *
 * A distributor never learns who received its content: the server resolves
 * the target and answers only the number of recipients. The deliveries
 * (who sent what to whom, when) are kept for the operator.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/api_content.h"
#include "api/api_energy.h"
#include "api/validate.h"
#include "domain/ingest.h"
#include "store/store_content.h"
#include "store/store_homedata.h"
#include "util/crypto.h"
#include "util/timeutil.h"

#define KEY_PREFIX "edk_"
#define KEY_REALM "Bearer realm=\"enemane-distributor\""
#define HOME_MODELS_MAX 64              /* connected models considered per home */
#define LIST_DEFAULT 100
#define FEED_DEFAULT 50
#define FEED_MAX 100
#define BODY_MAX 8000                   /* bytes of a distributed content's text */
#define LINK_MAX 2000
#define PREFECTURE_MAX 40               /* bytes, as the household's (HE-10) */
#define MODELS_LIST_MAX 100
#define PREFECTURES_LIST_MAX 47

#define CT_PDF "application/pdf"
#define CT_HTML "text/html; charset=utf-8"

/* ---- small checks --------------------------------------------------------- */

/* UTF-8 text of 1..max bytes without control characters (newlines and
 * tabs allowed when multiline). */
static bool text_ok(const char *s, size_t len, size_t max, bool multiline)
{
        size_t i = 0;

        if (len == 0 || len > max)
                return false;
        while (i < len) {
                unsigned char ch = (unsigned char)s[i];
                size_t k = ingest_utf8_char(s + i, len - i);

                if (k == 0)
                        return false;
                if (k == 1 && (ch < 0x20 || ch == 0x7f) &&
                    !(multiline && (ch == '\n' || ch == '\r' || ch == '\t')))
                        return false;
                i += k;
        }
        return true;
}

/* Whole file as UTF-8 without NUL bytes. */
static bool utf8_file_ok(const char *s, size_t len)
{
        size_t i = 0;

        while (i < len) {
                size_t k = ingest_utf8_char(s + i, len - i);

                if (k == 0 || s[i] == '\0')
                        return false;
                i += k;
        }
        return true;
}

/* A BCP 47 language tag in its common form: 2-3 letters, then -subtags
 * of 1-8 letters or digits ("ja", "en-US", "zh-Hant-TW"). */
static bool language_ok(const char *s)
{
        size_t n = strlen(s), i = 0, run = 0;

        if (n < 2 || n > CONTENT_LANG_MAX)
                return false;
        while (i < n && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
                i++;
        if (i < 2 || i > 3)
                return false;
        for (; i < n; i++) {
                bool alnum = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                             (s[i] >= '0' && s[i] <= '9');

                if (s[i] == '-' && run == 0 && i > 0 && s[i - 1] != '-')
                        continue;
                if (!alnum)
                        return false;
                run = (i + 1 < n && s[i + 1] == '-') ? 0 : run + 1;
                if (run > 8)
                        return false;
        }
        return s[n - 1] != '-';
}

/* An absolute http(s) URL without spaces or control characters. */
static bool link_ok(const char *s)
{
        size_t n = strlen(s);

        if (n > LINK_MAX || (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0))
                return false;
        if (n <= (s[4] == 's' ? 8u : 7u))
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
                        return false;
        return text_ok(s, n, LINK_MAX, false);
}

static bool json_list_has(json_t *arr, const char *s)
{
        json_t *it;
        size_t i;

        json_array_foreach(arr, i, it)
                if (json_is_string(it) && strcmp(json_string_value(it), s) == 0)
                        return true;
        return false;
}

/* An optional array of 1..max_items distinct strings of 1..max_bytes
 * (UTF-8 text): the array (borrowed) or NULL (absent or wrong). */
static json_t *string_list(struct jv *v, json_t *obj, const char *prefix, const char *key,
                           size_t max_items, size_t max_bytes)
{
        json_t *arr = jv_array(v, obj, prefix, key, false, max_items), *it;
        char field[64];
        size_t i;
        int before = v->errors;

        if (!arr)
                return NULL;
        snprintf(field, sizeof(field), "%s%s%s", prefix ? prefix : "", prefix ? "." : "", key);
        if (json_array_size(arr) == 0)
                jv_error(v, prefix, key, "required", "List at least one, or leave it out.");
        json_array_foreach(arr, i, it) {
                char idx[24];
                const char *s = json_string_value(it);

                snprintf(idx, sizeof(idx), "%zu", i);
                if (!s || !text_ok(s, json_string_length(it), max_bytes, false))
                        jv_error(v, field, idx, "invalid",
                                 "Must be a string of 1 to %zu bytes of text.", max_bytes);
                for (size_t k = 0; s && k < i; k++)
                        if (json_is_string(json_array_get(arr, k)) &&
                            strcmp(json_string_value(json_array_get(arr, k)), s) == 0)
                                jv_error(v, field, idx, "duplicate", "Listed twice.");
        }
        return v->errors == before ? arr : NULL;
}

/* ---- manuals: the operator ------------------------------------------------- */

static json_t *manual_json(const struct store_manual *m, int64_t home_id)
{
        json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:I, s:s, s:o}",
                              "id", (json_int_t)m->id, "model", m->model, "title", m->title,
                              "language", m->language, "content_type", m->content_type,
                              "size", (json_int_t)m->size, "sha256", m->sha256,
                              "created_at", api_time(m->created_at));
        char url[96];

        if (o && home_id) {
                snprintf(url, sizeof(url), "/api/v1/homes/%lld/manuals/%lld",
                         (long long)home_id, (long long)m->id);
                json_object_set_new(o, "url", json_string(url));
        }
        return o;
}

/* The kind of the upload from its Content-Type: "application/pdf",
 * "text/html" (utf-8 or no charset) or NULL. */
static const char *upload_kind(const char *ct)
{
        const char *p;

        if (!ct)
                return NULL;
        if (strncasecmp(ct, "application/pdf", 15) == 0 && (ct[15] == '\0' || ct[15] == ';'))
                return "application/pdf";
        if (strncasecmp(ct, "text/html", 9) != 0 || (ct[9] != '\0' && ct[9] != ';'))
                return NULL;
        p = strcasestr(ct, "charset=");
        if (p && strncasecmp(p + 8, "utf-8", 5) != 0 && strncasecmp(p + 8, "\"utf-8\"", 7) != 0)
                return NULL;
        return "text/html";
}

/* Reads model, title and language from the query into m; records errors. */
static void upload_meta(struct api_ctx *c, struct jv *v, struct store_manual *m)
{
        static const char *const keys[] = { "model", "title", "language" };
        const size_t max[] = { CONTENT_MODEL_MAX, CONTENT_TITLE_MAX, CONTENT_LANG_MAX };
        char *dst[] = { m->model, m->title, m->language };

        for (size_t i = 0; i < 3; i++) {
                char *val = NULL;
                int r = http_query_get(c->req->query, keys[i], &val);

                if (r <= 0 || !text_ok(val, strlen(val), max[i], false) ||
                    (i == 2 && !language_ok(val)))
                        jv_error(v, NULL, keys[i], r == 0 ? "required" : "invalid",
                                 "%s: 1 to %zu bytes of text in the query string%s.", keys[i],
                                 max[i], i == 2 ? ", a language tag such as ja or en-US" : "");
                else
                        snprintf(dst[i], max[i] + 1, "%s", val);
                free(val);
        }
}

/* Checks the file against its kind; records errors. */
static void upload_file_check(struct api_ctx *c, struct jv *v, const char *kind)
{
        const char *b = c->req->body;
        size_t n = c->req->body_len;

        if (!b || n == 0) {
                jv_error(v, NULL, "body", "required", "Send the manual's file as the body.");
                return;
        }
        if (strcmp(kind, "application/pdf") == 0 && (n < 5 || memcmp(b, "%PDF-", 5) != 0))
                jv_error(v, NULL, "body", "not_a_pdf", "The body is not a PDF file (%%PDF-).");
        if (strcmp(kind, "text/html") == 0 && !utf8_file_ok(b, n))
                jv_error(v, NULL, "body", "invalid_utf8",
                         "An HTML manual must be UTF-8 (it is served as utf-8).");
}

void api_manuals_upload(struct api_ctx *c)
{
        struct store_manual m, out;
        const char *kind = upload_kind(c->req->content_type);
        struct jv v;
        int r;

        if (!kind) {
                problem_respond(c->res, 415, "unsupported_media_type",
                                "Send a manual as application/pdf or text/html (UTF-8).");
                return;
        }
        if ((int64_t)c->req->body_len > c->app->cfg->files_max_bytes) {
                problem_respond(c->res, 413, "file_too_large",
                                "A manual may have at most %lld bytes.",
                                (long long)c->app->cfg->files_max_bytes);
                return;
        }
        memset(&m, 0, sizeof(m));
        jv_init(&v);
        upload_meta(c, &v, &m);
        upload_file_check(c, &v, kind);
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                return;
        }
        snprintf(m.content_type, sizeof(m.content_type), "%s", kind);
        m.created_by = c->member_id;
        r = store_manual_add(c->app->st, &m, c->req->body, c->req->body_len, c->now, &out);
        if (r < 0) {
                api_store_error(c, r, "manual");
                return;
        }
        /* The same file again for the same model and language: the one stored. */
        api_json(c, r == 1 ? 200 : 201, manual_json(&out, 0));
}

struct list_acc {
        json_t *items;
        int64_t last;
        int64_t home_id;
};

static void manual_cb(const struct store_manual *m, void *ud)
{
        struct list_acc *a = ud;

        json_array_append_new(a->items, manual_json(m, a->home_id));
        a->last = m->id;
}

void api_manuals_list(struct api_ctx *c)
{
        struct list_acc a = { json_array(), 0, 0 };
        int64_t after = 0, limit = LIST_DEFAULT;
        char *model = NULL;
        int n;

        if (api_query_int(c, "after", 0, INT64_MAX, &after) < 0 ||
            api_query_int(c, "limit", 1, CONTENT_PAGE_MAX, &limit) < 0)
                goto out;
        if (http_query_get(c->req->query, "model", &model) < 0) {
                problem_respond(c->res, 400, "bad_query", "The query string is malformed.");
                goto out;
        }
        n = store_manual_list(c->app->st, model, after, (int)limit, manual_cb, &a);
        if (n < 0) {
                api_store_error(c, n, "manuals");
                goto out;
        }
        api_json(c, 200, json_pack("{s:O, s:o}", "items", a.items, "next_after",
                                   n == limit ? json_integer(a.last) : json_null()));
out:
        json_decref(a.items);
        free(model);
}

void api_manual_delete(struct api_ctx *c)
{
        int64_t id = api_param_id(c, "id");
        int r;

        if (!id)
                return;
        r = store_manual_delete(c->app->st, id);
        if (r < 0) {
                api_store_error(c, r, "manual");
                return;
        }
        http_response_set(c->res, 204, NULL, NULL, 0);
}

/* ---- manuals: the household ------------------------------------------------- */

/* The device models connected to a home's gateway (HE-12): the gateway's
 * own model and the "model" of each object of the newest settings
 * document's "devices" (HE-8), distinct, sorted. */
struct home_models {
        const char *v[HOME_MODELS_MAX];
        size_t n;
        struct store_settings_version sv;
        json_t *doc;
};

static void models_add(struct home_models *m, const char *s)
{
        size_t len = s ? strlen(s) : 0;

        if (len == 0 || len > CONTENT_MODEL_MAX || m->n >= HOME_MODELS_MAX)
                return;
        for (size_t i = 0; i < m->n; i++)
                if (strcmp(m->v[i], s) == 0)
                        return;
        m->v[m->n++] = s;
}

static int models_cmp(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int home_models_load(struct api_ctx *c, const struct store_home *home,
                            struct home_models *m)
{
        json_t *it;
        size_t i;
        int r;

        memset(m, 0, sizeof(*m));
        models_add(m, home->model);
        r = store_settings_get(c->app->st, home->id, 0, &m->sv);
        if (r == -ENOENT)
                r = 0;
        else if (r == 0 && m->sv.doc)
                m->doc = json_loads(m->sv.doc, 0, NULL);
        json_array_foreach(json_object_get(m->doc, "devices"), i, it)
                models_add(m, json_string_value(json_object_get(it, "model")));
        qsort(m->v, m->n, sizeof(m->v[0]), models_cmp);
        return r;
}

static void home_models_free(struct home_models *m)
{
        json_decref(m->doc);
        store_settings_version_free(&m->sv);
}

static bool models_have(const struct home_models *m, const char *model)
{
        return bsearch(&model, m->v, m->n, sizeof(m->v[0]), models_cmp) != NULL;
}

/* Member access to an active home and its connected models; renders the
 * problem and returns <0 otherwise. */
static int home_manuals_access(struct api_ctx *c, struct store_home *home,
                               struct home_models *m)
{
        int r;

        if (api_home_access(c, false, false, home) < 0)
                return -ENOENT;
        if (strcmp(home->state, "active") != 0) {
                problem_respond(c->res, 409, "home_ended",
                                "This home was deregistered: manuals are for the household of "
                                "a registered gateway (HE-12).");
                return -ESTALE;
        }
        r = home_models_load(c, home, m);
        if (r < 0) {
                home_models_free(m);
                api_store_error(c, r, "settings");
        }
        return r;
}

void api_home_manuals(struct api_ctx *c)
{
        struct store_home home;
        struct home_models m;
        struct list_acc a;
        json_t *models;
        int n;

        if (home_manuals_access(c, &home, &m) < 0)
                return;
        a = (struct list_acc){ json_array(), 0, home.id };
        n = store_manuals_of_models(c->app->st, m.v, m.n, CONTENT_PAGE_MAX, manual_cb, &a);
        if (n < 0) {
                json_decref(a.items);
                home_models_free(&m);
                api_store_error(c, n, "manuals");
                return;
        }
        models = json_array();
        for (size_t i = 0; i < m.n; i++)
                json_array_append_new(models, json_string(m.v[i]));
        home_models_free(&m);
        api_json(c, 200, json_pack("{s:o, s:o}", "models", models, "items", a.items));
}

struct file_out {
        struct api_ctx *c;
        const char *ctype;
};

static int file_send(const void *data, size_t len, void *ud)
{
        struct file_out *f = ud;

        return http_response_set(f->c->res, 200, f->ctype, data, len);
}

static void file_headers(struct api_ctx *c, const struct store_manual *mn)
{
        char etag[CONTENT_SHA256_HEX + 2], disp[64];
        bool pdf = strcmp(mn->content_type, "application/pdf") == 0;

        snprintf(etag, sizeof(etag), "\"%s\"", mn->sha256);
        snprintf(disp, sizeof(disp), "inline; filename=\"manual-%lld.%s\"", (long long)mn->id,
                 pdf ? "pdf" : "html");
        http_response_header(c->res, "ETag", etag);
        http_response_header(c->res, "Content-Disposition", disp);
        http_response_header(c->res, "Cache-Control", "private, max-age=3600");
        http_response_header(c->res, "X-Content-Type-Options", "nosniff");
        /* An operator's HTML runs with no script and no origin of ours. */
        http_response_header(c->res, "Content-Security-Policy", "sandbox; default-src 'none'; "
                             "img-src data:; style-src 'unsafe-inline'");
}

void api_home_manual_file(struct api_ctx *c)
{
        struct store_home home;
        struct store_manual mn;
        struct home_models m;
        struct file_out f = { c, NULL };
        int64_t id;
        int r;

        if (home_manuals_access(c, &home, &m) < 0)
                return;
        id = api_param_id(c, "manual_id");
        r = id ? store_manual_get(c->app->st, id, &mn) : -ENOENT;
        if (r == 0 && !models_have(&m, mn.model))
                r = -ENOENT;    /* not a manual of this household's models */
        home_models_free(&m);
        if (!id)
                return;
        if (r < 0) {
                if (r == -ENOENT)
                        problem_respond(c->res, 404, "not_found",
                                        "No manual of a model connected to this home has "
                                        "this id.");
                else
                        api_store_error(c, r, "manual");
                return;
        }
        f.ctype = strcmp(mn.content_type, "application/pdf") == 0 ? CT_PDF : CT_HTML;
        r = store_manual_file(c->app->st, id, file_send, &f);
        if (r < 0) {
                api_store_error(c, r == -ENOMEM ? -EIO : r, "manual");
                return;
        }
        file_headers(c, &mn);
}

/* ---- distributors: contract ------------------------------------------------- */

enum {
        KIND_ALL_GATEWAYS = 1 << 0,
        KIND_MODELS = 1 << 1,
        KIND_PREFECTURES = 1 << 2,
        KIND_MEMBERS = 1 << 3,
};

static const char *const kind_names[] = { "all_gateways", "models", "prefectures", "members",
                                          NULL };

static unsigned kind_bit(const char *s)
{
        for (unsigned i = 0; s && kind_names[i]; i++)
                if (strcmp(s, kind_names[i]) == 0)
                        return 1u << i;
        return 0;
}

static unsigned contract_kinds(json_t *contract)
{
        json_t *it;
        unsigned k = 0;
        size_t i;

        json_array_foreach(json_object_get(contract, "kinds"), i, it)
                k |= kind_bit(json_string_value(it));
        return k;
}

/* Checks the contract of a new distributor; records errors. */
static void contract_check(struct jv *v, json_t *contract)
{
        static const char *const allowed[] = { "kinds", "models", "prefectures", NULL };
        json_t *kinds, *it;
        unsigned seen = 0;
        size_t i;

        jv_unknown(v, contract, "contract", allowed);
        kinds = jv_array(v, contract, "contract", "kinds", true, 4);
        if (kinds && json_array_size(kinds) == 0)
                jv_error(v, "contract", "kinds", "required", "Allow at least one target kind.");
        json_array_foreach(kinds, i, it) {
                unsigned b = kind_bit(json_string_value(it));
                char idx[24];

                snprintf(idx, sizeof(idx), "%zu", i);
                if (!b || (seen & b))
                        jv_error(v, "contract.kinds", idx, b ? "duplicate" : "invalid",
                                 "Kinds are all_gateways, models, prefectures and members, "
                                 "each once.");
                seen |= b;
        }
        if (string_list(v, contract, "contract", "models", MODELS_LIST_MAX,
                        CONTENT_MODEL_MAX) && !(seen & KIND_MODELS))
                jv_error(v, "contract", "models", "kind_missing",
                         "A list of models needs the kind models.");
        if (string_list(v, contract, "contract", "prefectures", PREFECTURES_LIST_MAX,
                        PREFECTURE_MAX) && !(seen & KIND_PREFECTURES))
                jv_error(v, "contract", "prefectures", "kind_missing",
                         "A list of prefectures needs the kind prefectures.");
}

/* Whether every string of want is in have. The first missing one in *miss. */
static bool list_within(json_t *want, json_t *have, const char **miss)
{
        json_t *it;
        size_t i;

        json_array_foreach(want, i, it) {
                if (!json_list_has(have, json_string_value(it))) {
                        *miss = json_string_value(it);
                        return false;
                }
        }
        return true;
}

/*
 * HE-15: is the target inside the contract? Each narrowing the target uses
 * needs its kind (models, prefectures), within the contract's lists when it
 * has them; a contract with a list admits only targets narrowed to it;
 * members need the members kind; gateways without narrowing need
 * all_gateways. Renders 403 target_not_allowed and returns false if not.
 */
static bool target_allowed(struct api_ctx *c, json_t *contract, bool members, json_t *models,
                           json_t *prefs)
{
        static const char *const names[] = { "models", "prefectures" };
        const unsigned bits[] = { KIND_MODELS, KIND_PREFECTURES };
        json_t *lists[] = { models, prefs };
        unsigned kinds = contract_kinds(contract);
        const char *miss = NULL;

        if (members && !(kinds & KIND_MEMBERS))
                goto refuse_members;
        if (!members && !models && !prefs && !(kinds & KIND_ALL_GATEWAYS))
                goto refuse_all;
        for (size_t i = 0; i < 2; i++) {
                json_t *have = json_object_get(contract, names[i]);

                if (lists[i] && !(kinds & bits[i])) {
                        problem_respond(c->res, 403, "target_not_allowed",
                                        "Your contract does not allow targeting by %s.",
                                        names[i]);
                        return false;
                }
                if (have && !lists[i]) {
                        problem_respond(c->res, 403, "target_not_allowed",
                                        "Your contract is limited to listed %s: name them "
                                        "in target.%s.", names[i], names[i]);
                        return false;
                }
                if (have && !list_within(lists[i], have, &miss)) {
                        problem_respond(c->res, 403, "target_not_allowed",
                                        "'%s' is not among the %s of your contract.", miss,
                                        names[i]);
                        return false;
                }
        }
        return true;
refuse_members:
        problem_respond(c->res, 403, "target_not_allowed",
                        "Your contract does not allow sending to members.");
        return false;
refuse_all:
        problem_respond(c->res, 403, "target_not_allowed",
                        "Your contract does not allow sending to all gateways: narrow the "
                        "target by models or prefectures.");
        return false;
}

/* ---- distributors: the operator ---------------------------------------------- */

static const char *distributor_state(const struct store_distributor *d, int64_t now)
{
        if (d->revoked_at)
                return "revoked";
        return d->expires_at <= now ? "expired" : "active";
}

static json_t *distributor_json(const struct store_distributor *d, int64_t now)
{
        json_t *contract = json_loads(d->contract ? d->contract : "{}", 0, NULL);
        char hint[16];

        snprintf(hint, sizeof(hint), KEY_PREFIX "...%s", d->key_tail);
        return json_pack("{s:I, s:s, s:s, s:o, s:s, s:o, s:o, s:o}",
                         "id", (json_int_t)d->id, "name", d->name, "key_hint", hint,
                         "contract", contract ? contract : json_object(),
                         "state", distributor_state(d, now),
                         "expires_at", api_time(d->expires_at),
                         "revoked_at", api_time(d->revoked_at),
                         "created_at", api_time(d->created_at));
}

/* Reads and checks a new distributor; *contract (new reference) and
 * *expires on success. Renders 422 and returns <0 otherwise. */
static int distributor_read(struct api_ctx *c, json_t *body, const char **name,
                            json_t **contract, int64_t *expires)
{
        static const char *const allowed[] = { "name", "contract", "expires_at", NULL };
        const char *exp;
        struct jv v;

        jv_init(&v);
        jv_unknown(&v, body, NULL, allowed);
        *name = jv_str(&v, body, NULL, "name", true, CONTENT_NAME_MAX);
        if (*name && !text_ok(*name, strlen(*name), CONTENT_NAME_MAX, false))
                jv_error(&v, NULL, "name", "invalid", "name must be text without control "
                         "characters.");
        *contract = jv_object(&v, body, NULL, "contract", true);
        if (*contract)
                contract_check(&v, *contract);
        exp = jv_str(&v, body, NULL, "expires_at", true, TIME_RFC3339_MAX);
        if (exp && time_parse_rfc3339(exp, expires) < 0)
                jv_error(&v, NULL, "expires_at", "invalid", "An RFC 3339 time with an offset.");
        else if (exp && *expires <= c->now)
                jv_error(&v, NULL, "expires_at", "not_future", "The contract must end later.");
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                return -EINVAL;
        }
        json_incref(*contract);
        return 0;
}

void api_distributors_create(struct api_ctx *c)
{
        char key[CRYPTO_TOKEN_MAX], hash[CRYPTO_HASH_HEX];
        struct store_distributor d;
        json_t *body = NULL, *contract = NULL, *out;
        const char *name = NULL;
        char *text = NULL;
        int64_t expires = 0, id = 0;
        int r;

        if (api_body_object(c->req, c->res, &body) < 0)
                return;
        if (distributor_read(c, body, &name, &contract, &expires) < 0) {
                json_decref(body);
                return;
        }
        text = json_dumps(contract, JSON_COMPACT);
        crypto_token_new(KEY_PREFIX, key);
        crypto_token_hash(key, hash);
        r = text ? store_distributor_create(c->app->st, name, hash, key + strlen(key) - 4, text,
                                            expires, c->member_id, c->now, &id) : -ENOMEM;
        free(text);
        json_decref(contract);
        json_decref(body);
        if (r == 0)
                r = store_distributor_get(c->app->st, id, &d);
        if (r < 0) {
                sodium_memzero(key, sizeof(key));
                api_store_error(c, r, "distributor");
                return;
        }
        out = distributor_json(&d, c->now);
        store_distributor_free(&d);
        json_object_set_new(out, "api_key", json_string(key));
        sodium_memzero(key, sizeof(key));
        api_json(c, 201, out);
        http_response_header(c->res, "Cache-Control", "no-store");
}

struct dist_acc {
        json_t *items;
        int64_t last, now;
};

static void distributor_cb(const struct store_distributor *d, void *ud)
{
        struct dist_acc *a = ud;

        json_array_append_new(a->items, distributor_json(d, a->now));
        a->last = d->id;
}

void api_distributors_list(struct api_ctx *c)
{
        struct dist_acc a = { NULL, 0, c->now };
        int64_t after = 0, limit = LIST_DEFAULT;
        int n;

        if (api_query_int(c, "after", 0, INT64_MAX, &after) < 0 ||
            api_query_int(c, "limit", 1, CONTENT_PAGE_MAX, &limit) < 0)
                return;
        a.items = json_array();
        n = store_distributor_list(c->app->st, after, (int)limit, distributor_cb, &a);
        if (n < 0) {
                json_decref(a.items);
                api_store_error(c, n, "distributors");
                return;
        }
        api_json(c, 200, json_pack("{s:o, s:o}", "items", a.items, "next_after",
                                   n == limit ? json_integer(a.last) : json_null()));
}

void api_distributor_revoke(struct api_ctx *c)
{
        struct store_distributor d;
        int64_t id = api_param_id(c, "id");
        int r;

        if (!id)
                return;
        r = store_distributor_revoke(c->app->st, id, c->now);
        if (r == -EALREADY) {
                problem_respond(c->res, 409, "already_revoked",
                                "This distributor was revoked already.");
                return;
        }
        if (r == 0)
                r = store_distributor_get(c->app->st, id, &d);
        if (r < 0) {
                api_store_error(c, r, "distributor");
                return;
        }
        api_json(c, 200, distributor_json(&d, c->now));
        store_distributor_free(&d);
}

static json_t *delivery_record_json(const struct store_delivery *d)
{
        json_t *to = d->member_id ?
                json_pack("{s:s, s:I}", "kind", "member", "member_id", (json_int_t)d->member_id) :
                json_pack("{s:s, s:I, s:I}", "kind", "gateway", "gateway_id",
                          (json_int_t)d->gateway_id, "home_id", (json_int_t)d->home_id);

        return json_pack("{s:I, s:o, s:{s:I, s:s}, s:{s:I, s:s}, s:o}",
                         "id", (json_int_t)d->id, "delivered_at", api_time(d->delivered_at),
                         "distributor", "id", (json_int_t)d->distributor_id,
                         "name", d->distributor_name,
                         "content", "id", (json_int_t)d->content_id, "title", d->title,
                         "recipient", to);
}

static void delivery_record_cb(const struct store_delivery *d, void *ud)
{
        struct list_acc *a = ud;

        json_array_append_new(a->items, delivery_record_json(d));
        a->last = d->id;
}

void api_deliveries_list(struct api_ctx *c)
{
        struct store_delivery_filter f = { 0 };
        struct list_acc a = { NULL, 0, 0 };
        int64_t limit = LIST_DEFAULT;
        int n;

        if (api_query_int(c, "distributor_id", 1, INT64_MAX, &f.distributor_id) < 0 ||
            api_query_int(c, "content_id", 1, INT64_MAX, &f.content_id) < 0 ||
            api_query_int(c, "after", 0, INT64_MAX, &f.after) < 0 ||
            api_query_int(c, "limit", 1, CONTENT_PAGE_MAX, &limit) < 0)
                return;
        f.limit = (int)limit;
        a.items = json_array();
        n = store_deliveries_list(c->app->st, &f, delivery_record_cb, &a);
        if (n < 0) {
                json_decref(a.items);
                api_store_error(c, n, "deliveries");
                return;
        }
        api_json(c, 200, json_pack("{s:o, s:o}", "items", a.items, "next_after",
                                   n == limit ? json_integer(a.last) : json_null()));
}

/* ---- the distributor's calls --------------------------------------------------- */

static void distributor_refuse(struct api_ctx *c, const char *code, const char *detail)
{
        problem_respond(c->res, 401, code, "%s", detail);
        http_response_header(c->res, "WWW-Authenticate", KEY_REALM);
}

/* Authenticates "Authorization: Bearer edk_..." into *d (caller frees).
 * 401 distributor_auth_failed (missing, not a distributor key, unknown),
 * distributor_revoked or contract_expired; <0 with the problem rendered. */
static int distributor_auth(struct api_ctx *c, struct store_distributor *d)
{
        const char *auth = c->req->authorization, *key;
        char hash[CRYPTO_HASH_HEX];
        int r;

        memset(d, 0, sizeof(*d));
        key = auth && strncasecmp(auth, "Bearer ", 7) == 0 ? auth + 7 : NULL;
        while (key && *key == ' ')
                key++;
        if (!key || strncmp(key, KEY_PREFIX, strlen(KEY_PREFIX)) != 0 ||
            strlen(key) >= CRYPTO_TOKEN_MAX) {
                distributor_refuse(c, "distributor_auth_failed",
                                   "Distributor calls need 'Authorization: Bearer edk_...' "
                                   "with the API key of a contracted distributor; a member's "
                                   "session is not one.");
                return -EACCES;
        }
        crypto_token_hash(key, hash);
        r = store_distributor_by_key(c->app->st, hash, d);
        if (r == -ENOENT) {
                distributor_refuse(c, "distributor_auth_failed", "This API key is unknown.");
                return -EACCES;
        }
        if (r < 0) {
                api_store_error(c, r, "distributor");
                return r;
        }
        if (d->revoked_at || d->expires_at <= c->now) {
                distributor_refuse(c, d->revoked_at ? "distributor_revoked" : "contract_expired",
                                   d->revoked_at ? "This distributor was revoked." :
                                                   "This distributor's contract has expired.");
                store_distributor_free(d);
                return -EACCES;
        }
        return 0;
}

struct send_req {
        const char *title, *body, *link;
        json_t *target;
        bool members;
        json_t *models, *prefs;
};

static void target_read(struct jv *v, json_t *body, struct send_req *s)
{
        static const char *const allowed[] = { "audience", "models", "prefectures", NULL };
        const char *aud;

        s->target = jv_object(v, body, NULL, "target", true);
        if (!s->target)
                return;
        jv_unknown(v, s->target, "target", allowed);
        aud = jv_str(v, s->target, "target", "audience", true, 16);
        if (aud && strcmp(aud, "gateways") != 0 && strcmp(aud, "members") != 0)
                jv_error(v, "target", "audience", "invalid", "gateways or members.");
        s->members = aud && strcmp(aud, "members") == 0;
        s->models = string_list(v, s->target, "target", "models", MODELS_LIST_MAX,
                                CONTENT_MODEL_MAX);
        s->prefs = string_list(v, s->target, "target", "prefectures", PREFECTURES_LIST_MAX,
                               PREFECTURE_MAX);
}

static int send_read(struct api_ctx *c, json_t *body, struct send_req *s)
{
        static const char *const allowed[] = { "title", "body", "link", "target", NULL };
        struct jv v;

        memset(s, 0, sizeof(*s));
        jv_init(&v);
        jv_unknown(&v, body, NULL, allowed);
        s->title = jv_str(&v, body, NULL, "title", true, CONTENT_TITLE_MAX);
        if (s->title && !text_ok(s->title, strlen(s->title), CONTENT_TITLE_MAX, false))
                jv_error(&v, NULL, "title", "invalid", "Text without control characters.");
        s->body = jv_str(&v, body, NULL, "body", true, BODY_MAX);
        if (s->body && !text_ok(s->body, strlen(s->body), BODY_MAX, true))
                jv_error(&v, NULL, "body", "invalid", "Text without control characters "
                         "(newlines allowed).");
        s->link = jv_str(&v, body, NULL, "link", false, LINK_MAX);
        if (s->link && !link_ok(s->link))
                jv_error(&v, NULL, "link", "invalid", "An absolute http or https URL.");
        target_read(&v, body, s);
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                return -EINVAL;
        }
        return 0;
}

static void send_failed(struct api_ctx *c, int r, int64_t recipients)
{
        struct problem *p;

        if (r == -E2BIG) {
                p = problem_new(422, "too_many_recipients",
                                "The target reaches more than %lld recipients; narrow it.",
                                (long long)c->app->cfg->distribution_max_targets);
                problem_set_int(p, "max_recipients", c->app->cfg->distribution_max_targets);
                problem_set_int(p, "recipients_at_least", recipients);
                problem_render(p, c->res);
                return;
        }
        if (r == -EKEYREVOKED) {
                distributor_refuse(c, "distributor_revoked",
                                   "This distributor was revoked or its contract expired.");
                return;
        }
        api_store_error(c, r, "content");
}

static int send_store(struct api_ctx *c, const struct store_distributor *d,
                      const struct send_req *s, int64_t *id, int64_t *recipients)
{
        char *target = json_dumps(s->target, JSON_COMPACT);
        char *models = s->models ? json_dumps(s->models, JSON_COMPACT) : NULL;
        char *prefs = s->prefs ? json_dumps(s->prefs, JSON_COMPACT) : NULL;
        struct store_content_new cn = {
                .distributor_id = d->id, .title = s->title, .body = s->body,
                .link = s->link ? s->link : "", .target = target,
                .audience = s->members ? STORE_AUDIENCE_MEMBERS : STORE_AUDIENCE_GATEWAYS,
                .models = models, .prefectures = prefs,
                .max_recipients = c->app->cfg->distribution_max_targets,
        };
        int r = -ENOMEM;

        *recipients = 0;
        if (target && (models || !s->models) && (prefs || !s->prefs))
                r = store_content_send(c->app->st, &cn, c->now, id, recipients);
        free(target);
        free(models);
        free(prefs);
        return r;
}

void api_distribution_send(struct api_ctx *c)
{
        struct store_distributor d;
        struct send_req s;
        json_t *body = NULL, *contract;
        int64_t id = 0, recipients = 0;
        int r;

        if (distributor_auth(c, &d) < 0)
                return;
        if (api_body_object(c->req, c->res, &body) < 0 || send_read(c, body, &s) < 0)
                goto out;
        contract = json_loads(d.contract, 0, NULL);
        r = target_allowed(c, contract, s.members, s.models, s.prefs) ? 0 : -EPERM;
        json_decref(contract);
        if (r == 0)
                r = send_store(c, &d, &s, &id, &recipients);
        if (r == 0)
                api_json(c, 201, json_pack("{s:I, s:s, s:O, s:I, s:o}", "id", (json_int_t)id,
                                           "title", s.title, "target", s.target,
                                           "recipients", (json_int_t)recipients,
                                           "created_at", api_time(c->now)));
        else if (r != -EPERM)
                send_failed(c, r, recipients);
out:
        json_decref(body);
        store_distributor_free(&d);
}

static void sent_cb(const struct store_content *ct, void *ud)
{
        struct list_acc *a = ud;
        json_t *target = json_loads(ct->target, 0, NULL);

        json_array_append_new(a->items, json_pack(
                "{s:I, s:s, s:s, s:o, s:o, s:I, s:o}", "id", (json_int_t)ct->id,
                "title", ct->title, "body", ct->body,
                "link", *ct->link ? json_string(ct->link) : json_null(),
                "target", target ? target : json_object(),
                "recipients", (json_int_t)ct->recipients, "created_at",
                api_time(ct->created_at)));
        a->last = ct->id;
}

void api_distribution_contents(struct api_ctx *c)
{
        struct store_distributor d;
        struct list_acc a = { NULL, 0, 0 };
        int64_t before = 0, limit = FEED_DEFAULT;
        int n;

        if (distributor_auth(c, &d) < 0)
                return;
        if (api_query_int(c, "before", 1, INT64_MAX, &before) < 0 ||
            api_query_int(c, "limit", 1, FEED_MAX, &limit) < 0) {
                store_distributor_free(&d);
                return;
        }
        a.items = json_array();
        n = store_content_list(c->app->st, d.id, before, (int)limit, sent_cb, &a);
        store_distributor_free(&d);
        if (n < 0) {
                json_decref(a.items);
                api_store_error(c, n, "contents");
                return;
        }
        api_json(c, 200, json_pack("{s:o, s:o}", "items", a.items, "next_before",
                                   n == limit ? json_integer(a.last) : json_null()));
}

/* ---- the recipients ------------------------------------------------------------ */

static json_t *delivered_json(const struct store_delivery *d)
{
        return json_pack("{s:I, s:I, s:{s:I, s:s}, s:s, s:s, s:o, s:o}",
                         "id", (json_int_t)d->id, "content_id", (json_int_t)d->content_id,
                         "from", "distributor_id", (json_int_t)d->distributor_id,
                         "name", d->distributor_name, "title", d->title, "body", d->body,
                         "link", *d->link ? json_string(d->link) : json_null(),
                         "delivered_at", api_time(d->delivered_at));
}

static void delivered_cb(const struct store_delivery *d, void *ud)
{
        struct list_acc *a = ud;

        json_array_append_new(a->items, delivered_json(d));
        a->last = d->id;
}

void api_gateway_contents(struct api_ctx *c)
{
        struct store_gateway gw;
        struct store_home home;
        struct list_acc a = { NULL, 0, 0 };
        int64_t cursor = 0, limit = FEED_DEFAULT;
        int n;

        if (api_gateway_home(c, false, &gw, &home) < 0)
                return;
        if (api_query_int(c, "cursor", 0, INT64_MAX, &cursor) < 0 ||
            api_query_int(c, "limit", 1, FEED_MAX, &limit) < 0)
                return;
        a.items = json_array();
        n = store_deliveries_of_gateway(c->app->st, gw.id, home.id, cursor, (int)limit,
                                        delivered_cb, &a);
        if (n < 0) {
                json_decref(a.items);
                api_store_error(c, n, "contents");
                return;
        }
        api_json(c, 200, json_pack("{s:o, s:I, s:b}", "items", a.items, "next_cursor",
                                   (json_int_t)(n > 0 ? a.last : cursor), "more", n == limit));
}

void api_me_contents(struct api_ctx *c)
{
        struct list_acc a = { NULL, 0, 0 };
        int64_t before = 0, limit = FEED_DEFAULT;
        int n;

        if (api_query_int(c, "before", 1, INT64_MAX, &before) < 0 ||
            api_query_int(c, "limit", 1, FEED_MAX, &limit) < 0)
                return;
        a.items = json_array();
        n = store_deliveries_of_member(c->app->st, c->member_id, before, (int)limit,
                                       delivered_cb, &a);
        if (n < 0) {
                json_decref(a.items);
                api_store_error(c, n, "contents");
                return;
        }
        api_json(c, 200, json_pack("{s:o, s:o}", "items", a.items, "next_before",
                                   n == limit ? json_integer(a.last) : json_null()));
}

static void distribution_pref_render(struct api_ctx *c)
{
        bool receive = true;
        int64_t changed_at = 0;
        int r = store_distribution_pref_get(c->app->st, c->member_id, &receive, &changed_at);

        if (r < 0) {
                api_store_error(c, r, "distribution consent");
                return;
        }
        api_json(c, 200, json_pack("{s:s, s:b, s:o}", "purpose", "information_distribution",
                                   "receive", receive, "changed_at", api_time(changed_at)));
}

void api_me_distribution_get(struct api_ctx *c)
{
        distribution_pref_render(c);
}

void api_me_distribution_put(struct api_ctx *c)
{
        static const char *const allowed[] = { "receive", NULL };
        json_t *body = NULL;
        struct jv v;
        bool receive;
        int r;

        if (api_body_object(c->req, c->res, &body) < 0)
                return;
        jv_init(&v);
        jv_unknown(&v, body, NULL, allowed);
        receive = jv_bool(&v, body, NULL, "receive", true, true);
        json_decref(body);
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                return;
        }
        r = store_distribution_pref_set(c->app->st, c->member_id, receive, &c->actor, c->now);
        if (r < 0) {
                api_store_error(c, r, "distribution consent");
                return;
        }
        distribution_pref_render(c);
}
