package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/scimd/scimd/internal/secevent"
)

func TestSETKeysCLI(t *testing.T) {
	env := newEnv(t)
	if out := mustCLI(t, env, "set-keys", "list"); !strings.Contains(out, "no SET signing key yet") {
		t.Errorf("list of a new database: %q", out)
	}
	for _, args := range [][]string{{"set-keys"}, {"set-keys", "drop"}, {"set-keys", "rotate", "--grace", "30s"}, {"set-keys", "rotate", "--grace", "soon"}, {"set-keys", "list", "extra"}} {
		out, err := runCLI(t, env, args...)
		if _, ok := err.(usageError); !ok {
			t.Errorf("scimd %s = %v (%q), want a usage error", strings.Join(args, " "), err, out)
		}
	}
	out := mustCLI(t, env, "set-keys", "rotate")
	if !strings.HasPrefix(out, "new signing key ") || strings.Contains(out, "previous key") {
		t.Errorf("first rotate: %q", out)
	}
	var first map[string]string
	if err := json.Unmarshal([]byte(mustCLI(t, env, "set-keys", "rotate", "--grace", "2h", "--json")), &first); err != nil || first["kid"] == "" || first["alg"] != "ES256" {
		t.Fatalf("rotate --json: %v %v", first, err)
	}
	var keys []struct {
		KID            string `json:"kid"`
		Signing        bool   `json:"signing"`
		Published      bool   `json:"published"`
		PublishedUntil string `json:"publishedUntil"`
	}
	if err := json.Unmarshal([]byte(mustCLI(t, env, "set-keys", "list", "--json")), &keys); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].KID != first["kid"] || !keys[0].Signing || keys[1].Signing || !keys[1].Published {
		t.Fatalf("list --json after two rotations: %+v", keys)
	}
	until, err := time.Parse(time.RFC3339, keys[1].PublishedUntil)
	if err != nil || until.Sub(time.Now()) < 119*time.Minute || until.Sub(time.Now()) > 121*time.Minute {
		t.Errorf("the replaced key is published until %q, want in 2h", keys[1].PublishedUntil)
	}
	out = mustCLI(t, env, "set-keys", "list")
	if !containsAll(out, "KID", "STATE", first["kid"], "signing", keys[1].KID, "published until") {
		t.Errorf("list:\n%s", out)
	}
}

