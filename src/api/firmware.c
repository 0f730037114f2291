/*
 * firmware.c - firmware updates (HE-14): the operator uploads an image per
 * model and version (the server hashes it, signs its manifest with the
 * operator's Ed25519 key and serves the public key for gateways to pin),
 * runs rollout campaigns staged by percent with pause, resume and the
 * automatic pause on failures; a gateway asks for its offer (also in the
 * combined poll), downloads the image in ranges and reports the result.
 *
 * The running campaigns are cached in memory for the offer check, which
 * every gateway makes every few minutes: a poll costs no query. Every
 * change (operator create/patch, an automatic pause) drops the cache and
 * the next poll reloads it. The signing key is read from its file when an
 * image is signed; only the public key is kept in memory.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "api/api.h"
#include "api/api_firmware.h"
#include "api/api_energy.h"
#include "api/validate.h"
#include "domain/rollout.h"
#include "store/store_firmware.h"
#include "util/fwsign.h"
#include "util/log.h"

#define LIST_DEFAULT 50
#define KEY_PATH_MAX 4096
#define IMAGE_URL_FMT "/api/v1/gateway/firmware/%lld/image"

/* ---- the campaign cache ----------------------------------------------------- */

static struct {
        pthread_mutex_t mu;
        const struct store *st;                 /* whose campaigns these are */
        bool valid;
        struct store_fw_campaign *items;        /* running and paused */
        int n;
} fw_cache = { PTHREAD_MUTEX_INITIALIZER, NULL, false, NULL, 0 };

static void cache_invalidate(void)
{
        pthread_mutex_lock(&fw_cache.mu);
        fw_cache.valid = false;
        pthread_mutex_unlock(&fw_cache.mu);
}

/* Reloads when needed; call with the mutex held. */
static int cache_fresh(struct store *st)
{
        struct store_fw_campaign *items = NULL;
        int n = 0, r;

        if (fw_cache.valid && fw_cache.st == st)
                return 0;
        r = store_fw_campaign_active(st, &items, &n);
        if (r < 0)
                return r;
        free(fw_cache.items);
        fw_cache.items = items;
        fw_cache.n = n;
        fw_cache.st = st;
        fw_cache.valid = true;
        return 0;
}

struct fw_offer {
        int64_t campaign_id, image_id, size;
        char version[FWSIGN_FIELD_MAX + 1];
        char sha256[FWSIGN_SHA256_HEX];
        char manifest[FWSIGN_MANIFEST_MAX];
        char signature[FWSIGN_SIG_B64];
};

/* The offer for gw now: 1 found (*o filled), 0 none, <0 error. */
static int offer_find(struct store *st, const struct store_gateway *gw, struct fw_offer *o)
{
        int r;

        pthread_mutex_lock(&fw_cache.mu);
        r = cache_fresh(st);
        for (int i = 0; r == 0 && i < fw_cache.n; i++) {
                const struct store_fw_campaign *k = &fw_cache.items[i];

                if (!rollout_offers(&k->r, gw->id, gw->model, gw->firmware))
                        continue;
                o->campaign_id = k->r.id;
                o->image_id = k->image_id;
                o->size = k->size;
                memcpy(o->version, k->r.version, sizeof(o->version));
                memcpy(o->sha256, k->sha256, sizeof(o->sha256));
                memcpy(o->manifest, k->manifest, sizeof(o->manifest));
                memcpy(o->signature, k->signature, sizeof(o->signature));
                r = 1;
        }
        pthread_mutex_unlock(&fw_cache.mu);
        return r;
}

static json_t *offer_json(const struct fw_offer *o)
{
        char url[96];

        snprintf(url, sizeof(url), IMAGE_URL_FMT, (long long)o->image_id);
        return json_pack("{s:I, s:s, s:I, s:s, s:s, s:s, s:s}", "campaign_id",
                         (json_int_t)o->campaign_id, "version", o->version, "size",
                         (json_int_t)o->size, "sha256", o->sha256, "manifest", o->manifest,
                         "signature", o->signature, "url", url);
}

int api_firmware_poll(struct api_ctx *c, const struct store_gateway *gw, json_t *obj)
{
        struct fw_offer o;
        int r = offer_find(c->app->st, gw, &o);

        if (r < 0)
                return r;
        return json_object_set_new(obj, "update", r ? offer_json(&o) : json_null()) == 0 ?
               0 : -ENOMEM;
}

