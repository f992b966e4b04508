package hostapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimd/scimd/internal/events"
	"github.com/scimd/scimd/internal/store"
)

// page is an answer of GET /api/v1/events, decoded.
type page struct {
	Events []struct {
		ID       string              `json:"id"`
		Type     string              `json:"type"`
		Tenant   string              `json:"tenant"`
		Time     string              `json:"time"`
		Resource store.EventResource `json:"resource"`
		Actor    store.Actor         `json:"actor"`
		Cursor   string              `json:"cursor"`
		Data     map[string]any      `json:"data"`
	} `json:"events"`
	NextCursor string `json:"next_cursor"`
}

func (in *instance) events(t testing.TB, key, query string) page {
	t.Helper()
	r := in.get(t, "/api/v1/events?"+query, key)
	if r.status != http.StatusOK {
		t.Fatalf("events?%s: %d %s", query, r.status, r.body)
	}
	var p page
	if err := json.Unmarshal([]byte(r.body), &p); err != nil || p.Events == nil {
		t.Fatalf("events?%s: %v (events %v)\n%s", query, err, p.Events, r.body)
	}
	return p
}

// head returns the cursor after every event so far.
func (e *env) head() string {
	e.t.Helper()
	e.settle()
	h, err := e.inst.st.EventsHead(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return events.Cursor(h)
}

func TestEventsFeed(t *testing.T) { forEachBackend(t, testEventsFeed) }

func testEventsFeed(t *testing.T, e *env) {
	start := e.head()
	ann := e.createUser("acme", "ann", true)
	e.patch(e.inst, "acme", "/Users/"+ann, "replace", "active", false)
	g := e.createGroup("acme", "Engineering", ann)
	e.scim(e.inst, "acme", "DELETE", "/Users/"+ann, "", http.StatusNoContent)
	e.createUser("bravo", "bob", true)
	e.settle()

	type brief struct{ Type, Tenant, ResType, ResID string }
	var got []brief
	after := start
	var last string
	for range 10 {
		p := e.inst.events(t, e.all, "limit=2&after="+after)
		if len(p.Events) > 2 {
			t.Fatalf("%d events with limit=2", len(p.Events))
		}
		if len(p.Events) == 0 {
			if p.NextCursor != after {
				t.Errorf("an empty page's next_cursor = %q, want the cursor given %q", p.NextCursor, after)
			}
			break
		}
		for _, ev := range p.Events {
			got = append(got, brief{ev.Type, ev.Tenant, ev.Resource.Type, ev.Resource.ID})
			last = ev.Cursor
		}
		if p.NextCursor != last {
			t.Errorf("next_cursor = %q, want the last event's cursor %q", p.NextCursor, last)
		}
		after = p.NextCursor
	}
	want := []brief{
		{store.EventUserCreated, "acme", "User", ann},
		{store.EventUserDeactivated, "acme", "User", ann},
		{store.EventGroupCreated, "acme", "Group", g},
		{store.EventGroupMemberAdded, "acme", "Group", g},
		{store.EventUserDeleted, "acme", "User", ann},
		{store.EventGroupMemberRemoved, "acme", "Group", g},
		{store.EventUserCreated, "bravo", "User", got[len(got)-1].ResID},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}

	// One event in full.
	p := e.inst.events(t, e.all, "limit=1&after="+start)
	ev := p.Events[0]
	if !regexp.MustCompile(`^evt_[0-9a-f]{32}$`).MatchString(ev.ID) {
		t.Errorf("id = %q", ev.ID)
	}
	if at, err := time.Parse(time.RFC3339Nano, ev.Time); err != nil || time.Since(at) > time.Minute {
		t.Errorf("time = %q (%v)", ev.Time, err)
	}
	if ev.Actor.Kind != store.ActorAPIKey || ev.Actor.ID == "" || ev.Actor.RequestID == "" {
		t.Errorf("actor = %+v, want the tenant's SCIM key with the request id", ev.Actor)
	}
	res, _ := ev.Data["resource"].(map[string]any)
	if res["userName"] != "ann" || res["id"] != ann || res["active"] != true || res["password"] != nil {
		t.Errorf("data.resource = %v", res)
	}
	if p.NextCursor != ev.Cursor {
		t.Errorf("next_cursor %q, want the event's cursor %q", p.NextCursor, ev.Cursor)
	}

	// Filters.
	types := func(query string) []string {
		var out []string
		for _, ev := range e.inst.events(t, e.all, "after="+start+"&"+query).Events {
			out = append(out, ev.Type)
		}
		return out
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"types=group.member_*", []string{store.EventGroupMemberAdded, store.EventGroupMemberRemoved}},
		{"types=user.deleted,group.created", []string{store.EventGroupCreated, store.EventUserDeleted}},
		{"types=user.*&tenant=bravo", []string{store.EventUserCreated}},
		{"types=" + url.QueryEscape(" user.deactivated , user.deactivated "), []string{store.EventUserDeactivated}},
		{"types=*&tenant=acme", []string{store.EventUserCreated, store.EventUserDeactivated, store.EventGroupCreated,
			store.EventGroupMemberAdded, store.EventUserDeleted, store.EventGroupMemberRemoved}},
		{"types=tenant.*", nil},
	} {
		if got := types(tc.query); !cmp.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.query, got, tc.want)
		}
	}
	// A filtered read moves past what it skipped.
	if p := e.inst.events(t, e.all, "types=key.*&after="+start); len(p.Events) != 0 || p.NextCursor != last {
		t.Errorf("types=key.*: %d events, next_cursor %q; want none and past the skipped events %q", len(p.Events), p.NextCursor, last)
	}
	// Without a cursor: from the oldest retained event.
	all := e.inst.events(t, e.all, "limit=1000")
	if n := len(all.Events); n != 4+len(want) || all.Events[0].Type != store.EventTenantActivated {
		t.Errorf("without a cursor: %d events from %s, want %d from the first", n, all.Events[0].Type, 4+len(want))
	}
}

