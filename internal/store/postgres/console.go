package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/scimd/scimd/internal/scim"
	"github.com/scimd/scimd/internal/store"
)

var _ store.ConsoleStore = (*DB)(nil)

// The console's storage (migration 0003_console.sql) has the semantics of
// the SQLite backend's. What SQLite gets from its single writer, several
// instances sharing one database get here from the database itself:
//
//   - Uniqueness (operators' folded e-mail addresses, session ids, role
//     names, a restored user's userName) is unique indexes; a violation is
//     store.ErrConflict.
//   - The read-modify-writes lock their row inside the transaction:
//     UpdateAPIKey with SELECT … FOR NO KEY UPDATE, UpdateThrottle with an
//     upsert that creates the key's row if need be and returns it locked, so
//     that concurrent failed sign-ins through any instances are all counted.
//     RestoreUser locks the archived row, so that two restores of one user
//     cannot both succeed (the second finds nothing: store.ErrNotFound).
//   - SetUserRoles replaces a set of rows that has no row of its own to
//     lock, so it runs SERIALIZABLE: two concurrent replacements of one
//     user's roles cannot end with their union; the loser is retried.
//   - AddActivity writes a batch with one INSERT whatever its size (the
//     columns are bound as arrays and unnested), so a batch is atomic and
//     one round trip. Activity ids come from a sequence: increasing within
//     a batch, in the order of its records, and between batches in the
//     order they were inserted; but a batch may commit after one with
//     higher ids, so a page read meanwhile (paging by id) can miss its
//     records until it is read again.
//   - The last-Owner rule is the console's (a read of RoleAssignments,
//     then SetUserRoles), not the store's, as on SQLite.
//
// Every function that writes may run its statement or transaction more
// than once (see DB.retry and DB.tx); the fn of UpdateAPIKey and
// UpdateThrottle may therefore be called more than once, each time with the
// record as it is then.

