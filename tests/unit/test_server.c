/*
 * test_server.c - the HTTP front end (src/http/server.c) over real loopback
 * sockets: libcurl for well-behaved clients, raw sockets for the rest.
 *
 * A shared server (port 0, 4 workers) runs in a background thread for most
 * tests; drain, overload, orphan, timeout and port tests start their own.
 * The toy inline handler answers GET /inline; the toy dispatcher echoes
 * the request (/echo), sends 200 KB (/big), sleeps (/slow), blocks on a
 * gate the test opens (/gate), forgets to set a status (/nostatus) or
 * tries to inject headers (/hdrs).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "http/http.h"
#include "http/server.h"
#include "util/buf.h"

#define BIG_LEN (200 * 1024)
#define MAX_BODY (64 * 1024)

/* ---- toy handlers ----------------------------------------------------------- */

static atomic_int n_inline, n_dispatch, n_done, n_gate_entered;
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static bool gate_open;

struct fixture {
        struct server *s;
        pthread_t loop;
        pthread_t loop_thread_id;       /* pthread_self() of the loop */
        atomic_int loop_started;
        int run_result;
        int port;
};

static void gate_set(bool open)
{
        pthread_mutex_lock(&gate_lock);
        gate_open = open;
        pthread_cond_broadcast(&gate_cond);
        pthread_mutex_unlock(&gate_lock);
}

static int toy_inline(void *userdata, struct http_request *req, struct http_response *res)
{
        atomic_fetch_add(&n_inline, 1);
        if (req->method == HTTP_GET && strcmp(req->path, "/inline") == 0) {
                http_response_set(res, 200, "text/plain", "inline ok", 9);
                return 1;
        }
        return 0;
}

static void toy_dispatch(void *userdata, struct http_request *req, struct http_response *res)
{
        struct fixture *f = userdata;
        bool on_loop = pthread_equal(pthread_self(), f->loop_thread_id);
        char *b = NULL;

        atomic_fetch_add(&n_dispatch, 1);
        if (strcmp(req->path, "/big") == 0) {
                res->status = 200;
                res->content_type = "application/octet-stream";
                for (int i = 0; i < BIG_LEN; i++) {
                        char c = (char)('a' + (i * 7 + i / 1000) % 26);

                        buf_append(&res->body, &c, 1);
                }
                return;
        }
        if (strcmp(req->path, "/slow") == 0) {
                atomic_fetch_add(&n_gate_entered, 1);
                usleep(500 * 1000);
                http_response_set(res, 200, "text/plain", "slow done", 9);
                return;
        }
        if (strcmp(req->path, "/gate") == 0) {
                atomic_fetch_add(&n_gate_entered, 1);
                pthread_mutex_lock(&gate_lock);
                while (!gate_open)
                        pthread_cond_wait(&gate_cond, &gate_lock);
                pthread_mutex_unlock(&gate_lock);
                http_response_set(res, 200, "text/plain", "gate passed", 11);
                return;
        }
        if (strcmp(req->path, "/nostatus") == 0)
                return;
        if (strcmp(req->path, "/hdrs") == 0) {
                http_response_set(res, 201, "text/plain", "h", 1);
                http_response_header(res, "X-Good", "fine");
                http_response_header(res, "X-Evil", "a\r\nX-Injected: 1");
                return;
        }
        http_query_get(req->query, "b", &b);
        res->status = 200;
        res->content_type = "text/plain";
        buf_printf(&res->body,
                   "method=%s path=%s query=%s b=%s body_len=%zu body=%.*s worker=%d "
                   "auth=%s ct=%s ip=%s id=%s",
                   http_method_name(req->method), req->path, req->query, b ? b : "-",
                   req->body_len, (int)(req->body_len > 64 ? 64 : req->body_len),
                   req->body ? req->body : "", on_loop ? 0 : 1,
                   req->authorization ? req->authorization : "-",
                   req->content_type ? req->content_type : "-", req->client_ip,
                   req->request_id);
        free(b);
}

static void toy_done(void *userdata, const struct http_request *req,
                     const struct http_response *res, int64_t duration_us)
{
        if (duration_us >= 0 && res->status >= 100)
                atomic_fetch_add(&n_done, 1);
}

/* ---- server fixture ------------------------------------------------------------ */

static void *loop_main(void *arg)
{
        struct fixture *f = arg;

        f->loop_thread_id = pthread_self();
        atomic_store(&f->loop_started, 1);
        f->run_result = server_run(f->s);
        return NULL;
}

static struct server_config base_config(struct fixture *f)
{
        struct server_config cfg = {
                .host = "127.0.0.1",
                .port = 0,
                .workers = 4,
                .queue_max = 256,
                .max_body_bytes = MAX_BODY,
                .max_header_bytes = 8192,
                .request_timeout_s = 5,
                .keepalive_timeout_s = 5,
                .dispatch = toy_dispatch,
                .inline_handler = toy_inline,
                .done = toy_done,
                .userdata = f,
        };
        return cfg;
}

static void fixture_start(struct fixture *f, const struct server_config *cfg)
{
        atomic_store(&f->loop_started, 0);
        assert_int_equal(server_create(cfg, &f->s), 0);
        f->port = server_port(f->s);
        assert_true(f->port > 0 && f->port < 65536);
        assert_int_equal(pthread_create(&f->loop, NULL, loop_main, f), 0);
        while (!atomic_load(&f->loop_started))
                usleep(1000);
}

