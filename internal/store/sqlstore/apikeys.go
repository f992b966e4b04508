package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/scimd/scimd/internal/scim"
	"github.com/scimd/scimd/internal/store"
)

// A key's name is unique under scim.Fold among the tenant's live keys:
// those neither revoked nor replaced (the partial unique index
// api_keys_live_name). The store checks it first, inside the write, to
// return store.ErrKeyNameTaken; the index settles a race between two
// instances on PostgreSQL, whose loser gets store.ErrConflict.
const (
	apiKeyCols      = "id, tenant_id, name, scope, secret_hash, created_by, created, expires, revoked, last_used, prev_secret_hash, prev_expires, rotated, successor_id"
	sqlInsertAPIKey = "INSERT INTO api_keys (id, tenant_id, name, name_fold, scope, secret_hash, created_by, created, expires, revoked, last_used) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	sqlAPIKey       = "SELECT " + apiKeyCols + " FROM api_keys WHERE id = ?"
	sqlAPIKeys      = "SELECT " + apiKeyCols + " FROM api_keys WHERE tenant_id = ? ORDER BY created DESC, id"
	sqlRevokeAPIKey = "UPDATE api_keys SET revoked = ? WHERE tenant_id = ? AND id = ? AND revoked IS NULL"
	sqlRotateAPIKey = "UPDATE api_keys SET secret_hash = ?, prev_secret_hash = ?, prev_expires = ?, rotated = ? WHERE tenant_id = ? AND id = ?"
	sqlSetSuccessor = "UPDATE api_keys SET successor_id = ? WHERE tenant_id = ? AND id = ?"
	sqlKeyNameTaken = "SELECT count(*) FROM api_keys WHERE tenant_id = ? AND name_fold = ? AND id <> ? AND revoked IS NULL AND successor_id IS NULL"
)

func scanAPIKey(row Row) (store.APIKey, error) {
	var k store.APIKey
	var created int64
	var expires, revoked, lastUsed, prevExpires, rotated sql.NullInt64
	var successor sql.NullString
	err := row.Scan(&k.ID, &k.TenantID, &k.Name, &k.Scope, &k.SecretHash, &k.CreatedBy, &created, &expires, &revoked, &lastUsed,
		&k.PrevSecretHash, &prevExpires, &rotated, &successor)
	if err != nil {
		return store.APIKey{}, err
	}
	k.Created = fromNanos(created)
	k.Expires = fromOptNanos(expires)
	k.Revoked = fromOptNanos(revoked)
	k.LastUsed = fromOptNanos(lastUsed)
	k.PrevExpires = fromOptNanos(prevExpires)
	k.Rotated = fromOptNanos(rotated)
	k.SuccessorID = successor.String
	if len(k.PrevSecretHash) == 0 {
		k.PrevSecretHash = nil
	}
	return k, nil
}

// lockAPIKey reads a tenant's key with its row locked for the rest of the
// transaction (see UpdateAPIKey).
func (s *Store) lockAPIKey(ctx context.Context, q Querier, tenantID int64, id string) (store.APIKey, error) {
	lock := "SELECT " + apiKeyCols + " FROM api_keys WHERE tenant_id = ? AND id = ?" + s.d.Lock(ForNoKeyUpdate)
	return scanAPIKey(q.QueryRow(ctx, lock, tenantID, id))
}

// checkKeyName returns store.ErrKeyNameTaken if a live key of the tenant
// other than id has name under scim.Fold.
func checkKeyName(ctx context.Context, q Querier, tenantID int64, id, name string) error {
	var n int
	if err := q.QueryRow(ctx, sqlKeyNameTaken, tenantID, scim.Fold(name), id).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return store.ErrKeyNameTaken
	}
	return nil
}

// keyEnded reports whether k is revoked or expired at time at.
func keyEnded(k store.APIKey, at time.Time) bool {
	return !k.Revoked.IsZero() || !k.Expires.IsZero() && !at.Before(k.Expires)
}

// CreateAPIKey stores k. Returns store.ErrKeyNameTaken if another live key
// of the tenant has k's name, store.ErrConflict if k.ID exists and
// store.ErrNotFound if k.TenantID does not.
func (s *Store) CreateAPIKey(ctx context.Context, k store.APIKey) error {
	return s.write(ctx, func(ctx context.Context, q Querier) error {
		return s.insertAPIKey(ctx, q, k, "")
	})
}

// insertAPIKey stores k and writes its key.created event, which names the
// key it replaces, if any.
func (s *Store) insertAPIKey(ctx context.Context, q Querier, k store.APIKey, replaces string) error {
	if k.Revoked.IsZero() {
		if err := checkKeyName(ctx, q, k.TenantID, k.ID, k.Name); err != nil {
			return err
		}
	}
	_, err := q.Exec(ctx, sqlInsertAPIKey,
		k.ID, k.TenantID, k.Name, scim.Fold(k.Name), k.Scope, k.SecretHash, k.CreatedBy,
		nanos(k.Created), optNanos(k.Expires), optNanos(k.Revoked), optNanos(k.LastUsed))
	if err != nil {
		return err
	}
	data, _ := json.Marshal(keyData{Name: k.Name, Scope: k.Scope, CreatedBy: k.CreatedBy, Expires: optTime(k.Expires), Replaces: replaces})
	s.emit(ctx, q, k.TenantID, store.EventKeyCreated, "APIKey", k.ID, data)
	return nil
}

