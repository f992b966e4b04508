package store

import (
	"context"
	"time"
)

// Permissions a tenant's roles can hold. They are stored by these names.
const (
	PermManageAPIKeys  = "manage_api_keys" // generate, modify, rotate and revoke API keys
	PermManageSettings = "manage_settings" // General Settings
	PermManageRoles    = "manage_roles"    // role permissions and users' roles
	PermViewUsers      = "view_users"      // Users and Groups pages
	PermManageUsers    = "manage_users"    // restore archived users, set passwords
	PermViewActivity   = "view_activity"   // provisioning activity
)

// Permissions lists every permission, in the order pages show them.
var Permissions = []string{PermManageAPIKeys, PermManageSettings, PermManageRoles, PermViewUsers, PermManageUsers, PermViewActivity}

// Built-in role names. EnsureDefaultRoles creates them.
const (
	RoleOwner  = "Owner"
	RoleAdmin  = "Admin"
	RoleMember = "Member"
)

// DefaultRoles are the roles every tenant starts with and their
// permissions. The Owner role always holds every permission.
var DefaultRoles = map[string][]string{
	RoleOwner:  Permissions,
	RoleAdmin:  Permissions,
	RoleMember: {PermViewUsers},
}

// Operator is a person at the SaaS vendor who runs scimd: creates tenants,
// activates provisioning, purges users.
type Operator struct {
	ID           int64
	Email        string
	PasswordHash string // argon2id, see auth.HashPassword
	Created      time.Time
}

// Session is a console sign-in. Its id is a random secret kept only in the
// browser's cookie; the store holds its SHA-256 hash.
type Session struct {
	IDHash     []byte
	TenantID   int64  // 0 for an operator's session
	UserID     string // the tenant user's id; "" for an operator
	OperatorID int64  // 0 for a tenant user
	CSRF       string // the synchronizer token of the session's forms
	Created    time.Time
	LastSeen   time.Time
	Expires    time.Time // absolute expiry
}

// Role is a named set of permissions in a tenant.
type Role struct {
	ID          int64
	TenantID    int64
	Name        string
	Permissions []string
}

// Has reports whether the role holds permission p.
func (r Role) Has(p string) bool {
	for _, q := range r.Permissions {
		if q == p {
			return true
		}
	}
	return false
}

// RoleAssignment says that a user holds a role.
type RoleAssignment struct {
	UserID string
	RoleID int64
}

// Change is one attribute-level difference between a resource before and
// after a request. Values are JSON text, shortened; secrets never appear.
type Change struct {
	Attr string `json:"attr"`
	Old  string `json:"old,omitempty"`
	New  string `json:"new,omitempty"`
}

// Activity is one SCIM request as the provisioning activity shows it.
type Activity struct {
	ID           int64 // set by the store, increasing
	TenantID     int64
	Time         time.Time
	RequestID    string
	KeyID        string // "" when the request was not authenticated
	Client       string // Okta, Entra, OneLogin, JumpCloud, Rippling, other
	UserAgent    string
	Method       string
	Path         string
	ResourceType string // "User", "Group", "" for discovery
	ResourceID   string
	Status       int
	// ScimType and Detail are those of the SCIM error the request was
	// answered with ("" on success); Query is its raw query string,
	// shortened, with the values of parameters that look like credentials
	// redacted.
	ScimType string
	Detail   string
	Query    string
	Changes  []Change
}

// ActivitySummary is what the console's home page says of a tenant's
// activity.
type ActivitySummary struct {
	// LastRequest is the newest record; LastChange the newest successful
	// write (POST, PUT, PATCH, DELETE with status below 400, but
	// searches by POST /.search); LastFailure the newest with status 400
	// or above. Each is nil when there is none.
	LastRequest, LastChange, LastFailure *Activity
	// Counts are the requests since the summary's start, by key and client,
	// most requests first.
	Counts []ActivityCount
}

// ActivityCount is how many requests a key sent from a client, and how
// many of them failed (status 400 or above).
type ActivityCount struct {
	KeyID, Client      string
	Requests, Failures int64
}

// PendingActivity is the activity record of a SCIM request that changes
// something, made before the change: the store writes it in the change's
// own transaction, with the changed resource's id, and sets ID, so that
// an acknowledged change is never missing from the activity log, even if
// the process dies right after the commit. The full record (its changes,
// the final status) replaces it later: AddActivity with Activity.ID set to
// ID.
type PendingActivity struct {
	Record Activity
	ID     int64
}

