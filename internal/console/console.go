package console

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/scimd/scimd/internal/metrics"
	"github.com/scimd/scimd/internal/server"
	"github.com/scimd/scimd/internal/store"
	"github.com/scimd/scimd/internal/webhook"
)

//go:embed web
var webFS embed.FS

// Config is what a Console needs.
type Config struct {
	Store   store.Store
	Console store.ConsoleStore
	Logger  *slog.Logger
	// BaseDomain, when set, also serves tenant T's console at
	// https://T.<BaseDomain>/console/.
	BaseDomain string
	// Next serves every request that is not the console's (SCIM).
	Next http.Handler
	// IdleTimeout and MaxAge bound a session (defaults 1h and 12h).
	IdleTimeout, MaxAge time.Duration
	// Now returns the current time; tests may replace it.
	Now func() time.Time
	// Metrics, when set, counts sign-ins and lock-outs.
	Metrics *metrics.Metrics
	// TrustedProxies are the addresses of the reverse proxies whose
	// X-Forwarded-For header tells the client's address, which the
	// sign-in throttle counts failures by. From any other peer the header
	// is ignored.
	TrustedProxies []netip.Prefix
	// Webhooks serves the operator's Webhooks pages; when nil, the
	// console makes one on Store (which then does not deliver itself).
	Webhooks *webhook.Service
}

// Console is the admin console's HTTP handler.
type Console struct {
	st         store.Store
	cs         store.ConsoleStore
	log        *slog.Logger
	baseDomain string
	next       http.Handler
	idle, max  time.Duration
	now        func() time.Time
	pages      map[string]*template.Template
	static     http.Handler
	tenantMux  *http.ServeMux
	opMux      *http.ServeMux
	cop        *http.CrossOriginProtection
	metrics    *metrics.Metrics
	proxies    []netip.Prefix
	wh         *webhook.Service // nil when the store has no webhook storage
}

// New returns a Console for cfg.
func New(cfg Config) *Console {
	c := &Console{st: cfg.Store, cs: cfg.Console, log: cfg.Logger, baseDomain: strings.ToLower(strings.TrimPrefix(cfg.BaseDomain, ".")),
		next: cfg.Next, idle: cfg.IdleTimeout, max: cfg.MaxAge, now: cfg.Now, metrics: cfg.Metrics, proxies: cfg.TrustedProxies,
		wh: cfg.Webhooks}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.idle <= 0 {
		c.idle = time.Hour
	}
	if c.max <= 0 {
		c.max = 12 * time.Hour
	}
	if c.next == nil {
		c.next = http.NotFoundHandler()
	}
	if c.wh == nil {
		c.wh, _ = webhook.New(webhook.Config{Store: cfg.Store, Logger: c.log})
	}
	c.pages = parsePages()
	sub, _ := fs.Sub(webFS, "web/static")
	c.static = http.StripPrefix("/static/", http.FileServerFS(sub))
	c.cop = http.NewCrossOriginProtection()
	c.cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "cross-origin request refused", http.StatusForbidden)
	}))
	c.routes()
	return c
}

var funcs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
	"has": func(list []string, s string) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	},
	"permLabel": func(p string) string { return permLabels[p] },
}

var permLabels = map[string]string{
	store.PermManageAPIKeys:  "Manage API keys",
	store.PermManageSettings: "Manage settings",
	store.PermManageRoles:    "Manage roles",
	store.PermViewUsers:      "View users and groups",
	store.PermManageUsers:    "Manage users (restore, set password)",
	store.PermViewActivity:   "View activity",
}

func parsePages() map[string]*template.Template {
	names, err := fs.Glob(webFS, "web/templates/*.html")
	if err != nil {
		panic(err)
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "web/templates/"), ".html")
		if base == "layout" {
			continue
		}
		pages[base] = template.Must(template.New(base).Funcs(funcs).ParseFS(webFS, "web/templates/layout.html", n))
	}
	return pages
}

// MaxFormBytes bounds the body of a console request: the largest form (a
// role's permissions, a key's settings) is well under a kilobyte.
const MaxFormBytes = 16 << 10

// ServeHTTP serves the console's paths and hands every other request to
// Next.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/t/"):
		name, rest, _ := strings.Cut(strings.TrimPrefix(p, "/t/"), "/")
		if rest == "console" || strings.HasPrefix(rest, "console/") {
			c.serveTenant(w, r, name, "/t/"+name+"/console", strings.TrimPrefix(rest, "console"))
			return
		}
	case p == "/operator" || strings.HasPrefix(p, "/operator/"):
		c.serveOperator(w, r, strings.TrimPrefix(p, "/operator"))
		return
	case p == "/console" || strings.HasPrefix(p, "/console/"):
		if name, ok := c.hostTenant(r); ok {
			c.serveTenant(w, r, name, "/console", strings.TrimPrefix(p, "/console"))
			return
		}
	}
	c.next.ServeHTTP(w, r)
}

