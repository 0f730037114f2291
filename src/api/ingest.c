/*
 * ingest.c - measurement uploads (HE-7): the JSON batch format
 * (POST /api/v1/gateway/measurements) and InfluxDB line protocol on both
 * compatible paths (POST /write, v1, and POST /api/v2/write, v2), with gzip
 * bodies. One pipeline for all three:
 *
 *   authenticate the gateway and find its active home (HE-2, HE-4)
 *   -> decode gzip (bounded) -> parse (domain/lineproto.h, ingest_json.h)
 *   -> reject points in the future or before the registration, per point
 *   -> prepare chunks and rollups on this worker (store_ts.h)
 *   -> one durable write job, idempotent by batch id -> answer.
 *
 * A batch id comes from the JSON body, else the X-Batch-Id header or the
 * 'batch' query parameter, else it is the BLAKE2b hash of the decoded body:
 * a client that resends the same body after a timeout never stores a point
 * twice, with or without ids.
 */
#include <errno.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "api/api.h"
#include "api/api_energy.h"
#include "api/validate.h"
#include "domain/ingest_json.h"
#include "domain/lineproto.h"
#include "store/store_ts.h"
#include "util/timeutil.h"

#define REJECTS_SHOWN 100       /* rejects listed in an answer (all are counted) */

enum ingest_format { FMT_JSON, FMT_LP };

/* ---- body decoding ----------------------------------------------------------- */

/* Inflates a gzip body into *out (malloc'd, NUL-terminated), at most max
 * bytes. -EINVAL corrupt, -E2BIG too large, -ENOMEM. */
static int gunzip(const char *in, size_t in_len, size_t max, char **out, size_t *out_len)
{
        z_stream z;
        size_t cap = in_len * 4 + 1024, n = 0;
        char *buf;
        int zr = Z_OK;

        if (cap > max + 1)
                cap = max + 1;
        buf = malloc(cap + 1);
        if (!buf)
                return -ENOMEM;
        memset(&z, 0, sizeof(z));
        if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
                free(buf);
                return -ENOMEM;
        }
        z.next_in = (Bytef *)(uintptr_t)in;
        z.avail_in = (uInt)in_len;
        while (zr != Z_STREAM_END) {
                if (n == cap) {
                        size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
                        char *nb;

                        if (ncap <= cap) {
                                zr = Z_BUF_ERROR;
                                break;
                        }
                        nb = realloc(buf, ncap + 1);
                        if (!nb) {
                                zr = Z_MEM_ERROR;
                                break;
                        }
                        buf = nb;
                        cap = ncap;
                }
                z.next_out = (Bytef *)buf + n;
                z.avail_out = (uInt)(cap - n);
                zr = inflate(&z, Z_NO_FLUSH);
                n = cap - z.avail_out;
                if (zr != Z_OK && zr != Z_STREAM_END)
                        break;
                if (zr == Z_OK && z.avail_in == 0 && z.avail_out > 0) {
                        zr = Z_DATA_ERROR;      /* truncated stream */
                        break;
                }
        }
        inflateEnd(&z);
        if (zr != Z_STREAM_END || n > max) {
                free(buf);
                if (zr == Z_MEM_ERROR)
                        return -ENOMEM;
                return (n > max || (zr == Z_BUF_ERROR && n >= max)) ? -E2BIG : -EINVAL;
        }
        buf[n] = '\0';
        *out = buf;
        *out_len = n;
        return 0;
}

/* The body as text: decoded when gzip. *owned is what to free. 0 or <0 with
 * the problem rendered. */
static int body_text(struct api_ctx *c, const char **body, size_t *len, char **owned)
{
        const char *enc = c->req->content_encoding;
        size_t max = (size_t)c->app->cfg->energy_max_decoded_body;
        int r;

        *owned = NULL;
        *body = c->req->body ? c->req->body : "";
        *len = c->req->body_len;
        if (!enc || !*enc || strcasecmp(enc, "identity") == 0)
                return 0;
        if (strcasecmp(enc, "gzip") != 0) {
                problem_respond(c->res, 415, "unsupported_encoding",
                                "Content-Encoding must be gzip or identity.");
                return -EINVAL;
        }
        r = gunzip(*body, *len, max, owned, len);
        if (r == -E2BIG) {
                problem_respond(c->res, 413, "body_too_large",
                                "The decoded batch is larger than %zu bytes.", max);
                return r;
        }
        if (r < 0) {
                problem_respond(c->res, 400, "bad_gzip", "The gzip body could not be decoded.");
                return r;
        }
        *body = *owned;
        return 0;
}

/* ---- answers ------------------------------------------------------------------- */

