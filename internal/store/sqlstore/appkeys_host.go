package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/scimd/scimd/internal/scim"
	"github.com/scimd/scimd/internal/store"
)

var _ store.HostStore = (*Store)(nil)

// The host application's storage: application keys (the tables of
// SQLite's 0008_appkeys.sql and PostgreSQL's 0007_appkeys.sql) and the
// user status lookups of its sign-in check. A key's row and its tenants
// are read with one statement on every request, so that a revocation
// through any instance holds on the next request everywhere.

const (
	appKeyCols       = "k.id, k.name, k.secret_hash, k.all_tenants, k.created_by, k.created, k.revoked, k.last_used"
	sqlInsertAppKey  = "INSERT INTO app_keys (id, name, secret_hash, all_tenants, created_by, created, revoked, last_used) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
	sqlAppKeyTenants = "INSERT INTO app_key_tenants (key_id, tenant_id) VALUES "
	sqlAppKey        = "SELECT " + appKeyCols + ", kt.tenant_id FROM app_keys k LEFT JOIN app_key_tenants kt ON kt.key_id = k.id WHERE k.id = ? ORDER BY kt.tenant_id"
	sqlAppKeys       = "SELECT " + appKeyCols + ", kt.tenant_id FROM app_keys k LEFT JOIN app_key_tenants kt ON kt.key_id = k.id ORDER BY k.created DESC, k.id, kt.tenant_id"
	sqlRevokeAppKey  = "UPDATE app_keys SET revoked = ? WHERE id = ? AND revoked IS NULL"

	// The status lookups: each an index lookup (users_id, users_user_name,
	// archived_users_id). A user has one archived record at most (a
	// restore deletes it), so the archived lookup has no ORDER BY, which
	// would make SQLite's planner walk the tenant's archive in the order
	// of archived_users_deleted instead.
	sqlStatusByID       = "SELECT id, user_name, active FROM users WHERE tenant_id = ? AND id = ?"
	sqlStatusByUserName = "SELECT id, user_name, active FROM users WHERE tenant_id = ? AND user_name_fold = ?"
	sqlArchivedStatus   = "SELECT id, user_name FROM archived_users WHERE tenant_id = ? AND id = ? LIMIT 1"
)

// scanAppKeys reads the rows of sqlAppKey and sqlAppKeys: one per key and
// tenant, a key's rows together.
func scanAppKeys(rows Rows, err error) ([]store.AppKey, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.AppKey
	for rows.Next() {
		var k store.AppKey
		var created int64
		var revoked, lastUsed, tenant sql.NullInt64
		if err := rows.Scan(&k.ID, &k.Name, &k.SecretHash, &k.AllTenants, &k.CreatedBy, &created, &revoked, &lastUsed, &tenant); err != nil {
			return nil, err
		}
		if n := len(out); n == 0 || out[n-1].ID != k.ID {
			k.Created, k.Revoked, k.LastUsed = fromNanos(created), fromOptNanos(revoked), fromOptNanos(lastUsed)
			out = append(out, k)
		}
		if tenant.Valid {
			last := &out[len(out)-1]
			last.TenantIDs = append(last.TenantIDs, tenant.Int64)
		}
	}
	return out, rows.Err()
}

// CreateAppKey stores k and the tenants it may read, in one transaction.
// Returns store.ErrConflict if k.ID exists, store.ErrNotFound if a tenant
// does not.
func (s *Store) CreateAppKey(ctx context.Context, k store.AppKey) error {
	tenants := slices.Clone(k.TenantIDs)
	slices.Sort(tenants)
	tenants = slices.Compact(tenants)
	switch {
	case k.ID == "" || len(k.SecretHash) == 0:
		return fmt.Errorf("%s: an application key needs an id and a secret hash", s.d.Name())
	case k.AllTenants == (len(tenants) > 0):
		return fmt.Errorf("%s: an application key reads all tenants or a list of them, not both or neither", s.d.Name())
	case !storable(k.ID) || !storable(k.Name) || !storable(k.CreatedBy):
		return fmt.Errorf("%s: an application key's id, name and creator must be valid UTF-8 without NUL characters", s.d.Name())
	}
	return s.write(ctx, func(ctx context.Context, q Querier) error {
		if _, err := q.Exec(ctx, sqlInsertAppKey, k.ID, k.Name, k.SecretHash, k.AllTenants, k.CreatedBy,
			nanos(k.Created), optNanos(k.Revoked), optNanos(k.LastUsed)); err != nil {
			return err
		}
		if len(tenants) == 0 {
			return nil
		}
		args := make([]any, 0, 2*len(tenants))
		for _, t := range tenants {
			args = append(args, k.ID, t)
		}
		_, err := q.Exec(ctx, sqlAppKeyTenants+placeholders(len(tenants), "(?, ?)"), args...)
		return err
	})
}

