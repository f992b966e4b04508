package storetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/scimd/scimd/internal/store"
)

// RunKeys runs the conformance suite of API key rotation, replacement,
// unique names and the console's one-time reveals of new secrets.
// newStore must return a new, empty store for each call; the suite closes
// it.
func RunKeys(t *testing.T, newStore func(t *testing.T) ConsoleBackend) {
	tests := []testCase[ConsoleBackend]{
		{"Rotate", testRotateAPIKey},
		{"RotateRefused", testRotateRefused},
		{"Names", testKeyNames},
		{"NamesConcurrent", testKeyNamesConcurrent},
		{"Replace", testReplaceAPIKey},
		{"Reveals", testKeyReveals},
	}
	runCases(t, tests, newStore)
}

// mustKey stores a key of tenant tn with secret hash h (32 times c).
func mustKey(t *testing.T, s store.Store, tn store.Tenant, id, name string, c byte, expires time.Time) store.APIKey {
	t.Helper()
	k := store.APIKey{ID: id, TenantID: tn.ID, Name: name, Scope: store.ScopeWrite, SecretHash: hash(c), CreatedBy: "test", Created: base, Expires: expires}
	if err := s.CreateAPIKey(t.Context(), k); err != nil {
		t.Fatalf("CreateAPIKey %s %q: %v", id, name, err)
	}
	return k
}

func testRotateAPIKey(t *testing.T, s ConsoleBackend) {
	ctx := t.Context()
	acme := mustTenant(t, s, "acme")
	mustKey(t, s, acme, "k1", "okta", 'a', base.Add(48*time.Hour))
	at := base.Add(time.Minute)

	got, err := s.RotateAPIKey(ctx, acme.ID, "k1", hash('b'), at.Add(time.Hour), at)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := s.APIKey(ctx, "k1")
	if err != nil {
		t.Fatal(err)
	}
	for what, k := range map[string]store.APIKey{"returned": got, "stored": stored} {
		if k.ID != "k1" || !bytes.Equal(k.SecretHash, hash('b')) || !bytes.Equal(k.PrevSecretHash, hash('a')) ||
			!k.PrevExpires.Equal(at.Add(time.Hour)) || !k.Rotated.Equal(at) || !k.Expires.Equal(base.Add(48*time.Hour)) || k.Name != "okta" {
			t.Errorf("%s key after a rotation with an overlap: %+v", what, k)
		}
	}

	// A second rotation during the overlap keeps only the secret it
	// replaces.
	at2 := at.Add(10 * time.Minute)
	if _, err := s.RotateAPIKey(ctx, acme.ID, "k1", hash('c'), at2.Add(time.Hour), at2); err != nil {
		t.Fatal(err)
	}
	stored, _ = s.APIKey(ctx, "k1")
	if !bytes.Equal(stored.SecretHash, hash('c')) || !bytes.Equal(stored.PrevSecretHash, hash('b')) || !stored.Rotated.Equal(at2) {
		t.Errorf("after a second rotation: %+v", stored)
	}

	// Without an overlap there is no previous secret.
	at3 := at2.Add(time.Minute)
	if _, err := s.RotateAPIKey(ctx, acme.ID, "k1", hash('d'), at3, at3); err != nil {
		t.Fatal(err)
	}
	stored, _ = s.APIKey(ctx, "k1")
	if !bytes.Equal(stored.SecretHash, hash('d')) || stored.PrevSecretHash != nil || !stored.PrevExpires.IsZero() {
		t.Errorf("after a rotation without overlap: %+v", stored)
	}

	// Each rotation wrote a key.rotated event, which never holds a hash.
	var rotated []store.Event
	for _, e := range readAll(t, s, store.EventQuery{Types: []string{store.EventKeyRotated}}) {
		if e.Resource.ID == "k1" {
			rotated = append(rotated, e)
		}
	}
	if len(rotated) != 3 {
		t.Fatalf("%d key.rotated events, want 3", len(rotated))
	}
	var data map[string]any
	if err := json.Unmarshal(rotated[0].Data, &data); err != nil || data["previous_expires"] != at.Add(time.Hour).UTC().Format(time.RFC3339) {
		t.Errorf("first key.rotated data = %s (%v)", rotated[0].Data, err)
	}
	if string(rotated[2].Data) != "{}" {
		t.Errorf("key.rotated without overlap: data %s, want {}", rotated[2].Data)
	}

	// Revoking ends the key: both secrets, and further rotations.
	if _, err := s.RotateAPIKey(ctx, acme.ID, "k1", hash('e'), at3.Add(time.Hour), at3); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeAPIKey(ctx, acme.ID, "k1", at3); err != nil {
		t.Fatal(err)
	}
	_, err = s.RotateAPIKey(ctx, acme.ID, "k1", hash('f'), at3.Add(time.Hour), at3)
	wantErr(t, "RotateAPIKey of a revoked key", err, store.ErrKeyEnded)
	if stored, _ := s.APIKey(ctx, "k1"); stored.Revoked.IsZero() || !bytes.Equal(stored.SecretHash, hash('e')) {
		t.Errorf("revoked key = %+v", stored)
	}
}

