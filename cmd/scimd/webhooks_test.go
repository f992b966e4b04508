package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/scimd/scimd/internal/events"
	"github.com/scimd/scimd/internal/store"
	"github.com/scimd/scimd/internal/store/postgres"
	"github.com/scimd/scimd/internal/store/postgres/pgtest"
)

// hookReceiver is a webhook receiver for the end-to-end tests: it
// verifies every delivery with the specification's reference library and
// records the events in the order they arrive.
type hookReceiver struct {
	t   testing.TB
	srv *httptest.Server
	wh  atomic.Pointer[standardwebhooks.Webhook]

	mu       sync.Mutex
	events   []events.JSON
	arrived  map[string]time.Time // resource id of user.created → first arrival
	notify   chan struct{}
	inflight atomic.Int32
	maxIn    atomic.Int32
	delay    time.Duration
}

func newHookReceiver(t testing.TB, delay time.Duration) *hookReceiver {
	r := &hookReceiver{t: t, arrived: map[string]time.Time{}, notify: make(chan struct{}, 1), delay: delay}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if n := r.inflight.Add(1); n > r.maxIn.Load() {
			r.maxIn.Store(n)
		}
		defer r.inflight.Add(-1)
		body, _ := io.ReadAll(req.Body)
		if wh := r.wh.Load(); wh == nil || wh.Verify(body, req.Header) != nil {
			r.t.Errorf("receiver: a delivery the reference library does not verify: %s %v", body, req.Header)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var e events.JSON
		if err := json.Unmarshal(body, &e); err != nil {
			r.t.Errorf("receiver: %v", err)
		}
		time.Sleep(r.delay)
		r.mu.Lock()
		r.events = append(r.events, e)
		if _, ok := r.arrived[e.Resource.ID]; !ok && e.Type == store.EventUserCreated {
			r.arrived[e.Resource.ID] = time.Now()
		}
		r.mu.Unlock()
		select {
		case r.notify <- struct{}{}:
		default:
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *hookReceiver) setSecret(secret string) {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		r.t.Fatal(err)
	}
	r.wh.Store(wh)
}

func (r *hookReceiver) ids() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, len(r.events))
	for i, e := range r.events {
		out[i] = e.ID
	}
	return out
}

func (r *hookReceiver) arrival(resourceID string) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.arrived[resourceID]
	return t, ok
}

// addHook runs "webhooks add --json" and returns the id and secret.
func addHook(t testing.TB, env map[string]string, args ...string) (id, secret string) {
	t.Helper()
	var out, errOut bytes.Buffer // stdout only: warnings go to stderr
	if err := run(context.Background(), append([]string{"webhooks", "add", "--json"}, args...), envFunc(env), strings.NewReader(""), &out, &errOut); err != nil {
		t.Fatalf("webhooks add: %v\n%s", err, errOut.String())
	}
	var got map[string]string
	if err := json.Unmarshal(out.Bytes(), &got); err != nil || len(got) != 2 || got["id"] == "" || !strings.HasPrefix(got["secret"], "whsec_") {
		t.Fatalf("webhooks add --json printed %q (%v); want exactly {\"id\": ..., \"secret\": \"whsec_...\"}", out.String(), err)
	}
	return got["id"], got["secret"]
}

