/*
 * store_content.h - electronic manuals (HE-12) and information distribution
 * (HE-15) in the store.
 *
 * Manuals: a file (PDF or HTML) the operator publishes for one device
 * model, kept as a BLOB with its size and SHA-256. Which manuals a
 * household may see (the models connected to its gateway) is the API's
 * decision; the store answers the manuals of a list of models.
 *
 * Distribution: a distributor is a contracted client of the operator. It
 * authenticates with an API key of which only the BLAKE2b hash (and the
 * last four characters, for display) is stored; its contract (a JSON text
 * the API writes and reads) says which targets it may reach, until
 * expires_at; the operator may revoke it. A content it sends is resolved
 * here, in one write job, into one delivery row per recipient: a gateway
 * (with the home it serves now) or a member. Members who opted out
 * (store_distribution_pref_set) are never recipients.
 *
 * Schema (migration 17): manuals, distributors, distribution_contents,
 * deliveries, distribution_prefs.
 *
 * Errors: negative errno; -ENOENT no such row, -EINVAL bad argument.
 */
#ifndef ENEMANE_STORE_STORE_CONTENT_H
#define ENEMANE_STORE_STORE_CONTENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/crypto.h"

struct store_actor;

/* The SQL of migration 17 (store/migrations.c). */
extern const char store_m017_sql[];

#define CONTENT_MODEL_MAX 64            /* bytes, as GW_MODEL_MAX */
#define CONTENT_TITLE_MAX 600           /* bytes (200 Japanese characters) */
#define CONTENT_LANG_MAX 35             /* BCP 47 tag */
#define CONTENT_TYPE_MAX 24             /* application/pdf | text/html */
#define CONTENT_SHA256_HEX 65
#define CONTENT_NAME_MAX 200            /* bytes of a distributor's name */
#define CONTENT_PAGE_MAX 500

/* ---- manuals (HE-12) ---------------------------------------------------- */

struct store_manual {
        int64_t id;
        char model[CONTENT_MODEL_MAX + 1];
        char title[CONTENT_TITLE_MAX + 1];
        char language[CONTENT_LANG_MAX + 1];
        char content_type[CONTENT_TYPE_MAX + 1];
        int64_t size;
        char sha256[CONTENT_SHA256_HEX];
        int64_t created_by;
        int64_t created_at;
};

/* Stores a manual (m: model, title, language, content_type, created_by;
 * the store computes size and sha256). When the same file (SHA-256) is
 * already published for the same model and language, nothing is stored
 * and 1 is returned with *out that manual (an upload retried); else 0
 * with *out the new one. */
int store_manual_add(struct store *st, const struct store_manual *m, const void *data,
                     size_t len, int64_t now, struct store_manual *out);
/* The manual's description (no file). */
int store_manual_get(struct store *st, int64_t id, struct store_manual *out);
/* Calls cb with the manual's file (valid during the call only); the return
 * of cb is returned. -ENOENT when there is no such manual. */
int store_manual_file(struct store *st, int64_t id,
                      int (*cb)(const void *data, size_t len, void *ud), void *ud);
int store_manual_delete(struct store *st, int64_t id);
/* The operator's list: model NULL any, ids > after, in id order, at most
 * limit (1 .. CONTENT_PAGE_MAX). Returns the count or <0. */
int store_manual_list(struct store *st, const char *model, int64_t after, int limit,
                      void (*cb)(const struct store_manual *m, void *ud), void *ud);
/* The manuals of these models (each looked up by its index), by model,
 * language, id; at most max. Returns the count or <0. */
int store_manuals_of_models(struct store *st, const char *const *models, size_t n, int max,
                            void (*cb)(const struct store_manual *m, void *ud), void *ud);

/* ---- distributors (HE-15) ----------------------------------------------- */

struct store_distributor {
        int64_t id;
        char name[CONTENT_NAME_MAX + 1];
        char key_tail[5];               /* the key's last four characters */
        char *contract;                 /* JSON text, malloc'd (store_distributor_free) */
        int64_t expires_at;
        int64_t revoked_at;             /* 0: not revoked */
        int64_t created_by;
        int64_t created_at;
};

void store_distributor_free(struct store_distributor *d);

