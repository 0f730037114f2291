/*
 * search.c - the charger search and a charger's availability calendar,
 * for any logged-in member. Both show only what a listing makes public
 * (CS-40: api_charger_public_fields, the host's display name, slots and
 * prices), never the host's personal data.
 *
 * GET /api/v1/chargers/search?lat=&lon=&radius_m=&from=&to=&connector=
 *     &min_kw=&onsite=&limit=&cursor=
 *   Listed chargers within radius_m (default 5000, at most
 *   charging_search_max_radius_m), nearest first (then by id). With from
 *   and to (RFC 3339, both or neither, at most charging_search_max_range
 *   apart) only those free for the whole range, with its CS-24 price.
 *   Each item: the public listing, distance_m, price (null without a
 *   range), occupancy {state, computed_at} (CS-25). Paged by an opaque
 *   cursor (next_cursor, null on the last page).
 * GET /api/v1/chargers/{id}/calendar?from=YYYY-MM-DD&to=YYYY-MM-DD
 *   Tokyo days, inclusive (default: today and the next 6 days), at most
 *   charging_search_max_range: the slots cut into free and taken ranges
 *   by the active reservations (gaps without slots are not listed). Any
 *   member for a listed charger; the host, its administrators and the
 *   operator always.
 *
 * Problem codes: validation_failed (422; fields lat, lon, radius_m, from,
 * to, min_kw, onsite, limit, cursor, with codes invalid, required,
 * out_of_range, outside_service_area, radius_too_large, range_too_long,
 * not_after_from), charger_not_found (404).
 */
#include "api/api_slots.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_chargers.h"
#include "api/listing_cache.h"
#include "api/validate.h"
#include "domain/geo.h"
#include "domain/slot.h"
#include "store/store_charger.h"
#include "store/store_search.h"
#include "store/store_slot.h"
#include "util/jsonw.h"
#include "util/timeutil.h"

#define SEARCH_DEFAULT_RADIUS_M 5000
#define SEARCH_DEFAULT_LIMIT 20
#define CALENDAR_PIECES_MAX 8192

/* ---- query parameters ------------------------------------------------------ */

struct qparams {
        struct api_ctx *c;
        struct jv v;
};

/* The raw value of key (malloc'd into *out) or NULL; records bad encoding. */
static char *qget(struct qparams *p, const char *key)
{
        char *s = NULL;
        int r = http_query_get(p->c->req->query, key, &s);

        if (r < 0) {
                jv_error(&p->v, NULL, key, "invalid", "Bad percent-encoding.");
                return NULL;
        }
        return s;
}

/* A finite decimal number; 1 present, 0 absent, -1 bad (recorded). */
static int qnumber(struct qparams *p, const char *key, double *out)
{
        char *s = qget(p, key), *end = NULL;
        double d;

        if (!s)
                return 0;
        d = strtod(s, &end);
        if (!*s || *end || !isfinite(d)) {
                jv_error(&p->v, NULL, key, "invalid", "Must be a number.");
                free(s);
                return -1;
        }
        free(s);
        *out = d;
        return 1;
}

/* An integer in [min, max]; 1 present, 0 absent, -1 bad (recorded). */
static int qint(struct qparams *p, const char *key, int64_t min, int64_t max, int64_t *out)
{
        char *s = qget(p, key), *end = NULL;
        long long n;

        if (!s)
                return 0;
        n = strtoll(s, &end, 10);
        if (!*s || *end) {
                jv_error(&p->v, NULL, key, "invalid", "Must be an integer.");
                free(s);
                return -1;
        }
        free(s);
        if (n < min || n > max) {
                jv_error(&p->v, NULL, key, "out_of_range", "Must be from %lld to %lld.",
                         (long long)min, (long long)max);
                return -1;
        }
        *out = n;
        return 1;
}

static int qtime(struct qparams *p, const char *key, int64_t *out)
{
        char *s = qget(p, key);
        int r = 1;

        if (!s)
                return 0;
        if (time_parse_rfc3339(s, out) < 0) {
                jv_error(&p->v, NULL, key, "invalid", "Must be an RFC 3339 time with an offset.");
                r = -1;
        }
        free(s);
        return r;
}

static int qdate(struct qparams *p, const char *key, int64_t *day)
{
        char *s = qget(p, key);
        int r = 1;

        if (!s)
                return 0;
        if (slot_parse_date(s, day) < 0) {
                jv_error(&p->v, NULL, key, "invalid", "Must be a date YYYY-MM-DD.");
                r = -1;
        }
        free(s);
        return r;
}

/* The cursor is opaque to clients: two hex numbers, the last item's
 * distance in millimetres and its id. */
