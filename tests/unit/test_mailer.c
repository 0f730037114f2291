/*
 * test_mailer.c - notification mail (CS-39): mailer_send() against the
 * local SMTP sink (tests/smtp_sink.c) and against scripted relays on
 * loopback: the headers, the RFC 2047 subject and the base64 body decode
 * back to the Japanese text; 4xx is a temporary error, 5xx a permanent
 * one; the recipient's address never appears in the error text; refused
 * connections, bad arguments, multi-line and malformed replies, the HELO
 * fallback. Then the delivery worker on a real store: it delivers, retries
 * a 4xx with backoff, marks a mail failed after retry_max, drops mail for
 * a withdrawn member, keeps mail when no relay is configured, and stops
 * promptly in the middle of a conversation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "../smtp_sink.h"
#include "api/api.h"
#include "api/mailer.h"
#include "domain/member.h"
#include "store/store.h"
#include "store/store_notify.h"
#include "util/config.h"
#include "util/timeutil.h"

#define T0 1780239600LL          /* Mon, 01 Jun 2026 00:00:00 +0900 */
#define FROM "notices@enemane.example"
#define TO "Taro.Yamada@example.jp"
#define SUBJECT "【予約確定】充電器の予約が確定しました"
#define BODY "山田 太郎 様\n\nご予約が確定しました。\n" \
        ".この行はドットで始まります\n開始: 6月1日 10:00\n"

/* ---- parsing what the sink received ---------------------------------------- */

/* The value of header name (unfolded: continuation lines joined by a
 * space), or false when absent. */
static bool header_get(const char *msg, const char *name, char *out, size_t len)
{
        const char *end = strstr(msg, "\r\n\r\n");
        size_t nl = strlen(name), used = 0;

        assert_non_null(end);
        for (const char *p = msg; p < end;) {
                const char *eol = strstr(p, "\r\n");

                if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
                        const char *v = p + nl + 1;

                        out[0] = '\0';
                        for (;;) {
                                while (*v == ' ' || *v == '\t')
                                        v++;
                                used += (size_t)snprintf(out + used, len - used, "%s%.*s",
                                                         used ? " " : "", (int)(eol - v), v);
                                if (eol >= end || (eol[2] != ' ' && eol[2] != '\t'))
                                        return true;
                                v = eol + 2;
                                eol = strstr(v, "\r\n");
                        }
                }
                p = eol + 2;
        }
        return false;
}

/* Decodes "=?UTF-8?B?...?= =?UTF-8?B?...?=" into out; checks every word
 * is at most 75 characters and whole UTF-8 characters by itself. */
static void decode_words(const char *v, char *out, size_t len)
{
        size_t used = 0, ncp;

        out[0] = '\0';
        while (*v) {
                const char *end;
                unsigned char bin[256];
                size_t bl = 0;
                char piece[257];

                while (*v == ' ')
                        v++;
                if (!*v)
                        break;
                assert_int_equal(strncmp(v, "=?UTF-8?B?", 10), 0);
                end = strstr(v + 10, "?=");
                assert_non_null(end);
                assert_true(end + 2 - v <= 75);
                assert_int_equal(sodium_base642bin(bin, sizeof(bin), v + 10, (size_t)(end - v - 10),
                                                   NULL, &bl, NULL,
                                                   sodium_base64_VARIANT_ORIGINAL), 0);
                memcpy(piece, bin, bl);
                piece[bl] = '\0';
                assert_int_equal(member_utf8_length(piece, &ncp), 0);
                assert_true(used + bl < len);
                memcpy(out + used, bin, bl);
                used += bl;
                out[used] = '\0';
                v = end + 2;
        }
}

/* Decodes the base64 body (lines of at most 76) into a new string. */
static char *decode_body(const char *msg)
{
        const char *p = strstr(msg, "\r\n\r\n");
        char *b64 = malloc(strlen(msg) + 1);
        unsigned char *bin = malloc(strlen(msg) + 1);
        size_t n = 0, bl = 0;

        assert_non_null(p);
        assert_non_null(b64);
        assert_non_null(bin);
        for (p += 4; *p;) {
                const char *eol = strstr(p, "\r\n");

                assert_non_null(eol);
                assert_true(eol - p <= 76);
                memcpy(b64 + n, p, (size_t)(eol - p));
                n += (size_t)(eol - p);
                p = eol + 2;
        }
        assert_int_equal(sodium_base642bin(bin, strlen(msg), b64, n, NULL, &bl, NULL,
                                           sodium_base64_VARIANT_ORIGINAL), 0);
        bin[bl] = '\0';
        free(b64);
        return (char *)bin;
}

