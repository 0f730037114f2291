/*
 * store_charger.h - chargers (CS-9) with their R*Tree position, QR codes
 * (CS-11), photos, operator notes: change requests and delisting (CS-10),
 * sites and limit applications (CS-12).
 *
 * Rows are plain values (fixed-size text, no heap) like struct
 * store_member; photo bytes are the one exception (returned malloc'd).
 * Every write is one store_write() job and appends the CS-7 host action
 * (store_host_action_append) for the charger's or site's host in the same
 * transaction. The rules (kinds, what is bookable, the QR life cycle) are
 * domain/charger.h's; this file stores, loads and applies them atomically.
 *
 * Errors, beyond the store's usual ones (-ENOENT, -EIO, ...):
 *   -ENXIO      the site named is not one of the host's
 *   -ENOTEMPTY  CS-18: a live reservation refers to the charger (blocker filled)
 *   -EALREADY   state already there (QR mailed, delisted, decided, pending application)
 *   -EAGAIN     QR not mailed yet (attach)
 *   -EACCES     QR token does not match (attach)
 *   -EDQUOT     photo limit reached
 */
#ifndef ENEMANE_STORE_CHARGER_H
#define ENEMANE_STORE_CHARGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/charger.h"
#include "store/store.h"
#include "store/store_member.h"
#include "util/crypto.h"

extern const char store_m006_sql[];

#define SC_NOTES 4004           /* 1000 code points of up to 4 bytes, + NUL */

struct store_charger {
        int64_t id;
        int64_t host_id;
        int64_t site_id;                /* 0 = none */
        char kind[20];
        char maker[SM_TEXT];
        char model[SM_TEXT];
        int64_t output_w;
        char connector[24];
        char postcode[12];
        char prefecture[32];
        char city[SM_TEXT];
        char line1[SM_TEXT];
        char line2[SM_TEXT];
        int64_t lat_e6;
        int64_t lon_e6;
        char surroundings[SC_NOTES];
        char access_notes[SC_NOTES];
        char usage_notes[SC_NOTES];
        bool onsite_reservation;
        bool penalty_enabled;
        bool extendable;
        bool out_of_service;
        char qr_state[12];              /* issued, mailed, attached */
        char qr_token[CRYPTO_TOKEN_MAX];        /* plaintext while issued, else "" */
        char qr_token_hash[CRYPTO_HASH_HEX];
        int64_t qr_issued_at;
        int64_t qr_mailed_at;
        int64_t qr_attached_at;
        char delisted_reason[40];       /* "" = listed */
        char delisted_note[SC_NOTES];
        int64_t delisted_at;
        int64_t deleted_at;             /* 0 = live */
        int64_t created_at;
        int64_t updated_at;
        /* read only, joined from hosts/members */
        char host_display_name[SM_TEXT];
        bool host_publishable;          /* verified, contract active, member active */
        int64_t photos;
};

/* The domain's view of a row. */
void store_charger_status(const struct store_charger *c, struct charger_status *out);

/* Inserts c (id, timestamps, joined fields ignored; qr_token and
 * qr_token_hash set by the caller; qr_state forced to issued) with its
 * R*Tree entry; -ENXIO when site_id is set and not a site of c->host_id. */
int store_charger_create(struct store *st, const struct store_charger *c,
                         const struct store_actor *actor, int64_t now, int64_t *id_out);
/* Any charger by id, deleted ones included. */
int store_charger_get(struct store *st, int64_t id, struct store_charger *out);
/* Only what a public listing shows (CS-40): the fields api_charger_public_write()
 * reads (id, host_id, site_id, kind .. extendable, host_display_name); the other
 * fields of *out are left as they were. For the search's result pages. */
int store_charger_get_listing(struct store *st, int64_t id, struct store_charger *out);
/* Replaces the host-editable fields of c (kind .. extendable, site_id)
 * and moves its R*Tree entry; marks open change requests resolved.
 * -ENOENT when deleted; -ENXIO bad site. */
int store_charger_update(struct store *st, const struct store_charger *c,
                         const struct store_actor *actor, int64_t now);

/* A reservation that blocks a change (CS-16/CS-18). */
struct store_reservation_ref {
        int64_t id;
        char status[16];
        int64_t starts_at;
        int64_t ends_at;
};
/* Soft delete (CS-18): -ENOTEMPTY with *blocker when a pending, confirmed
 * or checked-in reservation refers to the charger. Drops the R*Tree
 * entry (a deleted charger is never searched). */
int store_charger_delete(struct store *st, int64_t id, const struct store_actor *actor,
                         int64_t now, struct store_reservation_ref *blocker);
/* The host's live chargers in id order; count or <0. */
int store_charger_list_host(struct store *st, int64_t host_id,
                            void (*cb)(const struct store_charger *c, void *ud), void *ud);

