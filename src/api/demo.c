/*
 * demo.c - demo data for `enemane serve --demo` (what `make run` uses):
 * on an empty database, one operator and two members (an individual and a
 * corporation) who accepted the current documents. The passwords are
 * printed in the log and the README; never use --demo in production.
 */
#include "api/api.h"

#include <stdio.h>
#include <string.h>

#include "store/store_document.h"
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
                       size_t n_docs, int64_t now)
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
        return store_member_create(st, &n, &sys, now, NULL);
}

static void count_cb(const struct store_member *m, void *ud)
{
        (void)m;
        (*(int *)ud)++;
}

int api_demo_load(struct store *st, int64_t now)
{
        struct store_member_filter f = { .limit = 1 };
        struct store_document cur[STORE_DOC_KINDS];
        int64_t ids[STORE_DOC_KINDS];
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
                r = demo_create(st, &demo_members[i], ids, (size_t)n, now);
                if (r < 0)
                        return r;
                log_kv(LOG_INFO, "demo account created", "email", demo_members[i].email,
                       "role", demo_members[i].role, NULL);
                /* The console, not the log: demo passwords are public (README),
                 * but nothing secret-shaped goes into the structured log. */
                printf("demo %-8s %-26s password: %s\n", demo_members[i].role,
                       demo_members[i].email, demo_members[i].password);
        }
        fflush(stdout);
        return 1;
}
