/*
 * store_document.h - versioned terms and privacy policy, and the consents
 * members gave to them (CS-38, PD-1).
 *
 * The current version of a kind is the most recently published one. A
 * member owes consent to the newest version of each kind that was
 * published with requires_consent; a version without it (an editorial
 * change) is current but does not block anyone.
 */
#ifndef ENEMANE_STORE_DOCUMENT_H
#define ENEMANE_STORE_DOCUMENT_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

struct store_document {
        int64_t id;
        char kind[16];
        char version[64];
        char title[256];
        char url[512];
        bool requires_consent;
        int64_t published_at;
};

#define STORE_DOC_KINDS 2

/* The current version of each kind (at most STORE_DOC_KINDS); count. */
int store_document_current(struct store *st, struct store_document *out, int max);
/* One document, with its body (malloc'd into *body, caller frees; may be NULL). */
int store_document_get(struct store *st, int64_t id, struct store_document *out, char **body);
int store_document_find(struct store *st, const char *kind, const char *version,
                        struct store_document *out);
/* All versions, newest first. */
int store_document_list(struct store *st, void (*cb)(const struct store_document *d, void *ud),
                        void *ud);
/* -EEXIST when (kind, version) exists. */
int store_document_publish(struct store *st, const struct store_document *d, const char *body,
                           int64_t operator_id, int64_t now, int64_t *id_out);

/* Documents the member still has to accept (CS-38): count written to out. */
int store_consent_missing(struct store *st, int64_t member_id, struct store_document *out,
                          int max);
/* Records acceptance (idempotent: accepting twice keeps the first time). */
int store_consent_accept(struct store *st, int64_t member_id, const int64_t *document_ids,
                         size_t n, const char *client_ip, int64_t now);

/* Used inside other write jobs (registration). */
int store_consent_insert_db(sqlite3 *db, int64_t member_id, const int64_t *document_ids,
                            size_t n, const char *client_ip, int64_t now);

struct store_consent {
        struct store_document doc;
        int64_t accepted_at;
};
int store_consent_list(struct store *st, int64_t member_id,
                       void (*cb)(const struct store_consent *c, void *ud), void *ud);

#endif