static void cursor_format(int64_t mm, int64_t id, char *out, size_t len)
{
        snprintf(out, len, "%" PRIx64 ".%" PRIx64, (uint64_t)mm, (uint64_t)id);
}

static int cursor_parse(const char *s, int64_t *mm, int64_t *id)
{
        char *end = NULL;
        unsigned long long a, b;

        if (!s || !*s || strlen(s) > 40 || strchr(s, '-') || strchr(s, '+') || strchr(s, ' '))
                return -EINVAL;
        a = strtoull(s, &end, 16);
        if (end == s || *end != '.')
                return -EINVAL;
        s = end + 1;
        b = strtoull(s, &end, 16);
        if (end == s || *end || a > INT64_MAX || b > INT64_MAX)
                return -EINVAL;
        *mm = (int64_t)a;
        *id = (int64_t)b;
        return 0;
}

/* ---- GET /api/v1/chargers/search ---------------------------------------------- */

static int read_search(struct qparams *p, struct store_search_query *q, char *connector,
                       size_t conn_len)
{
        const struct config *cfg = p->c->app->cfg;
        int64_t radius = SEARCH_DEFAULT_RADIUS_M, limit = SEARCH_DEFAULT_LIMIT, onsite_i;
        double min_kw = 0;
        int hl, hn, hf, ht;
        char *s;

        memset(q, 0, sizeof(*q));
        q->onsite = -1;
        q->after_mm = -1;
        hl = qnumber(p, "lat", &q->lat);
        hn = qnumber(p, "lon", &q->lon);
        if (hl == 0)
                jv_error(&p->v, NULL, "lat", "required", "lat is required.");
        if (hn == 0)
                jv_error(&p->v, NULL, "lon", "required", "lon is required.");
        if (hl == 1 && (q->lat < -90 || q->lat > 90))
                jv_error(&p->v, NULL, "lat", "out_of_range", "lat must be from -90 to 90.");
        else if (hn == 1 && (q->lon < -180 || q->lon > 180))
                jv_error(&p->v, NULL, "lon", "out_of_range", "lon must be from -180 to 180.");
        else if (hl == 1 && hn == 1 && !geo_in_japan(q->lat, q->lon))
                jv_error(&p->v, NULL, "lat", "outside_service_area",
                         "The point lies outside the service area (Japan).");
        s = qget(p, "radius_m");
        if (s) {
                char *end = NULL;
                long long n = strtoll(s, &end, 10);

                if (!*s || *end || n < 1)
                        jv_error(&p->v, NULL, "radius_m", "invalid",
                                 "radius_m must be a positive integer (metres).");
                else if (n > cfg->charging_search_max_radius_m)
                        jv_error(&p->v, NULL, "radius_m", "radius_too_large",
                                 "radius_m may be at most %lld.",
                                 (long long)cfg->charging_search_max_radius_m);
                else
                        radius = n;
                free(s);
        }
        q->radius_m = radius;
        hf = qtime(p, "from", &q->from);
        ht = qtime(p, "to", &q->to);
        if (hf == 1 && ht == 0)
                jv_error(&p->v, NULL, "to", "required", "Give from and to together.");
        else if (hf == 0 && ht == 1)
                jv_error(&p->v, NULL, "from", "required", "Give from and to together.");
        else if (hf == 1 && ht == 1 && q->to <= q->from)
                jv_error(&p->v, NULL, "to", "not_after_from", "to must be after from.");
        else if (hf == 1 && ht == 1 && q->to - q->from > cfg->charging_search_max_range)
                jv_error(&p->v, NULL, "to", "range_too_long",
                         "The range may be at most %lld seconds.",
                         (long long)cfg->charging_search_max_range);
        s = qget(p, "connector");
        if (s) {
                if (!*s || strlen(s) >= conn_len)
                        jv_error(&p->v, NULL, "connector", "invalid", "Unknown connector.");
                else
                        snprintf(connector, conn_len, "%s", s);
                free(s);
        }
        q->connector = connector;
        if (qnumber(p, "min_kw", &min_kw) == 1) {
                if (min_kw < 0 || min_kw > 1000)
                        jv_error(&p->v, NULL, "min_kw", "out_of_range",
                                 "min_kw must be from 0 to 1000.");
                else
                        q->min_output_w = (int64_t)ceil(min_kw * 1000.0);
        }
        s = qget(p, "onsite");
        if (s) {
                if (strcmp(s, "true") == 0)
                        onsite_i = 1;
                else if (strcmp(s, "false") == 0)
                        onsite_i = 0;
                else
                        onsite_i = -2;
                if (onsite_i == -2)
                        jv_error(&p->v, NULL, "onsite", "invalid", "onsite must be true or false.");
                else
                        q->onsite = (int)onsite_i;
                free(s);
        }
        qint(p, "limit", 1, STORE_SEARCH_LIMIT_MAX, &limit);
        q->limit = (int)limit;
        s = qget(p, "cursor");
        if (s) {
                if (cursor_parse(s, &q->after_mm, &q->after_id) < 0)
                        jv_error(&p->v, NULL, "cursor", "invalid", "Not a cursor of this search.");
                free(s);
        }
        return jv_ok(&p->v) ? 0 : -EINVAL;
}