static json_t *rejects_json(const struct ingest_batch *b)
{
        json_t *arr = json_array();

        for (size_t i = 0; i < b->n_rejects && i < REJECTS_SHOWN; i++) {
                const struct ingest_reject *rj = &b->rejects[i];
                json_t *o = json_pack("{s:I, s:s, s:s}", "index", (json_int_t)rj->index,
                                      "code", rj->code, "message", rj->message);

                if (rj->line)
                        json_object_set_new(o, "line", json_integer(rj->line));
                json_array_append_new(arr, o);
        }
        return arr;
}

/* Renders a whole-batch parse error. */
static void parse_error(struct api_ctx *c, int r, const struct ingest_error *e)
{
        struct problem *p;
        int status = r == -E2BIG ? 413 : (r == -ENOMEM ? 503 : 400);

        if (r == -EINVAL && e->code && strcmp(e->code, "validation_failed") == 0)
                status = 422;
        p = problem_new(status, e->code ? e->code : "bad_batch", "%s",
                        e->message[0] ? e->message : "The batch could not be read.");
        if (e->pointer[0] || e->line) {
                char field[96] = "body";

                if (e->pointer[0])
                        jv_pointer_field(e->pointer, field, sizeof(field));
                problem_add_error(p, field[0] ? field : "body", e->code ? e->code : "invalid",
                                  "%s", e->message);
        }
        if (e->line)
                problem_set_int(p, "line", e->line);
        problem_render(p, c->res);
}

static void render_result(struct api_ctx *c, enum ingest_format fmt, const char *batch_id,
                          int64_t accepted, int64_t rejected, json_t *rejects, bool dup)
{
        struct problem *p;

        if (rejected == 0 && fmt == FMT_LP) {
                json_decref(rejects);
                http_response_set(c->res, 204, NULL, NULL, 0);
                return;
        }
        if (rejected == 0 || (fmt == FMT_JSON && accepted > 0)) {
                api_json(c, 200, json_pack("{s:s, s:I, s:I, s:o, s:b}", "batch_id", batch_id,
                                           "accepted", (json_int_t)accepted, "rejected",
                                           (json_int_t)rejected, "rejects", rejects,
                                           "duplicate", dup));
                return;
        }
        /* Line protocol with rejects (InfluxDB answers a partial write with 400 and an
         * "error" member; its clients then do not resend), or nothing good at all. */
        if (accepted > 0)
                p = problem_new(400, "partial_write", "%lld of %lld points were rejected; the "
                                "others were stored.", (long long)rejected,
                                (long long)(accepted + rejected));
        else
                p = problem_new(422, "no_valid_points", "All %lld points were rejected; "
                                "nothing was stored.", (long long)rejected);
        problem_set_str(p, "error", accepted > 0 ? "partial write: points rejected" :
                        "no valid points");
        problem_set_str(p, "batch_id", batch_id);
        problem_set_int(p, "accepted", accepted);
        problem_set_int(p, "rejected", rejected);
        problem_set_json(p, "rejects", rejects);
        problem_set_json(p, "duplicate", json_boolean(dup));
        problem_render(p, c->res);
}

/* ---- the pipeline ---------------------------------------------------------------- */

/* The batch id of a line-protocol upload; -EINVAL when the one named is
 * too long (never cut: two long ids must not collide). */
static int batch_id_default(struct api_ctx *c, const char *body, size_t len,
                            struct ingest_batch *b)
{
        unsigned char h[16];
        char *q = NULL;
        const char *named = NULL;
        int r = 0;

        if (c->req->batch_id && *c->req->batch_id)
                named = c->req->batch_id;
        else if (http_query_get(c->req->query, "batch", &q) == 1 && *q)
                named = q;
        if (named) {
                if (strlen(named) > INGEST_BATCH_ID_MAX)
                        r = -EINVAL;
                else
                        snprintf(b->batch_id, sizeof(b->batch_id), "%s", named);
                free(q);
                return r;
        }
        free(q);
        crypto_generichash(h, sizeof(h), (const unsigned char *)body, len, NULL, 0);
        memcpy(b->batch_id, "sha:", 4);
        sodium_bin2hex(b->batch_id + 4, sizeof(b->batch_id) - 4, h, sizeof(h));
        return 0;
}

static bool batch_id_ok(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > INGEST_BATCH_ID_MAX)
                return false;
        for (size_t i = 0; i < n; i++) {
                char ch = s[i];

                if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                      (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == ':' ||
                      ch == '-'))
                        return false;
        }
        return true;
}

static int parse_body(struct api_ctx *c, enum ingest_format fmt, const char *body, size_t len,
                      struct ingest_batch *b)
{
        struct ingest_limits lim = {
                .max_points = (size_t)c->app->cfg->energy_max_batch_points,
                .max_series = (size_t)c->app->cfg->energy_max_batch_series,
        };
        struct ingest_error e = { 0 };
        enum lp_precision prec = LP_NS;
        char *ps = NULL;
        int r;

