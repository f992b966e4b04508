-- 0009: webhook endpoints (Standard Webhooks), and their last deliveries.
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
-- takes the lease over only once it has expired (a conditional UPDATE).
-- Times are unix nanoseconds, NULL when unset.
CREATE TABLE webhook_endpoints (
    id                TEXT    PRIMARY KEY,
    url               TEXT    NOT NULL,
    tenants           TEXT    NOT NULL,
    types             TEXT    NOT NULL,
    state             TEXT    NOT NULL CHECK (state IN ('active', 'disabled', 'failing')),
    state_reason      TEXT    NOT NULL DEFAULT '',
    secret            BLOB    NOT NULL,
    prev_secret       BLOB,
    prev_secret_until INTEGER,
    pos_tx            INTEGER NOT NULL,
    pos_seq           INTEGER NOT NULL,
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt      INTEGER,
    failing_since     INTEGER,
    last_error        TEXT    NOT NULL DEFAULT '',
    last_success      INTEGER,
    created           INTEGER NOT NULL,
    lease_holder      TEXT,
    lease_expires     INTEGER
) STRICT, WITHOUT ROWID;

-- webhook_deliveries: the last attempts of each endpoint (the store keeps
-- the newest 100 per endpoint). status is the HTTP status, 0 when there
-- was no answer; latency is in nanoseconds; error is "" on success.
CREATE TABLE webhook_deliveries (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id TEXT    NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    at          INTEGER NOT NULL,
    event_id    TEXT    NOT NULL,
    event_type  TEXT    NOT NULL,
    attempt     INTEGER NOT NULL,
    status      INTEGER NOT NULL,
    latency     INTEGER NOT NULL,
    error       TEXT    NOT NULL
) STRICT;
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, seq);
