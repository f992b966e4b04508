package sqlite

import (
	"database/sql"

	"github.com/scimd/scimd/internal/store"
)

const (
	apiKeyCols      = "id, tenant_id, name, scope, secret_hash, created_by, created, expires, revoked, last_used"
	sqlInsertAPIKey = "INSERT INTO api_keys (" + apiKeyCols + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	sqlAPIKey       = "SELECT " + apiKeyCols + " FROM api_keys WHERE id = ?"
	sqlAPIKeys      = "SELECT " + apiKeyCols + " FROM api_keys WHERE tenant_id = ? ORDER BY created DESC, id"
	sqlRevokeAPIKey = "UPDATE api_keys SET revoked = coalesce(revoked, ?) WHERE tenant_id = ? AND id = ?"
	sqlTouchAPIKey  = "UPDATE api_keys SET last_used = max(coalesce(last_used, ?1), ?1) WHERE id = ?2"
)

func scanAPIKey(row interface{ Scan(...any) error }) (store.APIKey, error) {
	var k store.APIKey
	var created int64
	var expires, revoked, lastUsed sql.NullInt64
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
func affectedOne(res sql.Result, err error) error {
	if err != nil {
		return dbErr(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return dbErr(err)
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}
