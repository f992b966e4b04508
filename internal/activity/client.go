package activity

import "github.com/scimd/scimd/internal/scim"

// Client names the identity provider that sent a request, from its
// User-Agent (see scim.ClientOf).
func Client(userAgent string) string { return scim.ClientOf(userAgent) }
