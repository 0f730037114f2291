/*
 * notices.c - notices to gateways (HE-13), service and terms change notices
 * with the 30-day rule for ending the service (HE-5), and maintenance
 * windows with their automatic notice and the 503 gate (HE-6).
 *
 * The live notices (neither withdrawn nor expired, scheduled ones
 * included) and the maintenance windows not over are held in memory as one
 * immutable, reference-counted snapshot. The operator's handlers rebuild it
 * after every change (before they answer, so the change is in force when
 * the operator hears back); a reader rebuilds it when the clock passed the
 * snapshot's next expiry or went back (the test clock), or after a failed
 * rebuild. Everything time-dependent (published yet? expired? running?) is
 * decided at read time against the request's clock, so a snapshot never
 * has to change when a notice's publish time or a window's start comes.
 *
 * Targets are matched in memory against the gateway's model, firmware and
 * id, and its home's prefecture (read only when a live notice targets
 * prefectures). Firmware versions compare segment by segment (segments
 * split at '.', '-', '+', '_'): two numeric segments as numbers, so
 * "1.10.0" > "1.9.2", a missing numeric segment as 0 ("1.2" == "1.2.0"),
 * anything else byte by byte.
 */
#include "api/api_notices.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_energy.h"
#include "api/validate.h"
#include "store/store_notice.h"
#include "util/timeutil.h"

#define DAY 86400LL
#define NOTICE_LAMP_DEFAULT (7 * DAY)
#define NOTICE_LAMP_MAX (366 * DAY)
#define NOTICE_LIFE_DEFAULT (365 * DAY)         /* expiry when none is given */
#define NOTICE_LIFE_MAX (3660 * DAY)
#define NOTICE_AHEAD_MAX (366 * DAY)            /* furthest publish time or maintenance start */
#define NOTICE_MODELS_MAX 50
#define NOTICE_PREFS_MAX 50
#define NOTICE_PREF_MAX 40                      /* bytes, as the household's (homes.c) */
#define NOTICE_GATEWAYS_MAX 1000
#define NOTICE_VERSION_MAX 32
#define MAINT_DURATION_MAX (7 * DAY)
/* cursor = (publish_at - 2020-01-01) << 22 | (id mod 2^22): publication order
 * (then id) in a number below 2^53 until 2088, so JSON parsers that read
 * numbers as doubles (JavaScript, jq) keep it exact. */
#define CURSOR_EPOCH 1577836800LL
#define CURSOR_ID_BITS 22
#define LIST_DEFAULT 50

static const char *const notice_kinds[] = { "info", "service_change", "terms_change",
                                            "service_end", "maintenance", NULL };
static const char *const importances[] = { "low", "normal", "high", NULL };
static const char *const scopes[] = { "gateway", "apps", "all", NULL };

static bool in_list(const char *s, const char *const *list)
{
        for (size_t i = 0; s && list[i]; i++)
                if (strcmp(s, list[i]) == 0)
                        return true;
        return false;
}

/* ---- firmware versions ------------------------------------------------------------------- */

static size_t ver_seg(const char *s)
{
        return strcspn(s, ".-+_");
}

static bool all_digits(const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (!isdigit((unsigned char)s[i]))
                        return false;
        return true;
}

/* Two digit strings as numbers (an empty one is 0). */
static int num_cmp(const char *a, size_t an, const char *b, size_t bn)
{
        int r;

        while (an > 0 && *a == '0') {
                a++;
                an--;
        }
        while (bn > 0 && *b == '0') {
                b++;
                bn--;
        }
        if (an != bn)
                return an < bn ? -1 : 1;
        r = memcmp(a, b, an);
        return (r > 0) - (r < 0);
}

static int text_cmp(const char *a, size_t an, const char *b, size_t bn)
{
        int r = memcmp(a, b, an < bn ? an : bn);

        if (r != 0)
                return (r > 0) - (r < 0);
        return (an > bn) - (an < bn);
}

static int version_cmp(const char *a, const char *b)
{
        while (*a || *b) {
                size_t an = ver_seg(a), bn = ver_seg(b);
                int r = all_digits(a, an) && all_digits(b, bn) ? num_cmp(a, an, b, bn) :
                        text_cmp(a, an, b, bn);

                if (r != 0)
                        return r;
                a += an;
                b += bn;
                if (*a)
                        a++;
                if (*b)
                        b++;
        }
        return 0;
}

/* A range bound as the operator writes it: digits separated by dots. */
static bool version_ok(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > NOTICE_VERSION_MAX || s[0] == '.' || s[n - 1] == '.' ||
            strstr(s, ".."))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isdigit((unsigned char)s[i]) && s[i] != '.')
                        return false;
        return true;
}

static bool version_in_range(const char *v, const char *min, const char *max)
{
        if (!*v)
                return false;
        if (min && version_cmp(v, min) < 0)
                return false;
        return !max || version_cmp(v, max) <= 0;
}

/* ---- the in-memory snapshot -------------------------------------------------------------- */

struct live_notice {
        struct store_notice n;
        json_t *target;                 /* parsed target; NULL when unreadable */
        json_t *models, *prefs;         /* borrowed from target; NULL: no such criterion */
        const char *fw_min, *fw_max;    /* borrowed; NULL: unbounded */
        int64_t *gw;                    /* sorted gateway ids; NULL: no list */
        size_t n_gw;
        int64_t key;                    /* publication order (the cursor) */
};

struct snap {
        atomic_int refs;
        struct store *st;
        int64_t loaded_at;
        int64_t refresh_at;             /* the first expiry or window end after loaded_at */
        struct live_notice *v;          /* by key, ascending */
        int n;
        struct store_maintenance *w;    /* not over at loaded_at, by start */
        int nw;
};

static pthread_mutex_t snap_lock = PTHREAD_MUTEX_INITIALIZER;      /* guards snap_cur */
static pthread_mutex_t rebuild_lock = PTHREAD_MUTEX_INITIALIZER;   /* one rebuild at a time */
static struct snap *snap_cur;
static atomic_bool snap_stale;

static void snap_free(struct snap *s)
{
        for (int i = 0; i < s->n; i++) {
                store_notice_clear(&s->v[i].n);
                json_decref(s->v[i].target);
                free(s->v[i].gw);
        }
        free(s->v);
        free(s->w);
        free(s);
}

