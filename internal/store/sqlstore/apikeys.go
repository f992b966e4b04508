package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/scimd/scimd/internal/store"
)

const (
	apiKeyCols      = "id, tenant_id, name, scope, secret_hash, created_by, created, expires, revoked, last_used"
	sqlInsertAPIKey = "INSERT INTO api_keys (" + apiKeyCols + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	sqlAPIKey       = "SELECT " + apiKeyCols + " FROM api_keys WHERE id = ?"
	sqlAPIKeys      = "SELECT " + apiKeyCols + " FROM api_keys WHERE tenant_id = ? ORDER BY created DESC, id"
	sqlRevokeAPIKey = "UPDATE api_keys SET revoked = ? WHERE tenant_id = ? AND id = ? AND revoked IS NULL"
)

func scanAPIKey(row Row) (store.APIKey, error) {
	var k store.APIKey
	var created int64
	var expires, revoked, lastUsed sql.NullInt64
	err := row.Scan(&k.ID, &k.TenantID, &k.Name, &k.Scope, &k.SecretHash, &k.CreatedBy, &created, &expires, &revoked, &lastUsed)
	if err != nil {
		return store.APIKey{}, err
	}
	k.Created = fromNanos(created)
	k.Expires = fromOptNanos(expires)
	k.Revoked = fromOptNanos(revoked)
	k.LastUsed = fromOptNanos(lastUsed)
	return k, nil
}

// CreateAPIKey stores k. Returns store.ErrConflict if k.ID exists and
// store.ErrNotFound if k.TenantID does not.
func (s *Store) CreateAPIKey(ctx context.Context, k store.APIKey) error {
	data, _ := json.Marshal(keyData{Name: k.Name, Scope: k.Scope, CreatedBy: k.CreatedBy, Expires: optTime(k.Expires)})
	return s.write(ctx, func(ctx context.Context, q Querier) error {
		_, err := q.Exec(ctx, sqlInsertAPIKey,
			k.ID, k.TenantID, k.Name, k.Scope, k.SecretHash, k.CreatedBy,
			nanos(k.Created), optNanos(k.Expires), optNanos(k.Revoked), optNanos(k.LastUsed))
		if err == nil {
			s.emit(ctx, q, k.TenantID, store.EventKeyCreated, "APIKey", k.ID, data)
		}
		return err
	})
}

// APIKey returns the key with the given public id, whatever its tenant, or
// store.ErrNotFound. It reads the database on every call: a key revoked
// through any instance is refused by all of them at once.
func (s *Store) APIKey(ctx context.Context, id string) (store.APIKey, error) {
	return scanAPIKey(s.auth.QueryRow(ctx, sqlAPIKey, id))
}

// APIKeys lists a tenant's keys, newest first.
func (s *Store) APIKeys(ctx context.Context, tenantID int64) ([]store.APIKey, error) {
	rows, err := s.q.Query(ctx, sqlAPIKeys, tenantID)
	if err != nil {
		return nil, err
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
	return ks, rows.Err()
}

// RevokeAPIKey marks a tenant's key revoked at time at; a key already
// revoked keeps its first revocation time. Returns store.ErrNotFound if the
// tenant has no such key.
func (s *Store) RevokeAPIKey(ctx context.Context, tenantID int64, id string, at time.Time) error {
	return s.write(ctx, func(ctx context.Context, q Querier) error {
		n, err := q.Exec(ctx, sqlRevokeAPIKey, nanos(at), tenantID, id)
		if err != nil || n > 0 {
			if err == nil {
				s.emit(ctx, q, tenantID, store.EventKeyRevoked, "APIKey", id, []byte(`{}`))
			}
			return err
		}
		// Revoked already, or no such key.
		var one int
		return q.QueryRow(ctx, "SELECT 1 FROM api_keys WHERE tenant_id = ? AND id = ?", tenantID, id).Scan(&one)
	})
}

// keyData is the data of a key.created event: never the secret or its
// hash.
type keyData struct {
	Name      string  `json:"name"`
	Scope     string  `json:"scope"`
	CreatedBy string  `json:"created_by,omitempty"`
	Expires   *string `json:"expires,omitempty"`
}

func optTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339)
	return &s
}

// TouchAPIKey records that the key was used at time at (the last-used time
// never moves backwards). It is one small UPDATE; callers throttle it.
// Returns store.ErrNotFound if there is no such key.
func (s *Store) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	touch := "UPDATE api_keys SET last_used = " + s.d.Greatest() + "(coalesce(last_used, ?), ?) WHERE id = ?"
	return s.write(ctx, func(ctx context.Context, q Querier) error {
		return affectedOne(q.Exec(ctx, touch, nanos(at), nanos(at), id))
	})
}
