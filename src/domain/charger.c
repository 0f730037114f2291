/*
 * charger.c - charger listing rules (see charger.h).
 */
#include "domain/charger.h"

#include <errno.h>
#include <math.h>
#include <string.h>

static const char *const kind_names[_CHARGER_KIND_MAX] = {
        [CHARGER_NORMAL] = "normal",
        [CHARGER_EV_OUTLET] = "ev_outlet",
        [CHARGER_COMPATIBLE_FAST] = "compatible_fast",
};

const char *charger_kind_name(int kind)
{
        if (kind < 0 || kind >= _CHARGER_KIND_MAX)
                return NULL;
        return kind_names[kind];
}

int charger_kind_from_name(const char *name)
{
        for (int i = 0; name && i < _CHARGER_KIND_MAX; i++)
                if (strcmp(name, kind_names[i]) == 0)
                        return i;
        return -1;
}

const char *const charger_connectors[] = {
        "type1", "type2", "chademo", "ccs1", "ccs2", "gbt", "nacs", "outlet_100v",
        "outlet_200v", NULL,
};

bool charger_connector_valid(const char *name)
{
        for (size_t i = 0; name && charger_connectors[i]; i++)
                if (strcmp(name, charger_connectors[i]) == 0)
                        return true;
        return false;
}

int charger_output_w(double kw, int64_t *w)
{
        double watts;

        if (!isfinite(kw) || kw <= 0.0 || kw > CHARGER_OUTPUT_KW_MAX)
                return -EDOM;
        watts = round(kw * 1000.0);
        if (watts < 1.0)
                return -EDOM;
        *w = (int64_t)watts;
        return 0;
}

int charger_check_coords(double lat, double lon, bool *lat_bad, bool *lon_bad)
{
        bool lat_valid = isfinite(lat) && lat >= -90.0 && lat <= 90.0;
        bool lon_valid = isfinite(lon) && lon >= -180.0 && lon <= 180.0;
        bool lat_in, lon_in;

        if (!lat_valid || !lon_valid) {
                if (lat_bad)
                        *lat_bad = !lat_valid;
                if (lon_bad)
                        *lon_bad = !lon_valid;
                return -EDOM;
        }
        lat_in = lat >= CHARGER_JP_LAT_MIN && lat <= CHARGER_JP_LAT_MAX;
        lon_in = lon >= CHARGER_JP_LON_MIN && lon <= CHARGER_JP_LON_MAX;
        if (lat_bad)
                *lat_bad = !lat_in;
        if (lon_bad)
                *lon_bad = !lon_in;
        return lat_in && lon_in ? 0 : -ERANGE;
}

int64_t charger_deg_to_e6(double deg)
{
        return (int64_t)llround(deg * 1e6);
}

double charger_e6_to_deg(int64_t e6)
{
        return (double)e6 / 1e6;
}

unsigned charger_force_options(int kind, bool *onsite_reservation, bool *extendable)
{
        unsigned forced = 0;

        if (kind != CHARGER_COMPATIBLE_FAST)
                return 0;
        if (!*onsite_reservation) {
                *onsite_reservation = true;
                forced |= CHARGER_FORCED_ONSITE;
        }
        if (*extendable) {
                *extendable = false;
                forced |= CHARGER_FORCED_EXTENDABLE;
        }
        return forced;
}

/* Art 10.5 (1)-(8), in order. */
const struct charger_delisting_reason charger_delisting_reasons[] = {
        { "terms_violation", "10.5.1", "The listing violates the terms of use." },
        { "obvious_error", "10.5.2", "The listing contains an obvious error." },
        { "fraud", "10.5.3", "Fraudulent conduct." },
        { "unreachable", "10.5.4", "The operator cannot reach the host." },
        { "identity_or_contract_missing", "10.5.5",
          "Identity verification not done or failed, or the wallet host contract is not "
          "complete." },
        { "reverification_missing", "10.5.6",
          "Re-verification after a change of the host's registered data was not done or "
          "failed." },
        { "public_order", "10.5.7",
          "Conduct against public order or unfit for the service." },
        { "other_equivalent", "10.5.8", "A reason equivalent to one of the above." },
};
const size_t charger_delisting_reasons_count =
        sizeof(charger_delisting_reasons) / sizeof(charger_delisting_reasons[0]);

const struct charger_delisting_reason *charger_delisting_reason_find(const char *code)
{
        for (size_t i = 0; code && i < charger_delisting_reasons_count; i++)
                if (strcmp(code, charger_delisting_reasons[i].code) == 0)
                        return &charger_delisting_reasons[i];
        return NULL;
}

static const char *const qr_names[_CHARGER_QR_STATE_MAX] = {
        [CHARGER_QR_ISSUED] = "issued",
        [CHARGER_QR_MAILED] = "mailed",
        [CHARGER_QR_ATTACHED] = "attached",
};

const char *charger_qr_state_name(int state)
{
        if (state < 0 || state >= _CHARGER_QR_STATE_MAX)
                return NULL;
        return qr_names[state];
}

int charger_qr_state_from_name(const char *name)
{
        for (int i = 0; name && i < _CHARGER_QR_STATE_MAX; i++)
                if (strcmp(name, qr_names[i]) == 0)
                        return i;
        return -1;
}

int charger_qr_next(int state, enum charger_qr_event ev, int *next)
{
        if (state < 0 || state >= _CHARGER_QR_STATE_MAX)
                return -EINVAL;
        switch (ev) {
        case CHARGER_QR_MAIL:
                if (state != CHARGER_QR_ISSUED)
                        return -EALREADY;
                *next = CHARGER_QR_MAILED;
                return 0;
        case CHARGER_QR_ATTACH:
                if (state == CHARGER_QR_ISSUED)
                        return -EAGAIN;
                *next = CHARGER_QR_ATTACHED;
                return 0;
        case CHARGER_QR_ROTATE:
                *next = CHARGER_QR_ISSUED;
                return 0;
        }
        return -EINVAL;
}

unsigned charger_not_bookable(const struct charger_status *s)
{
        unsigned r = 0;

        if (s->deleted)
                r |= CHARGER_NB_DELETED;
        if (s->delisted)
                r |= CHARGER_NB_DELISTED;
        if (s->qr_state != CHARGER_QR_ATTACHED)
                r |= CHARGER_NB_QR_NOT_ATTACHED;
        if (!s->host_publishable)
                r |= CHARGER_NB_HOST_NOT_PUBLISHABLE;
        return r;
}

bool charger_listed(const struct charger_status *s)
{
        return !s->deleted && !s->delisted && s->host_publishable;
}

const char *charger_not_bookable_name(unsigned bit)
{
        switch (bit) {
        case CHARGER_NB_DELETED: return "deleted";
        case CHARGER_NB_DELISTED: return "delisted";
        case CHARGER_NB_QR_NOT_ATTACHED: return "qr_not_attached";
        case CHARGER_NB_HOST_NOT_PUBLISHABLE: return "host_not_publishable";
        default: return NULL;
        }
}

int charger_site_limit_check(int64_t limit, int64_t max)
{
        return limit >= 1 && limit <= max ? 0 : -ERANGE;
}