func TestEventsParameters(t *testing.T) {
	e := newEnv(t, "sqlite")
	bad := func(msg string) string { return errBody("invalid_parameter", msg) }
	types := strings.Join(store.EventTypes, ", ")
	for _, tc := range []struct {
		query, body string
	}{
		{"limit=0", bad(`limit must be an integer from 1 to 1000, not "0"`)},
		{"limit=1001", bad(`limit must be an integer from 1 to 1000, not "1001"`)},
		{"limit=-5", bad(`limit must be an integer from 1 to 1000, not "-5"`)},
		{"limit=ten", bad(`limit must be an integer from 1 to 1000, not "ten"`)},
		{"limit=1&limit=2", bad(`parameter limit is given 2 times; give it once`)},
		{"cursor=abc", bad(`unknown parameter "cursor": this endpoint takes after, limit, tenant, types, wait`)},
		{"after=abc", errBody("invalid_cursor", "after is not a cursor of this event log: pass the next_cursor of the previous answer, an event's cursor, or a resync's events_cursor")},
		{"after=" + encodeUsersCursor(e.acme.ID, 1), errBody("invalid_cursor", "after is not a cursor of this event log: pass the next_cursor of the previous answer, an event's cursor, or a resync's events_cursor")},
		{"types=user.made", bad(`types entry "user.made" matches no event type (they are ` + types + `)`)},
		{"types=people.*", bad(`types entry "people.*" matches no event type (they are ` + types + `)`)},
		{"types=user.*,", bad(`types has an empty entry: give event types or prefixes ending in *, separated by commas`)},
		{"types=*.created", bad(`types entry "*.created": * may only end a prefix, as in user.*`)},
		{"types=" + strings.Repeat("user.*,", 33) + "user.*", bad(`types lists 34 patterns; at most 32`)},
		{"wait=61s", bad(`wait must be a duration from 0s to 1m0s (such as 30s), not "61s"`)},
		{"wait=61", bad(`wait must be a duration from 0s to 1m0s (such as 30s), not "61"`)},
		{"wait=-1s", bad(`wait must be a duration from 0s to 1m0s (such as 30s), not "-1s"`)},
		{"wait=soon", bad(`wait must be a duration from 0s to 1m0s (such as 30s), not "soon"`)},
		{"wait=" + strings.Repeat("9", 100), bad(`wait must be a duration from 0s to 1m0s (such as 30s), not "` + strings.Repeat("9", 64) + `…"`)},
	} {
		t.Run(tc.query[:min(len(tc.query), 40)], func(t *testing.T) {
			wantJSON(t, e.inst.get(t, "/api/v1/events?"+tc.query, e.all), http.StatusBadRequest, tc.body)
		})
	}
	// Empty values are absent ones; these are fine.
	for _, q := range []string{"after=&limit=&tenant=&types=&wait=", "wait=0", "wait=0s", "limit=1000", "limit=1&wait=100ms", "types=*"} {
		if r := e.inst.get(t, "/api/v1/events?"+q, e.all); r.status != http.StatusOK {
			t.Errorf("events?%s: %d %s", q, r.status, r.body)
		}
	}
}

