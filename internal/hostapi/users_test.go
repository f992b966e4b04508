package hostapi

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimd/scimd/internal/store"
)

func TestUserStatus(t *testing.T) { forEachBackend(t, testUserStatus) }

func testUserStatus(t *testing.T, e *env) {
	other := e.newInstance(Config{})
	ann := e.createUser("acme", "Ann", true)
	eng := e.createGroup("acme", "Engineering", ann)
	all := e.createGroup("acme", "Everyone", eng)
	status := func(in *instance, path string) response {
		t.Helper()
		return in.get(t, "/api/v1/tenants/acme/users"+path, e.all)
	}
	groups := fmt.Sprintf(`[{"id":%q,"displayName":"Engineering","type":"direct"},{"id":%q,"displayName":"Everyone","type":"indirect"}]`, eng, all)
	live := func(active bool) string {
		return fmt.Sprintf(`{"id":%q,"userName":"Ann","active":%v,"archived":false,"exists":true,"groups":%s}`, ann, active, groups)
	}
	wantJSON(t, status(e.inst, "/"+ann), 200, live(true))
	wantJSON(t, status(other, "?userName=aNN"), 200, live(true))
	wantJSON(t, status(e.inst, "?userName="+url.QueryEscape("Ann ")), 200, `{"id":null,"userName":"Ann ","active":false,"archived":false,"exists":false,"groups":[]}`)

	// A SCIM deactivation through one instance shows on the next request
	// through every instance.
	e.patch(e.inst, "acme", "/Users/"+ann, "replace", "active", false)
	wantJSON(t, status(other, "/"+ann), 200, live(false))
	wantJSON(t, status(e.inst, "?userName=ann"), 200, live(false))
	e.patch(other, "acme", "/Users/"+ann, "replace", "active", true)
	wantJSON(t, status(e.inst, "/"+ann), 200, live(true))

	// Deleted through SCIM (the tenant archives): archived, not active, in
	// no group; not found by userName, which is free again.
	e.scim(e.inst, "acme", "DELETE", "/Users/"+ann, "", http.StatusNoContent)
	archived := fmt.Sprintf(`{"id":%q,"userName":"Ann","active":false,"archived":true,"exists":true,"groups":[]}`, ann)
	wantJSON(t, status(other, "/"+ann), 200, archived)
	wantJSON(t, status(other, "?userName=ann"), 200, `{"id":null,"userName":"ann","active":false,"archived":false,"exists":false,"groups":[]}`)
	if err := e.inst.st.PurgeUser(context.Background(), e.acme.ID, ann); err != nil {
		t.Fatal(err)
	}
	wantJSON(t, status(other, "/"+ann), 200, fmt.Sprintf(`{"id":%q,"userName":null,"active":false,"archived":false,"exists":false,"groups":[]}`, ann))

	for _, tc := range []struct {
		path   string
		status int
		body   string
	}{
		{"/nobody", 200, `{"id":"nobody","userName":null,"active":false,"archived":false,"exists":false,"groups":[]}`},
		{"/" + url.PathEscape("a\x00b"), 200, `{"id":"a\u0000b","userName":null,"active":false,"archived":false,"exists":false,"groups":[]}`},
		{"/" + eng, 200, fmt.Sprintf(`{"id":%q,"userName":null,"active":false,"archived":false,"exists":false,"groups":[]}`, eng)},
		{"/x?fields=all", 400, errBody("invalid_parameter", `unknown parameter "fields": this endpoint takes no parameters`)},
		{"?userName=ann&limit=5", 400, errBody("invalid_parameter", "userName looks one user up: it takes no cursor or limit")},
		{"?userName=", 400, errBody("invalid_parameter", "userName is empty")},
		{"?username=ann", 400, errBody("invalid_parameter", `unknown parameter "username": this endpoint takes userName, cursor, limit`)},
	} {
		wantJSON(t, status(e.inst, tc.path), tc.status, tc.body)
	}
	// Another tenant's user does not exist here.
	bob := e.createUser("bravo", "bob", true)
	wantJSON(t, status(e.inst, "/"+bob), 200, fmt.Sprintf(`{"id":%q,"userName":null,"active":false,"archived":false,"exists":false,"groups":[]}`, bob))
}

