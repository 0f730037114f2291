/*
 * charger.h - charger listing rules (CS-9), connectors, delisting reasons
 * (CS-10), the QR code life cycle and what makes a charger bookable
 * (CS-11), site limits (CS-12).
 *
 * Pure functions on plain values: no store, no JSON. The handlers
 * validate with these and the store records the outcome.
 */
#ifndef ENEMANE_DOMAIN_CHARGER_H
#define ENEMANE_DOMAIN_CHARGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- kinds and connectors (CS-9) ------------------------------------------ */

enum charger_kind {
        CHARGER_NORMAL = 0,             /* normal (AC) charger */
        CHARGER_EV_OUTLET,              /* EV outlet (コンセント) */
        CHARGER_COMPATIBLE_FAST,        /* fast charger of a model linked to the app */
        _CHARGER_KIND_MAX,
};

/* "normal", "ev_outlet", "compatible_fast"; NULL when out of range. */
const char *charger_kind_name(int kind);
/* The kind of a name, -1 when unknown. */
int charger_kind_from_name(const char *name);

/* Connector values shared by chargers and vehicles, NULL-terminated. */
extern const char *const charger_connectors[];
bool charger_connector_valid(const char *name);

/* Output: 0 < kW <= 400, stored as whole watts. */
#define CHARGER_OUTPUT_KW_MAX 400.0
/* Rounds kw to watts into *w. -EDOM when kw is not a finite number in
 * (0, CHARGER_OUTPUT_KW_MAX] or rounds to 0 W. */
int charger_output_w(double kw, int64_t *w);

/* Coordinates. The service area is Japan's bounding box. */
#define CHARGER_JP_LAT_MIN 20.0
#define CHARGER_JP_LAT_MAX 46.0
#define CHARGER_JP_LON_MIN 122.0
#define CHARGER_JP_LON_MAX 154.0
/* 0 when inside Japan's box; -EDOM when not a valid latitude (-90..90)
 * or longitude (-180..180) at all; -ERANGE when valid but outside the
 * box. Each of lat_bad / lon_bad (may be NULL) says which one is wrong. */
int charger_check_coords(double lat, double lon, bool *lat_bad, bool *lon_bad);
/* Degrees to microdegrees, rounded to nearest. */
int64_t charger_deg_to_e6(double deg);
double charger_e6_to_deg(int64_t e6);

/* CS-9, last line of art 10.2: a compatible fast charger is offered only
 * by on-site reservation, and it is not extendable (CS-32). Forces the
 * options for that kind and returns what it changed (0 when the request
 * already complied, or for other kinds). */
enum {
        CHARGER_FORCED_ONSITE = 1 << 0,         /* onsite_reservation set to true */
        CHARGER_FORCED_EXTENDABLE = 1 << 1,     /* extendable set to false */
};
unsigned charger_force_options(int kind, bool *onsite_reservation, bool *extendable);

/* ---- delisting (CS-10, art 10.5) ----------------------------------------------- */

struct charger_delisting_reason {
        const char *code;
        const char *article;            /* "10.5.1" */
        const char *description;
};
extern const struct charger_delisting_reason charger_delisting_reasons[];
extern const size_t charger_delisting_reasons_count;
/* The reason with this code, or NULL. */
const struct charger_delisting_reason *charger_delisting_reason_find(const char *code);

/* ---- the QR code (CS-11) --------------------------------------------------------- */

enum charger_qr_state {
        CHARGER_QR_ISSUED = 0,          /* made; plaintext kept so the operator can print it */
        CHARGER_QR_MAILED,              /* posted to the host; plaintext wiped */
        CHARGER_QR_ATTACHED,            /* the host scanned it on the charger */
        _CHARGER_QR_STATE_MAX,
};
const char *charger_qr_state_name(int state);
int charger_qr_state_from_name(const char *name);

enum charger_qr_event {
        CHARGER_QR_MAIL,                /* operator: posted */
        CHARGER_QR_ATTACH,              /* host: proved attachment with the token */
        CHARGER_QR_ROTATE,              /* host or operator: new token */
};
/* The state after ev in state, into *next. -EALREADY: mailing a code that
 * is not 'issued' (mailed or attached already); -EAGAIN: attaching a code
 * not yet mailed. Attaching an attached code is allowed (idempotent);
 * rotating is always allowed and goes back to 'issued'. */
int charger_qr_next(int state, enum charger_qr_event ev, int *next);

/* ---- listing and bookability -------------------------------------------------------- */

struct charger_status {
        bool deleted;
        bool delisted;
        int qr_state;
        bool host_publishable;          /* CS-8 */
};

/* Why a charger cannot be booked, as bits (0 = bookable). */
enum {
        CHARGER_NB_DELETED = 1 << 0,
        CHARGER_NB_DELISTED = 1 << 1,
        CHARGER_NB_QR_NOT_ATTACHED = 1 << 2,
        CHARGER_NB_HOST_NOT_PUBLISHABLE = 1 << 3,
};
#define CHARGER_NB_COUNT 4
/* Reason bits for s (CS-11: not bookable until the code is attached). */
unsigned charger_not_bookable(const struct charger_status *s);
static inline bool charger_bookable(const struct charger_status *s)
{
        return charger_not_bookable(s) == 0;
}
/* Shown to other members at all (CS-40): not deleted, not delisted, host
 * publishable. The QR state does not hide a listing, only its booking. */
bool charger_listed(const struct charger_status *s);
/* "deleted", "delisted", "qr_not_attached", "host_not_publishable" for
 * one bit; NULL for anything else. */
const char *charger_not_bookable_name(unsigned bit);

/* ---- sites (CS-12) ------------------------------------------------------------------- */

/* 0 when 1 <= limit <= max, else -ERANGE. */
int charger_site_limit_check(int64_t limit, int64_t max);

#endif
