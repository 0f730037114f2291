/*
 * test_api_operator.c - operator powers over members: roles (only an
 * operator may), suspension with a reason from the fixed list and
 * reinstatement (CS-3), audited reads of another member's data (PD-8),
 * publishing documents.
 */
#include "common.h"

static struct api_server srv;
static char *op;

static int setup(void **state)
{
        if (api_server_start(&srv, NULL) < 0)
                return -1;
        op = operator_token(&srv, "boss@operator.test");
        return 0;
}

static int teardown(void **state)
{
        free(op);
        return api_server_stop(&srv) == 0 ? 0 : -1;
}

static json_int_t me_id(const char *tok)
{
        struct api_resp r = { 0 };
        json_int_t id;

        assert_int_equal(api_call(&srv, "GET", "/api/v1/me", tok, NULL, &r), 0);
        id = api_json_int(r.json, "id", 0);
        api_resp_free(&r);
        assert_true(id > 0);
        return id;
}

static void test_member_cannot_use_operator_routes(void **state)
{
        struct api_resp r = { 0 };
        char *tok = member_token(&srv, "plain@example.jp");

        assert_int_equal(api_call(&srv, "GET", "/api/v1/members", tok, NULL, &r), 0);
        assert_problem(&r, 403, "forbidden");
        api_resp_free(&r);
        assert_int_equal(api_call(&srv, "GET", "/api/v1/audit", tok, NULL, &r), 0);
        assert_problem(&r, 403, "forbidden");
        api_resp_free(&r);
        assert_int_equal(api_call(&srv, "POST", "/api/v1/members/1/suspension", tok,
                                  "{\"reason\":\"inactive\"}", &r), 0);
        assert_problem(&r, 403, "forbidden");
        api_resp_free(&r);
        assert_int_equal(api_call(&srv, "POST", "/api/v1/documents", tok,
                                  "{\"document\":\"terms\",\"version\":\"x\",\"title\":\"x\","
                                  "\"body\":\"x\"}", &r), 0);
        assert_problem(&r, 403, "forbidden");
        api_resp_free(&r);
        assert_int_equal(api_call(&srv, "GET", "/api/v1/members", NULL, NULL, &r), 0);
        assert_problem(&r, 401, "unauthorized");
        api_resp_free(&r);
        free(tok);
}

static void test_CS_3_suspension_reasons_fixed_list(void **state)
{
        struct api_resp r = { 0 };

        assert_int_equal(api_call(&srv, "GET", "/api/v1/suspension-reasons", NULL, NULL, &r), 0);
        assert_int_equal(r.status, 200);
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 14);
        assert_string_equal(api_json_str(r.json, "items.0.code"), "past_revocation");
        assert_non_null(api_json_str(r.json, "items.0.label_ja"));
        api_resp_free(&r);
}

static void test_CS_3_suspend_and_reinstate(void **state)
{
        struct api_resp r = { 0 };
        char *tok = member_token(&srv, "suspect@example.jp");
        char *login_body = api_printf("{\"email\":\"suspect@example.jp\",\"password\":\"%s\"}",
                                      DEFAULT_PASSWORD);
        json_int_t id = me_id(tok);
        char *path = api_printf("/api/v1/members/%lld/suspension", (long long)id);
        char *get = api_printf("/api/v1/members/%lld", (long long)id);

        /* a reason outside the list is refused */
        assert_int_equal(api_call(&srv, "POST", path, op, "{\"reason\":\"i_dont_like_them\"}",
                                  &r), 0);
        assert_true(has_field_error(&r, "reason", "invalid"));
        api_resp_free(&r);
        assert_int_equal(api_call(&srv, "POST", path, op,
                                  "{\"reason\":\"fraudulent_use\",\"note\":\"case 17\"}", &r), 0);
        assert_int_equal(r.status, 200);
        assert_string_equal(api_json_str(r.json, "status"), "suspended");
        assert_string_equal(api_json_str(r.json, "suspension.reason"), "fraudulent_use");
        assert_string_equal(api_json_str(r.json, "suspension.note"), "case 17");
        assert_non_null(api_json_str(r.json, "suspension.since"));
        api_resp_free(&r);
        /* the member's token stopped working, and login is refused */
        assert_int_equal(api_call(&srv, "GET", "/api/v1/me", tok, NULL, &r), 0);
        assert_int_equal(r.status, 401);
        api_resp_free(&r);
        assert_int_equal(api_call(&srv, "POST", "/api/v1/sessions", NULL, login_body, &r), 0);
        assert_problem(&r, 403, "account_suspended");
        api_resp_free(&r);
        /* reinstate: history keeps both events */
        assert_int_equal(api_call(&srv, "DELETE", path, op, NULL, &r), 0);
        assert_int_equal(r.status, 200);
        assert_string_equal(api_json_str(r.json, "status"), "active");
        api_resp_free(&r);
        assert_int_equal(api_call(&srv, "DELETE", path, op, NULL, &r), 0);
        assert_problem(&r, 409, "conflict");
        api_resp_free(&r);
        assert_int_equal(api_call(&srv, "GET", get, op, NULL, &r), 0);
        assert_int_equal(json_array_size(api_json_get(r.json, "status_history")), 2);
        assert_string_equal(api_json_str(r.json, "status_history.0.reason"), "fraudulent_use");
        assert_string_equal(api_json_str(r.json, "status_history.1.status"), "active");
        api_resp_free(&r);
        free(tok);
        tok = login(&srv, "suspect@example.jp", DEFAULT_PASSWORD);
        free(tok);
        free(login_body);
        free(path);
        free(get);
}