/* text with every "\r\n" made "\n" (in place). */
static char *unix_lines(char *text)
{
        char *w = text;

        for (const char *r = text; *r; r++)
                if (!(r[0] == '\r' && r[1] == '\n'))
                        *w++ = *r;
        *w = '\0';
        return text;
}

/* ---- fixtures: the sink -------------------------------------------------------- */

struct sink_fx {
        struct smtp_sink *sink;
        int port;
        char relay[64];
};

static int sink_setup(void **state)
{
        struct sink_fx *fx = calloc(1, sizeof(*fx));

        if (!fx || smtp_sink_start(&fx->sink, &fx->port) < 0) {
                free(fx);
                return -1;
        }
        snprintf(fx->relay, sizeof(fx->relay), "127.0.0.1:%d", fx->port);
        *state = fx;
        return 0;
}

static int sink_teardown(void **state)
{
        struct sink_fx *fx = *state;

        smtp_sink_stop(fx->sink);
        free(fx);
        return 0;
}

/* ---- mailer_send against the sink ------------------------------------------------ */

static void test_cs39_mail_headers_subject_and_body_decode(void **state)
{
        struct sink_fx *fx = *state;
        char err[256] = "x", from[128], rcpt[128], v[1024], date[64], *data = NULL, *body;
        size_t len = 0;

        assert_int_equal(mailer_send(fx->relay, FROM, TO, SUBJECT, BODY,
                                     "outbox-7.1@enemane.example", T0, err, sizeof(err)), 0);
        assert_string_equal(err, "");
        assert_int_equal(smtp_sink_count(fx->sink), 1);
        assert_int_equal(smtp_sink_message(fx->sink, 0, from, sizeof(from), rcpt, sizeof(rcpt),
                                           &data, &len), 0);
        assert_string_equal(from, FROM);
        assert_string_equal(rcpt, TO);
        assert_int_equal(strlen(data), len);

        assert_true(header_get(data, "From", v, sizeof(v)));
        assert_string_equal(v, FROM);
        assert_true(header_get(data, "To", v, sizeof(v)));
        assert_string_equal(v, TO);
        assert_true(header_get(data, "Date", v, sizeof(v)));
        assert_string_equal(v, "Mon, 01 Jun 2026 00:00:00 +0900");
        mailer_format_date(T0 + 200 * 86400 + 3723, date, sizeof(date));
        assert_string_equal(date, "Fri, 18 Dec 2026 01:02:03 +0900");
        assert_true(header_get(data, "Message-ID", v, sizeof(v)));
        assert_string_equal(v, "<outbox-7.1@enemane.example>");
        assert_true(header_get(data, "MIME-Version", v, sizeof(v)));
        assert_string_equal(v, "1.0");
        assert_true(header_get(data, "Content-Type", v, sizeof(v)));
        assert_string_equal(v, "text/plain; charset=UTF-8");
        assert_true(header_get(data, "Content-Transfer-Encoding", v, sizeof(v)));
        assert_string_equal(v, "base64");

        /* The subject: RFC 2047 words only (no raw 8-bit), decoding back. */
        assert_true(header_get(data, "Subject", v, sizeof(v)));
        for (const char *p = v; *p; p++)
                assert_true((unsigned char)*p < 0x80);
        {
                char dec[512];

                decode_words(v, dec, sizeof(dec));
                assert_string_equal(dec, SUBJECT);
        }
        /* No 8-bit byte anywhere in the message. */
        for (size_t i = 0; i < len; i++)
                assert_true((unsigned char)data[i] < 0x80);

        /* The body: CRLF canonical form inside the base64, text unchanged. */
        body = decode_body(data);
        assert_non_null(strstr(body, "\r\n.この行は"));
        assert_string_equal(unix_lines(body), BODY);
        free(body);
        free(data);
}

