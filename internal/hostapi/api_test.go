package hostapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimd/scimd/internal/auth"
)

func TestAuthentication(t *testing.T) { forEachBackend(t, testAuthentication) }

func testAuthentication(t *testing.T, e *env) {
	tenantKey := strings.TrimPrefix(e.scimAuthz["acme"], "Basic ")
	_, tenantSecret := auth.NewKey()
	otherID, _ := auth.NewAppKey()
	revokedID, revoked := e.newAppKey(true)
	if err := e.inst.st.RevokeAppKey(context.Background(), revokedID, time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	// The right id with another secret.
	wrong := "scimdapp_" + e.allID + "_" + strings.Repeat("a", 40)
	const required = "authentication required: send an application key as Authorization: Bearer KEY (scimd appkeys create)"
	const notApp = "invalid credentials: not an application key (they begin with scimdapp_; a tenant's SCIM key is not one)"
	const unknown = "invalid credentials: unknown application key"
	const invalid = `Bearer error="invalid_token"`
	for _, tc := range []struct {
		name, authz, challenge, msg string
	}{
		{"none", "", "Bearer", required},
		{"basic", "Basic " + e.all, invalid, "invalid credentials: send an application key as Authorization: Bearer KEY"},
		{"no scheme", e.all, invalid, "invalid credentials: send an application key as Authorization: Bearer KEY"},
		{"tenant SCIM key", "Bearer " + tenantKey, invalid, notApp},
		{"tenant SCIM secret", "Bearer " + tenantSecret, invalid, notApp},
		{"unknown key", "Bearer scimdapp_" + otherID + "_" + strings.Repeat("b", 40), invalid, unknown},
		{"wrong secret", "Bearer " + wrong, invalid, unknown},
		{"revoked", "Bearer " + revoked, invalid, "invalid credentials: this application key has been revoked"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.authz != "" {
				h.Set("Authorization", tc.authz)
			}
			for _, path := range []string{"/api/v1/events", "/api/v1/tenants/acme/users/x", "/api/v1/nowhere"} {
				r := e.inst.do(t, "GET", path, h, "")
				wantJSON(t, r, http.StatusUnauthorized, errBody("unauthorized", tc.msg))
				if got := r.header.Get("WWW-Authenticate"); got != tc.challenge {
					t.Errorf("%s: WWW-Authenticate = %q, want %q", path, got, tc.challenge)
				}
			}
		})
	}
	t.Run("good", func(t *testing.T) {
		for _, authz := range []string{"Bearer " + e.all, "bearer " + e.all, "Bearer  " + e.all + " "} {
			r := e.inst.do(t, "GET", "/api/v1/tenants/acme/users/x", http.Header{"Authorization": {authz}}, "")
			wantJSON(t, r, http.StatusOK, `{"id":"x","userName":null,"active":false,"archived":false,"exists":false,"groups":[]}`)
			if r.header.Get("WWW-Authenticate") != "" {
				t.Errorf("WWW-Authenticate on a 200")
			}
		}
	})
	t.Run("openapi.json is public", func(t *testing.T) {
		r := e.inst.get(t, "/api/v1/openapi.json", "")
		if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/json" || r.body != string(openAPIDoc) {
			t.Errorf("GET /api/v1/openapi.json = %d %q, %d bytes", r.status, r.header.Get("Content-Type"), len(r.body))
		}
	})
}

// TestRevokedOnEveryInstance: a key revoked through one instance is
// refused by another on its next request.
func TestRevokedOnEveryInstance(t *testing.T) { forEachBackend(t, testRevokedOnEveryInstance) }

