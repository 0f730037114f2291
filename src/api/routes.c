/*
 * routes.c - the route table of enemane. Every route here must also be in
 * docs/openapi.yaml (tests/unit/test_openapi.c fails otherwise). Literal
 * paths come before parameter paths that could match them.
 */
#include "api/api.h"
#include "api/api_chargers.h"
#include "api/api_hosts.h"
#include "api/api_inbox.h"
#include "api/api_slots.h"
#include "api/api_resv.h"
#include "api/api_energy.h"
#include "api/api_notices.h"
#include "api/api_firmware.h"
#include "api/api_weather.h"
#include "api/api_content.h"

#define R(m, p, h, f, n) { HTTP_##m, p, (const void *)(h), f, n }

const struct route api_routes[] = {
        R(GET, "/healthz", api_healthz, API_PUBLIC | API_INLINE, "healthz"),
        R(GET, "/readyz", api_readyz, API_PUBLIC, "readyz"),
        R(GET, "/metrics", api_metrics, API_PUBLIC | API_INLINE, "metrics"),
        R(GET, "/", api_index, API_PUBLIC | API_INLINE, "index"),
        R(GET, "/api/openapi.yaml", api_openapi, API_PUBLIC | API_INLINE, "openapi"),
        R(GET, "/api/docs", api_docs, API_PUBLIC | API_INLINE, "docs"),

        R(POST, "/api/v1/members", api_member_register, API_PUBLIC, "members.register"),
        R(GET, "/api/v1/members", api_op_members_list, API_OPERATOR, "members.list"),
        R(GET, "/api/v1/members/{id}", api_op_member_get, API_OPERATOR, "members.get"),
        R(POST, "/api/v1/members/{id}/suspension", api_op_member_suspend, API_OPERATOR,
          "members.suspend"),
        R(DELETE, "/api/v1/members/{id}/suspension", api_op_member_reinstate, API_OPERATOR,
          "members.reinstate"),
        R(GET, "/api/v1/suspension-reasons", api_suspension_reasons, API_PUBLIC | API_INLINE,
          "suspension_reasons"),
        R(GET, "/api/v1/audit", api_op_audit_list, API_OPERATOR, "audit.list"),

        R(POST, "/api/v1/sessions", api_session_create, API_PUBLIC, "sessions.create"),
        R(DELETE, "/api/v1/sessions/current", api_session_delete, API_NO_CONSENT,
          "sessions.delete"),

        R(GET, "/api/v1/me", api_me_get, API_NO_CONSENT, "me.get"),
        R(PATCH, "/api/v1/me", api_me_patch, 0, "me.patch"),
        R(DELETE, "/api/v1/me", api_me_withdraw, API_NO_CONSENT, "me.withdraw"),
        R(GET, "/api/v1/me/consents", api_me_consents_get, API_NO_CONSENT, "me.consents.get"),
        R(POST, "/api/v1/me/consents", api_me_consents_post, API_NO_CONSENT,
          "me.consents.post"),
        R(POST, "/api/v1/me/credentials-leaked", api_me_credentials_leaked, API_NO_CONSENT,
          "me.credentials_leaked"),
        R(PUT, "/api/v1/me/password", api_me_password, API_NO_CONSENT, "me.password"),

        R(GET, "/api/v1/me/wallet", api_me_wallet, 0, "wallet.get"),
        R(GET, "/api/v1/me/wallet/statement", api_me_statement, 0, "wallet.statement"),
        R(POST, "/api/v1/me/wallet/payouts", api_me_payout_create, 0, "wallet.payouts.create"),
        R(GET, "/api/v1/me/wallet/payouts/{id}", api_me_payout_get, 0, "wallet.payouts.get"),
        R(POST, "/api/v1/wallet/topups", api_wallet_topup, API_PUBLIC, "wallet.topups"),
        R(POST, "/api/v1/wallet/payouts/{transfer_id}/result", api_wallet_payout_result,
          API_PUBLIC, "wallet.payouts.result"),
        R(GET, "/api/v1/members/{id}/wallet", api_op_member_wallet, API_OPERATOR,
          "members.wallet"),
        R(POST, "/api/v1/ledger/transfers", api_ledger_transfers_post, API_OPERATOR,
          "ledger.transfers.create"),
        R(GET, "/api/v1/ledger/transfers/{id}", api_ledger_transfer_get, API_OPERATOR,
          "ledger.transfers.get"),
        R(GET, "/api/v1/ledger/accounts/{id}", api_ledger_account_get, API_OPERATOR,
          "ledger.accounts.get"),
        R(GET, "/api/v1/ledger/accounts/{id}/transfers", api_ledger_account_transfers,
          API_OPERATOR, "ledger.accounts.transfers"),
        R(GET, "/api/v1/ledger/totals", api_ledger_totals, API_OPERATOR, "ledger.totals"),

        R(GET, "/api/v1/documents", api_documents_list, API_PUBLIC, "documents.list"),
        R(POST, "/api/v1/documents", api_document_publish, API_OPERATOR, "documents.publish"),
        R(GET, "/api/v1/documents/{id}", api_document_get, API_PUBLIC, "documents.get"),

#include "api/routes_inbox.inc"

/* Charger sharing (issue 4). Slots' file first: it holds the literal
 * /api/v1/chargers/search, which must come before /api/v1/chargers/{id}. */
#include "api/routes_slots.inc"
#include "api/routes_hosts.inc"
#include "api/routes_chargers.inc"
#include "api/routes_resv.inc"
#include "api/routes_energy.inc"
/* Home energy, part 2 (issue 7). */
#include "api/routes_notices.inc"
#include "api/routes_firmware.inc"
#include "api/routes_weather.inc"
#include "api/routes_content.inc"
};

const size_t api_routes_count = sizeof(api_routes) / sizeof(api_routes[0]);

static const char *route_names[sizeof(api_routes) / sizeof(api_routes[0])];

static __attribute__((constructor)) void route_names_init(void)
{
        for (size_t i = 0; i < api_routes_count; i++)
                route_names[i] = api_routes[i].name;
}

const char *const *api_route_names = route_names;
