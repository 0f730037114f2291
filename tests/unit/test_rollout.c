/*
 * test_rollout.c - firmware updates below the HTTP layer (HE-14): the
 * rollout rules (domain/rollout.c: buckets, version order, ranges, the
 * offer, report transitions, the automatic pause), signed manifests and
 * the key file (util/fwsign.c), the image store with range reads
 * (store/store_firmware.c), and the rollout simulation: 10,000 gateways
 * of a real store poll a campaign whose percentage is raised in stages,
 * report downloading and installed, then failures are injected until the
 * failure rate reaches the threshold and the campaign pauses itself.
 *
 * The simulation runs here, on the real store and domain functions, and
 * not through HTTP: 10,000 registrations and 4 x 10,000 polls through the
 * API take minutes under ASan, while this runs in seconds. The offer check
 * is the same function the API's poll uses (rollout_offers() over
 * store_fw_campaign_active(), which is what the poll cache holds). Reports
 * are sent from 8 threads, like gateways reporting at once, so the
 * writer's group commit is exercised and the automatic pause must be
 * decided inside the report's transaction to be exact.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "domain/rollout.h"
#include "store/store.h"
#include "store/store_firmware.h"
#include "store/store_gateway.h"
#include "util/crypto.h"
#include "util/fwsign.h"

#define T0 1780239600LL                 /* 2026-06-01T00:00:00+09:00 */
#define N_GW 10000
#define N_OLD 300                       /* gateways on 0.9.0: outside the range */
#define N_OTHER 200                     /* gateways of another model */
#define THREADS 8
#define MODEL "HEMS-A1"

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
        return remove(p);
}

/* ---- rules ------------------------------------------------------------------ */

static void test_HE_14_bucket_deterministic_spread_and_stable(void **state)
{
        int counts[ROLLOUT_BUCKETS] = { 0 };
        int same_bucket = 0;

        for (int64_t g = 1; g <= N_GW; g++) {
                int b = rollout_bucket(7, g);

                assert_true(b >= 0 && b < ROLLOUT_BUCKETS);
                assert_int_equal(b, rollout_bucket(7, g));     /* every poll the same */
                counts[b]++;
                same_bucket += b == rollout_bucket(8, g);
        }
        /* Uniform enough: each bucket holds 100 +- 45 of 10,000 (> 4 sigma). */
        for (int b = 0; b < ROLLOUT_BUCKETS; b++)
                assert_true(counts[b] > 55 && counts[b] < 145);
        /* Another campaign draws another cohort (1 % agree by chance). */
        assert_true(same_bucket < 250);
        /* Percent p offers exactly the buckets below p: raising keeps everyone. */
        for (int p = 0, prev = 0; p <= 100; p += 10) {
                int n = 0;

                for (int b = 0; b < p; b++)
                        n += counts[b];
                assert_true(n >= prev);
                prev = n;
        }
}

static void test_HE_14_version_order(void **state)
{
        assert_true(rollout_version_cmp("1.10.0", "1.9.0") > 0);
        assert_true(rollout_version_cmp("1.9", "1.10") < 0);
        assert_int_equal(rollout_version_cmp("2.0.1", "2.0.1"), 0);
        assert_int_equal(rollout_version_cmp("2.00.1", "2.0.1"), 0);
        assert_true(rollout_version_cmp("2.0", "2.0.1") < 0);
        assert_true(rollout_version_cmp("2.0.0-rc1", "2.0.0-rc2") < 0);
        assert_true(rollout_version_cmp("2.0.0-beta", "2.0.0-alpha") > 0);
        assert_true(rollout_version_cmp("99999999999999999999.1", "9.1") > 0);
        assert_true(rollout_version_cmp("", "0") < 0);
}

