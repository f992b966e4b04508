package console

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/scimd/scimd/internal/auth"
	"github.com/scimd/scimd/internal/store"
)

// expiryChoices are the expiries the key forms offer.
var expiryChoices = []struct{ Value, Label string }{
	{"never", "Never"}, {"720h", "30 days"}, {"2160h", "90 days"}, {"8760h", "1 year"},
}

// overlapChoices are how long a rotated key stays valid beside its
// replacement.
var overlapChoices = []struct{ Value, Label string }{
	{"0s", "No overlap (old key stops now)"}, {"1h", "1 hour"}, {"24h", "1 day"}, {"168h", "7 days"},
}

type keyRow struct {
	store.APIKey
	Status string
}

type keysData struct {
	Keys     []keyRow
	Expiries any
	Overlaps any
	BaseURL  string
	New      *newKey // the key just generated: its secret is shown this once
}

type newKey struct {
	ID, Secret, Basic, BaseURL, Name string
	Rotated                          string // the key it replaces, if rotated
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

func (c *Console) keysPage(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.renderKeys(w, r, q, nil, "")
}

func (c *Console) renderKeys(w http.ResponseWriter, r *http.Request, q *req, nk *newKey, flash string) error {
	ks, err := c.st.APIKeys(r.Context(), q.tenant.ID)
	if err != nil {
		return err
	}
	now := c.now()
	d := keysData{Expiries: expiryChoices, Overlaps: overlapChoices, BaseURL: c.baseURL(r, q), New: nk}
	for _, k := range ks {
		d.Keys = append(d.Keys, keyRow{k, keyStatus(k, now)})
	}
	v := c.view(q, "API Keys", d)
	v.Flash = flash
	if !q.tenant.APIKeysEnabled {
		v.Error = "The API Keys option is off in General Settings: no key is accepted until it is turned on."
	}
	c.render(w, http.StatusOK, "keys", v)
	return nil
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

// issue creates a key and returns it with its secret.
func (c *Console) issue(r *http.Request, q *req, name, scope string, expires time.Time) (*newKey, error) {
	id, secret := auth.NewKey()
	k := store.APIKey{ID: id, TenantID: q.tenant.ID, Name: name, Scope: scope, SecretHash: auth.HashSecret(secret),
		CreatedBy: q.userName(), Created: c.now().UTC(), Expires: expires}
	if err := c.st.CreateAPIKey(r.Context(), k); err != nil {
		return nil, err
	}
	c.log.Info("console: API key generated", "tenant", q.tenant.Name, "key", id, "by", q.userName())
	return &newKey{ID: id, Secret: secret, Basic: auth.Basic(id, secret), BaseURL: c.baseURL(r, q), Name: name}, nil
}

func (c *Console) createKey(w http.ResponseWriter, r *http.Request, q *req) error {
	name, err := keyName(r.PostFormValue("name"))
	if err != nil {
		return err
	}
	scope, err := parseScope(r.PostFormValue("scope"))
	if err != nil {
		return err
	}
	exp, err := c.parseExpiry(r.PostFormValue("expires"))
	if err != nil {
		return err
	}
	nk, err := c.issue(r, q, name, scope, exp)
	if err != nil {
		return err
	}
	return c.renderKeys(w, r, q, nk, "")
}

func (c *Console) updateKey(w http.ResponseWriter, r *http.Request, q *req) error {
	name, err := keyName(r.PostFormValue("name"))
	if err != nil {
		return err
	}
	scope, err := parseScope(r.PostFormValue("scope"))
	if err != nil {
		return err
	}
	exp := r.PostFormValue("expires")
	var expires time.Time
	if exp != "keep" {
		if expires, err = c.parseExpiry(exp); err != nil {
			return err
		}
	}
	_, err = c.cs.UpdateAPIKey(r.Context(), q.tenant.ID, r.PathValue("id"), func(k *store.APIKey) error {
		switch st := keyStatus(*k, c.now()); {
		case st == "revoked" || st == "expired":
			// A key that has ended (revoked, expired, or rotated out and
			// past its overlap) stays ended: Modify cannot revive it.
			return errorf(http.StatusConflict, "This key is %s and cannot be changed; generate a new key instead.", st)
		case exp != "keep" && !k.Expires.IsZero() && (expires.IsZero() || expires.After(k.Expires)):
			// Nor can it outlive the end it has (a rotated-out key's
			// overlap, the expiry it was made with): a longer life is a
			// new key, shown once.
			return errorf(http.StatusConflict, "A key's expiry can be brought forward, not pushed back; generate a new key for a longer life.")
		}
		k.Name, k.Scope = name, scope
		if exp != "keep" {
			k.Expires = expires
		}
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusNotFound, "There is no such key.")
	}
	if err != nil {
		return err
	}
	return c.renderKeys(w, r, q, nil, "Key "+r.PathValue("id")+" updated.")
}

// rotateKey issues a new key with the old one's name, scope and expiry, and
// lets the old one expire after the chosen overlap.
func (c *Console) rotateKey(w http.ResponseWriter, r *http.Request, q *req) error {
	id := r.PathValue("id")
	overlap, err := time.ParseDuration(r.PostFormValue("overlap"))
	if err != nil || overlap < 0 || overlap > 30*24*time.Hour {
		return errorf(http.StatusBadRequest, "Choose an overlap from the list.")
	}
	old, err := c.st.APIKey(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || err == nil && old.TenantID != q.tenant.ID {
		return errorf(http.StatusNotFound, "There is no such key.")
	}
	if err != nil {
		return err
	}
	if keyStatus(old, c.now()) == "revoked" || keyStatus(old, c.now()) == "expired" {
		return errorf(http.StatusConflict, "This key is no longer valid; generate a new key instead.")
	}
	nk, err := c.issue(r, q, old.Name, old.Scope, old.Expires)
	if err != nil {
		return err
	}
	until := c.now().Add(overlap).UTC()
	_, err = c.cs.UpdateAPIKey(r.Context(), q.tenant.ID, id, func(k *store.APIKey) error {
		if k.Expires.IsZero() || until.Before(k.Expires) {
			k.Expires = until
		}
		return nil
	})
	if err != nil {
		return err
	}
	nk.Rotated = id
	return c.renderKeys(w, r, q, nk, "")
}

func (c *Console) revokeKey(w http.ResponseWriter, r *http.Request, q *req) error {
	id := r.PathValue("id")
	err := c.st.RevokeAPIKey(r.Context(), q.tenant.ID, id, c.now().UTC())
	if errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusNotFound, "There is no such key.")
	}
	if err != nil {
		return err
	}
	c.log.Info("console: API key revoked", "tenant", q.tenant.Name, "key", id, "by", q.userName())
	return c.renderKeys(w, r, q, nil, "Key "+id+" revoked: it is refused from the next request on.")
}
