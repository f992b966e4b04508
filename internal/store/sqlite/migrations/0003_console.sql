-- 0003: the admin console: operators, sessions, roles, sign-in throttling,
-- provisioning activity. (0002 is the groups migration.)

CREATE TABLE operators (
    id            INTEGER PRIMARY KEY,
    email         TEXT    NOT NULL,
    email_fold    TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    created       INTEGER NOT NULL
) STRICT;

-- console_sessions: id_hash is SHA-256 of the cookie's secret. A tenant
-- user's session has tenant_id and user_id; an operator's has operator_id.
CREATE TABLE console_sessions (
    id_hash     BLOB    PRIMARY KEY,
    tenant_id   INTEGER NOT NULL DEFAULT 0,
    user_id     TEXT    NOT NULL DEFAULT '',
    operator_id INTEGER NOT NULL DEFAULT 0,
    csrf        TEXT    NOT NULL,
    created     INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    expires     INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX console_sessions_user ON console_sessions (tenant_id, user_id);

-- roles: permissions is a space-separated list of permission names.
CREATE TABLE roles (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    permissions TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE UNIQUE INDEX roles_name ON roles (tenant_id, name);

-- user_roles: user_id is users.id (or an archived user's id: a restored
-- user keeps their roles).
CREATE TABLE user_roles (
    tenant_id INTEGER NOT NULL,
    user_id   TEXT    NOT NULL,
    role_id   INTEGER NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    PRIMARY KEY (tenant_id, user_id, role_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE signin_throttle (
    key          TEXT    PRIMARY KEY,
    failures     INTEGER NOT NULL,
    last         INTEGER NOT NULL,
    locked_until INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- activity: one row per SCIM request; changes is a JSON array of
-- store.Change.
CREATE TABLE activity (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id     INTEGER NOT NULL,
    time          INTEGER NOT NULL,
    request_id    TEXT    NOT NULL,
    key_id        TEXT    NOT NULL,
    client        TEXT    NOT NULL,
    user_agent    TEXT    NOT NULL,
    method        TEXT    NOT NULL,
    path          TEXT    NOT NULL,
    resource_type TEXT    NOT NULL,
    resource_id   TEXT    NOT NULL,
    status        INTEGER NOT NULL,
    changes       TEXT    NOT NULL DEFAULT '[]'
) STRICT;
CREATE INDEX activity_tenant   ON activity (tenant_id, id);
CREATE INDEX activity_resource ON activity (tenant_id, resource_id, id);
CREATE INDEX activity_key      ON activity (tenant_id, key_id, id);
CREATE INDEX activity_time     ON activity (time);
