package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/scimd/scimd/internal/store"
)

const (
	tenantCols       = "id, name, created, provisioning_active, api_keys_enabled, password_signin, on_delete"
	sqlTenantByName  = "SELECT " + tenantCols + " FROM tenants WHERE name = ?"
	sqlTenantByID    = "SELECT " + tenantCols + " FROM tenants WHERE id = ?"
	sqlTenants       = "SELECT " + tenantCols + " FROM tenants ORDER BY name"
	sqlInsertTenant  = "INSERT INTO tenants (name, created, provisioning_active, api_keys_enabled, password_signin, on_delete) VALUES (?, ?, ?, ?, ?, ?)"
	sqlUpdateTenant  = "UPDATE tenants SET provisioning_active = ?, api_keys_enabled = ?, password_signin = ?, on_delete = ? WHERE id = ?"
	sqlTenantUserCnt = "SELECT coalesce((SELECT n FROM user_counts WHERE tenant_id = ?), 0)"
)

func scanTenant(row interface{ Scan(...any) error }) (store.Tenant, error) {
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
	err := db.writeTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := db.ws.exec(ctx, tx, sqlInsertTenant,
			t.Name, nanos(t.Created), t.ProvisioningActive, t.APIKeysEnabled, t.PasswordSignIn, t.OnDelete)
		if err != nil {
			return dbErr(err)
		}
		t.ID, err = res.LastInsertId()
		return dbErr(err)
	})
	if err != nil {
		return store.Tenant{}, err
	}
	return t, nil
}

// Tenant returns the tenant with the given name, or store.ErrNotFound.
func (db *DB) Tenant(ctx context.Context, name string) (store.Tenant, error) {
	return scanTenant(db.rs.queryRow(ctx, nil, sqlTenantByName, name))
}

// TenantByID returns the tenant with the given id, or store.ErrNotFound.
func (db *DB) TenantByID(ctx context.Context, id int64) (store.Tenant, error) {
	return scanTenant(db.rs.queryRow(ctx, nil, sqlTenantByID, id))
}

// Tenants lists all tenants by name.
func (db *DB) Tenants(ctx context.Context) ([]store.Tenant, error) {
	rows, err := db.rs.query(ctx, nil, sqlTenants)
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

// UpdateTenant applies fn to the tenant inside a write transaction and
// stores its settings; ID, Name and Created are not changed. Returns
// store.ErrNotFound, or fn's error unchanged. fn must not call the store.
func (db *DB) UpdateTenant(ctx context.Context, name string, fn func(*store.Tenant) error) (store.Tenant, error) {
	var t store.Tenant
	err := db.writeTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		cur, err := scanTenant(db.ws.queryRow(ctx, tx, sqlTenantByName, name))
		if err != nil {
			return err
		}
		t = cur
		if err := fn(&t); err != nil {
			return err
		}
		t.ID, t.Name, t.Created = cur.ID, cur.Name, cur.Created
		if t.OnDelete != store.OnDeleteArchive && t.OnDelete != store.OnDeletePurge {
			return fmt.Errorf("sqlite: tenant %s: invalid OnDelete %q", name, t.OnDelete)
		}
		_, err = db.ws.exec(ctx, tx, sqlUpdateTenant, t.ProvisioningActive, t.APIKeysEnabled, t.PasswordSignIn, t.OnDelete, t.ID)
		return dbErr(err)
	})
	if err != nil {
		return store.Tenant{}, err
	}
	return t, nil
}
