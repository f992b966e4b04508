package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/scimd/scimd/internal/scim/filter"
)

// Errors returned by every Store implementation. Backends translate their
// driver's errors into these at the boundary.
var (
	// ErrNotFound: the tenant, key or resource does not exist (or, for
	// resources, was deleted).
	ErrNotFound = errors.New("not found")
	// ErrConflict: a uniqueness constraint (tenant name, userName) would be
	// violated.
	ErrConflict = errors.New("already exists")
	// ErrTimeout: the database stopped a statement that ran past its time
	// limit; nothing of its transaction was kept.
	ErrTimeout = errors.New("the database stopped a statement that ran too long")
	// ErrLastOwner: the change would leave the tenant without an Owner.
	ErrLastOwner = errors.New("the tenant's last Owner keeps the Owner role")
	// ErrKeyNameTaken: another live key of the tenant (not revoked, not
	// replaced) has the name under scim.Fold. It is an ErrConflict too.
	ErrKeyNameTaken = fmt.Errorf("%w: another key of the tenant has this name", ErrConflict)
	// ErrKeyEnded: the key is revoked or expired, and cannot be rotated.
	ErrKeyEnded = errors.New("the key is revoked or expired")
	// ErrKeyLive: the key is neither revoked nor expired, so it cannot
	// be replaced (rotate it instead).
	ErrKeyLive = errors.New("the key is still valid")
)

// FilterError is returned by List methods when a filter or sort attribute
// cannot be applied (unknown attribute, an operator the attribute's type does
// not support). Its message is safe to show to the client.
type FilterError struct{ Msg string }

func (e *FilterError) Error() string { return e.Msg }

// Limits on what one resource may hold, far above what any identity
// provider sends (a user has a few e-mail addresses; a group's members are
// not in its document), so that no request can make the store do
// unbounded work: CreateUser, UpdateUser and their group counterparts
// return a *LimitError beyond them.
const (
	// MaxValues is the most values a multi-valued attribute may have.
	MaxValues = 1000
	// MaxResourceBytes is the most a resource's attributes may take,
	// encoded as JSON.
	MaxResourceBytes = 128 << 10
	// MaxPageBytes bounds a page of a list: once its resources take this
	// much (encoded), it ends, shorter than asked for, and says so
	// (UserPage.Users is shorter than Count, and Next is set for a cursor
	// query).
	MaxPageBytes = 8 << 20
)

// LimitError says which limit a resource exceeds. Its message is safe to
// show to the client.
type LimitError struct{ Msg string }

func (e *LimitError) Error() string { return e.Msg }

// OnDelete values: what a SCIM DELETE does to a user's record.
const (
	OnDeleteArchive = "archive" // keep the record, out of SCIM's sight, until purged
	OnDeletePurge   = "purge"   // destroy it at once
)

// Tenant is a customer site.
type Tenant struct {
	ID      int64
	Name    string // DNS label: lower-case letters, digits and '-'
	Created time.Time
	// ProvisioningActive is the operator's activation of SCIM for the tenant.
	ProvisioningActive bool
	// APIKeysEnabled is the tenant's "API Keys" option in General Settings.
	APIKeysEnabled bool
	// PasswordSignIn is the tenant's "password sign-in" option; when off,
	// pushed passwords are neither hashed nor stored.
	PasswordSignIn bool
	// OnDelete is OnDeleteArchive or OnDeletePurge.
	OnDelete string
	// RateLimit is how many requests per second each of the tenant's API
	// keys may send; 0 means the server's default.
	RateLimit int
}

// Key scopes.
const (
	ScopeRead  = "read"
	ScopeWrite = "write"
)

// APIKey is a "User ID and API key" pair. Only a hash of the secret is
// stored.
//
// Rotation (Store.RotateAPIKey) keeps the User ID and replaces the secret;
// the secret it replaced stays valid until PrevExpires. Only one previous
// secret is kept: rotating again during an overlap drops the older one.
type APIKey struct {
	ID         string // the public User ID, globally unique, not secret
	TenantID   int64
	Name       string // unique under scim.Fold among the tenant's live keys
	Scope      string // ScopeRead or ScopeWrite
	SecretHash []byte // SHA-256 of the secret
	CreatedBy  string
	Created    time.Time
	Expires    time.Time // zero: never
	Revoked    time.Time // zero: not revoked (a revocation ends both secrets)
	LastUsed   time.Time // zero: never used

	// PrevSecretHash is the hash of the secret the last rotation replaced,
	// accepted before PrevExpires; nil when there is none.
	PrevSecretHash []byte
	PrevExpires    time.Time // zero when PrevSecretHash is nil
	Rotated        time.Time // the last rotation; zero: never rotated
	// SuccessorID is the key made to replace this one once it ended
	// (Store.ReplaceAPIKey); "" when there is none. A replaced key gives up
	// its name.
	SuccessorID string
}

