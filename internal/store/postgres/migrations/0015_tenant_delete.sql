-- 0015: deleted tenants and the counts the operator pages show.
--
-- A deleted tenant keeps its row as a tombstone: its id is never handed
-- out again (ids appear in events, webhook filters and application keys)
-- and its name stays reserved, so that a stale identity-provider
-- configuration never reaches a new customer's tenant. deleted is when it
-- was deleted; purged is when the last of its data was removed (NULL
-- while that is still to do).
ALTER TABLE tenants ADD COLUMN deleted BIGINT;
ALTER TABLE tenants ADD COLUMN purged BIGINT;
-- A tenant's inactive users, counted through a small index (the active
-- ones are the live count minus these).
CREATE INDEX users_inactive ON users (tenant_id) WHERE active = FALSE;
