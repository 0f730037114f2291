/*
 * test_api_system.c - the server as an operator runs it: health and
 * readiness, metrics, request ids, the API document and pages, the CLI's
 * subcommands and its clear errors (bad config value, port in use,
 * unwritable database), migrations applied once, SIGTERM exits 0.
 */
#include "common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

static struct api_server srv;

static int setup(void **state)
{
        return api_server_start(&srv, NULL) < 0 ? -1 : 0;
}

static int teardown(void **state)
{
        return api_server_stop(&srv) == 0 ? 0 : -1;
}

static void test_healthz_and_request_id(void **state)
{
        struct api_resp r = { 0 };
        const char *const hdr[] = { "X-Request-Id: trace-abc.123", NULL };
        const char *const bad[] = { "X-Request-Id: bad id with spaces", NULL };

        assert_int_equal(api_call(&srv, "GET", "/healthz", NULL, NULL, &r), 0);
        assert_int_equal(r.status, 200);
        assert_string_equal(api_json_str(r.json, "status"), "ok");
        assert_int_equal(strlen(r.request_id), 32);
        api_resp_free(&r);
        assert_int_equal(api_call_raw(&srv, "GET", "/healthz", hdr, NULL, 0, &r), 0);
        assert_string_equal(r.request_id, "trace-abc.123");
        api_resp_free(&r);
        assert_int_equal(api_call_raw(&srv, "GET", "/healthz", bad, NULL, 0, &r), 0);
        assert_int_equal(strlen(r.request_id), 32);
        api_resp_free(&r);
}

static void test_readyz(void **state)
{
        struct api_resp r = { 0 };

        assert_int_equal(api_call(&srv, "GET", "/readyz", NULL, NULL, &r), 0);
        assert_int_equal(r.status, 200);
        assert_string_equal(api_json_str(r.json, "status"), "ready");
        api_resp_free(&r);
}

static void test_metrics_prometheus(void **state)
{
        struct api_resp r = { 0 };

        assert_int_equal(register_member(&srv, "metrics@example.jp", "", NULL), 201);
        assert_int_equal(api_call(&srv, "GET", "/metrics", NULL, NULL, &r), 0);
        assert_int_equal(r.status, 200);
        assert_non_null(strstr(r.content_type, "text/plain"));
        assert_non_null(strstr(r.body, "enemane_http_requests_total{route=\"healthz\","
                                       "status=\"200\"}"));
        assert_non_null(strstr(r.body, "enemane_http_requests_total{route=\"members.register\","
                                       "status=\"201\"}"));
        assert_non_null(strstr(r.body, "enemane_http_request_duration_seconds_bucket{le=\"+Inf\"}"));
        assert_non_null(strstr(r.body, "enemane_worker_queue_depth "));
        assert_non_null(strstr(r.body, "enemane_db_commit_duration_seconds_count "));
        assert_null(strstr(r.body, "enemane_db_commit_duration_seconds_count 0\n"));
        api_resp_free(&r);
}

static void test_openapi_and_docs_served(void **state)
{
        struct api_resp r = { 0 };

        assert_int_equal(api_call(&srv, "GET", "/api/openapi.yaml", NULL, NULL, &r), 0);
        assert_int_equal(r.status, 200);
        assert_non_null(strstr(r.content_type, "yaml"));
        assert_memory_equal(r.body, "openapi: 3.1", 12);
        assert_non_null(strstr(r.body, "/api/v1/members"));
        api_resp_free(&r);
        assert_int_equal(api_call(&srv, "GET", "/api/docs", NULL, NULL, &r), 0);
        assert_int_equal(r.status, 200);
        assert_non_null(strstr(r.content_type, "text/html"));
        assert_non_null(strstr(r.body, "openapi.yaml"));
        api_resp_free(&r);
        assert_int_equal(api_call(&srv, "GET", "/", NULL, NULL, &r), 0);
        assert_int_equal(r.status, 200);
        assert_non_null(strstr(r.body, "/api/docs"));
        api_resp_free(&r);
        assert_int_equal(api_call(&srv, "HEAD", "/healthz", NULL, NULL, &r), 0);
        assert_int_equal(r.status, 200);
        assert_int_equal(r.len, 0);
        api_resp_free(&r);
}