/* ---- the signing key ----------------------------------------------------------- */

static struct {
        pthread_mutex_t mu;
        char path[KEY_PATH_MAX];                /* of the key pk came from */
        unsigned char pk[FWSIGN_PK_BYTES];
} fw_key = { PTHREAD_MUTEX_INITIALIZER, "", { 0 } };

/* Loads (creating on first use) the key pair; sk may be NULL. On failure
 * the problem is rendered (and logged: it is the server's setup). */
static int key_get(struct api_ctx *c, unsigned char pk[FWSIGN_PK_BYTES],
                   unsigned char sk[FWSIGN_SK_BYTES])
{
        char path[KEY_PATH_MAX];
        int r = fwsign_key_path(c->app->cfg->firmware_signing_key, c->app->cfg->db_path, path,
                                sizeof(path));

        pthread_mutex_lock(&fw_key.mu);
        if (r == 0 && !sk && strcmp(path, fw_key.path) == 0) {
                memcpy(pk, fw_key.pk, FWSIGN_PK_BYTES);
                pthread_mutex_unlock(&fw_key.mu);
                return 0;
        }
        if (r == 0)
                r = fwsign_key_load(path, pk, sk);
        if (r == 0) {
                memcpy(fw_key.pk, pk, FWSIGN_PK_BYTES);
                snprintf(fw_key.path, sizeof(fw_key.path), "%s", path);
        }
        pthread_mutex_unlock(&fw_key.mu);
        if (r < 0) {
                log_kv(LOG_ERROR, "firmware signing key unusable", "path", path, "error",
                       r == -EPERM ? "readable by group or others, or not a regular file" :
                       strerror(-r), NULL);
                problem_respond(c->res, 500, "signing_key_unavailable",
                                "The firmware signing key cannot be used; the operator must "
                                "fix the key file (see the server log).");
        }
        return r;
}

void api_firmware_public_key(struct api_ctx *c)
{
        unsigned char pk[FWSIGN_PK_BYTES];
        char b64[FWSIGN_PK_B64], kid[FWSIGN_KEY_ID_HEX];

        if (key_get(c, pk, NULL) < 0)
                return;
        fwsign_pk_b64(pk, b64);
        fwsign_key_id(pk, kid);
        api_json(c, 200, json_pack("{s:s, s:s, s:s, s:s}", "algorithm", "Ed25519",
                                   "public_key", b64, "key_id", kid, "manifest_format",
                                   FWSIGN_MAGIC));
        http_response_header(c->res, "Cache-Control", "public, max-age=300");
}

/* ---- images ---------------------------------------------------------------------- */

static json_t *image_json(const struct store_fw_image *img)
{
        char url[96];
        json_t *o;

        snprintf(url, sizeof(url), "/api/v1/firmware/%lld/image", (long long)img->id);
        o = json_pack("{s:I, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:o}", "id",
                      (json_int_t)img->id, "model", img->model, "version", img->version, "size",
                      (json_int_t)img->size, "sha256", img->sha256, "manifest", img->manifest,
                      "signature", img->signature, "key_id", img->key_id, "image_url", url,
                      "created_at", api_time(img->created_at));
        if (o && img->notes)
                json_object_set_new(o, "notes", json_string(img->notes));
        return o;
}

/* Reads a query parameter that must be a model or version (fwsign_field_ok)
 * into out; records the field error. */
static void query_field(struct api_ctx *c, struct jv *v, const char *key, bool required,
                        char out[FWSIGN_FIELD_MAX + 1])
{
        char *s = NULL;
        int r = http_query_get(c->req->query, key, &s);

        out[0] = '\0';
        if (r == 0 && !required) {
                free(s);
                return;
        }
        if (r == 0)
                jv_error(v, NULL, key, "required", "%s is required (query parameter).", key);
        else if (r < 0 || !fwsign_field_ok(s))
                jv_error(v, NULL, key, "invalid",
                         "%s must be 1 to 64 characters of A-Z a-z 0-9 . _ + -.", key);
        else
                snprintf(out, FWSIGN_FIELD_MAX + 1, "%s", s);
        free(s);
}

/* Release notes from the query (optional): UTF-8, at most FW_NOTES_MAX
 * bytes. *out is malloc'd ("" when absent). */