func listHooks(t testing.TB, env map[string]string) []webhookJSON {
	t.Helper()
	var out []webhookJSON
	if err := json.Unmarshal([]byte(mustCLI(t, env, "webhooks", "list", "--json")), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestWebhooksCLI(t *testing.T) {
	env := newEnv(t)
	newTenant(t, env, "acme")
	newTenant(t, env, "bravo")

	for _, tc := range []struct {
		args   []string
		errHas string
		usage  bool
	}{
		{[]string{"webhooks"}, "expected add, list", true},
		{[]string{"webhooks", "frob"}, "unknown subcommand", true},
		{[]string{"webhooks", "add"}, "--url URL is required", true},
		{[]string{"webhooks", "add", "--url", "http://127.0.0.1:9/in"}, "need --webhooks-allow-insecure", false},
		{[]string{"webhooks", "add", "--url", "http://hooks.example.com/in", "--webhooks-allow-insecure"}, "http:// is allowed only to a loopback host", false},
		{[]string{"webhooks", "add", "--url", "https://169.254.169.254/latest"}, "link-local address", false},
		{[]string{"webhooks", "add", "--url", "https://192.168.1.10/in"}, "private address", false},
		{[]string{"webhooks", "add", "--url", "https://hooks.example.com/in", "--tenants", "acme,nope"}, `no tenant named "nope"`, false},
		{[]string{"webhooks", "add", "--url", "https://hooks.example.com/in", "--types", "user.craeted"}, "matches no event type", true},
		{[]string{"webhooks", "enable"}, "expected one endpoint ID", true},
		{[]string{"webhooks", "disable", "wh_000000000000000000000000"}, "no such webhook endpoint", false},
		{[]string{"webhooks", "remove", "nope"}, "no such webhook endpoint", false},
		{[]string{"webhooks", "replay", "wh_000000000000000000000000"}, "give either --from CURSOR or --since TIME", true},
	} {
		out, err := runCLI(t, env, tc.args...)
		var ue usageError
		if err == nil || !strings.Contains(err.Error(), tc.errHas) || errors.As(err, &ue) != tc.usage {
			t.Errorf("scimd %s = %v (usage error: %v), want an error containing %q (usage error: %v)\n%s",
				strings.Join(tc.args, " "), err, errors.As(err, &ue), tc.errHas, tc.usage, out)
		}
	}
	if hooks := listHooks(t, env); len(hooks) != 0 {
		t.Fatalf("refused endpoints were stored: %+v", hooks)
	}

	id, secret := addHook(t, env, "--url", "https://hooks.example.com/scim-events", "--tenants", "acme,bravo", "--types", "user.*, group.member_*")
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || len(key) != 32 {
		t.Errorf("secret %q: want the base64 of 32 random bytes after whsec_", secret)
	}
	env["SCIMD_WEBHOOKS_ALLOW_INSECURE"] = "1"
	local, _ := addHook(t, env, "http://127.0.0.1:9/in") // positional URL; the flag from the environment
	delete(env, "SCIMD_WEBHOOKS_ALLOW_INSECURE")

	hooks := listHooks(t, env)
	if len(hooks) != 2 || hooks[0].ID != id || hooks[1].ID != local {
		t.Fatalf("list = %+v", hooks)
	}
	h := hooks[0]
	if h.URL != "https://hooks.example.com/scim-events" || !slices.Equal(h.Tenants, []string{"acme", "bravo"}) ||
		!slices.Equal(h.Types, []string{"user.*", "group.member_*"}) || h.State != "active" || h.Behind != 0 || h.Cursor == "" {
		t.Errorf("list entry = %+v", h)
	}
	text := mustCLI(t, env, "webhooks", "list")
	for _, s := range []string{"ID", "POSITION", "BEHIND", "LAST ERROR", id, "acme,bravo", "user.*,group.member_*", "active", "never"} {
		if !strings.Contains(text, s) {
			t.Errorf("webhooks list does not show %q:\n%s", s, text)
		}
	}
	// Events written now are the endpoint's backlog (no serve delivers them).
	for i := range 3 {
		mustCLI(t, env, "tenants", "create", fmt.Sprintf("t%d", i))
	}
	if out := mustCLI(t, env, "keys", "create", "--tenant", "acme", "--name", "k"); out == "" {
		t.Fatal("no key")
	}
	if h := listHooks(t, env); h[1].Behind != 1 || h[0].Behind != 0 {
		t.Errorf("behind = %d (all tenants and types), %d (acme, bravo: user.*, group.member_*); want 1 (key.created) and 0", h[1].Behind, h[0].Behind)
	}

	if out := mustCLI(t, env, "webhooks", "disable", id); out != "webhook "+id+" disabled\n" {
		t.Errorf("disable printed %q", out)
	}
	if h := listHooks(t, env); h[0].State != "disabled" || h[0].StateReason != "disabled by the operator" {
		t.Errorf("after disable: %+v", h[0])
	}
	if !strings.Contains(mustCLI(t, env, "webhooks", "list"), id+" is disabled: disabled by the operator") {
		t.Errorf("list does not say why the endpoint is disabled")
	}
	mustCLI(t, env, "webhooks", "enable", id)
	if h := listHooks(t, env); h[0].State != "active" {
		t.Errorf("after enable: %+v", h[0])
	}

	out := mustCLI(t, env, "webhooks", "rotate-secret", id, "--json")
	var rot map[string]string
	if err := json.Unmarshal([]byte(out), &rot); err != nil || rot["id"] != id || !strings.HasPrefix(rot["secret"], "whsec_") || rot["secret"] == secret {
		t.Errorf("rotate-secret --json = %q", out)
	}
	if out := mustCLI(t, env, "webhooks", "rotate-secret", id); !strings.Contains(out, "the old one also signs until") || !strings.Contains(out, "shown once") {
		t.Errorf("rotate-secret printed %q", out)
	}

	// Replays.
	if out := mustCLI(t, env, "webhooks", "replay", local, "--since", "1h"); !strings.Contains(out, "replays from the oldest retained event") {
		t.Errorf("replay --since 1h printed %q", out)
	}
	if h := listHooks(t, env); h[1].Behind < 4 || h[1].Cursor != "" {
		t.Errorf("after replay --since 1h: %+v; want every event behind", h[1])
	}
	from := events.Cursor(store.EventPosition{Seq: 1})
	if out := mustCLI(t, env, "webhooks", "replay", local, "--from", from); !strings.Contains(out, "replays from cursor "+from) {
		t.Errorf("replay --from printed %q", out)
	}
	for _, tc := range []struct{ args, errHas string }{
		{"--from nope", "is not a cursor of this event log"},
		{"--since yesterday", "neither an RFC 3339 time"},
		{"--from " + from + " --since 1h", "give either"},
	} {
		if _, err := runCLI(t, env, append([]string{"webhooks", "replay", local}, strings.Fields(tc.args)...)...); err == nil || !strings.Contains(err.Error(), tc.errHas) {
			t.Errorf("replay %s = %v, want %q", tc.args, err, tc.errHas)
		}
	}

	// The secret is nowhere in the database file in clear.
	path := strings.TrimPrefix(env["SCIMD_DATABASE"], "sqlite:")
	for _, f := range []string{path, path + "-wal"} {
		raw, _ := os.ReadFile(f)
		if strings.Contains(string(raw), strings.TrimPrefix(secret, "whsec_")) || strings.Contains(string(raw), strings.TrimPrefix(rot["secret"], "whsec_")) {
			t.Errorf("%s holds a webhook secret in clear", f)
		}
	}

	if out := mustCLI(t, env, "webhooks", "remove", id); out != "webhook "+id+" removed\n" {
		t.Errorf("remove printed %q", out)
	}
	if h := listHooks(t, env); len(h) != 1 || h[0].ID != local {
		t.Errorf("after remove: %+v", h)
	}
	if _, err := runCLI(t, env, "webhooks", "remove", id); err == nil || !strings.Contains(err.Error(), "no such webhook endpoint") {
		t.Errorf("remove again = %v", err)
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2026-01-02T03:04:05Z", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), true},
		{"2026-01-02T03:04:05.5+01:00", time.Date(2026, 1, 2, 2, 4, 5, 5e8, time.UTC), true},
		{"24h", now.Add(-24 * time.Hour), true},
		{"90m", now.Add(-90 * time.Minute), true},
		{"-1h", time.Time{}, false},
		{"yesterday", time.Time{}, false},
		{"", time.Time{}, false},
	} {
		got, err := parseSince(tc.in, now)
		if (err == nil) != tc.ok || tc.ok && !got.Equal(tc.want) {
			t.Errorf("parseSince(%q) = %v, %v; want %v (ok %v)", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func FuzzParseSince(f *testing.F) {
	f.Add("2026-01-02T03:04:05Z")
	f.Add("24h")
	f.Fuzz(func(t *testing.T, s string) {
		now := time.Now()
		got, err := parseSince(s, now)
		if err == nil && got.IsZero() && s != "0001-01-01T00:00:00Z" {
			t.Fatalf("parseSince(%q) = the zero time", s)
		}
	})
}

// TestServeDeliversWebhooks: scimd serve delivers the events of SCIM
// writes to a webhook, signed (verified with the reference library),
// in order.
func TestServeDeliversWebhooks(t *testing.T) {
	env := newEnv(t)
	key := newTenant(t, env, "acme")
	recv := newHookReceiver(t, 0)
	_, secret := addHook(t, env, "--url", recv.srv.URL+"/hooks", "--webhooks-allow-insecure")
	recv.setSecret(secret)
	addr, _ := startServe(t, env, "--webhooks-allow-insecure")
	var want []string
	for i := range 5 {
		st, _, body := scimDo(t, "POST", addr+"/t/acme/scim/v2/Users", key.Basic, "", userBody(fmt.Sprintf("hook%d@example.com", i)))
		if st != http.StatusCreated {
			t.Fatalf("create: %d %s", st, body)
		}
		var u struct{ ID string }
		json.Unmarshal([]byte(body), &u)
		want = append(want, u.ID)
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(recv.ids()) < 5 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	recv.mu.Lock()
	var got []string
	for _, e := range recv.events {
		got = append(got, e.Resource.ID)
	}
	recv.mu.Unlock()
	if !slices.Equal(got, want) {
		t.Errorf("received %v, want %v", got, want)
	}
	hooks := listHooks(t, env)
	if len(hooks) != 1 || hooks[0].Behind != 0 || hooks[0].LastSuccess == "" {
		t.Errorf("after delivery: %+v", hooks)
	}
}

// TestWebhooksKill9Postgres: two scimd instances on one PostgreSQL, a
// webhook, users written through SCIM on both; the instance delivering
// for the webhook is killed with SIGKILL mid-stream. The other takes the
// lease over when it expires, and the receiver sees every event, in log
// order, with at most the one in flight at the kill twice, and never two
// deliveries at once.
func TestWebhooksKill9Postgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	dsn := pgtest.NewDatabase(t)
	env := map[string]string{"SCIMD_DATABASE": dsn}
	key := newTenant(t, env, "acme")
	recv := newHookReceiver(t, 3*time.Millisecond)
	hookID, secret := addHook(t, env, "--url", recv.srv.URL, "--webhooks-allow-insecure")
	recv.setSecret(secret)
	start := listHooks(t, env)[0].Cursor

	t.Setenv("SCIMD_WEBHOOKS_ALLOW_INSECURE", "1") // the instances inherit it
	insts := startInstances(t, 2, dsn)
	dead := -1
	var deadMu sync.Mutex
	alive := func(i int) int {
		deadMu.Lock()
		defer deadMu.Unlock()
		if i == dead {
			return 1 - i
		}
		return i
	}

	var acked atomic.Int64
	var ackedIDs sync.Map
	var wg sync.WaitGroup
	const writers, each = 4, 50
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				body := userBody(fmt.Sprintf("k9-%d-%d@example.com", w, i))
				for try := 0; try < 5; try++ {
					inst := alive((w + i) % 2)
					st, resp, _ := tryJSON("POST", insts[inst].url+"/t/acme/scim/v2/Users", "Basic "+key.Basic, body)
					if st == http.StatusCreated {
						var u struct{ ID string }
						json.Unmarshal([]byte(resp), &u)
						ackedIDs.Store(u.ID, true)
						acked.Add(1)
						break
					}
					if st == http.StatusConflict && try > 0 {
						break // created by the killed instance, its answer lost
					}
					time.Sleep(20 * time.Millisecond) // the instance was killed: the next try goes to the other
				}
			}
		})
	}
	// Kill the lease holder once it has delivered some events.
	deadline := time.Now().Add(30 * time.Second)
	for len(recv.ids()) < 30 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var holder string
	if err := conn.QueryRow(ctx, "SELECT coalesce(lease_holder, '') FROM webhook_endpoints WHERE id = $1", hookID).Scan(&holder); err != nil {
		t.Fatal(err)
	}
	victim := -1
	for i, in := range insts {
		if strings.Contains(holder, "-"+strconv.Itoa(in.cmd.Process.Pid)+"-") {
			victim = i
		}
	}
	if victim < 0 {
		t.Fatalf("lease holder %q is neither instance (pids %d, %d)", holder, insts[0].cmd.Process.Pid, insts[1].cmd.Process.Pid)
	}
	deadMu.Lock()
	dead = victim
	deadMu.Unlock()
	before := len(recv.ids())
	if err := insts[victim].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	insts[victim].cmd.Wait()
	wg.Wait()
	if n := acked.Load(); n < writers*each-writers {
		t.Fatalf("%d of %d creates acknowledged", n, writers*each)
	}

	// The log, from the webhook's first position: what must arrive.
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p, _ := events.ParseCursor(start)
	var want []string
	for {
		want = want[:0]
		created := 0
		for after := &p; ; {
			page, err := db.ReadEvents(ctx, store.EventQuery{After: after, Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Events) == 0 {
				break
			}
			for _, e := range page.Events {
				want = append(want, e.ID)
				if _, ok := ackedIDs.Load(e.Resource.ID); ok && e.Type == store.EventUserCreated {
					created++
				}
			}
			after = page.Next
		}
		if int64(created) == acked.Load() {
			break // every acknowledged create's event is visible, and so is all before it
		}
		if time.Since(killed) > time.Minute {
			t.Fatalf("only %d of the %d acknowledged creates are in the log", created, acked.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
	deadline = time.Now().Add(60 * time.Second)
	var resumed time.Duration
	for len(slices.Compact(recv.ids())) < len(want) && time.Now().Before(deadline) {
		if resumed == 0 && len(recv.ids()) > before+1 {
			resumed = time.Since(killed)
		}
		time.Sleep(10 * time.Millisecond)
	}
	got := recv.ids()
	if !slices.Equal(slices.Compact(slices.Clone(got)), want) {
		t.Fatalf("received %d deliveries (%d distinct in order), want the %d events of the log in order\nstderr of the survivor:\n%s",
			len(got), len(slices.Compact(slices.Clone(got))), len(want), insts[1-victim].stderr)
	}
	if dups := len(got) - len(want); dups > 1 {
		t.Errorf("%d duplicate deliveries; only the one in flight at the kill may come twice", dups)
	}
	if m := recv.maxIn.Load(); m != 1 {
		t.Errorf("the receiver saw %d deliveries at once", m)
	}
	t.Logf("killed the lease holder after %d deliveries; the other instance resumed %v later (lease 15 s); %d events, %d deliveries",
		before, resumed.Round(time.Millisecond), len(want), len(got))
}

// BenchmarkWebhookLatency measures the time from a SCIM create (the
// request sent) to the receipt of its user.created webhook, on SQLite
// through a real scimd serve, one create at a time, and reports the
// median and the 99th percentile:
//
//	go test -run '^$' -bench WebhookLatency -benchtime 1000x ./cmd/scimd
func BenchmarkWebhookLatency(b *testing.B) {
	env := newEnv(b)
	key := newTenant(b, env, "acme")
	recv := newHookReceiver(b, 0)
	_, secret := addHook(b, env, "--url", recv.srv.URL, "--webhooks-allow-insecure")
	recv.setSecret(secret)
	addr, _ := startServe(b, env, "--webhooks-allow-insecure")
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		st, _, body := scimDo(b, "POST", addr+"/t/acme/scim/v2/Users", key.Basic, "", userBody(fmt.Sprintf("lat%d@example.com", i)))
		if st != http.StatusCreated {
			b.Fatalf("create: %d %s", st, body)
		}
		var u struct{ ID string }
		json.Unmarshal([]byte(body), &u)
		deadline := time.Now().Add(10 * time.Second)
		for {
			if at, ok := recv.arrival(u.ID); ok {
				lat = append(lat, at.Sub(t0))
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("user %s's webhook did not arrive", u.ID)
			}
			select {
			case <-recv.notify:
			case <-time.After(time.Millisecond):
			}
		}
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) / float64(time.Millisecond) }
	b.ReportMetric(pct(0.5), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
