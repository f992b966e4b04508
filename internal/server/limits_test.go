package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimd/scimd/internal/auth"
	"github.com/scimd/scimd/internal/limits"
	"github.com/scimd/scimd/internal/server"
	"github.com/scimd/scimd/internal/store"
	"github.com/scimd/scimd/internal/store/sqlite"
)

// blockingStore holds the ListUsers calls of one tenant until released,
// as a slow query would; with wait set, they end only with their context.
type blockingStore struct {
	store.Store
	tenant  int64
	entered chan struct{}
	release chan struct{}
}

func (b *blockingStore) ListUsers(ctx context.Context, tenantID int64, q store.Query) (store.UserPage, error) {
	if tenantID == b.tenant {
		b.entered <- struct{}{}
		select {
		case <-b.release:
		case <-ctx.Done():
			return store.UserPage{}, ctx.Err()
		}
	}
	return b.Store.ListUsers(ctx, tenantID, q)
}

func (b *blockingStore) Group(ctx context.Context, tenantID int64, id string, members bool) (store.Group, error) {
	if tenantID == b.tenant && members {
		b.entered <- struct{}{}
		select {
		case <-b.release:
		case <-ctx.Done():
			return store.Group{}, ctx.Err()
		}
	}
	return b.Store.Group(ctx, tenantID, id, members)
}

type limitsEnv struct {
	srv          *httptest.Server
	st           *blockingStore
	keyA, keyB   string
	acme, globex store.Tenant
}

func newLimitsEnv(t *testing.T, cfg server.Config) *limitsEnv {
	t.Helper()
	ctx := t.Context()
	db, err := sqlite.Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &limitsEnv{}
	key := func(tn store.Tenant) string {
		id, secret := auth.NewKey()
		if err := db.CreateAPIKey(ctx, store.APIKey{ID: id, TenantID: tn.ID, Name: "k " + id, Scope: store.ScopeWrite, SecretHash: auth.HashSecret(secret)}); err != nil {
			t.Fatal(err)
		}
		return "Basic " + auth.Basic(id, secret)
	}
	for _, name := range []string{"acme", "globex"} {
		if _, err := db.CreateTenant(ctx, name); err != nil {
			t.Fatal(err)
		}
		tn, err := db.UpdateTenant(ctx, name, func(t *store.Tenant) error { t.ProvisioningActive = true; return nil })
		if err != nil {
			t.Fatal(err)
		}
		if name == "acme" {
			e.acme, e.keyA = tn, key(tn)
		} else {
			e.globex, e.keyB = tn, key(tn)
		}
	}
	e.st = &blockingStore{Store: db, tenant: e.acme.ID, entered: make(chan struct{}, 100), release: make(chan struct{})}
	cfg.Store, cfg.Logger = e.st, slog.New(slog.NewTextHandler(io.Discard, nil))
	e.srv = httptest.NewServer(server.New(cfg))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *limitsEnv) get(t *testing.T, tenant, authz, path string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", e.srv.URL+"/t/"+tenant+"/scim/v2"+path, nil)
	req.Header.Set("Authorization", authz)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return 0, nil, ""
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}

// TestTenantBulkhead: with tenant acme's requests held inside the store,
// another tenant is served at once, and acme's request beyond its limit
// waits, then gets 429 with Retry-After; once acme's requests finish, its
// next one is served.
func TestTenantBulkhead(t *testing.T) {
	e := newLimitsEnv(t, server.Config{Limits: limits.New(limits.Config{TenantConcurrency: 2, QueueWait: 100 * time.Millisecond})})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			if st, _, body := e.get(t, "acme", e.keyA, "/Users"); st != 200 {
				t.Errorf("held request: %d %s", st, body)
			}
		})
		<-e.st.entered
	}
	st, h, body := e.get(t, "acme", e.keyA, "/Users")
	if st != http.StatusTooManyRequests || h.Get("Retry-After") != "1" ||
		!strings.Contains(body, "too many requests of this tenant at once") || !strings.Contains(body, `"status":"429"`) {
		t.Errorf("acme's third concurrent request: %d, Retry-After %q, %s; want 429", st, h.Get("Retry-After"), body)
	}
	if st, _, body := e.get(t, "globex", e.keyB, "/Users"); st != 200 {
		t.Errorf("globex while acme is held: %d %s", st, body)
	}
	close(e.st.release)
	wg.Wait()
	if st, _, body := e.get(t, "acme", e.keyA, "/Users"); st != 200 {
		t.Errorf("acme after its requests finished: %d %s", st, body)
	}
}

