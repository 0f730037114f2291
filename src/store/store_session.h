/*
 * store_session.h - login sessions. Only the BLAKE2b hash of a token is
 * stored (PD-8); a lookup hashes the presented token and finds the row.
 */
#ifndef ENEMANE_STORE_SESSION_H
#define ENEMANE_STORE_SESSION_H

#include <stdint.h>

#include "store/store.h"

struct store_auth {
        int64_t session_id;
        int64_t member_id;
        int64_t expires_at;
        char role[16];
        char status[16];
};

int store_session_create(struct store *st, const char *token_hash, int64_t member_id,
                         int64_t now, int64_t expires_at, const char *client_ip,
                         int64_t *id_out);
/* -ENOENT when unknown, revoked or expired at now. */
int store_session_lookup(struct store *st, const char *token_hash, int64_t now,
                         struct store_auth *out);
int store_session_revoke(struct store *st, int64_t session_id, int64_t now);
/* Revokes every live session of the member (CS-5); *count gets how many. */
int store_session_revoke_all(struct store *st, int64_t member_id, int64_t now, int *count);
/* Used inside other write jobs. */
int store_session_revoke_all_db(sqlite3 *db, int64_t member_id, int64_t now);

#endif
