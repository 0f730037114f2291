/*
 * server.c - the libwebsockets HTTP/1.1 front end and its worker pool
 * (see server.h for the contract).
 *
 * Threads
 * -------
 * One event-loop thread (the caller of server_run) owns the lws context and
 * every connection. `workers` pthreads only ever touch the request and
 * response of the job they popped, plus the queue under s->lock. Nothing
 * else in this file runs off the loop thread except server_stop() (an
 * atomic store and lws_cancel_service) and the read-only accessors.
 *
 * A request's life (struct job)
 * -----------------------------
 *   LWS_CALLBACK_HTTP        job_new(), headers copied into job->req.
 *      |  (Content-Length > 0)
 *      v
 *   JOB_READING              body accumulated in LWS_CALLBACK_HTTP_BODY,
 *      |                     dispatched at LWS_CALLBACK_HTTP_BODY_COMPLETION
 *      v
 *   job_dispatch()  -- inline handler answered, or a reject --> JOB_WRITE
 *      |  (declined)
 *      v
 *   JOB_POOL                 on s->queue, on a worker, or on s->done
 *      |  (worker finished, lws_cancel_service, EVENT_WAIT_CANCELLED)
 *      v
 *   JOB_WRITE                written in LWS_CALLBACK_HTTP_WRITEABLE (or right
 *      |                     away when we are already inside the callback
 *      v                     that completed the request), in chunks
 *   job_finish()             done callback, job freed, transaction completed
 *
 * Ownership (the part that must never be wrong)
 * ---------------------------------------------
 * - A job is freed only on the loop thread (or in server_free after the
 *   workers were joined), never by a worker.
 * - Per connection we keep a struct conn, hung on the wsi with
 *   lws_set_opaque_user_data (the lws per-session user_space is freed and
 *   re-allocated by lws at every keep-alive transaction, so it cannot hold
 *   anything across one). conn->job points at the connection's current job.
 * - While the job is JOB_READING or JOB_WRITE the connection owns it: if the
 *   connection closes, conn_detach() frees it on the spot.
 * - While the job is JOB_POOL the pool owns it: conn_detach() only sets
 *   job->orphaned and clears job->wsi under s->lock. A worker that pops an
 *   orphaned job skips the dispatcher; in every case the worker moves the
 *   job to s->done, and the loop, draining s->done in
 *   LWS_CALLBACK_EVENT_WAIT_CANCELLED, frees orphans instead of writing
 *   them. Because both conn_detach() and the done-list drain run on the
 *   loop thread, a job taken off s->done can no longer be orphaned under
 *   our feet, and job->wsi of a non-orphaned job is always a live wsi.
 * - job->wsi and job->state are loop-thread only; job->orphaned and the
 *   list links are under s->lock; job->req/res belong to whoever owns the
 *   job at the time (the worker between pop and push, otherwise the loop).
 * - conn_detach() runs from both LWS_CALLBACK_CLOSED_HTTP and
 *   LWS_CALLBACK_WSI_DESTROY (the latter is the last thing lws says about a
 *   wsi, whatever state it closed in), and is idempotent.
 *
 * Rx flow control is on for a connection while its job is in the pool. A
 * pipelining client's next request sits in lws's input buffer meanwhile,
 * and lws 4.1 re-services such a buffer on every loop iteration: without
 * flow control the loop thread spins for as long as the worker takes.
 * Flow control cannot stay on once the response is ready, because for an
 * h1 server it also stops POLLOUT servicing (rops_handle_POLLIN_h1 returns
 * early), so it is lifted right before we ask for WRITEABLE. Pipelined
 * requests therefore work, answered in order. Should lws ever hand us a
 * second LWS_CALLBACK_HTTP while a job is pending anyway, we close the
 * connection (the pending job is orphaned or freed like for any close).
 *
 * libwebsockets 4.1 quirks handled here
 * -------------------------------------
 * - lws url-decodes the request path and the query before we see them and
 *   normalises the path ("//" -> "/", "/./" -> "/", "/a/../b" -> "/b").
 *   It also turns a literal '+' into a space in the path as well as in the
 *   query, splits the query at literal '&' and ';', and turns a %3D inside
 *   a query *name* into '_'. The raw request line is not available through
 *   any public API. So req->path and req->query are *re-encoded* canonical
 *   forms: every byte outside a small safe set is %XX-escaped again. A
 *   plain path like "/api/v1/members/42" arrives unchanged; decoding
 *   req->path segments (http_path_decode) or query values (http_query_get)
 *   gives the bytes the client meant, except that an encoded "%2F" inside a
 *   segment has already become a real '/', and a raw '+' in the path is a
 *   space.
 * - lws assumes a POST/PUT/PATCH without Content-Length has a body of up to
 *   100 MB and would read following bytes as body. We treat such a body as
 *   empty (as RFC 9112 says) and close the connection after the response.
 * - Chunked request bodies are not supported by lws 4.1 on the server side:
 *   any Transfer-Encoding gets 411 and Connection: close.
 * - A request with a body, pipelined behind another one, gets the wrong
 *   body from lws (see body_is_request_line): such a connection is closed.
 * - Some requests never reach us: unknown methods (lws answers 403 and
 *   closes), bad %-escapes or control bytes in the URI, header blocks over
 *   max_header_bytes (lws just closes), CONNECT (lws turns the connection
 *   raw). Upgrade requests (websocket, h2c) are refused by closing the
 *   connection, since an lws upgrade cannot be declined while continuing
 *   in HTTP/1.1.
 * - lws puts its own reason phrase on the status line ("413 Request Entity
 *   Too Large", nothing for some codes); clients ignore it.
 * - Responses that must close the connection go out with
 *   lws_add_http_common_headers(..., LWS_ILLEGAL_HTTP_CONTENT_LEN, ...)
 *   (the public way to emit "connection: close"), and we close by
 *   returning -1 after the last write rather than through
 *   lws_http_transaction_completed(), which would first wait to discard an
 *   unread body (LRS_DISCARD_BODY). lws flushes buffered output first.
 * - lws re-arms a body-reading connection's timeout after every chunk, and
 *   ignores "Expect: 100-continue"; both are handled below. A TLS vhost
 *   needs LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT in the vhost's options too.
 *
 * Signals and shutdown
 * --------------------
 * server_stop() stores an atomic flag and calls lws_cancel_service(). In
 * lws 4.1.6 that function reads a context flag, makes a log call that is
 * filtered out at the level check before doing anything (we keep only
 * LLL_ERR), and write()s one byte to the context's eventfd/pipe - all
 * async-signal-safe. A self-pipe of our own would need a second fd adopted
 * into lws for no gain, so we rely on that (re-check it when upgrading
 * lws). The loop notices the flag in LWS_CALLBACK_EVENT_WAIT_CANCELLED (and
 * at each service iteration), starts draining, and server_run() returns
 * once no job is alive, or after SERVER_DRAIN_MAX_US at the latest.
 */