// TestServeSETs: scimd serve publishes the JWKS, serves the poll endpoint
// to the keys of --set-poll-key-file with SETs that verify against it,
// and advertises SETs in the ServiceProviderConfig; without a key file it
// serves the JWKS only and advertises nothing.
func TestServeSETs(t *testing.T) {
	env := newEnv(t)
	k := newTenant(t, env, "acme")
	const pollKey = "0123456789abcdef0123456789abcdef-poll"
	keyFile := filepath.Join(t.TempDir(), "poll-keys")
	if err := os.WriteFile(keyFile, []byte("# host app\n"+pollKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr, _ := startServe(t, env, "--set-poll-key-file", keyFile, "--set-issuer", "https://scimd.test/")

	resp, err := http.Get(addr + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	err = json.NewDecoder(resp.Body).Decode(&set)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || len(set.Keys) != 1 || resp.Header.Get("Cache-Control") != "public, max-age=300" {
		t.Fatalf("JWKS: %d %+v %v", resp.StatusCode, set, err)
	}

	base := addr + "/t/acme/scim/v2"
	req, _ := http.NewRequest("POST", base+"/Users", strings.NewReader(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada@example.com","externalId":"00u1"}`))
	req.Header.Set("Authorization", "Basic "+k.Basic)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("create user: %v %v", resp.StatusCode, err)
	}
	reqID := resp.Header.Get("X-Request-Id")
	resp.Body.Close()

	poll := func(auth, body string) (int, string) {
		req, _ := http.NewRequest("POST", addr+secevent.PollPath, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if status, body := poll("", `{}`); status != 401 || !strings.Contains(body, "authentication_failed") {
		t.Errorf("poll without a key: %d %s", status, body)
	}
	status, body := poll("Bearer "+pollKey, `{"returnImmediately":true}`)
	var got struct {
		Sets          map[string]string `json:"sets"`
		MoreAvailable bool              `json:"moreAvailable"`
	}
	if err := json.Unmarshal([]byte(body), &got); status != 200 || err != nil || len(got.Sets) != 1 {
		t.Fatalf("poll: %d %s", status, body)
	}
	for jti, tok := range got.Sets {
		obj, err := jose.ParseSigned(tok, []jose.SignatureAlgorithm{jose.ES256})
		if err != nil {
			t.Fatal(err)
		}
		keys := set.Key(obj.Signatures[0].Header.KeyID)
		if len(keys) != 1 {
			t.Fatalf("kid %q not in the JWKS", obj.Signatures[0].Header.KeyID)
		}
		payload, err := obj.Verify(keys[0].Key)
		if err != nil {
			t.Fatal(err)
		}
		var c secevent.Claims
		json.Unmarshal(payload, &c)
		if c.ID != jti || c.Issuer != "https://scimd.test" || c.Audience != "https://scimd.test"+secevent.PollPath || c.Tenant != "acme" ||
			c.Txn != reqID || c.Subject.ExternalID != "00u1" || !strings.HasPrefix(c.Subject.URI, "/Users/") || c.Events[secevent.ProvCreateFull] == nil {
			t.Errorf("SET claims %+v (request id %s)", c, reqID)
		}
		if status, body := poll("Bearer "+pollKey, `{"ack":["`+jti+`"],"returnImmediately":true}`); status != 200 || body != `{"sets":{},"moreAvailable":false}`+"\n" {
			t.Errorf("poll after the ack: %d %s", status, body)
		}
	}
	if status, body := poll("Bearer "+pollKey, `{"returnImmediately":true}`); status != 200 || body != `{"sets":{},"moreAvailable":false}`+"\n" {
		t.Errorf("an acknowledged SET came again: %d %s", status, body)
	}
	resp, err = http.Get(addr + "/api/v1/sets/other")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("/api/v1/sets/other: %d", resp.StatusCode)
	}

	spc := func(addr string) map[string]any {
		req, _ := http.NewRequest("GET", addr+"/t/acme/scim/v2/ServiceProviderConfig", nil)
		req.Header.Set("Authorization", "Basic "+k.Basic)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return m
	}
	se, _ := spc(addr)["securityEvents"].(map[string]any)
	if uris, _ := se["eventUris"].([]any); se["asyncRequest"] != "none" || len(uris) != len(secevent.EventURIs) {
		t.Errorf("securityEvents %v", se)
	}

	// Without a key file: the JWKS and the advertisement (SETs are pushed
	// to webhook endpoints of format set), no polling.
	addr2, _ := startServe(t, env)
	if status, body := func() (int, string) {
		req, _ := http.NewRequest("POST", addr2+secevent.PollPath, strings.NewReader(`{}`))
		req.Header.Set("Authorization", "Bearer "+pollKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}(); status != 404 || !strings.Contains(body, "--set-poll-key-file") {
		t.Errorf("poll without a key file: %d %s", status, body)
	}
	if m := spc(addr2); m["securityEvents"] == nil || m["patch"] == nil {
		t.Errorf("securityEvents not advertised without polling: %v", m)
	}
	if resp, err := http.Get(addr2 + "/.well-known/jwks.json"); err != nil || resp.StatusCode != 200 {
		t.Errorf("JWKS without a key file: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	// A bad key file stops serve with a clear error.
	bad := filepath.Join(t.TempDir(), "bad")
	os.WriteFile(bad, []byte("short\n"), 0o600)
	if out, err := runCLI(t, env, "serve", "--listen", "127.0.0.1:0", "--set-poll-key-file", bad); err == nil || !strings.Contains(err.Error(), bad+":1: a poll key must be at least 32 characters") {
		t.Errorf("serve with a bad key file: %v %s", err, out)
	}
}
