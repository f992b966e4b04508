package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/scimd/scimd/internal/scim"
	"github.com/scimd/scimd/internal/store"
)

var _ store.ConsoleStore = (*DB)(nil)

// The console's statements are few and infrequent, except activity inserts,
// which are batched; they are not in the writer's frozen statement cache
// (stmtCache.exec then prepares them in the transaction).

// CreateOperator stores an operator. Returns store.ErrConflict if the
// e-mail address is taken.
func (db *DB) CreateOperator(ctx context.Context, email, passwordHash string, at time.Time) (store.Operator, error) {
	op := store.Operator{Email: email, PasswordHash: passwordHash, Created: fromNanos(nanos(at))}
	err := db.writeTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := db.ws.exec(ctx, tx, "INSERT INTO operators (email, email_fold, password_hash, created) VALUES (?, ?, ?, ?)",
			email, scim.Fold(email), passwordHash, nanos(at))
		if err != nil {
			return dbErr(err)
		}
		op.ID, err = res.LastInsertId()
		return dbErr(err)
	})
	if err != nil {
		return store.Operator{}, err
	}
	return op, nil
}

const operatorCols = "SELECT id, email, password_hash, created FROM operators WHERE "

func scanOperator(row *sql.Row) (store.Operator, error) {
	var op store.Operator
	var created int64
	if err := row.Scan(&op.ID, &op.Email, &op.PasswordHash, &created); err != nil {
		return store.Operator{}, dbErr(err)
	}
	op.Created = fromNanos(created)
	return op, nil
}

// OperatorByEmail returns an operator, or store.ErrNotFound.
func (db *DB) OperatorByEmail(ctx context.Context, email string) (store.Operator, error) {
	return scanOperator(db.rs.queryRow(ctx, nil, operatorCols+"email_fold = ?", scim.Fold(email)))
}

// OperatorByID returns an operator, or store.ErrNotFound.
func (db *DB) OperatorByID(ctx context.Context, id int64) (store.Operator, error) {
	return scanOperator(db.rs.queryRow(ctx, nil, operatorCols+"id = ?", id))
}

// CreateSession stores s.
func (db *DB) CreateSession(ctx context.Context, s store.Session) error {
	return db.writeTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := db.ws.exec(ctx, tx, "INSERT INTO console_sessions (id_hash, tenant_id, user_id, operator_id, csrf, created, last_seen, expires) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
			s.IDHash, s.TenantID, s.UserID, s.OperatorID, s.CSRF, nanos(s.Created), nanos(s.LastSeen), nanos(s.Expires))
		return dbErr(err)
	})
}

// Session returns a session by the hash of its id, or store.ErrNotFound.
func (db *DB) Session(ctx context.Context, idHash []byte) (store.Session, error) {
	s := store.Session{IDHash: idHash}
	var created, seen, expires int64
	err := db.rs.queryRow(ctx, nil, "SELECT tenant_id, user_id, operator_id, csrf, created, last_seen, expires FROM console_sessions WHERE id_hash = ?", idHash).
		Scan(&s.TenantID, &s.UserID, &s.OperatorID, &s.CSRF, &created, &seen, &expires)
	if err != nil {
		return store.Session{}, dbErr(err)
	}
	s.Created, s.LastSeen, s.Expires = fromNanos(created), fromNanos(seen), fromNanos(expires)
	return s, nil
}

// TouchSession records that the session was used at time at.
func (db *DB) TouchSession(ctx context.Context, idHash []byte, at time.Time) error {
	return db.writeTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := db.ws.exec(ctx, tx, "UPDATE console_sessions SET last_seen = max(last_seen, ?) WHERE id_hash = ?", nanos(at), idHash)
		return dbErr(err)
	})
}

// DeleteSession removes a session.
func (db *DB) DeleteSession(ctx context.Context, idHash []byte) error {
	return db.writeTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := db.ws.exec(ctx, tx, "DELETE FROM console_sessions WHERE id_hash = ?", idHash)
		return dbErr(err)
	})
}