static void query_notes(struct api_ctx *c, struct jv *v, char **out)
{
        char *s = NULL;
        int r = http_query_get(c->req->query, "notes", &s);
        json_t *probe;

        *out = NULL;
        if (r == 0) {
                *out = strdup("");
                return;
        }
        probe = r > 0 ? json_string(s) : NULL;          /* NULL: not UTF-8 */
        if (!probe || strlen(s) > FW_NOTES_MAX) {
                jv_error(v, NULL, "notes", "invalid",
                         "notes must be UTF-8 text of at most %d bytes (longer notes: PATCH "
                         "/api/v1/firmware/{id}).", FW_NOTES_MAX);
                free(s);
                s = NULL;
        }
        json_decref(probe);
        *out = s;
}

static bool is_octet_stream(const char *ct)
{
        size_t n = strlen("application/octet-stream");

        if (!ct)
                return false;
        while (*ct == ' ')
                ct++;
        return strncasecmp(ct, "application/octet-stream", n) == 0 &&
               (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* Fills the manifest, hash and signature of img for data. */
static int image_sign(struct api_ctx *c, struct store_fw_image *img, const void *data,
                      size_t len)
{
        unsigned char pk[FWSIGN_PK_BYTES], sk[FWSIGN_SK_BYTES];
        struct fwsign_manifest m;
        int n;

        memset(&m, 0, sizeof(m));
        memcpy(m.model, img->model, sizeof(m.model));
        memcpy(m.version, img->version, sizeof(m.version));
        m.size = len;
        fwsign_sha256_hex(data, len, m.sha256);
        memcpy(img->sha256, m.sha256, sizeof(img->sha256));
        n = fwsign_manifest_format(&m, img->manifest, sizeof(img->manifest));
        if (n < 0) {
                problem_respond(c->res, 500, "internal_error", "The manifest could not be made.");
                return n;
        }
        if (key_get(c, pk, sk) < 0)
                return -EIO;
        fwsign_sign(sk, img->manifest, (size_t)n, img->signature);
        sodium_memzero(sk, sizeof(sk));
        fwsign_key_id(pk, img->key_id);
        return 0;
}

void api_firmware_upload(struct api_ctx *c)
{
        struct store_fw_image img;
        char location[64];
        struct jv v;
        int r;

        memset(&img, 0, sizeof(img));
        if (!is_octet_stream(c->req->content_type)) {
                problem_respond(c->res, 415, "unsupported_media_type",
                                "Send the firmware image as application/octet-stream, with model "
                                "and version in the query.");
                return;
        }
        if (c->req->body_len > (size_t)c->app->cfg->files_max_bytes) {
                problem_respond(c->res, 413, "body_too_large",
                                "The image is larger than files.max_bytes (%lld bytes).",
                                (long long)c->app->cfg->files_max_bytes);
                return;
        }
        jv_init(&v);
        query_field(c, &v, "model", true, img.model);
        query_field(c, &v, "version", true, img.version);
        query_notes(c, &v, &img.notes);
        if (!c->req->body || c->req->body_len == 0)
                jv_error(&v, NULL, "body", "required", "The body must hold the image (1 byte "
                         "or more).");
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                store_fw_image_clear(&img);
                return;
        }
        jv_free(&v);
        img.created_by = c->member_id;
        r = image_sign(c, &img, c->req->body, c->req->body_len);
        if (r == 0)
                r = store_fw_image_create(c->app->st, &img, c->req->body, c->req->body_len,
                                          c->now);
        if (r == -EEXIST)
                problem_respond(c->res, 409, "firmware_exists",
                                "Model %s has a version %s already; versions are immutable, "
                                "upload the image under a new version.", img.model, img.version);
        else if (r < 0 && c->res->status == 0)
                api_store_error(c, r, "firmware image");
        if (r < 0) {
                store_fw_image_clear(&img);
                return;
        }
        api_json(c, 201, image_json(&img));
        snprintf(location, sizeof(location), "/api/v1/firmware/%lld", (long long)img.id);
        http_response_header(c->res, "Location", location);
        store_fw_image_clear(&img);
}

void api_firmware_list(struct api_ctx *c)
{
        struct store_fw_image *items = NULL;
        int64_t before = 0, limit = LIST_DEFAULT;
        char model[FWSIGN_FIELD_MAX + 1];
        json_t *arr;
        struct jv v;
        int n = 0, r;

        if (api_query_int(c, "before", 1, INT64_MAX, &before) < 0 ||
            api_query_int(c, "limit", 1, FW_LIST_MAX, &limit) < 0)
                return;
        jv_init(&v);
        query_field(c, &v, "model", false, model);
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                return;
        }
        jv_free(&v);
        items = calloc((size_t)limit, sizeof(*items));
        if (!items) {
                problem_respond(c->res, 503, "out_of_memory", "Try again later.");
                return;
        }
        r = store_fw_image_list(c->app->st, model, before, items, (int)limit, &n);
        if (r < 0) {
                api_store_error(c, r, "firmware images");
                free(items);
                return;
        }
        arr = json_array();
        for (int i = 0; i < n; i++)
                json_array_append_new(arr, image_json(&items[i]));
        api_json(c, 200, json_pack("{s:o, s:o}", "items", arr, "next_before",
                                   n == (int)limit ? json_integer(items[n - 1].id) :
                                   json_null()));
        free(items);
}

