/*
 * test_config.c - unit tests for src/util/config.c: defaults, the key table,
 * config file syntax, precedence (file < environment < flags), every value
 * type's good and bad input with the exact error text, limits, and help.
 *
 * Each test runs in a fresh temporary directory that is also the working
 * directory, so a stray ./enemane.conf can never leak in.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "util/config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct fixture {
        char dir[64];
        char oldcwd[PATH_MAX];
        struct config c;
        char err[1024];
};

static int setup(void **state)
{
        struct fixture *fx = calloc(1, sizeof(*fx));

        if (!fx)
                return -1;
        snprintf(fx->dir, sizeof(fx->dir), "/tmp/enemane-test-config-XXXXXX");
        if (!mkdtemp(fx->dir) || !getcwd(fx->oldcwd, sizeof(fx->oldcwd)) || chdir(fx->dir) < 0) {
                free(fx);
                return -1;
        }
        config_defaults(&fx->c);
        *state = fx;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *fx = *state;
        struct dirent *de;
        DIR *d;
        int r = 0;

        config_free(&fx->c);
        d = opendir(fx->dir);
        if (d) {
                for (;;) {
                        char p[PATH_MAX];

                        de = readdir(d);
                        if (!de)
                                break;
                        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                                continue;
                        snprintf(p, sizeof(p), "%s/%s", fx->dir, de->d_name);
                        if (unlink(p) < 0)
                                rmdir(p);
                }
                closedir(d);
        }
        if (chdir(fx->oldcwd) < 0 || rmdir(fx->dir) < 0)
                r = -1;
        free(fx);
        return r;
}

/* Writes len bytes to dir/name and puts the full path into path. */
static void write_file(struct fixture *fx, const char *name, const void *data, size_t len,
                       char *path, size_t pathlen)
{
        FILE *f;

        snprintf(path, pathlen, "%s/%s", fx->dir, name);
        f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(data, 1, len, f), len);
        assert_int_equal(fclose(f), 0);
}

static void write_text(struct fixture *fx, const char *name, const char *text, char *path,
                       size_t pathlen)
{
        write_file(fx, name, text, strlen(text), path, pathlen);
}

/* config_load with NULL-terminated flag and environment lists. */
static int load(struct fixture *fx, const char *const *argv, const char *const *envp)
{
        int argc = 0;

        while (argv && argv[argc])
                argc++;
        fx->err[0] = '\0';
        return config_load(&fx->c, argc, (char **)argv, (char **)envp, fx->err, sizeof(fx->err));
}

/* Resets fx->c to defaults between loads inside one test. */
static void reset(struct fixture *fx)
{
        config_free(&fx->c);
        config_defaults(&fx->c);
}

/* ---- defaults and table ------------------------------------------------- */

static void test_defaults(void **state)
{
        struct fixture *fx = *state;
        struct config *c = &fx->c;

        assert_string_equal(c->listen_host, "127.0.0.1");
        assert_int_equal(c->listen_port, 8080);
        assert_string_equal(c->db_path, "var/enemane.db");
        assert_int_equal(c->db_batch_max, 256);
        assert_int_equal(c->http_workers, 4);
        assert_int_equal(c->http_queue_max, 1024);
        assert_int_equal(c->http_max_body, 1048576);
        assert_int_equal(c->http_max_header, 8192);
        assert_int_equal(c->http_request_timeout, 30);
        assert_int_equal(c->http_keepalive_timeout, 5);
        assert_string_equal(c->tls_cert, "");
        assert_string_equal(c->tls_key, "");
        assert_int_equal(c->log_level, CONFIG_LOG_INFO);
        assert_true(c->log_requests);
        assert_false(c->demo);
        assert_string_equal(c->web_root, "web");
        assert_string_equal(c->docs_dir, "docs");
        assert_int_equal(c->session_ttl, 30 * 86400);
        assert_int_equal(c->login_max_failures_account, 5);
        assert_int_equal(c->login_max_failures_ip, 20);
        assert_int_equal(c->login_window, 900);
        assert_int_equal(c->login_lockout, 900);
        assert_int_equal(c->members_adult_age, 18);
        assert_string_equal(c->operator_name, "enemane");
        assert_null(c->config_file);
        assert_int_equal(config_validate(c, fx->err, sizeof(fx->err)), 0);
}

static void key_to_flag(const char *key, char *out)
{
        size_t i;

        for (i = 0; key[i]; i++)
                out[i] = (key[i] == '.' || key[i] == '_') ? '-' : key[i];
        out[i] = '\0';
}

static void key_to_env(const char *key, char *out)
{
        size_t i;

        strcpy(out, "ENEMANE_");
        for (i = 0; key[i]; i++)
                out[8 + i] = key[i] == '.' ? '_' : (char)(key[i] >= 'a' && key[i] <= 'z' ?
                                                           key[i] - 'a' + 'A' : key[i]);
        out[8 + i] = '\0';
}

