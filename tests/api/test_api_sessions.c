/*
 * test_api_sessions.c - log in and out, failed-login limits, "my
 * credentials leaked" (CS-5), password change, and what is stored of
 * passwords and tokens (PD-8: hashes only).
 */
#include "common.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static struct api_server srv;

static int setup(void **state)
{
        /* small limits so the lock-out is reachable in a test */
        static const char *const args[] = { "--login-max-failures-account", "3",
                                             "--login-max-failures-ip", "12", NULL };

        return api_server_start(&srv, args) < 0 ? -1 : 0;
}

static int teardown(void **state)
{
        return api_server_stop(&srv) == 0 ? 0 : -1;
}

static long try_login(const char *email, const char *password, struct api_resp *out)
{
        char *body = api_printf("{\"email\":\"%s\",\"password\":\"%s\"}", email, password);
        long status;

        assert_int_equal(api_call(&srv, "POST", "/api/v1/sessions", NULL, body, out), 0);
        status = out->status;
        free(body);
        return status;
}

static void test_login_and_logout(void **state)
{
        struct api_resp r = { 0 };
        char *tok;

        assert_int_equal(register_member(&srv, "in-out@example.jp", "", NULL), 201);
        assert_int_equal(try_login("IN-OUT@example.jp", DEFAULT_PASSWORD, &r), 201);
        assert_string_equal(api_json_str(r.json, "token_type"), "Bearer");
        assert_non_null(strstr(api_json_str(r.json, "expires_at"), "+09:00"));
        assert_string_equal(r.cache_control, "no-store");
        tok = strdup(api_json_str(r.json, "token"));
        api_resp_free(&r);
        assert_int_equal(api_call(&srv, "GET", "/api/v1/me", tok, NULL, &r), 0);
        assert_int_equal(r.status, 200);
        assert_string_equal(api_json_str(r.json, "email"), "in-out@example.jp");
        api_resp_free(&r);
        assert_int_equal(api_call(&srv, "DELETE", "/api/v1/sessions/current", tok, NULL, &r), 0);
        assert_int_equal(r.status, 204);
        api_resp_free(&r);
        assert_int_equal(api_call(&srv, "GET", "/api/v1/me", tok, NULL, &r), 0);
        assert_problem(&r, 401, "unauthorized");
        api_resp_free(&r);
        free(tok);
}

static void test_wrong_password_and_unknown_email_look_the_same(void **state)
{
        struct api_resp a = { 0 }, b = { 0 };

        assert_int_equal(register_member(&srv, "same@example.jp", "", NULL), 201);
        assert_int_equal(try_login("same@example.jp", "not-the-password-1", &a), 401);
        assert_int_equal(try_login("nobody@example.jp", "not-the-password-1", &b), 401);
        assert_problem(&a, 401, "invalid_credentials");
        assert_problem(&b, 401, "invalid_credentials");
        assert_string_equal(api_json_str(a.json, "detail"), api_json_str(b.json, "detail"));
        assert_non_null(strstr(a.www_authenticate, "Bearer"));
        api_resp_free(&a);
        api_resp_free(&b);
}

static void test_failed_logins_lock_the_account(void **state)
{
        struct api_resp r = { 0 };

        assert_int_equal(register_member(&srv, "locked@example.jp", "", NULL), 201);
        assert_int_equal(try_login("locked@example.jp", "guess-number-one", &r), 401);
        api_resp_free(&r);
        assert_int_equal(try_login("locked@example.jp", "guess-number-two", &r), 401);
        api_resp_free(&r);
        assert_int_equal(try_login("locked@example.jp", "guess-number-three", &r), 429);
        assert_problem(&r, 429, "rate_limited");
        assert_true(atoi(r.retry_after) > 0);
        api_resp_free(&r);
        /* even the right password waits until the lock ends */
        assert_int_equal(try_login("locked@example.jp", DEFAULT_PASSWORD, &r), 429);
        assert_true(atoi(r.retry_after) > 0);
        api_resp_free(&r);
}

static void test_CS_5_credentials_leaked_revokes_every_session(void **state)
{
        struct api_resp r = { 0 };
        char *t1, *t2, *t3;

        assert_int_equal(register_member(&srv, "leak@example.jp", "", NULL), 201);
        t1 = login(&srv, "leak@example.jp", DEFAULT_PASSWORD);
        t2 = login(&srv, "leak@example.jp", DEFAULT_PASSWORD);
        /* a token alone cannot do it: the current password is required */
        assert_int_equal(api_call(&srv, "POST", "/api/v1/me/credentials-leaked", t1, "{}", &r), 0);
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "current_password", "required"));
        api_resp_free(&r);
        assert_int_equal(api_call(&srv, "POST", "/api/v1/me/credentials-leaked", t1,
                                  "{\"current_password\":\"wrong-password-here\"}", &r), 0);
        assert_true(has_field_error(&r, "current_password", "wrong_password"));
        api_resp_free(&r);
        /* reported with a new password: every session dies at once */
        assert_int_equal(api_call(&srv, "POST", "/api/v1/me/credentials-leaked", t1,
                                  "{\"current_password\":\"" DEFAULT_PASSWORD "\","
                                  "\"new_password\":\"brand-new-secret-42\"}", &r), 0);
        assert_int_equal(r.status, 204);
        api_resp_free(&r);
        assert_int_equal(api_call(&srv, "GET", "/api/v1/me", t1, NULL, &r), 0);
        assert_int_equal(r.status, 401);
        api_resp_free(&r);
        assert_int_equal(api_call(&srv, "GET", "/api/v1/me", t2, NULL, &r), 0);
        assert_int_equal(r.status, 401);
        api_resp_free(&r);
        /* the old password no longer works, the new one does */
        assert_int_equal(try_login("leak@example.jp", DEFAULT_PASSWORD, &r), 401);
        api_resp_free(&r);
        t3 = login(&srv, "leak@example.jp", "brand-new-secret-42");
        assert_int_equal(api_call(&srv, "GET", "/api/v1/me", t3, NULL, &r), 0);
        assert_int_equal(r.status, 200);
        api_resp_free(&r);
        free(t1);
        free(t2);
        free(t3);
}

