/*
 * members.c - member accounts: registration (CS-1, CS-2, CS-38/PD-1
 * consents), the member's own profile (CS-8 re-verification flag),
 * consents to new document versions, and withdrawal (CS-4).
 */
#include "api/api.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/validate.h"
#include "domain/member.h"
#include "domain/withdrawal.h"
#include "store/store_document.h"
#include "util/crypto.h"
#include "util/timeutil.h"

#define NAME_MAX_CHARS 100
#define TEXT_MAX_BYTES 400

json_t *api_member_json(const struct store_member *m)
{
        bool corp = strcmp(m->kind, "corporation") == 0;
        json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b}",
                              "id", (json_int_t)m->id, "kind", m->kind, "role", m->role,
                              "status", m->status, "email", m->email, "name", m->name,
                              "name_kana", m->name_kana, "phone", m->phone,
                              "reverification_required", m->reverify_required);

        if (!o)
                return NULL;
        json_object_set_new(o, "address",
                            json_pack("{s:s, s:s, s:s, s:s, s:s}", "postcode", m->postcode,
                                      "prefecture", m->prefecture, "city", m->city,
                                      "line1", m->line1, "line2", m->line2));
        json_object_set_new(o, "birth_date", corp ? json_null() : json_string(m->birth_date));
        json_object_set_new(o, "corporate_name", corp ? json_string(m->corporate_name) : json_null());
        json_object_set_new(o, "contact_person", corp ? json_string(m->contact_person) : json_null());
        if (m->guardian_consent_at)
                json_object_set_new(o, "guardian_consent",
                                    json_pack("{s:s, s:s, s:o}", "name", m->guardian_name,
                                              "relationship", m->guardian_relationship,
                                              "recorded_at", api_time(m->guardian_consent_at)));
        else
                json_object_set_new(o, "guardian_consent", json_null());
        if (strcmp(m->status, "suspended") == 0)
                json_object_set_new(o, "suspension",
                                    json_pack("{s:s, s:s, s:o}", "reason", m->suspend_reason,
                                              "note", m->suspend_note,
                                              "since", api_time(m->suspended_at)));
        json_object_set_new(o, "created_at", api_time(m->created_at));
        json_object_set_new(o, "updated_at", api_time(m->updated_at));
        return o;
}

/* ---- field checks shared by registration and profile update ------------- */

static void check_name(struct jv *v, const char *prefix, const char *key, const char *s)
{
        const char *why = NULL;

        if (s && member_name_valid(s, NAME_MAX_CHARS, &why) < 0)
                jv_error(v, prefix, key, "invalid", "%s %s.", key, why);
}

static void copy_field(char *dst, size_t len, const char *src)
{
        if (src)
                snprintf(dst, len, "%s", src);
}

/* Reads the address object into m; required fields per `required`. */
static void read_address(struct jv *v, json_t *body, bool required, struct store_member *m)
{
        static const char *const allowed[] = { "postcode", "prefecture", "city", "line1",
                                               "line2", NULL };
        json_t *a = jv_object(v, body, NULL, "address", required);
        const char *why = NULL, *s;

        if (!a)
                return;
        jv_unknown(v, a, "address", allowed);
        s = jv_str(v, a, "address", "postcode", true, 16);
        if (s && member_postcode_normalize(s, m->postcode, sizeof(m->postcode), &why) < 0)
                jv_error(v, "address", "postcode", "invalid", "postcode %s.", why);
        s = jv_str(v, a, "address", "prefecture", true, 16);
        if (s && member_prefecture_valid(s, &why) < 0)
                jv_error(v, "address", "prefecture", "invalid", "prefecture %s.", why);
        else
                copy_field(m->prefecture, sizeof(m->prefecture), s);
        s = jv_str(v, a, "address", "city", true, TEXT_MAX_BYTES);
        check_name(v, "address", "city", s);
        copy_field(m->city, sizeof(m->city), s);
        s = jv_str(v, a, "address", "line1", true, TEXT_MAX_BYTES);
        check_name(v, "address", "line1", s);
        copy_field(m->line1, sizeof(m->line1), s);
        s = jv_str(v, a, "address", "line2", false, TEXT_MAX_BYTES);
        if (s && *s)
                check_name(v, "address", "line2", s);
        copy_field(m->line2, sizeof(m->line2), s ? s : "");
}

