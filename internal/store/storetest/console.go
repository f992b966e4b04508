package storetest

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimd/scimd/internal/store"
)

// ConsoleBackend is a store that implements both Store and ConsoleStore.
type ConsoleBackend interface {
	store.Store
	store.ConsoleStore
}

// RunConsole runs the conformance suite of store.ConsoleStore. newStore must
// return a new, empty store for each call; the suite closes it.
func RunConsole(t *testing.T, newStore func(t *testing.T) ConsoleBackend) {
	tests := []testCase[ConsoleBackend]{
		{"Operators", testOperators},
		{"Sessions", testSessions},
		{"Roles", testRoles},
		{"LastOwner", testLastOwner},
		{"UpdateAPIKey", testUpdateAPIKey},
		{"Activity", testActivity},
		{"PendingActivity", testPendingActivity},
		{"ActivityDetail", testActivityDetail},
		{"ActivitySummary", testActivitySummary},
		{"ArchiveRestore", testArchiveRestore},
		{"UserByUserName", testUserByUserName},
		{"Throttle", testThrottle},
		{"TenantCounts", testTenantCounts},
		{"DeleteTenant", testDeleteTenant},
	}
	runCases(t, tests, newStore)
}

func testOperators(t *testing.T, s ConsoleBackend) {
	ctx := t.Context()
	op, err := s.CreateOperator(ctx, "Ops@Example.com", "hash", base)
	if err != nil {
		t.Fatalf("CreateOperator: %v", err)
	}
	_, err = s.CreateOperator(ctx, "ops@example.COM", "hash2", base)
	wantErr(t, "CreateOperator of a taken e-mail", err, store.ErrConflict)
	got, err := s.OperatorByEmail(ctx, "OPS@example.com")
	if err != nil || got.ID != op.ID || got.PasswordHash != "hash" || got.Email != "Ops@Example.com" || !got.Created.Equal(base) {
		t.Errorf("OperatorByEmail = %+v, %v; want %+v", got, err, op)
	}
	if got, err := s.OperatorByID(ctx, op.ID); err != nil || got.Email != op.Email {
		t.Errorf("OperatorByID = %+v, %v", got, err)
	}
	_, err = s.OperatorByEmail(ctx, "nobody@example.com")
	wantErr(t, "OperatorByEmail of a stranger", err, store.ErrNotFound)

	// Listed by address; removed with their sessions.
	other, err := s.CreateOperator(ctx, "alice@example.com", "hash3", base)
	if err != nil {
		t.Fatal(err)
	}
	ops, err := s.Operators(ctx)
	if err != nil || len(ops) != 2 || ops[0].Email != "alice@example.com" || ops[1].Email != "Ops@Example.com" {
		t.Errorf("Operators = %+v, %v", ops, err)
	}
	sess := store.Session{IDHash: []byte("operator-session-0123456789abcdef"), OperatorID: op.ID, CSRF: "c", Created: base, LastSeen: base, Expires: base.Add(time.Hour)}
	if err := s.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteOperator(ctx, "OPS@example.com"); err != nil {
		t.Fatal(err)
	}
	_, err = s.OperatorByID(ctx, op.ID)
	wantErr(t, "OperatorByID after DeleteOperator", err, store.ErrNotFound)
	_, err = s.Session(ctx, sess.IDHash)
	wantErr(t, "the removed operator's session", err, store.ErrNotFound)
	wantErr(t, "DeleteOperator of a stranger", s.DeleteOperator(ctx, "nobody@example.com"), store.ErrNotFound)
	if ops, _ := s.Operators(ctx); len(ops) != 1 || ops[0].ID != other.ID {
		t.Errorf("Operators after the removal = %+v", ops)
	}
}

