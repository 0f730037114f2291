/*
 * store_member.h - members (accounts) in the store.
 *
 * A struct store_member is a plain value: fixed-size text fields, no heap,
 * so it can live on the stack and be copied. Sizes bound what the API
 * accepts (the domain validates lengths before the store sees them).
 * Every write records an audit entry (PD-8) in the same transaction, with
 * the acting member from struct store_actor.
 */
#ifndef ENEMANE_STORE_MEMBER_H
#define ENEMANE_STORE_MEMBER_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

#define SM_TEXT 404     /* 100 code points of up to 4 bytes, + NUL */

struct store_member {
        int64_t id;
        char kind[16];
        char role[16];
        char status[16];
        char email[256];
        char name[SM_TEXT];
        char name_kana[SM_TEXT];
        char phone[24];
        char postcode[12];
        char prefecture[16];
        char city[SM_TEXT];
        char line1[SM_TEXT];
        char line2[SM_TEXT];
        char birth_date[12];
        char corporate_name[SM_TEXT];
        char contact_person[SM_TEXT];
        char guardian_name[SM_TEXT];
        char guardian_relationship[64];
        int64_t guardian_consent_at;
        bool reverify_required;
        char suspend_reason[48];
        char suspend_note[SM_TEXT];
        int64_t suspended_at;
        int64_t withdrawn_at;
        int64_t created_at;
        int64_t updated_at;
};

/* Who is acting, for the audit trail. */
struct store_actor {
        int64_t member_id;      /* 0 = the system */
        const char *role;       /* "member", "operator", "system" */
        const char *client_ip;
        const char *request_id;
};

struct store_member_new {
        struct store_member m;          /* id, status, timestamps ignored */
        const char *email_norm;
        const char *password_hash;
        const int64_t *document_ids;    /* consents given at registration */
        size_t n_documents;
};

/* -EEXIST when the email (normalised) is taken. */
int store_member_create(struct store *st, const struct store_member_new *n,
                        const struct store_actor *actor, int64_t now, int64_t *id_out);
int store_member_get(struct store *st, int64_t id, struct store_member *out);

struct store_credentials {
        int64_t member_id;
        char status[16];
        char role[16];
        char password_hash[128];
};
/* By normalised email; -ENOENT when none. */
int store_member_credentials(struct store *st, const char *email_norm,
                             struct store_credentials *out);

/* Replaces the profile fields of m (not kind, role, status, email).
 * `items` names the changed fields for the audit trail; reverify sets the
 * re-verification flag (it is only ever set here, cleared by the identity
 * check in a later module). */
int store_member_update(struct store *st, const struct store_member *m, const char *items,
                        bool reverify, const struct store_actor *actor, int64_t now);
/* Sets the password hash and revokes every session (one transaction). */
int store_member_set_password(struct store *st, int64_t id, const char *password_hash,
                              const struct store_actor *actor, int64_t now);

/* status: "active" or "suspended" (reason code + note kept, history kept);
 * suspending also revokes every session. -ENOENT unknown member. */
int store_member_set_status(struct store *st, int64_t id, const char *status,
                            const char *reason, const char *note,
                            const struct store_actor *actor, int64_t now);
/* Withdrawal: status withdrawn, email freed, sessions revoked. */
int store_member_withdraw(struct store *st, int64_t id, const struct store_actor *actor,
                          int64_t now);

struct store_member_status_event {
        char status[16];
        char reason[48];
        char note[SM_TEXT];
        int64_t actor_id;
        int64_t at;
};
/* Up to max events, oldest first; returns the count. */
int store_member_status_history(struct store *st, int64_t id,
                                struct store_member_status_event *out, int max);

struct store_member_filter {
        const char *status;     /* NULL = any */
        const char *role;       /* NULL = any */
        const char *email_prefix; /* normalised, NULL = any */
        int64_t after_id;       /* keyset paging: ids > after_id */
        int limit;              /* 1..200 */
};
/* Calls cb for each member in id order; returns the count or <0. */
int store_member_list(struct store *st, const struct store_member_filter *f,
                      void (*cb)(const struct store_member *m, void *ud), void *ud);

/* Writes one audit entry (used for reads of another member's data). */
int store_audit_append(struct store *st, const struct store_actor *actor, int64_t subject_id,
                       const char *action, const char *items, int64_t now);

/* One audit entry per subject, all in one transaction. */
int store_audit_append_many(struct store *st, const struct store_actor *actor,
                            const int64_t *subject_ids, size_t n, const char *action,
                            const char *items, int64_t now);

struct store_audit_entry {
        int64_t id;
        int64_t at;
        int64_t actor_id;
        char actor_role[16];
        int64_t subject_id;
        char action[32];
        char items[512];
        char client_ip[64];
        char request_id[40];
};
struct store_audit_filter {
        int64_t subject_id;     /* 0 = any */
        int64_t actor_id;       /* 0 = any */
        int64_t before_id;      /* keyset paging, newest first; 0 = from newest */
        int limit;
};
int store_audit_list(struct store *st, const struct store_audit_filter *f,
                     void (*cb)(const struct store_audit_entry *e, void *ud), void *ud);

/* Used inside other store write jobs: appends the audit row on db. */
int store_audit_write(sqlite3 *db, const struct store_actor *actor, int64_t subject_id,
                      const char *action, const char *items, int64_t now);

#endif
