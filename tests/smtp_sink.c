/*
 * smtp_sink.c - a tiny SMTP server on loopback for tests (see the header).
 * One thread accepts and serves one connection at a time; accepted
 * messages are kept in memory under a mutex, with a condition variable
 * for smtp_sink_wait(). Libc and threads only.
 */
#include "smtp_sink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SINK_LINE_MAX 4096
#define SINK_IDLE_MS 30000              /* a silent client is dropped */
#define SINK_ADDR_MAX 320
#define SINK_RCPT_MAX 1024

struct sink_msg {
        char from[SINK_ADDR_MAX];
        char rcpt[SINK_RCPT_MAX];
        char *data;
        size_t len;
};

struct smtp_sink {
        int lfd;
        int stop_pipe[2];
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        struct sink_msg *msgs;
        int n, cap;
        int attempts;
        int fail_n, fail_code;
        int rcpt_fail_n, rcpt_fail_code;
};

struct conn {
        struct smtp_sink *s;
        int fd;
        char in[SINK_LINE_MAX];
        size_t len;
};

/* ---- line I/O --------------------------------------------------------------- */

/* Waits for input on the connection: 1 ready, 0 stop or idle timeout. */
static int conn_wait(struct conn *c)
{
        struct pollfd p[2] = { { .fd = c->fd, .events = POLLIN },
                               { .fd = c->s->stop_pipe[0], .events = POLLIN } };
        int r;

        do {
                r = poll(p, 2, SINK_IDLE_MS);
        } while (r < 0 && errno == EINTR);
        if (r <= 0 || p[1].revents)
                return 0;
        return 1;
}

/* One line without its CRLF (or bare LF): 1, or 0 when the connection is
 * over (closed, error, stop, idle, line too long). */
