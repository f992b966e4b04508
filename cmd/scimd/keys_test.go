package main

import (
	"strings"
	"testing"
)

// TestKeysCLINames: keys create refuses a name another live key of the
// tenant has, ignoring case, and takes a revoked key's.
func TestKeysCLINames(t *testing.T) {
	env := newEnv(t)
	mustCLI(t, env, "tenants", "create", "acme")
	mustCLI(t, env, "tenants", "create", "bravo")
	out := mustCLI(t, env, "keys", "create", "--tenant", "acme", "--name", "Okta", "--json")
	mustCLI(t, env, "keys", "create", "--tenant", "bravo", "--name", "okta") // another tenant's

	_, err := runCLI(t, env, "keys", "create", "--tenant", "acme", "--name", "OKTA")
	want := `tenant acme already has a key named "OKTA" (names are unique, ignoring case, among keys not revoked): choose another --name, or revoke that key`
	if err == nil || err.Error() != want {
		t.Errorf("keys create with a taken name: %v, want %q", err, want)
	}
	id := strings.Split(strings.SplitN(out, `"userId":"`, 2)[1], `"`)[0]
	mustCLI(t, env, "keys", "revoke", "--tenant", "acme", id)
	mustCLI(t, env, "keys", "create", "--tenant", "acme", "--name", "OKTA")
	if list := mustCLI(t, env, "keys", "list", "--tenant", "acme"); strings.Count(list, "\n") != 3 {
		t.Errorf("keys list after a refused create:\n%s", list)
	}
}