static json_t *occupancy_json(int occ, int64_t now)
{
        return json_pack("{s:s, s:o}", "state", slot_occupancy_name(occ), "computed_at",
                         api_time(now));
}

struct search_render {
        struct api_ctx *c;
        struct store_charger *ch;       /* scratch row, reused per item */
        struct buf members;             /* one item's listing members */
        struct jw w;                    /* the answer, written as it is found */
        char computed_at[TIME_RFC3339_MAX];
        int err;
};

/* The listing members of it into sr->members: from the listing cache when
 * the revisions the search read match, else read (same snapshot) and
 * rendered, then cached. */
static int search_listing(struct search_render *sr, const struct store_search_item *it)
{
        struct listing_cache *lc = sr->c->app->listings;
        struct buf tmp;
        struct jw tw;
        int r;

        buf_reset(&sr->members);
        r = lc ? listing_cache_get(lc, it->id, it->charger_rev, it->host_rev, &sr->members) : 0;
        if (r != 0)
                return r < 0 ? r : 0;
        r = store_charger_get_listing(sr->c->app->st, it->id, sr->ch);
        if (r < 0)
                return r;
        buf_init(&tmp, 0);
        jw_init(&tw, &tmp);
        jw_obj_begin(&tw, NULL);
        api_charger_public_write(&tw, sr->ch);
        jw_obj_end(&tw);
        r = jw_error(&tw);
        if (r == 0)
                r = buf_append(&sr->members, tmp.data + 1, tmp.len - 2);    /* no braces */
        buf_free(&tmp);
        if (r == 0 && lc)
                listing_cache_put(lc, it->id, it->charger_rev, it->host_rev, sr->members.data,
                                  sr->members.len);
        return r;
}

/* Called inside the search's read transaction: the listing is read from
 * the same snapshot the search used. Items are written straight into the
 * answer (jsonw.h): building a jansson tree per item cost more than the
 * search itself. */
static void search_item(const struct store_search_item *it, void *ud)
{
        struct search_render *sr = ud;
        int r;

        if (sr->err)
                return;
        r = search_listing(sr, it);
        if (r < 0) {
                sr->err = r;
                return;
        }
        jw_obj_begin(&sr->w, NULL);
        jw_members(&sr->w, sr->members.data, sr->members.len);
        jw_int(&sr->w, "distance_m", (it->distance_mm + 500) / 1000);
        if (it->has_price)
                jw_int(&sr->w, "price", it->price);
        else
                jw_null(&sr->w, "price");
        jw_obj_begin(&sr->w, "occupancy");
        jw_str(&sr->w, "state", slot_occupancy_name(it->occupancy));
        jw_str(&sr->w, "computed_at", sr->computed_at);
        jw_obj_end(&sr->w);
        jw_obj_end(&sr->w);
}

void api_chargers_search(struct api_ctx *c)
{
        struct qparams p = { .c = c };
        struct store_search_query q;
        struct store_search_result res = { 0 };
        struct search_render sr = { .c = c };
        char connector[24] = "";
        struct buf out;
        int r;

        jv_init(&p.v);
        if (read_search(&p, &q, connector, sizeof(connector)) < 0) {
                jv_render(&p.v, c->res);
                return;
        }
        jv_free(&p.v);
        sr.ch = malloc(sizeof(*sr.ch));
        if (!sr.ch) {
                api_store_error(c, -ENOMEM, "charger");
                return;
        }
        time_format_rfc3339(c->now, sr.computed_at);
        buf_init(&out, 0);
        jw_init(&sr.w, &out);
        jw_obj_begin(&sr.w, NULL);
        jw_arr_begin(&sr.w, "items");
        r = store_search_chargers_each(c->app->st, &q, c->now, &res, search_item, &sr);
        free(sr.ch);
        buf_free(&sr.members);
        if (r == 0)
                r = sr.err;
        if (r < 0) {
                buf_free(&out);
                store_search_result_free(&res);
                api_store_error(c, r, "charger");
                return;
        }
        jw_arr_end(&sr.w);
        jw_str(&sr.w, "currency", "JPY");
        if (res.more) {
                char cur[64];

                cursor_format(res.next_mm, res.next_id, cur, sizeof(cur));
                jw_str(&sr.w, "next_cursor", cur);
        } else {
                jw_null(&sr.w, "next_cursor");
        }
        jw_obj_end(&sr.w);
        store_search_result_free(&res);
        r = jw_error(&sr.w);
        if (r < 0) {
                buf_free(&out);
                api_store_error(c, r, "charger");
                return;
        }
        http_response_set(c->res, 200, "application/json", out.data, out.len);
        buf_free(&out);
}