type pendingKey struct{}

// WithActivity returns ctx carrying p for the next write that changes
// something.
func WithActivity(ctx context.Context, p *PendingActivity) context.Context {
	return context.WithValue(ctx, pendingKey{}, p)
}

// PendingActivityFrom returns the pending record ctx carries, or nil.
func PendingActivityFrom(ctx context.Context) *PendingActivity {
	p, _ := ctx.Value(pendingKey{}).(*PendingActivity)
	return p
}

// ActivityQuery selects a tenant's activity, newest first.
type ActivityQuery struct {
	ResourceType string
	ResourceID   string
	KeyID        string
	Client       string
	Method       string
	Failed       bool   // only status >= 400
	Status       int    // only this status class: 2, 3, 4 or 5 (2xx…5xx); 0 any
	RequestID    string // only this request id (exact)
	Text         string // path contains Text
	Before       int64  // only ids below Before (keyset paging); 0: from the newest
	Limit        int
}

// ArchivedUser is a user deleted through SCIM with onDelete archive.
type ArchivedUser struct {
	ID       string
	UserName string
	Created  time.Time
	Deleted  time.Time
}

// TenantCounts is what a tenant holds, as the operator pages show it.
type TenantCounts struct {
	Users, InactiveUsers int64 // live users, and those of them with active false
	ArchivedUsers        int64
	Groups               int64
	ActiveKeys           int64 // API keys neither revoked nor expired
	Owners
}

// Owners counts a tenant's holders of the Owner role: all of them, and
// those who can sign in to the console (a live, active user with a
// password). A tenant whose Owners cannot sign in (SCIM deactivated or
// deleted the last of them) needs an operator's break glass.
type Owners struct {
	Holders, CanSignIn int64
}

// Throttle is the failed sign-in record of one key (a tenant's userName, a
// client address).
type Throttle struct {
	Key         string
	Failures    int
	Last        time.Time // last failure
	LockedUntil time.Time
}

