/*
 * main.c - the enemane command line: serve, migrate, admin
 * create-operator, admin seed-chargers (benchmark data), version. Configuration comes from enemane.conf, then
 * ENEMANE_* environment variables, then flags (later wins); see
 * src/util/config.h and `enemane serve --help`.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "api/api_resv.h"
#include "api/mailer.h"
#include "domain/geo.h"
#include "domain/member.h"
#include "domain/slot.h"
#include "http/server.h"
#include "store/store.h"
#include "store/store_document.h"
#include "store/store_search.h"
#include "util/config.h"
#include "util/crypto.h"
#include "util/fwsign.h"
#include "util/log.h"
#include "util/timeutil.h"

extern char **environ;

static struct server *running_server;

static void on_signal(int sig)
{
        (void)sig;
        if (running_server)
                server_stop(running_server);
}

static void usage(FILE *f)
{
        fprintf(f,
                "enemane %s - home energy cloud and EV charger sharing platform server\n\n"
                "Usage: enemane COMMAND [OPTIONS]\n\n"
                "Commands:\n"
                "  serve                      run the HTTP server (migrates first)\n"
                "  migrate                    apply database migrations and exit\n"
                "  admin create-operator      create an operator account\n"
                "  admin seed-chargers        fill a fresh database with chargers (benchmarks)\n"
                "  firmware verify IMAGE MANIFEST PUBKEY  check a signed firmware image (HE-14)\n"
                "  version                    print the version\n"
                "  help                       this text\n\n"
                "Run 'enemane COMMAND --help' for the options of a command.\n",
                ENEMANE_VERSION);
}

static int has_help(int argc, char **argv)
{
        for (int i = 0; i < argc; i++)
                if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
                        return 1;
        return 0;
}

static int load_config(struct config *cfg, int argc, char **argv)
{
        char err[512];
        int r;

        config_defaults(cfg);
        r = config_load(cfg, argc, argv, environ, err, sizeof(err));
        if (r == 0)
                r = config_validate(cfg, err, sizeof(err));
        if (r < 0) {
                fprintf(stderr, "enemane: configuration error: %s\n", err);
                return r;
        }
        log_set_level(cfg->log_level);
        return 0;
}

static int open_store(const struct config *cfg, struct store **st)
{
        struct store_options opt = {
                .path = cfg->db_path,
                .batch_max = (int)cfg->db_batch_max,
                .busy_timeout_ms = 5000,
        };
        char err[512] = "";
        int r = store_open(&opt, st, err, sizeof(err));

        if (r < 0) {
                fprintf(stderr, "enemane: cannot open the database: %s\n",
                        err[0] ? err : strerror(-r));
                return r;
        }
        return 0;
}

static int migrate(struct store *st)
{
        int applied = 0;
        int r = store_migrate(st, &applied);
        char n[16];

        if (r < 0) {
                fprintf(stderr, "enemane: migration failed: %s\n", strerror(-r));
                return r;
        }
        snprintf(n, sizeof(n), "%d", applied);
        log_kv(LOG_INFO, "migrations applied", "count", n, NULL);
        return 0;
}

/* Opens the database and brings its schema up to date. */
static int open_migrated(const struct config *cfg, struct store **st)
{
        int r = open_store(cfg, st);

        return r < 0 ? r : migrate(*st);
}

/* ---- serve ---------------------------------------------------------------- */

static void serve_help(void)
{
        printf("Usage: enemane serve [OPTIONS]\n\n"
               "Runs the HTTP server. Every option is a configuration key; the same key can\n"
               "be set in enemane.conf (key = value) or the environment (ENEMANE_KEY).\n"
               "Precedence: file < environment < flags. --config PATH names the file.\n\n");
        config_print_help(stdout);
}

