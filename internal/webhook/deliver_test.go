package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/scimd/scimd/internal/events"
	"github.com/scimd/scimd/internal/store"
	"github.com/scimd/scimd/internal/store/sqlite"
)

// fastConfig is a Config whose timings suit tests: a 300 ms attempt
// timeout, retries within tens of milliseconds.
func fastConfig(st store.Store, log *slog.Logger) Config {
	return Config{Store: st, Logger: log, AllowInsecure: true, Timeout: 300 * time.Millisecond, Lease: 2 * time.Second,
		Renew: 200 * time.Millisecond, Poll: 50 * time.Millisecond, Schedule: []time.Duration{20 * time.Millisecond, 50 * time.Millisecond}}
}

// syncBuffer is a log that tests read while the service writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

type env struct {
	t      *testing.T
	st     *sqlite.DB
	tenant store.Tenant
	log    *syncBuffer
	svc    *Service
	stop   func()
	users  int
}

// newEnv opens a SQLite store with tenant acme and a Service on it; the
// service delivers once start is called.
func newEnv(t *testing.T, edit func(*Config)) *env {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "scimd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tn, err := st.CreateTenant(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, st: st, tenant: tn, log: &syncBuffer{}}
	cfg := fastConfig(st, slog.New(slog.NewTextHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if edit != nil {
		edit(&cfg)
	}
	if e.svc, err = New(cfg); err != nil {
		t.Fatal(err)
	}
	return e
}

// start runs the service until the test ends (or stop).
func (e *env) start() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.svc.Run(ctx); close(done) }()
	var once sync.Once
	e.stop = func() { once.Do(func() { cancel(); <-done }) }
	e.t.Cleanup(e.stop)
}

