package secevent

import (
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/scimd/scimd/internal/store"
)

// Algorithm is the JWS algorithm of scimd's SET keys: ECDSA P-256 with
// SHA-256.
const Algorithm = "ES256"

// sealSecret names the server secret (store.Store.Secret) that seals the
// private keys: every instance sharing the database uses the same one.
const sealSecret = "set-key-seal"

// DefaultKeyTTL is how long a Keyring trusts the keys it read: an
// instance signs with a rotated-out key for at most this long, and
// publishes a new key at most this late.
const DefaultKeyTTL = 30 * time.Second

// MinGrace is the shortest grace a rotation accepts: long enough that no
// instance still signs with the old key once it is unpublished.
const MinGrace = time.Minute

// DefaultGrace is how long a rotated-out key stays published by default.
const DefaultGrace = 7 * 24 * time.Hour

// Backend is the storage a Keyring needs.
type Backend interface {
	store.SETStore
	// Secret is store.Store.Secret.
	Secret(ctx context.Context, name string, value []byte) ([]byte, error)
}

// Keyring is the deployment's SET signing keys as the store keeps them.
// It makes and rotates them, seals their private parts with AES-256-GCM
// under a server secret before they are stored (so that a copy of the
// set_keys table alone, a backup of it or an export, does not hold a
// usable key; the database as a whole does, as it holds the secret), and
// caches what it read for TTL.
type Keyring struct {
	Store Backend
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// TTL is how long what was read is trusted; 0 means DefaultKeyTTL.
	TTL    time.Duration
	Logger *slog.Logger

	mu     sync.Mutex
	read   time.Time // when keys were read; zero: never
	keys   []store.SETKey
	signer jose.Signer // of the signing key; nil if none
	kid    string
	aead   cipher.AEAD
}

func (k *Keyring) now() time.Time {
	if k.Now != nil {
		return k.Now()
	}
	return time.Now()
}

// ErrNoKey is returned when there is no signing key: Ensure was not
// called on this database.
var ErrNoKey = errors.New("secevent: no SET signing key (scimd serve makes one; or run \"scimd set-keys rotate\")")

// Ensure makes the first signing key if there is none, and reports
// whether it made it. Several instances may call it at once: one key
// results.
func (k *Keyring) Ensure(ctx context.Context) (bool, error) {
	ks, err := k.Store.SETKeys(ctx)
	if err != nil {
		return false, err
	}
	for _, key := range ks {
		if key.Signing {
			return false, nil
		}
	}
	key, err := k.newKey(ctx)
	if err != nil {
		return false, err
	}
	switch err := k.Store.AddSETKey(ctx, key, false, time.Time{}); {
	case errors.Is(err, store.ErrConflict):
		return false, nil // another instance made it
	case err != nil:
		return false, err
	}
	k.invalidate()
	return true, nil
}

// Rotate makes a new signing key; the one that signed until now stays
// published for grace (at least MinGrace), so that the SETs it signed can
// still be verified, and keys whose grace has ended are deleted.
func (k *Keyring) Rotate(ctx context.Context, grace time.Duration) (store.SETKey, error) {
	if grace < MinGrace {
		return store.SETKey{}, fmt.Errorf("a rotated-out key must stay published for at least %v (instances cache keys for %v), not %v", MinGrace, DefaultKeyTTL, grace)
	}
	key, err := k.newKey(ctx)
	if err != nil {
		return store.SETKey{}, err
	}
	if err := k.Store.AddSETKey(ctx, key, true, key.Created.Add(grace)); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return store.SETKey{}, fmt.Errorf("another rotation ran at the same time; list the keys and rotate again if need be: %w", err)
		}
		return store.SETKey{}, err
	}
	k.invalidate()
	key.Signing = true
	return key, nil
}

// Keys lists the stored keys, newest first, as the store has them now.
func (k *Keyring) Keys(ctx context.Context) ([]store.SETKey, error) {
	return k.Store.SETKeys(ctx)
}

// newKey generates a P-256 key and seals its private part.
func (k *Keyring) newKey(ctx context.Context) (store.SETKey, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return store.SETKey{}, err
	}
	pub, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		return store.SETKey{}, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return store.SETKey{}, err
	}
	jwk := jose.JSONWebKey{Key: &priv.PublicKey}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return store.SETKey{}, err
	}
	kid := base64.RawURLEncoding.EncodeToString(tp) // RFC 7638
	aead, err := k.sealer(ctx)
	if err != nil {
		return store.SETKey{}, err
	}
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	sealed := aead.Seal(nonce, nonce, der, sealAAD(kid))
	return store.SETKey{ID: kid, Algorithm: Algorithm, Public: pub, Sealed: sealed, Created: k.now().UTC()}, nil
}

// sealAAD binds a sealed key to its id: a sealed blob moved to another row
// does not open.
func sealAAD(kid string) []byte { return []byte("scimd set key " + kid) }