void api_firmware_get(struct api_ctx *c)
{
        struct store_fw_image img;
        int64_t id = api_param_id(c, "id");
        int r;

        if (!id)
                return;
        r = store_fw_image_get(c->app->st, id, &img);
        if (r < 0) {
                api_store_error(c, r, "firmware image");
                return;
        }
        api_json(c, 200, image_json(&img));
        store_fw_image_clear(&img);
}

void api_firmware_patch(struct api_ctx *c)
{
        static const char *const allowed[] = { "notes", NULL };
        int64_t id = api_param_id(c, "id");
        struct store_fw_image img;
        const char *notes;
        json_t *body = NULL;
        struct jv v;
        int r;

        if (!id || api_body_object(c->req, c->res, &body) < 0)
                return;
        jv_init(&v);
        jv_unknown(&v, body, NULL, allowed);
        notes = jv_str(&v, body, NULL, "notes", true, FW_NOTES_MAX);
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                json_decref(body);
                return;
        }
        jv_free(&v);
        r = store_fw_image_set_notes(c->app->st, id, notes);
        json_decref(body);
        if (r == 0)
                r = store_fw_image_get(c->app->st, id, &img);
        if (r < 0) {
                api_store_error(c, r, "firmware image");
                return;
        }
        api_json(c, 200, image_json(&img));
        store_fw_image_clear(&img);
}

/* ---- ranges ------------------------------------------------------------------------ */

/* A decimal number at *p (moved past it): 0 or -EINVAL (none, overflow). */
static int range_num(const char **p, int64_t *out)
{
        int64_t n = 0;
        const char *s = *p;

        if (*s < '0' || *s > '9')
                return -EINVAL;
        for (; *s >= '0' && *s <= '9'; s++) {
                if (n > (INT64_MAX - 9) / 10)
                        return -EINVAL;
                n = n * 10 + (*s - '0');
        }
        *p = s;
        *out = n;
        return 0;
}

/*
 * One byte range of an image of `size` bytes from a Range header: 0 no
 * Range (the whole image), 1 the range [*first, *last], -EINVAL a range
 * this server does not satisfy (bad syntax, another unit, several ranges,
 * starting past the end): 416.
 */
static int range_parse(const char *h, int64_t size, int64_t *first, int64_t *last)
{
        const char *p = h;
        int64_t a = 0, b = -1;

        if (!h)
                return 0;
        while (*p == ' ')
                p++;
        if (strncasecmp(p, "bytes=", 6) != 0)
                return -EINVAL;
        p += 6;
        while (*p == ' ')
                p++;
        if (*p == '-') {                        /* the last N bytes */
                p++;
                if (range_num(&p, &b) < 0 || b == 0)
                        return -EINVAL;
                a = b >= size ? 0 : size - b;
                b = size - 1;
        } else {
                if (range_num(&p, &a) < 0 || *p++ != '-')
                        return -EINVAL;
                if (*p >= '0' && *p <= '9') {
                        if (range_num(&p, &b) < 0 || b < a)
                                return -EINVAL;
                }
                if (b < 0 || b >= size)
                        b = size - 1;
        }
        while (*p == ' ')
                p++;
        if (*p != '\0' || a >= size)
                return -EINVAL;
        *first = a;
        *last = b;
        return 1;
}