// createUsers creates n users of acme (one event each) and returns their
// ids in order.
func (e *env) createUsers(n int) []string {
	e.t.Helper()
	var ids []string
	for range n {
		e.users++
		id := fmt.Sprintf("u%04d", e.users)
		now := time.Now()
		if _, err := e.st.CreateUser(e.t.Context(), e.tenant.ID, store.User{ID: id, Created: now, Modified: now,
			Attrs: map[string]any{"userName": id + "@example.com"}}); err != nil {
			e.t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

func (e *env) add(url string, tenants []string, types []string) (store.WebhookEndpoint, string) {
	e.t.Helper()
	ep, secret, _, err := e.svc.Add(e.t.Context(), NewEndpoint{URL: url, Tenants: tenants, Types: types})
	if err != nil {
		e.t.Fatalf("Add(%s): %v", url, err)
	}
	return ep, secret
}

func (e *env) endpoint(id string) store.WebhookEndpoint {
	e.t.Helper()
	ep, err := e.svc.Endpoint(e.t.Context(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return ep
}

// waitCaughtUp waits until the endpoint has recorded its delivery of
// every event.
func (e *env) waitCaughtUp(id string) {
	e.t.Helper()
	waitFor(e.t, "the endpoint at the head of the log", func() bool {
		head, err := e.st.EventsHead(e.t.Context())
		return err == nil && e.endpoint(id).Position == head
	})
}

// delivery is one request a receiver got.
type delivery struct {
	header http.Header
	body   []byte
	event  events.JSON
}

// receiver is a webhook receiver whose answers the test chooses.
type receiver struct {
	t   *testing.T
	srv *httptest.Server
	// answer returns the status of the nth request (from 0) and how long
	// to wait before answering.
	answer func(n int) (status int, delay time.Duration)

	mu          sync.Mutex
	got         []delivery
	n           int
	inflight    atomic.Int32
	maxInflight atomic.Int32
}

func newReceiver(t *testing.T, answer func(n int) (int, time.Duration)) *receiver {
	r := &receiver{t: t, answer: answer}
	if r.answer == nil {
		r.answer = func(int) (int, time.Duration) { return http.StatusNoContent, 0 }
	}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	if n := r.inflight.Add(1); n > r.maxInflight.Load() {
		r.maxInflight.Store(n)
	}
	defer r.inflight.Add(-1)
	body, _ := io.ReadAll(req.Body)
	var ev events.JSON
	if err := json.Unmarshal(body, &ev); err != nil {
		r.t.Errorf("receiver: body is not an event: %v: %s", err, body)
	}
	r.mu.Lock()
	n := r.n
	r.n++
	r.got = append(r.got, delivery{header: req.Header.Clone(), body: body, event: ev})
	r.mu.Unlock()
	status, delay := r.answer(n)
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-req.Context().Done():
		}
	}
	w.WriteHeader(status)
	fmt.Fprint(w, "answer ", n)
}

func (r *receiver) deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// resourceIDs lists the resource ids of what the receiver got, in order.
func (r *receiver) resourceIDs() []string {
	var ids []string
	for _, d := range r.deliveries() {
		ids = append(ids, d.event.Resource.ID)
	}
	return ids
}

// waitFor polls cond until it holds, or fails the test after 20 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// dedup drops consecutive repeats: an at-least-once, in-order stream of
// deliveries becomes the stream of events.
func dedup(ids []string) []string { return slices.Compact(slices.Clone(ids)) }

// TestDeliveriesVerifiedByReference: every event is delivered once, in
// log order, as the JSON of events.Public, with the headers of Standard
// Webhooks, and the specification's reference library verifies each
// signature.
func TestDeliveriesVerifiedByReference(t *testing.T) {
	e := newEnv(t, nil)
	r := newReceiver(t, nil)
	ep, secret := e.add(r.srv.URL+"/hook", nil, nil)
	e.start()
	want := e.createUsers(25)
	waitFor(t, "25 deliveries", func() bool { return len(r.deliveries()) >= 25 })
	e.waitCaughtUp(ep.ID)
	ds := r.deliveries()
	if got := r.resourceIDs(); !slices.Equal(got, want) {
		t.Fatalf("delivered %v, want %v exactly once each, in order", got, want)
	}
	logged, err := e.st.ReadEvents(t.Context(), store.EventQuery{After: &ep.Position, Limit: 100})
	if err != nil || len(logged.Events) != 25 {
		t.Fatalf("ReadEvents = %d, %v", len(logged.Events), err)
	}
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range ds {
		if err := wh.Verify(d.body, d.header); err != nil {
			t.Errorf("delivery %d: the reference library refuses it: %v", i, err)
		}
		wantBody, _ := json.Marshal(events.Public(logged.Events[i]))
		if !bytes.Equal(d.body, wantBody) {
			t.Errorf("delivery %d body:\n got %s\nwant %s", i, d.body, wantBody)
		}
		h := d.header
		if h.Get("webhook-id") != logged.Events[i].ID || h.Get("Content-Type") != "application/json" ||
			!strings.HasPrefix(h.Get("User-Agent"), "scimd-webhooks/") || !strings.HasPrefix(h.Get("webhook-signature"), "v1,") ||
			strings.Contains(h.Get("webhook-signature"), " ") {
			t.Errorf("delivery %d headers: %v", i, h)
		}
	}
	if m := r.maxInflight.Load(); m != 1 {
		t.Errorf("%d deliveries to one endpoint at once, want 1", m)
	}
	st := e.endpoint(ep.ID)
	if st.Position != logged.Events[24].Position || st.Attempts != 0 || st.LastError != "" || st.LastSuccess.IsZero() {
		t.Errorf("endpoint after delivering everything: %+v", st)
	}
	as, _ := e.svc.Attempts(t.Context(), ep.ID, 100)
	if len(as) != 25 || as[0].EventID != logged.Events[24].ID || as[0].Status != 204 || as[0].Attempt != 1 || as[0].Error != "" || as[0].Latency <= 0 {
		t.Errorf("attempts: %d, newest %+v", len(as), as[0])
	}
}

// TestReceiverFailsTimesOutAndRecovers: a receiver that answers 500, then
// does not answer in time, then recovers gets every event, in order; the
// events it missed are retried, and only an event whose answer came too
// late is received twice.
func TestReceiverFailsTimesOutAndRecovers(t *testing.T) {
	e := newEnv(t, nil)
	r := newReceiver(t, func(n int) (int, time.Duration) {
		switch {
		case n >= 3 && n < 6:
			return http.StatusInternalServerError, 0
		case n >= 6 && n < 8:
			return http.StatusOK, time.Second // the attempt times out at 300 ms
		case n == 8:
			return http.StatusServiceUnavailable, 0
		}
		return http.StatusOK, 0
	})
	ep, _ := e.add(r.srv.URL, nil, nil)
	e.start()
	want := e.createUsers(10)
	waitFor(t, "every event", func() bool {
		return len(dedup(r.resourceIDs())) == 10 && r.resourceIDs()[len(r.resourceIDs())-1] == want[9]
	})
	e.waitCaughtUp(ep.ID)
	got := r.resourceIDs()
	if !slices.Equal(dedup(got), want) {
		t.Fatalf("delivered %v; in order and without gaps that is %v, want %v", got, dedup(got), want)
	}
	// u4 was refused 3 times, timed out twice and refused once more: 7
	// requests; nothing else repeated.
	if len(got) != 16 || slices.Index(got, want[3]) != 3 || slices.Index(got, want[4]) != 10 {
		t.Errorf("requests %v: want 3 delivered, 7 attempts at %s, then the rest", got, want[3])
	}
	as, _ := e.svc.Attempts(t.Context(), ep.ID, 100)
	slices.Reverse(as)
	var log []string
	for _, a := range as {
		log = append(log, fmt.Sprintf("%d:%d", a.Attempt, a.Status))
	}
	wantLog := []string{"1:200", "1:200", "1:200", "1:500", "2:500", "3:500", "4:0", "5:0", "6:503", "7:200", "1:200", "1:200", "1:200", "1:200", "1:200", "1:200"}
	if !slices.Equal(log, wantLog) {
		t.Errorf("attempts (attempt:status) = %v\nwant %v", log, wantLog)
	}
	if as[3].Error != "HTTP 500: answer 3" || as[6].Error != "no answer within 300ms" || as[8].Error != "HTTP 503: answer 8" {
		t.Errorf("errors: %q, %q, %q", as[3].Error, as[6].Error, as[8].Error)
	}
	st := e.endpoint(ep.ID)
	if st.State != store.WebhookActive || st.Attempts != 0 || !st.FailingSince.IsZero() || st.LastError != "" {
		t.Errorf("after recovery: %+v", st)
	}
}

// TestGoneDisables: 410 Gone disables the endpoint at once; nothing more
// is sent until it is enabled, and then the refused event comes first.
func TestGoneDisables(t *testing.T) {
	e := newEnv(t, nil)
	var gone atomic.Bool
	gone.Store(true)
	r := newReceiver(t, func(n int) (int, time.Duration) {
		if n == 1 && gone.Load() {
			return http.StatusGone, 0
		}
		return http.StatusOK, 0
	})
	ep, _ := e.add(r.srv.URL, nil, nil)
	e.start()
	want := e.createUsers(3)
	waitFor(t, "disabled", func() bool { return e.endpoint(ep.ID).State == store.WebhookDisabled })
	time.Sleep(200 * time.Millisecond)
	if got := r.resourceIDs(); !slices.Equal(got, want[:2]) {
		t.Errorf("requests after 410: %v, want %v and nothing more", got, want[:2])
	}
	st := e.endpoint(ep.ID)
	if !strings.Contains(st.StateReason, "410 Gone") || st.LastError != "HTTP 410: answer 1" || st.Attempts != 1 {
		t.Errorf("disabled endpoint: %+v", st)
	}
	gone.Store(false)
	if _, _, err := e.svc.Enable(t.Context(), ep.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the rest", func() bool { return len(r.resourceIDs()) == 4 })
	if got := r.resourceIDs(); !slices.Equal(got, []string{want[0], want[1], want[1], want[2]}) {
		t.Errorf("requests after enable: %v", got)
	}
}

// TestGivesUpAfterSchedule: an endpoint that keeps failing is retried on
// the schedule and then marked failing; enable resumes it with that event.
func TestGivesUpAfterSchedule(t *testing.T) {
	var jittered []time.Duration
	var mu sync.Mutex
	e := newEnv(t, func(c *Config) {
		c.GiveUpAfter = 400 * time.Millisecond
		c.Jitter = func(d time.Duration) time.Duration {
			mu.Lock()
			jittered = append(jittered, d)
			mu.Unlock()
			return d / 2
		}
	})
	var up atomic.Bool
	r := newReceiver(t, func(int) (int, time.Duration) {
		if up.Load() {
			return http.StatusOK, 0
		}
		return http.StatusBadGateway, 0
	})
	ep, _ := e.add(r.srv.URL, nil, nil)
	e.start()
	want := e.createUsers(2)
	waitFor(t, "failing", func() bool { return e.endpoint(ep.ID).State == store.WebhookFailing })
	st := e.endpoint(ep.ID)
	n := len(r.deliveries())
	if n < 5 || !strings.Contains(st.StateReason, fmt.Sprintf("(%d attempts; last: HTTP 502: answer %d)", n, n-1)) || st.Attempts != n {
		t.Errorf("failing after %d requests: %+v", n, st)
	}
	mu.Lock()
	if len(jittered) < 3 || jittered[0] != 20*time.Millisecond || jittered[1] != 50*time.Millisecond || jittered[2] != 50*time.Millisecond {
		t.Errorf("retry ceilings %v, want 20ms, 50ms, then 50ms each time", jittered)
	}
	mu.Unlock()
	// The last attempt is made when the schedule ends, at FailingSince + GiveUpAfter.
	as, _ := e.svc.Attempts(t.Context(), ep.ID, 1)
	if d := as[0].Time.Sub(st.FailingSince); d < 400*time.Millisecond || d > 700*time.Millisecond {
		t.Errorf("final attempt %v after the first failure, want about 400ms", d)
	}
	time.Sleep(150 * time.Millisecond)
	if len(r.deliveries()) != n {
		t.Errorf("a failing endpoint still gets requests")
	}
	up.Store(true)
	if _, _, err := e.svc.Enable(t.Context(), ep.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "delivery after enable", func() bool { return len(dedup(r.resourceIDs())) == 2 })
	if got := dedup(r.resourceIDs()); !slices.Equal(got, want) {
		t.Errorf("after enable: %v", got)
	}
	if st := e.endpoint(ep.ID); st.State != store.WebhookActive || st.StateReason != "" {
		t.Errorf("after enable: %+v", st)
	}
}

// TestRedirectNotFollowed: a 3xx is a failed attempt; its target is never
// asked.
func TestRedirectNotFollowed(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.GiveUpAfter = 100 * time.Millisecond })
	target := newReceiver(t, nil)
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.srv.URL, http.StatusTemporaryRedirect)
	}))
	defer redirect.Close()
	ep, _ := e.add(redirect.URL, nil, nil)
	e.start()
	e.createUsers(1)
	waitFor(t, "failing", func() bool { return e.endpoint(ep.ID).State == store.WebhookFailing })
	if st := e.endpoint(ep.ID); !strings.Contains(st.LastError, "HTTP 307: redirect to \""+target.srv.URL+"\" not followed") {
		t.Errorf("last error %q", st.LastError)
	}
	if n := len(target.deliveries()); n != 0 {
		t.Errorf("the redirect's target got %d requests", n)
	}
}

