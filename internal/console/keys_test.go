package console

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimd/scimd/internal/auth"
	"github.com/scimd/scimd/internal/store"
)

// follow GETs the Location of a redirect, as a browser does after a 303.
func (b *browser) follow(r resp) resp {
	b.e.t.Helper()
	if r.status != http.StatusSeeOther || r.location == "" {
		b.e.t.Fatalf("not a 303 with a Location: %d %q\n%.600s", r.status, r.location, r.body)
	}
	return b.get(b.e.srv.URL + r.location)
}

// keys returns the tenant's keys.
func (e *env) keys() []store.APIKey {
	e.t.Helper()
	ks, err := e.db.APIKeys(context.Background(), e.tenant.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return ks
}

// storeKey makes a key of the tenant directly in the store and returns
// its id and Authorization header value.
func (e *env) storeKey(name string, expires time.Time) (id, authz string) {
	e.t.Helper()
	id, secret := auth.NewKey()
	k := store.APIKey{ID: id, TenantID: e.tenant.ID, Name: name, Scope: store.ScopeWrite, SecretHash: auth.HashSecret(secret),
		CreatedBy: "test", Created: time.Now().Add(-48 * time.Hour).UTC(), Expires: expires}
	if err := e.db.CreateAPIKey(context.Background(), k); err != nil {
		e.t.Fatal(err)
	}
	return id, "Basic " + auth.Basic(id, secret)
}

// TestKeysPostRedirectGet: generating answers 303 to the page that shows
// the secret; that page shows it once (a reload, or another session,
// does not) and reloading it creates nothing.
func TestKeysPostRedirectGet(t *testing.T) {
	e := newEnv(t)
	b := e.signedIn("admin")
	r := b.post("/keys", "/keys", url.Values{"name": {"Okta prod"}, "scope": {"write"}, "expires": {"never"}})
	ks := e.keys()
	if len(ks) != 1 {
		t.Fatalf("%d keys after one Generate", len(ks))
	}
	id := ks[0].ID
	if r.status != http.StatusSeeOther || r.location != "/t/acme/console/keys?new="+id {
		t.Fatalf("Generate: %d, Location %q; want 303 to /t/acme/console/keys?new=%s", r.status, r.location, id)
	}
	if strings.Contains(r.location, "scimd_") {
		t.Errorf("the redirect carries the secret: %s", r.location)
	}
	shown := b.follow(r)
	wantStatus(t, "the page after Generate", shown, http.StatusOK)
	gotID, basic := generated(t, shown)
	if gotID != id {
		t.Errorf("the page shows key %s, want %s", gotID, id)
	}
	if s := e.scim("GET", "/Users", "Basic "+basic, ""); s != 200 {
		t.Errorf("SCIM with the key shown: %d", s)
	}
	// Reloading shows no secret, says why, and creates nothing.
	for i := range 2 {
		again := b.follow(r)
		wantStatus(t, "reload", again, http.StatusOK)
		if strings.Contains(again.body, `id="key-secret"`) || strings.Contains(again.body, basic) {
			t.Errorf("reload %d shows the secret again", i)
		}
		wantBody(t, "reload", again, "was shown once")
	}
	if n := len(e.keys()); n != 1 {
		t.Errorf("%d keys after reloading, want 1", n)
	}
	// Another session of the same user cannot take it either.
	r2 := e.signedIn("admin").get(r.location)
	if strings.Contains(r2.body, `id="key-secret"`) {
		t.Errorf("another session sees the secret")
	}
}

// TestKeysRotate: rotation keeps the User ID, defaults to a day of
// overlap, and refuses "No overlap" without its confirmation, changing
// nothing.
func TestKeysRotate(t *testing.T) {
	e := newEnv(t)
	b := e.signedIn("admin")
	id, old := e.storeKey("Okta", time.Time{})
	page := b.get("/keys")
	wantBody(t, "keys page", page, `<option value="24h" selected>`)
	before := e.keys()[0]

	r := b.post("/keys", "/keys/"+id+"/rotate", url.Values{"overlap": {"0s"}})
	wantStatus(t, "no overlap without confirmation", r, http.StatusBadRequest)
	wantBody(t, "no overlap without confirmation", r, "Nothing was changed")
	if after := e.keys()[0]; !bytes.Equal(after.SecretHash, before.SecretHash) || !after.Rotated.IsZero() {
		t.Errorf("the refused rotation changed the key: %+v", after)
	}
	if s := e.scim("GET", "/Users", old, ""); s != 200 {
		t.Errorf("the secret after a refused rotation: %d", s)
	}

	r = b.post("/keys", "/keys/"+id+"/rotate", url.Values{"overlap": {"0s"}, "confirmNoOverlap": {"on"}})
	if r.status != http.StatusSeeOther || r.location != "/t/acme/console/keys?new="+id {
		t.Fatalf("confirmed rotation: %d, Location %q", r.status, r.location)
	}
	shown := b.follow(r)
	wantBody(t, "after rotating", shown, "The User ID is unchanged")
	gotID, basic := generated(t, shown)
	if gotID != id {
		t.Errorf("rotation shows User ID %s, want %s", gotID, id)
	}
	if s := e.scim("GET", "/Users", old, ""); s != 401 {
		t.Errorf("old secret after a rotation without overlap: %d, want 401", s)
	}
	if s := e.scim("GET", "/Users", "Basic "+basic, ""); s != 200 {
		t.Errorf("new secret: %d", s)
	}
	if n := len(e.keys()); n != 1 {
		t.Errorf("%d keys after rotating, want 1", n)
	}
	wantStatus(t, "rotate an unknown key", b.post("/keys", "/keys/nope/rotate", url.Values{"overlap": {"1h"}}), http.StatusNotFound)
}

// TestKeysRotationOverlap: during the overlap both secrets work; after it
// only the new one does. The key's row tells the rotation's history.
func TestKeysRotationOverlap(t *testing.T) {
	start := time.Now().UTC()
	var later atomic.Int64 // how far the clock is ahead of start
	e := newEnvClock(t, func() time.Time { return start.Add(time.Duration(later.Load())) })
	b := e.signedIn("admin")
	id, old := e.storeKey("Okta", time.Time{})
	r := b.post("/keys", "/keys/"+id+"/rotate", url.Values{"overlap": {"1h"}})
	_, basic := generated(t, b.follow(r))
	for _, k := range []string{old, "Basic " + basic} {
		if s := e.scim("GET", "/Users", k, ""); s != 200 {
			t.Errorf("a secret during the overlap: %d", s)
		}
	}
	page := b.get("/keys")
	wantBody(t, "row", page, "secret rotated at")
	wantBody(t, "row", page, "previous secret valid until")

	later.Store(int64(time.Hour))
	if s := e.scim("GET", "/Users", old, ""); s != 401 {
		t.Errorf("old secret after the overlap: %d, want 401", s)
	}
	if s := e.scim("GET", "/Users", "Basic "+basic, ""); s != 200 {
		t.Errorf("new secret after the overlap: %d", s)
	}
}

// TestKeysUniqueNames: a name another live key has is refused (409),
// ignoring case, keeping what was typed; a revoked key's name is free.
func TestKeysUniqueNames(t *testing.T) {
	e := newEnv(t)
	b := e.signedIn("admin")
	first, _ := e.storeKey("Okta", time.Time{})
	second, _ := e.storeKey("Entra", time.Time{})

	r := b.post("/keys", "/keys", url.Values{"name": {"OKTA"}, "scope": {"read"}, "expires": {"720h"}})
	wantStatus(t, "taken name", r, http.StatusConflict)
	wantBody(t, "taken name", r, "Another key is already named")
	wantBody(t, "taken name", r, `value="OKTA"`)
	wantBody(t, "taken name", r, `<option value="read" selected>`)
	if n := len(e.keys()); n != 2 {
		t.Errorf("%d keys after a refused Generate, want 2", n)
	}
	r = b.post("/keys", "/keys/"+second, url.Values{"name": {"okta"}, "scope": {"write"}, "expires": {"keep"}})
	wantStatus(t, "rename to a taken name", r, http.StatusConflict)
	wantBody(t, "rename to a taken name", r, `value="okta"`)
	if k, _ := e.db.APIKey(t.Context(), second); k.Name != "Entra" {
		t.Errorf("the refused rename changed the name to %q", k.Name)
	}

	wantStatus(t, "revoke", b.post("/keys", "/keys/"+first+"/revoke", url.Values{"confirm": {"on"}}), http.StatusSeeOther)
	wantStatus(t, "a revoked key's name", b.post("/keys", "/keys", url.Values{"name": {"okta"}, "scope": {"write"}, "expires": {"never"}}), http.StatusSeeOther)
}

// TestKeysRevokeConfirm: revoking needs its checkbox (not only the
// page's JavaScript confirm); without it nothing changes.
func TestKeysRevokeConfirm(t *testing.T) {
	e := newEnv(t)
	b := e.signedIn("admin")
	id, authz := e.storeKey("Okta", time.Time{})
	wantBody(t, "keys page", b.get("/keys"), `name="confirm"`)
	r := b.post("/keys", "/keys/"+id+"/revoke", nil)
	wantStatus(t, "revoke without confirmation", r, http.StatusBadRequest)
	if s := e.scim("GET", "/Users", authz, ""); s != 200 {
		t.Errorf("key after a refused revocation: %d", s)
	}
	r = b.post("/keys", "/keys/"+id+"/revoke", url.Values{"confirm": {"on"}})
	if r.status != http.StatusSeeOther || r.location != "/t/acme/console/keys?done=revoked&key="+id {
		t.Fatalf("revoke: %d, Location %q", r.status, r.location)
	}
	wantBody(t, "after revoking", b.follow(r), "Key "+id+" revoked")
	if s := e.scim("GET", "/Users", authz, ""); s != 401 {
		t.Errorf("revoked key: %d, want 401", s)
	}
	// The flash names only the tenant's keys.
	if r := b.get("/keys?done=revoked&key=" + url.QueryEscape("<b>call us</b>")); strings.Contains(r.body, `id="flash"`) {
		t.Errorf("a made-up key id gets a flash")
	}
}

// TestKeysReplace: an expired key offers a replacement with its name,
// which records its successor; a live key cannot be replaced.
func TestKeysReplace(t *testing.T) {
	e := newEnv(t)
	b := e.signedIn("admin")
	old, _ := e.storeKey("Okta", time.Now().Add(-time.Hour))
	live, _ := e.storeKey("Entra", time.Time{})
	page := b.get("/keys")
	wantBody(t, "keys page", page, "Generate a replacement")
	wantBody(t, "keys page", page, `action="/t/acme/console/keys/`+old+`/replace"`)

	r := b.post("/keys", "/keys/"+live+"/replace", url.Values{"name": {"Entra 2"}, "scope": {"write"}, "expires": {"never"}})
	wantStatus(t, "replace a live key", r, http.StatusConflict)

	r = b.post("/keys", "/keys/"+old+"/replace", url.Values{"name": {"Okta"}, "scope": {"write"}, "expires": {"never"}})
	wantStatus(t, "replace", r, http.StatusSeeOther)
	k, err := e.db.APIKey(t.Context(), old)
	if err != nil || k.SuccessorID == "" || r.location != "/t/acme/console/keys?new="+k.SuccessorID {
		t.Fatalf("replaced key %+v, %v; Location %q", k, err, r.location)
	}
	shown := b.follow(r)
	_, basic := generated(t, shown)
	wantBody(t, "after replacing", shown, `replaced by <a href="#key-`+k.SuccessorID+`">`)
	if s := e.scim("GET", "/Users", "Basic "+basic, ""); s != 200 {
		t.Errorf("the replacement: %d", s)
	}
	wantStatus(t, "replace twice", b.post("/keys", "/keys/"+old+"/replace", url.Values{"name": {"Okta 3"}, "scope": {"write"}, "expires": {"never"}}), http.StatusConflict)
}

// TestKeysWarnings: the page warns when SCIM refuses every key: the API
// Keys option off, provisioning not activated.
func TestKeysWarnings(t *testing.T) {
	e := newEnv(t)
	b := e.signedIn("admin")
	page := b.get("/keys")
	if strings.Contains(page.body, `id="not-activated"`) || strings.Contains(page.body, `id="keys-off"`) {
		t.Errorf("warnings on an active tenant")
	}
	if _, err := e.db.UpdateTenant(t.Context(), "acme", func(t *store.Tenant) error {
		t.ProvisioningActive, t.APIKeysEnabled = false, false
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	page = b.get("/keys")
	wantBody(t, "inactive tenant", page, `id="not-activated"`)
	wantBody(t, "inactive tenant", page, `id="keys-off"`)
}