static int serve_run(struct config *cfg, struct store *st)
{
        struct app app;
        struct server *srv = NULL;
        struct sweeper *sweeper = NULL;
        struct mailer *mailer = NULL;
        struct server_config sc = {
                .host = cfg->listen_host,
                .port = (int)cfg->listen_port,
                .workers = (int)cfg->http_workers,
                .queue_max = (int)cfg->http_queue_max,
                .max_body_bytes = (size_t)cfg->http_max_body,
                .max_upload_bytes = (size_t)cfg->charging_photo_max_bytes,
                .max_file_bytes = (size_t)cfg->files_max_bytes,
                .max_header_bytes = (unsigned)cfg->http_max_header,
                .request_timeout_s = (int)cfg->http_request_timeout,
                .keepalive_timeout_s = (int)cfg->http_keepalive_timeout,
                .tls_cert = cfg->tls_cert[0] ? cfg->tls_cert : NULL,
                .tls_key = cfg->tls_key[0] ? cfg->tls_key : NULL,
                .dispatch = api_dispatch,
                .inline_handler = api_inline,
                .done = api_done,
        };
        char url[128];
        int r;

        r = app_init(&app, cfg, st);
        if (r < 0) {
                fprintf(stderr, "enemane: out of memory\n");
                return r;
        }
        sc.userdata = &app;
        r = server_create(&sc, &srv);
        if (r == -EADDRINUSE) {
                fprintf(stderr, "enemane: %s port %lld is already in use; choose another with "
                        "--listen-port or ENEMANE_LISTEN_PORT\n", cfg->listen_host,
                        (long long)cfg->listen_port);
        } else if (r < 0) {
                fprintf(stderr, "enemane: cannot listen on %s:%lld: %s\n", cfg->listen_host,
                        (long long)cfg->listen_port, strerror(-r));
        }
        if (r < 0) {
                app_free(&app);
                return r;
        }
        app.srv = srv;
        api_wallet_register_blockers();
        api_resv_register_blockers();
        r = sweeper_start(&app, &sweeper);
        if (r < 0) {
                fprintf(stderr, "enemane: cannot start the background sweeper\n");
                server_free(srv);
                app_free(&app);
                return r;
        }
        r = mailer_start(&app, &mailer);
        if (r < 0) {
                fprintf(stderr, "enemane: cannot start the mail delivery worker\n");
                sweeper_stop(sweeper);
                server_free(srv);
                app_free(&app);
                return r;
        }
        app.mailer = mailer;
        running_server = srv;
        signal(SIGPIPE, SIG_IGN);
        signal(SIGTERM, on_signal);
        signal(SIGINT, on_signal);
        snprintf(url, sizeof(url), "%s://%s:%d", sc.tls_cert ? "https" : "http",
                 cfg->listen_host, server_port(srv));
        log_kv(LOG_INFO, "listening", "url", url, NULL);
        printf("enemane %s serving on %s (API docs: %s/api/docs)\n", ENEMANE_VERSION, url, url);
        fflush(stdout);
        r = server_run(srv);
        running_server = NULL;
        sweeper_stop(sweeper);
        app.mailer = NULL;
        mailer_stop(mailer);
        log_kv(LOG_INFO, "stopped", NULL);
        server_free(srv);
        app_free(&app);
        return r;
}

static int cmd_serve(int argc, char **argv)
{
        struct config cfg;
        struct store *st = NULL;
        int r;

        if (has_help(argc, argv)) {
                serve_help();
                return 0;
        }
        if (load_config(&cfg, argc, argv) < 0)
                return 2;
        r = open_migrated(&cfg, &st);
        if (r == 0 && cfg.demo) {
                r = api_demo_load(st, time_now_s());
                if (r < 0)
                        fprintf(stderr, "enemane: demo data failed: %s\n", strerror(-r));
        }
        if (r >= 0)
                r = serve_run(&cfg, st);
        store_close(st);
        config_free(&cfg);
        return r < 0 ? 1 : 0;
}

static int cmd_migrate(int argc, char **argv)
{
        struct config cfg;
        struct store *st = NULL;
        int r;

        if (has_help(argc, argv)) {
                printf("Usage: enemane migrate [--db-path PATH] [--config FILE]\n\n"
                       "Applies every database migration not yet applied, then exits.\n"
                       "Migrations are numbered, compiled in, and never applied twice.\n");
                return 0;
        }
        if (load_config(&cfg, argc, argv) < 0)
                return 2;
        r = open_migrated(&cfg, &st);
        if (r == 0)
                printf("database %s is at schema version %d\n", cfg.db_path,
                       store_migrations[store_migrations_count - 1].version);
        store_close(st);
        config_free(&cfg);
        return r < 0 ? 1 : 0;
}

/* ---- admin create-operator ---------------------------------------------- */

struct operator_args {
        const char *email;
        const char *password;
        const char *name;
};

/* Takes --email/--password/--name out of argv (the rest is configuration). */
static int take_operator_args(int *argc, char **argv, struct operator_args *a)
{
        int out = 0;

        for (int i = 0; i < *argc; i++) {
                const char **slot = NULL;

                if (strcmp(argv[i], "--email") == 0)
                        slot = &a->email;
                else if (strcmp(argv[i], "--password") == 0)
                        slot = &a->password;
                else if (strcmp(argv[i], "--name") == 0)
                        slot = &a->name;
                if (!slot) {
                        argv[out++] = argv[i];
                        continue;
                }
                if (i + 1 >= *argc) {
                        fprintf(stderr, "enemane: %s needs a value\n", argv[i]);
                        return -EINVAL;
                }
                *slot = argv[++i];
        }
        *argc = out;
        return 0;
}

