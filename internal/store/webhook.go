package store

import (
	"context"
	"errors"
	"time"
)

// Webhook endpoint states.
const (
	// WebhookActive: events are delivered.
	WebhookActive = "active"
	// WebhookDisabled: by the operator, or because the receiver answered
	// 410 Gone. Enable (or replay) resumes delivery.
	WebhookDisabled = "disabled"
	// WebhookFailing: an event could not be delivered through the whole
	// retry schedule. Enable (or replay) resumes delivery, with that event.
	WebhookFailing = "failing"
)

// MaxWebhookAttempts is how many of an endpoint's delivery attempts the
// store keeps: the newest.
const MaxWebhookAttempts = 100

// WebhookEndpoint is a receiver of the event log, by Standard Webhooks,
// and the state of its delivery. One instance at a time delivers for it:
// Webhook formats.
const (
	// WebhookStandard: Standard Webhooks 1.0 messages, the events' JSON.
	WebhookStandard = "standard"
	// WebhookSET: RFC 8935 pushes of RFC 9967 Security Event Tokens.
	WebhookSET = "set"
)

// the holder of its lease.
type WebhookEndpoint struct {
	ID  string // "wh_" and 24 hex digits
	URL string
	// Format is what the endpoint receives: WebhookStandard or WebhookSET.
	// It does not change.
	Format string
	// TenantIDs limits the endpoint to the events of some tenants; nil
	// means every tenant.
	TenantIDs []int64
	// Types limits it to the events whose type matches one of these
	// patterns (see EventQuery.Types); nil means every type.
	Types       []string
	State       string // WebhookActive, WebhookDisabled or WebhookFailing
	StateReason string // why it is disabled or failing ("" when active)
	// Secret is the signing secret, sealed by the webhook package (the
	// store never sees it in plain text). PrevSecret is the one it
	// replaced, which keeps signing too until PrevSecretUntil.
	Secret          []byte
	PrevSecret      []byte
	PrevSecretUntil time.Time
	// Position is where in the event log the endpoint has delivered
	// through; the zero position means from the oldest retained event.
	Position EventPosition
	// Attempts, NextAttempt and FailingSince are the retry state of the
	// next event: failed attempts so far, when to try again (zero: at
	// once), and when its first attempt failed (zero: none failed).
	Attempts     int
	NextAttempt  time.Time
	FailingSince time.Time
	LastError    string    // of the last failed attempt ("" once one succeeds)
	LastSuccess  time.Time // of the last delivered event
	Created      time.Time
	// LeaseHolder is the instance delivering for the endpoint, until
	// LeaseExpires ("" and zero when none).
	LeaseHolder  string
	LeaseExpires time.Time
}

// WebhookAttempt is one delivery attempt of an event to an endpoint.
type WebhookAttempt struct {
	ID         int64 // set by the store, increasing
	EndpointID string
	Time       time.Time
	EventID    string
	EventType  string
	Attempt    int // 1 for the event's first attempt
	Status     int // the HTTP status, 0 when there was no answer
	Latency    time.Duration
	Error      string // "" when the attempt delivered the event
}

// WebhookProgress is what a delivery (or a read of the log that found
// nothing for the endpoint) changes in the endpoint's state.
type WebhookProgress struct {
	Position     EventPosition
	Attempts     int
	NextAttempt  time.Time
	FailingSince time.Time
	LastError    string
	LastSuccess  time.Time // zero leaves it as it is
	// State, when not "", moves the endpoint to WebhookFailing or
	// WebhookDisabled, for StateReason.
	State       string
	StateReason string
}

// ErrWebhookLease is returned when an instance writes the delivery state
// of an endpoint whose lease it does not hold (any more), or when another
// instance holds the lease it asks for.
var ErrWebhookLease = errors.New("another instance holds the webhook endpoint's lease")

// ErrWebhookMoved is returned by RecordWebhook when the endpoint's
// position is no longer the one the delivery started from (an operator
// replayed it meanwhile): the progress is not stored.
var ErrWebhookMoved = errors.New("the webhook endpoint's position was changed meanwhile")

// WebhookStore keeps webhook endpoints, their delivery state and their
// last attempts. Backends implement it next to Store.
type WebhookStore interface {
	// CreateWebhook stores a new endpoint. Returns ErrConflict if its ID
	// exists.
	CreateWebhook(ctx context.Context, e WebhookEndpoint) error
	// Webhook returns an endpoint, or ErrNotFound.
	Webhook(ctx context.Context, id string) (WebhookEndpoint, error)
	// Webhooks lists every endpoint, oldest first.
	Webhooks(ctx context.Context) ([]WebhookEndpoint, error)
	// UpdateWebhook applies fn to the endpoint inside a transaction and
	// stores what fn left of everything but ID, Created and the lease (the
	// operator's changes: state, secrets, position, retry state). Returns
	// ErrNotFound, or fn's error unchanged. fn may run more than once and
	// must not call the store.
	UpdateWebhook(ctx context.Context, id string, fn func(*WebhookEndpoint) error) (WebhookEndpoint, error)
	// DeleteWebhook removes an endpoint and its attempts. Returns
	// ErrNotFound.
	DeleteWebhook(ctx context.Context, id string) error

	// LeaseWebhook gives holder the endpoint's lease until until, and
	// returns the endpoint: when no one holds it, when holder does (a
	// renewal), or when the holder's lease has expired by now. Otherwise
	// it returns ErrWebhookLease, and ErrNotFound when the endpoint is
	// gone. Two instances never both hold a lease.
	LeaseWebhook(ctx context.Context, id, holder string, now, until time.Time) (WebhookEndpoint, error)
	// ReleaseWebhook ends holder's lease, if it holds it, so that another
	// instance may take the endpoint over at once.
	ReleaseWebhook(ctx context.Context, id, holder string) error
	// RecordWebhook stores, in one transaction, an attempt (when a is not
	// nil) and the progress of a delivery that started at position from.
	// Returns ErrWebhookLease (storing nothing) when holder does not hold
	// the lease; ErrWebhookMoved (storing only the attempt) when the
	// endpoint is no longer at from; ErrNotFound when it is gone. It keeps
	// the newest MaxWebhookAttempts attempts of the endpoint.
	RecordWebhook(ctx context.Context, id, holder string, from EventPosition, a *WebhookAttempt, p WebhookProgress) error
	// WebhookAttempts returns an endpoint's last attempts, newest first,
	// at most limit.
	WebhookAttempts(ctx context.Context, id string, limit int) ([]WebhookAttempt, error)
	// WebhookBacklog counts the visible events after the endpoint's
	// position that are for it (its tenants and types), up to max: what
	// it still has to receive.
	WebhookBacklog(ctx context.Context, e WebhookEndpoint, max int) (int64, error)
	// EventPositionBefore returns the position of the last visible event
	// (in log order) older than t, or the zero position when there is
	// none: reading after it replays the events since t. Its cost grows
	// with the number of events since t, which the replay reads anyway.
	EventPositionBefore(ctx context.Context, t time.Time) (EventPosition, error)
}