// TestDownEndpointHoldsBackOnlyItself: an endpoint that hangs does not
// delay another.
func TestDownEndpointHoldsBackOnlyItself(t *testing.T) {
	e := newEnv(t, nil)
	slow := newReceiver(t, func(int) (int, time.Duration) { return http.StatusOK, time.Minute })
	fast := newReceiver(t, nil)
	e.add(slow.srv.URL, nil, nil)
	e.add(fast.srv.URL, nil, nil)
	e.start()
	want := e.createUsers(20)
	start := time.Now()
	waitFor(t, "the healthy endpoint's deliveries", func() bool { return len(fast.deliveries()) == 20 })
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the healthy endpoint took %v for 20 events", d)
	}
	if got := fast.resourceIDs(); !slices.Equal(got, want) {
		t.Errorf("healthy endpoint got %v", got)
	}
	if got := dedup(slow.resourceIDs()); len(got) != 1 {
		t.Errorf("the hanging endpoint got %v, want only its first event, retried", got)
	}
}

// TestFilters: an endpoint gets only its tenants' events of its types,
// and moves past the others.
func TestFilters(t *testing.T) {
	e := newEnv(t, nil)
	bravo, err := e.st.CreateTenant(t.Context(), "bravo")
	if err != nil {
		t.Fatal(err)
	}
	all := newReceiver(t, nil)
	groups := newReceiver(t, nil)
	bravoOnly := newReceiver(t, nil)
	e.add(all.srv.URL, nil, nil)
	epG, _ := e.add(groups.srv.URL, nil, []string{"group.*"})
	e.add(bravoOnly.srv.URL, []string{"bravo"}, []string{"user.created"})
	if _, _, _, err := e.svc.Add(t.Context(), NewEndpoint{URL: all.srv.URL, Tenants: []string{"nope"}}); err == nil || err.Error() != `no tenant named "nope"` {
		t.Errorf("Add with an unknown tenant = %v", err)
	}
	e.start()
	e.createUsers(3)
	now := time.Now()
	if _, err := e.st.CreateUser(t.Context(), bravo.ID, store.User{ID: "b1", Created: now, Modified: now, Attrs: map[string]any{"userName": "b1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.CreateGroup(t.Context(), e.tenant.ID, store.Group{ID: "g1", Created: now, Modified: now, Attrs: map[string]any{"displayName": "G"}}); err != nil {
		t.Fatal(err)
	}
	e.createUsers(2)
	waitFor(t, "deliveries", func() bool {
		return len(all.deliveries()) == 7 && len(groups.deliveries()) == 1 && len(bravoOnly.deliveries()) == 1
	})
	if got := groups.resourceIDs(); !slices.Equal(got, []string{"g1"}) {
		t.Errorf("group endpoint got %v", got)
	}
	if got := bravoOnly.resourceIDs(); !slices.Equal(got, []string{"b1"}) {
		t.Errorf("bravo endpoint got %v", got)
	}
	// The group endpoint moved past the users after its group.
	e.waitCaughtUp(epG.ID)
	if st, _ := e.svc.StatusOf(t.Context(), epG.ID); st.Backlog != 0 || st.Cursor == "" {
		t.Errorf("status of the group endpoint: backlog %d, cursor %q", st.Backlog, st.Cursor)
	}
}

// TestRestartResumes: a service that stops mid-stream and another that
// starts later deliver everything between them, in order, with at most
// the in-flight event twice.
func TestRestartResumes(t *testing.T) {
	e := newEnv(t, nil)
	r := newReceiver(t, func(int) (int, time.Duration) { return http.StatusOK, 5 * time.Millisecond })
	e.add(r.srv.URL, nil, nil)
	e.start()
	want := e.createUsers(30)
	waitFor(t, "some deliveries", func() bool { return len(r.deliveries()) >= 5 })
	e.stop()
	stoppedAt := len(r.deliveries())
	want = append(want, e.createUsers(10)...)
	cfg := e.svc.cfg
	cfg.Instance = "" // a new process
	svc2, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc2
	e.start()
	waitFor(t, "every event", func() bool { return len(dedup(r.resourceIDs())) == 40 })
	got := r.resourceIDs()
	if !slices.Equal(dedup(got), want) || len(got) > 41 {
		t.Errorf("stopped after %d; delivered %v, want each of %v in order, at most one twice", stoppedAt, got, want)
	}
}

// TestReplay: replaying from a cursor or a time delivers the events after
// it again, in order, and resumes a failing endpoint.
func TestReplay(t *testing.T) {
	e := newEnv(t, nil)
	r := newReceiver(t, nil)
	ep, _ := e.add(r.srv.URL, nil, nil)
	e.start()
	first := e.createUsers(3)
	waitFor(t, "3", func() bool { return len(r.deliveries()) == 3 })
	mid := time.Now()
	time.Sleep(5 * time.Millisecond)
	second := e.createUsers(2)
	waitFor(t, "5", func() bool { return len(r.deliveries()) == 5 })

	cursor := r.deliveries()[0].event.Cursor
	if _, err := e.svc.ReplayFrom(t.Context(), ep.ID, cursor); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "replay from a cursor", func() bool { return len(r.deliveries()) == 9 })
	if got := r.resourceIDs()[5:]; !slices.Equal(got, append(first[1:], second...)) {
		t.Errorf("replay from the first event's cursor delivered %v", got)
	}
	if _, err := e.svc.ReplaySince(t.Context(), ep.ID, mid); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "replay since a time", func() bool { return len(r.deliveries()) == 11 })
	if got := r.resourceIDs()[9:]; !slices.Equal(got, second) {
		t.Errorf("replay since %v delivered %v, want %v", mid, got, second)
	}
	for _, tc := range []struct{ cursor, errHas string }{
		{"nope", "is not a cursor of this event log"},
		{events.Cursor(store.EventPosition{Seq: 1 << 40}), "past the end of the event log"},
	} {
		if _, err := e.svc.ReplayFrom(t.Context(), ep.ID, tc.cursor); err == nil || !strings.Contains(err.Error(), tc.errHas) {
			t.Errorf("ReplayFrom(%q) = %v, want %q", tc.cursor, err, tc.errHas)
		}
	}
	if _, err := e.svc.ReplayFrom(t.Context(), "wh_000000000000000000000000", cursor); err == nil || !strings.Contains(err.Error(), "no such webhook endpoint") {
		t.Errorf("ReplayFrom of an unknown endpoint = %v", err)
	}
}

