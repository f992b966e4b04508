package sqlstore

import (
	"context"
	"errors"
	"strings"

	"github.com/scimd/scimd/internal/store"
)

// Deleting a tenant: DeleteTenant makes it a tombstone at once (one small
// transaction); PurgeDeletedTenants then removes its data in chunks, each
// its own transaction, so that a tenant of a million users never holds the
// SQLite writer, or PostgreSQL's locks, for long. A deleted tenant's id is
// never reused: its tenants row stays.

const (
	sqlDeleteTenant  = "UPDATE tenants SET deleted = ?, provisioning_active = ? WHERE id = ?"
	sqlDeletedTenant = "SELECT id FROM tenants WHERE deleted IS NOT NULL AND purged IS NULL ORDER BY id LIMIT 1"
	sqlPurgedTenant  = "UPDATE tenants SET purged = ? WHERE id = ?"
	// tenantPurgeChunk is how many rows one purge transaction removes from
	// one table.
	tenantPurgeChunk = 500
)

// tenantTable is a large table of tenant data, whose rows a purge finds
// through an index that leads with tenant_id, by key.
type tenantTable struct{ table, key, where string }

// tenantTables are the large tables, in the order a purge empties them:
// members before their groups and users (e-mail rows go with their users,
// by cascade).
var tenantTables = []tenantTable{
	{"group_members", "(group_seq, member_id)", ""},
	{"groups", "seq", ""},
	{"users", "seq", ""},
	{"archived_users", "seq", ""},
	{"activity", "id", ""},
	{"events", "(tx, seq)", " AND type <> '" + store.EventTenantDeleted + "'"},
}

// rows selects at most ? keys of the tenant's rows.
func (t tenantTable) rows() string {
	return "SELECT " + strings.Trim(t.key, "()") + " FROM " + t.table + " WHERE tenant_id = ?" + t.where + " LIMIT ?"
}

// deleteChunk deletes at most ? of the tenant's rows.
func (t tenantTable) deleteChunk() string {
	return "DELETE FROM " + t.table + " WHERE " + t.key + " IN (" + t.rows() + ")"
}

// tenantPurgeRest removes what is left, small by nature (keys, roles,
// sessions, counts), in the transaction that marks the tenant purged.
var tenantPurgeRest = []string{
	"DELETE FROM api_keys WHERE tenant_id = ?",
	"DELETE FROM app_key_tenants WHERE tenant_id = ?",
	"DELETE FROM console_sessions WHERE tenant_id = ?",
	"DELETE FROM user_roles WHERE tenant_id = ?",
	"DELETE FROM roles WHERE tenant_id = ?",
	"DELETE FROM user_counts WHERE tenant_id = ?",
	"DELETE FROM group_counts WHERE tenant_id = ?",
	"DELETE FROM activity_counts WHERE tenant_id = ?",
}

// DeleteTenant makes the tenant a tombstone, deactivated, and writes a
// tenant.deleted event, in one transaction.
func (s *Store) DeleteTenant(ctx context.Context, name string) (store.Tenant, error) {
	var t store.Tenant
	err := s.write(ctx, func(ctx context.Context, q Querier) error {
		var err error
		if t, err = scanTenant(q.QueryRow(ctx, sqlTenantByName+s.d.Lock(ForUpdate), name)); err != nil {
			return err
		}
		if _, err := q.Exec(ctx, sqlDeleteTenant, nanos(s.Now()), false, t.ID); err != nil {
			return err
		}
		s.emit(ctx, q, t.ID, store.EventTenantDeleted, "Tenant", t.Name, []byte(`{}`))
		return nil
	})
	if err != nil {
		return store.Tenant{}, err
	}
	return t, nil
}

// PurgeDeletedTenants removes the data of the deleted tenants, one tenant
// and one chunk at a time, oldest tenant first.
func (s *Store) PurgeDeletedTenants(ctx context.Context) (int64, error) {
	var total int64
	for {
		var id int64
		err := s.q.QueryRow(ctx, sqlDeletedTenant).Scan(&id)
		if errors.Is(err, store.ErrNotFound) {
			return total, nil
		}
		if err != nil {
			return total, err
		}
		n, err := s.purgeTenant(ctx, id)
		total += n
		if err != nil {
			return total, err
		}
	}
}

// purgeTenant removes one deleted tenant's data and marks it purged.
func (s *Store) purgeTenant(ctx context.Context, id int64) (int64, error) {
	var total int64
	for _, t := range tenantTables {
		for {
			if err := ctx.Err(); err != nil {
				return total, err
			}
			var n int64
			err := s.write(ctx, func(ctx context.Context, q Querier) error {
				var err error
				n, err = q.Exec(ctx, t.deleteChunk(), id, tenantPurgeChunk)
				return err
			})
			total += n
			if err != nil {
				return total, err
			}
			if n < tenantPurgeChunk {
				break
			}
		}
	}
	err := s.write(ctx, func(ctx context.Context, q Querier) error {
		var n int64
		rest := tenantPurgeRest
		if s.d.ListStamps() {
			rest = append(rest[:len(rest):len(rest)], "DELETE FROM list_stamps WHERE tenant_id = ?")
		}
		for _, stmt := range rest {
			m, err := q.Exec(ctx, stmt, id)
			if err != nil {
				return err
			}
			n += m
		}
		// A write that raced the chunks (none should: the tenant is not
		// found any more) leaves rows; the next run finds them.
		for _, t := range tenantTables {
			var left int64
			if err := q.QueryRow(ctx, "SELECT count(*) FROM ("+t.rows()+") x", id, 1).Scan(&left); err != nil {
				return err
			}
			if left > 0 {
				return nil
			}
		}
		total += n
		_, err := q.Exec(ctx, sqlPurgedTenant, nanos(s.Now()), id)
		return err
	})
	return total, err
}
