package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimd/scimd/internal/store"
)

// groupTests are the GroupStore tests; Run runs them after the user tests.
var groupTests = []struct {
	name string
	fn   func(*testing.T, store.Store, store.GroupStore)
}{
	{"GroupCRUD", testGroupCRUD},
	{"GroupCreateWithMembers", testGroupCreateWithMembers},
	{"GroupMissingMembers", testGroupMissingMembers},
	{"GroupAddExistingMember", testGroupAddExisting},
	{"GroupRemoveMembers", testGroupRemoveMembers},
	{"GroupMemberOpsInOrder", testGroupMemberOpsInOrder},
	{"GroupCycle", testGroupCycle},
	{"GroupFilters", testGroupFilters},
	{"GroupInvalidFilters", testGroupInvalidFilters},
	{"GroupPagingAndSorting", testGroupPagingSorting},
	{"DeleteUserLeavesGroups", testDeleteUserLeavesGroups},
	{"DeleteGroupLeavesParents", testDeleteGroupLeavesParents},
	{"DeactivatedUserStaysMember", testDeactivatedUserStaysMember},
	{"UserGroups", testUserGroups},
	{"GroupTenantIsolation", testGroupTenantIsolation},
	{"ConcurrentMemberAdds", testConcurrentMemberAdds},
	{"ConcurrentMemberAddsAndRemoves", testConcurrentMemberAddsRemoves},
}

func groupStore(t *testing.T, s store.Store) store.GroupStore {
	t.Helper()
	gs, ok := s.(store.GroupStore)
	if !ok {
		t.Fatalf("%T does not implement store.GroupStore", s)
	}
	return gs
}

// newGroup returns a group with the given id and displayName, created at
// base+i minutes, whose initial members are the given ids.
func newGroup(id, displayName string, i int, members ...string) store.Group {
	at := base.Add(time.Duration(i) * time.Minute)
	g := store.Group{ID: id, Created: at, Modified: at, Attrs: map[string]any{"displayName": displayName}}
	for _, m := range members {
		g.Members = append(g.Members, store.Member{Value: m})
	}
	return g
}

func mustCreateGroup(t *testing.T, gs store.GroupStore, tenantID int64, g store.Group) store.Group {
	t.Helper()
	got, err := gs.CreateGroup(t.Context(), tenantID, g)
	if err != nil {
		t.Fatalf("CreateGroup(%s): %v", g.ID, err)
	}
	return got
}

func mustGroup(t *testing.T, gs store.GroupStore, tenantID int64, id string) store.Group {
	t.Helper()
	g, err := gs.Group(t.Context(), tenantID, id, true)
	if err != nil {
		t.Fatalf("Group(%s): %v", id, err)
	}
	return g
}

// memberIDs returns the ids of g's members, in order.
func memberIDs(g store.Group) []string {
	out := make([]string, 0, len(g.Members))
	for _, m := range g.Members {
		out = append(out, m.Value)
	}
	return out
}

func sortedMemberIDs(g store.Group) []string {
	ids := memberIDs(g)
	slices.Sort(ids)
	return ids
}

// update applies ops to a group, failing the test on an error.
func update(t *testing.T, gs store.GroupStore, tenantID int64, id string, ops ...store.MemberOp) store.Group {
	t.Helper()
	g, err := gs.UpdateGroup(t.Context(), tenantID, id, true, func(*store.Group) ([]store.MemberOp, error) { return ops, nil })
	if err != nil {
		t.Fatalf("UpdateGroup(%s, %v): %v", id, ops, err)
	}
	return g
}

func add(ids ...string) store.MemberOp {
	op := store.MemberOp{Kind: store.AddMembers}
	for _, id := range ids {
		op.Members = append(op.Members, store.Member{Value: id})
	}
	return op
}

func remove(ids ...string) store.MemberOp {
	return store.MemberOp{Kind: store.RemoveMembers, IDs: ids}
}