static void snap_put(struct snap *s)
{
        if (s && atomic_fetch_sub(&s->refs, 1) == 1)
                snap_free(s);
}

static int cmp_i64(const void *a, const void *b)
{
        int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

        return (x > y) - (x < y);
}

static int cmp_key(const void *a, const void *b)
{
        const struct live_notice *x = a, *y = b;

        return (x->key > y->key) - (x->key < y->key);
}

/* Parses the stored target of ln; an unreadable one matches no gateway. */
static int live_compile(struct live_notice *ln)
{
        json_t *fw, *ids, *it;
        size_t i;

        ln->key = ((ln->n.publish_at > CURSOR_EPOCH ? ln->n.publish_at - CURSOR_EPOCH : 0)
                   << CURSOR_ID_BITS) | (ln->n.id & ((1LL << CURSOR_ID_BITS) - 1));
        ln->target = json_loads(ln->n.target, 0, NULL);
        if (!json_is_object(ln->target)) {
                json_decref(ln->target);
                ln->target = NULL;
                return 0;
        }
        ln->models = json_object_get(ln->target, "models");
        ln->prefs = json_object_get(ln->target, "prefectures");
        fw = json_object_get(ln->target, "firmware");
        ln->fw_min = json_string_value(json_object_get(fw, "min"));
        ln->fw_max = json_string_value(json_object_get(fw, "max"));
        ids = json_object_get(ln->target, "gateway_ids");
        if (!json_is_array(ids))
                return 0;
        ln->gw = malloc((json_array_size(ids) + 1) * sizeof(*ln->gw));
        if (!ln->gw)
                return -ENOMEM;
        json_array_foreach(ids, i, it)
                ln->gw[ln->n_gw++] = json_integer_value(it);
        qsort(ln->gw, ln->n_gw, sizeof(*ln->gw), cmp_i64);
        return 0;
}

static int snap_load_notices(struct snap *s)
{
        struct store_notice *arr = NULL;
        int n = 0, r = store_notice_live(s->st, s->loaded_at, &arr, &n);

        if (r < 0)
                return r;
        s->v = calloc((size_t)n + 1, sizeof(*s->v));
        if (!s->v) {
                store_notice_array_free(arr, n);
                return -ENOMEM;
        }
        for (int i = 0; i < n; i++)
                s->v[i].n = arr[i];             /* the strings move over */
        free(arr);
        s->n = n;
        for (int i = 0; i < n; i++) {
                r = live_compile(&s->v[i]);
                if (r < 0)
                        return r;
                if (s->v[i].n.expires_at < s->refresh_at)
                        s->refresh_at = s->v[i].n.expires_at;
        }
        qsort(s->v, (size_t)n, sizeof(*s->v), cmp_key);
        return 0;
}

static int snap_load(struct store *st, int64_t now, struct snap **out)
{
        struct snap *s = calloc(1, sizeof(*s));
        int r;

        *out = NULL;
        if (!s)
                return -ENOMEM;
        atomic_init(&s->refs, 1);
        s->st = st;
        s->loaded_at = now;
        s->refresh_at = INT64_MAX;
        s->w = calloc(MAINT_LIVE_MAX, sizeof(*s->w));
        r = s->w ? snap_load_notices(s) : -ENOMEM;
        if (r == 0)
                r = store_maintenance_live(st, now, s->w, MAINT_LIVE_MAX, &s->nw);
        if (r < 0) {
                snap_free(s);
                return r;
        }
        for (int i = 0; i < s->nw; i++)
                if (s->w[i].ends_at < s->refresh_at)
                        s->refresh_at = s->w[i].ends_at;
        *out = s;
        return 0;
}

/* Loads a new snapshot and puts it in force. wait: block behind another
 * rebuild (else -EBUSY). A failure leaves the old one and marks it stale. */
static int snap_rebuild(struct store *st, bool wait)
{
        struct snap *s = NULL, *old;
        int r;

        if (wait)
                pthread_mutex_lock(&rebuild_lock);
        else if (pthread_mutex_trylock(&rebuild_lock) != 0)
                return -EBUSY;
        r = snap_load(st, time_now_s(), &s);
        if (r == 0) {
                pthread_mutex_lock(&snap_lock);
                old = snap_cur;
                snap_cur = s;
                atomic_store(&snap_stale, false);
                pthread_mutex_unlock(&snap_lock);
                snap_put(old);
        } else {
                atomic_store(&snap_stale, true);
        }
        pthread_mutex_unlock(&rebuild_lock);
        return r;
}

/* The snapshot in force for st (a reference; NULL none), *fresh when it
 * needs no rebuild at now. The clock may go back a little between a
 * request's start and a rebuild; only a jump of more than 5 s counts. */
static struct snap *snap_take(struct store *st, int64_t now, bool *fresh)
{
        struct snap *s;

        pthread_mutex_lock(&snap_lock);
        s = snap_cur;
        if (s && s->st != st)
                s = NULL;
        if (s)
                atomic_fetch_add(&s->refs, 1);
        *fresh = s && !atomic_load(&snap_stale) && now + 5 >= s->loaded_at &&
                 now < s->refresh_at;
        pthread_mutex_unlock(&snap_lock);
        return s;
}

/* A reference to an up-to-date snapshot (or the last one while another
 * thread rebuilds); NULL when none could be loaded. snap_put() it. */
static struct snap *snap_get(struct store *st, int64_t now)
{
        bool fresh;
        struct snap *s = snap_take(st, now, &fresh);

        if (fresh)
                return s;
        if (snap_rebuild(st, s == NULL) == 0) {
                snap_put(s);
                s = snap_take(st, now, &fresh);
        }
        return s;
}

/* After the operator changed notices or windows: the change is in force
 * for every request that starts after this returns (a failed rebuild is
 * retried by the next reader). */
static void snap_changed(struct store *st)
{
        (void)snap_rebuild(st, true);
}

/* ---- matching a gateway ------------------------------------------------------------------ */

struct gw_view {
        struct api_ctx *c;
        const struct store_gateway *gw;
        const struct store_home *home;
        char pref[NOTICE_PREF_MAX + 1];
        bool pref_loaded;
};

