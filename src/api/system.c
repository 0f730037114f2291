/*
 * system.c - operational endpoints: /healthz (process alive, served on
 * the event loop), /readyz (database reachable and migrated), /metrics
 * (Prometheus), the API document and its human page, and the web root.
 */
#include "api/api.h"

#include <string.h>

#include "http/metrics.h"
#include "http/server.h"
#include "api/api_resv.h"
#include "api/api_energy.h"
#include "api/validate.h"
#include "util/log.h"
#include "util/timeutil.h"

static const char healthz_body[] = "{\"status\":\"ok\"}";

void api_healthz(struct api_ctx *c)
{
        http_response_set(c->res, 200, "application/json", healthz_body,
                          sizeof(healthz_body) - 1);
}

void api_readyz(struct api_ctx *c)
{
        int ping = store_ping(c->app->st);
        int current = ping == 0 ? store_migrations_current(c->app->st) : 0;
        const char *why = NULL;

        if (ping < 0)
                why = "the database is not reachable";
        else if (current != 1)
                why = "database migrations are not applied";
        else if (c->app->srv && server_draining(c->app->srv))
                why = "the server is shutting down";
        if (why) {
                problem_respond(c->res, 503, "not_ready", "Not ready: %s.", why);
                http_response_header(c->res, "Retry-After", "1");
                return;
        }
        api_json(c, 200, json_pack("{s:s, s:b, s:b}", "status", "ready", "database", 1,
                                   "migrations", 1));
}

void api_metrics(struct api_ctx *c)
{
        struct store_commit_stats cs;
        struct metrics_extra x;

        store_commit_stats(c->app->st, &cs);
        memset(&x, 0, sizeof(x));
        x.queue_depth = c->app->srv ? server_queue_depth(c->app->srv) : 0;
        x.draining = c->app->srv ? server_draining(c->app->srv) : 0;
        x.commit_count = cs.count;
        x.commit_sum_us = cs.sum_us;
        x.commit_bucket = cs.bucket;
        x.commit_bucket_le_s = store_commit_bucket_le_s;
        x.commit_buckets = STORE_COMMIT_BUCKETS;
        x.commit_batches = cs.batches;
        x.commit_jobs = cs.jobs;
        c->res->status = 200;
        c->res->content_type = "text/plain; version=0.0.4; charset=utf-8";
        if (metrics_render(c->app->metrics, &x, &c->res->body) < 0)
                problem_respond(c->res, 500, "internal_error", "Metrics could not be rendered.");
}

static void serve_embedded(struct api_ctx *c, const char *name, const char *type)
{
        const struct embedded_file *f = embedded_find(name);

        if (!f) {
                problem_respond(c->res, 404, "not_found", "%s is not built in.", name);
                return;
        }
        http_response_set(c->res, 200, type, (const char *)f->data, f->len);
        http_response_header(c->res, "Cache-Control", "no-cache");
}

void api_openapi(struct api_ctx *c)
{
        serve_embedded(c, "openapi.yaml", "application/yaml; charset=utf-8");
}

void api_docs(struct api_ctx *c)
{
        serve_embedded(c, "api-docs.html", "text/html; charset=utf-8");
}

void api_index(struct api_ctx *c)
{
        serve_embedded(c, "index.html", "text/html; charset=utf-8");
}

#ifdef ENEMANE_TEST_CLOCK
/*
 * PUT /api/v1/_test/clock (test builds only; release builds have neither
 * the route nor this code): {"now": RFC 3339} moves the whole server's
 * clock there, {"now": null} back to the real time. Runs the reservation
 * steps due at the new time before answering, so a test sees them done.
 */
void api_test_clock(struct api_ctx *c)
{
        json_t *body, *now;
        int64_t target = 0, real;
        int done = 0, purged = 0, r;

        if (api_body_object(c->req, c->res, &body) < 0)
                return;
        now = json_object_get(body, "now");
        if (!now || (!json_is_null(now) &&
                     (!json_is_string(now) ||
                      time_parse_rfc3339(json_string_value(now), &target) < 0))) {
                json_decref(body);
                problem_respond(c->res, 422, "validation_failed",
                                "now must be an RFC 3339 time or null.");
                return;
        }
        real = time_now_s() - time_test_offset();
        time_test_set_offset(json_is_null(now) ? 0 : target - real);
        json_decref(body);
        r = sweeper_run_reservations(c->app, time_now_s(), &done);
        if (r == 0)
                r = api_energy_purge(c->app, time_now_s(), &purged);
        if (r < 0) {
                api_store_error(c, r, "schedule");
                return;
        }
        api_json(c, 200, json_pack("{s:o, s:i, s:i}", "now", api_time(time_now_s()),
                                   "steps_run", done, "homes_purged", purged));
}
#endif
