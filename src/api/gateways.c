/*
 * gateways.c - gateways (HE-1, HE-2, HE-4): operator provisioning (single
 * and bulk CSV), gateway authentication by device code and secret, the
 * gateway's registration, deregistration and pairing code, and the masked
 * display of device codes.
 *
 * A device code and a secret are credentials (HE-1): they are shown once at
 * provisioning, stored only as BLAKE2b hashes, never logged (the access log
 * writes paths without query strings, so /write?u=&p= leaks nothing) and
 * displayed masked ("GW-****-****-1A2B").
 */
#include <ctype.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/api_energy.h"
#include "api/validate.h"
#include "store/store_document.h"
#include "util/crypto.h"
#include "util/log.h"

#define CODE_ALPHABET "0123456789ABCDEFGHJKMNPQRSTVWXYZ"     /* Crockford base32 */
#define SECRET_PREFIX "gws_"
#define PAIRING_DIGITS 8

void api_gateway_mask(const char *tail, char out[24])
{
        snprintf(out, 24, "GW-****-****-%.4s", tail);
}

/* A device code as typed: 8..32 of [A-Za-z0-9-], upper-cased into out. */
static int code_normalise(const char *in, char out[GW_CODE_MAX + 1])
{
        size_t n = in ? strlen(in) : 0;

        if (n < 8 || n > GW_CODE_MAX)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                unsigned char ch = (unsigned char)in[i];

                if (!isalnum(ch) && ch != '-')
                        return -EINVAL;
                out[i] = (char)toupper(ch);
        }
        out[n] = '\0';
        return 0;
}

/* "GW-XXXX-XXXX-XXXX" from 12 random Crockford base32 characters. */
static void code_generate(char out[GW_CODE_MAX + 1])
{
        size_t k = 3;

        memcpy(out, "GW-", 3);
        for (int i = 0; i < 12; i++) {
                if (i > 0 && i % 4 == 0)
                        out[k++] = '-';
                out[k++] = CODE_ALPHABET[randombytes_uniform(32)];
        }
        out[k] = '\0';
}

/* Fills the stored form of a new gateway; code and secret get the clear
 * values to show once. */
static void gateway_new(const char *code_in, const char *model, const char *firmware,
                        struct store_gateway_new *g, char code[GW_CODE_MAX + 1],
                        char secret[CRYPTO_TOKEN_MAX])
{
        size_t n;

        memset(g, 0, sizeof(*g));
        if (code_in && *code_in)
                (void)code_normalise(code_in, code);
        else
                code_generate(code);
        crypto_token_new(SECRET_PREFIX, secret);
        crypto_token_hash(code, g->code_hash);
        crypto_token_hash(secret, g->secret_hash);
        n = strlen(code);
        snprintf(g->code_tail, sizeof(g->code_tail), "%s", code + (n > GW_TAIL ? n - GW_TAIL : 0));
        snprintf(g->model, sizeof(g->model), "%s", model);
        snprintf(g->firmware, sizeof(g->firmware), "%s", firmware ? firmware : "");
}

static json_t *gateway_json(const struct store_gateway *g)
{
        char masked[24];

        api_gateway_mask(g->code_tail, masked);
        return json_pack("{s:I, s:s, s:s, s:s, s:s, s:o, s:o, s:o}",
                         "id", (json_int_t)g->id, "device_code", masked, "model", g->model,
                         "firmware", g->firmware, "state", g->state,
                         "home_id", g->home_id ? json_integer(g->home_id) : json_null(),
                         "registered_at", api_time(g->home_started_at),
                         "created_at", api_time(g->created_at));
}

/* ---- authentication ------------------------------------------------------- */

/* Splits "code:secret" into its parts (copies). */
static int split_credentials(const char *s, size_t len, char code[GW_CODE_MAX + 1],
                             char secret[CRYPTO_TOKEN_MAX])
{
        const char *colon = memchr(s, ':', len);
        size_t cl, sl;
        char raw[GW_CODE_MAX + 1];

        if (!colon)
                return -EINVAL;
        cl = (size_t)(colon - s);
        sl = len - cl - 1;
        if (cl > GW_CODE_MAX || sl == 0 || sl >= CRYPTO_TOKEN_MAX)
                return -EINVAL;
        memcpy(raw, s, cl);
        raw[cl] = '\0';
        memcpy(secret, colon + 1, sl);
        secret[sl] = '\0';
        return code_normalise(raw, code);
}

