-- 0006: secrets every instance of one deployment shares (the key that seals
-- list cursors), made by the first instance that needs one.
CREATE TABLE server_secrets (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
) STRICT, WITHOUT ROWID;