// resynced is a user as a resync (or the events after it) leaves it in
// the host application's copy.
type resynced struct {
	Resource map[string]any
	Groups   map[string]bool // the groups it is a direct member of
}

// resyncPageJSON is a page of the resync, decoded.
type resyncPageJSON struct {
	Users []struct {
		ID       string         `json:"id"`
		UserName string         `json:"userName"`
		Active   bool           `json:"active"`
		Archived bool           `json:"archived"`
		Exists   bool           `json:"exists"`
		Groups   []groupJSON    `json:"groups"`
		Resource map[string]any `json:"resource"`
	} `json:"users"`
	NextCursor   string `json:"next_cursor"`
	EventsCursor string `json:"events_cursor"`
}

// resync pages through a tenant's users, calling between after each page
// but the last, and returns the copy, the order of the ids, and the
// events cursor of the first page.
func (e *env) resync(in *instance, tenant string, limit int, between func(page int)) (map[string]*resynced, []string, string) {
	e.t.Helper()
	users := map[string]*resynced{}
	var order []string
	var eventsCursor string
	cursor := ""
	for n := 0; ; n++ {
		r := in.get(e.t, fmt.Sprintf("/api/v1/tenants/%s/users?limit=%d&cursor=%s", tenant, limit, cursor), e.all)
		if r.status != http.StatusOK {
			e.t.Fatalf("resync page %d: %d %s", n, r.status, r.body)
		}
		var p resyncPageJSON
		if err := json.Unmarshal([]byte(r.body), &p); err != nil {
			e.t.Fatal(err)
		}
		if (n == 0) != (p.EventsCursor != "") {
			e.t.Errorf("page %d: events_cursor %q; want it on the first page only", n, p.EventsCursor)
		}
		if n == 0 {
			eventsCursor = p.EventsCursor
		}
		if len(p.Users) > limit {
			e.t.Errorf("page %d: %d users, limit %d", n, len(p.Users), limit)
		}
		for _, u := range p.Users {
			// A user may be on two pages: deleted and restored meanwhile,
			// it comes back at the end of the order.
			if !u.Exists || u.Archived || u.Resource["id"] != u.ID || u.Resource["userName"] != u.UserName || u.Active != (u.Resource["active"] != false) {
				e.t.Errorf("page %d: user %+v", n, u)
			}
			c := &resynced{Resource: u.Resource, Groups: map[string]bool{}}
			for _, g := range u.Groups {
				if g.Type == "direct" {
					c.Groups[g.ID] = true
				}
			}
			users[u.ID] = c
			order = append(order, u.ID)
		}
		if p.NextCursor == "" {
			return users, order, eventsCursor
		}
		if between != nil {
			between(n)
		}
		cursor = p.NextCursor
	}
}

// follow applies the events after cursor to the copy, as a host
// application would, until none is left.
func (e *env) follow(in *instance, users map[string]*resynced, cursor string) {
	e.t.Helper()
	e.settle()
	for {
		p := in.events(e.t, e.all, "tenant=acme&limit=7&after="+cursor)
		if len(p.Events) == 0 {
			return
		}
		for _, ev := range p.Events {
			res, _ := ev.Data["resource"].(map[string]any)
			member, _ := ev.Data["member"].(map[string]any)
			switch ev.Type {
			case store.EventUserCreated, store.EventUserUpdated, store.EventUserDeactivated, store.EventUserReactivated, store.EventUserRestored:
				if u := users[ev.Resource.ID]; u != nil {
					u.Resource = res
				} else {
					users[ev.Resource.ID] = &resynced{Resource: res, Groups: map[string]bool{}}
				}
			case store.EventUserDeleted, store.EventUserPurged:
				delete(users, ev.Resource.ID)
			case store.EventGroupMemberAdded, store.EventGroupMemberRemoved:
				if u := users[member["value"].(string)]; u != nil && member["type"] == "User" {
					u.Groups[ev.Resource.ID] = ev.Type == store.EventGroupMemberAdded
					if !u.Groups[ev.Resource.ID] {
						delete(u.Groups, ev.Resource.ID)
					}
				}
			case store.EventGroupDeleted:
				for _, u := range users {
					delete(u.Groups, ev.Resource.ID)
				}
			}
		}
		cursor = p.NextCursor
	}
}

func TestResync(t *testing.T) { forEachBackend(t, testResync) }

