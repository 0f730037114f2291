/*
 * sql.h - small inline helpers for the store_<resource>.c files: copy a
 * text column into a fixed buffer, bind text, step-and-map errors.
 * Internal to src/store.
 */
#ifndef ENEMANE_STORE_SQL_H
#define ENEMANE_STORE_SQL_H

#include <errno.h>
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
