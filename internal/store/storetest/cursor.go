package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimd/scimd/internal/store"
)

// A cursor reaches the client and comes back: the suite passes each Next
// through JSON, as the server does, so a Position's Key must survive that
// (a string, a float64, a bool or nil).
func roundTrip(t *testing.T, p *store.Position) *store.Position {
	t.Helper()
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatalf("encoding %+v: %v", p, err)
	}
	var out store.Position
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
	return &out
}

// listFn lists one page: the names of its resources, the total and the
// next position.
type listFn func(q store.Query) ([]string, int, *store.Position, error)

func usersLister(t *testing.T, s store.Store, tenantID int64) listFn {
	return func(q store.Query) ([]string, int, *store.Position, error) {
		p, err := s.ListUsers(t.Context(), tenantID, q)
		return userNames(p.Users), p.Total, p.Next, err
	}
}

func groupsLister(t *testing.T, gs store.GroupStore, tenantID int64) listFn {
	return func(q store.Query) ([]string, int, *store.Position, error) {
		p, err := gs.ListGroups(t.Context(), tenantID, q, false)
		return groupNames(p.Groups), p.Total, p.Next, err
	}
}

// walk lists every page of q by cursor, calling between (if not nil) after
// each page, and returns the names in the order seen. It checks each page's
// size and, when wantTotal >= 0, its Total.
func walk(t *testing.T, list listFn, q store.Query, size, wantTotal int, between func()) []string {
	t.Helper()
	q.Cursor, q.Count, q.After = true, size, nil
	var out []string
	for range 1000 {
		names, total, next, err := list(q)
		if err != nil {
			t.Fatalf("list(%+v): %v", q, err)
		}
		if len(names) > size {
			t.Fatalf("page of %d has %d resources", size, len(names))
		}
		if wantTotal >= 0 && total != wantTotal {
			t.Errorf("page after %+v: Total %d, want %d", q.After, total, wantTotal)
		}
		out = append(out, names...)
		if next == nil {
			return out
		}
		if len(names) < size {
			t.Errorf("a short page (%d of %d) has a Next", len(names), size)
		}
		q.After = roundTrip(t, next)
		if between != nil {
			between()
		}
	}
	t.Fatalf("more than 1000 pages")
	return nil
}

// cursorOrders are the orders the cursor tests walk the user fixture in:
// columns, document attributes with absent values, booleans, times, a
// side table, in both directions.
var cursorOrders = []struct {
	sortBy string
	desc   bool
}{
	{"", false},
	{"userName", false},
	{"userName", true},
	{"title", false},
	{"title", true},
	{"displayName", true},
	{"externalId", false},
	{"meta.created", true},
	{"meta.lastModified", false},
	{"active", false},
	{"active", true},
	{"emails.value", false},
	{"emails", true},
	{ent + ":department", false},
	{"name.familyName", true},
}

func testCursorUsers(t *testing.T, s store.Store) {
	acme := loadFixture(t, s)
	list := usersLister(t, s, acme)
	for _, o := range cursorOrders {
		q := store.Query{SortBy: o.sortBy, SortDescending: o.desc}
		all, err := s.ListUsers(t.Context(), acme, store.Query{SortBy: o.sortBy, SortDescending: o.desc, Count: 100})
		if err != nil {
			t.Fatalf("ListUsers: %v", err)
		}
		want := userNames(all.Users)
		for _, size := range []int{1, 3, 4, 10, 11} {
			got := walk(t, list, q, size, len(want), nil)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("sortBy %q desc %v, cursor pages of %d (-want +got):\n%s", o.sortBy, o.desc, size, diff)
			}
		}
	}

	// With a filter: the filtered list, and its total on every page.
	f := mustParse(t, `active eq true or title pr`)
	all, err := s.ListUsers(t.Context(), acme, store.Query{Filter: f, SortBy: "userName", Count: 100})
	if err != nil {
		t.Fatal(err)
	}
	got := walk(t, list, store.Query{Filter: f, SortBy: "userName"}, 2, all.Total, nil)
	if diff := cmp.Diff(userNames(all.Users), got); diff != "" || all.Total != 8 {
		t.Errorf("filtered cursor pages: total %d (-want +got):\n%s", all.Total, diff)
	}
	got = walk(t, list, store.Query{Filter: mustParse(t, `userName eq "nobody"`)}, 5, 0, nil)
	if len(got) != 0 {
		t.Errorf("cursor over no match: %v", got)
	}

	// StartIndex is ignored; Count 0 asks only for the total.
	p, err := s.ListUsers(t.Context(), acme, store.Query{Cursor: true, StartIndex: 5, Count: 2})
	if err != nil || !slices.Equal(userNames(p.Users), fixtureNames[:2]) || p.Total != 10 || p.Next == nil {
		t.Errorf("cursor with startIndex 5: %v, total %d, next %v, err %v; want the first page", userNames(p.Users), p.Total, p.Next, err)
	}
	p, err = s.ListUsers(t.Context(), acme, store.Query{Cursor: true, Count: 0})
	if err != nil || len(p.Users) != 0 || p.Total != 10 || p.Next != nil {
		t.Errorf("cursor with count 0: %d users, total %d, next %v, err %v", len(p.Users), p.Total, p.Next, err)
	}
	// The last page has no Next.
	p, err = s.ListUsers(t.Context(), acme, store.Query{Cursor: true, Count: 10})
	if err != nil || len(p.Users) != 10 || p.Next != nil {
		t.Errorf("one page of everything: %d users, next %v, err %v; want 10 and no Next", len(p.Users), p.Next, err)
	}
}

