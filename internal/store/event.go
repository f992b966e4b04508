package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Event types: what changed. They are the names the events API, webhooks
// and SETs carry; they never change meaning.
const (
	EventUserCreated     = "user.created"
	EventUserUpdated     = "user.updated"     // Data.Changed lists the changed attribute paths
	EventUserDeactivated = "user.deactivated" // active went from true to false (an update)
	EventUserReactivated = "user.reactivated" // active went from false to true (an update)
	EventUserDeleted     = "user.deleted"     // Data.Archived says whether the record was kept
	EventUserRestored    = "user.restored"    // an archived user is live again
	EventUserPurged      = "user.purged"      // the record is destroyed; only the id remains

	EventGroupCreated       = "group.created"
	EventGroupUpdated       = "group.updated" // attributes (not members) changed
	EventGroupDeleted       = "group.deleted"
	EventGroupMemberAdded   = "group.member_added"   // one event per member
	EventGroupMemberRemoved = "group.member_removed" // one event per member

	EventTenantActivated   = "tenant.provisioning_activated"
	EventTenantDeactivated = "tenant.provisioning_deactivated"
	EventTenantDeleted     = "tenant.deleted" // the tenant and all its data are gone
	EventKeyCreated        = "key.created"
	EventKeyRevoked        = "key.revoked"
	EventKeyRotated        = "key.rotated" // the secret was replaced; the User ID stays
)

// EventTypes lists every event type, in the order the docs give them.
var EventTypes = []string{
	EventUserCreated, EventUserUpdated, EventUserDeactivated, EventUserReactivated,
	EventUserDeleted, EventUserRestored, EventUserPurged,
	EventGroupCreated, EventGroupUpdated, EventGroupDeleted, EventGroupMemberAdded, EventGroupMemberRemoved,
	EventTenantActivated, EventTenantDeactivated, EventTenantDeleted, EventKeyCreated, EventKeyRevoked,
	EventKeyRotated,
}

// Actor kinds: who made a change.
const (
	ActorAPIKey   = "api_key"  // an identity provider, through SCIM; ID is the key's User ID
	ActorConsole  = "console"  // a tenant's console user; ID is the user's id
	ActorOperator = "operator" // an operator, on the console or the CLI; ID is the e-mail address
	ActorSystem   = "system"   // scimd itself (retention, migrations)
)

// Actor is who made a change, as the events of the change record it.
type Actor struct {
	Kind      string `json:"kind"`
	ID        string `json:"id,omitempty"`
	Client    string `json:"client,omitempty"` // the detected client (Okta, Entra, ...) for ActorAPIKey
	RequestID string `json:"request_id,omitempty"`
}

type actorKey struct{}

// WithActor returns ctx carrying a: the store records it on the events of
// the changes made with ctx.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor ctx carries, or the system actor.
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return Actor{Kind: ActorSystem}
}

// EventResource names the resource an event is about.
type EventResource struct {
	Type string `json:"type"` // "User", "Group", "Tenant", "APIKey"
	ID   string `json:"id"`
}

// EventPosition is a place in the event log's order. Events are ordered
// by (Tx, Seq): Seq is unique and increasing within a transaction, Tx is
// the database's transaction order (0 where the database commits one
// writer at a time, so that Seq alone is the commit order).
type EventPosition struct {
	Tx  int64
	Seq int64
}

// Less reports whether p comes before q.
func (p EventPosition) Less(q EventPosition) bool {
	return p.Tx < q.Tx || p.Tx == q.Tx && p.Seq < q.Seq
}

// Event is one change, as the log keeps it.
type Event struct {
	ID       string // globally unique ("evt_" and 32 hex digits)
	Position EventPosition
	Time     time.Time
	TenantID int64
	Tenant   string // the tenant's name
	Type     string
	Resource EventResource
	Actor    Actor
	// Data is the event's JSON object: for users and groups, "resource"
	// holds the SCIM resource as it is after the change (never the
	// password); user.updated and its kin add "changed" (attribute paths);
	// member events hold "group" and "member"; user.deleted "archived".
	// Events of a purged user keep only their type and resource ids:
	// Data is then {"scrubbed": true}.
	Data json.RawMessage
}

// EventQuery selects events in log order.
type EventQuery struct {
	// After is the position to read after; nil reads from the oldest
	// retained event.
	After *EventPosition
	// TenantIDs limits the events to some tenants; nil means all.
	TenantIDs []int64
	// Types limits the events to those whose type matches one of these
	// patterns: an exact type, or a prefix ending in '*' ("user.*",
	// "group.member_*"). Nil means all.
	Types []string
	// Limit is the most events returned (1 to 1000).
	Limit int
}

// EventPage is what ReadEvents returns.
type EventPage struct {
	Events []Event
	// Next is where the next read starts: after the last event returned,
	// or, when events that did not match the query were skipped, after
	// the last of them, so that a filtered read never scans them again.
	// It is the query's After when nothing more is visible yet.
	Next *EventPosition
}

// ErrEventsExpired is returned by ReadEvents when After lies before the
// retained part of the log: events the reader has not seen were deleted
// by retention, and it must resync.
var ErrEventsExpired = errors.New("events before this cursor have passed the retention period")

// EventStore is the event log. Every change a Store makes writes its
// events in the change's own transaction: an acknowledged change has its
// events, a change that rolled back has none.
type EventStore interface {
	// ReadEvents returns committed events after q.After in log order. A
	// reader that follows Next sees every event exactly once, in order,
	// whatever the concurrency of the writers: an event becomes visible
	// only once no event before it can still commit.
	ReadEvents(ctx context.Context, q EventQuery) (EventPage, error)
	// EventsHead returns the position of the last visible event (the zero
	// position when the log is empty): where a reader that starts now,
	// after a resync, resumes.
	EventsHead(ctx context.Context) (EventPosition, error)
	// EventsPending returns how many committed events are not visible yet
	// because a transaction that began before theirs is still running:
	// the feed's lag, 0 where writers commit one at a time.
	EventsPending(ctx context.Context) (int64, error)
	// PurgeEvents deletes the events older than before and returns how
	// many it deleted; reads from a cursor before them then return
	// ErrEventsExpired.
	PurgeEvents(ctx context.Context, before time.Time) (int64, error)
	// EventsNotify returns a channel that receives (without blocking the
	// writer: a missed send is fine, the channel is buffered) after this
	// process commits events. Other processes sharing the database are not
	// heard: a long poll also reads on a timer.
	EventsNotify() <-chan struct{}
}
