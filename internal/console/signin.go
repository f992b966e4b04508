package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/scimd/scimd/internal/auth"
	"github.com/scimd/scimd/internal/metrics"
	"github.com/scimd/scimd/internal/scim"
	"github.com/scimd/scimd/internal/server"
	"github.com/scimd/scimd/internal/store"
)

// Sign-in throttling. Failures are counted per key in the store, so the
// limits hold across instances: per tenant and userName (or operator
// e-mail) and per client address. After the threshold each further failure
// locks the key for twice as long as the last one, up to maxLock. A key's
// count is forgotten after forgetAfter without failures, and a user's on a
// successful sign-in.
const (
	userThreshold = 5
	ipThreshold   = 30
	maxLock       = 15 * time.Minute
	forgetAfter   = time.Hour
)

// lockFor is the lock after the n-th consecutive failure.
func lockFor(n, threshold int) time.Duration {
	if n < threshold {
		return 0
	}
	d := time.Second << min(n-threshold, 20)
	return min(d, maxLock)
}

type throttleKey struct {
	key       string
	threshold int
}

// userKey counts the failed sign-ins of one account from one address: an
// attacker guessing from an address locks that address out of the account,
// never the account's owner signing in from elsewhere. (The address key
// bounds one address's guesses across accounts.)
func userKey(tenantID int64, userName, addr string) throttleKey {
	return throttleKey{AccountThrottles(tenantID, userName) + addr, userThreshold}
}

// AccountThrottles is the prefix of the sign-in throttle keys of one
// account, from every address: what an operator's unlock clears
// (store.ConsoleStore.ClearThrottles).
func AccountThrottles(tenantID int64, userName string) string {
	return fmt.Sprintf("u:%d:%s@", tenantID, scim.Fold(userName))
}

func ipKey(addr string) throttleKey { return throttleKey{"ip:" + addr, ipThreshold} }

// throttled returns an error saying how long to wait when a key is locked,
// and counts the refusal as a lock-out of the console named.
func (c *Console) throttled(ctx context.Context, console string, keys ...throttleKey) error {
	now := c.now()
	for _, k := range keys {
		th, err := c.cs.Throttle(ctx, k.key)
		if err != nil {
			return err
		}
		if now.Before(th.LockedUntil) {
			wait := th.LockedUntil.Sub(now).Round(time.Second)
			c.metrics.SignIn(console, metrics.SignInLockedOut)
			c.metrics.LimitRejection(metrics.LimitSignIn)
			return errorf(http.StatusTooManyRequests, "Too many failed sign-ins. Try again in %s.", max(wait, time.Second))
		}
	}
	return nil
}

// failed records a failed sign-in against keys.
func (c *Console) failed(ctx context.Context, keys ...throttleKey) {
	now := c.now()
	for _, k := range keys {
		locked := false
		_, err := c.cs.UpdateThrottle(ctx, k.key, func(th *store.Throttle) {
			if now.Sub(th.Last) > forgetAfter {
				th.Failures = 0
			}
			th.Failures++
			th.Last = now
			if d := lockFor(th.Failures, k.threshold); d > 0 {
				th.LockedUntil = now.Add(d)
				locked = true
			}
		})
		if err != nil {
			c.log.Error("console: recording a failed sign-in", "request_id", server.RequestID(ctx), "err", err)
		}
		if locked {
			scope := "account"
			if strings.HasPrefix(k.key, "ip:") {
				scope = "address"
			}
			c.metrics.Lockout(scope)
		}
	}
}

var (
	dummyOnce sync.Once
	dummyHash string
)

// checkPassword compares password with hash; with no hash (unknown user, no
// password) it compares with a dummy hash, so that the answer takes as long
// and an attacker cannot tell which userNames exist.
func checkPassword(ctx context.Context, hash, password string) bool {
	if hash == "" {
		dummyOnce.Do(func() { dummyHash, _ = auth.HashPassword(context.Background(), "dummy password for timing") })
		auth.CheckPassword(ctx, dummyHash, password)
		return false
	}
	ok, err := auth.CheckPassword(ctx, hash, password)
	return err == nil && ok
}

type signInData struct {
	UserName, Next, Token string
}

func (c *Console) signInPage(w http.ResponseWriter, r *http.Request, q *req) error {
	if q.sess != nil {
		return redirect(w, r, q, "/")
	}
	v := c.view(q, "Sign in", signInData{Next: r.URL.Query().Get("next"), Token: preToken(w, r, q.prefix+"/")})
	v.Flash = endedMsgs[r.URL.Query().Get("ended")]
	if !q.tenant.PasswordSignIn {
		v.Error = "Password sign-in is turned off for this site."
	}
	c.render(w, http.StatusOK, "signin", v)
	return nil
}