static void test_cs39_long_subject_folds_into_whole_character_words(void **state)
{
        struct sink_fx *fx = *state;
        char subject[NOTIFY_SUBJECT_MAX + 1] = "", v[2048], dec[512], *data = NULL, *body;
        char longbody[5000];
        size_t n = 0;

        /* 66 three-byte characters and 2 ASCII: 200 bytes, so words must be
         * cut between characters, never inside one. */
        for (int i = 0; i < 66; i++) {
                memcpy(subject + n, "充", 3);
                n += 3;
        }
        memcpy(subject + n, "ab", 3);
        memset(longbody, 'x', sizeof(longbody) - 1);
        longbody[sizeof(longbody) - 1] = '\0';
        assert_int_equal(mailer_send(fx->relay, FROM, TO, subject, longbody, NULL, T0, NULL, 0),
                         0);
        assert_int_equal(smtp_sink_message(fx->sink, 0, NULL, 0, NULL, 0, &data, NULL), 0);
        assert_true(header_get(data, "Subject", v, sizeof(v)));
        assert_true(strstr(v, "?= =?UTF-8?B?") != NULL);        /* several words */
        decode_words(v, dec, sizeof(dec));
        assert_string_equal(dec, subject);
        /* Every header line stays within 78 characters. */
        for (const char *p = data; p < strstr(data, "\r\n\r\n");) {
                const char *eol = strstr(p, "\r\n");

                assert_true(eol - p <= 78);
                p = eol + 2;
        }
        /* A made-up Message-ID in our domain. */
        assert_true(header_get(data, "Message-ID", v, sizeof(v)));
        assert_true(v[0] == '<' && strstr(v, "@enemane.example>") != NULL);
        body = decode_body(data);
        assert_string_equal(body, longbody);
        free(body);
        free(data);
}

static void test_cs39_mail_4xx_is_temporary(void **state)
{
        struct sink_fx *fx = *state;
        char err[256] = "";

        smtp_sink_fail_next(fx->sink, 1, 451);
        assert_int_equal(mailer_send(fx->relay, FROM, TO, "件名", "本文", "a@b", T0, err,
                                     sizeof(err)), -EAGAIN);
        assert_non_null(strstr(err, "MAIL FROM"));
        assert_non_null(strstr(err, "451"));
        assert_int_equal(smtp_sink_count(fx->sink), 0);
        assert_int_equal(smtp_sink_attempts(fx->sink), 1);
        /* The relay is fine again: the next try goes through. */
        assert_int_equal(mailer_send(fx->relay, FROM, TO, "件名", "本文", "a@b", T0, err,
                                     sizeof(err)), 0);
        assert_int_equal(smtp_sink_count(fx->sink), 1);
}

static void test_cs39_mail_5xx_is_permanent(void **state)
{
        struct sink_fx *fx = *state;
        char err[256] = "";

        smtp_sink_fail_next(fx->sink, 1, 554);
        assert_int_equal(mailer_send(fx->relay, FROM, TO, "件名", "本文", "a@b", T0, err,
                                     sizeof(err)), -EPROTO);
        assert_non_null(strstr(err, "554"));
        assert_int_equal(smtp_sink_count(fx->sink), 0);
}

static void test_cs39_error_text_never_holds_the_address(void **state)
{
        struct sink_fx *fx = *state;
        char err[256] = "";

        /* The sink echoes the recipient in its refusal, as real relays do. */
        smtp_sink_fail_rcpt_next(fx->sink, 1, 450);
        assert_int_equal(mailer_send(fx->relay, FROM, TO, "件名", "本文", "a@b", T0, err,
                                     sizeof(err)), -EAGAIN);
        assert_non_null(strstr(err, "RCPT TO"));
        assert_non_null(strstr(err, "450"));
        assert_non_null(strstr(err, "<recipient>"));
        assert_null(strcasestr(err, TO));
        assert_null(strcasestr(err, "yamada"));
}

