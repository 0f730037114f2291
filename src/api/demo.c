/*
 * demo.c - demo data for `enemane serve --demo` (what `make run` uses):
 * on an empty database, one operator and two members (an individual and a
 * corporation) who accepted the current documents. The corporation is a
 * verified host with a few chargers near Tokyo station (codes attached,
 * slots for the next week); the individual is a driver with an EV, so the
 * search and the calendar show something at once. Everything goes through
 * the same store calls as the API. The passwords are printed on the console
 * and in the README; never use --demo in production.
 */
#include "api/api.h"

#include <stdio.h>
#include <string.h>

#include "domain/charger.h"
#include "domain/slot.h"
#include "store/store_charger.h"
#include "store/store_document.h"
#include "store/store_host.h"
#include "store/store_slot.h"
#include "util/crypto.h"
#include "util/log.h"

struct demo_member {
        const char *kind, *role, *email, *password, *name, *kana, *corp, *contact;
        const char *birth;
};

static const struct demo_member demo_members[] = {
        { "individual", "operator", "operator@demo.enemane.jp", "demo-operator-2026",
          "運営 太郎", "ウンエイ タロウ", "", "", "1980-04-01" },
        { "individual", "member", "hanako@demo.enemane.jp", "demo-member-2026",
          "山田 花子", "ヤマダ ハナコ", "", "", "1990-05-15" },
        { "corporation", "member", "fleet@demo.enemane.jp", "demo-corporate-2026",
          "株式会社デモ充電", "カブシキガイシャデモジュウデン", "株式会社デモ充電", "佐藤 一郎", "" },
};

static int demo_create(struct store *st, const struct demo_member *d, const int64_t *docs,
                       size_t n_docs, int64_t now, int64_t *id_out)
{
        struct store_member_new n;
        struct store_actor sys = { 0, "system", "", "" };
        char hash[CRYPTO_PWHASH_MAX];
        int r;

        memset(&n, 0, sizeof(n));
        snprintf(n.m.kind, sizeof(n.m.kind), "%s", d->kind);
        snprintf(n.m.role, sizeof(n.m.role), "%s", d->role);
        snprintf(n.m.email, sizeof(n.m.email), "%s", d->email);
        snprintf(n.m.name, sizeof(n.m.name), "%s", d->name);
        snprintf(n.m.name_kana, sizeof(n.m.name_kana), "%s", d->kana);
        snprintf(n.m.phone, sizeof(n.m.phone), "0312345678");
        snprintf(n.m.postcode, sizeof(n.m.postcode), "100-0005");
        snprintf(n.m.prefecture, sizeof(n.m.prefecture), "東京都");
        snprintf(n.m.city, sizeof(n.m.city), "千代田区");
        snprintf(n.m.line1, sizeof(n.m.line1), "丸の内1-1-1");
        snprintf(n.m.birth_date, sizeof(n.m.birth_date), "%s", d->birth);
        snprintf(n.m.corporate_name, sizeof(n.m.corporate_name), "%s", d->corp);
        snprintf(n.m.contact_person, sizeof(n.m.contact_person), "%s", d->contact);
        r = crypto_password_hash(d->password, hash);
        if (r < 0)
                return r;
        n.email_norm = d->email;
        n.password_hash = hash;
        n.document_ids = docs;
        n.n_documents = n_docs;
        return store_member_create(st, &n, &sys, now, id_out);
}

static void count_cb(const struct store_member *m, void *ud)
{
        (void)m;
        (*(int *)ud)++;
}

/* ---- charging demo ------------------------------------------------------------- */

static const struct store_actor demo_sys = { 0, "system", "", "" };

struct demo_charger {
        const char *kind, *maker, *model, *connector, *line1;
        int64_t output_w, lat_e6, lon_e6, hourly_price;
        bool onsite;
};

static const struct demo_charger demo_chargers[] = {
        { "normal", "Panasonic", "ELSEEV hekia S", "type1", "丸の内1-9-1", 6000, 35681236,
          139767125, 300, false },
        { "normal", "Panasonic", "ELSEEV hekia S", "type1", "八重洲2-1-1", 6000, 35679400,
          139770300, 280, false },
        { "ev_outlet", "Panasonic", "WK4322", "outlet_200v", "大手町1-6-1", 3000, 35686100,
          139763900, 200, false },
        { "compatible_fast", "Nichicon", "NQC-TC", "chademo", "日本橋1-4-1", 50000, 35683900,
          139773500, 900, true },
        { "normal", "Panasonic", "ELSEEV cabi", "type2", "有楽町2-7-1", 6000, 35674900,
          139763100, 350, false },
};

/* One charger, its code mailed and attached, and slots 08:00-20:00 Tokyo
 * for the next 7 days. */
