package console

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/scimd/scimd/internal/activity"
	"github.com/scimd/scimd/internal/auth"
	"github.com/scimd/scimd/internal/metrics"
	"github.com/scimd/scimd/internal/server"
	"github.com/scimd/scimd/internal/store"
	"github.com/scimd/scimd/internal/store/sqlite"
)

const testPassword = "correct horse battery"

var (
	hashOnce sync.Once
	pwHash   string
)

// env is a running scimd (SCIM and console) with tenant acme: provisioning
// active, default roles, users owner (Owner), admin (Admin), member
// (Member), all with testPassword.
type env struct {
	t      testing.TB
	srv    *httptest.Server
	db     *sqlite.DB
	rec    *activity.Recorder
	tenant store.Tenant
	ids    map[string]string // userName → id
	roles  map[string]int64
	reg    *prometheus.Registry // the console's metrics
}

func newEnv(t testing.TB) *env { t.Helper(); return newEnvWith(t, ":memory:", nil) }

// newEnvAt is newEnv on the SQLite database at path.
func newEnvAt(t testing.TB, path string) *env { t.Helper(); return newEnvWith(t, path, nil) }

// newEnvClock is newEnv with the clock of SCIM and the console set to now.
func newEnvClock(t testing.TB, now func() time.Time) *env {
	t.Helper()
	return newEnvWith(t, ":memory:", now)
}

// newEnvWith is newEnv on the SQLite database at path, with the clock now
// (nil: the real one).
func newEnvWith(t testing.TB, path string, now func() time.Time) *env {
	t.Helper()
	hashOnce.Do(func() { pwHash, _ = auth.HashPassword(context.Background(), testPassword) })
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	rec := activity.New(activity.Config{Store: db, Logger: logger})
	scim := server.New(server.Config{Store: db, Logger: logger, Activity: rec, Now: now})
	reg := prometheus.NewRegistry()
	c := New(Config{Store: db, Console: db, Logger: logger, Next: scim, Metrics: metrics.New(reg), Now: now})
	e := &env{t: t, srv: httptest.NewServer(c), db: db, rec: rec, ids: map[string]string{}, roles: map[string]int64{}, reg: reg}
	t.Cleanup(func() { e.srv.Close(); rec.Close(); db.Close() })
	tn, err := db.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	e.tenant, err = db.UpdateTenant(ctx, "acme", func(t *store.Tenant) error { t.ProvisioningActive = true; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if err := db.EnsureDefaultRoles(ctx, tn.ID); err != nil {
		t.Fatal(err)
	}
	roles, _ := db.Roles(ctx, tn.ID)
	for _, r := range roles {
		e.roles[r.Name] = r.ID
	}
	for name, role := range map[string]string{"owner": store.RoleOwner, "admin": store.RoleAdmin, "member": store.RoleMember} {
		e.addUser(name, role)
	}
	return e
}

func (e *env) addUser(name, role string) string {
	e.t.Helper()
	ctx := context.Background()
	id := "id-" + name
	if _, err := e.db.CreateUser(ctx, e.tenant.ID, store.User{ID: id, PasswordHash: pwHash, Attrs: map[string]any{"userName": name, "active": true}}); err != nil {
		e.t.Fatal(err)
	}
	if role != "" {
		if err := e.db.SetUserRoles(ctx, e.tenant.ID, id, []int64{e.roles[role]}); err != nil {
			e.t.Fatal(err)
		}
	}
	e.ids[name] = id
	return id
}

// browser is a client with its own cookies.
type browser struct {
	e    *env
	c    *http.Client
	base string
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, base: e.srv.URL + "/t/acme/console", c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type resp struct {
	status   int
	body     string
	location string
}

func (b *browser) do(method, path string, form url.Values, hdr ...string) resp {
	b.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	u := path
	if !strings.HasPrefix(path, "http") {
		u = b.base + path
	}
	req, _ := http.NewRequest(method, u, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, string(raw), res.Header.Get("Location")}
}

func (b *browser) get(path string) resp { return b.do("GET", path, nil) }

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// post submits a form of the page at page with the page's CSRF token.
func (b *browser) post(page, path string, form url.Values) resp {
	b.e.t.Helper()
	r := b.get(page)
	m := csrfRE.FindStringSubmatch(r.body)
	if m == nil {
		b.e.t.Fatalf("GET %s (%d): no CSRF token in the page", page, r.status)
	}
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", m[1])
	return b.do("POST", path, form)
}

func (b *browser) signIn(user, password string) resp {
	b.e.t.Helper()
	return b.post("/signin", "/signin", url.Values{"userName": {user}, "password": {password}})
}

func (e *env) signedIn(user string) *browser {
	e.t.Helper()
	b := e.browser()
	if r := b.signIn(user, testPassword); r.status != http.StatusSeeOther {
		e.t.Fatalf("sign-in of %s: %d %s", user, r.status, r.body)
	}
	return b
}

// scim sends a SCIM request with the Authorization header value.
func (e *env) scim(method, path, authz, body string) int {
	e.t.Helper()
	return e.scimAs("", method, path, authz, body)
}

// key makes a read-write key directly in the store.
func (e *env) key() string {
	id, secret := auth.NewKey()
	if err := e.db.CreateAPIKey(context.Background(), store.APIKey{ID: id, TenantID: e.tenant.ID, Name: "t " + id, Scope: store.ScopeWrite, SecretHash: auth.HashSecret(secret), CreatedBy: "test"}); err != nil {
		e.t.Fatal(err)
	}
	return "Basic " + auth.Basic(id, secret)
}

// counters returns the values of the console's counters that are not 0, by name and
// label values ("scimd_console_signins_total{tenant,failure}").
func (e *env) counters() map[string]float64 {
	e.t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "scimd_") {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.GetCounter() == nil || m.GetCounter().GetValue() == 0 {
				continue
			}
			var vals []string
			for _, l := range m.GetLabel() {
				vals = append(vals, l.GetValue())
			}
			out[mf.GetName()+"{"+strings.Join(vals, ",")+"}"] = m.GetCounter().GetValue()
		}
	}
	return out
}

func wantStatus(t *testing.T, what string, r resp, status int) {
	t.Helper()
	if r.status != status {
		t.Errorf("%s: status %d, want %d (location %q)\n%.600s", what, r.status, status, r.location, r.body)
	}
}

func wantBody(t *testing.T, what string, r resp, s string) {
	t.Helper()
	if !strings.Contains(r.body, s) {
		t.Errorf("%s: page does not contain %q\n%.1500s", what, s, r.body)
	}
}

const patchActive = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":%s}}]}`

func TestSweepSessions(t *testing.T) {
	e := newEnv(t)
	b := e.signedIn("owner")
	if r := b.get("/"); r.status != 200 {
		t.Fatalf("signed-in home: %d", r.status)
	}
	// A sweeper that lives 13 hours ahead sees the session as expired and
	// deletes its row; the server, on real time, then no longer finds it.
	late := time.Now().Add(13 * time.Hour)
	c := New(Config{Store: e.db, Console: e.db, Now: func() time.Time { return late }})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go c.SweepSessions(ctx, time.Millisecond)
	for deadline := time.Now().Add(5 * time.Second); b.get("/").status == 200; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the sweeper did not delete the expired session")
		}
	}
}

