-- 0014: API keys without foot-guns.
--
-- Rotation keeps a key's User ID and replaces its secret: prev_secret_hash
-- is the secret the last rotation replaced, accepted until prev_expires
-- (only one previous secret is kept); rotated is the last rotation's time.
-- successor_id is the key made to replace this one once it ended.
ALTER TABLE api_keys ADD COLUMN prev_secret_hash BLOB;
ALTER TABLE api_keys ADD COLUMN prev_expires INTEGER;
ALTER TABLE api_keys ADD COLUMN rotated INTEGER;
ALTER TABLE api_keys ADD COLUMN successor_id TEXT;

-- Key names are unique per tenant under scim.Fold among the live keys
-- (not revoked, not replaced). Existing duplicates keep the name on their
-- oldest key; the later ones become "name (2)", "name (3)", ... and, in
-- the unlikely case that such a name is taken too, get their User ID
-- appended, which no other key has.
ALTER TABLE api_keys ADD COLUMN name_fold TEXT NOT NULL DEFAULT '';
UPDATE api_keys SET name_fold = scim_fold(name);
UPDATE api_keys SET name = name || ' (' || (
        SELECT d.n FROM (SELECT id, row_number() OVER (PARTITION BY tenant_id, name_fold ORDER BY created, id) AS n
                         FROM api_keys WHERE revoked IS NULL) AS d WHERE d.id = api_keys.id) || ')'
    WHERE id IN (SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY tenant_id, name_fold ORDER BY created, id) AS n
                                 FROM api_keys WHERE revoked IS NULL) WHERE n > 1);
UPDATE api_keys SET name_fold = scim_fold(name);
UPDATE api_keys SET name = name || ' (' || id || ')'
    WHERE id IN (SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY tenant_id, name_fold ORDER BY created, id) AS n
                                 FROM api_keys WHERE revoked IS NULL) WHERE n > 1);
UPDATE api_keys SET name_fold = scim_fold(name);
CREATE UNIQUE INDEX api_keys_live_name ON api_keys (tenant_id, name_fold) WHERE revoked IS NULL AND successor_id IS NULL;

-- api_key_reveals holds a just-issued secret until the console shows it,
-- once: sealed with a key derived from the session's cookie, which the
-- database never sees (see internal/console/reveal.go).
CREATE TABLE api_key_reveals (
    session_hash BLOB    NOT NULL REFERENCES console_sessions (id_hash) ON DELETE CASCADE,
    key_id       TEXT    NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    sealed       BLOB    NOT NULL,
    expires      INTEGER NOT NULL,
    PRIMARY KEY (session_hash, key_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX api_key_reveals_key ON api_key_reveals (key_id);