static int read_password_stdin(char *buf, size_t len)
{
        size_t n;

        if (!fgets(buf, (int)len, stdin))
                return -EINVAL;
        n = strcspn(buf, "\r\n");
        buf[n] = '\0';
        return n ? 0 : -EINVAL;
}

static int create_operator(struct store *st, const struct operator_args *a, const char *norm)
{
        struct store_document cur[STORE_DOC_KINDS];
        struct store_member_new n;
        struct store_actor sys = { 0, "system", "", "" };
        char hash[CRYPTO_PWHASH_MAX];
        int64_t docs[STORE_DOC_KINDS], id = 0;
        int nd, r;

        memset(&n, 0, sizeof(n));
        nd = store_document_current(st, cur, STORE_DOC_KINDS);
        for (int i = 0; i < nd; i++)
                docs[i] = cur[i].id;
        snprintf(n.m.kind, sizeof(n.m.kind), "individual");
        snprintf(n.m.role, sizeof(n.m.role), "operator");
        snprintf(n.m.email, sizeof(n.m.email), "%s", a->email);
        snprintf(n.m.name, sizeof(n.m.name), "%s", a->name ? a->name : "Operator");
        snprintf(n.m.name_kana, sizeof(n.m.name_kana), "オペレーター");
        r = crypto_password_hash(a->password, hash);
        if (r < 0)
                return r;
        n.email_norm = norm;
        n.password_hash = hash;
        n.document_ids = docs;
        n.n_documents = nd > 0 ? (size_t)nd : 0;
        r = store_member_create(st, &n, &sys, time_now_s(), &id);
        if (r == -EEXIST)
                fprintf(stderr, "enemane: an account with email %s exists already\n", a->email);
        else if (r < 0)
                fprintf(stderr, "enemane: could not create the operator: %s\n", strerror(-r));
        else
                printf("operator %lld created: %s\n", (long long)id, a->email);
        return r;
}

static int cmd_create_operator(int argc, char **argv)
{
        struct operator_args a = { 0 };
        char norm[MEMBER_EMAIL_BUFSZ], pw[256];
        const char *why = NULL;
        struct config cfg;
        struct store *st = NULL;
        int r;

        if (has_help(argc, argv)) {
                printf("Usage: enemane admin create-operator --email EMAIL [--name NAME]\n"
                       "       [--password PASSWORD] [--db-path PATH] [--config FILE]\n\n"
                       "Creates an operator account. Without --password the password is read\n"
                       "from the first line of standard input (keeps it out of ps and shell "
                       "history).\n");
                return 0;
        }
        if (take_operator_args(&argc, argv, &a) < 0)
                return 2;
        if (!a.email) {
                fprintf(stderr, "enemane: --email is required\n");
                return 2;
        }
        if (member_email_normalize(a.email, norm, sizeof(norm), &why) < 0) {
                fprintf(stderr, "enemane: --email %s\n", why);
                return 2;
        }
        if (!a.password) {
                if (read_password_stdin(pw, sizeof(pw)) < 0) {
                        fprintf(stderr, "enemane: give --password or the password on stdin\n");
                        return 2;
                }
                a.password = pw;
        }
        if (member_password_valid(a.password, a.email, &why) < 0) {
                fprintf(stderr, "enemane: password %s\n", why);
                return 2;
        }
        if (load_config(&cfg, argc, argv) < 0)
                return 2;
        r = open_migrated(&cfg, &st);
        if (r == 0)
                r = create_operator(st, &a, norm);
        store_close(st);
        config_free(&cfg);
        return r < 0 ? 1 : 0;
}


/* ---- admin seed-chargers ---------------------------------------------------- */

/*
 * Benchmark data (bench/search.sh): publishable hosts (one per 10
 * chargers), listed chargers spread over Japan and weighted to the big
 * cities, each with a slot 08:00-22:00 Tokyo time from today for 8 days,
 * and a confirmed 2-hour reservation tomorrow on every tenth charger.
 * Deterministic for a given --seed. Written SEED_BATCH chargers per write
 * job (one transaction each) through store_search_seed().
 */
#define SEED_BATCH 5000
#define SEED_CHARGERS_PER_HOST 10
#define SEED_DAYS 8
#define SEED_HOST_ID0 1000000

struct seed_city {
        double lat, lon, sigma_km;
        int weight;
};