static void read_kana(struct jv *v, json_t *body, bool required, struct store_member *m)
{
        const char *why = NULL;
        const char *s = jv_str(v, body, NULL, "name_kana", required, TEXT_MAX_BYTES);

        if (s && member_kana_valid(s, &why) < 0)
                jv_error(v, NULL, "name_kana", "invalid", "name_kana %s.", why);
        copy_field(m->name_kana, sizeof(m->name_kana), s);
}

static void read_phone(struct jv *v, json_t *body, bool required, struct store_member *m)
{
        const char *why = NULL;
        const char *s = jv_str(v, body, NULL, "phone", required, 32);

        if (s && member_phone_normalize(s, m->phone, sizeof(m->phone), &why) < 0)
                jv_error(v, NULL, "phone", "invalid", "phone %s.", why);
}

/* Returns 1 when the birth date makes the person a minor (CS-2). */
static int read_birth_date(struct jv *v, json_t *body, bool required, int64_t now,
                           int adult_age, struct store_member *m)
{
        const char *why = NULL;
        const char *s = jv_str(v, body, NULL, "birth_date", required, 16);
        int y, mo, d;

        if (!s)
                return 0;
        if (member_birth_date_valid(s, now, &why) < 0) {
                jv_error(v, NULL, "birth_date", "invalid", "birth_date %s.", why);
                return 0;
        }
        copy_field(m->birth_date, sizeof(m->birth_date), s);
        member_date_parse(s, &y, &mo, &d);
        return member_is_minor(y, mo, d, now, adult_age) ? 1 : 0;
}

/* CS-2: a minor registers only with a recorded guardian consent. */
static void read_guardian(struct jv *v, json_t *body, bool minor, int adult_age, int64_t now,
                          struct store_member *m)
{
        static const char *const allowed[] = { "name", "relationship", "consent", NULL };
        json_t *g = jv_object(v, body, NULL, "guardian", false);
        const char *name, *rel;

        if (!minor) {
                if (g)
                        jv_error(v, NULL, "guardian", "not_applicable",
                                 "A guardian consent is only recorded for members under %d.",
                                 adult_age);
                return;
        }
        if (!g) {
                jv_error(v, NULL, "guardian", "guardian_consent_required",
                         "Members under %d need their guardian's consent (CS-2): send "
                         "guardian.name, guardian.relationship and guardian.consent = true.",
                         adult_age);
                return;
        }
        jv_unknown(v, g, "guardian", allowed);
        name = jv_str(v, g, "guardian", "name", true, TEXT_MAX_BYTES);
        check_name(v, "guardian", "name", name);
        rel = jv_str(v, g, "guardian", "relationship", true, 60);
        check_name(v, "guardian", "relationship", rel);
        if (json_is_false(json_object_get(g, "consent")))
                jv_error(v, "guardian", "consent", "guardian_consent_required",
                         "The guardian must consent (true) for a minor to register.");
        else
                jv_bool(v, g, "guardian", "consent", true, false);
        copy_field(m->guardian_name, sizeof(m->guardian_name), name);
        copy_field(m->guardian_relationship, sizeof(m->guardian_relationship), rel);
        m->guardian_consent_at = now;
}

/* Reads [{document, version}] and resolves them to current document ids.
 * Registration needs every current version (CS-1, PD-1); with
 * require_all false, any current versions may be given. */
