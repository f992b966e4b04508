package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/scimd/scimd/internal/server"
)

// noRedirects sends a request and returns the response as it came: a
// redirect is not followed, as identity providers do not follow them on
// POST or PATCH.
func (e *env) noRedirects(method, path, body string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.base+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", e.authz)
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, header: resp.Header, body: b}
	json.Unmarshal(b, &r.json)
	return r
}

// TestOktaTrailingSlashBaseURL: a base URL pasted with a trailing slash
// makes Okta call .../scim/v2//Users; every method is served as on /Users,
// never with a redirect.
func TestOktaTrailingSlashBaseURL(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		id := e.createUser(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada@example.com"}`)
		for _, tc := range []struct {
			method, path, body string
			want               int
		}{
			{"GET", "//Users", "", 200},
			{"GET", "/Users/", "", 200},
			{"GET", "//Users?filter=userName%20eq%20%22ada@example.com%22", "", 200},
			{"POST", "//Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bob@example.com"}`, 201},
			{"GET", "//Users/" + id, "", 200},
			{"GET", "/Users/" + id + "/", "", 200},
			{"PATCH", "//Users/" + id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}`, 200},
			{"PUT", "//Users//" + id, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada@example.com","active":true}`, 200},
			{"GET", "//Groups", "", 200},
			{"GET", "//ServiceProviderConfig", "", 200},
			{"DELETE", "//Users/" + id + "/", "", 204},
		} {
			r := e.noRedirects(tc.method, tc.path, tc.body)
			if r.status != tc.want {
				t.Errorf("%s %s: %d, want %d (Location %q)\n%s", tc.method, tc.path, r.status, tc.want, r.header.Get("Location"), r.body)
			}
		}
	})
}

// TestRFC7644_3_11_Me: a provider that does not support /Me answers 501
// with a SCIM error.
func TestRFC7644_3_11_Me(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		for _, m := range []string{"GET", "PUT", "PATCH", "DELETE", "POST"} {
			r := e.noRedirects(m, "/Me", "")
			if r.status != http.StatusNotImplemented || r.header.Get("Content-Type") != "application/scim+json; charset=utf-8" ||
				r.json["status"] != "501" || r.json["detail"] == nil {
				t.Errorf("%s /Me: %d %s\n%s", m, r.status, r.header.Get("Content-Type"), r.body)
			}
		}
	})
}

// TestRFC7644_3_5_2_PatchNoChange: a PATCH that changes nothing (add of a
// value the resource has, replace with the current value, remove of what
// is absent, re-adding a member) SHALL NOT change the resource: the ETag
// and meta.lastModified stay.
func TestRFC7644_3_5_2_PatchNoChange(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		rec := &recorder{}
		e.srv.Config.Handler = server.New(server.Config{Store: e.store, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Activity: rec})
		uid := e.createUser(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada@example.com",
			"title":"Engineer","emails":[{"value":"ada@example.com","type":"work","primary":true}]}`)
		r := e.do("POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Eng","members":[{"value":"`+uid+`"}]}`)
		if r.status != http.StatusCreated {
			t.Fatalf("create group: %d %s", r.status, r.body)
		}
		gid, _ := r.json["id"].(string)
		patch := func(ops string) string {
			return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + ops + `]}`
		}
		state := func(path string) (string, any) {
			r := e.do("GET", path, "")
			meta, _ := r.json["meta"].(map[string]any)
			return r.header.Get("ETag"), meta["lastModified"]
		}
		for _, tc := range []struct{ name, path, ops string }{
			{"add an e-mail the user has", "/Users/" + uid, `{"op":"add","path":"emails","value":[{"value":"ada@example.com","type":"work","primary":true}]}`},
			{"replace with the current value", "/Users/" + uid, `{"op":"replace","path":"title","value":"Engineer"}`},
			{"pathless replace with current values", "/Users/" + uid, `{"op":"replace","value":{"title":"Engineer","active":true}}`},
			{"remove an absent attribute", "/Users/" + uid, `{"op":"remove","path":"nickName"}`},
			{"add an existing member", "/Groups/" + gid, `{"op":"add","path":"members","value":[{"value":"` + uid + `"}]}`},
			{"remove a non-member", "/Groups/" + gid, `{"op":"remove","path":"members[value eq \"nobody\"]"}`},
		} {
			etag, mod := state(tc.path)
			time.Sleep(2 * time.Millisecond) // a new lastModified would differ
			if r := e.do("PATCH", tc.path, patch(tc.ops)); r.status != http.StatusOK && r.status != http.StatusNoContent {
				t.Errorf("%s: PATCH %d %s", tc.name, r.status, r.body)
				continue
			}
			if etag2, mod2 := state(tc.path); etag2 != etag || mod2 != mod {
				t.Errorf("%s: ETag %s → %s, lastModified %v → %v; want them unchanged", tc.name, etag, etag2, mod, mod2)
			}
		}
		// No activity entry of those requests shows a change.
		rec.mu.Lock()
		for _, ev := range rec.events {
			if ev.Method == "PATCH" && !reflect.DeepEqual(ev.Before, ev.After) {
				t.Errorf("PATCH %s that changed nothing noted a change: %v → %v", ev.Path, ev.Before, ev.After)
			}
		}
		rec.mu.Unlock()
		// A real change still makes a new version.
		etag, _ := state("/Users/" + uid)
		e.do("PATCH", "/Users/"+uid, patch(`{"op":"replace","path":"title","value":"Manager"}`))
		if etag2, _ := state("/Users/" + uid); etag2 == etag {
			t.Errorf("a real change kept ETag %s", etag)
		}
	})
}

