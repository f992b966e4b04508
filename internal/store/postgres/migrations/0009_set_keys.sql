-- 0009: Security Event Tokens (RFC 8417, RFC 9967).
--
-- set_keys: the keys that sign SETs. The one that signs has signing = 1
-- (unique: two instances creating the first key at once, or two
-- rotations racing, cannot both leave one); the keys it replaced stay
-- published in the JWKS until published_until. The private key is sealed
-- by scimd (AES-256-GCM) before it is stored; public_key is PKIX DER.
CREATE TABLE set_keys (
    id              TEXT COLLATE "C" PRIMARY KEY,
    algorithm       TEXT COLLATE "C" NOT NULL,
    public_key      BYTEA NOT NULL,
    sealed          BYTEA NOT NULL,
    created         BIGINT NOT NULL,
    signing         INTEGER UNIQUE CHECK (signing = 1),
    retired         BIGINT,
    published_until BIGINT
);

-- set_pollers: where each receiver polling for SETs (RFC 8936) stands in
-- the event log: every event at or before (tx, seq) is acknowledged. A
-- floor only moves forward, so concurrent polls of one poller through
-- several instances need no lock. set_acks: the events after it that the
-- poller acknowledged out of order.
CREATE TABLE set_pollers (
    id      TEXT COLLATE "C" PRIMARY KEY,
    tx      BIGINT NOT NULL,
    seq     BIGINT NOT NULL,
    created BIGINT NOT NULL
);
CREATE TABLE set_acks (
    poller TEXT COLLATE "C" NOT NULL REFERENCES set_pollers (id) ON DELETE CASCADE,
    tx     BIGINT NOT NULL,
    seq    BIGINT NOT NULL,
    PRIMARY KEY (poller, tx, seq)
);