static int demo_charger_add(struct store *st, int64_t host, const struct demo_charger *d,
                            int64_t now)
{
        struct store_charger c;
        struct slot_range ranges[7];
        struct store_slot slots[7];     /* store_slot_create writes one per range */
        struct store_slot_conflict why;
        int64_t id, today = slot_local_day(now);
        int r;

        memset(&c, 0, sizeof(c));
        c.host_id = host;
        snprintf(c.kind, sizeof(c.kind), "%s", d->kind);
        snprintf(c.maker, sizeof(c.maker), "%s", d->maker);
        snprintf(c.model, sizeof(c.model), "%s", d->model);
        snprintf(c.connector, sizeof(c.connector), "%s", d->connector);
        snprintf(c.postcode, sizeof(c.postcode), "100-0005");
        snprintf(c.prefecture, sizeof(c.prefecture), "東京都");
        snprintf(c.city, sizeof(c.city), "千代田区");
        snprintf(c.line1, sizeof(c.line1), "%s", d->line1);
        snprintf(c.surroundings, sizeof(c.surroundings), "屋外の月極駐車場の一角です。");
        snprintf(c.usage_notes, sizeof(c.usage_notes), "ケーブルは充電後に元の位置へ。");
        c.output_w = d->output_w;
        c.lat_e6 = d->lat_e6;
        c.lon_e6 = d->lon_e6;
        c.onsite_reservation = d->onsite;
        c.extendable = !d->onsite;
        c.penalty_enabled = true;
        crypto_token_new("chq_", c.qr_token);
        crypto_token_hash(c.qr_token, c.qr_token_hash);
        r = store_charger_create(st, &c, &demo_sys, now, &id);
        if (r == 0)
                r = store_charger_qr_event(st, id, CHARGER_QR_MAIL, NULL, NULL, &demo_sys, now);
        if (r == 0)
                r = store_charger_qr_event(st, id, CHARGER_QR_ATTACH, NULL, c.qr_token_hash,
                                           &demo_sys, now);
        for (int i = 0; r == 0 && i < 7; i++) {
                ranges[i].starts_at = slot_local_to_utc((today + 1 + i) * 86400 + 8 * 3600);
                ranges[i].ends_at = slot_local_to_utc((today + 1 + i) * 86400 + 20 * 3600);
        }
        if (r == 0)
                r = store_slot_create(st, id, ranges, 7, d->hourly_price, "slot.create_pattern",
                                      &demo_sys, now, slots, &why);
        return r;
}

/* The corporation hosts (verified, contract active) five chargers; the
 * individual is a driver with an EV. */
static int demo_charging(struct store *st, int64_t host, int64_t driver, int64_t now)
{
        struct store_driver d = { .member_id = driver };
        struct store_vehicle v = { .member_id = driver, .battery_wh = 40000 };
        int64_t vid;
        int r;

        r = store_host_create(st, host, "デモ充電ステーション", &demo_sys, now);
        if (r == 0)
                r = store_host_set_verification(st, host, "verified", "", &demo_sys, now);
        if (r == 0)
                r = store_host_set_contract(st, host, "active", &demo_sys, now);
        for (size_t i = 0; r == 0 && i < sizeof(demo_chargers) / sizeof(demo_chargers[0]); i++)
                r = demo_charger_add(st, host, &demo_chargers[i], now);
        if (r < 0)
                return r;
        snprintf(d.licence_expires_on, sizeof(d.licence_expires_on), "2030-05-15");
        snprintf(d.compulsory_insurance_expires_on,
                 sizeof(d.compulsory_insurance_expires_on), "2028-03-31");
        snprintf(d.voluntary_insurance_expires_on, sizeof(d.voluntary_insurance_expires_on),
                 "2028-03-31");
        r = store_driver_put(st, &d, &demo_sys, now);
        if (r < 0)
                return r;
        snprintf(v.maker, sizeof(v.maker), "Nissan");
        snprintf(v.model, sizeof(v.model), "LEAF");
        snprintf(v.plate, sizeof(v.plate), "品川 300 あ 12-34");
        snprintf(v.powertrain, sizeof(v.powertrain), "ev");
        snprintf(v.connector, sizeof(v.connector), "chademo");
        return store_vehicle_add(st, &v, 10, &demo_sys, now, &vid);
}

int api_demo_load(struct store *st, int64_t now)
{
        struct store_member_filter f = { .limit = 1 };
        struct store_document cur[STORE_DOC_KINDS];
        int64_t ids[STORE_DOC_KINDS];
        int64_t member_ids[sizeof(demo_members) / sizeof(demo_members[0])];
        int existing = 0, n, r;

        r = store_member_list(st, &f, count_cb, &existing);
        if (r < 0)
                return r;
        if (existing > 0)
                return 0;       /* only on first start */
        n = store_document_current(st, cur, STORE_DOC_KINDS);
        if (n < 0)
                return n;
        for (int i = 0; i < n; i++)
                ids[i] = cur[i].id;
        for (size_t i = 0; i < sizeof(demo_members) / sizeof(demo_members[0]); i++) {
                r = demo_create(st, &demo_members[i], ids, (size_t)n, now, &member_ids[i]);
                if (r < 0)
                        return r;
                log_kv(LOG_INFO, "demo account created", "email", demo_members[i].email,
                       "role", demo_members[i].role, NULL);
                /* The console, not the log: demo passwords are public (README),
                 * but nothing secret-shaped goes into the structured log. */
                printf("demo %-8s %-26s password: %s\n", demo_members[i].role,
                       demo_members[i].email, demo_members[i].password);
        }
        /* demo_members: [1] the individual driver, [2] the corporate host */
        r = demo_charging(st, member_ids[2], member_ids[1], now);
        if (r < 0)
                return r;
        printf("demo chargers: 5 near Tokyo station, e.g. GET /api/v1/chargers/search"
               "?lat=35.6812&lon=139.7671&radius_m=2000\n");
        fflush(stdout);
        return 1;
}