static int credentials_header(const char *auth, char code[GW_CODE_MAX + 1],
                              char secret[CRYPTO_TOKEN_MAX])
{
        unsigned char bin[GW_CODE_MAX + CRYPTO_TOKEN_MAX + 2];
        size_t bin_len = 0;

        if (strncasecmp(auth, "Token ", 6) == 0)
                return split_credentials(auth + 6, strlen(auth + 6), code, secret);
        if (strncasecmp(auth, "Basic ", 6) != 0)
                return -EINVAL;
        if (sodium_base642bin(bin, sizeof(bin), auth + 6, strlen(auth + 6), NULL, &bin_len,
                              NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
                return -EINVAL;
        return split_credentials((const char *)bin, bin_len, code, secret);
}

static int credentials_query(const char *query, char code[GW_CODE_MAX + 1],
                             char secret[CRYPTO_TOKEN_MAX])
{
        char *u = NULL, *p = NULL;
        int r = -EINVAL;

        if (http_query_get(query, "u", &u) == 1 && http_query_get(query, "p", &p) == 1 &&
            strlen(p) > 0 && strlen(p) < CRYPTO_TOKEN_MAX) {
                r = code_normalise(u, code);
                snprintf(secret, CRYPTO_TOKEN_MAX, "%s", p);
        }
        free(u);
        free(p);
        return r;
}

static void auth_failed(struct api_ctx *c)
{
        problem_respond(c->res, 401, "gateway_auth_failed",
                        "Gateway calls need the device code and its secret: "
                        "'Authorization: Basic base64(code:secret)' or 'Token code:secret'.");
        http_response_header(c->res, "WWW-Authenticate", "Basic realm=\"enemane-gateway\"");
}

int api_gateway_auth(struct api_ctx *c, bool allow_query, struct store_gateway *gw)
{
        char code[GW_CODE_MAX + 1], secret[CRYPTO_TOKEN_MAX], hash[CRYPTO_HASH_HEX];
        int r = -EINVAL;

        if (c->req->authorization)
                r = credentials_header(c->req->authorization, code, secret);
        else if (allow_query)
                r = credentials_query(c->req->query, code, secret);
        if (r < 0) {
                auth_failed(c);
                return -EACCES;
        }
        crypto_token_hash(code, hash);
        r = store_gateway_by_code(c->app->st, hash, gw);
        sodium_memzero(code, sizeof(code));
        if (r == -ENOENT) {
                crypto_token_hash(secret, hash);        /* same work as a hit */
                sodium_memzero(secret, sizeof(secret));
                auth_failed(c);
                return -EACCES;
        }
        if (r < 0) {
                sodium_memzero(secret, sizeof(secret));
                api_store_error(c, r, "gateway");
                return r;
        }
        crypto_token_hash(secret, hash);
        sodium_memzero(secret, sizeof(secret));
        if (!crypto_streq(hash, gw->secret_hash)) {
                auth_failed(c);
                return -EACCES;
        }
        return 0;
}

int api_gateway_home(struct api_ctx *c, bool allow_query, struct store_gateway *gw,
                     struct store_home *home)
{
        int r = api_gateway_auth(c, allow_query, gw);

        if (r < 0)
                return r;
        if (strcmp(gw->state, "provisioned") == 0) {
                problem_respond(c->res, 409, "not_registered",
                                "This gateway is not registered yet: register it with POST "
                                "/api/v1/gateway/registration before uploading (HE-2).");
                return -ENOTCONN;
        }
        if (strcmp(gw->state, "registered") != 0) {
                problem_respond(c->res, 410, "gateway_deregistered",
                                "This gateway was deregistered: nothing more is collected "
                                "from it until it is registered again (HE-4).");
                return -ESTALE;
        }
        r = store_home_get(c->app->st, gw->home_id, 0, home);
        if (r < 0) {
                api_store_error(c, r, "home");
                return r;
        }
        return 0;
}

/* ---- operator: provisioning -------------------------------------------------- */

void api_gateways_create(struct api_ctx *c)
{
        static const char *const allowed[] = { "model", "firmware", "device_code", NULL };
        char code[GW_CODE_MAX + 1], secret[CRYPTO_TOKEN_MAX], norm[GW_CODE_MAX + 1];
        struct store_gateway_new g;
        struct store_gateway gw;
        const char *model, *firmware, *dc;
        json_t *body = NULL, *out;
        struct jv v;
        int64_t id = 0;
        int r;

        if (api_body_object(c->req, c->res, &body) < 0)
                return;
        jv_init(&v);
        jv_unknown(&v, body, NULL, allowed);
        model = jv_str(&v, body, NULL, "model", true, GW_MODEL_MAX);
        firmware = jv_str(&v, body, NULL, "firmware", false, GW_FIRMWARE_MAX);
        dc = jv_str(&v, body, NULL, "device_code", false, GW_CODE_MAX);
        if (dc && code_normalise(dc, norm) < 0)
                jv_error(&v, NULL, "device_code", "invalid",
                         "device_code must be 8 to 32 letters, digits or '-'.");
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                json_decref(body);
                return;
        }
        gateway_new(dc, model, firmware, &g, code, secret);
        json_decref(body);
        r = store_gateway_create(c->app->st, &g, 1, c->now, &id);
        if (r == -EEXIST) {
                problem_respond(c->res, 409, "device_code_taken",
                                "A gateway with this device code exists already.");
                return;
        }
        if (r == 0)
                r = store_gateway_get(c->app->st, id, &gw);
        if (r < 0) {
                api_store_error(c, r, "gateway");
                return;
        }
        out = gateway_json(&gw);
        json_object_set_new(out, "device_code", json_string(code));
        json_object_set_new(out, "secret", json_string(secret));
        sodium_memzero(secret, sizeof(secret));
        api_json(c, 201, out);
        http_response_header(c->res, "Cache-Control", "no-store");
}

/* CSV: the next field of line (comma separated, no quoting: device codes,
 * models and firmware versions have no commas). */
static const char *csv_field(const char *p, const char *end, char *out, size_t len, bool *too_long)
{
        size_t n = 0;

        while (p < end && *p != ',') {
                if (n + 1 < len)
                        out[n++] = *p;
                else
                        *too_long = true;
                p++;
        }
        while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\r'))
                n--;
        out[n] = '\0';
        return p < end ? p + 1 : p;
}

enum { COL_MODEL, COL_CODE, COL_FIRMWARE, COL_MAX };

static int csv_header(const char *line, const char *end, int cols[COL_MAX], int *ncols)
{
        char name[32];
        const char *p = line;
        int i = 0;

        for (int k = 0; k < COL_MAX; k++)
                cols[k] = -1;
        while (p < end && i < 8) {
                bool tl = false;

                p = csv_field(p, end, name, sizeof(name), &tl);
                if (strcmp(name, "model") == 0)
                        cols[COL_MODEL] = i;
                else if (strcmp(name, "device_code") == 0)
                        cols[COL_CODE] = i;
                else if (strcmp(name, "firmware") == 0)
                        cols[COL_FIRMWARE] = i;
                else
                        return -EINVAL;
                i++;
        }
        *ncols = i;
        return cols[COL_MODEL] < 0 ? -EINVAL : 0;
}

struct bulk {
        struct store_gateway_new *g;
        char (*codes)[GW_CODE_MAX + 1];
        char (*secrets)[CRYPTO_TOKEN_MAX];
        size_t n;
};

/* Parses one data row into b (row is 1-based for messages). */
static int bulk_row(const char *line, const char *end, const int cols[COL_MAX], int ncols,
                    struct bulk *b, struct problem *p, size_t row)
{
        char f[COL_MAX][GW_MODEL_MAX + 2];
        char tmp[GW_MODEL_MAX + 2], norm[GW_CODE_MAX + 1];
        const char *q = line;
        bool tl = false;

        memset(f, 0, sizeof(f));
        for (int i = 0; i < ncols; i++) {
                char *dst = tmp;

                for (int k = 0; k < COL_MAX; k++)
                        if (cols[k] == i)
                                dst = f[k];
                q = csv_field(q, end, dst, sizeof(tmp), &tl);
        }
        if (tl || q < end || !f[COL_MODEL][0] || strlen(f[COL_MODEL]) > GW_MODEL_MAX ||
            strlen(f[COL_FIRMWARE]) > GW_FIRMWARE_MAX ||
            (f[COL_CODE][0] && code_normalise(f[COL_CODE], norm) < 0)) {
                problem_add_error(p, "body", "invalid",
                                  "Row %zu: needs a model (<= 64 characters), an optional "
                                  "device_code of 8 to 32 letters, digits or '-' and an "
                                  "optional firmware.", row);
                return -EINVAL;
        }
        gateway_new(f[COL_CODE], f[COL_MODEL], f[COL_FIRMWARE], &b->g[b->n], b->codes[b->n],
                    b->secrets[b->n]);
        b->n++;
        return 0;
}

static int bulk_parse(const char *body, size_t len, struct bulk *b, struct problem *p)
{
        const char *s = body, *end = body + len;
        int cols[COL_MAX], ncols = 0, bad = 0;
        size_t row = 0;

        while (s < end) {
                const char *nl = memchr(s, '\n', (size_t)(end - s));
                const char *le = nl ? nl : end;

                if (le > s && !(le - s == 1 && *s == '\r')) {
                        if (row == 0 && csv_header(s, le, cols, &ncols) < 0) {
                                problem_add_error(p, "body", "invalid",
                                                  "The first line must name the columns: "
                                                  "model, and optionally device_code, firmware.");
                                return -EINVAL;
                        }
                        if (row > 0 && b->n >= GW_BULK_MAX) {
                                problem_add_error(p, "body", "too_many_rows",
                                                  "At most %d gateways per upload.", GW_BULK_MAX);
                                return -E2BIG;
                        }
                        if (row > 0 && bulk_row(s, le, cols, ncols, b, p, row) < 0)
                                bad++;
                        row++;
                }
                s = nl ? nl + 1 : end;
        }
        if (row == 0)
                problem_add_error(p, "body", "required", "The CSV has no header line.");
        else if (b->n == 0 && bad == 0)
                problem_add_error(p, "body", "required", "The CSV has no gateway rows.");
        return (row == 0 || bad || b->n == 0) ? -EINVAL : 0;
}

static void bulk_free(struct bulk *b)
{
        if (b->secrets)
                sodium_memzero(b->secrets, GW_BULK_MAX * sizeof(*b->secrets));
        free(b->g);
        free(b->codes);
        free(b->secrets);
}

static void bulk_render(struct api_ctx *c, const struct bulk *b, const int64_t *ids)
{
        struct buf out;
        char *text;
        size_t len;

        buf_init(&out, 0);
        buf_puts(&out, "id,device_code,secret,model,firmware\n");
        for (size_t i = 0; i < b->n; i++)
                buf_printf(&out, "%lld,%s,%s,%s,%s\n", (long long)ids[i], b->codes[i],
                           b->secrets[i], b->g[i].model, b->g[i].firmware);
        text = buf_steal(&out, &len);
        http_response_set(c->res, 201, "text/csv; charset=utf-8", text, len);
        http_response_header(c->res, "Cache-Control", "no-store");
        sodium_memzero(text, len);
        free(text);
}

void api_gateways_bulk(struct api_ctx *c)
{
        struct bulk b = { 0 };
        struct problem *p;
        int64_t *ids = NULL;
        int r;

        if (!c->req->content_type || strncasecmp(c->req->content_type, "text/csv", 8) != 0) {
                problem_respond(c->res, 415, "unsupported_media_type",
                                "Send the gateways as text/csv.");
                return;
        }
        b.g = calloc(GW_BULK_MAX, sizeof(*b.g));
        b.codes = calloc(GW_BULK_MAX, sizeof(*b.codes));
        b.secrets = calloc(GW_BULK_MAX, sizeof(*b.secrets));
        ids = calloc(GW_BULK_MAX, sizeof(*ids));
        p = problem_new(422, "validation_failed", "The CSV has errors; nothing was created.");
        if (!b.g || !b.codes || !b.secrets || !ids || !p) {
                problem_free(p);
                bulk_free(&b);
                free(ids);
                problem_respond(c->res, 503, "out_of_memory", "Try again later.");
                return;
        }
        r = bulk_parse(c->req->body ? c->req->body : "", c->req->body_len, &b, p);
        if (r < 0) {
                problem_render(p, c->res);
                bulk_free(&b);
                free(ids);
                return;
        }
        problem_free(p);
        r = store_gateway_create(c->app->st, b.g, b.n, c->now, ids);
        if (r == -EEXIST)
                problem_respond(c->res, 409, "device_code_taken",
                                "A device code of the upload exists already (or is repeated in "
                                "it); nothing was created.");
        else if (r < 0)
                api_store_error(c, r, "gateways");
        else
                bulk_render(c, &b, ids);
        bulk_free(&b);
        free(ids);
}

void api_gateways_list(struct api_ctx *c)
{
        struct store_gateway_filter f = { .limit = 100 };
        struct store_gateway *items = NULL;
        char *model = NULL, *state = NULL;
        int64_t after = 0, limit = 100;
        json_t *arr;
        int n = 0, r;

        if (api_query_int(c, "after", 0, INT64_MAX, &after) < 0 ||
            api_query_int(c, "limit", 1, GW_LIST_MAX, &limit) < 0)
                return;
        if (http_query_get(c->req->query, "model", &model) < 0 ||
            http_query_get(c->req->query, "state", &state) < 0) {
                problem_respond(c->res, 400, "bad_query", "The query string is malformed.");
                goto out;
        }
        if (state && strcmp(state, "provisioned") != 0 && strcmp(state, "registered") != 0 &&
            strcmp(state, "deregistered") != 0) {
                problem_respond(c->res, 422, "validation_failed",
                                "state must be provisioned, registered or deregistered.");
                goto out;
        }
        f.model = model;
        f.state = state;
        f.after_id = after;
        f.limit = (int)limit;
        items = calloc((size_t)limit, sizeof(*items));
        if (!items) {
                problem_respond(c->res, 503, "out_of_memory", "Try again later.");
                goto out;
        }
        r = store_gateway_list(c->app->st, &f, items, (int)limit, &n);
        if (r < 0) {
                api_store_error(c, r, "gateways");
                goto out;
        }
        arr = json_array();
        for (int i = 0; i < n; i++)
                json_array_append_new(arr, gateway_json(&items[i]));
        api_json(c, 200, json_pack("{s:o, s:o}", "items", arr, "next_after",
                                   n == (int)limit ? json_integer(items[n - 1].id) : json_null()));
out:
        free(items);
        free(model);
        free(state);
}

void api_gateway_get(struct api_ctx *c)
{
        struct store_gateway g;
        int64_t id = api_param_id(c, "id");
        int r;

        if (!id)
                return;
        r = store_gateway_get(c->app->st, id, &g);
        if (r < 0) {
                api_store_error(c, r, "gateway");
                return;
        }
        api_json(c, 200, gateway_json(&g));
}

/* ---- the gateway's own calls ------------------------------------------------- */

/* HE-11: optional coordinates of the gateway's place (both or neither). */
static bool coords_read(struct jv *v, json_t *body, double *lat, double *lon)
{
        json_t *a = json_object_get(body, "latitude"), *o = json_object_get(body, "longitude");

        if (!a && !o)
                return false;
        if (!json_is_number(a) || !json_is_number(o) || json_number_value(a) < -90 ||
            json_number_value(a) > 90 || json_number_value(o) < -180 ||
            json_number_value(o) > 180) {
                jv_error(v, NULL, a && json_is_number(a) ? "longitude" : "latitude", "invalid",
                         "latitude (-90..90) and longitude (-180..180) come together, in "
                         "degrees.");
                return false;
        }
        *lat = json_number_value(a);
        *lon = json_number_value(o);
        return true;
}

/* HE-2: the gateway accepts the terms of use in force; any other version
 * is refused with the current one named. */
static int terms_check(struct api_ctx *c, const char *version)
{
        struct store_document docs[STORE_DOC_KINDS];
        struct problem *p;
        int n = store_document_current(c->app->st, docs, STORE_DOC_KINDS);

        if (n < 0) {
                api_store_error(c, n, "terms");
                return n;
        }
        for (int i = 0; i < n; i++) {
                if (strcmp(docs[i].kind, "terms") != 0)
                        continue;
                if (strcmp(docs[i].version, version) == 0)
                        return 0;
                p = problem_new(422, "terms_not_current",
                                "Registration needs the terms of use in force (version %s).",
                                docs[i].version);
                problem_add_error(p, "terms_version", "not_current",
                                  "The current terms version is %s.", docs[i].version);
                problem_set_str(p, "current_version", docs[i].version);
                problem_render(p, c->res);
                return -EINVAL;
        }
        return 0;       /* no terms published: nothing to check against */
}

void api_gateway_register(struct api_ctx *c)
{
        static const char *const allowed[] = { "terms_version", "firmware", "latitude",
                                               "longitude", NULL };
        struct store_gateway gw;
        struct store_home home;
        const char *terms, *firmware;
        json_t *body = NULL, *out;
        double lat = 0, lon = 0;
        bool coords;
        struct jv v;
        int r;

        if (api_gateway_auth(c, false, &gw) < 0)
                return;
        if (api_body_object(c->req, c->res, &body) < 0)
                return;
        jv_init(&v);
        jv_unknown(&v, body, NULL, allowed);
        terms = jv_str(&v, body, NULL, "terms_version", true, GW_TERMS_MAX);
        firmware = jv_str(&v, body, NULL, "firmware", false, GW_FIRMWARE_MAX);
        coords = coords_read(&v, body, &lat, &lon);
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                json_decref(body);
                return;
        }
        if (terms_check(c, terms) < 0) {
                json_decref(body);
                return;
        }
        r = store_gateway_register(c->app->st, gw.id, terms, firmware, c->now, &home);
        json_decref(body);
        if (r == 0 && coords)
                r = store_home_set_coords(c->app->st, home.id, lat, lon);
        if (r < 0 && r != -EALREADY) {
                api_store_error(c, r, "registration");
                return;
        }
        out = json_pack("{s:I, s:I, s:s, s:s, s:o}", "home_id", (json_int_t)home.id,
                        "gateway_id", (json_int_t)gw.id, "state", "registered",
                        "terms_version", home.terms_version, "started_at",
                        api_time(home.started_at));
        /* Registering twice answers the running registration (idempotent). */
        api_json(c, r == -EALREADY ? 200 : 201, out);
}