/* Every row is findable, its default parses, and names cannot collide. */
static void test_table(void **state)
{
        struct fixture *fx = *state;
        const struct config_key *keys;
        size_t n = 0, i, j;

        keys = config_keys(&n);
        assert_int_equal(n, 80);
        for (i = 0; i < n; i++) {
                char fi[128], fj[128], ei[128], ej[128];

                assert_ptr_equal(config_find(keys[i].key), &keys[i]);
                assert_non_null(keys[i].def);
                assert_true(strlen(keys[i].help) > 10);
                assert_int_equal(config_set(&fx->c, keys[i].key, keys[i].def, fx->err,
                                            sizeof(fx->err)), 0);
                if (keys[i].type == CONFIG_ENUM)
                        assert_non_null(keys[i].choices);
                key_to_flag(keys[i].key, fi);
                key_to_env(keys[i].key, ei);
                /* Names the loader treats specially must not be keys. */
                assert_string_not_equal(fi, "config");
                assert_int_not_equal(strncmp(fi, "no-", 3), 0);
                assert_string_not_equal(ei, "ENEMANE_CONFIG");
                assert_string_not_equal(ei, "ENEMANE_BIN");
                for (j = i + 1; j < n; j++) {
                        key_to_flag(keys[j].key, fj);
                        key_to_env(keys[j].key, ej);
                        assert_string_not_equal(fi, fj);
                        assert_string_not_equal(ei, ej);
                }
        }
        assert_null(config_find("nope"));
        assert_null(config_find(NULL));
        assert_string_equal(config_find("log.level")->choices[CONFIG_LOG_DEBUG], "debug");
        assert_string_equal(config_find("log.level")->choices[CONFIG_LOG_WARN], "warn");
        assert_string_equal(config_find("log.level")->choices[CONFIG_LOG_ERROR], "error");

        /* Setting every default again changes nothing. */
        assert_int_equal(fx->c.http_max_body, 1048576);
        assert_int_equal(fx->c.session_ttl, 30 * 86400);
        assert_string_equal(fx->c.listen_host, "127.0.0.1");
}

static void test_free_struct(void **state)
{
        struct fixture *fx = *state;
        struct config z;

        memset(&z, 0, sizeof(z));
        config_free(&z);
        config_free(NULL);

        config_defaults(&z);
        assert_int_equal(config_set(&z, "db.path", "/a", NULL, 0), 0);
        assert_int_equal(config_set(&z, "db.path", "/b", NULL, 0), 0);   /* frees "/a" */
        assert_string_equal(z.db_path, "/b");
        config_free(&z);
        assert_null(z.db_path);
        assert_int_equal(z.listen_port, 0);
        config_free(&z);        /* zeroed again: fine */
        (void)fx;
}

/* ---- config file -------------------------------------------------------- */

static void test_file_syntax(void **state)
{
        struct fixture *fx = *state;
        char path[PATH_MAX];
        const char *argv[] = { "--config", path, NULL };

        write_text(fx, "a.conf",
                   "\xEF\xBB\xBF# enemane test config\n"
                   "\n"
                   "   \t\n"
                   "  listen.host   =   0.0.0.0  \n"
                   "listen.port=9090\r\n"
                   "\t# indented comment\n"
                   "db.path = \"/srv/with space/\\\"q\\\"\\\\x.db\"   # trailing comment\n"
                   "operator.name = ACME Energy # inline comment\n"
                   "web.root = \"  padded  \"\n"
                   "docs.dir = a#b\n"
                   "http.max_body = 64k\n"
                   "log.level = \"debug\"\n"
                   "tls.cert =\n"
                   "demo = yes",                 /* no final newline */
                   path, sizeof(path));
        assert_int_equal(load(fx, argv, NULL), 0);
        assert_string_equal(fx->err, "");
        assert_string_equal(fx->c.listen_host, "0.0.0.0");
        assert_int_equal(fx->c.listen_port, 9090);
        assert_string_equal(fx->c.db_path, "/srv/with space/\"q\"\\x.db");
        assert_string_equal(fx->c.operator_name, "ACME Energy");
        assert_string_equal(fx->c.web_root, "  padded  ");
        assert_string_equal(fx->c.docs_dir, "a#b");
        assert_int_equal(fx->c.http_max_body, 65536);
        assert_int_equal(fx->c.log_level, CONFIG_LOG_DEBUG);
        assert_string_equal(fx->c.tls_cert, "");
        assert_true(fx->c.demo);
        assert_string_equal(fx->c.config_file, path);
        /* Untouched keys keep their defaults. */
        assert_int_equal(fx->c.http_workers, 4);
}

