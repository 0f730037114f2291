/*
 * test_api_sites.c - sites and the simultaneous-use limit option over
 * HTTP (CS-12, art 10-1): a host groups chargers into a site, applies for
 * a limit, the operator approves it with a start date (possibly another
 * N) or rejects it with a reason; decisions are final; only the host's
 * own chargers join its sites; validation names the field.
 */
#include "common.h"
#include "host_fixture.h"
#include "charger_fixture.h"

static struct api_server srv;
static int seq;

static int setup(void **state)
{
        return api_server_start(&srv, NULL);
}

static int teardown(void **state)
{
        return api_server_stop(&srv) == 0 ? 0 : -1;
}

static char *host(int64_t *id, const char *kind)
{
        char *e = api_printf("sitehost-%d@sites.test", ++seq);
        char *t = make_host(&srv, e, kind, id);

        free(e);
        return t;
}

static struct api_resp call(const char *method, const char *token, const char *body,
                            const char *fmt, long long id)
{
        struct api_resp r = { 0 };
        char *path = api_printf(fmt, id);

        assert_int_equal(api_call(&srv, method, path, token, body, &r), 0);
        free(path);
        return r;
}

static int64_t new_site(const char *token, int64_t host_id, const char *name)
{
        char *body = api_printf("{\"name\":\"%s\"}", name);
        struct api_resp r = call("POST", token, body, "/api/v1/hosts/%lld/sites", host_id);
        int64_t id;

        assert_int_equal(r.status, 201);
        assert_string_equal(api_json_str(r.json, "name"), name);
        assert_true(json_is_null(api_json_get(r.json, "limit")));
        assert_true(json_is_null(api_json_get(r.json, "starts_on")));
        id = api_json_int(r.json, "id", 0);
        assert_true(id > 0);
        api_resp_free(&r);
        free(body);
        return id;
}

static void test_sites_group_the_hosts_own_chargers(void **state)
{
        int64_t hid, hid2, site, other, c1, c2;
        char *t = host(&hid, "corporation"), *t2 = host(&hid2, "individual"), *body;
        struct api_resp r;

        site = new_site(t, hid, "本社駐車場");
        other = new_site(t2, hid2, "自宅");
        body = api_printf("\"site_id\":%lld", (long long)site);
        c1 = make_charger(&srv, t, 35.0, 139.0, body);
        c2 = make_charger(&srv, t, 35.0001, 139.0001, body);
        free(body);
        /* another host's site cannot take this host's charger */
        body = api_printf("{\"site_id\":%lld}", (long long)other);
        r = call("PATCH", t, body, "/api/v1/chargers/%lld", c2);
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "site_id", "not_found"));
        api_resp_free(&r);
        free(body);
        r = call("GET", t, NULL, "/api/v1/sites/%lld", site);
        assert_int_equal(r.status, 200);
        assert_int_equal(json_array_size(api_json_get(r.json, "chargers")), 2);
        assert_int_equal(api_json_int(r.json, "chargers.0.id", 0), c1);
        assert_true(json_is_true(api_json_get(r.json, "chargers.0.bookable")));
        api_resp_free(&r);
        /* a charger leaves the site with site_id null */
        r = call("PATCH", t, "{\"site_id\":null}", "/api/v1/chargers/%lld", c2);
        assert_int_equal(r.status, 200);
        assert_true(json_is_null(api_json_get(r.json, "site_id")));
        api_resp_free(&r);
        r = call("GET", t, NULL, "/api/v1/sites/%lld", site);
        assert_int_equal(json_array_size(api_json_get(r.json, "chargers")), 1);
        api_resp_free(&r);
        r = call("GET", t, NULL, "/api/v1/hosts/%lld/sites", hid);
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 1);
        api_resp_free(&r);
        /* others may not see or add */
        r = call("GET", t2, NULL, "/api/v1/sites/%lld", site);
        assert_problem(&r, 403, "not_host_actor");
        api_resp_free(&r);
        r = call("POST", t2, "{\"name\":\"x\"}", "/api/v1/hosts/%lld/sites", hid);
        assert_problem(&r, 403, "not_host_actor");
        api_resp_free(&r);
        r = call("GET", t, NULL, "/api/v1/sites/%lld", 999999);
        assert_problem(&r, 404, "site_not_found");
        api_resp_free(&r);
        r = call("POST", t, "{\"name\":\"\"}", "/api/v1/hosts/%lld/sites", hid);
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "name", "required"));
        api_resp_free(&r);
        free(t);
        free(t2);
}

