/*
 * mailer.c - notification mail (CS-39): the outbox delivery worker and a
 * minimal SMTP client (RFC 5321) with MIME formatting (RFC 2045, RFC
 * 2047, RFC 5322). See mailer.h for the contract.
 *
 * The client speaks plain SMTP to one relay: greeting, EHLO (HELO when
 * EHLO is refused), MAIL FROM, RCPT TO, DATA, the message, QUIT. Every
 * reply is read whole (multi-line "250-..." replies included) and checked:
 * 2xx (354 after DATA) goes on, 4xx is a temporary failure, 5xx or
 * anything else a permanent one for this attempt. All socket I/O is
 * non-blocking with poll(): MAILER_TIMEOUT_MS for the connect and for
 * each read or write, and the worker's cancel pipe is polled along, so
 * mailer_stop() never waits for a slow relay.
 */
#include "api/mailer.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "api/api.h"
#include "domain/member.h"
#include "store/store_notify.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/timeutil.h"

#define SMTP_LINE_MAX 1024              /* RFC 5321: 512 for a reply line; be lenient */
#define SMTP_REPLY_LINES_MAX 64
#define SMTP_REPLY_TEXT_MAX 400
#define SMTP_ADDR_MAX 254
#define SMTP_MSGID_MAX 200
#define SUBJECT_WORD_BYTES 42           /* raw bytes per encoded-word: 56 base64 chars,
                                         * so "Subject: " + word stays under 78 */
#define BODY_LINE 76                    /* base64 characters per body line (RFC 2045) */
#define MESSAGE_MAX (4 * MAILER_BODY_MAX)

/* ---- SMTP connection ------------------------------------------------------ */

struct smtp {
        int fd;
        int cancel_fd;                  /* readable = give up now; -1 = none */
        char in[SMTP_LINE_MAX];         /* received, not yet consumed */
        size_t in_len;
        int code;                       /* last reply's code */
        char reply[SMTP_REPLY_TEXT_MAX]; /* last reply's text, lines joined */
};

/* Waits until fd is ready for events: 0, -ETIMEDOUT or -ECANCELED. */
static int smtp_wait(struct smtp *s, short events)
{
        struct pollfd p[2] = { { .fd = s->fd, .events = events },
                               { .fd = s->cancel_fd, .events = POLLIN } };
        int r;

        do {
                r = poll(p, s->cancel_fd >= 0 ? 2 : 1, MAILER_TIMEOUT_MS);
        } while (r < 0 && errno == EINTR);
        if (r < 0)
                return -errno;
        if (r == 0)
                return -ETIMEDOUT;
        if (s->cancel_fd >= 0 && p[1].revents)
                return -ECANCELED;
        return 0;
}

/* Splits "host:port" or "[v6]:port" into host and port. */
static int relay_split(const char *relay, char *host, size_t hostlen, char *port, size_t portlen)
{
        const char *colon, *h = relay;
        size_t hn;
        char *end = NULL;
        long p;

        if (!relay || !*relay)
                return -EINVAL;
        if (*relay == '[') {
                const char *close = strchr(relay, ']');

                if (!close || close[1] != ':')
                        return -EINVAL;
                h = relay + 1;
                hn = (size_t)(close - h);
                colon = close + 1;
        } else {
                colon = strrchr(relay, ':');
                if (!colon || memchr(relay, ':', (size_t)(colon - relay)))
                        return -EINVAL;
                hn = (size_t)(colon - relay);
        }
        if (hn == 0 || hn >= hostlen)
                return -EINVAL;
        errno = 0;
        p = strtol(colon + 1, &end, 10);
        if (errno || !colon[1] || *end || p < 1 || p > 65535)
                return -EINVAL;
        memcpy(host, h, hn);
        host[hn] = '\0';
        snprintf(port, portlen, "%ld", p);
        return 0;
}

