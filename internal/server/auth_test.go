package server_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/scimd/scimd/internal/auth"
	"github.com/scimd/scimd/internal/store"
)

func TestAuthentication(t *testing.T) { forEachBackend(t, testAuthentication) }

func testAuthentication(t *testing.T, e *env) {
	other := e.newTenant("other", true)
	otherID, otherSecret := e.newKey(other, store.ScopeWrite, time.Time{})
	readID, readSecret := e.newKey(e.tenant, store.ScopeRead, time.Time{})
	expID, expSecret := e.newKey(e.tenant, store.ScopeWrite, time.Now().Add(-time.Minute))
	revID, revSecret := e.newKey(e.tenant, store.ScopeWrite, time.Time{})
	if err := e.store.RevokeAPIKey(context.Background(), e.tenant.ID, revID, time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	b64 := auth.Basic(e.keyID, e.secret)
	unknownID, unknownSecret := auth.NewKey() // a key never stored

	tests := []struct {
		name       string
		authz      string
		method     string
		body       string
		wantStatus int
		wantDetail string
		wantReason string // of scimd_auth_failures_total
	}{
		{"basic", "Basic " + b64, "GET", "", 200, "", ""},
		{"basic lower-case scheme", "basic " + b64, "GET", "", 200, "", ""},
		{"bearer base64", "Bearer " + b64, "GET", "", 200, "", ""},
		{"bearer raw key", "Bearer " + e.secret, "GET", "", 200, "", ""},
		{"raw key without scheme (Okta header mode)", e.secret, "GET", "", 200, "", ""},
		{"raw base64 without scheme", b64, "GET", "", 200, "", ""},
		{"no header", "", "GET", "", 401, "authentication required", auth.FailMissing},
		{"garbage", "non-token", "GET", "", 401, "invalid credentials", auth.FailMalformed},
		{"unknown User ID", "Basic " + auth.Basic(unknownID, unknownSecret), "GET", "", 401, "invalid credentials", auth.FailUnknownKey},
		{"wrong secret", "Basic " + auth.Basic(e.keyID, wrongSecret(e.secret)), "GET", "", 401, "invalid credentials", auth.FailWrongSecret},
		{"id and secret mismatch", "Basic " + base64.StdEncoding.EncodeToString([]byte(readID+":"+e.secret)), "GET", "", 401, "invalid credentials", auth.FailMalformed},
		{"other tenant's key", "Basic " + auth.Basic(otherID, otherSecret), "GET", "", 401, "invalid credentials", auth.FailWrongTenant},
		{"expired key", "Basic " + auth.Basic(expID, expSecret), "GET", "", 401, "expired", auth.FailExpired},
		{"revoked key", "Basic " + auth.Basic(revID, revSecret), "GET", "", 401, "revoked", auth.FailRevoked},
		{"unknown scheme", "Digest " + b64, "GET", "", 401, "invalid credentials", auth.FailMalformed},
		{"read key reads", "Basic " + auth.Basic(readID, readSecret), "GET", "", 200, "", ""},
		{"read key cannot write", "Basic " + auth.Basic(readID, readSecret), "POST", userJSON("r@example.com"), 403, "read-only", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := "/Users?startIndex=1&count=2"
			if tc.method == "POST" {
				path = "/Users"
			}
			before := e.counter("scimd_auth_failures_total", "reason", tc.wantReason)
			r := e.doURL(tc.method, e.base+path, tc.body, "Authorization", tc.authz)
			if tc.wantReason != "" {
				if got := e.counter("scimd_auth_failures_total", "reason", tc.wantReason) - before; got != 1 {
					t.Errorf("scimd_auth_failures_total{reason=%q} went up by %v, want 1", tc.wantReason, got)
				}
			}
			if tc.wantStatus == 200 {
				if r.status != 200 {
					t.Fatalf("status %d, body %s", r.status, r.body)
				}
				return
			}
			wantError(t, r, tc.wantStatus, "", tc.wantDetail)
			if tc.wantStatus == 401 && r.header.Get("WWW-Authenticate") == "" {
				t.Errorf("401 without WWW-Authenticate")
			}
		})
	}
	// A read-only key's refused write stored nothing.
	if r := e.do("GET", `/Users?filter=userName+eq+"r@example.com"`, ""); r.json["totalResults"] != 0.0 {
		t.Errorf("refused write stored a user: %s", r.body)
	}
}

