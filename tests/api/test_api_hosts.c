/*
 * test_api_hosts.c - hosts over HTTP against the real binary: applying,
 * the operator's verification and contract (CS-8), re-verification after a
 * profile change (CS-8), corporate administrators and the CS-7 action log,
 * permissions (host, administrator, other member, operator) and the audit
 * of reads of a host's data (PD-8).
 */
#include <stdbool.h>

#include "host_fixture.h"

static struct api_server srv;
static char *op_token;

static int setup(void **state)
{
        if (api_server_start(&srv, NULL) < 0)
                return -1;
        op_token = operator_token(&srv, "op@hosts.test");
        return 0;
}

static int teardown(void **state)
{
        free(op_token);
        return api_server_stop(&srv) == 0 ? 0 : -1;
}

/* GET path with token; asserts the status and returns the answer. */
static struct api_resp get(const char *path, const char *token, long status)
{
        return fixture_call(&srv, "GET", path, token, NULL, status);
}

static bool has_string(json_t *arr, const char *s)
{
        size_t i;
        json_t *it;

        json_array_foreach(arr, i, it)
                if (json_is_string(it) && strcmp(json_string_value(it), s) == 0)
                        return true;
        return false;
}

/* The action entry with this action name (newest first), or NULL. */
static json_t *find_action(json_t *list, const char *action)
{
        json_t *items = api_json_get(list, "items"), *it;
        size_t i;

        json_array_foreach(items, i, it)
                if (strcmp(json_string_value(json_object_get(it, "action")), action) == 0)
                        return it;
        return NULL;
}

static int64_t member_id_of(const char *token)
{
        struct api_resp r = get("/api/v1/me", token, 200);
        int64_t id = api_json_int(r.json, "id", 0);

        api_resp_free(&r);
        return id;
}

static char *path_of(const char *fmt, int64_t id)
{
        return api_printf(fmt, (long long)id);
}

static void set_state(int64_t id, const char *what, const char *body, long status)
{
        char *path = api_printf("/api/v1/hosts/%lld/%s", (long long)id, what);
        struct api_resp r = fixture_call(&srv, "PUT", path, op_token, body, status);

        api_resp_free(&r);
        free(path);
}

/* ---- CS-8 ------------------------------------------------------------------ */

static void test_CS_8_host_needs_verification_and_contract(void **state)
{
        char *tok = member_token(&srv, "cs8@hosts.test");
        int64_t id = member_id_of(tok);
        struct api_resp r;

        r = fixture_call(&srv, "POST", "/api/v1/me/host", tok,
                         "{\"display_name\":\"駅前の充電器\"}", 201);
        assert_int_equal(api_json_int(r.json, "id", 0), id);
        assert_string_equal(api_json_str(r.json, "display_name"), "駅前の充電器");
        assert_string_equal(api_json_str(r.json, "kind"), "individual");
        assert_string_equal(api_json_str(r.json, "verification"), "pending");
        assert_string_equal(api_json_str(r.json, "contract"), "none");
        assert_true(json_is_false(api_json_get(r.json, "publishable")));
        assert_true(has_string(api_json_get(r.json, "reasons_not_publishable"),
                               "verification_pending"));
        assert_true(has_string(api_json_get(r.json, "reasons_not_publishable"),
                               "contract_missing"));
        assert_string_equal(r.location, "/api/v1/me/host");
        assert_non_null(strstr(api_json_str(r.json, "created_at"), "+09:00"));
        api_resp_free(&r);

        /* verified alone is not enough */
        set_state(id, "verification", "{\"status\":\"verified\"}", 200);
        r = get("/api/v1/me/host", tok, 200);
        assert_string_equal(api_json_str(r.json, "verification"), "verified");
        assert_true(json_is_false(api_json_get(r.json, "publishable")));
        assert_int_equal(json_array_size(api_json_get(r.json, "reasons_not_publishable")), 1);
        assert_string_equal(api_json_str(r.json, "reasons_not_publishable.0"),
                            "contract_missing");
        api_resp_free(&r);

        /* both: publishable */
        set_state(id, "contract", "{\"status\":\"active\"}", 200);
        r = get("/api/v1/me/host", tok, 200);
        assert_true(json_is_true(api_json_get(r.json, "publishable")));
        assert_int_equal(json_array_size(api_json_get(r.json, "reasons_not_publishable")), 0);
        api_resp_free(&r);

        /* an ended contract stops it */
        set_state(id, "contract", "{\"status\":\"ended\"}", 200);
        r = get("/api/v1/me/host", tok, 200);
        assert_true(json_is_false(api_json_get(r.json, "publishable")));
        assert_string_equal(api_json_str(r.json, "reasons_not_publishable.0"), "contract_ended");
        api_resp_free(&r);
        free(tok);
}