static void test_cli_version_and_help(void **state)
{
        const char *version[] = { "version", NULL };
        const char *help[] = { "serve", "--help", NULL };
        const char *nonsense[] = { "frobnicate", NULL };
        char *out = NULL;

        assert_int_equal(api_cli(version, &out), 0);
        assert_memory_equal(out, "enemane ", 8);
        free(out);
        assert_int_equal(api_cli(help, &out), 0);
        assert_non_null(strstr(out, "listen.port"));
        assert_non_null(strstr(out, "http.max_body"));
        free(out);
        assert_int_not_equal(api_cli(nonsense, &out), 0);
        assert_non_null(strstr(out, "unknown command"));
        free(out);
}

static void test_cli_bad_config_value_names_key(void **state)
{
        const char *args[] = { "serve", "--listen-port", "99999", NULL };
        const char *unknown[] = { "serve", "--lisen-port", "8080", NULL };
        char *out = NULL;

        assert_int_equal(api_cli(args, &out), 2);
        assert_non_null(strstr(out, "listen.port"));
        assert_non_null(strstr(out, "99999"));
        assert_non_null(strstr(out, "65535"));
        free(out);
        assert_int_equal(api_cli(unknown, &out), 2);
        assert_non_null(strstr(out, "--lisen-port"));
        free(out);
}

static void test_cli_config_file_and_env_precedence(void **state)
{
        char *conf = api_printf("%s/bad.conf", srv.dir);
        char *flag = api_printf("--config=%s", conf);
        const char *args[] = { "migrate", flag, NULL };
        FILE *f = fopen(conf, "w");
        char *out = NULL;

        assert_non_null(f);
        fprintf(f, "# test\nlog.level = loud\n");
        fclose(f);
        assert_int_equal(api_cli(args, &out), 2);
        assert_non_null(strstr(out, "bad.conf:2"));
        assert_non_null(strstr(out, "log.level"));
        free(out);
        /* file < environment < flags, shown with db.path */
        f = fopen(conf, "w");
        assert_non_null(f);
        fprintf(f, "db.path = /nonexistent-from-file/a.db\n");
        fclose(f);
        assert_int_not_equal(api_cli(args, &out), 0);
        assert_non_null(strstr(out, "/nonexistent-from-file"));
        free(out);
        setenv("ENEMANE_DB_PATH", srv.db_path, 1);
        assert_int_equal(api_cli(args, &out), 0);
        assert_non_null(strstr(out, "schema version"));
        free(out);
        {
                const char *with_flag[] = { "migrate", flag, "--db-path",
                                            "/nonexistent-from-flag/b.db", NULL };

                assert_int_not_equal(api_cli(with_flag, &out), 0);
                assert_non_null(strstr(out, "/nonexistent-from-flag"));
                free(out);
        }
        unsetenv("ENEMANE_DB_PATH");
        free(flag);
        free(conf);
}

static void test_cli_migrate_never_reapplies(void **state)
{
        char *db = api_printf("%s/other.db", srv.dir);
        const char *args[] = { "migrate", "--db-path", db, "--log-level", "info", NULL };
        char *out = NULL;

        assert_int_equal(api_cli(args, &out), 0);
        assert_null(strstr(out, "\"count\":\"0\""));
        free(out);
        assert_int_equal(api_cli(args, &out), 0);
        assert_non_null(strstr(out, "\"count\":\"0\""));
        free(out);
        free(db);
}

static void test_cli_unwritable_db_path(void **state)
{
        const char *args[] = { "migrate", "--db-path", "/nonexistent-dir/x/enemane.db", NULL };
        char *out = NULL;

        assert_int_not_equal(api_cli(args, &out), 0);
        assert_non_null(strstr(out, "/nonexistent-dir/x"));
        free(out);
}

static void test_cli_port_in_use(void **state)
{
        char *port = api_printf("%d", srv.port);
        char *db = api_printf("%s/second.db", srv.dir);
        const char *args[] = { "serve", "--listen-port", port, "--db-path", db, NULL };
        char *out = NULL;

        assert_int_not_equal(api_cli(args, &out), 0);
        assert_non_null(strstr(out, "in use"));
        assert_non_null(strstr(out, port));
        free(out);
        free(port);
        free(db);
}

static char *read_log(void)
{
        FILE *f = fopen(srv.log_path, "r");
        char *buf = calloc(1, 4 << 20);
        size_t n;

        assert_non_null(f);
        n = fread(buf, 1, (4 << 20) - 1, f);
        buf[n] = '\0';
        fclose(f);
        return buf;
}

/* Checks every complete JSON log line; returns how many of the two probe
 * lines (GET /api/v1/me, the /healthz with request id log-probe-1) it saw. */