#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "http/problem.h"
#include "util/cleanup.h"

#if ATOMIC_INT_LOCK_FREE != 2
#error "server_stop() needs lock-free atomic int to be async-signal-safe"
#endif

#define SERVER_DRAIN_MAX_US     (10 * 1000 * 1000LL)    /* hard bound on draining */
#define SERVER_DRAIN_TICK_US    (100 * 1000LL)          /* drain re-check period */
#define SERVER_WBUF_SIZE        (64 * 1024)             /* one write: headers + body chunk */
#define SERVER_MAX_WORKERS      256
#define SERVER_REQUEST_ID_MAX   36
#define SERVER_MIN_HEADER_BYTES 1024
#define SERVER_MAX_STRAY        10000                   /* see on_body_done() */
#define SERVER_LWS_LOG_PER_S    10                      /* lws error lines per second */

enum job_state {
        JOB_READING,    /* reading the body; connection owns the job */
        JOB_POOL,       /* queued / on a worker / on s->done; pool owns it */
        JOB_WRITE,      /* response ready or being written; connection owns it */
};

struct job {
        struct job *next;               /* s->queue or s->done link, under s->lock */
        struct lws *wsi;                /* loop thread; NULL once orphaned */
        enum job_state state;           /* loop thread */
        bool orphaned;                  /* under s->lock */
        bool flow_off;                  /* we disabled rx on the connection */
        int stray_completions;          /* BODY_COMPLETION calls after the body */
        bool close_after;               /* force Connection: close */
        bool hdr_sent;                  /* status line and headers written */
        size_t body_expected;           /* Content-Length while JOB_READING */
        size_t body_off;                /* response body bytes written */
        int64_t deadline_us;            /* absolute end of body reading */
        struct http_request req;
        struct http_response res;
};

/* Per connection, hung on the wsi as lws "opaque user data". */
struct conn {
        struct job *job;                /* current job or NULL */
        unsigned requests;              /* requests seen on this connection */
        char ip[64];                    /* peer address, looked up once */
};

struct server {
        struct server_config cfg;       /* copy; string pointers unused after create */
        struct lws_context *ctx;
        struct lws_vhost *vh;
        struct lws_protocols protocols[2];
        int port;

        pthread_mutex_t lock;
        pthread_cond_t cond;
        struct job *q_head, *q_tail;    /* waiting for a worker, under lock */
        struct job *d_head, *d_tail;    /* finished by a worker, under lock */
        bool workers_quit;              /* under lock */
        atomic_int queue_len;           /* written under lock, read anywhere */
        pthread_t *threads;
        int n_threads;
        bool lock_ok;

        atomic_int stop_requested;      /* set by server_stop() */
        atomic_int draining;            /* loop writes, anyone reads */
        int live_jobs;                  /* loop thread: jobs not yet freed */
        bool run_done;                  /* loop thread: server_run may return */
        bool destroying;                /* server_free is tearing down lws */
        int64_t drain_deadline_us;
        lws_sorted_usec_list_t drain_sul;
        uint64_t rng;                   /* loop thread: request id generator */

        unsigned char wbuf[LWS_PRE + SERVER_WBUF_SIZE];
};

static int64_t now_us(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- request ids --------------------------------------------------------- */

/*
 * splitmix64: a bijection of a counter, so the ids of one process never
 * repeat, and the seed comes from getrandom() once. Request ids need to be
 * unique, not secret; this keeps a syscall off every request.
 */
static uint64_t splitmix64(uint64_t *x)
{
        uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

static void request_id_generate(struct server *s, char out[40])
{
        static const char hex[] = "0123456789abcdef";
        uint64_t v[2];

        v[0] = splitmix64(&s->rng);
        v[1] = splitmix64(&s->rng);
        for (int i = 0; i < 32; i++)
                out[i] = hex[(v[i / 16] >> (60 - 4 * (i % 16))) & 0xf];
        out[32] = '\0';
}

static bool request_id_sane(const char *id, size_t len)
{
        if (len < 1 || len > SERVER_REQUEST_ID_MAX)
                return false;
        for (size_t i = 0; i < len; i++) {
                char c = id[i];

                if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
                        return false;
        }
        return true;
}

/* ---- jobs ---------------------------------------------------------------- */

static struct job *job_new(struct server *s, struct lws *wsi)
{
        struct job *job = malloc(sizeof(*job));

        if (!job)
                return NULL;
        job->next = NULL;
        job->wsi = wsi;
        job->state = JOB_READING;
        job->orphaned = false;
        job->flow_off = false;
        job->stray_completions = 0;
        job->close_after = false;
        job->hdr_sent = false;
        job->body_expected = 0;
        job->body_off = 0;
        job->deadline_us = 0;
        http_request_init(&job->req);
        http_response_init(&job->res);
        s->live_jobs++;
        return job;
}

static void server_check_drained(struct server *s);

/* Loop thread (or server_free after the workers are gone) only. */
static void job_free(struct server *s, struct job *job)
{
        if (!job)
                return;
        http_request_free(&job->req);
        http_response_free(&job->res);
        free(job);
        s->live_jobs--;
        server_check_drained(s);
}

/* Replaces whatever the response holds with a problem document. */
static void job_problem(struct job *job, int status, const char *code, const char *detail)
{
        http_response_free(&job->res);
        http_response_init(&job->res);
        problem_respond(&job->res, status, code, "%s", detail);
}

/* ---- connections --------------------------------------------------------- */

static struct conn *conn_get(struct lws *wsi)
{
        struct conn *c = lws_get_opaque_user_data(wsi);
        const char *ip;

        if (c)
                return c;
        c = calloc(1, sizeof(*c));
        if (!c)
                return NULL;
        /* getpeername() once per connection, not per request */
        ip = lws_get_peer_simple(wsi, c->ip, sizeof(c->ip));
        if (!ip)
                c->ip[0] = '\0';
        else if (strncmp(c->ip, "::ffff:", 7) == 0 && strchr(c->ip + 7, '.'))
                memmove(c->ip, c->ip + 7, strlen(c->ip + 7) + 1);
        lws_set_opaque_user_data(wsi, c);
        return c;
}

/*
 * The connection is going away: give up its job (free it, or orphan it if
 * the pool has it, see the ownership notes at the top) and free the conn.
 */
static void conn_detach(struct server *s, struct lws *wsi)
{
        struct conn *c = lws_get_opaque_user_data(wsi);
        struct job *job;

        if (!c)
                return;
        lws_set_opaque_user_data(wsi, NULL);
        job = c->job;
        c->job = NULL;
        free(c);
        if (!job)
                return;
        if (job->state == JOB_POOL) {
                pthread_mutex_lock(&s->lock);
                job->orphaned = true;
                job->wsi = NULL;
                pthread_mutex_unlock(&s->lock);
                return;
        }
        job_free(s, job);
}

/* ---- request parsing ----------------------------------------------------- */

static bool path_byte_safe(unsigned char c)
{
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
                return true;
        return c != '\0' && strchr("-._~!$&'()*,;=:@/", c) != NULL;
}

static bool query_byte_safe(unsigned char c)
{
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
                return true;
        return c != '\0' && strchr("-._~!$'()*,:@/?", c) != NULL;
}

/* Appends src[0..len) to out at *j, %XX-escaping bytes that are not safe. */
static void encode_into(char *out, size_t *j, const char *src, size_t len,
                        bool (*safe)(unsigned char))
{
        static const char hex[] = "0123456789ABCDEF";

        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)src[i];

                if (safe(c)) {
                        out[(*j)++] = (char)c;
                } else {
                        out[(*j)++] = '%';
                        out[(*j)++] = hex[c >> 4];
                        out[(*j)++] = hex[c & 0xf];
                }
        }
}

