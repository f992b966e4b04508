package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimd/scimd/internal/store"
	"github.com/scimd/scimd/internal/store/sqlstore"
)

// Run runs the conformance suite. newStore must return a new, empty store
// for each call; the suite closes it when the subtest ends.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []testCase[store.Store]{
		{"Tenants", testTenants},
		{"UpdateTenant", testUpdateTenant},
		{"APIKeys", testAPIKeys},
		{"UserCRUD", testUserCRUD},
		{"UserDelete", testUserDelete},
		{"UserNameUniqueness", testUserNameUniqueness},
		{"UserTenantIsolation", testUserTenantIsolation},
		{"UpdateUserAbort", testUpdateUserAbort},
		{"UpdateUserNoChange", testUpdateUserNoChange},
		{"UpdateUserOutsideWriter", testUpdateUserOutsideWriter},
		{"Secrets", testSecrets},
		{"AuthOnOwnConnections", testAuthOnOwnConnections},
		{"UpdateUserKeepsEmailsInSync", testUpdateUserEmails},
		{"ConcurrentUpdateUser", testConcurrentUpdateUser},
		{"Filters", testFilters},
		{"InvalidFilters", testInvalidFilters},
		{"Paging", testPaging},
		{"PageBytes", testPageBytes},
		{"Sorting", testSorting},
		{"InvalidSort", testInvalidSort},
		{"CursorUsers", testCursorUsers},
		{"CursorUsersWithInserts", testCursorInserts},
		{"CursorGroups", testCursorGroups},
		{"ConditionalDelete", testConditionalDelete},
	}
	tests = append(tests, eventTests...)
	tests = append(tests, searchTests...)
	for _, g := range groupTests {
		tests = append(tests, testCase[store.Store]{g.name, func(t *testing.T, s store.Store) { g.fn(t, s, groupStore(t, s)) }})
	}
	runCases(t, tests, newStore)
}

// base is the creation time of the first fixture user. It has nanoseconds,
// which a store must keep.
var base = time.Date(2024, 1, 2, 3, 4, 5, 123456789, time.UTC)

func mustTenant(t *testing.T, s store.Store, name string) store.Tenant {
	t.Helper()
	tn, err := s.CreateTenant(t.Context(), name)
	if err != nil {
		t.Fatalf("CreateTenant(%q): %v", name, err)
	}
	return tn
}

func mustCreateUser(t *testing.T, s store.Store, tenantID int64, u store.User) store.User {
	t.Helper()
	got, err := s.CreateUser(t.Context(), tenantID, u)
	if err != nil {
		t.Fatalf("CreateUser(%v, %v): %v", tenantID, u.Attrs["userName"], err)
	}
	return got
}

// newUser returns a user with the given id and userName, created at base+i
// minutes.
func newUser(id, userName string, i int, attrs map[string]any) store.User {
	a := map[string]any{"userName": userName, "active": true}
	for k, v := range attrs {
		a[k] = v
	}
	at := base.Add(time.Duration(i) * time.Minute)
	return store.User{ID: id, Created: at, Modified: at, Attrs: a}
}

func userNames(us []store.User) []string {
	out := make([]string, 0, len(us))
	for _, u := range us {
		s, _ := u.Attrs["userName"].(string)
		out = append(out, s)
	}
	return out
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: got error %v, want %v", what, err, want)
	}
}

func testTenants(t *testing.T, s store.Store) {
	ctx := t.Context()
	before := time.Now().Add(-time.Second)
	acme := mustTenant(t, s, "acme")
	if acme.ID == 0 || acme.Name != "acme" {
		t.Errorf("CreateTenant = %+v", acme)
	}
	if acme.Created.Before(before) || acme.Created.After(time.Now().Add(time.Second)) {
		t.Errorf("Created = %v, want about now", acme.Created)
	}
	want := store.Tenant{ID: acme.ID, Name: "acme", Created: acme.Created,
		ProvisioningActive: false, APIKeysEnabled: true, PasswordSignIn: true, OnDelete: store.OnDeleteArchive}
	if diff := cmp.Diff(want, acme); diff != "" {
		t.Errorf("CreateTenant defaults (-want +got):\n%s", diff)
	}
	_, err := s.CreateTenant(ctx, "acme")
	wantErr(t, "CreateTenant duplicate", err, store.ErrConflict)

	globex := mustTenant(t, s, "globex")
	if globex.ID == acme.ID {
		t.Errorf("two tenants share id %d", acme.ID)
	}
	mustTenant(t, s, "beta")

	got, err := s.Tenant(ctx, "acme")
	if err != nil {
		t.Fatalf("Tenant: %v", err)
	}
	if diff := cmp.Diff(acme, got); diff != "" {
		t.Errorf("Tenant (-want +got):\n%s", diff)
	}
	got, err = s.TenantByID(ctx, globex.ID)
	if err != nil {
		t.Fatalf("TenantByID: %v", err)
	}
	if diff := cmp.Diff(globex, got); diff != "" {
		t.Errorf("TenantByID (-want +got):\n%s", diff)
	}
	_, err = s.Tenant(ctx, "nope")
	wantErr(t, "Tenant unknown", err, store.ErrNotFound)
	_, err = s.TenantByID(ctx, globex.ID+1000)
	wantErr(t, "TenantByID unknown", err, store.ErrNotFound)

	all, err := s.Tenants(ctx)
	if err != nil {
		t.Fatalf("Tenants: %v", err)
	}
	var names []string
	for _, tn := range all {
		names = append(names, tn.Name)
	}
	if diff := cmp.Diff([]string{"acme", "beta", "globex"}, names); diff != "" {
		t.Errorf("Tenants by name (-want +got):\n%s", diff)
	}
}