static int view_prefecture(struct gw_view *g)
{
        char *text = NULL;
        json_t *h;
        int r;

        if (g->pref_loaded)
                return 0;
        r = store_household_get(g->c->app->st, g->home->id, &text);
        if (r < 0 && r != -ENOENT)
                return r;
        h = text ? json_loads(text, 0, NULL) : NULL;
        snprintf(g->pref, sizeof(g->pref), "%s",
                 json_string_value(json_object_get(h, "prefecture")) ?
                 json_string_value(json_object_get(h, "prefecture")) : "");
        json_decref(h);
        free(text);
        g->pref_loaded = true;
        return 0;
}

static bool list_has(json_t *arr, const char *s)
{
        json_t *it;
        size_t i;

        json_array_foreach(arr, i, it)
                if (json_is_string(it) && strcmp(json_string_value(it), s) == 0)
                        return true;
        return false;
}

/* 1 when ln targets the gateway of g, 0 when not, <0 error. Every
 * criterion given must hold. */
static int notice_targets(const struct live_notice *ln, struct gw_view *g)
{
        int r;

        if (!ln->target)
                return 0;
        if (ln->models && !list_has(ln->models, g->gw->model))
                return 0;
        if ((ln->fw_min || ln->fw_max) &&
            !version_in_range(g->gw->firmware, ln->fw_min, ln->fw_max))
                return 0;
        if (ln->gw && !bsearch(&g->gw->id, ln->gw, ln->n_gw, sizeof(*ln->gw), cmp_i64))
                return 0;
        if (!ln->prefs)
                return 1;
        r = view_prefecture(g);
        if (r < 0)
                return r;
        return g->pref[0] && list_has(ln->prefs, g->pref) ? 1 : 0;
}

static bool live_now(const struct store_notice *n, int64_t now)
{
        return n->publish_at <= now && now < n->expires_at && !n->withdrawn_at;
}

/* When the notice's lamp goes out: its lamp period or its expiry. */
static int64_t lamp_end(const struct store_notice *n)
{
        int64_t end = n->publish_at + n->lamp_seconds;

        return end < n->expires_at ? end : n->expires_at;
}

/* What a gateway is shown: the page after the cursor and the notices
 * whose lamp is lit now (indexes into the snapshot), with their reads. */
struct pick {
        int page[NOTICE_PAGE_MAX];
        int n_page;
        bool more;
        int *lit;
        int n_lit;
        int64_t *ids;                   /* page, then lit */
        bool *read;
};

static void pick_free(struct pick *p)
{
        free(p->lit);
        free(p->ids);
        free(p->read);
}

static int pick_one(const struct snap *s, int i, struct gw_view *g, int64_t cursor,
                    int64_t now, struct pick *p)
{
        const struct live_notice *ln = &s->v[i];
        bool after = ln->key > cursor;
        bool lit = ln->n.lamp_seconds > 0 && now < lamp_end(&ln->n);
        int r;

        if (!live_now(&ln->n, now) || (!lit && (!after || p->more)))
                return 0;
        r = notice_targets(ln, g);
        if (r <= 0)
                return r;
        if (after && p->n_page < NOTICE_PAGE_MAX)
                p->page[p->n_page++] = i;
        else if (after)
                p->more = true;
        if (lit)
                p->lit[p->n_lit++] = i;
        return 0;
}

/* Fills p for the gateway of g and the home's reads of what it holds. */
static int pick_notices(const struct snap *s, struct gw_view *g, int64_t cursor, int64_t now,
                        struct pick *p)
{
        int r = 0, k = 0;

        memset(p, 0, sizeof(*p));
        p->lit = malloc(((size_t)s->n + 1) * sizeof(*p->lit));
        p->ids = malloc(((size_t)s->n + NOTICE_PAGE_MAX + 1) * sizeof(*p->ids));
        p->read = malloc(((size_t)s->n + NOTICE_PAGE_MAX + 1) * sizeof(*p->read));
        if (!p->lit || !p->ids || !p->read)
                return -ENOMEM;
        for (int i = 0; i < s->n && r == 0; i++)
                r = pick_one(s, i, g, cursor, now, p);
        if (r < 0)
                return r;
        for (int i = 0; i < p->n_page; i++)
                p->ids[k++] = s->v[p->page[i]].n.id;
        for (int i = 0; i < p->n_lit; i++)
                p->ids[k++] = s->v[p->lit[i]].n.id;
        return store_notice_reads(g->c->app->st, g->home->id, p->ids, k, p->read);
}

static json_t *lamp_json(const struct snap *s, const struct pick *p)
{
        int64_t until = 0;

        for (int i = 0; i < p->n_lit; i++) {
                const struct store_notice *n = &s->v[p->lit[i]].n;

                if (!p->read[p->n_page + i] && lamp_end(n) > until)
                        until = lamp_end(n);
        }
        return json_pack("{s:b, s:o}", "on", until != 0, "until", api_time(until));
}

static json_t *gateway_notice_json(const struct store_notice *n, bool seen)
{
        json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:b}",
                              "id", (json_int_t)n->id, "kind", n->kind,
                              "importance", n->importance, "title", n->title, "body", n->body,
                              "link", n->link[0] ? json_string(n->link) : json_null(),
                              "publish_at", api_time(n->publish_at),
                              "expires_at", api_time(n->expires_at),
                              "lamp_until", n->lamp_seconds ? api_time(lamp_end(n)) : json_null(),
                              "read", seen);

        if (o && n->service_ends_at)
                json_object_set_new(o, "service_ends_at", api_time(n->service_ends_at));
        if (o && n->maintenance_id)
                json_object_set_new(o, "maintenance_id", json_integer(n->maintenance_id));
        return o;
}