/* Connects s->fd to one of the addresses (non-blocking, with timeout). */
static int smtp_connect_one(struct smtp *s, const struct addrinfo *ai)
{
        int fd, r, soerr = 0;
        socklen_t sl = sizeof(soerr);

        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    ai->ai_protocol);
        if (fd < 0)
                return -errno;
        s->fd = fd;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
                return 0;
        if (errno != EINPROGRESS) {
                r = -errno;
                goto fail;
        }
        r = smtp_wait(s, POLLOUT);
        if (r < 0)
                goto fail;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0) {
                r = -errno;
                goto fail;
        }
        if (soerr == 0)
                return 0;
        r = -soerr;
fail:
        close(fd);
        s->fd = -1;
        return r;
}

static int smtp_connect(struct smtp *s, const char *relay)
{
        struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                                  .ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG };
        struct addrinfo *res = NULL;
        char host[256], port[8];
        int r;

        r = relay_split(relay, host, sizeof(host), port, sizeof(port));
        if (r < 0)
                return r;
        /* getaddrinfo() has no timeout of its own; a relay is normally an
         * address or a name in /etc/hosts. */
        r = getaddrinfo(host, port, &hints, &res);
        if (r != 0)
                return r == EAI_SYSTEM ? -errno : r == EAI_MEMORY ? -ENOMEM : -ENOENT;
        r = -ENOENT;
        for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
                r = smtp_connect_one(s, ai);
                if (r == 0 || r == -ECANCELED)
                        break;
        }
        freeaddrinfo(res);
        return r;
}