/* req->path: lws's decoded, normalised path, re-encoded (see top). */
static int parse_path(struct job *job, const char *uri, int uri_len)
{
        size_t n = uri_len > 0 ? (size_t)uri_len : 0, j = 0;
        char *out;

        if (n == 0) {
                uri = "/";
                n = 1;
        }
        out = malloc(3 * n + 1);
        if (!out)
                return -ENOMEM;
        encode_into(out, &j, uri, n, path_byte_safe);
        out[j] = '\0';
        job->req.path = out;
        return 0;
}

/*
 * req->query: lws hands out the query as decoded "name=value" fragments
 * (split at literal '&' and ';'). Re-encode name and value separately and
 * join them with '&', so http_query_get() decodes back what was sent.
 */
static int parse_query(struct lws *wsi, struct job *job)
{
        int total = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_URI_ARGS);
        _cleanup_free_ char *frag = NULL;
        size_t j = 0;
        char *out;

        if (total <= 0) {
                job->req.query = calloc(1, 1);
                return job->req.query ? 0 : -ENOMEM;
        }
        frag = malloc((size_t)total + 1);
        /* each byte may triple, plus one '&' per non-empty fragment:
         * 4 * total is always enough */
        out = malloc(4 * (size_t)total + 2);
        if (!frag || !out) {
                free(out);
                return -ENOMEM;
        }
        for (int idx = 0; ; idx++) {
                int n = lws_hdr_copy_fragment(wsi, frag, total + 1,
                                              WSI_TOKEN_HTTP_URI_ARGS, idx);
                const char *eq;

                if (n < 0)
                        break;
                if (n == 0)
                        continue;
                if (j > 0)
                        out[j++] = '&';
                /* an encoded '=' in a name became '_', so the first '='
                 * is the literal separator */
                eq = memchr(frag, '=', (size_t)n);
                if (!eq) {
                        encode_into(out, &j, frag, (size_t)n, query_byte_safe);
                        continue;
                }
                encode_into(out, &j, frag, (size_t)(eq - frag), query_byte_safe);
                out[j++] = '=';
                encode_into(out, &j, eq + 1, (size_t)(frag + n - eq - 1), query_byte_safe);
        }
        out[j] = '\0';
        job->req.query = out;
        return 0;
}

/* Copies a known header into a new string: 1 copied, 0 absent, <0 error. */
static int header_dup(struct lws *wsi, enum lws_token_indexes t, char **out)
{
        int len = lws_hdr_total_length(wsi, t);
        char *v;

        *out = NULL;
        if (len <= 0)
                return 0;
        v = malloc((size_t)len + 1);
        if (!v)
                return -ENOMEM;
        if (lws_hdr_copy(wsi, v, len + 1, t) < 0) {
                free(v);
                return -EIO;
        }
        *out = v;
        return 1;
}

/* Copies a custom header (name lower-case with the colon) when present
 * and at most 256 bytes; absent or longer leaves *out NULL. */
static int custom_header_dup(struct lws *wsi, const char *name, char **out)
{
        int nlen = (int)strlen(name);
        int len = lws_hdr_custom_length(wsi, name, nlen);
        char *v;

        if (len <= 0 || len > 256)
                return 0;
        v = malloc((size_t)len + 1);
        if (!v)
                return -ENOMEM;
        if (lws_hdr_custom_copy(wsi, v, len + 1, name, nlen) != len) {
                free(v);
                return 0;
        }
        *out = v;
        return 1;
}

static void parse_request_id(struct server *s, struct lws *wsi, struct job *job)
{
        static const char name[] = "x-request-id:";
        char v[SERVER_REQUEST_ID_MAX + 2];
        int len = lws_hdr_custom_length(wsi, name, (int)sizeof(name) - 1);

        if (len >= 1 && len <= SERVER_REQUEST_ID_MAX &&
            lws_hdr_custom_copy(wsi, v, (int)sizeof(v), name, (int)sizeof(name) - 1) == len &&
            request_id_sane(v, (size_t)len)) {
                memcpy(job->req.request_id, v, (size_t)len + 1);
                return;
        }
        request_id_generate(s, job->req.request_id);
}