static void test_CS_8_member_applies_once(void **state)
{
        char *tok = member_token(&srv, "once@hosts.test");
        struct api_resp r = { 0 };

        r = get("/api/v1/me/host", tok, 404);
        assert_problem(&r, 404, "not_host");
        api_resp_free(&r);
        r = fixture_call(&srv, "POST", "/api/v1/me/host", tok, "{\"display_name\":\"A\"}", 201);
        api_resp_free(&r);
        r = fixture_call(&srv, "POST", "/api/v1/me/host", tok, "{\"display_name\":\"B\"}", 409);
        assert_problem(&r, 409, "already_host");
        api_resp_free(&r);
        /* the first application stands */
        r = get("/api/v1/me/host", tok, 200);
        assert_string_equal(api_json_str(r.json, "display_name"), "A");
        api_resp_free(&r);
        free(tok);
}

static void test_CS_8_apply_bad_input(void **state)
{
        char *tok = member_token(&srv, "badapply@hosts.test");
        struct api_resp r = { 0 };

        r = fixture_call(&srv, "POST", "/api/v1/me/host", tok, "{\"name\":\"x\"}", 422);
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "name", "unknown_field"));
        assert_true(has_field_error(&r, "display_name", NULL));
        api_resp_free(&r);
        r = fixture_call(&srv, "POST", "/api/v1/me/host", tok,
                         "{\"display_name\":\"a\\u0007b\"}", 422);
        assert_true(has_field_error(&r, "display_name", NULL));
        api_resp_free(&r);
        r = fixture_call(&srv, "POST", "/api/v1/me/host", tok, "{\"display_name\":\"   \"}", 422);
        assert_true(has_field_error(&r, "display_name", "invalid"));
        api_resp_free(&r);
        /* nothing was created */
        r = get("/api/v1/me/host", tok, 404);
        api_resp_free(&r);
        free(tok);
}

static void test_CS_8_profile_change_drops_verified_host_to_pending(void **state)
{
        int64_t id;
        char *tok = make_host(&srv, "reverify@hosts.test", "individual", &id);
        char *path = path_of("/api/v1/hosts/%lld/actions", id);
        struct api_resp r;

        /* a phone change needs no re-verification: the host stays */
        r = fixture_call(&srv, "PATCH", "/api/v1/me", tok, "{\"phone\":\"03-9999-0000\"}", 200);
        api_resp_free(&r);
        r = get("/api/v1/me/host", tok, 200);
        assert_string_equal(api_json_str(r.json, "verification"), "verified");
        api_resp_free(&r);

        /* an address change does: back to pending, not publishable */
        r = fixture_call(&srv, "PATCH", "/api/v1/me", tok,
                         "{\"address\":{\"postcode\":\"530-0001\",\"prefecture\":\"大阪府\","
                         "\"city\":\"大阪市北区\",\"line1\":\"梅田1-1\"}}", 200);
        assert_true(json_is_true(api_json_get(r.json, "reverification_required")));
        api_resp_free(&r);
        r = get("/api/v1/me/host", tok, 200);
        assert_string_equal(api_json_str(r.json, "verification"), "pending");
        assert_string_equal(api_json_str(r.json, "verification_reason"),
                            "profile changed: re-verification required");
        assert_true(json_is_false(api_json_get(r.json, "publishable")));
        assert_string_equal(api_json_str(r.json, "reasons_not_publishable.0"),
                            "verification_pending");
        api_resp_free(&r);
        r = get(path, tok, 200);
        assert_non_null(find_action(r.json, "host.reverification_required"));
        assert_string_equal(api_json_str(find_action(r.json, "host.reverification_required"),
                                         "actor_role"), "host");
        api_resp_free(&r);

        /* the operator verifies again: publishable, flag cleared */
        set_state(id, "verification", "{\"status\":\"verified\"}", 200);
        r = get("/api/v1/me/host", tok, 200);
        assert_true(json_is_true(api_json_get(r.json, "publishable")));
        api_resp_free(&r);
        r = get("/api/v1/me", tok, 200);
        assert_true(json_is_false(api_json_get(r.json, "reverification_required")));
        api_resp_free(&r);
        free(path);
        free(tok);
}

