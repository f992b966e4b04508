package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"strings"
)

// An API key's secret has the form "scimd_" + key id + "_" + 40 base32
// characters (200 random bits). Embedding the public key id lets scimd find
// the key by a non-secret lookup when a client sends only the secret (Okta's
// "HTTP Header" mode), and the prefix lets secret scanners recognise it.
const (
	secretPrefix = "scimd_"
	idLen        = 16 // base32 characters: 80 random bits
	randLen      = 40 // base32 characters: 200 random bits
)

var b32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

func randomBase32(n int) string {
	b := make([]byte, n*5/8)
	if _, err := rand.Read(b); err != nil {
		panic("auth: crypto/rand failed: " + err.Error()) // never happens on supported platforms
	}
	return b32.EncodeToString(b)
}

// NewKey returns a new key id (the public "User ID") and its secret (the
// "API key"), which is shown once and never stored.
func NewKey() (id, secret string) {
	id = randomBase32(idLen)
	return id, NewSecret(id)
}

// NewSecret returns a new secret for the key id: a rotation keeps the
// User ID an identity provider was given and replaces only the API key.
func NewSecret(id string) string {
	return secretPrefix + id + "_" + randomBase32(randLen)
}

// HashSecret returns the hash stored for a secret.
func HashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// SecretMatches reports, in constant time, whether secret hashes to hash.
func SecretMatches(secret string, hash []byte) bool {
	return subtle.ConstantTimeCompare(HashSecret(secret), hash) == 1
}

// Basic returns base64(id:secret), the value a tenant admin pastes into an
// identity provider as "API key in Base64".
func Basic(id, secret string) string {
	return base64.StdEncoding.EncodeToString([]byte(id + ":" + secret))
}

// keyIDOf returns the key id embedded in a well-formed secret.
func keyIDOf(secret string) (string, bool) {
	rest, ok := strings.CutPrefix(secret, secretPrefix)
	if !ok || len(rest) != idLen+1+randLen || rest[idLen] != '_' {
		return "", false
	}
	return rest[:idLen], true
}

// ErrMalformed is returned by ParseAuthorization for a header that carries no
// credential scimd could have issued.
var ErrMalformed = errors.New("malformed credentials")

// ParseAuthorization extracts the key id and secret from an Authorization
// header value. It accepts, for the same credential:
//
//	Basic base64(id:secret)
//	Bearer base64(id:secret)    Bearer secret
//	base64(id:secret)           secret          (Okta "HTTP Header" mode sends the
//	                                             token with or without "Bearer ")
//
// The id given with the secret must be the one embedded in it.
func ParseAuthorization(h string) (id, secret string, err error) {
	h = strings.TrimSpace(h)
	scheme, token, found := strings.Cut(h, " ")
	switch {
	case found && strings.EqualFold(scheme, "Basic"):
		return fromBase64(strings.TrimSpace(token))
	case found && strings.EqualFold(scheme, "Bearer"):
		h = strings.TrimSpace(token)
	case found:
		return "", "", ErrMalformed
	}
	if id, ok := keyIDOf(h); ok {
		return id, h, nil
	}
	return fromBase64(h)
}

func fromBase64(s string) (id, secret string, err error) {
	var raw []byte
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if raw, err = enc.DecodeString(s); err == nil {
			break
		}
	}
	if err != nil {
		return "", "", ErrMalformed
	}
	id, secret, ok := strings.Cut(string(raw), ":")
	if !ok {
		return "", "", ErrMalformed
	}
	embedded, ok := keyIDOf(secret)
	if !ok || embedded != id {
		return "", "", ErrMalformed
	}
	return id, secret, nil
}
