package secevent

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/scimd/scimd/internal/store"
)

const pollKey = "test-poll-key-0123456789abcdef0123456789"

type pollEnv struct {
	t    *testing.T
	b    backend
	poll *Poll
	srv  *httptest.Server
	set  jose.JSONWebKeySet
}

func newPollEnv(t *testing.T, b backend, auth AppKeyAuthenticator) *pollEnv {
	t.Helper()
	if auth == nil {
		kf, err := ParseKeyFile("keys", []byte("# the test's key\n"+pollKey+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		auth = kf
	}
	keys := &Keyring{Store: b}
	if _, err := keys.Ensure(t.Context()); err != nil {
		t.Fatal(err)
	}
	p := &Poll{Events: b, Pollers: b, Format: &Format{Issuer: "https://scimd.example", Keys: keys}, Auth: auth, MaxWait: 5 * time.Second}
	e := &pollEnv{t: t, b: b, poll: p, srv: httptest.NewServer(p)}
	t.Cleanup(e.srv.Close)
	e.set = jwks(t, keys)
	return e
}

// serve makes the env's requests go to a new server of p (a Poll is not
// changed while a server uses it).
func (e *pollEnv) serve(p *Poll) {
	e.poll = p
	e.srv = httptest.NewServer(p)
	e.t.Cleanup(e.srv.Close)
}

// with returns a copy of the env's Poll changed by fn.
func (e *pollEnv) with(fn func(p *Poll)) *Poll {
	p := *e.poll
	fn(&p)
	return &p
}

// do sends a poll request as is.
func (e *pollEnv) do(auth, contentType, body string) (int, http.Header, string) {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.srv.URL+PollPath, strings.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, resp.Header, string(readAll(e.t, resp))
}

// answer is a poll's answer, its SETs verified and brief.
type answer struct {
	IDs  []string // the jtis, in log order of the resources' events
	More bool
}

// pollOK polls with the test key and checks the answer is a 200 of
// verified SETs.
func (e *pollEnv) pollOK(body string) (answer, map[string]Claims) {
	e.t.Helper()
	settle(e.t, e.b)
	status, h, raw := e.do("Bearer "+pollKey, "application/json", body)
	if status != 200 || h.Get("Content-Type") != "application/json" || h.Get("Cache-Control") != "no-store" {
		e.t.Fatalf("poll %s: %d %v %s", body, status, h, raw)
	}
	var resp struct {
		Sets          map[string]string `json:"sets"`
		MoreAvailable *bool             `json:"moreAvailable"`
	}
	if err := json.Unmarshal([]byte(raw), &resp); err != nil || resp.Sets == nil || resp.MoreAvailable == nil {
		e.t.Fatalf("poll answer %s: %v; want sets and moreAvailable", raw, err)
	}
	claims := map[string]Claims{}
	var a answer
	for jti, tok := range resp.Sets {
		c, _ := verify(e.t, e.set, tok)
		if c.ID != jti || c.Audience != "https://scimd.example"+PollPath {
			e.t.Errorf("SET under %s has jti %s, aud %s", jti, c.ID, c.Audience)
		}
		claims[jti] = c
		a.IDs = append(a.IDs, jti)
	}
	slices.Sort(a.IDs)
	a.More = *resp.MoreAvailable
	return a, claims
}

// ids returns the ids of events, sorted (event ids are random: the
// answers are compared as sets).
func ids(es ...store.Event) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.ID)
	}
	slices.Sort(out)
	return out
}

func acks(es ...store.Event) string {
	var q []string
	for _, e := range es {
		q = append(q, `"`+e.ID+`"`)
	}
	return "[" + strings.Join(q, ",") + "]"
}