// TestRotateSecret: after a rotation both secrets sign, and the new one
// alone once the overlap has passed.
func TestRotateSecret(t *testing.T) {
	var clock atomic.Int64
	e := newEnv(t, func(c *Config) {
		c.Now = func() time.Time { return time.Now().Add(time.Duration(clock.Load())) }
	})
	r := newReceiver(t, nil)
	ep, old := e.add(r.srv.URL, nil, nil)
	_, cur, err := e.svc.RotateSecret(t.Context(), ep.ID)
	if err != nil || cur == old || !strings.HasPrefix(cur, "whsec_") {
		t.Fatalf("RotateSecret = %q, %v", cur, err)
	}
	e.start()
	e.createUsers(1)
	waitFor(t, "1", func() bool { return len(r.deliveries()) == 1 })
	d := r.deliveries()[0]
	if sigs := strings.Split(d.header.Get("webhook-signature"), " "); len(sigs) != 2 {
		t.Errorf("webhook-signature during the overlap: %q, want 2", sigs)
	}
	for _, s := range []string{old, cur} {
		wh, _ := standardwebhooks.NewWebhook(s)
		if err := wh.VerifyIgnoringTimestamp(d.body, d.header); err != nil {
			t.Errorf("reference Verify with one of the secrets: %v", err)
		}
	}
	clock.Store(int64(RotationOverlap + time.Minute))
	e.createUsers(1)
	waitFor(t, "2", func() bool { return len(r.deliveries()) == 2 })
	d = r.deliveries()[1]
	if sigs := strings.Split(d.header.Get("webhook-signature"), " "); len(sigs) != 1 {
		t.Errorf("webhook-signature after the overlap: %q, want 1", sigs)
	}
	wh, _ := standardwebhooks.NewWebhook(cur)
	if err := wh.VerifyIgnoringTimestamp(d.body, d.header); err != nil {
		t.Errorf("reference Verify with the new secret: %v", err)
	}
	wh, _ = standardwebhooks.NewWebhook(old)
	if err := wh.VerifyIgnoringTimestamp(d.body, d.header); err == nil {
		t.Errorf("the old secret still verifies after the overlap")
	}
}

