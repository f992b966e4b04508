package server

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/scimd/scimd/internal/auth"
	"github.com/scimd/scimd/internal/limits"
	"github.com/scimd/scimd/internal/metrics"
	"github.com/scimd/scimd/internal/scim"
	"github.com/scimd/scimd/internal/scim/schema"
	"github.com/scimd/scimd/internal/store"
)

// MaxBodyBytes is the largest request body scimd reads; larger bodies get 413.
const MaxBodyBytes = 1 << 20

// Config is what a Server needs.
type Config struct {
	Store  store.Store
	Logger *slog.Logger
	// BaseDomain, when set, also serves tenant T at https://T.<BaseDomain>/scim/v1 and /scim/v2.
	BaseDomain string
	// Now returns the current time; tests may replace it.
	Now func() time.Time
	// Activity, when set, is told of every tenant's SCIM request.
	Activity ActivityRecorder
	// Limits, when set, bounds each tenant's concurrent requests and each
	// API key's request rate (429 beyond).
	Limits *limits.Limiter
	// QueryTimeout bounds how long a request that only reads may take: its
	// queries are stopped past it and it is answered 503. 0 means
	// DefaultQueryTimeout; negative, no bound.
	QueryTimeout time.Duration
	// Metrics, when set, counts the SCIM requests and authentication
	// failures.
	Metrics *metrics.Metrics
	// Wrap, when set, is put between what every request gets (request
	// id, access log, panic recovery) and the SCIM routes: it is given
	// them and returns the handler of every request. The console uses it
	// to serve its own paths; see NoteRequest.
	Wrap func(scim http.Handler) http.Handler
	// SecurityEvents, when set, is advertised in /ServiceProviderConfig
	// (RFC 9967 §4); nil advertises no Security Event Tokens.
	SecurityEvents *SecurityEvents
}

// DefaultQueryTimeout is Config.QueryTimeout's default.
const DefaultQueryTimeout = 15 * time.Second

// Server serves SCIM for every tenant in the store.
type Server struct {
	store      store.Store
	log        *slog.Logger
	baseDomain string
	now        func() time.Time
	auth       *auth.Authenticator
	scim       *http.ServeMux // routes below /scim/{version}/, tenant already resolved
	mux        *http.ServeMux
	activity   ActivityRecorder
	unauth     sampler // which unauthenticated requests the activity log records
	limits     *limits.Limiter
	queryLimit time.Duration
	metrics    *metrics.Metrics
	handler    http.Handler // Wrap(routes), or routes
	// securityEvents is what the ServiceProviderConfig advertises of SETs.
	securityEvents *SecurityEvents

	cursorMu  sync.Mutex
	cursorKey cipher.AEAD // seals list cursors; nil until first needed
}