static void test_cs39_bad_arguments_send_nothing(void **state)
{
        struct sink_fx *fx = *state;
        char err[256] = "";

        assert_int_equal(mailer_send("no-port", FROM, TO, "s", "b", "a@b", T0, err, sizeof(err)),
                         -EINVAL);
        assert_non_null(strstr(err, "host:port"));
        assert_int_equal(mailer_send("127.0.0.1:0", FROM, TO, "s", "b", "a@b", T0, err,
                                     sizeof(err)), -EINVAL);
        /* Header or command injection through an address is refused. */
        assert_int_equal(mailer_send(fx->relay, FROM, "a@b>\r\nRCPT TO:<x@y", "s", "b", "a@b", T0,
                                     err, sizeof(err)), -EINVAL);
        assert_int_equal(mailer_send(fx->relay, FROM, "no-at-sign", "s", "b", "a@b", T0, err,
                                     sizeof(err)), -EINVAL);
        assert_int_equal(mailer_send(fx->relay, "bad from@x", TO, "s", "b", "a@b", T0, err,
                                     sizeof(err)), -EINVAL);
        assert_int_equal(mailer_send(fx->relay, FROM, TO, "s\r\nBcc: x@y", "b", "a@b", T0, err,
                                     sizeof(err)), -EINVAL);
        assert_int_equal(mailer_send(fx->relay, FROM, TO, "s", "bad \xff", "a@b", T0, err,
                                     sizeof(err)), -EINVAL);
        assert_int_equal(mailer_send(fx->relay, FROM, TO, "s", "b", "<a@b>", T0, err,
                                     sizeof(err)), -EINVAL);
        assert_int_equal(smtp_sink_attempts(fx->sink), 0);
}

static void test_cs39_connection_refused(void **state)
{
        struct sockaddr_in sa = { .sin_family = AF_INET };
        socklen_t sl = sizeof(sa);
        char relay[64], err[256] = "";
        int fd = socket(AF_INET, SOCK_STREAM, 0);

        /* A port that was free a moment ago and has no listener now. */
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
        close(fd);
        snprintf(relay, sizeof(relay), "127.0.0.1:%d", ntohs(sa.sin_port));
        assert_int_equal(mailer_send(relay, FROM, TO, "s", "b", "a@b", T0, err, sizeof(err)),
                         -ECONNREFUSED);
        assert_non_null(strstr(err, "connect"));
        /* A name that does not resolve. */
        assert_int_equal(mailer_send("no-such-host.invalid:25", FROM, TO, "s", "b", "a@b", T0,
                                     err, sizeof(err)), -ENOENT);
}

/* ---- scripted relays ------------------------------------------------------------- */

/*
 * Accepts one connection and answers from a script: replies[0] is the
 * greeting, then one reply per line read. After a reply starting "354"
 * the data is read up to the "." line and answered by the next reply. A reply NULL ends the
 * script; "" means never answer (wait until the client goes away).
 */
struct script {
        const char *const *replies;
        int lfd, port;
        pthread_t thread;
        char heard[4096];               /* the command lines received */
        volatile int accepted;
};

static bool script_line(int fd, char *buf, size_t *len, char *line, size_t max)
{
        for (;;) {
                char *nl = memchr(buf, '\n', *len);
                struct pollfd p = { .fd = fd, .events = POLLIN };
                ssize_t n;

                if (nl) {
                        size_t used = (size_t)(nl - buf) + 1;

                        snprintf(line, max, "%.*s", (int)(used > 1 && nl[-1] == '\r' ? used - 2
                                                                                     : used - 1),
                                 buf);
                        memmove(buf, buf + used, *len - used);
                        *len -= used;
                        return true;
                }
                if (poll(&p, 1, 20000) <= 0 || *len == 8192)
                        return false;
                n = recv(fd, buf + *len, 8192 - *len, 0);
                if (n <= 0)
                        return false;
                *len += (size_t)n;
        }
}