static int read_consents(struct jv *v, struct api_ctx *c, json_t *body, bool require_all,
                         int64_t *ids, size_t max)
{
        static const char *const allowed[] = { "document", "version", NULL };
        struct store_document cur[STORE_DOC_KINDS];
        json_t *arr = jv_array(v, body, NULL, "consents", true, 8);
        bool seen[STORE_DOC_KINDS] = { false };
        int n_cur, n = 0;
        size_t i;
        json_t *item;

        n_cur = store_document_current(c->app->st, cur, STORE_DOC_KINDS);
        if (n_cur < 0)
                return n_cur;
        if (n_cur > STORE_DOC_KINDS)
                n_cur = STORE_DOC_KINDS;
        if (!arr)
                return 0;
        json_array_foreach(arr, i, item) {
                char prefix[32];
                const char *kind, *version;
                bool matched = false;

                snprintf(prefix, sizeof(prefix), "consents.%zu", i);
                if (!json_is_object(item)) {
                        jv_error(v, "consents", prefix + 9, "type", "Must be an object.");
                        continue;
                }
                jv_unknown(v, item, prefix, allowed);
                kind = jv_str(v, item, prefix, "document", true, 16);
                version = jv_str(v, item, prefix, "version", true, 64);
                if (!kind || !version)
                        continue;
                for (int k = 0; k < n_cur; k++) {
                        if (strcmp(cur[k].kind, kind) != 0)
                                continue;
                        if (strcmp(cur[k].version, version) != 0)
                                break;
                        matched = true;
                        if (!seen[k] && (size_t)n < max)
                                ids[n++] = cur[k].id;
                        seen[k] = true;
                }
                if (!matched)
                        jv_error(v, prefix, "version", "not_current",
                                 "'%s' version '%s' is not the current version; read GET "
                                 "/api/v1/documents.", kind, version);
        }
        for (int k = 0; require_all && k < n_cur; k++)
                if (!seen[k])
                        jv_error(v, NULL, "consents", "consent_required",
                                 "Registration needs consent to the current %s (version '%s').",
                                 cur[k].kind, cur[k].version);
        return n;
}

/* ---- POST /api/v1/members ----------------------------------------------- */

static const char *const register_fields[] = {
        "kind", "email", "password", "name", "name_kana", "phone", "address", "birth_date",
        "corporate_name", "contact_person", "guardian", "consents", NULL,
};

struct registration {
        struct store_member_new n;
        char email_norm[MEMBER_EMAIL_BUFSZ];
        char password_hash[CRYPTO_PWHASH_MAX];
        int64_t doc_ids[STORE_DOC_KINDS];
        const char *password;
};

static void read_identity(struct jv *v, struct api_ctx *c, json_t *body, struct registration *g)
{
        struct store_member *m = &g->n.m;
        const char *kind = jv_str(v, body, NULL, "kind", true, 16);
        bool corp = kind && strcmp(kind, "corporation") == 0;
        int adult = (int)c->app->cfg->members_adult_age;

        if (kind && member_kind_from_name(kind) < 0)
                jv_error(v, NULL, "kind", "invalid", "kind must be individual or corporation.");
        copy_field(m->kind, sizeof(m->kind), kind ? kind : "individual");
        if (corp) {
                const char *cn = jv_str(v, body, NULL, "corporate_name", true, TEXT_MAX_BYTES);
                const char *cp = jv_str(v, body, NULL, "contact_person", true, TEXT_MAX_BYTES);

                check_name(v, NULL, "corporate_name", cn);
                check_name(v, NULL, "contact_person", cp);
                copy_field(m->corporate_name, sizeof(m->corporate_name), cn);
                copy_field(m->contact_person, sizeof(m->contact_person), cp);
                copy_field(m->name, sizeof(m->name), cn);
                if (json_object_get(body, "name"))
                        jv_error(v, NULL, "name", "not_applicable",
                                 "A corporation gives corporate_name and contact_person.");
                if (json_object_get(body, "birth_date"))
                        jv_error(v, NULL, "birth_date", "not_applicable",
                                 "A corporation has no birth date.");
                if (json_object_get(body, "guardian"))
                        jv_error(v, NULL, "guardian", "not_applicable",
                                 "A corporation has no guardian.");
        } else {
                const char *name = jv_str(v, body, NULL, "name", true, TEXT_MAX_BYTES);
                int minor;

                check_name(v, NULL, "name", name);
                copy_field(m->name, sizeof(m->name), name);
                minor = read_birth_date(v, body, true, c->now, adult, m);
                read_guardian(v, body, minor, adult, c->now, m);
                if (json_object_get(body, "corporate_name"))
                        jv_error(v, NULL, "corporate_name", "not_applicable",
                                 "Only a corporation has a corporate name.");
                if (json_object_get(body, "contact_person"))
                        jv_error(v, NULL, "contact_person", "not_applicable",
                                 "Only a corporation has a contact person.");
        }
}