// DeleteUserSessions ends every session of a tenant user.
func (db *DB) DeleteUserSessions(ctx context.Context, tenantID int64, userID string) error {
	return db.writeTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := db.ws.exec(ctx, tx, "DELETE FROM console_sessions WHERE tenant_id = ? AND user_id = ?", tenantID, userID)
		return dbErr(err)
	})
}

// DeleteExpiredSessions removes the sessions past their absolute expiry or
// idle since before idleBefore.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now, idleBefore time.Time) (int64, error) {
	var n int64
	err := db.writeTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := db.ws.exec(ctx, tx, "DELETE FROM console_sessions WHERE expires <= ? OR last_seen < ?", nanos(now), nanos(idleBefore))
		if err != nil {
			return dbErr(err)
		}
		n, err = res.RowsAffected()
		return dbErr(err)
	})
	return n, err
}

// EnsureDefaultRoles creates the default roles the tenant lacks.
func (db *DB) EnsureDefaultRoles(ctx context.Context, tenantID int64) error {
	return db.writeTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		for _, name := range []string{store.RoleOwner, store.RoleAdmin, store.RoleMember} {
			_, err := db.ws.exec(ctx, tx, "INSERT INTO roles (tenant_id, name, permissions) VALUES (?, ?, ?) ON CONFLICT (tenant_id, name) DO NOTHING",
				tenantID, name, strings.Join(store.DefaultRoles[name], " "))
			if err != nil {
				return dbErr(err)
			}
		}
		return nil
	})
}

func scanRoles(rows *sql.Rows, err error) ([]store.Role, error) {
	if err != nil {
		return nil, dbErr(err)
	}
	defer rows.Close()
	var out []store.Role
	for rows.Next() {
		var r store.Role
		var perms string
		if err := rows.Scan(&r.ID, &r.TenantID, &r.Name, &perms); err != nil {
			return nil, dbErr(err)
		}
		r.Permissions = strings.Fields(perms)
		out = append(out, r)
	}
	return out, dbErr(rows.Err())
}

// Roles lists a tenant's roles by id.
func (db *DB) Roles(ctx context.Context, tenantID int64) ([]store.Role, error) {
	return scanRoles(db.rs.query(ctx, nil, "SELECT id, tenant_id, name, permissions FROM roles WHERE tenant_id = ? ORDER BY id", tenantID))
}

// SetRolePermissions replaces a role's permissions.
func (db *DB) SetRolePermissions(ctx context.Context, tenantID, roleID int64, perms []string) error {
	for _, p := range perms {
		if !slices.Contains(store.Permissions, p) {
			return fmt.Errorf("sqlite: unknown permission %q", p)
		}
	}
	return db.writeTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return affectedOne(db.ws.exec(ctx, tx, "UPDATE roles SET permissions = ? WHERE tenant_id = ? AND id = ?", strings.Join(perms, " "), tenantID, roleID))
	})
}

// RoleAssignments lists which users hold which roles.
func (db *DB) RoleAssignments(ctx context.Context, tenantID int64) ([]store.RoleAssignment, error) {
	rows, err := db.rs.query(ctx, nil, "SELECT user_id, role_id FROM user_roles WHERE tenant_id = ? ORDER BY user_id, role_id", tenantID)
	if err != nil {
		return nil, dbErr(err)
	}
	defer rows.Close()
	var out []store.RoleAssignment
	for rows.Next() {
		var a store.RoleAssignment
		if err := rows.Scan(&a.UserID, &a.RoleID); err != nil {
			return nil, dbErr(err)
		}
		out = append(out, a)
	}
	return out, dbErr(rows.Err())
}

// UserRoles lists the roles a user holds.
func (db *DB) UserRoles(ctx context.Context, tenantID int64, userID string) ([]store.Role, error) {
	return scanRoles(db.rs.query(ctx, nil, "SELECT roles.id, roles.tenant_id, roles.name, roles.permissions FROM user_roles JOIN roles ON roles.id = user_roles.role_id WHERE user_roles.tenant_id = ? AND user_roles.user_id = ? ORDER BY roles.id", tenantID, userID))
}

