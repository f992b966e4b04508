package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/scimd/scimd/internal/scim"
	"github.com/scimd/scimd/internal/store"
)

// userCols are the columns scanUser reads.
const userCols = "users.seq, users.id, users.version, users.created, users.modified, users.doc, users.password_hash"

// countSlots is the number of user_counts rows per tenant.
const countSlots = 16

// The statements that write users. Each is one statement, so one round trip
// and atomic on its own; the data-modifying CTEs keep the e-mail rows and
// the tenant's count in step with the users row.
const (
	sqlUserByID     = "SELECT " + userCols + " FROM users WHERE users.tenant_id = $1 AND users.id = $2"
	sqlLockUserByID = sqlUserByID + " FOR UPDATE"

	emailCols = "user_seq, pos, tenant_id, value, value_fold, type, type_fold, display, display_fold, is_primary"
	// emailsFrom are the user_emails rows in the arrays $4…$11 (see
	// emailRows.args), as x.
	emailsFrom = `unnest($4::int[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::bool[])
		AS x(pos, value, value_fold, type, type_fold, display, display_fold, is_primary)`

	// $1 tenant, $2 count slot, $3 id, $4…$11 emails, $12… the user.
	sqlInsertUser = `WITH u AS (
		INSERT INTO users (tenant_id, id, version, created, modified, user_name, user_name_fold, external_id, display_name_fold, active, doc, doc_fold, password_hash)
		VALUES ($1::bigint, $3::text, 1, $12::bigint, $13::bigint, $14::text, $15::text, $16::text, $17::text, $18::boolean, $19::jsonb, $20::jsonb, $21::text)
		RETURNING seq
	), e AS (
		INSERT INTO user_emails (` + emailCols + `)
		SELECT u.seq, x.pos, $1::bigint, x.value, x.value_fold, x.type, x.type_fold, x.display, x.display_fold, x.is_primary
		FROM u, ` + emailsFrom + `
	), c AS (
		INSERT INTO user_counts (tenant_id, slot, n) SELECT $1::bigint, $2::int, 1 FROM u
		ON CONFLICT (tenant_id, slot) DO UPDATE SET n = user_counts.n + 1
	)
	SELECT seq FROM u`

	// $1 seq, $2 version, … the new values.
	sqlUpdateUser = `UPDATE users SET version = $2, modified = $3, user_name = $4, user_name_fold = $5, external_id = $6,
		display_name_fold = $7, active = $8, doc = $9, doc_fold = $10, password_hash = $11 WHERE seq = $1`
	sqlDeleteEmails = "DELETE FROM user_emails WHERE user_seq = $1"
	// $1 seq, $2 tenant, $3…$10 emails (as in emailsFrom, one lower).
	sqlInsertEmails = `INSERT INTO user_emails (` + emailCols + `)
		SELECT $1::bigint, x.pos, $2::bigint, x.value, x.value_fold, x.type, x.type_fold, x.display, x.display_fold, x.is_primary
		FROM unnest($3::int[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::bool[])
		AS x(pos, value, value_fold, type, type_fold, display, display_fold, is_primary)`

	// $1 tenant, $2 id, $3 count slot, $4 archive, $5 deletion time.
	sqlDeleteUser = `WITH d AS (
		DELETE FROM users WHERE tenant_id = $1 AND id = $2
		RETURNING seq, tenant_id, id, version, created, modified, user_name, external_id, doc, password_hash
	), a AS (
		INSERT INTO archived_users (seq, tenant_id, id, version, created, modified, deleted, user_name, external_id, doc, password_hash)
		SELECT seq, tenant_id, id, version, created, modified, $5::bigint, user_name, external_id, doc, password_hash FROM d WHERE $4::boolean
	), c AS (
		INSERT INTO user_counts (tenant_id, slot, n) SELECT $1::bigint, $3::int, -1 FROM d
		ON CONFLICT (tenant_id, slot) DO UPDATE SET n = user_counts.n - 1
	)
	SELECT count(*) FROM d`

	// $1 tenant, $2 id, $3 count slot.
	sqlPurgeUser = `WITH d AS (
		DELETE FROM users WHERE tenant_id = $1 AND id = $2 RETURNING seq
	), c AS (
		INSERT INTO user_counts (tenant_id, slot, n) SELECT $1::bigint, $3::int, -1 FROM d
		ON CONFLICT (tenant_id, slot) DO UPDATE SET n = user_counts.n - 1
	), a AS (
		DELETE FROM archived_users WHERE tenant_id = $1 AND id = $2 RETURNING seq
	)
	SELECT (SELECT count(*) FROM d), (SELECT count(*) FROM a)`

	sqlTenantUserCount = "SELECT coalesce(sum(n), 0)::bigint FROM user_counts WHERE tenant_id = $1"
)

