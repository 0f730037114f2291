/*
 * host.h - host and driver rules: publishability (CS-8), roles and
 * administrators (CS-7), drivers' declarations and vehicles (CS-23).
 *
 * Pure like domain/member.h: no I/O, no allocation, no global mutable
 * state; `now` is passed in (unix seconds UTC). Returned strings (reason
 * and error codes, `why` fragments) are static and owned by this module.
 * Codes are stable snake_case: the API sends them as they are.
 */
#ifndef ENEMANE_DOMAIN_HOST_H
#define ENEMANE_DOMAIN_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- hosts (CS-8) ----------------------------------------------------------- */

/* A host's verification: "pending", "verified", "rejected". */
bool host_verification_valid(const char *s);
/* A host's contract with the wallet provider: "none", "active", "ended".
 * The operator sets only "active" or "ended" (host_contract_settable). */
bool host_contract_valid(const char *s);
bool host_contract_settable(const char *s);

/* True when the host may publish slots and appear in search: verification
 * 'verified', contract 'active' and the member 'active'. The same
 * condition, written as SQL, is in the charger and search queries. */
bool host_publishable(const char *verification, const char *contract,
                      const char *member_status);

#define HOST_REASONS_MAX 3
/* Why a host is not publishable: writes up to max codes to out (each one
 * of "verification_pending", "verification_rejected", "contract_missing",
 * "contract_ended", "member_not_active") and returns how many there are
 * (0 = publishable). NULL or unknown values count as not satisfied. */
size_t host_unpublishable_reasons(const char *verification, const char *contract,
                                  const char *member_status, const char **out, size_t max);

/* ---- administrators (CS-7) ---------------------------------------------------- */

/* May the caller appoint (or remove) administrators of this host? Only the
 * host member itself, and only a corporate host. 0, or -EPERM with *code
 * "host_only" (an administrator or anyone else tried), or -EINVAL with
 * *code "not_corporate_host". code may be NULL. */
int host_admin_manage_check(const char *host_kind, int64_t host_id, int64_t caller_id,
                            const char **code);

/* May this member be appointed? It must exist (the caller has looked it
 * up), be 'active', be a plain member (not an operator) and not be the host
 * itself. 0, or -EINVAL with *code one of "cannot_appoint_self",
 * "member_not_active", "operator_cannot_be_admin". */
int host_admin_appointee_check(int64_t host_id, int64_t appointee_id,
                               const char *appointee_status, const char *appointee_role,
                               const char **code);

/* ---- drivers (CS-23) ------------------------------------------------------------ */

/* A corporation can be a host but never a user (CS-7, art 21.3). */
bool driver_kind_allowed(const char *member_kind);

/* A declared expiry date: exactly "YYYY-MM-DD" (member_date_parse), a real
 * date, and not before today in Asia/Tokyo at `now` (a document that
 * expires today is still valid today). 0, or -EINVAL with *why a sentence
 * fragment and *code "invalid" or "expired". */
int driver_expiry_valid(const char *s, int64_t now, const char **code, const char **why);

/* True when the document dated expires_on ("YYYY-MM-DD") is valid on the
 * Asia/Tokyo date of `at`. An unparsable date is expired. */
bool driver_document_valid_at(const char *expires_on, int64_t at);

/* What booking needs from the member (CS-23): NULL date strings mean no
 * declaration was made. */
struct driver_state {
        const char *member_kind;                /* individual, corporation */
        const char *member_status;              /* active, ... */
        const char *licence_expires_on;         /* NULL = not declared */
        const char *compulsory_insurance_expires_on;
        const char *voluntary_insurance_expires_on;
        size_t vehicles;                        /* registered EV/PHEV vehicles */
};

#define DRIVER_REASONS_MAX 8
/* Can this member book at `at` (part 2 passes the reservation's end, so a
 * licence must be valid for the whole booking)? Writes up to max reason
 * codes to reasons, in this order: "corporation_cannot_be_user",
 * "member_not_active", "no_declarations", "licence_expired",
 * "compulsory_insurance_expired", "voluntary_insurance_expired",
 * "no_vehicle". *n gets their count. Returns 1 when booking is allowed
 * (no reason), 0 when not, -EINVAL for NULL d or n. */
int driver_can_book(const struct driver_state *d, int64_t at, const char **reasons,
                    size_t max, size_t *n);

/* ---- vehicles (CS-23) ----------------------------------------------------------- */

#define VEHICLE_BATTERY_MAX_KWH 300.0
#define VEHICLE_PLATE_MAX_CHARS 32
#define VEHICLE_TEXT_MAX_CHARS 100

/* "ev" or "phev" only: a vehicle must be an EV or a PHEV (art 21.1). */
bool vehicle_powertrain_valid(const char *s);
/* One of the connector codes shared with chargers (charger_connectors[]). */
bool vehicle_connector_valid(const char *s);
/* Battery capacity in kWh: finite, > 0 and <= VEHICLE_BATTERY_MAX_KWH;
 * *wh gets it in whole Wh (rounded, at least 1). 0 or -EINVAL. */
int vehicle_battery_wh(double kwh, int64_t *wh);

#endif
