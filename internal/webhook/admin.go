package webhook

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/scimd/scimd/internal/events"
	"github.com/scimd/scimd/internal/store"
)

// The operator's side: endpoints are added, listed, enabled, disabled,
// given a new secret, replayed and removed here, by the CLI and the
// console alike.

// RotationOverlap is how long a replaced secret keeps signing deliveries
// (beside the new one) after a rotation.
const RotationOverlap = 24 * time.Hour

// TestEventType is the type of the event "send a test event" sends: it is
// signed like every other but is not in the log.
const TestEventType = "webhook.test"

// MaxTypes bounds the type patterns of an endpoint.
const MaxTypes = 32

// Error is a mistake of the operator's (an unknown endpoint, a bad URL,
// type or cursor); its message says what to fix.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

func errorf(format string, args ...any) error { return &Error{fmt.Sprintf(format, args...)} }

// idPattern is the form of endpoint ids.
var idPattern = regexp.MustCompile(`^wh_[0-9a-f]{24}$`)

func newID() string {
	var b [12]byte
	rand.Read(b[:])
	return "wh_" + hex.EncodeToString(b[:])
}

// ErrUnknown is wrapped by the errors about an endpoint that does not
// exist.
var ErrUnknown = errors.New("no such webhook endpoint")

func unknown(id string) error {
	return fmt.Errorf("%w: %q (see scimd webhooks list)", ErrUnknown, id)
}

// Endpoint returns an endpoint by id.
func (s *Service) Endpoint(ctx context.Context, id string) (store.WebhookEndpoint, error) {
	if !idPattern.MatchString(id) {
		return store.WebhookEndpoint{}, unknown(id)
	}
	e, err := s.ws.Webhook(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return e, unknown(id)
	}
	return e, err
}

