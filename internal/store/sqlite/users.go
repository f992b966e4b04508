package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/scimd/scimd/internal/scim"
	"github.com/scimd/scimd/internal/store"
)

// userCols are the columns scanUser reads. The document is stored as
// JSONB (SQLite's binary JSON, which json_extract reads several times
// faster than text) and read back as text.
const userCols = "users.seq, users.id, users.version, users.created, users.modified, json(users.doc), users.password_hash"

const (
	sqlUserByID     = "SELECT " + userCols + " FROM users WHERE users.tenant_id = ? AND users.id = ?"
	sqlInsertUser   = "INSERT INTO users (tenant_id, id, version, created, modified, user_name, user_name_fold, external_id, display_name_fold, active, doc, password_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, jsonb(?), ?)"
	sqlUpdateUser   = "UPDATE users SET version = ?, modified = ?, user_name = ?, user_name_fold = ?, external_id = ?, display_name_fold = ?, active = ?, doc = jsonb(?), password_hash = ? WHERE seq = ?"
	sqlInsertEmail  = "INSERT INTO user_emails (user_seq, pos, tenant_id, value, value_fold, type, display, is_primary) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
	sqlDeleteEmails = "DELETE FROM user_emails WHERE user_seq = ?"
	sqlArchiveUser  = "INSERT INTO archived_users (seq, tenant_id, id, version, created, modified, deleted, user_name, external_id, doc, password_hash) SELECT seq, tenant_id, id, version, created, modified, ?, user_name, external_id, doc, password_hash FROM users WHERE tenant_id = ? AND id = ?"
	sqlDeleteUser   = "DELETE FROM users WHERE tenant_id = ? AND id = ?"
	sqlPurgeUser    = "DELETE FROM archived_users WHERE tenant_id = ? AND id = ?"
)

// scanUser reads the columns userCols names.
func scanUser(row interface{ Scan(...any) error }) (store.User, int64, error) {
	var u store.User
	var seq, created, modified int64
	var doc []byte
	if err := row.Scan(&seq, &u.ID, &u.Version, &created, &modified, &doc, &u.PasswordHash); err != nil {
		return store.User{}, 0, dbErr(err)
	}
	u.Created = fromNanos(created)
	u.Modified = fromNanos(modified)
	if err := json.Unmarshal(doc, &u.Attrs); err != nil {
		return store.User{}, 0, fmt.Errorf("sqlite: user %s: corrupt document: %w", u.ID, err)
	}
	if u.Attrs == nil {
		u.Attrs = map[string]any{}
	}
	return u, seq, nil
}

// hot holds the columns derived from a user's attributes.
type hot struct {
	doc             []byte
	userName        string
	userNameFold    string
	externalID      any // string or nil
	displayNameFold any // string or nil
	active          bool
	emails          []emailRow
}

// emailRow is one user_emails row; nil fields are NULL.
type emailRow struct {
	value, valueFold, typ, display, primary any
}

// derive computes a user's document and hot columns from its attributes.
// It is the only place that knows how Attrs map to columns; CreateUser and
// UpdateUser both use it.
func derive(attrs map[string]any) (hot, error) {
	var h hot
	if attrs == nil {
		attrs = map[string]any{}
	}
	doc, err := json.Marshal(attrs)
	if err != nil {
		return h, fmt.Errorf("sqlite: encode user: %w", err)
	}
	h.doc = doc
	un, _ := attrs["userName"].(string)
	if un == "" {
		return h, errors.New("sqlite: user has no userName")
	}
	h.userName, h.userNameFold = un, scim.Fold(un)
	if s, ok := attrs["externalId"].(string); ok {
		h.externalID = s
	}
	if s, ok := attrs["displayName"].(string); ok {
		h.displayNameFold = scim.Fold(s)
	}
	h.active = true
	switch v := attrs["active"].(type) {
	case nil:
	case bool:
		h.active = v
	default:
		return h, fmt.Errorf("sqlite: user %q: active is %T, not a boolean", un, v)
	}
	h.emails = emailRows(attrs)
	return h, nil
}

