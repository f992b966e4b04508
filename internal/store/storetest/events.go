package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimd/scimd/internal/store"
)

// eventTests are the event log's part of the suite.
var eventTests = []testCase[store.Store]{
	{"EventsOfEveryChange", testEventsOfEveryChange},
	{"EventsOfGroups", testEventsOfGroups},
	{"EventsRolledBack", testEventsRolledBack},
	{"EventsPaging", testEventsPaging},
	{"EventsConcurrentWriters", testEventsConcurrent},
	{"EventsRetention", testEventsRetention},
	{"EventsHeadAfterRetention", testEventsHeadAfterRetention},
	{"EventsPurgeScrubs", testEventsPurgeScrubs},
}

// readAll reads every visible event after after, 50 at a time.
func readAll(t *testing.T, s store.Store, q store.EventQuery) []store.Event {
	t.Helper()
	settle(t, s)
	var out []store.Event
	q.Limit = 50
	for {
		p, err := s.ReadEvents(t.Context(), q)
		if err != nil {
			t.Fatalf("ReadEvents(%+v): %v", q, err)
		}
		out = append(out, p.Events...)
		if p.Next == nil || q.After != nil && *p.Next == *q.After {
			return out
		}
		q.After = p.Next
	}
}

// settle waits until every committed event is visible: on a database
// server that other tests share, their transactions hold back the feed
// for a moment.
func settle(t *testing.T, s store.Store) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		n, err := s.EventsPending(t.Context())
		if err != nil {
			t.Fatalf("EventsPending: %v", err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events still pending after 20s", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// evs is an event as the tests compare it.
type ev struct {
	Type, Res, ID string
}

func brief(es []store.Event) []ev {
	out := make([]ev, len(es))
	for i, e := range es {
		out[i] = ev{e.Type, e.Resource.Type, e.Resource.ID}
	}
	return out
}

func data(t *testing.T, e store.Event) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(e.Data, &m); err != nil {
		t.Fatalf("event %s %s: data %s is not a JSON object: %v", e.Type, e.ID, e.Data, err)
	}
	return m
}

// since reads the events after the head at the time of the call to
// mark.
func mark(t *testing.T, s store.Store) func() []store.Event {
	t.Helper()
	settle(t, s)
	head, err := s.EventsHead(t.Context())
	if err != nil {
		t.Fatalf("EventsHead: %v", err)
	}
	return func() []store.Event {
		t.Helper()
		return readAll(t, s, store.EventQuery{After: &head})
	}
}

type restorer interface {
	RestoreUser(ctx context.Context, tenantID int64, id string) (store.User, error)
}

func testEventsOfEveryChange(t *testing.T, s store.Store) {
	actor := store.Actor{Kind: store.ActorAPIKey, ID: "key-1", Client: "Okta", RequestID: "req-1"}
	ctx := store.WithActor(t.Context(), actor)
	acme := mustTenant(t, s, "acme")
	since := mark(t, s)

	if _, err := s.UpdateTenant(ctx, "acme", func(tn *store.Tenant) error { tn.ProvisioningActive = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateTenant(ctx, "acme", func(tn *store.Tenant) error { tn.APIKeysEnabled = false; return nil }); err != nil {
		t.Fatal(err) // no event: not an activation
	}
	key := store.APIKey{ID: "key-1", TenantID: acme.ID, Name: "Okta", Scope: store.ScopeWrite, SecretHash: []byte("0123456789abcdef0123456789abcdef"), Created: base}
	if err := s.CreateAPIKey(ctx, key); err != nil {
		t.Fatal(err)
	}
	u := newUser("u-1", "alice@example.com", 0, map[string]any{"name": map[string]any{"givenName": "Alice"}})
	if _, err := s.CreateUser(ctx, acme.ID, u); err != nil {
		t.Fatal(err)
	}
	set := func(k string, v any) {
		t.Helper()
		if _, err := s.UpdateUser(ctx, acme.ID, "u-1", func(u *store.User) error { u.Attrs[k] = v; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	set("title", "Engineer")
	set("title", "Engineer") // no change: no event
	set("active", false)
	set("active", true)
	if _, err := s.UpdateUser(ctx, acme.ID, "u-1", func(u *store.User) error { u.PasswordHash = "x"; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, acme.ID, "u-1", true); err != nil {
		t.Fatal(err)
	}
	r, ok := s.(restorer)
	if !ok {
		t.Fatalf("%T has no RestoreUser", s)
	}
	if _, err := r.RestoreUser(ctx, acme.ID, "u-1"); err != nil {
		t.Fatal(err)
	}
	if err := s.PurgeUser(ctx, acme.ID, "u-1"); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeAPIKey(ctx, acme.ID, "key-1", base); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeAPIKey(ctx, acme.ID, "key-1", base); err != nil {
		t.Fatal(err) // revoked already: no second event
	}
	if err := s.RevokeAPIKey(ctx, acme.ID, "nope", base); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RevokeAPIKey(unknown) = %v, want ErrNotFound", err)
	}
	if _, err := s.UpdateTenant(ctx, "acme", func(tn *store.Tenant) error { tn.ProvisioningActive = false; return nil }); err != nil {
		t.Fatal(err)
	}

	got := since()
	want := []ev{
		{store.EventTenantActivated, "Tenant", "acme"},
		{store.EventKeyCreated, "APIKey", "key-1"},
		{store.EventUserCreated, "User", "u-1"},
		{store.EventUserUpdated, "User", "u-1"},
		{store.EventUserDeactivated, "User", "u-1"},
		{store.EventUserReactivated, "User", "u-1"},
		{store.EventUserUpdated, "User", "u-1"},
		{store.EventUserDeleted, "User", "u-1"},
		{store.EventUserRestored, "User", "u-1"},
		{store.EventUserPurged, "User", "u-1"},
		{store.EventKeyRevoked, "APIKey", "key-1"},
		{store.EventTenantDeactivated, "Tenant", "acme"},
	}
	if diff := cmp.Diff(want, brief(got)); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
	ids := map[string]bool{}
	for i, e := range got {
		if !strings.HasPrefix(e.ID, "evt_") || len(e.ID) != 36 || ids[e.ID] {
			t.Errorf("event %d: id %q is not a new evt_ and 32 hex digits", i, e.ID)
		}
		ids[e.ID] = true
		if i > 0 && !got[i-1].Position.Less(e.Position) {
			t.Errorf("event %d: position %+v is not after %+v", i, e.Position, got[i-1].Position)
		}
		if e.Actor != actor {
			t.Errorf("event %d: actor %+v, want %+v", i, e.Actor, actor)
		}
		if e.TenantID != acme.ID || e.Tenant != "acme" {
			t.Errorf("event %d: tenant %d %q, want %d acme", i, e.TenantID, e.Tenant, acme.ID)
		}
		if e.Time.IsZero() || time.Since(e.Time) > time.Hour {
			t.Errorf("event %d: time %v", i, e.Time)
		}
	}
	// The key's event never holds its secret's hash.
	if strings.Contains(string(got[1].Data), "0123456789abcdef") || data(t, got[1])["name"] != "Okta" {
		t.Errorf("key.created data %s", got[1].Data)
	}
	// The purge scrubbed what the user's earlier events said.
	for _, e := range got[2:9] {
		if string(e.Data) != `{"scrubbed":true}` {
			t.Errorf("%s after the purge: data %s, want scrubbed", e.Type, e.Data)
		}
	}
	if string(got[9].Data) != `{}` {
		t.Errorf("user.purged data %s, want {}", got[9].Data)
	}
}

func testEventsPurgeScrubs(t *testing.T, s store.Store) {
	ctx := t.Context()
	acme := mustTenant(t, s, "acme")
	since := mark(t, s)
	mustCreateUser(t, s, acme.ID, newUser("u-1", "alice@example.com", 0, map[string]any{"title": "CEO"}))
	mustCreateUser(t, s, acme.ID, newUser("u-2", "bob@example.com", 1, nil))
	if _, err := s.UpdateUser(ctx, acme.ID, "u-1", func(u *store.User) error { u.Attrs["title"] = "CTO"; return nil }); err != nil {
		t.Fatal(err)
	}
	// What each event says, before any purge.
	got := since()
	created := data(t, got[0])
	res, _ := created["resource"].(map[string]any)
	meta, _ := res["meta"].(map[string]any)
	if res["id"] != "u-1" || res["userName"] != "alice@example.com" || res["title"] != "CEO" ||
		meta["resourceType"] != "User" || meta["version"] != `W/"1"` || res["password"] != nil {
		t.Errorf("user.created data %s", got[0].Data)
	}
	if schemas, _ := res["schemas"].([]any); len(schemas) != 1 || schemas[0] != "urn:ietf:params:scim:schemas:core:2.0:User" {
		t.Errorf("user.created schemas %v", res["schemas"])
	}
	updated := data(t, got[2])
	if diff := cmp.Diff([]any{"title"}, updated["changed"]); diff != "" {
		t.Errorf("user.updated changed (-want +got):\n%s", diff)
	}
	if res, _ := updated["resource"].(map[string]any); res["title"] != "CTO" {
		t.Errorf("user.updated resource %v", res)
	}
	if err := s.DeleteUser(ctx, acme.ID, "u-1", true); err != nil {
		t.Fatal(err)
	}
	// Purging the archived user scrubs its events, and only its.
	if err := s.PurgeUser(ctx, acme.ID, "u-1"); err != nil {
		t.Fatal(err)
	}
	got = since()
	if diff := cmp.Diff([]ev{
		{store.EventUserCreated, "User", "u-1"},
		{store.EventUserCreated, "User", "u-2"},
		{store.EventUserUpdated, "User", "u-1"},
		{store.EventUserDeleted, "User", "u-1"},
		{store.EventUserPurged, "User", "u-1"},
	}, brief(got)); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
	for _, i := range []int{0, 2, 3} {
		if string(got[i].Data) != `{"scrubbed":true}` {
			t.Errorf("%s of the purged user: data %s", got[i].Type, got[i].Data)
		}
	}
	if strings.Contains(string(got[1].Data), "scrubbed") || !strings.Contains(string(got[1].Data), "bob@example.com") {
		t.Errorf("another user's event was scrubbed: %s", got[1].Data)
	}
}

func testEventsOfGroups(t *testing.T, s store.Store) {
	ctx := t.Context()
	gs := groupStore(t, s)
	acme := mustTenant(t, s, "acme")
	for i, id := range []string{"u-1", "u-2", "u-3"} {
		mustCreateUser(t, s, acme.ID, newUser(id, "user"+id, i, nil))
	}
	mustCreateGroup(t, gs, acme.ID, newGroup("g-sub", "Sub", 0))
	since := mark(t, s)
	mustCreateGroup(t, gs, acme.ID, newGroup("g-1", "One", 1, "u-1", "u-2"))
	// Renamed: group.updated with the changed path.
	if _, err := gs.UpdateGroup(ctx, acme.ID, "g-1", false, func(g *store.Group) ([]store.MemberOp, error) {
		g.Attrs["displayName"] = "Uno"
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	// A replace with the same members and one new: only the new one.
	update(t, gs, acme.ID, "g-1", store.MemberOp{Kind: store.RemoveAllMembers}, add("u-1", "u-2", "u-3"))
	// Changes that change nothing in all: no events.
	update(t, gs, acme.ID, "g-1", add("u-1"))
	update(t, gs, acme.ID, "g-1", remove("u-2"), add("u-2"))
	update(t, gs, acme.ID, "g-1", add("g-sub"), remove("g-sub"))
	// Removed, and a group added.
	update(t, gs, acme.ID, "g-1", remove("u-1", "nobody"), add("g-sub"))
	// Deleting a member removes it from its groups, one event per group.
	if err := s.DeleteUser(ctx, acme.ID, "u-2", false); err != nil {
		t.Fatal(err)
	}
	if err := gs.DeleteGroup(ctx, acme.ID, "g-sub"); err != nil {
		t.Fatal(err)
	}
	if err := gs.DeleteGroup(ctx, acme.ID, "g-1"); err != nil {
		t.Fatal(err)
	}
	got := since()
	type mev struct {
		Type, Group, Member, MemberType string
	}
	var brief []mev
	for _, e := range got {
		m := mev{Type: e.Type, Group: e.Resource.ID}
		if mem, ok := data(t, e)["member"].(map[string]any); ok {
			m.Member, _ = mem["value"].(string)
			m.MemberType, _ = mem["type"].(string)
		}
		if e.Resource.Type != "Group" && e.Type != store.EventUserDeleted {
			t.Errorf("%s: resource type %q", e.Type, e.Resource.Type)
		}
		brief = append(brief, m)
	}
	want := []mev{
		{store.EventGroupCreated, "g-1", "", ""},
		{store.EventGroupMemberAdded, "g-1", "u-1", "User"},
		{store.EventGroupMemberAdded, "g-1", "u-2", "User"},
		{store.EventGroupUpdated, "g-1", "", ""},
		{store.EventGroupMemberAdded, "g-1", "u-3", "User"},
		{store.EventGroupMemberRemoved, "g-1", "u-1", "User"},
		{store.EventGroupMemberAdded, "g-1", "g-sub", "Group"},
		{store.EventGroupMemberRemoved, "g-1", "u-2", "User"},
		{store.EventGroupDeleted, "g-sub", "", ""},
		{store.EventGroupMemberRemoved, "g-1", "g-sub", "Group"},
		{store.EventGroupDeleted, "g-1", "", ""},
	}
	// u-2's deletion is a user event between them.
	var gotGroups []mev
	for i, m := range brief {
		if got[i].Type == store.EventUserDeleted {
			continue
		}
		gotGroups = append(gotGroups, m)
	}
	if diff := cmp.Diff(want, gotGroups); diff != "" {
		t.Errorf("group events (-want +got):\n%s", diff)
	}
	if d := data(t, got[3]); fmt.Sprint(d["changed"]) != "[displayName]" {
		t.Errorf("group.updated changed %v", d["changed"])
	}
	if res, _ := data(t, got[0])["resource"].(map[string]any); res["displayName"] != "One" || res["members"] != nil {
		t.Errorf("group.created resource %v", res)
	}
}

func testEventsRolledBack(t *testing.T, s store.Store) {
	ctx := t.Context()
	gs := groupStore(t, s)
	acme := mustTenant(t, s, "acme")
	mustCreateUser(t, s, acme.ID, newUser("u-1", "alice", 0, nil))
	mustCreateGroup(t, gs, acme.ID, newGroup("g-1", "One", 0))
	since := mark(t, s)
	abort := errors.New("abort")
	if _, err := s.UpdateUser(ctx, acme.ID, "u-1", func(u *store.User) error { u.Attrs["title"] = "x"; return abort }); !errors.Is(err, abort) {
		t.Fatalf("UpdateUser = %v", err)
	}
	if _, err := s.CreateUser(ctx, acme.ID, newUser("u-2", "ALICE", 1, nil)); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("CreateUser(duplicate) = %v", err)
	}
	if _, err := gs.UpdateGroup(ctx, acme.ID, "g-1", false, func(g *store.Group) ([]store.MemberOp, error) {
		g.Attrs["displayName"] = "Uno"
		return []store.MemberOp{add("u-1", "missing")}, nil
	}); err == nil {
		t.Fatal("UpdateGroup with a missing member succeeded")
	}
	if _, err := gs.CreateGroup(ctx, acme.ID, newGroup("g-2", "Two", 1, "u-1", "missing")); err == nil {
		t.Fatal("CreateGroup with a missing member succeeded")
	}
	if got := since(); len(got) != 0 {
		t.Errorf("changes that rolled back left events: %v", brief(got))
	}
}

func testEventsPaging(t *testing.T, s store.Store) {
	ctx := t.Context()
	gs := groupStore(t, s)
	acme, globex := mustTenant(t, s, "acme"), mustTenant(t, s, "globex")
	since := mark(t, s)
	for i := range 7 {
		mustCreateUser(t, s, acme.ID, newUser(fmt.Sprintf("a-%d", i), fmt.Sprintf("a%d", i), i, nil))
		mustCreateUser(t, s, globex.ID, newUser(fmt.Sprintf("g-%d", i), fmt.Sprintf("g%d", i), i, nil))
	}
	mustCreateGroup(t, gs, acme.ID, newGroup("grp", "G", 0, "a-0"))
	all := since()
	if len(all) != 16 {
		t.Fatalf("%d events, want 16", len(all))
	}
	// Pages of 3 follow Next without gaps or repeats.
	var paged []store.Event
	var after *store.EventPosition
	for {
		p, err := s.ReadEvents(ctx, store.EventQuery{After: after, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Events) > 3 {
			t.Fatalf("page of %d events, limit 3", len(p.Events))
		}
		paged = append(paged, p.Events...)
		if len(p.Events) == 0 {
			break
		}
		after = p.Next
	}
	// (The log may hold the tenants' own events before the mark.)
	if diff := cmp.Diff(brief(all), brief(paged[len(paged)-16:])); diff != "" {
		t.Errorf("paged (-want +got):\n%s", diff)
	}
	// A tenant's feed holds only its events.
	for _, e := range readAll(t, s, store.EventQuery{TenantIDs: []int64{globex.ID}}) {
		if e.TenantID != globex.ID || !strings.HasPrefix(e.Resource.ID, "g-") {
			t.Errorf("globex's feed has %+v", e)
		}
	}
	if n := len(readAll(t, s, store.EventQuery{TenantIDs: []int64{acme.ID, globex.ID}})); n != 16 {
		t.Errorf("both tenants' feeds: %d events, want 16", n)
	}
	// Types match exactly or by prefix.
	for _, tc := range []struct {
		types []string
		want  int
	}{
		{[]string{"user.*"}, 14},
		{[]string{"group.member_*"}, 1},
		{[]string{"group.created", "group.member_added"}, 2},
		{[]string{"user.deleted"}, 0},
	} {
		if n := len(readAll(t, s, store.EventQuery{Types: tc.types})); n != tc.want {
			t.Errorf("types %v: %d events, want %d", tc.types, n, tc.want)
		}
	}
	// Nothing new: Next stays where the reader is.
	last := all[len(all)-1].Position
	p, err := s.ReadEvents(ctx, store.EventQuery{After: &last, Limit: 10})
	if err != nil || len(p.Events) != 0 || p.Next == nil || *p.Next != last {
		t.Errorf("read at the head = %+v, %v; want no events and Next %+v", p, err, last)
	}
	settle(t, s)
	head, err := s.EventsHead(ctx)
	if err != nil || head != last {
		t.Errorf("EventsHead = %+v, %v; want %+v", head, err, last)
	}
	// A filter that skips many events moves Next past them.
	p, err = s.ReadEvents(ctx, store.EventQuery{Types: []string{"user.deleted"}, Limit: 10})
	if err != nil || len(p.Events) != 0 || p.Next == nil || *p.Next != last {
		t.Errorf("filtered read = %+v, %v; want no events and Next %+v", p, err, last)
	}
	for _, limit := range []int{0, 1001} {
		if _, err := s.ReadEvents(ctx, store.EventQuery{Limit: limit}); err == nil {
			t.Errorf("ReadEvents(Limit %d) succeeded", limit)
		}
	}
}

// testEventsConcurrent: a reader that follows the feed while many writers
// commit sees every event exactly once, in order.
func testEventsConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	acme := mustTenant(t, s, "acme")
	settle(t, s)
	start, err := s.EventsHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 8, 40
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				id := fmt.Sprintf("u-%d-%d", w, i)
				if _, err := s.CreateUser(ctx, acme.ID, newUser(id, id, i, nil)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	seen := map[string]int{}
	var order []store.EventPosition
	after := start
	finished := false
	for {
		p, err := s.ReadEvents(ctx, store.EventQuery{After: &after, Limit: 7})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Events {
			seen[e.Resource.ID]++
			order = append(order, e.Position)
		}
		if p.Next != nil {
			after = *p.Next
		}
		if finished && len(p.Events) == 0 {
			break
		}
		select {
		case <-done:
			if !finished {
				settle(t, s)
			}
			finished = true
		default:
		}
	}
	close(errs)
	for err := range errs {
		t.Fatalf("CreateUser: %v", err)
	}
	if len(seen) != writers*each {
		t.Errorf("the reader saw %d users' events, want %d", len(seen), writers*each)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s: seen %d times", id, n)
		}
	}
	for i := 1; i < len(order); i++ {
		if !order[i-1].Less(order[i]) {
			t.Fatalf("event %d at %+v is not after %+v", i, order[i], order[i-1])
		}
	}
}

func testEventsRetention(t *testing.T, s store.Store) {
	ctx := t.Context()
	acme := mustTenant(t, s, "acme")
	mustCreateUser(t, s, acme.ID, newUser("u-1", "one", 0, nil))
	time.Sleep(2 * time.Millisecond)
	mustCreateUser(t, s, acme.ID, newUser("u-2", "two", 1, nil))
	all := readAll(t, s, store.EventQuery{})
	if len(all) != 2 {
		t.Fatalf("%d events, want 2", len(all))
	}
	n, err := s.PurgeEvents(ctx, all[1].Time)
	if err != nil || n != 1 {
		t.Fatalf("PurgeEvents(the second's time) = %d, %v; want 1", n, err)
	}
	if got := readAll(t, s, store.EventQuery{}); len(got) != 1 || got[0].ID != all[1].ID {
		t.Errorf("after retention: %v", brief(got))
	}
	// A reader that had seen the first event lost nothing; one from before
	// it did, and is told so.
	if p, err := s.ReadEvents(ctx, store.EventQuery{After: &all[0].Position, Limit: 10}); err != nil || len(p.Events) != 1 {
		t.Errorf("read after the purged event = %+v, %v", p, err)
	}
	before := store.EventPosition{}
	if _, err := s.ReadEvents(ctx, store.EventQuery{After: &before, Limit: 10}); !errors.Is(err, store.ErrEventsExpired) {
		t.Errorf("read from before the purged event: %v, want ErrEventsExpired", err)
	}
	if n, err := s.PurgeEvents(ctx, time.Now().Add(time.Hour)); err != nil || n != 1 {
		t.Errorf("PurgeEvents(all) = %d, %v; want 1", n, err)
	}
	mustCreateUser(t, s, acme.ID, newUser("u-3", "three", 2, nil))
	if got := readAll(t, s, store.EventQuery{After: &all[1].Position}); len(got) != 1 || got[0].Resource.ID != "u-3" {
		t.Errorf("after purging everything, a new event: %v", brief(got))
	}
}