func testSessions(t *testing.T, s ConsoleBackend) {
	ctx := t.Context()
	tn := mustTenant(t, s, "acme")
	mk := func(id byte, user string, created time.Time) store.Session {
		ss := store.Session{IDHash: bytes.Repeat([]byte{id}, 32), TenantID: tn.ID, UserID: user, CSRF: "tok",
			Created: created, LastSeen: created, Expires: created.Add(12 * time.Hour)}
		if err := s.CreateSession(ctx, ss); err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		return ss
	}
	a := mk(1, "u1", base)
	mk(2, "u1", base)
	c := mk(3, "u2", base.Add(-time.Hour))
	got, err := s.Session(ctx, a.IDHash)
	if err != nil {
		t.Fatalf("Session: %v", err)
	}
	if diff := cmp.Diff(a, got); diff != "" {
		t.Errorf("Session mismatch (-want +got):\n%s", diff)
	}
	if err := s.TouchSession(ctx, a.IDHash, base.Add(time.Minute)); err != nil {
		t.Fatalf("TouchSession: %v", err)
	}
	if got, _ := s.Session(ctx, a.IDHash); !got.LastSeen.Equal(base.Add(time.Minute)) {
		t.Errorf("LastSeen after touch = %v", got.LastSeen)
	}
	if err := s.DeleteUserSessions(ctx, tn.ID, "u1"); err != nil {
		t.Fatalf("DeleteUserSessions: %v", err)
	}
	for _, id := range []byte{1, 2} {
		_, err := s.Session(ctx, bytes.Repeat([]byte{id}, 32))
		wantErr(t, "Session after DeleteUserSessions", err, store.ErrNotFound)
	}
	if _, err := s.Session(ctx, c.IDHash); err != nil {
		t.Errorf("another user's session: %v", err)
	}
	n, err := s.DeleteExpiredSessions(ctx, base, base.Add(-30*time.Minute))
	if err != nil || n != 1 {
		t.Errorf("DeleteExpiredSessions = %d, %v; want 1 (idle)", n, err)
	}
	d := mk(4, "u3", base)
	if err := s.DeleteSession(ctx, d.IDHash); err != nil {
		t.Fatalf("DeleteSession: %v", err)
	}
	_, err = s.Session(ctx, d.IDHash)
	wantErr(t, "Session after DeleteSession", err, store.ErrNotFound)
}

func testRoles(t *testing.T, s ConsoleBackend) {
	ctx := t.Context()
	a, b := mustTenant(t, s, "acme"), mustTenant(t, s, "bravo")
	for range 2 { // idempotent
		if err := s.EnsureDefaultRoles(ctx, a.ID); err != nil {
			t.Fatalf("EnsureDefaultRoles: %v", err)
		}
	}
	roles, err := s.Roles(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]store.Role{}
	for _, r := range roles {
		byName[r.Name] = r
	}
	if len(roles) != 3 || !byName[store.RoleOwner].Has(store.PermManageAPIKeys) || byName[store.RoleMember].Has(store.PermManageAPIKeys) {
		t.Fatalf("default roles = %+v", roles)
	}
	member := byName[store.RoleMember]
	if err := s.SetRolePermissions(ctx, a.ID, member.ID, []string{store.PermViewUsers, store.PermViewActivity}); err != nil {
		t.Fatalf("SetRolePermissions: %v", err)
	}
	wantErr(t, "SetRolePermissions in another tenant", s.SetRolePermissions(ctx, b.ID, member.ID, nil), store.ErrNotFound)
	if err := s.SetRolePermissions(ctx, a.ID, member.ID, []string{"fly"}); err == nil {
		t.Errorf("SetRolePermissions accepted an unknown permission")
	}
	if err := s.SetUserRoles(ctx, a.ID, "u1", []int64{member.ID, byName[store.RoleAdmin].ID}); err != nil {
		t.Fatalf("SetUserRoles: %v", err)
	}
	wantErr(t, "SetUserRoles with another tenant's role", s.SetUserRoles(ctx, b.ID, "u1", []int64{member.ID}), store.ErrNotFound)
	got, err := s.UserRoles(ctx, a.ID, "u1")
	if err != nil || len(got) != 2 {
		t.Fatalf("UserRoles = %+v, %v", got, err)
	}
	var names []string
	for _, r := range got {
		names = append(names, r.Name)
		if r.Name == store.RoleMember && !slices.Equal(r.Permissions, []string{store.PermViewUsers, store.PermViewActivity}) {
			t.Errorf("Member permissions = %v", r.Permissions)
		}
	}
	if !slices.Equal(names, []string{store.RoleAdmin, store.RoleMember}) {
		t.Errorf("UserRoles names = %v", names)
	}
	if got, _ := s.UserRoles(ctx, b.ID, "u1"); len(got) != 0 {
		t.Errorf("UserRoles in another tenant = %+v", got)
	}
	if err := s.SetUserRoles(ctx, a.ID, "u1", []int64{member.ID}); err != nil {
		t.Fatal(err)
	}
	as, err := s.RoleAssignments(ctx, a.ID)
	if err != nil || !slices.Equal(as, []store.RoleAssignment{{UserID: "u1", RoleID: member.ID}}) {
		t.Errorf("RoleAssignments = %+v, %v", as, err)
	}
}