// scanUser reads the columns userCols names.
func scanUser(row pgx.Row) (store.User, int64, error) {
	var u store.User
	var seq, created, modified int64
	var doc []byte
	if err := row.Scan(&seq, &u.ID, &u.Version, &created, &modified, &doc, &u.PasswordHash); err != nil {
		return store.User{}, 0, dbErr(err)
	}
	u.Created = fromNanos(created)
	u.Modified = fromNanos(modified)
	if err := json.Unmarshal(doc, &u.Attrs); err != nil {
		return store.User{}, 0, fmt.Errorf("postgres: user %s: corrupt document: %w", u.ID, err)
	}
	if u.Attrs == nil {
		u.Attrs = map[string]any{}
	}
	return u, seq, nil
}

// hot holds the columns derived from a user's attributes.
type hot struct {
	doc, docFold    []byte
	userName        string
	userNameFold    string
	externalID      *string
	displayNameFold *string
	active          bool
	emails          emailRows
}

// emailRow is one user_emails row; nil fields are NULL.
type emailRow struct {
	value, valueFold, typ, typFold, display, displayFold *string
	primary                                              *bool
}

func (r emailRow) equal(o emailRow) bool {
	eq := func(a, b *string) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }
	return eq(r.value, o.value) && eq(r.typ, o.typ) && eq(r.display, o.display) &&
		(r.primary == nil && o.primary == nil || r.primary != nil && o.primary != nil && *r.primary == *o.primary)
}

type emailRows []emailRow

// args returns the rows as the arrays $4…$11 of emailsFrom.
func (rs emailRows) args() []any {
	pos := make([]int32, len(rs))
	var value, valueFold, typ, typFold, display, displayFold = make([]*string, len(rs)), make([]*string, len(rs)),
		make([]*string, len(rs)), make([]*string, len(rs)), make([]*string, len(rs)), make([]*string, len(rs))
	primary := make([]*bool, len(rs))
	for i, r := range rs {
		pos[i] = int32(i)
		value[i], valueFold[i], typ[i], typFold[i], display[i], displayFold[i] = r.value, r.valueFold, r.typ, r.typFold, r.display, r.displayFold
		primary[i] = r.primary
	}
	return []any{pos, value, valueFold, typ, typFold, display, displayFold, primary}
}

// derive computes a user's documents and hot columns from its attributes.
// It is the only place that knows how Attrs map to columns; CreateUser and
// UpdateUser both use it.
func derive(attrs map[string]any) (hot, error) {
	var h hot
	if attrs == nil {
		attrs = map[string]any{}
	}
	doc, err := json.Marshal(attrs)
	if err != nil {
		return h, fmt.Errorf("postgres: encode user: %w", err)
	}
	h.doc = doc
	var generic any
	if err := json.Unmarshal(doc, &generic); err != nil {
		return h, fmt.Errorf("postgres: encode user: %w", err)
	}
	if h.docFold, err = json.Marshal(foldStrings(generic)); err != nil {
		return h, fmt.Errorf("postgres: encode user: %w", err)
	}
	un, _ := attrs["userName"].(string)
	if un == "" {
		return h, errors.New("postgres: user has no userName")
	}
	h.userName, h.userNameFold = un, scim.Fold(un)
	if s, ok := attrs["externalId"].(string); ok {
		h.externalID = &s
	}
	if s, ok := attrs["displayName"].(string); ok {
		f := scim.Fold(s)
		h.displayNameFold = &f
	}
	h.active = true
	switch v := attrs["active"].(type) {
	case nil:
	case bool:
		h.active = v
	default:
		return h, fmt.Errorf("postgres: user %q: active is %T, not a boolean", un, v)
	}
	h.emails = emailRowsOf(attrs)
	return h, nil
}

