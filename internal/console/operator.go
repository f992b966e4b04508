package console

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/scimd/scimd/internal/metrics"
	"github.com/scimd/scimd/internal/scim"
	"github.com/scimd/scimd/internal/store"
)

const operatorPrefix = "/operator"

// serveOperator serves the operator pages; rest is the path below
// /operator.
func (c *Console) serveOperator(w http.ResponseWriter, r *http.Request, rest string) {
	noteRoute(r, "", operatorPrefix, "")
	if !formRead(w, r) {
		return
	}
	if rest == "" {
		http.Redirect(w, r, operatorPrefix+"/", http.StatusMovedPermanently)
		return
	}
	if strings.HasPrefix(rest, "/static/") {
		noteRoute(r, "", operatorPrefix, "/static/")
		r2 := r.Clone(r.Context())
		r2.URL.Path = rest
		c.static.ServeHTTP(w, r2)
		return
	}
	q := &req{prefix: operatorPrefix, operator: true}
	s, err := c.loadSession(r, operatorCookie)
	if err == nil && s != nil && s.OperatorID != 0 {
		var op store.Operator
		op, err = c.cs.OperatorByID(r.Context(), s.OperatorID)
		if err == nil {
			q.sess, q.op = s, op
		} else if errors.Is(err, store.ErrNotFound) {
			err = c.cs.DeleteSession(r.Context(), s.IDHash)
		}
	}
	if err != nil {
		c.fail(w, r, q, err)
		return
	}
	r2 := r.Clone(withReq(r, q).Context())
	r2.URL.Path = rest
	r2.URL.RawPath = ""
	c.cop.Handler(c.opMux).ServeHTTP(w, r2)
	noteRoute(r, "", operatorPrefix, r2.Pattern)
}

// opPage wraps a handler that needs a signed-in operator.
func (c *Console) opPage(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := reqOf(r)
		if q.sess == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, signInURL(operatorPrefix, r), http.StatusSeeOther)
				return
			}
			c.fail(w, r, q, errorf(http.StatusForbidden, "You are not signed in (or your session has ended). Please sign in again."))
			return
		}
		if r.Method == http.MethodPost && !equalTokens(r.PostFormValue("csrf"), q.sess.CSRF) {
			c.fail(w, r, q, errorf(http.StatusForbidden, "This form has expired (missing or wrong security token). Reload the page and try again."))
			return
		}
		if err := h(w, r, q); err != nil {
			c.fail(w, r, q, err)
		}
	})
}

func (c *Console) opPublic(h handler) http.Handler { return c.public(h) }

func (c *Console) opSignInPage(w http.ResponseWriter, r *http.Request, q *req) error {
	if q.sess != nil {
		return redirect(w, r, q, "/")
	}
	v := c.view(q, "Operator sign-in", signInData{Next: r.URL.Query().Get("next"), Token: preToken(w, r, operatorPrefix+"/")})
	if r.URL.Query().Get("ended") != "" {
		v.Flash = endedMsgs["signedout"]
	}
	c.render(w, http.StatusOK, "opsignin", v)
	return nil
}