func testRotateRefused(t *testing.T, s ConsoleBackend) {
	ctx := t.Context()
	acme, globex := mustTenant(t, s, "acme"), mustTenant(t, s, "globex")
	mustKey(t, s, acme, "k1", "okta", 'a', time.Time{})
	mustKey(t, s, acme, "old", "expired", 'x', base.Add(time.Hour))
	at := base.Add(2 * time.Hour)

	_, err := s.RotateAPIKey(ctx, globex.ID, "k1", hash('b'), at.Add(time.Hour), at)
	wantErr(t, "RotateAPIKey of another tenant's key", err, store.ErrNotFound)
	_, err = s.RotateAPIKey(ctx, acme.ID, "nope", hash('b'), at.Add(time.Hour), at)
	wantErr(t, "RotateAPIKey of a missing key", err, store.ErrNotFound)
	_, err = s.RotateAPIKey(ctx, acme.ID, "old", hash('b'), at.Add(time.Hour), at)
	wantErr(t, "RotateAPIKey of an expired key", err, store.ErrKeyEnded)
	for _, id := range []string{"k1", "old"} {
		if k, _ := s.APIKey(ctx, id); !k.Rotated.IsZero() || k.PrevSecretHash != nil {
			t.Errorf("a refused rotation changed %s: %+v", id, k)
		}
	}
}

func testKeyNames(t *testing.T, s ConsoleBackend) {
	ctx := t.Context()
	acme, globex := mustTenant(t, s, "acme"), mustTenant(t, s, "globex")
	mustKey(t, s, acme, "k1", "Okta prod", 'a', time.Time{})
	mustKey(t, s, acme, "k2", "Entra", 'b', time.Time{})
	mustKey(t, s, globex, "g1", "okta PROD", 'c', time.Time{}) // another tenant's

	dup := store.APIKey{ID: "k3", TenantID: acme.ID, Name: "OKTA prod", Scope: store.ScopeRead, SecretHash: hash('d'), Created: base}
	err := s.CreateAPIKey(ctx, dup)
	wantErr(t, "CreateAPIKey with a taken name", err, store.ErrKeyNameTaken)
	wantErr(t, "CreateAPIKey with a taken name", err, store.ErrConflict)
	if _, err := s.APIKey(ctx, "k3"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the refused key was stored: %v", err)
	}

	_, err = s.UpdateAPIKey(ctx, acme.ID, "k2", func(k *store.APIKey) error { k.Name = "okta Prod"; return nil })
	wantErr(t, "UpdateAPIKey to a taken name", err, store.ErrKeyNameTaken)
	if k, _ := s.APIKey(ctx, "k2"); k.Name != "Entra" {
		t.Errorf("the refused rename changed the name to %q", k.Name)
	}
	// A key may change the case of its own name.
	if _, err := s.UpdateAPIKey(ctx, acme.ID, "k1", func(k *store.APIKey) error { k.Name = "OKTA PROD"; return nil }); err != nil {
		t.Errorf("UpdateAPIKey changing the case of its name: %v", err)
	}

	// A revoked key's name is free.
	if err := s.RevokeAPIKey(ctx, acme.ID, "k1", base); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAPIKey(ctx, dup); err != nil {
		t.Errorf("CreateAPIKey with a revoked key's name: %v", err)
	}
}

