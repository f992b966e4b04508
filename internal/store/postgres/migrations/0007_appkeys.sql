-- 0007: application keys, the deployment-wide read-only credentials of the
-- host application (the vendor's own product) for /api/v1. Like tenant
-- keys, only a SHA-256 hash of the secret is kept. A key reads every
-- tenant (all_tenants), those created later included, or only the tenants
-- app_key_tenants lists.
CREATE TABLE app_keys (
    id          TEXT COLLATE "C" PRIMARY KEY,
    name        TEXT    NOT NULL,
    secret_hash BYTEA   NOT NULL,
    all_tenants BOOLEAN NOT NULL,
    created_by  TEXT    NOT NULL,
    created     BIGINT  NOT NULL,
    revoked     BIGINT,           -- NULL: not revoked
    last_used   BIGINT            -- NULL: never used
);

CREATE TABLE app_key_tenants (
    key_id    TEXT COLLATE "C" NOT NULL REFERENCES app_keys (id) ON DELETE CASCADE,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    PRIMARY KEY (key_id, tenant_id)
);
