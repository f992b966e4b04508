package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"time"

	"github.com/scimd/scimd/internal/scim"
	"github.com/scimd/scimd/internal/store"
)

// Principal is the authenticated caller of a SCIM request.
type Principal struct {
	Tenant store.Tenant
	KeyID  string
	Scope  string
}

// CanWrite reports whether the principal may change resources.
func (p Principal) CanWrite() bool { return p.Scope == store.ScopeWrite }

type principalKey struct{}

// WithPrincipal returns a copy of ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal stored in ctx by WithPrincipal.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// Authenticator checks API keys against the store. Revocation, expiry and
// rotation are read from the store on every request, so a key revoked (or
// an old secret whose overlap ended) through any scimd instance is refused
// on the very next request.
type Authenticator struct {
	Store  store.Store
	Logger *slog.Logger
	Now    func() time.Time

	touches Touches
}

// Reasons of a [Failure], for metrics: every 401 of Authenticate has one.
const (
	FailMissing      = "missing"       // no Authorization header
	FailMalformed    = "malformed"     // not a User ID and API key
	FailUnknownKey   = "unknown_key"   // no key has the User ID
	FailWrongTenant  = "wrong_tenant"  // the key is another tenant's
	FailWrongSecret  = "wrong_secret"  // the API key is not the User ID's
	FailKeysDisabled = "keys_disabled" // the tenant's API Keys option is off
	FailRevoked      = "revoked"
	FailExpired      = "expired"
)

// Failure is the error of a failed authentication: the 401 the client
// gets, and the reason, which only the server's metrics see (the client's
// detail does not tell an unknown User ID from a wrong key).
type Failure struct {
	Reason string
	Err    *scim.Error
}

func (f *Failure) Error() string { return f.Err.Error() }
func (f *Failure) Unwrap() error { return f.Err }

func fail(reason, format string, args ...any) error {
	return &Failure{Reason: reason, Err: scim.Unauthorized(format, args...)}
}

// Authenticate returns the principal for an Authorization header value at
// tenant t, or a *Failure (a 401 *scim.Error whose detail says why).
//
// Whether the tenant has its API Keys option off is said only to the holder
// of one of its keys: without one, every tenant, and a tenant that does
// not exist, answers alike.
func (a *Authenticator) Authenticate(ctx context.Context, t store.Tenant, header string) (Principal, error) {
	if header == "" {
		return Principal{}, fail(FailMissing, "authentication required: send the API key as Authorization: Basic base64(userId:apiKey) or Bearer")
	}
	id, secret, err := ParseAuthorization(header)
	if err != nil {
		return Principal{}, fail(FailMalformed, "invalid credentials: the Authorization header does not carry a valid User ID and API key")
	}
	k, err := a.Store.APIKey(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, fail(FailUnknownKey, invalidKey)
	}
	if err != nil {
		return Principal{}, scim.Internal(err)
	}
	// Compared before the tenant is, so that every existing key costs the
	// same whatever tenant it is sent to.
	now := a.Now()
	if !KeySecretMatches(k, secret, now) {
		return Principal{}, fail(FailWrongSecret, invalidKey)
	}
	if k.TenantID != t.ID {
		return Principal{}, fail(FailWrongTenant, invalidKey)
	}
	if !t.APIKeysEnabled {
		return Principal{}, fail(FailKeysDisabled, "API keys are disabled for this tenant: a tenant admin must enable the API Keys option in General Settings")
	}
	if !k.Revoked.IsZero() && !now.Before(k.Revoked) {
		return Principal{}, fail(FailRevoked, "invalid credentials: this API key has been revoked")
	}
	if !k.Expires.IsZero() && !now.Before(k.Expires) {
		return Principal{}, fail(FailExpired, "invalid credentials: this API key expired at %s", k.Expires.UTC().Format(time.RFC3339))
	}
	a.touch(k, now)
	return Principal{Tenant: t, KeyID: k.ID, Scope: k.Scope}, nil
}

// KeySecretMatches reports whether secret is k's at time now: its current
// secret, or the one its last rotation replaced while that overlap lasts
// (revocation and expiry, which end both, are checked apart). Both hashes
// are compared, in constant time, whichever matches.
func KeySecretMatches(k store.APIKey, secret string, now time.Time) bool {
	h := HashSecret(secret)
	cur := subtle.ConstantTimeCompare(h, k.SecretHash) == 1
	prev := len(k.PrevSecretHash) > 0 && subtle.ConstantTimeCompare(h, k.PrevSecretHash) == 1
	return cur || prev && now.Before(k.PrevExpires)
}

const invalidKey = "invalid credentials: unknown User ID or wrong API key for this tenant"

// FailureReason is the reason of a *Failure in err's chain, or "".
func FailureReason(err error) string {
	var f *Failure
	if errors.As(err, &f) {
		return f.Reason
	}
	return ""
}

// touch records the key's use in the background, at most once per
// TouchEvery per key and process (Touches).
func (a *Authenticator) touch(k store.APIKey, now time.Time) {
	if !a.touches.Due(k.ID, k.LastUsed, now) {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := a.Store.TouchAPIKey(ctx, k.ID, now); err != nil && a.Logger != nil {
			a.Logger.Warn("recording API key use failed", "key", k.ID, "err", err)
		}
	}()
}