int api_notices_poll(struct api_ctx *c, const struct store_gateway *gw,
                     const struct store_home *home, int64_t cursor, json_t *obj)
{
        struct gw_view g = { .c = c, .gw = gw, .home = home };
        struct snap *s = snap_get(c->app->st, c->now);
        json_t *arr;
        struct pick p;
        int r;

        if (!s)
                return -EIO;
        r = pick_notices(s, &g, cursor, c->now, &p);
        arr = r == 0 ? json_array() : NULL;
        for (int i = p.n_page - 1; arr && i >= 0; i--)
                json_array_append_new(arr, gateway_notice_json(&s->v[p.page[i]].n, p.read[i]));
        if (arr) {
                json_object_set_new(obj, "notices", arr);
                json_object_set_new(obj, "next_cursor", json_integer(
                        p.n_page ? s->v[p.page[p.n_page - 1]].key : cursor));
                json_object_set_new(obj, "has_more", json_boolean(p.more));
                json_object_set_new(obj, "lamp", lamp_json(s, &p));
        } else if (r == 0) {
                r = -ENOMEM;
        }
        pick_free(&p);
        snap_put(s);
        return r;
}

/* ---- the gateway's routes ---------------------------------------------------------------- */

void api_gateway_notices(struct api_ctx *c)
{
        struct store_gateway gw;
        struct store_home home;
        int64_t cursor = 0;
        json_t *out;
        int r;

        if (api_gateway_home(c, false, &gw, &home) < 0)
                return;
        if (api_query_int(c, "cursor", 0, INT64_MAX, &cursor) < 0)
                return;
        out = json_object();
        r = out ? api_notices_poll(c, &gw, &home, cursor, out) : -ENOMEM;
        if (r < 0) {
                json_decref(out);
                api_store_error(c, r, "notices");
                return;
        }
        api_json(c, 200, out);
}

/* The ids of a read report (1..NOTICE_READ_IDS_MAX positive integers). */
static int read_ids(struct api_ctx *c, int64_t *ids, int *n)
{
        static const char *const allowed[] = { "ids", NULL };
        json_t *body = NULL, *arr, *it;
        struct jv v;
        size_t i;

        *n = 0;
        if (api_body_object(c->req, c->res, &body) < 0)
                return -EINVAL;
        jv_init(&v);
        jv_unknown(&v, body, NULL, allowed);
        arr = jv_array(&v, body, NULL, "ids", true, NOTICE_READ_IDS_MAX);
        if (arr && json_array_size(arr) == 0)
                jv_error(&v, NULL, "ids", "required", "Name at least one notice.");
        json_array_foreach(arr, i, it) {
                char key[24];

                snprintf(key, sizeof(key), "%zu", i);
                if (!json_is_integer(it) || json_integer_value(it) < 1)
                        jv_error(&v, "ids", key, "invalid", "Must be a notice id.");
                else
                        ids[(*n)++] = json_integer_value(it);
        }
        json_decref(body);
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                return -EINVAL;
        }
        return 0;
}

/* Splits ids into those shown to the gateway now (ok, once each) and the
 * others. */
static int read_sort(const struct snap *s, struct gw_view *g, const int64_t *ids, int n,
                     int64_t *ok, int *n_ok, json_t *ignored)
{
        *n_ok = 0;
        for (int i = 0; i < n; i++) {
                int shown = 0, dup = 0;

                for (int k = 0; k < *n_ok; k++)
                        dup |= ok[k] == ids[i];
                for (int k = 0; k < s->n && !shown && !dup; k++) {
                        if (s->v[k].n.id != ids[i] || !live_now(&s->v[k].n, g->c->now))
                                continue;
                        shown = notice_targets(&s->v[k], g);
                        if (shown < 0)
                                return shown;
                }
                if (shown)
                        ok[(*n_ok)++] = ids[i];
                else if (!dup)
                        json_array_append_new(ignored, json_integer(ids[i]));
        }
        return 0;
}

void api_gateway_notices_read(struct api_ctx *c)
{
        int64_t ids[NOTICE_READ_IDS_MAX], ok[NOTICE_READ_IDS_MAX];
        struct store_gateway gw;
        struct store_home home;
        struct gw_view g = { .c = c, .gw = &gw, .home = &home };
        json_t *done, *ignored;
        struct snap *s;
        struct pick p = { 0 };
        int n = 0, n_ok = 0, r;

        if (api_gateway_home(c, false, &gw, &home) < 0 || read_ids(c, ids, &n) < 0)
                return;
        s = snap_get(c->app->st, c->now);
        done = json_array();
        ignored = json_array();
        r = s ? read_sort(s, &g, ids, n, ok, &n_ok, ignored) : -EIO;
        if (r == 0)
                r = store_notice_mark_read(c->app->st, home.id, ok, n_ok, c->now);
        if (r == 0)
                r = pick_notices(s, &g, INT64_MAX, c->now, &p);
        if (r < 0) {
                api_store_error(c, r, "notice reads");
                json_decref(done);
                json_decref(ignored);
        } else {
                for (int i = 0; i < n_ok; i++)
                        json_array_append_new(done, json_integer(ok[i]));
                api_json(c, 200, json_pack("{s:o, s:o, s:o}", "read", done, "ignored", ignored,
                                           "lamp", lamp_json(s, &p)));
        }
        pick_free(&p);
        snap_put(s);
}

/* ---- the operator's notices -------------------------------------------------------------- */

static const char *notice_state(const struct store_notice *n, int64_t now)
{
        if (n->withdrawn_at)
                return "withdrawn";
        if (n->expires_at <= now)
                return "expired";
        return n->publish_at > now ? "scheduled" : "published";
}

static json_t *notice_json(const struct store_notice *n, int64_t now)
{
        json_t *target = json_loads(n->target, 0, NULL);
        json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:I, s:o, s:o, s:o, "
                              "s:o, s:I, s:o, s:o}",
                              "id", (json_int_t)n->id, "kind", n->kind, "state",
                              notice_state(n, now), "importance", n->importance,
                              "title", n->title, "body", n->body,
                              "link", n->link[0] ? json_string(n->link) : json_null(),
                              "target", target ? target : json_object(),
                              "lamp_seconds", (json_int_t)n->lamp_seconds,
                              "publish_at", api_time(n->publish_at),
                              "expires_at", api_time(n->expires_at),
                              "service_ends_at", api_time(n->service_ends_at),
                              "maintenance_id", n->maintenance_id ?
                              json_integer(n->maintenance_id) : json_null(),
                              "created_by", (json_int_t)n->created_by,
                              "created_at", api_time(n->created_at),
                              "withdrawn_at", api_time(n->withdrawn_at));

        return o;
}