static void test_file_empty(void **state)
{
        struct fixture *fx = *state;
        char path[PATH_MAX];
        const char *argv[] = { "--config", path, NULL };

        write_text(fx, "empty.conf", "", path, sizeof(path));
        assert_int_equal(load(fx, argv, NULL), 0);
        assert_int_equal(fx->c.listen_port, 8080);
        assert_string_equal(fx->c.config_file, path);

        write_text(fx, "comments.conf", "# only\n\n# comments\n", path, sizeof(path));
        assert_int_equal(load(fx, argv, NULL), 0);
        assert_int_equal(fx->c.listen_port, 8080);
}

static void test_file_errors(void **state)
{
        static const struct {
                const char *text;
                const char *msg;        /* after "<path>" */
        } cases[] = {
                { "listen.prot = 1\n", ":1: unknown key 'listen.prot'" },
                { "# typo below\nListen.port = 1\n", ":2: unknown key 'Listen.port'" },
                { "listen.port = 1\nlisten.port\n",
                  ":2: expected 'key = value', got 'listen.port'" },
                { "  = 5\n", ":1: missing key before '='" },
                { "db.path = \"abc\n", ":1: db.path: missing closing quote" },
                { "db.path = \"a\\nb\"\n",
                  ":1: db.path: unknown escape in quoted value (only \\\" and \\\\ are allowed)" },
                { "db.path = \"a\" b\n", ":1: db.path: unexpected text after the closing quote" },
                { "\n\nlisten.port = 99999\n",
                  ":3: listen.port: '99999' is not allowed: expected an integer from 1 to 65535" },
                { "listen.port = 8080 # web\nlog.level = loud\n",
                  ":2: log.level: 'loud' is not allowed: expected one of debug, info, warn, error" },
                { "listen.port = \"80\"x\n", ":1: listen.port: unexpected text after the closing quote" },
                { "listen.port = 80x\n",
                  ":1: listen.port: '80x' is not allowed: expected an integer from 1 to 65535" },
                { "listen.port = 80#x\n",
                  ":1: listen.port: '80#x' is not allowed: expected an integer from 1 to 65535" },
        };
        struct fixture *fx = *state;
        char path[PATH_MAX], want[PATH_MAX + 256];
        const char *argv[] = { "--config", path, NULL };
        size_t i;

        for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                reset(fx);
                write_text(fx, "bad.conf", cases[i].text, path, sizeof(path));
                assert_int_equal(load(fx, argv, NULL), -EINVAL);
                snprintf(want, sizeof(want), "%s%s", path, cases[i].msg);
                assert_string_equal(fx->err, want);
        }
}

/* The implicit ./enemane.conf is read when present and fine when absent. */
static void test_file_default_path(void **state)
{
        struct fixture *fx = *state;
        char path[PATH_MAX];
        const char *env_empty[] = { "ENEMANE_CONFIG=", NULL };

        assert_int_equal(load(fx, NULL, NULL), 0);
        assert_null(fx->c.config_file);
        assert_int_equal(fx->c.listen_port, 8080);

        write_text(fx, "enemane.conf", "listen.port = 3333\n", path, sizeof(path));
        reset(fx);
        assert_int_equal(load(fx, NULL, NULL), 0);
        assert_int_equal(fx->c.listen_port, 3333);
        assert_string_equal(fx->c.config_file, "enemane.conf");

        /* An empty ENEMANE_CONFIG counts as unset. */
        reset(fx);
        assert_int_equal(load(fx, NULL, env_empty), 0);
        assert_int_equal(fx->c.listen_port, 3333);

        /* Errors in the implicit file are errors too, named by its path. */
        write_text(fx, "enemane.conf", "listen.port = 0\n", path, sizeof(path));
        reset(fx);
        assert_int_equal(load(fx, NULL, NULL), -EINVAL);
        assert_string_equal(fx->err, "enemane.conf:1: listen.port: '0' is not allowed: "
                                     "expected an integer from 1 to 65535");
}

static void test_file_missing(void **state)
{
        struct fixture *fx = *state;
        char path[PATH_MAX], env[PATH_MAX + 32], want[PATH_MAX + 128];
        const char *argv[] = { "--config", path, NULL };
        const char *envp[] = { env, NULL };

        snprintf(path, sizeof(path), "%s/nope.conf", fx->dir);
        assert_int_equal(load(fx, argv, NULL), -ENOENT);
        snprintf(want, sizeof(want),
                 "--config: cannot open config file '%s': No such file or directory", path);
        assert_string_equal(fx->err, want);

        snprintf(env, sizeof(env), "ENEMANE_CONFIG=%s", path);
        reset(fx);
        assert_int_equal(load(fx, NULL, envp), -ENOENT);
        snprintf(want, sizeof(want),
                 "ENEMANE_CONFIG: cannot open config file '%s': No such file or directory", path);
        assert_string_equal(fx->err, want);

        /* A directory is not a config file. */
        reset(fx);
        snprintf(path, sizeof(path), "%s", fx->dir);
        assert_int_equal(load(fx, argv, NULL), -EISDIR);
        assert_non_null(strstr(fx->err, "Is a directory"));
}

