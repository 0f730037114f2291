/*
 * slots_fixture.h - helpers shared by test_api_slots.c and
 * test_api_search.c: Tokyo wall-clock times relative to today, slot
 * creation, and raw SQL against the server's database through the sqlite3
 * command-line tool (part 1 has no API that creates reservations; the
 * tests that need one skip when the tool is missing).
 */
#ifndef ENEMANE_TESTS_API_SLOTS_FIXTURE_H
#define ENEMANE_TESTS_API_SLOTS_FIXTURE_H

#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "charger_fixture.h"

extern char **environ;

#define TOKYO_OFFSET (9 * 3600)

/* Unix time of today's local midnight in Tokyo plus days and hh:mm. */
static inline long long tokyo_at(int days, int hh, int mm)
{
        long long now = (long long)time(NULL);
        long long day = (now + TOKYO_OFFSET) / 86400;

        return (day + days) * 86400 - TOKYO_OFFSET + hh * 3600 + mm * 60;
}

/* RFC 3339 in +09:00 for t, in a static rotating buffer (8 deep). */
static inline const char *rfc(long long t)
{
        static char bufs[8][40];
        static int k;
        char *out = bufs[k++ % 8];
        time_t lt = (time_t)(t + TOKYO_OFFSET);
        struct tm tm;

        gmtime_r(&lt, &tm);
        strftime(out, 40, "%Y-%m-%dT%H:%M:%S+09:00", &tm);
        return out;
}

/* YYYY-MM-DD of the Tokyo date `days` from today, static rotating buffer. */
static inline const char *tokyo_date(int days)
{
        static char bufs[4][16];
        static int k;
        char *out = bufs[k++ % 4];
        time_t lt = (time_t)(tokyo_at(days, 0, 0) + TOKYO_OFFSET);
        struct tm tm;

        gmtime_r(&lt, &tm);
        strftime(out, 16, "%Y-%m-%d", &tm);
        return out;
}

/* POST a slot; returns the answer (caller frees). */
static inline struct api_resp post_slot(struct api_server *s, const char *token,
                                        int64_t charger_id, long long from, long long to,
                                        long long price)
{
        struct api_resp r = { 0 };
        char *path = api_printf("/api/v1/chargers/%lld/slots", (long long)charger_id);
        char *body = api_printf("{\"starts_at\":\"%s\",\"ends_at\":\"%s\",\"hourly_price\":%lld}",
                                rfc(from), rfc(to), price);

        assert_int_equal(api_call(s, "POST", path, token, body, &r), 0);
        free(path);
        free(body);
        return r;
}

/* Creates a slot, asserting 201; returns its id. */
static inline int64_t make_slot(struct api_server *s, const char *token, int64_t charger_id,
                                long long from, long long to, long long price)
{
        struct api_resp r = post_slot(s, token, charger_id, from, to, price);
        int64_t id;

        if (r.status != 201)
                fprintf(stderr, "make_slot: %ld %s\n", r.status, r.body);
        assert_int_equal(r.status, 201);
        id = api_json_int(r.json, "id", 0);
        api_resp_free(&r);
        return id;
}

static inline bool have_sqlite_cli(void)
{
        return access("/usr/bin/sqlite3", X_OK) == 0;
}

/* Runs sql on the server's database with the sqlite3 tool (5 s busy
 * timeout: the server holds the database open). Returns the exit status. */
static inline int raw_sql(struct api_server *s, const char *sql)
{
        char *argv[] = { "sqlite3", "-cmd", ".timeout 5000", s->db_path, (char *)sql, NULL };
        pid_t pid;
        int st = 0;

        if (posix_spawn(&pid, "/usr/bin/sqlite3", NULL, NULL, argv, environ) != 0)
                return -1;
        if (waitpid(pid, &st, 0) < 0)
                return -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Inserts a reservation row (user and vehicle from make_driver). */
static inline void add_reservation(struct api_server *s, int64_t charger_id, int64_t user_id,
                                   int64_t vehicle_id, long long from, long long to,
                                   const char *status)
{
        char *sql = api_printf("INSERT INTO reservations (charger_id, user_id, vehicle_id,"
                               " starts_at, ends_at, status, created_at, updated_at) VALUES"
                               " (%lld, %lld, %lld, %lld, %lld, '%s', 0, 0);",
                               (long long)charger_id, (long long)user_id,
                               (long long)vehicle_id, from, to, status);

        assert_int_equal(raw_sql(s, sql), 0);
        free(sql);
}

static inline int64_t me_id(struct api_server *s, const char *token)
{
        struct api_resp r = { 0 };
        int64_t id;

        assert_int_equal(api_call(s, "GET", "/api/v1/me", token, NULL, &r), 0);
        assert_int_equal(r.status, 200);
        id = api_json_int(r.json, "id", 0);
        api_resp_free(&r);
        return id;
}

#endif