static void test_PD_8_operator_reads_are_audited(void **state)
{
        struct api_resp r = { 0 };
        char *tok = member_token(&srv, "watched@example.jp");
        json_int_t id = me_id(tok);
        char *get = api_printf("/api/v1/members/%lld", (long long)id);
        char *audit = api_printf("/api/v1/audit?subject_id=%lld&limit=1", (long long)id);

        assert_int_equal(api_call(&srv, "GET", get, op, NULL, &r), 0);
        assert_int_equal(r.status, 200);
        assert_string_equal(api_json_str(r.json, "email"), "watched@example.jp");
        api_resp_free(&r);
        assert_int_equal(api_call(&srv, "GET", audit, op, NULL, &r), 0);
        assert_int_equal(r.status, 200);
        assert_string_equal(api_json_str(r.json, "items.0.action"), "read");
        assert_string_equal(api_json_str(r.json, "items.0.actor_role"), "operator");
        assert_int_equal(api_json_int(r.json, "items.0.subject_id", 0), id);
        assert_non_null(api_json_str(r.json, "items.0.request_id"));
        assert_true(json_is_integer(api_json_get(r.json, "next_before")));
        api_resp_free(&r);
        free(tok);
        free(get);
        free(audit);
}

static void test_members_list_paged_and_filtered(void **state)
{
        struct api_resp r = { 0 };
        json_int_t after;
        char *path;

        assert_int_equal(register_member(&srv, "page-a@example.jp", "", NULL), 201);
        assert_int_equal(register_member(&srv, "page-b@example.jp", "", NULL), 201);
        assert_int_equal(api_call(&srv, "GET", "/api/v1/members?email_prefix=PAGE-&limit=1", op,
                                  NULL, &r), 0);
        assert_int_equal(r.status, 200);
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 1);
        assert_string_equal(api_json_str(r.json, "items.0.email"), "page-a@example.jp");
        after = api_json_int(r.json, "next_after", 0);
        api_resp_free(&r);
        path = api_printf("/api/v1/members?email_prefix=page-&limit=1&after=%lld",
                          (long long)after);
        assert_int_equal(api_call(&srv, "GET", path, op, NULL, &r), 0);
        assert_string_equal(api_json_str(r.json, "items.0.email"), "page-b@example.jp");
        api_resp_free(&r);
        assert_int_equal(api_call(&srv, "GET", "/api/v1/members?status=zombie", op, NULL, &r), 0);
        assert_true(has_field_error(&r, "status", "invalid"));
        api_resp_free(&r);
        assert_int_equal(api_call(&srv, "GET", "/api/v1/members?limit=0", op, NULL, &r), 0);
        assert_true(has_field_error(&r, "limit", "invalid"));
        api_resp_free(&r);
        free(path);
}

static void test_unknown_member_is_404(void **state)
{
        struct api_resp r = { 0 };

        assert_int_equal(api_call(&srv, "GET", "/api/v1/members/999999", op, NULL, &r), 0);
        assert_problem(&r, 404, "not_found");
        api_resp_free(&r);
        assert_int_equal(api_call(&srv, "GET", "/api/v1/members/abc", op, NULL, &r), 0);
        assert_problem(&r, 404, "not_found");
        api_resp_free(&r);
        assert_int_equal(api_call(&srv, "GET", "/api/v1/audit?subject_id=999999", op, NULL, &r), 0);
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 0);
        api_resp_free(&r);
}

static void test_create_operator_cli_refuses_duplicates(void **state)
{
        const char *args[] = { "admin", "create-operator", "--db-path", srv.db_path, "--email",
                               "BOSS@operator.test", "--password", DEFAULT_PASSWORD, NULL };
        const char *weak[] = { "admin", "create-operator", "--db-path", srv.db_path, "--email",
                               "other@operator.test", "--password", "short", NULL };
        char *out = NULL;

        assert_int_not_equal(api_cli(args, &out), 0);
        assert_non_null(strstr(out, "exists already"));
        free(out);
        assert_int_not_equal(api_cli(weak, &out), 0);
        assert_non_null(strstr(out, "password"));
        free(out);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_member_cannot_use_operator_routes),
                cmocka_unit_test(test_CS_3_suspension_reasons_fixed_list),
                cmocka_unit_test(test_CS_3_suspend_and_reinstate),
                cmocka_unit_test(test_PD_8_operator_reads_are_audited),
                cmocka_unit_test(test_members_list_paged_and_filtered),
                cmocka_unit_test(test_unknown_member_is_404),
                cmocka_unit_test(test_create_operator_cli_refuses_duplicates),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
