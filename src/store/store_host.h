/*
 * store_host.h - hosts (CS-8), corporate administrators and the CS-7 action
 * log, drivers' declarations and vehicles (CS-23) in the store.
 *
 * A host's id is its member id: one member is host at most once. The rows
 * here are plain values (fixed-size text, no heap) like struct
 * store_member. Every write runs in one store_write() job and, where it
 * touches personal data, writes its audit row (PD-8) in the same
 * transaction; writes made by a host, an administrator or an operator for
 * a host also append the CS-7 action (store_host_action_append).
 *
 * The rules (who may act, what is publishable, what a driver needs to
 * book) are in domain/host.h; this file only stores and loads.
 */
#ifndef ENEMANE_STORE_HOST_H
#define ENEMANE_STORE_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"
#include "store/store_member.h"

extern const char store_m005_sql[];

/* The reason written when a profile change drops a verified host back to
 * pending (CS-8). */
#define STORE_HOST_REVERIFY_REASON "profile changed: re-verification required"

/* ---- hosts ------------------------------------------------------------- */

struct store_host {
        int64_t id;                     /* = member id */
        char display_name[SM_TEXT];
        char kind[16];                  /* the member's kind: individual, corporation */
        char member_status[16];         /* the member's status: active, suspended, withdrawn */
        char verification[16];          /* pending, verified, rejected */
        char verification_reason[SM_TEXT];
        int64_t verification_at;        /* last change, 0 = never */
        char contract[16];              /* none, active, ended */
        int64_t contract_at;
        int64_t created_at;
        int64_t updated_at;
};

/* Makes member_id a host (verification pending, contract none) and audits
 * it. -EEXIST when it is a host already. */
int store_host_create(struct store *st, int64_t member_id, const char *display_name,
                      const struct store_actor *actor, int64_t now);
/* -ENOENT when member id is no host. */
int store_host_get(struct store *st, int64_t id, struct store_host *out);

/* Changes the public display name (CS-40), with its CS-7 action; the
 * host or an administrator does it. -ENOENT when id is no host. */
int store_host_rename(struct store *st, int64_t id, const char *display_name,
                      const struct store_actor *actor, int64_t now);

/* Operator decisions (CS-8), each with its audit row and CS-7 action.
 * Setting 'verified' also clears the member's re-verification flag: the
 * operator's verification is the identity check it asked for. */
int store_host_set_verification(struct store *st, int64_t id, const char *status,
                                const char *reason, const struct store_actor *actor,
                                int64_t now);
int store_host_set_contract(struct store *st, int64_t id, const char *status,
                            const struct store_actor *actor, int64_t now);

struct store_host_filter {
        const char *verification;       /* NULL = any */
        const char *contract;           /* NULL = any */
        int64_t after_id;               /* keyset paging: ids > after_id */
        int limit;                      /* 1..200 */
};
/* Calls cb in id order; returns the count or <0. */
int store_host_list(struct store *st, const struct store_host_filter *f,
                    void (*cb)(const struct store_host *h, void *ud), void *ud);

/* What member_id is to host_id. */
enum store_host_role {
        STORE_HOST_ROLE_NONE = 0,
        STORE_HOST_ROLE_HOST = 1,       /* the host member itself */
        STORE_HOST_ROLE_ADMIN = 2,      /* an appointed administrator (CS-7) */
};
/* Sets *role; -ENOENT when host_id is no host. */
int store_host_role(struct store *st, int64_t host_id, int64_t member_id,
                    enum store_host_role *role);
/* The hosts member_id may act for (its own, then the ones it administers),
 * in host id order with its role; returns the count or <0. */
int store_host_list_for_member(struct store *st, int64_t member_id,
                               void (*cb)(const struct store_host *h, enum store_host_role role,
                                          void *ud), void *ud);

/* CS-8, used inside the member profile update job (store_member.c): a host
 * whose verification is 'verified' drops back to 'pending' with
 * STORE_HOST_REVERIFY_REASON, logged as a CS-7 action. No-op when the
 * member is no host or not verified. */