func testUpdateAPIKey(t *testing.T, s ConsoleBackend) {
	ctx := t.Context()
	a, b := mustTenant(t, s, "acme"), mustTenant(t, s, "bravo")
	k := store.APIKey{ID: "k1", TenantID: a.ID, Name: "okta", Scope: store.ScopeWrite, SecretHash: []byte("h"), CreatedBy: "x", Created: base}
	if err := s.CreateAPIKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	exp := base.Add(time.Hour)
	got, err := s.UpdateAPIKey(ctx, a.ID, "k1", func(k *store.APIKey) error {
		k.Name, k.Scope, k.Expires = "okta prod", store.ScopeRead, exp
		return nil
	})
	if err != nil || got.Name != "okta prod" {
		t.Fatalf("UpdateAPIKey = %+v, %v", got, err)
	}
	stored, err := s.APIKey(ctx, "k1")
	if err != nil || stored.Name != "okta prod" || stored.Scope != store.ScopeRead || !stored.Expires.Equal(exp) || !bytes.Equal(stored.SecretHash, []byte("h")) {
		t.Errorf("stored key = %+v, %v", stored, err)
	}
	_, err = s.UpdateAPIKey(ctx, b.ID, "k1", func(*store.APIKey) error { return nil })
	wantErr(t, "UpdateAPIKey in another tenant", err, store.ErrNotFound)
	_, err = s.UpdateAPIKey(ctx, a.ID, "k1", func(*store.APIKey) error { return store.ErrConflict })
	wantErr(t, "UpdateAPIKey aborted by fn", err, store.ErrConflict)
}

func testActivity(t *testing.T, s ConsoleBackend) {
	ctx := t.Context()
	a, b := mustTenant(t, s, "acme"), mustTenant(t, s, "bravo")
	var recs []store.Activity
	for i := range 5 {
		recs = append(recs, store.Activity{TenantID: a.ID, Time: base.Add(time.Duration(i) * time.Hour), RequestID: "r", KeyID: "k1",
			Client: "Okta", Method: "PATCH", Path: "/scim/v2/Users/u1", ResourceType: "User", ResourceID: "u1", Status: 200,
			Changes: []store.Change{{Attr: "active", Old: "true", New: "false"}}})
	}
	recs[4].Status, recs[4].KeyID, recs[4].ResourceID = 401, "", ""
	recs = append(recs, store.Activity{TenantID: b.ID, Time: base, Method: "GET", Path: "/scim/v2/Users", Status: 200})
	if err := s.AddActivity(ctx, recs); err != nil {
		t.Fatalf("AddActivity: %v", err)
	}
	page, more, err := s.ActivityLog(ctx, a.ID, store.ActivityQuery{Limit: 2})
	if err != nil || len(page) != 2 || !more || page[0].Status != 401 || page[0].ID <= page[1].ID {
		t.Fatalf("first page = %+v, more %v, %v", page, more, err)
	}
	page2, more, err := s.ActivityLog(ctx, a.ID, store.ActivityQuery{Limit: 10, Before: page[1].ID})
	if err != nil || len(page2) != 3 || more {
		t.Fatalf("second page = %d records, more %v, %v", len(page2), more, err)
	}
	if diff := cmp.Diff(recs[0].Changes, page2[2].Changes); diff != "" || !page2[2].Time.Equal(base) {
		t.Errorf("oldest record changes (-want +got):\n%s; time %v", diff, page2[2].Time)
	}
	for _, tc := range []struct {
		q    store.ActivityQuery
		want int
	}{
		{store.ActivityQuery{ResourceType: "User", ResourceID: "u1"}, 4},
		{store.ActivityQuery{KeyID: "k1"}, 4},
		{store.ActivityQuery{Failed: true}, 1},
		{store.ActivityQuery{Client: "Okta", Method: "PATCH"}, 5},
		{store.ActivityQuery{Text: "Users/u1"}, 5},
		{store.ActivityQuery{Method: "GET"}, 0},
	} {
		got, _, err := s.ActivityLog(ctx, a.ID, tc.q)
		if err != nil || len(got) != tc.want {
			t.Errorf("ActivityLog(%+v) = %d records, %v; want %d", tc.q, len(got), err, tc.want)
		}
	}
	n, err := s.PurgeActivity(ctx, base.Add(2*time.Hour))
	if err != nil || n != 3 {
		t.Errorf("PurgeActivity = %d, %v; want 3", n, err)
	}
	if got, _, _ := s.ActivityLog(ctx, a.ID, store.ActivityQuery{}); len(got) != 3 {
		t.Errorf("after purge: %d records, want 3", len(got))
	}
}

