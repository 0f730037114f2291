/*
 * test_api_firmware.c - firmware updates over HTTP (HE-14): the operator
 * uploads an image (SHA-256 computed, manifest signed with the key kept in
 * "<db>.fwkey", mode 0600), the public key is served without login; a
 * campaign offers the update to a gateway, which downloads it in ranges
 * (206 with Content-Range, 416 for bad ranges) and checks it with
 * `enemane firmware verify`; a staged rollout over 200 gateways provisioned
 * with one bulk CSV: the offered set is exactly the gateways whose bucket
 * (BLAKE2b of campaign id and gateway id, recomputed here) is below the
 * percent, it grows as the percent is raised, reports move the counts, and
 * injected failures pause the campaign by themselves.
 *
 * The 10,000-gateway simulation of the same rules runs in
 * tests/unit/test_rollout.c on the real store (seconds instead of minutes
 * under ASan). This server runs with files.max_bytes = 512 KiB (so an
 * upload can be too large) and a failure threshold of 50 % after 4 reports
 * (campaigns here set their own where they test it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <sodium.h>

#include "energy_fixture.h"
#include "harness.h"

#define IMAGE_SIZE 200000
#define N_BULK 200
#define OCTET "Content-Type: application/octet-stream"

static struct api_server srv;
static const char *op;
static int seq;

static const char *const server_args[] = {
        "--files-max-bytes", "512k",
        "--firmware-failure-pause-pct", "50",
        "--firmware-failure-min-reports", "4",
        NULL,
};

static int setup(void **state)
{
        if (sodium_init() < 0)
                return -1;
        if (api_server_start(&srv, server_args) < 0)
                return -1;
        op = fixture_operator(&srv);
        return 0;
}

static int teardown(void **state)
{
        return api_server_stop(&srv) == 0 ? 0 : -1;
}

/* ---- plumbing ---------------------------------------------------------------------- */

static void expect(struct api_resp *r, long status)
{
        if (r->status != status)
                fprintf(stderr, "expected %ld, got %ld %s\n", status, r->status, r->body);
        assert_int_equal(r->status, status);
}

static unsigned char *image_bytes(size_t len, int seed)
{
        unsigned char *b = malloc(len);

        assert_non_null(b);
        for (size_t i = 0; i < len; i++)
                b[i] = (unsigned char)((i * 31 + (size_t)seed * 7) ^ (i >> 8));
        return b;
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
        unsigned char h[32];

        crypto_hash_sha256(h, data, len);
        sodium_bin2hex(out, 65, h, 32);
}

/* Operator upload: POST /api/v1/firmware?<query> with the bytes. */
static struct api_resp upload(const char *token, const char *content_type, const char *query,
                              const void *data, size_t len)
{
        char *auth = api_printf("Authorization: Bearer %s", token);
        char *path = api_printf("/api/v1/firmware?%s", query);
        const char *headers[] = { auth, content_type, NULL };
        struct api_resp r = { 0 };

        assert_int_equal(api_call_raw(&srv, "POST", path, headers, data, len, &r), 0);
        free(auth);
        free(path);
        return r;
}

/* Uploads a new image of model and version; returns its id. */
static int64_t upload_ok(const char *model, const char *version, const void *data, size_t len)
{
        char *q = api_printf("model=%s&version=%s", model, version);
        struct api_resp r = upload(op, OCTET, q, data, len);
        int64_t id;

        expect(&r, 201);
        id = api_json_int(r.json, "id", 0);
        assert_true(id > 0);
        api_resp_free(&r);
        free(q);
        return id;
}

static int64_t campaign_create(const char *body)
{
        struct api_resp r = fixture_call(&srv, "POST", "/api/v1/firmware/campaigns", op, body,
                                         201);
        int64_t id = api_json_int(r.json, "id", 0);

        assert_true(id > 0);
        api_resp_free(&r);
        return id;
}