// wantMemberError checks that err is a *store.MemberError and returns it.
func wantMemberError(t *testing.T, what string, err error) *store.MemberError {
	t.Helper()
	var me *store.MemberError
	if !errors.As(err, &me) {
		t.Fatalf("%s: got error %v (%T), want a *store.MemberError", what, err, err)
	}
	return me
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// groupFixture creates users and groups in a tenant "acme":
//
//	users: u-alice (displayName "Alice Smith"), u-bob (no displayName), u-carol
//	g-eng   "Engineering"  externalId ext-eng    members u-alice, u-bob
//	g-sales "Sales"        externalId ext-sales  members u-carol
//	g-all   "All Staff"    -                     members g-eng, g-sales
//	g-empty "Empty"        -                     -
//
// and in a tenant "globex" a user u-alice and a group g-eng "Engineering"
// with it as member, which no acme query may see.
func groupFixture(t *testing.T, s store.Store, gs store.GroupStore) int64 {
	t.Helper()
	acme := mustTenant(t, s, "acme")
	globex := mustTenant(t, s, "globex")
	mustCreateUser(t, s, acme.ID, newUser("u-alice", "alice", 0, map[string]any{"displayName": "Alice Smith"}))
	mustCreateUser(t, s, acme.ID, newUser("u-bob", "bob", 1, nil))
	mustCreateUser(t, s, acme.ID, newUser("u-carol", "carol", 2, map[string]any{"displayName": "Carol"}))
	eng := newGroup("g-eng", "Engineering", 0, "u-alice", "u-bob")
	eng.Attrs["externalId"] = "ext-eng"
	mustCreateGroup(t, gs, acme.ID, eng)
	sales := newGroup("g-sales", "Sales", 1, "u-carol")
	sales.Attrs["externalId"] = "ext-sales"
	mustCreateGroup(t, gs, acme.ID, sales)
	mustCreateGroup(t, gs, acme.ID, newGroup("g-all", "All Staff", 2, "g-eng", "g-sales"))
	mustCreateGroup(t, gs, acme.ID, newGroup("g-empty", "Empty", 3))

	mustCreateUser(t, s, globex.ID, newUser("u-alice", "alice", 0, nil))
	other := newGroup("g-eng", "Engineering", 0, "u-alice")
	other.Attrs["externalId"] = "ext-eng"
	mustCreateGroup(t, gs, globex.ID, other)
	return acme.ID
}

func groupNames(gs []store.Group) []string {
	out := make([]string, 0, len(gs))
	for _, g := range gs {
		out = append(out, g.ID)
	}
	return out
}

func testGroupCRUD(t *testing.T, s store.Store, gs store.GroupStore) {
	ctx := t.Context()
	acme := mustTenant(t, s, "acme")
	in := newGroup("g-1", "Engineering", 0)
	in.Attrs["externalId"] = "ext-1"
	in.Version = 7 // ignored
	created, err := gs.CreateGroup(ctx, acme.ID, in)
	if err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}
	want := in
	want.Version = 1
	want.Members = nil
	if diff := cmp.Diff(want, created, cmpMembersEmpty); diff != "" {
		t.Errorf("CreateGroup (-want +got):\n%s", diff)
	}
	got, err := gs.Group(ctx, acme.ID, "g-1", false)
	if err != nil {
		t.Fatalf("Group: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Group without members (-want +got):\n%s", diff)
	}
	got, err = gs.Group(ctx, acme.ID, "g-1", true)
	if err != nil {
		t.Fatalf("Group: %v", err)
	}
	if diff := cmp.Diff(want, got, cmpMembersEmpty); diff != "" || len(got.Members) != 0 {
		t.Errorf("Group with members (-want +got):\n%s", diff)
	}
	_, err = gs.Group(ctx, acme.ID, "g-2", true)
	wantErr(t, "Group unknown", err, store.ErrNotFound)
	_, err = gs.CreateGroup(ctx, acme.ID, newGroup("g-1", "Other", 1))
	wantErr(t, "CreateGroup duplicate id", err, store.ErrConflict)
	if _, err := gs.CreateGroup(ctx, acme.ID+1000, newGroup("g-9", "Ghost", 1)); err == nil {
		t.Errorf("CreateGroup in a tenant that does not exist succeeded")
	}

	// Rename: attributes change, Version and Modified too.
	mod := base.Add(time.Hour)
	updated, err := gs.UpdateGroup(ctx, acme.ID, "g-1", false, func(g *store.Group) ([]store.MemberOp, error) {
		if g.Version != 1 || g.Members != nil {
			t.Errorf("fn got Version %d, Members %v; want 1 and none", g.Version, g.Members)
		}
		g.Attrs["displayName"] = "Platform"
		g.Modified = mod
		g.ID = "hijack"                  // ignored
		g.Created = base.Add(-time.Hour) // ignored
		g.Version = 100                  // ignored
		return nil, nil
	})
	if err != nil {
		t.Fatalf("UpdateGroup: %v", err)
	}
	want.Attrs["displayName"] = "Platform"
	want.Version = 2
	want.Modified = mod
	if diff := cmp.Diff(want, updated); diff != "" {
		t.Errorf("UpdateGroup result (-want +got):\n%s", diff)
	}
	got, _ = gs.Group(ctx, acme.ID, "g-1", false)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Group after update (-want +got):\n%s", diff)
	}
	if p, err := gs.ListGroups(ctx, acme.ID, store.Query{Filter: mustParse(t, `displayName eq "platform"`), Count: 10}, false); err != nil || p.Total != 1 {
		t.Errorf("renamed group not found by its new name: %+v, %v", p, err)
	}

	// fn's error aborts and is returned unchanged.
	boom := errors.New("boom")
	_, err = gs.UpdateGroup(ctx, acme.ID, "g-1", false, func(g *store.Group) ([]store.MemberOp, error) {
		g.Attrs["displayName"] = "Nope"
		return nil, fmt.Errorf("wrapped: %w", boom)
	})
	wantErr(t, "UpdateGroup fn error", err, boom)
	if got, _ := gs.Group(ctx, acme.ID, "g-1", false); got.Attrs["displayName"] != "Platform" || got.Version != 2 {
		t.Errorf("failed update changed the group: %v, version %d", got.Attrs["displayName"], got.Version)
	}
	_, err = gs.UpdateGroup(ctx, acme.ID, "nope", false, func(*store.Group) ([]store.MemberOp, error) { return nil, nil })
	wantErr(t, "UpdateGroup unknown", err, store.ErrNotFound)

	if err := gs.DeleteGroup(ctx, acme.ID, "g-1"); err != nil {
		t.Fatalf("DeleteGroup: %v", err)
	}
	_, err = gs.Group(ctx, acme.ID, "g-1", false)
	wantErr(t, "Group after delete", err, store.ErrNotFound)
	wantErr(t, "DeleteGroup twice", gs.DeleteGroup(ctx, acme.ID, "g-1"), store.ErrNotFound)
	if p, err := gs.ListGroups(ctx, acme.ID, store.Query{Count: 10}, false); err != nil || p.Total != 0 || len(p.Groups) != 0 {
		t.Errorf("ListGroups after delete: %+v, %v", p, err)
	}
	// The id is free again.
	mustCreateGroup(t, gs, acme.ID, newGroup("g-1", "Again", 2))
}

// cmpMembersEmpty treats nil and empty member lists alike.
var cmpMembersEmpty = cmp.Comparer(func(a, b []store.Member) bool {
	return len(a) == 0 && len(b) == 0 || slices.Equal(a, b)
})