/* Content-Length: -ENOENT absent, -EINVAL malformed, -E2BIG huge, else 0. */
static int parse_content_length(struct lws *wsi, uint64_t *out)
{
        char v[32];
        int len = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH);
        uint64_t n = 0;

        if (len <= 0)
                return -ENOENT;
        if (len >= (int)sizeof(v))
                return -E2BIG;
        if (lws_hdr_copy(wsi, v, (int)sizeof(v), WSI_TOKEN_HTTP_CONTENT_LENGTH) != len)
                return -EINVAL;
        for (int i = 0; i < len; i++) {
                if (v[i] < '0' || v[i] > '9')
                        return -EINVAL;         /* also "5,5" from repeated headers */
                if (n > (UINT64_MAX - 9) / 10)
                        return -E2BIG;
                n = n * 10 + (uint64_t)(v[i] - '0');
        }
        *out = n;
        return 0;
}

static enum http_method method_from_lws(int m)
{
        switch (m) {
        case LWSHUMETH_GET:     return HTTP_GET;
        case LWSHUMETH_HEAD:    return HTTP_HEAD;
        case LWSHUMETH_POST:    return HTTP_POST;
        case LWSHUMETH_PUT:     return HTTP_PUT;
        case LWSHUMETH_PATCH:   return HTTP_PATCH;
        case LWSHUMETH_DELETE:  return HTTP_DELETE;
        case LWSHUMETH_OPTIONS: return HTTP_OPTIONS;
        default:                return HTTP_METHOD_INVALID;
        }
}

/* The body limit for req: uploads (bodies of an image type: charger photos) may be as
 * large as max_upload_bytes, everything else max_body_bytes. The handler
 * checks its own, exact limit again. */
static size_t body_limit(const struct server *s, const struct http_request *req)
{
        const char *ct = req->content_type;

        if (ct && strncasecmp(ct, "image/", 6) == 0 &&
            s->cfg.max_upload_bytes > s->cfg.max_body_bytes)
                return s->cfg.max_upload_bytes;
        if (ct && (strncasecmp(ct, "application/octet-stream", 24) == 0 ||
                   strncasecmp(ct, "application/pdf", 15) == 0 ||
                   strncasecmp(ct, "text/html", 9) == 0) &&
            s->cfg.max_file_bytes > s->cfg.max_body_bytes)
                return s->cfg.max_file_bytes;
        return s->cfg.max_body_bytes;
}

/*
 * Fills job->req from the parsed headers. Returns 0 when the request goes
 * on, 1 when job->res already holds a reject to send (with
 * job->close_after set), negative errno on allocation failure.
 */
static int job_parse(struct server *s, struct lws *wsi, struct conn *c, struct job *job)
{
        struct http_request *req = &job->req;
        char *uri = NULL;
        int uri_len = 0, m, r;
        uint64_t clen = 0;
        size_t limit;

        req->started_us = now_us();
        memcpy(req->client_ip, c->ip, sizeof(req->client_ip));
        parse_request_id(s, wsi, job);

        m = lws_http_get_uri_and_method(wsi, &uri, &uri_len);
        req->method = method_from_lws(m);
        r = parse_path(job, uri, uri ? uri_len : 0);
        if (r < 0)
                return r;
        r = parse_query(wsi, job);
        if (r < 0)
                return r;
        r = header_dup(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, &req->authorization);
        if (r < 0)
                return r;
        r = header_dup(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE, &req->content_type);
        if (r < 0)
                return r;
        r = custom_header_dup(wsi, "x-wallet-signature:", &req->signature);
        if (r < 0)
                return r;
        r = custom_header_dup(wsi, "x-wallet-timestamp:", &req->signature_ts);
        if (r < 0)
                return r;
        r = header_dup(wsi, WSI_TOKEN_HTTP_CONTENT_ENCODING, &req->content_encoding);
        if (r < 0)
                return r;
        r = custom_header_dup(wsi, "x-batch-id:", &req->batch_id);
        if (r < 0)
                return r;
        r = header_dup(wsi, WSI_TOKEN_HTTP_RANGE, &req->range);
        if (r < 0)
                return r;

        if (req->method == HTTP_METHOD_INVALID) {
                job->close_after = true;
                job_problem(job, 501, "not_implemented",
                            "This request method is not supported.");
                return 1;
        }
        if (atomic_load_explicit(&s->draining, memory_order_relaxed)) {
                job->close_after = true;
                job_problem(job, 503, "shutting_down",
                            "The server is shutting down; retry on a new connection.");
                return 1;
        }
        if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0) {
                job->close_after = true;
                job_problem(job, 411, "length_required",
                            "Request bodies must be sent with Content-Length, not chunked.");
                return 1;
        }
        r = parse_content_length(wsi, &clen);
        if (r == -EINVAL) {
                job->close_after = true;
                job_problem(job, 400, "bad_request", "The Content-Length header is malformed.");
                return 1;
        }
        limit = body_limit(s, req);
        if (r == -E2BIG || (r == 0 && clen > limit)) {
                char detail[128];

                snprintf(detail, sizeof(detail),
                         "The request body is larger than the limit of %zu bytes.", limit);
                job->close_after = true;
                job_problem(job, 413, "body_too_large", detail);
                return 1;
        }
        if (r == -ENOENT && (req->method == HTTP_POST || req->method == HTTP_PUT ||
                             req->method == HTTP_PATCH))
                job->close_after = true;        /* lws would read later bytes as body */
        job->body_expected = r == 0 ? (size_t)clen : 0;
        return 0;
}

/* ---- writing responses --------------------------------------------------- */

static bool header_text_ok(const char *s)
{
        return s && !strpbrk(s, "\r\n");
}

static bool status_has_body(int status)
{
        return status >= 200 && status != 204 && status != 304;
}