static void test_CS_12_limit_application_approved_with_start_date(void **state)
{
        const char *op = fixture_operator(&srv);
        int64_t hid, site, app;
        char *t = host(&hid, "corporation");
        struct api_resp r;

        site = new_site(t, hid, "第二駐車場");
        r = call("POST", t, "{\"limit\":0}", "/api/v1/sites/%lld/limit-applications", site);
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "limit", NULL));
        api_resp_free(&r);
        r = call("POST", t, "{\"limit\":101}", "/api/v1/sites/%lld/limit-applications", site);
        assert_true(has_field_error(&r, "limit", NULL));
        api_resp_free(&r);
        r = call("POST", t, "{\"limit\":3,\"note\":\"契約30A\"}",
                 "/api/v1/sites/%lld/limit-applications", site);
        assert_int_equal(r.status, 201);
        assert_string_equal(api_json_str(r.json, "status"), "pending");
        assert_int_equal(api_json_int(r.json, "requested_limit", 0), 3);
        app = api_json_int(r.json, "id", 0);
        api_resp_free(&r);
        r = call("POST", t, "{\"limit\":2}", "/api/v1/sites/%lld/limit-applications", site);
        assert_problem(&r, 409, "application_pending");
        api_resp_free(&r);
        /* the operator's queue */
        r = call("GET", op, NULL, "/api/v1/limit-applications?status=pending%.0lld", 0);
        assert_int_equal(r.status, 200);
        assert_non_null(strstr(r.body, "契約30A"));
        api_resp_free(&r);
        r = call("GET", t, NULL, "/api/v1/limit-applications%.0lld", 0);
        assert_problem(&r, 403, "forbidden");
        api_resp_free(&r);
        r = call("GET", op, NULL, "/api/v1/limit-applications?status=maybe%.0lld", 0);
        assert_true(has_field_error(&r, "status", "invalid"));
        api_resp_free(&r);
        /* decisions are checked */
        r = call("PUT", op, "{\"decision\":\"approved\",\"limit\":2,\"starts_on\":\"2020-01-01\"}",
                 "/api/v1/limit-applications/%lld", app);
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "starts_on", "in_past"));
        api_resp_free(&r);
        r = call("PUT", op, "{\"decision\":\"approved\"}", "/api/v1/limit-applications/%lld",
                 app);
        assert_true(has_field_error(&r, "limit", "required"));
        assert_true(has_field_error(&r, "starts_on", "required"));
        api_resp_free(&r);
        r = call("PUT", op, "{\"decision\":\"rejected\"}", "/api/v1/limit-applications/%lld",
                 app);
        assert_true(has_field_error(&r, "reason", "required"));
        api_resp_free(&r);
        r = call("PUT", op, "{\"decision\":\"maybe\"}", "/api/v1/limit-applications/%lld", app);
        assert_true(has_field_error(&r, "decision", "invalid"));
        api_resp_free(&r);
        r = call("PUT", t, "{\"decision\":\"approved\",\"limit\":3,\"starts_on\":\"2099-04-01\"}",
                 "/api/v1/limit-applications/%lld", app);
        assert_problem(&r, 403, "forbidden");
        api_resp_free(&r);
        /* approved with another N than asked, from a start date */
        r = call("PUT", op, "{\"decision\":\"approved\",\"limit\":2,\"starts_on\":\"2099-04-01\"}",
                 "/api/v1/limit-applications/%lld", app);
        assert_int_equal(r.status, 200);
        assert_string_equal(api_json_str(r.json, "status"), "approved");
        assert_int_equal(api_json_int(r.json, "approved_limit", 0), 2);
        assert_string_equal(api_json_str(r.json, "starts_on"), "2099-04-01");
        api_resp_free(&r);
        r = call("GET", t, NULL, "/api/v1/sites/%lld", site);
        assert_int_equal(api_json_int(r.json, "limit", 0), 2);
        assert_string_equal(api_json_str(r.json, "starts_on"), "2099-04-01");
        assert_string_equal(api_json_str(r.json, "limit_applications.0.status"), "approved");
        api_resp_free(&r);
        /* final */
        r = call("PUT", op, "{\"decision\":\"rejected\",\"reason\":\"changed my mind\"}",
                 "/api/v1/limit-applications/%lld", app);
        assert_problem(&r, 409, "application_decided");
        api_resp_free(&r);
        r = call("PUT", op, "{\"decision\":\"rejected\",\"reason\":\"x\"}",
                 "/api/v1/limit-applications/%lld", 999999);
        assert_problem(&r, 404, "application_not_found");
        api_resp_free(&r);
        /* a rejection keeps the approved limit */
        r = call("POST", t, "{\"limit\":5}", "/api/v1/sites/%lld/limit-applications", site);
        app = api_json_int(r.json, "id", 0);
        api_resp_free(&r);
        r = call("PUT", op, "{\"decision\":\"rejected\",\"reason\":\"受電容量不足\"}",
                 "/api/v1/limit-applications/%lld", app);
        assert_int_equal(r.status, 200);
        assert_string_equal(api_json_str(r.json, "reason"), "受電容量不足");
        api_resp_free(&r);
        r = call("GET", t, NULL, "/api/v1/sites/%lld", site);
        assert_int_equal(api_json_int(r.json, "limit", 0), 2);
        api_resp_free(&r);
        r = call("GET", t, NULL, "/api/v1/hosts/%lld/actions", hid);
        assert_non_null(strstr(r.body, "site.limit_approve"));
        assert_non_null(strstr(r.body, "site.limit_reject"));
        api_resp_free(&r);
        free(t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sites_group_the_hosts_own_chargers),
                cmocka_unit_test(test_CS_12_limit_application_approved_with_start_date),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