// TestRFC7643_2_4_DuplicateValues: a (type, value) pair is stored once,
// whether a POST, a PUT or a PATCH brings it twice; the kept element is
// primary if a copy was.
func TestRFC7643_2_4_DuplicateValues(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		emails := func(r response) []any {
			t.Helper()
			l, _ := r.json["emails"].([]any)
			return l
		}
		r := e.do("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada@example.com",
			"emails":[{"value":"ada@example.com","type":"work"},{"value":"ADA@example.com","type":"Work","primary":true},{"value":"ada@home.example","type":"home"}],
			"phoneNumbers":[{"value":"+1 555 0100","type":"work"},{"value":"+1 555 0100","type":"work"}]}`)
		if r.status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		id, _ := r.json["id"].(string)
		want := []any{
			map[string]any{"value": "ada@example.com", "type": "work", "primary": true},
			map[string]any{"value": "ada@home.example", "type": "home"},
		}
		if diff := cmp.Diff(want, emails(r)); diff != "" {
			t.Errorf("POST with a duplicate e-mail (-want +got):\n%s", diff)
		}
		if p, _ := r.json["phoneNumbers"].([]any); len(p) != 1 {
			t.Errorf("POST with a duplicate phone number: %v", p)
		}
		r = e.do("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations":[{"op":"add","path":"emails","value":[{"value":"ada@home.example","type":"home"},{"value":"new@example.com","type":"other"}]}]}`)
		if r.status != http.StatusOK {
			t.Fatalf("PATCH: %d %s", r.status, r.body)
		}
		got := e.do("GET", "/Users/"+id, "")
		if l := emails(got); len(l) != 3 {
			t.Errorf("after a PATCH adding a pair the user has and a new one: %v", l)
		}
		// The lookups by e-mail find the user once.
		r = e.do("GET", `/Users?filter=emails.value+eq+%22ada@example.com%22`, "")
		if r.json["totalResults"] != float64(1) {
			t.Errorf("filter by the e-mail: %v", r.json["totalResults"])
		}
	})
}