// ParseTypes parses a comma-separated list of event type patterns: exact
// types (user.created) or prefixes ending in '*' (user.*,
// group.member_*), each of which must name at least one event type.
// Empty means every type (nil).
func ParseTypes(s string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !typePattern.MatchString(p) {
			return nil, errorf("%q is not an event type pattern (like user.created, user.* or group.member_*)", printable(p))
		}
		pre, wild := strings.CutSuffix(p, "*")
		if !slices.ContainsFunc(store.EventTypes, func(t string) bool { return t == p || wild && strings.HasPrefix(t, pre) }) {
			return nil, errorf("%q matches no event type; the types are %s", p, strings.Join(store.EventTypes, ", "))
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	if len(out) > MaxTypes {
		return nil, errorf("at most %d type patterns", MaxTypes)
	}
	return out, nil
}

var typePattern = regexp.MustCompile(`^(\*|[a-z][a-z_]*(\.[a-z_]*)?\*?)$`)

// NewEndpoint is what Add needs.
type NewEndpoint struct {
	URL     string
	Tenants []string // tenant names; none: every tenant
	Types   []string // as ParseTypes returns them
	// Format is store.WebhookStandard ("" too) or store.WebhookSET.
	Format string
}

// Add creates an active endpoint that receives the events written from
// now on, and returns it with its signing secret (which is not stored in
// plain text: this is the only time it is seen). warning is not empty
// when the URL's host does not resolve yet.
func (s *Service) Add(ctx context.Context, n NewEndpoint) (e store.WebhookEndpoint, secret, warning string, err error) {
	switch n.Format {
	case "":
		n.Format = store.WebhookStandard
	case store.WebhookStandard:
	case store.WebhookSET:
		if s.cfg.SET == nil {
			return e, "", "", fmt.Errorf("this deployment has no Security Event Token signing key: its database keeps none")
		}
	default:
		return e, "", "", fmt.Errorf("format %q: use %q (Standard Webhooks) or %q (RFC 8935 Security Event Tokens)", n.Format, store.WebhookStandard, store.WebhookSET)
	}
	u, err := CheckURL(n.URL, s.cfg.AllowInsecure)
	if err != nil {
		return e, "", "", err
	}
	resolved, err := CheckHost(ctx, u, s.cfg.AllowInsecure)
	if err != nil {
		return e, "", "", err
	}
	if !resolved {
		warning = fmt.Sprintf("the host %s does not resolve (yet); deliveries will fail until it does", u.Hostname())
	}
	ids, err := s.tenantIDs(ctx, n.Tenants)
	if err != nil {
		return e, "", "", err
	}
	head, err := s.st.EventsHead(ctx)
	if err != nil {
		return e, "", "", err
	}
	e = store.WebhookEndpoint{ID: newID(), URL: u.String(), Format: n.Format, TenantIDs: ids, Types: n.Types, State: store.WebhookActive,
		Position: head, Created: s.cfg.Now().UTC()}
	secret = NewSecret()
	if e.Secret, err = s.seal.seal(ctx, e.ID, secret); err != nil {
		return e, "", "", err
	}
	if err := s.ws.CreateWebhook(ctx, e); err != nil {
		return e, "", "", err
	}
	s.log.Info("webhooks: endpoint added", "endpoint", e.ID, "url", e.URL)
	s.poke()
	return e, secret, warning, nil
}

func (s *Service) tenantIDs(ctx context.Context, names []string) ([]int64, error) {
	var ids []int64
	for _, name := range names {
		t, err := s.st.Tenant(ctx, name)
		if errors.Is(err, store.ErrNotFound) {
			return nil, errorf("no tenant named %q", printable(name))
		}
		if err != nil {
			return nil, err
		}
		if !slices.Contains(ids, t.ID) {
			ids = append(ids, t.ID)
		}
	}
	return ids, nil
}

// update applies fn to an endpoint and wakes this process's deliveries.
func (s *Service) update(ctx context.Context, id string, fn func(*store.WebhookEndpoint) error) (store.WebhookEndpoint, error) {
	if !idPattern.MatchString(id) {
		return store.WebhookEndpoint{}, unknown(id)
	}
	e, err := s.ws.UpdateWebhook(ctx, id, fn)
	if errors.Is(err, store.ErrNotFound) {
		return e, unknown(id)
	}
	if err == nil {
		s.poke()
	}
	return e, err
}

// resume makes e active with a fresh retry schedule.
func resume(e *store.WebhookEndpoint) {
	e.State, e.StateReason = store.WebhookActive, ""
	e.Attempts, e.NextAttempt, e.FailingSince = 0, time.Time{}, time.Time{}
}

// Enable resumes a disabled or failing endpoint where it stopped (its
// next event first, with a fresh retry schedule). When retention deleted
// events it had not received, it resumes from the oldest retained event,
// and note says so.
func (s *Service) Enable(ctx context.Context, id string) (e store.WebhookEndpoint, note string, err error) {
	cur, err := s.Endpoint(ctx, id)
	if err != nil {
		return e, "", err
	}
	expired := false
	if cur.Position != (store.EventPosition{}) {
		_, err := s.st.ReadEvents(ctx, store.EventQuery{After: &cur.Position, Limit: 1})
		switch {
		case errors.Is(err, store.ErrEventsExpired):
			expired = true
			note = "events after its position were deleted by the retention period: it resumes from the oldest retained event"
		case err != nil:
			return e, "", err
		}
	}
	e, err = s.update(ctx, id, func(e *store.WebhookEndpoint) error {
		resume(e)
		if expired {
			e.Position = store.EventPosition{}
		}
		return nil
	})
	return e, note, err
}

// Disable stops deliveries to an endpoint (an attempt under way
// finishes).
func (s *Service) Disable(ctx context.Context, id string) (store.WebhookEndpoint, error) {
	return s.update(ctx, id, func(e *store.WebhookEndpoint) error {
		e.State, e.StateReason = store.WebhookDisabled, "disabled by the operator"
		e.NextAttempt = time.Time{}
		return nil
	})
}

// RetryNow makes an active endpoint's next attempt now, and resumes a
// failing one (as Enable).
func (s *Service) RetryNow(ctx context.Context, id string) (store.WebhookEndpoint, error) {
	cur, err := s.Endpoint(ctx, id)
	if err != nil {
		return cur, err
	}
	switch cur.State {
	case store.WebhookFailing:
		e, _, err := s.Enable(ctx, id)
		return e, err
	case store.WebhookDisabled:
		return cur, errorf("endpoint %s is disabled: enable it first", id)
	}
	return s.update(ctx, id, func(e *store.WebhookEndpoint) error {
		e.NextAttempt = time.Time{}
		return nil
	})
}

// RotateSecret gives an endpoint a new secret and returns it (shown
// once). The replaced secret keeps signing, beside the new one, for
// RotationOverlap, so that the receiver can switch without losing a
// delivery; a secret replaced before then by a second rotation stops at
// once.
func (s *Service) RotateSecret(ctx context.Context, id string) (store.WebhookEndpoint, string, error) {
	if !idPattern.MatchString(id) {
		return store.WebhookEndpoint{}, "", unknown(id)
	}
	secret := NewSecret()
	sealed, err := s.seal.seal(ctx, id, secret)
	if err != nil {
		return store.WebhookEndpoint{}, "", err
	}
	e, err := s.update(ctx, id, func(e *store.WebhookEndpoint) error {
		e.PrevSecret, e.PrevSecretUntil = e.Secret, s.cfg.Now().Add(RotationOverlap).UTC()
		e.Secret = sealed
		return nil
	})
	if err != nil {
		return e, "", err
	}
	s.log.Info("webhooks: endpoint secret rotated", "endpoint", id)
	return e, secret, nil
}

// Remove deletes an endpoint and its delivery history.
func (s *Service) Remove(ctx context.Context, id string) error {
	if !idPattern.MatchString(id) {
		return unknown(id)
	}
	err := s.ws.DeleteWebhook(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return unknown(id)
	}
	if err == nil {
		s.log.Info("webhooks: endpoint removed", "endpoint", id)
	}
	return err
}

// ReplayFrom moves an endpoint back (or forth) to a cursor of the event
// log (the cursor of the last event the receiver handled, as the events
// API and each delivery's "cursor" give it): the events after it are
// delivered again, in order. The endpoint resumes if it was disabled or
// failing.
func (s *Service) ReplayFrom(ctx context.Context, id, cursor string) (store.WebhookEndpoint, error) {
	p, err := events.ParseCursor(cursor)
	if err != nil {
		return store.WebhookEndpoint{}, errorf("%q is not a cursor of this event log (use one from a delivery's \"cursor\" or the events API)", printable(cursor))
	}
	if _, err := s.Endpoint(ctx, id); err != nil {
		return store.WebhookEndpoint{}, err
	}
	head, err := s.st.EventsHead(ctx)
	if err != nil {
		return store.WebhookEndpoint{}, err
	}
	if head.Less(p) {
		return store.WebhookEndpoint{}, errorf("the cursor is past the end of the event log")
	}
	if _, err := s.st.ReadEvents(ctx, store.EventQuery{After: after(p), Limit: 1}); errors.Is(err, store.ErrEventsExpired) {
		return store.WebhookEndpoint{}, errorf("events after this cursor were deleted by the retention period: replay --since a time instead")
	} else if err != nil {
		return store.WebhookEndpoint{}, err
	}
	return s.replay(ctx, id, p)
}

// ReplaySince moves an endpoint to just before the first event at or
// after t (from the oldest retained event when t is older): the events
// since t are delivered again, in order.
func (s *Service) ReplaySince(ctx context.Context, id string, t time.Time) (store.WebhookEndpoint, error) {
	if _, err := s.Endpoint(ctx, id); err != nil {
		return store.WebhookEndpoint{}, err
	}
	p, err := s.ws.EventPositionBefore(ctx, t)
	if err != nil {
		return store.WebhookEndpoint{}, err
	}
	if _, err := s.st.ReadEvents(ctx, store.EventQuery{After: after(p), Limit: 1}); errors.Is(err, store.ErrEventsExpired) {
		p = store.EventPosition{} // older than retention: from the oldest retained
	} else if err != nil {
		return store.WebhookEndpoint{}, err
	}
	return s.replay(ctx, id, p)
}

func (s *Service) replay(ctx context.Context, id string, p store.EventPosition) (store.WebhookEndpoint, error) {
	e, err := s.update(ctx, id, func(e *store.WebhookEndpoint) error {
		resume(e)
		e.Position = p
		return nil
	})
	if err == nil {
		s.log.Info("webhooks: endpoint replayed", "endpoint", id, "cursor", events.Cursor(p))
	}
	return e, err
}

// TestResult is the outcome of SendTest.
type TestResult struct {
	EventID string
	Status  int // 0 when no answer came
	Latency time.Duration
	Error   string // "" when the receiver answered 2xx
}

// SendTest sends an endpoint a webhook.test event, signed like every
// delivery, and returns the outcome. The event is not in the log (its
// cursor is empty) and the endpoint's state does not change.
func (s *Service) SendTest(ctx context.Context, id string, actor store.Actor) (TestResult, error) {
	e, err := s.Endpoint(ctx, id)
	if err != nil {
		return TestResult{}, err
	}
	if e.Format == store.WebhookSET {
		// RFC 9967 has no test event, and a made-up provisioning event
		// would be taken for a real one.
		return TestResult{}, errors.New("a Security Event Token endpoint gets no test event: RFC 9967 defines none")
	}
	var b [16]byte
	rand.Read(b[:])
	ev := store.Event{ID: "evt_" + hex.EncodeToString(b[:]), Time: s.cfg.Now(), Type: TestEventType,
		Resource: store.EventResource{Type: "Webhook", ID: e.ID}, Actor: actor, Data: json.RawMessage(`{"test":true}`)}
	j := events.Public(ev)
	j.Cursor = "" // not in the log
	body, err := json.Marshal(j)
	if err != nil {
		return TestResult{}, err
	}
	res := s.send(ctx, e, ev.ID, body, "application/json")
	return TestResult{EventID: ev.ID, Status: res.status, Latency: res.latency, Error: res.err}, nil
}

// Status is an endpoint as the operator sees it.
type Status struct {
	store.WebhookEndpoint
	Tenants []string // the names of TenantIDs
	// Backlog is how many events it still has to receive, up to
	// MaxBacklog (BacklogMore: more).
	Backlog     int64
	BacklogMore bool
	Cursor      string // of Position; "" for the zero position
}

// MaxBacklog is where Status stops counting an endpoint's backlog.
const MaxBacklog = 10000

// List returns every endpoint with its backlog, oldest first.
func (s *Service) List(ctx context.Context) ([]Status, error) {
	eps, err := s.ws.Webhooks(ctx)
	if err != nil {
		return nil, err
	}
	ts, err := s.st.Tenants(ctx)
	if err != nil {
		return nil, err
	}
	names := map[int64]string{}
	for _, t := range ts {
		names[t.ID] = t.Name
	}
	out := make([]Status, 0, len(eps))
	for _, e := range eps {
		st, err := s.status(ctx, e, names)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

// StatusOf returns one endpoint's status.
func (s *Service) StatusOf(ctx context.Context, id string) (Status, error) {
	e, err := s.Endpoint(ctx, id)
	if err != nil {
		return Status{}, err
	}
	names := map[int64]string{}
	for _, tid := range e.TenantIDs {
		if t, err := s.st.TenantByID(ctx, tid); err == nil {
			names[tid] = t.Name
		}
	}
	return s.status(ctx, e, names)
}

func (s *Service) status(ctx context.Context, e store.WebhookEndpoint, names map[int64]string) (Status, error) {
	st := Status{WebhookEndpoint: e}
	for _, id := range e.TenantIDs {
		n := names[id]
		if n == "" {
			n = fmt.Sprintf("#%d", id)
		}
		st.Tenants = append(st.Tenants, n)
	}
	if e.Position != (store.EventPosition{}) {
		st.Cursor = events.Cursor(e.Position)
	}
	n, err := s.ws.WebhookBacklog(ctx, e, MaxBacklog+1)
	if err != nil {
		return Status{}, err
	}
	st.Backlog, st.BacklogMore = min(n, MaxBacklog), n > MaxBacklog
	return st, nil
}

// Attempts returns an endpoint's last delivery attempts, newest first.
func (s *Service) Attempts(ctx context.Context, id string, limit int) ([]store.WebhookAttempt, error) {
	if _, err := s.Endpoint(ctx, id); err != nil {
		return nil, err
	}
	return s.ws.WebhookAttempts(ctx, id, limit)
}