func TestPollAuthAndBadRequests(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newPollEnv(t, b, nil)
		acme := mustTenant(t, b, "acme")
		mustUser(t, b, acme.ID, "u-1", "ada", nil)
		const auth = "Bearer " + pollKey
		tests := []struct {
			name, auth, ct, body string
			status               int
			want                 string
		}{
			{"no credential", "", "application/json", `{}`, 401, `{"err":"authentication_failed","description":"send the poll key as Authorization: Bearer KEY"}`},
			{"basic", "Basic " + pollKey, "application/json", `{}`, 401, `{"err":"authentication_failed","description":"send the poll key as Authorization: Bearer KEY"}`},
			{"wrong key", "Bearer " + pollKey + "x", "application/json", `{}`, 401, `{"err":"authentication_failed","description":"this key is not a poll key of this scimd"}`},
			{"not JSON", auth, "text/plain", `{}`, 415, `{"err":"invalid_request","description":"a poll request is application/json (RFC 8936 §2.4)"}`},
			{"no content type", auth, "", `{}`, 415, `{"err":"invalid_request","description":"a poll request is application/json (RFC 8936 §2.4)"}`},
			{"array", auth, "application/json", `[]`, 400, `{"err":"invalid_request","description":"invalid poll request: the body must be a JSON object (RFC 8936 §2.4)"}`},
			{"empty", auth, "application/json; charset=utf-8", ``, 400, `{"err":"invalid_request","description":"invalid poll request: the body must be a JSON object (RFC 8936 §2.4)"}`},
			{"ack of numbers", auth, "application/json", `{"ack":[1]}`, 400, `{"err":"invalid_request","description":"invalid poll request: \"ack\" must be an array of jti strings"}`},
			{"negative maxEvents", auth, "application/json", `{"maxEvents":-1}`, 400, `{"err":"invalid_request","description":"invalid poll request: \"maxEvents\" must be a non-negative integer, not -1"}`},
			{"fractional maxEvents", auth, "application/json", `{"maxEvents":2.5}`, 400, `{"err":"invalid_request","description":"invalid poll request: \"maxEvents\" must be a non-negative integer, not 2.5"}`},
			{"string returnImmediately", auth, "application/json", `{"returnImmediately":"yes"}`, 400, `{"err":"invalid_request","description":"invalid poll request: \"returnImmediately\" must be true or false"}`},
			{"setErr without err", auth, "application/json", `{"setErrs":{"evt_1":{"description":"x"}}}`, 400, `{"err":"invalid_request","description":"invalid poll request: \"setErrs\": the error of \"evt_1\" must be an object with a string \"err\""}`},
			{"repeated member", auth, "application/json", `{"ack":[],"ack":[]}`, 400, `{"err":"invalid_request","description":"invalid poll request: member \"ack\" appears twice"}`},
			{"trailing data", auth, "application/json", `{} {}`, 400, `{"err":"invalid_request","description":"invalid poll request: data after the JSON object"}`},
			{"too large", auth, "application/json", `{"ack":["` + strings.Repeat("x", MaxPollBody) + `"]}`, 413, `{"err":"invalid_request","description":"a poll request is at most 1 MiB"}`},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				status, h, body := e.do(tc.auth, tc.ct, tc.body)
				if status != tc.status || body != tc.want+"\n" || h.Get("Content-Type") != "application/json" {
					t.Errorf("%d %s (Content-Type %q)\nwant %d %s", status, body, h.Get("Content-Type"), tc.status, tc.want)
				}
				if status == 401 && !strings.HasPrefix(h.Get("WWW-Authenticate"), `Bearer realm="scimd"`) {
					t.Errorf("WWW-Authenticate %q", h.Get("WWW-Authenticate"))
				}
			})
		}
		req, _ := http.NewRequest("GET", e.srv.URL+PollPath, nil)
		req.Header.Set("Authorization", auth)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" {
			t.Errorf("GET: %d Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
		}
		// None of that moved anything: the first real poll gets the event.
		if a, _ := e.pollOK(`{"returnImmediately":true}`); len(a.IDs) != 1 {
			t.Errorf("after refused requests, a poll got %+v", a)
		}
	})
}