// foldStrings returns v, a decoded JSON value, with every string (not the
// object keys) folded with scim.Fold. It changes v in place.
func foldStrings(v any) any {
	switch v := v.(type) {
	case string:
		return scim.Fold(v)
	case map[string]any:
		for k, e := range v {
			v[k] = foldStrings(e)
		}
	case []any:
		for i, e := range v {
			v[i] = foldStrings(e)
		}
	}
	return v
}

// emailRowsOf derives the user_emails rows from a user's attributes.
func emailRowsOf(attrs map[string]any) emailRows {
	var rows emailRows
	str := func(v any) (raw, fold *string) {
		if s, ok := v.(string); ok {
			f := scim.Fold(s)
			return &s, &f
		}
		return nil, nil
	}
	for _, e := range elements(attrs["emails"]) {
		var r emailRow
		r.value, r.valueFold = str(e["value"])
		r.typ, r.typFold = str(e["type"])
		r.display, r.displayFold = str(e["display"])
		if b, ok := e["primary"].(bool); ok {
			r.primary = &b
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

// CreateUser stores a new user with Version 1. Returns store.ErrConflict if
// another live user of the tenant has the same folded userName (the unique
// index decides, so concurrent creates through several instances cannot
// both succeed), and store.ErrNotFound if the tenant does not exist.
func (db *DB) CreateUser(ctx context.Context, tenantID int64, u store.User) (store.User, error) {
	h, err := derive(u.Attrs)
	if err != nil {
		return store.User{}, err
	}
	u.Version = 1
	u.Created = fromNanos(nanos(u.Created))
	u.Modified = fromNanos(nanos(u.Modified))
	args := append([]any{tenantID, rand.IntN(countSlots), u.ID}, h.emails.args()...)
	args = append(args, nanos(u.Created), nanos(u.Modified), h.userName, h.userNameFold,
		h.externalID, h.displayNameFold, h.active, h.doc, h.docFold, u.PasswordHash)
	err = db.retry(ctx, func() error {
		var seq int64
		return dbErr(db.pool.QueryRow(ctx, sqlInsertUser, args...).Scan(&seq))
	})
	if err != nil {
		return store.User{}, err
	}
	return u, nil
}

// User returns a live user, or store.ErrNotFound.
func (db *DB) User(ctx context.Context, tenantID int64, id string) (store.User, error) {
	u, _, err := scanUser(db.pool.QueryRow(ctx, sqlUserByID, tenantID, id))
	return u, err
}

// UpdateUser reads the user with its row locked (SELECT … FOR UPDATE) and
// calls fn with it inside one transaction, then stores what fn left (Attrs,
// PasswordHash, Modified) with Version incremented. Concurrent updates of
// one user, through any number of instances, queue on the row lock, so each
// fn sees the version the previous one stored: no update is lost, and a
// version check in fn (If-Match) is exact. fn's error aborts the update and
// is returned unchanged. Returns store.ErrNotFound, or store.ErrConflict if
// the new userName is taken.
//
// fn may be called more than once, when the transaction is retried after a
// serialization failure or a deadlock; it must be quick, must not call the
// store, and must depend only on the user it is given.
func (db *DB) UpdateUser(ctx context.Context, tenantID int64, id string, fn func(*store.User) error) (store.User, error) {
	var u store.User
	err := db.tx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		cur, seq, err := scanUser(tx.QueryRow(ctx, sqlLockUserByID, tenantID, id))
		if err != nil {
			return err
		}
		oldEmails := emailRowsOf(cur.Attrs)
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
		b := &pgx.Batch{}
		b.Queue(sqlUpdateUser, seq, u.Version, nanos(u.Modified), h.userName, h.userNameFold,
			h.externalID, h.displayNameFold, h.active, h.doc, h.docFold, u.PasswordHash)
		if !slices.EqualFunc(oldEmails, h.emails, emailRow.equal) {
			b.Queue(sqlDeleteEmails, seq)
			b.Queue(sqlInsertEmails, append([]any{seq, tenantID}, h.emails.args()...)...)
		}
		return dbErr(tx.SendBatch(ctx, b).Close())
	})
	if err != nil {
		return store.User{}, err
	}
	return u, nil
}

// DeleteUser removes a live user from SCIM. With archive its record moves
// to archived_users (its userName is free again) until PurgeUser; otherwise
// it is destroyed. Either way the user leaves every group it was a member
// of (those groups get a new version). Returns store.ErrNotFound.
func (db *DB) DeleteUser(ctx context.Context, tenantID int64, id string, archive bool) error {
	return db.DeleteUserIf(ctx, tenantID, id, archive, nil)
}

// DeleteUserIf is DeleteUser guarded by check (see store.Store).
func (db *DB) DeleteUserIf(ctx context.Context, tenantID int64, id string, archive bool, check func(int64) error) error {
	return db.tx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		if err := checkVersion(ctx, tx, "users", tenantID, id, check); err != nil {
			return err
		}
		var n int64
		if err := tx.QueryRow(ctx, sqlDeleteUser, tenantID, id, rand.IntN(countSlots), archive, nanos(db.now())).Scan(&n); err != nil {
			return dbErr(err)
		}
		if n == 0 {
			return store.ErrNotFound
		}
		return db.deleteMemberships(ctx, tx, tenantID, id, store.MemberUser)
	})
}