/* key_hash: crypto_token_hash() of the key (hex). -EEXIST when taken. */
int store_distributor_create(struct store *st, const char *name, const char *key_hash,
                             const char *key_tail, const char *contract, int64_t expires_at,
                             int64_t created_by, int64_t now, int64_t *id);
int store_distributor_get(struct store *st, int64_t id, struct store_distributor *out);
/* By the hash of its key (revoked and expired ones too: the caller decides). */
int store_distributor_by_key(struct store *st, const char *key_hash,
                             struct store_distributor *out);
/* Calls cb for every distributor in id order after after, at most limit
 * (the distributor's contract is valid during the call only). Returns the
 * count or <0. */
int store_distributor_list(struct store *st, int64_t after, int limit,
                           void (*cb)(const struct store_distributor *d, void *ud), void *ud);
/* Revokes it now (its key stops working). -ENOENT unknown, -EALREADY
 * revoked already. */
int store_distributor_revoke(struct store *st, int64_t id, int64_t now);

/* ---- contents and deliveries (HE-15) ------------------------------------ */

enum store_audience {
        STORE_AUDIENCE_GATEWAYS,
        STORE_AUDIENCE_MEMBERS,
};

struct store_content_new {
        int64_t distributor_id;
        const char *title, *body, *link;        /* link "" none */
        const char *target;                     /* JSON text as the distributor sent it */
        enum store_audience audience;
        /* Narrowing, as JSON array texts of strings, NULL for none: the
         * gateway's model, the household's prefecture (HE-10). */
        const char *models;
        const char *prefectures;
        int64_t max_recipients;
};

/* Records the content and one delivery per recipient at now, in one write
 * job. Recipients: the registered gateways (active homes) matching the
 * narrowing; or the active members of those homes who did not opt out.
 * *recipients gets their number. -E2BIG (nothing written, *recipients =
 * max_recipients + 1) when there are more than max_recipients;
 * -EKEYREVOKED when the distributor was revoked or expired meanwhile. */
int store_content_send(struct store *st, const struct store_content_new *c, int64_t now,
                       int64_t *content_id, int64_t *recipients);

struct store_content {
        int64_t id;
        int64_t distributor_id;
        const char *title, *body, *link, *target;
        int64_t recipients;
        int64_t created_at;
};

/* A distributor's contents, newest first, ids < before (0 from the
 * newest), at most limit. Returns the count or <0. */
int store_content_list(struct store *st, int64_t distributor_id, int64_t before, int limit,
                       void (*cb)(const struct store_content *ct, void *ud), void *ud);

/* One delivery with its content; strings valid during the callback only. */
struct store_delivery {
        int64_t id;
        int64_t content_id;
        int64_t distributor_id;
        const char *distributor_name;
        const char *title, *body, *link;
        int64_t gateway_id, home_id;    /* a gateway recipient, else 0 */
        int64_t member_id;              /* a member recipient, else 0 */
        int64_t delivered_at;
};

/* A gateway's deliveries for its home, ids > after, oldest first. */
int store_deliveries_of_gateway(struct store *st, int64_t gateway_id, int64_t home_id,
                                int64_t after, int limit,
                                void (*cb)(const struct store_delivery *d, void *ud), void *ud);
/* A member's deliveries, newest first, ids < before (0 from the newest). */
int store_deliveries_of_member(struct store *st, int64_t member_id, int64_t before, int limit,
                               void (*cb)(const struct store_delivery *d, void *ud), void *ud);

struct store_delivery_filter {
        int64_t distributor_id;         /* 0 any */
        int64_t content_id;             /* 0 any */
        int64_t after;                  /* ids > after */
        int limit;
};

/* The operator's record of deliveries, in id order. */
int store_deliveries_list(struct store *st, const struct store_delivery_filter *f,
                          void (*cb)(const struct store_delivery *d, void *ud), void *ud);

/* ---- a member's choice (HE-15, PD-1) ------------------------------------ */

/* Whether the member receives distributed content (true unless they opted
 * out) and when they last chose (0 never). */
int store_distribution_pref_get(struct store *st, int64_t member_id, bool *receive,
                                int64_t *changed_at);
/* Records the choice at now with an audit entry (actor), in one job. */
int store_distribution_pref_set(struct store *st, int64_t member_id, bool receive,
                                const struct store_actor *actor, int64_t now);

#endif