/* Status line and headers into [*pp, end). Returns 0 or -1 (no room). */
static int job_put_headers(struct server *s, struct lws *wsi, struct job *job,
                           unsigned char **pp, unsigned char *end)
{
        struct http_response *res = &job->res;
        const char *ctype = res->content_type;
        bool close = job->close_after || res->close_connection ||
                     atomic_load_explicit(&s->draining, memory_order_relaxed);
        char num[24];
        int n;

        job->close_after = close;       /* job_finish closes after the last byte */

        if (ctype && !header_text_ok(ctype))
                ctype = NULL;
        if (close) {
                /* "connection: close"; job_finish closes (see the top) */
                if (lws_add_http_common_headers(wsi, (unsigned)res->status, ctype,
                                                LWS_ILLEGAL_HTTP_CONTENT_LEN, pp, end))
                        return -1;
        } else {
                if (lws_add_http_header_status(wsi, (unsigned)res->status, pp, end))
                        return -1;
                if (ctype && lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
                                                          (const unsigned char *)ctype,
                                                          (int)strlen(ctype), pp, end))
                        return -1;
        }
        if (status_has_body(res->status)) {
                /* by token, not lws_add_http_header_content_length(): we do
                 * not want lws's tx_content_remain accounting, since the
                 * first write carries headers and body together */
                n = snprintf(num, sizeof(num), "%zu", res->body.len);
                if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH,
                                                 (const unsigned char *)num, n, pp, end))
                        return -1;
        }
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)"x-request-id:",
                                        (const unsigned char *)job->req.request_id,
                                        (int)strlen(job->req.request_id), pp, end))
                return -1;
        for (int i = 0; i < res->n_headers; i++) {
                const struct http_header *h = &res->headers[i];
                char name[128];

                if (!header_text_ok(h->name) || !header_text_ok(h->value) ||
                    strlen(h->name) + 2 > sizeof(name) || strchr(h->name, ':'))
                        continue;       /* never let a handler inject headers */
                snprintf(name, sizeof(name), "%s:", h->name);
                if (lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                                (const unsigned char *)h->value,
                                                (int)strlen(h->value), pp, end))
                        return -1;
        }
        if (lws_finalize_http_header(wsi, pp, end))
                return -1;
        return 0;
}

/*
 * The response is done (or the connection is about to be): report it,
 * free the job and let lws wait for the next request. Returns what the
 * lws callback must return.
 */
static int job_finish(struct server *s, struct lws *wsi, struct conn *c, struct job *job)
{
        bool close = job->close_after;

        if (s->cfg.done)
                s->cfg.done(s->cfg.userdata, &job->req, &job->res,
                            now_us() - job->req.started_us);
        c->job = NULL;
        job_free(s, job);
        /*
         * We announced Connection: close: close now, even when a body was
         * left unread (lws_http_transaction_completed would then wait to
         * discard it, LRS_DISCARD_BODY). lws flushes what it still has
         * buffered before it really closes.
         */
        if (close)
                return -1;
        if (lws_http_transaction_completed(wsi))
                return -1;
        return 0;
}

/*
 * Writes the next part of a JOB_WRITE response: the first call sends the
 * headers and as much body as fits in one buffer; bigger bodies continue
 * in later WRITEABLE callbacks, one buffer each. (lws buffers whatever a
 * write could not send and calls us again only once that is flushed, so
 * at most one chunk is ever copied into lws.)
 */
static int job_write(struct server *s, struct lws *wsi, struct conn *c, struct job *job)
{
        unsigned char *start = s->wbuf + LWS_PRE, *p = start;
        unsigned char *end = start + SERVER_WBUF_SIZE;
        const struct buf *body = &job->res.body;
        bool send_body = job->req.method != HTTP_HEAD && status_has_body(job->res.status);
        size_t len, chunk;

        if (!job->hdr_sent) {
                if (job_put_headers(s, wsi, job, &p, end) < 0)
                        return -1;
                job->hdr_sent = true;
        }
        if (send_body && job->body_off < body->len) {
                chunk = body->len - job->body_off;
                if (chunk > (size_t)(end - p))
                        chunk = (size_t)(end - p);
                memcpy(p, body->data + job->body_off, chunk);
                p += chunk;
                job->body_off += chunk;
        }
        len = (size_t)(p - start);
        if (len > 0 && lws_write(wsi, start, len, LWS_WRITE_HTTP) != (int)len)
                return -1;
        if (send_body && job->body_off < body->len) {
                /* a slow reader must not hold the connection forever */
                lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, s->cfg.request_timeout_s);
                lws_callback_on_writable(wsi);
                return 0;
        }
        if (lws_partial_buffered(wsi))
                lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, s->cfg.request_timeout_s);
        return job_finish(s, wsi, c, job);
}

/* The handler must set a final status; answer 500 when it did not. */
static void job_check_response(struct job *job)
{
        if (job->res.status < 200 || job->res.status > 599)
                job_problem(job, 500, "internal_error", "The handler produced no response.");
}

/*
 * The response in job->res is final and we are inside the lws callback
 * that completed the request (LWS_CALLBACK_HTTP or BODY_COMPLETION): write
 * it right away - the inline fast path, no extra poll round trip. lws
 * buffers what the socket does not take and defers the transaction
 * completion until it is flushed.
 */
static int job_respond(struct server *s, struct lws *wsi, struct conn *c, struct job *job)
{
        job_check_response(job);
        job->state = JOB_WRITE;
        return job_write(s, wsi, c, job);
}

/* Request complete (headers and body): inline handler or worker pool. */
static int job_dispatch(struct server *s, struct lws *wsi, struct conn *c, struct job *job)
{
        int queued;

        if (s->cfg.inline_handler &&
            s->cfg.inline_handler(s->cfg.userdata, &job->req, &job->res) == 1)
                return job_respond(s, wsi, c, job);

        pthread_mutex_lock(&s->lock);
        queued = atomic_load_explicit(&s->queue_len, memory_order_relaxed);
        if (queued >= s->cfg.queue_max) {
                pthread_mutex_unlock(&s->lock);
                job_problem(job, 503, "overloaded",
                            "Too many requests are waiting; retry shortly.");
                http_response_header(&job->res, "Retry-After", "1");
                return job_respond(s, wsi, c, job);
        }
        /* from here the pool owns the job (see the top of the file); it
         * may be on s->done before we even return, which is fine: only
         * this thread looks at s->done */
        job->state = JOB_POOL;
        job->next = NULL;
        if (s->q_tail)
                s->q_tail->next = job;
        else
                s->q_head = job;
        s->q_tail = job;
        atomic_store_explicit(&s->queue_len, queued + 1, memory_order_relaxed);
        pthread_cond_signal(&s->cond);
        pthread_mutex_unlock(&s->lock);

        /* the request timeout covers the client, not our handler (a
         * body-reading timeout may still be armed here) */
        lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
        lws_rx_flow_control(wsi, 0);
        job->flow_off = true;
        return 0;
}