static void test_file_limits(void **state)
{
        struct fixture *fx = *state;
        char path[PATH_MAX], want[PATH_MAX + 128];
        const char *argv[] = { "--config", path, NULL };
        char *big;
        size_t i;

        /* A 4096-byte line is fine; 4097 bytes is not, and names line 2. */
        big = malloc(2 * 1024 * 1024);
        assert_non_null(big);
        memset(big, ' ', 4097);
        memcpy(big, "# ", 2);
        big[4096] = '\n';
        memcpy(big + 4097, "listen.port = 81\n", 17);
        write_file(fx, "l1.conf", big, 4097 + 17, path, sizeof(path));
        assert_int_equal(load(fx, argv, NULL), 0);
        assert_int_equal(fx->c.listen_port, 81);

        memcpy(big, "listen.port = 82\n", 17);
        memset(big + 17, 'x', 4097);
        big[17] = '#';
        big[17 + 4097] = '\n';
        write_file(fx, "l2.conf", big, 17 + 4098, path, sizeof(path));
        reset(fx);
        assert_int_equal(load(fx, argv, NULL), -EINVAL);
        snprintf(want, sizeof(want), "%s:2: line is longer than 4096 bytes", path);
        assert_string_equal(fx->err, want);

        /* Exactly 1 MiB of comment lines is fine, one byte more is not. */
        for (i = 0; i < 1024 * 1024; i += 64) {
                memset(big + i, '#', 63);
                big[i + 63] = '\n';
        }
        write_file(fx, "f1.conf", big, 1024 * 1024, path, sizeof(path));
        reset(fx);
        assert_int_equal(load(fx, argv, NULL), 0);

        big[1024 * 1024] = '\n';
        write_file(fx, "f2.conf", big, 1024 * 1024 + 1, path, sizeof(path));
        reset(fx);
        assert_int_equal(load(fx, argv, NULL), -EINVAL);
        snprintf(want, sizeof(want), "--config: config file '%s' is larger than 1048576 bytes",
                 path);
        assert_string_equal(fx->err, want);
        free(big);

        write_file(fx, "nul.conf", "listen.port = 83\nlisten.port = 8\0\n", 34, path, sizeof(path));
        reset(fx);
        assert_int_equal(load(fx, argv, NULL), -EINVAL);
        snprintf(want, sizeof(want), "%s:2: line contains a NUL byte", path);
        assert_string_equal(fx->err, want);
}

/* ---- precedence --------------------------------------------------------- */

static void test_env_overrides_file(void **state)
{
        struct fixture *fx = *state;
        char path[PATH_MAX], env_config[PATH_MAX + 32];
        const char *envp[] = {
                "PATH=/usr/bin",
                env_config,
                "ENEMANE_LISTEN_PORT=9100",
                "ENEMANE_BIN=/nonexistent/enemane",
                "ENEMANE_FOO=bar",                      /* unknown: ignored */
                "ENEMANE_listen_port=1",                /* wrong case: ignored */
                "NOT_ENEMANE_LISTEN_PORT=2",
                "ENEMANE_HTTP_MAX_BODY=2m",
                "ENEMANE_NOEQUALS",
                NULL,
        };

        write_text(fx, "a.conf", "listen.port = 9000\nlog.level = debug\nhttp.max_body = 4k\n",
                   path, sizeof(path));
        snprintf(env_config, sizeof(env_config), "ENEMANE_CONFIG=%s", path);
        assert_int_equal(load(fx, NULL, envp), 0);
        assert_string_equal(fx->c.config_file, path);
        assert_int_equal(fx->c.listen_port, 9100);
        assert_int_equal(fx->c.http_max_body, 2 * 1024 * 1024);
        assert_int_equal(fx->c.log_level, CONFIG_LOG_DEBUG);   /* only in the file */
}

static void test_flag_overrides_env(void **state)
{
        struct fixture *fx = *state;
        char path[PATH_MAX];
        const char *argv[] = { "--listen-port", "9200", "--config", path, "--http-workers=8", NULL };
        const char *envp[] = { "ENEMANE_LISTEN_PORT=9100", "ENEMANE_HTTP_WORKERS=2",
                               "ENEMANE_DB_BATCH_MAX=7", NULL };

        write_text(fx, "a.conf", "listen.port = 9000\nhttp.workers = 3\ndb.batch_max = 5\n"
                                 "operator.name = File Op\n", path, sizeof(path));
        assert_int_equal(load(fx, argv, envp), 0);
        assert_int_equal(fx->c.listen_port, 9200);
        assert_int_equal(fx->c.http_workers, 8);
        assert_int_equal(fx->c.db_batch_max, 7);
        assert_string_equal(fx->c.operator_name, "File Op");
}