// storable reports whether s can be stored in a text column: PostgreSQL
// refuses NUL characters and invalid UTF-8.
func storable(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// clean returns s with invalid UTF-8 and NUL characters replaced by
// U+FFFD, so that it can be stored in a text column.
func clean(s string) string {
	if storable(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

const (
	operatorCols       = "SELECT id, email, password_hash, created FROM operators WHERE "
	sqlInsertOperator  = "INSERT INTO operators (email, email_fold, password_hash, created) VALUES ($1, $2, $3, $4) RETURNING id"
	sqlOperatorByEmail = operatorCols + "email_fold = $1"
	sqlOperatorByID    = operatorCols + "id = $1"
)

// CreateOperator stores an operator. Returns store.ErrConflict if the
// e-mail address (compared under scim.Fold) is taken.
func (db *DB) CreateOperator(ctx context.Context, email, passwordHash string, at time.Time) (store.Operator, error) {
	if !storable(email) || !storable(passwordHash) {
		return store.Operator{}, errors.New("postgres: an operator's e-mail address and password hash must be valid UTF-8 without NUL characters")
	}
	op := store.Operator{Email: email, PasswordHash: passwordHash, Created: fromNanos(nanos(at))}
	err := db.retry(ctx, func() error {
		return dbErr(db.pool.QueryRow(ctx, sqlInsertOperator, email, scim.Fold(email), passwordHash, nanos(at)).Scan(&op.ID))
	})
	if err != nil {
		return store.Operator{}, err
	}
	return op, nil
}

func scanOperator(row pgx.Row) (store.Operator, error) {
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
	fold := scim.Fold(email)
	if !storable(fold) { // what a sign-in form was given; no stored address matches
		return store.Operator{}, store.ErrNotFound
	}
	return scanOperator(db.pool.QueryRow(ctx, sqlOperatorByEmail, fold))
}

// OperatorByID returns an operator, or store.ErrNotFound.
func (db *DB) OperatorByID(ctx context.Context, id int64) (store.Operator, error) {
	return scanOperator(db.pool.QueryRow(ctx, sqlOperatorByID, id))
}

const (
	sqlInsertSession = "INSERT INTO console_sessions (id_hash, tenant_id, user_id, operator_id, csrf, created, last_seen, expires) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
	sqlSession       = "SELECT tenant_id, user_id, operator_id, csrf, created, last_seen, expires FROM console_sessions WHERE id_hash = $1"
	sqlTouchSession  = "UPDATE console_sessions SET last_seen = greatest(last_seen, $1) WHERE id_hash = $2"
	sqlDeleteSession = "DELETE FROM console_sessions WHERE id_hash = $1"
	sqlDeleteUserSes = "DELETE FROM console_sessions WHERE tenant_id = $1 AND user_id = $2"
	sqlDeleteExpired = "DELETE FROM console_sessions WHERE expires <= $1 OR last_seen < $2"
)

// CreateSession stores s. Returns store.ErrConflict if its id hash exists.
func (db *DB) CreateSession(ctx context.Context, s store.Session) error {
	return db.retry(ctx, func() error {
		_, err := db.pool.Exec(ctx, sqlInsertSession, s.IDHash, s.TenantID, s.UserID, s.OperatorID, s.CSRF,
			nanos(s.Created), nanos(s.LastSeen), nanos(s.Expires))
		return dbErr(err)
	})
}

// Session returns a session by the hash of its id, or store.ErrNotFound.
// Expired sessions are returned too.
func (db *DB) Session(ctx context.Context, idHash []byte) (store.Session, error) {
	s := store.Session{IDHash: idHash}
	var created, seen, expires int64
	err := db.pool.QueryRow(ctx, sqlSession, idHash).Scan(&s.TenantID, &s.UserID, &s.OperatorID, &s.CSRF, &created, &seen, &expires)
	if err != nil {
		return store.Session{}, dbErr(err)
	}
	s.Created, s.LastSeen, s.Expires = fromNanos(created), fromNanos(seen), fromNanos(expires)
	return s, nil
}

// TouchSession records that the session was used at time at (its last-seen
// time never moves backwards). A session that is gone is no error.
func (db *DB) TouchSession(ctx context.Context, idHash []byte, at time.Time) error {
	return db.retry(ctx, func() error {
		_, err := db.pool.Exec(ctx, sqlTouchSession, nanos(at), idHash)
		return dbErr(err)
	})
}

// DeleteSession removes a session; one that is gone is no error.
func (db *DB) DeleteSession(ctx context.Context, idHash []byte) error {
	return db.retry(ctx, func() error {
		_, err := db.pool.Exec(ctx, sqlDeleteSession, idHash)
		return dbErr(err)
	})
}

// DeleteUserSessions ends every session of a tenant user.
func (db *DB) DeleteUserSessions(ctx context.Context, tenantID int64, userID string) error {
	return db.retry(ctx, func() error {
		_, err := db.pool.Exec(ctx, sqlDeleteUserSes, tenantID, userID)
		return dbErr(err)
	})
}

// DeleteExpiredSessions removes the sessions past their absolute expiry or
// idle since before idleBefore, and returns how many it removed.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now, idleBefore time.Time) (int64, error) {
	var n int64
	err := db.retry(ctx, func() error {
		tag, err := db.pool.Exec(ctx, sqlDeleteExpired, nanos(now), nanos(idleBefore))
		n = tag.RowsAffected()
		return dbErr(err)
	})
	return n, err
}

const (
	roleCols           = "roles.id, roles.tenant_id, roles.name, roles.permissions"
	sqlRoleNames       = "SELECT name FROM roles WHERE tenant_id = $1"
	sqlRoles           = "SELECT " + roleCols + " FROM roles WHERE tenant_id = $1 ORDER BY id"
	sqlSetRolePerms    = "UPDATE roles SET permissions = $1 WHERE tenant_id = $2 AND id = $3"
	sqlRoleAssignments = "SELECT user_id, role_id FROM user_roles WHERE tenant_id = $1 ORDER BY user_id, role_id"
	sqlUserRoles       = "SELECT " + roleCols + " FROM user_roles JOIN roles ON roles.id = user_roles.role_id WHERE user_roles.tenant_id = $1 AND user_roles.user_id = $2 ORDER BY roles.id"
	sqlCountRoles      = "SELECT count(*) FROM roles WHERE tenant_id = $1 AND id = ANY($2::bigint[])"
	// $1 tenant, $2 user, $3 the role ids (checked to be the tenant's):
	// deletes the assignments not in $3 and adds those missing, so that
	// the rows it deletes and those it inserts are never the same.
	sqlSetUserRoles = `WITH d AS (
		DELETE FROM user_roles WHERE tenant_id = $1 AND user_id = $2 AND role_id <> ALL($3::bigint[])
	)
	INSERT INTO user_roles (tenant_id, user_id, role_id)
	SELECT $1, $2, r FROM unnest($3::bigint[]) AS r
	ON CONFLICT (tenant_id, user_id, role_id) DO NOTHING`
)

// defaultRoleOrder is the order in which EnsureDefaultRoles creates the
// default roles, and so the order of their ids.
var defaultRoleOrder = []string{store.RoleOwner, store.RoleAdmin, store.RoleMember}

// EnsureDefaultRoles creates the default roles the tenant lacks. It only
// reads when the tenant has them all (the console calls it often);
// concurrent calls through several instances create each role once (its
// unique name index decides). Returns store.ErrNotFound if the tenant does
// not exist.
func (db *DB) EnsureDefaultRoles(ctx context.Context, tenantID int64) error {
	rows, err := db.pool.Query(ctx, sqlRoleNames, tenantID)
	if err != nil {
		return dbErr(err)
	}
	have, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return dbErr(err)
	}
	var q strings.Builder
	args := []any{tenantID}
	q.WriteString("INSERT INTO roles (tenant_id, name, permissions) VALUES ")
	for _, name := range defaultRoleOrder {
		if slices.Contains(have, name) {
			continue
		}
		if len(args) > 1 {
			q.WriteString(", ")
		}
		fmt.Fprintf(&q, "($1, $%d, $%d)", len(args)+1, len(args)+2)
		args = append(args, name, append([]string{}, store.DefaultRoles[name]...))
	}
	if len(args) == 1 {
		return nil
	}
	q.WriteString(" ON CONFLICT (tenant_id, name) DO NOTHING")
	return db.retry(ctx, func() error {
		_, err := db.pool.Exec(ctx, q.String(), args...)
		return dbErr(err)
	})
}

func scanRoles(rows pgx.Rows, err error) ([]store.Role, error) {
	if err != nil {
		return nil, dbErr(err)
	}
	defer rows.Close()
	var out []store.Role
	for rows.Next() {
		var r store.Role
		if err := rows.Scan(&r.ID, &r.TenantID, &r.Name, &r.Permissions); err != nil {
			return nil, dbErr(err)
		}
		if len(r.Permissions) == 0 {
			r.Permissions = nil // as SQLite's, which splits an empty list
		}
		out = append(out, r)
	}
	return out, dbErr(rows.Err())
}

// Roles lists a tenant's roles by id.
func (db *DB) Roles(ctx context.Context, tenantID int64) ([]store.Role, error) {
	return scanRoles(db.pool.Query(ctx, sqlRoles, tenantID))
}

// SetRolePermissions replaces a role's permissions. Returns
// store.ErrNotFound if the tenant has no such role, and an error for a
// permission that is not in store.Permissions.
func (db *DB) SetRolePermissions(ctx context.Context, tenantID, roleID int64, perms []string) error {
	for _, p := range perms {
		if !slices.Contains(store.Permissions, p) {
			return fmt.Errorf("postgres: unknown permission %q", p)
		}
	}
	perms = append([]string{}, perms...) // not nil: the column is NOT NULL
	return db.retry(ctx, func() error {
		return affectedOne(db.pool.Exec(ctx, sqlSetRolePerms, perms, tenantID, roleID))
	})
}

// RoleAssignments lists which users hold which roles in a tenant.
func (db *DB) RoleAssignments(ctx context.Context, tenantID int64) ([]store.RoleAssignment, error) {
	rows, err := db.pool.Query(ctx, sqlRoleAssignments, tenantID)
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

// UserRoles lists the roles a user holds, by id.
func (db *DB) UserRoles(ctx context.Context, tenantID int64, userID string) ([]store.Role, error) {
	return scanRoles(db.pool.Query(ctx, sqlUserRoles, tenantID, userID))
}

// SetUserRoles replaces the roles a user holds. Returns store.ErrNotFound,
// changing nothing, if a role is not the tenant's. It runs SERIALIZABLE (see
// above), and is retried when it loses to a concurrent change.
func (db *DB) SetUserRoles(ctx context.Context, tenantID int64, userID string, roleIDs []int64) error {
	ids := make([]int64, 0, len(roleIDs)) // not nil: NULL would match nothing
	for _, id := range roleIDs {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return db.tx(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable}, func(tx pgx.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, sqlCountRoles, tenantID, ids).Scan(&n); err != nil {
			return dbErr(err)
		}
		if n != len(ids) {
			return store.ErrNotFound
		}
		_, err := tx.Exec(ctx, sqlSetUserRoles, tenantID, userID, ids)
		return dbErr(err)
	})
}

const (
	sqlLockAPIKey   = "SELECT " + apiKeyCols + " FROM api_keys WHERE tenant_id = $1 AND id = $2 FOR NO KEY UPDATE"
	sqlUpdateAPIKey = "UPDATE api_keys SET name = $1, scope = $2, expires = $3 WHERE id = $4"
)

// UpdateAPIKey applies fn to a tenant's key, with its row locked inside a
// transaction, and stores its Name, Scope and Expires; the key returned is
// the one stored (fn's changes to other fields are not kept). Concurrent
// updates, revocations and rotations of one key through any instances
// queue on the lock. Returns store.ErrNotFound, or fn's error unchanged. fn
// may be called more than once (see DB.tx) and must not call the store.
func (db *DB) UpdateAPIKey(ctx context.Context, tenantID int64, id string, fn func(*store.APIKey) error) (store.APIKey, error) {
	var k store.APIKey
	err := db.tx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		cur, err := scanAPIKey(tx.QueryRow(ctx, sqlLockAPIKey, tenantID, id))
		if err != nil {
			return err
		}
		k = cur
		if err := fn(&k); err != nil {
			return err
		}
		if k.Scope != store.ScopeRead && k.Scope != store.ScopeWrite {
			return fmt.Errorf("postgres: invalid key scope %q", k.Scope)
		}
		if !storable(k.Name) {
			return errors.New("postgres: a key's name must be valid UTF-8 without NUL characters")
		}
		name, scope, expires := k.Name, k.Scope, fromOptNanos(optNanos(k.Expires))
		k = cur
		k.Name, k.Scope, k.Expires = name, scope, expires
		_, err = tx.Exec(ctx, sqlUpdateAPIKey, k.Name, k.Scope, optNanos(k.Expires), cur.ID)
		return dbErr(err)
	})
	if err != nil {
		return store.APIKey{}, err
	}
	return k, nil
}