func testUpdateTenant(t *testing.T, s store.Store) {
	ctx := t.Context()
	acme := mustTenant(t, s, "acme")
	got, err := s.UpdateTenant(ctx, "acme", func(tn *store.Tenant) error {
		tn.ProvisioningActive = true
		tn.APIKeysEnabled = false
		tn.PasswordSignIn = false
		tn.OnDelete = store.OnDeletePurge
		tn.Name = "renamed" // ignored
		tn.ID = 999         // ignored
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateTenant: %v", err)
	}
	want := acme
	want.ProvisioningActive, want.APIKeysEnabled, want.PasswordSignIn, want.OnDelete = true, false, false, store.OnDeletePurge
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("UpdateTenant result (-want +got):\n%s", diff)
	}
	stored, err := s.Tenant(ctx, "acme")
	if err != nil {
		t.Fatalf("Tenant: %v", err)
	}
	if diff := cmp.Diff(want, stored); diff != "" {
		t.Errorf("Tenant after update (-want +got):\n%s", diff)
	}

	boom := errors.New("boom")
	_, err = s.UpdateTenant(ctx, "acme", func(tn *store.Tenant) error {
		tn.ProvisioningActive = false
		return fmt.Errorf("wrapped: %w", boom)
	})
	wantErr(t, "UpdateTenant fn error", err, boom)
	stored, _ = s.Tenant(ctx, "acme")
	if !stored.ProvisioningActive {
		t.Errorf("UpdateTenant stored the change of an fn that failed")
	}
	_, err = s.UpdateTenant(ctx, "nope", func(*store.Tenant) error { return nil })
	wantErr(t, "UpdateTenant unknown", err, store.ErrNotFound)
}

func testAPIKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	acme := mustTenant(t, s, "acme")
	globex := mustTenant(t, s, "globex")
	k1 := store.APIKey{ID: "key-1", TenantID: acme.ID, Name: "okta", Scope: store.ScopeWrite,
		SecretHash: []byte{1, 2, 3, 0, 255}, CreatedBy: "admin@acme", Created: base,
		Expires: base.Add(365 * 24 * time.Hour)}
	k2 := store.APIKey{ID: "key-2", TenantID: acme.ID, Name: "reader", Scope: store.ScopeRead,
		SecretHash: []byte("hash-2"), CreatedBy: "admin@acme", Created: base.Add(time.Hour)}
	k3 := store.APIKey{ID: "key-3", TenantID: globex.ID, Name: "entra", Scope: store.ScopeWrite,
		SecretHash: []byte("hash-3"), CreatedBy: "admin@globex", Created: base.Add(2 * time.Hour)}
	for _, k := range []store.APIKey{k1, k2, k3} {
		if err := s.CreateAPIKey(ctx, k); err != nil {
			t.Fatalf("CreateAPIKey(%s): %v", k.ID, err)
		}
	}
	dup := k3
	dup.TenantID = acme.ID
	wantErr(t, "CreateAPIKey duplicate id", s.CreateAPIKey(ctx, dup), store.ErrConflict)

	got, err := s.APIKey(ctx, "key-1")
	if err != nil {
		t.Fatalf("APIKey: %v", err)
	}
	if diff := cmp.Diff(k1, got); diff != "" {
		t.Errorf("APIKey (-want +got):\n%s", diff)
	}
	if !got.Revoked.IsZero() || !got.LastUsed.IsZero() {
		t.Errorf("new key has Revoked %v, LastUsed %v; want zero", got.Revoked, got.LastUsed)
	}
	_, err = s.APIKey(ctx, "nope")
	wantErr(t, "APIKey unknown", err, store.ErrNotFound)

	list, err := s.APIKeys(ctx, acme.ID)
	if err != nil {
		t.Fatalf("APIKeys: %v", err)
	}
	if diff := cmp.Diff([]store.APIKey{k2, k1}, list); diff != "" {
		t.Errorf("APIKeys newest first, own tenant only (-want +got):\n%s", diff)
	}

	// Revoking needs the key's own tenant.
	at := base.Add(3 * time.Hour)
	wantErr(t, "RevokeAPIKey other tenant", s.RevokeAPIKey(ctx, globex.ID, "key-1", at), store.ErrNotFound)
	wantErr(t, "RevokeAPIKey unknown", s.RevokeAPIKey(ctx, acme.ID, "nope", at), store.ErrNotFound)
	if err := s.RevokeAPIKey(ctx, acme.ID, "key-1", at); err != nil {
		t.Fatalf("RevokeAPIKey: %v", err)
	}
	got, _ = s.APIKey(ctx, "key-1")
	if !got.Revoked.Equal(at) {
		t.Errorf("Revoked = %v, want %v", got.Revoked, at)
	}
	if got, _ := s.APIKey(ctx, "key-3"); !got.Revoked.IsZero() {
		t.Errorf("revoking key-1 revoked key-3")
	}

	used := base.Add(4 * time.Hour)
	if err := s.TouchAPIKey(ctx, "key-2", used); err != nil {
		t.Fatalf("TouchAPIKey: %v", err)
	}
	got, _ = s.APIKey(ctx, "key-2")
	if !got.LastUsed.Equal(used) {
		t.Errorf("LastUsed = %v, want %v", got.LastUsed, used)
	}
	later := used.Add(time.Minute)
	if err := s.TouchAPIKey(ctx, "key-2", later); err != nil {
		t.Fatalf("TouchAPIKey: %v", err)
	}
	got, _ = s.APIKey(ctx, "key-2")
	if !got.LastUsed.Equal(later) {
		t.Errorf("LastUsed = %v, want %v", got.LastUsed, later)
	}
	if list, _ := s.APIKeys(ctx, globex.ID); len(list) != 1 || list[0].ID != "key-3" {
		t.Errorf("APIKeys(globex) = %v, want key-3 only", list)
	}
}