/* An optional RFC 3339 field: true with *out when present and valid. */
static bool jv_time(struct jv *v, json_t *body, const char *key, bool required, int64_t *out)
{
        const char *s = jv_str(v, body, NULL, key, required, TIME_RFC3339_MAX);

        if (!s)
                return false;
        if (time_parse_rfc3339(s, out) < 0) {
                jv_error(v, NULL, key, "invalid", "Must be an RFC 3339 time with an offset.");
                return false;
        }
        return true;
}

/* A list of 1..max non-empty strings of at most len bytes (models,
 * prefectures); copied into out[key]. */
static void target_strings(struct jv *v, json_t *t, const char *key, size_t max, size_t len,
                           json_t *out)
{
        char prefix[32];
        json_t *arr = jv_array(v, t, "target", key, false, max), *it;
        size_t i;

        if (!arr)
                return;
        if (json_array_size(arr) == 0)
                jv_error(v, "target", key, "required", "Leave the list out or name one at least.");
        snprintf(prefix, sizeof(prefix), "target.%s", key);
        json_array_foreach(arr, i, it) {
                char idx[24];

                snprintf(idx, sizeof(idx), "%zu", i);
                if (!json_is_string(it) || json_string_length(it) == 0 ||
                    json_string_length(it) > len ||
                    strlen(json_string_value(it)) != json_string_length(it))
                        jv_error(v, prefix, idx, "invalid",
                                 "Must be a non-empty string of at most %zu bytes.", len);
        }
        json_object_set(out, key, arr);
}

static void target_firmware(struct jv *v, json_t *t, json_t *out)
{
        static const char *const allowed[] = { "min", "max", NULL };
        json_t *fw = jv_object(v, t, "target", "firmware", false);
        const char *min, *max;

        if (!fw)
                return;
        jv_unknown(v, fw, "target.firmware", allowed);
        min = jv_str(v, fw, "target.firmware", "min", false, NOTICE_VERSION_MAX);
        max = jv_str(v, fw, "target.firmware", "max", false, NOTICE_VERSION_MAX);
        if (min && !version_ok(min))
                jv_error(v, "target.firmware", "min", "invalid", "Must be like 1.2.0.");
        if (max && !version_ok(max))
                jv_error(v, "target.firmware", "max", "invalid", "Must be like 1.2.0.");
        if (!min && !max)
                jv_error(v, "target", "firmware", "required", "Give min, max or both.");
        if (min && max && version_ok(min) && version_ok(max) && version_cmp(min, max) > 0)
                jv_error(v, "target.firmware", "max", "invalid", "Must not be below min.");
        json_object_set(out, "firmware", fw);
}

static void target_gateways(struct jv *v, json_t *t, json_t *out)
{
        json_t *arr = jv_array(v, t, "target", "gateway_ids", false, NOTICE_GATEWAYS_MAX), *it;
        size_t i;

        if (!arr)
                return;
        if (json_array_size(arr) == 0)
                jv_error(v, "target", "gateway_ids", "required",
                         "Leave the list out or name one at least.");
        json_array_foreach(arr, i, it) {
                char idx[24];

                snprintf(idx, sizeof(idx), "%zu", i);
                if (!json_is_integer(it) || json_integer_value(it) < 1)
                        jv_error(v, "target.gateway_ids", idx, "invalid", "Must be a gateway id.");
        }
        json_object_set(out, "gateway_ids", arr);
}

/* The target's stored text (malloc'd; "{}" for every gateway), or NULL
 * with the errors in v. */
static char *target_text(struct jv *v, json_t *body)
{
        static const char *const allowed[] = { "models", "firmware", "prefectures",
                                               "gateway_ids", NULL };
        json_t *t = jv_object(v, body, NULL, "target", false), *out = json_object();
        char *text = NULL;
        int before = v->errors;

        if (t) {
                jv_unknown(v, t, "target", allowed);
                target_strings(v, t, "models", NOTICE_MODELS_MAX, GW_MODEL_MAX, out);
                target_firmware(v, t, out);
                target_strings(v, t, "prefectures", NOTICE_PREFS_MAX, NOTICE_PREF_MAX, out);
                target_gateways(v, t, out);
        }
        if (out && v->errors == before)
                text = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(out);
        if (!text && v->errors == before)
                jv_error(v, NULL, "target", "invalid", "The target could not be kept.");
        return text;
}

struct notice_input {
        struct store_notice n;          /* strings borrowed from the body, target owned */
        bool has_publish, has_expires, has_end;
};

static void notice_read_fields(struct jv *v, json_t *body, struct notice_input *in)
{
        const char *kind, *imp, *url;

        kind = jv_str(v, body, NULL, "kind", false, 32);
        imp = jv_str(v, body, NULL, "importance", false, 32);
        in->n.title = (char *)jv_str(v, body, NULL, "title", true, NOTICE_TITLE_MAX);
        in->n.body = (char *)jv_str(v, body, NULL, "body", true, NOTICE_BODY_MAX);
        url = jv_str(v, body, NULL, "link", false, NOTICE_LINK_MAX);
        in->n.lamp_seconds = jv_int(v, body, NULL, "lamp_seconds", false, 0, NOTICE_LAMP_MAX,
                                    NOTICE_LAMP_DEFAULT);
        in->has_publish = jv_time(v, body, "publish_at", false, &in->n.publish_at);
        in->has_expires = jv_time(v, body, "expires_at", false, &in->n.expires_at);
        in->has_end = jv_time(v, body, "service_ends_at", false, &in->n.service_ends_at);
        if (kind && (!in_list(kind, notice_kinds) || strcmp(kind, "maintenance") == 0))
                jv_error(v, NULL, "kind", "invalid", "kind must be info, service_change, "
                         "terms_change or service_end (maintenance notices come with "
                         "POST /api/v1/maintenance).");
        if (imp && !in_list(imp, importances))
                jv_error(v, NULL, "importance", "invalid",
                         "importance must be low, normal or high.");
        if (url && strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)
                jv_error(v, NULL, "link", "invalid", "link must be an http(s) URL.");
        snprintf(in->n.kind, sizeof(in->n.kind), "%s", kind ? kind : "info");
        snprintf(in->n.importance, sizeof(in->n.importance), "%s", imp ? imp : "normal");
        in->n.link = (char *)(url ? url : "");
        in->n.target = target_text(v, body);
}