static int smtp_write(struct smtp *s, const char *data, size_t len)
{
        while (len > 0) {
                ssize_t n = send(s->fd, data, len, MSG_NOSIGNAL);
                int r;

                if (n > 0) {
                        data += n;
                        len -= (size_t)n;
                        continue;
                }
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
                        return -errno;
                r = smtp_wait(s, POLLOUT);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Reads one line (without CRLF, or a bare LF) into line. */
static int smtp_read_line(struct smtp *s, char *line, size_t len)
{
        for (;;) {
                char *nl = memchr(s->in, '\n', s->in_len);
                ssize_t n;
                int r;

                if (nl) {
                        size_t used = (size_t)(nl - s->in) + 1, l = used - 1;

                        if (l > 0 && s->in[l - 1] == '\r')
                                l--;
                        if (l >= len)
                                l = len - 1;
                        memcpy(line, s->in, l);
                        line[l] = '\0';
                        memmove(s->in, s->in + used, s->in_len - used);
                        s->in_len -= used;
                        return 0;
                }
                if (s->in_len == sizeof(s->in))
                        return -EPROTO;         /* a line longer than any reply line */
                n = recv(s->fd, s->in + s->in_len, sizeof(s->in) - s->in_len, 0);
                if (n > 0) {
                        s->in_len += (size_t)n;
                        continue;
                }
                if (n == 0)
                        return -ECONNRESET;
                if (errno == EINTR)
                        continue;
                if (errno != EAGAIN && errno != EWOULDBLOCK)
                        return -errno;
                r = smtp_wait(s, POLLIN);
                if (r < 0)
                        return r;
        }
}

/* Appends text to s->reply (lines joined by a space, cut at the size). */
static void reply_append(struct smtp *s, const char *text)
{
        size_t used = strlen(s->reply);

        if (used > 0 && used + 1 < sizeof(s->reply))
                s->reply[used++] = ' ';
        snprintf(s->reply + used, sizeof(s->reply) - used, "%s", text);
}

/*
 * Reads one whole reply into s->code and s->reply. A reply is one line
 * "250 text" or several: "250-first", "250-more", ..., "250 last"; every
 * line must carry the same three-digit code (RFC 5321 4.2.1).
 */
static int smtp_read_reply(struct smtp *s)
{
        char line[SMTP_LINE_MAX];

        s->code = 0;
        s->reply[0] = '\0';
        for (int i = 0; i < SMTP_REPLY_LINES_MAX; i++) {
                int code, r = smtp_read_line(s, line, sizeof(line));

                if (r < 0)
                        return r;
                if (strlen(line) < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' ||
                    line[1] > '9' || line[2] < '0' || line[2] > '9' ||
                    (line[3] != '\0' && line[3] != ' ' && line[3] != '-')) {
                        snprintf(s->reply, sizeof(s->reply), "not an SMTP reply");
                        return -EPROTO;
                }
                code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
                if (s->code && code != s->code) {
                        snprintf(s->reply, sizeof(s->reply), "reply codes %d and %d mixed",
                                 s->code, code);
                        return -EPROTO;
                }
                s->code = code;
                reply_append(s, i == 0 ? line : line + 4);
                if (line[3] != '-')
                        return 0;
        }
        snprintf(s->reply, sizeof(s->reply), "reply longer than %d lines",
                 SMTP_REPLY_LINES_MAX);
        return -EPROTO;
}

/* Replaces every occurrence of needle (ignoring case) in text[len] by
 * "<recipient>", cutting what no longer fits. */
static void redact(char *text, size_t len, const char *needle)
{
        size_t nl = needle ? strlen(needle) : 0;
        struct buf out;
        const char *p = text, *hit;

        if (nl == 0 || !strcasestr(text, needle))
                return;
        buf_init(&out, 0);
        hit = strcasestr(p, needle);
        while (hit) {
                buf_append(&out, p, (size_t)(hit - p));
                buf_puts(&out, "<recipient>");
                p = hit + nl;
                hit = strcasestr(p, needle);
        }
        buf_puts(&out, p);
        /* Out of memory: better no text than the address. */
        snprintf(text, len, "%s", out.data ? out.data : "");
        buf_free(&out);
}

struct send_ctx {
        struct smtp s;
        const char *step;               /* "MAIL FROM", ... for err */
        const char *to;                 /* redacted from err */
        char *err;
        size_t errlen;
};

static int fail(struct send_ctx *c, int r, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static int fail(struct send_ctx *c, int r, const char *fmt, ...)
{
        va_list ap;

        if (!c->err || c->errlen == 0)
                return r;
        va_start(ap, fmt);
        vsnprintf(c->err, c->errlen, fmt, ap);
        va_end(ap);
        redact(c->err, c->errlen, c->to);
        return r;
}

/* Sends cmd (NULL: none, just read, as for the greeting) and checks that
 * the reply's class is want (2 or 3). */
static int smtp_step(struct send_ctx *c, const char *step, const char *cmd, int want)
{
        int r;

        c->step = step;
        if (cmd) {
                r = smtp_write(&c->s, cmd, strlen(cmd));
                if (r < 0)
                        return fail(c, r, "%s: %s", step, strerror(-r));
        }
        r = smtp_read_reply(&c->s);
        if (r == -EPROTO)
                return fail(c, r, "%s: %s", step, c->s.reply);
        if (r < 0)
                return fail(c, r, "%s: %s", step, strerror(-r));
        if (c->s.code / 100 == want)
                return 0;
        return fail(c, c->s.code / 100 == 4 ? -EAGAIN : -EPROTO, "%s: %s", step, c->s.reply);
}

/* ---- message -------------------------------------------------------------- */

static const char *const wdays[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

void mailer_format_date(int64_t unix_s, char *out, size_t len)
{
        /* Names from our own tables: strftime would follow the locale. */
        time_t t = (time_t)(unix_s + TIME_DISPLAY_OFFSET_S);
        struct tm tm;

        gmtime_r(&t, &tm);
        snprintf(out, len, "%s, %02d %s %04d %02d:%02d:%02d +%02d%02d", wdays[tm.tm_wday],
                 tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                 tm.tm_sec, TIME_DISPLAY_OFFSET_S / 3600, TIME_DISPLAY_OFFSET_S / 60 % 60);
}

/* A mailbox we put between < >: printable ASCII, one '@', no specials
 * that would break out of the path or the header (RFC 5321 4.1.2). */
static bool address_ok(const char *a)
{
        size_t n = a ? strlen(a) : 0;
        const char *at = a ? strchr(a, '@') : NULL;

        if (n < 3 || n > SMTP_ADDR_MAX || !at || at == a || !at[1] || strchr(at + 1, '@'))
                return false;
        for (size_t i = 0; i < n; i++) {
                unsigned char ch = (unsigned char)a[i];

                if (ch <= 0x20 || ch >= 0x7f || strchr("<>()[]\\,;:\"", ch))
                        return false;
        }
        return true;
}

static bool msgid_ok(const char *id)
{
        size_t n = strlen(id);

        if (n < 3 || n > SMTP_MSGID_MAX || !strchr(id, '@'))
                return false;
        for (size_t i = 0; i < n; i++) {
                unsigned char ch = (unsigned char)id[i];

                if (ch <= 0x20 || ch >= 0x7f || ch == '<' || ch == '>')
                        return false;
        }
        return true;
}

/* Appends base64 (original alphabet, padded) of data[0..len) to b. */
static int put_base64(struct buf *b, const void *data, size_t len)
{
        size_t enc = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
        char *tmp = malloc(enc);
        int r;

        if (!tmp)
                return -ENOMEM;
        sodium_bin2base64(tmp, enc, data, len, sodium_base64_VARIANT_ORIGINAL);
        r = buf_puts(b, tmp);
        free(tmp);
        return r;
}

/*
 * "Subject: =?UTF-8?B?...?=" (RFC 2047), folded into several encoded-words
 * of at most SUBJECT_WORD_BYTES raw bytes each. A word never splits a
 * UTF-8 character (RFC 2047 5: each word must decode to whole
 * characters), so the subject is walked character by character.
 */
static int put_subject(struct buf *b, const char *subject)
{
        size_t len = strlen(subject), start = 0;
        int r = buf_puts(b, "Subject:");

        while (r == 0 && start < len) {
                size_t end = start;

                while (end < len) {
                        uint32_t cp;
                        int n = member_utf8_decode(subject + end, len - end, &cp);

                        if (n < 0)
                                return -EINVAL;
                        if (end + (size_t)n - start > SUBJECT_WORD_BYTES)
                                break;
                        end += (size_t)n;
                }
                r = buf_puts(b, start == 0 ? " =?UTF-8?B?" : "\r\n =?UTF-8?B?");
                if (r == 0)
                        r = put_base64(b, subject + start, end - start);
                if (r == 0)
                        r = buf_puts(b, "?=");
                start = end;
        }
        return r < 0 ? r : buf_puts(b, "\r\n");
}

/* The body with every line break made CRLF (RFC 2045 6.8: text is
 * encoded in its canonical form), base64, in lines of BODY_LINE. */
static int put_body(struct buf *b, const char *body)
{
        struct buf crlf, enc;
        int r = 0;

        buf_init(&crlf, 2 * MAILER_BODY_MAX + 1);
        buf_init(&enc, 0);
        for (const char *p = body; r == 0 && *p; p++) {
                if (*p == '\r' && p[1] == '\n')
                        continue;               /* the \n emits the pair */
                if (*p == '\r' || *p == '\n')
                        r = buf_append(&crlf, "\r\n", 2);
                else
                        r = buf_append(&crlf, p, 1);
        }
        if (r == 0 && crlf.len > 0)
                r = put_base64(&enc, crlf.data, crlf.len);
        for (size_t off = 0; r == 0 && off < enc.len; off += BODY_LINE) {
                size_t n = enc.len - off < BODY_LINE ? enc.len - off : BODY_LINE;

                r = buf_append(b, enc.data + off, n);
                if (r == 0)
                        r = buf_append(b, "\r\n", 2);
        }
        buf_free(&crlf);
        buf_free(&enc);
        return r;
}

/*
 * The whole DATA part, ending with the terminating ".\r\n". No line of it
 * can begin with '.': header lines begin with a field name or a space,
 * body lines with a base64 character. So no dot-stuffing is needed.
 */
static int build_message(struct buf *b, const char *from, const char *to, const char *subject,
                         const char *body, const char *message_id, int64_t now)
{
        char date[64];
        int r;

        mailer_format_date(now, date, sizeof(date));
        r = buf_printf(b, "From: %s\r\nTo: %s\r\n", from, to);
        if (r == 0)
                r = put_subject(b, subject);
        if (r == 0)
                r = buf_printf(b, "Date: %s\r\nMessage-ID: <%s>\r\nMIME-Version: 1.0\r\n"
                               "Content-Type: text/plain; charset=UTF-8\r\n"
                               "Content-Transfer-Encoding: base64\r\n"
                               "Auto-Submitted: auto-generated\r\n\r\n", date, message_id);
        if (r == 0)
                r = put_body(b, body);
        if (r == 0)
                r = buf_puts(b, ".\r\n");
        return r;
}

/* Our name for EHLO: the host name when it is a plain DNS name. */
static void ehlo_name(char *out, size_t len)
{
        char h[256] = "";

        if (gethostname(h, sizeof(h) - 1) < 0 || !h[0])
                goto fallback;
        for (const char *p = h; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
                        goto fallback;
        snprintf(out, len, "%s", h);
        return;
fallback:
        snprintf(out, len, "localhost");
}

/* mailer_send() with a cancel fd (the worker's; -1 for none). */
static int send_one(const char *relay, const char *from, const char *to, const char *subject,
                    const char *body, const char *message_id, int64_t now, int cancel_fd,
                    char *err, size_t errlen)
{
        struct send_ctx c = { .s = { .fd = -1, .cancel_fd = cancel_fd }, .to = to, .err = err,
                              .errlen = errlen };
        char cmd[SMTP_ADDR_MAX + 300], name[256], made_id[320];
        struct buf msg;
        size_t ncp;
        int r;

        if (err && errlen)
                err[0] = '\0';
        if (!address_ok(from))
                return fail(&c, -EINVAL, "the sender address is not usable");
        if (!address_ok(to))
                return fail(&c, -EINVAL, "the recipient address is not usable");
        if (!subject || !body || strlen(subject) > MAILER_BODY_MAX ||
            strlen(body) > MAILER_BODY_MAX || member_utf8_length(subject, &ncp) < 0 ||
            member_utf8_length(body, &ncp) < 0 || strpbrk(subject, "\r\n"))
                return fail(&c, -EINVAL, "the subject or body is not sendable text");
        if (!message_id || !*message_id) {
                unsigned char rnd[8];

                randombytes_buf(rnd, sizeof(rnd));
                snprintf(made_id, sizeof(made_id), "%lld.%02x%02x%02x%02x%02x%02x%02x%02x%s",
                         (long long)now, rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6],
                         rnd[7], strchr(from, '@'));
                message_id = made_id;
        }
        if (!msgid_ok(message_id))
                return fail(&c, -EINVAL, "the Message-ID is not usable");
        buf_init(&msg, MESSAGE_MAX);
        r = build_message(&msg, from, to, subject, body, message_id, now);
        if (r < 0) {
                buf_free(&msg);
                return fail(&c, r == -E2BIG ? -EINVAL : r, "the message cannot be built: %s",
                            strerror(-r));
        }
        r = smtp_connect(&c.s, relay);
        if (r < 0) {
                buf_free(&msg);
                return fail(&c, r, "connect to the relay: %s",
                            r == -EINVAL ? "mail.smtp_relay is not host:port" : strerror(-r));
        }
        ehlo_name(name, sizeof(name));
        r = smtp_step(&c, "greeting", NULL, 2);
        if (r == 0) {
                snprintf(cmd, sizeof(cmd), "EHLO %s\r\n", name);
                r = smtp_step(&c, "EHLO", cmd, 2);
                if (r == -EPROTO && c.s.code >= 500) {
                        /* A relay that does not know EHLO (RFC 5321 3.2). */
                        snprintf(cmd, sizeof(cmd), "HELO %s\r\n", name);
                        r = smtp_step(&c, "HELO", cmd, 2);
                }
        }
        if (r == 0) {
                snprintf(cmd, sizeof(cmd), "MAIL FROM:<%s>\r\n", from);
                r = smtp_step(&c, "MAIL FROM", cmd, 2);
        }
        if (r == 0) {
                snprintf(cmd, sizeof(cmd), "RCPT TO:<%s>\r\n", to);
                r = smtp_step(&c, "RCPT TO", cmd, 2);
        }
        if (r == 0)
                r = smtp_step(&c, "DATA", "DATA\r\n", 3);
        if (r == 0) {
                r = smtp_write(&c.s, msg.data, msg.len);
                if (r < 0)
                        fail(&c, r, "message: %s", strerror(-r));
        }
        if (r == 0)
                r = smtp_step(&c, "end of data", NULL, 2);
        /* QUIT either way; its answer does not matter once the data is
         * accepted, and after a refusal it only ends politely. */
        if (r == 0 || r == -EAGAIN || r == -EPROTO)
                smtp_write(&c.s, "QUIT\r\n", 6);
        if (r == 0)
                smtp_read_reply(&c.s);
        close(c.s.fd);
        buf_free(&msg);
        return r;
}

int mailer_send(const char *relay, const char *from, const char *to, const char *subject,
                const char *body, const char *message_id, int64_t now, char *err,
                size_t errlen)
{
        return send_one(relay, from, to, subject, body, message_id, now, -1, err, errlen);
}

/* ---- the worker ------------------------------------------------------------- */

struct mailer {
        struct app *app;
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool stop;
        bool kicked;
        bool store_failing;             /* a claim error was logged already */
        int cancel[2];                  /* pipe; mailer_stop() writes to [1] */
        struct store_outbox_mail *batch; /* MAILER_BATCH entries */
};

static bool mailer_stopping(struct mailer *m)
{
        bool stop;

        pthread_mutex_lock(&m->lock);
        stop = m->stop;
        pthread_mutex_unlock(&m->lock);
        return stop;
}

/* Gives the claimed mails from i on back, untried. */
static void release_from(struct mailer *m, int i, int n)
{
        for (; i < n; i++)
                store_outbox_release(m->app->st, m->batch[i].id, time_now_s());
}

/* Tries one claimed mail and records the result. */
static int deliver(struct mailer *m, const struct store_outbox_mail *mail)
{
        const struct config *cfg = m->app->cfg;
        const char *domain = strchr(cfg->mail_from, '@');
        char msgid[128], err[512], id[24], attempt[24], state[8] = "";
        int r, rm;

        snprintf(id, sizeof(id), "%lld", (long long)mail->id);

        /* The same id on every attempt, so a receiver can drop a duplicate
         * (a retry after a lost 250, or a lost mark_sent). */
        snprintf(msgid, sizeof(msgid), "outbox-%lld.%lld%s", (long long)mail->id,
                 (long long)mail->created_at, domain ? domain : "@localhost");
        r = send_one(cfg->mail_smtp_relay, cfg->mail_from, mail->to, mail->subject, mail->body,
                     msgid, time_now_s(), m->cancel[0], err, sizeof(err));
        if (r == -ECANCELED)
                return r;
        if (r == 0) {
                rm = store_outbox_mark_sent(m->app->st, mail->id, time_now_s());
                if (rm < 0)
                        log_kv(LOG_ERROR, "outbox update failed", "outbox_id", id,
                               "error", strerror(-rm), NULL);
                return 0;
        }
        /* Arguments that cannot be sent stay unsendable: no retries. */
        rm = store_outbox_mark_failed(m->app->st, mail->id, err, time_now_s(),
                                      cfg->mail_retry_base,
                                      r == -EINVAL ? 1 : cfg->mail_retry_max, state);
        snprintf(attempt, sizeof(attempt), "%lld", (long long)mail->attempts + 1);
        log_kv(LOG_WARN, "mail delivery failed", "outbox_id", id, "attempt", attempt,
               "state", rm < 0 ? "unrecorded" : state, "error", err, NULL);
        if (rm < 0)
                log_kv(LOG_ERROR, "outbox update failed", "outbox_id", id, "error",
                       strerror(-rm), NULL);
        return r;
}

/* One round: claim a batch of due mail and try each. True when the batch
 * was full (more may be due at once). */
static bool mailer_round(struct mailer *m)
{
        const struct config *cfg = m->app->cfg;
        char count[24];
        int n, dropped = 0;

        if (!cfg->mail_smtp_relay || !cfg->mail_smtp_relay[0])
                return false;
        n = store_outbox_claim(m->app->st, time_now_s(), MAILER_LEASE_S, MAILER_BATCH, m->batch,
                               &dropped);
        if (n < 0) {
                if (!m->store_failing)
                        log_kv(LOG_ERROR, "outbox claim failed", "error", strerror(-n), NULL);
                m->store_failing = true;
                return false;
        }
        m->store_failing = false;
        if (dropped > 0) {
                snprintf(count, sizeof(count), "%d", dropped);
                log_kv(LOG_INFO, "mail dropped: member withdrawn or without address", "count",
                       count, NULL);
        }
        for (int i = 0; i < n; i++) {
                if (mailer_stopping(m) || deliver(m, &m->batch[i]) == -ECANCELED) {
                        release_from(m, i, n);
                        return false;
                }
        }
        return n + dropped == MAILER_BATCH;
}

static void *mailer_main(void *arg)
{
        struct mailer *m = arg;

        pthread_mutex_lock(&m->lock);
        while (!m->stop) {
                struct timespec until;
                bool more;

                m->kicked = false;
                pthread_mutex_unlock(&m->lock);
                more = mailer_round(m);
                pthread_mutex_lock(&m->lock);
                if (more)
                        continue;
                clock_gettime(CLOCK_REALTIME, &until);
                until.tv_sec += MAILER_POLL_MS / 1000;
                until.tv_nsec += (long)(MAILER_POLL_MS % 1000) * 1000000;
                if (until.tv_nsec >= 1000000000) {
                        until.tv_sec++;
                        until.tv_nsec -= 1000000000;
                }
                while (!m->stop && !m->kicked &&
                       pthread_cond_timedwait(&m->cond, &m->lock, &until) == 0)
                        ;
        }
        pthread_mutex_unlock(&m->lock);
        return NULL;
}

static void mailer_free(struct mailer *m)
{
        pthread_mutex_destroy(&m->lock);
        pthread_cond_destroy(&m->cond);
        if (m->cancel[0] >= 0)
                close(m->cancel[0]);
        if (m->cancel[1] >= 0)
                close(m->cancel[1]);
        free(m->batch);
        free(m);
}

int mailer_start(struct app *a, struct mailer **out)
{
        struct mailer *m = calloc(1, sizeof(*m));

        if (!m)
                return -ENOMEM;
        m->app = a;
        m->cancel[0] = m->cancel[1] = -1;
        pthread_mutex_init(&m->lock, NULL);
        pthread_cond_init(&m->cond, NULL);
        m->batch = calloc(MAILER_BATCH, sizeof(*m->batch));
        if (!m->batch || pipe2(m->cancel, O_CLOEXEC | O_NONBLOCK) < 0) {
                mailer_free(m);
                return -ENOMEM;
        }
        if (pthread_create(&m->thread, NULL, mailer_main, m) != 0) {
                mailer_free(m);
                return -EAGAIN;
        }
        if (a->cfg->mail_smtp_relay && a->cfg->mail_smtp_relay[0])
                log_kv(LOG_INFO, "mail delivery on", "relay", a->cfg->mail_smtp_relay, NULL);
        else
                log_kv(LOG_INFO, "mail delivery off: mail.smtp_relay is empty, mail stays in "
                       "the outbox", NULL);
        *out = m;
        return 0;
}

void mailer_stop(struct mailer *m)
{
        ssize_t n;

        if (!m)
                return;
        pthread_mutex_lock(&m->lock);
        m->stop = true;
        pthread_cond_signal(&m->cond);
        pthread_mutex_unlock(&m->lock);
        /* Cuts off an SMTP conversation under way (its poll() wakes). */
        do {
                n = write(m->cancel[1], "x", 1);
        } while (n < 0 && errno == EINTR);
        pthread_join(m->thread, NULL);
        mailer_free(m);
}

void mailer_kick(struct mailer *m)
{
        if (!m)
                return;
        pthread_mutex_lock(&m->lock);
        m->kicked = true;
        pthread_cond_signal(&m->cond);
        pthread_mutex_unlock(&m->lock);
}
