/*
 * smtp_sink.h - a tiny SMTP server on 127.0.0.1 for tests (CS-39 mail
 * delivery). It speaks just enough SMTP for a client such as
 * src/api/mailer.c (220 greeting, multi-line 250 to EHLO, HELO, MAIL,
 * RCPT, DATA 354, "." 250, RSET, NOOP, QUIT 221) and keeps every message
 * accepted in memory. It can be told to refuse the next transactions with
 * a 4xx or 5xx reply, to test retries.
 *
 * One thread serves one connection at a time. Every call is thread safe.
 * Included by unit and API tests as "../smtp_sink.h" (tests/meson.build
 * builds it as the static library smtp-sink, libc and threads only).
 */
#ifndef ENEMANE_TESTS_SMTP_SINK_H
#define ENEMANE_TESTS_SMTP_SINK_H

#include <stddef.h>

struct smtp_sink;

#define SMTP_SINK_DATA_MAX (1024 * 1024)  /* bigger messages get 552 */

/* Starts listening on 127.0.0.1:*port (0 = the kernel picks; *port gets
 * the port). 0 or negative errno. *out is freed by smtp_sink_stop(). */
int smtp_sink_start(struct smtp_sink **out, int *port);
/* Stops the thread, closes every socket and frees s; accepts NULL. */
void smtp_sink_stop(struct smtp_sink *s);

/* The next n transactions are refused at MAIL FROM with code (400 .. 599),
 * e.g. 451 (temporary) or 550 (permanent). n = 0 clears it. */
void smtp_sink_fail_next(struct smtp_sink *s, int n, int code);
/* The next n transactions are refused at RCPT TO with code; the reply
 * echoes the recipient's address (as real servers do). */
void smtp_sink_fail_rcpt_next(struct smtp_sink *s, int n, int code);

/* Messages accepted so far. */
int smtp_sink_count(struct smtp_sink *s);
/* MAIL FROM commands seen so far (accepted or refused): one per attempt. */
int smtp_sink_attempts(struct smtp_sink *s);
/* Blocks until at least n messages were accepted: 0, or -ETIMEDOUT after
 * timeout_ms. */
int smtp_sink_wait(struct smtp_sink *s, int n, int timeout_ms);
/* Message i (0 = first): envelope sender and recipients (several joined
 * by ','), each cut to its buffer (a buffer may be NULL), and *data (may
 * be NULL) a malloc'd copy of the data as received, CRLF line breaks,
 * dot-stuffing undone, without the final "." line; the caller frees it.
 * *len (may be NULL) gets its length. 0 or -ENOENT, -ENOMEM. */
int smtp_sink_message(struct smtp_sink *s, int i, char *from, size_t fromlen, char *rcpt,
                      size_t rcptlen, char **data, size_t *len);

#endif
