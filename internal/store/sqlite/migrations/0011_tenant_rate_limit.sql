-- 0011: a tenant's rate limit, requests per second per API key (0: the
-- server's default).
ALTER TABLE tenants ADD COLUMN rate_limit INTEGER NOT NULL DEFAULT 0;