// ConsoleStore is what the admin console needs besides Store: operators,
// sessions, roles, key changes, provisioning activity, archived users and
// sign-in throttling. Backends implement it next to Store.
type ConsoleStore interface {
	// CreateOperator stores an operator. Returns ErrConflict if the e-mail
	// address (compared case-insensitively) is taken.
	CreateOperator(ctx context.Context, email, passwordHash string, at time.Time) (Operator, error)
	// OperatorByEmail returns an operator, or ErrNotFound.
	OperatorByEmail(ctx context.Context, email string) (Operator, error)
	// OperatorByID returns an operator, or ErrNotFound.
	OperatorByID(ctx context.Context, id int64) (Operator, error)
	// Operators lists the operators by e-mail address.
	Operators(ctx context.Context) ([]Operator, error)
	// DeleteOperator removes an operator and ends their sessions. Returns
	// ErrNotFound.
	DeleteOperator(ctx context.Context, email string) error

	// UserByUserName returns the live user whose userName equals userName
	// under scim.Fold, or ErrNotFound.
	UserByUserName(ctx context.Context, tenantID int64, userName string) (User, error)
	// ArchivedUsers lists a tenant's archived users, most recently deleted
	// first, at most limit.
	ArchivedUsers(ctx context.Context, tenantID int64, limit int) ([]ArchivedUser, error)
	// RestoreUser makes an archived user live again. Returns ErrNotFound,
	// or ErrConflict when a live user now has its userName.
	RestoreUser(ctx context.Context, tenantID int64, id string) (User, error)

	// CreateSession stores s. DeleteSession removes it (no error if it is
	// gone). Session returns it by id hash, or ErrNotFound; expired
	// sessions are still returned, the caller checks the times.
	CreateSession(ctx context.Context, s Session) error
	Session(ctx context.Context, idHash []byte) (Session, error)
	TouchSession(ctx context.Context, idHash []byte, at time.Time) error
	DeleteSession(ctx context.Context, idHash []byte) error
	// DeleteUserSessions ends every session of a tenant user.
	DeleteUserSessions(ctx context.Context, tenantID int64, userID string) error
	// DeleteExpiredSessions removes sessions whose absolute expiry or idle
	// limit (last seen before idleBefore) has passed.
	DeleteExpiredSessions(ctx context.Context, now, idleBefore time.Time) (int64, error)

	// PutKeyReveal keeps sealed, a just-issued key secret the console has
	// sealed, for one display to the session, until expires; it replaces
	// what the session kept for the key. Ending the session, or deleting
	// the key, drops it. Returns ErrNotFound if the session or the key
	// does not exist.
	PutKeyReveal(ctx context.Context, sessionHash []byte, keyID string, sealed []byte, expires time.Time) error
	// TakeKeyReveal returns and deletes, in one transaction, what
	// PutKeyReveal kept for the session and key, so that it is returned
	// once, by whichever instance asks first. Returns ErrNotFound if
	// nothing is kept or it expired before now.
	TakeKeyReveal(ctx context.Context, sessionHash []byte, keyID string, now time.Time) ([]byte, error)

	// EnsureDefaultRoles creates the DefaultRoles the tenant lacks.
	EnsureDefaultRoles(ctx context.Context, tenantID int64) error
	// Roles lists a tenant's roles by id.
	Roles(ctx context.Context, tenantID int64) ([]Role, error)
	// SetRolePermissions replaces a role's permissions. Returns ErrNotFound.
	SetRolePermissions(ctx context.Context, tenantID, roleID int64, perms []string) error
	// RoleAssignments lists which users hold which roles in a tenant.
	RoleAssignments(ctx context.Context, tenantID int64) ([]RoleAssignment, error)
	// UserRoles lists the roles a user holds.
	UserRoles(ctx context.Context, tenantID int64, userID string) ([]Role, error)
	// SetUserRoles replaces the roles a user holds. Returns ErrNotFound if
	// a role is not the tenant's, and ErrLastOwner (changing nothing) when
	// it would leave a tenant that has an Owner with none; concurrent
	// changes cannot both pass that check.
	SetUserRoles(ctx context.Context, tenantID int64, userID string, roleIDs []int64) error

	// TenantCounts counts what a tenant holds, through indexes and kept
	// counts: its cost does not grow with the tenant's active users.
	TenantCounts(ctx context.Context, tenantID int64, now time.Time) (TenantCounts, error)
	// TenantOwners returns the Owners of every tenant that has an Owner
	// role, by tenant id, in one query.
	TenantOwners(ctx context.Context) (map[int64]Owners, error)

	// UpdateAPIKey applies fn to a tenant's key inside a transaction and
	// stores Name, Scope and Expires. Returns ErrNotFound, ErrKeyNameTaken
	// if another live key of the tenant has the new name, or fn's error.
	UpdateAPIKey(ctx context.Context, tenantID int64, id string, fn func(*APIKey) error) (APIKey, error)

	// AddActivity stores activity records in one transaction; a record
	// whose ID is set replaces the pending record with that ID (see
	// PendingActivity), keeping its time.
	AddActivity(ctx context.Context, as []Activity) error
	// ActivityLog returns the tenant's activity matching q, newest first,
	// and whether older records follow.
	ActivityLog(ctx context.Context, tenantID int64, q ActivityQuery) (as []Activity, more bool, err error)
	// PurgeActivity deletes the records of every tenant older than before,
	// and the hourly counts of ActivitySummary of the hours that ended
	// before it.
	PurgeActivity(ctx context.Context, before time.Time) (int64, error)
	// ActivitySummary returns the tenant's last request, last change and
	// last failure, and its requests at or after since by key and client.
	// The counts are kept by the hour: since is truncated to its hour, so
	// the window is whole hours (the hour since falls in included). Every
	// part is an index lookup, whatever the tenant's volume.
	ActivitySummary(ctx context.Context, tenantID int64, since time.Time) (ActivitySummary, error)

	// Throttle returns the sign-in failures recorded for key (zero if none).
	Throttle(ctx context.Context, key string) (Throttle, error)
	// UpdateThrottle applies fn to key's record inside a transaction and
	// stores it.
	UpdateThrottle(ctx context.Context, key string, fn func(*Throttle)) (Throttle, error)
	// ClearThrottle forgets key's failures.
	ClearThrottle(ctx context.Context, key string) error
	// ClearThrottles forgets the failures of every key that starts with
	// prefix (an account, from every address: an operator's unlock), and
	// returns how many records it removed.
	ClearThrottles(ctx context.Context, prefix string) (int64, error)
}