/* Stops, waits for server_run (returns how long that took, in ms). */
static long fixture_stop(struct fixture *f)
{
        struct timespec a, b;

        clock_gettime(CLOCK_MONOTONIC, &a);
        server_stop(f->s);
        pthread_join(f->loop, NULL);
        clock_gettime(CLOCK_MONOTONIC, &b);
        assert_int_equal(f->run_result, 0);
        server_free(f->s);
        f->s = NULL;
        return (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
}

static int group_setup(void **state)
{
        static struct fixture f;
        struct server_config cfg = base_config(&f);

        fixture_start(&f, &cfg);
        *state = &f;
        return 0;
}

static int group_teardown(void **state)
{
        struct fixture *f = *state;

        fixture_stop(f);
        return 0;
}

/* ---- curl helpers --------------------------------------------------------------- */

struct resp {
        long status;
        long num_connects;
        struct buf body;
        struct buf hdrs;
};

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
        return buf_append(ud, p, size * n) < 0 ? 0 : size * n;
}

static void resp_free(struct resp *r)
{
        buf_free(&r->body);
        buf_free(&r->hdrs);
}

/* Value of the first response header `name` (case-insensitive) or NULL. */
static const char *resp_header(const struct resp *r, const char *name, char *out, size_t outlen)
{
        const char *p = r->hdrs.data;
        size_t n = strlen(name);

        while (p && *p) {
                const char *eol = strstr(p, "\r\n");
                size_t len = eol ? (size_t)(eol - p) : strlen(p);

                if (len > n && strncasecmp(p, name, n) == 0 && p[n] == ':') {
                        const char *v = p + n + 1;
                        size_t vlen;

                        while (*v == ' ')
                                v++;
                        vlen = (size_t)(p + len - v);
                        if (vlen >= outlen)
                                vlen = outlen - 1;
                        memcpy(out, v, vlen);
                        out[vlen] = '\0';
                        return out;
                }
                if (!eol)
                        break;
                p = eol + 2;
        }
        return NULL;
}

static CURL *easy_new(void)
{
        CURL *h = curl_easy_init();

        assert_non_null(h);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
        return h;
}

/*
 * One request on handle h. method NULL = GET (or POST when body != NULL),
 * "HEAD" uses CURLOPT_NOBODY. Returns the curl result code.
 */
static CURLcode do_req(CURL *h, int port, const char *method, const char *path,
                       const char *body, long body_len, struct curl_slist *hdrs,
                       struct resp *r)
{
        char url[512];
        CURLcode rc;

        memset(r, 0, sizeof(*r));
        buf_init(&r->body, 4 * 1024 * 1024);
        buf_init(&r->hdrs, 64 * 1024);
        snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &r->body);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_data);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &r->hdrs);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(h, CURLOPT_NOBODY, 0L);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        if (body) {
                curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
                curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, body_len);
        }
        if (method && strcmp(method, "HEAD") == 0)
                curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        else if (method)
                curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        rc = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
        curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &r->num_connects);
        return rc;
}

/* A fresh handle for one request. */
static CURLcode req1(int port, const char *method, const char *path, const char *body,
                     long body_len, struct curl_slist *hdrs, struct resp *r)
{
        CURL *h = easy_new();
        CURLcode rc = do_req(h, port, method, path, body, body_len, hdrs, r);

        curl_easy_cleanup(h);
        return rc;
}

