/*
 * sql.h - small inline helpers for the store_<resource>.c files: copy a
 * text column into a fixed buffer, bind text, step-and-map errors.
 * Internal to src/store.
 */
#ifndef ENEMANE_STORE_SQL_H
#define ENEMANE_STORE_SQL_H

#include <errno.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "store/store.h"

static inline void sql_col_copy(sqlite3_stmt *s, int i, char *dst, size_t len)
{
        const unsigned char *t = sqlite3_column_text(s, i);

        snprintf(dst, len, "%s", t ? (const char *)t : "");
}

static inline int sql_bind_text(sqlite3_stmt *s, int i, const char *v)
{
        return sqlite3_bind_text(s, i, v ? v : "", -1, SQLITE_TRANSIENT);
}

/* Binds a BLAKE2b-256 hash given as 64 hex digits as its 32 bytes (half the
 * space in a table and its index); a malformed one binds NULL. */
static inline int sql_bind_hash(sqlite3_stmt *s, int i, const char *hex)
{
        unsigned char bin[32];
        size_t n = 0;

        if (sodium_hex2bin(bin, sizeof(bin), hex, strlen(hex), NULL, &n, NULL) != 0 ||
            n != sizeof(bin))
                return sqlite3_bind_null(s, i);
        return sqlite3_bind_blob(s, i, bin, (int)n, SQLITE_TRANSIENT);
}

/* A 32-byte hash column as 64 hex digits + NUL ("" when it is not one). */
static inline void sql_col_hash(sqlite3_stmt *s, int i, char out[65])
{
        const void *b = sqlite3_column_blob(s, i);
        int n = sqlite3_column_bytes(s, i);

        out[0] = '\0';
        if (b && n == 32)
                sodium_bin2hex(out, 65, b, (size_t)n);
}

/* Steps a statement that returns no row: 0 or negative errno. */
static inline int sql_exec_stmt(sqlite3_stmt *s)
{
        int rc = sqlite3_step(s);

        if (rc == SQLITE_DONE || rc == SQLITE_ROW)
                return 0;
        return store_errno(rc);
}

/* Steps a write statement and resets it: 0 or negative errno. */
static inline int sql_exec_reset(sqlite3_stmt *s)
{
        int r = sql_exec_stmt(s);

        sqlite3_reset(s);
        return r;
}

/* The same, for an UPDATE/DELETE that must touch a row: -ENOENT when it
 * changed none. */
static inline int sql_exec_change(sqlite3_stmt *s)
{
        int r = sql_exec_stmt(s);
        int changed = sqlite3_changes(sqlite3_db_handle(s));

        sqlite3_reset(s);
        if (r < 0)
                return r;
        return changed ? 0 : -ENOENT;
}

/* Steps a statement expected to return one row: 1 row, 0 none, <0 error. */
static inline int sql_step_row(sqlite3_stmt *s)
{
        int rc = sqlite3_step(s);

        if (rc == SQLITE_ROW)
                return 1;
        if (rc == SQLITE_DONE)
                return 0;
        return store_errno(rc);
}

#endif