// TestPollAcknowledge: SETs come in log order; one not acknowledged comes
// again; one acknowledged (ack or setErrs) never does, out of order too;
// the poller's position is stored, so another instance (another Poll on
// the same database) continues from it.
func TestPollAcknowledge(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newPollEnv(t, b, nil)
		ctx := store.WithActor(t.Context(), store.Actor{Kind: store.ActorAPIKey, ID: "k", RequestID: "req-9"})
		acme := mustTenant(t, b, "acme")
		if _, err := b.UpdateTenant(ctx, "acme", func(tn *store.Tenant) error { tn.ProvisioningActive = true; return nil }); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			now := time.Now()
			if _, err := b.CreateUser(ctx, acme.ID, store.User{ID: fmt.Sprintf("u-%d", i), Created: now, Modified: now, Attrs: map[string]any{"userName": fmt.Sprintf("user%d", i)}}); err != nil {
				t.Fatal(err)
			}
		}
		all := allEvents(t, b)
		if len(all) != 4 || all[0].Type != store.EventTenantActivated {
			t.Fatalf("events %+v", all)
		}
		us := all[1:] // the tenant's activation has no SET

		got, claims := e.pollOK(`{"returnImmediately":true}`)
		if diff := cmp.Diff(answer{IDs: ids(us...)}, got); diff != "" {
			t.Fatalf("first poll (-want +got):\n%s", diff)
		}
		if c := claims[us[0].ID]; c.Txn != "req-9" || c.Tenant != "acme" || c.Subject.URI != "/Users/u-0" || c.Events[ProvCreateFull] == nil {
			t.Errorf("SET of %s: %+v", us[0].ID, c)
		}
		if got, _ := e.pollOK(`{"returnImmediately":true}`); !cmp.Equal(answer{IDs: ids(us...)}, got) {
			t.Errorf("unacknowledged SETs were not sent again: %+v", got)
		}
		// Acknowledge the last one first, and the first by setErrs: only
		// the middle one remains.
		got, _ = e.pollOK(`{"ack":["` + us[2].ID + `","evt_unknown"],"setErrs":{"` + us[0].ID + `":{"err":"invalid_request","description":"no such schema here"}},"returnImmediately":true}`)
		if diff := cmp.Diff(answer{IDs: ids(us[1])}, got); diff != "" {
			t.Errorf("after out-of-order acknowledgements (-want +got):\n%s", diff)
		}
		p, err := b.SETPoller(t.Context(), pollerID(pollKey))
		if err != nil || p.Floor != us[0].Position || !cmp.Equal(p.Acked, []store.EventPosition{us[2].Position}) {
			t.Errorf("stored poller %+v, %v; want floor at %v and %v acknowledged after it", p, err, us[0].Position, us[2].Position)
		}
		// Another instance continues from the stored position.
		e.serve(&Poll{Events: b, Pollers: b, Format: e.poll.Format, Auth: e.poll.Auth})
		got, _ = e.pollOK(`{"ack":` + acks(us[1]) + `,"returnImmediately":true}`)
		if diff := cmp.Diff(answer{IDs: nil}, got); diff != "" {
			t.Errorf("after acknowledging all (-want +got):\n%s", diff)
		}
		if p, err := b.SETPoller(t.Context(), pollerID(pollKey)); err != nil || p.Floor != us[2].Position || len(p.Acked) != 0 {
			t.Errorf("stored poller %+v, %v; want floor at the last event %v", p, err, us[2].Position)
		}
		// Acknowledging again, or what is unknown, changes nothing.
		if got, _ := e.pollOK(`{"ack":` + acks(us...) + `,"returnImmediately":true}`); len(got.IDs) != 0 || got.More {
			t.Errorf("poll after everything was acknowledged: %+v", got)
		}
		// Another key is another poller: it starts from the oldest event.
		kf, _ := ParseKeyFile("k", []byte(pollKey+"\n"+strings.Repeat("z", 40)))
		e.serve(e.with(func(p *Poll) { p.Auth = kf }))
		status, _, raw := e.do("Bearer "+strings.Repeat("z", 40), "application/json", `{"returnImmediately":true}`)
		if status != 200 || strings.Count(raw, `"evt_`) != 3 {
			t.Errorf("a second key's first poll: %d %s", status, raw)
		}
	})
}