static int conn_line(struct conn *c, char *line, size_t len)
{
        for (;;) {
                char *nl = memchr(c->in, '\n', c->len);
                ssize_t n;

                if (nl) {
                        size_t used = (size_t)(nl - c->in) + 1, l = used - 1;

                        if (l > 0 && c->in[l - 1] == '\r')
                                l--;
                        if (l >= len)
                                l = len - 1;
                        memcpy(line, c->in, l);
                        line[l] = '\0';
                        memmove(c->in, c->in + used, c->len - used);
                        c->len -= used;
                        return 1;
                }
                if (c->len == sizeof(c->in) || !conn_wait(c))
                        return 0;
                n = recv(c->fd, c->in + c->len, sizeof(c->in) - c->len, 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return 0;
                c->len += (size_t)n;
        }
}

static void conn_say(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void conn_say(struct conn *c, const char *fmt, ...)
{
        char out[1024];
        va_list ap;
        size_t off = 0;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(out, sizeof(out), fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        if ((size_t)n >= sizeof(out))
                n = sizeof(out) - 1;
        while (off < (size_t)n) {
                ssize_t w = send(c->fd, out + off, (size_t)n - off, MSG_NOSIGNAL);

                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        return;
                off += (size_t)w;
        }
}

/* ---- the conversation ---------------------------------------------------------- */

/* The address between < > after "MAIL FROM:" / "RCPT TO:" into out. */
static void path_copy(const char *arg, char *out, size_t len)
{
        const char *lt = strchr(arg, '<'), *gt = lt ? strchr(lt, '>') : NULL;

        size_t n;

        if (len == 0)
                return;
        if (!lt || !gt) {
                lt = arg - 1;
                gt = arg + strlen(arg);
        }
        /* copied by hand: gcc -O3 flags a snprintf("%.*s") that may cut */
        n = (size_t)(gt - lt - 1);
        if (n >= len)
                n = len - 1;
        memcpy(out, lt + 1, n);
        out[n] = '\0';
}

/* Takes one from the counter *n when it is positive: the code, else 0. */
static int take_failure(struct smtp_sink *s, int *n, int code)
{
        int r = 0;

        if (*n > 0) {
                (*n)--;
                r = code;
        }
        return r;
}

/* Reads the data up to the "." line; stores it unless too big. */
static bool conn_data(struct conn *c, const char *from, const char *rcpt)
{
        struct smtp_sink *s = c->s;
        char line[SINK_LINE_MAX];
        char *data = NULL;
        size_t len = 0, cap = 0;
        bool too_big = false;

        conn_say(c, "354 End data with <CR><LF>.<CR><LF>\r\n");
        for (;;) {
                const char *l = line;
                size_t ll;

                if (!conn_line(c, line, sizeof(line))) {
                        free(data);
                        return false;
                }
                if (strcmp(line, ".") == 0)
                        break;
                if (line[0] == '.')
                        l++;            /* undo dot-stuffing */
                ll = strlen(l);
                if (too_big || len + ll + 3 > SMTP_SINK_DATA_MAX) {
                        too_big = true;
                        continue;
                }
                if (len + ll + 3 > cap) {
                        size_t ncap = cap ? cap * 2 : 4096;
                        char *nd;

                        while (ncap < len + ll + 3)
                                ncap *= 2;
                        nd = realloc(data, ncap);
                        if (!nd) {
                                too_big = true;
                                continue;
                        }
                        data = nd;
                        cap = ncap;
                }
                memcpy(data + len, l, ll);
                memcpy(data + len + ll, "\r\n", 3);
                len += ll + 2;
        }
        if (too_big) {
                free(data);
                conn_say(c, "552 5.3.4 Message too big for the sink\r\n");
                return true;
        }
        if (!data) {
                data = strdup("");
                if (!data) {
                        conn_say(c, "451 4.3.0 Out of memory\r\n");
                        return true;
                }
        }
        pthread_mutex_lock(&s->lock);
        if (s->n == s->cap) {
                int ncap = s->cap ? s->cap * 2 : 16;
                struct sink_msg *nm = realloc(s->msgs, (size_t)ncap * sizeof(*nm));

                if (!nm) {
                        pthread_mutex_unlock(&s->lock);
                        free(data);
                        conn_say(c, "451 4.3.0 Out of memory\r\n");
                        return true;
                }
                s->msgs = nm;
                s->cap = ncap;
        }
        snprintf(s->msgs[s->n].from, SINK_ADDR_MAX, "%s", from);
        snprintf(s->msgs[s->n].rcpt, SINK_RCPT_MAX, "%s", rcpt);
        s->msgs[s->n].data = data;
        s->msgs[s->n].len = len;
        s->n++;
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
        conn_say(c, "250 2.0.0 Ok: queued\r\n");
        return true;
}

static void conn_serve(struct conn *c)
{
        struct smtp_sink *s = c->s;
        char line[SINK_LINE_MAX], from[SINK_ADDR_MAX] = "", rcpt[SINK_RCPT_MAX] = "";
        bool in_tx = false;

        conn_say(c, "220 sink.localhost ESMTP smtp_sink\r\n");
        while (conn_line(c, line, sizeof(line))) {
                if (strncasecmp(line, "EHLO", 4) == 0) {
                        in_tx = false;
                        conn_say(c, "250-sink.localhost greets you\r\n250-8BITMIME\r\n"
                                    "250-SIZE %d\r\n250 HELP\r\n", SMTP_SINK_DATA_MAX);
                } else if (strncasecmp(line, "HELO", 4) == 0) {
                        in_tx = false;
                        conn_say(c, "250 sink.localhost\r\n");
                } else if (strncasecmp(line, "MAIL FROM:", 10) == 0) {
                        int code;

                        pthread_mutex_lock(&s->lock);
                        s->attempts++;
                        code = take_failure(s, &s->fail_n, s->fail_code);
                        pthread_mutex_unlock(&s->lock);
                        if (code) {
                                conn_say(c, "%d %d.3.0 The sink refuses this mail (test)\r\n",
                                         code, code / 100);
                                continue;
                        }
                        path_copy(line + 10, from, sizeof(from));
                        rcpt[0] = '\0';
                        in_tx = true;
                        conn_say(c, "250 2.1.0 Ok\r\n");
                } else if (strncasecmp(line, "RCPT TO:", 8) == 0) {
                        char addr[SINK_ADDR_MAX];
                        size_t used = strlen(rcpt);
                        int code;

                        if (!in_tx) {
                                conn_say(c, "503 5.5.1 Error: need MAIL command\r\n");
                                continue;
                        }
                        path_copy(line + 8, addr, sizeof(addr));
                        pthread_mutex_lock(&s->lock);
                        code = take_failure(s, &s->rcpt_fail_n, s->rcpt_fail_code);
                        pthread_mutex_unlock(&s->lock);
                        if (code) {
                                conn_say(c, "%d %d.1.1 <%s>: Recipient address rejected (test)\r\n",
                                         code, code / 100, addr);
                                continue;
                        }
                        snprintf(rcpt + used, sizeof(rcpt) - used, "%s%s", used ? "," : "", addr);
                        conn_say(c, "250 2.1.5 Ok\r\n");
                } else if (strcasecmp(line, "DATA") == 0) {
                        if (!in_tx || !rcpt[0]) {
                                conn_say(c, "503 5.5.1 Error: need RCPT command\r\n");
                                continue;
                        }
                        if (!conn_data(c, from, rcpt))
                                return;
                        in_tx = false;
                } else if (strcasecmp(line, "RSET") == 0) {
                        in_tx = false;
                        conn_say(c, "250 2.0.0 Ok\r\n");
                } else if (strncasecmp(line, "NOOP", 4) == 0) {
                        conn_say(c, "250 2.0.0 Ok\r\n");
                } else if (strcasecmp(line, "QUIT") == 0) {
                        conn_say(c, "221 2.0.0 Bye\r\n");
                        return;
                } else {
                        conn_say(c, "502 5.5.2 Error: command not recognized\r\n");
                }
        }
}

static void *sink_main(void *arg)
{
        struct smtp_sink *s = arg;

        for (;;) {
                struct pollfd p[2] = { { .fd = s->lfd, .events = POLLIN },
                                       { .fd = s->stop_pipe[0], .events = POLLIN } };
                struct conn *c;
                int fd;

                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (p[1].revents)
                        break;
                fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
                if (fd < 0)
                        continue;
                c = calloc(1, sizeof(*c));
                if (c) {
                        c->s = s;
                        c->fd = fd;
                        conn_serve(c);
                        free(c);
                }
                close(fd);
        }
        return NULL;
}

/* ---- public calls -------------------------------------------------------------- */

int smtp_sink_start(struct smtp_sink **out, int *port)
{
        struct sockaddr_in sa = { .sin_family = AF_INET };
        socklen_t sl = sizeof(sa);
        struct smtp_sink *s = calloc(1, sizeof(*s));
        int one = 1, r;

        if (!s)
                return -ENOMEM;
        s->lfd = -1;
        s->stop_pipe[0] = s->stop_pipe[1] = -1;
        pthread_mutex_init(&s->lock, NULL);
        pthread_cond_init(&s->cond, NULL);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sa.sin_port = htons((uint16_t)(port ? *port : 0));
        s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s->lfd < 0 || setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
            bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s->lfd, 16) < 0 ||
            getsockname(s->lfd, (struct sockaddr *)&sa, &sl) < 0 ||
            pipe2(s->stop_pipe, O_CLOEXEC) < 0) {
                r = -errno;
                goto fail;
        }
        if (pthread_create(&s->thread, NULL, sink_main, s) != 0) {
                r = -EAGAIN;
                goto fail;
        }
        if (port)
                *port = ntohs(sa.sin_port);
        *out = s;
        return 0;
fail:
        if (s->lfd >= 0)
                close(s->lfd);
        if (s->stop_pipe[0] >= 0)
                close(s->stop_pipe[0]);
        if (s->stop_pipe[1] >= 0)
                close(s->stop_pipe[1]);
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->cond);
        free(s);
        return r;
}