static void test_CS_5_leak_report_without_new_password_revokes_only(void **state)
{
        struct api_resp r = { 0 };
        char *t1, *t2;

        assert_int_equal(register_member(&srv, "leak2@example.jp", "", NULL), 201);
        t1 = login(&srv, "leak2@example.jp", DEFAULT_PASSWORD);
        assert_int_equal(api_call(&srv, "POST", "/api/v1/me/credentials-leaked", t1,
                                  "{\"current_password\":\"" DEFAULT_PASSWORD "\"}", &r), 0);
        assert_int_equal(r.status, 204);
        api_resp_free(&r);
        assert_int_equal(api_call(&srv, "GET", "/api/v1/me", t1, NULL, &r), 0);
        assert_int_equal(r.status, 401);
        api_resp_free(&r);
        t2 = login(&srv, "leak2@example.jp", DEFAULT_PASSWORD);
        assert_string_not_equal(t1, t2);
        free(t1);
        free(t2);
}

static void test_password_change(void **state)
{
        struct api_resp r = { 0 };
        char *tok;

        assert_int_equal(register_member(&srv, "pwchange@example.jp", "", NULL), 201);
        tok = login(&srv, "pwchange@example.jp", DEFAULT_PASSWORD);
        assert_int_equal(api_call(&srv, "PUT", "/api/v1/me/password", tok,
                                  "{\"current_password\":\"" DEFAULT_PASSWORD "\","
                                  "\"new_password\":\"password123\"}", &r), 0);
        assert_true(has_field_error(&r, "new_password", "weak_password"));
        api_resp_free(&r);
        assert_int_equal(api_call(&srv, "PUT", "/api/v1/me/password", tok,
                                  "{\"current_password\":\"" DEFAULT_PASSWORD "\","
                                  "\"new_password\":\"another-good-secret\"}", &r), 0);
        assert_int_equal(r.status, 204);
        api_resp_free(&r);
        free(tok);
        tok = login(&srv, "pwchange@example.jp", "another-good-secret");
        free(tok);
}

/* Reads the whole database directory (db + WAL) into memory. */
static char *read_db_bytes(size_t *len)
{
        const char *suffix[] = { "", "-wal" };
        char *all = NULL;
        size_t n = 0;

        for (size_t i = 0; i < 2; i++) {
                char *path = api_printf("%s%s", srv.db_path, suffix[i]);
                int fd = open(path, O_RDONLY);
                struct stat st;

                free(path);
                if (fd < 0)
                        continue;
                assert_int_equal(fstat(fd, &st), 0);
                all = realloc(all, n + (size_t)st.st_size + 1);
                assert_int_equal(read(fd, all + n, (size_t)st.st_size), st.st_size);
                n += (size_t)st.st_size;
                close(fd);
        }
        *len = n;
        return all;
}

static int contains(const char *hay, size_t n, const char *needle)
{
        return memmem(hay, n, needle, strlen(needle)) != NULL;
}

static void test_PD_8_only_hashes_are_stored(void **state)
{
        char *tok, *bytes;
        size_t n;

        assert_int_equal(register_member(&srv, "stored@example.jp", "", NULL), 201);
        tok = login(&srv, "stored@example.jp", DEFAULT_PASSWORD);
        bytes = read_db_bytes(&n);
        assert_true(n > 0);
        assert_true(contains(bytes, n, "stored@example.jp"));   /* the data is there */
        assert_true(contains(bytes, n, "$argon2id$"));          /* memory-hard hash */
        assert_false(contains(bytes, n, DEFAULT_PASSWORD));     /* never the password */
        assert_false(contains(bytes, n, tok + 4));              /* never the token */
        free(bytes);
        free(tok);
}

/* Runs last: restarts the server with a per-address limit of 3. */
static void test_failed_logins_limited_per_client_address(void **state)
{
        static const char *const args[] = { "--login-max-failures-ip", "3", NULL };
        struct api_resp r = { 0 };
        int old = -1;

        assert_int_equal(api_server_restart(&srv, args, &old), 0);
        assert_int_equal(old, 0);       /* SIGTERM drained and exited 0 */
        /* three different accounts, one address */
        assert_int_equal(try_login("ip1@example.jp", "wrong-password-1", &r), 401);
        api_resp_free(&r);
        assert_int_equal(try_login("ip2@example.jp", "wrong-password-1", &r), 401);
        api_resp_free(&r);
        assert_int_equal(try_login("ip3@example.jp", "wrong-password-1", &r), 429);
        assert_problem(&r, 429, "rate_limited");
        api_resp_free(&r);
        assert_int_equal(try_login("ip4@example.jp", "wrong-password-1", &r), 429);
        api_resp_free(&r);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_login_and_logout),
                cmocka_unit_test(test_wrong_password_and_unknown_email_look_the_same),
                cmocka_unit_test(test_failed_logins_lock_the_account),
                cmocka_unit_test(test_CS_5_credentials_leaked_revokes_every_session),
                cmocka_unit_test(test_CS_5_leak_report_without_new_password_revokes_only),
                cmocka_unit_test(test_password_change),
                cmocka_unit_test(test_PD_8_only_hashes_are_stored),
                cmocka_unit_test(test_failed_logins_limited_per_client_address),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
