package server

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scimd/scimd/internal/scim"
	"github.com/scimd/scimd/internal/store"
)

// ActivityRecorder receives a description of every SCIM request that named
// a tenant. Record is called on the request's goroutine after the response
// is written: it must not block (queue the event and return).
type ActivityRecorder interface {
	Record(ctx context.Context, e ActivityEvent)
}

// ActivityEvent describes one SCIM request. Before and After are the
// resource's attributes (never the password) when the request read or
// changed one: nil Before on create, nil After on delete. The maps are not
// modified after Record is called.
type ActivityEvent struct {
	Time         time.Time
	Duration     time.Duration
	RequestID    string
	Tenant       store.Tenant // zero ID when the tenant does not exist
	KeyID        string
	UserAgent    string
	Method       string
	Path         string // below the tenant: /scim/v2/Users/ID
	ResourceType string // "User", "Group" or ""
	ResourceID   string
	Status       int
	// ScimType and Detail are those of the SCIM error the request was
	// answered with, "" on success.
	ScimType string
	Detail   string
	// Query is the request's raw query string, shortened to maxQuery
	// bytes, with the values of parameters that look like credentials
	// redacted (see recordedQuery).
	Query  string
	Before map[string]any
	After  map[string]any
	// Notes say what the request needed beyond the RFC: the leniencies
	// scimd applied for its client, one line each.
	Notes []string
	// StoredID is the id of the record the store wrote with the request's
	// change (see store.PendingActivity), which this event's record
	// replaces; 0 when the request changed nothing.
	StoredID int64
}

// activity is what handlers add to a request's ActivityEvent.
type activity struct {
	tenant        store.Tenant
	path          string
	before, after map[string]any
	id            string
	notes         []string
	scimType      string // of the SCIM error written (noteError)
	detail        string
	pending       *store.PendingActivity // for a request that may change something
}

type activityKey struct{}

// beginActivity gives the request a place for handlers to note what they
// changed, when activity is recorded.
func (s *Server) beginActivity(r *http.Request) (*http.Request, *activity) {
	if s.activity == nil {
		return r, nil
	}
	a := &activity{}
	return r.WithContext(context.WithValue(r.Context(), activityKey{}, a)), a
}

// endActivity hands the finished request to the recorder.
func (s *Server) endActivity(a *activity, r *http.Request, info *requestInfo, status int, start time.Time) {
	if a == nil || a.path == "" {
		return // not a tenant's SCIM request
	}
	ua := r.UserAgent()
	if info.keyID == "" {
		// Anyone can send requests that fail authentication, as many as
		// they like, with the User-Agent they like: they are recorded as
		// samples, at most one per tenant per unauthSample, and without
		// the client their User-Agent claims.
		if !s.unauth.sample(a.tenant.ID, start) {
			return
		}
		ua = ""
		a.notes = append(a.notes, "unauthenticated request (one recorded per tenant per "+unauthSample.String()+"; others are only counted)")
	}
	e := ActivityEvent{
		Time: start, Duration: s.now().Sub(start), RequestID: info.id, Tenant: a.tenant, KeyID: info.keyID,
		UserAgent: ua, Method: r.Method, Path: a.path, Status: status, ScimType: a.scimType, Detail: a.detail,
		Query: recordedQuery(r.URL.RawQuery), Before: a.before, After: a.after, ResourceID: a.id, Notes: a.notes,
	}
	if a.pending != nil {
		e.StoredID = a.pending.ID
	}
	typ, id := resourceOf(a.path)
	e.ResourceType = typ
	if e.ResourceID == "" {
		e.ResourceID = id
	}
	s.activity.Record(context.WithoutCancel(r.Context()), e)
}

// resourceOf is the resource type and id a path below the tenant names:
// /scim/v2/Users/ID → User, ID.
func resourceOf(path string) (typ, id string) {
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if len(parts) >= 3 {
		switch parts[2] {
		case "Users":
			typ = "User"
		case "Groups":
			typ = "Group"
		}
		if len(parts) >= 4 && !strings.HasPrefix(parts[3], ".") {
			id = parts[3]
		}
	}
	return typ, id
}

