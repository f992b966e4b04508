package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/scimd/scimd/internal/auth"
	"github.com/scimd/scimd/internal/store"
)

// The API Keys page. Every POST answers 303 See Other to GET /keys
// (post/redirect/get), so that reloading the page after an action repeats
// nothing; a new secret is shown once by that GET (see reveal.go). A POST
// that is refused changes nothing and shows the page again, with what was
// typed.

// expiryChoices are the expiries the key forms offer.
var expiryChoices = []struct{ Value, Label string }{
	{"never", "Never"}, {"720h", "30 days"}, {"2160h", "90 days"}, {"8760h", "1 year"},
}

// overlapChoices are how long the secret a rotation replaces stays valid
// beside the new one. The default is one day; no overlap needs its own
// confirmation (confirmNoOverlap).
var overlapChoices = []struct {
	Value, Label string
	Default      bool
}{
	{"0s", "No overlap (the current secret stops now)", false}, {"1h", "1 hour", false}, {"24h", "1 day", true}, {"168h", "7 days", false},
}

type keyRow struct {
	store.APIKey
	Status string
	// PrevValid says whether the secret the last rotation replaced is
	// still accepted.
	PrevValid bool
	// Replaces is the ended key this one was made to replace, if any.
	Replaces string
}

// keyForm is what a key form held, shown again when it is refused.
type keyForm struct{ Name, Scope, Expires string }

type keysData struct {
	Keys     []keyRow
	Expiries any
	Overlaps any
	BaseURL  string
	New      *newKey // the key just generated or rotated: its secret is shown this once
	Warnings []warning
	// What a refused form held: Form is the Generate form's; Open names
	// the key whose form of Action (with Edit) is shown open.
	Form   keyForm
	Open   string
	Action string // "modify", "rotate" or "replace"
	Edit   keyForm
}

type warning struct{ ID, Text string }

type newKey struct {
	ID, Secret, Basic, BaseURL, Name string
	Rotated                          bool      // the secret of an existing key was replaced
	PrevExpires                      time.Time // until when the replaced secret is accepted
}