static int read_registration(struct jv *v, struct api_ctx *c, json_t *body,
                             struct registration *g)
{
        const char *why = NULL, *email;
        int n;

        jv_unknown(v, body, NULL, register_fields);
        email = jv_str(v, body, NULL, "email", true, 300);
        if (email && member_email_normalize(email, g->email_norm, sizeof(g->email_norm), &why) < 0)
                jv_error(v, NULL, "email", "invalid", "email %s.", why);
        copy_field(g->n.m.email, sizeof(g->n.m.email), email);
        g->password = jv_str(v, body, NULL, "password", true, 1024);
        if (g->password && member_password_valid(g->password, email, &why) < 0)
                jv_error(v, NULL, "password", "weak_password", "password %s.", why);
        read_identity(v, c, body, g);
        read_kana(v, body, true, &g->n.m);
        read_phone(v, body, true, &g->n.m);
        read_address(v, body, true, &g->n.m);
        n = read_consents(v, c, body, true, g->doc_ids, STORE_DOC_KINDS);
        if (n < 0)
                return n;
        g->n.document_ids = g->doc_ids;
        g->n.n_documents = (size_t)n;
        g->n.email_norm = g->email_norm;
        g->n.password_hash = g->password_hash;
        return 0;
}

void api_member_register(struct api_ctx *c)
{
        struct registration g;
        struct store_member m;
        struct jv v;
        json_t *body;
        int64_t id = 0;
        char loc[64];
        int r;

        if (api_body_object(c->req, c->res, &body) < 0)
                return;
        memset(&g, 0, sizeof(g));
        jv_init(&v);
        r = read_registration(&v, c, body, &g);
        if (r < 0) {
                jv_free(&v);
                json_decref(body);
                api_store_error(c, r, "document");
                return;
        }
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                json_decref(body);
                return;
        }
        r = crypto_password_hash(g.password, g.password_hash);
        json_decref(body);      /* g.password pointed into it */
        if (r < 0) {
                api_store_error(c, r, "password");
                return;
        }
        c->actor.role = "member";
        r = store_member_create(c->app->st, &g.n, &c->actor, c->now, &id);
        if (r == -EEXIST) {
                struct problem *p = problem_new(409, "email_taken",
                                                "An account with this email exists already "
                                                "(CS-1: one account per person).");

                problem_add_error(p, "email", "taken", "This email is registered already.");
                problem_render(p, c->res);
                return;
        }
        if (r < 0) {
                api_store_error(c, r, "member");
                return;
        }
        c->req->member_id = id;
        r = store_member_get(c->app->st, id, &m);
        if (r < 0) {
                api_store_error(c, r, "member");
                return;
        }
        api_json(c, 201, api_member_json(&m));
        /* The member's own view of the new resource. */
        snprintf(loc, sizeof(loc), "/api/v1/me");
        http_response_header(c->res, "Location", loc);
}

/* ---- GET/PATCH /api/v1/me ------------------------------------------------ */

void api_me_get(struct api_ctx *c)
{
        struct store_member m;
        int r = store_member_get(c->app->st, c->member_id, &m);

        if (r < 0) {
                api_store_error(c, r, "member");
                return;
        }
        api_json(c, 200, api_member_json(&m));
}

static const char *const patch_fields[] = {
        "email", "kind", "name", "name_kana", "phone", "address", "birth_date", "corporate_name",
        "contact_person", NULL,
};

