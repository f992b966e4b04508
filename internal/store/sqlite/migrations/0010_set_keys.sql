-- 0010: Security Event Tokens (RFC 8417, RFC 9967).
--
-- set_keys: the keys that sign SETs. The one that signs has signing = 1
-- (unique: there is never a second); the keys it replaced stay published
-- in the JWKS until published_until. The private key is sealed by scimd
-- (AES-256-GCM) before it is stored; public_key is PKIX DER.
CREATE TABLE set_keys (
    id              TEXT    PRIMARY KEY,
    algorithm       TEXT    NOT NULL,
    public_key      BLOB    NOT NULL,
    sealed          BLOB    NOT NULL,
    created         INTEGER NOT NULL,
    signing         INTEGER UNIQUE CHECK (signing = 1),
    retired         INTEGER,
    published_until INTEGER
) STRICT;

-- set_pollers: where each receiver polling for SETs (RFC 8936) stands in
-- the event log: every event at or before (tx, seq) is acknowledged.
-- set_acks: the events after it that the poller acknowledged out of order.
CREATE TABLE set_pollers (
    id      TEXT    PRIMARY KEY,
    tx      INTEGER NOT NULL,
    seq     INTEGER NOT NULL,
    created INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE TABLE set_acks (
    poller TEXT    NOT NULL REFERENCES set_pollers (id) ON DELETE CASCADE,
    tx     INTEGER NOT NULL,
    seq    INTEGER NOT NULL,
    PRIMARY KEY (poller, tx, seq)
) STRICT, WITHOUT ROWID;
