-- 0007: the event log (the outbox). Every change to a user, a group, a
-- membership, a tenant's activation or a key writes its rows here in the
-- change's own transaction. SQLite commits one writer at a time, so seq is
-- the commit order and tx is always 0 (PostgreSQL's orders its concurrent
-- writers). AUTOINCREMENT: a seq is never handed out twice, even after
-- retention deleted the newest rows.
CREATE TABLE events (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    tx            INTEGER NOT NULL DEFAULT 0,
    id            TEXT    NOT NULL,
    at            INTEGER NOT NULL,
    tenant_id     INTEGER NOT NULL,
    type          TEXT    NOT NULL,
    resource_type TEXT    NOT NULL,
    resource_id   TEXT    NOT NULL,
    actor         TEXT    NOT NULL,
    data          TEXT    NOT NULL
) STRICT;
-- The whole feed, and a tenant's, in order.
CREATE INDEX events_order ON events (tx, seq);
CREATE INDEX events_tenant ON events (tenant_id, tx, seq);
-- The events of one resource, for scrubbing a purged user.
CREATE INDEX events_resource ON events (tenant_id, resource_id);

-- event_horizon: the position of the newest event retention deleted; a
-- cursor before it has missed events.
CREATE TABLE event_horizon (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    tx  INTEGER NOT NULL,
    seq INTEGER NOT NULL
) STRICT;