// TestPollMoreAvailable: maxEvents bounds an answer, moreAvailable says
// whether more SETs wait, maxEvents 0 acknowledges only.
func TestPollMoreAvailable(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newPollEnv(t, b, nil)
		acme := mustTenant(t, b, "acme")
		for i := range 5 {
			mustUser(t, b, acme.ID, fmt.Sprintf("u-%d", i), fmt.Sprintf("user%d", i), nil)
		}
		evs := allEvents(t, b)
		steps := []struct {
			body string
			want answer
		}{
			{`{"maxEvents":2,"returnImmediately":true}`, answer{ids(evs[0:2]...), true}},
			{`{"maxEvents":2,"ack":` + acks(evs[0:2]...) + `,"returnImmediately":true}`, answer{ids(evs[2:4]...), true}},
			{`{"maxEvents":0,"ack":` + acks(evs[2]) + `}`, answer{nil, true}}, // an acknowledgement only, no wait
			{`{"maxEvents":5,"ack":` + acks(evs[3]) + `,"returnImmediately":true}`, answer{ids(evs[4]), false}},
			{`{"maxEvents":0,"ack":` + acks(evs[4]) + `}`, answer{nil, false}},
			{`{"maxEvents":99999999999999999999999,"returnImmediately":true}`, answer{nil, false}},
		}
		for i, s := range steps {
			got, _ := e.pollOK(s.body)
			if diff := cmp.Diff(s.want, got); diff != "" {
				t.Errorf("step %d %s (-want +got):\n%s", i, s.body, diff)
			}
		}
	})
}

// TestPollLongPoll: without returnImmediately a poll waits for SETs: it
// answers as soon as a change commits, and with nothing after MaxWait.
func TestPollLongPoll(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newPollEnv(t, b, nil)
		acme := mustTenant(t, b, "acme")
		go func() {
			time.Sleep(300 * time.Millisecond)
			mustUser(t, b, acme.ID, "u-1", "ada", nil)
		}()
		start := time.Now()
		got, claims := e.pollOK(`{}`)
		waited := time.Since(start)
		if len(got.IDs) != 1 || claims[got.IDs[0]].Subject.ID != "u-1" {
			t.Fatalf("long poll answered %+v", got)
		}
		if waited < 250*time.Millisecond || waited > 3*time.Second {
			t.Errorf("long poll answered after %v; want soon after the change at 300ms", waited)
		}
		// Nothing new: the poll answers empty after MaxWait.
		e.serve(e.with(func(p *Poll) { p.MaxWait = 700 * time.Millisecond }))
		start = time.Now()
		got, _ = e.pollOK(`{"ack":["` + got.IDs[0] + `"]}`)
		if waited := time.Since(start); len(got.IDs) != 0 || got.More || waited < 700*time.Millisecond || waited > 3*time.Second {
			t.Errorf("long poll with nothing to send: %+v after %v; want empty after 700ms", got, waited)
		}
		// The server shutting down ends a long poll at once.
		done := make(chan struct{})
		e.serve(e.with(func(p *Poll) { p.Done, p.MaxWait = done, time.Minute }))
		go func() { time.Sleep(200 * time.Millisecond); close(done) }()
		start = time.Now()
		if got, _ := e.pollOK(`{}`); len(got.IDs) != 0 || time.Since(start) > 5*time.Second {
			t.Errorf("long poll during shutdown: %+v after %v", got, time.Since(start))
		}
	})
}

