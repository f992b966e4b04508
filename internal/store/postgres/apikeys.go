package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/scimd/scimd/internal/store"
)

const (
	apiKeyCols      = "id, tenant_id, name, scope, secret_hash, created_by, created, expires, revoked, last_used"
	sqlInsertAPIKey = "INSERT INTO api_keys (" + apiKeyCols + ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
	sqlAPIKey       = "SELECT " + apiKeyCols + " FROM api_keys WHERE id = $1"
	sqlAPIKeys      = "SELECT " + apiKeyCols + " FROM api_keys WHERE tenant_id = $1 ORDER BY created DESC, id"
	sqlRevokeAPIKey = "UPDATE api_keys SET revoked = coalesce(revoked, $1) WHERE tenant_id = $2 AND id = $3"
	sqlTouchAPIKey  = "UPDATE api_keys SET last_used = greatest(coalesce(last_used, $1), $1) WHERE id = $2"
)

func scanAPIKey(row pgx.Row) (store.APIKey, error) {
	var k store.APIKey
	var created int64
	var expires, revoked, lastUsed *int64
	err := row.Scan(&k.ID, &k.TenantID, &k.Name, &k.Scope, &k.SecretHash, &k.CreatedBy, &created, &expires, &revoked, &lastUsed)
	if err != nil {
		return store.APIKey{}, dbErr(err)
	}
	k.Created = fromNanos(created)
	k.Expires = fromOptNanos(expires)
	k.Revoked = fromOptNanos(revoked)
	k.LastUsed = fromOptNanos(lastUsed)
	return k, nil
}

// CreateAPIKey stores k. Returns store.ErrConflict if k.ID exists and
// store.ErrNotFound if k.TenantID does not.
func (db *DB) CreateAPIKey(ctx context.Context, k store.APIKey) error {
	return db.retry(ctx, func() error {
		_, err := db.pool.Exec(ctx, sqlInsertAPIKey,
			k.ID, k.TenantID, k.Name, k.Scope, k.SecretHash, k.CreatedBy,
			nanos(k.Created), optNanos(k.Expires), optNanos(k.Revoked), optNanos(k.LastUsed))
		return dbErr(err)
	})
}

// APIKey returns the key with the given public id, whatever its tenant, or
// store.ErrNotFound. It reads the database on every call: a key revoked
// through any instance is refused by all of them at once.
func (db *DB) APIKey(ctx context.Context, id string) (store.APIKey, error) {
	return scanAPIKey(db.pool.QueryRow(ctx, sqlAPIKey, id))
}

// APIKeys lists a tenant's keys, newest first.
func (db *DB) APIKeys(ctx context.Context, tenantID int64) ([]store.APIKey, error) {
	rows, err := db.pool.Query(ctx, sqlAPIKeys, tenantID)
	if err != nil {
		return nil, dbErr(err)
	}
	defer rows.Close()
	var ks []store.APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, err
		}
		ks = append(ks, k)
	}
	return ks, dbErr(rows.Err())
}

// RevokeAPIKey marks a tenant's key revoked at time at; a key already
// revoked keeps its first revocation time. Returns store.ErrNotFound if the
// tenant has no such key.
func (db *DB) RevokeAPIKey(ctx context.Context, tenantID int64, id string, at time.Time) error {
	return db.retry(ctx, func() error {
		return affectedOne(db.pool.Exec(ctx, sqlRevokeAPIKey, nanos(at), tenantID, id))
	})
}

// TouchAPIKey records that the key was used at time at (the last-used time
// never moves backwards). Returns store.ErrNotFound if there is no such key.
func (db *DB) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	return db.retry(ctx, func() error {
		return affectedOne(db.pool.Exec(ctx, sqlTouchAPIKey, nanos(at), id))
	})
}

// affectedOne returns store.ErrNotFound when an UPDATE or DELETE matched no
// row.
func affectedOne(tag pgconn.CommandTag, err error) error {
	if err != nil {
		return dbErr(err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}
