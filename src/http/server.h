/*
 * server.h - the libwebsockets front end and its worker pool.
 *
 * One event-loop thread owns every socket. When a request's headers and
 * body are complete, it first offers the request to the inline handler
 * (cheap routes such as /healthz that must never wait on a worker); if that
 * declines, the request goes on a bounded queue served by `workers`
 * threads, which call the dispatcher. The finished response goes back to
 * the event loop (lws_cancel_service) and is written there. A connection
 * that closes while its request is on a worker is marked orphaned and its
 * response is dropped when the worker finishes.
 *
 * Limits: headers (max_header_bytes; lws closes the connection beyond it), body
 * (max_body_bytes: 413 problem before reading the body), request time
 * (request_timeout_s: the connection is closed), keep-alive idle timeout.
 * A full worker queue answers 503 with Retry-After.
 *
 * Shutdown: server_stop() (async-signal-safe) asks the loop to drain: new
 * requests get 503 with Connection: close, in-flight requests finish and
 * are written, then server_run() returns 0.
 */
#ifndef ENEMANE_HTTP_SERVER_H
#define ENEMANE_HTTP_SERVER_H

#include "http/http.h"

struct server;

/* Runs on a worker thread. Must fill res completely. */
typedef void (*server_dispatch_fn)(void *userdata, struct http_request *req,
                                   struct http_response *res);
/* Runs on the event-loop thread: returns 1 when it answered (res filled),
 * 0 to send the request to the worker pool. Must not block. */
typedef int (*server_inline_fn)(void *userdata, struct http_request *req,
                                struct http_response *res);
/* Runs on the event-loop thread after a response was written (logging and
 * metrics). duration_us is from header arrival to the write. */
typedef void (*server_done_fn)(void *userdata, const struct http_request *req,
                               const struct http_response *res, int64_t duration_us);

struct server_config {
        const char *host;               /* bind address, "127.0.0.1" */
        int port;                       /* 0 = pick a free one (see server_port) */
        int workers;                    /* worker threads, >= 1 */
        int queue_max;                  /* max queued requests before 503 */
        size_t max_body_bytes;
        size_t max_upload_bytes;        /* limit for image bodies (photos), if larger */
        size_t max_file_bytes;          /* limit for file uploads (firmware images, manuals:
                                         * application/octet-stream, application/pdf,
                                         * text/html), if larger */
        unsigned max_header_bytes;
        int request_timeout_s;
        int keepalive_timeout_s;
        const char *tls_cert;           /* NULL = plain HTTP */
        const char *tls_key;
        server_dispatch_fn dispatch;
        server_inline_fn inline_handler;
        server_done_fn done;
        void *userdata;
};

/* Creates the context and binds the port. Returns 0 or negative errno:
 * -EADDRINUSE when the port is taken, -EINVAL for bad config. On success
 * *out owns the server. */
int server_create(const struct server_config *cfg, struct server **out);
/* Runs the event loop until drained after server_stop(). Returns 0. */
int server_run(struct server *s);
/* Async-signal-safe: begin draining. */
void server_stop(struct server *s);
/* Frees everything; accepts NULL. Joins worker threads. */
void server_free(struct server *s);

int server_port(const struct server *s);
/* Requests queued and not yet picked up by a worker (for /metrics). */
int server_queue_depth(const struct server *s);
int server_draining(const struct server *s);

#endif