static void campaign_patch(int64_t id, const char *body, long status, const char *code)
{
        char *path = api_printf("/api/v1/firmware/campaigns/%lld", (long long)id);
        struct api_resp r = { 0 };

        assert_int_equal(api_call(&srv, "PATCH", path, op, body, &r), 0);
        if (code)
                assert_problem(&r, status, code);
        else
                expect(&r, status);
        api_resp_free(&r);
        free(path);
}

static json_t *campaign_get(int64_t id)
{
        char *path = api_printf("/api/v1/firmware/campaigns/%lld", (long long)id);
        struct api_resp r = fixture_call(&srv, "GET", path, op, NULL, 200);
        json_t *j = json_incref(r.json);

        api_resp_free(&r);
        free(path);
        return j;
}

/* The gateway's offer: the "update" object (new reference) or NULL. */
static json_t *offer(const struct energy_gateway *g)
{
        struct api_resp r = energy_gateway_call(&srv, g, "GET", "/api/v1/gateway/firmware", NULL,
                                                200);
        json_t *u = json_object_get(r.json, "update");

        assert_non_null(u);
        u = json_is_null(u) ? NULL : json_incref(u);
        api_resp_free(&r);
        return u;
}

static struct api_resp report(const struct energy_gateway *g, int64_t campaign,
                              const char *state, const char *code)
{
        char *body = code ? api_printf("{\"campaign_id\":%lld,\"state\":\"%s\",\"code\":\"%s\"}",
                                       (long long)campaign, state, code) :
                     api_printf("{\"campaign_id\":%lld,\"state\":\"%s\"}", (long long)campaign,
                                state);
        struct api_resp r = energy_gateway_raw(&srv, g, "POST",
                                               "/api/v1/gateway/firmware/reports", body);

        free(body);
        return r;
}

static void report_ok(const struct energy_gateway *g, int64_t campaign, const char *state,
                      const char *code)
{
        struct api_resp r = report(g, campaign, state, code);

        expect(&r, 200);
        assert_string_equal(api_json_str(r.json, "state"), state);
        api_resp_free(&r);
}

/* The bucket of the spec: BLAKE2b-64 of both ids (8 bytes LE each), LE, mod 100. */
static int bucket(int64_t campaign, int64_t gateway)
{
        unsigned char in[16], out[8];
        uint64_t h = 0;

        for (int i = 0; i < 8; i++) {
                in[i] = (unsigned char)((uint64_t)campaign >> (8 * i));
                in[8 + i] = (unsigned char)((uint64_t)gateway >> (8 * i));
        }
        crypto_generichash(out, sizeof(out), in, sizeof(in), NULL, 0);
        for (int i = 7; i >= 0; i--)
                h = (h << 8) | out[i];
        return (int)(h % 100);
}

/* ---- ranges with libcurl (the harness does not keep Content-Range) -------------------- */

struct dl {
        unsigned char *data;
        size_t len, cap;
        char content_range[96];
        char etag[96];
};

static size_t dl_body(char *p, size_t size, size_t n, void *ud)
{
        struct dl *d = ud;
        size_t k = size * n;

        if (d->len + k > d->cap) {
                d->cap = (d->len + k) * 2;
                d->data = realloc(d->data, d->cap);
                assert_non_null(d->data);
        }
        memcpy(d->data + d->len, p, k);
        d->len += k;
        return k;
}

static void header_value(const char *line, size_t n, const char *name, char *out, size_t len)
{
        size_t nl = strlen(name);

        if (n <= nl || strncasecmp(line, name, nl) != 0)
                return;
        line += nl;
        n -= nl;
        while (n && *line == ' ') {
                line++;
                n--;
        }
        while (n && (line[n - 1] == '\r' || line[n - 1] == '\n'))
                n--;
        snprintf(out, len, "%.*s", (int)n, line);
}

static size_t dl_header(char *p, size_t size, size_t n, void *ud)
{
        struct dl *d = ud;

        header_value(p, size * n, "content-range:", d->content_range, sizeof(d->content_range));
        header_value(p, size * n, "etag:", d->etag, sizeof(d->etag));
        return size * n;
}