/* ---- the worker pool ----------------------------------------------------- */

static void *worker_main(void *arg)
{
        struct server *s = arg;

        pthread_mutex_lock(&s->lock);
        for (;;) {
                struct job *job;
                bool orphaned;

                while (!s->workers_quit && !s->q_head)
                        pthread_cond_wait(&s->cond, &s->lock);
                if (s->workers_quit)
                        break;
                job = s->q_head;
                s->q_head = job->next;
                if (!s->q_head)
                        s->q_tail = NULL;
                job->next = NULL;
                atomic_store_explicit(&s->queue_len,
                                      atomic_load_explicit(&s->queue_len, memory_order_relaxed) - 1,
                                      memory_order_relaxed);
                orphaned = job->orphaned;
                pthread_mutex_unlock(&s->lock);

                /* only req/res are touched here; the loop never frees a
                 * JOB_POOL job, orphaned or not */
                if (!orphaned)
                        s->cfg.dispatch(s->cfg.userdata, &job->req, &job->res);

                pthread_mutex_lock(&s->lock);
                if (s->d_tail)
                        s->d_tail->next = job;
                else
                        s->d_head = job;
                s->d_tail = job;
                pthread_mutex_unlock(&s->lock);
                /* documented as safe from other threads */
                lws_cancel_service(s->ctx);
                pthread_mutex_lock(&s->lock);
        }
        pthread_mutex_unlock(&s->lock);
        return NULL;
}

/* Loop thread: hand finished jobs back to their connections. */
static void server_collect_done(struct server *s)
{
        struct job *job, *next;

        pthread_mutex_lock(&s->lock);
        job = s->d_head;
        s->d_head = s->d_tail = NULL;
        pthread_mutex_unlock(&s->lock);

        for (; job; job = next) {
                next = job->next;
                job->next = NULL;
                /* orphaned is only ever set on this thread, so reading it
                 * without the lock is fine here */
                if (job->orphaned) {
                        job_free(s, job);
                        continue;
                }
                job_check_response(job);
                job->state = JOB_WRITE;
                if (job->flow_off) {
                        /* lws would not service POLLOUT otherwise */
                        lws_rx_flow_control(job->wsi, 1);
                        job->flow_off = false;
                }
                lws_callback_on_writable(job->wsi);
        }
}

/* ---- draining ------------------------------------------------------------ */

static void server_check_drained(struct server *s)
{
        if (atomic_load_explicit(&s->draining, memory_order_relaxed) && s->live_jobs == 0)
                s->run_done = true;
}

static void drain_tick(lws_sorted_usec_list_t *sul)
{
        struct server *s = lws_container_of(sul, struct server, drain_sul);

        server_check_drained(s);
        if (now_us() >= s->drain_deadline_us)
                s->run_done = true;
        if (!s->run_done)
                lws_sul_schedule(s->ctx, 0, &s->drain_sul, drain_tick, SERVER_DRAIN_TICK_US);
}

static void server_poll_stop(struct server *s)
{
        if (s->destroying || !atomic_load(&s->stop_requested) ||
            atomic_load_explicit(&s->draining, memory_order_relaxed))
                return;
        atomic_store(&s->draining, 1);
        s->drain_deadline_us = now_us() + SERVER_DRAIN_MAX_US;
        lws_sul_schedule(s->ctx, 0, &s->drain_sul, drain_tick, SERVER_DRAIN_TICK_US);
        server_check_drained(s);
}

/* ---- the lws protocol callback ------------------------------------------ */

/*
 * lws 4.1 ignores "Expect: 100-continue", and such a client waits (curl:
 * one second) before sending its body. We accepted the headers, so say so.
 */
static int send_continue_if_expected(struct server *s, struct lws *wsi)
{
        static const char msg[] = "HTTP/1.1 100 Continue\r\n\r\n";
        const size_t n = sizeof(msg) - 1;
        char v[32];

        if (lws_hdr_copy(wsi, v, (int)sizeof(v), WSI_TOKEN_HTTP_EXPECT) <= 0 ||
            strcasecmp(v, "100-continue") != 0)
                return 0;
        memcpy(s->wbuf + LWS_PRE, msg, n);
        if (lws_write(wsi, s->wbuf + LWS_PRE, n, LWS_WRITE_HTTP) != (int)n)
                return -1;
        return 0;
}

static int on_http(struct server *s, struct lws *wsi)
{
        struct conn *c = conn_get(wsi);
        struct job *job;
        int r;

        if (!c)
                return -1;
        if (c->job)
                return -1;      /* pipelined request: see the top of the file */
        job = job_new(s, wsi);
        if (!job)
                return -1;
        c->job = job;           /* the connection owns it now */
        c->requests++;

        r = job_parse(s, wsi, c, job);
        if (r < 0)
                return -1;      /* conn_detach frees the job on close */
        if (r == 1)
                return job_respond(s, wsi, c, job);
        if (job->body_expected > 0) {
                job->req.body = malloc(job->body_expected + 1);
                if (!job->req.body)
                        return -1;
                job->deadline_us = job->req.started_us +
                                   (int64_t)s->cfg.request_timeout_s * 1000000;
                lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, s->cfg.request_timeout_s);
                return send_continue_if_expected(s, wsi);
        }
        return job_dispatch(s, wsi, c, job);
}

/*
 * lws 4.1.6 bug: when a request with a body was pipelined behind an
 * earlier one and is parsed from lws's input buffer (not from a fresh
 * read), lws_http_action() feeds the body from the start of that buffer -
 * the request's own request line - and then loops on BODY_COMPLETION
 * without consuming anything. Recognise that first chunk ("POST /..." for
 * a POST) so the handler never sees a wrong body; the connection is
 * closed instead. A real body that starts with its own method name and a
 * space, on a connection's second or later request, is closed on too.
 */
static bool body_is_request_line(const struct conn *c, const struct job *job,
                                 const char *in, size_t len)
{
        const char *m = http_method_name(job->req.method);
        size_t n = strlen(m), k;

        if (c->requests < 2 || job->req.body_len > 0)
                return false;
        while (len > 0 && (*in == '\r' || *in == '\n')) {
                in++;
                len--;
        }
        if (len == 0)
                return false;
        k = len < n ? len : n;
        if (memcmp(in, m, k) != 0)
                return false;
        return len <= n || in[n] == ' ';
}

