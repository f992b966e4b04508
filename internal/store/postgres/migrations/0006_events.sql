-- 0006: the event log (the outbox). Every change to a user, a group, a
-- membership, a tenant's activation or a key writes its rows here in the
-- change's own transaction.
--
-- Order: several instances commit concurrently, so a sequence number taken
-- before commit does not give the commit order (seq 7 may commit after seq
-- 8, and a reader that went past 8 would never see 7). Each row records
-- the id of the transaction that wrote it (tx); readers see only the rows
-- of transactions older than every transaction still running
-- (pg_snapshot_xmin of the current snapshot), in (tx, seq) order. A row
-- becomes visible once nothing before it can still commit: no gaps.
CREATE TABLE events (
    seq           BIGSERIAL PRIMARY KEY,
    tx            BIGINT NOT NULL DEFAULT CAST(CAST(pg_current_xact_id() AS text) AS bigint),
    id            TEXT COLLATE "C" NOT NULL,
    at            BIGINT NOT NULL,
    tenant_id     BIGINT NOT NULL,
    type          TEXT COLLATE "C" NOT NULL,
    resource_type TEXT COLLATE "C" NOT NULL,
    resource_id   TEXT COLLATE "C" NOT NULL,
    actor         TEXT NOT NULL,
    data          TEXT NOT NULL
);
-- The whole feed, and a tenant's, in order.
CREATE INDEX events_order ON events (tx, seq);
CREATE INDEX events_tenant ON events (tenant_id, tx, seq);
-- The events of one resource, for scrubbing a purged user.
CREATE INDEX events_resource ON events (tenant_id, resource_id);

-- event_horizon: the position of the newest event retention deleted; a
-- cursor before it has missed events.
CREATE TABLE event_horizon (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    tx  BIGINT NOT NULL,
    seq BIGINT NOT NULL
);