func TestTenantGates(t *testing.T) {
	e := newEnv(t)
	t.Run("provisioning not activated", func(t *testing.T) {
		e.setTenant(func(t *store.Tenant) { t.ProvisioningActive = false })
		defer e.setTenant(func(t *store.Tenant) { t.ProvisioningActive = true })
		r := e.do("GET", "/Users", "")
		wantError(t, r, http.StatusForbidden, "", "contact support")
		if !strings.Contains(r.json["detail"].(string), "not activated") {
			t.Errorf("detail %q does not say provisioning is not activated", r.json["detail"])
		}
	})
	t.Run("API keys option off", func(t *testing.T) {
		e.setTenant(func(t *store.Tenant) { t.APIKeysEnabled = false })
		defer e.setTenant(func(t *store.Tenant) { t.APIKeysEnabled = true })
		before := e.counter("scimd_auth_failures_total", "reason", auth.FailKeysDisabled)
		wantError(t, e.do("GET", "/Users", ""), http.StatusUnauthorized, "", "API Keys option")
		if got := e.counter("scimd_auth_failures_total", "reason", auth.FailKeysDisabled) - before; got != 1 {
			t.Errorf("scimd_auth_failures_total{reason=keys_disabled} went up by %v, want 1", got)
		}
	})
	// An unknown tenant answers as a known one does to the same
	// credentials, so that tenant names cannot be probed.
	wrong := e.secret[:len(e.secret)-1] + "a"
	if strings.HasSuffix(e.secret, "a") {
		wrong = e.secret[:len(e.secret)-1] + "b"
	}
	t.Run("unknown tenant", func(t *testing.T) {
		before := e.counter("scimd_auth_failures_total", "reason", "unknown_tenant")
		defer func() {
			if got := e.counter("scimd_auth_failures_total", "reason", "unknown_tenant") - before; got != 4 {
				t.Errorf("scimd_auth_failures_total{reason=unknown_tenant} went up by %v, want 4", got)
			}
		}()
		for _, authz := range []string{e.authz, "", "Bearer nonsense", "Basic " + auth.Basic("scimd_x_y", "z")} {
			unknown := e.doURL("GET", e.srv.URL+"/t/nobody/scim/v2/Users", "", "Authorization", authz)
			known := e.doURL("GET", e.base+"/Users", "", "Authorization", strings.Replace(authz, e.secret, "wrong", 1))
			if authz == e.authz {
				known = e.doURL("GET", e.base+"/Users", "", "Authorization", "Basic "+auth.Basic(e.keyID, wrong))
			}
			wantError(t, unknown, http.StatusUnauthorized, "", "")
			if unknown.json["detail"] != known.json["detail"] {
				t.Errorf("Authorization %q: unknown tenant says %q, a known one %q", authz, unknown.json["detail"], known.json["detail"])
			}
		}
	})
	t.Run("API keys option off, without a key of the tenant", func(t *testing.T) {
		e.setTenant(func(t *store.Tenant) { t.APIKeysEnabled = false })
		defer e.setTenant(func(t *store.Tenant) { t.APIKeysEnabled = true })
		r := e.doURL("GET", e.base+"/Users", "", "Authorization", "Basic "+auth.Basic(e.keyID, wrong))
		wantError(t, r, http.StatusUnauthorized, "", "unknown User ID or wrong API key")
	})
	t.Run("revocation applies on the next request", func(t *testing.T) {
		id, secret := e.newKey(e.tenant, store.ScopeWrite, time.Time{})
		h := "Basic " + auth.Basic(id, secret)
		if r := e.doURL("GET", e.base+"/Users", "", "Authorization", h); r.status != 200 {
			t.Fatalf("fresh key: %d", r.status)
		}
		if err := e.store.RevokeAPIKey(context.Background(), e.tenant.ID, id, time.Now().UTC()); err != nil {
			t.Fatal(err)
		}
		wantError(t, e.doURL("GET", e.base+"/Users", "", "Authorization", h), 401, "", "revoked")
	})
}

func TestRouting(t *testing.T) {
	e := newEnv(t)
	id := e.createUser(userJSON("route@example.com"))
	tests := []struct {
		name, url, host string
		want            int
	}{
		{"path v2", e.srv.URL + "/t/acme/scim/v2/Users/" + id, "", 200},
		{"path v1", e.srv.URL + "/t/acme/scim/v1/Users/" + id, "", 200},
		{"host v2", e.srv.URL + "/scim/v2/Users/" + id, "acme.scim.example", 200},
		{"host v1 with port", e.srv.URL + "/scim/v1/Users/" + id, "acme.scim.example:443", 200},
		{"host of another domain", e.srv.URL + "/scim/v2/Users/" + id, "acme.elsewhere.example", 404},
		{"unknown version", e.srv.URL + "/t/acme/scim/v3/Users/" + id, "", 404},
		{"unknown endpoint", e.srv.URL + "/t/acme/scim/v2/Widgets", "", 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.doURL("GET", tc.url, "", "Authorization", e.authz, "Host", tc.host)
			if r.status != tc.want {
				t.Fatalf("status %d, want %d: %s", r.status, tc.want, r.body)
			}
			if tc.want == 200 {
				loc := r.json["meta"].(map[string]any)["location"].(string)
				if !strings.HasSuffix(loc, "/Users/"+id) || !strings.HasPrefix(loc, "http") {
					t.Errorf("meta.location = %q", loc)
				}
				if tc.host != "" && !strings.HasPrefix(loc, "http://"+tc.host+"/scim/") {
					t.Errorf("meta.location = %q, want it on host %s", loc, tc.host)
				}
			} else if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/scim+json") {
				t.Errorf("error Content-Type %q", ct)
			}
		})
	}
	t.Run("wrong method", func(t *testing.T) {
		r := e.do("POST", "/Users/"+id, "{}")
		wantError(t, r, http.StatusMethodNotAllowed, "", "not allowed")
		if r.header.Get("Allow") == "" {
			t.Error("405 without Allow")
		}
	})
}

// wrongSecret returns secret with its last character changed, so that it
// is well formed but wrong.
func wrongSecret(secret string) string {
	last := "a"
	if strings.HasSuffix(secret, "a") {
		last = "b"
	}
	return secret[:len(secret)-1] + last
}