/* ---- GET /api/v1/chargers/{id}/calendar ------------------------------------------ */

/* May the caller see the charger's calendar? Listed: anyone logged in;
 * otherwise the host, its administrators and the operator. */
static int calendar_visible(struct api_ctx *c, const struct store_slot_charger *ch, bool *ok)
{
        *ok = true;
        if (ch->listing.deleted) {
                *ok = false;
                return 0;
        }
        if (slot_listed(&ch->listing) || c->operator)
                return 0;
        return store_slot_is_host_actor(c->app->st, ch->host_id, c->member_id, ok);
}

static void day_string(int64_t day, char out[11])
{
        int64_t y;
        unsigned m, d;

        time_civil_from_days(day, &y, &m, &d);
        snprintf(out, 11, "%04lld-%02u-%02u", (long long)y, m, d);
}

void api_charger_calendar(struct api_ctx *c)
{
        const struct config *cfg = c->app->cfg;
        struct qparams p = { .c = c };
        struct store_slot_charger ch;
        struct slot *sl = NULL;
        struct slot_reservation *rv = NULL;
        struct slot_piece *pieces = NULL;
        int64_t id = api_param_id(c, "id"), from_day, to_day, max_days, from, to;
        size_t ns = 0, nr = 0, np;
        char d1[11], d2[11];
        json_t *ranges;
        bool ok;
        int r, occ;

        if (!id)
                return;
        r = store_slot_charger_get(c->app->st, id, &ch);
        if (r == 0)
                r = calendar_visible(c, &ch, &ok);
        if (r == -ENOENT || (r == 0 && !ok)) {
                problem_respond(c->res, 404, "charger_not_found", "There is no charger %lld.",
                                (long long)id);
                return;
        }
        if (r < 0) {
                api_store_error(c, r, "charger");
                return;
        }
        max_days = cfg->charging_search_max_range / 86400;
        if (max_days < 1)
                max_days = 1;
        from_day = slot_local_day(c->now);
        jv_init(&p.v);
        qdate(&p, "from", &from_day);
        to_day = from_day + (max_days < 7 ? max_days : 7) - 1;
        qdate(&p, "to", &to_day);
        if (jv_ok(&p.v) && to_day < from_day)
                jv_error(&p.v, NULL, "to", "not_after_from", "to is before from.");
        else if (jv_ok(&p.v) && to_day - from_day + 1 > max_days)
                jv_error(&p.v, NULL, "to", "range_too_long", "The calendar may span at most %lld"
                         " days.", (long long)max_days);
        if (!jv_ok(&p.v)) {
                jv_render(&p.v, c->res);
                return;
        }
        jv_free(&p.v);
        from = slot_local_to_utc(from_day * 86400);
        to = slot_local_to_utc((to_day + 1) * 86400);
        r = store_slot_window(c->app->st, id, from, to, &sl, &ns, &rv, &nr);
        if (r == 0)
                r = store_search_occupancy(c->app->st, id, c->now, &occ);
        if (r < 0) {
                free(sl);
                free(rv);
                api_store_error(c, r, "charger");
                return;
        }
        pieces = calloc(CALENDAR_PIECES_MAX, sizeof(*pieces));
        np = pieces ? slot_calendar(sl, ns, rv, nr, from, to, pieces, CALENDAR_PIECES_MAX) : 0;
        free(sl);
        free(rv);
        if (!pieces || np > CALENDAR_PIECES_MAX) {
                free(pieces);
                problem_respond(c->res, 500, "internal_error", "The calendar could not be built.");
                return;
        }
        ranges = json_array();
        for (size_t i = 0; i < np; i++) {
                json_t *o = json_pack("{s:o, s:o, s:s, s:I}", "starts_at",
                                      api_time(pieces[i].starts_at), "ends_at",
                                      api_time(pieces[i].ends_at), "state",
                                      pieces[i].taken ? "taken" : "free", "hourly_price",
                                      (json_int_t)pieces[i].hourly_price);

                json_array_append_new(ranges, o);
        }
        free(pieces);
        day_string(from_day, d1);
        day_string(to_day, d2);
        api_json(c, 200, json_pack("{s:I, s:s, s:s, s:s, s:o, s:o}", "charger_id",
                                   (json_int_t)id, "from", d1, "to", d2, "currency", "JPY",
                                   "occupancy", occupancy_json(occ, c->now), "ranges", ranges));
}
