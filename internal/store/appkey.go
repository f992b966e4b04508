package store

import (
	"context"
	"time"
)

// AppKey is an application key: a deployment-wide, read-only credential
// of the host application (the vendor's own product, which serves every
// tenant) for the API under /api/v1. Only a hash of its secret is stored.
type AppKey struct {
	ID         string // public, not secret; globally unique
	Name       string
	SecretHash []byte // SHA-256 of the secret
	// AllTenants says that the key reads every tenant, those created
	// later included; otherwise it reads only TenantIDs.
	AllTenants bool
	TenantIDs  []int64 // ascending; empty when AllTenants
	CreatedBy  string
	Created    time.Time
	Revoked    time.Time // zero: not revoked
	LastUsed   time.Time // zero: never used
}

// Reads reports whether the key may read tenant tenantID.
func (k AppKey) Reads(tenantID int64) bool {
	if k.AllTenants {
		return true
	}
	for _, id := range k.TenantIDs {
		if id == tenantID {
			return true
		}
	}
	return false
}

// UserStatus is what the host application's sign-in check learns of a
// user: whether it is live, archived (deleted through SCIM, its record
// kept until purged), active, and the groups it belongs to.
type UserStatus struct {
	ID       string
	UserName string
	// Active is the user's SCIM active attribute; false for an archived
	// user.
	Active   bool
	Archived bool
	// Groups are the groups the user belongs to, directly or through
	// nested groups, in the groups' creation order; none for an archived
	// user (archived users are members of nothing).
	Groups []GroupRef
}

// HostStore is what the host application's API needs besides Store:
// application keys and index-backed user status lookups. Backends
// implement it next to Store.
type HostStore interface {
	// CreateAppKey stores k (Created, Revoked and LastUsed as given).
	// Returns ErrConflict if k.ID exists, ErrNotFound if one of
	// k.TenantIDs names no tenant. A key must have AllTenants or at least
	// one tenant, not both.
	CreateAppKey(ctx context.Context, k AppKey) error
	// AppKey returns the key with the given id, or ErrNotFound. It reads
	// the database on every call, so that a key revoked through any
	// instance is refused by all of them at once.
	AppKey(ctx context.Context, id string) (AppKey, error)
	// AppKeys lists every application key, newest first.
	AppKeys(ctx context.Context) ([]AppKey, error)
	// RevokeAppKey marks a key revoked at time at; a key revoked already
	// keeps its first revocation time. Returns ErrNotFound.
	RevokeAppKey(ctx context.Context, id string, at time.Time) error
	// TouchAppKey records that the key was used at time at (the last-used
	// time never moves backwards). Callers throttle it. Returns
	// ErrNotFound.
	TouchAppKey(ctx context.Context, id string, at time.Time) error

	// UserStatus returns the status of the tenant's user with the given
	// id, live or archived, read from one snapshot by index lookups.
	// Returns ErrNotFound if the tenant has no such user.
	UserStatus(ctx context.Context, tenantID int64, id string) (UserStatus, error)
	// UserStatusByUserName returns the status of the live user whose
	// userName equals userName under scim.Fold, or ErrNotFound. Archived
	// users are not found by userName: theirs is free for a new user.
	UserStatusByUserName(ctx context.Context, tenantID int64, userName string) (UserStatus, error)
}
