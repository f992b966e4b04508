package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/scimd/scimd/internal/store"
)

const (
	tenantCols          = "id, name, created, provisioning_active, api_keys_enabled, password_signin, on_delete"
	sqlTenantByName     = "SELECT " + tenantCols + " FROM tenants WHERE name = $1"
	sqlTenantByID       = "SELECT " + tenantCols + " FROM tenants WHERE id = $1"
	sqlTenants          = "SELECT " + tenantCols + " FROM tenants ORDER BY name"
	sqlInsertTenant     = "INSERT INTO tenants (name, created, provisioning_active, api_keys_enabled, password_signin, on_delete) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id"
	sqlLockTenantByName = sqlTenantByName + " FOR UPDATE"
	sqlUpdateTenant     = "UPDATE tenants SET provisioning_active = $1, api_keys_enabled = $2, password_signin = $3, on_delete = $4 WHERE id = $5"
)

func scanTenant(row pgx.Row) (store.Tenant, error) {
	var t store.Tenant
	var created int64
	err := row.Scan(&t.ID, &t.Name, &created, &t.ProvisioningActive, &t.APIKeysEnabled, &t.PasswordSignIn, &t.OnDelete)
	if err != nil {
		return store.Tenant{}, dbErr(err)
	}
	t.Created = fromNanos(created)
	return t, nil
}

// CreateTenant creates a tenant with default settings. Returns
// store.ErrConflict if the name is taken.
func (db *DB) CreateTenant(ctx context.Context, name string) (store.Tenant, error) {
	t := store.Tenant{
		Name:           name,
		Created:        fromNanos(nanos(db.now())),
		APIKeysEnabled: true,
		PasswordSignIn: true,
		OnDelete:       store.OnDeleteArchive,
	}
	err := db.retry(ctx, func() error {
		return dbErr(db.pool.QueryRow(ctx, sqlInsertTenant,
			t.Name, nanos(t.Created), t.ProvisioningActive, t.APIKeysEnabled, t.PasswordSignIn, t.OnDelete).Scan(&t.ID))
	})
	if err != nil {
		return store.Tenant{}, err
	}
	return t, nil
}

// Tenant returns the tenant with the given name, or store.ErrNotFound.
func (db *DB) Tenant(ctx context.Context, name string) (store.Tenant, error) {
	return scanTenant(db.pool.QueryRow(ctx, sqlTenantByName, name))
}

// TenantByID returns the tenant with the given id, or store.ErrNotFound.
func (db *DB) TenantByID(ctx context.Context, id int64) (store.Tenant, error) {
	return scanTenant(db.pool.QueryRow(ctx, sqlTenantByID, id))
}

// Tenants lists all tenants by name.
func (db *DB) Tenants(ctx context.Context) ([]store.Tenant, error) {
	rows, err := db.pool.Query(ctx, sqlTenants)
	if err != nil {
		return nil, dbErr(err)
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
	return ts, dbErr(rows.Err())
}

// UpdateTenant applies fn to the tenant inside a transaction, with the
// tenant's row locked, and stores its settings; ID, Name and Created are not
// changed. Returns store.ErrNotFound, or fn's error unchanged. fn may be
// called more than once (see DB.tx) and must not call the store.
func (db *DB) UpdateTenant(ctx context.Context, name string, fn func(*store.Tenant) error) (store.Tenant, error) {
	var t store.Tenant
	err := db.tx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		cur, err := scanTenant(tx.QueryRow(ctx, sqlLockTenantByName, name))
		if err != nil {
			return err
		}
		t = cur
		if err := fn(&t); err != nil {
			return err
		}
		t.ID, t.Name, t.Created = cur.ID, cur.Name, cur.Created
		if t.OnDelete != store.OnDeleteArchive && t.OnDelete != store.OnDeletePurge {
			return fmt.Errorf("postgres: tenant %s: invalid OnDelete %q", name, t.OnDelete)
		}
		_, err = tx.Exec(ctx, sqlUpdateTenant, t.ProvisioningActive, t.APIKeysEnabled, t.PasswordSignIn, t.OnDelete, t.ID)
		return dbErr(err)
	})
	if err != nil {
		return store.Tenant{}, err
	}
	return t, nil
}
