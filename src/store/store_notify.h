/*
 * store_notify.h - notifications (CS-39): every member has an inbox the
 * app shows, and every inbox item is also queued in the mail outbox, which
 * the delivery worker (api/mailer.c) sends with retries and backoff.
 *
 * Schema (migration 9): inbox and outbox. The recipient's address is not
 * copied into the outbox: it is read from members when the mail is sent,
 * so a changed address is used and a withdrawn member gets no mail.
 */
#ifndef ENEMANE_STORE_NOTIFY_H
#define ENEMANE_STORE_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

extern const char store_m009_sql[];

#define NOTIFY_KIND_MAX 64              /* "reservation.requested" */
#define NOTIFY_SUBJECT_MAX 200          /* bytes, UTF-8 */
#define NOTIFY_BODY_MAX 4000            /* bytes, UTF-8 */
#define NOTIFY_REF_MAX 64               /* "reservation:12" */

/* Adds an inbox item and its outbox mail for member_id on db, inside the
 * caller's write job (no transaction of its own). Text longer than the
 * limits is refused (-EINVAL), never cut. *id_out (may be NULL) gets the
 * inbox id. */
int store_notify_db_add(sqlite3 *db, int64_t member_id, const char *kind, const char *subject,
                        const char *body, const char *ref, int64_t now, int64_t *id_out);
/* The same as its own write job. */
int store_notify_add(struct store *st, int64_t member_id, const char *kind, const char *subject,
                     const char *body, const char *ref, int64_t now, int64_t *id_out);

struct store_inbox_item {
        int64_t id;
        int64_t member_id;
        char kind[NOTIFY_KIND_MAX];
        char subject[NOTIFY_SUBJECT_MAX + 1];
        char body[NOTIFY_BODY_MAX + 1];
        char ref[NOTIFY_REF_MAX];
        int64_t created_at;
        int64_t read_at;                /* 0 = unread */
};

/* The member's items, newest first, with id < before_id (0 = from the
 * newest), at most limit (1 .. 100), only unread ones when unread_only.
 * Returns the count or <0. */
int store_inbox_list(struct store *st, int64_t member_id, int64_t before_id, int limit,
                     bool unread_only, void (*cb)(const struct store_inbox_item *it, void *ud),
                     void *ud);
/* Marks the member's item read (idempotent); -ENOENT when it is not theirs. */
int store_inbox_mark_read(struct store *st, int64_t member_id, int64_t id, int64_t now);
/* Unread items of the member. */
int store_inbox_unread(struct store *st, int64_t member_id, int64_t *count);

/* ---- mail outbox (read and written by the delivery worker) -------------- */

#define OUTBOX_ERROR_MAX 256            /* last_error kept, bytes (cut, not refused) */
#define OUTBOX_BACKOFF_CAP 86400        /* longest wait between two attempts, seconds */

/* One mail due to be sent, as claimed: the recipient is the member's
 * current address. */
struct store_outbox_mail {
        int64_t id;
        int64_t inbox_id;
        int64_t member_id;
        char kind[NOTIFY_KIND_MAX];
        char subject[NOTIFY_SUBJECT_MAX + 1];
        char body[NOTIFY_BODY_MAX + 1];
        char to[256];
        int64_t attempts;               /* failed or made so far, before this one */
        int64_t created_at;
};

/* Claims up to max (1 .. 100) pending mails whose next_attempt_at <= now,
 * oldest first, into out[]. Claiming moves next_attempt_at to now +
 * lease_s, so a worker that dies mid-send leaves the mail to be tried
 * again after the lease (delivery is at least once). A mail whose member
 * is withdrawn or has no address is marked 'dropped' here and not
 * returned; *dropped (may be NULL) gets how many were. Returns the count
 * claimed or <0. */
int store_outbox_claim(struct store *st, int64_t now, int64_t lease_s, int max,
                       struct store_outbox_mail *out, int *dropped);
/* The claimed mail went out: state 'sent', attempts + 1. -ENOENT when it
 * is not pending. */
int store_outbox_mark_sent(struct store *st, int64_t id, int64_t now);
/* A failed attempt: attempts + 1 and last_error (cut to OUTBOX_ERROR_MAX,
 * control bytes replaced); 'failed' once attempts reach retry_max, else
 * still pending with next_attempt_at = now + store_outbox_backoff(). Gives
 * the new state ("pending" or "failed") in state_out (may be NULL, at
 * least 8 bytes). -ENOENT when the mail is not pending. */
int store_outbox_mark_failed(struct store *st, int64_t id, const char *error, int64_t now,
                             int64_t base_s, int64_t retry_max, char *state_out);
/* Gives a claimed mail back untried (the worker is stopping): due now,
 * attempts unchanged. -ENOENT when it is not pending. */
int store_outbox_release(struct store *st, int64_t id, int64_t now);
/* Wait after the attempts-th failed attempt (1, 2, ...): base_s *
 * 2^(attempts - 1), at most OUTBOX_BACKOFF_CAP; base_s < 1 counts as 1. */
int64_t store_outbox_backoff(int64_t base_s, int64_t attempts);

/* An outbox row as the operator sees it (support): no body, no address. */
struct store_outbox_row {
        int64_t id;
        int64_t inbox_id;
        int64_t member_id;
        char kind[NOTIFY_KIND_MAX];
        char subject[NOTIFY_SUBJECT_MAX + 1];
        char state[8];                  /* pending, sent, failed, dropped */
        int64_t attempts;
        int64_t next_attempt_at;
        char last_error[OUTBOX_ERROR_MAX];
        int64_t created_at;
        int64_t sent_at;                /* 0 = not sent */
};

/* Rows newest first with id < before_id (0 = from the newest), at most
 * limit (1 .. 100), only in state when state is not NULL (one of the four
 * states, else -EINVAL). Returns the count or <0. */
int store_outbox_list(struct store *st, const char *state, int64_t before_id, int limit,
                      void (*cb)(const struct store_outbox_row *row, void *ud), void *ud);

#endif
