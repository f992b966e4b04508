package hostapi

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimd/scimd/internal/auth"
	"github.com/scimd/scimd/internal/server"
	"github.com/scimd/scimd/internal/store"
	"github.com/scimd/scimd/internal/store/postgres"
	"github.com/scimd/scimd/internal/store/postgres/pgtest"
	"github.com/scimd/scimd/internal/store/sqlite"
	"github.com/scimd/scimd/internal/testenv"
)

// backend is what both stores are.
type backend interface {
	store.Store
	store.HostStore
	store.ConsoleStore
}

// backends are the stores the tests run on: SQLite always, PostgreSQL
// when SCIM_TEST_POSTGRES_DSN names a server (and always under CI=true).
func backends(t testing.TB) []string {
	if os.Getenv(pgtest.EnvVar) == "" {
		if testenv.CI() {
			t.Fatal("CI=true, so the PostgreSQL runs may not be skipped: " + pgtest.SkipMessage)
		}
		t.Log(pgtest.SkipMessage)
		return []string{"sqlite"}
	}
	return []string{"sqlite", "postgres"}
}

// forEachBackend runs test on a fresh env of every backend.
func forEachBackend(t *testing.T, test func(*testing.T, *env)) {
	for _, b := range backends(t) {
		t.Run(b, func(t *testing.T) { test(t, newEnv(t, b)) })
	}
}

// instance is one scimd process: a store, the API and the SCIM server
// behind one HTTP server, as scimd serve mounts them.
type instance struct {
	st  backend
	api *API
	srv *httptest.Server
}

// env is a database with two tenants, acme and bravo, with provisioning
// active and a SCIM key each, and two application keys: all (every
// tenant) and limited (acme only); inst is the first instance on it.
type env struct {
	t           testing.TB
	backend     string
	dsn         string // the database, for more instances
	inst        *instance
	acme, bravo store.Tenant
	all         string // the secret of the key that reads every tenant
	allID       string
	limited     string // the secret of the key that reads acme only
	limitedID   string
	scimAuthz   map[string]string // tenant name → Authorization of its SCIM key
}

func newEnv(t testing.TB, backend string) *env {
	t.Helper()
	e := &env{t: t, backend: backend, scimAuthz: map[string]string{}}
	switch backend {
	case "sqlite":
		e.dsn = filepath.Join(t.TempDir(), "scimd.db")
	case "postgres":
		e.dsn = pgtest.NewDatabase(t)
	default:
		t.Fatalf("unknown backend %q", backend)
	}
	e.inst = e.newInstance(Config{})
	ctx := context.Background()
	st := e.inst.st
	for _, name := range []string{"acme", "bravo"} {
		if _, err := st.CreateTenant(ctx, name); err != nil {
			t.Fatal(err)
		}
		tn, err := st.UpdateTenant(ctx, name, func(t *store.Tenant) error { t.ProvisioningActive = true; return nil })
		if err != nil {
			t.Fatal(err)
		}
		id, secret := auth.NewKey()
		if err := st.CreateAPIKey(ctx, store.APIKey{ID: id, TenantID: tn.ID, Name: "idp " + id, Scope: store.ScopeWrite,
			SecretHash: auth.HashSecret(secret), Created: time.Now().UTC()}); err != nil {
			t.Fatal(err)
		}
		e.scimAuthz[name] = "Basic " + auth.Basic(id, secret)
		if name == "acme" {
			e.acme = tn
		} else {
			e.bravo = tn
		}
	}
	e.allID, e.all = e.newAppKey(true)
	e.limitedID, e.limited = e.newAppKey(false, e.acme.ID)
	return e
}

// newInstance opens another store on the env's database and serves it.
func (e *env) newInstance(cfg Config) *instance {
	e.t.Helper()
	var st backend
	var err error
	switch e.backend {
	case "sqlite":
		st, err = sqlite.Open(context.Background(), e.dsn)
	case "postgres":
		st, err = postgres.Open(context.Background(), e.dsn)
	}
	if err != nil {
		e.t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.Store, cfg.Host, cfg.Logger = st, st, logger
	api := New(cfg)
	mux := http.NewServeMux()
	mux.Handle(Prefix, api)
	mux.Handle("/", server.New(server.Config{Store: st, Logger: logger}))
	srv := httptest.NewServer(mux)
	e.t.Cleanup(func() { srv.Close(); st.Close() })
	return &instance{st: st, api: api, srv: srv}
}

// newAppKey stores an application key and returns its id and secret.
func (e *env) newAppKey(all bool, tenants ...int64) (id, secret string) {
	e.t.Helper()
	id, secret = auth.NewAppKey()
	err := e.inst.st.CreateAppKey(context.Background(), store.AppKey{ID: id, Name: "product", SecretHash: auth.HashSecret(secret),
		AllTenants: all, TenantIDs: tenants, CreatedBy: "test", Created: time.Now().UTC()})
	if err != nil {
		e.t.Fatal(err)
	}
	return id, secret
}

// response is a finished HTTP exchange.
type response struct {
	status int
	header http.Header
	body   string
}

// json decodes the body.
func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, r.body)
	}
	return m
}