static void test_config_flag_beats_env(void **state)
{
        struct fixture *fx = *state;
        char a[PATH_MAX], b[PATH_MAX], env[PATH_MAX + 32], flag[PATH_MAX + 16];
        const char *envp[] = { env, NULL };
        const char *argv1[] = { "--config", b, NULL };
        const char *argv2[] = { flag, NULL };

        write_text(fx, "a.conf", "listen.port = 1111\n", a, sizeof(a));
        write_text(fx, "b.conf", "listen.port = 2222\n", b, sizeof(b));
        write_text(fx, "enemane.conf", "listen.port = 3333\n", flag, sizeof(flag));
        snprintf(env, sizeof(env), "ENEMANE_CONFIG=%s", a);

        assert_int_equal(load(fx, NULL, envp), 0);
        assert_int_equal(fx->c.listen_port, 1111);

        reset(fx);
        assert_int_equal(load(fx, argv1, envp), 0);
        assert_int_equal(fx->c.listen_port, 2222);
        assert_string_equal(fx->c.config_file, b);

        snprintf(flag, sizeof(flag), "--config=%s", b);
        reset(fx);
        assert_int_equal(load(fx, argv2, NULL), 0);
        assert_int_equal(fx->c.listen_port, 2222);

        /* A second load replaces config_file (ASan checks the old one is freed). */
        assert_int_equal(load(fx, NULL, envp), 0);
        assert_string_equal(fx->c.config_file, a);
}

/* ---- flags -------------------------------------------------------------- */

static void test_flag_forms(void **state)
{
        struct fixture *fx = *state;
        const char *argv[] = {
                "--listen-port", "9001",
                "--http-max-body=64k",
                "--demo",
                "--no-log-requests",
                "--log-level", "warn",
                "--login-max-failures-ip=7",
                "--db-path", "-odd-but-fine.db",
                "--operator-name=a=b",
                NULL,
        };
        const char *off[] = { "--demo", "--no-demo", NULL };
        const char *on[] = { "--no-demo", "--demo=yes", NULL };
        const char *eqfalse[] = { "--demo=false", NULL };

        assert_int_equal(load(fx, argv, NULL), 0);
        assert_int_equal(fx->c.listen_port, 9001);
        assert_int_equal(fx->c.http_max_body, 65536);
        assert_true(fx->c.demo);
        assert_false(fx->c.log_requests);
        assert_int_equal(fx->c.log_level, CONFIG_LOG_WARN);
        assert_int_equal(fx->c.login_max_failures_ip, 7);
        assert_string_equal(fx->c.db_path, "-odd-but-fine.db");
        assert_string_equal(fx->c.operator_name, "a=b");

        assert_int_equal(load(fx, off, NULL), 0);
        assert_false(fx->c.demo);
        assert_int_equal(load(fx, on, NULL), 0);
        assert_true(fx->c.demo);
        assert_int_equal(load(fx, eqfalse, NULL), 0);
        assert_false(fx->c.demo);
}

static void test_flag_errors(void **state)
{
        static const struct {
                const char *argv[4];
                const char *msg;
        } cases[] = {
                { { "--foo" }, "unknown option '--foo'" },
                { { "--foo=bar" }, "unknown option '--foo'" },
                { { "--demo", "--foo" }, "unknown option '--foo'" },
                { { "--no-listen-port" }, "unknown option '--no-listen-port'" },
                { { "--no-config" }, "unknown option '--no-config'" },
                { { "--listen.port", "1" }, "unknown option '--listen.port'" },
                { { "--listen_port", "1" }, "unknown option '--listen_port'" },
                { { "--help" }, "unknown option '--help'" },
                { { "--listen-port" }, "option '--listen-port' needs a value" },
                { { "--listen-port", "--demo" }, "option '--listen-port' needs a value" },
                { { "--no-demo=1" }, "option '--no-demo' takes no value" },
                { { "--config" }, "option '--config' needs a value" },
                { { "--config=" }, "option '--config' needs a value" },
                { { "serve" }, "unexpected argument 'serve'" },
                { { "--demo", "true" }, "unexpected argument 'true'" },
                { { "-p", "80" }, "unexpected argument '-p'" },
                { { "--" }, "unexpected argument '--'" },
                { { "--=1" }, "unexpected argument '--=1'" },
                { { "--listen-port=99999" },
                  "--listen-port: listen.port: '99999' is not allowed: "
                  "expected an integer from 1 to 65535" },
                { { "--listen-port", "" },
                  "--listen-port: listen.port: '' is not allowed: "
                  "expected an integer from 1 to 65535" },
                { { "--demo=maybe" },
                  "--demo: demo: 'maybe' is not allowed: "
                  "expected true or false (or yes/no, on/off, 1/0)" },
        };
        struct fixture *fx = *state;
        size_t i;

        for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                reset(fx);
                assert_int_equal(load(fx, cases[i].argv, NULL), -EINVAL);
                assert_string_equal(fx->err, cases[i].msg);
        }
}