// New returns a Server for cfg.
func New(cfg Config) *Server {
	s := &Server{
		store:      cfg.Store,
		log:        cfg.Logger,
		baseDomain: strings.ToLower(strings.TrimPrefix(cfg.BaseDomain, ".")),
		now:        cfg.Now,
		activity:   cfg.Activity,
		limits:     cfg.Limits,
		queryLimit: cfg.QueryTimeout,
		metrics:    cfg.Metrics,

		securityEvents: cfg.SecurityEvents,
	}
	if s.queryLimit == 0 {
		s.queryLimit = DefaultQueryTimeout
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.auth = &auth.Authenticator{Store: s.store, Logger: s.log, Now: s.now}
	s.routes()
	s.handler = http.HandlerFunc(s.route)
	if cfg.Wrap != nil {
		s.handler = cfg.Wrap(s.handler)
	}
	return s
}

// routes lists every endpoint.
func (s *Server) routes() {
	s.scim = http.NewServeMux()
	h := func(pattern string, fn handlerFunc) { s.scim.Handle(pattern, fn) }
	for _, e := range []endpoints{
		{rt: schema.UserType, list: s.listUsers, create: s.createUser, get: s.getUser, replace: s.replaceUser, patch: s.patchUser, delete: s.deleteUser},
		{rt: schema.GroupType, list: s.listGroups, create: s.createGroup, get: s.getGroup, replace: s.replaceGroup, patch: s.patchGroup, delete: s.deleteGroup},
	} {
		h("/scim/{version}"+e.rt.Endpoint, e.collection)
		h("/scim/{version}"+e.rt.Endpoint+"/.search", e.search)
		h("/scim/{version}"+e.rt.Endpoint+"/{id}", e.resource)
	}
	h("/scim/{version}/Bulk", s.bulk)
	h("/scim/{version}/ServiceProviderConfig", s.serviceProviderConfig)
	h("/scim/{version}/ResourceTypes", s.resourceTypes)
	h("/scim/{version}/ResourceTypes/{name}", s.resourceType)
	h("/scim/{version}/Schemas", s.schemas)
	h("/scim/{version}/Schemas/{urn}", s.schemaByURN)
	// RFC 7644 §3.11: a provider that does not support /Me SHOULD answer
	// 501. A key is a connection's, not a user's: there is no "me".
	me := func(w http.ResponseWriter, r *http.Request) error {
		return scim.Errorf(http.StatusNotImplemented, "", "/Me is not supported: an API key authenticates an identity provider's connection, not a user")
	}
	h("/scim/{version}/Me", me)
	h("/scim/{version}/Me/", me) // /Me/... too
	h("/", func(w http.ResponseWriter, r *http.Request) error {
		return scim.NotFound("no SCIM endpoint at %s", r.URL.Path)
	})

	s.mux = http.NewServeMux()
	s.mux.Handle("GET /healthz", handlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
		return nil
	}))
	s.mux.Handle("GET /readyz", handlerFunc(s.readyz))
	s.mux.Handle("/t/{tenant}/scim/", handlerFunc(s.pathTenant))
	s.mux.Handle("/scim/", handlerFunc(s.hostTenant))
}

// ServeHTTP handles every request: request id, access log, metrics, panic
// recovery, then routing (through Config.Wrap).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	reqID := r.Header.Get("X-Request-Id")
	if reqID == "" || len(reqID) > 64 || !printable(reqID) {
		reqID = newRequestID()
	}
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	rec.Header().Set("X-Request-Id", reqID)
	info := &requestInfo{id: reqID, log: s.log}
	r = r.WithContext(context.WithValue(r.Context(), infoKey{}, info))
	r, act := s.beginActivity(r)
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("panic serving request", "request_id", reqID, "panic", p, "stack", string(debug.Stack()))
			if !rec.wrote {
				writeError(rec, r, scim.Internal(fmt.Errorf("panic: %v", p)))
			}
		}
		d := s.now().Sub(start)
		ua := r.UserAgent()
		client := ""
		if info.scim {
			client = scim.ClientOf(ua)
			s.metrics.SCIMRequest(r.Method, info.resource, ua, rec.status, d)
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("request_id", reqID), slog.String("tenant", info.tenant), slog.String("key_id", info.keyID),
			slog.String("client", client), slog.String("method", r.Method), slog.String("route", info.route),
			slog.String("path", r.URL.Path), slog.Int("status", rec.status), slog.Int64("bytes", rec.bytes),
			slog.Float64("duration_ms", float64(d.Microseconds())/1000), slog.String("user_agent", ua))
		s.endActivity(act, r, info, rec.status, start)
	}()
	s.handler.ServeHTTP(rec, r)
}

// printable reports whether s is printable ASCII without spaces, as a
// request id taken from a header must be to reach the log.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// route serves what Config.Wrap hands back: the server's own routes.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	if p := cleanPath(r.URL.Path); p != r.URL.Path {
		// A base URL pasted with a trailing slash makes clients ask for
		// .../scim/v2//Users (seen from Okta); ServeMux would answer with a
		// redirect, which no client follows on POST or PATCH. Serve it as
		// the path it means instead.
		r2 := *r
		u := *r.URL
		u.Path, u.RawPath = p, ""
		r2.URL = &u
		r = &r2
	}
	s.mux.ServeHTTP(w, r)
}

// NoteRequest tells the access log the tenant and the route pattern of a
// request that a Config.Wrap handler serves itself.
func NoteRequest(ctx context.Context, tenant, route string) {
	if i, ok := ctx.Value(infoKey{}).(*requestInfo); ok {
		i.tenant, i.route = tenant, route
	}
}