static int on_body(struct lws *wsi, const void *in, size_t len)
{
        struct conn *c = lws_get_opaque_user_data(wsi);
        struct job *job = c ? c->job : NULL;
        int64_t left;

        if (!job || job->state != JOB_READING)
                return 0;       /* lws's empty-body call for "Content-Length: 0", or
                                 * bytes after a POST without Content-Length */
        if (len > 0 && body_is_request_line(c, job, in, len))
                return -1;
        if (len > job->body_expected - job->req.body_len)
                return -1;      /* more than announced: lws should not let this happen */
        /*
         * lws re-arms the connection's timeout to request_timeout_s after
         * each chunk (once this returns), so a slow drip would stretch the
         * request forever; the absolute deadline caps it at about twice
         * request_timeout_s.
         */
        left = job->deadline_us - now_us();
        if (left <= 0)
                return -1;
        if (len > 0)
                memcpy(job->req.body + job->req.body_len, in, len);
        job->req.body_len += len;
        return 0;
}

static int on_body_done(struct server *s, struct lws *wsi)
{
        struct conn *c = lws_get_opaque_user_data(wsi);
        struct job *job = c ? c->job : NULL;

        if (!job)
                return 0;
        if (job->state != JOB_READING) {
                /*
                 * lws calls this once right after LWS_CALLBACK_HTTP for an
                 * explicit "Content-Length: 0", and again on every loop
                 * iteration while a pipelined next request waits behind a
                 * complete body and the response is not written yet (it
                 * does not consume those bytes in this state). That lasts
                 * a few iterations while we write; the cap is a backstop
                 * against lws spinning on it (see body_is_request_line).
                 */
                if (++job->stray_completions > SERVER_MAX_STRAY)
                        return -1;
                return 0;
        }
        job->req.body[job->req.body_len] = '\0';
        return job_dispatch(s, wsi, c, job);
}

static int on_writeable(struct server *s, struct lws *wsi)
{
        struct conn *c = lws_get_opaque_user_data(wsi);
        struct job *job = c ? c->job : NULL;

        if (!job || job->state != JOB_WRITE)
                return 0;       /* lws asks for writability on its own too */
        return job_write(s, wsi, c, job);
}

static int server_callback(struct lws *wsi, enum lws_callback_reasons reason,
                           void *user, void *in, size_t len)
{
        struct server *s;

        if (!wsi)
                return 0;
        s = lws_context_user(lws_get_context(wsi));
        if (!s)
                return 0;

        switch (reason) {
        case LWS_CALLBACK_HTTP:
                return on_http(s, wsi);
        case LWS_CALLBACK_HTTP_BODY:
                return on_body(wsi, in, len);
        case LWS_CALLBACK_HTTP_BODY_COMPLETION:
                return on_body_done(s, wsi);
        case LWS_CALLBACK_HTTP_WRITEABLE:
                return on_writeable(s, wsi);
        case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
                return -1;      /* no websocket / h2c: see the top */
        case LWS_CALLBACK_CLOSED_HTTP:
        case LWS_CALLBACK_WSI_DESTROY:
                conn_detach(s, wsi);
                return 0;
        case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
                if (s->destroying)
                        return 0;
                server_poll_stop(s);
                server_collect_done(s);
                return 0;
        default:
                return 0;
        }
}

/* ---- lifecycle ----------------------------------------------------------- */

static bool host_is_any(const char *host)
{
        return !host || !*host || strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0;
}

/*
 * lws only tells us "vhost creation failed" when the port is taken, so
 * try the bind ourselves first (with SO_REUSEADDR, like lws) to give a
 * precise errno. Returns 0 or negative errno.
 */
static int probe_bind(const char *host, int port)
{
        struct sockaddr_storage ss;
        socklen_t sl;
        int fd, one = 1, r = 0;

        memset(&ss, 0, sizeof(ss));
        if (host && strchr(host, ':')) {
                struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

                a->sin6_family = AF_INET6;
                a->sin6_port = htons((uint16_t)port);
                if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
                        return -EINVAL;
                sl = sizeof(*a);
        } else {
                struct sockaddr_in *a = (struct sockaddr_in *)&ss;

                a->sin_family = AF_INET;
                a->sin_port = htons((uint16_t)port);
                if (host_is_any(host))
                        a->sin_addr.s_addr = htonl(INADDR_ANY);
                else if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
                        return -EINVAL;
                sl = sizeof(*a);
        }
        fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, (struct sockaddr *)&ss, sl) < 0)
                r = -errno;
        close(fd);
        return r;
}

static int config_check(const struct server_config *cfg)
{
        if (!cfg->dispatch)
                return -EINVAL;
        if (cfg->port < 0 || cfg->port > 65535)
                return -EINVAL;
        if (cfg->workers < 1 || cfg->workers > SERVER_MAX_WORKERS)
                return -EINVAL;
        if (cfg->queue_max < 1 || cfg->max_body_bytes < 1)
                return -EINVAL;
        if (cfg->max_header_bytes < SERVER_MIN_HEADER_BYTES)
                return -EINVAL;
        if (cfg->request_timeout_s < 1 || cfg->keepalive_timeout_s < 1)
                return -EINVAL;
        if (!cfg->tls_cert != !cfg->tls_key)
                return -EINVAL;
        return 0;
}

/*
 * lws logs only its errors, to stderr, and at most SERVER_LWS_LOG_PER_S
 * lines a second: some of them are triggered by clients ("Ran out of
 * header data space"), which must not be able to flood our logs. The rest
 * of enemane logs at the edge.
 */
static void server_lws_emit(int level, const char *line)
{
        static atomic_llong window;
        static atomic_int count;
        long long sec = now_us() / 1000000;

        if (atomic_load_explicit(&window, memory_order_relaxed) != sec) {
                atomic_store_explicit(&window, sec, memory_order_relaxed);
                atomic_store_explicit(&count, 0, memory_order_relaxed);
        }
        if (atomic_fetch_add_explicit(&count, 1, memory_order_relaxed) >= SERVER_LWS_LOG_PER_S)
                return;
        lwsl_emit_stderr(level, line);
}