static bool is_hex32(const char *s)
{
        if (strlen(s) != 32)
                return false;
        for (int i = 0; i < 32; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return true;
}

/* ---- raw socket helpers ----------------------------------------------------- */

static int raw_connect(int port)
{
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
        int fd = socket(AF_INET, SOCK_STREAM, 0);

        assert_true(fd >= 0);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
        return fd;
}

static void raw_send(int fd, const char *s)
{
        assert_int_equal(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

/*
 * Reads into out until the peer closes (returns 0), resets (-ECONNRESET)
 * or nothing arrives for timeout_ms (-ETIMEDOUT), or `until` shows up in
 * what was read (returns 1).
 */
static int raw_recv(int fd, struct buf *out, int timeout_ms, const char *until)
{
        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                char tmp[4096];
                ssize_t n;

                if (until && out->data && strstr(out->data, until))
                        return 1;
                if (poll(&p, 1, timeout_ms) == 0)
                        return -ETIMEDOUT;
                n = recv(fd, tmp, sizeof(tmp), 0);
                if (n == 0)
                        return 0;
                if (n < 0)
                        return -errno;
                buf_append(out, tmp, (size_t)n);
        }
}

static long ms_since(const struct timespec *a)
{
        struct timespec b;

        clock_gettime(CLOCK_MONOTONIC, &b);
        return (b.tv_sec - a->tv_sec) * 1000 + (b.tv_nsec - a->tv_nsec) / 1000000;
}

/* ---- tests on the shared server --------------------------------------------- */

static void test_inline(void **state)
{
        struct fixture *f = *state;
        int before = atomic_load(&n_dispatch);
        char v[128];
        struct resp r;

        assert_int_equal(req1(f->port, NULL, "/inline", NULL, 0, NULL, &r), CURLE_OK);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.body.data, "inline ok");
        assert_non_null(resp_header(&r, "Content-Type", v, sizeof(v)));
        assert_string_equal(v, "text/plain");
        assert_non_null(resp_header(&r, "Content-Length", v, sizeof(v)));
        assert_string_equal(v, "9");
        /* answered on the loop: the dispatcher never saw it */
        assert_int_equal(atomic_load(&n_dispatch), before);
        resp_free(&r);
}

static void test_worker_echo(void **state)
{
        struct fixture *f = *state;
        struct curl_slist *h = NULL;
        int done_before = atomic_load(&n_done);
        struct resp r;

        h = curl_slist_append(h, "Content-Type: text/plain");
        h = curl_slist_append(h, "Authorization: Bearer t0ken");
        assert_int_equal(req1(f->port, "PUT", "/echo", "hello body", 10, h, &r), CURLE_OK);
        assert_int_equal(r.status, 200);
        assert_non_null(strstr(r.body.data, "method=PUT path=/echo query= "));
        assert_non_null(strstr(r.body.data, "body_len=10 body=hello body "));
        assert_non_null(strstr(r.body.data, "worker=1"));
        assert_non_null(strstr(r.body.data, "auth=Bearer t0ken ct=text/plain ip=127.0.0.1 "));
        resp_free(&r);
        curl_slist_free_all(h);

        assert_int_equal(req1(f->port, "DELETE", "/echo", NULL, 0, NULL, &r), CURLE_OK);
        assert_int_equal(r.status, 200);
        assert_non_null(strstr(r.body.data, "method=DELETE path=/echo query= b=- body_len=0 "));
        resp_free(&r);
        /* the done callback runs after each write (and after the previous
         * response reached us, so it has run for both by now or shortly) */
        for (int i = 0; i < 100 && atomic_load(&n_done) < done_before + 2; i++)
                usleep(10 * 1000);
        assert_true(atomic_load(&n_done) >= done_before + 2);
}

static void test_query_split(void **state)
{
        struct fixture *f = *state;
        struct resp r;

        assert_int_equal(req1(f->port, NULL, "/echo?a=1&b=two%20words%26more&c", NULL, 0, NULL, &r),
                         CURLE_OK);
        assert_int_equal(r.status, 200);
        assert_non_null(strstr(r.body.data, "path=/echo query=a=1&b=two%20words%26more&c "));
        /* http_query_get on what we produced gives back what was sent */
        assert_non_null(strstr(r.body.data, " b=two words&more "));
        resp_free(&r);

        /* lws hands the path over decoded; we re-encode it */
        assert_int_equal(req1(f->port, NULL, "/echo/caf%C3%A9/x%20y?b=%2B1", NULL, 0, NULL, &r),
                         CURLE_OK);
        assert_int_equal(r.status, 200);
        assert_non_null(strstr(r.body.data, "path=/echo/caf%C3%A9/x%20y query=b=%2B1 b=+1 "));
        resp_free(&r);
}

static void test_head(void **state)
{
        struct fixture *f = *state;
        char v[64];
        struct resp r;

        assert_int_equal(req1(f->port, "HEAD", "/echo", NULL, 0, NULL, &r), CURLE_OK);
        assert_int_equal(r.status, 200);
        assert_int_equal(r.body.len, 0);
        assert_non_null(resp_header(&r, "Content-Length", v, sizeof(v)));
        assert_true(atoi(v) > 20);      /* the length of the GET body */
        resp_free(&r);
}

static void test_body_too_large(void **state)
{
        struct fixture *f = *state;
        char *big = malloc(MAX_BODY + 1);
        char v[128];
        struct resp r;

        assert_non_null(big);
        memset(big, 'x', MAX_BODY + 1);
        assert_int_equal(req1(f->port, NULL, "/echo", big, MAX_BODY + 1, NULL, &r), CURLE_OK);
        assert_int_equal(r.status, 413);
        assert_non_null(resp_header(&r, "Content-Type", v, sizeof(v)));
        assert_string_equal(v, "application/problem+json");
        assert_non_null(resp_header(&r, "Connection", v, sizeof(v)));
        assert_string_equal(v, "close");
        assert_non_null(strstr(r.body.data, "\"code\":\"body_too_large\""));
        assert_non_null(strstr(r.body.data, "\"status\":413"));
        resp_free(&r);

        /* exactly the limit is fine */
        assert_int_equal(req1(f->port, NULL, "/echo", big, MAX_BODY, NULL, &r), CURLE_OK);
        assert_int_equal(r.status, 200);
        assert_non_null(strstr(r.body.data, "body_len=65536 "));
        resp_free(&r);
        free(big);
}

static size_t read_abc(char *p, size_t size, size_t n, void *ud)
{
        int *left = ud;

        if (*left == 0 || size * n < 3)
                return 0;
        (*left)--;
        memcpy(p, "abc", 3);
        return 3;
}

static void test_chunked_upload_411(void **state)
{
        struct fixture *f = *state;
        struct curl_slist *h = curl_slist_append(NULL, "Transfer-Encoding: chunked");
        CURL *c = easy_new();
        char url[128];
        int left = 2;
        struct buf body;
        long status = 0;

        buf_init(&body, 65536);
        snprintf(url, sizeof(url), "http://127.0.0.1:%d/echo", f->port);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, read_abc);
        curl_easy_setopt(c, CURLOPT_READDATA, &left);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
        assert_int_equal(curl_easy_perform(c), CURLE_OK);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        assert_int_equal(status, 411);
        assert_non_null(strstr(body.data, "\"code\":\"length_required\""));
        buf_free(&body);
        curl_slist_free_all(h);
        curl_easy_cleanup(c);
}

