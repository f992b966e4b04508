-- 0001: tenants, API keys, users with their e-mail side table, archived users.
--
-- Times are INTEGER unix nanoseconds (UTC), which sort like the times they
-- encode. Every tenant-scoped index leads with tenant_id. user_emails is keyed
-- by user_seq, which is globally unique (users.seq is AUTOINCREMENT) and is
-- what the ON DELETE CASCADE of users needs; its lookup index leads with
-- tenant_id.

CREATE TABLE tenants (
    id                  INTEGER PRIMARY KEY,
    name                TEXT    NOT NULL UNIQUE,
    created             INTEGER NOT NULL,
    provisioning_active INTEGER NOT NULL DEFAULT 0,
    api_keys_enabled    INTEGER NOT NULL DEFAULT 1,
    password_signin     INTEGER NOT NULL DEFAULT 1,
    on_delete           TEXT    NOT NULL DEFAULT 'archive' CHECK (on_delete IN ('archive', 'purge'))
) STRICT;

CREATE TABLE api_keys (
    id          TEXT    PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    scope       TEXT    NOT NULL,
    secret_hash BLOB    NOT NULL,
    created_by  TEXT    NOT NULL,
    created     INTEGER NOT NULL,
    expires     INTEGER,           -- NULL: never
    revoked     INTEGER,           -- NULL: not revoked
    last_used   INTEGER            -- NULL: never used
) STRICT;
CREATE INDEX api_keys_tenant_created ON api_keys (tenant_id, created);

-- users holds the live users. seq is the stable creation order used for
-- paging; doc is store.User.Attrs as JSONB (SQLite's binary JSON, read back
-- with json(doc)); the other columns are derived from doc on every write
-- (see derive in users.go).
CREATE TABLE users (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id         INTEGER NOT NULL REFERENCES tenants (id),
    id                TEXT    NOT NULL,
    version           INTEGER NOT NULL,
    created           INTEGER NOT NULL,
    modified          INTEGER NOT NULL,
    user_name         TEXT    NOT NULL,
    user_name_fold    TEXT    NOT NULL,
    external_id       TEXT,
    display_name_fold TEXT,
    active            INTEGER NOT NULL,
    doc               BLOB    NOT NULL,
    password_hash     TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE UNIQUE INDEX users_id        ON users (tenant_id, id);
CREATE UNIQUE INDEX users_user_name ON users (tenant_id, user_name_fold);
CREATE INDEX users_external_id      ON users (tenant_id, external_id);
CREATE INDEX users_display_name     ON users (tenant_id, display_name_fold);
CREATE INDEX users_seq              ON users (tenant_id, seq);
CREATE INDEX users_created          ON users (tenant_id, created);
CREATE INDEX users_modified         ON users (tenant_id, modified);

-- user_counts holds each tenant's number of live users, kept by triggers, so
-- that an unfiltered list knows its total without counting.
CREATE TABLE user_counts (
    tenant_id INTEGER PRIMARY KEY REFERENCES tenants (id),
    n         INTEGER NOT NULL
) STRICT;
CREATE TRIGGER users_count_insert AFTER INSERT ON users BEGIN
    INSERT INTO user_counts (tenant_id, n) VALUES (NEW.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER users_count_delete AFTER DELETE ON users BEGIN
    UPDATE user_counts SET n = n - 1 WHERE tenant_id = OLD.tenant_id;
END;

-- user_emails mirrors doc's emails, one row per element (pos is its index),
-- so that emails filters are index lookups. value_fold is scim.Fold(value).
CREATE TABLE user_emails (
    user_seq   INTEGER NOT NULL REFERENCES users (seq) ON DELETE CASCADE,
    pos        INTEGER NOT NULL,
    tenant_id  INTEGER NOT NULL,
    value      TEXT,
    value_fold TEXT,
    type       TEXT,
    display    TEXT,
    is_primary INTEGER,
    PRIMARY KEY (user_seq, pos)
) STRICT, WITHOUT ROWID;
CREATE INDEX user_emails_value ON user_emails (tenant_id, value_fold);

-- archived_users holds users deleted with archive: out of SCIM's sight (their
-- userName is free again) until purged. seq is the live row's seq.
CREATE TABLE archived_users (
    seq           INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants (id),
    id            TEXT    NOT NULL,
    version       INTEGER NOT NULL,
    created       INTEGER NOT NULL,
    modified      INTEGER NOT NULL,
    deleted       INTEGER NOT NULL,
    user_name     TEXT    NOT NULL,
    external_id   TEXT,
    doc           BLOB    NOT NULL,
    password_hash TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX archived_users_id      ON archived_users (tenant_id, id);
CREATE INDEX archived_users_deleted ON archived_users (tenant_id, deleted);