func testGroupCreateWithMembers(t *testing.T, s store.Store, gs store.GroupStore) {
	ctx := t.Context()
	acme := mustTenant(t, s, "acme")
	mustCreateUser(t, s, acme.ID, newUser("u-1", "alice", 0, map[string]any{"displayName": "Alice Smith"}))
	mustCreateUser(t, s, acme.ID, newUser("u-2", "bob", 1, nil))
	mustCreateGroup(t, gs, acme.ID, newGroup("g-inner", "Inner", 0))
	in := newGroup("g-outer", "Outer", 1, "u-2", "g-inner", "u-1", "u-2")
	in.Members[0].Type = store.MemberGroup // wrong, and ignored: the store knows
	in.Members[1].Display = "whatever"     // ignored too
	created := mustCreateGroup(t, gs, acme.ID, in)
	want := []store.Member{
		{Value: "u-2", Type: store.MemberUser, Display: "bob"},
		{Value: "g-inner", Type: store.MemberGroup, Display: "Inner"},
		{Value: "u-1", Type: store.MemberUser, Display: "Alice Smith"},
	}
	if diff := cmp.Diff(want, created.Members); diff != "" {
		t.Errorf("CreateGroup members (-want +got):\n%s", diff)
	}
	got := mustGroup(t, gs, acme.ID, "g-outer")
	if diff := cmp.Diff(want, got.Members); diff != "" {
		t.Errorf("Group members, in the order added (-want +got):\n%s", diff)
	}
	if got.Version != 1 {
		t.Errorf("Version %d, want 1", got.Version)
	}
	// Display follows the member's current name.
	if _, err := s.UpdateUser(ctx, acme.ID, "u-2", func(u *store.User) error {
		u.Attrs["displayName"] = "Bob Jones"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := mustGroup(t, gs, acme.ID, "g-outer"); got.Members[0].Display != "Bob Jones" {
		t.Errorf("after renaming the user, display is %q", got.Members[0].Display)
	}
	// Without members, none.
	noMembers, err := gs.Group(ctx, acme.ID, "g-outer", false)
	if err != nil || noMembers.Members != nil {
		t.Errorf("Group(members=false) = %v, %v; want no members", noMembers.Members, err)
	}
	upd, err := gs.UpdateGroup(ctx, acme.ID, "g-outer", false, func(*store.Group) ([]store.MemberOp, error) { return nil, nil })
	if err != nil || upd.Members != nil {
		t.Errorf("UpdateGroup(members=false) = %v, %v; want no members", upd.Members, err)
	}
}

func testGroupMissingMembers(t *testing.T, s store.Store, gs store.GroupStore) {
	ctx := t.Context()
	acme := mustTenant(t, s, "acme")
	mustCreateUser(t, s, acme.ID, newUser("u-1", "alice", 0, nil))
	mustCreateUser(t, s, acme.ID, newUser("u-2", "bob", 1, nil))
	mustCreateUser(t, s, acme.ID, newUser("u-gone", "gone", 2, nil))
	if err := s.DeleteUser(ctx, acme.ID, "u-gone", true); err != nil {
		t.Fatal(err)
	}

	_, err := gs.CreateGroup(ctx, acme.ID, newGroup("g-1", "One", 0, "u-1", "nope-a", "u-gone", "nope-b"))
	me := wantMemberError(t, "CreateGroup with missing members", err)
	if diff := cmp.Diff([]string{"nope-a", "nope-b", "u-gone"}, sorted(me.Missing)); diff != "" {
		t.Errorf("Missing (-want +got):\n%s", diff)
	}
	if len(me.Cycle) != 0 {
		t.Errorf("Cycle = %v, want none", me.Cycle)
	}
	_, err = gs.Group(ctx, acme.ID, "g-1", true)
	wantErr(t, "Group after a failed create", err, store.ErrNotFound)
	if p, _ := gs.ListGroups(ctx, acme.ID, store.Query{Count: 10}, false); p.Total != 0 {
		t.Errorf("a failed create left %d groups", p.Total)
	}

	mustCreateGroup(t, gs, acme.ID, newGroup("g-1", "One", 0, "u-1"))
	_, err = gs.UpdateGroup(ctx, acme.ID, "g-1", true, func(g *store.Group) ([]store.MemberOp, error) {
		g.Attrs["displayName"] = "Renamed"
		return []store.MemberOp{remove("u-1"), add("u-2", "nope-c"), add("nope-d")}, nil
	})
	me = wantMemberError(t, "UpdateGroup adding missing members", err)
	if diff := cmp.Diff([]string{"nope-c", "nope-d"}, sorted(me.Missing)); diff != "" {
		t.Errorf("Missing (-want +got):\n%s", diff)
	}
	g := mustGroup(t, gs, acme.ID, "g-1")
	if diff := cmp.Diff([]string{"u-1"}, memberIDs(g)); diff != "" || g.Version != 1 || g.Attrs["displayName"] != "One" {
		t.Errorf("a failed update was applied: version %d, name %v, members (-want +got):\n%s", g.Version, g.Attrs["displayName"], diff)
	}
}

func testGroupAddExisting(t *testing.T, s store.Store, gs store.GroupStore) {
	ctx := t.Context()
	acme := mustTenant(t, s, "acme")
	mustCreateUser(t, s, acme.ID, newUser("u-1", "alice", 0, nil))
	mustCreateUser(t, s, acme.ID, newUser("u-2", "bob", 1, nil))
	mustCreateGroup(t, gs, acme.ID, newGroup("g-1", "One", 0, "u-1"))
	g := update(t, gs, acme.ID, "g-1", add("u-1"))
	if diff := cmp.Diff([]string{"u-1"}, memberIDs(g)); diff != "" {
		t.Errorf("adding a member twice (-want +got):\n%s", diff)
	}
	if g.Version != 1 || !g.Modified.Equal(base) {
		t.Errorf("adding a member again: version %d, modified %v; want 1, %v (RFC 7644 §3.5.2: no change)", g.Version, g.Modified, base)
	}
	if stored, _ := gs.Group(ctx, acme.ID, "g-1", false); stored.Version != 1 {
		t.Errorf("adding a member again stored version %d, want 1", stored.Version)
	}
	g = update(t, gs, acme.ID, "g-1", store.MemberOp{Kind: store.RemoveMembers, IDs: []string{"u-2"}})
	if g.Version != 1 {
		t.Errorf("removing a non-member: version %d, want 1", g.Version)
	}
	mod := base.Add(3 * time.Hour)
	g, err := gs.UpdateGroup(ctx, acme.ID, "g-1", true, func(g *store.Group) ([]store.MemberOp, error) {
		g.Modified = mod
		return []store.MemberOp{add("u-2", "u-1", "u-2")}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"u-1", "u-2"}, memberIDs(g)); diff != "" {
		t.Errorf("adding a new member and an old one (-want +got):\n%s", diff)
	}
	stored, _ := gs.Group(ctx, acme.ID, "g-1", false)
	if stored.Version != 2 || !stored.Modified.Equal(mod) {
		t.Errorf("after a membership change: version %d, modified %v; want 2, %v", stored.Version, stored.Modified, mod)
	}
	if stored.Attrs["displayName"] != "One" {
		t.Errorf("a membership change altered the attributes: %v", stored.Attrs)
	}
}

func testGroupRemoveMembers(t *testing.T, s store.Store, gs store.GroupStore) {
	ctx := t.Context()
	acme := mustTenant(t, s, "acme")
	for i, id := range []string{"u-1", "u-2", "u-3", "u-4"} {
		mustCreateUser(t, s, acme.ID, newUser(id, "user"+id, i, map[string]any{"displayName": "User " + id}))
	}
	mustCreateGroup(t, gs, acme.ID, newGroup("g-sub", "Sub", 0))
	mustCreateGroup(t, gs, acme.ID, newGroup("g-1", "One", 1, "u-1", "u-2", "u-3", "g-sub", "u-4"))
	check := func(what string, want ...string) {
		t.Helper()
		g := mustGroup(t, gs, acme.ID, "g-1")
		if diff := cmp.Diff(want, memberIDs(g), cmpEmpty); diff != "" {
			t.Errorf("%s (-want +got):\n%s", what, diff)
		}
	}

	update(t, gs, acme.ID, "g-1", remove("u-9", "g-none"))
	check("removing non-members", "u-1", "u-2", "u-3", "g-sub", "u-4")
	update(t, gs, acme.ID, "g-1", remove("u-2"))
	check("removing one listed member removes only it", "u-1", "u-3", "g-sub", "u-4")
	update(t, gs, acme.ID, "g-1", store.MemberOp{Kind: store.RemoveMembers})
	check("RemoveMembers with no ids removes nothing", "u-1", "u-3", "g-sub", "u-4")
	update(t, gs, acme.ID, "g-1", store.MemberOp{Kind: store.RemoveMembersWhere, Where: mustParse(t, `value eq "u-3"`)})
	check(`RemoveMembersWhere value eq "u-3"`, "u-1", "g-sub", "u-4")
	update(t, gs, acme.ID, "g-1", store.MemberOp{Kind: store.RemoveMembersWhere, Where: mustParse(t, `value eq "U-1"`)})
	check(`RemoveMembersWhere value eq is case-exact`, "u-1", "g-sub", "u-4")
	update(t, gs, acme.ID, "g-1", store.MemberOp{Kind: store.RemoveMembersWhere, Where: mustParse(t, `type eq "group"`)})
	check(`RemoveMembersWhere type eq "group"`, "u-1", "u-4")
	update(t, gs, acme.ID, "g-1", store.MemberOp{Kind: store.RemoveMembersWhere, Where: mustParse(t, `display eq "USER U-4"`)})
	check(`RemoveMembersWhere display eq`, "u-1")

	_, err := gs.UpdateGroup(ctx, acme.ID, "g-1", false, func(*store.Group) ([]store.MemberOp, error) {
		return []store.MemberOp{remove("u-1"), {Kind: store.RemoveMembersWhere, Where: mustParse(t, `foo eq "x"`)}}, nil
	})
	var fe *store.FilterError
	if !errors.As(err, &fe) {
		t.Errorf("RemoveMembersWhere on an unknown sub-attribute: %v, want a *store.FilterError", err)
	}
	check("after a failed update", "u-1")

	update(t, gs, acme.ID, "g-1", add("u-2", "u-3"))
	g := update(t, gs, acme.ID, "g-1", store.MemberOp{Kind: store.RemoveAllMembers})
	if len(g.Members) != 0 {
		t.Errorf("RemoveAllMembers left %v", memberIDs(g))
	}
	check("RemoveAllMembers")
	// The members' records are untouched.
	for _, id := range []string{"u-1", "u-2", "u-3", "u-4"} {
		if _, err := s.User(ctx, acme.ID, id); err != nil {
			t.Errorf("User(%s) after removal from a group: %v", id, err)
		}
	}
	if _, err := gs.Group(ctx, acme.ID, "g-sub", false); err != nil {
		t.Errorf("Group(g-sub) after removal from a group: %v", err)
	}
}

func testGroupMemberOpsInOrder(t *testing.T, s store.Store, gs store.GroupStore) {
	acme := mustTenant(t, s, "acme")
	for i, id := range []string{"u-1", "u-2", "u-3"} {
		mustCreateUser(t, s, acme.ID, newUser(id, "user"+id, i, nil))
	}
	mustCreateGroup(t, gs, acme.ID, newGroup("g-1", "One", 0, "u-1", "u-2"))
	// A full replace (Okta's "Push now"): remove all, then add the list.
	g := update(t, gs, acme.ID, "g-1", store.MemberOp{Kind: store.RemoveAllMembers}, add("u-3", "u-1"))
	if diff := cmp.Diff([]string{"u-3", "u-1"}, memberIDs(g)); diff != "" {
		t.Errorf("remove all, then add (-want +got):\n%s", diff)
	}
	g = update(t, gs, acme.ID, "g-1", add("u-2"), remove("u-2"))
	if diff := cmp.Diff([]string{"u-3", "u-1"}, memberIDs(g)); diff != "" {
		t.Errorf("add, then remove (-want +got):\n%s", diff)
	}
	g = update(t, gs, acme.ID, "g-1", remove("u-1"), add("u-1"))
	if diff := cmp.Diff([]string{"u-3", "u-1"}, memberIDs(g)); diff != "" {
		t.Errorf("remove, then add again (-want +got):\n%s", diff)
	}
	// The last two change nothing in all: no new version (RFC 7644
	// §3.5.2), and no membership events.
	if g.Version != 2 {
		t.Errorf("Version %d after three updates of which two change nothing in all, want 2", g.Version)
	}
}

func testGroupCycle(t *testing.T, s store.Store, gs store.GroupStore) {
	ctx := t.Context()
	acme := mustTenant(t, s, "acme")
	mustCreateUser(t, s, acme.ID, newUser("u-1", "alice", 0, nil))
	mustCreateGroup(t, gs, acme.ID, newGroup("g-c", "C", 0, "u-1"))
	mustCreateGroup(t, gs, acme.ID, newGroup("g-b", "B", 1, "g-c"))
	mustCreateGroup(t, gs, acme.ID, newGroup("g-a", "A", 2, "g-b"))
	mustCreateGroup(t, gs, acme.ID, newGroup("g-x", "X", 3))

	for _, tc := range []struct {
		target string
		add    []string
		cycle  []string
	}{
		{"g-a", []string{"g-a"}, []string{"g-a"}},
		{"g-c", []string{"g-a"}, []string{"g-a"}},
		{"g-c", []string{"g-b", "g-x"}, []string{"g-b"}},
		{"g-b", []string{"u-1", "g-a", "g-b"}, []string{"g-a", "g-b"}},
	} {
		_, err := gs.UpdateGroup(ctx, acme.ID, tc.target, true, func(*store.Group) ([]store.MemberOp, error) {
			return []store.MemberOp{add(tc.add...)}, nil
		})
		me := wantMemberError(t, fmt.Sprintf("adding %v to %s", tc.add, tc.target), err)
		if diff := cmp.Diff(tc.cycle, sorted(me.Cycle)); diff != "" {
			t.Errorf("adding %v to %s: Cycle (-want +got):\n%s", tc.add, tc.target, diff)
		}
		if len(me.Missing) != 0 {
			t.Errorf("adding %v to %s: Missing %v", tc.add, tc.target, me.Missing)
		}
	}
	for id, want := range map[string][]string{"g-a": {"g-b"}, "g-b": {"g-c"}, "g-c": {"u-1"}, "g-x": nil} {
		if diff := cmp.Diff(want, memberIDs(mustGroup(t, gs, acme.ID, id)), cmpEmpty); diff != "" {
			t.Errorf("%s after refused changes (-want +got):\n%s", id, diff)
		}
	}
	// A group may contain another one by two paths: that is no cycle.
	g := update(t, gs, acme.ID, "g-a", add("g-c", "g-x"))
	if diff := cmp.Diff([]string{"g-b", "g-c", "g-x"}, memberIDs(g)); diff != "" {
		t.Errorf("adding a group reached by another path (-want +got):\n%s", diff)
	}
	// A new group cannot be its own member.
	_, err := gs.CreateGroup(ctx, acme.ID, newGroup("g-self", "Self", 4, "g-self"))
	wantMemberError(t, "CreateGroup with itself as member", err)
	if _, err := gs.Group(ctx, acme.ID, "g-self", false); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused create stored the group: %v", err)
	}
}

// groupFilterTests maps a filter to the ids of the fixture's acme groups
// it matches.
var groupFilterTests = []struct {
	filter string
	want   []string
}{
	{`displayName eq "Engineering"`, []string{"g-eng"}},
	{`displayName eq "ENGINEERING"`, []string{"g-eng"}},
	{`displayName eq "engineering "`, nil},
	{`displayName sw "e"`, []string{"g-eng", "g-empty"}},
	{`displayName co "staff"`, []string{"g-all"}},
	{`displayName pr`, []string{"g-eng", "g-sales", "g-all", "g-empty"}},
	{`externalId eq "ext-eng"`, []string{"g-eng"}},
	{`externalId eq "EXT-ENG"`, nil},
	{`externalId pr`, []string{"g-eng", "g-sales"}},
	{`not (externalId pr)`, []string{"g-all", "g-empty"}},
	{`id eq "g-sales"`, []string{"g-sales"}},
	{`id eq "G-SALES"`, nil},
	{`meta.resourceType eq "Group"`, []string{"g-eng", "g-sales", "g-all", "g-empty"}},
	{`meta.resourceType eq "User"`, nil},
	{`meta.created gt "2024-01-02T03:05:05.123456789Z"`, []string{"g-all", "g-empty"}},

	{`members[value eq "u-alice"]`, []string{"g-eng"}},
	{`members[value eq "U-ALICE"]`, nil},
	{`members.value eq "u-carol"`, []string{"g-sales"}},
	{`members eq "u-bob"`, []string{"g-eng"}},
	{`members[value eq "g-eng"]`, []string{"g-all"}},
	{`members[value eq "u-alice" or value eq "u-carol"]`, []string{"g-eng", "g-sales"}},
	{`members[value eq "u-alice"] or members[value eq "u-carol"]`, []string{"g-eng", "g-sales"}},
	{`members[value eq "u-alice"] and members[value eq "u-bob"]`, []string{"g-eng"}},
	{`members[value eq "u-alice" and value eq "u-bob"]`, nil},
	{`not (members[value eq "u-alice"])`, []string{"g-sales", "g-all", "g-empty"}},
	{`members[value ne "u-alice"]`, []string{"g-eng", "g-sales", "g-all"}},
	{`members[type eq "Group"]`, []string{"g-all"}},
	{`members.type eq "user"`, []string{"g-eng", "g-sales"}},
	{`members[display eq "alice smith"]`, []string{"g-eng"}},
	{`members.display eq "bob"`, []string{"g-eng"}},
	{`members[display eq "sales"]`, []string{"g-all"}},
	{`members pr`, []string{"g-eng", "g-sales", "g-all"}},
	{`not (members pr)`, []string{"g-empty"}},
	{`members.value pr`, []string{"g-eng", "g-sales", "g-all"}},
	{`displayName eq "Engineering" and members[value eq "u-alice"]`, []string{"g-eng"}},
	{`displayName eq "Engineering" and members[value eq "u-carol"]`, nil},
	{`id eq "g-eng" and members[value eq "u-bob"]`, []string{"g-eng"}},
	{`displayName eq "Sales" or members[type eq "Group"]`, []string{"g-sales", "g-all"}},
	{`not (displayName eq "Sales" or members pr)`, []string{"g-empty"}},
}

func testGroupFilters(t *testing.T, s store.Store, gs store.GroupStore) {
	ctx := t.Context()
	acme := groupFixture(t, s, gs)
	for _, tc := range groupFilterTests {
		t.Run(tc.filter, func(t *testing.T) {
			p, err := gs.ListGroups(ctx, acme, store.Query{Filter: mustParse(t, tc.filter), Count: 100}, false)
			if err != nil {
				t.Fatalf("ListGroups: %v", err)
			}
			if diff := cmp.Diff(sorted(tc.want), sorted(groupNames(p.Groups)), cmpEmpty); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if p.Total != len(tc.want) {
				t.Errorf("Total = %d, want %d", p.Total, len(tc.want))
			}
			for _, g := range p.Groups {
				if g.Members != nil {
					t.Errorf("ListGroups(members=false) returned members of %s", g.ID)
				}
			}
			p, err = gs.ListGroups(ctx, acme, store.Query{Filter: mustParse(t, tc.filter)}, false)
			if err != nil || p.Total != len(tc.want) || len(p.Groups) != 0 {
				t.Errorf("Count 0: Total %d, %d groups, err %v; want Total %d and no groups", p.Total, len(p.Groups), err, len(tc.want))
			}
		})
	}
	// With members.
	p, err := gs.ListGroups(ctx, acme, store.Query{Count: 100}, true)
	if err != nil {
		t.Fatalf("ListGroups(members=true): %v", err)
	}
	want := map[string][]store.Member{
		"g-eng":   {{Value: "u-alice", Type: store.MemberUser, Display: "Alice Smith"}, {Value: "u-bob", Type: store.MemberUser, Display: "bob"}},
		"g-sales": {{Value: "u-carol", Type: store.MemberUser, Display: "Carol"}},
		"g-all":   {{Value: "g-eng", Type: store.MemberGroup, Display: "Engineering"}, {Value: "g-sales", Type: store.MemberGroup, Display: "Sales"}},
		"g-empty": nil,
	}
	if p.Total != 4 || len(p.Groups) != 4 {
		t.Fatalf("ListGroups: Total %d, %d groups; want 4", p.Total, len(p.Groups))
	}
	for _, g := range p.Groups {
		if diff := cmp.Diff(want[g.ID], g.Members, cmpMembersEmpty); diff != "" {
			t.Errorf("ListGroups members of %s (-want +got):\n%s", g.ID, diff)
		}
	}
}

func testGroupInvalidFilters(t *testing.T, s store.Store, gs store.GroupStore) {
	ctx := t.Context()
	acme := groupFixture(t, s, gs)
	for _, f := range []string{
		`foo eq "x"`,
		`userName eq "x"`,
		`members[foo eq "x"]`,
		`members.foo eq "x"`,
		`members[value eq "x"] and bar pr`,
		`displayName eq true`,
		`members eq 42`,
		`emails.value eq "x"`,
	} {
		t.Run(f, func(t *testing.T) {
			_, err := gs.ListGroups(ctx, acme, store.Query{Filter: mustParse(t, f), Count: 10}, false)
			var fe *store.FilterError
			if !errors.As(err, &fe) || fe.Msg == "" {
				t.Fatalf("got error %v (%T), want a *store.FilterError with a message", err, err)
			}
		})
	}
	for _, sortBy := range []string{"foo", "members", "members.value"} {
		_, err := gs.ListGroups(ctx, acme, store.Query{SortBy: sortBy, Count: 10}, false)
		var fe *store.FilterError
		if !errors.As(err, &fe) {
			t.Errorf("sortBy %q: got error %v, want a *store.FilterError", sortBy, err)
		}
	}
}

func testGroupPagingSorting(t *testing.T, s store.Store, gs store.GroupStore) {
	ctx := t.Context()
	acme := mustTenant(t, s, "acme")
	names := []string{"delta", "Alpha", "charlie", "Bravo", "echo", "alpha"}
	var ids []string
	for i, n := range names {
		id := fmt.Sprintf("g-%d", i)
		g := newGroup(id, n, i)
		if i == 4 {
			delete(g.Attrs, "displayName")
		}
		mustCreateGroup(t, gs, acme.ID, g)
		ids = append(ids, id)
	}
	for _, tc := range []struct {
		sortBy string
		desc   bool
		want   []string
	}{
		{"", false, ids},
		{"displayName", false, []string{"g-1", "g-5", "g-3", "g-2", "g-0", "g-4"}},
		{"displayName", true, []string{"g-4", "g-0", "g-2", "g-3", "g-5", "g-1"}},
		{"meta.created", true, []string{"g-5", "g-4", "g-3", "g-2", "g-1", "g-0"}},
		{"id", false, ids},
	} {
		var got []string
		for start := 1; start <= len(ids); start += 4 {
			p, err := gs.ListGroups(ctx, acme.ID, store.Query{SortBy: tc.sortBy, SortDescending: tc.desc, StartIndex: start, Count: 4}, false)
			if err != nil {
				t.Fatalf("ListGroups: %v", err)
			}
			if p.Total != len(ids) {
				t.Errorf("sortBy %s: Total %d, want %d", tc.sortBy, p.Total, len(ids))
			}
			got = append(got, groupNames(p.Groups)...)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("sortBy %q desc %v, pages of 4 (-want +got):\n%s", tc.sortBy, tc.desc, diff)
		}
	}
}

func testDeleteUserLeavesGroups(t *testing.T, s store.Store, gs store.GroupStore) {
	ctx := t.Context()
	acme := mustTenant(t, s, "acme")
	for i, id := range []string{"u-1", "u-2", "u-3", "u-4"} {
		mustCreateUser(t, s, acme.ID, newUser(id, "user"+id, i, nil))
	}
	mustCreateGroup(t, gs, acme.ID, newGroup("g-1", "One", 0, "u-1", "u-2", "u-3", "u-4"))
	mustCreateGroup(t, gs, acme.ID, newGroup("g-2", "Two", 1, "u-1", "u-3"))
	mustCreateGroup(t, gs, acme.ID, newGroup("g-3", "Three", 2, "u-4"))

	if err := s.DeleteUser(ctx, acme.ID, "u-1", true); err != nil { // archive
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, acme.ID, "u-2", false); err != nil { // destroy
		t.Fatal(err)
	}
	if err := s.PurgeUser(ctx, acme.ID, "u-3"); err != nil { // purge a live user
		t.Fatal(err)
	}
	for id, want := range map[string]struct {
		members []string
		version int64
	}{"g-1": {[]string{"u-4"}, 4}, "g-2": {nil, 3}, "g-3": {[]string{"u-4"}, 1}} {
		g := mustGroup(t, gs, acme.ID, id)
		if diff := cmp.Diff(want.members, memberIDs(g), cmpEmpty); diff != "" {
			t.Errorf("%s after deleting users (-want +got):\n%s", id, diff)
		}
		if g.Version != want.version {
			t.Errorf("%s: Version %d, want %d (one more per member lost)", id, g.Version, want.version)
		}
	}
	for _, id := range []string{"u-1", "u-2", "u-3"} {
		p, err := gs.ListGroups(ctx, acme.ID, store.Query{Filter: mustParse(t, `members[value eq "`+id+`"]`), Count: 10}, false)
		if err != nil || p.Total != 0 {
			t.Errorf("members[value eq %q] after deleting it: total %d, err %v", id, p.Total, err)
		}
	}
	refs, err := gs.UserGroups(ctx, acme.ID, []string{"u-1", "u-2", "u-3"})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"u-1", "u-2", "u-3"} {
		if len(refs[id]) != 0 {
			t.Errorf("UserGroups(%s) after deleting it = %v", id, refs[id])
		}
	}
	// An archived user is a member of nothing; it cannot be added back
	// (it is not a live user), and purging it later is fine.
	_, err = gs.UpdateGroup(ctx, acme.ID, "g-3", false, func(*store.Group) ([]store.MemberOp, error) {
		return []store.MemberOp{add("u-1")}, nil
	})
	wantMemberError(t, "adding an archived user", err)
	if err := s.PurgeUser(ctx, acme.ID, "u-1"); err != nil {
		t.Errorf("PurgeUser(archived): %v", err)
	}
	// A new user with a deleted user's id starts with no groups.
	mustCreateUser(t, s, acme.ID, newUser("u-2", "again", 9, nil))
	if refs, _ := gs.UserGroups(ctx, acme.ID, []string{"u-2"}); len(refs["u-2"]) != 0 {
		t.Errorf("re-created user inherited groups %v", refs["u-2"])
	}
}