// baseURL is the SCIM base URL of the tenant, as an IdP should be given it.
func (c *Console) baseURL(r *http.Request, q *req) string {
	if c.baseDomain != "" {
		return "https://" + q.tenant.Name + "." + c.baseDomain + "/scim/v2"
	}
	scheme := "http"
	if secure(r) {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/t/" + q.tenant.Name + "/scim/v2"
}

func keyStatus(k store.APIKey, now time.Time) string {
	switch {
	case !k.Revoked.IsZero() && !now.Before(k.Revoked):
		return "revoked"
	case !k.Expires.IsZero() && !now.Before(k.Expires):
		return "expired"
	case !k.Expires.IsZero():
		return "active until " + k.Expires.UTC().Format("2006-01-02 15:04Z")
	}
	return "active"
}

// ended reports whether a key status is that of a key no longer valid.
func ended(status string) bool { return status == "revoked" || status == "expired" }

// Flash messages of the redirects after an action, by the done parameter.
var keyFlashes = map[string]string{
	"updated": "Key %s updated.",
	"revoked": "Key %s revoked: both its current and any previous secret are refused from the next request on.",
}

func (c *Console) keysPage(w http.ResponseWriter, r *http.Request, q *req) error {
	ks, err := c.st.APIKeys(r.Context(), q.tenant.ID)
	if err != nil {
		return err
	}
	var d keysData
	var flash string
	qs := r.URL.Query()
	// The flash names a key only if it is one of the tenant's: a link
	// cannot make the page say anything else.
	key := func(id string) (store.APIKey, bool) {
		for _, k := range ks {
			if k.ID == id && id != "" {
				return k, true
			}
		}
		return store.APIKey{}, false
	}
	if k, ok := key(qs.Get("key")); ok && keyFlashes[qs.Get("done")] != "" {
		flash = fmt.Sprintf(keyFlashes[qs.Get("done")], k.ID)
	}
	if k, ok := key(qs.Get("new")); ok {
		v, shown, err := c.takeReveal(r, q, k.ID)
		if err != nil {
			return err
		}
		if shown {
			d.New = &newKey{ID: k.ID, Secret: v.Secret, Basic: auth.Basic(k.ID, v.Secret), BaseURL: c.baseURL(r, q), Name: k.Name,
				Rotated: v.Rotated, PrevExpires: k.PrevExpires}
		} else {
			flash = "The secret of key " + k.ID + " was shown once and cannot be shown again. If it was not copied, rotate the key."
		}
	}
	return c.renderKeysList(w, r, q, http.StatusOK, ks, d, flash, "")
}

// renderKeys shows the keys page with d's form data, a flash or an error.
func (c *Console) renderKeys(w http.ResponseWriter, r *http.Request, q *req, status int, d keysData, errMsg string) error {
	ks, err := c.st.APIKeys(r.Context(), q.tenant.ID)
	if err != nil {
		return err
	}
	return c.renderKeysList(w, r, q, status, ks, d, "", errMsg)
}

func (c *Console) renderKeysList(w http.ResponseWriter, r *http.Request, q *req, status int, ks []store.APIKey, d keysData, flash, errMsg string) error {
	now := c.now()
	d.Expiries, d.Overlaps, d.BaseURL = expiryChoices, overlapChoices, c.baseURL(r, q)
	replaces := map[string]string{}
	for _, k := range ks {
		if k.SuccessorID != "" {
			replaces[k.SuccessorID] = k.ID
		}
	}
	for _, k := range ks {
		d.Keys = append(d.Keys, keyRow{APIKey: k, Status: keyStatus(k, now), PrevValid: k.PrevSecretHash != nil && now.Before(k.PrevExpires),
			Replaces: replaces[k.ID]})
	}
	if !q.tenant.APIKeysEnabled {
		d.Warnings = append(d.Warnings, warning{"keys-off", "The API Keys option is off in General Settings: no key is accepted until it is turned on."})
	}
	if !q.tenant.ProvisioningActive {
		d.Warnings = append(d.Warnings, warning{"not-activated", "Provisioning is not activated for this site: SCIM requests are refused (403) whatever the key, until the operator activates it."})
	}
	v := c.view(q, "API Keys", d)
	v.Flash, v.Error = flash, errMsg
	c.render(w, status, "keys", v)
	return nil
}

// refused shows the keys page again with err's message and d's form data
// when err is an *httpError (a refusal: nothing changed), and returns
// other errors.
func (c *Console) refused(w http.ResponseWriter, r *http.Request, q *req, err error, d keysData) error {
	var he *httpError
	if !errors.As(err, &he) {
		return err
	}
	return c.renderKeys(w, r, q, he.status, d, he.msg)
}

// parseExpiry reads an expiry choice: "never" or a duration from now.
func (c *Console) parseExpiry(s string) (time.Time, error) {
	if s == "never" || s == "" {
		return time.Time{}, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 || d > 10*365*24*time.Hour {
		return time.Time{}, errorf(http.StatusBadRequest, "Choose an expiry from the list.")
	}
	return c.now().Add(d).UTC(), nil
}

func parseScope(s string) (string, error) {
	if s != store.ScopeRead && s != store.ScopeWrite {
		return "", errorf(http.StatusBadRequest, "The scope must be read or write.")
	}
	return s, nil
}

func keyName(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 100 {
		return "", errorf(http.StatusBadRequest, "Give the key a name (at most 100 characters), such as \"Okta production\".")
	}
	return s, nil
}

// nameTaken is the refusal of a name another live key has.
func nameTaken(name string) error {
	return errorf(http.StatusConflict, "Another key is already named “%s” (names are compared ignoring case). Choose another name, "+
		"or revoke that key first; an expired key keeps its name until it is revoked or replaced.", name)
}

// readKeyForm reads and checks a form's name, scope and expiry.
func (c *Console) readKeyForm(r *http.Request) (f keyForm, name, scope string, expires time.Time, err error) {
	f = keyForm{Name: r.PostFormValue("name"), Scope: r.PostFormValue("scope"), Expires: r.PostFormValue("expires")}
	if name, err = keyName(f.Name); err != nil {
		return
	}
	if scope, err = parseScope(f.Scope); err != nil {
		return
	}
	expires, err = c.parseExpiry(f.Expires)
	return
}

// newAPIKey returns a new key of the tenant and its secret.
func (c *Console) newAPIKey(q *req, name, scope string, expires time.Time) (store.APIKey, string) {
	id, secret := auth.NewKey()
	return store.APIKey{ID: id, TenantID: q.tenant.ID, Name: name, Scope: scope, SecretHash: auth.HashSecret(secret),
		CreatedBy: q.userName(), Created: c.now().UTC(), Expires: expires}, secret
}

// showOnce keeps the secret of key id for the GET the browser is sent to,
// which shows it once.
func (c *Console) showOnce(w http.ResponseWriter, r *http.Request, q *req, id string, v revealed) error {
	if err := c.putReveal(r, q, id, v); err != nil {
		return err
	}
	return redirect(w, r, q, "/keys?new="+url.QueryEscape(id))
}

func (c *Console) createKey(w http.ResponseWriter, r *http.Request, q *req) error {
	f, name, scope, exp, err := c.readKeyForm(r)
	d := keysData{Form: f}
	if err != nil {
		return c.refused(w, r, q, err, d)
	}
	k, secret := c.newAPIKey(q, name, scope, exp)
	err = c.st.CreateAPIKey(r.Context(), k)
	if errors.Is(err, store.ErrConflict) {
		return c.refused(w, r, q, nameTaken(name), d)
	}
	if err != nil {
		return err
	}
	c.log.Info("console: API key generated", "tenant", q.tenant.Name, "key", k.ID, "by", q.userName())
	return c.showOnce(w, r, q, k.ID, revealed{Secret: secret})
}

// replaceKey makes a new key as the successor of an ended one, which
// links to it and gives up its name.
func (c *Console) replaceKey(w http.ResponseWriter, r *http.Request, q *req) error {
	old := r.PathValue("id")
	f, name, scope, exp, err := c.readKeyForm(r)
	d := keysData{Open: old, Action: "replace", Edit: f}
	if err != nil {
		return c.refused(w, r, q, err, d)
	}
	k, secret := c.newAPIKey(q, name, scope, exp)
	switch err := c.st.ReplaceAPIKey(r.Context(), old, k); {
	case errors.Is(err, store.ErrNotFound):
		return c.refused(w, r, q, errorf(http.StatusNotFound, "There is no such key."), d)
	case errors.Is(err, store.ErrKeyLive):
		return c.refused(w, r, q, errorf(http.StatusConflict, "Key %s is still valid: rotate it instead.", old), d)
	case errors.Is(err, store.ErrKeyNameTaken):
		return c.refused(w, r, q, nameTaken(name), d)
	case errors.Is(err, store.ErrConflict):
		return c.refused(w, r, q, errorf(http.StatusConflict, "Key %s has been replaced already.", old), d)
	case err != nil:
		return err
	}
	c.log.Info("console: API key generated as a replacement", "tenant", q.tenant.Name, "key", k.ID, "replaces", old, "by", q.userName())
	return c.showOnce(w, r, q, k.ID, revealed{Secret: secret})
}

func (c *Console) updateKey(w http.ResponseWriter, r *http.Request, q *req) error {
	id := r.PathValue("id")
	f := keyForm{Name: r.PostFormValue("name"), Scope: r.PostFormValue("scope"), Expires: r.PostFormValue("expires")}
	d := keysData{Open: id, Action: "modify", Edit: f}
	name, err := keyName(f.Name)
	if err != nil {
		return c.refused(w, r, q, err, d)
	}
	scope, err := parseScope(f.Scope)
	if err != nil {
		return c.refused(w, r, q, err, d)
	}
	var expires time.Time
	if f.Expires != "keep" {
		if expires, err = c.parseExpiry(f.Expires); err != nil {
			return c.refused(w, r, q, err, d)
		}
	}
	_, err = c.cs.UpdateAPIKey(r.Context(), q.tenant.ID, id, func(k *store.APIKey) error {
		switch st := keyStatus(*k, c.now()); {
		case ended(st):
			// A key that has ended (revoked or expired) stays ended:
			// Modify cannot revive it.
			return errorf(http.StatusConflict, "This key is %s and cannot be changed; generate a replacement instead.", st)
		case f.Expires != "keep" && !k.Expires.IsZero() && (expires.IsZero() || expires.After(k.Expires)):
			// Nor can it outlive the end it has (the expiry it was made
			// with): a longer life is a new key, shown once.
			return errorf(http.StatusConflict, "A key's expiry can be brought forward, not pushed back; generate a new key for a longer life.")
		}
		k.Name, k.Scope = name, scope
		if f.Expires != "keep" {
			k.Expires = expires
		}
		return nil
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return c.refused(w, r, q, errorf(http.StatusNotFound, "There is no such key."), d)
	case errors.Is(err, store.ErrConflict):
		return c.refused(w, r, q, nameTaken(name), d)
	case err != nil:
		return c.refused(w, r, q, err, d)
	}
	return redirect(w, r, q, "/keys?done=updated&key="+url.QueryEscape(id))
}

// rotateKey replaces a key's secret, keeping its User ID; the secret it
// replaces stays valid for the chosen overlap. No overlap, which refuses
// every client still using the current secret at once, must be confirmed.
func (c *Console) rotateKey(w http.ResponseWriter, r *http.Request, q *req) error {
	id := r.PathValue("id")
	d := keysData{Open: id, Action: "rotate"}
	overlap, err := time.ParseDuration(r.PostFormValue("overlap"))
	if err != nil || overlap < 0 || overlap > 30*24*time.Hour {
		return c.refused(w, r, q, errorf(http.StatusBadRequest, "Choose an overlap from the list."), d)
	}
	if overlap == 0 && r.PostFormValue("confirmNoOverlap") != "on" {
		return c.refused(w, r, q, errorf(http.StatusBadRequest, "Nothing was changed. Rotating with no overlap stops the current secret at once: "+
			"every identity provider still using it is refused until it is given the new one. Choose an overlap, "+
			"or tick “Stop the current secret now” to confirm."), d)
	}
	secret := auth.NewSecret(id)
	now := c.now().UTC()
	_, err = c.st.RotateAPIKey(r.Context(), q.tenant.ID, id, auth.HashSecret(secret), now.Add(overlap), now)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return c.refused(w, r, q, errorf(http.StatusNotFound, "There is no such key."), d)
	case errors.Is(err, store.ErrKeyEnded):
		return c.refused(w, r, q, errorf(http.StatusConflict, "Key %s is revoked or expired and cannot be rotated; generate a replacement instead.", id), d)
	case err != nil:
		return err
	}
	c.log.Info("console: API key rotated", "tenant", q.tenant.Name, "key", id, "overlap", overlap.String(), "by", q.userName())
	return c.showOnce(w, r, q, id, revealed{Secret: secret, Rotated: true})
}

func (c *Console) revokeKey(w http.ResponseWriter, r *http.Request, q *req) error {
	id := r.PathValue("id")
	if r.PostFormValue("confirm") != "on" {
		return c.refused(w, r, q, errorf(http.StatusBadRequest, "Nothing was changed. Revoking refuses every request with the key at once: "+
			"tick “Revoke this key” beside the button to confirm."), keysData{})
	}
	err := c.st.RevokeAPIKey(r.Context(), q.tenant.ID, id, c.now().UTC())
	if errors.Is(err, store.ErrNotFound) {
		return c.refused(w, r, q, errorf(http.StatusNotFound, "There is no such key."), keysData{})
	}
	if err != nil {
		return err
	}
	c.log.Info("console: API key revoked", "tenant", q.tenant.Name, "key", id, "by", q.userName())
	return redirect(w, r, q, "/keys?done=revoked&key="+url.QueryEscape(id))
}