// SetUserRoles replaces the roles a user holds. Returns store.ErrNotFound
// if a role is not the tenant's.
func (db *DB) SetUserRoles(ctx context.Context, tenantID int64, userID string, roleIDs []int64) error {
	return db.writeTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := db.ws.exec(ctx, tx, "DELETE FROM user_roles WHERE tenant_id = ? AND user_id = ?", tenantID, userID); err != nil {
			return dbErr(err)
		}
		for _, id := range roleIDs {
			var n int
			if err := db.ws.queryRow(ctx, tx, "SELECT count(*) FROM roles WHERE tenant_id = ? AND id = ?", tenantID, id).Scan(&n); err != nil {
				return dbErr(err)
			}
			if n == 0 {
				return store.ErrNotFound
			}
			if _, err := db.ws.exec(ctx, tx, "INSERT OR IGNORE INTO user_roles (tenant_id, user_id, role_id) VALUES (?, ?, ?)", tenantID, userID, id); err != nil {
				return dbErr(err)
			}
		}
		return nil
	})
}

// UpdateAPIKey applies fn to a tenant's key and stores its name, scope and
// expiry.
func (db *DB) UpdateAPIKey(ctx context.Context, tenantID int64, id string, fn func(*store.APIKey) error) (store.APIKey, error) {
	var k store.APIKey
	err := db.writeTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		cur, err := scanAPIKey(db.ws.queryRow(ctx, tx, "SELECT "+apiKeyCols+" FROM api_keys WHERE tenant_id = ? AND id = ?", tenantID, id))
		if err != nil {
			return err
		}
		k = cur
		if err := fn(&k); err != nil {
			return err
		}
		if k.Scope != store.ScopeRead && k.Scope != store.ScopeWrite {
			return fmt.Errorf("sqlite: invalid key scope %q", k.Scope)
		}
		_, err = db.ws.exec(ctx, tx, "UPDATE api_keys SET name = ?, scope = ?, expires = ? WHERE id = ?", k.Name, k.Scope, optNanos(k.Expires), id)
		return dbErr(err)
	})
	if err != nil {
		return store.APIKey{}, err
	}
	return k, nil
}

// activityChunk is how many records one INSERT statement writes.
const activityChunk = 64

// AddActivity stores activity records in one write transaction, with one
// multi-row INSERT per chunk of records (a statement per record, prepared
// inside the writer's transaction, costs several times more).
func (db *DB) AddActivity(ctx context.Context, as []store.Activity) error {
	if len(as) == 0 {
		return nil
	}
	return db.writeTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		for len(as) > 0 {
			chunk := as[:min(len(as), activityChunk)]
			as = as[len(chunk):]
			var b strings.Builder
			b.WriteString("INSERT INTO activity (tenant_id, time, request_id, key_id, client, user_agent, method, path, resource_type, resource_id, status, changes) VALUES ")
			args := make([]any, 0, 12*len(chunk))
			for i, a := range chunk {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
				changes := []byte("[]")
				if a.Changes != nil {
					var err error
					if changes, err = json.Marshal(a.Changes); err != nil {
						return err
					}
				}
				args = append(args, a.TenantID, nanos(a.Time), a.RequestID, a.KeyID, a.Client, a.UserAgent, a.Method, a.Path, a.ResourceType, a.ResourceID, a.Status, string(changes))
			}
			if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
				return dbErr(err)
			}
		}
		return nil
	})
}