// testCursorInserts inserts users while a client walks the list by cursor:
// every user that existed when the walk began is seen exactly once, in
// order, and no user is seen twice.
func testCursorInserts(t *testing.T, s store.Store) {
	acme := mustTenant(t, s, "acme")
	titles := []any{"m", nil, "a", "z", "", nil}
	for i := range 12 {
		attrs := map[string]any{}
		if tt := titles[i%len(titles)]; tt != nil {
			attrs["title"] = tt
		}
		mustCreateUser(t, s, acme.ID, newUser(fmt.Sprintf("id-%03d", i), fmt.Sprintf("user%03d", i*10), i, attrs))
	}
	list := usersLister(t, s, acme.ID)
	k := 0
	insert := func() {
		// Names and titles that sort before, between and after the
		// existing ones.
		for _, name := range []string{fmt.Sprintf("aaa%03d", k), fmt.Sprintf("user%03d-%d", k*7%120, k), fmt.Sprintf("zzz%03d", k)} {
			attrs := map[string]any{}
			if tt := titles[k%len(titles)]; tt != nil {
				attrs["title"] = tt
			}
			mustCreateUser(t, s, acme.ID, newUser(fmt.Sprintf("new-%03d", k), name, 100+k, attrs))
			k++
		}
	}
	for _, o := range []struct {
		sortBy string
		desc   bool
	}{{"", false}, {"userName", true}, {"title", false}, {"title", true}, {"meta.created", true}} {
		before, err := s.ListUsers(t.Context(), acme.ID, store.Query{SortBy: o.sortBy, SortDescending: o.desc, Count: 1000})
		if err != nil {
			t.Fatal(err)
		}
		want := userNames(before.Users)
		existed := map[string]bool{}
		for _, n := range want {
			existed[n] = true
		}
		seen := walk(t, list, store.Query{SortBy: o.sortBy, SortDescending: o.desc}, 6, -1, insert)
		var old []string
		counts := map[string]int{}
		for _, n := range seen {
			counts[n]++
			if counts[n] == 2 {
				t.Errorf("sortBy %q desc %v: %s seen twice", o.sortBy, o.desc, n)
			}
			if existed[n] {
				old = append(old, n)
			}
		}
		if diff := cmp.Diff(want, old); diff != "" {
			t.Errorf("sortBy %q desc %v: the users that existed, walked while others were created (-want +got):\n%s", o.sortBy, o.desc, diff)
		}
	}
}

func testCursorGroups(t *testing.T, s store.Store) {
	gs := groupStore(t, s)
	acme := mustTenant(t, s, "acme")
	names := []any{"delta", "Alpha", nil, "charlie", "Bravo", "echo", "alpha", nil}
	for i, n := range names {
		g := newGroup(fmt.Sprintf("g-%d", i), "", i)
		delete(g.Attrs, "displayName")
		if n != nil {
			g.Attrs["displayName"] = n
		}
		mustCreateGroup(t, gs, acme.ID, g)
	}
	list := groupsLister(t, gs, acme.ID)
	for _, o := range []struct {
		sortBy string
		desc   bool
	}{{"", false}, {"displayName", false}, {"displayName", true}, {"meta.created", true}, {"id", false}} {
		all, err := gs.ListGroups(t.Context(), acme.ID, store.Query{SortBy: o.sortBy, SortDescending: o.desc, Count: 100}, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, size := range []int{1, 3, 8} {
			got := walk(t, list, store.Query{SortBy: o.sortBy, SortDescending: o.desc}, size, len(names), nil)
			if diff := cmp.Diff(groupNames(all.Groups), got); diff != "" {
				t.Errorf("groups sortBy %q desc %v, cursor pages of %d (-want +got):\n%s", o.sortBy, o.desc, size, diff)
			}
		}
	}
	f := mustParse(t, `displayName pr`)
	got := walk(t, list, store.Query{Filter: f, SortBy: "displayName"}, 2, 6, nil)
	if diff := cmp.Diff([]string{"g-1", "g-6", "g-4", "g-3", "g-0", "g-5"}, got); diff != "" {
		t.Errorf("filtered group cursor pages (-want +got):\n%s", diff)
	}
	// Inserts during the walk.
	k := 0
	seen := walk(t, list, store.Query{}, 3, -1, func() {
		mustCreateGroup(t, gs, acme.ID, newGroup(fmt.Sprintf("new-%d", k), "New", 100+k))
		k++
	})
	var old []string
	for _, id := range seen {
		if len(id) < 4 || id[:4] != "new-" {
			old = append(old, id)
		}
	}
	if diff := cmp.Diff([]string{"g-0", "g-1", "g-2", "g-3", "g-4", "g-5", "g-6", "g-7"}, old); diff != "" || len(seen) != len(old)+k {
		t.Errorf("walk in creation order while groups are created: %v", seen)
	}
	// With members, by cursor.
	p, err := gs.ListGroups(t.Context(), acme.ID, store.Query{Cursor: true, Count: 2}, true)
	if err != nil || len(p.Groups) != 2 || p.Next == nil {
		t.Fatalf("ListGroups(cursor, members): %d groups, next %v, err %v", len(p.Groups), p.Next, err)
	}
	for _, g := range p.Groups {
		if g.Members == nil {
			t.Errorf("ListGroups(members=true) returned nil Members for %s", g.ID)
		}
	}
}
