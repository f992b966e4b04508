package auth

import "strings"

// An application key's secret has the form "scimdapp_" + key id + "_" +
// 40 base32 characters (200 random bits): like a tenant key's, it embeds
// its public id, so that the key is found by a non-secret lookup and then
// compared in constant time (SecretMatches), and its own prefix tells it
// apart from a tenant key, for people and for secret scanners.
const appSecretPrefix = "scimdapp_"

// NewAppKey returns a new application key id and its secret, which is
// shown once and never stored (store HashSecret(secret)).
func NewAppKey() (id, secret string) {
	id = randomBase32(idLen)
	return id, appSecretPrefix + id + "_" + randomBase32(randLen)
}

// AppKeyID returns the key id embedded in a well-formed application key
// secret.
func AppKeyID(secret string) (string, bool) {
	rest, ok := strings.CutPrefix(secret, appSecretPrefix)
	if !ok || len(rest) != idLen+1+randLen || rest[idLen] != '_' {
		return "", false
	}
	id := rest[:idLen]
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; i != idLen && !('a' <= c && c <= 'z' || '2' <= c && c <= '7') {
			return "", false
		}
	}
	return id, true
}

// BearerToken returns the token of an Authorization header value of the
// form "Bearer TOKEN" (RFC 6750 §2.1; the scheme in any case), or false.
func BearerToken(h string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != "" && !strings.ContainsAny(token, " \t")
}