/* Times: publish_at not before now (a past one means now), expiry after
 * it (default NOTICE_LIFE_DEFAULT, or the service end for service_end). */
static void notice_check_times(struct api_ctx *c, struct jv *v, struct notice_input *in)
{
        struct store_notice *n = &in->n;
        bool end = strcmp(n->kind, "service_end") == 0;

        if (!in->has_publish || n->publish_at < c->now)
                n->publish_at = c->now;
        if (n->publish_at > c->now + NOTICE_AHEAD_MAX)
                jv_error(v, NULL, "publish_at", "out_of_range", "At most 366 days ahead.");
        if (end && !in->has_end)
                jv_error(v, NULL, "service_ends_at", "required",
                         "A service_end notice names when the service ends.");
        if (!end && in->has_end)
                jv_error(v, NULL, "service_ends_at", "not_allowed",
                         "Only a service_end notice names when the service ends.");
        if (!in->has_expires)
                n->expires_at = end && in->has_end ? n->service_ends_at :
                                n->publish_at + NOTICE_LIFE_DEFAULT;
        if (n->expires_at <= n->publish_at || n->expires_at > n->publish_at + NOTICE_LIFE_MAX)
                jv_error(v, NULL, "expires_at", "out_of_range",
                         "Must be after publish_at and at most 3660 days after it.");
        if (end && in->has_end && in->has_expires && n->expires_at < n->service_ends_at)
                jv_error(v, NULL, "expires_at", "out_of_range",
                         "A service_end notice stays until the service ends.");
}

/* HE-5: the service may end no sooner than the configured notice period
 * (30 days) after the notice is published. 0 or <0 with 422 rendered. */
static int notice_check_service_end(struct api_ctx *c, const struct store_notice *n)
{
        int64_t period = c->app->cfg->energy_service_end_notice;
        int64_t earliest = n->publish_at + period;
        char when[TIME_RFC3339_MAX];
        struct problem *p;

        if (strcmp(n->kind, "service_end") != 0 || n->service_ends_at >= earliest)
                return 0;
        time_format_rfc3339(earliest, when);
        p = problem_new(422, "notice_period_too_short",
                        "The service may end no sooner than %lld days after its notice is "
                        "published (HE-5): the earliest end for this notice is %s.",
                        (long long)(period / DAY), when);
        problem_add_error(p, "service_ends_at", "too_soon", "Must be %s or later.", when);
        problem_set_str(p, "earliest_end_at", when);
        problem_set_int(p, "notice_days", (long long)(period / DAY));
        problem_render(p, c->res);
        return -EINVAL;
}

static void notice_created(struct api_ctx *c, struct store_notice *n)
{
        struct store_notice got;
        char loc[64];
        int r = store_notice_get(c->app->st, n->id, &got);

        if (r < 0) {
                api_store_error(c, r, "notice");
                return;
        }
        api_json(c, 201, notice_json(&got, c->now));
        snprintf(loc, sizeof(loc), "/api/v1/notices/%lld", (long long)got.id);
        http_response_header(c->res, "Location", loc);
        store_notice_clear(&got);
}

void api_notices_create(struct api_ctx *c)
{
        static const char *const allowed[] = { "kind", "importance", "title", "body", "link",
                                               "target", "lamp_seconds", "publish_at",
                                               "expires_at", "service_ends_at", NULL };
        struct notice_input in;
        json_t *body = NULL;
        struct jv v;
        int r;

        if (api_body_object(c->req, c->res, &body) < 0)
                return;
        memset(&in, 0, sizeof(in));
        jv_init(&v);
        jv_unknown(&v, body, NULL, allowed);
        notice_read_fields(&v, body, &in);
        if (jv_ok(&v))
                notice_check_times(c, &v, &in);
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                goto out;
        }
        if (notice_check_service_end(c, &in.n) < 0)
                goto out;
        in.n.created_by = c->member_id;
        r = store_notice_create(c->app->st, &in.n, c->now);
        if (r == -ENOSPC) {
                problem_respond(c->res, 409, "too_many_live_notices",
                                "%d notices are live already: withdraw some first.",
                                NOTICE_LIVE_MAX);
                goto out;
        }
        if (r < 0) {
                api_store_error(c, r, "notice");
                goto out;
        }
        snap_changed(c->app->st);
        notice_created(c, &in.n);
out:
        free(in.n.target);
        json_decref(body);
}

void api_notices_list(struct api_ctx *c)
{
        struct store_notice_filter f = { .limit = LIST_DEFAULT };
        struct store_notice *items = NULL;
        int64_t before = 0, limit = LIST_DEFAULT;
        char *kind = NULL;
        json_t *arr;
        int n = 0, r;

        if (api_query_int(c, "before", 0, INT64_MAX, &before) < 0 ||
            api_query_int(c, "limit", 1, NOTICE_LIST_MAX, &limit) < 0)
                return;
        if (http_query_get(c->req->query, "kind", &kind) < 0 ||
            (kind && !in_list(kind, notice_kinds))) {
                problem_respond(c->res, 422, "validation_failed", "kind must be info, "
                                "service_change, terms_change, service_end or maintenance.");
                goto out;
        }
        f.kind = kind;
        f.before_id = before;
        f.limit = (int)limit;
        items = calloc((size_t)limit, sizeof(*items));
        r = items ? store_notice_list(c->app->st, &f, items, (int)limit, &n) : -ENOMEM;
        if (r < 0) {
                api_store_error(c, r, "notices");
                goto out;
        }
        arr = json_array();
        for (int i = 0; i < n; i++)
                json_array_append_new(arr, notice_json(&items[i], c->now));
        api_json(c, 200, json_pack("{s:o, s:o}", "items", arr, "next_before",
                                   n == (int)limit ? json_integer(items[n - 1].id) : json_null()));
out:
        if (items)
                for (int i = 0; i < n; i++)
                        store_notice_clear(&items[i]);
        free(items);
        free(kind);
}