func (c *Console) opSignIn(w http.ResponseWriter, r *http.Request, q *req) error {
	email := strings.TrimSpace(r.PostFormValue("email"))
	password := r.PostFormValue("password")
	data := signInData{UserName: email, Next: r.PostFormValue("next"), Token: r.PostFormValue("csrf")}
	refuse := func(status int, msg string) error {
		v := c.view(q, "Operator sign-in", data)
		v.Error = msg
		c.render(w, status, "opsignin", v)
		return nil
	}
	if !secure(r) && !loopback(r) {
		return refuse(http.StatusForbidden, "Operator pages need HTTPS.")
	}
	if email == "" || password == "" || len(password) > 1024 || len(email) > 320 {
		return refuse(http.StatusBadRequest, "Enter your e-mail address and password.")
	}
	addr := c.clientIP(r)
	keys := []throttleKey{{"op:" + scim.Fold(email) + "@" + addr, userThreshold}, ipKey(addr)}
	if err := c.throttled(r.Context(), "operator", keys...); err != nil {
		var he *httpError
		if errors.As(err, &he) {
			return refuse(he.status, he.msg)
		}
		return err
	}
	op, err := c.cs.OperatorByEmail(r.Context(), email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if !checkPassword(r.Context(), op.PasswordHash, password) {
		c.failed(r.Context(), keys...)
		c.metrics.SignIn("operator", metrics.SignInFailure)
		return refuse(http.StatusUnauthorized, "Wrong e-mail address or password.")
	}
	if err := c.cs.ClearThrottle(r.Context(), keys[0].key); err != nil {
		return err
	}
	if err := c.startSession(w, r, store.Session{OperatorID: op.ID}, operatorCookie, operatorPrefix+"/"); err != nil {
		return err
	}
	c.metrics.SignIn("operator", metrics.SignInSuccess)
	http.Redirect(w, r, nextPath(operatorPrefix, data.Next), http.StatusSeeOther)
	return nil
}

func (c *Console) opSignOut(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := c.cs.DeleteSession(r.Context(), q.sess.IDHash); err != nil {
		return err
	}
	setCookie(w, r, operatorCookie, "", operatorPrefix+"/", -1)
	return redirect(w, r, q, "/signin?ended=1")
}

func (c *Console) opTenants(w http.ResponseWriter, r *http.Request, q *req) error {
	ts, err := c.st.Tenants(r.Context())
	if err != nil {
		return err
	}
	v := c.view(q, "Tenants", ts)
	v.Flash = r.URL.Query().Get("flash")
	c.render(w, http.StatusOK, "optenants", v)
	return nil
}

func (c *Console) opCreateTenant(w http.ResponseWriter, r *http.Request, q *req) error {
	name := strings.TrimSpace(r.PostFormValue("name"))
	if err := store.ValidateTenantName(name); err != nil {
		return errorf(http.StatusBadRequest, "%s", err.Error())
	}
	t, err := c.st.CreateTenant(r.Context(), name)
	if errors.Is(err, store.ErrConflict) {
		return errorf(http.StatusConflict, "A tenant named %q already exists.", name)
	}
	if err != nil {
		return err
	}
	if err := c.cs.EnsureDefaultRoles(r.Context(), t.ID); err != nil {
		return err
	}
	c.log.Info("console: tenant created", "tenant", name, "operator", q.op.Email)
	return redirect(w, r, q, "/tenants/"+name)
}

type opTenantData struct {
	T        store.Tenant
	Archived []store.ArchivedUser
}

func (c *Console) opTenant(w http.ResponseWriter, r *http.Request, q *req) error {
	t, err := c.st.Tenant(r.Context(), r.PathValue("name"))
	if errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusNotFound, "There is no such tenant.")
	}
	if err != nil {
		return err
	}
	arch, err := c.cs.ArchivedUsers(r.Context(), t.ID, 200)
	if err != nil {
		return err
	}
	v := c.view(q, "Tenant "+t.Name, opTenantData{T: t, Archived: arch})
	v.Flash = r.URL.Query().Get("flash")
	c.render(w, http.StatusOK, "optenant", v)
	return nil
}

func (c *Console) opProvisioning(w http.ResponseWriter, r *http.Request, q *req) error {
	name := r.PathValue("name")
	on := r.PostFormValue("active") == "on"
	_, err := c.st.UpdateTenant(r.Context(), name, func(t *store.Tenant) error {
		t.ProvisioningActive = on
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusNotFound, "There is no such tenant.")
	}
	if err != nil {
		return err
	}
	msg := "Provisioning deactivated."
	if on {
		msg = "Provisioning activated."
	}
	c.log.Info("console: provisioning changed", "tenant", name, "active", on, "operator", q.op.Email)
	return redirect(w, r, q, "/tenants/"+name+"?flash="+url.QueryEscape(msg))
}

// opPurge destroys a user's data permanently: the live or archived record,
// their roles and sessions. The user is named by id or userName.
func (c *Console) opPurge(w http.ResponseWriter, r *http.Request, q *req) error {
	t, err := c.st.Tenant(r.Context(), r.PathValue("name"))
	if errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusNotFound, "There is no such tenant.")
	}
	if err != nil {
		return err
	}
	who := strings.TrimSpace(r.PostFormValue("user"))
	if r.PostFormValue("confirm") != "on" {
		return errorf(http.StatusBadRequest, "Tick the confirmation box: purging cannot be undone.")
	}
	id := who
	if u, err := c.cs.UserByUserName(r.Context(), t.ID, who); err == nil {
		id = u.ID
	}
	err = c.st.PurgeUser(r.Context(), t.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusNotFound, "Tenant %s has no user (live or archived) with id or userName %q.", t.Name, who)
	}
	if err != nil {
		return err
	}
	if err := c.cs.DeleteUserSessions(r.Context(), t.ID, id); err != nil {
		return err
	}
	if err := c.cs.SetUserRoles(r.Context(), t.ID, id, nil); err != nil {
		return err
	}
	c.log.Info("console: user purged", "tenant", t.Name, "user", id, "operator", q.op.Email)
	return redirect(w, r, q, "/tenants/"+t.Name+"?flash="+url.QueryEscape("User "+id+" purged permanently."))
}