/* A bad flag is reported before the config file is even opened. */
static void test_flag_checked_first(void **state)
{
        struct fixture *fx = *state;
        const char *argv[] = { "--config", "/nonexistent/x.conf", "--lisen-port", "1", NULL };

        assert_int_equal(load(fx, argv, NULL), -EINVAL);
        assert_string_equal(fx->err, "unknown option '--lisen-port'");
}

/* ---- value types -------------------------------------------------------- */

/* config_set(key, value) fails with exactly "key: 'shown' is not allowed: expected ...". */
static void expect_bad(struct fixture *fx, const char *key, const char *value,
                       const char *shown, const char *expected)
{
        char want[512];

        snprintf(want, sizeof(want), "%s: '%s' is not allowed: expected %s", key, shown, expected);
        fx->err[0] = '\0';
        assert_int_equal(config_set(&fx->c, key, value, fx->err, sizeof(fx->err)), -EINVAL);
        assert_string_equal(fx->err, want);
}

static void expect_int(struct fixture *fx, const char *key, const char *value, int64_t want)
{
        const struct config_key *k = config_find(key);

        assert_non_null(k);
        assert_int_equal(config_set(&fx->c, key, value, fx->err, sizeof(fx->err)), 0);
        assert_int_equal(*(int64_t *)((char *)&fx->c + k->offset), want);
}

static void test_int(void **state)
{
        static const char *const bad[] = {
                "", "0", "65536", "80x", "x80", " 80", "80 ", "+80", "-1", "-", "0x50",
                "1e3", "8 0", "80.0", "99999999999999999999", "9223372036854775808",
                "-9223372036854775809",
                "18446744073709551617", /* 2^64 + 1 wraps to 1 */
        };
        struct fixture *fx = *state;
        size_t i;

        expect_int(fx, "listen.port", "1", 1);
        expect_int(fx, "listen.port", "65535", 65535);
        expect_int(fx, "listen.port", "080", 80);
        expect_int(fx, "members.adult_age", "0", 0);
        expect_int(fx, "http.queue_max", "1000000", 1000000);
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                expect_bad(fx, "listen.port", bad[i], bad[i], "an integer from 1 to 65535");
        assert_int_equal(fx->c.listen_port, 80);        /* failed sets changed nothing */
        expect_bad(fx, "members.adult_age", "151", "151", "an integer from 0 to 150");
        expect_bad(fx, "http.max_header", "1023", "1023", "an integer from 1024 to 65535");
}

static void test_bool(void **state)
{
        static const char *const yes[] = { "true", "yes", "on", "1", "TRUE", "Yes", "ON" };
        static const char *const no[] = { "false", "no", "off", "0", "False", "NO", "oFF" };
        static const char *const bad[] = { "", "2", "truee", "y", "n", "enabled", " true", "-1" };
        struct fixture *fx = *state;
        size_t i;

        for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
                fx->c.log_requests = false;
                assert_int_equal(config_set(&fx->c, "log.requests", yes[i], NULL, 0), 0);
                assert_true(fx->c.log_requests);
        }
        for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
                fx->c.log_requests = true;
                assert_int_equal(config_set(&fx->c, "log.requests", no[i], NULL, 0), 0);
                assert_false(fx->c.log_requests);
        }
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                expect_bad(fx, "log.requests", bad[i], bad[i],
                           "true or false (or yes/no, on/off, 1/0)");
        assert_false(fx->c.log_requests);   /* failed sets changed nothing */
}

static void test_size(void **state)
{
        static const char *const bad[] = {
                "2g", "1023", "0", "1t", "1.5m", "k", "-1k", "1kb", "1 m", "", "m1",
                "99999999999999999999", "9999999999999999g", "1g1",
                "18014398509481985k",   /* (2^54 + 1) * 1024 wraps to 1024 */
        };
        struct fixture *fx = *state;
        size_t i;

        expect_int(fx, "http.max_body", "1048576", 1048576);
        expect_int(fx, "http.max_body", "64k", 65536);
        expect_int(fx, "http.max_body", "64K", 65536);
        expect_int(fx, "http.max_body", "1m", 1048576);
        expect_int(fx, "http.max_body", "3M", 3 * 1048576);
        expect_int(fx, "http.max_body", "1g", 1073741824);
        expect_int(fx, "http.max_body", "1G", 1073741824);
        expect_int(fx, "http.max_body", "1024", 1024);
        expect_int(fx, "http.max_body", "1k", 1024);
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                expect_bad(fx, "http.max_body", bad[i], bad[i],
                           "a size from 1k to 1g (bytes, or with suffix k, m or g)");
        assert_int_equal(fx->c.http_max_body, 1024);
}