func testRevokedOnEveryInstance(t *testing.T, e *env) {
	other := e.newInstance(Config{})
	if r := other.get(t, "/api/v1/events?limit=1", e.all); r.status != http.StatusOK {
		t.Fatalf("before revocation: %d %s", r.status, r.body)
	}
	if err := e.inst.st.RevokeAppKey(context.Background(), e.allID, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, in := range []*instance{other, e.inst} {
		wantJSON(t, in.get(t, "/api/v1/events?limit=1", e.all), http.StatusUnauthorized,
			errBody("unauthorized", "invalid credentials: this application key has been revoked"))
	}
	// The other key is untouched.
	if r := other.get(t, "/api/v1/events?limit=1", e.limited); r.status != http.StatusOK {
		t.Errorf("another key after the revocation: %d %s", r.status, r.body)
	}
}

// TestLastUsed: a request records the key's use (in the background, at
// most once a minute).
func TestLastUsed(t *testing.T) {
	e := newEnv(t, "sqlite")
	if r := e.inst.get(t, "/api/v1/events", e.limited); r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		k, err := e.inst.st.AppKey(context.Background(), e.limitedID)
		if err != nil {
			t.Fatal(err)
		}
		if !k.LastUsed.IsZero() {
			if since := time.Since(k.LastUsed); since < 0 || since > time.Minute {
				t.Errorf("LastUsed = %v", k.LastUsed)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("LastUsed not recorded within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if k, _ := e.inst.st.AppKey(context.Background(), e.allID); !k.LastUsed.IsZero() {
		t.Errorf("an unused key has LastUsed %v", k.LastUsed)
	}
}

func TestRouting(t *testing.T) {
	e := newEnv(t, "sqlite")
	bearer := http.Header{"Authorization": {"Bearer " + e.all}}
	for _, tc := range []struct {
		method, path string
		status       int
		body         string
		allow        string
	}{
		{"GET", "/api/v1/nowhere", 404, errBody("not_found", "no such endpoint: see /api/v1/openapi.json"), ""},
		{"GET", "/api/v1/", 404, errBody("not_found", "no such endpoint: see /api/v1/openapi.json"), ""},
		{"GET", "/api/v1/tenants/acme", 404, errBody("not_found", "no such endpoint: see /api/v1/openapi.json"), ""},
		{"POST", "/api/v1/events", 405, errBody("method_not_allowed", "the API is read-only: use GET"), "GET, HEAD"},
		{"DELETE", "/api/v1/tenants/acme/users/x", 405, errBody("method_not_allowed", "the API is read-only: use GET"), "GET, HEAD"},
		{"PUT", "/api/v1/nowhere", 405, errBody("method_not_allowed", "the API is read-only: use GET"), "GET, HEAD"},
	} {
		r := e.inst.do(t, tc.method, tc.path, bearer, "")
		wantJSON(t, r, tc.status, tc.body)
		if got := r.header.Get("Allow"); got != tc.allow {
			t.Errorf("%s %s: Allow = %q, want %q", tc.method, tc.path, got, tc.allow)
		}
	}
	// Without a key, nothing but the document is shown.
	r := e.inst.do(t, "POST", "/api/v1/events", nil, "")
	if r.status != http.StatusUnauthorized {
		t.Errorf("POST without a key: %d", r.status)
	}
	// The SCIM server still answers beside the API.
	e.scim(e.inst, "acme", "GET", "/Users", "", http.StatusOK)
}

// TestTenantAccess: a key limited to some tenants gets 403 for the
// others, whether they exist or not, and never sees their events.
func TestTenantAccess(t *testing.T) { forEachBackend(t, testTenantAccess) }

func testTenantAccess(t *testing.T, e *env) {
	ann := e.createUser("acme", "ann", true)
	e.createUser("bravo", "bob", true)
	e.settle()
	forbidden := func(tenant string) string {
		return errBody("forbidden", "this application key may not read tenant \""+tenant+"\"")
	}
	noTenant := func(tenant string) string { return errBody("not_found", "no tenant named \""+tenant+"\"") }
	for _, tc := range []struct {
		key, path string
		status    int
		body      string
	}{
		{e.limited, "/api/v1/tenants/bravo/users/x", 403, forbidden("bravo")},
		{e.limited, "/api/v1/tenants/bravo/users", 403, forbidden("bravo")},
		{e.limited, "/api/v1/tenants/bravo/users?userName=bob", 403, forbidden("bravo")},
		{e.limited, "/api/v1/events?tenant=bravo", 403, forbidden("bravo")},
		{e.limited, "/api/v1/tenants/nope/users/x", 403, forbidden("nope")},
		{e.limited, "/api/v1/events?tenant=nope", 403, forbidden("nope")},
		{e.limited, "/api/v1/tenants/Not%20A%20Name/users", 403, forbidden("Not A Name")},
		{e.all, "/api/v1/tenants/nope/users/x", 404, noTenant("nope")},
		{e.all, "/api/v1/tenants/nope/users", 404, noTenant("nope")},
		{e.all, "/api/v1/events?tenant=nope", 404, noTenant("nope")},
		{e.all, "/api/v1/tenants/Not%20A%20Name/users", 404, noTenant("Not A Name")},
	} {
		wantJSON(t, e.inst.get(t, tc.path, tc.key), tc.status, tc.body)
	}
	tenantsOf := func(key, query string) []string {
		r := e.inst.get(t, "/api/v1/events?limit=1000"+query, key)
		if r.status != http.StatusOK {
			t.Fatalf("events%s: %d %s", query, r.status, r.body)
		}
		var out []string
		for _, ev := range r.json(t)["events"].([]any) {
			if n := ev.(map[string]any)["tenant"].(string); len(out) == 0 || out[len(out)-1] != n {
				out = append(out, n)
			}
		}
		return out
	}
	// The env made acme's events first, then bravo's, then the users.
	for _, tc := range []struct {
		key, query string
		want       []string
	}{
		{e.all, "", []string{"acme", "bravo", "acme", "bravo"}},
		{e.all, "&tenant=bravo", []string{"bravo"}},
		{e.limited, "", []string{"acme"}},
		{e.limited, "&tenant=acme", []string{"acme"}},
	} {
		if got := tenantsOf(tc.key, tc.query); strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("events%s with key %s: tenants %v, want %v", tc.query, tc.key[:12], got, tc.want)
		}
	}
	if r := e.inst.get(t, "/api/v1/tenants/acme/users/"+ann, e.limited); r.status != http.StatusOK || r.json(t)["exists"] != true {
		t.Errorf("limited key on its tenant: %d %s", r.status, r.body)
	}
}

// TestInternalError: a failure of the database is a 500 that says only
// "internal error"; the detail is in the log.
func TestInternalError(t *testing.T) {
	e := newEnv(t, "sqlite")
	var log lockedBuffer
	api := New(Config{Store: e.inst.st, Host: e.inst.st, Logger: slog.New(slog.NewTextHandler(&log, nil))})
	srv := httptest.NewServer(api)
	defer srv.Close()
	in := &instance{st: e.inst.st, api: api, srv: srv}
	if r := in.get(t, "/api/v1/events", e.all); r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	e.inst.st.Close()
	wantJSON(t, in.get(t, "/api/v1/tenants/acme/users/x", e.all), http.StatusInternalServerError, errBody("internal", "internal error"))
	if !strings.Contains(log.String(), "api: internal error") || strings.Contains(log.String(), e.all) {
		t.Errorf("log:\n%s", log.String())
	}
}

// lockedBuffer is a strings.Builder safe for concurrent writers (a
// background touch may log).
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