// TestRFC7644_3_5_2_ExtensionPathWithSchemas: PATCH with path = the
// enterprise extension's URN and a value that carries "schemas" (as a
// strict client library sends it) sets the extension, as the same value
// without a path does.
func TestRFC7644_3_5_2_ExtensionPathWithSchemas(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		id := e.createUser(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada@example.com"}`)
		const ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
		r := e.do("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations":[{"op":"add","path":"`+ent+`","value":{"schemas":["`+ent+`"],"department":"Research"}}]}`)
		if r.status != http.StatusOK {
			t.Fatalf("PATCH: %d %s", r.status, r.body)
		}
		ext, _ := e.do("GET", "/Users/"+id, "").json[ent].(map[string]any)
		if ext["department"] != "Research" {
			t.Errorf("extension after the PATCH: %v", ext)
		}
	})
}

// TestRFC7644_3_5_2_3_ReplaceNoTarget: replace of a value filter that
// matches nothing is 400 noTarget and changes nothing; add creates the
// element; Entra ID (detected by its User-Agent) gets the element created,
// as its Replace of addresses[type eq "work"].formatted expects, and the
// activity entry says so.
func TestRFC7644_3_5_2_3_ReplaceNoTarget(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		rec := &recorder{}
		e.srv.Config.Handler = server.New(server.Config{Store: e.store, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Activity: rec})
		id := e.createUser(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada@example.com",
			"emails":[{"value":"ada@example.com","type":"work"}]}`)
		patch := func(op, path, value string) string {
			return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"` + op + `","path":"` + path + `","value":` + value + `}]}`
		}
		home := `emails[type eq \"home\"].value`
		before := e.do("GET", "/Users/"+id, "")
		r := e.do("PATCH", "/Users/"+id, patch("replace", home, `"h@example.com"`), "User-Agent", "Okta SCIM Client 1.0.0")
		if r.status != http.StatusBadRequest || r.json["scimType"] != "noTarget" {
			t.Errorf("replace of a filter matching nothing: %d %s, want 400 noTarget", r.status, r.body)
		}
		if after := e.do("GET", "/Users/"+id, ""); after.header.Get("ETag") != before.header.Get("ETag") {
			t.Errorf("a refused replace changed the user: %s", after.body)
		}
		if r := e.do("PATCH", "/Users/"+id, patch("add", home, `"h@example.com"`)); r.status != http.StatusOK {
			t.Errorf("add of a filter matching nothing: %d %s, want 200", r.status, r.body)
		}
		// Entra ID: CLIENTS.md B.3, patch test case "entra/replace work
		// address formatted and add department".
		r = e.do("PATCH", "/Users/"+id, patch("Replace", `addresses[type eq \"work\"].formatted`, `"18/2111"`),
			"User-Agent", "Azure Active Directory SCIM Client")
		if r.status != http.StatusOK {
			t.Fatalf("Entra's replace of an absent address: %d %s", r.status, r.body)
		}
		addrs, _ := r.json["addresses"].([]any)
		if len(addrs) != 1 {
			t.Errorf("addresses after Entra's replace: %v", addrs)
		}
		rec.mu.Lock()
		defer rec.mu.Unlock()
		last := rec.events[len(rec.events)-1]
		if len(last.Notes) != 1 || !strings.Contains(last.Notes[0], "addresses") {
			t.Errorf("the activity of Entra's replace notes %q, want the leniency", last.Notes)
		}
		for _, ev := range rec.events[:len(rec.events)-1] {
			if len(ev.Notes) != 0 {
				t.Errorf("%s %s noted %q", ev.Method, ev.Path, ev.Notes)
			}
		}
	})
}

