package main

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

func TestAppKeysCLI(t *testing.T) {
	env := newEnv(t)
	mustCLI(t, env, "tenants", "create", "acme")
	mustCLI(t, env, "tenants", "create", "bravo")

	out := mustCLI(t, env, "appkeys", "create", "--name", "product", "--json")
	var k map[string]string
	if err := json.Unmarshal([]byte(out), &k); err != nil || len(k) != 2 || strings.Count(out, "\n") != 1 {
		t.Fatalf("appkeys create --json printed %q (%v); want one line {\"id\": ..., \"key\": ...}", out, err)
	}
	if !regexp.MustCompile(`^scimdapp_` + k["id"] + `_[a-z2-7]{40}$`).MatchString(k["key"]) {
		t.Errorf("key %q does not carry id %q", k["key"], k["id"])
	}

	out = mustCLI(t, env, "appkeys", "create", "--tenants", "bravo, acme", "--name", "billing")
	m := regexp.MustCompile(`(?m)^Application key ([a-z2-7]{16}) \(billing\), reads tenants bravo, acme:\n\n  (scimdapp_\S+)   \(shown once: store it now\)\n`).FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "curl -H 'Authorization: Bearer "+m[2]+"' 'http://127.0.0.1:8080/api/v1/events?limit=10'") {
		t.Fatalf("appkeys create printed:\n%s", out)
	}
	billing := m[1]

	for _, tc := range []struct {
		args  []string
		err   string
		usage bool
	}{
		{[]string{"appkeys"}, "appkeys: expected create, list or revoke", true},
		{[]string{"appkeys", "make"}, `appkeys: unknown subcommand "make" (expected create, list or revoke)`, true},
		{[]string{"appkeys", "create"}, "appkeys create: --name NAME is required", true},
		{[]string{"appkeys", "create", "--name", "x", "extra"}, `appkeys create: unexpected argument "extra"`, true},
		{[]string{"appkeys", "create", "--name", "x", "--tenants", "acme,nope"}, `no tenant named "nope"`, false},
		{[]string{"appkeys", "create", "--name", "x", "--tenants", "acme,,bravo"}, `appkeys create: --tenants must be all or tenant names separated by commas, not "acme,,bravo"`, true},
		{[]string{"appkeys", "create", "--name", "x", "--tenants", ""}, `appkeys create: --tenants must be all or tenant names separated by commas, not ""`, true},
		{[]string{"appkeys", "revoke"}, "appkeys revoke: expected one key ID", true},
		{[]string{"appkeys", "revoke", "nope"}, `no application key with ID "nope" (see scimd appkeys list)`, false},
	} {
		_, err := runCLI(t, env, tc.args...)
		var ue usageError
		if err == nil || err.Error() != tc.err || errors.As(err, &ue) != tc.usage {
			t.Errorf("scimd %s: error %v, want %q (usage %v)", strings.Join(tc.args, " "), err, tc.err, tc.usage)
		}
	}

	mustCLI(t, env, "appkeys", "revoke", k["id"])
	out = mustCLI(t, env, "appkeys", "list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !regexp.MustCompile(`^ID\s+NAME\s+TENANTS\s+CREATED\s+LAST USED\s+REVOKED$`).MatchString(lines[0]) {
		t.Fatalf("appkeys list (the refused creates stored nothing):\n%s", out)
	}
	stampRE := `\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`
	if !regexp.MustCompile(`^` + billing + `\s+billing\s+acme,bravo\s+` + stampRE + `\s+never\s+-$`).MatchString(lines[1]) {
		t.Errorf("billing's line: %q", lines[1])
	}
	if !regexp.MustCompile(`^` + k["id"] + `\s+product\s+all\s+` + stampRE + `\s+never\s+` + stampRE + `$`).MatchString(lines[2]) {
		t.Errorf("product's line (revoked): %q", lines[2])
	}
}

// TestAppKeysServe: scimd serve answers /api/v1 with the keys the CLI
// makes, and refuses one as soon as the CLI revokes it; SCIM is served
// beside it as before.
func TestAppKeysServe(t *testing.T) {
	env := newEnv(t)
	scimKey := newTenant(t, env, "acme")
	var k map[string]string
	if err := json.Unmarshal([]byte(mustCLI(t, env, "appkeys", "create", "--name", "product", "--json")), &k); err != nil {
		t.Fatal(err)
	}
	addr, _ := startServe(t, env)
	get := func(path, authz string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", addr+path, nil)
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/api/v1/events?tenant=acme&types=tenant.*", "Bearer "+k["key"]); code != 200 ||
		!strings.Contains(body, `"type":"tenant.provisioning_activated"`) {
		t.Errorf("events: %d %s", code, body)
	}
	if code, body := get("/api/v1/openapi.json", ""); code != 200 || !strings.Contains(body, `"openapi": "3.1.0"`) {
		t.Errorf("openapi.json: %d %.100s", code, body)
	}
	if code, _ := get("/api/v1", "Bearer "+k["key"]); code != 404 {
		t.Errorf("/api/v1: %d, want 404", code)
	}
	if code, body := get("/t/acme/scim/v2/Users", "Basic "+scimKey.Basic); code != 200 || !strings.Contains(body, "ListResponse") {
		t.Errorf("SCIM beside the API: %d %s", code, body)
	}
	mustCLI(t, env, "appkeys", "revoke", k["id"])
	if code, body := get("/api/v1/events", "Bearer "+k["key"]); code != 401 || !strings.Contains(body, "revoked") {
		t.Errorf("after revoke: %d %s", code, body)
	}
}
