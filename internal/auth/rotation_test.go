package auth

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/scimd/scimd/internal/store"
	"github.com/scimd/scimd/internal/store/sqlite"
)

func TestKeySecretMatches(t *testing.T) {
	id, cur := NewKey()
	prev := NewSecret(id)
	until := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	k := store.APIKey{ID: id, SecretHash: HashSecret(cur), PrevSecretHash: HashSecret(prev), PrevExpires: until}
	for _, tc := range []struct {
		name   string
		secret string
		now    time.Time
		want   bool
	}{
		{"current", cur, until.Add(time.Hour), true},
		{"previous during the overlap", prev, until.Add(-time.Nanosecond), true},
		{"previous at the overlap's end", prev, until, false},
		{"another secret", NewSecret(id), until.Add(-time.Hour), false},
	} {
		if got := KeySecretMatches(k, tc.secret, tc.now); got != tc.want {
			t.Errorf("%s: KeySecretMatches = %v, want %v", tc.name, got, tc.want)
		}
	}
	if !strings.HasPrefix(prev, secretPrefix+id+"_") {
		t.Errorf("NewSecret(%s) = %q: not a secret of that User ID", id, prev)
	}
	if KeySecretMatches(store.APIKey{SecretHash: HashSecret(cur), PrevExpires: until}, "", until.Add(-time.Hour)) {
		t.Errorf("an empty secret matches a key without a previous secret")
	}
}

// TestAuthenticateRotation: through the store, the old secret of a rotated
// key authenticates until the overlap ends and the new one throughout;
// revoking refuses both on the next request.
func TestAuthenticateRotation(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tn, err := db.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	a := &Authenticator{Store: db, Now: func() time.Time { return now }}
	id, old := NewKey()
	if err := db.CreateAPIKey(ctx, store.APIKey{ID: id, TenantID: tn.ID, Name: "okta", Scope: store.ScopeWrite, SecretHash: HashSecret(old), Created: now}); err != nil {
		t.Fatal(err)
	}
	fresh := NewSecret(id)
	if _, err := db.RotateAPIKey(ctx, tn.ID, id, HashSecret(fresh), now.Add(time.Hour), now); err != nil {
		t.Fatal(err)
	}
	check := func(what, secret, wantReason string) {
		t.Helper()
		_, err := a.Authenticate(ctx, tn, "Basic "+Basic(id, secret))
		if got := FailureReason(err); got != wantReason || wantReason == "" && err != nil {
			t.Errorf("%s: %v (reason %q), want reason %q", what, err, got, wantReason)
		}
	}
	check("old secret during the overlap", old, "")
	check("new secret during the overlap", fresh, "")
	now = now.Add(time.Hour)
	check("old secret after the overlap", old, FailWrongSecret)
	check("new secret after the overlap", fresh, "")

	// Rotated again with an overlap, then revoked: both refused.
	newer := NewSecret(id)
	if _, err := db.RotateAPIKey(ctx, tn.ID, id, HashSecret(newer), now.Add(time.Hour), now); err != nil {
		t.Fatal(err)
	}
	check("the secret just replaced", fresh, "")
	if err := db.RevokeAPIKey(ctx, tn.ID, id, now); err != nil {
		t.Fatal(err)
	}
	check("current secret of a revoked key", newer, FailRevoked)
	check("previous secret of a revoked key", fresh, FailRevoked)
}
