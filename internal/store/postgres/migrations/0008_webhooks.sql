-- 0008: webhook endpoints (Standard Webhooks), and their last deliveries.
-- The same tables as SQLite's 0009_webhooks.sql.
--
-- webhook_endpoints: one row per endpoint, which is also its delivery
-- state and its lease. tenants and types are JSON arrays (tenant ids; type
-- patterns as the events API takes them), [] for all. secret and
-- prev_secret are sealed (AES-256-GCM, key in server_secrets) by the
-- webhook package; the store never sees them in plain text. (pos_tx,
-- pos_seq) is the event log position the endpoint has delivered through
-- ((0, 0): from the oldest retained event). attempts, next_attempt and
-- failing_since are the retry state of the event after it. lease_holder is
-- the instance that delivers for the endpoint until lease_expires; another
-- takes the lease over only once it has expired, by an UPDATE whose WHERE
-- clause PostgreSQL re-checks on the row it waited for, so two instances
-- never both hold it. Times are unix nanoseconds, NULL when unset.
CREATE TABLE webhook_endpoints (
    id                TEXT COLLATE "C" PRIMARY KEY,
    url               TEXT   NOT NULL,
    tenants           TEXT   NOT NULL,
    types             TEXT   NOT NULL,
    state             TEXT COLLATE "C" NOT NULL CHECK (state IN ('active', 'disabled', 'failing')),
    state_reason      TEXT   NOT NULL DEFAULT '',
    secret            BYTEA  NOT NULL,
    prev_secret       BYTEA,
    prev_secret_until BIGINT,
    pos_tx            BIGINT NOT NULL,
    pos_seq           BIGINT NOT NULL,
    attempts          BIGINT NOT NULL DEFAULT 0,
    next_attempt      BIGINT,
    failing_since     BIGINT,
    last_error        TEXT   NOT NULL DEFAULT '',
    last_success      BIGINT,
    created           BIGINT NOT NULL,
    lease_holder      TEXT COLLATE "C",
    lease_expires     BIGINT
);

-- webhook_deliveries: the last attempts of each endpoint (the store keeps
-- the newest 100 per endpoint). status is the HTTP status, 0 when there
-- was no answer; latency is in nanoseconds; error is '' on success.
CREATE TABLE webhook_deliveries (
    seq         BIGSERIAL PRIMARY KEY,
    endpoint_id TEXT COLLATE "C" NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    at          BIGINT NOT NULL,
    event_id    TEXT   NOT NULL,
    event_type  TEXT   NOT NULL,
    attempt     BIGINT NOT NULL,
    status      BIGINT NOT NULL,
    latency     BIGINT NOT NULL,
    error       TEXT   NOT NULL
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, seq);