/* Answers the image's bytes: 200 whole, 206 one range, 416. */
static void image_serve(struct api_ctx *c, const struct store_fw_image *img)
{
        int64_t first = 0, last = img->size - 1;
        int ranged = range_parse(c->req->range, img->size, &first, &last), r;
        char hdr[128], etag[FWSIGN_SHA256_HEX + 2];
        size_t len;
        char *data;

        if (ranged < 0) {
                problem_respond(c->res, 416, "range_not_satisfiable",
                                "The Range must be one byte range inside the image's %lld bytes, "
                                "e.g. 'bytes=1048576-'.", (long long)img->size);
                snprintf(hdr, sizeof(hdr), "bytes */%lld", (long long)img->size);
                http_response_header(c->res, "Content-Range", hdr);
                return;
        }
        len = (size_t)(last - first + 1);
        data = malloc(len + 1);
        if (!data) {
                problem_respond(c->res, 503, "out_of_memory", "Try again later, or ask for "
                                "a smaller range.");
                http_response_header(c->res, "Retry-After", "5");
                return;
        }
        r = store_fw_image_read(c->app->st, img->id, first, len, data);
        if (r < 0) {
                free(data);
                api_store_error(c, r, "firmware image");
                return;
        }
        data[len] = '\0';
        /* The body adopts the buffer (a NUL-terminated buf, as buf.h keeps
         * it): no second copy of a large image. */
        buf_free(&c->res->body);
        c->res->body.data = data;
        c->res->body.len = len;
        c->res->body.cap = len + 1;
        c->res->status = ranged == 1 ? 206 : 200;
        c->res->content_type = "application/octet-stream";
        http_response_header(c->res, "Accept-Ranges", "bytes");
        snprintf(etag, sizeof(etag), "\"%s\"", img->sha256);
        http_response_header(c->res, "ETag", etag);
        http_response_header(c->res, "Cache-Control", "private, max-age=86400, immutable");
        if (c->res->status == 206) {
                snprintf(hdr, sizeof(hdr), "bytes %lld-%lld/%lld", (long long)first,
                         (long long)last, (long long)img->size);
                http_response_header(c->res, "Content-Range", hdr);
        }
}

void api_firmware_image(struct api_ctx *c)
{
        struct store_fw_image img;
        int64_t id = api_param_id(c, "id");
        int r;

        if (!id)
                return;
        r = store_fw_image_get(c->app->st, id, &img);
        if (r < 0) {
                api_store_error(c, r, "firmware image");
                return;
        }
        image_serve(c, &img);
        store_fw_image_clear(&img);
}

/* ---- campaigns -------------------------------------------------------------------- */

static json_t *str_or_null(const char *s)
{
        return s && *s ? json_string(s) : json_null();
}

static json_t *campaign_json(const struct store_fw_campaign *k)
{
        int64_t reports = k->n_installed + k->n_failed;
        json_t *rate = reports ? json_real((double)(k->n_failed * 10000 / reports) / 100.0) :
                       json_null();

        return json_pack("{s:I, s:I, s:s, s:s, s:o, s:o, s:i, s:s, s:o, s:I, s:I, "
                         "s:{s:I, s:I, s:I}, s:o, s:o, s:o, s:o, s:o}",
                         "id", (json_int_t)k->r.id, "image_id", (json_int_t)k->image_id,
                         "model", k->r.model, "version", k->r.version,
                         "from_version_min", str_or_null(k->r.from_min),
                         "from_version_max", str_or_null(k->r.from_max),
                         "percent", k->r.percent, "state", k->state,
                         "pause_reason", str_or_null(k->pause_reason),
                         "failure_pause_pct", (json_int_t)k->failure_pause_pct,
                         "failure_min_reports", (json_int_t)k->failure_min_reports,
                         "counts", "downloading", (json_int_t)k->n_downloading,
                         "installed", (json_int_t)k->n_installed,
                         "failed", (json_int_t)k->n_failed,
                         "failure_rate_pct", rate,
                         "created_at", api_time(k->created_at),
                         "updated_at", api_time(k->updated_at),
                         "paused_at", api_time(k->paused_at),
                         "ended_at", api_time(k->ended_at));
}

/* An optional version bound of the body into out ("" when absent). */
static void body_version(struct jv *v, json_t *body, const char *key,
                         char out[FWSIGN_FIELD_MAX + 1])
{
        const char *s = jv_str(v, body, NULL, key, false, FWSIGN_FIELD_MAX);

        out[0] = '\0';
        if (!s)
                return;
        if (!fwsign_field_ok(s)) {
                jv_error(v, NULL, key, "invalid",
                         "%s must be 1 to 64 characters of A-Z a-z 0-9 . _ + -.", key);
                return;
        }
        snprintf(out, FWSIGN_FIELD_MAX + 1, "%s", s);
}

