/*
 * store_gateway.h - gateways, homes and their members (HE-1 to HE-4, HE-10):
 * provisioning with hashed device codes and secrets, registration (a home
 * begins), pairing and invitations, deregistration with keep-or-delete,
 * household information, and the purge of kept data after its period.
 *
 * A device code and a secret are credentials: only their BLAKE2b hashes and
 * the last four characters of the code (for the masked display) are stored.
 */
#ifndef ENEMANE_STORE_STORE_GATEWAY_H
#define ENEMANE_STORE_STORE_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/crypto.h"

struct store_actor;

#define GW_MODEL_MAX 64
#define GW_FIRMWARE_MAX 64
#define GW_CODE_MAX 32          /* device code characters */
#define GW_TAIL 4
#define GW_TERMS_MAX 32
#define GW_LIST_MAX 500
#define GW_BULK_MAX 10000

struct store_gateway_new {
        char code_hash[CRYPTO_HASH_HEX];
        char code_tail[GW_TAIL + 1];
        char secret_hash[CRYPTO_HASH_HEX];
        char model[GW_MODEL_MAX + 1];
        char firmware[GW_FIRMWARE_MAX + 1];
};

struct store_gateway {
        int64_t id;
        char code_tail[GW_TAIL + 1];
        char secret_hash[CRYPTO_HASH_HEX];
        char model[GW_MODEL_MAX + 1];
        char firmware[GW_FIRMWARE_MAX + 1];
        char state[16];                 /* provisioned | registered | deregistered */
        int64_t home_id;                /* the current (active) home, else the last one, 0 none */
        int64_t home_started_at;        /* unix s of the active home's start, 0 none */
        int64_t created_at;
};

struct store_home {
        int64_t id;
        int64_t gateway_id;
        char state[16];                 /* active | ended | purged */
        char terms_version[GW_TERMS_MAX + 1];
        int64_t started_at, ended_at, keep_until;
        char code_tail[GW_TAIL + 1];
        char model[GW_MODEL_MAX + 1];
        char firmware[GW_FIRMWARE_MAX + 1];
        char role[8];                   /* the asking member's: owner | member | "" */
        bool has_coords;                /* coordinates given at registration (HE-11) */
        double latitude, longitude;
};

struct store_home_member {
        int64_t member_id;
        char role[8];
        int64_t joined_at;
};

/* Provisioning (one write job for all of them). ids gets n ids. -EEXIST when
 * a device code is taken (nothing is written). */
int store_gateway_create(struct store *st, const struct store_gateway_new *g, size_t n,
                         int64_t now, int64_t *ids);
int store_gateway_get(struct store *st, int64_t id, struct store_gateway *out);
/* By the hash of the device code. */
int store_gateway_by_code(struct store *st, const char *code_hash, struct store_gateway *out);
struct store_gateway_filter {
        const char *model;      /* NULL any */
        const char *state;      /* NULL any */
        int64_t after_id;
        int limit;
};
int store_gateway_list(struct store *st, const struct store_gateway_filter *f,
                       struct store_gateway *out, int max, int *n);

/* HE-2: registration begins a home. -EALREADY (with *out the active home)
 * when the gateway is registered already. */
int store_gateway_register(struct store *st, int64_t gateway_id, const char *terms_version,
                           const char *firmware, int64_t now, struct store_home *out);
/* HE-11: records the coordinates of the active home of a gateway. */
int store_home_set_coords(struct store *st, int64_t home_id, double latitude, double longitude);
/* HE-4: ends the active home of a gateway (from the gateway) or the home
 * (from its owner). keep: data stays until keep_until; else it is deleted now.
 * -ENOENT no such home, -ESTALE already ended. */
int store_home_end(struct store *st, int64_t home_id, bool keep, int64_t keep_until,
                   int64_t now, const struct store_actor *actor, struct store_home *out);
/* Deletes the data of ended homes whose keep_until passed (*n homes). */
int store_home_purge_due(struct store *st, int64_t now, int *n);

/* HE-3 pairing: the gateway's short-lived code (hash), for its active home. */
int store_home_pairing_set(struct store *st, int64_t home_id, const char *code_hash,
                           int64_t expires_at);
/* Links member to the active home of the gateway with code_hash when the
 * pairing code matches and is live. First linker is the owner. Errors:
 * -ENOENT (unknown gateway or wrong/expired pairing code), -ENOTCONN (not
 * registered), -EPERM (an owner exists: invitation required), -EEXIST
 * (already a member; *out is filled). */
int store_home_link(struct store *st, const char *code_hash, const char *pairing_hash,
                    int64_t member_id, int64_t now, struct store_home *out);
int store_home_invite(struct store *st, int64_t home_id, int64_t owner_id,
                      const char *code_hash, int64_t expires_at, int64_t now);
/* -ENOENT unknown/expired/used code, -EEXIST already a member. */
int store_home_join(struct store *st, const char *code_hash, int64_t member_id, int64_t now,
                    struct store_home *out);
/* -ENOENT not a member, -EPERM removing the owner. */
int store_home_member_remove(struct store *st, int64_t home_id, int64_t member_id);

/* A home as seen by member_id (role "" when not a member; member_id 0: any). */
int store_home_get(struct store *st, int64_t home_id, int64_t member_id,
                   struct store_home *out);
int store_home_members(struct store *st, int64_t home_id, struct store_home_member *out,
                       int max, int *n);
/* The homes of a member, newest first. */
int store_homes_of_member(struct store *st, int64_t member_id, struct store_home *out, int max,
                          int *n);

/* HE-10 household information, as a JSON text (NULL/"{}" when none). */
int store_household_get(struct store *st, int64_t home_id, char **json_out);
int store_household_put(struct store *st, int64_t home_id, const char *json, int64_t now);

/* The SQL of migrations 10 and 13 (store/migrations.c). */
extern const char store_m010_sql[];
extern const char store_m013_sql[];

#endif
