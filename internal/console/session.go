package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/scimd/scimd/internal/store"
)

// Cookie names. A tenant's session cookie is scoped to its console's path,
// an operator's to /operator/.
const (
	tenantCookie   = "scimd_session"
	operatorCookie = "scimd_operator"
	preCookie      = "scimd_signin" // the sign-in form's CSRF token (double submit)
)

// touchEvery is how stale a session's last-seen time may get before a
// request records it (so that reads do not write on every click).
const touchEvery = time.Minute

// newSecret returns 256 random bits, base64url-encoded.
func newSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashID(id string) []byte {
	h := sha256.Sum256([]byte(id))
	return h[:]
}

func equalTokens(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// secure reports whether the request came over HTTPS (directly or through
// a proxy that says so).
func secure(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// loopback reports whether the request is addressed to this machine, where
// plain HTTP is allowed (development, tests).
func loopback(r *http.Request) bool {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// clientIP is the address the request came from: the TCP peer, or, when
// the peer is one of Config.TrustedProxies, the address that proxy says it
// forwarded for (X-Forwarded-For, read from the right: the first address
// that is not itself a trusted proxy; those on its left could have been
// sent by the client). Without trusted proxies, every client behind a
// proxy has the proxy's address.
func (c *Console) clientIP(r *http.Request) string {
	peer, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		peer = r.RemoteAddr
	}
	if !c.trusted(peer) {
		return peer
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return peer // a hop the proxies did not write
		}
		if s := a.Unmap().String(); !c.trusted(s) {
			return s
		}
	}
	return peer
}

// trusted reports whether addr is one of the trusted proxies.
func (c *Console) trusted(addr string) bool {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range c.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func setCookie(w http.ResponseWriter, r *http.Request, name, value, path string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: path, MaxAge: maxAge,
		HttpOnly: true, Secure: secure(r) || !loopback(r), SameSite: http.SameSiteStrictMode,
	})
}

// startSession creates a session and sets its cookie.
func (c *Console) startSession(w http.ResponseWriter, r *http.Request, s store.Session, cookie, path string) error {
	id := newSecret()
	now := c.now()
	s.IDHash, s.CSRF, s.Created, s.LastSeen, s.Expires = hashID(id), newSecret(), now, now, now.Add(c.max)
	if err := c.cs.CreateSession(r.Context(), s); err != nil {
		return err
	}
	setCookie(w, r, cookie, id, path, int(c.max.Seconds()))
	return nil
}

// loadSession returns the live session named by the request's cookie, or
// nil. Expired sessions are deleted.
func (c *Console) loadSession(r *http.Request, cookie string) (*store.Session, error) {
	ck, err := r.Cookie(cookie)
	if err != nil || ck.Value == "" || len(ck.Value) > 100 {
		return nil, nil
	}
	s, err := c.cs.Session(r.Context(), hashID(ck.Value))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	now := c.now()
	if !now.Before(s.Expires) || now.Sub(s.LastSeen) > c.idle {
		return nil, c.cs.DeleteSession(r.Context(), s.IDHash)
	}
	if now.Sub(s.LastSeen) > touchEvery {
		if err := c.cs.TouchSession(r.Context(), s.IDHash, now); err != nil {
			return nil, err
		}
	}
	return &s, nil
}

// Reasons a tenant session ended, shown on the sign-in page.
var endedMsgs = map[string]string{
	"deactivated": "Your account has been deactivated: you were signed out and cannot sign in.",
	"deleted":     "Your account no longer exists: you were signed out.",
	"expired":     "Your session has ended. Please sign in again.",
	"signedout":   "You are signed out.",
}

// loadTenantUser fills q with the tenant user signed in by the request's
// cookie, or returns why their session ended ("" when there was none).
// The user's active flag and the session row are read on every request, so
// a deactivation or a deletion ends the session at once.
func (c *Console) loadTenantUser(r *http.Request, q *req) (ended string, err error) {
	s, err := c.loadSession(r, tenantCookie)
	if err != nil || s == nil {
		return "", err
	}
	if s.TenantID != q.tenant.ID || s.UserID == "" {
		return "", nil
	}
	u, err := c.st.User(r.Context(), q.tenant.ID, s.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return "deleted", c.cs.DeleteUserSessions(r.Context(), q.tenant.ID, s.UserID)
	}
	if err != nil {
		return "", err
	}
	if active, ok := u.Attrs["active"].(bool); ok && !active {
		return "deactivated", c.cs.DeleteUserSessions(r.Context(), q.tenant.ID, s.UserID)
	}
	roles, err := c.cs.UserRoles(r.Context(), q.tenant.ID, u.ID)
	if err != nil {
		return "", err
	}
	q.sess, q.user, q.roles = s, u, roles
	q.perms = map[string]bool{}
	for _, role := range roles {
		perms := role.Permissions
		if role.Name == store.RoleOwner {
			perms = store.Permissions
		}
		for _, p := range perms {
			q.perms[p] = true
		}
	}
	return "", nil
}