/* GET path as gateway g with an optional Range header; returns the status. */
static long range_get(const struct energy_gateway *g, const char *path, const char *range,
                      struct dl *d)
{
        CURL *c = curl_easy_init();
        struct curl_slist *h = NULL;
        char *url = api_printf("%s%s", srv.base_url, path);
        char *rh = range ? api_printf("Range: %s", range) : NULL;
        long status = 0;

        memset(d, 0, sizeof(*d));
        assert_non_null(c);
        h = curl_slist_append(h, g->auth);
        if (rh)
                h = curl_slist_append(h, rh);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, dl_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, d);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, dl_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, d);
        assert_int_equal(curl_easy_perform(c), CURLE_OK);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_slist_free_all(h);
        curl_easy_cleanup(c);
        free(url);
        free(rh);
        return status;
}

static void write_file(const char *path, const void *data, size_t len)
{
        FILE *f = fopen(path, "wb");

        assert_non_null(f);
        assert_int_equal(fwrite(data, 1, len, f), len);
        assert_int_equal(fclose(f), 0);
}

/* ---- HE-14 ----------------------------------------------------------------------------- */

static void test_HE_14_upload_hash_signature_and_public_key(void **state)
{
        unsigned char *img = image_bytes(IMAGE_SIZE, 1), pk[32], sig[64];
        char sha[65], *expect_manifest, *model = api_printf("HEMS-U%d", ++seq), *q;
        char *key_path = api_printf("%s.fwkey", srv.db_path), *member;
        const char *manifest, *sig_b64, *pk_b64;
        struct api_resp r = { 0 }, k = { 0 };
        size_t n = 0;
        struct stat sb;
        int64_t id;

        /* The public key needs no login; the key file is made on first use. */
        assert_int_equal(api_call(&srv, "GET", "/api/v1/firmware/public-key", NULL, NULL, &k),
                         0);
        expect(&k, 200);
        assert_string_equal(api_json_str(k.json, "algorithm"), "Ed25519");
        pk_b64 = api_json_str(k.json, "public_key");
        assert_int_equal(sodium_base642bin(pk, 32, pk_b64, strlen(pk_b64), NULL, &n, NULL,
                                           sodium_base64_VARIANT_ORIGINAL), 0);
        assert_int_equal(n, 32);
        assert_int_equal(stat(key_path, &sb), 0);
        assert_int_equal(sb.st_mode & 0777, 0600);

        q = api_printf("model=%s&version=2.0.0&notes=%%E7%%AF%%80%%E9%%9B%%BB%%20fix", model);
        r = upload(op, OCTET, q, img, IMAGE_SIZE);
        expect(&r, 201);
        id = api_json_int(r.json, "id", 0);
        sha256_hex(img, IMAGE_SIZE, sha);
        assert_string_equal(api_json_str(r.json, "sha256"), sha);
        assert_int_equal(api_json_int(r.json, "size", 0), IMAGE_SIZE);
        assert_string_equal(api_json_str(r.json, "notes"), "節電 fix");
        assert_string_equal(api_json_str(r.json, "key_id"), api_json_str(k.json, "key_id"));
        assert_non_null(strstr(r.location, "/api/v1/firmware/"));
        expect_manifest = api_printf("enemane-firmware-manifest-v1\nmodel=%s\nversion=2.0.0\n"
                                     "size=%d\nsha256=%s\n", model, IMAGE_SIZE, sha);
        manifest = api_json_str(r.json, "manifest");
        assert_string_equal(manifest, expect_manifest);
        /* The signature verifies with the served key, and only over the manifest. */
        sig_b64 = api_json_str(r.json, "signature");
        assert_int_equal(sodium_base642bin(sig, 64, sig_b64, strlen(sig_b64), NULL, &n, NULL,
                                           sodium_base64_VARIANT_ORIGINAL), 0);
        assert_int_equal(crypto_sign_verify_detached(sig, (const unsigned char *)manifest,
                                                     strlen(manifest), pk), 0);
        expect_manifest[strlen(expect_manifest) - 2] ^= 1;
        assert_int_not_equal(crypto_sign_verify_detached(sig,
                                                         (const unsigned char *)expect_manifest,
                                                         strlen(expect_manifest), pk), 0);
        api_resp_free(&r);

        /* The same version again: 409; the version is immutable. */
        r = upload(op, OCTET, q, img, 10);
        assert_problem(&r, 409, "firmware_exists");
        api_resp_free(&r);
        free(q);
        /* Wrong type, bad or missing fields, empty, too large, not an operator. */
        q = api_printf("model=%s&version=2.0.1", model);
        r = upload(op, "Content-Type: application/json", q, "{}", 2);
        assert_problem(&r, 415, "unsupported_media_type");
        api_resp_free(&r);
        r = upload(op, OCTET, "model=bad%20model", img, 10);
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "model", "invalid"));
        assert_true(has_field_error(&r, "version", "required"));
        api_resp_free(&r);
        r = upload(op, OCTET, q, NULL, 0);
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "body", "required"));
        api_resp_free(&r);
        {
                unsigned char *big = image_bytes(600 * 1024, 2);

                r = upload(op, OCTET, q, big, 600 * 1024);
                assert_problem(&r, 413, "body_too_large");
                api_resp_free(&r);
                free(big);
        }
        {
                char *email = api_printf("fw-member-%d@fw.test", seq);

                member = member_token(&srv, email);
                free(email);
        }
        r = upload(member, OCTET, q, img, 10);
        assert_problem(&r, 403, "forbidden");
        api_resp_free(&r);
        free(q);

        /* List, one, notes. */
        {
                char *path = api_printf("/api/v1/firmware?model=%s", model);
                json_t *items;

                r = fixture_call(&srv, "GET", path, op, NULL, 200);
                items = api_json_get(r.json, "items");
                assert_int_equal(json_array_size(items), 1);
                assert_int_equal(api_json_int(r.json, "items.0.id", 0), id);
                api_resp_free(&r);
                free(path);
                path = api_printf("/api/v1/firmware/%lld", (long long)id);
                r = fixture_call(&srv, "PATCH", path, op,
                                 "{\"notes\":\"Fixes the notice lamp.\\nSaves power.\"}", 200);
                assert_string_equal(api_json_str(r.json, "notes"),
                                    "Fixes the notice lamp.\nSaves power.");
                api_resp_free(&r);
                r = fixture_call(&srv, "GET", path, op, NULL, 200);
                assert_string_equal(api_json_str(r.json, "sha256"), sha);
                api_resp_free(&r);
                r = fixture_call(&srv, "GET", path, member, NULL, 403);
                api_resp_free(&r);
                free(path);
        }
        api_resp_free(&k);
        free(expect_manifest);
        free(model);
        free(key_path);
        free(member);
        free(img);
}