/* Centres, spread and weight (roughly by metropolitan population). */
static const struct seed_city seed_cities[] = {
        { 35.6812, 139.7671, 15, 30 },  /* Tokyo */
        { 35.4437, 139.6380, 8, 8 },    /* Yokohama */
        { 34.6937, 135.5023, 10, 12 },  /* Osaka */
        { 35.1815, 136.9066, 8, 8 },    /* Nagoya */
        { 43.0618, 141.3545, 6, 5 },    /* Sapporo */
        { 33.5904, 130.4017, 6, 5 },    /* Fukuoka */
        { 34.6901, 135.1955, 5, 4 },    /* Kobe */
        { 35.0116, 135.7681, 5, 4 },    /* Kyoto */
        { 38.2682, 140.8694, 5, 3 },    /* Sendai */
        { 34.3853, 132.4553, 5, 3 },    /* Hiroshima */
};

static uint64_t seed_next(uint64_t *x)
{
        /* splitmix64 */
        uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

static double seed_unit(uint64_t *x)
{
        return (double)(seed_next(x) >> 11) / 9007199254740992.0;
}

static double seed_gauss(uint64_t *x)
{
        double u = seed_unit(x), v = seed_unit(x);

        if (u < 1e-300)
                u = 1e-300;
        return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

/* A point: 70 % near a city centre (its sigma), 30 % scattered (80 km). */
static void seed_point(uint64_t *x, double *lat, double *lon)
{
        int total = 0, pick, i;
        const struct seed_city *c;
        double sigma;

        for (i = 0; i < (int)(sizeof(seed_cities) / sizeof(seed_cities[0])); i++)
                total += seed_cities[i].weight;
        pick = (int)(seed_next(x) % (uint64_t)total);
        for (i = 0; pick >= seed_cities[i].weight; i++)
                pick -= seed_cities[i].weight;
        c = &seed_cities[i];
        sigma = seed_unit(x) < 0.7 ? c->sigma_km : 80.0;
        do {
                *lat = c->lat + seed_gauss(x) * sigma / 111.2;
                *lon = c->lon + seed_gauss(x) * sigma / (111.2 * cos(c->lat * M_PI / 180.0));
        } while (!geo_in_japan(*lat, *lon));
}

static int seed_chargers(struct store *st, long long count, uint64_t seed)
{
        static const char *const connectors[] = { "type1", "type1", "type1", "chademo",
                                                  "outlet_200v", "ccs2" };
        static const int64_t outputs[] = { 3000, 6000, 6000, 6000, 20000, 50000 };
        struct store_seed_charger *ch = calloc(SEED_BATCH, sizeof(*ch));
        struct store_seed_range *sl = calloc(SEED_BATCH * SEED_DAYS, sizeof(*sl));
        struct store_seed_range *rv = calloc(SEED_BATCH, sizeof(*rv));
        int64_t now = time_now_s(), day0 = slot_local_day(now);
        uint64_t x = seed;
        long long done = 0;
        int r = 0;

        if (!ch || !sl || !rv) {
                r = -ENOMEM;
                goto out;
        }
        for (int64_t batch = 0; done < count; batch++) {
                size_t n = count - done > SEED_BATCH ? SEED_BATCH : (size_t)(count - done);
                struct store_seed b = { 0 };
                size_t ns = 0, nr = 0;

                b.host_first_id = SEED_HOST_ID0 + batch * (SEED_BATCH / SEED_CHARGERS_PER_HOST);
                b.n_hosts = (n + SEED_CHARGERS_PER_HOST - 1) / SEED_CHARGERS_PER_HOST;
                for (size_t i = 0; i < n; i++) {
                        int k = (int)(seed_next(&x) % 6);

                        ch[i].host_id = b.host_first_id + (int64_t)(i / SEED_CHARGERS_PER_HOST);
                        seed_point(&x, &ch[i].lat, &ch[i].lon);
                        ch[i].connector = connectors[k];
                        ch[i].output_w = outputs[k];
                        ch[i].onsite = seed_next(&x) % 10 == 0;
                        for (int d = 0; d < SEED_DAYS; d++) {
                                sl[ns].charger = i;
                                sl[ns].starts_at = slot_local_to_utc((day0 + d) * 86400 + 8 * 3600);
                                sl[ns].ends_at = slot_local_to_utc((day0 + d) * 86400 + 22 * 3600);
                                sl[ns].hourly_price = 100 + (int64_t)(seed_next(&x) % 41) * 10;
                                ns++;
                        }
                        if (i % 10 == 0) {
                                /* 2 h tomorrow, starting 08:00 .. 20:00 on the grid */
                                int64_t q = (int64_t)(seed_next(&x) % 49);

                                rv[nr].charger = i;
                                rv[nr].starts_at = slot_local_to_utc((day0 + 1) * 86400 +
                                                                     8 * 3600 + q * 900);
                                rv[nr].ends_at = rv[nr].starts_at + 2 * 3600;
                                nr++;
                        }
                }
                b.chargers = ch;
                b.n_chargers = n;
                b.slots = sl;
                b.n_slots = ns;
                b.reservations = rv;
                b.n_reservations = nr;
                r = store_search_seed(st, &b, now);
                if (r < 0) {
                        fprintf(stderr, "enemane: seeding failed after %lld chargers: %s%s\n", done,
                                strerror(-r), r == -EEXIST ? " (not a fresh database?)" : "");
                        goto out;
                }
                done += (long long)n;
        }
        printf("seeded %lld chargers, %lld hosts, %d days of slots\n", done,
               (done + SEED_CHARGERS_PER_HOST - 1) / SEED_CHARGERS_PER_HOST, SEED_DAYS);
out:
        free(ch);
        free(sl);
        free(rv);
        return r;
}

static int cmd_seed_chargers(int argc, char **argv)
{
        long long count = 1000;
        unsigned long long seed = 1;
        struct config cfg;
        struct store *st = NULL;
        int out = 0, r;

        if (has_help(argc, argv)) {
                printf("Usage: enemane admin seed-chargers [--count N] [--seed S] [--db-path PATH]\n"
                       "       [--config FILE]\n\n"
                       "Fills a fresh database with N (default 1000) listed chargers of\n"
                       "publishable hosts, spread over Japan and weighted to the big cities,\n"
                       "with slots for the next %d days and some reservations. For benchmarks\n"
                       "(bench/search.sh); deterministic for a given seed.\n", SEED_DAYS);
                return 0;
        }
        /* Take --count and --seed out; the rest is configuration. */
        for (int i = 0; i < argc; i++) {
                char *end = NULL;

                if (strcmp(argv[i], "--count") != 0 && strcmp(argv[i], "--seed") != 0) {
                        argv[out++] = argv[i];
                        continue;
                }
                if (i + 1 >= argc) {
                        fprintf(stderr, "enemane: %s needs a value\n", argv[i]);
                        return 2;
                }
                if (strcmp(argv[i], "--count") == 0)
                        count = strtoll(argv[i + 1], &end, 10);
                else
                        seed = strtoull(argv[i + 1], &end, 10);
                if (!*argv[i + 1] || *end || count < 1 || count > 10000000) {
                        fprintf(stderr, "enemane: %s: bad value '%s'\n", argv[i], argv[i + 1]);
                        return 2;
                }
                i++;
        }
        if (load_config(&cfg, out, argv) < 0)
                return 2;
        r = open_migrated(&cfg, &st);
        if (r == 0)
                r = seed_chargers(st, count, seed);
        store_close(st);
        config_free(&cfg);
        return r < 0 ? 1 : 0;
}

static int cmd_admin(int argc, char **argv)
{
        if (argc < 1 || strcmp(argv[0], "--help") == 0) {
                printf("Usage: enemane admin create-operator --email EMAIL [OPTIONS]\n"
                       "       enemane admin seed-chargers [--count N] [--seed S] [OPTIONS]\n");
                return argc < 1 ? 2 : 0;
        }
        if (strcmp(argv[0], "create-operator") == 0)
                return cmd_create_operator(argc - 1, argv + 1);
        if (strcmp(argv[0], "seed-chargers") == 0)
                return cmd_seed_chargers(argc - 1, argv + 1);
        fprintf(stderr, "enemane: unknown admin command '%s'\n", argv[0]);
        return 2;
}

int main(int argc, char **argv)
{
        const char *cmd = argc > 1 ? argv[1] : NULL;

        if (crypto_init() < 0) {
                fprintf(stderr, "enemane: libsodium could not start\n");
                return 1;
        }
        if (!cmd || strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 ||
            strcmp(cmd, "-h") == 0) {
                usage(stdout);
                return cmd ? 0 : 2;
        }
        if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
                printf("enemane %s\n", ENEMANE_VERSION);
                return 0;
        }
        if (strcmp(cmd, "serve") == 0)
                return cmd_serve(argc - 2, argv + 2);
        if (strcmp(cmd, "migrate") == 0)
                return cmd_migrate(argc - 2, argv + 2);
        if (strcmp(cmd, "admin") == 0)
                return cmd_admin(argc - 2, argv + 2);
        if (strcmp(cmd, "firmware") == 0)
                return fwverify_main(argc - 2, argv + 2);
        fprintf(stderr, "enemane: unknown command '%s'\n\n", cmd);
        usage(stderr);
        return 2;
}