int store_host_reverify_db(sqlite3 *db, int64_t member_id, const struct store_actor *actor,
                           int64_t now);

/* ---- administrators (CS-7) ------------------------------------------------ */

struct store_host_admin {
        int64_t host_id;
        int64_t member_id;
        char email[256];
        int64_t appointed_by;
        int64_t appointed_at;
};

/* Appoints member_id; -EEXIST when it is already an administrator,
 * -ENOSPC when the host has max_admins already. */
int store_host_admin_add(struct store *st, int64_t host_id, int64_t member_id, int max_admins,
                         const struct store_actor *actor, int64_t now);
/* -ENOENT when member_id is not an administrator of host_id. */
int store_host_admin_remove(struct store *st, int64_t host_id, int64_t member_id,
                            const struct store_actor *actor, int64_t now);
/* In appointment order; returns the count or <0. */
int store_host_admin_list(struct store *st, int64_t host_id,
                          void (*cb)(const struct store_host_admin *a, void *ud), void *ud);

/* ---- the CS-7 action log --------------------------------------------------- */

/* Appends the CS-7 record "actor acted for principal (host)" inside a write
 * job, in the same transaction as the change it records. action like
 * "charger.create". The recorded actor_role says what the actor was to the
 * host at that moment: "host", "admin", "operator", "system" (actor NULL
 * or member id 0) or "member". */
int store_host_action_append(sqlite3 *db, const struct store_actor *actor,
                             int64_t principal_id, const char *action,
                             const char *object_kind, int64_t object_id, int64_t now);

struct store_host_action {
        int64_t id;
        int64_t at;
        int64_t actor_id;
        char actor_role[16];
        int64_t principal_id;
        char action[48];
        char object_kind[32];
        int64_t object_id;
        char request_id[40];
};
/* Newest first; before_id 0 = from the newest. Returns the count or <0. */
int store_host_action_list(struct store *st, int64_t principal_id, int64_t before_id,
                           int limit,
                           void (*cb)(const struct store_host_action *a, void *ud), void *ud);

/* ---- drivers (CS-23) ---------------------------------------------------------- */

struct store_driver {
        int64_t member_id;
        char licence_expires_on[12];            /* YYYY-MM-DD */
        char compulsory_insurance_expires_on[12];
        char voluntary_insurance_expires_on[12];
        int64_t created_at;
        int64_t updated_at;
};

/* Creates or replaces the member's declarations (audited). */
int store_driver_put(struct store *st, const struct store_driver *d,
                     const struct store_actor *actor, int64_t now);
/* -ENOENT before the first declaration. */
int store_driver_get(struct store *st, int64_t member_id, struct store_driver *out);

struct store_vehicle {
        int64_t id;
        int64_t member_id;
        char maker[SM_TEXT];
        char model[SM_TEXT];
        char plate[SM_TEXT];
        char powertrain[8];             /* ev, phev */
        char connector[24];
        int64_t battery_wh;
        int64_t created_at;
        int64_t removed_at;             /* 0 = registered */
};

/* Registers v (id, created_at, removed_at ignored) and sets *id_out;
 * -ENOSPC when the member has max_vehicles registered already. */
int store_vehicle_add(struct store *st, const struct store_vehicle *v, int max_vehicles,
                      const struct store_actor *actor, int64_t now, int64_t *id_out);
/* Any vehicle by id, removed ones included (reservations keep naming
 * them); -ENOENT. */
int store_vehicle_get(struct store *st, int64_t id, struct store_vehicle *out);
/* The member's registered (not removed) vehicles in id order; count or <0. */
int store_vehicle_list(struct store *st, int64_t member_id,
                       void (*cb)(const struct store_vehicle *v, void *ud), void *ud);
/* Soft delete (removed_at = now); -ENOENT when the vehicle is not the
 * member's or is removed already. */
int store_vehicle_remove(struct store *st, int64_t member_id, int64_t id,
                         const struct store_actor *actor, int64_t now);

#endif