static void test_HE_14_ranges_and_offer(void **state)
{
        struct rollout_campaign c = { .id = 3, .percent = 100, .running = true };
        int offered = 0;

        assert_true(rollout_version_in_range("1.5", "1.0", "1.9"));
        assert_true(rollout_version_in_range("1.0", "1.0", "1.9"));
        assert_true(rollout_version_in_range("1.9", "1.0", "1.9"));
        assert_false(rollout_version_in_range("1.10", "1.0", "1.9"));
        assert_false(rollout_version_in_range("0.9", "1.0", ""));
        assert_true(rollout_version_in_range("0.9", "", "1.0"));
        assert_false(rollout_version_in_range("", "1.0", ""));
        assert_true(rollout_version_in_range("", "", ""));
        assert_true(rollout_ranges_overlap("1.0", "1.5", "1.5", "2.0"));
        assert_false(rollout_ranges_overlap("1.0", "1.4", "1.5", "2.0"));
        assert_true(rollout_ranges_overlap("", "", "1.5", "2.0"));
        assert_false(rollout_ranges_overlap("2.1", "", "", "2.0"));

        snprintf(c.model, sizeof(c.model), MODEL);
        snprintf(c.version, sizeof(c.version), "2.0.0");
        snprintf(c.from_min, sizeof(c.from_min), "1.0.0");
        assert_true(rollout_offers(&c, 42, MODEL, "1.2.0"));
        assert_false(rollout_offers(&c, 42, "HEMS-B", "1.2.0"));      /* model */
        assert_false(rollout_offers(&c, 42, MODEL, "2.0.0"));         /* has it */
        assert_false(rollout_offers(&c, 42, MODEL, "0.9.0"));         /* range */
        c.running = false;
        assert_false(rollout_offers(&c, 42, MODEL, "1.2.0"));         /* paused */
        c.running = true;
        c.percent = 30;
        for (int64_t g = 1; g <= 1000; g++)
                offered += rollout_offers(&c, g, MODEL, "1.2.0") ==
                           (rollout_bucket(3, g) < 30);
        assert_int_equal(offered, 1000);
        c.percent = 0;
        for (int64_t g = 1; g <= 1000; g++)
                assert_false(rollout_offers(&c, g, MODEL, "1.2.0"));
}

static void test_HE_14_report_transitions_and_pause_rule(void **state)
{
        assert_int_equal(rollout_state_parse("downloading"), ROLLOUT_DOWNLOADING);
        assert_int_equal(rollout_state_parse("installed"), ROLLOUT_INSTALLED);
        assert_int_equal(rollout_state_parse("failed"), ROLLOUT_FAILED);
        assert_int_equal(rollout_state_parse("done"), ROLLOUT_NONE);
        assert_int_equal(rollout_state_parse(NULL), ROLLOUT_NONE);
        assert_int_equal(rollout_transition(ROLLOUT_NONE, ROLLOUT_DOWNLOADING), 1);
        assert_int_equal(rollout_transition(ROLLOUT_DOWNLOADING, ROLLOUT_FAILED), 1);
        assert_int_equal(rollout_transition(ROLLOUT_FAILED, ROLLOUT_DOWNLOADING), 1);
        assert_int_equal(rollout_transition(ROLLOUT_FAILED, ROLLOUT_INSTALLED), 1);
        assert_int_equal(rollout_transition(ROLLOUT_FAILED, ROLLOUT_FAILED), 0);
        assert_int_equal(rollout_transition(ROLLOUT_INSTALLED, ROLLOUT_INSTALLED), 0);
        assert_int_equal(rollout_transition(ROLLOUT_INSTALLED, ROLLOUT_FAILED), -EPERM);

        /* 20 % after at least 10 reports. */
        assert_false(rollout_should_pause(0, 9, 20, 10));       /* too few reports */
        assert_true(rollout_should_pause(8, 2, 20, 10));        /* 2/10 = 20 % */
        assert_false(rollout_should_pause(9, 2, 20, 10));       /* 2/11 < 20 % */
        assert_true(rollout_should_pause(0, 10, 100, 10));
        assert_false(rollout_should_pause(1, 9, 100, 10));
        assert_false(rollout_should_pause(0, 0, 1, 1));
}

/* ---- signatures -------------------------------------------------------------- */