func (c *Console) signIn(w http.ResponseWriter, r *http.Request, q *req) error {
	userName := strings.TrimSpace(r.PostFormValue("userName"))
	password := r.PostFormValue("password")
	data := signInData{UserName: userName, Next: r.PostFormValue("next"), Token: r.PostFormValue("csrf")}
	refuse := func(status int, msg string) error {
		v := c.view(q, "Sign in", data)
		v.Error = msg
		c.render(w, status, "signin", v)
		return nil
	}
	if !secure(r) && !loopback(r) {
		return refuse(http.StatusForbidden, "The console needs HTTPS: open it over https:// (behind a proxy, the proxy must send X-Forwarded-Proto: https).")
	}
	if !q.tenant.PasswordSignIn {
		return refuse(http.StatusForbidden, "Password sign-in is turned off for this site: ask your administrator or support.")
	}
	if userName == "" || password == "" || len(password) > 1024 || len(userName) > 1024 {
		return refuse(http.StatusBadRequest, "Enter your userName and password.")
	}
	addr := c.clientIP(r)
	keys := []throttleKey{userKey(q.tenant.ID, userName, addr), ipKey(addr)}
	if err := c.throttled(r.Context(), "tenant", keys...); err != nil {
		var he *httpError
		if errors.As(err, &he) {
			return refuse(he.status, he.msg)
		}
		return err
	}
	u, err := c.cs.UserByUserName(r.Context(), q.tenant.ID, userName)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if !checkPassword(r.Context(), u.PasswordHash, password) {
		c.failed(r.Context(), keys...)
		c.metrics.SignIn("tenant", metrics.SignInFailure)
		return refuse(http.StatusUnauthorized, "Wrong userName or password.")
	}
	if active, ok := u.Attrs["active"].(bool); ok && !active {
		c.metrics.SignIn("tenant", metrics.SignInDeactivated)
		return refuse(http.StatusForbidden, "Your account is deactivated: you cannot sign in. Contact your administrator if this is a mistake.")
	}
	if err := c.cs.ClearThrottle(r.Context(), keys[0].key); err != nil {
		return err
	}
	if err := c.startSession(w, r, store.Session{TenantID: q.tenant.ID, UserID: u.ID}, tenantCookie, q.prefix+"/"); err != nil {
		return err
	}
	c.metrics.SignIn("tenant", metrics.SignInSuccess)
	http.Redirect(w, r, nextPath(q.prefix, data.Next), http.StatusSeeOther)
	return nil
}

// signInURL is the sign-in page of the console at prefix for a request
// of r's that needs a session: its next parameter is the page asked for,
// its query string included, so that signing in leads back to it.
func signInURL(prefix string, r *http.Request, params ...string) string {
	next := prefix + r.URL.EscapedPath()
	if r.URL.RawQuery != "" {
		next += "?" + r.URL.RawQuery
	}
	v := url.Values{"next": {next}}
	for i := 0; i+1 < len(params); i += 2 {
		v.Set(params[i], params[i+1])
	}
	return prefix + "/signin?" + v.Encode()
}

// hasControl reports whether s holds an ASCII control character.
func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// maxNext bounds the length of a next parameter.
const maxNext = 4096

// nextPath is where signing in to the console at prefix (/t/acme/console,
// /console, /operator) leads, given the next parameter: next itself when
// it is a local path below prefix (a path and query, no scheme or host),
// else the console's home. It refuses what would leave the console: an
// absolute or protocol-relative URL (https://evil, //evil), a backslash
// (which browsers read as a slash: /\evil), control characters, dot
// segments or their percent-encodings that climb out of prefix, and
// another console's prefix (/t/other/console/...); and the sign-in page
// itself.
func nextPath(prefix, next string) string {
	home := prefix + "/"
	if len(next) > maxNext || !strings.HasPrefix(next, home) || strings.ContainsAny(next, "\\") {
		return home
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Opaque != "" || u.User != nil || hasControl(next) || hasControl(u.Path) {
		return home
	}
	// The path as the browser will resolve it: decoded (%2e%2e is ..),
	// then its dot segments removed. Decoded, it holds no empty segment
	// and no backslash either (%2F%2F, %5C).
	if p := path.Clean(u.Path); p != prefix && !strings.HasPrefix(p, home) || strings.Contains(u.Path, "//") || strings.Contains(u.Path, "\\") {
		return home
	}
	if path.Clean(u.Path) == prefix+"/signin" {
		return home
	}
	return next
}

func (c *Console) signOut(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := c.cs.DeleteSession(r.Context(), q.sess.IDHash); err != nil {
		return err
	}
	setCookie(w, r, tenantCookie, "", q.prefix+"/", -1)
	return redirect(w, r, q, "/signin?ended=signedout")
}

func (c *Console) home(w http.ResponseWriter, r *http.Request, q *req) error {
	names := make([]string, len(q.roles))
	for i, role := range q.roles {
		names[i] = role.Name
	}
	c.render(w, http.StatusOK, "home", c.view(q, "Home", names))
	return nil
}