func testReplaceAPIKey(t *testing.T, s ConsoleBackend) {
	ctx := t.Context()
	acme, globex := mustTenant(t, s, "acme"), mustTenant(t, s, "globex")
	mustKey(t, s, acme, "old", "Okta", 'a', base.Add(time.Hour))
	mustKey(t, s, acme, "old2", "Entra old", 'b', base.Add(time.Hour))
	mustKey(t, s, acme, "live", "Entra", 'c', time.Time{})
	at := base.Add(2 * time.Hour)
	next := func(id, name string, tn store.Tenant) store.APIKey {
		return store.APIKey{ID: id, TenantID: tn.ID, Name: name, Scope: store.ScopeWrite, SecretHash: hash('n'), CreatedBy: "test", Created: at}
	}

	wantErr(t, "ReplaceAPIKey of a live key", s.ReplaceAPIKey(ctx, "live", next("n0", "Entra 2", acme)), store.ErrKeyLive)
	wantErr(t, "ReplaceAPIKey of another tenant's key", s.ReplaceAPIKey(ctx, "old", next("n0", "Okta", globex)), store.ErrNotFound)
	wantErr(t, "ReplaceAPIKey with a taken name", s.ReplaceAPIKey(ctx, "old2", next("n0", "entra", acme)), store.ErrKeyNameTaken)
	if k, _ := s.APIKey(ctx, "old2"); k.SuccessorID != "" {
		t.Errorf("a refused replacement recorded a successor: %+v", k)
	}
	if _, err := s.APIKey(ctx, "n0"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused replacement stored its key: %v", err)
	}

	// The successor takes the ended key's name, which links to it.
	if err := s.ReplaceAPIKey(ctx, "old", next("n1", "okta", acme)); err != nil {
		t.Fatal(err)
	}
	old, _ := s.APIKey(ctx, "old")
	n1, err := s.APIKey(ctx, "n1")
	if old.SuccessorID != "n1" || err != nil || n1.Name != "okta" || n1.TenantID != acme.ID {
		t.Errorf("after ReplaceAPIKey: old %+v, new %+v (%v)", old, n1, err)
	}
	wantErr(t, "ReplaceAPIKey twice", s.ReplaceAPIKey(ctx, "old", next("n2", "Okta 2", acme)), store.ErrConflict)
	// Its key.created event names the key it replaces.
	for _, e := range readAll(t, s, store.EventQuery{Types: []string{store.EventKeyCreated}}) {
		if e.Resource.ID == "n1" {
			var data map[string]any
			if json.Unmarshal(e.Data, &data) != nil || data["replaces"] != "old" {
				t.Errorf("key.created of the replacement: %s", e.Data)
			}
		}
	}
}

