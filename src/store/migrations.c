/*
 * migrations.c - the numbered schema migrations compiled into enemane.
 *
 * Append only: a migration that has shipped is never edited; a change is a
 * new migration with the next number. store_migrate() applies the missing
 * ones in order, each in its own transaction, and records them in
 * schema_migrations. Instants are INTEGER Unix seconds (UTC).
 */
#include "store/store.h"
#include "store/store_charger.h"
#include "store/store_host.h"
#include "store/store_notify.h"
#include "store/store_resv.h"
#include "store/store_slot.h"
#include "store/store_gateway.h"
#include "store/store_homedata.h"
#include "store/store_ts.h"
#include "store/store_notice.h"
#include "store/store_firmware.h"
#include "store/store_weather.h"
#include "store/store_content.h"

static const char m001_members[] =
        "CREATE TABLE members (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  kind TEXT NOT NULL CHECK (kind IN ('individual','corporation')),\n"
        "  role TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('member','operator')),\n"
        "  status TEXT NOT NULL DEFAULT 'active'\n"
        "    CHECK (status IN ('active','suspended','withdrawn')),\n"
        "  email TEXT NOT NULL,\n"
        "  email_norm TEXT UNIQUE,            -- NULL once withdrawn (frees the address)\n"
        "  password_hash TEXT NOT NULL,\n"
        "  name TEXT NOT NULL,\n"
        "  name_kana TEXT NOT NULL,\n"
        "  phone TEXT NOT NULL,\n"
        "  postcode TEXT NOT NULL,\n"
        "  prefecture TEXT NOT NULL,\n"
        "  city TEXT NOT NULL,\n"
        "  line1 TEXT NOT NULL,\n"
        "  line2 TEXT NOT NULL DEFAULT '',\n"
        "  birth_date TEXT NOT NULL DEFAULT '',       -- individuals, YYYY-MM-DD\n"
        "  corporate_name TEXT NOT NULL DEFAULT '',\n"
        "  contact_person TEXT NOT NULL DEFAULT '',\n"
        "  guardian_name TEXT NOT NULL DEFAULT '',\n"
        "  guardian_relationship TEXT NOT NULL DEFAULT '',\n"
        "  guardian_consent_at INTEGER NOT NULL DEFAULT 0,\n"
        "  reverify_required INTEGER NOT NULL DEFAULT 0,\n"
        "  suspend_reason TEXT NOT NULL DEFAULT '',\n"
        "  suspend_note TEXT NOT NULL DEFAULT '',\n"
        "  suspended_at INTEGER NOT NULL DEFAULT 0,\n"
        "  withdrawn_at INTEGER NOT NULL DEFAULT 0,\n"
        "  created_at INTEGER NOT NULL,\n"
        "  updated_at INTEGER NOT NULL\n"
        ");\n"
        "CREATE TABLE member_status_events (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  member_id INTEGER NOT NULL REFERENCES members(id),\n"
        "  status TEXT NOT NULL,\n"
        "  reason TEXT NOT NULL DEFAULT '',\n"
        "  note TEXT NOT NULL DEFAULT '',\n"
        "  actor_id INTEGER NOT NULL,\n"
        "  at INTEGER NOT NULL\n"
        ");\n"
        "CREATE INDEX member_status_events_member ON member_status_events(member_id);\n"
        "CREATE TABLE sessions (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  token_hash TEXT NOT NULL UNIQUE,   -- BLAKE2b-256 hex; the token itself is never stored\n"
        "  member_id INTEGER NOT NULL REFERENCES members(id),\n"
        "  created_at INTEGER NOT NULL,\n"
        "  expires_at INTEGER NOT NULL,\n"
        "  revoked_at INTEGER NOT NULL DEFAULT 0,\n"
        "  client_ip TEXT NOT NULL DEFAULT ''\n"
        ");\n"
        "CREATE INDEX sessions_member ON sessions(member_id);\n"
        "CREATE TABLE documents (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  kind TEXT NOT NULL CHECK (kind IN ('terms','privacy')),\n"
        "  version TEXT NOT NULL,\n"
        "  title TEXT NOT NULL,\n"
        "  url TEXT NOT NULL DEFAULT '',\n"
        "  body TEXT NOT NULL DEFAULT '',\n"
        "  requires_consent INTEGER NOT NULL DEFAULT 1,\n"
        "  published_at INTEGER NOT NULL,\n"
        "  published_by INTEGER NOT NULL DEFAULT 0,\n"
        "  UNIQUE (kind, version)\n"
        ");\n"
        "CREATE TABLE consents (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  member_id INTEGER NOT NULL REFERENCES members(id),\n"
        "  document_id INTEGER NOT NULL REFERENCES documents(id),\n"
        "  accepted_at INTEGER NOT NULL,\n"
        "  client_ip TEXT NOT NULL DEFAULT '',\n"
        "  UNIQUE (member_id, document_id)\n"
        ");\n"
        "CREATE TABLE audit_log (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  at INTEGER NOT NULL,\n"
        "  actor_id INTEGER NOT NULL,          -- 0 = system\n"
        "  actor_role TEXT NOT NULL,\n"
        "  subject_id INTEGER NOT NULL,        -- whose personal data\n"
        "  action TEXT NOT NULL,               -- read, create, update, suspend, ...\n"
        "  items TEXT NOT NULL DEFAULT '',     -- which fields, comma separated\n"
        "  client_ip TEXT NOT NULL DEFAULT '',\n"
        "  request_id TEXT NOT NULL DEFAULT ''\n"
        ");\n"
        "CREATE INDEX audit_log_subject ON audit_log(subject_id, at);\n"
        "CREATE INDEX audit_log_actor ON audit_log(actor_id, at);\n";