// isOwner reports whether the signed-in user holds the Owner role.
func (q *req) isOwner() bool {
	for _, r := range q.roles {
		if r.Name == store.RoleOwner {
			return true
		}
	}
	return false
}

// serveTenant serves a tenant's console; rest is the path below prefix.
func (c *Console) serveTenant(w http.ResponseWriter, r *http.Request, name, prefix, rest string) {
	route := "/console"
	if strings.HasPrefix(prefix, "/t/") {
		route = "/t/{tenant}/console"
	}
	noteRoute(r, name, route, "")
	if !formRead(w, r) {
		return
	}
	if rest == "" {
		http.Redirect(w, r, prefix+"/", http.StatusMovedPermanently)
		return
	}
	if strings.HasPrefix(rest, "/static/") {
		noteRoute(r, name, route, "/static/")
		r2 := r.Clone(r.Context())
		r2.URL.Path = rest
		c.static.ServeHTTP(w, r2)
		return
	}
	q := &req{prefix: prefix}
	t, err := c.st.Tenant(r.Context(), name)
	if errors.Is(err, store.ErrNotFound) {
		c.fail(w, r, q, errorf(http.StatusNotFound, "There is no site named %q.", name))
		return
	}
	if err != nil {
		c.fail(w, r, q, err)
		return
	}
	q.tenant = t
	ended, err := c.loadTenantUser(r, q)
	if err != nil {
		c.fail(w, r, q, err)
		return
	}
	r2 := r.Clone(withReq(r, q).Context())
	r2.URL.Path = rest
	r2.URL.RawPath = ""
	if ended != "" {
		setCookie(w, r, tenantCookie, "", prefix+"/", -1)
		if r.Method == http.MethodGet && rest != "/signin" {
			http.Redirect(w, r, signInURL(prefix, r2, "ended", ended), http.StatusSeeOther)
			return
		}
	}
	c.cop.Handler(c.tenantMux).ServeHTTP(w, r2)
	noteRoute(r, name, route, r2.Pattern)
}

// page wraps a handler that needs a signed-in user holding perm (none when
// perm is ""). It checks the CSRF token of every POST.
func (c *Console) page(perm string, h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := reqOf(r)
		if q.sess == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, signInURL(q.prefix, r), http.StatusSeeOther)
				return
			}
			c.fail(w, r, q, errorf(http.StatusForbidden, "You are not signed in (or your session has ended). Please sign in again."))
			return
		}
		if perm != "" && !q.perms[perm] {
			c.fail(w, r, q, errorf(http.StatusForbidden, "You need the %q permission for this page. Ask an administrator to grant it to one of your roles.", permLabels[perm]))
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

// public wraps a handler that needs no session (sign-in). Its POSTs carry
// the double-submit token of the sign-in cookie.
func (c *Console) public(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := reqOf(r)
		if r.Method == http.MethodPost {
			ck, err := r.Cookie(preCookie)
			if err != nil || !equalTokens(r.PostFormValue("csrf"), ck.Value) {
				c.fail(w, r, q, errorf(http.StatusForbidden, "This sign-in form has expired (missing or wrong security token). Reload the page and try again."))
				return
			}
		}
		if err := h(w, r, q); err != nil {
			c.fail(w, r, q, err)
		}
	})
}

// preToken returns the sign-in form's token, setting its cookie if needed.
func preToken(w http.ResponseWriter, r *http.Request, path string) string {
	if ck, err := r.Cookie(preCookie); err == nil && len(ck.Value) == 43 {
		return ck.Value
	}
	tok := newSecret()
	setCookie(w, r, preCookie, tok, path, 3600)
	return tok
}

// SweepSessions deletes expired sessions every interval until ctx ends.
// Expired sessions are refused whenever they are presented; sweeping only
// keeps the table small.
func (c *Console) SweepSessions(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			now := c.now()
			n, err := c.cs.DeleteExpiredSessions(ctx, now, now.Add(-c.idle))
			if err != nil && ctx.Err() == nil {
				c.log.Warn("deleting expired console sessions failed", "err", err)
			} else if n > 0 {
				c.log.Info("deleted expired console sessions", "count", n)
			}
		}
	}
}
