-- 0011: what a webhook endpoint receives: Standard Webhooks messages
-- ("standard") or RFC 8935 pushes of RFC 9967 Security Event Tokens
-- ("set").
ALTER TABLE webhook_endpoints ADD COLUMN format TEXT NOT NULL DEFAULT 'standard' CHECK (format IN ('standard', 'set'));
