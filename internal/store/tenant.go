package store

import (
	"fmt"
	"regexp"
)

var tenantName = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// ValidateTenantName checks that name can be a tenant's name: a DNS label
// (lower-case letters, digits and inner hyphens, at most 63 characters), so
// that it works both in /t/{tenant}/ paths and as {tenant}.{base-domain}.
func ValidateTenantName(name string) error {
	if !tenantName.MatchString(name) {
		return fmt.Errorf("invalid tenant name %q: use lower-case letters, digits and hyphens (a DNS label, at most 63 characters)", name)
	}
	return nil
}
