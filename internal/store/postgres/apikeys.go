package postgres

import (
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