static void test_duration(void **state)
{
        static const char *const bad[] = {
                "0", "0s", "3601", "2h", "1w", "1h30m", "30 s", "", "-5", "s", "1.5h",
                "99999999999999999999d", "999999999999999999d", "30ss",
        };
        struct fixture *fx = *state;
        size_t i;

        expect_int(fx, "http.request_timeout", "30", 30);
        expect_int(fx, "http.request_timeout", "30s", 30);
        expect_int(fx, "http.request_timeout", "15m", 900);
        expect_int(fx, "http.request_timeout", "1h", 3600);
        expect_int(fx, "http.request_timeout", "60M", 3600);
        expect_int(fx, "http.request_timeout", "3600", 3600);
        expect_int(fx, "session.ttl", "7d", 7 * 86400);
        expect_int(fx, "session.ttl", "24h", 86400);
        expect_int(fx, "session.ttl", "365d", 365 * 86400);
        expect_int(fx, "session.ttl", "60", 60);
        expect_int(fx, "login.window", "1d", 86400);
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                expect_bad(fx, "http.request_timeout", bad[i], bad[i],
                           "a duration from 1s to 1h (seconds, or with suffix s, m, h or d)");
        assert_int_equal(fx->c.http_request_timeout, 3600);
        expect_bad(fx, "session.ttl", "59", "59",
                   "a duration from 1m to 365d (seconds, or with suffix s, m, h or d)");
        expect_bad(fx, "session.ttl", "366d", "366d",
                   "a duration from 1m to 365d (seconds, or with suffix s, m, h or d)");
        expect_bad(fx, "login.lockout", "25h", "25h",
                   "a duration from 1s to 1d (seconds, or with suffix s, m, h or d)");
}

static void test_enum(void **state)
{
        static const char *const bad[] = { "loud", "", "inf", "3", "0", "debug ", "warning" };
        struct fixture *fx = *state;
        const char *envp[] = { "ENEMANE_LOG_LEVEL=loud", NULL };
        size_t i;

        assert_int_equal(config_set(&fx->c, "log.level", "debug", NULL, 0), 0);
        assert_int_equal(fx->c.log_level, CONFIG_LOG_DEBUG);
        assert_int_equal(config_set(&fx->c, "log.level", "WARN", NULL, 0), 0);
        assert_int_equal(fx->c.log_level, CONFIG_LOG_WARN);
        assert_int_equal(config_set(&fx->c, "log.level", "error", NULL, 0), 0);
        assert_int_equal(fx->c.log_level, CONFIG_LOG_ERROR);
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                expect_bad(fx, "log.level", bad[i], bad[i], "one of debug, info, warn, error");
        assert_int_equal(fx->c.log_level, CONFIG_LOG_ERROR);

        assert_int_equal(load(fx, NULL, envp), -EINVAL);
        assert_string_equal(fx->err, "ENEMANE_LOG_LEVEL: log.level: 'loud' is not allowed: "
                                     "expected one of debug, info, warn, error");
}

static void test_string(void **state)
{
        struct fixture *fx = *state;
        char longv[4097], shown[80];

        expect_bad(fx, "listen.host", "", "",
                   "a non-empty string of at most 4095 bytes");
        assert_string_equal(fx->c.listen_host, "127.0.0.1");
        assert_int_equal(config_set(&fx->c, "tls.cert", "", NULL, 0), 0);
        assert_string_equal(fx->c.tls_cert, "");

        memset(longv, 'a', 4095);
        longv[4095] = '\0';
        assert_int_equal(config_set(&fx->c, "db.path", longv, NULL, 0), 0);
        assert_int_equal(strlen(fx->c.db_path), 4095);

        /* Too long: refused, and the message shows only the first 64 bytes. */
        longv[4095] = 'b';
        longv[4096] = '\0';
        memset(shown, 'a', 64);
        strcpy(shown + 64, "...");
        expect_bad(fx, "db.path", longv, shown, "a non-empty string of at most 4095 bytes");
        assert_int_equal(strlen(fx->c.db_path), 4095);
}

static void test_unknown_key_and_sanitizing(void **state)
{
        struct fixture *fx = *state;

        assert_int_equal(config_set(&fx->c, "nope", "1", fx->err, sizeof(fx->err)), -EINVAL);
        assert_string_equal(fx->err, "unknown key 'nope'");
        assert_int_equal(config_set(&fx->c, NULL, "1", fx->err, sizeof(fx->err)), -EINVAL);
        assert_int_equal(config_set(&fx->c, "listen.port", NULL, fx->err, sizeof(fx->err)),
                         -EINVAL);
        assert_string_equal(fx->err, "listen.port: missing value");

        /* Control bytes never reach the message (log injection). */
        expect_bad(fx, "listen.port", "1\n2\x1b[0m", "1?2?[0m", "an integer from 1 to 65535");

        /* A tiny or absent error buffer is safe. */
        assert_int_equal(config_set(&fx->c, "listen.port", "x", fx->err, 8), -EINVAL);
        assert_string_equal(fx->err, "listen.");
        assert_int_equal(config_set(&fx->c, "listen.port", "x", NULL, 0), -EINVAL);
}

