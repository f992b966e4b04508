package sqlstore

import (
	"context"
	"fmt"

	"github.com/scimd/scimd/internal/store"
)

const (
	tenantCols = "id, name, created, provisioning_active, api_keys_enabled, password_signin, on_delete, rate_limit"
	// A deleted tenant is a tombstone that no lookup finds (see
	// tenant_delete.go).
	sqlTenantByName = "SELECT " + tenantCols + " FROM tenants WHERE name = ? AND deleted IS NULL"
	sqlTenantByID   = "SELECT " + tenantCols + " FROM tenants WHERE id = ? AND deleted IS NULL"
	sqlTenants      = "SELECT " + tenantCols + " FROM tenants WHERE deleted IS NULL ORDER BY name"
	sqlInsertTenant = "INSERT INTO tenants (name, created, provisioning_active, api_keys_enabled, password_signin, on_delete) VALUES (?, ?, ?, ?, ?, ?) RETURNING id"
	sqlUpdateTenant = "UPDATE tenants SET provisioning_active = ?, api_keys_enabled = ?, password_signin = ?, on_delete = ?, rate_limit = ? WHERE id = ?"
)

func scanTenant(row Row) (store.Tenant, error) {
	var t store.Tenant
	var created int64
	err := row.Scan(&t.ID, &t.Name, &created, &t.ProvisioningActive, &t.APIKeysEnabled, &t.PasswordSignIn, &t.OnDelete, &t.RateLimit)
	if err != nil {
		return store.Tenant{}, err
	}
	t.Created = fromNanos(created)
	return t, nil
}

// CreateTenant creates a tenant with default settings. Returns
// store.ErrConflict if the name is taken.
func (s *Store) CreateTenant(ctx context.Context, name string) (store.Tenant, error) {
	t := store.Tenant{
		Name:           name,
		Created:        fromNanos(nanos(s.Now())),
		APIKeysEnabled: true,
		PasswordSignIn: true,
		OnDelete:       store.OnDeleteArchive,
	}
	err := s.write(ctx, func(ctx context.Context, q Querier) error {
		return q.QueryRow(ctx, sqlInsertTenant,
			t.Name, nanos(t.Created), t.ProvisioningActive, t.APIKeysEnabled, t.PasswordSignIn, t.OnDelete).Scan(&t.ID)
	})
	if err != nil {
		return store.Tenant{}, err
	}
	return t, nil
}

// Tenant returns the tenant with the given name, or store.ErrNotFound.
func (s *Store) Tenant(ctx context.Context, name string) (store.Tenant, error) {
	return scanTenant(s.auth.QueryRow(ctx, sqlTenantByName, name))
}

// TenantByID returns the tenant with the given id, or store.ErrNotFound.
func (s *Store) TenantByID(ctx context.Context, id int64) (store.Tenant, error) {
	return scanTenant(s.q.QueryRow(ctx, sqlTenantByID, id))
}

// Tenants lists all tenants by name.
func (s *Store) Tenants(ctx context.Context) ([]store.Tenant, error) {
	rows, err := s.q.Query(ctx, sqlTenants)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ts []store.Tenant
	for rows.Next() {
		t, err := scanTenant(rows)
		if err != nil {
			return nil, err
		}
		ts = append(ts, t)
	}
	return ts, rows.Err()
}

// UpdateTenant applies fn to the tenant inside a write transaction, with
// the tenant's row locked, and stores its settings; ID, Name and Created
// are not changed. Returns store.ErrNotFound, or fn's error unchanged. fn
// may be called more than once and must not call the store.
func (s *Store) UpdateTenant(ctx context.Context, name string, fn func(*store.Tenant) error) (store.Tenant, error) {
	var t store.Tenant
	err := s.write(ctx, func(ctx context.Context, q Querier) error {
		cur, err := scanTenant(q.QueryRow(ctx, sqlTenantByName+s.d.Lock(ForUpdate), name))
		if err != nil {
			return err
		}
		t = cur
		if err := fn(&t); err != nil {
			return err
		}
		t.ID, t.Name, t.Created = cur.ID, cur.Name, cur.Created
		if t.OnDelete != store.OnDeleteArchive && t.OnDelete != store.OnDeletePurge {
			return fmt.Errorf("%s: tenant %s: invalid OnDelete %q", s.d.Name(), name, t.OnDelete)
		}
		if t.RateLimit < 0 {
			return fmt.Errorf("%s: tenant %s: negative RateLimit %d", s.d.Name(), name, t.RateLimit)
		}
		if _, err = q.Exec(ctx, sqlUpdateTenant, t.ProvisioningActive, t.APIKeysEnabled, t.PasswordSignIn, t.OnDelete, t.RateLimit, t.ID); err != nil {
			return err
		}
		if t.ProvisioningActive != cur.ProvisioningActive {
			typ := store.EventTenantDeactivated
			if t.ProvisioningActive {
				typ = store.EventTenantActivated
			}
			s.emit(ctx, q, t.ID, typ, "Tenant", t.Name, []byte(`{}`))
		}
		return nil
	})
	if err != nil {
		return store.Tenant{}, err
	}
	return t, nil
}