// TestRFC7159_AmbiguousJSON: a body with a key twice (or two keys that
// differ only in case), invalid UTF-8 or a lone surrogate escape is 400
// invalidSyntax on every endpoint that reads JSON, and nothing is stored.
func TestRFC7159_AmbiguousJSON(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		id := e.createUser(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada@example.com"}`)
		for _, tc := range []struct{ name, method, path, body string }{
			{"POST key twice", "POST", "/Users", `{"userName":"a@example.com","userName":"b@example.com"}`},
			{"POST case variants", "POST", "/Users", `{"userName":"a@example.com","USERNAME":"b@example.com"}`},
			{"POST lone surrogate", "POST", "/Users", `{"userName":"c@example.com","displayName":"\ud800"}`},
			{"POST invalid UTF-8", "POST", "/Users", "{\"userName\":\"d@example.com\",\"displayName\":\"\xc3\"}"},
			{"PUT case variants", "PUT", "/Users/" + id, `{"userName":"ada@example.com","title":"x","Title":"y"}`},
			{"PATCH op twice", "PATCH", "/Users/" + id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","op":"remove","path":"title","value":"x"}]}`},
			{"search case variants", "POST", "/Users/.search", `{"filter":"userName eq \"x\"","Filter":"id pr"}`},
			{"Bulk key twice", "POST", "/Bulk", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[{"method":"POST","method":"DELETE","path":"/Users","data":{}}]}`},
		} {
			r := e.do(tc.method, tc.path, tc.body)
			if r.status != http.StatusBadRequest || r.json["scimType"] != "invalidSyntax" {
				t.Errorf("%s: %d %s, want 400 invalidSyntax", tc.name, r.status, r.body)
			}
		}
		if r := e.do("GET", "/Users", ""); r.json["totalResults"] != float64(1) {
			t.Errorf("users after the refused requests: %v", r.json["totalResults"])
		}
		if r := e.do("GET", "/Users/"+id, ""); r.json["title"] != nil {
			t.Errorf("a refused PUT or PATCH changed the user: %s", r.body)
		}
	})
}

// TestCanceledRequestIsNoServerError: a request whose client went away
// while the store worked, even when the handler wraps the store's error,
// is logged and recorded as 499, never as a 500.
func TestCanceledRequestIsNoServerError(t *testing.T) {
	e := newEnv(t)
	rec := &recorder{}
	var logs strings.Builder
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(p)
	}), nil))
	h := server.New(server.Config{Store: e.store, Logger: logger, Activity: rec})
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // gone before the store is asked
	req := httptest.NewRequestWithContext(ctx, "GET", "/t/acme/scim/v2/Users?filter=userName+eq+%22x%22", nil)
	req.Header.Set("Authorization", e.authz)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != server.StatusClientClosedRequest {
		t.Errorf("status %d, want %d", w.Code, server.StatusClientClosedRequest)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "status=499") {
		t.Errorf("log:\n%s", logs.String())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestRFC7644_3_7_BulkIDsAndPaths: two operations with one bulkId make the
// request 400; an operation's path is cleaned like a request's, and no
// operation answers with a redirect.
func TestRFC7644_3_7_BulkIDsAndPaths(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		r := e.do("POST", "/Bulk", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[
			{"method":"POST","path":"/Users","bulkId":"u","data":{"userName":"one@example.com"}},
			{"method":"POST","path":"/Users","bulkId":"u","data":{"userName":"two@example.com"}}]}`)
		if r.status != http.StatusBadRequest || r.json["scimType"] != "invalidValue" {
			t.Errorf("duplicate bulkIds: %d %s", r.status, r.body)
		}
		if r := e.do("GET", "/Users", ""); r.json["totalResults"] != float64(0) {
			t.Errorf("a refused Bulk request created users: %v", r.json["totalResults"])
		}
		r = e.do("POST", "/Bulk", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[
			{"method":"POST","path":"//Users","bulkId":"a","data":{"userName":"a@example.com"}},
			{"method":"PATCH","path":"/Users/./bulkId:a","data":{"Operations":[{"op":"replace","path":"title","value":"x"}]}},
			{"method":"DELETE","path":"/Groups/../Users/bulkId:a"}]}`)
		if r.status != http.StatusOK {
			t.Fatalf("Bulk: %d %s", r.status, r.body)
		}
		ops, _ := r.json["Operations"].([]any)
		want := []string{"201", "400", "400"}
		for i, o := range ops {
			st, _ := o.(map[string]any)["status"].(string)
			if i < len(want) && st != want[i] {
				t.Errorf("operation %d: status %s, want %s (%v)", i, st, want[i], o)
			}
		}
	})
}

// TestUnauthenticatedActivityIsSampled: requests that fail authentication
// are not each a row of the tenant's activity log (anyone can send
// millions), and the client their User-Agent claims is not believed; every
// authenticated request is still recorded.
func TestUnauthenticatedActivityIsSampled(t *testing.T) {
	e := newEnv(t)
	rec := &recorder{}
	srv := server.New(server.Config{Store: e.store, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Activity: rec})
	e.srv.Config.Handler = srv
	for range 200 {
		e.doURL("GET", e.base+"/Users", "", "Authorization", "Bearer forged", "User-Agent", "Okta SCIM Client 1.0.0")
	}
	for range 3 {
		e.do("GET", "/Users", "", "User-Agent", "Okta SCIM Client 1.0.0")
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var anon, authed int
	for _, ev := range rec.events {
		if ev.KeyID == "" {
			anon++
			if ev.UserAgent != "" || len(ev.Notes) == 0 {
				t.Errorf("unauthenticated event keeps User-Agent %q, notes %q", ev.UserAgent, ev.Notes)
			}
		} else {
			authed++
		}
	}
	if anon != 1 || authed != 3 {
		t.Errorf("%d unauthenticated and %d authenticated events, want 1 and 3", anon, authed)
	}
	if srv.UnauthenticatedDropped() != 199 {
		t.Errorf("dropped %d, want 199", srv.UnauthenticatedDropped())
	}
}

// TestRFC9865_OpaqueCursors: a cursor is sealed, so it shows no row
// number (the sequence all tenants share) and cannot be altered; another
// instance on the same database accepts it.
func TestRFC9865_OpaqueCursors(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		for i := range 3 {
			e.createUser(fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"c%d@example.com"}`, i))
		}
		r := e.do("GET", "/Users?count=1&cursor", "")
		next, _ := r.json["nextCursor"].(string)
		if next == "" {
			t.Fatalf("no nextCursor: %s", r.body)
		}
		raw, _ := base64.RawURLEncoding.DecodeString(next)
		if bytes.Contains(raw, []byte(`"s":`)) || json.Valid(raw) {
			t.Errorf("the cursor shows its contents: %q", raw)
		}
		flipped := []byte(next)
		flipped[len(flipped)/2] ^= 1
		if strings.ContainsRune(string(flipped), 0) || !utf8.Valid(flipped) {
			t.Fatal("bad flip")
		}
		wantError(t, e.do("GET", "/Users?count=1&cursor="+url.QueryEscape(string(flipped)), ""), http.StatusBadRequest, "invalidCursor", "")
		// Another instance, on the same database.
		other := httptest.NewServer(server.New(server.Config{Store: e.store, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
		defer other.Close()
		r2 := e.doURL("GET", other.URL+"/t/acme/scim/v2/Users?count=1&cursor="+next, "", "Authorization", e.authz)
		if r2.status != http.StatusOK || len(r2.json["Resources"].([]any)) != 1 {
			t.Errorf("another instance with the cursor: %d %s", r2.status, r2.body)
		}
	})
}