static void test_keepalive(void **state)
{
        struct fixture *f = *state;
        CURL *h = easy_new();
        struct resp r;

        assert_int_equal(do_req(h, f->port, NULL, "/inline", NULL, 0, NULL, &r), CURLE_OK);
        assert_int_equal(r.status, 200);
        assert_int_equal(r.num_connects, 1);
        resp_free(&r);
        /* the same connection again: inline, worker, worker with a body */
        assert_int_equal(do_req(h, f->port, NULL, "/inline", NULL, 0, NULL, &r), CURLE_OK);
        assert_int_equal(r.status, 200);
        assert_int_equal(r.num_connects, 0);
        resp_free(&r);
        assert_int_equal(do_req(h, f->port, NULL, "/echo", NULL, 0, NULL, &r), CURLE_OK);
        assert_int_equal(r.status, 200);
        assert_int_equal(r.num_connects, 0);
        resp_free(&r);
        assert_int_equal(do_req(h, f->port, NULL, "/echo", "xyz", 3, NULL, &r), CURLE_OK);
        assert_int_equal(r.status, 200);
        assert_int_equal(r.num_connects, 0);
        assert_non_null(strstr(r.body.data, "body_len=3 body=xyz "));
        resp_free(&r);
        curl_easy_cleanup(h);
}