// RequestID is the id of the request ctx belongs to (its X-Request-Id),
// or "" outside a request.
func RequestID(ctx context.Context) string {
	if i, ok := ctx.Value(infoKey{}).(*requestInfo); ok {
		return i.id
	}
	return ""
}

// cleanPath returns p with runs of '/' collapsed and without a trailing
// '/' (but for "/" itself). SCIM paths have no empty segments and no
// trailing slash: //Users and /Users/ both mean /Users.
func cleanPath(p string) string {
	if !strings.Contains(p, "//") && (len(p) <= 1 || !strings.HasSuffix(p, "/")) {
		return p
	}
	b := make([]byte, 0, len(p))
	for i := 0; i < len(p); i++ {
		if p[i] == '/' && len(b) > 0 && b[len(b)-1] == '/' {
			continue
		}
		b = append(b, p[i])
	}
	if len(b) > 1 && b[len(b)-1] == '/' {
		b = b[:len(b)-1]
	}
	return string(b)
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if _, err := s.store.Tenant(ctx, ""); err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Error("readiness check failed", "request_id", RequestID(r.Context()), "err", err)
		http.Error(w, "store unavailable", http.StatusServiceUnavailable)
		return nil
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ready")
	return nil
}

// pathTenant serves /t/{tenant}/scim/...
func (s *Server) pathTenant(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("tenant")
	prefix := "/t/" + name
	infoFrom(r.Context()).routePrefix = "/t/{tenant}"
	r2 := r.Clone(r.Context())
	r2.URL.Path = strings.TrimPrefix(r.URL.Path, prefix)
	r2.URL.RawPath = ""
	return s.serveTenant(w, r2, name, prefix)
}

// hostTenant serves /scim/... on https://{tenant}.{base-domain}.
func (s *Server) hostTenant(w http.ResponseWriter, r *http.Request) error {
	host := strings.ToLower(r.Host)
	if h, _, ok := strings.Cut(host, ":"); ok {
		host = h
	}
	name, ok := strings.CutSuffix(host, "."+s.baseDomain)
	if s.baseDomain == "" || !ok || name == "" || strings.Contains(name, ".") {
		return scim.NotFound("no tenant at this address: use /t/{tenant}/scim/v2 or the tenant's own host name")
	}
	return s.serveTenant(w, r, name, "")
}