void smtp_sink_stop(struct smtp_sink *s)
{
        ssize_t w;

        if (!s)
                return;
        do {
                w = write(s->stop_pipe[1], "x", 1);
        } while (w < 0 && errno == EINTR);
        pthread_join(s->thread, NULL);
        close(s->lfd);
        close(s->stop_pipe[0]);
        close(s->stop_pipe[1]);
        for (int i = 0; i < s->n; i++)
                free(s->msgs[i].data);
        free(s->msgs);
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->cond);
        free(s);
}

void smtp_sink_fail_next(struct smtp_sink *s, int n, int code)
{
        pthread_mutex_lock(&s->lock);
        s->fail_n = n;
        s->fail_code = code;
        pthread_mutex_unlock(&s->lock);
}

void smtp_sink_fail_rcpt_next(struct smtp_sink *s, int n, int code)
{
        pthread_mutex_lock(&s->lock);
        s->rcpt_fail_n = n;
        s->rcpt_fail_code = code;
        pthread_mutex_unlock(&s->lock);
}

int smtp_sink_count(struct smtp_sink *s)
{
        int n;

        pthread_mutex_lock(&s->lock);
        n = s->n;
        pthread_mutex_unlock(&s->lock);
        return n;
}

int smtp_sink_attempts(struct smtp_sink *s)
{
        int n;

        pthread_mutex_lock(&s->lock);
        n = s->attempts;
        pthread_mutex_unlock(&s->lock);
        return n;
}

int smtp_sink_wait(struct smtp_sink *s, int n, int timeout_ms)
{
        struct timespec until;
        int r = 0;

        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += timeout_ms / 1000;
        until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
        if (until.tv_nsec >= 1000000000) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000;
        }
        pthread_mutex_lock(&s->lock);
        while (s->n < n && r == 0)
                r = pthread_cond_timedwait(&s->cond, &s->lock, &until);
        r = s->n >= n ? 0 : -ETIMEDOUT;
        pthread_mutex_unlock(&s->lock);
        return r;
}

int smtp_sink_message(struct smtp_sink *s, int i, char *from, size_t fromlen, char *rcpt,
                      size_t rcptlen, char **data, size_t *len)
{
        int r = 0;

        pthread_mutex_lock(&s->lock);
        if (i < 0 || i >= s->n) {
                r = -ENOENT;
                goto out;
        }
        if (data) {
                *data = malloc(s->msgs[i].len + 1);
                if (!*data) {
                        r = -ENOMEM;
                        goto out;
                }
                memcpy(*data, s->msgs[i].data, s->msgs[i].len + 1);
        }
        if (len)
                *len = s->msgs[i].len;
        if (from && fromlen)
                snprintf(from, fromlen, "%s", s->msgs[i].from);
        if (rcpt && rcptlen)
                snprintf(rcpt, rcptlen, "%s", s->msgs[i].rcpt);
out:
        pthread_mutex_unlock(&s->lock);
        return r;
}