static void campaign_conflict(struct api_ctx *c, int r, const struct store_fw_campaign *k)
{
        struct problem *p;

        if (r == -EADDRINUSE) {
                p = problem_new(409, "campaign_overlap",
                                "Campaign %lld of model %s is running or paused for versions "
                                "that overlap this range; end it, or target other versions.",
                                (long long)k->r.id, k->r.model);
                problem_set_int(p, "campaign_id", k->r.id);
                problem_render(p, c->res);
        } else if (r == -EMFILE) {
                problem_respond(c->res, 409, "too_many_campaigns",
                                "%d campaigns are running or paused; end some first.",
                                FW_CAMPAIGNS_ACTIVE_MAX);
        } else if (r == -ENOENT) {
                p = problem_new(422, "validation_failed", "The request has invalid fields.");
                problem_add_error(p, "image_id", "not_found", "No firmware image has this id.");
                problem_render(p, c->res);
        } else {
                api_store_error(c, r, "campaign");
        }
}

void api_firmware_campaigns_create(struct api_ctx *c)
{
        static const char *const allowed[] = { "image_id", "from_version_min",
                                               "from_version_max", "percent",
                                               "failure_pause_pct", "failure_min_reports",
                                               NULL };
        const struct config *cfg = c->app->cfg;
        char lo[FWSIGN_FIELD_MAX + 1], hi[FWSIGN_FIELD_MAX + 1], location[64];
        struct store_fw_campaign_new n = { 0 };
        struct store_fw_campaign k;
        json_t *body = NULL;
        struct jv v;
        int r;

        if (api_body_object(c->req, c->res, &body) < 0)
                return;
        jv_init(&v);
        jv_unknown(&v, body, NULL, allowed);
        n.image_id = jv_int(&v, body, NULL, "image_id", true, 1, INT64_MAX, 0);
        n.percent = (int)jv_int(&v, body, NULL, "percent", true, 0, 100, 0);
        body_version(&v, body, "from_version_min", lo);
        body_version(&v, body, "from_version_max", hi);
        n.failure_pause_pct = jv_int(&v, body, NULL, "failure_pause_pct", false, 1, 100,
                                     cfg->firmware_failure_pause_pct);
        n.failure_min_reports = jv_int(&v, body, NULL, "failure_min_reports", false, 1, 1000000,
                                       cfg->firmware_failure_min_reports);
        if (lo[0] && hi[0] && rollout_version_cmp(lo, hi) > 0)
                jv_error(&v, NULL, "from_version_max", "before_min",
                         "from_version_max must not be older than from_version_min.");
        json_decref(body);
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                return;
        }
        jv_free(&v);
        n.from_min = lo;
        n.from_max = hi;
        n.created_by = c->member_id;
        r = store_fw_campaign_create(c->app->st, &n, c->now, &k);
        if (r < 0) {
                campaign_conflict(c, r, &k);
                return;
        }
        cache_invalidate();
        api_json(c, 201, campaign_json(&k));
        snprintf(location, sizeof(location), "/api/v1/firmware/campaigns/%lld",
                 (long long)k.r.id);
        http_response_header(c->res, "Location", location);
}

void api_firmware_campaigns_list(struct api_ctx *c)
{
        struct store_fw_campaign *items = NULL;
        int64_t before = 0, limit = LIST_DEFAULT;
        char *state = NULL;
        json_t *arr;
        int n = 0, r;

        if (api_query_int(c, "before", 1, INT64_MAX, &before) < 0 ||
            api_query_int(c, "limit", 1, FW_LIST_MAX, &limit) < 0)
                return;
        r = http_query_get(c->req->query, "state", &state);
        if (r < 0 || (r > 0 && strcmp(state, "running") != 0 && strcmp(state, "paused") != 0 &&
                      strcmp(state, "ended") != 0)) {
                problem_respond(c->res, 422, "validation_failed",
                                "state must be running, paused or ended.");
                free(state);
                return;
        }
        items = calloc((size_t)limit, sizeof(*items));
        if (!items) {
                free(state);
                problem_respond(c->res, 503, "out_of_memory", "Try again later.");
                return;
        }
        r = store_fw_campaign_list(c->app->st, state ? state : "", before, items, (int)limit,
                                   &n);
        free(state);
        if (r < 0) {
                free(items);
                api_store_error(c, r, "campaigns");
                return;
        }
        arr = json_array();
        for (int i = 0; i < n; i++)
                json_array_append_new(arr, campaign_json(&items[i]));
        api_json(c, 200, json_pack("{s:o, s:o}", "items", arr, "next_before",
                                   n == (int)limit ? json_integer(items[n - 1].r.id) :
                                   json_null()));
        free(items);
}