static int check_log_lines(char *log)
{
        char *last_nl = strrchr(log, '\n');
        char *line, *save = NULL;
        int found = 0;

        if (!last_nl)
                return 0;
        last_nl[1] = '\0';      /* a line still being written is not judged */
        for (line = strtok_r(log, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                json_t *o;

                if (line[0] != '{')
                        continue;       /* sanitizer or console lines */
                o = json_loads(line, 0, NULL);
                assert_non_null(o);
                assert_non_null(json_object_get(o, "time"));
                assert_non_null(json_object_get(o, "level"));
                if (json_object_get(o, "route") &&
                    strcmp(json_string_value(json_object_get(o, "route")), "me.get") == 0) {
                        assert_true(json_integer_value(json_object_get(o, "member_id")) > 0);
                        assert_int_equal(json_integer_value(json_object_get(o, "status")), 200);
                        assert_string_equal(json_string_value(json_object_get(o, "method")),
                                            "GET");
                        assert_true(json_is_real(json_object_get(o, "duration_ms")));
                        assert_non_null(json_object_get(o, "request_id"));
                        found++;
                }
                if (json_object_get(o, "request_id") &&
                    strcmp(json_string_value(json_object_get(o, "request_id")), "log-probe-1") == 0) {
                        assert_string_equal(json_string_value(json_object_get(o, "path")),
                                            "/healthz");
                        found++;
                }
                json_decref(o);
        }
        return found;
}

/* One JSON object per line with the request fields; no secret in it. The
 * access line is written after the answer is sent, so the test waits for
 * it (up to 5 s) instead of racing the server. */
static void test_PD_8_structured_logs_without_secrets(void **state)
{
        struct api_resp r = { 0 };
        const char *const hdr[] = { "X-Request-Id: log-probe-1", NULL };
        char *tok, *log;
        int found = 0;

        assert_int_equal(register_member(&srv, "logged@example.jp", "", NULL), 201);
        tok = login(&srv, "logged@example.jp", DEFAULT_PASSWORD);
        assert_int_equal(api_call(&srv, "GET", "/api/v1/me", tok, NULL, &r), 0);
        api_resp_free(&r);
        assert_int_equal(api_call_raw(&srv, "GET", "/healthz?secret=abc", hdr, NULL, 0, &r), 0);
        api_resp_free(&r);
        for (int tries = 0; tries < 50 && found < 2; tries++) {
                if (tries)
                        usleep(100 * 1000);
                log = read_log();
                assert_null(strstr(log, tok + 4));              /* no token */
                assert_null(strstr(log, DEFAULT_PASSWORD));     /* no password */
                assert_null(strstr(log, "secret=abc"));         /* no query strings */
                found = check_log_lines(log);
                free(log);
        }
        assert_int_equal(found, 2);
        free(tok);
}

static void test_documents_public_with_body(void **state)
{
        struct api_resp r = { 0 };
        char *path;

        assert_int_equal(api_call(&srv, "GET", "/api/v1/documents", NULL, NULL, &r), 0);
        assert_int_equal(r.status, 200);
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 2);
        path = api_printf("/api/v1/documents/%lld",
                          (long long)api_json_int(r.json, "items.0.id", 0));
        api_resp_free(&r);
        assert_int_equal(api_call(&srv, "GET", path, NULL, NULL, &r), 0);
        assert_int_equal(r.status, 200);
        assert_non_null(api_json_str(r.json, "body"));
        assert_true(json_is_true(api_json_get(r.json, "requires_consent")));
        api_resp_free(&r);
        assert_int_equal(api_call(&srv, "GET", "/api/v1/documents?all=true", NULL, NULL, &r), 0);
        assert_true(json_array_size(api_json_get(r.json, "items")) >= 2);
        api_resp_free(&r);
        assert_int_equal(api_call(&srv, "GET", "/api/v1/documents/0", NULL, NULL, &r), 0);
        assert_problem(&r, 404, "not_found");
        api_resp_free(&r);
        free(path);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_healthz_and_request_id),
                cmocka_unit_test(test_readyz),
                cmocka_unit_test(test_metrics_prometheus),
                cmocka_unit_test(test_openapi_and_docs_served),
                cmocka_unit_test(test_cli_version_and_help),
                cmocka_unit_test(test_cli_bad_config_value_names_key),
                cmocka_unit_test(test_cli_config_file_and_env_precedence),
                cmocka_unit_test(test_cli_migrate_never_reapplies),
                cmocka_unit_test(test_cli_unwritable_db_path),
                cmocka_unit_test(test_cli_port_in_use),
                cmocka_unit_test(test_PD_8_structured_logs_without_secrets),
                cmocka_unit_test(test_documents_public_with_body),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