/* Appends field to the changed-items list and notes re-verification. */
static void changed(char *items, size_t len, const char *field, bool *reverify)
{
        size_t used = strlen(items);

        snprintf(items + used, len - used, "%s%s", used ? "," : "", field);
        if (member_change_needs_reverification(field))
                *reverify = true;
}

static void diff_profile(const struct store_member *a, const struct store_member *b,
                         char *items, size_t len, bool *reverify)
{
        if (strcmp(a->name, b->name) != 0)
                changed(items, len, "name", reverify);
        if (strcmp(a->name_kana, b->name_kana) != 0)
                changed(items, len, "name_kana", reverify);
        if (strcmp(a->phone, b->phone) != 0)
                changed(items, len, "phone", reverify);
        if (strcmp(a->postcode, b->postcode) != 0 || strcmp(a->prefecture, b->prefecture) != 0 ||
            strcmp(a->city, b->city) != 0 || strcmp(a->line1, b->line1) != 0 ||
            strcmp(a->line2, b->line2) != 0)
                changed(items, len, "address", reverify);
        if (strcmp(a->birth_date, b->birth_date) != 0)
                changed(items, len, "birth_date", reverify);
        if (strcmp(a->corporate_name, b->corporate_name) != 0)
                changed(items, len, "corporate_name", reverify);
        if (strcmp(a->contact_person, b->contact_person) != 0)
                changed(items, len, "contact_person", reverify);
}

static void read_patch(struct jv *v, struct api_ctx *c, json_t *body, struct store_member *m)
{
        bool corp = strcmp(m->kind, "corporation") == 0;
        int adult = (int)c->app->cfg->members_adult_age;
        const char *s;

        jv_unknown(v, body, NULL, patch_fields);
        if (json_object_get(body, "email"))
                jv_error(v, NULL, "email", "not_changeable",
                         "The email cannot be changed here; contact support.");
        if (json_object_get(body, "kind"))
                jv_error(v, NULL, "kind", "not_changeable",
                         "An account cannot change between individual and corporation.");
        if (json_object_get(body, "name") && corp)
                jv_error(v, NULL, "name", "not_applicable", "Change corporate_name instead.");
        s = corp ? NULL : jv_str(v, body, NULL, "name", false, TEXT_MAX_BYTES);
        check_name(v, NULL, "name", s);
        copy_field(m->name, sizeof(m->name), s);
        if (json_object_get(body, "name_kana"))
                read_kana(v, body, false, m);
        if (json_object_get(body, "phone"))
                read_phone(v, body, false, m);
        if (json_object_get(body, "address"))
                read_address(v, body, false, m);
        if (json_object_get(body, "birth_date") && corp) {
                jv_error(v, NULL, "birth_date", "not_applicable", "A corporation has no birth date.");
        } else if (json_object_get(body, "birth_date")) {
                int minor = read_birth_date(v, body, false, c->now, adult, m);

                if (minor && !m->guardian_consent_at)
                        jv_error(v, NULL, "birth_date", "guardian_consent_required",
                                 "This birth date makes the member a minor, and no guardian "
                                 "consent is recorded (CS-2); contact support.");
        }
        if (!corp) {
                if (json_object_get(body, "corporate_name") || json_object_get(body, "contact_person"))
                        jv_error(v, NULL, json_object_get(body, "corporate_name") ?
                                 "corporate_name" : "contact_person", "not_applicable",
                                 "Only a corporation has this field.");
                return;
        }
        s = jv_str(v, body, NULL, "corporate_name", false, TEXT_MAX_BYTES);
        check_name(v, NULL, "corporate_name", s);
        copy_field(m->corporate_name, sizeof(m->corporate_name), s);
        copy_field(m->name, sizeof(m->name), s);
        s = jv_str(v, body, NULL, "contact_person", false, TEXT_MAX_BYTES);
        check_name(v, NULL, "contact_person", s);
        copy_field(m->contact_person, sizeof(m->contact_person), s);
}