void api_notice_get(struct api_ctx *c)
{
        struct store_notice n;
        int64_t id = api_param_id(c, "id");
        json_t *o;
        int r;

        if (!id)
                return;
        r = store_notice_get(c->app->st, id, &n);
        if (r < 0) {
                api_store_error(c, r, "notice");
                return;
        }
        o = notice_json(&n, c->now);
        if (o)
                json_object_set_new(o, "read_count", json_integer(n.read_count));
        api_json(c, 200, o);
        store_notice_clear(&n);
}

void api_notice_withdraw(struct api_ctx *c)
{
        struct store_notice n;
        int64_t id = api_param_id(c, "id");
        int r;

        if (!id)
                return;
        r = store_notice_withdraw(c->app->st, id, c->now, &n);
        if (r == -EPERM) {
                problem_respond(c->res, 409, "maintenance_notice",
                                "This notice belongs to maintenance %lld: end or cancel the "
                                "maintenance with DELETE /api/v1/maintenance/%lld instead.",
                                (long long)n.maintenance_id, (long long)n.maintenance_id);
                store_notice_clear(&n);
                return;
        }
        if (r < 0) {
                api_store_error(c, r, "notice");
                return;
        }
        snap_changed(c->app->st);
        api_json(c, 200, notice_json(&n, c->now));
        store_notice_clear(&n);
}

/* ---- maintenance (HE-6) ------------------------------------------------------------------ */

enum { SCOPE_GATEWAY = 1, SCOPE_APPS = 2 };

static unsigned scope_bits(const char *scope)
{
        if (strcmp(scope, "gateway") == 0)
                return SCOPE_GATEWAY;
        if (strcmp(scope, "apps") == 0)
                return SCOPE_APPS;
        return SCOPE_GATEWAY | SCOPE_APPS;
}

static const char *maint_state(const struct store_maintenance *m, int64_t now)
{
        if (m->cancelled)
                return "cancelled";
        if (m->ended_at || now >= m->ends_at)
                return "ended";
        return now >= m->starts_at ? "running" : "scheduled";
}

static json_t *maint_json(const struct store_maintenance *m, int64_t now)
{
        return json_pack("{s:I, s:s, s:b, s:s, s:s, s:s, s:o, s:o, s:o, s:I, s:o, s:I, s:o}",
                         "id", (json_int_t)m->id, "scope", m->scope, "emergency", m->emergency,
                         "state", maint_state(m, now), "title", m->title, "body", m->body,
                         "starts_at", api_time(m->starts_at), "ends_at", api_time(m->ends_at),
                         "ended_at", api_time(m->ended_at),
                         "notice_id", (json_int_t)m->notice_id,
                         "notice_at", api_time(m->notice_at),
                         "created_by", (json_int_t)m->created_by,
                         "created_at", api_time(m->created_at));
}

/* Which scope a route is in (0: never gated). See api_notices.h. */
static unsigned route_scope(const struct route *rt)
{
        static const char *const exempt[] = { "/readyz", "/api/v1/sessions",
                                            "/api/v1/sessions/current", NULL };
        const char *p = rt->pattern;

        if (rt->flags & (API_OPERATOR | API_INLINE))
                return 0;
        if (strncmp(p, "/api/v1/gateway/", 16) == 0 || strcmp(p, "/write") == 0 ||
            strcmp(p, "/api/v2/write") == 0)
                return SCOPE_GATEWAY;
        return in_list(p, exempt) ? 0 : SCOPE_APPS;
}

static void maint_render_503(struct api_ctx *c, const struct store_maintenance *m)
{
        char end[TIME_RFC3339_MAX], ra[24];
        int64_t left = m->ends_at - c->now;
        struct problem *p;

        time_format_rfc3339(m->ends_at, end);
        p = problem_new(503, "maintenance",
                        "%s maintenance is under way until about %s: please try again then "
                        "(HE-6).", m->emergency ? "Emergency" : "Scheduled", end);
        problem_set_json(p, "maintenance", json_pack(
                "{s:I, s:s, s:b, s:o, s:o}", "id", (json_int_t)m->id, "scope", m->scope,
                "emergency", m->emergency, "starts_at", api_time(m->starts_at),
                "ends_at", api_time(m->ends_at)));
        problem_set_json(p, "notice", json_pack("{s:I, s:s, s:s}", "id",
                                                (json_int_t)m->notice_id, "title", m->title,
                                                "body", m->body));
        problem_render(p, c->res);
        snprintf(ra, sizeof(ra), "%lld", (long long)(left > 0 ? left : 1));
        http_response_header(c->res, "Retry-After", ra);
}

int api_maintenance_gate(struct api_ctx *c, const struct route *rt)
{
        const struct store_maintenance *hit = NULL;
        unsigned scope = route_scope(rt);
        struct snap *s;

        if (!scope)
                return 0;
        s = snap_get(c->app->st, c->now);
        if (!s)
                return 0;               /* nothing known: serve */
        for (int i = 0; i < s->nw; i++) {
                const struct store_maintenance *m = &s->w[i];

                /* The window that ends last answers (the safest Retry-After). */
                if (m->starts_at <= c->now && c->now < m->ends_at &&
                    (scope_bits(m->scope) & scope) && (!hit || m->ends_at > hit->ends_at))
                        hit = m;
        }
        if (hit)
                maint_render_503(c, hit);
        snap_put(s);
        return hit ? 1 : 0;
}

struct maint_input {
        struct store_maintenance m;
        const char *importance;
        bool has_start;
};

static void maint_read_fields(struct jv *v, json_t *body, struct maint_input *in)
{
        const char *scope, *title, *text;

        scope = jv_str(v, body, NULL, "scope", true, 32);
        in->m.emergency = jv_bool(v, body, NULL, "emergency", false, false);
        in->has_start = jv_time(v, body, "starts_at", !in->m.emergency, &in->m.starts_at);
        (void)jv_time(v, body, "ends_at", true, &in->m.ends_at);
        title = jv_str(v, body, NULL, "title", false, NOTICE_TITLE_MAX);
        text = jv_str(v, body, NULL, "body", false, MAINT_BODY_MAX);
        in->importance = jv_str(v, body, NULL, "importance", false, 32);
        if (scope && !in_list(scope, scopes))
                jv_error(v, NULL, "scope", "invalid", "scope must be gateway, apps or all.");
        if (in->importance && !in_list(in->importance, importances))
                jv_error(v, NULL, "importance", "invalid",
                         "importance must be low, normal or high.");
        if (!in->importance)
                in->importance = "high";
        snprintf(in->m.scope, sizeof(in->m.scope), "%s", scope ? scope : "");
        if (title && *title)
                snprintf(in->m.title, sizeof(in->m.title), "%s", title);
        if (text && *text)
                snprintf(in->m.body, sizeof(in->m.body), "%s", text);
}