// TestSendTest: a webhook.test event, signed like the rest, not in the
// log, and the endpoint's state unchanged.
func TestSendTest(t *testing.T) {
	e := newEnv(t, nil)
	r := newReceiver(t, func(n int) (int, time.Duration) {
		if n == 1 {
			return http.StatusForbidden, 0
		}
		return http.StatusAccepted, 0
	})
	ep, secret := e.add(r.srv.URL, nil, nil)
	actor := store.Actor{Kind: store.ActorOperator, ID: "ops@example.com"}
	res, err := e.svc.SendTest(t.Context(), ep.ID, actor)
	if err != nil || res.Status != 202 || res.Error != "" || !strings.HasPrefix(res.EventID, "evt_") {
		t.Fatalf("SendTest = %+v, %v", res, err)
	}
	d := r.deliveries()[0]
	wh, _ := standardwebhooks.NewWebhook(secret)
	if err := wh.Verify(d.body, d.header); err != nil {
		t.Errorf("reference Verify of the test event: %v", err)
	}
	if d.event.Type != "webhook.test" || d.event.ID != res.EventID || d.event.Cursor != "" || d.event.Resource.ID != ep.ID ||
		d.event.Actor != actor || string(d.event.Data) != `{"test":true}` || d.header.Get("webhook-id") != res.EventID {
		t.Errorf("test event: %s", d.body)
	}
	res, err = e.svc.SendTest(t.Context(), ep.ID, actor)
	if err != nil || res.Status != 403 || res.Error != "HTTP 403: answer 1" {
		t.Errorf("SendTest to a refusing receiver = %+v, %v", res, err)
	}
	if head, _ := e.st.EventsHead(t.Context()); head != ep.Position {
		t.Errorf("the test event went into the log")
	}
	if st := e.endpoint(ep.ID); st.Attempts != 0 || st.LastError != "" {
		t.Errorf("the test changed the endpoint's state: %+v", st)
	}
}