static void test_CS_8_rejection_needs_reason(void **state)
{
        char *tok = member_token(&srv, "reject@hosts.test");
        int64_t id = member_id_of(tok);
        char *path = path_of("/api/v1/hosts/%lld/verification", id);
        struct api_resp r;

        r = fixture_call(&srv, "POST", "/api/v1/me/host", tok, "{\"display_name\":\"R\"}", 201);
        api_resp_free(&r);
        r = fixture_call(&srv, "PUT", path, op_token, "{\"status\":\"rejected\"}", 422);
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "reason", "required"));
        api_resp_free(&r);
        r = fixture_call(&srv, "PUT", path, op_token,
                         "{\"status\":\"rejected\",\"reason\":\"書類が不鮮明です\"}", 200);
        assert_string_equal(api_json_str(r.json, "verification"), "rejected");
        assert_string_equal(api_json_str(r.json, "verification_reason"), "書類が不鮮明です");
        assert_true(has_string(api_json_get(r.json, "reasons_not_publishable"),
                               "verification_rejected"));
        api_resp_free(&r);
        free(path);
        free(tok);
}

static void test_CS_8_operator_decisions_bad_input(void **state)
{
        char *tok = member_token(&srv, "badop@hosts.test");
        int64_t id = member_id_of(tok);
        char *ver = path_of("/api/v1/hosts/%lld/verification", id);
        char *con = path_of("/api/v1/hosts/%lld/contract", id);
        struct api_resp r;

        r = fixture_call(&srv, "POST", "/api/v1/me/host", tok, "{\"display_name\":\"B\"}", 201);
        api_resp_free(&r);
        r = fixture_call(&srv, "PUT", ver, op_token, "{\"status\":\"approved\",\"x\":1}", 422);
        assert_true(has_field_error(&r, "status", "invalid"));
        assert_true(has_field_error(&r, "x", "unknown_field"));
        api_resp_free(&r);
        r = fixture_call(&srv, "PUT", con, op_token, "{\"status\":\"none\"}", 422);
        assert_true(has_field_error(&r, "status", "invalid"));
        api_resp_free(&r);
        r = fixture_call(&srv, "PUT", con, op_token, "{}", 422);
        assert_true(has_field_error(&r, "status", NULL));
        api_resp_free(&r);
        r = fixture_call(&srv, "PUT", con, op_token, "[1]", 400);
        api_resp_free(&r);
        /* nothing changed */
        r = get("/api/v1/me/host", tok, 200);
        assert_string_equal(api_json_str(r.json, "verification"), "pending");
        assert_string_equal(api_json_str(r.json, "contract"), "none");
        api_resp_free(&r);
        free(ver);
        free(con);
        free(tok);
}

/* ---- permissions ------------------------------------------------------------- */

static void test_operator_only_endpoints_refused_to_members(void **state)
{
        int64_t id;
        char *tok = make_host(&srv, "selfverify@hosts.test", "individual", &id);
        char *ver = path_of("/api/v1/hosts/%lld/verification", id);
        char *con = path_of("/api/v1/hosts/%lld/contract", id);
        struct api_resp r;

        r = get("/api/v1/hosts", tok, 403);
        assert_problem(&r, 403, "forbidden");
        api_resp_free(&r);
        /* not even the host itself decides its verification or contract */
        r = fixture_call(&srv, "PUT", ver, tok, "{\"status\":\"verified\"}", 403);
        assert_problem(&r, 403, "forbidden");
        api_resp_free(&r);
        r = fixture_call(&srv, "PUT", con, tok, "{\"status\":\"ended\"}", 403);
        assert_problem(&r, 403, "forbidden");
        api_resp_free(&r);
        r = get("/api/v1/me/host", tok, 200);
        assert_string_equal(api_json_str(r.json, "contract"), "active");
        api_resp_free(&r);
        r = get("/api/v1/me/host", NULL, 401);
        assert_problem(&r, 401, "unauthorized");
        api_resp_free(&r);
        free(ver);
        free(con);
        free(tok);
}

