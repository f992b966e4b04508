package server_test

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

	"github.com/prometheus/client_golang/prometheus"

	"github.com/scimd/scimd/internal/auth"
	"github.com/scimd/scimd/internal/metrics"
	"github.com/scimd/scimd/internal/server"
	"github.com/scimd/scimd/internal/store"
	"github.com/scimd/scimd/internal/store/postgres"
	"github.com/scimd/scimd/internal/store/postgres/pgtest"
	"github.com/scimd/scimd/internal/store/sqlite"
	"github.com/scimd/scimd/internal/testenv"
)

// env is a running server with one activated tenant, "acme", and a
// read-write key.
type env struct {
	t      testing.TB
	store  store.Store
	srv    *httptest.Server
	tenant store.Tenant
	base   string // the tenant's SCIM base URL
	authz  string // Authorization header value for the key
	keyID  string
	secret string
	reg    *prometheus.Registry // the server's metrics
}

func newEnv(t testing.TB) *env { return newEnvOn(t, "sqlite") }

// backends are the storage backends the protocol tests run on: SQLite
// always, PostgreSQL when SCIM_TEST_POSTGRES_DSN names a server.
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
		t.Run(b, func(t *testing.T) { test(t, newEnvOn(t, b)) })
	}
}

// newEnvOn is newEnv on the named backend.
func newEnvOn(t testing.TB, backend string) *env {
	t.Helper()
	var st store.Store
	var err error
	switch backend {
	case "sqlite":
		st, err = sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "scimd.db"))
	case "postgres":
		st, err = postgres.Open(context.Background(), pgtest.NewDatabase(t))
	default:
		t.Fatalf("unknown backend %q", backend)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{t: t, store: st}
	e.tenant = e.newTenant("acme", true)
	e.keyID, e.secret = e.newKey(e.tenant, store.ScopeWrite, time.Time{})
	e.authz = "Basic " + auth.Basic(e.keyID, e.secret)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	e.reg = prometheus.NewRegistry()
	e.srv = httptest.NewServer(server.New(server.Config{Store: st, Logger: logger, BaseDomain: "scim.example", Metrics: metrics.New(e.reg)}))
	t.Cleanup(e.srv.Close)
	e.base = e.srv.URL + "/t/acme/scim/v2"
	return e
}

func (e *env) newTenant(name string, active bool) store.Tenant {
	e.t.Helper()
	ctx := context.Background()
	t, err := e.store.CreateTenant(ctx, name)
	if err != nil {
		e.t.Fatal(err)
	}
	t, err = e.store.UpdateTenant(ctx, name, func(t *store.Tenant) error { t.ProvisioningActive = active; return nil })
	if err != nil {
		e.t.Fatal(err)
	}
	return t
}

func (e *env) newKey(t store.Tenant, scope string, expires time.Time) (id, secret string) {
	e.t.Helper()
	id, secret = auth.NewKey()
	err := e.store.CreateAPIKey(context.Background(), store.APIKey{ID: id, TenantID: t.ID, Name: "test " + id, Scope: scope,
		SecretHash: auth.HashSecret(secret), Created: time.Now().UTC(), Expires: expires})
	if err != nil {
		e.t.Fatal(err)
	}
	return id, secret
}

func (e *env) setTenant(fn func(*store.Tenant)) {
	e.t.Helper()
	t, err := e.store.UpdateTenant(context.Background(), e.tenant.Name, func(t *store.Tenant) error { fn(t); return nil })
	if err != nil {
		e.t.Fatal(err)
	}
	e.tenant = t
}

// response is a finished HTTP exchange.
type response struct {
	status int
	header http.Header
	body   []byte
	json   map[string]any
}

// do sends a request to the tenant's SCIM base; path starts with "/".
func (e *env) do(method, path, body string, headers ...string) response {
	e.t.Helper()
	return e.doURL(method, e.base+path, body, append([]string{"Authorization", e.authz}, headers...)...)
}

func (e *env) doURL(method, url, body string, headers ...string) response {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json; charset=utf-8")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			continue
		}
		if strings.EqualFold(headers[i], "Host") {
			req.Host = headers[i+1]
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	r := response{status: resp.StatusCode, header: resp.Header, body: b}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &r.json); err != nil {
			e.t.Fatalf("%s %s: response is not a JSON object: %v\n%s", method, url, err, b)
		}
	}
	return r
}

// createUser POSTs a user and returns its id.
func (e *env) createUser(body string) string {
	e.t.Helper()
	r := e.do("POST", "/Users", body)
	if r.status != http.StatusCreated {
		e.t.Fatalf("create user: %d %s", r.status, r.body)
	}
	return r.json["id"].(string)
}

func userJSON(userName string) string {
	b, _ := json.Marshal(map[string]any{
		"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName": userName,
		"name":     map[string]any{"givenName": "Given", "familyName": "Family"},
		"emails":   []any{map[string]any{"value": userName, "type": "work", "primary": true}},
		"active":   true,
	})
	return string(b)
}

// wantError checks a SCIM error response.
func wantError(t testing.TB, r response, status int, scimType, detailFragment string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/scim+json") {
		t.Errorf("Content-Type = %q, want application/scim+json", ct)
	}
	schemas, _ := r.json["schemas"].([]any)
	if len(schemas) != 1 || schemas[0] != "urn:ietf:params:scim:api:messages:2.0:Error" {
		t.Errorf("schemas = %v, want the Error URN", r.json["schemas"])
	}
	if got, _ := r.json["status"].(string); got != itoa(status) {
		t.Errorf("status field = %#v, want the string %q", r.json["status"], itoa(status))
	}
	if got, _ := r.json["scimType"].(string); got != scimType {
		t.Errorf("scimType = %q, want %q", got, scimType)
	}
	if d, _ := r.json["detail"].(string); d == "" || !strings.Contains(d, detailFragment) {
		t.Errorf("detail = %q, want it to contain %q", d, detailFragment)
	}
}

// counter is the value of the server's counter name with the given label
// (0 when it has no such series).
func (e *env) counter(name, label, value string) float64 {
	e.t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