/* The first versions of the two documents so that registration works on a
 * new installation. They say plainly that the operator must publish its
 * own; the operator replaces them through POST /api/v1/documents. */
static const char m002_documents[] =
        "INSERT INTO documents (kind, version, title, body, requires_consent, published_at)\n"
        "VALUES ('terms', '1', 'Terms of use (placeholder)',\n"
        "  'This installation has not published its terms of use yet. The operator publishes "
        "them with POST /api/v1/documents.', 1, 0),\n"
        " ('privacy', '1', 'Privacy policy (placeholder)',\n"
        "  'This installation has not published its privacy policy yet. The operator publishes "
        "it with POST /api/v1/documents.', 1, 0);\n";

/* The prepaid wallet ledger (issue 3; rules in domain/ledger.h, SQL in
 * store_ledger.c). Money rules live in domain/ledger.c; the CHECKs and
 * triggers here are a second net that holds even against a bug there or a
 * hand-written statement:
 *  - counters never negative; a flagged account (every wallet, by CHECK)
 *    never has debits_posted + debits_pending > credits_posted;
 *  - transfers are immutable: no DELETE, no UPDATE of any column except a
 *    hold's pending_state, and that only once, from 'pending' to a final
 *    state. (INSERT OR REPLACE would bypass the DELETE trigger, which fires
 *    on REPLACE only with recursive_triggers on: no code here uses it.)
 *  - accounts are never deleted; their id, code, member and flags never
 *    change.
 * Statement paging walks ledger_transfers_debit / _credit: within one
 * account their entries are ordered by seq (the rowid ends every index
 * entry), so "account = ? AND seq > ? ORDER BY seq" is a range scan. */