// TestResourceLimits: a resource beyond the store's limits (values of one
// multi-valued attribute, encoded size) is refused with a 400 that says
// which, by POST, PUT and PATCH, and nothing changes.
func TestResourceLimits(t *testing.T) {
	emails := func(first, n int) string {
		var b strings.Builder
		for i := range n {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"value":"u%d@example.com"}`, first+i)
		}
		return "[" + b.String() + "]"
	}
	const core = `"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"]`
	forEachBackend(t, func(t *testing.T, e *env) {
		id := e.createUser(`{` + core + `,"userName":"ada@example.com","emails":` + emails(0, 3) + `}`)
		big := strings.Repeat("x", 130<<10)
		for _, tc := range []struct {
			name, method, path, body, detail string
		}{
			{"create, too many values", "POST", "/Users", `{` + core + `,"userName":"bob","emails":` + emails(0, 1001) + `}`,
				`attribute "emails" has 1001 values; at most 1000 are accepted`},
			{"create, too large", "POST", "/Users", `{` + core + `,"userName":"bob","title":"` + big + `"}`,
				"the resource takes 133"},
			{"replace, too many values", "PUT", "/Users/" + id, `{` + core + `,"userName":"ada@example.com","emails":` + emails(0, 1001) + `}`,
				`attribute "emails" has 1001 values`},
			{"patch, too many values", "PATCH", "/Users/" + id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"emails","value":` + emails(100, 1000) + `}]}`,
				`attribute "emails" has 1003 values`},
			{"patch, extension too large", "PATCH", "/Users/" + id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"` + big + `"}]}`,
				"the resource takes"},
		} {
			r := e.do(tc.method, tc.path, tc.body)
			if r.status != 400 || r.json["scimType"] != "invalidValue" || !strings.Contains(fmt.Sprint(r.json["detail"]), tc.detail) {
				t.Errorf("%s: %d %.300s; want 400 invalidValue with %q", tc.name, r.status, r.body, tc.detail)
			}
		}
		r := e.do("GET", "/Users/"+id, "")
		if got, _ := r.json["emails"].([]any); len(got) != 3 || r.json["meta"].(map[string]any)["version"] != `W/"1"` {
			t.Errorf("after the refused changes: %.300s", r.body)
		}
		if r := e.do("GET", "/Users?filter=userName+eq+%22bob%22", ""); r.json["totalResults"] != 0.0 {
			t.Errorf("a refused create stored a user: %s", r.body)
		}
	})
}