static void *script_main(void *arg)
{
        struct script *sc = arg;
        char *buf = malloc(8192), line[1024];
        size_t len = 0;
        int fd = accept(sc->lfd, NULL, NULL);
        bool after_data = false;

        sc->accepted = 1;
        if (fd < 0 || !buf) {
                free(buf);
                return NULL;
        }
        for (int i = 0; sc->replies[i]; i++) {
                const char *r = sc->replies[i];

                if (i > 0 && !after_data) {
                        if (!script_line(fd, buf, &len, line, sizeof(line)))
                                break;
                        snprintf(sc->heard + strlen(sc->heard),
                                 sizeof(sc->heard) - strlen(sc->heard), "%s\n", line);
                }
                if (!*r) {
                        while (recv(fd, line, sizeof(line), 0) > 0)
                                ;
                        break;
                }
                if (send(fd, r, strlen(r), MSG_NOSIGNAL) < 0)
                        break;
                /* After 354 the data, up to ".", comes before the next
                 * reply, which answers the data and not a command line. */
                after_data = strncmp(r, "354", 3) == 0;
                if (after_data) {
                        while (script_line(fd, buf, &len, line, sizeof(line)) &&
                               strcmp(line, ".") != 0)
                                ;
                }
        }
        close(fd);
        free(buf);
        return NULL;
}