static void test_unknown_host_is_404(void **state)
{
        char *tok = member_token(&srv, "unknown@hosts.test");
        int64_t me = member_id_of(tok);
        struct api_resp r;

        r = get("/api/v1/hosts/999999", op_token, 404);
        assert_problem(&r, 404, "host_not_found");
        api_resp_free(&r);
        r = fixture_call(&srv, "PUT", "/api/v1/hosts/999999/verification", op_token,
                         "{\"status\":\"verified\"}", 404);
        assert_problem(&r, 404, "host_not_found");
        api_resp_free(&r);
        r = get("/api/v1/hosts/999999/actions", tok, 404);
        assert_problem(&r, 404, "host_not_found");
        api_resp_free(&r);
        /* a member that is not a host is no host either */
        char *path = path_of("/api/v1/hosts/%lld", me);

        r = get(path, tok, 404);
        assert_problem(&r, 404, "host_not_found");
        api_resp_free(&r);
        r = get("/api/v1/hosts/abc", op_token, 404);
        assert_problem(&r, 404, "not_found");
        api_resp_free(&r);
        free(path);
        free(tok);
}

static void test_CS_7_other_member_cannot_act_for_host(void **state)
{
        int64_t id;
        char *host = make_host(&srv, "owner@hosts.test", "corporation", &id);
        char *other = member_token(&srv, "stranger@hosts.test");
        char *hpath = path_of("/api/v1/hosts/%lld", id);
        char *apath = path_of("/api/v1/hosts/%lld/actions", id);
        char *adpath = path_of("/api/v1/hosts/%lld/admins", id);
        struct api_resp r;

        r = get(hpath, other, 403);
        assert_problem(&r, 403, "not_host_actor");
        api_resp_free(&r);
        r = fixture_call(&srv, "PATCH", hpath, other, "{\"display_name\":\"乗っ取り\"}", 403);
        assert_problem(&r, 403, "not_host_actor");
        api_resp_free(&r);
        r = get(apath, other, 403);
        assert_problem(&r, 403, "not_host_actor");
        api_resp_free(&r);
        r = get(adpath, other, 403);
        assert_problem(&r, 403, "not_host_actor");
        api_resp_free(&r);
        r = fixture_call(&srv, "POST", adpath, other,
                         "{\"member_email\":\"stranger@hosts.test\"}", 403);
        assert_problem(&r, 403, "not_host_actor");
        api_resp_free(&r);
        /* the name did not change, and the stranger is no administrator */
        r = get(hpath, host, 200);
        assert_string_equal(api_json_str(r.json, "display_name"), "テスト充電スポット");
        assert_string_equal(api_json_str(r.json, "role"), "host");
        api_resp_free(&r);
        r = get(adpath, host, 200);
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 0);
        api_resp_free(&r);
        free(hpath);
        free(apath);
        free(adpath);
        free(other);
        free(host);
}

/* ---- CS-7 administrators --------------------------------------------------------- */