const (
	activityCols = "id, tenant_id, at, request_id, key_id, client, user_agent, method, path, resource_type, resource_id, status, changes"
	// One statement for a batch of any size: each column is an array, all
	// unnested together, inserted in their order (so ids follow it).
	sqlAddActivity = `INSERT INTO activity (tenant_id, at, request_id, key_id, client, user_agent, method, path, resource_type, resource_id, status, changes)
	SELECT x.tenant_id, x.at, x.request_id, x.key_id, x.client, x.user_agent, x.method, x.path, x.resource_type, x.resource_id, x.status, x.changes
	FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::int[], $12::text[])
		WITH ORDINALITY AS x(tenant_id, at, request_id, key_id, client, user_agent, method, path, resource_type, resource_id, status, changes, ord)
	ORDER BY x.ord`
	// purgeChunk is how many records one DELETE of PurgeActivity removes.
	purgeChunk      = 1000
	sqlPurgeChunk   = "DELETE FROM activity WHERE id IN (SELECT id FROM activity WHERE at < $1 ORDER BY at LIMIT $2)"
	activityLimit   = 50   // ActivityLog's limit when the query has none
	activityMaxPage = 1000 // and the most it returns
)

// AddActivity stores activity records atomically, with one INSERT however
// many there are. Text that PostgreSQL cannot store (invalid UTF-8, NUL
// characters: a client's User-Agent or a request's path may have them) is
// stored with U+FFFD in their place, rather than failing the whole batch.
func (db *DB) AddActivity(ctx context.Context, as []store.Activity) error {
	if len(as) == 0 {
		return nil
	}
	n := len(as)
	tenant, at, status := make([]int64, n), make([]int64, n), make([]int32, n)
	requestID, keyID, client, userAgent, method, path, resType, resID, changes :=
		make([]string, n), make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, a := range as {
		tenant[i], at[i], status[i] = a.TenantID, nanos(a.Time), int32(a.Status)
		requestID[i], keyID[i], client[i], userAgent[i] = clean(a.RequestID), clean(a.KeyID), clean(a.Client), clean(a.UserAgent)
		method[i], path[i], resType[i], resID[i] = clean(a.Method), clean(a.Path), clean(a.ResourceType), clean(a.ResourceID)
		changes[i] = "[]"
		if a.Changes != nil {
			// json.Marshal writes valid UTF-8, and NUL as \u0000.
			b, err := json.Marshal(a.Changes)
			if err != nil {
				return err
			}
			changes[i] = string(b)
		}
	}
	return db.retry(ctx, func() error {
		_, err := db.pool.Exec(ctx, sqlAddActivity, tenant, at, requestID, keyID, client, userAgent,
			method, path, resType, resID, status, changes)
		return dbErr(err)
	})
}

