package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/scimd/scimd/internal/auth"
	"github.com/scimd/scimd/internal/server"
)

// logBuffer collects a JSON log.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// records returns the log records whose msg is msg.
func (b *logBuffer) records(t *testing.T, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(b.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// waitRecords waits for the log to have n records whose msg is msg (the
// access log's line is written after the response) and returns them.
func (b *logBuffer) waitRecords(t *testing.T, msg string, n int) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		recs := b.records(t, msg)
		if len(recs) >= n || time.Now().After(deadline) {
			if len(recs) != n {
				t.Fatalf("%d %q records, want %d:\n%s", len(recs), msg, n, b)
			}
			return recs
		}
		time.Sleep(time.Millisecond)
	}
}

// loggedServer serves e's store with a JSON log at debug level.
func loggedServer(e *env) (*httptest.Server, *logBuffer) {
	logs := &logBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := httptest.NewServer(server.New(server.Config{Store: e.store, Logger: logger, BaseDomain: "scim.example"}))
	e.t.Cleanup(srv.Close)
	return srv, logs
}

// TestRequestLogLine checks every field of the access log's line.
func TestRequestLogLine(t *testing.T) {
	e := newEnv(t)
	id := e.createUser(userJSON("ada@example.com"))
	srv, logs := loggedServer(e)
	for _, tc := range []struct {
		name       string
		method     string
		url        string
		headers    []string
		wantStatus int
		want       map[string]any // the line without time, level, msg and duration_ms
	}{
		{"by path", "GET", srv.URL + "/t/acme/scim/v2/Users/" + id,
			[]string{"Authorization", e.authz, "User-Agent", "Okta SCIM Client 1.0.0", "X-Request-Id", "req-1"}, 200,
			map[string]any{"request_id": "req-1", "tenant": "acme", "key_id": e.keyID, "client": "Okta", "method": "GET",
				"route": "/t/{tenant}/scim/{version}/Users/{id}", "path": "/t/acme/scim/v2/Users/" + id, "status": 200.0,
				"user_agent": "Okta SCIM Client 1.0.0"}},
		{"by host", "GET", srv.URL + "/scim/v2/Users?count=1",
			[]string{"Authorization", e.authz, "Host", "acme.scim.example", "User-Agent", "Azure AD SCIM Client", "X-Request-Id", "req-2"}, 200,
			map[string]any{"request_id": "req-2", "tenant": "acme", "key_id": e.keyID, "client": "Entra", "method": "GET",
				"route": "/scim/{version}/Users", "path": "/scim/v2/Users", "status": 200.0, "user_agent": "Azure AD SCIM Client"}},
		{"refused", "DELETE", srv.URL + "/t/acme/scim/v2/Groups/nope",
			[]string{"Authorization", "Bearer " + wrongSecret(e.secret), "User-Agent", "curl/8", "X-Request-Id", "req-3"}, 401,
			map[string]any{"request_id": "req-3", "tenant": "acme", "key_id": "", "client": "other", "method": "DELETE",
				"route": "/t/{tenant}/scim/", "path": "/t/acme/scim/v2/Groups/nope", "status": 401.0, "user_agent": "curl/8"}},
		{"not SCIM", "GET", srv.URL + "/healthz",
			[]string{"User-Agent", "kube-probe/1.30", "X-Request-Id", "req-4"}, 200,
			map[string]any{"request_id": "req-4", "tenant": "", "key_id": "", "client": "", "method": "GET",
				"route": "GET /healthz", "path": "/healthz", "status": 200.0, "user_agent": "kube-probe/1.30"}},
		{"no route, a request id not to be believed", "GET", srv.URL + "/nothing",
			[]string{"User-Agent", "x", "X-Request-Id", "two words"}, 404,
			map[string]any{"tenant": "", "key_id": "", "client": "", "method": "GET",
				"route": "", "path": "/nothing", "status": 404.0, "user_agent": "x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(logs.records(t, "request"))
			req, err := http.NewRequest(tc.method, tc.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i+1 < len(tc.headers); i += 2 {
				if tc.headers[i] == "Host" {
					req.Host = tc.headers[i+1]
					continue
				}
				req.Header.Set(tc.headers[i], tc.headers[i+1])
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.wantStatus, body)
			}
			recs := logs.waitRecords(t, "request", before+1)
			got := recs[len(recs)-1]
			if d, ok := got["duration_ms"].(float64); !ok || d < 0 {
				t.Errorf("duration_ms = %v", got["duration_ms"])
			}
			if id, _ := got["request_id"].(string); id != resp.Header.Get("X-Request-Id") || id == "" {
				t.Errorf("request_id %q, X-Request-Id %q", id, resp.Header.Get("X-Request-Id"))
			}
			if _, ok := tc.want["request_id"]; !ok {
				delete(got, "request_id") // generated
			}
			tc.want["bytes"] = float64(len(body))
			for _, k := range []string{"time", "level", "msg", "duration_ms"} {
				delete(got, k)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("request line (-want +got):\n%s", diff)
			}
		})
	}
}

