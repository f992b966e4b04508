package store

import (
	"context"
	"time"
)

// SETKey is a key that signs Security Event Tokens (RFC 8417). Exactly
// one key signs at a time; the keys it replaced stay published (in the
// JWKS) until PublishedUntil, so that tokens they signed can still be
// verified.
type SETKey struct {
	ID        string // the JWK "kid"
	Algorithm string // the JWS "alg", e.g. "ES256"
	Public    []byte // the public key, PKIX DER
	// Sealed is the private key as the caller sealed it: the store never
	// holds it in the clear.
	Sealed  []byte
	Created time.Time
	// Signing reports whether this key signs new tokens.
	Signing bool
	// Retired is when the key stopped signing, PublishedUntil when it
	// leaves the published key set; both zero while it signs.
	Retired        time.Time
	PublishedUntil time.Time
}

// Published reports whether the key belongs in the published key set at
// time now.
func (k SETKey) Published(now time.Time) bool {
	return k.Signing || now.Before(k.PublishedUntil)
}

// SETPoller is where a receiver that polls for Security Event Tokens
// (RFC 8936) stands in the event log.
type SETPoller struct {
	ID string
	// Floor is the position up to which the poller is done: every event
	// at or before it was acknowledged (or was never the poller's).
	Floor EventPosition
	// Acked are the positions after Floor that the poller acknowledged
	// out of order, ascending.
	Acked []EventPosition
}

// MaxSETAcks is the most out-of-order acknowledgements a poller keeps
// after its floor (AckSETs stores no more).
const MaxSETAcks = 2000

// SETStore keeps what Security Event Tokens need: the keys that sign them
// and the positions of the receivers that poll for them. Backends
// implement it next to Store; reach it by type assertion.
type SETStore interface {
	// AddSETKey stores k as the key that signs (k.Signing is ignored).
	// With rotate, the key that signed until now is retired at k.Created
	// and stays published until publishUntil, and keys whose publication
	// ended by k.Created are deleted. Without rotate, AddSETKey returns
	// ErrConflict when a key signs already: another instance made the
	// first key. A rotation that races another returns ErrConflict too.
	AddSETKey(ctx context.Context, k SETKey, rotate bool, publishUntil time.Time) error
	// SETKeys lists the stored keys, newest first.
	SETKeys(ctx context.Context) ([]SETKey, error)

	// SETPoller returns a poller; a new one is created at the oldest
	// retained event (the event log's horizon).
	SETPoller(ctx context.Context, id string) (SETPoller, error)
	// AckSETs records what a poller acknowledged: its floor moves to
	// floor unless it is past it already (concurrent polls of one poller
	// never move it back), the positions of acked after the floor are
	// added (at most MaxSETAcks are kept), and those at or before the
	// floor are forgotten.
	AckSETs(ctx context.Context, id string, floor EventPosition, acked []EventPosition) error
	// ResetSETPoller moves a poller to the oldest retained event and
	// forgets its acknowledgements: what a reader does after ReadEvents
	// answered ErrEventsExpired.
	ResetSETPoller(ctx context.Context, id string) error
}