// APIKey returns the key with the given public id, whatever its tenant, or
// store.ErrNotFound. It reads the database on every call: a key revoked
// or rotated through any instance is refused (its old secret after the
// overlap) by all of them at once.
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

// RevokeAPIKey marks a tenant's key revoked at time at, which ends its
// current and its previous secret; a key already revoked keeps its first
// revocation time. Returns store.ErrNotFound if the tenant has no such key.
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

// RotateAPIKey replaces the secret hash of a tenant's key, its row locked
// (so that rotations, updates and revocations of one key through any
// instances queue), keeping the secret it replaces valid until
// overlapUntil. Only one previous secret is kept: a second rotation
// during an overlap drops the first secret at once. Returns
// store.ErrNotFound or store.ErrKeyEnded.
func (s *Store) RotateAPIKey(ctx context.Context, tenantID int64, id string, newHash []byte, overlapUntil, at time.Time) (store.APIKey, error) {
	var k store.APIKey
	err := s.write(ctx, func(ctx context.Context, q Querier) error {
		cur, err := s.lockAPIKey(ctx, q, tenantID, id)
		if err != nil {
			return err
		}
		if keyEnded(cur, at) {
			return store.ErrKeyEnded
		}
		k = cur
		k.SecretHash, k.Rotated = newHash, storedTime(at)
		k.PrevSecretHash, k.PrevExpires = nil, time.Time{}
		var prev any // NULL without an overlap
		if overlapUntil.After(at) {
			k.PrevSecretHash, k.PrevExpires = cur.SecretHash, storedTime(overlapUntil)
			prev = cur.SecretHash
		}
		q.Queue(ctx, sqlRotateAPIKey, k.SecretHash, prev, optNanos(k.PrevExpires), nanos(k.Rotated), tenantID, id)
		data, _ := json.Marshal(rotatedData{PreviousExpires: optTime(k.PrevExpires)})
		s.emit(ctx, q, tenantID, store.EventKeyRotated, "APIKey", id, data)
		return nil
	})
	if err != nil {
		return store.APIKey{}, err
	}
	return k, nil
}

// ReplaceAPIKey creates k as the successor of the tenant's ended key
// oldID, in one transaction; oldID gives up its name first, so that k may
// take it. Returns store.ErrNotFound, store.ErrKeyLive, store.ErrConflict
// (oldID has a successor) or store.ErrKeyNameTaken.
func (s *Store) ReplaceAPIKey(ctx context.Context, oldID string, k store.APIKey) error {
	return s.write(ctx, func(ctx context.Context, q Querier) error {
		old, err := s.lockAPIKey(ctx, q, k.TenantID, oldID)
		if err != nil {
			return err
		}
		switch {
		case !keyEnded(old, k.Created):
			return store.ErrKeyLive
		case old.SuccessorID != "":
			return store.ErrConflict
		}
		if _, err := q.Exec(ctx, sqlSetSuccessor, k.ID, k.TenantID, oldID); err != nil {
			return err
		}
		return s.insertAPIKey(ctx, q, k, oldID)
	})
}

// keyData is the data of a key.created event: never the secret or its
// hash.
type keyData struct {
	Name      string  `json:"name"`
	Scope     string  `json:"scope"`
	CreatedBy string  `json:"created_by,omitempty"`
	Expires   *string `json:"expires,omitempty"`
	Replaces  string  `json:"replaces,omitempty"` // the ended key this one replaces
}

// rotatedData is the data of a key.rotated event: until when the
// replaced secret stays valid, absent when it stopped at once.
type rotatedData struct {
	PreviousExpires *string `json:"previous_expires,omitempty"`
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

const (
	sqlPutReveal = "INSERT INTO api_key_reveals (session_hash, key_id, sealed, expires) VALUES (?, ?, ?, ?) " +
		"ON CONFLICT (session_hash, key_id) DO UPDATE SET sealed = excluded.sealed, expires = excluded.expires"
	sqlTakeReveal           = "DELETE FROM api_key_reveals WHERE session_hash = ? AND key_id = ? RETURNING sealed, expires"
	sqlDeleteExpiredReveals = "DELETE FROM api_key_reveals WHERE expires <= ?"
)

// PutKeyReveal keeps a sealed secret for one display to the session.
// Returns store.ErrNotFound if the session or the key does not exist.
func (s *Store) PutKeyReveal(ctx context.Context, sessionHash []byte, keyID string, sealed []byte, expires time.Time) error {
	return s.write(ctx, func(ctx context.Context, q Querier) error {
		_, err := q.Exec(ctx, sqlPutReveal, sessionHash, keyID, sealed, nanos(expires))
		return err
	})
}

// TakeKeyReveal deletes and returns what PutKeyReveal kept; the DELETE
// ... RETURNING gives it to one caller only, whatever the instances.
// Returns store.ErrNotFound if nothing is kept or it expired before now.
func (s *Store) TakeKeyReveal(ctx context.Context, sessionHash []byte, keyID string, now time.Time) ([]byte, error) {
	var sealed []byte
	var expires int64
	err := s.write(ctx, func(ctx context.Context, q Querier) error {
		return q.QueryRow(ctx, sqlTakeReveal, sessionHash, keyID).Scan(&sealed, &expires)
	})
	if err != nil {
		return nil, err
	}
	if !now.Before(fromNanos(expires)) {
		return nil, store.ErrNotFound
	}
	return sealed, nil
}