static void test_HE_14_manifest_signature_and_image_check(void **state)
{
        unsigned char pk[FWSIGN_PK_BYTES], sk[FWSIGN_SK_BYTES], pk2[FWSIGN_PK_BYTES];
        char text[FWSIGN_MANIFEST_MAX], sig[FWSIGN_SIG_B64], b64[FWSIGN_PK_B64];
        char bad[FWSIGN_MANIFEST_MAX], hex[2 * FWSIGN_PK_BYTES + 1];
        struct fwsign_manifest m = { .size = 5 }, back;
        static const char image[] = "hello";
        int n;

        crypto_sign_keypair(pk, sk);
        snprintf(m.model, sizeof(m.model), MODEL);
        snprintf(m.version, sizeof(m.version), "2.0.0");
        fwsign_sha256_hex(image, 5, m.sha256);
        assert_string_equal(m.sha256,
                            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
        n = fwsign_manifest_format(&m, text, sizeof(text));
        assert_true(n > 0);
        assert_string_equal(text, "enemane-firmware-manifest-v1\nmodel=HEMS-A1\nversion=2.0.0\n"
                            "size=5\nsha256=2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e730"
                            "43362938b9824\n");
        assert_int_equal(fwsign_manifest_parse(text, (size_t)n, &back), 0);
        assert_string_equal(back.version, "2.0.0");
        assert_true(back.size == 5);
        /* Not canonical: leading zero, missing last LF, extra line. */
        {
                const char *at = strstr(text, "size=5");
                size_t head = (size_t)(at - text) + 5;

                memcpy(bad, text, head);
                bad[head] = '0';
                memcpy(bad + head + 1, at + 5, (size_t)n - head + 1);
        }
        assert_non_null(strstr(bad, "\nsize=05\n"));
        assert_int_equal(fwsign_manifest_parse(bad, strlen(bad), &back), -EINVAL);
        assert_int_equal(fwsign_manifest_parse(text, (size_t)n - 1, &back), -EINVAL);
        memcpy(bad, text, (size_t)n);
        memcpy(bad + n, "x=1\n", 5);
        assert_int_equal(fwsign_manifest_parse(bad, strlen(bad), &back), -EINVAL);
        snprintf(m.model, sizeof(m.model), "bad model");
        assert_int_equal(fwsign_manifest_format(&m, bad, sizeof(bad)), -EINVAL);

        fwsign_sign(sk, text, (size_t)n, sig);
        assert_int_equal(strlen(sig), 88);
        assert_int_equal(fwsign_verify(pk, text, (size_t)n, sig), 0);
        assert_int_equal(fwsign_check_image(pk, text, (size_t)n, sig, 5, back.sha256, &back),
                         FWSIGN_OK);
        assert_int_equal(fwsign_check_image(pk, text, (size_t)n, sig, 6, back.sha256, &back),
                         FWSIGN_WRONG_SIZE);
        fwsign_sha256_hex("hellp", 5, bad);
        assert_int_equal(fwsign_check_image(pk, text, (size_t)n, sig, 5, bad, &back),
                         FWSIGN_WRONG_HASH);
        /* One changed byte of the manifest, or another key: refused. */
        snprintf(bad, sizeof(bad), "%s", text);
        bad[strstr(bad, "2.0.0") - bad] = '3';
        assert_int_equal(fwsign_check_image(pk, bad, (size_t)n, sig, 5, back.sha256, &back),
                         FWSIGN_BAD_SIGNATURE);
        crypto_sign_keypair(pk2, sk);
        assert_int_equal(fwsign_verify(pk2, text, (size_t)n, sig), -EBADMSG);
        assert_int_equal(fwsign_verify(pk, text, (size_t)n, "not base64!"), -EBADMSG);

        /* Public keys in base64 or hex. */
        fwsign_pk_b64(pk, b64);
        assert_int_equal(fwsign_pk_parse(b64, pk2), 0);
        assert_memory_equal(pk, pk2, FWSIGN_PK_BYTES);
        sodium_bin2hex(hex, sizeof(hex), pk, FWSIGN_PK_BYTES);
        memset(pk2, 0, sizeof(pk2));
        assert_int_equal(fwsign_pk_parse(hex, pk2), 0);
        assert_memory_equal(pk, pk2, FWSIGN_PK_BYTES);
        assert_int_equal(fwsign_pk_parse("abc", pk2), -EINVAL);
}

static void test_HE_14_key_file_created_0600_and_reused(void **state)
{
        char dir[] = "/tmp/enemane-fwkey-XXXXXX", path[128], db[128];
        unsigned char pk[FWSIGN_PK_BYTES], sk[FWSIGN_SK_BYTES], pk2[FWSIGN_PK_BYTES];
        unsigned char sk2[FWSIGN_SK_BYTES];
        struct stat sb;

        assert_non_null(mkdtemp(dir));
        snprintf(db, sizeof(db), "%s/enemane.db", dir);
        assert_int_equal(fwsign_key_path("", db, path, sizeof(path)), 0);
        assert_true(strlen(path) == strlen(db) + 6 && strstr(path, ".db.fwkey"));
        assert_int_equal(fwsign_key_path("/etc/x.key", db, path, 11), 0);
        assert_string_equal(path, "/etc/x.key");
        assert_int_equal(fwsign_key_path("", db, path, sizeof(path)), 0);

        assert_int_equal(fwsign_key_load(path, pk, sk), 0);            /* created */
        assert_int_equal(stat(path, &sb), 0);
        assert_int_equal(sb.st_mode & 0777, 0600);
        assert_int_equal(sb.st_size, 65);
        assert_int_equal(fwsign_key_load(path, pk2, sk2), 0);          /* the same key */
        assert_memory_equal(pk, pk2, sizeof(pk));
        assert_memory_equal(sk, sk2, sizeof(sk));
        assert_int_equal(fwsign_key_load(path, pk2, NULL), 0);
        assert_int_equal(chmod(path, 0644), 0);
        assert_int_equal(fwsign_key_load(path, pk2, sk2), -EPERM);     /* readable by others */
        assert_int_equal(chmod(path, 0600), 0);
        assert_int_equal(truncate(path, 10), 0);
        assert_int_equal(fwsign_key_load(path, pk2, sk2), -EINVAL);
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- the store ----------------------------------------------------------------- */

struct fx {
        char dir[64];
        char path[128];
        struct store *st;
        unsigned char pk[FWSIGN_PK_BYTES], sk[FWSIGN_SK_BYTES];
};

static int setup(void **state)
{
        struct fx *fx = calloc(1, sizeof(*fx));
        struct store_options opt = { 0 };
        char err[256] = "";
        int applied = 0;

        if (!fx)
                return -1;
        snprintf(fx->dir, sizeof(fx->dir), "/tmp/enemane-rollout-XXXXXX");
        if (!mkdtemp(fx->dir)) {
                free(fx);
                return -1;
        }
        snprintf(fx->path, sizeof(fx->path), "%s/rollout.db", fx->dir);
        opt.path = fx->path;
        if (store_open(&opt, &fx->st, err, sizeof(err)) < 0 ||
            store_migrate(fx->st, &applied) < 0) {
                fprintf(stderr, "store: %s\n", err);
                store_close(fx->st);
                nftw(fx->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
                free(fx);
                return -1;
        }
        crypto_sign_keypair(fx->pk, fx->sk);
        *state = fx;
        return 0;
}

static int teardown(void **state)
{
        struct fx *fx = *state;

        store_close(fx->st);
        nftw(fx->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        free(fx);
        return 0;
}

/* Stores a signed image of len bytes (byte i = i * 7 + seed). */
static int64_t image_add(struct fx *fx, const char *model, const char *version, size_t len,
                         int seed, unsigned char **data_out)
{
        unsigned char *data = malloc(len);
        struct store_fw_image img;
        struct fwsign_manifest m = { .size = len };
        int n;

        assert_non_null(data);
        for (size_t i = 0; i < len; i++)
                data[i] = (unsigned char)(i * 7 + (size_t)seed);
        memset(&img, 0, sizeof(img));
        snprintf(m.model, sizeof(m.model), "%s", model);
        snprintf(m.version, sizeof(m.version), "%s", version);
        fwsign_sha256_hex(data, len, m.sha256);
        n = fwsign_manifest_format(&m, img.manifest, sizeof(img.manifest));
        assert_true(n > 0);
        fwsign_sign(fx->sk, img.manifest, (size_t)n, img.signature);
        fwsign_key_id(fx->pk, img.key_id);
        memcpy(img.model, m.model, sizeof(img.model));
        memcpy(img.version, m.version, sizeof(img.version));
        memcpy(img.sha256, m.sha256, sizeof(img.sha256));
        img.notes = (char *)"Fixes the lamp.";
        assert_int_equal(store_fw_image_create(fx->st, &img, data, len, T0), 0);
        assert_true(img.id > 0);
        if (data_out)
                *data_out = data;
        else
                free(data);
        return img.id;
}

static void test_HE_14_store_image_range_reads(void **state)
{
        struct fx *fx = *state;
        unsigned char *data = NULL, buf[4096];
        struct store_fw_image img, list[4];
        struct fwsign_manifest m;
        size_t len = 300000;
        int64_t id = image_add(fx, MODEL, "2.0.0", len, 3, &data);
        int n = 0;

        assert_int_equal(store_fw_image_get(fx->st, id, &img), 0);
        assert_int_equal(img.size, (int64_t)len);
        assert_string_equal(img.notes, "Fixes the lamp.");
        assert_int_equal(fwsign_check_image(fx->pk, img.manifest, strlen(img.manifest),
                                            img.signature, len, img.sha256, &m), FWSIGN_OK);
        store_fw_image_clear(&img);
        /* Any range, including the first and the last byte. */
        assert_int_equal(store_fw_image_read(fx->st, id, 0, 10, buf), 0);
        assert_memory_equal(buf, data, 10);
        assert_int_equal(store_fw_image_read(fx->st, id, 123457, sizeof(buf), buf), 0);
        assert_memory_equal(buf, data + 123457, sizeof(buf));
        assert_int_equal(store_fw_image_read(fx->st, id, (int64_t)len - 1, 1, buf), 0);
        assert_int_equal(buf[0], data[len - 1]);
        assert_int_equal(store_fw_image_read(fx->st, id, (int64_t)len - 1, 2, buf), -EINVAL);
        assert_int_equal(store_fw_image_read(fx->st, id, -1, 1, buf), -EINVAL);
        assert_int_equal(store_fw_image_read(fx->st, id + 99, 0, 1, buf), -ENOENT);
        free(data);

        /* Versions are per model and immutable. */
        memset(&img, 0, sizeof(img));
        snprintf(img.model, sizeof(img.model), MODEL);
        snprintf(img.version, sizeof(img.version), "2.0.0");
        assert_int_equal(store_fw_image_create(fx->st, &img, "x", 1, T0), -EEXIST);
        image_add(fx, "HEMS-B2", "2.0.0", 10, 1, NULL);
        assert_int_equal(store_fw_image_list(fx->st, "", 0, list, 4, &n), 0);
        assert_int_equal(n, 2);
        assert_string_equal(list[0].model, "HEMS-B2");          /* newest first */
        assert_null(list[0].notes);
        assert_int_equal(store_fw_image_list(fx->st, MODEL, 0, list, 4, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(store_fw_image_set_notes(fx->st, id, "Longer notes."), 0);
        assert_int_equal(store_fw_image_get(fx->st, id, &img), 0);
        assert_string_equal(img.notes, "Longer notes.");
        store_fw_image_clear(&img);
}

/* Provisions n gateways of model on firmware; ids get their ids. */
static void gateways_add(struct fx *fx, const char *model, const char *firmware, int n,
                         int first, int64_t *ids)
{
        struct store_gateway_new *g = calloc((size_t)n, sizeof(*g));

        assert_non_null(g);
        for (int i = 0; i < n; i++) {
                char code[32];

                snprintf(code, sizeof(code), "GW-SIM-%06d", first + i);
                crypto_token_hash(code, g[i].code_hash);
                crypto_token_hash("secret", g[i].secret_hash);
                snprintf(g[i].code_tail, sizeof(g[i].code_tail), "%.4s", code + 9);
                snprintf(g[i].model, sizeof(g[i].model), "%s", model);
                snprintf(g[i].firmware, sizeof(g[i].firmware), "%s", firmware);
        }
        assert_int_equal(store_gateway_create(fx->st, g, (size_t)n, T0, ids), 0);
        free(g);
}

static void test_HE_14_campaign_overlap_percent_and_states(void **state)
{
        struct fx *fx = *state;
        struct store_fw_campaign_new n = { .percent = 10, .failure_pause_pct = 20,
                                           .failure_min_reports = 10 };
        struct store_fw_campaign k, k2, *act = NULL;
        struct store_fw_report_result res;
        struct store_fw_report rep = { 0 };
        int64_t gw[1];
        int na = 0;

        n.image_id = image_add(fx, MODEL, "2.0.0", 100, 0, NULL);
        n.from_min = "1.0";
        n.from_max = "1.9";
        assert_int_equal(store_fw_campaign_create(fx->st, &n, T0, &k), 0);
        assert_string_equal(k.state, "running");
        assert_string_equal(k.r.model, MODEL);
        assert_string_equal(k.r.version, "2.0.0");
        /* An overlapping range of the same model is refused while k is active. */
        n.from_min = "1.9";
        n.from_max = "";
        assert_int_equal(store_fw_campaign_create(fx->st, &n, T0, &k2), -EADDRINUSE);
        assert_int_equal(k2.r.id, k.r.id);
        n.from_min = "0.1";
        n.from_max = "0.9";
        assert_int_equal(store_fw_campaign_create(fx->st, &n, T0, &k2), 0);
        n.image_id = 999;
        assert_int_equal(store_fw_campaign_create(fx->st, &n, T0, &k2), -ENOENT);

        /* Percent only rises; pause, resume, end. */
        assert_int_equal(store_fw_campaign_update(fx->st, k.r.id, 50, "", T0 + 1, &k), 0);
        assert_int_equal(k.r.percent, 50);
        assert_int_equal(store_fw_campaign_update(fx->st, k.r.id, 40, "", T0 + 2, &k), -ERANGE);
        assert_int_equal(store_fw_campaign_update(fx->st, k.r.id, -1, "paused", T0 + 3, &k), 0);
        assert_string_equal(k.state, "paused");
        assert_string_equal(k.pause_reason, "operator");
        assert_false(k.r.running);
        assert_int_equal(store_fw_campaign_active(fx->st, &act, &na), 0);
        assert_int_equal(na, 2);                        /* paused ones stay active */
        free(act);
        assert_int_equal(store_fw_campaign_update(fx->st, k.r.id, 60, "running", T0 + 4, &k), 0);
        assert_string_equal(k.state, "running");
        assert_string_equal(k.pause_reason, "");
        assert_int_equal(k.r.percent, 60);

        /* Reports: installed is final and sets the gateway's firmware. */
        gateways_add(fx, MODEL, "1.2", 1, 900000, gw);
        rep.campaign_id = k.r.id;
        rep.gateway_id = gw[0];
        rep.state = ROLLOUT_DOWNLOADING;
        rep.code = "";
        assert_int_equal(store_fw_report(fx->st, &rep, T0 + 5, &res), 0);
        assert_true(res.changed);
        assert_int_equal(res.campaign.n_downloading, 1);
        assert_int_equal(store_fw_report(fx->st, &rep, T0 + 6, &res), 0);
        assert_false(res.changed);
        rep.state = ROLLOUT_INSTALLED;
        assert_int_equal(store_fw_report(fx->st, &rep, T0 + 7, &res), 0);
        assert_int_equal(res.campaign.n_downloading, 0);
        assert_int_equal(res.campaign.n_installed, 1);
        rep.state = ROLLOUT_FAILED;
        rep.code = "E1";
        assert_int_equal(store_fw_report(fx->st, &rep, T0 + 8, &res), -EPERM);
        {
                struct store_gateway g;

                assert_int_equal(store_gateway_get(fx->st, gw[0], &g), 0);
                assert_string_equal(g.firmware, "2.0.0");
        }

        assert_int_equal(store_fw_campaign_update(fx->st, k.r.id, -1, "ended", T0 + 9, &k), 0);
        assert_string_equal(k.state, "ended");
        assert_true(k.ended_at == T0 + 9);
        assert_int_equal(store_fw_campaign_update(fx->st, k.r.id, 70, "", T0 + 10, &k),
                         -ESTALE);
        rep.state = ROLLOUT_DOWNLOADING;
        assert_int_equal(store_fw_report(fx->st, &rep, T0 + 11, &res), -ESTALE);
        /* Ended frees the range for a new campaign. */
        n.image_id = k.image_id;
        n.from_min = "1.0";
        n.from_max = "";
        assert_int_equal(store_fw_campaign_create(fx->st, &n, T0 + 12, &k2), 0);
}

/* ---- the simulation ----------------------------------------------------------------- */

struct sim_gw {
        int64_t id;
        const char *model;
        char firmware[16];
        enum rollout_state state;       /* what it last reported */
        bool fail;                      /* it will report failed */
};

struct sim {
        struct fx *fx;
        int64_t campaign_id;
        struct sim_gw *gw;
        int *todo;                      /* indexes of gateways to report this round */
        int n_todo;
        int next;                       /* next index of todo to take */
        pthread_mutex_t mu;
        int paused_now;                 /* reports that paused the campaign */
        int64_t pause_installed, pause_failed;  /* counts right after that report */
        int64_t accepted;
};

/* What the poll's cache holds: the active campaigns. */
static int sim_poll_all(struct sim *s, int *offered_idx)
{
        struct store_fw_campaign *act = NULL;
        int na = 0, n = 0;

        assert_int_equal(store_fw_campaign_active(s->fx->st, &act, &na), 0);
        for (int i = 0; i < N_GW; i++) {
                const struct sim_gw *g = &s->gw[i];

                for (int k = 0; k < na; k++)
                        if (rollout_offers(&act[k].r, g->id, g->model, g->firmware)) {
                                assert_int_equal(act[k].r.id, s->campaign_id);
                                offered_idx[n++] = i;
                                break;
                        }
        }
        free(act);
        return n;
}

static void *sim_reporter(void *arg)
{
        struct sim *s = arg;

        for (;;) {
                struct store_fw_report rep = { .campaign_id = s->campaign_id };
                struct store_fw_report_result res;
                struct sim_gw *g;
                int i, r;

                pthread_mutex_lock(&s->mu);
                i = s->next < s->n_todo ? s->todo[s->next++] : -1;
                pthread_mutex_unlock(&s->mu);
                if (i < 0)
                        return NULL;
                g = &s->gw[i];
                rep.gateway_id = g->id;
                rep.state = ROLLOUT_DOWNLOADING;
                rep.code = "";
                r = store_fw_report(s->fx->st, &rep, T0 + 100, &res);
                if (r == 0) {
                        rep.state = g->fail ? ROLLOUT_FAILED : ROLLOUT_INSTALLED;
                        rep.code = g->fail ? "E_FLASH_WRITE" : "";
                        r = store_fw_report(s->fx->st, &rep, T0 + 101, &res);
                }
                pthread_mutex_lock(&s->mu);
                if (r == 0) {
                        g->state = rep.state;
                        if (rep.state == ROLLOUT_INSTALLED)
                                snprintf(g->firmware, sizeof(g->firmware), "2.0.0");
                        s->accepted++;
                }
                if (r == 0 && res.paused_now) {
                        s->paused_now++;
                        s->pause_installed = res.campaign.n_installed;
                        s->pause_failed = res.campaign.n_failed;
                }
                pthread_mutex_unlock(&s->mu);
                if (r < 0)
                        fprintf(stderr, "report of gateway %lld: %d\n", (long long)g->id, r);
        }
}

/* Every gateway offered and not yet reporting reports, from THREADS threads. */
static void sim_round(struct sim *s, const int *offered, int n_offered)
{
        pthread_t th[THREADS];

        s->n_todo = 0;
        s->next = 0;
        for (int k = 0; k < n_offered; k++)
                if (s->gw[offered[k]].state == ROLLOUT_NONE)
                        s->todo[s->n_todo++] = offered[k];
        for (int t = 0; t < THREADS; t++)
                assert_int_equal(pthread_create(&th[t], NULL, sim_reporter, s), 0);
        for (int t = 0; t < THREADS; t++)
                pthread_join(th[t], NULL);
}

static void test_HE_14_rollout_simulation_10000_gateways(void **state)
{
        static const int stages[] = { 1, 5, 20, 50 };
        struct fx *fx = *state;
        struct store_fw_campaign_new n = { .failure_pause_pct = 20, .failure_min_reports = 50 };
        struct store_fw_campaign k;
        struct sim s = { .fx = fx, .mu = PTHREAD_MUTEX_INITIALIZER };
        int64_t *ids = calloc(N_GW, sizeof(*ids));
        int *offered = calloc(N_GW, sizeof(*offered)), n_off = 0, prev_off = 0;
        int64_t installed = 0, failed = 0;

        s.gw = calloc(N_GW, sizeof(*s.gw));
        s.todo = calloc(N_GW, sizeof(*s.todo));
        assert_true(ids && offered && s.gw && s.todo);
        /* 9,500 in range (1.4.2), 300 too old (0.9.0), 200 of another model. */
        gateways_add(fx, MODEL, "1.4.2", N_GW - N_OLD - N_OTHER, 0, ids);
        gateways_add(fx, MODEL, "0.9.0", N_OLD, N_GW, ids + N_GW - N_OLD - N_OTHER);
        gateways_add(fx, "HEMS-B2", "1.4.2", N_OTHER, 2 * N_GW, ids + N_GW - N_OTHER);
        for (int i = 0; i < N_GW; i++) {
                s.gw[i].id = ids[i];
                s.gw[i].model = i >= N_GW - N_OTHER ? "HEMS-B2" : MODEL;
                snprintf(s.gw[i].firmware, sizeof(s.gw[i].firmware), "%s",
                         i >= N_GW - N_OLD - N_OTHER && i < N_GW - N_OTHER ? "0.9.0" : "1.4.2");
        }

        n.image_id = image_add(fx, MODEL, "2.0.0", 4096, 5, NULL);
        n.from_min = "1.0.0";
        n.from_max = "1.9.9";
        n.percent = 0;
        assert_int_equal(store_fw_campaign_create(fx->st, &n, T0, &k), 0);
        s.campaign_id = k.r.id;
        assert_int_equal(sim_poll_all(&s, offered), 0);         /* 0 %: nobody */

        /* Stages without failures: the offered set grows with the percent,
         * only in-range gateways of the model, each about p % of 9,500. */
        for (size_t st = 0; st < sizeof(stages) / sizeof(stages[0]); st++) {
                int p = stages[st], expect = (N_GW - N_OLD - N_OTHER) * p / 100;
                int64_t still = 0;

                assert_int_equal(store_fw_campaign_update(fx->st, k.r.id, p, "", T0 + p, &k), 0);
                n_off = sim_poll_all(&s, offered);
                for (int j = 0; j < n_off; j++) {
                        const struct sim_gw *g = &s.gw[offered[j]];

                        assert_string_equal(g->model, MODEL);
                        assert_string_equal(g->firmware, "1.4.2");
                        assert_true(rollout_bucket(k.r.id, g->id) < p);
                        still += g->state == ROLLOUT_NONE;
                }
                /* Installed gateways are on 2.0.0 and drop out of the offer. */
                assert_int_equal(n_off, still);
                assert_true(n_off + installed >= prev_off);
                assert_true(n_off + installed > expect - expect / 5 - 30 &&
                            n_off + installed < expect + expect / 5 + 30);
                if (p == 50) {
                        /* Inject: 60 % of the new installs of this stage fail. */
                        for (int j = 0; j < n_off; j++)
                                s.gw[offered[j]].fail = j % 5 < 3;
                }
                sim_round(&s, offered, n_off);
                prev_off = n_off + (int)installed;
                installed = 0;
                failed = 0;
                for (int i = 0; i < N_GW; i++) {
                        installed += s.gw[i].state == ROLLOUT_INSTALLED;
                        failed += s.gw[i].state == ROLLOUT_FAILED;
                }
                assert_int_equal(store_fw_campaign_get(fx->st, k.r.id, &k), 0);
                assert_int_equal(k.n_installed, installed);
                assert_int_equal(k.n_failed, failed);
                assert_int_equal(k.n_downloading, s.accepted - installed - failed);
                if (p < 50)
                        assert_string_equal(k.state, "running");
        }

        /* The campaign paused itself, exactly once, at the report whose
         * failure made the rate reach 20 % (with >= 50 reports). */
        assert_string_equal(k.state, "paused");
        assert_string_equal(k.pause_reason, "failure_rate");
        assert_int_equal(s.paused_now, 1);
        assert_true(s.pause_installed + s.pause_failed >= 50);
        assert_true(s.pause_failed * 100 >= 20 * (s.pause_installed + s.pause_failed));
        assert_true((s.pause_failed - 1) * 100 < 20 * (s.pause_installed + s.pause_failed - 1));
        assert_true(failed > 0 && installed > 1000);
        /* Paused: nobody is offered anything any more. */
        assert_int_equal(sim_poll_all(&s, offered), 0);
        {
                struct store_fw_code_count codes[4];
                int nc = 0;

                assert_int_equal(store_fw_failure_codes(fx->st, k.r.id, codes, 4, &nc), 0);
                assert_int_equal(nc, 1);
                assert_string_equal(codes[0].code, "E_FLASH_WRITE");
                assert_int_equal(codes[0].n, failed);
        }
        /* Installed gateways run 2.0.0 in the store too. */
        for (int i = 0; i < N_GW; i += 97) {
                struct store_gateway g;

                assert_int_equal(store_gateway_get(fx->st, s.gw[i].id, &g), 0);
                assert_string_equal(g.firmware, s.gw[i].firmware);
        }
        /* The operator resumes at 60 %: offers come back, to new gateways and
         * to the failed ones (they may retry); the next failure pauses again,
         * since the rate is still past the threshold. */
        assert_int_equal(store_fw_campaign_update(fx->st, k.r.id, 60, "running", T0 + 200, &k),
                         0);
        n_off = sim_poll_all(&s, offered);
        assert_true(n_off > 0);
        {
                struct store_fw_report rep = { .campaign_id = k.r.id, .state = ROLLOUT_FAILED,
                                               .code = "E_FLASH_WRITE" };
                struct store_fw_report_result res;
                int j = 0, retry = 0;

                for (int q = 0; q < n_off; q++)
                        retry += s.gw[offered[q]].state == ROLLOUT_FAILED;
                assert_int_equal(retry, failed);

                while (j < n_off && s.gw[offered[j]].state != ROLLOUT_NONE)
                        j++;
                assert_true(j < n_off);
                rep.gateway_id = s.gw[offered[j]].id;
                assert_int_equal(store_fw_report(fx->st, &rep, T0 + 201, &res), 0);
                assert_true(res.paused_now);
                assert_string_equal(res.campaign.state, "paused");
        }
        free(ids);
        free(offered);
        free(s.gw);
        free(s.todo);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_HE_14_bucket_deterministic_spread_and_stable),
                cmocka_unit_test(test_HE_14_version_order),
                cmocka_unit_test(test_HE_14_ranges_and_offer),
                cmocka_unit_test(test_HE_14_report_transitions_and_pause_rule),
                cmocka_unit_test(test_HE_14_manifest_signature_and_image_check),
                cmocka_unit_test(test_HE_14_key_file_created_0600_and_reused),
                cmocka_unit_test_setup_teardown(test_HE_14_store_image_range_reads, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_HE_14_campaign_overlap_percent_and_states,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_HE_14_rollout_simulation_10000_gateways,
                                                setup, teardown),
        };

        if (sodium_init() < 0)
                return 1;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