// emailRows derives the user_emails rows from a user's attributes.
func emailRows(attrs map[string]any) []emailRow {
	var rows []emailRow
	for _, e := range elements(attrs["emails"]) {
		var r emailRow
		if s, ok := e["value"].(string); ok {
			r.value, r.valueFold = s, scim.Fold(s)
		}
		if s, ok := e["type"].(string); ok {
			r.typ = s
		}
		if s, ok := e["display"].(string); ok {
			r.display = s
		}
		if b, ok := e["primary"].(bool); ok {
			r.primary = boolInt(b)
		}
		rows = append(rows, r)
	}
	return rows
}

// elements returns the complex values of a multi-valued attribute, in
// order; elements that are not objects are skipped. It accepts the shapes
// callers build ([]map[string]any) and the shape JSON decodes to ([]any).
func elements(v any) []map[string]any {
	switch v := v.(type) {
	case []map[string]any:
		return v
	case []any:
		out := make([]map[string]any, 0, len(v))
		for _, e := range v {
			if m, ok := e.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	}
	return nil
}

func (db *DB) insertEmails(ctx context.Context, tx *sql.Tx, tenantID, seq int64, emails []emailRow) error {
	for i, e := range emails {
		_, err := db.ws.exec(ctx, tx, sqlInsertEmail, seq, i, tenantID, e.value, e.valueFold, e.typ, e.display, e.primary)
		if err != nil {
			return dbErr(err)
		}
	}
	return nil
}

// CreateUser stores a new user with Version 1. Returns store.ErrConflict if
// another live user of the tenant has the same folded userName, and
// store.ErrNotFound if the tenant does not exist.
func (db *DB) CreateUser(ctx context.Context, tenantID int64, u store.User) (store.User, error) {
	h, err := derive(u.Attrs)
	if err != nil {
		return store.User{}, err
	}
	u.Version = 1
	u.Created = fromNanos(nanos(u.Created))
	u.Modified = fromNanos(nanos(u.Modified))
	err = db.writeTx(ctx, func(ctx context.Context, tx *sql.Tx) error { return db.insertUser(ctx, tx, tenantID, &u, &h) })
	if err != nil {
		return store.User{}, err
	}
	return u, nil
}

// insertUser inserts u, whose hot columns are h, and its e-mail rows.
func (db *DB) insertUser(ctx context.Context, tx *sql.Tx, tenantID int64, u *store.User, h *hot) error {
	res, err := db.ws.exec(ctx, tx, sqlInsertUser,
		tenantID, u.ID, u.Version, nanos(u.Created), nanos(u.Modified), h.userName, h.userNameFold,
		h.externalID, h.displayNameFold, h.active, string(h.doc), u.PasswordHash)
	if err != nil {
		return dbErr(err)
	}
	seq, err := res.LastInsertId()
	if err != nil {
		return dbErr(err)
	}
	return db.insertEmails(ctx, tx, tenantID, seq, h.emails)
}

// User returns a live user, or store.ErrNotFound.
func (db *DB) User(ctx context.Context, tenantID int64, id string) (store.User, error) {
	u, _, err := scanUser(db.rs.queryRow(ctx, nil, sqlUserByID, tenantID, id))
	return u, err
}

// UpdateUser reads the user and calls fn with it inside one write
// transaction, then stores what fn left (Attrs, PasswordHash, Modified) with
// Version incremented. fn's error aborts the update and is returned
// unchanged. Returns store.ErrNotFound, or store.ErrConflict if the new
// userName is taken.
//
// fn runs while the database's single write connection is held: it must be
// quick (no password hashing) and must not call the store.
func (db *DB) UpdateUser(ctx context.Context, tenantID int64, id string, fn func(*store.User) error) (store.User, error) {
	var u store.User
	err := db.writeTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		cur, seq, err := scanUser(db.ws.queryRow(ctx, tx, sqlUserByID, tenantID, id))
		if err != nil {
			return err
		}
		oldEmails := emailRows(cur.Attrs)
		u = cur
		if err := fn(&u); err != nil {
			return err
		}
		u.ID, u.Created, u.Version = cur.ID, cur.Created, cur.Version+1
		u.Modified = fromNanos(nanos(u.Modified))
		h, err := derive(u.Attrs)
		if err != nil {
			return err
		}
		_, err = db.ws.exec(ctx, tx, sqlUpdateUser,
			u.Version, nanos(u.Modified), h.userName, h.userNameFold,
			h.externalID, h.displayNameFold, h.active, string(h.doc), u.PasswordHash, seq)
		if err != nil {
			return dbErr(err)
		}
		if slices.Equal(oldEmails, h.emails) {
			return nil
		}
		if _, err := db.ws.exec(ctx, tx, sqlDeleteEmails, seq); err != nil {
			return dbErr(err)
		}
		return db.insertEmails(ctx, tx, tenantID, seq, h.emails)
	})
	if err != nil {
		return store.User{}, err
	}
	return u, nil
}