static void test_HE_14_offer_range_download_and_cli_verify(void **state)
{
        unsigned char *img = image_bytes(IMAGE_SIZE, 3), *got;
        char *model = api_printf("HEMS-D%d", ++seq), *owner, *path, *body, sha[65];
        char dir[] = "/tmp/enemane-fwcli-XXXXXX", f_img[64], f_man[64], f_key[64];
        struct energy_gateway g, other;
        struct api_resp r = { 0 };
        struct dl d;
        json_t *u;
        int64_t image, campaign;
        char *out = NULL, *dump;

        {
                char *email = api_printf("fw-owner-%d@fw.test", seq);

                owner = member_token(&srv, email);
                free(email);
        }
        energy_gateway_in_home(&srv, model, "1.2.0", owner, &g);
        energy_gateway_in_home(&srv, "HEMS-OTHER", "1.2.0", owner, &other);
        image = upload_ok(model, "2.0.0", img, IMAGE_SIZE);
        assert_null(offer(&g));                                 /* no campaign yet */
        body = api_printf("{\"image_id\":%lld,\"percent\":100,\"from_version_min\":\"1.0.0\","
                          "\"from_version_max\":\"1.9.9\"}", (long long)image);
        campaign = campaign_create(body);
        free(body);

        u = offer(&g);
        assert_non_null(u);
        sha256_hex(img, IMAGE_SIZE, sha);
        assert_int_equal(json_integer_value(json_object_get(u, "campaign_id")), campaign);
        assert_string_equal(json_string_value(json_object_get(u, "version")), "2.0.0");
        assert_int_equal(json_integer_value(json_object_get(u, "size")), IMAGE_SIZE);
        assert_string_equal(json_string_value(json_object_get(u, "sha256")), sha);
        assert_non_null(json_string_value(json_object_get(u, "manifest")));
        assert_non_null(json_string_value(json_object_get(u, "signature")));
        path = api_printf("/api/v1/gateway/firmware/%lld/image", (long long)image);
        assert_string_equal(json_string_value(json_object_get(u, "url")), path);
        assert_null(offer(&other));                             /* another model */

        /* Resumable download: two ranges make the image. */
        got = malloc(IMAGE_SIZE);
        assert_int_equal(range_get(&g, path, "bytes=0-65535", &d), 206);
        assert_int_equal(d.len, 65536);
        assert_string_equal(d.content_range, "bytes 0-65535/200000");
        assert_non_null(strstr(d.etag, sha));
        memcpy(got, d.data, d.len);
        free(d.data);
        assert_int_equal(range_get(&g, path, "bytes=65536-", &d), 206);
        assert_int_equal(d.len, IMAGE_SIZE - 65536);
        assert_string_equal(d.content_range, "bytes 65536-199999/200000");
        memcpy(got + 65536, d.data, d.len);
        free(d.data);
        assert_memory_equal(got, img, IMAGE_SIZE);
        /* The last 100 bytes; an end past the size is cut; no Range: 200 whole. */
        assert_int_equal(range_get(&g, path, "bytes=-100", &d), 206);
        assert_int_equal(d.len, 100);
        assert_memory_equal(d.data, img + IMAGE_SIZE - 100, 100);
        assert_string_equal(d.content_range, "bytes 199900-199999/200000");
        free(d.data);
        assert_int_equal(range_get(&g, path, "bytes=199990-300000", &d), 206);
        assert_int_equal(d.len, 10);
        free(d.data);
        assert_int_equal(range_get(&g, path, NULL, &d), 200);
        assert_int_equal(d.len, IMAGE_SIZE);
        assert_string_equal(d.content_range, "");
        free(d.data);
        /* Bad ranges: 416 with the size. */
        {
                static const char *const bad[] = { "bytes=200000-", "bytes=5-2", "bytes=0-1,5-6",
                                                   "items=0-5", "bytes=-0", "bytes=x-" };

                for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                        assert_int_equal(range_get(&g, path, bad[i], &d), 416);
                        assert_string_equal(d.content_range, "bytes */200000");
                        free(d.data);
                }
        }
        /* Another model's gateway cannot download it. */
        assert_int_equal(range_get(&other, path, NULL, &d), 404);
        free(d.data);

        /* The vendor's check: enemane firmware verify IMAGE MANIFEST PUBKEY. */
        assert_non_null(mkdtemp(dir));
        snprintf(f_img, sizeof(f_img), "%s/image.bin", dir);
        snprintf(f_man, sizeof(f_man), "%s/offer.json", dir);
        snprintf(f_key, sizeof(f_key), "%s/key.json", dir);
        write_file(f_img, got, IMAGE_SIZE);
        dump = json_dumps(u, 0);
        write_file(f_man, dump, strlen(dump));
        free(dump);
        assert_int_equal(api_call(&srv, "GET", "/api/v1/firmware/public-key", NULL, NULL, &r), 0);
        write_file(f_key, r.body, r.len);
        api_resp_free(&r);
        {
                const char *args[] = { "firmware", "verify", f_img, f_man, f_key, NULL };
                const char *usage[] = { "firmware", "verify", f_img, NULL };

                assert_int_equal(api_cli(args, &out), 0);
                assert_non_null(strstr(out, "verified: model="));
                assert_non_null(strstr(out, sha));
                free(out);
                got[IMAGE_SIZE / 2] ^= 0x01;                    /* one flipped bit */
                write_file(f_img, got, IMAGE_SIZE);
                assert_int_equal(api_cli(args, &out), 1);
                assert_non_null(strstr(out, "NOT VERIFIED"));
                assert_non_null(strstr(out, "SHA-256"));
                free(out);
                write_file(f_img, got, IMAGE_SIZE - 1);         /* cut short */
                assert_int_equal(api_cli(args, &out), 1);
                assert_non_null(strstr(out, "size"));
                free(out);
                assert_int_equal(api_cli(usage, &out), 2);
                free(out);
        }
        /* The text form: manifest, then "signature=..."; a tampered manifest fails. */
        {
                const char *args[] = { "firmware", "verify", f_img, f_man, f_key, NULL };
                char *txt = api_printf("%ssignature=%s\n",
                                       json_string_value(json_object_get(u, "manifest")),
                                       json_string_value(json_object_get(u, "signature")));

                write_file(f_img, img, IMAGE_SIZE);
                write_file(f_man, txt, strlen(txt));
                assert_int_equal(api_cli(args, &out), 0);
                free(out);
                *strstr(txt, "2.0.0") = '3';
                write_file(f_man, txt, strlen(txt));
                assert_int_equal(api_cli(args, &out), 1);
                assert_non_null(strstr(out, "signature"));
                free(out);
                free(txt);
        }
        unlink(f_img);
        unlink(f_man);
        unlink(f_key);
        rmdir(dir);

        /* Installed: the gateway runs 2.0.0 and is offered nothing more. */
        report_ok(&g, campaign, "downloading", NULL);
        report_ok(&g, campaign, "installed", NULL);
        assert_null(offer(&g));
        {
                char *gp = api_printf("/api/v1/gateways/%lld", (long long)g.id);

                r = fixture_call(&srv, "GET", gp, op, NULL, 200);
                assert_string_equal(api_json_str(r.json, "firmware"), "2.0.0");
                api_resp_free(&r);
                free(gp);
        }
        r = report(&g, campaign, "failed", "E1");
        assert_problem(&r, 409, "already_installed");
        api_resp_free(&r);
        campaign_patch(campaign, "{\"state\":\"ended\"}", 200, NULL);
        json_decref(u);
        free(got);
        free(path);
        free(owner);
        free(model);
        free(img);
}

