-- 0013: API keys without foot-guns.
--
-- Rotation keeps a key's User ID and replaces its secret: prev_secret_hash
-- is the secret the last rotation replaced, accepted until prev_expires
-- (only one previous secret is kept); rotated is the last rotation's time.
-- successor_id is the key made to replace this one once it ended.
ALTER TABLE api_keys ADD COLUMN prev_secret_hash BYTEA;
ALTER TABLE api_keys ADD COLUMN prev_expires BIGINT;
ALTER TABLE api_keys ADD COLUMN rotated BIGINT;
ALTER TABLE api_keys ADD COLUMN successor_id TEXT COLLATE "C";

-- Key names are unique per tenant under scim.Fold among the live keys
-- (not revoked, not replaced). scimd writes name_fold with scim.Fold; for
-- the existing keys, lower(upper(name)) is the same fold wherever the
-- database's ctype knows the letters (a C-locale database folds only
-- ASCII here, so an old non-ASCII name may fail to clash with a new one
-- that differs from it only in case). Existing duplicates keep the name on
-- their oldest key; the later ones become "name (2)", "name (3)", ...
-- and, in the unlikely case that such a name is taken too, get their User
-- ID appended, which no other key has.
ALTER TABLE api_keys ADD COLUMN name_fold TEXT COLLATE "C" NOT NULL DEFAULT '';
UPDATE api_keys SET name_fold = lower(upper(name));
UPDATE api_keys SET name = api_keys.name || ' (' || d.n || ')'
    FROM (SELECT id, row_number() OVER (PARTITION BY tenant_id, name_fold ORDER BY created, id) AS n
          FROM api_keys WHERE revoked IS NULL) AS d
    WHERE d.id = api_keys.id AND d.n > 1;
UPDATE api_keys SET name_fold = lower(upper(name));
UPDATE api_keys SET name = api_keys.name || ' (' || api_keys.id || ')'
    FROM (SELECT id, row_number() OVER (PARTITION BY tenant_id, name_fold ORDER BY created, id) AS n
          FROM api_keys WHERE revoked IS NULL) AS d
    WHERE d.id = api_keys.id AND d.n > 1;
UPDATE api_keys SET name_fold = lower(upper(name));
CREATE UNIQUE INDEX api_keys_live_name ON api_keys (tenant_id, name_fold) WHERE revoked IS NULL AND successor_id IS NULL;

-- api_key_reveals holds a just-issued secret until the console shows it,
-- once: sealed with a key derived from the session's cookie, which the
-- database never sees (see internal/console/reveal.go).
CREATE TABLE api_key_reveals (
    session_hash BYTEA  NOT NULL REFERENCES console_sessions (id_hash) ON DELETE CASCADE,
    key_id       TEXT COLLATE "C" NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    sealed       BYTEA  NOT NULL,
    expires      BIGINT NOT NULL,
    PRIMARY KEY (session_hash, key_id)
);
CREATE INDEX api_key_reveals_key ON api_key_reveals (key_id);
