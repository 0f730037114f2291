/*
 * mailer.h - mail delivery for notifications (CS-39): a worker thread that
 * drains the outbox (store/store_notify.h) through an SMTP relay, and the
 * small SMTP client it uses.
 *
 * The worker polls the outbox every MAILER_POLL_MS (mailer_kick() wakes it
 * at once), claims due mails in batches and sends each through
 * mail.smtp_relay. A failed attempt is logged once (outbox id and the
 * relay's reply, never the address or the body) and retried with
 * exponential backoff (mail.retry_base, doubled per attempt, at most a
 * day) until mail.retry_max attempts are used; then the mail is 'failed'.
 * With mail.smtp_relay empty nothing is sent and the outbox just fills.
 */
#ifndef ENEMANE_API_MAILER_H
#define ENEMANE_API_MAILER_H

#include <stddef.h>
#include <stdint.h>

#define MAILER_TIMEOUT_MS 10000         /* connect, each read, each write */
#define MAILER_POLL_MS 1000             /* outbox poll interval */
#define MAILER_BATCH 16                 /* mails claimed at once */
#define MAILER_LEASE_S 600              /* a claimed mail is retried after this if lost */
#define MAILER_BODY_MAX 65536           /* bytes, before encoding */

struct app;
struct mailer;

/* Starts the worker for a (a->cfg and a->st are used; a outlives the
 * worker). 0, -ENOMEM or -EAGAIN. *out is owned by the caller: release it
 * with mailer_stop(). */
int mailer_start(struct app *a, struct mailer **out);
/* Stops the worker promptly (an SMTP conversation under way is cut off
 * and its mail given back untried), joins it and frees m; accepts NULL. */
void mailer_stop(struct mailer *m);
/* Wakes the worker now, e.g. after a notice was added; accepts NULL. */
void mailer_kick(struct mailer *m);

/*
 * Sends one message through relay ("host:port", "[v6addr]:port") with a
 * plain SMTP conversation (no TLS, no AUTH: a local relay is assumed).
 * subject and body are UTF-8; the message is text/plain; charset=UTF-8,
 * the body base64 with CRLF line breaks, the subject RFC 2047 encoded;
 * Date (RFC 5322, +0900) is now. message_id is given without angle
 * brackets; NULL or "" makes one up.
 *
 * Returns 0 when the relay accepted the message (250 after the data);
 * -EAGAIN when the relay answered 4xx (temporary), -EPROTO for 5xx or a
 * reply that is not SMTP, -EINVAL when the arguments cannot be sent
 * (bad relay, address or text: retrying cannot help), or a network error
 * (-ECONNREFUSED, -ETIMEDOUT, -ECONNRESET, -EHOSTUNREACH, -ENOENT for a
 * host that does not resolve, ...). err (may be NULL) gets a sentence
 * with the step and the relay's reply, e.g. "RCPT TO: 450 4.2.1 busy";
 * the recipient's address is replaced by "<recipient>" in it.
 */
int mailer_send(const char *relay, const char *from, const char *to, const char *subject,
                const char *body, const char *message_id, int64_t now, char *err,
                size_t errlen);

/* "Mon, 01 Jun 2026 09:00:00 +0900": an RFC 5322 date in Tokyo time.
 * out needs at least 32 bytes. */
void mailer_format_date(int64_t unix_s, char *out, size_t len);

#endif