// User is a stored User resource.
type User struct {
	ID       string
	Version  int64 // starts at 1, incremented by every update; the ETag
	Created  time.Time
	Modified time.Time
	// Attrs holds the canonical attributes: core attributes by their schema
	// names at the top level, extension attributes in a map under the
	// extension's URN. It never holds id, meta, schemas or password.
	Attrs map[string]any
	// PasswordHash is the encoded argon2id hash of the user's password, or "".
	PasswordHash string
}

// Query selects, orders and pages a list of resources.
type Query struct {
	Filter filter.Expr // nil: all resources
	// Words, for ListUsers only, keeps the users of whom every word is a
	// case-insensitive prefix (under scim.Fold) of the userName, the
	// displayName, name.givenName, name.familyName, name.formatted, an
	// e-mail value or the externalId: the console's search. It is and-ed
	// with Filter; empty words are ignored; ListGroups refuses it with a
	// *FilterError. SCIM never sets it.
	Words []string
	// SortBy is an attribute path (e.g. "userName", "name.familyName",
	// "meta.created"); "" keeps creation order.
	SortBy         string
	SortDescending bool
	StartIndex     int // 1-based; values below 1 mean 1
	Count          int // page size; 0 asks only for Total
	// Cursor selects keyset paging (RFC 9865): StartIndex is ignored, the
	// page starts right after After (nil: at the beginning) in the query's
	// order, and the page's Next is set when more resources follow. Pages
	// stay consistent under concurrent inserts: nothing is skipped or
	// repeated.
	Cursor bool
	After  *Position
	// NoTotal spares the count of the matches when the page does not tell
	// it (a full page): the page's Total is then -1. For a walk through a
	// whole list (the console's CSV export), whose pages would each count
	// it again.
	NoTotal bool
}

// Position is a place in a list's order, for cursor paging (RFC 9865): the
// sort key of the last resource of a page (nil when the list is in creation
// order or the resource has no value) and its creation sequence number.
// Key is a string, float64, bool or nil, with times as RFC 3339 strings, so
// that a Position survives a JSON round trip; a Key that does not fit the
// query's sort makes List return a *FilterError.
type Position struct {
	Seq int64
	Key any
}

// UserPage is one page of users and the number that matched in total.
type UserPage struct {
	Total int
	Users []User
	// Next is the position of the page's last user when q.Cursor was set
	// and more users follow; nil otherwise.
	Next *Position
}

