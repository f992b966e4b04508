package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/scimd/scimd/internal/scim"
	"github.com/scimd/scimd/internal/store"
)

var _ store.ConsoleStore = (*Store)(nil)

// The console's storage: operators, sessions, roles and their assignments,
// key changes, provisioning activity and sign-in throttling (the tables of
// each backend's 0003_console.sql, brought to one shape by SQLite's
// 0005_console.sql and PostgreSQL's 0004_console.sql). On SQLite every
// write runs in the single writer; several instances sharing one
// PostgreSQL database get the same guarantees from the database itself:
//
//   - Uniqueness (operators' folded e-mail addresses, session ids, role
//     names, a restored user's userName) is unique indexes; a violation is
//     store.ErrConflict.
//   - The read-modify-writes lock their row inside the transaction:
//     UpdateAPIKey reads the key FOR NO KEY UPDATE, UpdateThrottle runs an
//     upsert that creates the key's row if need be and returns it locked, so
//     that concurrent failed sign-ins through any instances are all counted.
//     (RestoreUser, in users.go, locks the archived row.)
//   - SetUserRoles replaces a set of rows that has no row of its own to
//     lock, so it runs SERIALIZABLE: two concurrent replacements of one
//     user's roles cannot end with their union; the loser is retried.
//   - AddActivity writes a batch in one transaction (atomic, and on
//     PostgreSQL one round trip: its INSERTs are queued with the commit).
//     Activity ids are increasing within a batch, in the order of its
//     records, and between batches in the order they were inserted; but on
//     PostgreSQL a batch may commit after one with higher ids, so a page
//     read meanwhile (paging by id) can miss its records until it is read
//     again.
//   - The last-Owner rule is the console's (a read of RoleAssignments, then
//     SetUserRoles), not the store's.
//
// Text that PostgreSQL cannot store (NUL characters, invalid UTF-8) may
// come from a sign-in form or a request's headers: lookups by it find
// nothing, activity stores it cleaned (see clean), throttle keys are stored
// as bytes. Both backends do the same.
//
// Every function passed to Write may run more than once (a PostgreSQL
// transaction that lost a race is retried); the fn of UpdateAPIKey and
// UpdateThrottle may therefore be called more than once, each time with the
// record as it is then.