static void test_CS_7_admin_acts_for_corporate_host_and_is_logged(void **state)
{
        int64_t id;
        char *host = make_host(&srv, "corp@hosts.test", "corporation", &id);
        char *admin = member_token(&srv, "admin@hosts.test");
        int64_t admin_id = member_id_of(admin);
        char *hpath = path_of("/api/v1/hosts/%lld", id);
        char *apath = path_of("/api/v1/hosts/%lld/actions", id);
        char *adpath = path_of("/api/v1/hosts/%lld/admins", id);
        struct api_resp r;
        json_t *a;

        r = fixture_call(&srv, "POST", adpath, host, "{\"member_email\":\"Admin@Hosts.test\"}",
                         201);
        assert_int_equal(api_json_int(r.json, "member_id", 0), admin_id);
        assert_int_equal(api_json_int(r.json, "appointed_by", 0), id);
        api_resp_free(&r);

        /* the administrator sees the host among the ones it may act for */
        r = get("/api/v1/me/hosts", admin, 200);
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 1);
        assert_int_equal(api_json_int(r.json, "items.0.id", 0), id);
        assert_string_equal(api_json_str(r.json, "items.0.role"), "admin");
        assert_string_equal(api_json_str(r.json, "items.0.kind"), "corporation");
        api_resp_free(&r);
        r = get("/api/v1/me/hosts", host, 200);
        assert_string_equal(api_json_str(r.json, "items.0.role"), "host");
        api_resp_free(&r);

        /* and acts for it */
        r = fixture_call(&srv, "PATCH", hpath, admin, "{\"display_name\":\"本社駐車場\"}", 200);
        assert_string_equal(api_json_str(r.json, "display_name"), "本社駐車場");
        api_resp_free(&r);
        r = get(hpath, admin, 200);
        assert_string_equal(api_json_str(r.json, "role"), "admin");
        api_resp_free(&r);

        /* every action says who acted for whom */
        r = get(apath, admin, 200);
        a = find_action(r.json, "host.rename");
        assert_non_null(a);
        assert_int_equal(json_integer_value(json_object_get(a, "actor_id")), admin_id);
        assert_string_equal(json_string_value(json_object_get(a, "actor_role")), "admin");
        assert_int_equal(json_integer_value(json_object_get(a, "host_id")), id);
        assert_int_equal(json_integer_value(json_object_get(a, "object_id")), id);
        assert_true(strlen(json_string_value(json_object_get(a, "request_id"))) > 0);
        a = find_action(r.json, "admin.appoint");
        assert_non_null(a);
        assert_int_equal(json_integer_value(json_object_get(a, "actor_id")), id);
        assert_string_equal(json_string_value(json_object_get(a, "actor_role")), "host");
        assert_int_equal(json_integer_value(json_object_get(a, "object_id")), admin_id);
        a = find_action(r.json, "host.verification");
        assert_non_null(a);
        assert_string_equal(json_string_value(json_object_get(a, "actor_role")), "operator");
        api_resp_free(&r);

        /* an administrator does not appoint or remove (only the host) */
        r = fixture_call(&srv, "POST", adpath, admin, "{\"member_email\":\"op@hosts.test\"}", 403);
        assert_problem(&r, 403, "host_only");
        api_resp_free(&r);
        /* fellow administrators do not see each other's emails; the host does */
        r = get(adpath, admin, 200);
        assert_int_equal(api_json_int(r.json, "items.0.member_id", 0), admin_id);
        assert_null(api_json_get(r.json, "items.0.email"));
        api_resp_free(&r);
        r = get(adpath, host, 200);
        assert_string_equal(api_json_str(r.json, "items.0.email"), "admin@hosts.test");
        api_resp_free(&r);

        /* removed: it can no longer act, and the log keeps what it did as admin */
        char *del = api_printf("/api/v1/hosts/%lld/admins/%lld", (long long)id,
                               (long long)admin_id);

        r = fixture_call(&srv, "DELETE", del, admin, NULL, 403);
        assert_problem(&r, 403, "host_only");
        api_resp_free(&r);
        r = fixture_call(&srv, "DELETE", del, host, NULL, 204);
        api_resp_free(&r);
        r = fixture_call(&srv, "DELETE", del, host, NULL, 404);
        assert_problem(&r, 404, "admin_not_found");
        api_resp_free(&r);
        r = get(hpath, admin, 403);
        assert_problem(&r, 403, "not_host_actor");
        api_resp_free(&r);
        r = get(apath, op_token, 200);
        assert_string_equal(api_json_str(find_action(r.json, "host.rename"), "actor_role"),
                            "admin");
        assert_non_null(find_action(r.json, "admin.remove"));
        api_resp_free(&r);
        free(del);
        free(hpath);
        free(apath);
        free(adpath);
        free(admin);
        free(host);
}