func testDeleteGroupLeavesParents(t *testing.T, s store.Store, gs store.GroupStore) {
	ctx := t.Context()
	acme := mustTenant(t, s, "acme")
	mustCreateUser(t, s, acme.ID, newUser("u-1", "alice", 0, nil))
	mustCreateGroup(t, gs, acme.ID, newGroup("g-child", "Child", 0, "u-1"))
	mustCreateGroup(t, gs, acme.ID, newGroup("g-parent", "Parent", 1, "u-1", "g-child"))
	mustCreateGroup(t, gs, acme.ID, newGroup("g-grand", "Grand", 2, "g-parent", "g-child"))

	if err := gs.DeleteGroup(ctx, acme.ID, "g-child"); err != nil {
		t.Fatalf("DeleteGroup: %v", err)
	}
	for id, want := range map[string][]string{"g-parent": {"u-1"}, "g-grand": {"g-parent"}} {
		g := mustGroup(t, gs, acme.ID, id)
		if diff := cmp.Diff(want, memberIDs(g)); diff != "" {
			t.Errorf("%s after deleting a member group (-want +got):\n%s", id, diff)
		}
		if g.Version != 2 {
			t.Errorf("%s: Version %d, want 2", id, g.Version)
		}
	}
	if p, err := gs.ListGroups(ctx, acme.ID, store.Query{Filter: mustParse(t, `members[value eq "g-child"]`), Count: 10}, false); err != nil || p.Total != 0 {
		t.Errorf("members[value eq \"g-child\"] after deleting it: total %d, err %v", p.Total, err)
	}
	// Its own members are gone with it.
	g := mustCreateGroup(t, gs, acme.ID, newGroup("g-child", "Child again", 3))
	if got := mustGroup(t, gs, acme.ID, g.ID); len(got.Members) != 0 {
		t.Errorf("re-created group inherited members %v", memberIDs(got))
	}
	refs, err := gs.UserGroups(ctx, acme.ID, []string{"u-1"})
	if err != nil {
		t.Fatal(err)
	}
	wantRefs := []store.GroupRef{{Value: "g-parent", Display: "Parent", Type: "direct"}, {Value: "g-grand", Display: "Grand", Type: "indirect"}}
	if diff := cmp.Diff(sortRefs(wantRefs), sortRefs(refs["u-1"])); diff != "" {
		t.Errorf("UserGroups after deleting a group (-want +got):\n%s", diff)
	}
	// The user is still there.
	if _, err := s.User(ctx, acme.ID, "u-1"); err != nil {
		t.Errorf("User after deleting its group: %v", err)
	}
}