static void server_quiet_lws(void)
{
        lws_set_log_level(LLL_ERR, server_lws_emit);
}

static int server_start_lws(struct server *s, const struct server_config *cfg)
{
        struct lws_context_creation_info info;
        bool v6 = cfg->host && strchr(cfg->host, ':');
        int r;

        s->protocols[0].name = "enemane-http";
        s->protocols[0].callback = server_callback;
        s->protocols[0].per_session_data_size = 0;     /* we use opaque user data */

        memset(&info, 0, sizeof(info));
        info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
                       LWS_SERVER_OPTION_SKIP_SERVER_CANONICAL_NAME;
        if (cfg->tls_cert)
                info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.user = s;
        info.max_http_header_data2 = cfg->max_header_bytes;
        info.server_string = "enemane";
        info.count_threads = 1;
        /* lws re-arms a body-reading connection's timeout with the
         * *context* timeout_secs after every chunk */
        info.timeout_secs = (unsigned)cfg->request_timeout_s;
        s->ctx = lws_create_context(&info);
        if (!s->ctx)
                return -EIO;

        memset(&info, 0, sizeof(info));
        info.vhost_name = "enemane";
        info.port = cfg->port;
        info.iface = host_is_any(cfg->host) && !v6 ? NULL : cfg->host;
        info.protocols = s->protocols;
        info.options = LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND;
        if (!v6)
                info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
        info.keepalive_timeout = cfg->keepalive_timeout_s;
        /* time to receive a complete header block, and lws's other
         * network round-trip timeouts */
        info.timeout_secs_ah_idle = (unsigned)cfg->request_timeout_s;
        info.timeout_secs = (unsigned)cfg->request_timeout_s;
        if (cfg->tls_cert) {
                /* lws also reads this flag from the *vhost* info as "this
                 * vhost does TLS"; without it the listener speaks plain HTTP */
                info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
                info.ssl_cert_filepath = cfg->tls_cert;
                info.ssl_private_key_filepath = cfg->tls_key;
                info.alpn = "http/1.1";         /* our writes are HTTP/1.1 only */
        }
        s->vh = lws_create_vhost(s->ctx, &info);
        if (!s->vh) {
                /* port taken between our probe and lws's bind? */
                r = cfg->port ? probe_bind(cfg->host, cfg->port) : 0;
                return r == -EADDRINUSE ? r : -EIO;
        }
        s->port = lws_get_vhost_listen_port(s->vh);
        if (s->port <= 0)
                return -EIO;
        return 0;
}

static int server_start_workers(struct server *s)
{
        sigset_t all, old;
        int r = 0;

        s->threads = calloc((size_t)s->cfg.workers, sizeof(pthread_t));
        if (!s->threads)
                return -ENOMEM;
        /* workers never take signals: the application's thread does */
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        for (int i = 0; i < s->cfg.workers; i++) {
                r = -pthread_create(&s->threads[i], NULL, worker_main, s);
                if (r < 0)
                        break;
                s->n_threads++;
        }
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        return r;
}

int server_create(const struct server_config *cfg, struct server **out)
{
        struct server *s;
        int r;

        if (!cfg || !out)
                return -EINVAL;
        *out = NULL;
        r = config_check(cfg);
        if (r < 0)
                return r;
        server_quiet_lws();
        if (cfg->port) {
                r = probe_bind(cfg->host, cfg->port);
                if (r < 0)
                        return r;
        }

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->cfg = *cfg;
        s->cfg.host = s->cfg.tls_cert = s->cfg.tls_key = NULL;  /* not kept */
        if (pthread_mutex_init(&s->lock, NULL) != 0) {
                free(s);
                return -ENOMEM;
        }
        if (pthread_cond_init(&s->cond, NULL) != 0) {
                pthread_mutex_destroy(&s->lock);
                free(s);
                return -ENOMEM;
        }
        s->lock_ok = true;
        if (getrandom(&s->rng, sizeof(s->rng), 0) != (ssize_t)sizeof(s->rng))
                s->rng = (uint64_t)now_us() ^ ((uint64_t)getpid() << 32);

        r = server_start_lws(s, cfg);
        if (r == 0)
                r = server_start_workers(s);
        if (r < 0) {
                server_free(s);
                return r;
        }
        *out = s;
        return 0;
}

int server_run(struct server *s)
{
        s->run_done = false;
        while (!s->run_done) {
                server_poll_stop(s);
                if (s->run_done)
                        break;
                if (lws_service(s->ctx, 0) < 0)
                        return -EIO;
                if (atomic_load_explicit(&s->draining, memory_order_relaxed) &&
                    now_us() >= s->drain_deadline_us)
                        break;
        }
        lws_sul_cancel(&s->drain_sul);
        return 0;
}

void server_stop(struct server *s)
{
        if (!s)
                return;
        atomic_store(&s->stop_requested, 1);
        if (s->ctx)
                lws_cancel_service(s->ctx);
}

static void job_list_free(struct server *s, struct job *job)
{
        while (job) {
                struct job *next = job->next;

                job_free(s, job);
                job = next;
        }
}

void server_free(struct server *s)
{
        if (!s)
                return;
        if (s->lock_ok) {
                pthread_mutex_lock(&s->lock);
                s->workers_quit = true;
                pthread_cond_broadcast(&s->cond);
                pthread_mutex_unlock(&s->lock);
        }
        for (int i = 0; i < s->n_threads; i++)
                pthread_join(s->threads[i], NULL);
        free(s->threads);

        /* No worker runs any more. Closing the connections orphans the
         * jobs still in the pool (conn_detach) and frees the others. */
        s->destroying = true;
        if (s->ctx) {
                lws_sul_cancel(&s->drain_sul);
                lws_context_destroy(s->ctx);
        }
        job_list_free(s, s->q_head);
        job_list_free(s, s->d_head);
        if (s->lock_ok) {
                pthread_cond_destroy(&s->cond);
                pthread_mutex_destroy(&s->lock);
        }
        free(s);
}

int server_port(const struct server *s)
{
        return s ? s->port : -EINVAL;
}

int server_queue_depth(const struct server *s)
{
        return s ? atomic_load_explicit(&s->queue_len, memory_order_relaxed) : 0;
}

int server_draining(const struct server *s)
{
        return s ? atomic_load_explicit(&s->draining, memory_order_relaxed) : 0;
}