static void test_CS_7_only_corporate_host_appoints(void **state)
{
        int64_t id;
        char *host = make_host(&srv, "indiv@hosts.test", "individual", &id);
        char *path = path_of("/api/v1/hosts/%lld/admins", id);
        char *other = member_token(&srv, "would-be-admin@hosts.test");
        struct api_resp r;

        r = fixture_call(&srv, "POST", path, host,
                         "{\"member_email\":\"would-be-admin@hosts.test\"}", 409);
        assert_problem(&r, 409, "not_corporate_host");
        api_resp_free(&r);
        r = get("/api/v1/me/hosts", other, 200);
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 0);
        api_resp_free(&r);
        free(other);
        free(path);
        free(host);
}

static void test_CS_7_appointee_rules(void **state)
{
        int64_t id;
        char *host = make_host(&srv, "corp2@hosts.test", "corporation", &id);
        char *path = path_of("/api/v1/hosts/%lld/admins", id);
        char *a = member_token(&srv, "a2@hosts.test");
        struct api_resp r;

        r = fixture_call(&srv, "POST", path, host, "{\"member_email\":\"nobody@hosts.test\"}",
                         422);
        assert_true(has_field_error(&r, "member_email", "unknown_member"));
        api_resp_free(&r);
        r = fixture_call(&srv, "POST", path, host, "{\"member_email\":\"corp2@hosts.test\"}",
                         422);
        assert_true(has_field_error(&r, "member_email", "cannot_appoint_self"));
        api_resp_free(&r);
        r = fixture_call(&srv, "POST", path, host, "{\"member_email\":\"op@hosts.test\"}", 422);
        assert_true(has_field_error(&r, "member_email", "operator_cannot_be_admin"));
        api_resp_free(&r);
        r = fixture_call(&srv, "POST", path, host, "{\"member_email\":\"not an email\"}", 422);
        assert_true(has_field_error(&r, "member_email", "invalid"));
        api_resp_free(&r);
        r = fixture_call(&srv, "POST", path, host, "{\"email\":\"a2@hosts.test\"}", 422);
        assert_true(has_field_error(&r, "email", "unknown_field"));
        assert_true(has_field_error(&r, "member_email", NULL));
        api_resp_free(&r);
        r = fixture_call(&srv, "POST", path, host, "{\"member_email\":\"a2@hosts.test\"}", 201);
        api_resp_free(&r);
        r = fixture_call(&srv, "POST", path, host, "{\"member_email\":\"a2@hosts.test\"}", 409);
        assert_problem(&r, 409, "already_admin");
        api_resp_free(&r);

        /* a suspended member cannot be appointed */
        struct api_resp reg = { 0 };

        assert_int_equal(register_member(&srv, "susp@hosts.test", "", &reg), 201);
        char *susp = path_of("/api/v1/members/%lld/suspension",
                             api_json_int(reg.json, "id", 0));

        api_resp_free(&reg);
        r = fixture_call(&srv, "POST", susp, op_token, "{\"reason\":\"false_information\"}", 200);
        api_resp_free(&r);
        r = fixture_call(&srv, "POST", path, host, "{\"member_email\":\"susp@hosts.test\"}", 422);
        assert_true(has_field_error(&r, "member_email", "member_not_active"));
        api_resp_free(&r);

        r = get(path, host, 200);
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 1);
        assert_string_equal(api_json_str(r.json, "items.0.email"), "a2@hosts.test");
        api_resp_free(&r);
        free(susp);
        free(a);
        free(path);
        free(host);
}

/* ---- operator views and the audit (PD-8) --------------------------------------- */