/* QR life cycle (domain/charger.h charger_qr_next):
 *  MAIL:   wipes the plaintext.
 *  ATTACH: token_hash must equal the stored hash (constant time), else -EACCES.
 *  ROTATE: token / token_hash are the new code (plaintext kept while issued). */
int store_charger_qr_event(struct store *st, int64_t id, enum charger_qr_event ev,
                           const char *token, const char *token_hash,
                           const struct store_actor *actor, int64_t now);

/* ---- photos --------------------------------------------------------------------- */

struct store_charger_photo {
        int64_t id;
        int64_t charger_id;
        char content_type[16];
        int64_t width;
        int64_t height;
        int64_t size;
        int64_t created_at;
};
/* Adds a photo (meta: content_type, width, height); -EDQUOT when the
 * charger has max_photos already. */
int store_charger_photo_add(struct store *st, int64_t charger_id,
                            const struct store_charger_photo *meta, const void *data, size_t len,
                            int64_t max_photos, const struct store_actor *actor, int64_t now,
                            int64_t *id_out);
/* Meta and, when data is non-NULL, the bytes (*data malloc'd, caller frees;
 * meta->size is their length). -ENOENT unless the photo is charger_id's. */
int store_charger_photo_get(struct store *st, int64_t charger_id, int64_t photo_id,
                            struct store_charger_photo *meta, void **data);
int store_charger_photo_delete(struct store *st, int64_t charger_id, int64_t photo_id,
                               const struct store_actor *actor, int64_t now);
/* In id order; count or <0. */
int store_charger_photo_list(struct store *st, int64_t charger_id,
                             void (*cb)(const struct store_charger_photo *p, void *ud), void *ud);

/* ---- operator notes (CS-10) ------------------------------------------------------- */

struct store_charger_note {
        int64_t id;
        int64_t charger_id;
        char kind[20];                  /* change_request, delisting, relisting */
        char reason[40];
        char message[SC_NOTES];
        int64_t actor_id;
        int64_t at;
        int64_t resolved_at;            /* change requests: the host's next update */
};
int store_charger_change_request(struct store *st, int64_t charger_id, const char *message,
                                 const struct store_actor *actor, int64_t now, int64_t *id_out);
/* -EALREADY when delisted already. */
int store_charger_delist(struct store *st, int64_t charger_id, const char *reason,
                         const char *note, const struct store_actor *actor, int64_t now);
/* -EALREADY when not delisted. */
int store_charger_relist(struct store *st, int64_t charger_id, const struct store_actor *actor,
                         int64_t now);
/* All notes, oldest first; open_only: unresolved change requests only. */
int store_charger_notes(struct store *st, int64_t charger_id, bool open_only,
                        void (*cb)(const struct store_charger_note *n, void *ud), void *ud);

/* ---- sites and limit applications (CS-12) --------------------------------------------- */

struct store_site {
        int64_t id;
        int64_t host_id;
        char name[SM_TEXT];
        int64_t limit_n;                /* 0 = no approved limit */
        char limit_starts_on[12];       /* YYYY-MM-DD, "" without a limit */
        int64_t created_at;
        int64_t updated_at;
};
int store_site_create(struct store *st, int64_t host_id, const char *name,
                      const struct store_actor *actor, int64_t now, int64_t *id_out);
int store_site_get(struct store *st, int64_t id, struct store_site *out);
int store_site_list(struct store *st, int64_t host_id,
                    void (*cb)(const struct store_site *s, void *ud), void *ud);
/* The site's live chargers in id order. */
int store_site_chargers(struct store *st, int64_t site_id,
                        void (*cb)(const struct store_charger *c, void *ud), void *ud);

struct store_limit_application {
        int64_t id;
        int64_t site_id;
        int64_t host_id;                /* joined from the site */
        int64_t requested_limit;
        char note[SC_NOTES];
        char status[12];                /* pending, approved, rejected */
        int64_t approved_limit;
        char starts_on[12];
        char reason[SC_NOTES];
        int64_t applied_by;
        int64_t applied_at;
        int64_t decided_by;
        int64_t decided_at;
};
/* -EALREADY when the site has a pending application. */
int store_limit_apply(struct store *st, int64_t site_id, int64_t limit, const char *note,
                      const struct store_actor *actor, int64_t now, int64_t *id_out);
int store_limit_get(struct store *st, int64_t id, struct store_limit_application *out);
/* status NULL = any; site_id 0 = any; in id order, after_id keyset; count or <0. */
int store_limit_list(struct store *st, const char *status, int64_t site_id, int64_t after_id,
                     int limit, void (*cb)(const struct store_limit_application *a, void *ud),
                     void *ud);
/* Decides a pending application (-EALREADY when decided); approving sets
 * the site's limit and start date in the same transaction. */
int store_limit_decide(struct store *st, int64_t id, bool approve, int64_t limit,
                       const char *starts_on, const char *reason,
                       const struct store_actor *actor, int64_t now);

#endif