// ActivityLog returns the tenant's activity matching q, newest first.
func (db *DB) ActivityLog(ctx context.Context, tenantID int64, q store.ActivityQuery) ([]store.Activity, bool, error) {
	where := []string{"tenant_id = ?"}
	args := []any{tenantID}
	add := func(cond string, v any) {
		where = append(where, cond)
		args = append(args, v)
	}
	if q.ResourceType != "" {
		add("resource_type = ?", q.ResourceType)
	}
	if q.ResourceID != "" {
		add("resource_id = ?", q.ResourceID)
	}
	if q.KeyID != "" {
		add("key_id = ?", q.KeyID)
	}
	if q.Client != "" {
		add("client = ?", q.Client)
	}
	if q.Method != "" {
		add("method = ?", q.Method)
	}
	if q.Failed {
		where = append(where, "status >= 400")
	}
	if q.Text != "" {
		add("instr(path, ?) > 0", q.Text)
	}
	if q.Before > 0 {
		add("id < ?", q.Before)
	}
	limit := q.Limit
	if limit <= 0 || limit > 1000 {
		limit = 50
	}
	args = append(args, limit+1)
	rows, err := db.rs.query(ctx, nil, "SELECT id, tenant_id, time, request_id, key_id, client, user_agent, method, path, resource_type, resource_id, status, changes FROM activity WHERE "+
		strings.Join(where, " AND ")+" ORDER BY id DESC LIMIT ?", args...)
	if err != nil {
		return nil, false, dbErr(err)
	}
	defer rows.Close()
	var out []store.Activity
	for rows.Next() {
		var a store.Activity
		var t int64
		var changes string
		if err := rows.Scan(&a.ID, &a.TenantID, &t, &a.RequestID, &a.KeyID, &a.Client, &a.UserAgent, &a.Method, &a.Path, &a.ResourceType, &a.ResourceID, &a.Status, &changes); err != nil {
			return nil, false, dbErr(err)
		}
		a.Time = fromNanos(t)
		if err := json.Unmarshal([]byte(changes), &a.Changes); err != nil {
			return nil, false, fmt.Errorf("sqlite: activity %d: corrupt changes: %w", a.ID, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, false, dbErr(err)
	}
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	return out, more, nil
}

// PurgeActivity deletes activity older than before, in chunks so that the
// writer is never held long.
func (db *DB) PurgeActivity(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		var n int64
		err := db.writeTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
			res, err := db.ws.exec(ctx, tx, "DELETE FROM activity WHERE id IN (SELECT id FROM activity WHERE time < ? ORDER BY time LIMIT 1000)", nanos(before))
			if err != nil {
				return dbErr(err)
			}
			n, err = res.RowsAffected()
			return dbErr(err)
		})
		total += n
		if err != nil || n < 1000 {
			return total, err
		}
	}
}

// Throttle returns key's sign-in failures (zero if none).
func (db *DB) Throttle(ctx context.Context, key string) (store.Throttle, error) {
	t, err := scanThrottle(db.rs.queryRow(ctx, nil, sqlThrottle, key), key)
	if errors.Is(err, store.ErrNotFound) {
		return store.Throttle{Key: key}, nil
	}
	return t, err
}

const sqlThrottle = "SELECT failures, last, locked_until FROM signin_throttle WHERE key = ?"

func scanThrottle(row *sql.Row, key string) (store.Throttle, error) {
	t := store.Throttle{Key: key}
	var last, locked int64
	if err := row.Scan(&t.Failures, &last, &locked); err != nil {
		return t, dbErr(err)
	}
	t.Last, t.LockedUntil = fromZeroNanos(last), fromZeroNanos(locked)
	return t, nil
}

// UpdateThrottle applies fn to key's record and stores it.
func (db *DB) UpdateThrottle(ctx context.Context, key string, fn func(*store.Throttle)) (store.Throttle, error) {
	var t store.Throttle
	err := db.writeTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		cur, err := scanThrottle(db.ws.queryRow(ctx, tx, sqlThrottle, key), key)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if errors.Is(err, store.ErrNotFound) {
			cur = store.Throttle{Key: key}
		}
		t = cur
		fn(&t)
		t.Key = key
		_, err = db.ws.exec(ctx, tx, "INSERT INTO signin_throttle (key, failures, last, locked_until) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, last = excluded.last, locked_until = excluded.locked_until",
			key, t.Failures, zeroNanos(t.Last), zeroNanos(t.LockedUntil))
		return dbErr(err)
	})
	return t, err
}

// ClearThrottle forgets key's failures.
func (db *DB) ClearThrottle(ctx context.Context, key string) error {
	return db.writeTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := db.ws.exec(ctx, tx, "DELETE FROM signin_throttle WHERE key = ?", key)
		return dbErr(err)
	})
}

// zeroNanos stores a zero time as 0 in NOT NULL columns; fromZeroNanos
// reads it back.
func zeroNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromZeroNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return fromNanos(n)
}