static void test_CS_8_operator_lists_hosts_by_state(void **state)
{
        int64_t verified, pending;
        char *h1 = make_host(&srv, "listed@hosts.test", "individual", &verified);
        char *h2 = member_token(&srv, "listed-pending@hosts.test");
        struct api_resp r;
        json_t *items, *it;
        size_t i;
        bool saw_pending = false;

        pending = member_id_of(h2);
        r = fixture_call(&srv, "POST", "/api/v1/me/host", h2, "{\"display_name\":\"P\"}", 201);
        api_resp_free(&r);
        r = get("/api/v1/hosts?verification=pending&limit=200", op_token, 200);
        items = api_json_get(r.json, "items");
        json_array_foreach(items, i, it) {
                assert_string_equal(json_string_value(json_object_get(it, "verification")),
                                    "pending");
                assert_true(json_integer_value(json_object_get(it, "id")) != verified);
                if (json_integer_value(json_object_get(it, "id")) == pending)
                        saw_pending = true;
        }
        assert_true(saw_pending);
        api_resp_free(&r);
        r = get("/api/v1/hosts?contract=active&verification=verified", op_token, 200);
        assert_true(json_array_size(api_json_get(r.json, "items")) >= 1);
        json_array_foreach(api_json_get(r.json, "items"), i, it)
                assert_true(json_is_true(json_object_get(it, "publishable")));
        api_resp_free(&r);
        r = get("/api/v1/hosts?verification=approved", op_token, 422);
        assert_true(has_field_error(&r, "verification", "invalid"));
        api_resp_free(&r);
        r = get("/api/v1/hosts?limit=0", op_token, 422);
        assert_true(has_field_error(&r, "limit", "invalid"));
        api_resp_free(&r);
        r = get("/api/v1/hosts?limit=1", op_token, 200);
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 1);
        assert_true(api_json_int(r.json, "next_after", 0) > 0);
        api_resp_free(&r);
        free(h1);
        free(h2);
}

static void test_PD_8_operator_read_of_host_is_audited(void **state)
{
        int64_t id;
        char *host = make_host(&srv, "audited@hosts.test", "individual", &id);
        char *hpath = path_of("/api/v1/hosts/%lld", id);
        char *audit = path_of("/api/v1/audit?subject_id=%lld", id);
        struct api_resp r;
        json_t *it;
        size_t i;
        bool read = false, verification = false;

        r = get(hpath, op_token, 200);
        assert_string_equal(api_json_str(r.json, "role"), "operator");
        api_resp_free(&r);
        r = get(audit, op_token, 200);
        json_array_foreach(api_json_get(r.json, "items"), i, it) {
                const char *action = json_string_value(json_object_get(it, "action"));
                const char *items = json_string_value(json_object_get(it, "items"));
                const char *role = json_string_value(json_object_get(it, "actor_role"));

                if (strcmp(action, "read") == 0 && strcmp(items, "host") == 0 &&
                    strcmp(role, "operator") == 0)
                        read = true;
                if (strcmp(action, "update") == 0 && strcmp(items, "host.verification") == 0)
                        verification = true;
        }
        assert_true(read);
        assert_true(verification);
        api_resp_free(&r);
        free(audit);
        free(hpath);
        free(host);
}

static void test_CS_8_operator_cannot_become_host(void **state)
{
        struct api_resp r = fixture_call(&srv, "POST", "/api/v1/me/host", op_token,
                                         "{\"display_name\":\"運営\"}", 403);

        assert_problem(&r, 403, "operator_cannot_host");
        api_resp_free(&r);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_CS_8_host_needs_verification_and_contract),
                cmocka_unit_test(test_CS_8_member_applies_once),
                cmocka_unit_test(test_CS_8_apply_bad_input),
                cmocka_unit_test(test_CS_8_profile_change_drops_verified_host_to_pending),
                cmocka_unit_test(test_CS_8_rejection_needs_reason),
                cmocka_unit_test(test_CS_8_operator_decisions_bad_input),
                cmocka_unit_test(test_operator_only_endpoints_refused_to_members),
                cmocka_unit_test(test_unknown_host_is_404),
                cmocka_unit_test(test_CS_7_other_member_cannot_act_for_host),
                cmocka_unit_test(test_CS_7_admin_acts_for_corporate_host_and_is_logged),
                cmocka_unit_test(test_CS_7_only_corporate_host_appoints),
                cmocka_unit_test(test_CS_7_appointee_rules),
                cmocka_unit_test(test_CS_8_operator_lists_hosts_by_state),
                cmocka_unit_test(test_PD_8_operator_read_of_host_is_audited),
                cmocka_unit_test(test_CS_8_operator_cannot_become_host),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