/* The campaign with the most frequent failure codes. */
static void campaign_render(struct api_ctx *c, int status, const struct store_fw_campaign *k)
{
        struct store_fw_code_count codes[FW_FAILURE_CODES_MAX];
        json_t *o = campaign_json(k), *arr = json_array();
        int n = 0, r = store_fw_failure_codes(c->app->st, k->r.id, codes, FW_FAILURE_CODES_MAX,
                                              &n);

        if (r < 0) {
                json_decref(o);
                json_decref(arr);
                api_store_error(c, r, "campaign");
                return;
        }
        for (int i = 0; i < n; i++)
                json_array_append_new(arr, json_pack("{s:s, s:I}", "code", codes[i].code,
                                                     "gateways", (json_int_t)codes[i].n));
        json_object_set_new(o, "failure_codes", arr);
        api_json(c, status, o);
}

void api_firmware_campaign_get(struct api_ctx *c)
{
        struct store_fw_campaign k;
        int64_t id = api_param_id(c, "id");
        int r;

        if (!id)
                return;
        r = store_fw_campaign_get(c->app->st, id, &k);
        if (r < 0) {
                api_store_error(c, r, "campaign");
                return;
        }
        campaign_render(c, 200, &k);
}

void api_firmware_campaign_patch(struct api_ctx *c)
{
        static const char *const allowed[] = { "percent", "state", NULL };
        int64_t id = api_param_id(c, "id");
        struct store_fw_campaign k;
        const char *state;
        char st[8] = "";
        json_t *body = NULL;
        int64_t percent;
        struct jv v;
        int r;

        if (!id || api_body_object(c->req, c->res, &body) < 0)
                return;
        jv_init(&v);
        jv_unknown(&v, body, NULL, allowed);
        percent = jv_int(&v, body, NULL, "percent", false, 0, 100, -1);
        state = jv_str(&v, body, NULL, "state", false, 8);
        if (state && strcmp(state, "running") != 0 && strcmp(state, "paused") != 0 &&
            strcmp(state, "ended") != 0)
                jv_error(&v, NULL, "state", "invalid",
                         "state must be running (resume), paused or ended.");
        if (jv_ok(&v) && percent < 0 && !state)
                jv_error(&v, NULL, "percent", "required", "Send percent, state or both.");
        if (state)
                snprintf(st, sizeof(st), "%s", state);
        json_decref(body);
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                return;
        }
        jv_free(&v);
        r = store_fw_campaign_update(c->app->st, id, (int)percent, st, c->now, &k);
        if (r == -ERANGE) {
                problem_respond(c->res, 409, "percent_decrease",
                                "The percentage can only be raised (it is %d now); pause the "
                                "campaign to stop offering the update.", k.r.percent);
                return;
        }
        if (r == -ESTALE) {
                problem_respond(c->res, 409, "campaign_ended",
                                "This campaign has ended and cannot change; start a new one.");
                return;
        }
        if (r < 0) {
                api_store_error(c, r, "campaign");
                return;
        }
        cache_invalidate();
        campaign_render(c, 200, &k);
}

/* ---- gateway --------------------------------------------------------------------------- */

void api_gateway_firmware_offer(struct api_ctx *c)
{
        struct store_gateway gw;
        struct store_home home;
        json_t *o;
        int r;

        if (api_gateway_home(c, false, &gw, &home) < 0)
                return;
        o = json_object();
        r = o ? api_firmware_poll(c, &gw, o) : -ENOMEM;
        if (r < 0) {
                json_decref(o);
                api_store_error(c, r, "firmware offer");
                return;
        }
        api_json(c, 200, o);
        http_response_header(c->res, "Cache-Control", "no-store");
}

void api_gateway_firmware_image(struct api_ctx *c)
{
        struct store_gateway gw;
        struct store_home home;
        struct store_fw_image img;
        int64_t id;
        int r;

        if (api_gateway_home(c, false, &gw, &home) < 0)
                return;
        id = api_param_id(c, "id");
        if (!id)
                return;
        r = store_fw_image_get(c->app->st, id, &img);
        if (r == 0 && strcmp(img.model, gw.model) != 0)
                r = -ENOENT;            /* another model's image is not this gateway's */
        if (r < 0) {
                store_fw_image_clear(&img);
                api_store_error(c, r, "firmware image");
                return;
        }
        image_serve(c, &img);
        store_fw_image_clear(&img);
}