func testUserCRUD(t *testing.T, s store.Store) {
	ctx := t.Context()
	acme := mustTenant(t, s, "acme")
	in := newUser("u-1", "Alice", 0, map[string]any{
		"displayName": "Alice Smith",
		"name":        map[string]any{"givenName": "Alice", "familyName": "Smith"},
		"emails":      []any{map[string]any{"value": "alice@example.com", "type": "work", "primary": true}},
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": map[string]any{"department": "Eng"},
	})
	in.PasswordHash = "$argon2id$v=19$m=65536,t=3,p=2$c2FsdA$aGFzaA"
	in.Version = 42 // ignored
	created := mustCreateUser(t, s, acme.ID, in)
	want := in
	want.Version = 1
	if diff := cmp.Diff(want, created); diff != "" {
		t.Errorf("CreateUser (-want +got):\n%s", diff)
	}
	got, err := s.User(ctx, acme.ID, "u-1")
	if err != nil {
		t.Fatalf("User: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("User (-want +got):\n%s", diff)
	}
	_, err = s.User(ctx, acme.ID, "u-2")
	wantErr(t, "User unknown", err, store.ErrNotFound)
	_, err = s.CreateUser(ctx, acme.ID, newUser("u-1", "other", 1, nil))
	wantErr(t, "CreateUser duplicate id", err, store.ErrConflict)
	if _, err := s.CreateUser(ctx, acme.ID+1000, newUser("u-9", "ghost", 1, nil)); err == nil {
		t.Errorf("CreateUser in a tenant that does not exist succeeded")
	}

	mod := base.Add(time.Hour)
	updated, err := s.UpdateUser(ctx, acme.ID, "u-1", func(u *store.User) error {
		if u.Version != 1 {
			t.Errorf("fn got Version %d, want 1", u.Version)
		}
		u.Attrs["title"] = "Engineer"
		u.Attrs["active"] = false
		u.Modified = mod
		u.PasswordHash = ""
		u.ID = "hijack"                  // ignored
		u.Created = base.Add(-time.Hour) // ignored
		u.Version = 100                  // ignored
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	want.Attrs["title"] = "Engineer"
	want.Attrs["active"] = false
	want.Modified = mod
	want.PasswordHash = ""
	want.Version = 2
	if diff := cmp.Diff(want, updated); diff != "" {
		t.Errorf("UpdateUser result (-want +got):\n%s", diff)
	}
	got, err = s.User(ctx, acme.ID, "u-1")
	if err != nil {
		t.Fatalf("User: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("User after update (-want +got):\n%s", diff)
	}
	if _, err := s.User(ctx, acme.ID, "hijack"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateUser changed the id")
	}
	_, err = s.UpdateUser(ctx, acme.ID, "nope", func(*store.User) error { return nil })
	wantErr(t, "UpdateUser unknown", err, store.ErrNotFound)

	// A rename to a name another user holds (case-insensitively) conflicts
	// and changes nothing.
	mustCreateUser(t, s, acme.ID, newUser("u-2", "Bob", 1, nil))
	_, err = s.UpdateUser(ctx, acme.ID, "u-2", func(u *store.User) error {
		u.Attrs["userName"] = "ALICE"
		return nil
	})
	wantErr(t, "UpdateUser rename to a taken userName", err, store.ErrConflict)
	if got, _ := s.User(ctx, acme.ID, "u-2"); got.Attrs["userName"] != "Bob" || got.Version != 1 {
		t.Errorf("failed rename left userName %v, version %d", got.Attrs["userName"], got.Version)
	}
	// Changing the case of one's own userName is fine.
	if _, err := s.UpdateUser(ctx, acme.ID, "u-2", func(u *store.User) error {
		u.Attrs["userName"] = "BOB"
		return nil
	}); err != nil {
		t.Errorf("UpdateUser to a case variant of its own userName: %v", err)
	}
}

func testUserDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	acme := mustTenant(t, s, "acme")
	list := func() []string {
		t.Helper()
		p, err := s.ListUsers(ctx, acme.ID, store.Query{Count: 100})
		if err != nil {
			t.Fatalf("ListUsers: %v", err)
		}
		return userNames(p.Users)
	}
	mustCreateUser(t, s, acme.ID, newUser("u-1", "alice", 0, map[string]any{
		"emails": []any{map[string]any{"value": "alice@example.com"}}}))
	mustCreateUser(t, s, acme.ID, newUser("u-2", "bob", 1, nil))

	// Archive: gone from SCIM, userName free, record purgeable.
	if err := s.DeleteUser(ctx, acme.ID, "u-1", true); err != nil {
		t.Fatalf("DeleteUser(archive): %v", err)
	}
	_, err := s.User(ctx, acme.ID, "u-1")
	wantErr(t, "User after archive", err, store.ErrNotFound)
	wantErr(t, "DeleteUser twice", s.DeleteUser(ctx, acme.ID, "u-1", true), store.ErrNotFound)
	_, err = s.UpdateUser(ctx, acme.ID, "u-1", func(*store.User) error { return nil })
	wantErr(t, "UpdateUser archived", err, store.ErrNotFound)
	if diff := cmp.Diff([]string{"bob"}, list()); diff != "" {
		t.Errorf("ListUsers after archive (-want +got):\n%s", diff)
	}
	f := mustParse(t, `emails.value eq "alice@example.com"`)
	if p, err := s.ListUsers(ctx, acme.ID, store.Query{Filter: f, Count: 10}); err != nil || p.Total != 0 {
		t.Errorf("archived user's email still matches a filter: %v, %v", p, err)
	}
	mustCreateUser(t, s, acme.ID, newUser("u-3", "ALICE", 2, nil))
	if err := s.PurgeUser(ctx, acme.ID, "u-1"); err != nil {
		t.Errorf("PurgeUser(archived): %v", err)
	}
	wantErr(t, "PurgeUser twice", s.PurgeUser(ctx, acme.ID, "u-1"), store.ErrNotFound)

	// Destroy: gone for good.
	if err := s.DeleteUser(ctx, acme.ID, "u-2", false); err != nil {
		t.Fatalf("DeleteUser(destroy): %v", err)
	}
	_, err = s.User(ctx, acme.ID, "u-2")
	wantErr(t, "User after destroy", err, store.ErrNotFound)
	wantErr(t, "PurgeUser destroyed", s.PurgeUser(ctx, acme.ID, "u-2"), store.ErrNotFound)
	mustCreateUser(t, s, acme.ID, newUser("u-4", "bob", 3, nil))

	// Purge of a live user.
	if err := s.PurgeUser(ctx, acme.ID, "u-3"); err != nil {
		t.Fatalf("PurgeUser(live): %v", err)
	}
	_, err = s.User(ctx, acme.ID, "u-3")
	wantErr(t, "User after purge", err, store.ErrNotFound)
	if diff := cmp.Diff([]string{"bob"}, list()); diff != "" {
		t.Errorf("ListUsers at the end (-want +got):\n%s", diff)
	}
	wantErr(t, "DeleteUser unknown", s.DeleteUser(ctx, acme.ID, "nope", false), store.ErrNotFound)
	wantErr(t, "PurgeUser unknown", s.PurgeUser(ctx, acme.ID, "nope"), store.ErrNotFound)
}

func testUserNameUniqueness(t *testing.T, s store.Store) {
	ctx := t.Context()
	acme := mustTenant(t, s, "acme")
	globex := mustTenant(t, s, "globex")
	mustCreateUser(t, s, acme.ID, newUser("u-1", "ÉLODIE", 0, nil))
	for i, name := range []string{"élodie", "Élodie", "ÉLODIE"} {
		_, err := s.CreateUser(ctx, acme.ID, newUser(fmt.Sprintf("x-%d", i), name, 1, nil))
		wantErr(t, fmt.Sprintf("CreateUser(%q) after ÉLODIE", name), err, store.ErrConflict)
	}
	mustCreateUser(t, s, acme.ID, newUser("u-2", "elodie", 1, nil)) // no accent: another name
	mustCreateUser(t, s, acme.ID, newUser("u-3", "kim", 2, nil))
	_, err := s.CreateUser(ctx, acme.ID, newUser("u-4", "\u212Aim", 3, nil)) // Kelvin sign
	wantErr(t, "CreateUser(KELVIN SIGN+im) after kim", err, store.ErrConflict)

	// The same userName in another tenant is another user.
	mustCreateUser(t, s, globex.ID, newUser("u-1", "élodie", 0, nil))

	// Deleting frees the name, archived or destroyed.
	if err := s.DeleteUser(ctx, acme.ID, "u-1", true); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	mustCreateUser(t, s, acme.ID, newUser("u-5", "Élodie", 4, nil))
	if err := s.DeleteUser(ctx, acme.ID, "u-5", false); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	mustCreateUser(t, s, acme.ID, newUser("u-6", "élodie", 5, nil))
}

func testUserTenantIsolation(t *testing.T, s store.Store) {
	ctx := t.Context()
	acme := mustTenant(t, s, "acme")
	globex := mustTenant(t, s, "globex")
	mustCreateUser(t, s, acme.ID, newUser("u-1", "alice", 0, nil))
	mustCreateUser(t, s, globex.ID, newUser("u-2", "bob", 1, nil))

	_, err := s.User(ctx, globex.ID, "u-1")
	wantErr(t, "User from another tenant", err, store.ErrNotFound)
	_, err = s.UpdateUser(ctx, globex.ID, "u-1", func(u *store.User) error {
		t.Errorf("UpdateUser called fn for another tenant's user")
		return nil
	})
	wantErr(t, "UpdateUser from another tenant", err, store.ErrNotFound)
	wantErr(t, "DeleteUser from another tenant", s.DeleteUser(ctx, globex.ID, "u-1", false), store.ErrNotFound)
	wantErr(t, "PurgeUser from another tenant", s.PurgeUser(ctx, globex.ID, "u-1"), store.ErrNotFound)
	if _, err := s.User(ctx, acme.ID, "u-1"); err != nil {
		t.Errorf("User after another tenant's attempts: %v", err)
	}
	// The same id may exist in two tenants.
	mustCreateUser(t, s, globex.ID, newUser("u-1", "carol", 2, nil))
	got, err := s.User(ctx, globex.ID, "u-1")
	if err != nil || got.Attrs["userName"] != "carol" {
		t.Errorf("User(globex, u-1) = %v, %v; want carol", got.Attrs["userName"], err)
	}
	for _, tc := range []struct {
		tenant int64
		want   []string
	}{{acme.ID, []string{"alice"}}, {globex.ID, []string{"bob", "carol"}}, {globex.ID + 1000, nil}} {
		p, err := s.ListUsers(ctx, tc.tenant, store.Query{Count: 10})
		if err != nil {
			t.Fatalf("ListUsers: %v", err)
		}
		if diff := cmp.Diff(tc.want, userNames(p.Users), cmpEmpty); diff != "" || p.Total != len(tc.want) {
			t.Errorf("ListUsers(%d): total %d (-want +got):\n%s", tc.tenant, p.Total, diff)
		}
	}
}

// cmpEmpty treats nil and empty slices alike.
var cmpEmpty = cmp.Comparer(func(a, b []string) bool { return slices.Equal(a, b) })

func testUpdateUserAbort(t *testing.T, s store.Store) {
	ctx := t.Context()
	acme := mustTenant(t, s, "acme")
	before := mustCreateUser(t, s, acme.ID, newUser("u-1", "alice", 0, map[string]any{"title": "Engineer"}))
	boom := errors.New("boom")
	_, err := s.UpdateUser(ctx, acme.ID, "u-1", func(u *store.User) error {
		u.Attrs["title"] = "CEO"
		u.Attrs["userName"] = "mallory"
		u.Modified = base.Add(time.Hour)
		return fmt.Errorf("validating: %w", boom)
	})
	wantErr(t, "UpdateUser fn error", err, boom)
	got, err := s.User(ctx, acme.ID, "u-1")
	if err != nil {
		t.Fatalf("User: %v", err)
	}
	if diff := cmp.Diff(before, got); diff != "" {
		t.Errorf("UpdateUser with a failing fn changed the user (-before +after):\n%s", diff)
	}
	// The userName it tried to take is still free.
	mustCreateUser(t, s, acme.ID, newUser("u-2", "mallory", 1, nil))
}

func testUpdateUserEmails(t *testing.T, s store.Store) {
	ctx := t.Context()
	acme := mustTenant(t, s, "acme")
	mustCreateUser(t, s, acme.ID, newUser("u-1", "alice", 0, map[string]any{
		"emails": []any{map[string]any{"value": "old@example.com", "type": "work"}}}))
	match := func(f string) []string {
		t.Helper()
		p, err := s.ListUsers(ctx, acme.ID, store.Query{Filter: mustParse(t, f), Count: 10})
		if err != nil {
			t.Fatalf("ListUsers(%s): %v", f, err)
		}
		return userNames(p.Users)
	}
	if _, err := s.UpdateUser(ctx, acme.ID, "u-1", func(u *store.User) error {
		u.Attrs["emails"] = []any{
			map[string]any{"value": "home@example.org", "type": "home"},
			map[string]any{"value": "New@Example.com", "type": "work", "primary": true},
		}
		return nil
	}); err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	for f, want := range map[string][]string{
		`emails.value eq "old@example.com"`:                      nil,
		`emails[type eq "work"].value eq "new@example.com"`:      {"alice"},
		`emails[type eq "work" and value eq "home@example.org"]`: nil,
		`emails[primary eq true].value sw "new@"`:                {"alice"},
	} {
		if diff := cmp.Diff(want, match(f), cmpEmpty); diff != "" {
			t.Errorf("after changing emails, %s (-want +got):\n%s", f, diff)
		}
	}
	if _, err := s.UpdateUser(ctx, acme.ID, "u-1", func(u *store.User) error {
		delete(u.Attrs, "emails")
		return nil
	}); err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	if got := match(`emails pr`); len(got) != 0 {
		t.Errorf("after removing emails, emails pr matches %v", got)
	}
}

func testConcurrentUpdateUser(t *testing.T, s store.Store) {
	ctx := t.Context()
	acme := mustTenant(t, s, "acme")
	mustCreateUser(t, s, acme.ID, newUser("u-1", "alice", 0, map[string]any{"nickName": "0"}))
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := s.UpdateUser(ctx, acme.ID, "u-1", func(u *store.User) error {
				c, err := strconv.Atoi(u.Attrs["nickName"].(string))
				if err != nil {
					return err
				}
				u.Attrs["nickName"] = strconv.Itoa(c + 1)
				return nil
			})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("UpdateUser: %v", err)
		}
	}
	got, err := s.User(ctx, acme.ID, "u-1")
	if err != nil {
		t.Fatalf("User: %v", err)
	}
	if got.Attrs["nickName"] != strconv.Itoa(n) || got.Version != n+1 {
		t.Errorf("after %d concurrent increments: counter %v, version %d; want %d, %d", n, got.Attrs["nickName"], got.Version, n, n+1)
	}
}

func testPaging(t *testing.T, s store.Store) {
	ctx := t.Context()
	acme := mustTenant(t, s, "acme")
	other := mustTenant(t, s, "other")
	var all, active []string
	for i := range 25 {
		name := fmt.Sprintf("user%02d", 24-i) // creation order is not name order
		u := newUser(fmt.Sprintf("id-%02d", i), name, i, map[string]any{"active": i%3 != 0, "title": []string{"a", "b"}[i%2]})
		mustCreateUser(t, s, acme.ID, u)
		mustCreateUser(t, s, other.ID, u)
		all = append(all, name)
		if i%3 != 0 {
			active = append(active, name)
		}
	}
	pages := func(q store.Query, size int) ([]string, []int) {
		t.Helper()
		var names []string
		var totals []int
		for start := 1; start <= 30; start += size {
			q.StartIndex, q.Count = start, size
			p, err := s.ListUsers(ctx, acme.ID, q)
			if err != nil {
				t.Fatalf("ListUsers(%+v): %v", q, err)
			}
			if len(p.Users) > size {
				t.Fatalf("ListUsers(%+v) returned %d users", q, len(p.Users))
			}
			names = append(names, userNames(p.Users)...)
			totals = append(totals, p.Total)
		}
		return names, totals
	}
	for _, size := range []int{1, 7, 25, 100} {
		names, totals := pages(store.Query{}, size)
		if diff := cmp.Diff(all, names); diff != "" {
			t.Errorf("pages of %d in creation order (-want +got):\n%s", size, diff)
		}
		for _, n := range totals {
			if n != 25 {
				t.Errorf("pages of %d: Total %d, want 25", size, n)
			}
		}
	}
	f := mustParse(t, "active eq true")
	names, totals := pages(store.Query{Filter: f}, 4)
	if diff := cmp.Diff(active, names); diff != "" {
		t.Errorf("filtered pages (-want +got):\n%s", diff)
	}
	for _, n := range totals {
		if n != len(active) {
			t.Errorf("filtered pages: Total %d, want %d", n, len(active))
		}
	}
	// Sorting by an attribute with many ties still pages without
	// duplicates or gaps.
	sorted, _ := pages(store.Query{SortBy: "title"}, 3)
	var wantSorted []string
	for _, title := range []string{"a", "b"} {
		for i, n := range all {
			if []string{"a", "b"}[i%2] == title {
				wantSorted = append(wantSorted, n)
			}
		}
	}
	if diff := cmp.Diff(wantSorted, sorted); diff != "" {
		t.Errorf("pages sorted by title (-want +got):\n%s", diff)
	}

	for _, tc := range []struct {
		name      string
		q         store.Query
		wantTotal int
		want      []string
	}{
		{"count 0 asks only for the total", store.Query{Count: 0}, 25, nil},
		{"count 0 with a filter", store.Query{Filter: f, Count: 0}, len(active), nil},
		{"startIndex below 1 means 1", store.Query{StartIndex: -5, Count: 2}, 25, all[:2]},
		{"startIndex past the end", store.Query{StartIndex: 26, Count: 10}, 25, nil},
		{"last partial page", store.Query{StartIndex: 24, Count: 10}, 25, all[23:]},
		{"no match", store.Query{Filter: mustParse(t, `userName eq "nobody"`), Count: 10}, 0, nil},
	} {
		p, err := s.ListUsers(ctx, acme.ID, tc.q)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if p.Total != tc.wantTotal {
			t.Errorf("%s: Total %d, want %d", tc.name, p.Total, tc.wantTotal)
		}
		if diff := cmp.Diff(tc.want, userNames(p.Users), cmpEmpty); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}

// testUpdateUserNoChange: an update that leaves the attributes and the
// password as they were stores nothing (RFC 7644 §3.5.2): the version and
// the modification time stay; any change makes a new version.
func testUpdateUserNoChange(t *testing.T, s store.Store) {
	ctx := t.Context()
	acme := mustTenant(t, s, "acme")
	u := mustCreateUser(t, s, acme.ID, newUser("u-1", "alice", 0, map[string]any{
		"emails": []any{map[string]any{"value": "a@example.com", "type": "work", "primary": true}}}))
	later := base.Add(time.Hour)
	same := func(u *store.User) error {
		// Another copy of the same attributes, as a PATCH that adds a
		// value the user has builds it.
		u.Attrs = map[string]any{"userName": "alice", "active": true,
			"emails": []any{map[string]any{"primary": true, "type": "work", "value": "a@example.com"}}}
		u.Modified = later
		return nil
	}
	got, err := s.UpdateUser(ctx, acme.ID, "u-1", same)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != u.Version || !got.Modified.Equal(u.Modified) {
		t.Errorf("an update that changes nothing returned version %d, modified %v; want %d, %v", got.Version, got.Modified, u.Version, u.Modified)
	}
	if stored, _ := s.User(ctx, acme.ID, "u-1"); stored.Version != u.Version || !stored.Modified.Equal(u.Modified) {
		t.Errorf("an update that changes nothing stored version %d, modified %v", stored.Version, stored.Modified)
	}
	got, err = s.UpdateUser(ctx, acme.ID, "u-1", func(u *store.User) error {
		u.PasswordHash = "new-hash"
		u.Modified = later
		return nil
	})
	if err != nil || got.Version != u.Version+1 || !got.Modified.Equal(later) {
		t.Errorf("a new password hash: version %d, modified %v, %v; want %d, %v", got.Version, got.Modified, err, u.Version+1, later)
	}
	got, err = s.UpdateUser(ctx, acme.ID, "u-1", func(u *store.User) error {
		u.Attrs["title"] = "Engineer"
		u.Modified = later.Add(time.Hour)
		return nil
	})
	if err != nil || got.Version != u.Version+2 {
		t.Errorf("a new attribute: version %d, %v; want %d", got.Version, err, u.Version+2)
	}
}

// testSecrets: the first value stored under a name is the secret; later
// and concurrent callers get it, whatever value they offer.
func testSecrets(t *testing.T, s store.Store) {
	ctx := t.Context()
	got, err := s.Secret(ctx, "cursor-key", []byte("first"))
	if err != nil || string(got) != "first" {
		t.Fatalf("first Secret = %q, %v", got, err)
	}
	if got, err := s.Secret(ctx, "cursor-key", []byte("second")); err != nil || string(got) != "first" {
		t.Errorf("second Secret = %q, %v; want the first value", got, err)
	}
	if got, err := s.Secret(ctx, "other", []byte("x")); err != nil || string(got) != "x" {
		t.Errorf("another name = %q, %v", got, err)
	}
	var wg sync.WaitGroup
	vals := make([]string, 8)
	for i := range vals {
		wg.Go(func() {
			v, err := s.Secret(ctx, "race", []byte(fmt.Sprint(i)))
			if err != nil {
				t.Error(err)
			}
			vals[i] = string(v)
		})
	}
	wg.Wait()
	for _, v := range vals {
		if v != vals[0] {
			t.Errorf("concurrent callers got different secrets: %q", vals)
			break
		}
	}
}

// testUpdateUserOutsideWriter: UpdateUser's fn runs outside the write
// transaction. While one tenant's fn is held, another tenant's writes
// commit, and so does another update of the same user; the held update
// then sees that it lost the race and runs again on the new version, so
// that neither change is lost.
func testUpdateUserOutsideWriter(t *testing.T, s store.Store) {
	ctx := t.Context()
	acme, globex := mustTenant(t, s, "acme"), mustTenant(t, s, "globex")
	mustCreateUser(t, s, acme.ID, newUser("u-1", "alice", 0, nil))
	held, release := make(chan struct{}), make(chan struct{})
	var calls int
	done := make(chan error, 1)
	go func() {
		_, err := s.UpdateUser(ctx, acme.ID, "u-1", func(u *store.User) error {
			calls++
			if calls == 1 {
				close(held)
				<-release
			}
			u.Attrs["title"] = "held"
			return nil
		})
		done <- err
	}()
	<-held
	wrote := make(chan error, 1)
	go func() {
		if _, err := s.CreateUser(ctx, globex.ID, newUser("g-1", "gina", 0, nil)); err != nil {
			wrote <- err
			return
		}
		_, err := s.UpdateUser(ctx, acme.ID, "u-1", func(u *store.User) error { u.Attrs["nickName"] = "al"; return nil })
		wrote <- err
	}()
	select {
	case err := <-wrote:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		close(release)
		t.Fatal("writes waited for another update's fn: it runs while the writer is held")
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	u, err := s.User(ctx, acme.ID, "u-1")
	if err != nil {
		t.Fatal(err)
	}
	if u.Attrs["title"] != "held" || u.Attrs["nickName"] != "al" || u.Version != 3 || calls != 2 {
		t.Errorf("after the race: %v, version %d, fn called %d times; want both changes, version 3, 2 calls", u.Attrs, u.Version, calls)
	}
}

// testPageBytes: a page ends early once its resources take
// store.MaxPageBytes, says so (a shorter page, the exact total, a next
// position for cursors), and the next page goes on where it ended.
func testPageBytes(t *testing.T, s store.Store) {
	ctx := t.Context()
	acme := mustTenant(t, s, "acme")
	big := strings.Repeat("x", 100<<10)
	const n = 100 // 10 MB in all
	for i := range n {
		mustCreateUser(t, s, acme.ID, newUser(fmt.Sprintf("u-%03d", i), fmt.Sprintf("user%03d", i), i, map[string]any{"title": big}))
	}
	p, err := s.ListUsers(ctx, acme.ID, store.Query{StartIndex: 1, Count: n})
	if err != nil {
		t.Fatal(err)
	}
	first := len(p.Users)
	if first >= n || first < store.MaxPageBytes/(101<<10) || p.Total != n {
		t.Fatalf("page of %d: %d users, total %d; want it cut near %d bytes, total %d", n, first, p.Total, store.MaxPageBytes, n)
	}
	rest, err := s.ListUsers(ctx, acme.ID, store.Query{StartIndex: first + 1, Count: n})
	if err != nil || len(rest.Users) != n-first || rest.Total != n {
		t.Fatalf("the rest: %d users, total %d, %v; want %d", len(rest.Users), rest.Total, err, n-first)
	}
	// By cursor: pages cut short chain without gaps.
	seen := 0
	var after *store.Position
	for range 10 {
		c, err := s.ListUsers(ctx, acme.ID, store.Query{Cursor: true, After: after, Count: n})
		if err != nil {
			t.Fatal(err)
		}
		seen += len(c.Users)
		if c.Next == nil {
			break
		}
		after = c.Next
	}
	if seen != n {
		t.Errorf("cursor pages saw %d users, want %d", seen, n)
	}
}

// testAuthOnOwnConnections: with every connection of the read pool held
// (a tenant's slow searches), the reads that authenticate requests, the
// tenant by name and the key by id, are still answered.
func testAuthOnOwnConnections(t *testing.T, s store.Store) {
	bs, ok := s.(interface{ Backend() sqlstore.Backend })
	if !ok {
		t.Fatalf("%T has no Backend", s)
	}
	ctx := t.Context()
	acme := mustTenant(t, s, "acme")
	key := store.APIKey{ID: "key-1", TenantID: acme.ID, Name: "k", Scope: store.ScopeWrite, SecretHash: []byte("h"), Created: base}
	if err := s.CreateAPIKey(ctx, key); err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	var wg sync.WaitGroup
	defer func() { close(release); wg.Wait() }()
	held := 0
	for range 64 {
		started := make(chan struct{})
		wg.Go(func() {
			bs.Backend().Read(context.WithoutCancel(ctx), func(sqlstore.Reader) error {
				close(started)
				<-release
				return nil
			})
		})
		select {
		case <-started:
			held++
			continue
		case <-time.After(300 * time.Millisecond):
		}
		break // this read waits for a connection: the pool is taken
	}
	if held == 64 {
		t.Fatal("64 reads held and the pool is not exhausted")
	}
	if held <= 1 {
		// SQLite's ":memory:" databases have one connection for
		// everything: nothing to keep apart.
		t.Log("a database of one connection: authentication has none of its own")
		return
	}
	actx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := s.Tenant(actx, "acme"); err != nil {
		t.Errorf("Tenant with the read pool taken (%d connections): %v", held, err)
	}
	if _, err := s.APIKey(actx, "key-1"); err != nil {
		t.Errorf("APIKey with the read pool taken (%d connections): %v", held, err)
	}
}

// testCase is one test of a suite, over a store of type S.
type testCase[S interface{ Close() error }] struct {
	name string
	fn   func(*testing.T, S)
}

// runCases runs each test as a subtest on a new store, closed when the
// subtest ends.
func runCases[S interface{ Close() error }](t *testing.T, tests []testCase[S], newStore func(t *testing.T) S) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
}