static const char m003_ledger[] =
        "CREATE TABLE ledger_accounts (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  code TEXT NOT NULL CHECK (code IN ('wallet','escrow','fee_revenue','penalty_share',\n"
        "                                     'funding','debt')),\n"
        "  member_id INTEGER NOT NULL DEFAULT 0,   -- 0 for the system accounts\n"
        "  flags INTEGER NOT NULL DEFAULT 0 CHECK (flags IN (0, 1)),  -- 1 = debits <= credits\n"
        "  debits_posted INTEGER NOT NULL DEFAULT 0 CHECK (debits_posted >= 0),\n"
        "  credits_posted INTEGER NOT NULL DEFAULT 0 CHECK (credits_posted >= 0),\n"
        "  debits_pending INTEGER NOT NULL DEFAULT 0 CHECK (debits_pending >= 0),\n"
        "  credits_pending INTEGER NOT NULL DEFAULT 0 CHECK (credits_pending >= 0),\n"
        "  created_at INTEGER NOT NULL DEFAULT 0,\n"
        "  CHECK ((member_id > 0) = (code IN ('wallet','debt'))),\n"
        "  CHECK (code <> 'wallet' OR flags = 1),\n"
        "  CHECK (flags = 0 OR debits_posted + debits_pending <= credits_posted),\n"
        "  UNIQUE (code, member_id)\n"
        ");\n"
        "INSERT INTO ledger_accounts (id, code, member_id, flags, created_at) VALUES\n"
        "  (1, 'escrow', 0, 0, CAST(strftime('%s', 'now') AS INTEGER)),\n"
        "  (2, 'fee_revenue', 0, 0, CAST(strftime('%s', 'now') AS INTEGER)),\n"
        "  (3, 'penalty_share', 0, 0, CAST(strftime('%s', 'now') AS INTEGER)),\n"
        "  (4, 'funding', 0, 0, CAST(strftime('%s', 'now') AS INTEGER));\n"
        "CREATE TRIGGER ledger_accounts_no_delete BEFORE DELETE ON ledger_accounts\n"
        "BEGIN SELECT RAISE(ABORT, 'ledger accounts are never deleted'); END;\n"
        "CREATE TRIGGER ledger_accounts_fixed\n"
        "  BEFORE UPDATE OF id, code, member_id, flags, created_at ON ledger_accounts\n"
        "BEGIN SELECT RAISE(ABORT, 'a ledger account keeps its id, code, member and flags'); END;\n"
        "CREATE TABLE ledger_transfers (\n"
        "  seq INTEGER PRIMARY KEY,               -- global order\n"
        "  id TEXT NOT NULL UNIQUE CHECK (length(id) BETWEEN 1 AND 63),  -- idempotency key\n"
        "  debit_account_id INTEGER NOT NULL REFERENCES ledger_accounts (id),\n"
        "  credit_account_id INTEGER NOT NULL REFERENCES ledger_accounts (id),\n"
        "  amount INTEGER NOT NULL CHECK (amount BETWEEN 1 AND 1000000000),\n"
        "  pending_id TEXT NOT NULL DEFAULT '',   -- post/void: the hold's id\n"
        "  flags INTEGER NOT NULL CHECK (flags BETWEEN 0 AND 15),\n"
        "  code TEXT NOT NULL CHECK (code IN ('top_up','hold','capture','release','expiry',\n"
        "    'refund','cancellation_fee','platform_fee','host_cancellation_fee','penalty',\n"
        "    'penalty_share','payout','correction','fee')),\n"
        "  timeout_s INTEGER NOT NULL DEFAULT 0 CHECK (timeout_s >= 0),\n"
        "  expires_at INTEGER NOT NULL DEFAULT 0, -- hold with timeout: ts + timeout_s\n"
        "  pending_state TEXT NOT NULL DEFAULT 'none'\n"
        "    CHECK (pending_state IN ('none','pending','posted','voided','expired')),\n"
        "  defaulted INTEGER NOT NULL DEFAULT 0,  -- post/void fields the request left 0\n"
        "  ref TEXT NOT NULL DEFAULT '',\n"
        "  reason TEXT NOT NULL DEFAULT '',\n"
        "  ts INTEGER NOT NULL,\n"
        "  CHECK (debit_account_id <> credit_account_id),\n"
        "  CHECK (((flags & 1) = 1) = (pending_state <> 'none'))\n"
        ");\n"
        "CREATE INDEX ledger_transfers_debit ON ledger_transfers (debit_account_id);\n"
        "CREATE INDEX ledger_transfers_credit ON ledger_transfers (credit_account_id);\n"
        "CREATE INDEX ledger_transfers_expiry ON ledger_transfers (expires_at)\n"
        "  WHERE pending_state = 'pending' AND expires_at > 0;\n"
        "CREATE INDEX ledger_transfers_ts ON ledger_transfers (ts);\n"
        "CREATE TRIGGER ledger_transfers_no_delete BEFORE DELETE ON ledger_transfers\n"
        "BEGIN SELECT RAISE(ABORT, 'ledger transfers are immutable'); END;\n"
        "CREATE TRIGGER ledger_transfers_immutable\n"
        "  BEFORE UPDATE OF seq, id, debit_account_id, credit_account_id, amount, pending_id,\n"
        "    flags, code, timeout_s, expires_at, defaulted, ref, reason, ts ON ledger_transfers\n"
        "BEGIN SELECT RAISE(ABORT, 'ledger transfers are immutable'); END;\n"
        "CREATE TRIGGER ledger_transfers_resolve_once\n"
        "  BEFORE UPDATE OF pending_state ON ledger_transfers\n"
        "  WHEN OLD.pending_state <> 'pending'\n"
        "    OR NEW.pending_state NOT IN ('posted','voided','expired')\n"
        "BEGIN SELECT RAISE(ABORT, 'a hold is resolved exactly once'); END;\n";

/* Signatures of accepted provider webhooks, kept long enough to refuse a
 * replay of the same signed message (D-17); the sweeper prunes them. */
static const char m004_webhooks[] =
        "CREATE TABLE webhook_signatures (\n"
        "  signature TEXT PRIMARY KEY,\n"
        "  seen_at INTEGER NOT NULL\n"
        ");\n"
        "CREATE INDEX webhook_signatures_seen ON webhook_signatures(seen_at);\n";

const struct store_migration store_migrations[] = {
        { 1, "members, sessions, documents, consents, audit log", m001_members },
        { 2, "placeholder terms and privacy policy", m002_documents },
        { 3, "prepaid wallet ledger: accounts, immutable transfers", m003_ledger },
        { 4, "webhook replay protection", m004_webhooks },
        { 5, "hosts, administrators, host action log, drivers, vehicles", store_m005_sql },
        { 6, "chargers, QR codes, photos, notes, sites, limit applications", store_m006_sql },
        { 7, "slots and reservations", store_m007_sql },
        { 8, "reservation lifecycle: states, money, events, debts, calendar feeds",
          store_m008_sql },
        { 9, "notification inbox and mail outbox", store_m009_sql },
        { 10, "home energy: gateways, homes, members, invitations, household", store_m010_sql },
        { 11, "home energy: settings versions and history", store_m011_sql },
        { 12, "home energy: series, chunks, rollups, ingest batch ids", store_m012_sql },
        { 13, "home energy: gateway coordinates", store_m013_sql },
        { 14, "home energy: notices and maintenance", store_m014_sql },
        { 15, "home energy: firmware and rollouts", store_m015_sql },
        { 16, "home energy: locations and weather", store_m016_sql },
        { 17, "home energy: manuals and distribution", store_m017_sql },
};

const size_t store_migrations_count = sizeof(store_migrations) / sizeof(store_migrations[0]);