        if (fmt == FMT_JSON) {
                if (!c->req->content_type ||
                    strncasecmp(c->req->content_type, "application/json", 16) != 0) {
                        problem_respond(c->res, 415, "unsupported_media_type",
                                        "Send measurement batches as application/json.");
                        return -EINVAL;
                }
                r = ingest_json_parse(body, len, &lim, b, &e);
        } else {
                (void)http_query_get(c->req->query, "precision", &ps);
                r = lineproto_precision(ps, &prec);
                free(ps);
                if (r < 0) {
                        problem_respond(c->res, 400, "bad_precision",
                                        "precision must be ns, us, ms, s, m or h.");
                        return r;
                }
                r = lineproto_parse(body, len, prec, time_now_us() / 1000, &lim, b, &e);
                if (r == 0 && batch_id_default(c, body, len, b) < 0)
                        b->batch_id[0] = '\0';         /* refused below */
        }
        if (r < 0) {
                parse_error(c, r, &e);
                return r;
        }
        if (!batch_id_ok(b->batch_id)) {
                problem_respond(c->res, 422, "bad_batch_id",
                                "A batch id is 1 to 64 letters, digits or '_.:-'.");
                return -EINVAL;
        }
        return 0;
}

static void ingest_store_error(struct api_ctx *c, int r)
{
        if (r == -EMLINK)
                problem_respond(c->res, 422, "hour_full",
                                "A series of this batch already has 4,096 uploads for one hour; "
                                "send that hour's points in fewer, larger batches.");
        else if (r == -EOVERFLOW)
                problem_respond(c->res, 507, "storage_limit",
                                "This installation's time-series keys are exhausted; "
                                "the operator must move to a larger store.");
        else if (r == -EDQUOT)
                problem_respond(c->res, 422, "series_limit_reached",
                                "This home has reached its limit of %lld series.",
                                (long long)c->app->cfg->energy_max_series_per_home);
        else
                api_store_error(c, r, "measurements");
}

static void ingest(struct api_ctx *c, enum ingest_format fmt, bool allow_query)
{
        struct store_gateway gw;
        struct store_home home;
        struct ingest_batch b;
        struct ts_ingest in = { 0 };
        const char *body;
        char *owned = NULL;
        size_t len;
        int64_t now_ms = time_now_us() / 1000;
        json_t *rj;
        int r;

        if (api_gateway_home(c, allow_query, &gw, &home) < 0)
                return;
        if (body_text(c, &body, &len, &owned) < 0)
                return;
        ingest_batch_init(&b);
        r = parse_body(c, fmt, body, len, &b);
        /* Before the registration (and so before 2020, where the store's
         * packed keys begin) a point is refused. */
        if (r == 0)
                r = ingest_batch_window(&b, home.started_at * 1000 > TS_EPOCH_MS ?
                                        home.started_at * 1000 : TS_EPOCH_MS,
                                        now_ms + c->app->cfg->energy_future_tolerance * 1000);
        free(owned);
        if (r < 0) {
                if (c->res->status == 0)
                        problem_respond(c->res, 503, "out_of_memory", "Try again later.");
                ingest_batch_free(&b);
                return;
        }
        in.home_id = home.id;
        snprintf(in.batch_id, sizeof(in.batch_id), "%s", b.batch_id);
        in.now = c->now;
        in.max_series_per_home = (int)c->app->cfg->energy_max_series_per_home;
        in.accepted = (int64_t)b.n_points;
        in.rejected = (int64_t)b.n_rejects;
        rj = rejects_json(&b);
        in.rejects_json = json_dumps(rj, JSON_COMPACT);
        r = ts_ingest_prepare(&b, &in);
        if (r == 0)
                r = store_ts_ingest(c->app->st, &in);
        if (r < 0) {
                json_decref(rj);
                ingest_store_error(c, r);
        } else if (in.duplicate) {
                json_decref(rj);
                rj = json_loads(in.dup_rejects_json ? in.dup_rejects_json : "[]", 0, NULL);
                render_result(c, fmt, in.batch_id, in.dup_accepted, in.dup_rejected,
                              rj ? rj : json_array(), true);
        } else {
                render_result(c, fmt, in.batch_id, in.accepted, in.rejected, rj, false);
        }
        free(in.rejects_json);
        ts_ingest_free(&in);
        ingest_batch_free(&b);
}

void api_ingest_json(struct api_ctx *c)
{
        ingest(c, FMT_JSON, false);
}

void api_ingest_v1_write(struct api_ctx *c)
{
        ingest(c, FMT_LP, true);
}

void api_ingest_v2_write(struct api_ctx *c)
{
        ingest(c, FMT_LP, false);
}