func testArchiveRestore(t *testing.T, s ConsoleBackend) {
	ctx := t.Context()
	tn := mustTenant(t, s, "acme")
	u := mustCreateUser(t, s, tn.ID, newUser("u1", "ada", 0, map[string]any{"emails": []any{map[string]any{"value": "ada@example.com"}}}))
	if err := s.DeleteUser(ctx, tn.ID, u.ID, true); err != nil {
		t.Fatal(err)
	}
	arch, err := s.ArchivedUsers(ctx, tn.ID, 10)
	if err != nil || len(arch) != 1 || arch[0].ID != "u1" || arch[0].UserName != "ada" {
		t.Fatalf("ArchivedUsers = %+v, %v", arch, err)
	}
	mustCreateUser(t, s, tn.ID, newUser("u2", "ADA", 1, nil))
	_, err = s.RestoreUser(ctx, tn.ID, "u1")
	wantErr(t, "RestoreUser with its userName taken", err, store.ErrConflict)
	if err := s.DeleteUser(ctx, tn.ID, "u2", false); err != nil {
		t.Fatal(err)
	}
	got, err := s.RestoreUser(ctx, tn.ID, "u1")
	if err != nil || got.Version != 2 || got.Attrs["userName"] != "ada" {
		t.Fatalf("RestoreUser = %+v, %v", got, err)
	}
	live, err := s.User(ctx, tn.ID, "u1")
	if err != nil || live.Version != 2 {
		t.Errorf("User after restore = %+v, %v", live, err)
	}
	if arch, _ := s.ArchivedUsers(ctx, tn.ID, 10); len(arch) != 0 {
		t.Errorf("archived after restore = %+v", arch)
	}
	_, err = s.RestoreUser(ctx, tn.ID, "u1")
	wantErr(t, "RestoreUser of a live user", err, store.ErrNotFound)
}

func testUserByUserName(t *testing.T, s ConsoleBackend) {
	ctx := t.Context()
	a, b := mustTenant(t, s, "acme"), mustTenant(t, s, "bravo")
	mustCreateUser(t, s, a.ID, newUser("u1", "Ada@Example.com", 0, nil))
	got, err := s.UserByUserName(ctx, a.ID, "ada@EXAMPLE.com")
	if err != nil || got.ID != "u1" {
		t.Errorf("UserByUserName = %+v, %v", got, err)
	}
	_, err = s.UserByUserName(ctx, b.ID, "ada@example.com")
	wantErr(t, "UserByUserName in another tenant", err, store.ErrNotFound)
}

func testThrottle(t *testing.T, s ConsoleBackend) {
	ctx := t.Context()
	if th, err := s.Throttle(ctx, "u:1:ada"); err != nil || th.Failures != 0 || !th.LockedUntil.IsZero() {
		t.Fatalf("Throttle of a fresh key = %+v, %v", th, err)
	}
	for i := 1; i <= 3; i++ {
		th, err := s.UpdateThrottle(ctx, "u:1:ada", func(th *store.Throttle) {
			th.Failures++
			th.Last = base
			if th.Failures == 3 {
				th.LockedUntil = base.Add(time.Minute)
			}
		})
		if err != nil || th.Failures != i {
			t.Fatalf("UpdateThrottle #%d = %+v, %v", i, th, err)
		}
	}
	th, err := s.Throttle(ctx, "u:1:ada")
	if err != nil || th.Failures != 3 || !th.LockedUntil.Equal(base.Add(time.Minute)) || !th.Last.Equal(base) {
		t.Errorf("Throttle = %+v, %v", th, err)
	}
	if err := s.ClearThrottle(ctx, "u:1:ada"); err != nil {
		t.Fatal(err)
	}
	if th, _ := s.Throttle(ctx, "u:1:ada"); th.Failures != 0 {
		t.Errorf("Throttle after clear = %+v", th)
	}
}

