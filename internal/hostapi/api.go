package hostapi

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/scimd/scimd/internal/auth"
	"github.com/scimd/scimd/internal/store"
)

// Prefix is where the API is mounted.
const Prefix = "/api/v1/"

// Defaults of Config.
const (
	// DefaultPollInterval is how often a long poll reads the log again
	// when no commit of this process wakes it: the commits of other
	// instances sharing the database are not heard.
	DefaultPollInterval = 500 * time.Millisecond
	// DefaultMaxWaitsPerKey is how many long polls one key may hold open
	// at once (through this instance); more are answered 429.
	DefaultMaxWaitsPerKey = 8
)

// Config is what the API needs.
type Config struct {
	Store  store.Store
	Host   store.HostStore
	Logger *slog.Logger
	// Now is the clock; tests may replace it.
	Now func() time.Time
	// PollInterval and MaxWaitsPerKey default to DefaultPollInterval and
	// DefaultMaxWaitsPerKey.
	PollInterval   time.Duration
	MaxWaitsPerKey int
}

// API serves /api/v1.
type API struct {
	store    store.Store
	host     store.HostStore
	log      *slog.Logger
	now      func() time.Time
	poll     time.Duration
	maxWaits int
	mux      *http.ServeMux

	mu      sync.Mutex
	waits   map[string]int // key id → long polls open
	touches auth.Touches
}

// route is one endpoint. Every route the API serves is in routes, which
// the OpenAPI document must list (see openapi_test.go).
type route struct {
	pattern string // a ServeMux pattern: "GET /api/v1/..."
	public  bool   // served without an application key
	handle  func(a *API, w http.ResponseWriter, r *http.Request, k store.AppKey) error
}

var routes = []route{
	{pattern: "GET /api/v1/openapi.json", public: true, handle: (*API).openAPI},
	{pattern: "GET /api/v1/events", handle: (*API).events},
	{pattern: "GET /api/v1/tenants/{tenant}/users", handle: (*API).users},
	{pattern: "GET /api/v1/tenants/{tenant}/users/{id}", handle: (*API).user},
}

// New returns the API for cfg.
func New(cfg Config) *API {
	a := &API{store: cfg.Store, host: cfg.Host, log: cfg.Logger, now: cfg.Now, poll: cfg.PollInterval, maxWaits: cfg.MaxWaitsPerKey,
		waits: map[string]int{}}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.poll <= 0 {
		a.poll = DefaultPollInterval
	}
	if a.maxWaits <= 0 {
		a.maxWaits = DefaultMaxWaitsPerKey
	}
	a.mux = http.NewServeMux()
	for _, rt := range routes {
		a.mux.Handle(rt.pattern, a.serve(rt))
	}
	// Anything else under the prefix: a JSON error, after authentication
	// (the API's shape is public, in openapi.json, but nothing else is).
	a.mux.Handle(Prefix, a.serve(route{handle: func(_ *API, w http.ResponseWriter, r *http.Request, _ store.AppKey) error {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			return errorf(http.StatusMethodNotAllowed, codeMethodNotAllowed, "the API is read-only: use GET")
		}
		return errorf(http.StatusNotFound, codeNotFound, "no such endpoint: see /api/v1/openapi.json")
	}}))
	return a
}

// ServeHTTP serves a request below Prefix.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// serve turns a route into a handler: authentication, then the route's
// function, whose error one writer answers.
func (a *API) serve(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		var k store.AppKey
		var err error
		if !rt.public {
			k, err = a.authenticate(r)
		}
		if err == nil {
			err = rt.handle(a, w, r, k)
		}
		if err != nil {
			a.writeError(w, r, err)
		}
	})
}

// Error codes: the "code" of every error body.
const (
	codeUnauthorized     = "unauthorized"
	codeForbidden        = "forbidden"
	codeNotFound         = "not_found"
	codeMethodNotAllowed = "method_not_allowed"
	codeInvalidParameter = "invalid_parameter"
	codeInvalidCursor    = "invalid_cursor"
	codeCursorExpired    = "cursor_expired"
	codeTooManyWaits     = "too_many_long_polls"
	codeInternal         = "internal"
)

// Error is an error answered to the client: its status, code and message
// are sent, Err (the detail of an internal error) only logged.
type Error struct {
	Status  int
	Code    string
	Message string
	Err     error
	// Challenge is the WWW-Authenticate header of a 401 (RFC 6750 §3).
	Challenge string
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func errorf(status int, code, msg string) *Error {
	return &Error{Status: status, Code: code, Message: msg}
}

// errorBody is the JSON of every error of the API.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// writeError answers err: an *Error as it says, anything else as a 500
// that says only "internal error", its detail in the log.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil && errors.Is(err, r.Context().Err()) {
		return // the client went away
	}
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Status: http.StatusInternalServerError, Code: codeInternal, Message: "internal error", Err: err}
	}
	if e.Challenge != "" {
		w.Header().Set("WWW-Authenticate", e.Challenge)
	}
	if e.Status >= 500 {
		a.log.Error("api: internal error", "method", r.Method, "path", r.URL.Path, "err", e.Err)
	}
	var body errorBody
	body.Error.Code, body.Error.Message = e.Code, e.Message
	writeJSON(w, e.Status, body)
}

// writeJSON answers v as JSON with status. Its error is only that v
// does not encode, before anything is written: a client that went away
// while the body was sent is no error to answer.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
	return nil
}

// authenticate returns the application key of the request's
// Authorization: Bearer header, read from the database (so that a key
// revoked through any instance is refused at once), or a 401.
func (a *API) authenticate(r *http.Request) (store.AppKey, error) {
	h := r.Header.Get("Authorization")
	unauthorized := func(challenge, msg string) error {
		return &Error{Status: http.StatusUnauthorized, Code: codeUnauthorized, Message: msg, Challenge: challenge}
	}
	if h == "" {
		return store.AppKey{}, unauthorized("Bearer", "authentication required: send an application key as Authorization: Bearer KEY (scimd appkeys create)")
	}
	const invalid = `Bearer error="invalid_token"`
	token, ok := auth.BearerToken(h)
	if !ok {
		return store.AppKey{}, unauthorized(invalid, "invalid credentials: send an application key as Authorization: Bearer KEY")
	}
	id, ok := auth.AppKeyID(token)
	if !ok {
		return store.AppKey{}, unauthorized(invalid, "invalid credentials: not an application key (they begin with scimdapp_; a tenant's SCIM key is not one)")
	}
	k, err := a.host.AppKey(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || err == nil && !auth.SecretMatches(token, k.SecretHash) {
		return store.AppKey{}, unauthorized(invalid, "invalid credentials: unknown application key")
	}
	if err != nil {
		return store.AppKey{}, err
	}
	now := a.now()
	if !k.Revoked.IsZero() && !now.Before(k.Revoked) {
		return store.AppKey{}, unauthorized(invalid, "invalid credentials: this application key has been revoked")
	}
	a.touch(k, now)
	return k, nil
}

// touch records the key's use in the background, at most once per
// auth.TouchEvery per key and process (auth.Touches).
func (a *API) touch(k store.AppKey, now time.Time) {
	if !a.touches.Due(k.ID, k.LastUsed, now) {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := a.host.TouchAppKey(ctx, k.ID, now); err != nil {
			a.log.Warn("recording application key use failed", "key", k.ID, "err", err)
		}
	}()
}

//go:embed openapi.json
var openAPIDoc []byte

// openAPI serves the API's OpenAPI 3.1 document.
func (a *API) openAPI(w http.ResponseWriter, _ *http.Request, _ store.AppKey) error {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openAPIDoc)
	return nil
}
