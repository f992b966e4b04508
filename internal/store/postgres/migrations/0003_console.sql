-- 0003: the admin console: operators, sessions, roles, sign-in throttling,
-- provisioning activity. The same tables as SQLite's 0003_console.sql, with
-- the conventions of 0001: times are BIGINT unix nanoseconds (an unset time
-- is NULL), text that is compared or sorted is COLLATE "C", and every
-- tenant-scoped key and index leads with tenant_id.

-- operators: email_fold is scim.Fold(email), computed in Go; its unique
-- index makes e-mail addresses unique case-insensitively.
CREATE TABLE operators (
    id            BIGSERIAL PRIMARY KEY,
    email         TEXT   NOT NULL,
    email_fold    TEXT COLLATE "C" NOT NULL UNIQUE,
    password_hash TEXT   NOT NULL,
    created       BIGINT NOT NULL
);

-- console_sessions: id_hash is SHA-256 of the cookie's secret. A tenant
-- user's session has tenant_id and user_id; an operator's has operator_id.
CREATE TABLE console_sessions (
    id_hash     BYTEA  PRIMARY KEY,
    tenant_id   BIGINT NOT NULL DEFAULT 0,
    user_id     TEXT COLLATE "C" NOT NULL DEFAULT '',
    operator_id BIGINT NOT NULL DEFAULT 0,
    csrf        TEXT   NOT NULL,
    created     BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL,
    expires     BIGINT NOT NULL
);
CREATE INDEX console_sessions_user ON console_sessions (tenant_id, user_id);

-- roles: permissions are permission names (store.Permissions).
CREATE TABLE roles (
    id          BIGSERIAL PRIMARY KEY,
    tenant_id   BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name        TEXT COLLATE "C" NOT NULL,
    permissions TEXT[] NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX roles_name ON roles (tenant_id, name);

-- user_roles: user_id is users.id (or an archived user's id: a restored
-- user keeps their roles).
CREATE TABLE user_roles (
    tenant_id BIGINT NOT NULL,
    user_id   TEXT COLLATE "C" NOT NULL,
    role_id   BIGINT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    PRIMARY KEY (tenant_id, user_id, role_id)
);

-- signin_throttle: key is the throttle key's bytes (it is built from what
-- a sign-in form was given, which need not be valid UTF-8).
CREATE TABLE signin_throttle (
    key          BYTEA  PRIMARY KEY,
    failures     BIGINT NOT NULL,
    last_failure BIGINT,
    locked_until BIGINT
);

-- activity: one row per SCIM request. id is the order of the log (BIGSERIAL:
-- creation order on PostgreSQL, roughly so on CockroachDB). changes is the
-- JSON array of store.Change as text: it is never queried, only shown.
CREATE TABLE activity (
    id            BIGSERIAL PRIMARY KEY,
    tenant_id     BIGINT NOT NULL,
    at            BIGINT NOT NULL,
    request_id    TEXT   NOT NULL,
    key_id        TEXT COLLATE "C" NOT NULL,
    client        TEXT COLLATE "C" NOT NULL,
    user_agent    TEXT   NOT NULL,
    method        TEXT COLLATE "C" NOT NULL,
    path          TEXT COLLATE "C" NOT NULL,
    resource_type TEXT COLLATE "C" NOT NULL,
    resource_id   TEXT COLLATE "C" NOT NULL,
    status        INTEGER NOT NULL,
    changes       TEXT   NOT NULL DEFAULT '[]'
);
CREATE INDEX activity_tenant   ON activity (tenant_id, id);
CREATE INDEX activity_resource ON activity (tenant_id, resource_id, id);
CREATE INDEX activity_key      ON activity (tenant_id, key_id, id);
CREATE INDEX activity_at       ON activity (at);