func TestEventsExpired(t *testing.T) { forEachBackend(t, testEventsExpired) }

func testEventsExpired(t *testing.T, e *env) {
	ctx := context.Background()
	before := e.head()
	e.createUser("acme", "ann", true)
	after := e.head()
	if _, err := e.inst.st.PurgeEvents(ctx, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	wantJSON(t, e.inst.get(t, "/api/v1/events?after="+before, e.all), http.StatusGone, errBody("cursor_expired",
		"events after this cursor have passed the retention period and were deleted: resync. For each tenant, page through "+
			"GET /api/v1/tenants/{tenant}/users (following next_cursor), then read GET /api/v1/events?after= the events_cursor of the first page"))
	// A reader that had seen everything missed nothing.
	if p := e.inst.events(t, e.all, "after="+after); len(p.Events) != 0 || p.NextCursor != after {
		t.Errorf("after the newest purged event: %+v", p)
	}
	// One that starts now resumes past the purged events, not before them.
	p := e.inst.events(t, e.all, "")
	if len(p.Events) != 0 || p.NextCursor != after {
		t.Errorf("without a cursor on an emptied log: %d events, next_cursor %q, want %q", len(p.Events), p.NextCursor, after)
	}
	bob := e.createUser("acme", "bob", true)
	e.settle()
	if p := e.inst.events(t, e.all, "after="+p.NextCursor); len(p.Events) != 1 || p.Events[0].Resource.ID != bob {
		t.Errorf("the next event: %+v", p.Events)
	}
}

// getAsync sends a GET in the background and returns a channel with its
// response and how long it took.
func (in *instance) getAsync(t testing.TB, ctx context.Context, path, key string) <-chan timed {
	ch := make(chan timed, 1)
	go func() {
		start := time.Now()
		req, _ := http.NewRequestWithContext(ctx, "GET", in.srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := in.srv.Client().Do(req)
		if err != nil {
			ch <- timed{err: err, took: time.Since(start)}
			return
		}
		defer resp.Body.Close()
		var p page
		err = json.NewDecoder(resp.Body).Decode(&p)
		ch <- timed{status: resp.StatusCode, page: p, err: err, took: time.Since(start)}
	}()
	return ch
}

type timed struct {
	status int
	page   page
	err    error
	took   time.Duration
}

func TestLongPoll(t *testing.T) { forEachBackend(t, testLongPoll) }

func testLongPoll(t *testing.T, e *env) {
	ctx := context.Background()
	other := e.newInstance(Config{})
	for _, tc := range []struct {
		name   string
		poll   *instance // polls
		writer *instance // writes, woken by its commit or by the poll timer
	}{
		{"same instance", e.inst, e.inst},
		{"another instance", other, e.inst},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := e.head()
			ch := tc.poll.getAsync(t, ctx, "/api/v1/events?wait=20s&after="+start, e.all)
			time.Sleep(300 * time.Millisecond)
			written := time.Now()
			b, _ := json.Marshal(map[string]any{"userName": "poll-" + strings.ReplaceAll(tc.name, " ", "-")})
			id := e.scim(tc.writer, "acme", "POST", "/Users", string(b), http.StatusCreated)["id"].(string)
			r := <-ch
			if r.err != nil || r.status != http.StatusOK {
				t.Fatalf("long poll: %d, %v", r.status, r.err)
			}
			if len(r.page.Events) != 1 || r.page.Events[0].Resource.ID != id || r.page.NextCursor != r.page.Events[0].Cursor {
				t.Errorf("long poll answered %+v, want the new user's event", r.page)
			}
			// Other tests' transactions on a shared PostgreSQL server may
			// hold the event back for a moment: the bound is loose.
			if lag := time.Since(written); r.took < 300*time.Millisecond || lag > 15*time.Second {
				t.Errorf("long poll took %v, answered %v after the write", r.took, lag)
			}
			t.Logf("answered %v after the write", time.Since(written))
		})
	}
	t.Run("nothing arrives", func(t *testing.T) {
		start := e.head()
		r := <-e.inst.getAsync(t, ctx, "/api/v1/events?wait=1s&after="+start, e.all)
		if r.err != nil || r.status != http.StatusOK || len(r.page.Events) != 0 || r.page.NextCursor != start {
			t.Errorf("long poll: %d %v %+v; want no events and the same cursor", r.status, r.err, r.page)
		}
		if r.took < time.Second || r.took > 5*time.Second {
			t.Errorf("a 1s wait took %v", r.took)
		}
	})
	t.Run("filtered out", func(t *testing.T) {
		start := e.head()
		e.createUser("acme", "filtered", true)
		head := e.head()
		r := <-e.inst.getAsync(t, ctx, "/api/v1/events?wait=300ms&types=group.*&after="+start, e.all)
		if r.err != nil || r.status != http.StatusOK || len(r.page.Events) != 0 || r.took < 300*time.Millisecond {
			t.Fatalf("long poll: %d %v %+v after %v", r.status, r.err, r.page, r.took)
		}
		if r.page.NextCursor != head {
			t.Errorf("next_cursor %q: want it past the skipped user event (%q), not the start %q", r.page.NextCursor, head, start)
		}
	})
}