// Store is scimd's storage. Every resource method takes the tenant's id
// first; a resource of one tenant is never visible through another.
type Store interface {
	GroupStore
	EventStore

	// CreateTenant creates a tenant with default settings (provisioning
	// inactive, API keys enabled, password sign-in on, onDelete archive).
	// Returns ErrConflict if the name is taken.
	CreateTenant(ctx context.Context, name string) (Tenant, error)
	// Tenant returns the tenant with the given name, or ErrNotFound.
	Tenant(ctx context.Context, name string) (Tenant, error)
	// TenantByID returns the tenant with the given id, or ErrNotFound.
	TenantByID(ctx context.Context, id int64) (Tenant, error)
	// Tenants lists all tenants by name.
	Tenants(ctx context.Context) ([]Tenant, error)
	// UpdateTenant applies fn to the tenant inside a transaction and stores
	// the result (Name and ID are not changed). Returns ErrNotFound, or fn's
	// error unchanged. Like UpdateUser's, fn must be quick and must not call
	// the store.
	UpdateTenant(ctx context.Context, name string, fn func(*Tenant) error) (Tenant, error)
	// DeleteTenant deletes a tenant and writes a tenant.deleted event: from
	// then on it is not found, by name or id, it is not listed, and its
	// name is not handed out again (CreateTenant answers ErrConflict). Its
	// data is removed by PurgeDeletedTenants. Returns ErrNotFound.
	DeleteTenant(ctx context.Context, name string) (Tenant, error)
	// PurgeDeletedTenants removes the data of deleted tenants (users,
	// groups, keys, console users' roles and sessions, activity, events
	// other than tenant.deleted), in transactions of bounded size, until
	// none is left or ctx ends, and returns how many rows it removed. A run
	// that stopped part-way is finished by the next.
	PurgeDeletedTenants(ctx context.Context) (int64, error)

	// CreateAPIKey stores k. Returns ErrKeyNameTaken if another live key
	// of the tenant has k's name, ErrConflict if k.ID exists.
	CreateAPIKey(ctx context.Context, k APIKey) error
	// APIKey returns the key with the given public id, whatever its tenant,
	// or ErrNotFound.
	APIKey(ctx context.Context, id string) (APIKey, error)
	// APIKeys lists a tenant's keys, newest first.
	APIKeys(ctx context.Context, tenantID int64) ([]APIKey, error)
	// RevokeAPIKey marks a tenant's key revoked at time at, which ends its
	// current and its previous secret alike. Returns
	// ErrNotFound if the tenant has no such key.
	RevokeAPIKey(ctx context.Context, tenantID int64, id string, at time.Time) error
	// TouchAPIKey records that the key was used at time at.
	TouchAPIKey(ctx context.Context, id string, at time.Time) error
	// RotateAPIKey replaces a tenant's key's secret hash with newHash in
	// one transaction, keeping its User ID: the secret it replaces stays
	// valid until overlapUntil (not at all when overlapUntil is not after
	// at), replacing any previous secret still in its overlap. It writes a
	// key.rotated event. Returns ErrNotFound if the tenant has no such
	// key and ErrKeyEnded if the key is revoked or expired at time at.
	RotateAPIKey(ctx context.Context, tenantID int64, id string, newHash []byte, overlapUntil, at time.Time) (APIKey, error)
	// ReplaceAPIKey creates k (as CreateAPIKey does) as the successor of
	// the tenant's key oldID, which must have ended (revoked or expired
	// at k.Created), in one transaction: oldID records k.ID and gives up
	// its name. Returns ErrNotFound if the tenant has no key oldID,
	// ErrKeyLive if it has not ended, ErrConflict if it has a successor
	// already, ErrKeyNameTaken if another live key has k's name.
	ReplaceAPIKey(ctx context.Context, oldID string, k APIKey) error

	// CreateUser stores a new user; u.ID, Created and Modified are set by
	// the caller, Version is set to 1. Returns ErrConflict if another live
	// user of the tenant has the same userName under scim.Fold.
	CreateUser(ctx context.Context, tenantID int64, u User) (User, error)
	// User returns a live user, or ErrNotFound.
	User(ctx context.Context, tenantID int64, id string) (User, error)
	// UpdateUser reads the user, calls fn with it inside one transaction and
	// stores what fn left, with Version incremented; if fn left Attrs and
	// PasswordHash as they were, nothing is stored and the user is returned
	// as it is, Version and Modified unchanged (RFC 7644 §3.5.2: an update
	// that changes nothing is no modification). fn may set Attrs,
	// PasswordHash and Modified; it returns an error to abort, which
	// UpdateUser returns unchanged. fn runs before the write transaction
	// (which stores its result only if the user did not change meanwhile,
	// else fn runs again), so it may be called more than once; it must be
	// quick (no password hashing, no I/O) and must not call the store.
	// Returns ErrNotFound, ErrConflict, or a *LimitError.
	UpdateUser(ctx context.Context, tenantID int64, id string, fn func(*User) error) (User, error)
	// DeleteUser removes a live user from SCIM. With archive the record is
	// kept (see PurgeUser); otherwise it is destroyed. Either way the user's
	// group memberships are removed. Returns ErrNotFound.
	DeleteUser(ctx context.Context, tenantID int64, id string, archive bool) error
	// DeleteUserIf is DeleteUser that first calls check with the user's
	// current version inside the same transaction, and deletes nothing
	// when check returns an error (which it returns unchanged): a
	// conditional delete (If-Match) that no concurrent update can slip
	// past. Like UpdateUser's fn, check must be quick and may run more than
	// once.
	DeleteUserIf(ctx context.Context, tenantID int64, id string, archive bool, check func(version int64) error) error
	// PurgeUser destroys a user's record, live or archived. Returns
	// ErrNotFound if neither exists.
	PurgeUser(ctx context.Context, tenantID int64, id string) error
	// ListUsers returns the live users that match q, in a stable order.
	// Returns a *FilterError for a filter or sort it cannot apply.
	ListUsers(ctx context.Context, tenantID int64, q Query) (UserPage, error)

	// Secret returns the server secret called name, storing value as it
	// when there is none yet: the first of the instances sharing the
	// database to ask decides, and all of them get the same secret.
	Secret(ctx context.Context, name string, value []byte) ([]byte, error)

	// Close releases the store's resources.
	Close() error
}