// pendActivity gives a request that may change something (not /Bulk,
// whose operations are requests of their own) its pending activity
// record, which the store writes with the change (see
// store.PendingActivity), when activity is recorded.
func (s *Server) pendActivity(r *http.Request, a *activity, keyID string) *http.Request {
	if a == nil || !isWrite(r) || strings.HasSuffix(r.URL.Path, "/Bulk") {
		return r
	}
	typ, id := resourceOf(a.path)
	status := http.StatusOK
	switch r.Method {
	case http.MethodPost:
		status = http.StatusCreated
	case http.MethodDelete:
		status = http.StatusNoContent
	}
	ua := r.UserAgent()
	a.pending = &store.PendingActivity{Record: store.Activity{
		TenantID: a.tenant.ID, Time: s.now(), RequestID: infoFrom(r.Context()).id, KeyID: keyID,
		Client: scim.ClientOf(ua), UserAgent: scim.Cut(ua, 256), Method: r.Method, Path: scim.Cut(a.path, 512),
		ResourceType: typ, ResourceID: scim.Cut(id, 128), Status: status, Query: recordedQuery(r.URL.RawQuery),
	}}
	return r.WithContext(store.WithActivity(r.Context(), a.pending))
}

// noteTenant records the tenant and path of a tenant's SCIM request.
func noteTenant(ctx context.Context, t store.Tenant, path string) {
	if a, ok := ctx.Value(activityKey{}).(*activity); ok {
		a.tenant, a.path = t, path
	}
}

// noteError records the SCIM error a request was answered with.
func noteError(ctx context.Context, e *scim.Error) {
	if a, ok := ctx.Value(activityKey{}).(*activity); ok {
		a.scimType, a.detail = e.ScimType, scim.Cut(e.Detail, maxDetail)
	}
}

// The most bytes of a request's query string and of an error's detail
// that its activity record keeps.
const (
	maxQuery  = 2048
	maxDetail = 1024
)

// recordedQuery is raw, a request's query string, as its activity record
// keeps it: shortened to maxQuery bytes, with the value of every parameter
// whose name looks like a credential (access_token, api_key, password,
// …) replaced by "REDACTED". No SCIM parameter carries a secret, but a
// misconfigured client may send its token in the URL, and the activity
// log is no place for it.
func recordedQuery(raw string) string {
	if raw == "" {
		return ""
	}
	parts := strings.Split(raw, "&")
	for i, p := range parts {
		name, _, hasValue := strings.Cut(p, "=")
		if n, err := url.QueryUnescape(name); err == nil {
			name = n
		}
		if hasValue && secretParam(name) {
			parts[i] = url.QueryEscape(name) + "=REDACTED"
		}
	}
	return scim.Cut(strings.Join(parts, "&"), maxQuery)
}

// secretParam reports whether a query parameter's name looks like that of
// a credential.
func secretParam(name string) bool {
	name = strings.ToLower(name)
	for _, w := range []string{"token", "secret", "pass", "pwd", "key", "auth", "credential", "sig"} {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// noteLeniency adds notes to the request's activity entry (see
// ActivityEvent.Notes).
func noteLeniency(ctx context.Context, notes ...string) {
	if a, ok := ctx.Value(activityKey{}).(*activity); ok {
		a.notes = append(a.notes, notes...)
	}
}

// noteChange records the resource a request created, changed or deleted.
func noteChange(ctx context.Context, id string, before, after map[string]any) {
	if a, ok := ctx.Value(activityKey{}).(*activity); ok {
		a.id, a.before, a.after = id, before, after
	}
}

// unauthSample is how often an unauthenticated request of a tenant is
// recorded in its activity log.
const unauthSample = 10 * time.Second

// sampler decides which unauthenticated requests are recorded: at most one
// per tenant per unauthSample. It remembers at most maxSampled tenants
// (then starts afresh), so its memory is bounded whatever is sent.
type sampler struct {
	mu      sync.Mutex
	last    map[int64]time.Time
	dropped atomic.Int64 // requests not recorded
}

const maxSampled = 10000

func (p *sampler) sample(tenantID int64, at time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.last == nil || len(p.last) >= maxSampled {
		p.last = make(map[int64]time.Time)
	}
	if t, ok := p.last[tenantID]; ok && at.Sub(t) < unauthSample {
		p.dropped.Add(1)
		return false
	}
	p.last[tenantID] = at
	return true
}

// UnauthenticatedDropped is the number of unauthenticated requests that were
// counted but not recorded in an activity log.
func (s *Server) UnauthenticatedDropped() int64 { return s.unauth.dropped.Load() }