// TestLongPollOutlivesServerTimeouts: the server's read and write
// timeouts (60s in scimd serve) do not cut a long poll short.
func TestLongPollOutlivesServerTimeouts(t *testing.T) {
	e := newEnv(t, "sqlite")
	srv := httptest.NewUnstartedServer(e.inst.api)
	srv.Config.ReadTimeout, srv.Config.WriteTimeout = 300*time.Millisecond, 300*time.Millisecond
	srv.Start()
	defer srv.Close()
	in := &instance{st: e.inst.st, api: e.inst.api, srv: srv}
	start := e.head()
	r := <-in.getAsync(t, context.Background(), "/api/v1/events?wait=1s&after="+start, e.all)
	if r.err != nil || r.status != http.StatusOK || r.page.NextCursor != start || r.took < time.Second {
		t.Errorf("a 1s long poll behind 300ms timeouts: %d, %v, %+v after %v", r.status, r.err, r.page, r.took)
	}
}

func TestTooManyLongPolls(t *testing.T) {
	e := newEnv(t, "sqlite")
	in := e.newInstance(Config{MaxWaitsPerKey: 1})
	ctx, cancel := context.WithCancel(context.Background())
	ch := in.getAsync(t, ctx, "/api/v1/events?wait=30s&after="+e.head(), e.all)
	waits := func() int {
		in.api.mu.Lock()
		defer in.api.mu.Unlock()
		return in.api.waits[e.allID]
	}
	for deadline := time.Now().Add(5 * time.Second); waits() != 1; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the first long poll did not start")
		}
	}
	r := in.get(t, "/api/v1/events?wait=1s", e.all)
	wantJSON(t, r, http.StatusTooManyRequests, errBody("too_many_long_polls",
		"this application key already holds 1 long polls open on this instance: wait for one to return"))
	if r.header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After = %q", r.header.Get("Retry-After"))
	}
	if r := in.get(t, "/api/v1/events", e.all); r.status != http.StatusOK {
		t.Errorf("a read without wait: %d", r.status)
	}
	if r := in.get(t, "/api/v1/events?wait=10ms", e.limited); r.status != http.StatusOK {
		t.Errorf("another key's long poll: %d", r.status)
	}
	cancel() // the client goes away: its slot is free again
	<-ch
	for deadline := time.Now().Add(5 * time.Second); waits() != 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the slot of a cancelled long poll was not freed")
		}
	}
	if r := in.get(t, "/api/v1/events?wait=10ms", e.all); r.status != http.StatusOK {
		t.Errorf("a long poll after the first ended: %d", r.status)
	}
}
