package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/scimd/scimd/internal/store"
)

// The operator's view of tenants: counts, Owners who can sign in, and
// deleting a tenant with all its data.

// testTenantCounts checks every count against a known tenant, beside
// another tenant whose data must not be counted.
func testTenantCounts(t *testing.T, s ConsoleBackend) {
	ctx := t.Context()
	acme, globex := mustTenant(t, s, "acme"), mustTenant(t, s, "globex")
	for _, tn := range []store.Tenant{acme, globex} {
		if err := s.EnsureDefaultRoles(ctx, tn.ID); err != nil {
			t.Fatal(err)
		}
	}
	owner := func(tn store.Tenant) int64 {
		roles, _ := s.Roles(ctx, tn.ID)
		for _, r := range roles {
			if r.Name == store.RoleOwner {
				return r.ID
			}
		}
		t.Fatal("no Owner role")
		return 0
	}
	for i := range 5 {
		u := newUser(fmt.Sprintf("u-%d", i), fmt.Sprintf("user%d", i), i, map[string]any{"active": i%2 == 0})
		if i < 3 {
			u.PasswordHash = "hash"
		}
		mustCreateUser(t, s, acme.ID, u)
	}
	mustCreateUser(t, s, globex.ID, newUser("g-1", "other", 0, map[string]any{"active": false}))
	if err := s.DeleteUser(ctx, acme.ID, "u-4", true); err != nil {
		t.Fatal(err)
	}
	mustCreateGroup(t, s, acme.ID, store.Group{ID: "grp-1", Created: base, Modified: base, Attrs: map[string]any{"displayName": "eng"}})
	now := base.Add(time.Hour)
	for i, k := range []store.APIKey{
		{ID: "k-live", Expires: time.Time{}},
		{ID: "k-later", Expires: now.Add(time.Minute)},
		{ID: "k-expired", Expires: now},
		{ID: "k-revoked"},
	} {
		k.TenantID, k.Name, k.Scope, k.SecretHash, k.Created = acme.ID, fmt.Sprintf("key %d", i), store.ScopeWrite, []byte("h"), base
		if err := s.CreateAPIKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RevokeAPIKey(ctx, acme.ID, "k-revoked", base); err != nil {
		t.Fatal(err)
	}
	// Owners: u-0 (active, password) can sign in; u-1 (inactive) and u-3
	// (no password) cannot; u-4 is archived.
	for _, id := range []string{"u-0", "u-1", "u-3", "u-4"} {
		if err := s.SetUserRoles(ctx, acme.ID, id, []int64{owner(acme)}); err != nil {
			t.Fatalf("SetUserRoles(%s): %v", id, err)
		}
	}
	got, err := s.TenantCounts(ctx, acme.ID, now)
	want := store.TenantCounts{Users: 4, InactiveUsers: 2, ArchivedUsers: 1, Groups: 1, ActiveKeys: 2, Owners: store.Owners{Holders: 4, CanSignIn: 1}}
	if err != nil || got != want {
		t.Errorf("TenantCounts = %+v, %v; want %+v", got, err, want)
	}
	owners, err := s.TenantOwners(ctx)
	if err != nil || len(owners) != 1 || owners[acme.ID] != want.Owners {
		t.Errorf("TenantOwners = %v, %v; want only acme's %+v", owners, err, want.Owners)
	}
	// SCIM deactivates the last Owner who could sign in.
	if _, err := s.UpdateUser(ctx, acme.ID, "u-0", func(u *store.User) error {
		u.Attrs["active"] = false
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if owners, _ := s.TenantOwners(ctx); owners[acme.ID] != (store.Owners{Holders: 4}) {
		t.Errorf("after deactivating u-0, TenantOwners[acme] = %+v, want 4 holders, none able to sign in", owners[acme.ID])
	}
	if got, _ := s.TenantCounts(ctx, globex.ID, now); got != (store.TenantCounts{Users: 1, InactiveUsers: 1}) {
		t.Errorf("TenantCounts(globex) = %+v", got)
	}
}

// testDeleteTenant deletes a tenant holding more than one purge chunk of
// users and members, and checks that it is gone, that its name is not
// reused, that its data goes and that another tenant's stays.
func testDeleteTenant(t *testing.T, s ConsoleBackend) {
	ctx := t.Context()
	acme, globex := mustTenant(t, s, "acme"), mustTenant(t, s, "globex")
	if err := s.EnsureDefaultRoles(ctx, acme.ID); err != nil {
		t.Fatal(err)
	}
	const n = 520 // more than one chunk
	var members []store.Member
	for i := range n {
		id := fmt.Sprintf("u-%d", i)
		mustCreateUser(t, s, acme.ID, newUser(id, "user"+id, i, nil))
		members = append(members, store.Member{Value: id})
	}
	mustCreateGroup(t, s, acme.ID, store.Group{ID: "grp", Created: base, Modified: base, Attrs: map[string]any{"displayName": "all"}, Members: members})
	if err := s.DeleteUser(ctx, acme.ID, "u-0", true); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAPIKey(ctx, store.APIKey{ID: "acme-key", TenantID: acme.ID, Name: "okta", Scope: store.ScopeWrite, SecretHash: []byte("h"), Created: base}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddActivity(ctx, []store.Activity{{TenantID: acme.ID, Time: base, Method: "GET", Path: "/Users", Status: 200}}); err != nil {
		t.Fatal(err)
	}
	mustCreateUser(t, s, globex.ID, newUser("u-1", "keep", 0, nil))

	deleted, err := s.DeleteTenant(ctx, "acme")
	if err != nil || deleted.ID != acme.ID {
		t.Fatalf("DeleteTenant = %+v, %v", deleted, err)
	}
	_, err = s.DeleteTenant(ctx, "acme")
	wantErr(t, "DeleteTenant again", err, store.ErrNotFound)
	_, err = s.Tenant(ctx, "acme")
	wantErr(t, "Tenant of a deleted tenant", err, store.ErrNotFound)
	_, err = s.TenantByID(ctx, acme.ID)
	wantErr(t, "TenantByID of a deleted tenant", err, store.ErrNotFound)
	_, err = s.CreateTenant(ctx, "acme")
	wantErr(t, "CreateTenant with a deleted tenant's name", err, store.ErrConflict)
	if ts, err := s.Tenants(ctx); err != nil || len(ts) != 1 || ts[0].Name != "globex" {
		t.Errorf("Tenants = %v, %v; want only globex", ts, err)
	}
	_, err = s.UpdateTenant(ctx, "acme", func(*store.Tenant) error { return nil })
	wantErr(t, "UpdateTenant of a deleted tenant", err, store.ErrNotFound)

	removed, err := s.PurgeDeletedTenants(ctx)
	// n live users and one archived, n members, a group, the key, two
	// roles at least, the activity record, and most events.
	if err != nil || removed < 2*n+3 {
		t.Fatalf("PurgeDeletedTenants = %d, %v", removed, err)
	}
	if again, err := s.PurgeDeletedTenants(ctx); err != nil || again != 0 {
		t.Errorf("a second PurgeDeletedTenants = %d, %v; want 0", again, err)
	}
	if _, err := s.APIKey(ctx, "acme-key"); err == nil {
		t.Error("the deleted tenant's API key is still found")
	}
	if _, err := s.User(ctx, acme.ID, "u-5"); err == nil {
		t.Error("the deleted tenant's user is still found")
	}
	if got, err := s.TenantCounts(ctx, acme.ID, base); err != nil || got != (store.TenantCounts{}) {
		t.Errorf("TenantCounts of the purged tenant = %+v, %v; want zeros", got, err)
	}
	if as, _, err := s.ActivityLog(ctx, acme.ID, store.ActivityQuery{}); err != nil || len(as) != 0 {
		t.Errorf("ActivityLog of the purged tenant = %d records, %v", len(as), err)
	}
	evs := readAll(t, s, store.EventQuery{TenantIDs: []int64{acme.ID}})
	if len(evs) != 1 || evs[0].Type != store.EventTenantDeleted || evs[0].Tenant != "acme" || evs[0].Resource.ID != "acme" {
		t.Errorf("the deleted tenant's events = %+v; want only tenant.deleted", evs)
	}
	if u, err := s.User(ctx, globex.ID, "u-1"); err != nil || u.Attrs["userName"] != "keep" {
		t.Errorf("another tenant's user = %+v, %v", u, err)
	}
	if got, _ := s.TenantCounts(ctx, globex.ID, base); got.Users != 1 {
		t.Errorf("TenantCounts(globex) = %+v", got)
	}
}