// PurgeUser destroys a user's record, live or archived, and, for a live
// user, its memberships. Returns store.ErrNotFound if neither exists.
func (db *DB) PurgeUser(ctx context.Context, tenantID int64, id string) error {
	return db.tx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		var live, archived int64
		if err := tx.QueryRow(ctx, sqlPurgeUser, tenantID, id, rand.IntN(countSlots)).Scan(&live, &archived); err != nil {
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
var usersList = &lister{res: usersRes, cols: userCols, countSQL: sqlTenantUserCount}

// ListUsers returns the live users of the tenant that match q, ordered by
// q.SortBy and then by creation, with the exact number that matched. The
// page and the count come from one read transaction, so they agree. With
// q.Cursor the page follows q.After (keyset paging, see list). Returns a
// *store.FilterError for a filter or sort it cannot apply, or a cursor
// whose key does not fit the sort.
func (db *DB) ListUsers(ctx context.Context, tenantID int64, q store.Query) (store.UserPage, error) {
	var page store.UserPage
	total, next, err := db.list(ctx, usersList, tenantID, q, func() {
		page.Users = nil
		if q.Count > 0 {
			page.Users = make([]store.User, 0, min(q.Count, 128))
		}
	}, func(row pgx.Row) (int64, error) {
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

// checkVersion locks the row of table (users or groups) and calls check
// with its version; nil check passes.
func checkVersion(ctx context.Context, tx pgx.Tx, table string, tenantID int64, id string, check func(int64) error) error {
	if check == nil {
		return nil
	}
	var v int64
	err := tx.QueryRow(ctx, "SELECT version FROM "+table+" WHERE tenant_id = $1 AND id = $2 FOR UPDATE", tenantID, id).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	if err != nil {
		return dbErr(err)
	}
	return check(v)
}