// serveTenant resolves and checks the tenant, authenticates the caller and
// hands the request to the SCIM routes.
func (s *Server) serveTenant(w http.ResponseWriter, r *http.Request, name, prefix string) error {
	version, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/scim/"), "/")
	if version != "v1" && version != "v2" {
		return scim.NotFound("no SCIM endpoint at %s: the base URL ends in /scim/v1 or /scim/v2", r.URL.Path)
	}
	if strings.IndexByte(r.URL.Path, 0) >= 0 || strings.IndexByte(r.URL.RawQuery, 0) >= 0 || strings.Contains(r.URL.RawQuery, "%00") {
		return scim.BadRequest(scim.InvalidValue, "the URL must not contain the NUL character")
	}
	info := infoFrom(r.Context())
	info.tenant = name
	info.scim, info.resource = true, metrics.ResourceOf(r.URL.Path)
	t, err := s.store.Tenant(r.Context(), name)
	if errors.Is(err, store.ErrNotFound) {
		// Answered as an existing tenant answers the same credentials (a
		// key of another tenant is no key here), so that tenant names
		// cannot be probed without a key.
		_, err := s.auth.Authenticate(r.Context(), store.Tenant{APIKeysEnabled: true}, r.Header.Get("Authorization"))
		if err == nil || auth.FailureReason(err) != "" {
			s.metrics.AuthFailure("unknown_tenant")
		}
		if err != nil {
			return err
		}
		return scim.Unauthorized("invalid credentials: unknown User ID or wrong API key for this tenant")
	}
	if err != nil {
		return scim.Internal(err)
	}
	noteTenant(r.Context(), t, r.URL.Path)
	p, err := s.auth.Authenticate(r.Context(), t, r.Header.Get("Authorization"))
	if err != nil {
		if reason := auth.FailureReason(err); reason != "" {
			s.metrics.AuthFailure(reason)
		}
		return err
	}
	info.keyID = p.KeyID
	if !t.ProvisioningActive {
		return scim.Forbidden("SCIM provisioning is not activated for tenant %q: initial activation is done by support, please contact support to activate provisioning", name)
	}
	if isWrite(r) && !p.CanWrite() {
		return scim.Forbidden("this API key is read-only: a read-write key is needed to change resources")
	}
	info.base = baseURL(r, prefix+"/scim/"+version)
	ctx := auth.WithPrincipal(r.Context(), p)
	ctx = store.WithActor(ctx, store.Actor{Kind: store.ActorAPIKey, ID: p.KeyID, Client: scim.ClientOf(r.UserAgent()), RequestID: info.id})
	if s.limits != nil {
		// A tenant's requests queue for its own slots, and a key's rate is
		// its own: one tenant cannot take the database connections, the
		// writer or the CPU the others need.
		if err := s.limits.Allow(p.KeyID, float64(t.RateLimit)); err != nil {
			return s.refused(w, err)
		}
		release, err := s.limits.Acquire(ctx, t.ID)
		if err != nil {
			return s.refused(w, err)
		}
		defer release()
	}
	if !isWrite(r) && s.queryLimit > 0 {
		// A write is never stopped half-way (the store's transaction
		// decides); a read is stopped once it has taken too long.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.queryLimit)
		defer cancel()
	}
	r = r.WithContext(ctx)
	if a, ok := ctx.Value(activityKey{}).(*activity); ok {
		r = s.pendActivity(r, a, p.KeyID)
	}
	if r.ContentLength > MaxBodyBytes {
		return tooLarge()
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	s.scim.ServeHTTP(w, r)
	return nil
}

// refused answers a request the limits refused: 429 with Retry-After.
func (s *Server) refused(w http.ResponseWriter, err error) error {
	var rf *limits.Refusal
	if !errors.As(err, &rf) {
		return err // the client went away while waiting
	}
	if rf.Reason == limits.ReasonKeyRate {
		s.metrics.LimitRejection(metrics.LimitRate)
	} else {
		s.metrics.LimitRejection(metrics.LimitConcurrency)
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(rf.RetryAfter.Seconds())))
	return scim.Errorf(http.StatusTooManyRequests, "", "%s (retry after %d s)", rf.Error(), int(rf.RetryAfter.Seconds()))
}

func isWrite(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	case http.MethodPost:
		return !strings.HasSuffix(r.URL.Path, "/.search")
	}
	return true
}

func tooLarge() error {
	return scim.Errorf(http.StatusRequestEntityTooLarge, "", "request body exceeds the limit of %d bytes", MaxBodyBytes)
}

// baseURL is the absolute SCIM base URL of the request's tenant, used for
// meta.location and Location headers.
func baseURL(r *http.Request, path string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "https" || p == "http" {
		scheme = p
	}
	return scheme + "://" + r.Host + path
}

// requestInfo collects what the access log reports about a request.
type requestInfo struct {
	id, tenant, keyID, base string
	route, routePrefix      string // the ServeMux pattern that served it, below routePrefix
	scim                    bool   // a tenant's SCIM request (counted in the metrics)
	resource                string // its resource label (metrics.ResourceOf)
	log                     *slog.Logger
}

type infoKey struct{}

func infoFrom(ctx context.Context) *requestInfo {
	if i, ok := ctx.Value(infoKey{}).(*requestInfo); ok {
		return i
	}
	return &requestInfo{log: slog.Default()}
}

func newRequestID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
	bytes  int64 // of the body
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// handlerFunc is an HTTP handler that returns its failure as a value; the
// server writes it as a SCIM error.
type handlerFunc func(http.ResponseWriter, *http.Request) error

func (f handlerFunc) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if i, ok := r.Context().Value(infoKey{}).(*requestInfo); ok && r.Pattern != "" {
		i.route = i.routePrefix + r.Pattern
	}
	if err := f(w, r); err != nil {
		writeError(w, r, err)
	}
}