// clean returns s with invalid UTF-8 and NUL characters replaced by
// U+FFFD, so that it can be stored in a text column.
func clean(s string) string {
	if storable(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// placeholders returns n copies of p separated by commas: "?, ?, ?".
func placeholders(n int, p string) string {
	return strings.TrimSuffix(strings.Repeat(p+", ", n), ", ")
}

const (
	operatorCols       = "id, email, password_hash, created"
	sqlInsertOperator  = "INSERT INTO operators (email, email_fold, password_hash, created) VALUES (?, ?, ?, ?) RETURNING id"
	sqlOperatorByEmail = "SELECT " + operatorCols + " FROM operators WHERE email_fold = ?"
	sqlOperatorByID    = "SELECT " + operatorCols + " FROM operators WHERE id = ?"
)

func scanOperator(row Row) (store.Operator, error) {
	var op store.Operator
	var created int64
	if err := row.Scan(&op.ID, &op.Email, &op.PasswordHash, &created); err != nil {
		return store.Operator{}, err
	}
	op.Created = fromNanos(created)
	return op, nil
}

// CreateOperator stores an operator. Returns store.ErrConflict if the
// e-mail address (compared under scim.Fold) is taken.
func (s *Store) CreateOperator(ctx context.Context, email, passwordHash string, at time.Time) (store.Operator, error) {
	if !storable(email) || !storable(passwordHash) {
		return store.Operator{}, fmt.Errorf("%s: an operator's e-mail address and password hash must be valid UTF-8 without NUL characters", s.d.Name())
	}
	op := store.Operator{Email: email, PasswordHash: passwordHash, Created: fromNanos(nanos(at))}
	err := s.write(ctx, func(ctx context.Context, q Querier) error {
		return q.QueryRow(ctx, sqlInsertOperator, email, scim.Fold(email), passwordHash, nanos(at)).Scan(&op.ID)
	})
	if err != nil {
		return store.Operator{}, err
	}
	return op, nil
}

// OperatorByEmail returns an operator, or store.ErrNotFound.
func (s *Store) OperatorByEmail(ctx context.Context, email string) (store.Operator, error) {
	fold := scim.Fold(email)
	if !storable(fold) { // what a sign-in form was given; no stored address matches
		return store.Operator{}, store.ErrNotFound
	}
	return scanOperator(s.q.QueryRow(ctx, sqlOperatorByEmail, fold))
}

// OperatorByID returns an operator, or store.ErrNotFound.
func (s *Store) OperatorByID(ctx context.Context, id int64) (store.Operator, error) {
	return scanOperator(s.q.QueryRow(ctx, sqlOperatorByID, id))
}

// Operators lists the operators by e-mail address.
func (s *Store) Operators(ctx context.Context) ([]store.Operator, error) {
	rows, err := s.q.Query(ctx, "SELECT "+operatorCols+" FROM operators ORDER BY email_fold")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Operator
	for rows.Next() {
		op, err := scanOperator(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, op)
	}
	return out, rows.Err()
}

// DeleteOperator removes an operator and their sessions. Returns
// store.ErrNotFound.
func (s *Store) DeleteOperator(ctx context.Context, email string) error {
	fold := scim.Fold(email)
	if !storable(fold) {
		return store.ErrNotFound
	}
	return s.write(ctx, func(ctx context.Context, q Querier) error {
		var id int64
		if err := q.QueryRow(ctx, "SELECT id FROM operators WHERE email_fold = ?", fold).Scan(&id); err != nil {
			return err
		}
		q.Queue(ctx, "DELETE FROM console_sessions WHERE operator_id = ?", id)
		q.Queue(ctx, "DELETE FROM operators WHERE id = ?", id)
		return nil
	})
}

const (
	sqlInsertSession = "INSERT INTO console_sessions (id_hash, tenant_id, user_id, operator_id, csrf, created, last_seen, expires) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
	sqlSession       = "SELECT tenant_id, user_id, operator_id, csrf, created, last_seen, expires FROM console_sessions WHERE id_hash = ?"
	sqlDeleteSession = "DELETE FROM console_sessions WHERE id_hash = ?"
	sqlDeleteUserSes = "DELETE FROM console_sessions WHERE tenant_id = ? AND user_id = ?"
	sqlDeleteExpired = "DELETE FROM console_sessions WHERE expires <= ? OR last_seen < ?"
)

// CreateSession stores ss. Returns store.ErrConflict if its id hash exists.
func (s *Store) CreateSession(ctx context.Context, ss store.Session) error {
	return s.write(ctx, func(ctx context.Context, q Querier) error {
		q.Queue(ctx, sqlInsertSession, ss.IDHash, ss.TenantID, ss.UserID, ss.OperatorID, ss.CSRF,
			nanos(ss.Created), nanos(ss.LastSeen), nanos(ss.Expires))
		return nil
	})
}

// Session returns a session by the hash of its id, or store.ErrNotFound.
// Expired sessions are returned too.
func (s *Store) Session(ctx context.Context, idHash []byte) (store.Session, error) {
	ss := store.Session{IDHash: idHash}
	var created, seen, expires int64
	err := s.q.QueryRow(ctx, sqlSession, idHash).Scan(&ss.TenantID, &ss.UserID, &ss.OperatorID, &ss.CSRF, &created, &seen, &expires)
	if err != nil {
		return store.Session{}, err
	}
	ss.Created, ss.LastSeen, ss.Expires = fromNanos(created), fromNanos(seen), fromNanos(expires)
	return ss, nil
}

// TouchSession records that the session was used at time at (its last-seen
// time never moves backwards). A session that is gone is no error.
func (s *Store) TouchSession(ctx context.Context, idHash []byte, at time.Time) error {
	touch := "UPDATE console_sessions SET last_seen = " + s.d.Greatest() + "(last_seen, ?) WHERE id_hash = ?"
	return s.write(ctx, func(ctx context.Context, q Querier) error {
		q.Queue(ctx, touch, nanos(at), idHash)
		return nil
	})
}

// DeleteSession removes a session; one that is gone is no error.
func (s *Store) DeleteSession(ctx context.Context, idHash []byte) error {
	return s.write(ctx, func(ctx context.Context, q Querier) error {
		q.Queue(ctx, sqlDeleteSession, idHash)
		return nil
	})
}

// DeleteUserSessions ends every session of a tenant user.
func (s *Store) DeleteUserSessions(ctx context.Context, tenantID int64, userID string) error {
	return s.write(ctx, func(ctx context.Context, q Querier) error {
		q.Queue(ctx, sqlDeleteUserSes, tenantID, userID)
		return nil
	})
}

// DeleteExpiredSessions removes the sessions past their absolute expiry or
// idle since before idleBefore, and returns how many it removed.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now, idleBefore time.Time) (int64, error) {
	var n int64
	err := s.write(ctx, func(ctx context.Context, q Querier) error {
		var err error
		n, err = q.Exec(ctx, sqlDeleteExpired, nanos(now), nanos(idleBefore))
		q.Queue(ctx, sqlDeleteExpiredReveals, nanos(now)) // those of live sessions
		return err
	})
	return n, err
}

// Roles keep their permissions as one text of permission names separated
// by spaces (the names have none).
const (
	roleCols           = "roles.id, roles.tenant_id, roles.name, roles.permissions"
	sqlRoleNames       = "SELECT name FROM roles WHERE tenant_id = ?"
	sqlRoles           = "SELECT " + roleCols + " FROM roles WHERE tenant_id = ? ORDER BY id"
	sqlSetRolePerms    = "UPDATE roles SET permissions = ? WHERE tenant_id = ? AND id = ?"
	sqlRoleAssignments = "SELECT user_id, role_id FROM user_roles WHERE tenant_id = ? ORDER BY user_id, role_id"
	sqlUserRoles       = "SELECT " + roleCols + " FROM user_roles JOIN roles ON roles.id = user_roles.role_id WHERE user_roles.tenant_id = ? AND user_roles.user_id = ? ORDER BY roles.id"
)

// defaultRoleOrder is the order in which EnsureDefaultRoles creates the
// default roles, and so the order of their ids.
var defaultRoleOrder = []string{store.RoleOwner, store.RoleAdmin, store.RoleMember}

// EnsureDefaultRoles creates the default roles the tenant lacks. It only
// reads when the tenant has them all (the console calls it often);
// concurrent calls through several instances create each role once (its
// unique name index decides). Returns store.ErrNotFound if the tenant does
// not exist.
func (s *Store) EnsureDefaultRoles(ctx context.Context, tenantID int64) error {
	have, err := s.roleNames(ctx, tenantID)
	if err != nil {
		return err
	}
	var args []any
	for _, name := range defaultRoleOrder {
		if !slices.Contains(have, name) {
			args = append(args, tenantID, name, strings.Join(store.DefaultRoles[name], " "))
		}
	}
	if len(args) == 0 {
		return nil
	}
	insert := "INSERT INTO roles (tenant_id, name, permissions) VALUES " + placeholders(len(args)/3, "(?, ?, ?)") +
		" ON CONFLICT (tenant_id, name) DO NOTHING"
	return s.write(ctx, func(ctx context.Context, q Querier) error {
		q.Queue(ctx, insert, args...)
		return nil
	})
}

// roleNames lists the names of a tenant's roles.
func (s *Store) roleNames(ctx context.Context, tenantID int64) ([]string, error) {
	return s.ids(ctx, s.q, sqlRoleNames, tenantID)
}

func scanRoles(rows Rows, err error) ([]store.Role, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Role
	for rows.Next() {
		var r store.Role
		var perms string
		if err := rows.Scan(&r.ID, &r.TenantID, &r.Name, &perms); err != nil {
			return nil, err
		}
		if r.Permissions = strings.Fields(perms); len(r.Permissions) == 0 {
			r.Permissions = nil
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Roles lists a tenant's roles by id.
func (s *Store) Roles(ctx context.Context, tenantID int64) ([]store.Role, error) {
	return scanRoles(s.q.Query(ctx, sqlRoles, tenantID))
}

// SetRolePermissions replaces a role's permissions. Returns
// store.ErrNotFound if the tenant has no such role, and an error for a
// permission that is not in store.Permissions.
func (s *Store) SetRolePermissions(ctx context.Context, tenantID, roleID int64, perms []string) error {
	for _, p := range perms {
		if !slices.Contains(store.Permissions, p) {
			return fmt.Errorf("%s: unknown permission %q", s.d.Name(), p)
		}
	}
	joined := strings.Join(perms, " ")
	return s.write(ctx, func(ctx context.Context, q Querier) error {
		return affectedOne(q.Exec(ctx, sqlSetRolePerms, joined, tenantID, roleID))
	})
}

// RoleAssignments lists which users hold which roles in a tenant.
func (s *Store) RoleAssignments(ctx context.Context, tenantID int64) ([]store.RoleAssignment, error) {
	rows, err := s.q.Query(ctx, sqlRoleAssignments, tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.RoleAssignment
	for rows.Next() {
		var a store.RoleAssignment
		if err := rows.Scan(&a.UserID, &a.RoleID); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// UserRoles lists the roles a user holds, by id.
func (s *Store) UserRoles(ctx context.Context, tenantID int64, userID string) ([]store.Role, error) {
	return scanRoles(s.q.Query(ctx, sqlUserRoles, tenantID, userID))
}

// SetUserRoles replaces the roles a user holds. Returns store.ErrNotFound,
// changing nothing, if a role is not the tenant's. It deletes only the
// assignments not in roleIDs and adds only those missing. It runs
// SERIALIZABLE (see above), and is retried when it loses to a concurrent
// change.
func (s *Store) SetUserRoles(ctx context.Context, tenantID int64, userID string, roleIDs []int64) error {
	var ids []any // the role ids, each once
	for _, id := range roleIDs {
		if !slices.Contains(ids, any(id)) {
			ids = append(ids, id)
		}
	}
	del := "DELETE FROM user_roles WHERE tenant_id = ? AND user_id = ?"
	// SERIALIZABLE: two changes that each leave one Owner cannot both
	// commit (PostgreSQL aborts one, which runs again and sees the other).
	serializable := TxOptions{Serializable: true}
	if len(ids) == 0 {
		return s.b.Write(ctx, serializable, func(ctx context.Context, q Querier) error {
			before, err := s.owners(ctx, q, tenantID)
			if err != nil {
				return err
			}
			q.Queue(ctx, del, tenantID, userID)
			return s.keepOwner(ctx, q, tenantID, before)
		})
	}
	in := placeholders(len(ids), "?")
	check := "SELECT count(*) FROM roles WHERE tenant_id = ? AND id IN (" + in + ")"
	checkArgs := append([]any{tenantID}, ids...)
	del += " AND role_id NOT IN (" + in + ")"
	delArgs := append([]any{tenantID, userID}, ids...)
	insert := "INSERT INTO user_roles (tenant_id, user_id, role_id) VALUES " + placeholders(len(ids), "(?, ?, ?)") +
		" ON CONFLICT (tenant_id, user_id, role_id) DO NOTHING"
	var insArgs []any
	for _, id := range ids {
		insArgs = append(insArgs, tenantID, userID, id)
	}
	return s.b.Write(ctx, serializable, func(ctx context.Context, q Querier) error {
		var n int
		if err := q.QueryRow(ctx, check, checkArgs...).Scan(&n); err != nil {
			return err
		}
		if n != len(ids) {
			return store.ErrNotFound
		}
		before, err := s.owners(ctx, q, tenantID)
		if err != nil {
			return err
		}
		q.Queue(ctx, del, delArgs...)
		q.Queue(ctx, insert, insArgs...)
		return s.keepOwner(ctx, q, tenantID, before)
	})
}

// owners counts the tenant's users holding the Owner role.
func (s *Store) owners(ctx context.Context, q Querier, tenantID int64) (int64, error) {
	var n int64
	err := q.QueryRow(ctx, "SELECT count(*) FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.tenant_id = ? AND r.tenant_id = ? AND r.name = ?",
		tenantID, tenantID, store.RoleOwner).Scan(&n)
	return n, err
}

// keepOwner returns store.ErrLastOwner when the tenant had Owners
// (before) and has none now.
func (s *Store) keepOwner(ctx context.Context, q Querier, tenantID, before int64) error {
	if before == 0 {
		return nil
	}
	after, err := s.owners(ctx, q, tenantID)
	if err != nil {
		return err
	}
	if after == 0 {
		return store.ErrLastOwner
	}
	return nil
}

const sqlUpdateAPIKey = "UPDATE api_keys SET name = ?, name_fold = ?, scope = ?, expires = ? WHERE id = ?"

// UpdateAPIKey applies fn to a tenant's key, with its row locked inside a
// transaction, and stores its Name, Scope and Expires (a new name must not
// be another live key's: store.ErrKeyNameTaken); the key returned is
// the one stored (fn's changes to other fields are not kept). Concurrent
// updates, revocations and rotations of one key through any instances
// queue on the lock. Returns store.ErrNotFound, or fn's error unchanged. fn
// may be called more than once and must not call the store.
func (s *Store) UpdateAPIKey(ctx context.Context, tenantID int64, id string, fn func(*store.APIKey) error) (store.APIKey, error) {
	var k store.APIKey
	err := s.write(ctx, func(ctx context.Context, q Querier) error {
		cur, err := s.lockAPIKey(ctx, q, tenantID, id)
		if err != nil {
			return err
		}
		k = cur
		if err := fn(&k); err != nil {
			return err
		}
		if k.Scope != store.ScopeRead && k.Scope != store.ScopeWrite {
			return fmt.Errorf("%s: invalid key scope %q", s.d.Name(), k.Scope)
		}
		if !storable(k.Name) {
			return fmt.Errorf("%s: a key's name must be valid UTF-8 without NUL characters", s.d.Name())
		}
		name, scope, expires := k.Name, k.Scope, storedTime(k.Expires)
		k = cur
		k.Name, k.Scope, k.Expires = name, scope, expires
		if cur.Revoked.IsZero() && cur.SuccessorID == "" && scim.Fold(name) != scim.Fold(cur.Name) {
			if err := checkKeyName(ctx, q, tenantID, id, name); err != nil {
				return err
			}
		}
		q.Queue(ctx, sqlUpdateAPIKey, k.Name, scim.Fold(k.Name), k.Scope, optNanos(k.Expires), cur.ID)
		return nil
	})
	if err != nil {
		return store.APIKey{}, err
	}
	return k, nil
}

// storedTime is t as the store reads back an optional time: in UTC, zero
// when unset.
func storedTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return fromNanos(nanos(t))
}