// TestHTTPS: deliveries over TLS.
func TestHTTPS(t *testing.T) {
	var got atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got.Add(1) }))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes below
	srv.StartTLS()
	defer srv.Close()
	e := newEnv(t, func(c *Config) { c.RootCAs = srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs })
	e.add(srv.URL, nil, nil) // https://127.0.0.1:PORT, loopback allowed
	e.start()
	e.createUsers(2)
	waitFor(t, "2 over TLS", func() bool { return got.Load() == 2 })

	// An untrusted certificate is a failed attempt, not a delivery.
	e2 := newEnv(t, func(c *Config) { c.Timeout, c.Lease = 3*time.Second, 5*time.Second }) // a handshake under -race is slow
	ep, _ := e2.add(srv.URL, nil, nil)
	e2.start()
	e2.createUsers(1)
	waitFor(t, "an error", func() bool { return e2.endpoint(ep.ID).LastError != "" })
	if le := e2.endpoint(ep.ID).LastError; !strings.Contains(le, "certificate") {
		t.Errorf("last error %q, want a certificate error", le)
	}
}

// TestSecretsNeverInClear: the signing secret is stored only sealed, and
// never reaches the log.
func TestSecretsNeverInClear(t *testing.T) {
	e := newEnv(t, nil)
	r := newReceiver(t, func(n int) (int, time.Duration) { return 500 + n%2, 0 })
	ep, secret := e.add(r.srv.URL, nil, nil)
	_, rotated, err := e.svc.RotateSecret(t.Context(), ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	e.start()
	e.createUsers(1)
	waitFor(t, "a few attempts", func() bool { return len(r.deliveries()) >= 3 })
	e.stop()
	st := e.endpoint(ep.ID)
	for _, s := range []string{secret, rotated} {
		key := strings.TrimPrefix(s, "whsec_")
		if bytes.Contains(st.Secret, []byte(key)) || bytes.Contains(st.PrevSecret, []byte(key)) {
			t.Errorf("a secret is stored in clear")
		}
		if strings.Contains(e.log.String(), key) {
			t.Errorf("a secret reached the log:\n%s", e.log)
		}
	}
	// A sealed secret is bound to its endpoint.
	if _, err := e.svc.seal.open(t.Context(), "wh_other", st.Secret); err == nil {
		t.Errorf("a sealed secret opens for another endpoint")
	}
	if got, err := e.svc.seal.open(t.Context(), ep.ID, st.Secret); err != nil || got != rotated {
		t.Errorf("open = %q, %v", got, err)
	}
	if !strings.Contains(e.log.String(), "webhooks: delivery failed") {
		t.Errorf("failures are not logged:\n%s", e.log)
	}
}

func TestAddRefuses(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.AllowInsecure = false })
	for _, tc := range []struct{ url, errHas string }{
		{"http://127.0.0.1:9/", "need --webhooks-allow-insecure"},
		{"https://169.254.169.254/", "link-local"},
		{"https://localhost/", "loopback"},
		{"https://10.0.0.1/", "private"},
	} {
		if _, _, _, err := e.svc.Add(t.Context(), NewEndpoint{URL: tc.url}); err == nil || !strings.Contains(err.Error(), tc.errHas) {
			t.Errorf("Add(%s) = %v, want %q", tc.url, err, tc.errHas)
		}
	}
	if eps, _ := e.svc.List(t.Context()); len(eps) != 0 {
		t.Errorf("refused endpoints were stored: %+v", eps)
	}
	_, _, warn, err := e.svc.Add(t.Context(), NewEndpoint{URL: "https://hooks.invalid/in"})
	if err != nil || !strings.Contains(warn, "does not resolve") {
		t.Errorf("Add of an unresolvable host = %q, %v; want a warning", warn, err)
	}
}

