/*
 * host.c - host and driver rules (see host.h): publishability (CS-8),
 * who manages administrators (CS-7), what booking needs (CS-23), vehicles.
 */
#include "domain/host.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "domain/charger.h"
#include "domain/member.h"
#include "util/timeutil.h"

static bool str_is(const char *s, const char *v)
{
        return s && strcmp(s, v) == 0;
}

static bool str_in(const char *s, const char *const *set)
{
        for (size_t i = 0; s && set[i]; i++)
                if (strcmp(s, set[i]) == 0)
                        return true;
        return false;
}

/* ---- hosts -------------------------------------------------------------- */

bool host_verification_valid(const char *s)
{
        static const char *const set[] = { "pending", "verified", "rejected", NULL };

        return str_in(s, set);
}

bool host_contract_valid(const char *s)
{
        static const char *const set[] = { "none", "active", "ended", NULL };

        return str_in(s, set);
}

bool host_contract_settable(const char *s)
{
        return str_is(s, "active") || str_is(s, "ended");
}

bool host_publishable(const char *verification, const char *contract,
                      const char *member_status)
{
        return host_unpublishable_reasons(verification, contract, member_status, NULL, 0) == 0;
}

size_t host_unpublishable_reasons(const char *verification, const char *contract,
                                  const char *member_status, const char **out, size_t max)
{
        const char *r[HOST_REASONS_MAX];
        size_t n = 0;

        if (!str_is(verification, "verified"))
                r[n++] = str_is(verification, "rejected") ? "verification_rejected"
                                                          : "verification_pending";
        if (!str_is(contract, "active"))
                r[n++] = str_is(contract, "ended") ? "contract_ended" : "contract_missing";
        if (!str_is(member_status, "active"))
                r[n++] = "member_not_active";
        for (size_t i = 0; out && i < n && i < max; i++)
                out[i] = r[i];
        return n;
}

/* ---- administrators ------------------------------------------------------- */

static void set_code(const char **code, const char *v)
{
        if (code)
                *code = v;
}

int host_admin_manage_check(const char *host_kind, int64_t host_id, int64_t caller_id,
                            const char **code)
{
        set_code(code, NULL);
        if (caller_id != host_id) {
                set_code(code, "host_only");
                return -EPERM;
        }
        if (!str_is(host_kind, "corporation")) {
                set_code(code, "not_corporate_host");
                return -EINVAL;
        }
        return 0;
}

int host_admin_appointee_check(int64_t host_id, int64_t appointee_id,
                               const char *appointee_status, const char *appointee_role,
                               const char **code)
{
        set_code(code, NULL);
        if (appointee_id == host_id) {
                set_code(code, "cannot_appoint_self");
                return -EINVAL;
        }
        if (!str_is(appointee_status, "active")) {
                set_code(code, "member_not_active");
                return -EINVAL;
        }
        if (!str_is(appointee_role, "member")) {
                set_code(code, "operator_cannot_be_admin");
                return -EINVAL;
        }
        return 0;
}

/* ---- drivers ---------------------------------------------------------------- */

bool driver_kind_allowed(const char *member_kind)
{
        return str_is(member_kind, "individual");
}

/* Days from the Tokyo date of `at` to the date s: <0 before, 0 the same
 * day, >0 after; *ok false when s does not parse. */
static int64_t date_minus_today(const char *s, int64_t at, bool *ok)
{
        int y, m, d, ty, tm, td;

        *ok = false;
        if (!s || member_date_parse(s, &y, &m, &d) < 0)
                return 0;
        if (member_tokyo_date(at, &ty, &tm, &td) < 0)
                return 0;
        *ok = true;
        return time_days_from_civil(y, (unsigned)m, (unsigned)d) -
               time_days_from_civil(ty, (unsigned)tm, (unsigned)td);
}

int driver_expiry_valid(const char *s, int64_t now, const char **code, const char **why)
{
        bool ok;
        int64_t diff = date_minus_today(s, now, &ok);

        if (code)
                *code = NULL;
        if (why)
                *why = NULL;
        if (!ok) {
                set_code(code, "invalid");
                if (why)
                        *why = "must be a real date written YYYY-MM-DD";
                return -EINVAL;
        }
        if (diff < 0) {
                set_code(code, "expired");
                if (why)
                        *why = "is in the past: the document has expired";
                return -EINVAL;
        }
        return 0;
}

bool driver_document_valid_at(const char *expires_on, int64_t at)
{
        bool ok;
        int64_t diff = date_minus_today(expires_on, at, &ok);

        return ok && diff >= 0;
}

int driver_can_book(const struct driver_state *d, int64_t at, const char **reasons,
                    size_t max, size_t *n)
{
        const char *r[DRIVER_REASONS_MAX];
        size_t k = 0;

        if (!d || !n)
                return -EINVAL;
        if (!driver_kind_allowed(d->member_kind))
                r[k++] = "corporation_cannot_be_user";
        if (!str_is(d->member_status, "active"))
                r[k++] = "member_not_active";
        if (!d->licence_expires_on || !d->compulsory_insurance_expires_on ||
            !d->voluntary_insurance_expires_on) {
                r[k++] = "no_declarations";
        } else {
                if (!driver_document_valid_at(d->licence_expires_on, at))
                        r[k++] = "licence_expired";
                if (!driver_document_valid_at(d->compulsory_insurance_expires_on, at))
                        r[k++] = "compulsory_insurance_expired";
                if (!driver_document_valid_at(d->voluntary_insurance_expires_on, at))
                        r[k++] = "voluntary_insurance_expired";
        }
        if (d->vehicles == 0)
                r[k++] = "no_vehicle";
        for (size_t i = 0; reasons && i < k && i < max; i++)
                reasons[i] = r[i];
        *n = k;
        return k == 0 ? 1 : 0;
}

/* ---- vehicles ------------------------------------------------------------------ */

bool vehicle_powertrain_valid(const char *s)
{
        return str_is(s, "ev") || str_is(s, "phev");
}

bool vehicle_connector_valid(const char *s)
{
        return charger_connector_valid(s);
}

int vehicle_battery_wh(double kwh, int64_t *wh)
{
        double w;

        if (!isfinite(kwh) || kwh <= 0 || kwh > VEHICLE_BATTERY_MAX_KWH)
                return -EINVAL;
        w = round(kwh * 1000.0);
        if (wh)
                *wh = w < 1 ? 1 : (int64_t)w;
        return 0;
}