/* Provisions n gateways of model with one bulk CSV and registers each. */
static void bulk_gateways(const char *model, const char *firmware, int n,
                          struct energy_gateway *g)
{
        struct buf_s { char *p; size_t len, cap; } csv = { 0 };
        char *auth = api_printf("Authorization: Bearer %s", op), *save = NULL, *line;
        const char *headers[] = { auth, "Content-Type: text/csv", NULL };
        struct api_resp r = { 0 };
        int k = 0;

        csv.cap = (size_t)n * 64 + 64;
        csv.p = malloc(csv.cap);
        assert_non_null(csv.p);
        csv.len = (size_t)snprintf(csv.p, csv.cap, "model,firmware\n");
        for (int i = 0; i < n; i++)
                csv.len += (size_t)snprintf(csv.p + csv.len, csv.cap - csv.len, "%s,%s\n", model,
                                            firmware);
        assert_int_equal(api_call_raw(&srv, "POST", "/api/v1/gateways/bulk", headers, csv.p,
                                      csv.len, &r), 0);
        expect(&r, 201);
        for (line = strtok_r(r.body, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *f[5], *q = line;

                if (strncmp(line, "id,", 3) == 0)
                        continue;
                for (int j = 0; j < 5; j++)
                        f[j] = strsep(&q, ",");
                assert_true(k < n);
                energy_gateway_credentials(&g[k], atoll(f[0]), f[1], f[2]);
                energy_gateway_register(&srv, &g[k]);
                k++;
        }
        assert_int_equal(k, n);
        api_resp_free(&r);
        free(csv.p);
        free(auth);
}

/* Polls every gateway; offered[i] = 1 when gateway i got campaign's offer. */
static int poll_all(struct energy_gateway *g, int n, int64_t campaign, int *offered)
{
        int total = 0;

        for (int i = 0; i < n; i++) {
                json_t *u = offer(&g[i]);

                offered[i] = u != NULL;
                if (u)
                        assert_int_equal(json_integer_value(json_object_get(u, "campaign_id")),
                                         campaign);
                total += offered[i];
                json_decref(u);
        }
        return total;
}

static void test_HE_14_staged_rollout_reports_and_auto_pause(void **state)
{
        struct energy_gateway *g = calloc(N_BULK, sizeof(*g));
        int *offered = calloc(N_BULK, sizeof(int)), *installed = calloc(N_BULK, sizeof(int));
        char *model = api_printf("HEMS-S%d", ++seq), *body;
        unsigned char *img = image_bytes(4096, 5);
        int64_t image, campaign;
        struct api_resp r = { 0 };
        int n_inst = 0, n_fail = 0, first_not = -1;
        json_t *j;

        assert_true(g && offered && installed);
        bulk_gateways(model, "1.0.0", N_BULK, g);
        image = upload_ok(model, "1.1.0", img, 4096);
        body = api_printf("{\"image_id\":%lld,\"percent\":10,\"from_version_max\":\"1.0.9\","
                          "\"failure_pause_pct\":20,\"failure_min_reports\":10}",
                          (long long)image);
        campaign = campaign_create(body);
        free(body);

        /* 10 %, then 30 %: exactly the gateways whose bucket is below. */
        for (int stage = 0; stage < 2; stage++) {
                int pct = stage == 0 ? 10 : 30, total;

                if (stage == 1) {
                        campaign_patch(campaign, "{\"percent\":5}", 409, "percent_decrease");
                        campaign_patch(campaign, "{\"percent\":30}", 200, NULL);
                }
                total = poll_all(g, N_BULK, campaign, offered);
                for (int i = 0; i < N_BULK; i++)
                        assert_int_equal(offered[i] || installed[i],
                                         bucket(campaign, g[i].id) < pct);
                assert_true(total + n_inst > N_BULK * pct / 100 - 20 &&
                            total + n_inst < N_BULK * pct / 100 + 20);
                for (int i = 0; i < N_BULK; i++) {
                        if (!offered[i]) {
                                first_not = first_not < 0 ? i : first_not;
                                continue;
                        }
                        report_ok(&g[i], campaign, "downloading", NULL);
                        report_ok(&g[i], campaign, "installed", NULL);
                        installed[i] = 1;
                        n_inst++;
                }
                j = campaign_get(campaign);
                assert_string_equal(api_json_str(j, "state"), "running");
                assert_int_equal(api_json_int(j, "percent", 0), pct);
                assert_int_equal(api_json_int(j, "counts.installed", -1), n_inst);
                assert_int_equal(api_json_int(j, "counts.failed", -1), 0);
                assert_int_equal(api_json_int(j, "counts.downloading", -1), 0);
                json_decref(j);
        }
        assert_true(n_inst >= 12);

        /* Reports the campaign does not take. */
        while (first_not >= 0 && bucket(campaign, g[first_not].id) < 30)
                first_not++;
        assert_true(first_not >= 0 && first_not < N_BULK);
        r = report(&g[first_not], campaign, "downloading", NULL);
        assert_problem(&r, 409, "not_offered");
        api_resp_free(&r);
        r = report(&g[0], campaign + 1000, "downloading", NULL);
        assert_problem(&r, 404, "not_found");
        api_resp_free(&r);
        r = report(&g[0], campaign, "done", NULL);
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "state", "invalid"));
        api_resp_free(&r);
        r = report(&g[0], campaign, "failed", NULL);
        assert_true(has_field_error(&r, "code", "required"));
        api_resp_free(&r);

        /* 100 %: the new gateways fail (E42) until the campaign pauses itself
         * at 20 % failures; then nobody is offered anything. */
        campaign_patch(campaign, "{\"percent\":100}", 200, NULL);
        poll_all(g, N_BULK, campaign, offered);
        for (int i = 0; i < N_BULK; i++) {
                const char *cs;

                if (!offered[i])
                        continue;
                report_ok(&g[i], campaign, "downloading", NULL);
                r = report(&g[i], campaign, "failed", "E42");
                expect(&r, 200);
                n_fail++;
                cs = api_json_str(r.json, "campaign_state");
                if (strcmp(cs, "paused") == 0) {
                        api_resp_free(&r);
                        break;
                }
                api_resp_free(&r);
        }
        assert_true(n_fail * 100 >= 20 * (n_inst + n_fail));
        assert_true((n_fail - 1) * 100 < 20 * (n_inst + n_fail - 1));
        j = campaign_get(campaign);
        assert_string_equal(api_json_str(j, "state"), "paused");
        assert_string_equal(api_json_str(j, "pause_reason"), "failure_rate");
        assert_int_equal(api_json_int(j, "counts.failed", -1), n_fail);
        assert_int_equal(api_json_int(j, "counts.installed", -1), n_inst);
        assert_string_equal(api_json_str(j, "failure_codes.0.code"), "E42");
        assert_int_equal(api_json_int(j, "failure_codes.0.gateways", 0), n_fail);
        assert_non_null(api_json_str(j, "paused_at"));
        json_decref(j);
        assert_int_equal(poll_all(g, N_BULK, campaign, offered), 0);

        /* The operator resumes (offers return), pauses, lists, ends. */
        campaign_patch(campaign, "{\"state\":\"running\"}", 200, NULL);
        assert_true(poll_all(g, 20, campaign, offered) > 0);
        campaign_patch(campaign, "{\"state\":\"paused\"}", 200, NULL);
        j = campaign_get(campaign);
        assert_string_equal(api_json_str(j, "pause_reason"), "operator");
        json_decref(j);
        assert_int_equal(poll_all(g, 20, campaign, offered), 0);
        r = fixture_call(&srv, "GET", "/api/v1/firmware/campaigns?state=paused", op, NULL, 200);
        assert_true(json_array_size(api_json_get(r.json, "items")) >= 1);
        api_resp_free(&r);
        /* A second campaign for overlapping versions waits for this one. */
        body = api_printf("{\"image_id\":%lld,\"percent\":10}", (long long)image);
        r = fixture_call(&srv, "POST", "/api/v1/firmware/campaigns", op, body, 409);
        assert_problem(&r, 409, "campaign_overlap");
        assert_int_equal(api_json_int(r.json, "campaign_id", 0), campaign);
        api_resp_free(&r);
        campaign_patch(campaign, "{\"state\":\"ended\"}", 200, NULL);
        campaign_patch(campaign, "{\"percent\":100}", 409, "campaign_ended");
        r = report(&g[0], campaign, "downloading", NULL);
        assert_problem(&r, 409, "campaign_ended");
        api_resp_free(&r);
        campaign_patch(campaign, "{}", 422, "validation_failed");
        free(body);
        free(model);
        free(img);
        free(g);
        free(offered);
        free(installed);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_HE_14_upload_hash_signature_and_public_key),
                cmocka_unit_test(test_HE_14_offer_range_download_and_cli_verify),
                cmocka_unit_test(test_HE_14_staged_rollout_reports_and_auto_pause),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
