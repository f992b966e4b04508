package activity_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scimd/scimd/internal/activity"
	"github.com/scimd/scimd/internal/auth"
	"github.com/scimd/scimd/internal/server"
	"github.com/scimd/scimd/internal/store"
	"github.com/scimd/scimd/internal/store/sqlite"
)

// TestFailuresAreRecordedWithDetail: a failing SCIM request (refused
// before or after authentication, or by the store) ends up in the store
// with its scimType, detail, query string and request id; so does a
// write that succeeds, through its pending record; a credential in the
// query string is redacted.
func TestFailuresAreRecordedWithDetail(t *testing.T) {
	ctx := t.Context()
	db, err := sqlite.Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	rec := activity.New(activity.Config{Store: db, Logger: logger})
	defer rec.Close()
	srv := httptest.NewServer(server.New(server.Config{Store: db, Logger: logger, Activity: rec}))
	defer srv.Close()
	tenant := func(name string, active, keys bool) (store.Tenant, string) {
		t.Helper()
		if _, err := db.CreateTenant(ctx, name); err != nil {
			t.Fatal(err)
		}
		tn, err := db.UpdateTenant(ctx, name, func(t *store.Tenant) error { t.ProvisioningActive, t.APIKeysEnabled = active, keys; return nil })
		if err != nil {
			t.Fatal(err)
		}
		id, secret := auth.NewKey()
		if err := db.CreateAPIKey(ctx, store.APIKey{ID: id, TenantID: tn.ID, Name: "k", Scope: store.ScopeWrite, SecretHash: auth.HashSecret(secret)}); err != nil {
			t.Fatal(err)
		}
		return tn, "Basic " + auth.Basic(id, secret)
	}
	acme, key := tenant("acme", true, true)
	unknownID, unknownSecret := auth.NewKey()
	off, offKey := tenant("off", true, false)
	inactive, inactiveKey := tenant("inactive", false, true)
	do := func(tenant, authz, method, path, body, reqID string) int {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+"/t/"+tenant+"/scim/v2"+path, strings.NewReader(body))
		req.Header.Set("Authorization", authz)
		req.Header.Set("Content-Type", "application/scim+json")
		req.Header.Set("X-Request-Id", reqID)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	user := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada"}`
	for _, r := range []struct {
		tenant, authz, method, path, body, id string
		want                                  int
	}{
		{"acme", key, "POST", "/Users?attributes=userName", user, "req-create", 201},
		{"acme", key, "POST", "/Users", user, "req-dup", 409},
		{"acme", key, "GET", `/Users?filter=userName+eq&count=5`, "", "req-filter", 400},
		{"acme", key, "GET", "/Users?access_token=hunter2&count=1", "", "req-token", 200},
		{"acme", "Basic " + auth.Basic(unknownID, unknownSecret), "GET", "/Users", "", "req-401", 401},
		{"off", offKey, "GET", "/Users", "", "req-keys-off", 401},
		{"inactive", inactiveKey, "GET", "/Users", "", "req-inactive", 403},
	} {
		if got := do(r.tenant, r.authz, r.method, r.path, r.body, r.id); got != r.want {
			t.Fatalf("%s %s: status %d, want %d", r.method, r.path, got, r.want)
		}
	}
	rec.Flush()
	record := func(tn store.Tenant, reqID string) store.Activity {
		t.Helper()
		as, _, err := db.ActivityLog(ctx, tn.ID, store.ActivityQuery{RequestID: reqID})
		if err != nil || len(as) != 1 {
			t.Fatalf("records of %s: %+v, %v; want 1", reqID, as, err)
		}
		return as[0]
	}
	for _, tc := range []struct {
		tenant                  store.Tenant
		id                      string
		status                  int
		scimType, detail, query string
	}{
		{acme, "req-create", 201, "", "", "attributes=userName"},
		{acme, "req-dup", 409, "uniqueness", `a user with userName "ada" already exists`, ""},
		{acme, "req-filter", 400, "invalidFilter", "invalid filter: ", "filter=userName+eq&count=5"},
		{acme, "req-token", 200, "", "", "access_token=REDACTED&count=1"},
		{acme, "req-401", 401, "", "invalid credentials: unknown User ID or wrong API key for this tenant", ""},
		{off, "req-keys-off", 401, "", "API keys are disabled for this tenant", ""},
		{inactive, "req-inactive", 403, "", "SCIM provisioning is not activated", ""},
	} {
		a := record(tc.tenant, tc.id)
		if a.Status != tc.status || a.ScimType != tc.scimType || !strings.HasPrefix(a.Detail, tc.detail) || a.Query != tc.query {
			t.Errorf("%s: status %d, scimType %q, detail %q, query %q; want %d, %q, %q…, %q",
				tc.id, a.Status, a.ScimType, a.Detail, a.Query, tc.status, tc.scimType, tc.detail, tc.query)
		}
		if tc.detail == "" && a.Detail != "" {
			t.Errorf("%s: detail %q on success", tc.id, a.Detail)
		}
	}
}
