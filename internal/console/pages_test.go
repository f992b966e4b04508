package console

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/scimd/scimd/internal/store"
)

func TestPagesByPermission(t *testing.T) {
	e := newEnv(t)
	anon := e.browser()
	r := anon.get("/keys")
	wantStatus(t, "anonymous GET /keys", r, http.StatusSeeOther)
	if !strings.Contains(r.location, "/signin") {
		t.Errorf("anonymous GET /keys redirects to %q, want the sign-in page", r.location)
	}
	pages := []string{"/", "/keys", "/settings", "/roles", "/users", "/users/id-member", "/archived", "/groups", "/activity"}
	want := map[string]map[string]int{
		"owner":  {},
		"admin":  {},
		"member": {"/keys": 403, "/settings": 403, "/roles": 403, "/activity": 403},
	}
	for user, denied := range want {
		b := e.signedIn(user)
		for _, p := range pages {
			status := 200
			if s, ok := denied[p]; ok {
				status = s
			}
			wantStatus(t, user+" GET "+p, b.get(p), status)
		}
	}
	// A Member cannot act on keys either, even with a valid token.
	m := e.signedIn("member")
	r = m.post("/", "/keys", url.Values{"name": {"x"}, "scope": {"write"}, "expires": {"never"}})
	wantStatus(t, "member POST /keys", r, http.StatusForbidden)
	wantBody(t, "member POST /keys", r, "Manage API keys")
	wantStatus(t, "unknown tenant", e.browser().get(e.srv.URL+"/t/nope/console/"), http.StatusNotFound)
}

