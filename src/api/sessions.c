/*
 * sessions.c - log in, log out, "my credentials leaked" (CS-5) and
 * password change. Failed logins are limited per account and per client
 * address; unknown emails cost the same argon2id time as known ones so
 * the answer time does not tell which emails are registered.
 */
#include "api/api.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/validate.h"
#include "domain/member.h"
#include "store/store_session.h"
#include "util/crypto.h"
#include "util/ratelimit.h"

static void too_many(struct api_ctx *c, int64_t wait)
{
        char s[32];
        struct problem *p = problem_new(429, "rate_limited",
                                        "Too many failed logins; try again in %lld seconds.",
                                        (long long)wait);

        problem_set_int(p, "retry_after", wait);
        problem_render(p, c->res);
        snprintf(s, sizeof(s), "%lld", (long long)wait);
        http_response_header(c->res, "Retry-After", s);
}

/* Counts a failure on both keys; answers 429 when that locked one. */
static void login_failed(struct api_ctx *c, const char *acct_key)
{
        int64_t a = ratelimit_fail(c->app->rl_account, acct_key, c->now);
        int64_t b = ratelimit_fail(c->app->rl_ip, c->req->client_ip, c->now);

        if (a > 0 || b > 0) {
                too_many(c, a > b ? a : b);
                return;
        }
        problem_respond(c->res, 401, "invalid_credentials", "The email or password is wrong.");
        http_response_header(c->res, "WWW-Authenticate", "Bearer realm=\"enemane\"");
}

static void issue_session(struct api_ctx *c, int64_t member_id)
{
        char token[CRYPTO_TOKEN_MAX], hash[CRYPTO_HASH_HEX];
        int64_t expires = c->now + c->app->cfg->session_ttl;
        int r;

        crypto_token_new("ens_", token);
        crypto_token_hash(token, hash);
        r = store_session_create(c->app->st, hash, member_id, c->now, expires,
                                 c->req->client_ip, NULL);
        if (r < 0) {
                api_store_error(c, r, "session");
                return;
        }
        c->req->member_id = member_id;
        api_json(c, 201, json_pack("{s:s, s:s, s:o, s:I}", "token", token, "token_type",
                                   "Bearer", "expires_at", api_time(expires), "member_id",
                                   (json_int_t)member_id));
        http_response_header(c->res, "Cache-Control", "no-store");
}

void api_session_create(struct api_ctx *c)
{
        static const char *const allowed[] = { "email", "password", NULL };
        char norm[MEMBER_EMAIL_BUFSZ], key[MEMBER_EMAIL_BUFSZ + 8];
        struct store_credentials cred;
        const char *email, *password;
        struct jv v;
        json_t *body;
        int64_t wait;
        int r;

        if (api_body_object(c->req, c->res, &body) < 0)
                return;
        jv_init(&v);
        jv_unknown(&v, body, NULL, allowed);
        email = jv_str(&v, body, NULL, "email", true, 300);
        password = jv_str(&v, body, NULL, "password", true, 1024);
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                json_decref(body);
                return;
        }
        if (member_email_normalize(email, norm, sizeof(norm), NULL) < 0)
                snprintf(norm, sizeof(norm), "invalid");
        snprintf(key, sizeof(key), "acct:%s", norm);
        wait = ratelimit_blocked(c->app->rl_account, key, c->now);
        if (wait == 0)
                wait = ratelimit_blocked(c->app->rl_ip, c->req->client_ip, c->now);
        if (wait > 0) {
                json_decref(body);
                too_many(c, wait);
                return;
        }
        r = store_member_credentials(c->app->st, norm, &cred);
        if (r == -ENOENT) {
                crypto_password_burn(password);
                json_decref(body);
                login_failed(c, key);
                return;
        }
        if (r < 0) {
                json_decref(body);
                api_store_error(c, r, "member");
                return;
        }
        if (!crypto_password_verify(cred.password_hash, password)) {
                json_decref(body);
                login_failed(c, key);
                return;
        }
        json_decref(body);
        ratelimit_reset(c->app->rl_account, key);
        if (strcmp(cred.status, "active") != 0) {
                c->req->member_id = cred.member_id;
                problem_respond(c->res, 403, "account_suspended",
                                "This account is suspended (CS-3); please contact support.");
                return;
        }
        issue_session(c, cred.member_id);
}

