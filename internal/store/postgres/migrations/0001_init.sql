-- 0001: tenants, API keys, users with their e-mail side table, archived
-- users, and per-tenant user counts.
--
-- The SQL stays within what CockroachDB also accepts: no functions, triggers
-- or advisory locks. Times are BIGINT unix nanoseconds (UTC): timestamptz
-- keeps only microseconds, and the store keeps what it is given. Text that is
-- compared or sorted is COLLATE "C", so that order is by code point, as in
-- SQLite, whatever the database's default collation. Every tenant-scoped
-- index leads with tenant_id.

CREATE TABLE tenants (
    id                  BIGSERIAL PRIMARY KEY,
    name                TEXT COLLATE "C" NOT NULL UNIQUE,
    created             BIGINT  NOT NULL,
    provisioning_active BOOLEAN NOT NULL DEFAULT false,
    api_keys_enabled    BOOLEAN NOT NULL DEFAULT true,
    password_signin     BOOLEAN NOT NULL DEFAULT true,
    on_delete           TEXT    NOT NULL DEFAULT 'archive' CHECK (on_delete IN ('archive', 'purge'))
);

CREATE TABLE api_keys (
    id          TEXT COLLATE "C" PRIMARY KEY,
    tenant_id   BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name        TEXT   NOT NULL,
    scope       TEXT   NOT NULL,
    secret_hash BYTEA  NOT NULL,
    created_by  TEXT   NOT NULL,
    created     BIGINT NOT NULL,
    expires     BIGINT,           -- NULL: never
    revoked     BIGINT,           -- NULL: not revoked
    last_used   BIGINT            -- NULL: never used
);
CREATE INDEX api_keys_tenant_created ON api_keys (tenant_id, created);

-- users holds the live users. seq is the stable order used for paging
-- (creation order on PostgreSQL; on CockroachDB, BIGSERIAL is
-- unique_rowid(), which is roughly creation order and as stable). doc is
-- store.User.Attrs; doc_fold is the same document with every string folded
-- with scim.Fold (computed in Go), which filters and sorts on attributes
-- whose caseExact is false read instead of doc. The other columns are
-- derived from doc on every write (see derive in users.go).
CREATE TABLE users (
    seq               BIGSERIAL PRIMARY KEY,
    tenant_id         BIGINT  NOT NULL REFERENCES tenants (id),
    id                TEXT COLLATE "C" NOT NULL,
    version           BIGINT  NOT NULL,
    created           BIGINT  NOT NULL,
    modified          BIGINT  NOT NULL,
    user_name         TEXT    NOT NULL,
    user_name_fold    TEXT COLLATE "C" NOT NULL,
    external_id       TEXT COLLATE "C",
    display_name_fold TEXT COLLATE "C",
    active            BOOLEAN NOT NULL,
    doc               JSONB   NOT NULL,
    doc_fold          JSONB   NOT NULL,
    password_hash     TEXT    NOT NULL DEFAULT ''
);
-- The non-unique indexes end with seq, the tie-break of every list order,
-- so that a sorted page can be read in index order.
CREATE UNIQUE INDEX users_id        ON users (tenant_id, id);
CREATE UNIQUE INDEX users_user_name ON users (tenant_id, user_name_fold);
CREATE INDEX users_external_id      ON users (tenant_id, external_id, seq);
CREATE INDEX users_display_name     ON users (tenant_id, display_name_fold, seq);
CREATE INDEX users_seq              ON users (tenant_id, seq);
CREATE INDEX users_created          ON users (tenant_id, created, seq);
CREATE INDEX users_modified         ON users (tenant_id, modified, seq);

-- user_counts holds each tenant's number of live users, spread over a few
-- slots that writers pick at random, so that concurrent creates in one
-- tenant do not all queue for one row lock. The writes that add or remove a
-- user update a slot in the same statement (no triggers); an unfiltered list
-- sums the tenant's slots instead of counting its users.
CREATE TABLE user_counts (
    tenant_id BIGINT  NOT NULL REFERENCES tenants (id),
    slot      INTEGER NOT NULL,
    n         BIGINT  NOT NULL,
    PRIMARY KEY (tenant_id, slot)
);

-- user_emails mirrors doc's emails, one row per element (pos is its index),
-- so that emails filters are index lookups. The *_fold columns are
-- scim.Fold of their neighbours.
CREATE TABLE user_emails (
    user_seq     BIGINT  NOT NULL REFERENCES users (seq) ON DELETE CASCADE,
    pos          INTEGER NOT NULL,
    tenant_id    BIGINT  NOT NULL,
    value        TEXT COLLATE "C",
    value_fold   TEXT COLLATE "C",
    type         TEXT COLLATE "C",
    type_fold    TEXT COLLATE "C",
    display      TEXT COLLATE "C",
    display_fold TEXT COLLATE "C",
    is_primary   BOOLEAN,
    PRIMARY KEY (user_seq, pos)
);
CREATE INDEX user_emails_value ON user_emails (tenant_id, value_fold);

-- archived_users holds users deleted with archive: out of SCIM's sight (their
-- userName is free again) until purged. seq is the live row's seq.
CREATE TABLE archived_users (
    seq           BIGINT  PRIMARY KEY,
    tenant_id     BIGINT  NOT NULL REFERENCES tenants (id),
    id            TEXT COLLATE "C" NOT NULL,
    version       BIGINT  NOT NULL,
    created       BIGINT  NOT NULL,
    modified      BIGINT  NOT NULL,
    deleted       BIGINT  NOT NULL,
    user_name     TEXT    NOT NULL,
    external_id   TEXT,
    doc           JSONB   NOT NULL,
    password_hash TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX archived_users_id      ON archived_users (tenant_id, id);
CREATE INDEX archived_users_deleted ON archived_users (tenant_id, deleted);