func testResync(t *testing.T, e *env) {
	var ids []string
	for i := range 23 {
		ids = append(ids, e.createUser("acme", fmt.Sprintf("user%02d", i), i%3 != 0))
	}
	e.createUser("bravo", "other", true)
	g := e.createGroup("acme", "Staff", ids[4])
	e.settle() // so that the head the resync takes is the newest event
	users, order, eventsCursor := e.resync(e.inst, "acme", 10, nil)
	if !cmp.Equal(order, ids) {
		t.Errorf("resync order %v, want creation order %v", order, ids)
	}
	if eventsCursor != e.head() {
		t.Errorf("events_cursor %q, want the head %q", eventsCursor, e.head())
	}
	if !users[ids[4]].Groups[g] || len(users[ids[5]].Groups) != 0 {
		t.Errorf("groups: %v, %v", users[ids[4]].Groups, users[ids[5]].Groups)
	}
	// The resource is the SCIM resource, as GET shows it, without what
	// events do not carry (meta.location, groups).
	for _, id := range []string{ids[0], ids[4]} {
		got := e.scim(e.inst, "acme", "GET", "/Users/"+id, "", http.StatusOK)
		delete(got, "groups")
		meta := got["meta"].(map[string]any)
		delete(meta, "location")
		// SCIM shows times to the millisecond, events (and so the resync)
		// to the nanosecond.
		for _, k := range []string{"created", "lastModified"} {
			scimTime, err1 := time.Parse(time.RFC3339Nano, meta[k].(string))
			ours, err2 := time.Parse(time.RFC3339Nano, users[id].Resource["meta"].(map[string]any)[k].(string))
			if err1 != nil || err2 != nil || !scimTime.Equal(ours.Truncate(time.Millisecond)) {
				t.Errorf("meta.%s: SCIM %v, resync %v", k, meta[k], users[id].Resource["meta"].(map[string]any)[k])
			}
			meta[k] = users[id].Resource["meta"].(map[string]any)[k]
		}
		if diff := cmp.Diff(got, users[id].Resource); diff != "" {
			t.Errorf("resource of %s (-SCIM +resync):\n%s", id, diff)
		}
	}
	// One page in full.
	r := e.inst.get(t, "/api/v1/tenants/acme/users?limit=1", e.all)
	var p map[string]any
	json.Unmarshal([]byte(r.body), &p)
	u0 := p["users"].([]any)[0].(map[string]any)
	wantJSON(t, r, 200, fmt.Sprintf(`{"users":[{"id":%q,"userName":"user00","active":false,"archived":false,"exists":true,"groups":[],"resource":%s}],`+
		`"next_cursor":%q,"events_cursor":%q}`, ids[0], mustJSON(u0["resource"]), encodeUsersCursor(e.acme.ID, seqOf(t, e, ids[0])), eventsCursor))

	_, _, _ = e.resync(e.inst, "bravo", 1000, nil)
	bravoCursor := encodeUsersCursor(e.bravo.ID, 1)
	for _, tc := range []struct {
		query string
		body  string
	}{
		{"cursor=" + bravoCursor, errBody("invalid_cursor", "cursor belongs to another tenant's resync")},
		{"cursor=abc", errBody("invalid_cursor", "cursor is not a cursor of this resync: pass the next_cursor of the previous page, or none to start")},
		{"cursor=" + eventsCursor, errBody("invalid_cursor", "cursor is not a cursor of this resync: pass the next_cursor of the previous page, or none to start")},
		{"limit=1001", errBody("invalid_parameter", `limit must be an integer from 1 to 1000, not "1001"`)},
		{"after=x", errBody("invalid_parameter", `unknown parameter "after": this endpoint takes userName, cursor, limit`)},
	} {
		wantJSON(t, e.inst.get(t, "/api/v1/tenants/acme/users?"+tc.query, e.all), 400, tc.body)
	}
	// An empty tenant: one empty page.
	if _, err := e.inst.st.CreateTenant(context.Background(), "empty"); err != nil {
		t.Fatal(err)
	}
	head := e.head()
	wantJSON(t, e.inst.get(t, "/api/v1/tenants/empty/users", e.all), 200, fmt.Sprintf(`{"users":[],"events_cursor":%q}`, head))
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// seqOf is the creation sequence of a user, as the store pages by it.
func seqOf(t *testing.T, e *env, id string) int64 {
	t.Helper()
	p, err := e.inst.st.ListUsers(context.Background(), e.acme.ID, store.Query{Cursor: true, Count: 1})
	if err != nil || len(p.Users) != 1 || p.Users[0].ID != id || p.Next == nil {
		t.Fatalf("ListUsers = %+v, %v", p, err)
	}
	return p.Next.Seq
}

// TestResyncDuringWrites: while a host application resyncs page by page,
// users are created, changed, deactivated, deleted, and join and leave
// groups, through two instances and concurrently; the resync and then
// the events from its events_cursor leave the copy equal to the final
// state.
func TestResyncDuringWrites(t *testing.T) { forEachBackend(t, testResyncDuringWrites) }

func testResyncDuringWrites(t *testing.T, e *env) {
	other := e.newInstance(Config{})
	var ids []string
	for i := range 30 {
		ids = append(ids, e.createUser("acme", fmt.Sprintf("u%02d", i), true))
	}
	staff := e.createGroup("acme", "Staff", ids[0], ids[10], ids[20])
	doomed := e.createGroup("acme", "Doomed", ids[1], ids[29])
	var mu sync.Mutex // the ids the concurrent writer may touch
	live := append([]string(nil), ids...)

	// A writer that runs through the whole resync (stopped before the
	// servers close, should the test fail first).
	stop := make(chan struct{})
	done := make(chan struct{})
	var stopOnce sync.Once
	stopWriter := func() { stopOnce.Do(func() { close(stop) }); <-done }
	t.Cleanup(stopWriter)
	var writeErrs []string
	go func() {
		defer close(done)
		rng := rand.New(rand.NewPCG(1, 2))
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			in := []*instance{e.inst, other}[i%2]
			mu.Lock()
			id := live[rng.IntN(len(live))]
			mu.Unlock()
			if r := e.tryPatch(in, "acme", "/Users/"+id, "replace", "title", fmt.Sprintf("title %d", i)); r.status != http.StatusOK && r.status != http.StatusNotFound { // 404: deleted meanwhile
				mu.Lock()
				writeErrs = append(writeErrs, fmt.Sprintf("%d %s", r.status, r.body))
				mu.Unlock()
			}
		}
	}()
	between := func(n int) {
		switch n {
		case 0: // change users already paged and not yet paged
			e.patch(other, "acme", "/Users/"+ids[2], "replace", "active", false)
			e.patch(e.inst, "acme", "/Users/"+ids[25], "replace", "displayName", "Late Change")
			e.patch(e.inst, "acme", "/Groups/"+staff, "add", "members", []any{map[string]any{"value": ids[3]}, map[string]any{"value": ids[26]}})
			mu.Lock()
			live = append(live, e.createUser("acme", "new-early", true))
			mu.Unlock()
		case 1: // delete users on both sides of the position
			e.scim(other, "acme", "DELETE", "/Users/"+ids[5], "", http.StatusNoContent)
			e.scim(e.inst, "acme", "DELETE", "/Users/"+ids[27], "", http.StatusNoContent)
			e.patch(e.inst, "acme", "/Groups/"+staff, "remove", fmt.Sprintf("members[value eq %q]", ids[0]), nil)
			e.scim(other, "acme", "DELETE", "/Groups/"+doomed, "", http.StatusNoContent)
		case 2:
			e.patch(other, "acme", "/Users/"+ids[28], "replace", "active", false)
			if _, err := e.inst.st.RestoreUser(context.Background(), e.acme.ID, ids[5]); err != nil {
				t.Error(err)
			}
			e.createUser("acme", "new-late", true)
		}
	}
	users, _, cursor := e.resync(e.inst, "acme", 8, between)
	stopWriter()
	if len(writeErrs) > 0 {
		t.Fatalf("the concurrent writer failed: %v", writeErrs)
	}
	e.follow(other, users, cursor)

	final, _, _ := e.resync(other, "acme", 1000, nil)
	if diff := cmp.Diff(final, users); diff != "" {
		t.Errorf("resync + events differ from the final state (-final +copy):\n%s", diff)
	}
	if len(final) != 31 || final[ids[27]] != nil || final[ids[5]] == nil || !final[ids[26]].Groups[staff] || final[ids[0]].Groups[staff] {
		t.Errorf("the final state is not what the writes made: %d users", len(final))
	}
}
