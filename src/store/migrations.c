/*
 * migrations.c - the numbered schema migrations compiled into enemane.
 *
 * Append only: a migration that has shipped is never edited; a change is a
 * new migration with the next number. store_migrate() applies the missing
 * ones in order, each in its own transaction, and records them in
 * schema_migrations. Instants are INTEGER Unix seconds (UTC).
 */
#include "store/store.h"

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

const struct store_migration store_migrations[] = {
        { 1, "members, sessions, documents, consents, audit log", m001_members },
        { 2, "placeholder terms and privacy policy", m002_documents },
};

const size_t store_migrations_count = sizeof(store_migrations) / sizeof(store_migrations[0]);
