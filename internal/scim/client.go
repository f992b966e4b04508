package scim

import "strings"

// The identity providers scimd knows by name.
const (
	ClientOkta      = "Okta"
	ClientEntra     = "Entra"
	ClientOneLogin  = "OneLogin"
	ClientJumpCloud = "JumpCloud"
	ClientRippling  = "Rippling"
	ClientOther     = "other"
)

// ClientOf names the identity provider that sent a request, from its
// User-Agent: Okta ("Okta SCIM Client"), Entra ("Azure AD SCIM Client" /
// "Microsoft.Identity…"), OneLogin, JumpCloud, Rippling, or "other".
func ClientOf(userAgent string) string {
	ua := strings.ToLower(userAgent)
	switch {
	case strings.Contains(ua, "okta"):
		return ClientOkta
	case strings.Contains(ua, "azure"), strings.Contains(ua, "microsoft"), strings.Contains(ua, "entra"):
		return ClientEntra
	case strings.Contains(ua, "onelogin"):
		return ClientOneLogin
	case strings.Contains(ua, "jumpcloud"):
		return ClientJumpCloud
	case strings.Contains(ua, "rippling"):
		return ClientRippling
	}
	return ClientOther
}
