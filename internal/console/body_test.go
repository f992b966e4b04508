package console

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
)

// TestConsoleBodies: a console POST must be a small URL-encoded form.
// Multipart bodies (which net/http would parse up to 32 MB, writing their
// files to $TMPDIR) are refused with 415 before anything parses them, and
// a form over MaxFormBytes with 413; no file is left behind; a real
// sign-in form still works.
func TestConsoleBodies(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	e := newEnv(t)
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	fw, _ := mw.CreateFormFile("userName", "big.bin")
	fw.Write(bytes.Repeat([]byte("x"), 1<<20))
	mw.Close()
	for _, tc := range []struct {
		name, path, ctype string
		body              io.Reader
		want              int
	}{
		{"multipart sign-in", "/t/acme/console/signin", mw.FormDataContentType(), bytes.NewReader(mp.Bytes()), http.StatusUnsupportedMediaType},
		{"multipart operator sign-in", "/operator/signin", mw.FormDataContentType(), bytes.NewReader(mp.Bytes()), http.StatusUnsupportedMediaType},
		{"JSON body", "/t/acme/console/signin", "application/json", strings.NewReader(`{"userName":"x"}`), http.StatusUnsupportedMediaType},
		{"oversized form", "/t/acme/console/signin", "application/x-www-form-urlencoded", strings.NewReader("userName=" + strings.Repeat("a", MaxFormBytes)), http.StatusRequestEntityTooLarge},
		{"oversized form, length unknown", "/operator/signin", "application/x-www-form-urlencoded", io.MultiReader(strings.NewReader("email="), strings.NewReader(strings.Repeat("a", 2*MaxFormBytes))), http.StatusRequestEntityTooLarge},
	} {
		req, err := http.NewRequest("POST", e.srv.URL+tc.path, tc.body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", tc.ctype)
		if strings.Contains(tc.name, "length unknown") {
			req.ContentLength = -1
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
	}
	// A multipart body past net/http's 32 MB in-memory limit, handed to
	// the handler directly (no server to clean up after it): parsing it
	// would leave its file in TMPDIR.
	var huge bytes.Buffer
	hw := multipart.NewWriter(&huge)
	hf, _ := hw.CreateFormFile("userName", "huge.bin")
	hf.Write(bytes.Repeat([]byte("x"), 40<<20))
	hw.Close()
	req := httptest.NewRequest("POST", "/t/acme/console/signin", &huge)
	req.Header.Set("Content-Type", hw.FormDataContentType())
	req.Host = "127.0.0.1"
	req.AddCookie(&http.Cookie{Name: preCookie, Value: "token"}) // so that a handler would read the form
	rec := httptest.NewRecorder()
	e.srv.Config.Handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnsupportedMediaType {
		t.Errorf("40 MB multipart sign-in: %d, want 415", rec.Code)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("files left in TMPDIR: %v", left)
	}
	// An ordinary sign-in is unaffected.
	b := e.browser()
	if r := b.signIn("owner", testPassword); r.status != http.StatusSeeOther {
		t.Errorf("sign-in with a real form: %d", r.status)
	}
}

// TestSetPasswordRespectsRank: an Admin (who holds "manage users") cannot
// set the Owner's password, an Owner can set an Admin's, and a new password
// ends the target's other sessions.
func TestSetPasswordRespectsRank(t *testing.T) {
	e := newEnv(t)
	admin := e.signedIn("admin")
	owner := e.signedIn("owner")
	ownerPhone := e.signedIn("owner")
	adminBefore, _ := e.db.User(t.Context(), e.tenant.ID, e.ids["owner"])

	r := admin.post("/users/"+e.ids["owner"], "/users/"+e.ids["owner"]+"/password", url.Values{"password": {"takeover-1234"}})
	wantStatus(t, "Admin sets the Owner's password", r, http.StatusForbidden)
	if u, _ := e.db.User(t.Context(), e.tenant.ID, e.ids["owner"]); u.PasswordHash != adminBefore.PasswordHash {
		t.Errorf("the refused change was stored")
	}
	if r := e.browser().signIn("owner", "takeover-1234"); r.status == http.StatusSeeOther {
		t.Errorf("signed in as the Owner with the Admin's password")
	}

	r = owner.post("/users/"+e.ids["admin"], "/users/"+e.ids["admin"]+"/password", url.Values{"password": {"new-admin-pass"}})
	wantStatus(t, "Owner sets an Admin's password", r, http.StatusSeeOther)
	if r := admin.get("/users"); r.status != http.StatusSeeOther {
		t.Errorf("the Admin's old session after their password changed: %d, want a redirect to sign-in", r.status)
	}

	// The Owner changes their own: this session stays, the other ends.
	r = owner.post("/users/"+e.ids["owner"], "/users/"+e.ids["owner"]+"/password", url.Values{"password": {"new-owner-pass"}})
	wantStatus(t, "Owner sets their own password", r, http.StatusSeeOther)
	if r := owner.get("/users"); r.status != http.StatusOK {
		t.Errorf("the session that changed the password: %d, want 200", r.status)
	}
	if r := ownerPhone.get("/users"); r.status != http.StatusSeeOther {
		t.Errorf("the Owner's other session: %d, want a redirect to sign-in", r.status)
	}
}

// TestLockOutIsPerAddress: failed sign-ins from one address lock that
// address out of the account, not the account's owner signing in from
// another address.
func TestLockOutIsPerAddress(t *testing.T) {
	e := newEnv(t)
	h := e.srv.Config.Handler
	signIn := func(addr, password string) int {
		t.Helper()
		get := httptest.NewRequest("GET", "/t/acme/console/signin", nil)
		get.RemoteAddr, get.Host = addr, "127.0.0.1"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, get)
		m := csrfRE.FindStringSubmatch(w.Body.String())
		if m == nil {
			t.Fatalf("no sign-in form: %d", w.Code)
		}
		form := url.Values{"userName": {"owner"}, "password": {password}, "csrf": {m[1]}}
		post := httptest.NewRequest("POST", "/t/acme/console/signin", strings.NewReader(form.Encode()))
		post.RemoteAddr, post.Host = addr, "127.0.0.1"
		post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, c := range w.Result().Cookies() {
			post.AddCookie(c)
		}
		w = httptest.NewRecorder()
		h.ServeHTTP(w, post)
		return w.Code
	}
	for range userThreshold {
		if code := signIn("198.51.100.7:4000", "wrong password"); code != http.StatusUnauthorized {
			t.Fatalf("attacker's guess: %d", code)
		}
	}
	if code := signIn("198.51.100.7:4001", testPassword); code != http.StatusTooManyRequests {
		t.Errorf("the attacker's address after %d failures: %d, want 429", userThreshold, code)
	}
	if code := signIn("127.0.0.1:5000", testPassword); code != http.StatusSeeOther {
		t.Errorf("the Owner from another address: %d, want a successful sign-in", code)
	}
	// An operator's unlock (scimd tenants unlock) clears the account's
	// failures from every address.
	for range userThreshold {
		signIn("203.0.113.9:4000", "wrong password")
	}
	n, err := e.db.ClearThrottles(t.Context(), AccountThrottles(e.tenant.ID, "OWNER"))
	if err != nil || n != 2 {
		t.Errorf("ClearThrottles = %d, %v; want the records of the two addresses", n, err)
	}
	if code := signIn("198.51.100.7:4002", testPassword); code != http.StatusSeeOther {
		t.Errorf("the locked address after the unlock: %d, want a successful sign-in", code)
	}
}