// formRead reads the form of a console request, before any handler (or a
// Clone of the request) can: every console form is URL-encoded and small,
// and a multipart body would otherwise be parsed up to 32 MB with its files
// written to $TMPDIR, never removed for a clone. It answers a body that is
// not a URL-encoded form (415) or is larger than MaxFormBytes (413) and
// reports false.
func formRead(w http.ResponseWriter, r *http.Request) bool {
	if err := parseConsoleForm(w, r); err != nil {
		http.Error(w, err.msg, err.status)
		return false
	}
	return true
}

// parseConsoleForm refuses a body that is not a URL-encoded form (415) or
// that is larger than MaxFormBytes (413), and parses the form.
func parseConsoleForm(w http.ResponseWriter, r *http.Request) *httpError {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return nil
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/x-www-form-urlencoded" {
			return &httpError{status: http.StatusUnsupportedMediaType, msg: "The console accepts only forms (application/x-www-form-urlencoded)."}
		}
	}
	if r.ContentLength > MaxFormBytes {
		return &httpError{status: http.StatusRequestEntityTooLarge, msg: "The form is too large."}
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxFormBytes)
	if err := r.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return &httpError{status: http.StatusRequestEntityTooLarge, msg: "The form is too large."}
		}
		return &httpError{status: http.StatusBadRequest, msg: "The form could not be read."}
	}
	return nil
}

func (c *Console) hostTenant(r *http.Request) (string, bool) {
	if c.baseDomain == "" {
		return "", false
	}
	host := strings.ToLower(r.Host)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	name, ok := strings.CutSuffix(host, "."+c.baseDomain)
	return name, ok && name != "" && !strings.Contains(name, ".")
}

// req is what a console handler knows about its request.
type req struct {
	prefix   string // the console's URL prefix: /t/acme/console or /console
	tenant   store.Tenant
	sess     *store.Session // nil when not signed in
	sessID   string
	user     store.User
	roles    []store.Role
	perms    map[string]bool
	op       store.Operator
	operator bool
}

// userName is the signed-in user's userName.
func (q *req) userName() string {
	s, _ := q.user.Attrs["userName"].(string)
	return s
}

type reqKey struct{}

func reqOf(r *http.Request) *req { return r.Context().Value(reqKey{}).(*req) }

// withReq gives r its req, and the signed-in person as the actor of the
// changes the request makes (see store.Actor).
func withReq(r *http.Request, q *req) *http.Request {
	ctx := context.WithValue(r.Context(), reqKey{}, q)
	switch {
	case q.sess == nil:
	case q.operator:
		ctx = store.WithActor(ctx, store.Actor{Kind: store.ActorOperator, ID: q.op.Email, RequestID: r.Header.Get("X-Request-Id")})
	default:
		ctx = store.WithActor(ctx, store.Actor{Kind: store.ActorConsole, ID: q.user.ID, RequestID: r.Header.Get("X-Request-Id")})
	}
	return r.WithContext(ctx)
}

// handler is a console handler; a returned error is shown as a page.
type handler func(http.ResponseWriter, *http.Request, *req) error

// httpError is an error with a status and a message safe to show.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func errorf(status int, format string, args ...any) error {
	return &httpError{status: status, msg: fmt.Sprintf(format, args...)}
}

// view is the data every template gets.
type view struct {
	Title    string
	Prefix   string
	Tenant   store.Tenant
	User     string
	Operator string
	Perms    map[string]bool
	CSRF     string
	Flash    string
	Error    string
	Data     any
}

func (c *Console) view(q *req, title string, data any) view {
	v := view{Title: title, Prefix: q.prefix, Tenant: q.tenant, Perms: q.perms, Data: data}
	if q.sess != nil {
		v.CSRF = q.sess.CSRF
		v.User = q.userName()
		if q.operator {
			v.Operator = q.op.Email
			v.User = ""
		}
	}
	return v
}

// render writes a page.
func (c *Console) render(w http.ResponseWriter, status int, page string, v view) {
	t := c.pages[page]
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		c.log.Error("console: rendering page failed", "page", page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// fail shows err as an error page.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, q *req, err error) {
	var he *httpError
	if !errors.As(err, &he) {
		c.log.Error("console: request failed", "request_id", server.RequestID(r.Context()), "method", r.Method, "path", r.URL.Path, "err", err)
		he = &httpError{status: http.StatusInternalServerError, msg: "Something went wrong on our side. Please try again."}
	}
	v := c.view(q, http.StatusText(he.status), nil)
	v.Error = he.msg
	c.render(w, he.status, "error", v)
}

// noteRoute tells the access log the tenant and route of a console
// request: prefix (/t/{tenant}/console, /console or /operator) and the
// pattern of the console's mux that served it, without its method.
func noteRoute(r *http.Request, tenant, prefix, pattern string) {
	if _, p, ok := strings.Cut(pattern, " "); ok {
		pattern = p
	}
	server.NoteRequest(r.Context(), tenant, prefix+pattern)
}

// redirect sends the browser to path below the console's prefix.
func redirect(w http.ResponseWriter, r *http.Request, q *req, path string) error {
	http.Redirect(w, r, q.prefix+path, http.StatusSeeOther)
	return nil
}
