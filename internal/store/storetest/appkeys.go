package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimd/scimd/internal/store"
)

// HostBackend is a store that implements both Store and HostStore.
type HostBackend interface {
	store.Store
	store.HostStore
}

// RunHost runs the conformance suite of store.HostStore. newStore must
// return a new, empty store for each call; the suite closes it.
func RunHost(t *testing.T, newStore func(t *testing.T) HostBackend) {
	tests := []testCase[HostBackend]{
		{"AppKeys", testAppKeys},
		{"AppKeyRefused", testAppKeyRefused},
		{"RevokeTouchAppKey", testRevokeTouchAppKey},
		{"UserStatus", testUserStatus},
		{"UserStatusByUserName", testUserStatusByUserName},
	}
	runCases(t, tests, newStore)
}

func hash(c byte) []byte { return []byte(strings.Repeat(string(c), 32)) }

func testAppKeys(t *testing.T, s HostBackend) {
	ctx := t.Context()
	a, b, c := mustTenant(t, s, "acme"), mustTenant(t, s, "bravo"), mustTenant(t, s, "charlie")
	all := store.AppKey{ID: "ak1", Name: "product", SecretHash: hash('a'), AllTenants: true, CreatedBy: "cli", Created: base}
	some := store.AppKey{ID: "ak2", Name: "billing", SecretHash: hash('b'), TenantIDs: []int64{c.ID, a.ID, c.ID}, CreatedBy: "cli",
		Created: base.Add(time.Minute)}
	for _, k := range []store.AppKey{all, some} {
		if err := s.CreateAppKey(ctx, k); err != nil {
			t.Fatalf("CreateAppKey(%s): %v", k.ID, err)
		}
	}
	some.TenantIDs = []int64{a.ID, c.ID} // sorted, each once
	for _, want := range []store.AppKey{all, some} {
		got, err := s.AppKey(ctx, want.ID)
		if err != nil {
			t.Fatalf("AppKey(%s): %v", want.ID, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("AppKey(%s) mismatch (-want +got):\n%s", want.ID, diff)
		}
	}
	list, err := s.AppKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]store.AppKey{some, all}, list); diff != "" {
		t.Errorf("AppKeys (newest first) mismatch (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		tenant int64
		all    bool
		some   bool
	}{{a.ID, true, true}, {b.ID, true, false}, {c.ID, true, true}, {c.ID + 100, true, false}} {
		if all.Reads(tc.tenant) != tc.all || some.Reads(tc.tenant) != tc.some {
			t.Errorf("Reads(%d) = %v, %v; want %v, %v", tc.tenant, all.Reads(tc.tenant), some.Reads(tc.tenant), tc.all, tc.some)
		}
	}
	_, err = s.AppKey(ctx, "nope")
	wantErr(t, "AppKey of an unknown id", err, store.ErrNotFound)
	_, err = s.AppKey(ctx, "ak1\x00")
	wantErr(t, "AppKey of an id with NUL", err, store.ErrNotFound)
	// An application key is not a tenant key, nor the other way round.
	_, err = s.APIKey(ctx, "ak1")
	wantErr(t, "APIKey of an application key's id", err, store.ErrNotFound)
}

// testAppKeyRefused: a key that cannot be stored leaves nothing behind.
func testAppKeyRefused(t *testing.T, s HostBackend) {
	ctx := t.Context()
	a := mustTenant(t, s, "acme")
	ok := store.AppKey{ID: "ak1", Name: "product", SecretHash: hash('a'), AllTenants: true, CreatedBy: "cli", Created: base}
	if err := s.CreateAppKey(ctx, ok); err != nil {
		t.Fatal(err)
	}
	dup := ok
	dup.SecretHash = hash('z')
	wantErr(t, "CreateAppKey of a taken id", s.CreateAppKey(ctx, dup), store.ErrConflict)
	if got, err := s.AppKey(ctx, "ak1"); err != nil || string(got.SecretHash) != string(hash('a')) {
		t.Errorf("after a refused duplicate, AppKey = %+v, %v", got, err)
	}

	unknownTenant := store.AppKey{ID: "ak2", Name: "x", SecretHash: hash('b'), TenantIDs: []int64{a.ID, a.ID + 1000}, Created: base}
	wantErr(t, "CreateAppKey with an unknown tenant", s.CreateAppKey(ctx, unknownTenant), store.ErrNotFound)
	_, err := s.AppKey(ctx, "ak2")
	wantErr(t, "AppKey of a key refused for an unknown tenant", err, store.ErrNotFound)

	for _, bad := range []store.AppKey{
		{ID: "ak3", Name: "neither", SecretHash: hash('c'), Created: base},
		{ID: "ak4", Name: "both", SecretHash: hash('c'), AllTenants: true, TenantIDs: []int64{a.ID}, Created: base},
		{ID: "", Name: "no id", SecretHash: hash('c'), AllTenants: true, Created: base},
		{ID: "ak5", Name: "no hash", AllTenants: true, Created: base},
		{ID: "ak6", Name: "nul\x00", SecretHash: hash('c'), AllTenants: true, Created: base},
	} {
		if err := s.CreateAppKey(ctx, bad); err == nil {
			t.Errorf("CreateAppKey(%q) accepted a key with %s", bad.ID, bad.Name)
		}
	}
	list, err := s.AppKeys(ctx)
	if err != nil || len(list) != 1 || list[0].ID != "ak1" {
		t.Errorf("AppKeys after refusals = %+v, %v; want ak1 only", list, err)
	}
}