void api_gateway_deregister(struct api_ctx *c)
{
        struct store_gateway gw;
        struct store_home home, ended;
        char *data = NULL;
        bool keep = true;
        int r;

        if (api_gateway_home(c, false, &gw, &home) < 0)
                return;
        r = http_query_get(c->req->query, "data", &data);
        if (r > 0 && strcmp(data, "keep") != 0 && strcmp(data, "delete") != 0) {
                free(data);
                problem_respond(c->res, 422, "validation_failed", "data must be keep or delete.");
                return;
        }
        keep = !(r > 0 && strcmp(data, "delete") == 0);
        free(data);
        r = store_home_end(c->app->st, home.id, keep,
                           c->now + c->app->cfg->energy_keep_after_deregistration, c->now,
                           &c->actor, &ended);
        if (r == -ESTALE) {
                problem_respond(c->res, 410, "gateway_deregistered",
                                "This gateway was deregistered already (HE-4).");
                return;
        }
        if (r < 0) {
                api_store_error(c, r, "registration");
                return;
        }
        api_json(c, 200, json_pack("{s:I, s:s, s:o}", "home_id", (json_int_t)ended.id,
                                   "state", ended.state, "keep_until",
                                   keep ? api_time(ended.keep_until) : json_null()));
}

void api_gateway_pairing_code(struct api_ctx *c)
{
        struct store_gateway gw;
        struct store_home home;
        char code[PAIRING_DIGITS + 1], hash[CRYPTO_HASH_HEX];
        int64_t expires;
        int r;

        if (api_gateway_home(c, false, &gw, &home) < 0)
                return;
        for (int i = 0; i < PAIRING_DIGITS; i++)
                code[i] = (char)('0' + randombytes_uniform(10));
        code[PAIRING_DIGITS] = '\0';
        crypto_token_hash(code, hash);
        expires = c->now + c->app->cfg->energy_pairing_ttl;
        r = store_home_pairing_set(c->app->st, home.id, hash, expires);
        if (r < 0) {
                api_store_error(c, r, "pairing code");
                return;
        }
        api_json(c, 201, json_pack("{s:s, s:o}", "pairing_code", code, "expires_at",
                                   api_time(expires)));
        http_response_header(c->res, "Cache-Control", "no-store");
}