// testPendingActivity: a change made with a pending activity record writes
// it in its own transaction, about the changed resource; a change that
// fails or changes nothing does not; the full record replaces it, keeping
// its id and time; purging the user scrubs its records' changes.
func testPendingActivity(t *testing.T, s ConsoleBackend) {
	acme := mustTenant(t, s, "acme")
	at := base.Add(time.Hour)
	pend := func() (context.Context, *store.PendingActivity) {
		p := &store.PendingActivity{Record: store.Activity{TenantID: acme.ID, Time: at, RequestID: "r", KeyID: "k", Client: "Okta",
			Method: "POST", Path: "/scim/v2/Users", ResourceType: "User", Status: 201}}
		return store.WithActivity(t.Context(), p), p
	}
	log := func() []store.Activity {
		t.Helper()
		as, _, err := s.ActivityLog(t.Context(), acme.ID, store.ActivityQuery{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		return as
	}
	ctx, p := pend()
	if _, err := s.CreateUser(ctx, acme.ID, newUser("u-1", "alice", 0, map[string]any{"title": "CEO"})); err != nil {
		t.Fatal(err)
	}
	as := log()
	if p.ID == 0 || len(as) != 1 || as[0].ID != p.ID || as[0].ResourceID != "u-1" || as[0].Status != 201 || !as[0].Time.Equal(at) ||
		len(as[0].Changes) != 1 || as[0].Changes[0].Attr != "(note)" {
		t.Fatalf("after a create with a pending record: ID %d, log %+v", p.ID, as)
	}
	// Failed, or changing nothing: no record.
	ctx, p2 := pend()
	if _, err := s.CreateUser(ctx, acme.ID, newUser("u-2", "ALICE", 1, nil)); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate create: %v", err)
	}
	ctx, p3 := pend()
	if _, err := s.UpdateUser(ctx, acme.ID, "u-1", func(u *store.User) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if p2.ID != 0 || p3.ID != 0 || len(log()) != 1 {
		t.Errorf("a failed create and an update that changed nothing wrote records: %d, %d, %+v", p2.ID, p3.ID, log())
	}
	// The full record replaces the pending one.
	full := p.Record
	full.ID, full.ResourceID, full.Status, full.Time = p.ID, "u-1", 201, at.Add(time.Second)
	full.Changes = []store.Change{{Attr: "title", New: `"CEO"`}}
	if err := s.AddActivity(t.Context(), []store.Activity{full}); err != nil {
		t.Fatal(err)
	}
	as = log()
	if len(as) != 1 || as[0].ID != p.ID || !as[0].Time.Equal(at) || len(as[0].Changes) != 1 || as[0].Changes[0].Attr != "title" {
		t.Errorf("after the full record: %+v", as)
	}
	// Purging the user keeps the record, without what it said of the user.
	if err := s.PurgeUser(t.Context(), acme.ID, "u-1"); err != nil {
		t.Fatal(err)
	}
	if as = log(); len(as) != 1 || len(as[0].Changes) != 0 {
		t.Errorf("after purging the user: %+v", as)
	}
}

// testLastOwner: a role change that would leave a tenant with no Owner is
// refused in its transaction, also when two such changes race.
func testLastOwner(t *testing.T, s ConsoleBackend) {
	ctx := t.Context()
	acme := mustTenant(t, s, "acme")
	if err := s.EnsureDefaultRoles(ctx, acme.ID); err != nil {
		t.Fatal(err)
	}
	roles, _ := s.Roles(ctx, acme.ID)
	var owner, member int64
	for _, r := range roles {
		switch r.Name {
		case store.RoleOwner:
			owner = r.ID
		case store.RoleMember:
			member = r.ID
		}
	}
	for i, id := range []string{"u-1", "u-2"} {
		mustCreateUser(t, s, acme.ID, newUser(id, "user"+id, i, nil))
		if err := s.SetUserRoles(ctx, acme.ID, id, []int64{owner}); err != nil {
			t.Fatal(err)
		}
	}
	// Two admins each take the other's Owner role at once: one wins.
	errs := make(chan error, 2)
	for _, id := range []string{"u-1", "u-2"} {
		go func() { errs <- s.SetUserRoles(ctx, acme.ID, id, []int64{member}) }()
	}
	var failed int
	for range 2 {
		if err := <-errs; errors.Is(err, store.ErrLastOwner) {
			failed++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	as, _ := s.RoleAssignments(ctx, acme.ID)
	owners := 0
	for _, a := range as {
		if a.RoleID == owner {
			owners++
		}
	}
	if failed != 1 || owners != 1 {
		t.Errorf("two racing removals: %d refused, %d Owners left; want 1 and 1", failed, owners)
	}
	// The last one keeps it, by a change of roles or by none.
	var last string
	for _, a := range as {
		if a.RoleID == owner {
			last = a.UserID
		}
	}
	wantErr(t, "SetUserRoles taking the last Owner's role", s.SetUserRoles(ctx, acme.ID, last, []int64{member}), store.ErrLastOwner)
	wantErr(t, "SetUserRoles of no roles for the last Owner", s.SetUserRoles(ctx, acme.ID, last, nil), store.ErrLastOwner)
	if rs, _ := s.UserRoles(ctx, acme.ID, last); len(rs) != 1 || rs[0].ID != owner {
		t.Errorf("the last Owner's roles after the refusals: %+v", rs)
	}
}