void api_me_patch(struct api_ctx *c)
{
        struct store_member before, m;
        char items[256] = "";
        bool reverify = false;
        struct jv v;
        json_t *body;
        int r;

        if (api_body_object(c->req, c->res, &body) < 0)
                return;
        r = store_member_get(c->app->st, c->member_id, &before);
        if (r < 0) {
                json_decref(body);
                api_store_error(c, r, "member");
                return;
        }
        m = before;
        jv_init(&v);
        read_patch(&v, c, body, &m);
        json_decref(body);
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                return;
        }
        diff_profile(&before, &m, items, sizeof(items), &reverify);
        if (items[0]) {
                r = store_member_update(c->app->st, &m, items, reverify, &c->actor, c->now);
                if (r == 0)
                        r = store_member_get(c->app->st, c->member_id, &m);
                if (r < 0) {
                        api_store_error(c, r, "member");
                        return;
                }
        }
        api_json(c, 200, api_member_json(&m));
}

/* ---- consents ------------------------------------------------------------ */

static void consent_cb(const struct store_consent *k, void *ud)
{
        json_t *o = api_document_json(&k->doc);

        json_object_set_new(o, "accepted_at", api_time(k->accepted_at));
        json_array_append_new(ud, o);
}

void api_me_consents_get(struct api_ctx *c)
{
        struct store_document missing[STORE_DOC_KINDS];
        json_t *given = json_array(), *owed = json_array();
        int r = store_consent_list(c->app->st, c->member_id, consent_cb, given);
        int n = r < 0 ? r : store_consent_missing(c->app->st, c->member_id, missing,
                                                  STORE_DOC_KINDS);

        if (n < 0) {
                json_decref(given);
                json_decref(owed);
                api_store_error(c, n, "consent");
                return;
        }
        for (int i = 0; i < n; i++)
                json_array_append_new(owed, api_document_json(&missing[i]));
        api_json(c, 200, json_pack("{s:o, s:o}", "given", given, "required", owed));
}

void api_me_consents_post(struct api_ctx *c)
{
        static const char *const allowed[] = { "consents", NULL };
        int64_t ids[STORE_DOC_KINDS];
        struct jv v;
        json_t *body;
        int n, r;

        if (api_body_object(c->req, c->res, &body) < 0)
                return;
        jv_init(&v);
        jv_unknown(&v, body, NULL, allowed);
        n = read_consents(&v, c, body, false, ids, STORE_DOC_KINDS);
        json_decref(body);
        if (n < 0) {
                jv_free(&v);
                api_store_error(c, n, "document");
                return;
        }
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                return;
        }
        r = store_consent_accept(c->app->st, c->member_id, ids, (size_t)n, c->req->client_ip,
                                 c->now);
        if (r < 0) {
                api_store_error(c, r, "consent");
                return;
        }
        api_me_consents_get(c);
}

/* ---- DELETE /api/v1/me (CS-4) --------------------------------------------- */

void api_me_withdraw(struct api_ctx *c)
{
        struct withdrawal_result w;
        struct problem *p;
        json_t *list;
        int r;

        r = withdrawal_check(c->app->st, c->member_id, c->now, &w);
        if (r < 0) {
                api_store_error(c, r, "withdrawal check");
                return;
        }
        if (w.n > 0) {
                p = problem_new(409, "withdrawal_blocked",
                                "You cannot withdraw yet: %d thing%s must be settled first "
                                "(CS-4).", w.n, w.n == 1 ? "" : "s");
                list = json_array();
                for (int i = 0; i < w.n; i++)
                        json_array_append_new(list, json_pack("{s:s, s:s}", "code", w.b[i].code,
                                                              "detail", w.b[i].detail));
                problem_set_json(p, "blockers", list);
                problem_render(p, c->res);
                return;
        }
        r = store_member_withdraw(c->app->st, c->member_id, &c->actor, c->now);
        if (r < 0) {
                api_store_error(c, r, "member");
                return;
        }
        c->res->status = 204;
}