func testDeactivatedUserStaysMember(t *testing.T, s store.Store, gs store.GroupStore) {
	ctx := t.Context()
	acme := mustTenant(t, s, "acme")
	mustCreateUser(t, s, acme.ID, newUser("u-1", "alice", 0, nil))
	mustCreateGroup(t, gs, acme.ID, newGroup("g-1", "One", 0, "u-1"))
	if _, err := s.UpdateUser(ctx, acme.ID, "u-1", func(u *store.User) error {
		u.Attrs["active"] = false
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	g := mustGroup(t, gs, acme.ID, "g-1")
	if diff := cmp.Diff([]string{"u-1"}, memberIDs(g)); diff != "" {
		t.Errorf("after deactivating a member (-want +got):\n%s", diff)
	}
	if refs, err := gs.UserGroups(ctx, acme.ID, []string{"u-1"}); err != nil || len(refs["u-1"]) != 1 {
		t.Errorf("UserGroups of a deactivated user = %v, %v", refs, err)
	}
	// And can still be added.
	mustCreateGroup(t, gs, acme.ID, newGroup("g-2", "Two", 1, "u-1"))
}

func sortRefs(refs []store.GroupRef) []store.GroupRef {
	refs = slices.Clone(refs)
	slices.SortFunc(refs, func(a, b store.GroupRef) int {
		if a.Value < b.Value {
			return -1
		}
		if a.Value > b.Value {
			return 1
		}
		return 0
	})
	return refs
}

func testUserGroups(t *testing.T, s store.Store, gs store.GroupStore) {
	ctx := t.Context()
	acme := mustTenant(t, s, "acme")
	globex := mustTenant(t, s, "globex")
	for i, id := range []string{"u-1", "u-2", "u-3"} {
		mustCreateUser(t, s, acme.ID, newUser(id, "user"+id, i, nil))
	}
	mustCreateGroup(t, gs, acme.ID, newGroup("g-a", "A", 0, "u-1", "u-3"))
	mustCreateGroup(t, gs, acme.ID, newGroup("g-b", "B", 1, "g-a"))
	mustCreateGroup(t, gs, acme.ID, newGroup("g-c", "C", 2, "g-b", "u-1"))
	mustCreateGroup(t, gs, acme.ID, newGroup("g-d", "D", 3, "g-c", "g-a"))
	mustCreateGroup(t, gs, acme.ID, newGroup("g-e", "E", 4, "u-2"))
	// Another tenant's groups with the same ids are not acme's.
	mustCreateUser(t, s, globex.ID, newUser("u-1", "user1", 0, nil))
	mustCreateGroup(t, gs, globex.ID, newGroup("g-z", "Z", 0, "u-1"))

	refs, err := gs.UserGroups(ctx, acme.ID, []string{"u-1", "u-2", "u-4", "u-3"})
	if err != nil {
		t.Fatalf("UserGroups: %v", err)
	}
	want := map[string][]store.GroupRef{
		"u-1": {
			{Value: "g-a", Display: "A", Type: "direct"},
			{Value: "g-b", Display: "B", Type: "indirect"},
			{Value: "g-c", Display: "C", Type: "direct"}, // directly and through g-b: direct
			{Value: "g-d", Display: "D", Type: "indirect"},
		},
		"u-2": {{Value: "g-e", Display: "E", Type: "direct"}},
		"u-3": {
			{Value: "g-a", Display: "A", Type: "direct"},
			{Value: "g-b", Display: "B", Type: "indirect"},
			{Value: "g-c", Display: "C", Type: "indirect"},
			{Value: "g-d", Display: "D", Type: "indirect"},
		},
	}
	for _, id := range []string{"u-1", "u-2", "u-3", "u-4"} {
		if diff := cmp.Diff(want[id], sortRefs(refs[id]), cmp.Comparer(func(a, b []store.GroupRef) bool {
			return len(a) == 0 && len(b) == 0 || slices.Equal(a, b)
		})); diff != "" {
			t.Errorf("UserGroups[%s] (-want +got):\n%s", id, diff)
		}
	}
	if refs, err := gs.UserGroups(ctx, acme.ID, nil); err != nil || len(refs) != 0 {
		t.Errorf("UserGroups(nil) = %v, %v", refs, err)
	}
	if refs, err := gs.UserGroups(ctx, globex.ID, []string{"u-1"}); err != nil || len(refs["u-1"]) != 1 || refs["u-1"][0].Value != "g-z" {
		t.Errorf("UserGroups(globex, u-1) = %v, %v; want g-z only", refs, err)
	}
}

func testGroupTenantIsolation(t *testing.T, s store.Store, gs store.GroupStore) {
	ctx := t.Context()
	acme := mustTenant(t, s, "acme")
	globex := mustTenant(t, s, "globex")
	mustCreateUser(t, s, acme.ID, newUser("u-a", "alice", 0, nil))
	mustCreateUser(t, s, globex.ID, newUser("u-b", "bob", 0, nil))
	mustCreateGroup(t, gs, globex.ID, newGroup("g-b", "B", 0))
	mustCreateGroup(t, gs, acme.ID, newGroup("g-a", "A", 0, "u-a"))

	// Another tenant's user or group is "missing".
	_, err := gs.UpdateGroup(ctx, acme.ID, "g-a", false, func(*store.Group) ([]store.MemberOp, error) {
		return []store.MemberOp{add("u-b", "g-b")}, nil
	})
	me := wantMemberError(t, "adding another tenant's user and group", err)
	if diff := cmp.Diff([]string{"g-b", "u-b"}, sorted(me.Missing)); diff != "" {
		t.Errorf("Missing (-want +got):\n%s", diff)
	}
	_, err = gs.CreateGroup(ctx, acme.ID, newGroup("g-x", "X", 1, "u-b"))
	wantMemberError(t, "creating a group with another tenant's user", err)

	_, err = gs.Group(ctx, globex.ID, "g-a", false)
	wantErr(t, "Group from another tenant", err, store.ErrNotFound)
	_, err = gs.UpdateGroup(ctx, globex.ID, "g-a", false, func(*store.Group) ([]store.MemberOp, error) {
		t.Errorf("UpdateGroup called fn for another tenant's group")
		return nil, nil
	})
	wantErr(t, "UpdateGroup from another tenant", err, store.ErrNotFound)
	wantErr(t, "DeleteGroup from another tenant", gs.DeleteGroup(ctx, globex.ID, "g-a"), store.ErrNotFound)
	// The same id may exist in both tenants.
	mustCreateGroup(t, gs, globex.ID, newGroup("g-a", "Globex A", 1, "u-b"))
	for _, tc := range []struct {
		tenant int64
		want   []string
	}{{acme.ID, []string{"g-a"}}, {globex.ID, []string{"g-b", "g-a"}}, {globex.ID + 1000, nil}} {
		p, err := gs.ListGroups(ctx, tc.tenant, store.Query{Count: 10}, true)
		if err != nil {
			t.Fatalf("ListGroups: %v", err)
		}
		if diff := cmp.Diff(tc.want, groupNames(p.Groups), cmpEmpty); diff != "" || p.Total != len(tc.want) {
			t.Errorf("ListGroups(%d): total %d (-want +got):\n%s", tc.tenant, p.Total, diff)
		}
	}
	if g := mustGroup(t, gs, acme.ID, "g-a"); !slices.Equal(memberIDs(g), []string{"u-a"}) || g.Attrs["displayName"] != "A" {
		t.Errorf("acme's g-a = %v %v", g.Attrs, memberIDs(g))
	}
	// Deleting globex's user leaves acme's groups alone, and the reverse.
	if err := s.DeleteUser(ctx, globex.ID, "u-b", false); err != nil {
		t.Fatal(err)
	}
	mustCreateUser(t, s, globex.ID, newUser("u-a", "alice", 1, nil))
	if err := s.DeleteUser(ctx, globex.ID, "u-a", false); err != nil {
		t.Fatal(err)
	}
	if g := mustGroup(t, gs, acme.ID, "g-a"); !slices.Equal(memberIDs(g), []string{"u-a"}) || g.Version != 1 {
		t.Errorf("deleting another tenant's user u-a changed acme's group: %v, version %d", memberIDs(g), g.Version)
	}
}

// createUsers creates n users u-000… concurrently (so that a store that
// batches commits batches them).
func createUsers(t *testing.T, s store.Store, tenantID int64, n int) []string {
	t.Helper()
	ids := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		ids[i] = fmt.Sprintf("u-%03d", i)
		wg.Go(func() {
			_, err := s.CreateUser(t.Context(), tenantID, newUser(ids[i], "user"+ids[i], i, nil))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
	}
	return ids
}

func testConcurrentMemberAdds(t *testing.T, s store.Store, gs store.GroupStore) {
	ctx := t.Context()
	acme := mustTenant(t, s, "acme")
	ids := createUsers(t, s, acme.ID, 200)
	mustCreateGroup(t, gs, acme.ID, newGroup("g-1", "One", 0))
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			_, err := gs.UpdateGroup(ctx, acme.ID, "g-1", false, func(*store.Group) ([]store.MemberOp, error) {
				return []store.MemberOp{add(ids[i*10 : i*10+10]...)}, nil
			})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("UpdateGroup: %v", err)
		}
	}
	g := mustGroup(t, gs, acme.ID, "g-1")
	if diff := cmp.Diff(ids, sortedMemberIDs(g)); diff != "" {
		t.Errorf("after %d concurrent adds of 10 (-want +got):\n%s", n, diff)
	}
	if g.Version != n+1 {
		t.Errorf("Version %d, want %d", g.Version, n+1)
	}
}

func testConcurrentMemberAddsRemoves(t *testing.T, s store.Store, gs store.GroupStore) {
	ctx := t.Context()
	acme := mustTenant(t, s, "acme")
	ids := createUsers(t, s, acme.ID, 200)
	// The first 100 are members; 10 goroutines remove them, 10 at a time,
	// while 10 others add the other 100, and 10 more add members that
	// are there already.
	mustCreateGroup(t, gs, acme.ID, newGroup("g-1", "One", 0, ids[:100]...))
	var wg sync.WaitGroup
	errs := make(chan error, 30)
	for i := range 10 {
		for _, op := range []store.MemberOp{remove(ids[i*10 : i*10+10]...), add(ids[100+i*10 : 110+i*10]...), add(ids[100+(9-i)*10 : 110+(9-i)*10]...)} {
			wg.Go(func() {
				_, err := gs.UpdateGroup(ctx, acme.ID, "g-1", false, func(*store.Group) ([]store.MemberOp, error) {
					return []store.MemberOp{op}, nil
				})
				errs <- err
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("UpdateGroup: %v", err)
		}
	}
	g := mustGroup(t, gs, acme.ID, "g-1")
	if diff := cmp.Diff(ids[100:], sortedMemberIDs(g)); diff != "" {
		t.Errorf("after concurrent removes and adds (-want +got):\n%s", diff)
	}
	// Each set of 10 new ids is added twice; whichever add comes second
	// changes nothing and so makes no version: 20 changes in all.
	if g.Version != 21 {
		t.Errorf("Version %d, want 21", g.Version)
	}
}