// sealer returns the AES-256-GCM of the deployment's seal secret.
func (k *Keyring) sealer(ctx context.Context) (cipher.AEAD, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.aead != nil {
		return k.aead, nil
	}
	fresh := make([]byte, 32)
	rand.Read(fresh)
	key, err := k.Store.Secret(ctx, sealSecret, fresh)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("the SET key seal secret: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	k.aead = aead
	return aead, nil
}

// unseal opens a stored key's private part.
func (k *Keyring) unseal(ctx context.Context, key store.SETKey) (*ecdsa.PrivateKey, error) {
	aead, err := k.sealer(ctx)
	if err != nil {
		return nil, err
	}
	n := aead.NonceSize()
	if len(key.Sealed) < n {
		return nil, fmt.Errorf("SET key %s: sealed key too short", key.ID)
	}
	der, err := aead.Open(nil, key.Sealed[:n], key.Sealed[n:], sealAAD(key.ID))
	if err != nil {
		return nil, fmt.Errorf("SET key %s does not open with this database's seal secret: %w", key.ID, err)
	}
	p, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("SET key %s: %w", key.ID, err)
	}
	priv, ok := p.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("SET key %s is a %T, not an ECDSA key", key.ID, p)
	}
	return priv, nil
}

func (k *Keyring) invalidate() {
	k.mu.Lock()
	k.read = time.Time{}
	k.mu.Unlock()
}

// load reads the keys again when what it read is older than TTL, and
// returns them with the signer of the signing key.
func (k *Keyring) load(ctx context.Context) ([]store.SETKey, jose.Signer, string, error) {
	ttl := k.TTL
	if ttl == 0 {
		ttl = DefaultKeyTTL
	}
	now := k.now()
	k.mu.Lock()
	if !k.read.IsZero() && now.Sub(k.read) < ttl && now.Sub(k.read) >= 0 {
		ks, s, kid := k.keys, k.signer, k.kid
		k.mu.Unlock()
		return ks, s, kid, nil
	}
	prevKid, prevSigner := k.kid, k.signer
	k.mu.Unlock()

	ks, err := k.Store.SETKeys(ctx)
	if err != nil {
		return nil, nil, "", err
	}
	var signer jose.Signer
	var kid string
	for _, key := range ks {
		if !key.Signing {
			continue
		}
		kid = key.ID
		if kid == prevKid && prevSigner != nil {
			signer = prevSigner
			break
		}
		priv, err := k.unseal(ctx, key)
		if err != nil {
			return nil, nil, "", err
		}
		signer, err = jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: priv, KeyID: kid, Algorithm: Algorithm}},
			(&jose.SignerOptions{}).WithType(TokenType))
		if err != nil {
			return nil, nil, "", err
		}
		break
	}
	k.mu.Lock()
	k.read, k.keys, k.signer, k.kid = now, ks, signer, kid
	k.mu.Unlock()
	return ks, signer, kid, nil
}

// sign returns the compact JWS of payload, signed with the signing key.
func (k *Keyring) sign(ctx context.Context, payload []byte) (string, error) {
	_, signer, _, err := k.load(ctx)
	if err != nil {
		return "", err
	}
	if signer == nil {
		return "", ErrNoKey
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

// PublicKeys returns the published key set (RFC 7517 §5): the public
// parts of the signing key and of the rotated-out keys still in their
// grace.
func (k *Keyring) PublicKeys(ctx context.Context) (jose.JSONWebKeySet, error) {
	ks, _, _, err := k.load(ctx)
	if err != nil {
		return jose.JSONWebKeySet{}, err
	}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	now := k.now()
	for _, key := range ks {
		if !key.Published(now) {
			continue
		}
		pub, err := x509.ParsePKIXPublicKey(key.Public)
		if err != nil {
			return jose.JSONWebKeySet{}, fmt.Errorf("SET key %s: %w", key.ID, err)
		}
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: pub, KeyID: key.ID, Algorithm: key.Algorithm, Use: "sig"})
	}
	return set, nil
}

// JWKSMaxAge is how long receivers may cache the JWKS. A receiver that
// meets a "kid" it does not know fetches it again.
const JWKSMaxAge = 5 * time.Minute

// ServeHTTP serves the JWKS at /.well-known/jwks.json.
func (k *Keyring) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeJSON(w, http.StatusMethodNotAllowed, errorBody{Err: "invalid_request", Description: "the JWKS is read with GET"})
		return
	}
	set, err := k.PublicKeys(r.Context())
	if err != nil {
		log := k.Logger
		if log == nil {
			log = slog.Default()
		}
		log.Error("serving the JWKS failed", "err", err)
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusInternalServerError, errorBody{Description: "internal error"})
		return
	}
	b, err := json.Marshal(set)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, errorBody{Description: "internal error"})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int(JWKSMaxAge.Seconds())))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		w.Write(append(b, '\n'))
	}
}

// errorBody is the error of an RFC 8935/8936 exchange: "err" is a code of
// the Security Event Token Error Codes registry (RFC 8935 §7.1).
type errorBody struct {
	Err         string `json:"err,omitempty"`
	Description string `json:"description"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"description":"internal error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