static void test_request_id(void **state)
{
        struct fixture *f = *state;
        struct curl_slist *h;
        char v[128], v2[128];
        struct resp r;

        h = curl_slist_append(NULL, "X-Request-Id: Ab.9_z-1");
        assert_int_equal(req1(f->port, NULL, "/echo", NULL, 0, h, &r), CURLE_OK);
        assert_non_null(resp_header(&r, "X-Request-Id", v, sizeof(v)));
        assert_string_equal(v, "Ab.9_z-1");
        assert_non_null(strstr(r.body.data, "id=Ab.9_z-1"));
        resp_free(&r);
        curl_slist_free_all(h);

        h = curl_slist_append(NULL, "X-Request-Id: bad id<script>");
        assert_int_equal(req1(f->port, NULL, "/inline", NULL, 0, h, &r), CURLE_OK);
        assert_non_null(resp_header(&r, "X-Request-Id", v, sizeof(v)));
        assert_true(is_hex32(v));
        resp_free(&r);
        curl_slist_free_all(h);

        /* 37 characters is one too many */
        h = curl_slist_append(NULL, "X-Request-Id: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
        assert_int_equal(req1(f->port, NULL, "/inline", NULL, 0, h, &r), CURLE_OK);
        assert_non_null(resp_header(&r, "X-Request-Id", v2, sizeof(v2)));
        assert_true(is_hex32(v2));
        assert_string_not_equal(v, v2);
        resp_free(&r);
        curl_slist_free_all(h);

        assert_int_equal(req1(f->port, NULL, "/echo", NULL, 0, NULL, &r), CURLE_OK);
        assert_non_null(resp_header(&r, "X-Request-Id", v, sizeof(v)));
        assert_true(is_hex32(v));
        assert_non_null(strstr(r.body.data, v));        /* the handler saw the same id */
        resp_free(&r);
}

static void test_big_body(void **state)
{
        struct fixture *f = *state;
        CURL *h = easy_new();
        struct resp r;

        for (int round = 0; round < 2; round++) {       /* and keep-alive after it */
                assert_int_equal(do_req(h, f->port, NULL, "/big", NULL, 0, NULL, &r), CURLE_OK);
                assert_int_equal(r.status, 200);
                assert_int_equal(r.body.len, BIG_LEN);
                for (int i = 0; i < BIG_LEN; i++)
                        if (r.body.data[i] != (char)('a' + (i * 7 + i / 1000) % 26))
                                fail_msg("byte %d differs", i);
                if (round == 1)
                        assert_int_equal(r.num_connects, 0);
                resp_free(&r);
        }
        curl_easy_cleanup(h);
}

static void test_handler_errors(void **state)
{
        struct fixture *f = *state;
        char v[128];
        struct resp r;

        assert_int_equal(req1(f->port, NULL, "/nostatus", NULL, 0, NULL, &r), CURLE_OK);
        assert_int_equal(r.status, 500);
        assert_non_null(strstr(r.body.data, "\"code\":\"internal_error\""));
        resp_free(&r);

        assert_int_equal(req1(f->port, NULL, "/hdrs", NULL, 0, NULL, &r), CURLE_OK);
        assert_int_equal(r.status, 201);
        assert_non_null(resp_header(&r, "X-Good", v, sizeof(v)));
        assert_string_equal(v, "fine");
        assert_null(resp_header(&r, "X-Evil", v, sizeof(v)));
        assert_null(resp_header(&r, "X-Injected", v, sizeof(v)));
        resp_free(&r);
}

#define CONC_THREADS 8
#define CONC_REQS 50

struct conc {
        int port;
        int id;
        int ok;
};

static void *conc_main(void *arg)
{
        struct conc *c = arg;
        CURL *h = easy_new();

        for (int i = 0; i < CONC_REQS; i++) {
                char path[64], want[64];
                bool inl = (i + c->id) % 3 == 0;
                struct resp r;
                bool good;

                snprintf(path, sizeof(path), inl ? "/inline" : "/echo?b=t%dr%d", c->id, i);
                snprintf(want, sizeof(want), " b=t%dr%d ", c->id, i);
                good = do_req(h, c->port, NULL, path, NULL, 0, NULL, &r) == CURLE_OK &&
                       r.status == 200;
                if (good && inl)
                        good = strcmp(r.body.data, "inline ok") == 0;
                else if (good)
                        good = strstr(r.body.data, want) != NULL;
                if (good)
                        c->ok++;
                resp_free(&r);
        }
        curl_easy_cleanup(h);
        return NULL;
}

static void test_concurrent(void **state)
{
        struct fixture *f = *state;
        pthread_t t[CONC_THREADS];
        struct conc c[CONC_THREADS];
        int total = 0;

        for (int i = 0; i < CONC_THREADS; i++) {
                c[i] = (struct conc){ .port = f->port, .id = i };
                assert_int_equal(pthread_create(&t[i], NULL, conc_main, &c[i]), 0);
        }
        for (int i = 0; i < CONC_THREADS; i++) {
                pthread_join(t[i], NULL);
                total += c[i].ok;
        }
        assert_int_equal(total, CONC_THREADS * CONC_REQS);
        assert_int_equal(server_queue_depth(f->s), 0);
}

static void test_pipelined(void **state)
{
        struct fixture *f = *state;
        int fd = raw_connect(f->port);
        struct buf in;
        const char *a, *b, *c;

        buf_init(&in, 1 << 20);
        /* a worker request, an inline one, another worker one, in one write */
        raw_send(fd, "GET /echo?b=first HTTP/1.1\r\nHost: t\r\n\r\n"
                     "GET /inline HTTP/1.1\r\nHost: t\r\n\r\n"
                     "DELETE /echo?b=third HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_int_equal(raw_recv(fd, &in, 3000, " b=third "), 1);
        a = strstr(in.data, " b=first ");
        b = strstr(in.data, "inline ok");
        c = strstr(in.data, " b=third ");
        assert_non_null(a);
        assert_non_null(b);
        assert_non_null(c);
        assert_true(a < b && b < c);    /* answered in order */
        buf_free(&in);
        close(fd);

        /* a request with a body, then one pipelined behind it */
        fd = raw_connect(f->port);
        buf_init(&in, 1 << 20);
        raw_send(fd, "POST /echo?b=first HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nbody"
                     "GET /echo?b=second HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_int_equal(raw_recv(fd, &in, 3000, " b=second "), 1);
        a = strstr(in.data, " b=first body_len=4 body=body ");
        b = strstr(in.data, " b=second body_len=0 ");
        assert_non_null(a);
        assert_non_null(b);
        assert_true(a < b);
        buf_free(&in);
        close(fd);
}

/*
 * A request with a body that lws parses from its own input buffer (it was
 * pipelined behind another one) would get the wrong body from lws 4.1.6:
 * the server closes the connection instead, and no handler ever sees it.
 */
static void test_pipelined_body_refused(void **state)
{
        struct fixture *f = *state;
        int fd = raw_connect(f->port);
        int before = atomic_load(&n_dispatch);
        struct buf in;

        buf_init(&in, 1 << 20);
        raw_send(fd, "GET /inline HTTP/1.1\r\nHost: t\r\n\r\n"
                     "POST /echo?b=second HTTP/1.1\r\nHost: t\r\nContent-Length: 40\r\n\r\n"
                     "0123456789012345678901234567890123456789");
        assert_int_equal(raw_recv(fd, &in, 3000, NULL), 0);
        assert_non_null(strstr(in.data, "inline ok"));
        assert_null(strstr(in.data, "b=second"));
        assert_int_equal(atomic_load(&n_dispatch), before);
        buf_free(&in);
        close(fd);
}

static void test_post_without_length(void **state)
{
        struct fixture *f = *state;
        int fd = raw_connect(f->port);
        struct buf in;

        buf_init(&in, 1 << 20);
        raw_send(fd, "POST /echo HTTP/1.1\r\nHost: t\r\n\r\n");
        /* an empty body, then the connection closes */
        assert_int_equal(raw_recv(fd, &in, 3000, NULL), 0);
        assert_non_null(strstr(in.data, "HTTP/1.1 200"));
        assert_non_null(strstr(in.data, "body_len=0 "));
        assert_non_null(strcasestr(in.data, "connection: close"));
        buf_free(&in);
        close(fd);
}

static void test_expect_continue(void **state)
{
        struct fixture *f = *state;
        int fd = raw_connect(f->port);
        struct buf in;

        buf_init(&in, 1 << 20);
        raw_send(fd, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n"
                     "Expect: 100-continue\r\n\r\n");
        assert_int_equal(raw_recv(fd, &in, 2000, "\r\n\r\n"), 1);
        assert_non_null(strstr(in.data, "HTTP/1.1 100 Continue\r\n\r\n"));
        raw_send(fd, "data");
        assert_int_equal(raw_recv(fd, &in, 2000, "body=data "), 1);
        assert_non_null(strstr(in.data, "HTTP/1.1 200"));
        buf_free(&in);
        close(fd);
}

/* ---- tests with their own server ------------------------------------------- */

struct bg_req {
        int port;
        const char *path;
        struct resp r;
        CURLcode rc;
};

static void *bg_req_main(void *arg)
{
        struct bg_req *b = arg;

        b->rc = req1(b->port, NULL, b->path, NULL, 0, NULL, &b->r);
        return NULL;
}

static void wait_entered(int n)
{
        for (int i = 0; i < 500 && atomic_load(&n_gate_entered) < n; i++)
                usleep(10 * 1000);
        assert_true(atomic_load(&n_gate_entered) >= n);
}

static void test_drain(void **state)
{
        struct fixture f = { 0 };
        struct server_config cfg = base_config(&f);
        struct bg_req slow = { .path = "/slow" };
        pthread_t t;
        char v[64];
        struct resp r;
        long ms;

        fixture_start(&f, &cfg);
        assert_int_equal(server_draining(f.s), 0);
        atomic_store(&n_gate_entered, 0);
        slow.port = f.port;
        assert_int_equal(pthread_create(&t, NULL, bg_req_main, &slow), 0);
        wait_entered(1);

        server_stop(f.s);
        for (int i = 0; i < 200 && !server_draining(f.s); i++)
                usleep(5 * 1000);
        assert_int_equal(server_draining(f.s), 1);

        /* new requests are turned away while the slow one finishes */
        assert_int_equal(req1(f.port, NULL, "/inline", NULL, 0, NULL, &r), CURLE_OK);
        assert_int_equal(r.status, 503);
        assert_non_null(strstr(r.body.data, "\"code\":\"shutting_down\""));
        assert_non_null(resp_header(&r, "Connection", v, sizeof(v)));
        assert_string_equal(v, "close");
        resp_free(&r);

        pthread_join(t, NULL);
        assert_int_equal(slow.rc, CURLE_OK);
        assert_int_equal(slow.r.status, 200);
        assert_string_equal(slow.r.body.data, "slow done");
        resp_free(&slow.r);

        /* server_run returned 0 on its own, well before the 10 s bound */
        ms = fixture_stop(&f);
        assert_true(ms < 2000);
}

static void test_stop_before_run(void **state)
{
        struct fixture f = { 0 };
        struct server_config cfg = base_config(&f);
        struct timespec a;

        assert_int_equal(server_create(&cfg, &f.s), 0);
        server_stop(f.s);
        clock_gettime(CLOCK_MONOTONIC, &a);
        assert_int_equal(server_run(f.s), 0);
        assert_true(ms_since(&a) < 1000);
        assert_int_equal(server_draining(f.s), 1);
        server_free(f.s);
        server_free(NULL);
}

static void test_overloaded(void **state)
{
        struct fixture f = { 0 };
        struct server_config cfg = base_config(&f);
        struct bg_req a = { .path = "/gate" }, b = { .path = "/gate" };
        pthread_t ta, tb;
        char v[64];
        struct resp r;

        cfg.workers = 1;
        cfg.queue_max = 1;
        fixture_start(&f, &cfg);
        gate_set(false);
        atomic_store(&n_gate_entered, 0);
        a.port = b.port = f.port;

        assert_int_equal(pthread_create(&ta, NULL, bg_req_main, &a), 0);
        wait_entered(1);                        /* a is on the only worker */
        assert_int_equal(pthread_create(&tb, NULL, bg_req_main, &b), 0);
        for (int i = 0; i < 500 && server_queue_depth(f.s) < 1; i++)
                usleep(10 * 1000);
        assert_int_equal(server_queue_depth(f.s), 1);   /* b waits in the queue */

        assert_int_equal(req1(f.port, NULL, "/echo", NULL, 0, NULL, &r), CURLE_OK);
        assert_int_equal(r.status, 503);
        assert_non_null(strstr(r.body.data, "\"code\":\"overloaded\""));
        assert_non_null(resp_header(&r, "Retry-After", v, sizeof(v)));
        assert_string_equal(v, "1");
        resp_free(&r);
        /* the inline path does not need the pool */
        assert_int_equal(req1(f.port, NULL, "/inline", NULL, 0, NULL, &r), CURLE_OK);
        assert_int_equal(r.status, 200);
        resp_free(&r);

        gate_set(true);
        pthread_join(ta, NULL);
        pthread_join(tb, NULL);
        assert_int_equal(a.r.status, 200);
        assert_int_equal(b.r.status, 200);
        assert_string_equal(b.r.body.data, "gate passed");
        resp_free(&a.r);
        resp_free(&b.r);
        assert_int_equal(server_queue_depth(f.s), 0);
        fixture_stop(&f);
}

/*
 * The client resets the connection while its request is on a worker: the
 * job is orphaned, its response dropped (no done callback), and it is
 * freed - which the drain proves: it ends at once, not after 10 s. ASan
 * checks the rest.
 */
static void test_orphan(void **state)
{
        struct fixture f = { 0 };
        struct server_config cfg = base_config(&f);
        struct linger lg = { .l_onoff = 1, .l_linger = 0 };
        int fd, done_before;
        struct resp r;

        cfg.workers = 1;
        fixture_start(&f, &cfg);
        gate_set(false);
        atomic_store(&n_gate_entered, 0);

        fd = raw_connect(f.port);
        raw_send(fd, "GET /gate HTTP/1.1\r\nHost: t\r\n\r\n");
        wait_entered(1);
        done_before = atomic_load(&n_done);
        assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
        close(fd);                      /* RST */
        usleep(300 * 1000);             /* let the loop see the close first */
        gate_set(true);

        /* the worker is free again and the server healthy */
        assert_int_equal(req1(f.port, NULL, "/echo", NULL, 0, NULL, &r), CURLE_OK);
        assert_int_equal(r.status, 200);
        resp_free(&r);
        for (int i = 0; i < 100 && atomic_load(&n_done) < done_before + 1; i++)
                usleep(10 * 1000);
        assert_int_equal(atomic_load(&n_done), done_before + 1);   /* /echo only */
        assert_true(fixture_stop(&f) < 2000);
}

static void test_timeouts(void **state)
{
        struct fixture f = { 0 };
        struct server_config cfg = base_config(&f);
        struct timespec a;
        struct buf in;
        int fd, r;
        long ms;

        cfg.request_timeout_s = 1;
        cfg.keepalive_timeout_s = 1;
        fixture_start(&f, &cfg);
        buf_init(&in, 1 << 20);

        /* headers that never end */
        fd = raw_connect(f.port);
        clock_gettime(CLOCK_MONOTONIC, &a);
        raw_send(fd, "GET /echo HTTP/1.1\r\nHost: t\r\n");
        r = raw_recv(fd, &in, 5000, NULL);
        ms = ms_since(&a);
        assert_true(r == 0 || r == -ECONNRESET);
        assert_true(ms >= 500 && ms < 4000);
        close(fd);

        /* a body that never completes */
        fd = raw_connect(f.port);
        clock_gettime(CLOCK_MONOTONIC, &a);
        raw_send(fd, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nab");
        r = raw_recv(fd, &in, 5000, NULL);
        ms = ms_since(&a);
        assert_true(r == 0 || r == -ECONNRESET);
        assert_true(ms >= 500 && ms < 4000);
        close(fd);

        /* an idle keep-alive connection */
        buf_reset(&in);
        fd = raw_connect(f.port);
        raw_send(fd, "GET /inline HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_int_equal(raw_recv(fd, &in, 2000, "inline ok"), 1);
        clock_gettime(CLOCK_MONOTONIC, &a);
        r = raw_recv(fd, &in, 5000, NULL);
        assert_true(r == 0 || r == -ECONNRESET);
        assert_true(ms_since(&a) < 4000);
        close(fd);

        buf_free(&in);
        fixture_stop(&f);
}

/* A throwaway self-signed P-256 certificate for the TLS test (no secret). */
static const char test_cert_pem[] =
        "-----BEGIN CERTIFICATE-----\n"
        "MIIBfjCCASWgAwIBAgIURa1eoHS/3vVPd7+lWZ3V9GGLbSQwCgYIKoZIzj0EAwIw\n"
        "FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyMjAyNDkwOVoYDzIxMjYxMDI5\n"
        "MDI0OTA5WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO\n"
        "PQMBBwNCAATpcwGqAE76pLJj+JHxdqXWAbol4hK9h3uigKOWvHhRueRLgq4yd9oF\n"
        "DKu/DXGPM4ld2JlU+vZLrl3YSP4nu8Rao1MwUTAdBgNVHQ4EFgQUK3BriMaUsb/8\n"
        "sBabkKo0k782Fz4wHwYDVR0jBBgwFoAUK3BriMaUsb/8sBabkKo0k782Fz4wDwYD\n"
        "VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNHADBEAiAj26ZO4gNQCdOCvJqRz8CK\n"
        "jeODyXgpAddD09avgiEsNwIgW7sipfHVM2uJT1H4EYAXUOCcvCxGVqjJ5405UHCK\n"
        "E7E=\n"
        "-----END CERTIFICATE-----\n";
static const char test_key_pem[] =
        "-----BEGIN PRIVATE KEY-----\n"
        "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgGBxyO09dAaqQJsdi\n"
        "zAFsTIWB9B2wqaS0caFnwaBV0vahRANCAATpcwGqAE76pLJj+JHxdqXWAbol4hK9\n"
        "h3uigKOWvHhRueRLgq4yd9oFDKu/DXGPM4ld2JlU+vZLrl3YSP4nu8Ra\n"
        "-----END PRIVATE KEY-----\n";

static void write_temp(char *path, const char *content)
{
        int fd = mkstemp(path);
        size_t n = strlen(content);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, content, n), (ssize_t)n);
        close(fd);
}

static void test_tls(void **state)
{
        struct fixture f = { 0 };
        struct server_config cfg = base_config(&f);
        char cert[] = "/tmp/enemane-test-cert-XXXXXX", key[] = "/tmp/enemane-test-key-XXXXXX";
        char url[128];
        struct buf body;
        CURL *h;
        long status = 0, conns = -1;

        write_temp(cert, test_cert_pem);
        write_temp(key, test_key_pem);
        cfg.tls_cert = cert;
        cfg.tls_key = key;
        fixture_start(&f, &cfg);
        unlink(cert);
        unlink(key);

        h = easy_new();
        buf_init(&body, 1 << 20);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
        snprintf(url, sizeof(url), "https://127.0.0.1:%d/inline", f.port);
        curl_easy_setopt(h, CURLOPT_URL, url);
        assert_int_equal(curl_easy_perform(h), CURLE_OK);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        assert_int_equal(status, 200);
        assert_string_equal(body.data, "inline ok");

        /* a worker request with a body, on the same TLS connection */
        buf_reset(&body);
        snprintf(url, sizeof(url), "https://127.0.0.1:%d/echo?b=tls", f.port);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, "secret");
        assert_int_equal(curl_easy_perform(h), CURLE_OK);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &conns);
        assert_int_equal(status, 200);
        assert_int_equal(conns, 0);
        assert_non_null(strstr(body.data, " b=tls body_len=6 body=secret worker=1 "));
        buf_free(&body);
        curl_easy_cleanup(h);

        /* plain HTTP on the TLS port gets nowhere */
        {
                struct resp r;

                assert_int_not_equal(req1(f.port, NULL, "/inline", NULL, 0, NULL, &r), CURLE_OK);
                assert_int_not_equal(r.status, 200);
                resp_free(&r);
        }
        fixture_stop(&f);
}

static void test_port_in_use(void **state)
{
        struct fixture f = { 0 }, g = { 0 };
        struct server_config cfg = base_config(&f);
        struct sockaddr_in a = { .sin_family = AF_INET };
        socklen_t al = sizeof(a);
        struct server *s2 = (struct server *)&g;
        int fd;

        /* taken by a plain listening socket */
        fd = socket(AF_INET, SOCK_STREAM, 0);
        assert_true(fd >= 0);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
        assert_int_equal(listen(fd, 1), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
        cfg.port = ntohs(a.sin_port);
        assert_int_equal(server_create(&cfg, &s2), -EADDRINUSE);
        assert_null(s2);
        close(fd);

        /* taken by another server */
        cfg.port = 0;
        assert_int_equal(server_create(&cfg, &f.s), 0);
        cfg.port = server_port(f.s);
        s2 = (struct server *)&g;
        assert_int_equal(server_create(&cfg, &s2), -EADDRINUSE);
        assert_null(s2);
        server_free(f.s);
}

static void test_bad_config(void **state)
{
        struct fixture f = { 0 };
        struct server_config cfg = base_config(&f);
        struct server *s = NULL;

        cfg.workers = 0;
        assert_int_equal(server_create(&cfg, &s), -EINVAL);
        cfg = base_config(&f);
        cfg.dispatch = NULL;
        assert_int_equal(server_create(&cfg, &s), -EINVAL);
        cfg = base_config(&f);
        cfg.tls_cert = "/nonexistent.pem";      /* without a key */
        assert_int_equal(server_create(&cfg, &s), -EINVAL);
        cfg = base_config(&f);
        cfg.port = 70000;
        assert_int_equal(server_create(&cfg, &s), -EINVAL);
        assert_null(s);
        assert_int_equal(server_queue_depth(NULL), 0);
}

int main(void)
{
        const struct CMUnitTest shared[] = {
                cmocka_unit_test(test_inline),
                cmocka_unit_test(test_worker_echo),
                cmocka_unit_test(test_query_split),
                cmocka_unit_test(test_head),
                cmocka_unit_test(test_body_too_large),
                cmocka_unit_test(test_chunked_upload_411),
                cmocka_unit_test(test_keepalive),
                cmocka_unit_test(test_request_id),
                cmocka_unit_test(test_big_body),
                cmocka_unit_test(test_handler_errors),
                cmocka_unit_test(test_concurrent),
                cmocka_unit_test(test_pipelined),
                cmocka_unit_test(test_pipelined_body_refused),
                cmocka_unit_test(test_post_without_length),
                cmocka_unit_test(test_expect_continue),
        };
        const struct CMUnitTest own[] = {
                cmocka_unit_test(test_drain),
                cmocka_unit_test(test_stop_before_run),
                cmocka_unit_test(test_overloaded),
                cmocka_unit_test(test_orphan),
                cmocka_unit_test(test_timeouts),
                cmocka_unit_test(test_tls),
                cmocka_unit_test(test_port_in_use),
                cmocka_unit_test(test_bad_config),
        };
        int failed;

        signal(SIGPIPE, SIG_IGN);
        curl_global_init(CURL_GLOBAL_DEFAULT);
        failed = cmocka_run_group_tests_name("server (shared)", shared,
                                             group_setup, group_teardown);
        failed += cmocka_run_group_tests_name("server (own)", own, NULL, NULL);
        curl_global_cleanup();
        return failed;
}