void api_session_delete(struct api_ctx *c)
{
        int r = store_session_revoke(c->app->st, c->session_id, c->now);

        if (r < 0) {
                api_store_error(c, r, "session");
                return;
        }
        c->res->status = 204;
}

/* Checks the member's current password, counting a wrong one against
 * the same per-account limit as failed logins (so these endpoints are
 * not a side door for guessing). Renders the answer and returns false
 * when the password is wrong or the account is locked. */
static bool current_password_ok(struct api_ctx *c, const struct store_member *m,
                                const char *password)
{
        char norm[MEMBER_EMAIL_BUFSZ], key[MEMBER_EMAIL_BUFSZ + 8];
        struct store_credentials cred;
        int64_t wait;
        struct jv v;
        int r;

        member_email_normalize(m->email, norm, sizeof(norm), NULL);
        snprintf(key, sizeof(key), "acct:%s", norm);
        wait = ratelimit_blocked(c->app->rl_account, key, c->now);
        if (wait > 0) {
                too_many(c, wait);
                return false;
        }
        r = store_member_credentials(c->app->st, norm, &cred);
        if (r < 0) {
                api_store_error(c, r, "member");
                return false;
        }
        if (crypto_password_verify(cred.password_hash, password)) {
                ratelimit_reset(c->app->rl_account, key);
                return true;
        }
        wait = ratelimit_fail(c->app->rl_account, key, c->now);
        if (wait > 0) {
                too_many(c, wait);
                return false;
        }
        jv_init(&v);
        jv_error(&v, NULL, "current_password", "wrong_password", "The current password is wrong.");
        jv_render(&v, c->res);
        return false;
}

/* Reads {current_password, new_password}; new_password required or not. */
static json_t *read_passwords(struct api_ctx *c, bool need_new, const char **cur,
                              const char **pw)
{
        static const char *const allowed[] = { "current_password", "new_password", NULL };
        struct jv v;
        json_t *body;

        if (api_body_object(c->req, c->res, &body) < 0)
                return NULL;
        jv_init(&v);
        jv_unknown(&v, body, NULL, allowed);
        *cur = jv_str(&v, body, NULL, "current_password", true, 1024);
        *pw = jv_str(&v, body, NULL, "new_password", need_new, 1024);
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                json_decref(body);
                return NULL;
        }
        return body;
}

/* Validates the new password, then replaces it and revokes every session
 * in one transaction. With new_pw NULL, only revokes every session. */
static void replace_credentials(struct api_ctx *c, const struct store_member *m,
                                const char *new_pw)
{
        char hash[CRYPTO_PWHASH_MAX];
        const char *why = NULL;
        struct jv v;
        int count = 0, r;

        if (!new_pw) {
                r = store_session_revoke_all(c->app->st, c->member_id, c->now, &count);
                if (r == 0)
                        r = store_audit_append(c->app->st, &c->actor, c->member_id,
                                               "revoke_sessions", "sessions", c->now);
        } else if (member_password_valid(new_pw, m->email, &why) < 0) {
                jv_init(&v);
                jv_error(&v, NULL, "new_password", "weak_password", "new_password %s.", why);
                jv_render(&v, c->res);
                return;
        } else {
                r = crypto_password_hash(new_pw, hash);
                if (r == 0)
                        r = store_member_set_password(c->app->st, c->member_id, hash, &c->actor,
                                                      c->now);
        }
        if (r < 0) {
                api_store_error(c, r, "member");
                return;
        }
        c->res->status = 204;
}

static void password_flow(struct api_ctx *c, bool need_new)
{
        struct store_member m;
        const char *cur = NULL, *pw = NULL;
        json_t *body = read_passwords(c, need_new, &cur, &pw);
        int r;

        if (!body)
                return;
        r = store_member_get(c->app->st, c->member_id, &m);
        if (r < 0)
                api_store_error(c, r, "member");
        else if (current_password_ok(c, &m, cur))
                replace_credentials(c, &m, pw);
        json_decref(body);
}

/* CS-5: the member reports that their credentials leaked. Every session
 * and token of the account dies at once; with new_password the password
 * is replaced in the same transaction (a leaked password would otherwise
 * let the thief log in again). The current password is required so that
 * a stolen token alone cannot lock the owner out. */
void api_me_credentials_leaked(struct api_ctx *c)
{
        password_flow(c, false);
}

void api_me_password(struct api_ctx *c)
{
        password_flow(c, true);
}