// TestErrorsCarryRequestID: a request that fails on the server's side logs
// its error with the request's id.
func TestErrorsCarryRequestID(t *testing.T) {
	e := newEnv(t)
	srv, logs := loggedServer(e)
	e.store.Close() // every request now fails in the store
	for _, path := range []string{"/t/acme/scim/v2/Users", "/readyz"} {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("Authorization", e.authz)
		req.Header.Set("X-Request-Id", "fail"+path)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode < 500 {
			t.Errorf("%s: %d, want a 5xx", path, resp.StatusCode)
		}
	}
	var ids []string
	for _, rec := range logs.records(t, "request failed") {
		ids = append(ids, rec["request_id"].(string))
	}
	for _, rec := range logs.records(t, "readiness check failed") {
		ids = append(ids, rec["request_id"].(string))
	}
	if diff := cmp.Diff([]string{"fail/t/acme/scim/v2/Users", "fail/readyz"}, ids); diff != "" {
		t.Errorf("request ids of the errors (-want +got):\n%s\n%s", diff, logs)
	}
}

// TestNoSecretInLogs sends credentials in every form scimd accepts, wrong
// ones, and a password, with the log at debug level, and checks that none
// of them reaches the log.
func TestNoSecretInLogs(t *testing.T) {
	e := newEnv(t)
	srv, logs := loggedServer(e)
	wrong := wrongSecret(e.secret)
	secrets := []string{e.secret, auth.Basic(e.keyID, e.secret), wrong, auth.Basic(e.keyID, wrong), "pw-Secret-123", e.secret[len(e.keyID)+7:]}
	base := srv.URL + "/t/acme/scim/v2"
	for _, authz := range []string{e.authz, "Bearer " + e.secret, e.secret, "Bearer " + auth.Basic(e.keyID, e.secret),
		"Basic " + auth.Basic(e.keyID, wrong), wrong, "Bearer " + wrong} {
		for _, req := range []struct{ method, path, body string }{
			{"GET", "/Users?filter=userName+eq+%22x%22", ""},
			{"POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"p` + itoa(len(authz)) + `","password":"pw-Secret-123"}`},
			{"POST", "/Users", `{"password":"pw-Secret-123",`}, // broken JSON
			{"PATCH", "/Users/nope", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"password","value":"pw-Secret-123"}]}`},
		} {
			r, _ := http.NewRequest(req.method, base+req.path, strings.NewReader(req.body))
			r.Header.Set("Authorization", authz)
			r.Header.Set("Content-Type", "application/scim+json")
			r.Header.Set("User-Agent", "Okta SCIM Client")
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
	}
	logs.waitRecords(t, "request", 28)
	out := logs.String()
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("the log contains the secret %q", s)
		}
	}
}