/* ---- cross-key rules ---------------------------------------------------- */

static void test_tls_pair(void **state)
{
        struct fixture *fx = *state;
        const char *cert_only[] = { "--tls-cert", "c.pem", NULL };
        const char *both[] = { "--tls-cert", "c.pem", "--tls-key=k.pem", NULL };
        const char *key_only_env[] = { "ENEMANE_TLS_KEY=k.pem", NULL };

        assert_int_equal(load(fx, cert_only, NULL), -EINVAL);
        assert_string_equal(fx->err, "tls.cert is set but tls.key is not: set both or neither");

        reset(fx);
        assert_int_equal(load(fx, NULL, key_only_env), -EINVAL);
        assert_string_equal(fx->err, "tls.key is set but tls.cert is not: set both or neither");

        reset(fx);
        assert_int_equal(load(fx, both, NULL), 0);
        assert_string_equal(fx->c.tls_cert, "c.pem");
        assert_string_equal(fx->c.tls_key, "k.pem");

        reset(fx);
        assert_int_equal(load(fx, NULL, NULL), 0);
}

/* A load that fails halfway leaves a struct that frees cleanly (ASan). */
static void test_partial_failure(void **state)
{
        struct fixture *fx = *state;
        char path[PATH_MAX];
        const char *argv[] = { "--config", path, NULL };

        write_text(fx, "p.conf", "db.path = /x.db\noperator.name = Op\nlisten.port = -3\n",
                   path, sizeof(path));
        assert_int_equal(load(fx, argv, NULL), -EINVAL);
        assert_string_equal(fx->c.db_path, "/x.db");
        assert_int_equal(fx->c.listen_port, 8080);
        assert_null(fx->c.config_file);
}

/* ---- help --------------------------------------------------------------- */

static void test_help(void **state)
{
        struct fixture *fx = *state;
        const struct config_key *keys;
        char *text = NULL, line[512], flag[128], env[128];
        size_t len = 0, n, i;
        FILE *f;

        f = open_memstream(&text, &len);
        assert_non_null(f);
        config_print_help(f);
        assert_int_equal(fclose(f), 0);
        assert_non_null(text);

        keys = config_keys(&n);
        for (i = 0; i < n; i++) {
                key_to_flag(keys[i].key, flag);
                key_to_env(keys[i].key, env);
                snprintf(line, sizeof(line), "  %s (--%s, %s)\n      %s\n", keys[i].key, flag,
                         env, keys[i].help);
                assert_non_null(strstr(text, line));
        }
        assert_non_null(strstr(text, "  listen.port (--listen-port, ENEMANE_LISTEN_PORT)\n"
                                     "      TCP port the HTTP server listens on.\n"
                                     "      allowed: an integer from 1 to 65535\n"
                                     "      default: 8080\n"));
        assert_non_null(strstr(text, "      allowed: a size from 1k to 1g"));
        assert_non_null(strstr(text, "      default: (empty)\n"));
        assert_non_null(strstr(text, "allowed: one of debug, info, warn, error\n"));
        free(text);
        (void)fx;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
                cmocka_unit_test_setup_teardown(test_table, setup, teardown),
                cmocka_unit_test_setup_teardown(test_free_struct, setup, teardown),
                cmocka_unit_test_setup_teardown(test_file_syntax, setup, teardown),
                cmocka_unit_test_setup_teardown(test_file_empty, setup, teardown),
                cmocka_unit_test_setup_teardown(test_file_errors, setup, teardown),
                cmocka_unit_test_setup_teardown(test_file_default_path, setup, teardown),
                cmocka_unit_test_setup_teardown(test_file_missing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_file_limits, setup, teardown),
                cmocka_unit_test_setup_teardown(test_env_overrides_file, setup, teardown),
                cmocka_unit_test_setup_teardown(test_flag_overrides_env, setup, teardown),
                cmocka_unit_test_setup_teardown(test_config_flag_beats_env, setup, teardown),
                cmocka_unit_test_setup_teardown(test_flag_forms, setup, teardown),
                cmocka_unit_test_setup_teardown(test_flag_errors, setup, teardown),
                cmocka_unit_test_setup_teardown(test_flag_checked_first, setup, teardown),
                cmocka_unit_test_setup_teardown(test_int, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bool, setup, teardown),
                cmocka_unit_test_setup_teardown(test_size, setup, teardown),
                cmocka_unit_test_setup_teardown(test_duration, setup, teardown),
                cmocka_unit_test_setup_teardown(test_enum, setup, teardown),
                cmocka_unit_test_setup_teardown(test_string, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unknown_key_and_sanitizing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tls_pair, setup, teardown),
                cmocka_unit_test_setup_teardown(test_partial_failure, setup, teardown),
                cmocka_unit_test_setup_teardown(test_help, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