func TestSignIn(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	r := b.signIn("owner", "wrong password")
	wantStatus(t, "wrong password", r, http.StatusUnauthorized)
	wantBody(t, "wrong password", r, "Wrong userName or password")
	wantStatus(t, "unknown user", b.signIn("nobody", testPassword), http.StatusUnauthorized)
	r = b.signIn("OWNER", testPassword) // userName is case-insensitive
	wantStatus(t, "sign-in", r, http.StatusSeeOther)
	home := b.get("/")
	wantStatus(t, "home", home, 200)
	wantBody(t, "home", home, "Owner")

	// Without the token, a form is refused.
	wantStatus(t, "POST without CSRF token", b.do("POST", "/keys", url.Values{"name": {"x"}, "scope": {"write"}}), http.StatusForbidden)
	// A cross-site POST is refused even with the token.
	tok := csrfRE.FindStringSubmatch(b.get("/keys").body)[1]
	r = b.do("POST", "/keys", url.Values{"csrf": {tok}, "name": {"x"}, "scope": {"write"}, "expires": {"never"}}, "Sec-Fetch-Site", "cross-site")
	wantStatus(t, "cross-site POST", r, http.StatusForbidden)
	r = b.do("POST", "/signin", url.Values{"userName": {"owner"}, "password": {testPassword}})
	wantStatus(t, "sign-in without its token", r, http.StatusForbidden)

	// Signing out ends the session in the store: the old cookie is dead.
	cookies := b.c.Jar.Cookies(mustURL(b.base + "/"))
	wantStatus(t, "sign out", b.post("/", "/signout", nil), http.StatusSeeOther)
	stale := e.browser()
	stale.c.Jar.SetCookies(mustURL(b.base+"/"), cookies)
	r = stale.get("/keys")
	wantStatus(t, "revoked session", r, http.StatusSeeOther)
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func TestSignInThrottled(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	for i := range userThreshold {
		wantStatus(t, fmt.Sprintf("failure %d", i+1), b.signIn("admin", "nope"), http.StatusUnauthorized)
	}
	r := b.signIn("admin", testPassword)
	wantStatus(t, "sign-in while locked", r, http.StatusTooManyRequests)
	wantBody(t, "sign-in while locked", r, "Too many failed sign-ins")
	// Another user is not locked out.
	wantStatus(t, "other user", b.signIn("member", testPassword), http.StatusSeeOther)
	if s := e.scim("PATCH", "/Users/"+e.ids["member"], e.key(), `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}`); s != 200 {
		t.Fatalf("deactivating member: %d", s)
	}
	wantStatus(t, "deactivated user", b.signIn("member", testPassword), http.StatusForbidden)
	want := map[string]float64{
		"scimd_console_signins_total{tenant,failure}":     userThreshold,
		"scimd_console_signins_total{tenant,locked_out}":  1,
		"scimd_console_signins_total{tenant,success}":     1,
		"scimd_console_signins_total{tenant,deactivated}": 1,
		"scimd_console_lockouts_total{account}":           1, // the last failure locked admin (from this address)
		"scimd_limit_rejections_total{signin}":            1,
	}
	if diff := cmp.Diff(want, e.counters()); diff != "" {
		t.Errorf("counters (-want +got):\n%s", diff)
	}
}

func TestDeactivationEndsSessions(t *testing.T) {
	e := newEnv(t)
	key := e.key()
	b := e.signedIn("member")
	wantStatus(t, "member home", b.get("/"), 200)
	if s := e.scim("PATCH", "/Users/id-member", key, fmt.Sprintf(patchActive, "false")); s != 200 {
		t.Fatalf("SCIM deactivate: %d", s)
	}
	r := b.get("/users")
	wantStatus(t, "deactivated user's session", r, http.StatusSeeOther)
	if !strings.Contains(r.location, "ended=deactivated") {
		t.Errorf("redirect to %q, want the sign-in page saying why", r.location)
	}
	r = e.browser().signIn("member", testPassword)
	wantStatus(t, "deactivated sign-in", r, http.StatusForbidden)
	wantBody(t, "deactivated sign-in", r, "deactivated")
	if s := e.scim("PATCH", "/Users/id-member", key, fmt.Sprintf(patchActive, "true")); s != 200 {
		t.Fatalf("SCIM reactivate: %d", s)
	}
	wantStatus(t, "reactivated sign-in", e.browser().signIn("member", testPassword), http.StatusSeeOther)
	// A deleted user's session ends too.
	m := e.signedIn("member")
	if s := e.scim("DELETE", "/Users/id-member", key, ""); s != 204 {
		t.Fatalf("SCIM delete: %d", s)
	}
	wantStatus(t, "deleted user's session", m.get("/"), http.StatusSeeOther)
}

var secretRE = regexp.MustCompile(`<code id="key-(id|basic)">([^<]+)</code>`)

func generated(t *testing.T, r resp) (id, basic string) {
	t.Helper()
	for _, m := range secretRE.FindAllStringSubmatch(r.body, -1) {
		if m[1] == "id" {
			id = m[2]
		} else {
			basic = m[2]
		}
	}
	if id == "" || basic == "" {
		t.Fatalf("no new key on the page (%d):\n%.2000s", r.status, r.body)
	}
	return id, basic
}

func TestKeys(t *testing.T) {
	e := newEnv(t)
	b := e.signedIn("admin")
	r := b.post("/keys", "/keys", url.Values{"name": {"Okta prod"}, "scope": {"write"}, "expires": {"720h"}})
	wantStatus(t, "generate", r, http.StatusSeeOther)
	r = b.follow(r)
	wantBody(t, "generate", r, "/t/acme/scim/v2")
	id, basic := generated(t, r)
	if s := e.scim("GET", "/Users", "Basic "+basic, ""); s != 200 {
		t.Fatalf("SCIM with the new key: %d", s)
	}
	list := b.get("/keys")
	wantBody(t, "list", list, "Okta prod")
	wantBody(t, "list", list, "admin") // created by
	if strings.Contains(list.body, basic) {
		t.Errorf("the key list shows the secret")
	}

	// Modify: read-only now.
	wantStatus(t, "modify", b.post("/keys", "/keys/"+id, url.Values{"name": {"Okta RO"}, "scope": {"read"}, "expires": {"keep"}}), http.StatusSeeOther)
	if s := e.scim("POST", "/Users", "Basic "+basic, `{"userName":"x"}`); s != 403 {
		t.Errorf("write with a read-only key: %d, want 403", s)
	}

	// Rotate without overlap (confirmed): the new secret works, with the
	// same User ID, and the old one stops.
	r = b.post("/keys", "/keys/"+id+"/rotate", url.Values{"overlap": {"0s"}, "confirmNoOverlap": {"on"}})
	wantStatus(t, "rotate", r, http.StatusSeeOther)
	id2, basic2 := generated(t, b.follow(r))
	if id2 != id {
		t.Errorf("rotation changed the User ID from %s to %s", id, id2)
	}
	if s := e.scim("GET", "/Users", "Basic "+basic2, ""); s != 200 {
		t.Errorf("rotated key: %d", s)
	}
	if s := e.scim("GET", "/Users", "Basic "+basic, ""); s != 401 {
		t.Errorf("old secret after rotation without overlap: %d, want 401", s)
	}
	// Rotate with an overlap: both work.
	r = b.post("/keys", "/keys/"+id+"/rotate", url.Values{"overlap": {"1h"}})
	_, basic3 := generated(t, b.follow(r))
	for _, k := range []string{basic2, basic3} {
		if s := e.scim("GET", "/Users", "Basic "+k, ""); s != 200 {
			t.Errorf("key during the overlap: %d", s)
		}
	}
	// The key's expiry cannot be stretched: its end only comes sooner.
	wantStatus(t, "push back a key's end", b.post("/keys", "/keys/"+id, url.Values{"name": {"n"}, "scope": {"write"}, "expires": {"never"}}), http.StatusConflict)
	wantStatus(t, "bring a key's end forward", b.post("/keys", "/keys/"+id, url.Values{"name": {"n"}, "scope": {"write"}, "expires": {"1m"}}), http.StatusSeeOther)
	// Revoke: both secrets are refused on the very next request.
	wantStatus(t, "revoke", b.post("/keys", "/keys/"+id+"/revoke", url.Values{"confirm": {"on"}}), http.StatusSeeOther)
	for _, k := range []string{basic2, basic3} {
		if s := e.scim("GET", "/Users", "Basic "+k, ""); s != 401 {
			t.Errorf("revoked key: %d, want 401", s)
		}
	}
	// An ended key stays ended: Modify cannot revive it, whatever it asks.
	for _, exp := range []string{"never", "720h", "keep"} {
		wantStatus(t, "modify a revoked key (expires "+exp+")",
			b.post("/keys", "/keys/"+id, url.Values{"name": {"Okta RO"}, "scope": {"write"}, "expires": {exp}}), http.StatusConflict)
	}
	wantStatus(t, "revoke another tenant's or unknown key", b.post("/keys", "/keys/nope/revoke", url.Values{"confirm": {"on"}}), 404)
}

func TestSettingsAndRoles(t *testing.T) {
	e := newEnv(t)
	o := e.signedIn("owner")
	r := o.post("/settings", "/settings", url.Values{"onDelete": {"purge"}, "apiKeys": {"on"}, "confirmNoSignIn": {"on"}})
	wantStatus(t, "save settings", r, http.StatusSeeOther)
	tn, _ := e.db.Tenant(t.Context(), "acme")
	if tn.PasswordSignIn || !tn.APIKeysEnabled || tn.OnDelete != "purge" {
		t.Errorf("settings = %+v", tn)
	}
	r = e.browser().signIn("member", testPassword)
	wantStatus(t, "sign-in with password sign-in off", r, http.StatusForbidden)
	wantBody(t, "sign-in with password sign-in off", r, "Password sign-in is turned off")
	o.post("/settings", "/settings", url.Values{"onDelete": {"archive"}, "apiKeys": {"on"}, "passwordSignIn": {"on"}})

	// Grant Member "manage API keys": the member reaches the keys page.
	a := e.signedIn("admin")
	wantStatus(t, "edit role", a.post("/roles", fmt.Sprintf("/roles/%d", e.roles["Member"]), url.Values{"perm": {"view_users", "manage_api_keys"}}), http.StatusSeeOther)
	m := e.signedIn("member")
	wantStatus(t, "member with manage_api_keys", m.get("/keys"), 200)
	// The Owner role is fixed, and only Owners grant it.
	wantStatus(t, "edit Owner role", a.post("/roles", fmt.Sprintf("/roles/%d", e.roles["Owner"]), nil), http.StatusBadRequest)
	wantStatus(t, "admin grants Owner", a.post("/users/id-member", "/users/id-member/roles", url.Values{"role": {fmt.Sprint(e.roles["Owner"])}}), http.StatusForbidden)
	wantStatus(t, "owner grants Owner", o.post("/users/id-member", "/users/id-member/roles", url.Values{"role": {fmt.Sprint(e.roles["Owner"])}}), http.StatusSeeOther)
	wantStatus(t, "member now reaches roles", m.get("/roles"), 200)
	// The last Owner keeps the role.
	o.post("/users/id-member", "/users/id-member/roles", url.Values{"role": {fmt.Sprint(e.roles["Member"])}})
	wantStatus(t, "remove last Owner", o.post("/users/id-owner", "/users/id-owner/roles", nil), http.StatusConflict)
}

func TestUsersActivityArchive(t *testing.T) {
	e := newEnv(t)
	key := e.key()
	if s := e.scim("POST", "/Users", key, `{"userName":"alice@example.com","name":{"givenName":"Alice"},"password":"pw-secret-1"}`); s != 201 {
		t.Fatalf("create: %d", s)
	}
	u, err := e.db.UserByUserName(t.Context(), e.tenant.ID, "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if s := e.scim("PATCH", "/Users/"+u.ID, key, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"name.givenName","value":"Alicia"},{"op":"replace","path":"active","value":false}]}`); s != 200 {
		t.Fatalf("patch: %d", s)
	}
	e.scim("GET", "/Users", "Basic bm9wZTpub3Bl", "") // a failed request is recorded too
	e.rec.Flush()

	b := e.signedIn("owner")
	r := b.get("/users?" + url.Values{"filter": {`userName sw "ali"`}}.Encode())
	wantBody(t, "search", r, "alice@example.com")
	if strings.Contains(r.body, "/users/id-owner") {
		t.Errorf("search lists users that do not match")
	}
	wantBody(t, "inactive list", b.get("/users?status=inactive"), "alice@example.com")
	if r := b.get("/users?status=active"); strings.Contains(r.body, "alice@example.com") {
		t.Errorf("active list shows an inactive user")
	}
	// Text that is no SCIM filter is searched as words (users_test.go); a
	// filter the store cannot apply is an error.
	wantStatus(t, "bad filter", b.get("/users?"+url.Values{"filter": {`nosuch eq "x"`}}.Encode()), http.StatusBadRequest)

	r = b.get("/users/" + u.ID)
	wantBody(t, "user history", r, "name.givenName")
	wantBody(t, "user history", r, "Alicia")
	r = b.get("/activity")
	for _, s := range []string{"PATCH /scim/v2/Users/" + u.ID, "Okta", "401", "active"} {
		wantBody(t, "activity", r, s)
	}
	if strings.Contains(r.body, "pw-secret-1") || strings.Contains(r.body, "argon2") {
		t.Errorf("activity shows a password")
	}
	if r := b.get("/activity?failed=on"); strings.Contains(r.body, "PATCH /scim") || !strings.Contains(r.body, "401") {
		t.Errorf("failures-only activity is wrong:\n%.1500s", r.body)
	}

	// Archive and restore.
	if s := e.scim("DELETE", "/Users/"+u.ID, key, ""); s != 204 {
		t.Fatalf("delete: %d", s)
	}
	wantBody(t, "archived", b.get("/archived"), "alice@example.com")
	if s := e.scim("POST", "/Users", key, `{"userName":"ALICE@example.com"}`); s != 201 {
		t.Fatalf("re-create: %d", s)
	}
	r = b.post("/archived", "/archived/"+u.ID+"/restore", nil)
	wantStatus(t, "restore with the userName taken", r, http.StatusConflict)
	wantBody(t, "restore with the userName taken", r, "another user now has the same userName")
	other, _ := e.db.UserByUserName(t.Context(), e.tenant.ID, "alice@example.com")
	e.scim("DELETE", "/Users/"+other.ID, key, "")
	wantStatus(t, "restore", b.post("/archived", "/archived/"+u.ID+"/restore", nil), http.StatusSeeOther)
	if _, err := e.db.User(t.Context(), e.tenant.ID, u.ID); err != nil {
		t.Errorf("restored user: %v", err)
	}
	m := e.signedIn("member")
	wantStatus(t, "member restore", m.post("/archived", "/archived/"+other.ID+"/restore", nil), http.StatusForbidden)
}

func TestOperator(t *testing.T) {
	e := newEnv(t)
	if _, err := e.db.CreateOperator(t.Context(), "ops@vendor.example", pwHash, time.Now()); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.base = e.srv.URL + "/operator"
	wantStatus(t, "anonymous", b.get("/"), http.StatusSeeOther)
	// A tenant session is no operator session.
	wantStatus(t, "tenant user's cookie", e.signedIn("owner").get(e.srv.URL+"/operator/"), http.StatusSeeOther)
	r := b.post("/signin", "/signin", url.Values{"email": {"OPS@vendor.example"}, "password": {testPassword}})
	wantStatus(t, "operator sign-in", r, http.StatusSeeOther)
	wantBody(t, "tenants", b.get("/"), "acme")
	wantStatus(t, "deactivate", b.post("/tenants/acme", "/tenants/acme/provisioning", url.Values{"active": {"off"}}), http.StatusSeeOther)
	key := e.key()
	if s := e.scim("GET", "/Users", key, ""); s != 403 {
		t.Errorf("SCIM with provisioning deactivated: %d, want 403", s)
	}
	b.post("/tenants/acme", "/tenants/acme/provisioning", url.Values{"active": {"on"}})
	if s := e.scim("GET", "/Users", key, ""); s != 200 {
		t.Errorf("SCIM with provisioning activated: %d", s)
	}
	wantStatus(t, "purge unconfirmed", b.post("/tenants/acme", "/tenants/acme/purge", url.Values{"user": {"member"}}), http.StatusBadRequest)
	m := e.signedIn("member")
	wantStatus(t, "purge", b.post("/tenants/acme", "/tenants/acme/purge", url.Values{"user": {"member"}, "confirm": {"on"}}), http.StatusSeeOther)
	if _, err := e.db.User(t.Context(), e.tenant.ID, "id-member"); err == nil {
		t.Errorf("purged user still exists")
	}
	wantStatus(t, "purged user's session", m.get("/"), http.StatusSeeOther)
	wantStatus(t, "create tenant", b.post("/", "/tenants", url.Values{"name": {"bravo"}}), http.StatusSeeOther)
	if _, err := e.db.Tenant(t.Context(), "bravo"); err != nil {
		t.Errorf("created tenant: %v", err)
	}
}

func mustDecode(t *testing.T, b64 string) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

func TestGroupPages(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	g, err := e.db.CreateGroup(ctx, e.tenant.ID, store.Group{ID: "g-eng", Created: time.Now(), Modified: time.Now(),
		Attrs: map[string]any{"displayName": "Engineering", "externalId": "ext-eng"}, Members: []store.Member{{Value: e.ids["member"]}}})
	if err != nil {
		t.Fatal(err)
	}
	b := e.signedIn("member") // "view users" covers groups
	r := b.get("/groups?filter=" + url.QueryEscape(`displayName sw "eng"`))
	wantStatus(t, "groups search", r, 200)
	wantBody(t, "groups search", r, "Engineering")
	wantBody(t, "groups search", r, "1 group.")
	r = b.get("/groups?filter=" + url.QueryEscape(`displayName eq "Sales"`))
	wantBody(t, "groups search miss", r, "No groups match.")
	wantStatus(t, "bad filter", b.get("/groups?filter="+url.QueryEscape(`displayName eq`)), 400)
	r = b.get("/groups/" + g.ID)
	wantStatus(t, "group page", r, 200)
	wantBody(t, "group page", r, "ext-eng")
	wantBody(t, "group page", r, e.ids["member"])
	wantStatus(t, "unknown group", b.get("/groups/nope"), 404)
}
