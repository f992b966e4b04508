-- 0008: application keys, the deployment-wide read-only credentials of the
-- host application (the vendor's own product) for /api/v1. Like tenant
-- keys, only a SHA-256 hash of the secret is kept. A key reads every
-- tenant (all_tenants), those created later included, or only the tenants
-- app_key_tenants lists.
CREATE TABLE app_keys (
    id          TEXT    PRIMARY KEY,
    name        TEXT    NOT NULL,
    secret_hash BLOB    NOT NULL,
    all_tenants INTEGER NOT NULL,
    created_by  TEXT    NOT NULL,
    created     INTEGER NOT NULL,
    revoked     INTEGER,           -- NULL: not revoked
    last_used   INTEGER            -- NULL: never used
) STRICT;

CREATE TABLE app_key_tenants (
    key_id    TEXT    NOT NULL REFERENCES app_keys (id) ON DELETE CASCADE,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    PRIMARY KEY (key_id, tenant_id)
) STRICT, WITHOUT ROWID;