// TestSCIMCannotSetAdministratorPasswords: a SCIM key cannot set the
// console password of a user whose role manages the site (Owner, Admin),
// so a leaked key does not open the console; a Member's it can (password
// sync). The request succeeds and its activity says why the password was
// kept.
func TestSCIMCannotSetAdministratorPasswords(t *testing.T) {
	e := newEnv(t)
	key := e.key()
	const pushed = "Pushed-by-SCIM-42!"
	for _, tc := range []struct {
		user    string
		changes bool
	}{{"owner", false}, {"admin", false}, {"member", true}} {
		for _, body := range []string{
			`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"password","value":"` + pushed + `"}]}`,
			`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"password":"` + pushed + `"}}]}`,
		} {
			if st := e.scim("PATCH", "/Users/"+e.ids[tc.user], key, body); st != 200 {
				t.Fatalf("PATCH %s's password: %d", tc.user, st)
			}
		}
		if st := e.scim("PUT", "/Users/"+e.ids[tc.user], key,
			`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"`+tc.user+`","password":"`+pushed+`"}`); st != 200 {
			t.Fatalf("PUT %s with a password: %d", tc.user, st)
		}
		newOK := e.browser().signIn(tc.user, pushed).status == http.StatusSeeOther
		oldOK := e.browser().signIn(tc.user, testPassword).status == http.StatusSeeOther
		if newOK != tc.changes || oldOK == tc.changes {
			t.Errorf("%s after SCIM set its password: signs in with the pushed password %v, with the old one %v", tc.user, newOK, oldOK)
		}
	}
	e.rec.Flush()
	as, _, err := e.db.ActivityLog(t.Context(), e.tenant.ID, store.ActivityQuery{ResourceID: e.ids["owner"], Limit: 10})
	if err != nil || len(as) == 0 {
		t.Fatalf("owner's activity: %v, %v", as, err)
	}
	found := false
	for _, c := range as[0].Changes {
		found = found || c.Attr == "(leniency)" && strings.Contains(c.New, "password not changed")
	}
	if !found {
		t.Errorf("the owner's activity does not say the password was kept: %+v", as[0].Changes)
	}
}

// TestSettingsConfirmNoSignIn: turning password sign-in off, which locks
// everyone out of the console, asks for confirmation first and changes
// nothing until it is given.
func TestSettingsConfirmNoSignIn(t *testing.T) {
	e := newEnv(t)
	b := e.signedIn("owner")
	r := b.post("/settings", "/settings", url.Values{"apiKeys": {"on"}, "onDelete": {"purge"}})
	if r.status != http.StatusConflict || !strings.Contains(r.body, "locks everyone out of this console") ||
		!strings.Contains(r.body, `name="confirmNoSignIn"`) || strings.Contains(r.body, `id="passwordSignIn" checked`) {
		t.Errorf("turning password sign-in off without confirming: %d\n%.2000s", r.status, r.body)
	}
	if tn, _ := e.db.Tenant(t.Context(), "acme"); !tn.PasswordSignIn || tn.OnDelete != store.OnDeleteArchive {
		t.Errorf("the tenant changed without the confirmation: %+v", tn)
	}
	r = b.post("/settings", "/settings", url.Values{"apiKeys": {"on"}, "onDelete": {"purge"}, "confirmNoSignIn": {"on"}})
	if r.status != http.StatusSeeOther {
		t.Errorf("with the confirmation: %d %.500s", r.status, r.body)
	}
	if tn, _ := e.db.Tenant(t.Context(), "acme"); tn.PasswordSignIn || tn.OnDelete != store.OnDeletePurge {
		t.Errorf("after confirming: %+v", tn)
	}
}