// TestKeyRateLimit: a key past its rate gets 429 with Retry-After; a
// tenant's own rate limit replaces the default; another key is not held.
func TestKeyRateLimit(t *testing.T) {
	e := newLimitsEnv(t, server.Config{Limits: limits.New(limits.Config{KeyRate: 1, KeyBurst: 3})})
	close(e.st.release)
	for i := range 3 {
		if st, _, _ := e.get(t, "acme", e.keyA, "/ServiceProviderConfig"); st != 200 {
			t.Fatalf("request %d of the burst: %d", i, st)
		}
	}
	st, h, body := e.get(t, "acme", e.keyA, "/ServiceProviderConfig")
	if st != 429 || h.Get("Retry-After") == "" || !strings.Contains(body, "too many requests with this API key") {
		t.Errorf("past the rate: %d, Retry-After %q, %s", st, h.Get("Retry-After"), body)
	}
	if st, _, _ := e.get(t, "globex", e.keyB, "/ServiceProviderConfig"); st != 200 {
		t.Errorf("another tenant's key: %d", st)
	}
	if _, err := e.st.UpdateTenant(t.Context(), "acme", func(t *store.Tenant) error { t.RateLimit = 1000; return nil }); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // the emptied bucket refills at the new rate: 50 tokens
	for i := range 20 {
		if st, _, _ := e.get(t, "acme", e.keyA, "/ServiceProviderConfig"); st != 200 {
			t.Fatalf("request %d at the tenant's own rate of 1000/s: %d", i, st)
		}
	}
}

// TestQueryTimeout: a read past the time limit is stopped and answered
// 503 with a detail that says what to do.
func TestQueryTimeout(t *testing.T) {
	e := newLimitsEnv(t, server.Config{QueryTimeout: 100 * time.Millisecond})
	st, _, body := e.get(t, "acme", e.keyA, "/Users")
	if st != http.StatusServiceUnavailable || !strings.Contains(body, "took too long and was stopped; narrow the filter") {
		t.Errorf("slow read: %d %s; want 503", st, body)
	}
}

// TestFilterCost: filters beyond the cost limits are refused, at the
// limits accepted.
func TestFilterCost(t *testing.T) {
	e := newLimitsEnv(t, server.Config{})
	close(e.st.release)
	terms := func(n int, op string) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = `title+` + op + `+%22x` + strings.Repeat("y", i) + `%22`
		}
		return strings.Join(parts, "+or+")
	}
	for _, tc := range []struct {
		filter string
		status int
		detail string
	}{
		{terms(20, "eq"), 200, ""},
		{terms(21, "eq"), 400, "the filter has 21 comparisons; at most 20 are accepted"},
		{terms(4, "co"), 200, ""},
		{terms(5, "sw"), 400, "the filter has 5 substring comparisons (co, sw, ew), which scan the tenant's resources; at most 4 are accepted"},
	} {
		st, _, body := e.get(t, "globex", e.keyB, "/Users?filter="+tc.filter)
		if st != tc.status || !strings.Contains(body, tc.detail) || tc.status == 400 && !strings.Contains(body, `"scimType":"invalidFilter"`) {
			t.Errorf("%.60s…: %d %s; want %d %q", tc.filter, st, body, tc.status, tc.detail)
		}
	}
}

// TestHeavyReads: reads that return a group's members have fewer slots of
// their own; other reads of the tenant go on meanwhile.
func TestHeavyReads(t *testing.T) {
	e := newLimitsEnv(t, server.Config{Limits: limits.New(limits.Config{TenantHeavy: 1, QueueWait: 100 * time.Millisecond})})
	at := time.Now()
	if _, err := e.st.CreateGroup(t.Context(), e.acme.ID, store.Group{ID: "g-1", Created: at, Modified: at, Attrs: map[string]any{"displayName": "One"}}); err != nil {
		t.Fatal(err)
	}
	done := make(chan int)
	go func() {
		st, _, _ := e.get(t, "acme", e.keyA, "/Groups/g-1")
		done <- st
	}()
	<-e.st.entered
	if st, h, body := e.get(t, "acme", e.keyA, "/Groups/g-1"); st != 429 || h.Get("Retry-After") != "1" {
		t.Errorf("a second read with members: %d %s; want 429", st, body)
	}
	if st, _, body := e.get(t, "acme", e.keyA, "/Groups/g-1?excludedAttributes=members"); st != 200 {
		t.Errorf("a read without members: %d %s", st, body)
	}
	close(e.st.release)
	if st := <-done; st != 200 {
		t.Errorf("the held read: %d", st)
	}
}
