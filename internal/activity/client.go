package activity

import "strings"

// Client names the identity provider that sent a request, from its
// User-Agent: Okta ("Okta SCIM Client"), Entra ("Azure AD SCIM Client"
// / "Microsoft.Identity…"), OneLogin, JumpCloud, Rippling, or "other".
func Client(userAgent string) string {
	ua := strings.ToLower(userAgent)
	switch {
	case strings.Contains(ua, "okta"):
		return "Okta"
	case strings.Contains(ua, "azure"), strings.Contains(ua, "microsoft"), strings.Contains(ua, "entra"):
		return "Entra"
	case strings.Contains(ua, "onelogin"):
		return "OneLogin"
	case strings.Contains(ua, "jumpcloud"):
		return "JumpCloud"
	case strings.Contains(ua, "rippling"):
		return "Rippling"
	}
	return "other"
}