func testKeyReveals(t *testing.T, s ConsoleBackend) {
	ctx := t.Context()
	acme := mustTenant(t, s, "acme")
	mustKey(t, s, acme, "k1", "okta", 'a', time.Time{})
	mustKey(t, s, acme, "k2", "entra", 'b', time.Time{})
	sess := store.Session{IDHash: hash('s'), TenantID: acme.ID, UserID: "u1", CSRF: "c", Created: base, LastSeen: base, Expires: base.Add(time.Hour)}
	other := store.Session{IDHash: hash('o'), TenantID: acme.ID, UserID: "u1", CSRF: "c", Created: base, LastSeen: base, Expires: base.Add(time.Hour)}
	for _, ss := range []store.Session{sess, other} {
		if err := s.CreateSession(ctx, ss); err != nil {
			t.Fatal(err)
		}
	}
	until := base.Add(10 * time.Minute)
	if err := s.PutKeyReveal(ctx, sess.IDHash, "k1", []byte("first"), until); err != nil {
		t.Fatal(err)
	}
	// A second Put for the key replaces the first; another key's is apart.
	if err := s.PutKeyReveal(ctx, sess.IDHash, "k1", []byte("sealed-1"), until); err != nil {
		t.Fatal(err)
	}
	if err := s.PutKeyReveal(ctx, sess.IDHash, "k2", []byte("sealed-2"), until); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "PutKeyReveal for a missing session", s.PutKeyReveal(ctx, hash('z'), "k1", []byte("x"), until), store.ErrNotFound)
	wantErr(t, "PutKeyReveal for a missing key", s.PutKeyReveal(ctx, sess.IDHash, "nope", []byte("x"), until), store.ErrNotFound)

	_, err := s.TakeKeyReveal(ctx, other.IDHash, "k1", base)
	wantErr(t, "TakeKeyReveal by another session", err, store.ErrNotFound)
	got, err := s.TakeKeyReveal(ctx, sess.IDHash, "k1", base)
	if err != nil || string(got) != "sealed-1" {
		t.Errorf("TakeKeyReveal = %q, %v", got, err)
	}
	_, err = s.TakeKeyReveal(ctx, sess.IDHash, "k1", base)
	wantErr(t, "TakeKeyReveal twice", err, store.ErrNotFound)
	_, err = s.TakeKeyReveal(ctx, sess.IDHash, "k2", until)
	wantErr(t, "TakeKeyReveal once expired", err, store.ErrNotFound)

	// Ending the session drops what it kept.
	if err := s.PutKeyReveal(ctx, other.IDHash, "k2", []byte("sealed-3"), until); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSession(ctx, other.IDHash); err != nil {
		t.Fatal(err)
	}
	_, err = s.TakeKeyReveal(ctx, other.IDHash, "k2", base)
	wantErr(t, "TakeKeyReveal after the session ended", err, store.ErrNotFound)
}

func testKeyNamesConcurrent(t *testing.T, s ConsoleBackend) {
	acme := mustTenant(t, s, "acme")
	ok := concurrently(t, "concurrent creates of one name", 8, func(i int) error {
		return s.CreateAPIKey(t.Context(), store.APIKey{ID: fmt.Sprint("k", i), TenantID: acme.ID, Name: "Okta", Scope: store.ScopeWrite, SecretHash: hash('a')})
	})
	if ok != 1 {
		t.Errorf("%d of 8 concurrent creates of one name succeeded, want 1", ok)
	}
}

// concurrently runs fn(0) to fn(n-1) at once and returns how many
// succeeded, reporting every failure that is not store.ErrConflict.
func concurrently(t *testing.T, what string, n int, fn func(i int) error) int {
	t.Helper()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = fn(i) })
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("%s #%d: %v, want nil or ErrConflict", what, i, err)
		}
	}
	return ok
}

// MigratedKeyNames checks a store migrated from a database whose tenant 1
// had the live keys a "Okta" (created first), b "okta", c "OKTA", d "okta
// (2)" and the revoked e "Okta", and whose tenant 2 had f "Okta": the
// oldest live key keeps a shared name, the later ones are numbered (and
// get their User ID appended when the number makes a name shared too),
// revoked keys and other tenants' keep theirs, and the names are unique
// from then on.
func MigratedKeyNames(t *testing.T, s store.Store) {
	t.Helper()
	want := map[string]string{"a": "Okta", "b": "okta (2)", "c": "OKTA (3)", "d": "okta (2) (d)", "e": "Okta", "f": "Okta"}
	for id, name := range want {
		k, err := s.APIKey(t.Context(), id)
		if err != nil || k.Name != name {
			t.Errorf("key %s after the migration: %q, %v; want %q", id, k.Name, err, name)
		}
	}
	err := s.CreateAPIKey(t.Context(), store.APIKey{ID: "g", TenantID: 1, Name: "OKTA (3)", Scope: store.ScopeRead, SecretHash: []byte{2}})
	wantErr(t, "CreateAPIKey with a migrated name", err, store.ErrKeyNameTaken)
}