// AppKey returns an application key with its tenants, or
// store.ErrNotFound. It reads the database on every call.
func (s *Store) AppKey(ctx context.Context, id string) (store.AppKey, error) {
	if !storable(id) { // what an Authorization header carried; no key has it
		return store.AppKey{}, store.ErrNotFound
	}
	ks, err := scanAppKeys(s.auth.Query(ctx, sqlAppKey, id))
	if err != nil {
		return store.AppKey{}, err
	}
	if len(ks) == 0 {
		return store.AppKey{}, store.ErrNotFound
	}
	return ks[0], nil
}

// AppKeys lists every application key, newest first.
func (s *Store) AppKeys(ctx context.Context) ([]store.AppKey, error) {
	return scanAppKeys(s.q.Query(ctx, sqlAppKeys))
}

// RevokeAppKey marks a key revoked at time at; one revoked already keeps
// its first revocation time. Returns store.ErrNotFound.
func (s *Store) RevokeAppKey(ctx context.Context, id string, at time.Time) error {
	return s.write(ctx, func(ctx context.Context, q Querier) error {
		n, err := q.Exec(ctx, sqlRevokeAppKey, nanos(at), id)
		if err != nil || n > 0 {
			return err
		}
		var one int
		return q.QueryRow(ctx, "SELECT 1 FROM app_keys WHERE id = ?", id).Scan(&one)
	})
}

// TouchAppKey records that the key was used at time at; the last-used
// time never moves backwards. Returns store.ErrNotFound.
func (s *Store) TouchAppKey(ctx context.Context, id string, at time.Time) error {
	touch := "UPDATE app_keys SET last_used = " + s.d.Greatest() + "(coalesce(last_used, ?), ?) WHERE id = ?"
	return s.write(ctx, func(ctx context.Context, q Querier) error {
		return affectedOne(q.Exec(ctx, touch, nanos(at), nanos(at), id))
	})
}

// UserStatus returns a user's status by id: the live user's, or else the
// archived record's. One read snapshot, two or three index lookups.
func (s *Store) UserStatus(ctx context.Context, tenantID int64, id string) (store.UserStatus, error) {
	if !storable(id) { // from a URL path; no user has it
		return store.UserStatus{}, store.ErrNotFound
	}
	return s.userStatus(ctx, tenantID, sqlStatusByID, id, id)
}

// UserStatusByUserName returns the status of the live user whose userName
// equals userName under scim.Fold, or store.ErrNotFound.
func (s *Store) UserStatusByUserName(ctx context.Context, tenantID int64, userName string) (store.UserStatus, error) {
	fold := scim.Fold(userName)
	if !storable(fold) {
		return store.UserStatus{}, store.ErrNotFound
	}
	return s.userStatus(ctx, tenantID, sqlStatusByUserName, fold, "")
}

// userStatus looks the live user up with query and key; when there is
// none and archivedID is set, the archived record with that id.
func (s *Store) userStatus(ctx context.Context, tenantID int64, query, key, archivedID string) (store.UserStatus, error) {
	var st store.UserStatus
	err := s.b.Read(ctx, func(r Reader) error {
		st = store.UserStatus{}
		err := r.QueryRow(ctx, query, tenantID, key).Scan(&st.ID, &st.UserName, &st.Active)
		if err == store.ErrNotFound && archivedID != "" {
			st.Archived = true
			return r.QueryRow(ctx, sqlArchivedStatus, tenantID, archivedID).Scan(&st.ID, &st.UserName)
		}
		if err != nil {
			return err
		}
		groups, err := s.userGroupsIn(ctx, r, tenantID, []string{st.ID})
		st.Groups = groups[st.ID]
		return err
	})
	if err != nil {
		return store.UserStatus{}, err
	}
	return st, nil
}