// get sends GET path (below the server's root) with key as the Bearer
// token ("" for none).
func (in *instance) get(t testing.TB, path, key string) response {
	t.Helper()
	h := http.Header{}
	if key != "" {
		h.Set("Authorization", "Bearer "+key)
	}
	return in.do(t, "GET", path, h, "")
}

func (in *instance) do(t testing.TB, method, path string, h http.Header, body string) response {
	t.Helper()
	req, err := http.NewRequest(method, in.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := in.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// scim sends a SCIM request to a tenant through the instance and returns
// the response, failing the test unless its status is want.
func (e *env) scim(in *instance, tenant, method, path, body string, want int) map[string]any {
	e.t.Helper()
	h := http.Header{"Authorization": {e.scimAuthz[tenant]}}
	if body != "" {
		h.Set("Content-Type", "application/scim+json")
	}
	r := in.do(e.t, method, "/t/"+tenant+"/scim/v2"+path, h, body)
	if r.status != want {
		e.t.Fatalf("%s %s on %s: status %d, want %d\n%s", method, path, tenant, r.status, want, r.body)
	}
	if r.body == "" {
		return nil
	}
	return r.json(e.t)
}

// createUser creates a user through SCIM and returns its id.
func (e *env) createUser(tenant, userName string, active bool) string {
	e.t.Helper()
	b, _ := json.Marshal(map[string]any{
		"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName": userName, "active": active,
		"name":   map[string]any{"givenName": "Given", "familyName": "Family"},
		"emails": []any{map[string]any{"value": userName + "@example.com", "type": "work", "primary": true}},
	})
	return e.scim(e.inst, tenant, "POST", "/Users", string(b), http.StatusCreated)["id"].(string)
}

// createGroup creates a group through SCIM with the given members and
// returns its id.
func (e *env) createGroup(tenant, name string, members ...string) string {
	e.t.Helper()
	ms := []any{}
	for _, m := range members {
		ms = append(ms, map[string]any{"value": m})
	}
	b, _ := json.Marshal(map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": name, "members": ms})
	return e.scim(e.inst, tenant, "POST", "/Groups", string(b), http.StatusCreated)["id"].(string)
}

// patch sends one PatchOp operation to a resource through SCIM.
func (e *env) patch(in *instance, tenant, path, op, attr string, value any) {
	e.t.Helper()
	if r := e.tryPatch(in, tenant, path, op, attr, value); r.status != http.StatusOK && r.status != http.StatusNoContent {
		e.t.Fatalf("PATCH %s on %s: status %d\n%s", path, tenant, r.status, r.body)
	}
}

// tryPatch is patch that returns the response, for goroutines (which may
// not fail the test).
func (e *env) tryPatch(in *instance, tenant, path, op, attr string, value any) response {
	o := map[string]any{"op": op, "value": value}
	if attr != "" {
		o["path"] = attr
	}
	b, _ := json.Marshal(map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": []any{o}})
	req, err := http.NewRequest("PATCH", in.srv.URL+"/t/"+tenant+"/scim/v2"+path, strings.NewReader(string(b)))
	if err != nil {
		return response{body: err.Error()}
	}
	req.Header.Set("Authorization", e.scimAuthz[tenant])
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := in.srv.Client().Do(req)
	if err != nil {
		return response{body: err.Error()}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

// settle waits until every committed event is visible (on a PostgreSQL
// server that other tests share, their transactions hold the feed back
// for a moment).
func (e *env) settle() {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		n, err := e.inst.st.EventsPending(context.Background())
		if err != nil {
			e.t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%d events still pending after 20s", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// wantJSON checks a response's status, JSON content type and body,
// compared as JSON values.
func wantJSON(t testing.TB, r response, status int, body string) {
	t.Helper()
	if r.status != status {
		t.Errorf("status = %d, want %d; body %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	var got, want any
	if err := json.Unmarshal([]byte(r.body), &got); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, r.body)
	}
	if err := json.Unmarshal([]byte(body), &want); err != nil {
		t.Fatalf("bad want %s: %v", body, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("body mismatch (-want +got):\n%s\ngot: %s", diff, r.body)
	}
}

// errBody is the JSON of an error.
func errBody(code, msg string) string {
	b, _ := json.Marshal(map[string]any{"error": map[string]string{"code": code, "message": msg}})
	return string(b)
}