/* A failure code: 1 to 32 of A-Z a-z 0-9 . _ : - */
static bool code_ok(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > FW_CODE_MAX)
                return false;
        for (size_t i = 0; i < n; i++) {
                char ch = s[i];

                if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == ':' ||
                      ch == '-'))
                        return false;
        }
        return true;
}

/* Reads the report body into rep (code copied to code). */
static int report_read(struct api_ctx *c, struct store_fw_report *rep,
                       char code[FW_CODE_MAX + 1])
{
        static const char *const allowed[] = { "campaign_id", "state", "code", NULL };
        const char *state, *cd;
        json_t *body = NULL;
        struct jv v;

        if (api_body_object(c->req, c->res, &body) < 0)
                return -EINVAL;
        jv_init(&v);
        jv_unknown(&v, body, NULL, allowed);
        rep->campaign_id = jv_int(&v, body, NULL, "campaign_id", true, 1, INT64_MAX, 0);
        state = jv_str(&v, body, NULL, "state", true, 16);
        rep->state = rollout_state_parse(state);
        if (state && rep->state == ROLLOUT_NONE)
                jv_error(&v, NULL, "state", "invalid",
                         "state must be downloading, installed or failed.");
        cd = jv_str(&v, body, NULL, "code", rep->state == ROLLOUT_FAILED, 64);
        if (cd && !code_ok(cd))
                jv_error(&v, NULL, "code", "invalid",
                         "code must be 1 to 32 characters of A-Z a-z 0-9 . _ : -.");
        snprintf(code, FW_CODE_MAX + 1, "%s", cd && code_ok(cd) ? cd : "");
        json_decref(body);
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                return -EINVAL;
        }
        jv_free(&v);
        rep->code = code;
        return 0;
}

/* Is the campaign one this gateway takes part in (its model, its bucket)?
 * Renders 404 / 409 when not. */
static int report_allowed(struct api_ctx *c, const struct store_gateway *gw, int64_t id)
{
        struct store_fw_campaign k;
        int r = store_fw_campaign_get(c->app->st, id, &k);

        if (r == 0 && strcmp(k.r.model, gw->model) != 0)
                r = -ENOENT;
        if (r < 0) {
                api_store_error(c, r, "campaign");
                return r;
        }
        if (rollout_bucket(k.r.id, gw->id) >= k.r.percent) {
                problem_respond(c->res, 409, "not_offered",
                                "Campaign %lld has not offered its update to this gateway.",
                                (long long)id);
                return -EPERM;
        }
        return 0;
}

void api_gateway_firmware_report(struct api_ctx *c)
{
        struct store_fw_report rep = { 0 };
        struct store_fw_report_result res;
        struct store_gateway gw;
        struct store_home home;
        char code[FW_CODE_MAX + 1];
        int r;

        if (api_gateway_home(c, false, &gw, &home) < 0)
                return;
        if (report_read(c, &rep, code) < 0 || report_allowed(c, &gw, rep.campaign_id) < 0)
                return;
        rep.gateway_id = gw.id;
        r = store_fw_report(c->app->st, &rep, c->now, &res);
        if (r == -ESTALE) {
                problem_respond(c->res, 409, "campaign_ended",
                                "Campaign %lld has ended; it takes no more reports.",
                                (long long)rep.campaign_id);
                return;
        }
        if (r == -EPERM) {
                problem_respond(c->res, 409, "already_installed",
                                "This gateway reported the update installed already; that "
                                "report is final.");
                return;
        }
        if (r < 0) {
                api_store_error(c, r, "report");
                return;
        }
        if (res.paused_now) {
                cache_invalidate();
                log_kv(LOG_WARN, "firmware campaign paused: failure rate", "model",
                       res.campaign.r.model, "version", res.campaign.r.version, NULL);
        }
        api_json(c, 200, json_pack("{s:I, s:s, s:b, s:s}", "campaign_id",
                                   (json_int_t)rep.campaign_id, "state",
                                   rollout_state_name(rep.state), "changed", res.changed,
                                   "campaign_state", res.campaign.state));
}