// TestInsecureEndpointWithoutFlag: an http:// endpoint added in
// development fails with a clear error where the flag is not given.
func TestInsecureEndpointWithoutFlag(t *testing.T) {
	e := newEnv(t, nil)
	r := newReceiver(t, nil)
	ep, _ := e.add(r.srv.URL, nil, nil)
	svc, err := New(func() Config { c := e.svc.cfg; c.AllowInsecure = false; c.Instance = ""; return c }())
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	e.start()
	e.createUsers(1)
	waitFor(t, "an error", func() bool { return e.endpoint(ep.ID).LastError != "" })
	if le := e.endpoint(ep.ID).LastError; !strings.Contains(le, "need --webhooks-allow-insecure") {
		t.Errorf("last error %q", le)
	}
	if n := len(r.deliveries()); n != 0 {
		t.Errorf("delivered %d over http:// without the flag", n)
	}
}

// TestRetentionOvertakesFailingEndpoint: when retention deletes events an
// endpoint has not received, it is marked failing, and enable resumes it
// from the oldest retained event, saying so.
func TestRetentionOvertakesFailingEndpoint(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Schedule = []time.Duration{time.Hour} })
	var up atomic.Bool
	r := newReceiver(t, func(int) (int, time.Duration) {
		if up.Load() {
			return http.StatusOK, 0
		}
		return http.StatusInternalServerError, 0
	})
	e.createUsers(1) // so that the endpoint starts after an event
	ep, _ := e.add(r.srv.URL, nil, nil)
	e.start()
	e.createUsers(2) // the first fails; the retry is up to an hour away
	waitFor(t, "a failed attempt", func() bool { return e.endpoint(ep.ID).Attempts == 1 })
	// Every event passes the retention period, and a new one follows.
	if n, err := e.st.PurgeEvents(t.Context(), time.Now().Add(time.Hour)); err != nil || n != 3 {
		t.Fatalf("PurgeEvents = %d, %v", n, err)
	}
	later := e.createUsers(1)
	if _, err := e.svc.RetryNow(t.Context(), ep.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "failing", func() bool { return e.endpoint(ep.ID).State == store.WebhookFailing })
	if st := e.endpoint(ep.ID); !strings.Contains(st.StateReason, "deleted by the retention period") {
		t.Errorf("failing because %q", st.StateReason)
	}
	up.Store(true)
	_, note, err := e.svc.Enable(t.Context(), ep.ID)
	if err != nil || !strings.Contains(note, "resumes from the oldest retained event") {
		t.Fatalf("Enable = %q, %v", note, err)
	}
	waitFor(t, "the retained event", func() bool { ids := r.resourceIDs(); return ids[len(ids)-1] == later[0] })
	e.waitCaughtUp(ep.ID)
}