/* The default title and body of a window's notice. */
static void maint_default_text(struct maint_input *in)
{
        static const char *const what[] = { "gateway", "the gateways' connection to the server",
                                            "apps", "the home apps",
                                            "all", "the gateways' connection and the home apps",
                                            NULL };
        char from[TIME_RFC3339_MAX], to[TIME_RFC3339_MAX];
        const char *w = what[5];

        for (int i = 0; what[i]; i += 2)
                if (strcmp(in->m.scope, what[i]) == 0)
                        w = what[i + 1];
        if (!in->m.title[0])
                snprintf(in->m.title, sizeof(in->m.title), "%s maintenance",
                         in->m.emergency ? "Emergency" : "Scheduled");
        if (in->m.body[0])
                return;
        time_format_rfc3339(in->m.starts_at, from);
        time_format_rfc3339(in->m.ends_at, to);
        snprintf(in->m.body, sizeof(in->m.body),
                 "From %s until about %s, %s will be unavailable for maintenance. Gateways keep "
                 "their measurements and send them afterwards.", from, to, w);
}

/* Times: a planned window starts no sooner than its notice period from
 * now (HE-6); an emergency one may start now (a past start means now). */
static int maint_check_times(struct api_ctx *c, struct jv *v, struct maint_input *in)
{
        int64_t lead = c->app->cfg->maintenance_notice_before;
        struct store_maintenance *m = &in->m;
        char when[TIME_RFC3339_MAX];
        struct problem *p;

        if (m->emergency && (!in->has_start || m->starts_at < c->now))
                m->starts_at = c->now;
        if (m->ends_at <= m->starts_at || m->ends_at - m->starts_at > MAINT_DURATION_MAX)
                jv_error(v, NULL, "ends_at", "out_of_range",
                         "Must be after starts_at, at most 7 days after it.");
        if (m->starts_at > c->now + NOTICE_AHEAD_MAX)
                jv_error(v, NULL, "starts_at", "out_of_range", "At most 366 days ahead.");
        if (!jv_ok(v) || m->emergency || m->starts_at >= c->now + lead)
                return 0;
        time_format_rfc3339(c->now + lead, when);
        p = problem_new(422, "maintenance_notice_too_short",
                        "Planned maintenance is announced %lld seconds before it starts "
                        "(HE-6): start it at %s or later, or mark it as an emergency.",
                        (long long)lead, when);
        problem_add_error(p, "starts_at", "too_soon", "Must be %s or later.", when);
        problem_set_str(p, "earliest_start_at", when);
        problem_render(p, c->res);
        return -EINVAL;
}

void api_maintenance_create(struct api_ctx *c)
{
        static const char *const allowed[] = { "scope", "starts_at", "ends_at", "emergency",
                                               "title", "body", "importance", NULL };
        struct maint_input in;
        json_t *body = NULL;
        int64_t notice_at;
        struct jv v;
        int r;

        if (api_body_object(c->req, c->res, &body) < 0)
                return;
        memset(&in, 0, sizeof(in));
        jv_init(&v);
        jv_unknown(&v, body, NULL, allowed);
        maint_read_fields(&v, body, &in);
        r = jv_ok(&v) ? maint_check_times(c, &v, &in) : 0;
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                goto out;
        }
        if (r < 0)
                goto out;
        maint_default_text(&in);
        in.m.created_by = c->member_id;
        notice_at = in.m.emergency ? c->now :
                    in.m.starts_at - c->app->cfg->maintenance_notice_before;
        if (notice_at < c->now)
                notice_at = c->now;
        r = store_maintenance_create(c->app->st, &in.m, notice_at, in.importance, c->now);
        if (r == -ENOSPC) {
                problem_respond(c->res, 409, "too_many_live_windows",
                                "%d maintenance windows are pending or running: end or cancel "
                                "some first.", MAINT_LIVE_MAX);
                goto out;
        }
        if (r < 0) {
                api_store_error(c, r, "maintenance");
                goto out;
        }
        snap_changed(c->app->st);
        api_json(c, 201, maint_json(&in.m, c->now));
out:
        json_decref(body);
}

void api_maintenance_list(struct api_ctx *c)
{
        struct store_maintenance *items;
        int64_t before = 0, limit = LIST_DEFAULT;
        json_t *arr;
        int n = 0, r;

        if (api_query_int(c, "before", 0, INT64_MAX, &before) < 0 ||
            api_query_int(c, "limit", 1, MAINT_LIST_MAX, &limit) < 0)
                return;
        items = calloc((size_t)limit, sizeof(*items));
        r = items ? store_maintenance_list(c->app->st, before, (int)limit, items, (int)limit, &n) :
            -ENOMEM;
        if (r < 0) {
                free(items);
                api_store_error(c, r, "maintenance");
                return;
        }
        arr = json_array();
        for (int i = 0; i < n; i++)
                json_array_append_new(arr, maint_json(&items[i], c->now));
        api_json(c, 200, json_pack("{s:o, s:o}", "items", arr, "next_before",
                                   n == (int)limit ? json_integer(items[n - 1].id) : json_null()));
        free(items);
}

void api_maintenance_end(struct api_ctx *c)
{
        struct store_maintenance m;
        int64_t id = api_param_id(c, "id");
        int r;

        if (!id)
                return;
        r = store_maintenance_end(c->app->st, id, c->now, &m);
        if (r == -ESTALE) {
                problem_respond(c->res, 409, "maintenance_over",
                                "This maintenance is over already (%s).", maint_state(&m, c->now));
                return;
        }
        if (r < 0) {
                api_store_error(c, r, "maintenance");
                return;
        }
        snap_changed(c->app->st);
        api_json(c, 200, maint_json(&m, c->now));
}
