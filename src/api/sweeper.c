/*
 * sweeper.c - the background chores of the server, on one thread: void
 * wallet holds whose timeout passed (they "void themselves", issue 3),
 * forget webhook signatures too old to be replayed, and run the
 * reservations' time-driven steps (issue 5: request expiry, no-show,
 * overdue, overdue close). Runs every ledger.sweep_interval; stops
 * promptly on sweeper_stop().
 *
 * The reservation schedule lives in the database (reservations.due_at),
 * so it survives restarts, and each step re-checks in its own transaction
 * that it is still due, so running it twice (or racing a user's check-out)
 * does nothing the second time.
 */
#include "api/api.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api_resv.h"
#include "store/store_ledger.h"
#include "store/store_resv.h"
#include "store/store_webhook.h"
#include "store/store_gateway.h"
#include "store/store_ts.h"
#include "api/api_energy.h"
#include "util/log.h"
#include "util/timeutil.h"

#define SWEEP_BATCH 1000

struct sweeper {
        struct app *app;
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool stop;
};

#define RESV_DUE_BATCH 256

int sweeper_run_reservations(struct app *a, int64_t now, int *done)
{
        int64_t ids[RESV_DUE_BATCH];
        struct resv_rules rules;
        int n, r, total = 0, rounds = 0;

        api_resv_rules(a->cfg, &rules);
        /* A step may make the next one due at once (overdue, then closed):
         * repeat while something was done, boundedly. */
        do {
                n = store_resv_due(a->st, now, ids, RESV_DUE_BATCH);
                if (n < 0)
                        return n;
                for (int i = 0; i < n; i++) {
                        r = store_resv_tick(a->st, ids[i], &rules, now, NULL);
                        if (r == 0)
                                total++;
                        else if (r != -EALREADY)
                                log_kv(LOG_ERROR, "reservation step failed", "error",
                                       strerror(-r), NULL);
                }
        } while (n > 0 && ++rounds < 16);
        if (done)
                *done = total;
        return 0;
}

/* HE-4: deletes the data of deregistered homes whose keeping period
 * passed, and forgets ingest batch ids past their retention. */
int api_energy_purge(struct app *a, int64_t now, int *n)
{
        int purged = 0, total = 0, pruned = 0, rounds = 0, r;

        do {
                r = store_home_purge_due(a->st, now, &purged);
                total += purged;
        } while (r == 0 && purged > 0 && ++rounds < 16);
        if (n)
                *n = total;
        if (r < 0)
                return r;
        return store_ts_prune_batches(a->st, now - a->cfg->energy_batch_id_retention, &pruned);
}

static void sweep_once(struct app *a, int64_t now)
{
        int expired = 0, pruned = 0, r;

        /* In batches, so a backlog does not hold the writer for long. */
        do {
                r = store_ledger_expire(a->st, now, SWEEP_BATCH, &expired);
        } while (r == 0 && expired == SWEEP_BATCH);
        if (r < 0)
                log_kv(LOG_ERROR, "hold expiry failed", "error", strerror(-r), NULL);
        r = store_webhook_prune(a->st, now - 2 * a->cfg->wallet_webhook_tolerance, &pruned);
        if (r < 0)
                log_kv(LOG_ERROR, "webhook prune failed", "error", strerror(-r), NULL);
        r = sweeper_run_reservations(a, now, NULL);
        if (r < 0)
                log_kv(LOG_ERROR, "reservation schedule failed", "error", strerror(-r), NULL);
        r = api_energy_purge(a, now, NULL);
        if (r < 0)
                log_kv(LOG_ERROR, "home data purge failed", "error", strerror(-r), NULL);
}

static void *sweeper_main(void *arg)
{
        struct sweeper *s = arg;
        struct timespec until;

        pthread_mutex_lock(&s->lock);
        while (!s->stop) {
                pthread_mutex_unlock(&s->lock);
                sweep_once(s->app, time_now_s());
                pthread_mutex_lock(&s->lock);
                clock_gettime(CLOCK_REALTIME, &until);
                until.tv_sec += s->app->cfg->ledger_sweep_interval;
                while (!s->stop && pthread_cond_timedwait(&s->cond, &s->lock, &until) == 0)
                        ;
        }
        pthread_mutex_unlock(&s->lock);
        return NULL;
}

int sweeper_start(struct app *a, struct sweeper **out)
{
        struct sweeper *s = calloc(1, sizeof(*s));

        if (!s)
                return -ENOMEM;
        s->app = a;
        pthread_mutex_init(&s->lock, NULL);
        pthread_cond_init(&s->cond, NULL);
        if (pthread_create(&s->thread, NULL, sweeper_main, s) != 0) {
                pthread_mutex_destroy(&s->lock);
                pthread_cond_destroy(&s->cond);
                free(s);
                return -EAGAIN;
        }
        *out = s;
        return 0;
}

void sweeper_stop(struct sweeper *s)
{
        if (!s)
                return;
        pthread_mutex_lock(&s->lock);
        s->stop = true;
        pthread_cond_signal(&s->cond);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->thread, NULL);
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->cond);
        free(s);
}