func testRevokeTouchAppKey(t *testing.T, s HostBackend) {
	ctx := t.Context()
	k := store.AppKey{ID: "ak1", Name: "product", SecretHash: hash('a'), AllTenants: true, CreatedBy: "cli", Created: base}
	if err := s.CreateAppKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	t1, t2 := base.Add(time.Hour), base.Add(2*time.Hour)
	if err := s.TouchAppKey(ctx, "ak1", t2); err != nil {
		t.Fatalf("TouchAppKey: %v", err)
	}
	if err := s.TouchAppKey(ctx, "ak1", t1); err != nil { // older: ignored
		t.Fatalf("TouchAppKey: %v", err)
	}
	wantErr(t, "TouchAppKey of an unknown key", s.TouchAppKey(ctx, "nope", t1), store.ErrNotFound)
	if err := s.RevokeAppKey(ctx, "ak1", t1); err != nil {
		t.Fatalf("RevokeAppKey: %v", err)
	}
	if err := s.RevokeAppKey(ctx, "ak1", t2); err != nil { // again: keeps the first time
		t.Fatalf("RevokeAppKey again: %v", err)
	}
	wantErr(t, "RevokeAppKey of an unknown key", s.RevokeAppKey(ctx, "nope", t1), store.ErrNotFound)
	got, err := s.AppKey(ctx, "ak1")
	if err != nil {
		t.Fatal(err)
	}
	k.LastUsed, k.Revoked = t2, t1
	if diff := cmp.Diff(k, got); diff != "" {
		t.Errorf("AppKey after touch and revoke mismatch (-want +got):\n%s", diff)
	}
}

