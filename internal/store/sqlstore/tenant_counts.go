package sqlstore

import (
	"context"
	"time"

	"github.com/scimd/scimd/internal/store"
)

// What the operator pages count of a tenant. Every count reads kept
// counts or an index range of what it counts (inactive users, archived
// users, keys, role holders), never the tenant's active users.
const (
	sqlCountLive     = "SELECT coalesce(sum(n), 0) FROM user_counts WHERE tenant_id = ?"
	sqlGroupCount    = "SELECT coalesce(sum(n), 0) FROM group_counts WHERE tenant_id = ?"
	sqlCountInactive = "SELECT count(*) FROM users WHERE tenant_id = ? AND active = FALSE" // users_inactive
	sqlCountArchived = "SELECT count(*) FROM archived_users WHERE tenant_id = ?"
	sqlCountKeys     = "SELECT count(*) FROM api_keys WHERE tenant_id = ? AND revoked IS NULL AND (expires IS NULL OR expires > ?)"
	// sqlOwners counts the holders of each tenant's Owner role (a holder
	// may be an archived user: restoring them keeps their roles), and
	// those of them who can sign in.
	sqlOwners = "SELECT r.tenant_id, count(ur.user_id), count(u.seq) FROM roles r " +
		"JOIN user_roles ur ON ur.tenant_id = r.tenant_id AND ur.role_id = r.id " +
		"LEFT JOIN users u ON u.tenant_id = ur.tenant_id AND u.id = ur.user_id AND u.active = TRUE AND u.password_hash <> '' " +
		"WHERE r.name = ?"
)

// TenantCounts counts what a tenant holds.
func (s *Store) TenantCounts(ctx context.Context, tenantID int64, now time.Time) (store.TenantCounts, error) {
	var c store.TenantCounts
	err := s.b.Read(ctx, func(q Reader) error {
		for _, x := range []struct {
			sql  string
			dest *int64
			args []any
		}{
			{sqlCountLive, &c.Users, nil},
			{sqlCountInactive, &c.InactiveUsers, nil},
			{sqlCountArchived, &c.ArchivedUsers, nil},
			{sqlGroupCount, &c.Groups, nil},
			{sqlCountKeys, &c.ActiveKeys, []any{nanos(now)}},
		} {
			if err := q.QueryRow(ctx, x.sql, append([]any{tenantID}, x.args...)...).Scan(x.dest); err != nil {
				return err
			}
		}
		rows, err := q.Query(ctx, sqlOwners+" AND r.tenant_id = ? GROUP BY r.tenant_id", store.RoleOwner, tenantID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id, &c.Owners.Holders, &c.Owners.CanSignIn); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	return c, err
}

// TenantOwners returns the Owners of every tenant with an Owner role
// held by someone.
func (s *Store) TenantOwners(ctx context.Context) (map[int64]store.Owners, error) {
	rows, err := s.q.Query(ctx, sqlOwners+" GROUP BY r.tenant_id", store.RoleOwner)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]store.Owners{}
	for rows.Next() {
		var id int64
		var o store.Owners
		if err := rows.Scan(&id, &o.Holders, &o.CanSignIn); err != nil {
			return nil, err
		}
		out[id] = o
	}
	return out, rows.Err()
}
