package server_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/scimd/scimd/internal/server"
)

// TestServiceProviderConfigSecurityEvents: the ServiceProviderConfig
// advertises Security Event Tokens as RFC 9967 §4 defines it exactly when
// the deployment delivers them, and says nothing of them otherwise.
func TestServiceProviderConfigSecurityEvents(t *testing.T) {
	e := newEnv(t)
	if r := e.do("GET", "/ServiceProviderConfig", ""); r.status != 200 || r.json["securityEvents"] != nil {
		t.Fatalf("without SETs: %d, securityEvents %v", r.status, r.json["securityEvents"])
	}
	uris := []string{"urn:ietf:params:scim:event:prov:create:full", "urn:ietf:params:scim:event:prov:delete"}
	srv := httptest.NewServer(server.New(server.Config{Store: e.store, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		SecurityEvents: &server.SecurityEvents{EventURIs: uris}}))
	defer srv.Close()
	r := e.doURL("GET", srv.URL+"/t/acme/scim/v2/ServiceProviderConfig", "", "Authorization", e.authz)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var spc map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &spc); err != nil {
		t.Fatal(err)
	}
	want := `{"asyncRequest":"none","eventUris":["urn:ietf:params:scim:event:prov:create:full","urn:ietf:params:scim:event:prov:delete"]}`
	if got := string(spc["securityEvents"]); got != want {
		t.Errorf("securityEvents = %s\nwant %s", got, want)
	}
	// The rest is as without SETs.
	if string(spc["patch"]) != `{"supported":true}` || spc["bulk"] == nil || spc["meta"] == nil {
		t.Errorf("ServiceProviderConfig %s", r.body)
	}
}
