package console

import (
	"net/http"
	"net/url"
	"path"
	"strings"
	"testing"
	"time"
)

func TestNextPath(t *testing.T) {
	const tenant = "/t/acme/console"
	for _, tc := range []struct {
		prefix, next, want string
	}{
		{tenant, "/t/acme/console/users?filter=x", "/t/acme/console/users?filter=x"},
		{tenant, "/t/acme/console/users?filter=" + url.QueryEscape(`userName sw "a"`) + "&sort=userName", "/t/acme/console/users?filter=userName+sw+%22a%22&sort=userName"},
		{tenant, "/t/acme/console/", "/t/acme/console/"},
		{tenant, "/t/acme/console/users/u%201", "/t/acme/console/users/u%201"},
		{tenant, "/t/acme/console/./users", "/t/acme/console/./users"}, // resolves below the prefix
		{tenant, "", tenant + "/"},
		{tenant, "/t/acme/console", tenant + "/"},
		{tenant, "/t/acme/consoles/x", tenant + "/"},
		{tenant, "/t/acme/console/signin", tenant + "/"},
		{tenant, "/t/acme/console/signin?next=/t/acme/console/users", tenant + "/"},
		{tenant, "/users", tenant + "/"}, // a path below no prefix
		{tenant, "//evil.example/t/acme/console/", tenant + "/"},
		{tenant, "https://evil.example/t/acme/console/", tenant + "/"},
		{tenant, "https:/t/acme/console/", tenant + "/"},
		{tenant, "/\\evil.example", tenant + "/"},
		{tenant, "/t/acme/console/\\evil", tenant + "/"},
		{tenant, "/t/acme/console//evil.example", tenant + "/"},
		{tenant, "/t/acme/console/../../t/globex/console/keys", tenant + "/"},
		{tenant, "/t/acme/console/%2e%2e/%2e%2e/globex/console/", tenant + "/"},
		{tenant, "/t/acme/console/%2F%2Fevil.example", tenant + "/"},
		{tenant, "/t/acme/console/%5Cevil", tenant + "/"},
		{tenant, "/t/globex/console/keys", tenant + "/"}, // another tenant's console
		{tenant, "/operator/", tenant + "/"},
		{tenant, "/t/acme/console/users\r\nSet-Cookie: x=y", tenant + "/"},
		{tenant, "/t/acme/console/users%0d%0aX: y", tenant + "/"},
		{tenant, "/t/acme/console/users\t", tenant + "/"},
		{tenant, "/t/acme/console/" + strings.Repeat("a", maxNext), tenant + "/"},
		{"/console", "/console/users?filter=x", "/console/users?filter=x"},
		{"/console", "/t/acme/console/users", "/console/"},
		{operatorPrefix, "/operator/tenants/acme", "/operator/tenants/acme"},
		{operatorPrefix, "/operator/webhooks?state=failing", "/operator/webhooks?state=failing"},
		{operatorPrefix, "/t/acme/console/", "/operator/"},
		{operatorPrefix, "//operator/", "/operator/"},
	} {
		if got := nextPath(tc.prefix, tc.next); got != tc.want {
			t.Errorf("nextPath(%q, %q) = %q, want %q", tc.prefix, tc.next, got, tc.want)
		}
	}
}

// FuzzNextPath: whatever next is, signing in leads to a local path below
// the console's prefix.
func FuzzNextPath(f *testing.F) {
	for _, s := range []string{"/t/acme/console/users?filter=x", "//evil", "https://evil", "/\\evil", "/t/acme/console/../x",
		"/t/acme/console/%2e%2e/x", "/t/other/console/", "/t/acme/console/\x00", "/t/acme/console/users#frag"} {
		f.Add(s)
	}
	const prefix = "/t/acme/console"
	f.Fuzz(func(t *testing.T, next string) {
		got := nextPath(prefix, next)
		if got != prefix+"/" && got != next {
			t.Fatalf("nextPath(%q) = %q: neither next nor home", next, got)
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("nextPath(%q) = %q, which does not parse: %v", next, got, err)
		}
		if u.Scheme != "" || u.Host != "" || strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\\r\n\t") {
			t.Fatalf("nextPath(%q) = %q leaves the site", next, got)
		}
		if p := path.Clean(u.Path); !strings.HasPrefix(p+"/", prefix+"/") {
			t.Fatalf("nextPath(%q) = %q resolves to %q, outside %s", next, got, p, prefix)
		}
		// What the browser resolves the redirect to stays below the prefix.
		base, _ := url.Parse("https://scimd.example" + prefix + "/signin")
		if r := base.ResolveReference(u); r.Host != "scimd.example" || !strings.HasPrefix(path.Clean(r.Path)+"/", prefix+"/") {
			t.Fatalf("nextPath(%q) = %q resolves to %s", next, got, r)
		}
	})
}

// TestDeepLinkSignIn: a page asked for while signed out, its query string
// included, is where signing in leads; for the tenant console, after a
// session ended, and for the operator console.
func TestDeepLinkSignIn(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	r := b.get("/users?filter=x&sort=userName")
	want := "/t/acme/console/signin?next=" + url.QueryEscape("/t/acme/console/users?filter=x&sort=userName")
	if r.status != http.StatusSeeOther || r.location != want {
		t.Fatalf("signed out: %d to %q, want 303 to %q", r.status, r.location, want)
	}
	signin := b.get(strings.TrimPrefix(r.location, "/t/acme/console"))
	wantBody(t, "sign-in page", signin, `name="next" value="/t/acme/console/users?filter=x&amp;sort=userName"`)
	r = b.post("/signin", "/signin", url.Values{"userName": {"owner"}, "password": {testPassword}, "next": {"/t/acme/console/users?filter=x&sort=userName"}})
	if r.status != http.StatusSeeOther || r.location != "/t/acme/console/users?filter=x&sort=userName" {
		t.Errorf("signed in: %d to %q", r.status, r.location)
	}
	for _, next := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example", "/t/globex/console/"} {
		r := e.browser().post("/signin", "/signin", url.Values{"userName": {"owner"}, "password": {testPassword}, "next": {next}})
		if r.status != http.StatusSeeOther || r.location != "/t/acme/console/" {
			t.Errorf("signed in with next %q: %d to %q, want the console's home", next, r.status, r.location)
		}
	}

	// The operator console.
	if _, err := e.db.CreateOperator(t.Context(), "ops@vendor.example", pwHash, time.Now()); err != nil {
		t.Fatal(err)
	}
	op := e.browser()
	op.base = e.srv.URL + "/operator"
	r = op.get("/tenants/acme?x=1")
	want = "/operator/signin?next=" + url.QueryEscape("/operator/tenants/acme?x=1")
	if r.status != http.StatusSeeOther || r.location != want {
		t.Fatalf("operator signed out: %d to %q, want %q", r.status, r.location, want)
	}
	r = op.post("/signin", "/signin", url.Values{"email": {"ops@vendor.example"}, "password": {testPassword}, "next": {"/operator/tenants/acme?x=1"}})
	if r.status != http.StatusSeeOther || r.location != "/operator/tenants/acme?x=1" {
		t.Errorf("operator signed in: %d to %q", r.status, r.location)
	}
	r = e.browser().post(e.srv.URL+"/operator/signin", e.srv.URL+"/operator/signin", url.Values{"email": {"ops@vendor.example"}, "password": {testPassword}, "next": {"/t/acme/console/"}})
	if r.status != http.StatusSeeOther || r.location != "/operator/" {
		t.Errorf("operator signed in with a tenant's next: %d to %q", r.status, r.location)
	}
}