// TestPollLongPollOtherInstance: a change committed through another
// instance (whose commits this one does not hear) is found by the
// periodic re-read.
func TestPollLongPollOtherInstance(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newPollEnv(t, b, nil)
		acme := mustTenant(t, b, "acme")
		e.serve(e.with(func(p *Poll) { p.Events = quiet{b} })) // hears no commit
		go func() {
			time.Sleep(100 * time.Millisecond)
			mustUser(t, b, acme.ID, "u-1", "ada", nil)
		}()
		start := time.Now()
		got, _ := e.pollOK(`{}`)
		if len(got.IDs) != 1 || time.Since(start) > 2*time.Second {
			t.Errorf("long poll answered %+v after %v; want the change within about 500ms", got, time.Since(start))
		}
	})
}

// quiet is an event log whose commits are not heard.
type quiet struct{ store.EventStore }

func (quiet) EventsNotify() <-chan struct{} { return nil }

// tenantsAuth grants some tenants to one key.
type tenantsAuth struct {
	key     string
	tenants []int64
}

func (a tenantsAuth) AppKeyAuth(_ context.Context, bearer string) ([]int64, bool, error) {
	if bearer != a.key {
		return nil, false, store.ErrNotFound
	}
	return a.tenants, false, nil
}

// TestPollTenants: a key limited to some tenants gets their SETs only;
// one limited to none gets nothing.
func TestPollTenants(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		acme, globex := mustTenant(t, b, "acme"), mustTenant(t, b, "globex")
		mustUser(t, b, acme.ID, "a-1", "ada", nil)
		mustUser(t, b, globex.ID, "g-1", "gus", nil)
		mustUser(t, b, acme.ID, "a-2", "alan", nil)
		e := newPollEnv(t, b, tenantsAuth{key: pollKey, tenants: []int64{acme.ID}})
		got, claims := e.pollOK(`{"returnImmediately":true}`)
		var subjects []string
		for _, c := range claims {
			if c.Tenant != "acme" {
				t.Errorf("a SET of tenant %s", c.Tenant)
			}
			subjects = append(subjects, c.Subject.ID)
		}
		slices.Sort(subjects)
		if !cmp.Equal(subjects, []string{"a-1", "a-2"}) || got.More {
			t.Errorf("acme's key got %v (%+v)", subjects, got)
		}
		none := newPollEnv(t, b, tenantsAuth{key: pollKey})
		if got, _ := none.pollOK(`{}`); len(got.IDs) != 0 {
			t.Errorf("a key of no tenant got %+v", got)
		}
	})
}

// TestPollExpired: a poller whose unacknowledged SETs passed the retention
// is told once (410), then continues from the oldest retained event.
func TestPollExpired(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newPollEnv(t, b, nil)
		acme := mustTenant(t, b, "acme")
		mustUser(t, b, acme.ID, "u-1", "ada", nil)
		if got, _ := e.pollOK(`{"returnImmediately":true}`); len(got.IDs) != 1 {
			t.Fatalf("first poll %+v", got)
		}
		settle(t, b)
		if n, err := b.PurgeEvents(t.Context(), time.Now().Add(time.Minute)); err != nil || n != 1 {
			t.Fatalf("PurgeEvents = %d, %v", n, err)
		}
		mustUser(t, b, acme.ID, "u-2", "bob", nil)
		settle(t, b)
		status, _, body := e.do("Bearer "+pollKey, "application/json", `{"returnImmediately":true}`)
		if status != 410 || !strings.Contains(body, `"err":"invalid_request"`) || !strings.Contains(body, "resynchronize from SCIM") {
			t.Errorf("poll behind the retention: %d %s", status, body)
		}
		got, claims := e.pollOK(`{"returnImmediately":true}`)
		if len(got.IDs) != 1 || claims[got.IDs[0]].Subject.ID != "u-2" {
			t.Errorf("after the 410: %+v", got)
		}
	})
}