// DeleteUser removes a live user from SCIM. With archive its record moves
// to archived_users (its userName is free again) until PurgeUser; otherwise
// it is destroyed. Either way the user leaves every group it was a member
// of (those groups get a new version): an archived user is a member of
// nothing, and restoring one would not restore its memberships. Returns
// store.ErrNotFound.
func (db *DB) DeleteUser(ctx context.Context, tenantID int64, id string, archive bool) error {
	return db.DeleteUserIf(ctx, tenantID, id, archive, nil)
}

// DeleteUserIf is DeleteUser guarded by check (see store.Store).
func (db *DB) DeleteUserIf(ctx context.Context, tenantID int64, id string, archive bool, check func(int64) error) error {
	return db.writeTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := db.checkVersion(ctx, tx, "users", tenantID, id, check); err != nil {
			return err
		}
		if archive {
			if _, err := db.ws.exec(ctx, tx, sqlArchiveUser, nanos(db.now()), tenantID, id); err != nil {
				return dbErr(err)
			}
		}
		if err := affectedOne(db.ws.exec(ctx, tx, sqlDeleteUser, tenantID, id)); err != nil {
			return err
		}
		return db.deleteMemberships(ctx, tx, tenantID, id, store.MemberUser)
	})
}

// PurgeUser destroys a user's record, live or archived, and, for a live
// user, its memberships. Returns store.ErrNotFound if neither exists.
func (db *DB) PurgeUser(ctx context.Context, tenantID int64, id string) error {
	return db.writeTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := db.ws.exec(ctx, tx, sqlDeleteUser, tenantID, id)
		if err != nil {
			return dbErr(err)
		}
		live, err := res.RowsAffected()
		if err != nil {
			return dbErr(err)
		}
		res, err = db.ws.exec(ctx, tx, sqlPurgeUser, tenantID, id)
		if err != nil {
			return dbErr(err)
		}
		archived, err := res.RowsAffected()
		if err != nil {
			return dbErr(err)
		}
		if live+archived == 0 {
			return store.ErrNotFound
		}
		if live > 0 {
			return db.deleteMemberships(ctx, tx, tenantID, id, store.MemberUser)
		}
		return nil
	})
}

// usersList is how ListUsers reads users.
var usersList = &lister{res: usersRes, cols: userCols, countSQL: sqlTenantUserCnt}

// ListUsers returns the live users of the tenant that match q, ordered by
// q.SortBy and then by creation, with the exact number that matched. The
// page and the count come from one read transaction, so they agree. With
// q.Cursor the page follows q.After (keyset paging, see list). Returns a
// *store.FilterError for a filter or sort it cannot apply, or a cursor
// whose key does not fit the sort.
func (db *DB) ListUsers(ctx context.Context, tenantID int64, q store.Query) (store.UserPage, error) {
	var page store.UserPage
	if q.Count > 0 {
		page.Users = make([]store.User, 0, min(q.Count, 128))
	}
	total, next, err := db.list(ctx, usersList, tenantID, q, func(row scanner) (int64, error) {
		u, seq, err := scanUser(row)
		if err != nil {
			return 0, err
		}
		page.Users = append(page.Users, u)
		return seq, nil
	}, nil)
	if err != nil {
		return store.UserPage{}, err
	}
	page.Total, page.Next = total, next
	return page, nil
}

// checkVersion calls check with the current version of the row of table
// (users or groups) inside tx; nil check passes.
func (db *DB) checkVersion(ctx context.Context, tx *sql.Tx, table string, tenantID int64, id string, check func(int64) error) error {
	if check == nil {
		return nil
	}
	var v int64
	err := tx.QueryRowContext(ctx, "SELECT version FROM "+table+" WHERE tenant_id = ? AND id = ?", tenantID, id).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	if err != nil {
		return dbErr(err)
	}
	return check(v)
}