func testUserStatus(t *testing.T, s HostBackend) {
	ctx := t.Context()
	gs := groupStore(t, s)
	a, b := mustTenant(t, s, "acme"), mustTenant(t, s, "bravo")
	mustCreateUser(t, s, a.ID, newUser("u1", "Ada@Example.com", 0, nil))
	mustCreateUser(t, s, a.ID, newUser("u2", "bob", 1, map[string]any{"active": false}))
	mustCreateUser(t, s, a.ID, newUser("u3", "cy", 2, nil))
	mustCreateUser(t, s, b.ID, newUser("u9", "other", 3, nil))
	mustCreateGroup(t, gs, a.ID, newGroup("g1", "Engineering", 0, "u1"))
	mustCreateGroup(t, gs, a.ID, newGroup("g2", "Everyone", 1, "g1", "u2"))
	mustCreateGroup(t, gs, a.ID, newGroup("g3", "Admins", 2, "u1"))
	if err := s.DeleteUser(ctx, a.ID, "u3", true); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		tenant int64
		id     string
		want   store.UserStatus
		err    error
	}{
		{a.ID, "u1", store.UserStatus{ID: "u1", UserName: "Ada@Example.com", Active: true, Groups: []store.GroupRef{
			{Value: "g1", Display: "Engineering", Type: "direct"},
			{Value: "g2", Display: "Everyone", Type: "indirect"},
			{Value: "g3", Display: "Admins", Type: "direct"},
		}}, nil},
		{a.ID, "u2", store.UserStatus{ID: "u2", UserName: "bob", Groups: []store.GroupRef{{Value: "g2", Display: "Everyone", Type: "direct"}}}, nil},
		{a.ID, "u3", store.UserStatus{ID: "u3", UserName: "cy", Archived: true}, nil},
		{a.ID, "nobody", store.UserStatus{}, store.ErrNotFound},
		{a.ID, "u9", store.UserStatus{}, store.ErrNotFound}, // another tenant's
		{b.ID, "u1", store.UserStatus{}, store.ErrNotFound},
		{a.ID, "u1\x00", store.UserStatus{}, store.ErrNotFound},
		{a.ID, "g1", store.UserStatus{}, store.ErrNotFound}, // a group
	} {
		got, err := s.UserStatus(ctx, tc.tenant, tc.id)
		wantErr(t, "UserStatus("+tc.id+")", err, tc.err)
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("UserStatus(%d, %q) mismatch (-want +got):\n%s", tc.tenant, tc.id, diff)
		}
	}

	// Every change shows on the next read.
	if _, err := s.UpdateUser(ctx, a.ID, "u1", func(u *store.User) error { u.Attrs["active"] = false; return nil }); err != nil {
		t.Fatal(err)
	}
	if got, err := s.UserStatus(ctx, a.ID, "u1"); err != nil || got.Active {
		t.Errorf("UserStatus after deactivation = %+v, %v; want inactive", got, err)
	}
	if err := s.DeleteUser(ctx, a.ID, "u1", true); err != nil {
		t.Fatal(err)
	}
	if got, err := s.UserStatus(ctx, a.ID, "u1"); err != nil || !got.Archived || got.Active || len(got.Groups) != 0 {
		t.Errorf("UserStatus after archiving = %+v, %v; want archived, inactive, in no group", got, err)
	}
	if r, ok := s.(restorer); ok {
		if _, err := r.RestoreUser(ctx, a.ID, "u1"); err != nil {
			t.Fatal(err)
		}
		want := store.UserStatus{ID: "u1", UserName: "Ada@Example.com"} // memberships are not restored
		if got, err := s.UserStatus(ctx, a.ID, "u1"); err != nil || !cmp.Equal(got, want) {
			t.Errorf("UserStatus after restore = %+v, %v; want %+v", got, err, want)
		}
	}
	if err := s.PurgeUser(ctx, a.ID, "u3"); err != nil {
		t.Fatal(err)
	}
	_, err := s.UserStatus(ctx, a.ID, "u3")
	wantErr(t, "UserStatus after purge", err, store.ErrNotFound)
}

func testUserStatusByUserName(t *testing.T, s HostBackend) {
	ctx := t.Context()
	gs := groupStore(t, s)
	a, b := mustTenant(t, s, "acme"), mustTenant(t, s, "bravo")
	mustCreateUser(t, s, a.ID, newUser("u1", "Ada@Example.com", 0, nil))
	mustCreateUser(t, s, a.ID, newUser("u2", "Élodie", 1, nil))
	mustCreateUser(t, s, a.ID, newUser("u3", "cy", 2, nil))
	mustCreateGroup(t, gs, a.ID, newGroup("g1", "Engineering", 0, "u1"))
	if err := s.DeleteUser(ctx, a.ID, "u3", true); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		tenant   int64
		userName string
		wantID   string
		err      error
	}{
		{a.ID, "ada@example.COM", "u1", nil},
		{a.ID, "éLODIE", "u2", nil}, // scim.Fold, not ASCII only
		{a.ID, "cy", "", store.ErrNotFound},
		{a.ID, "ada", "", store.ErrNotFound},
		{b.ID, "Ada@Example.com", "", store.ErrNotFound},
		{a.ID, "a\x00b", "", store.ErrNotFound},
		{a.ID, "\xff", "", store.ErrNotFound},
	} {
		got, err := s.UserStatusByUserName(ctx, tc.tenant, tc.userName)
		wantErr(t, "UserStatusByUserName("+tc.userName+")", err, tc.err)
		if got.ID != tc.wantID {
			t.Errorf("UserStatusByUserName(%d, %q) = %+v, want id %q", tc.tenant, tc.userName, got, tc.wantID)
		}
	}
	got, err := s.UserStatusByUserName(ctx, a.ID, "ADA@example.com")
	want := store.UserStatus{ID: "u1", UserName: "Ada@Example.com", Active: true, Groups: []store.GroupRef{{Value: "g1", Display: "Engineering", Type: "direct"}}}
	if err != nil || !cmp.Equal(got, want) {
		t.Errorf("UserStatusByUserName = %+v, %v; want %+v", got, err, want)
	}
}