// ActivityLog returns the tenant's activity matching q, newest first, and
// whether older records follow.
func (db *DB) ActivityLog(ctx context.Context, tenantID int64, q store.ActivityQuery) ([]store.Activity, bool, error) {
	where := []string{"tenant_id = ?"}
	args := []any{tenantID}
	add := func(cond string, v any) {
		where = append(where, cond)
		args = append(args, v)
	}
	// Filter values are cleaned as the records were (see AddActivity).
	if q.ResourceType != "" {
		add("resource_type = ?", clean(q.ResourceType))
	}
	if q.ResourceID != "" {
		add("resource_id = ?", clean(q.ResourceID))
	}
	if q.KeyID != "" {
		add("key_id = ?", clean(q.KeyID))
	}
	if q.Client != "" {
		add("client = ?", clean(q.Client))
	}
	if q.Method != "" {
		add("method = ?", clean(q.Method))
	}
	if q.Failed {
		where = append(where, "status >= 400")
	}
	if q.Text != "" {
		add("strpos(path, ?) > 0", clean(q.Text))
	}
	if q.Before > 0 {
		add("id < ?", q.Before)
	}
	limit := q.Limit
	if limit <= 0 || limit > activityMaxPage {
		limit = activityLimit
	}
	args = append(args, limit+1)
	sql, err := bind("SELECT "+activityCols+" FROM activity WHERE "+strings.Join(where, " AND ")+" ORDER BY id DESC LIMIT ?", len(args))
	if err != nil {
		return nil, false, err
	}
	rows, err := db.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, false, dbErr(err)
	}
	defer rows.Close()
	var out []store.Activity
	for rows.Next() {
		var a store.Activity
		var t int64
		var changes string
		if err := rows.Scan(&a.ID, &a.TenantID, &t, &a.RequestID, &a.KeyID, &a.Client, &a.UserAgent, &a.Method, &a.Path,
			&a.ResourceType, &a.ResourceID, &a.Status, &changes); err != nil {
			return nil, false, dbErr(err)
		}
		a.Time = fromNanos(t)
		if err := json.Unmarshal([]byte(changes), &a.Changes); err != nil {
			return nil, false, fmt.Errorf("postgres: activity %d: corrupt changes: %w", a.ID, err)
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

// PurgeActivity deletes the records of every tenant older than before, in
// chunks of purgeChunk, each its own statement, so that no transaction holds
// many locks for long. Several instances may purge at once: each deletes
// what the others have not.
func (db *DB) PurgeActivity(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		var n int64
		err := db.retry(ctx, func() error {
			tag, err := db.pool.Exec(ctx, sqlPurgeChunk, nanos(before), purgeChunk)
			n = tag.RowsAffected()
			return dbErr(err)
		})
		total += n
		if err != nil || n < purgeChunk {
			return total, err
		}
	}
}

const (
	sqlThrottle = "SELECT failures, last_failure, locked_until FROM signin_throttle WHERE key = $1"
	// sqlLockThrottle returns key's record with its row locked, creating an
	// empty one first if there is none: concurrent updates of a key that
	// had no record queue like the others.
	sqlLockThrottle = `INSERT INTO signin_throttle (key, failures) VALUES ($1, 0)
	ON CONFLICT (key) DO UPDATE SET failures = signin_throttle.failures
	RETURNING failures, last_failure, locked_until`
	sqlUpdateThrottle = "UPDATE signin_throttle SET failures = $2, last_failure = $3, locked_until = $4 WHERE key = $1"
	sqlClearThrottle  = "DELETE FROM signin_throttle WHERE key = $1"
)

func scanThrottle(row pgx.Row, key string) (store.Throttle, error) {
	t := store.Throttle{Key: key}
	var last, locked *int64
	if err := row.Scan(&t.Failures, &last, &locked); err != nil {
		return t, dbErr(err)
	}
	t.Last, t.LockedUntil = fromOptNanos(last), fromOptNanos(locked)
	return t, nil
}

// Throttle returns key's sign-in failures (zero if none). Keys are stored
// as bytes: any string is a key.
func (db *DB) Throttle(ctx context.Context, key string) (store.Throttle, error) {
	t, err := scanThrottle(db.pool.QueryRow(ctx, sqlThrottle, []byte(key)), key)
	if errors.Is(err, store.ErrNotFound) {
		return store.Throttle{Key: key}, nil
	}
	return t, err
}

// UpdateThrottle applies fn to key's record, with its row locked inside a
// transaction, and stores it: concurrent failures of one key through any
// instances are all counted. fn may be called more than once (see DB.tx).
func (db *DB) UpdateThrottle(ctx context.Context, key string, fn func(*store.Throttle)) (store.Throttle, error) {
	var t store.Throttle
	err := db.tx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		cur, err := scanThrottle(tx.QueryRow(ctx, sqlLockThrottle, []byte(key)), key)
		if err != nil {
			return err
		}
		t = cur
		fn(&t)
		t.Key = key
		t.Last, t.LockedUntil = fromOptNanos(optNanos(t.Last)), fromOptNanos(optNanos(t.LockedUntil))
		_, err = tx.Exec(ctx, sqlUpdateThrottle, []byte(key), t.Failures, optNanos(t.Last), optNanos(t.LockedUntil))
		return dbErr(err)
	})
	if err != nil {
		return store.Throttle{Key: key}, err
	}
	return t, nil
}

// ClearThrottle forgets key's failures.
func (db *DB) ClearThrottle(ctx context.Context, key string) error {
	return db.retry(ctx, func() error {
		_, err := db.pool.Exec(ctx, sqlClearThrottle, []byte(key))
		return dbErr(err)
	})
}