static void script_start(struct script *sc, const char *const *replies)
{
        struct sockaddr_in sa = { .sin_family = AF_INET };
        socklen_t sl = sizeof(sa);

        memset(sc, 0, sizeof(*sc));
        sc->replies = replies;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sc->lfd = socket(AF_INET, SOCK_STREAM, 0);
        assert_true(sc->lfd >= 0);
        assert_int_equal(bind(sc->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(listen(sc->lfd, 1), 0);
        assert_int_equal(getsockname(sc->lfd, (struct sockaddr *)&sa, &sl), 0);
        sc->port = ntohs(sa.sin_port);
        assert_int_equal(pthread_create(&sc->thread, NULL, script_main, sc), 0);
}

static void script_join(struct script *sc)
{
        pthread_join(sc->thread, NULL);
        close(sc->lfd);
}

static int script_send(struct script *sc, char *err, size_t errlen)
{
        char relay[64];

        snprintf(relay, sizeof(relay), "127.0.0.1:%d", sc->port);
        return mailer_send(relay, FROM, TO, "件名", "本文", "a@b", T0, err, errlen);
}

static void test_cs39_multiline_replies_everywhere(void **state)
{
        static const char *const replies[] = {
                "220-relay.example ESMTP\r\n220-no UCE\r\n220 ready\r\n",
                "250-relay.example\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-8BITMIME\r\n"
                "250-ENHANCEDSTATUSCODES\r\n250 SMTPUTF8\r\n",
                "250-2.1.0 sender\r\n250 2.1.0 ok\r\n",
                "250 2.1.5 ok\r\n",
                "354-go\r\n354 ahead\r\n",
                "250-2.0.0 queued\r\n250 2.0.0 as 4711\r\n",
                "221 bye\r\n",
                NULL,
        };
        struct script sc;
        char err[256] = "";

        script_start(&sc, replies);
        assert_int_equal(script_send(&sc, err, sizeof(err)), 0);
        script_join(&sc);
        assert_non_null(strstr(sc.heard, "EHLO "));
        assert_non_null(strstr(sc.heard, "MAIL FROM:<" FROM ">\n"));
        assert_non_null(strstr(sc.heard, "RCPT TO:<" TO ">\n"));
        assert_non_null(strstr(sc.heard, "DATA\n"));
        assert_non_null(strstr(sc.heard, "QUIT\n"));
}

static void test_cs39_ehlo_refused_falls_back_to_helo(void **state)
{
        static const char *const replies[] = {
                "220 old relay\r\n", "502 5.5.2 what is EHLO\r\n", "250 hello\r\n",
                "250 ok\r\n", "250 ok\r\n", "354 go\r\n", "250 queued\r\n", "221 bye\r\n", NULL,
        };
        struct script sc;
        char err[256] = "";

        script_start(&sc, replies);
        assert_int_equal(script_send(&sc, err, sizeof(err)), 0);
        script_join(&sc);
        assert_non_null(strstr(sc.heard, "HELO "));
}

static void test_cs39_malformed_replies_are_errors(void **state)
{
        static const char *const mixed[] = {
                "220 ready\r\n", "250-one\r\n251 two\r\n", NULL,
        };
        static const char *const not_smtp[] = {
                "HTTP/1.1 400 Bad Request\r\n", NULL,
        };
        static const char *const greeting_refused[] = {
                "554 5.3.2 no service\r\n", "221 bye\r\n", NULL,
        };
        static const char *const data_refused[] = {
                "220 ready\r\n", "250 hi\r\n", "250 ok\r\n", "250 ok\r\n", "354 go\r\n",
                "452 4.3.1 insufficient storage\r\n", "221 bye\r\n", NULL,
        };
        struct script sc;
        char err[256] = "";

        script_start(&sc, mixed);
        assert_int_equal(script_send(&sc, err, sizeof(err)), -EPROTO);
        assert_non_null(strstr(err, "EHLO"));
        script_join(&sc);

        script_start(&sc, not_smtp);
        assert_int_equal(script_send(&sc, err, sizeof(err)), -EPROTO);
        assert_non_null(strstr(err, "greeting"));
        script_join(&sc);

        script_start(&sc, greeting_refused);
        assert_int_equal(script_send(&sc, err, sizeof(err)), -EPROTO);
        assert_non_null(strstr(err, "554"));
        script_join(&sc);

        /* A 4xx after the data: temporary, the mail is tried again later. */
        script_start(&sc, data_refused);
        assert_int_equal(script_send(&sc, err, sizeof(err)), -EAGAIN);
        assert_non_null(strstr(err, "end of data: 452"));
        script_join(&sc);
}

/* ---- the delivery worker on a store ------------------------------------------------ */

struct worker_fx {
        char dir[64];
        char path[128];
        struct store *st;
        sqlite3 *raw;
        struct config cfg;
        struct app app;
        struct smtp_sink *sink;
        int port;
};

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
        return remove(p);
}

static void raw(struct worker_fx *fx, const char *sql)
{
        char *err = NULL;

        if (sqlite3_exec(fx->raw, sql, NULL, NULL, &err) != SQLITE_OK) {
                fprintf(stderr, "%s: %s\n", sql, err ? err : "?");
                sqlite3_free(err);
                fail();
        }
}

static int worker_setup(void **state)
{
        struct worker_fx *fx = calloc(1, sizeof(*fx));
        struct store_options opt = { 0 };
        char err[256] = "", relay[64];
        int applied = 0;

        if (!fx)
                return -1;
        snprintf(fx->dir, sizeof(fx->dir), "/tmp/enemane-mailer-XXXXXX");
        if (!mkdtemp(fx->dir))
                return -1;
        snprintf(fx->path, sizeof(fx->path), "%s/mailer.db", fx->dir);
        opt.path = fx->path;
        if (store_open(&opt, &fx->st, err, sizeof(err)) < 0 ||
            store_migrate(fx->st, &applied) < 0 || sqlite3_open(fx->path, &fx->raw) != SQLITE_OK ||
            smtp_sink_start(&fx->sink, &fx->port) < 0) {
                fprintf(stderr, "setup: %s\n", err);
                return -1;
        }
        sqlite3_busy_timeout(fx->raw, 5000);
        raw(fx, "INSERT INTO members (id, kind, status, email, password_hash, name, name_kana,"
                " phone, postcode, prefecture, city, line1, created_at, updated_at) VALUES"
                " (1, 'individual', 'active', 'm1@example.jp', 'x', 'N', 'N', '090', '100-0001',"
                " 'Tokyo', 'Chiyoda', '1-1', 0, 0),"
                " (3, 'individual', 'withdrawn', 'gone@example.jp', 'x', 'N', 'N', '090',"
                " '100-0001', 'Tokyo', 'Chiyoda', '1-1', 0, 0)");
        config_defaults(&fx->cfg);
        snprintf(relay, sizeof(relay), "127.0.0.1:%d", fx->port);
        if (config_set(&fx->cfg, "mail.smtp_relay", relay, err, sizeof(err)) < 0 ||
            config_set(&fx->cfg, "mail.from", FROM, err, sizeof(err)) < 0 ||
            config_set(&fx->cfg, "mail.retry_base", "1s", err, sizeof(err)) < 0 ||
            config_set(&fx->cfg, "mail.retry_max", "2", err, sizeof(err)) < 0) {
                fprintf(stderr, "config: %s\n", err);
                return -1;
        }
        fx->app.cfg = &fx->cfg;
        fx->app.st = fx->st;
        *state = fx;
        return 0;
}

static int worker_teardown(void **state)
{
        struct worker_fx *fx = *state;

        smtp_sink_stop(fx->sink);
        sqlite3_close(fx->raw);
        store_close(fx->st);
        config_free(&fx->cfg);
        nftw(fx->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        free(fx);
        return 0;
}

/* The outbox row of inbox item id: state and attempts. */
static void outbox_of(struct worker_fx *fx, int64_t inbox_id, char *state, int64_t *attempts,
                      int64_t *next)
{
        sqlite3_stmt *s = NULL;

        assert_int_equal(sqlite3_prepare_v2(fx->raw, "SELECT state, attempts, next_attempt_at"
                                                     " FROM outbox WHERE inbox_id = ?", -1, &s,
                                            NULL), SQLITE_OK);
        sqlite3_bind_int64(s, 1, inbox_id);
        assert_int_equal(sqlite3_step(s), SQLITE_ROW);
        snprintf(state, 8, "%s", (const char *)sqlite3_column_text(s, 0));
        if (attempts)
                *attempts = sqlite3_column_int64(s, 1);
        if (next)
                *next = sqlite3_column_int64(s, 2);
        sqlite3_finalize(s);
}

/* Polls until the outbox row reaches want (true) or ms pass (false). */
static bool wait_state(struct worker_fx *fx, int64_t inbox_id, const char *want, int ms)
{
        char state[8];

        for (int waited = 0; waited <= ms; waited += 20) {
                outbox_of(fx, inbox_id, state, NULL, NULL);
                if (strcmp(state, want) == 0)
                        return true;
                usleep(20000);
        }
        return false;
}

static int64_t notify(struct worker_fx *fx, int64_t member, const char *subject)
{
        int64_t id = 0;

        assert_int_equal(store_notify_add(fx->st, member, "test.notice", subject, "本文です。\n",
                                          "", time_now_s(), &id), 0);
        return id;
}

static void test_cs39_worker_delivers_retries_fails_and_drops(void **state)
{
        struct worker_fx *fx = *state;
        struct mailer *m = NULL;
        char state_[8], rcpt[128], v[256], *data = NULL;
        int64_t first, gone, retried, doomed, attempts = 0;

        first = notify(fx, 1, "予約が確定しました");
        gone = notify(fx, 3, "退会した会員へ");
        assert_int_equal(mailer_start(&fx->app, &m), 0);
        mailer_kick(m);
        assert_int_equal(smtp_sink_wait(fx->sink, 1, 5000), 0);
        assert_true(wait_state(fx, first, "sent", 5000));
        assert_true(wait_state(fx, gone, "dropped", 5000));
        assert_int_equal(smtp_sink_message(fx->sink, 0, NULL, 0, rcpt, sizeof(rcpt), &data, NULL),
                         0);
        assert_string_equal(rcpt, "m1@example.jp");
        assert_true(header_get(data, "Message-ID", v, sizeof(v)));
        assert_true(strncmp(v, "<outbox-", 8) == 0 && strstr(v, "@enemane.example>"));
        free(data);

        /* A 4xx: retried after mail.retry_base (1 s), then delivered. */
        smtp_sink_fail_next(fx->sink, 1, 451);
        retried = notify(fx, 1, "再送される通知");
        mailer_kick(m);
        assert_int_equal(smtp_sink_wait(fx->sink, 2, 8000), 0);
        assert_true(wait_state(fx, retried, "sent", 5000));
        outbox_of(fx, retried, state_, &attempts, NULL);
        assert_int_equal(attempts, 2);

        /* 5xx every time: failed after mail.retry_max (2) attempts. */
        smtp_sink_fail_next(fx->sink, 5, 550);
        doomed = notify(fx, 1, "届かない通知");
        mailer_kick(m);
        assert_true(wait_state(fx, doomed, "failed", 8000));
        outbox_of(fx, doomed, state_, &attempts, NULL);
        assert_int_equal(attempts, 2);
        assert_int_equal(smtp_sink_count(fx->sink), 2);
        /* 1 + 2 + 2 MAIL FROM commands: nothing beyond retry_max. */
        assert_int_equal(smtp_sink_attempts(fx->sink), 5);
        mailer_stop(m);
}

static void test_cs39_worker_without_relay_keeps_mail(void **state)
{
        struct worker_fx *fx = *state;
        struct mailer *m = NULL;
        char err[64], st[8];
        int64_t id, attempts = -1;

        assert_int_equal(config_set(&fx->cfg, "mail.smtp_relay", "", err, sizeof(err)), 0);
        id = notify(fx, 1, "配信しない");
        assert_int_equal(mailer_start(&fx->app, &m), 0);
        mailer_kick(m);
        usleep(300000);
        mailer_stop(m);
        outbox_of(fx, id, st, &attempts, NULL);
        assert_string_equal(st, "pending");
        assert_int_equal(attempts, 0);
        assert_int_equal(smtp_sink_attempts(fx->sink), 0);
        mailer_kick(NULL);
        mailer_stop(NULL);
}

static void test_cs39_worker_stops_promptly_mid_conversation(void **state)
{
        static const char *const silent[] = { "", NULL };       /* never greets */
        struct worker_fx *fx = *state;
        struct mailer *m = NULL;
        struct script sc;
        char relay[64], err[64], st[8];
        int64_t id, attempts = -1, next = 0, t;

        script_start(&sc, silent);
        snprintf(relay, sizeof(relay), "127.0.0.1:%d", sc.port);
        assert_int_equal(config_set(&fx->cfg, "mail.smtp_relay", relay, err, sizeof(err)), 0);
        id = notify(fx, 1, "途中で止める");
        assert_int_equal(mailer_start(&fx->app, &m), 0);
        mailer_kick(m);
        for (int i = 0; i < 300 && !sc.accepted; i++)
                usleep(10000);
        assert_true(sc.accepted);
        usleep(100000);
        /* The worker is waiting for a greeting (up to 10 s): stop cuts it. */
        t = time_mono_us();
        mailer_stop(m);
        assert_true(time_mono_us() - t < 2000000);
        script_join(&sc);
        /* Given back untried: pending, no attempt counted, due now. */
        outbox_of(fx, id, st, &attempts, &next);
        assert_string_equal(st, "pending");
        assert_int_equal(attempts, 0);
        assert_true(next <= time_now_s());
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_cs39_mail_headers_subject_and_body_decode,
                                                sink_setup, sink_teardown),
                cmocka_unit_test_setup_teardown(
                        test_cs39_long_subject_folds_into_whole_character_words, sink_setup,
                        sink_teardown),
                cmocka_unit_test_setup_teardown(test_cs39_mail_4xx_is_temporary, sink_setup,
                                                sink_teardown),
                cmocka_unit_test_setup_teardown(test_cs39_mail_5xx_is_permanent, sink_setup,
                                                sink_teardown),
                cmocka_unit_test_setup_teardown(test_cs39_error_text_never_holds_the_address,
                                                sink_setup, sink_teardown),
                cmocka_unit_test_setup_teardown(test_cs39_bad_arguments_send_nothing, sink_setup,
                                                sink_teardown),
                cmocka_unit_test(test_cs39_connection_refused),
                cmocka_unit_test(test_cs39_multiline_replies_everywhere),
                cmocka_unit_test(test_cs39_ehlo_refused_falls_back_to_helo),
                cmocka_unit_test(test_cs39_malformed_replies_are_errors),
                cmocka_unit_test_setup_teardown(
                        test_cs39_worker_delivers_retries_fails_and_drops, worker_setup,
                        worker_teardown),
                cmocka_unit_test_setup_teardown(test_cs39_worker_without_relay_keeps_mail,
                                                worker_setup, worker_teardown),
                cmocka_unit_test_setup_teardown(test_cs39_worker_stops_promptly_mid_conversation,
                                                worker_setup, worker_teardown),
        };

        if (sodium_init() < 0)
                return 1;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
