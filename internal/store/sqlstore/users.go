package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/scimd/scimd/internal/scim"
	"github.com/scimd/scimd/internal/scim/schema"
	"github.com/scimd/scimd/internal/store"
)

// userSQL are the statements of users, built once for the dialect.
type userSQL struct {
	cols, byID, lockByID, byUserName, insert, restore, update string
	// updateIf is update, only if the version is still the one read.
	updateIf string
}

func newUserSQL(d Dialect) userSQL {
	var u userSQL
	u.cols = "users.seq, users.id, users.version, users.created, users.modified, " + d.JSONOut("users.doc") + ", users.password_hash"
	u.byID = "SELECT " + u.cols + " FROM users WHERE users.tenant_id = ? AND users.id = ?"
	u.lockByID = u.byID + d.Lock(ForUpdate)
	u.byUserName = "SELECT " + u.cols + " FROM users WHERE users.tenant_id = ? AND users.user_name_fold = ?"
	docCols, docVals, docSet := docSQL(d)
	u.insert = "INSERT INTO users (tenant_id, id, version, created, modified, user_name, user_name_fold, external_id, display_name_fold, active, " +
		"given_name_fold, family_name_fold, formatted_name_fold, external_id_fold, " +
		docCols + ", password_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, " + docVals + ", ?)"
	u.update = "UPDATE users SET version = ?, modified = ?, user_name = ?, user_name_fold = ?, external_id = ?, display_name_fold = ?, active = ?, " +
		"given_name_fold = ?, family_name_fold = ?, formatted_name_fold = ?, external_id_fold = ?, " +
		docSet + ", password_hash = ? WHERE seq = ?"
	u.updateIf = u.update + " AND version = ?"
	u.restore = "SELECT seq, version, created, " + d.JSONOut("doc") + ", password_hash FROM archived_users WHERE tenant_id = ? AND id = ? ORDER BY deleted DESC, seq DESC LIMIT 1" + d.Lock(ForUpdate)
	return u
}

// docSQL are the document columns of an INSERT, their values and the SET
// list of an UPDATE: doc, and doc_fold where the dialect keeps it.
func docSQL(d Dialect) (cols, vals, set string) {
	cols, vals, set = "doc", d.JSONIn("?"), "doc = "+d.JSONIn("?")
	if d.FoldedDocs() {
		cols += ", doc_fold"
		vals += ", " + d.JSONIn("?")
		set += ", doc_fold = " + d.JSONIn("?")
	}
	return cols, vals, set
}

const (
	// sqlInsertEmails and one sqlEmailRow per row insert a user's e-mail
	// rows; each row finds the user's seq by its id.
	sqlInsertEmails  = "INSERT INTO user_emails (user_seq, pos, tenant_id, value, value_fold, type, type_fold, display, display_fold, is_primary) VALUES "
	sqlEmailRow      = "((SELECT seq FROM users WHERE tenant_id = ? AND id = ?), ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	sqlDeleteEmails  = "DELETE FROM user_emails WHERE user_seq = ?"
	sqlCountUsers    = "INSERT INTO user_counts (tenant_id, slot, n) VALUES (?, ?, ?) ON CONFLICT (tenant_id, slot) DO UPDATE SET n = user_counts.n + excluded.n"
	sqlTenantUserCnt = "SELECT CAST(coalesce(sum(n), 0) AS BIGINT) FROM user_counts WHERE tenant_id = ?"
	sqlArchiveUser   = "INSERT INTO archived_users (seq, tenant_id, id, version, created, modified, deleted, user_name, external_id, doc, password_hash) " +
		"SELECT seq, tenant_id, id, version, created, modified, CAST(? AS BIGINT), user_name, external_id, doc, password_hash FROM users WHERE tenant_id = ? AND id = ?"
	sqlDeleteUser      = "DELETE FROM users WHERE tenant_id = ? AND id = ?"
	sqlPurgeArchived   = "DELETE FROM archived_users WHERE tenant_id = ? AND id = ?"
	sqlDeleteArchived  = "DELETE FROM archived_users WHERE seq = ?"
	sqlArchivedUsers   = "SELECT id, user_name, created, deleted FROM archived_users WHERE tenant_id = ? ORDER BY deleted DESC, seq DESC LIMIT ?"
	sqlTouchParents    = "UPDATE groups SET version = version + 1, modified = ? WHERE seq IN (SELECT m.group_seq FROM group_members m WHERE m.tenant_id = ? AND m.member_id = ? AND m.member_type = ?)"
	sqlDeleteMemberOfs = "DELETE FROM group_members WHERE tenant_id = ? AND member_id = ? AND member_type = ?"
)

// scanUser reads the columns of userSQL.cols.
func (s *Store) scanUser(row Row) (store.User, int64, error) {
	u, seq, _, err := s.scanUserSized(row)
	return u, seq, err
}

// scanUserSized is scanUser that also returns the size of the user's
// document.
func (s *Store) scanUserSized(row Row) (store.User, int64, int, error) {
	var u store.User
	r, err := s.scanRow(row, "user", &u.PasswordHash)
	if err != nil {
		return store.User{}, 0, 0, err
	}
	u.ID, u.Version, u.Created, u.Modified, u.Attrs = r.id, r.version, r.created, r.modified, r.attrs
	return u, r.seq, r.size, nil
}

// resourceRow is what a user's and a group's rows have in common.
type resourceRow struct {
	seq, version      int64
	id                string
	created, modified time.Time
	attrs             map[string]any
	size              int // of the document, in bytes
}

// scanRow reads seq, id, version, created, modified and the document, then
// extra; what names the resource ("user", "group") in errors.
func (s *Store) scanRow(row Row, what string, extra ...any) (resourceRow, error) {
	var r resourceRow
	var created, modified int64
	var doc []byte
	if err := row.Scan(append([]any{&r.seq, &r.id, &r.version, &created, &modified, &doc}, extra...)...); err != nil {
		return r, err
	}
	r.created, r.modified, r.size = fromNanos(created), fromNanos(modified), len(doc)
	if err := json.Unmarshal(doc, &r.attrs); err != nil {
		return r, fmt.Errorf("%s: %s %s: corrupt document: %w", s.d.Name(), what, r.id, err)
	}
	if r.attrs == nil {
		r.attrs = map[string]any{}
	}
	return r, nil
}

// hot holds the columns derived from a user's attributes.
type hot struct {
	doc, docFold    string
	userName        string
	userNameFold    string
	externalID      any // string or nil
	displayNameFold any // string or nil
	active          bool
	// The folded name parts and externalId, for the search by words
	// (search.go); each a string or nil.
	givenNameFold, familyNameFold, formattedNameFold, externalIDFold any
	emails                                                           []emailRow
}

// emailRow is one user_emails row; nil fields are NULL.
type emailRow struct {
	value, valueFold, typ, typFold, display, displayFold any // string or nil
	primary                                              any // bool or nil
}

// derive computes a user's document and hot columns from its attributes.
// It is the only place that knows how Attrs map to columns.
func (s *Store) derive(attrs map[string]any) (hot, error) {
	var h hot
	if attrs == nil {
		attrs = map[string]any{}
	}
	doc, docFold, err := s.docs(attrs)
	if err != nil {
		return h, fmt.Errorf("%s: encode user: %w", s.d.Name(), err)
	}
	h.doc, h.docFold = doc, docFold
	if err := checkLimits(attrs, doc); err != nil {
		return h, err
	}
	un, _ := attrs["userName"].(string)
	if un == "" {
		return h, fmt.Errorf("%s: user has no userName", s.d.Name())
	}
	h.userName, h.userNameFold = un, scim.Fold(un)
	if s, ok := attrs["externalId"].(string); ok {
		h.externalID, h.externalIDFold = s, scim.Fold(s)
	}
	if s, ok := attrs["displayName"].(string); ok {
		h.displayNameFold = scim.Fold(s)
	}
	if n, ok := attrs["name"].(map[string]any); ok {
		h.givenNameFold, h.familyNameFold, h.formattedNameFold = foldedString(n["givenName"]), foldedString(n["familyName"]), foldedString(n["formatted"])
	}
	h.active = true
	switch v := attrs["active"].(type) {
	case nil:
	case bool:
		h.active = v
	default:
		return h, fmt.Errorf("%s: user %q: active is %T, not a boolean", s.d.Name(), un, v)
	}
	h.emails = emailRows(attrs)
	return h, nil
}

// foldedString is scim.Fold(v) when v is a string, else nil (NULL).
func foldedString(v any) any {
	if s, ok := v.(string); ok {
		return scim.Fold(s)
	}
	return nil
}

// checkLimits returns a *store.LimitError when a resource's attributes,
// encoded as doc, exceed store.MaxResourceBytes, or one of its
// multi-valued attributes (extension attributes included) has more than
// store.MaxValues values.
func checkLimits(attrs map[string]any, doc string) error {
	if len(doc) > store.MaxResourceBytes {
		return &store.LimitError{Msg: fmt.Sprintf("the resource takes %d bytes; at most %d are accepted", len(doc), store.MaxResourceBytes)}
	}
	var check func(prefix string, m map[string]any) error
	check = func(prefix string, m map[string]any) error {
		for k, v := range m {
			switch v := v.(type) {
			case []any:
				if len(v) > store.MaxValues {
					return &store.LimitError{Msg: fmt.Sprintf("attribute %q has %d values; at most %d are accepted", prefix+k, len(v), store.MaxValues)}
				}
			case map[string]any:
				if prefix == "" && strings.HasPrefix(k, "urn:") {
					if err := check(k+":", v); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}
	return check("", attrs)
}

// docs encodes a resource's attributes as its document and, when the
// dialect keeps one, the folded copy (every string, not the keys, folded
// with scim.Fold).
func (s *Store) docs(attrs map[string]any) (doc, docFold string, err error) {
	b, err := json.Marshal(attrs)
	if err != nil {
		return "", "", err
	}
	if !s.d.FoldedDocs() {
		return string(b), "", nil
	}
	var generic any
	if err := json.Unmarshal(b, &generic); err != nil {
		return "", "", err
	}
	f, err := json.Marshal(foldStrings(generic))
	return string(b), string(f), err
}

// docOf is the document of attrs as derive and deriveGroup encode it, or
// "" if it does not encode.
func (s *Store) docOf(attrs map[string]any) string {
	if attrs == nil {
		attrs = map[string]any{}
	}
	b, err := json.Marshal(attrs)
	if err != nil {
		return ""
	}
	return string(b)
}

// docArgs are the arguments of the document placeholders of an insert or
// update: the document and, when the dialect keeps it, its folded copy.
func (s *Store) docArgs(doc, docFold string) []any {
	if s.d.FoldedDocs() {
		return []any{doc, docFold}
	}
	return []any{doc}
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

// emailRows derives the user_emails rows from a user's attributes.
func emailRows(attrs map[string]any) []emailRow {
	var rows []emailRow
	str := func(v any) (raw, fold any) {
		if s, ok := v.(string); ok {
			return s, scim.Fold(s)
		}
		return nil, nil
	}
	for _, e := range elements(attrs["emails"]) {
		var r emailRow
		r.value, r.valueFold = str(e["value"])
		r.typ, r.typFold = str(e["type"])
		r.display, r.displayFold = str(e["display"])
		if b, ok := e["primary"].(bool); ok {
			r.primary = b
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

// countSlot picks the slot of a tenant's count rows that a writer updates.
func (s *Store) countSlot() int { return rand.IntN(s.d.CountSlots()) }

// insertUser queues the insertion of u, whose hot columns are h, with its
// e-mail rows and the tenant's count.
func (s *Store) insertUser(ctx context.Context, q Querier, tenantID int64, u *store.User, h *hot) {
	args := []any{tenantID, u.ID, u.Version, nanos(u.Created), nanos(u.Modified), h.userName, h.userNameFold,
		h.externalID, h.displayNameFold, h.active, h.givenNameFold, h.familyNameFold, h.formattedNameFold, h.externalIDFold}
	args = append(append(args, s.docArgs(h.doc, h.docFold)...), u.PasswordHash)
	if s.d.WriteCTEs() {
		s.insertUserCTE(ctx, q, tenantID, args, h.emails)
		return
	}
	q.Queue(ctx, s.users.insert, args...)
	insertEmails(ctx, q, tenantID, u.ID, h.emails)
	q.Queue(ctx, sqlCountUsers, tenantID, s.countSlot(), 1)
}

// insertUserCTE is insertUser as one statement, for a database that takes
// writes in WITH (PostgreSQL): a create is the hottest write, and there
// each statement costs about what the whole create does. The e-mail rows
// take the new row's seq from the user's INSERT ... RETURNING.
func (s *Store) insertUserCTE(ctx context.Context, q Querier, tenantID int64, userArgs []any, emails []emailRow) {
	var b strings.Builder
	b.WriteString("WITH u AS (" + s.users.insert + " RETURNING seq)")
	args := append([]any(nil), userArgs...)
	if len(emails) > 0 {
		b.WriteString(", e AS (INSERT INTO user_emails (user_seq, pos, tenant_id, value, value_fold, type, type_fold, display, display_fold, is_primary) " +
			"SELECT u.seq, v.pos, v.tenant_id, v.value, v.value_fold, v.type, v.type_fold, v.display, v.display_fold, v.is_primary FROM u, (VALUES ")
		for i, e := range emails {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(CAST(? AS INTEGER), CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BOOLEAN))")
			args = append(args, i, tenantID, e.value, e.valueFold, e.typ, e.typFold, e.display, e.displayFold, e.primary)
		}
		b.WriteString(") AS v (pos, tenant_id, value, value_fold, type, type_fold, display, display_fold, is_primary))")
	}
	b.WriteString(", c AS (" + sqlCountUsers + ") SELECT 1 FROM u")
	q.Queue(ctx, b.String(), append(args, tenantID, s.countSlot(), 1)...)
}

// insertEmails queues the insertion of a user's e-mail rows, all in one
// statement (its text depends only on how many there are).
func insertEmails(ctx context.Context, q Querier, tenantID int64, id string, emails []emailRow) {
	if len(emails) == 0 {
		return
	}
	var b strings.Builder
	b.WriteString(sqlInsertEmails)
	args := make([]any, 0, len(emails)*11)
	for i, e := range emails {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(sqlEmailRow)
		args = append(args, tenantID, id, i, tenantID, e.value, e.valueFold, e.typ, e.typFold, e.display, e.displayFold, e.primary)
	}
	q.Queue(ctx, b.String(), args...)
}

// CreateUser stores a new user with Version 1. Returns store.ErrConflict if
// another live user of the tenant has the same folded userName (the unique
// index decides, so concurrent creates through several instances cannot
// both succeed), and store.ErrNotFound if the tenant does not exist.
func (s *Store) CreateUser(ctx context.Context, tenantID int64, u store.User) (store.User, error) {
	h, err := s.derive(u.Attrs)
	if err != nil {
		return store.User{}, err
	}
	u.Version = 1
	u.Created = fromNanos(nanos(u.Created))
	u.Modified = fromNanos(nanos(u.Modified))
	data := userData(&u, h.doc, nil)
	err = s.write(ctx, func(ctx context.Context, q Querier) error {
		s.insertUser(ctx, q, tenantID, &u, &h)
		s.emit(ctx, q, tenantID, store.EventUserCreated, store.MemberUser, u.ID, data)
		return nil
	})
	if err != nil {
		return store.User{}, err
	}
	return u, nil
}

// User returns a live user, or store.ErrNotFound.
func (s *Store) User(ctx context.Context, tenantID int64, id string) (store.User, error) {
	u, _, err := s.scanUser(s.q.QueryRow(ctx, s.users.byID, tenantID, id))
	return u, err
}

// UpdateUser calls fn with the user and stores what fn left (Attrs,
// PasswordHash, Modified) with Version incremented; when fn left the
// attributes and the password hash as they were, it stores nothing and
// returns the user as it is (same Version and Modified). Returns
// store.ErrNotFound, or store.ErrConflict if the new userName is taken;
// fn's error aborts the update and is returned unchanged.
//
// fn, and all the work of the change (encoding the document, the diff,
// the event), run outside the write transaction, which only stores the
// result, and only if the user's version is still the one fn saw (else
// all of it runs again): on SQLite nothing a request sends is worked on
// while the single writer is held. After optimisticAttempts lost races
// (many concurrent updates of one user), the change is computed inside
// the transaction instead, with the row locked. Either way no update is
// lost, and a version check in fn (If-Match) is exact.
//
// fn must be quick (no password hashing, no I/O), must not call the
// store, and may be called more than once.
func (s *Store) UpdateUser(ctx context.Context, tenantID int64, id string, fn func(*store.User) error) (store.User, error) {
	for range optimisticAttempts {
		cur, seq, err := s.scanUser(s.q.QueryRow(ctx, s.users.byID, tenantID, id))
		if err != nil {
			return store.User{}, err
		}
		p, err := s.planUserUpdate(cur, fn)
		if err != nil {
			return store.User{}, err
		}
		if p == nil {
			return cur, nil // nothing to store
		}
		err = s.write(ctx, func(ctx context.Context, q Querier) error {
			n, err := q.Exec(ctx, s.users.updateIf, append(p.args, seq, cur.Version)...)
			if err != nil {
				return err
			}
			if n == 0 {
				return errStale
			}
			s.finishUserUpdate(ctx, q, tenantID, seq, p)
			return nil
		})
		if errors.Is(err, errStale) {
			continue
		}
		if err != nil {
			return store.User{}, err
		}
		return p.u, nil
	}
	var u store.User
	err := s.write(ctx, func(ctx context.Context, q Querier) error {
		cur, seq, err := s.scanUser(q.QueryRow(ctx, s.users.lockByID, tenantID, id))
		if err != nil {
			return err
		}
		p, err := s.planUserUpdate(cur, fn)
		if err != nil || p == nil {
			u = cur
			return err
		}
		q.Queue(ctx, s.users.update, append(p.args, seq)...)
		s.finishUserUpdate(ctx, q, tenantID, seq, p)
		u = p.u
		return nil
	})
	if err != nil {
		return store.User{}, err
	}
	return u, nil
}

// optimisticAttempts is how many times UpdateUser computes a change
// outside the write transaction before it computes it inside.
const optimisticAttempts = 4

// errStale aborts a write whose user changed since it was read.
var errStale = errors.New("the user changed since it was read")

// userPlan is an update of a user, computed from the version read.
type userPlan struct {
	u             store.User
	args          []any // of users.update, without the seq
	emailsChanged bool
	emails        []emailRow
	typ           string // the event's
	data          []byte
}

// planUserUpdate calls fn with cur and computes what storing its result
// takes; nil when fn changed nothing.
func (s *Store) planUserUpdate(cur store.User, fn func(*store.User) error) (*userPlan, error) {
	// fn may change the attributes in place: what they were is read first.
	oldEmails, oldDoc, wasActive := emailRows(cur.Attrs), s.docOf(cur.Attrs), cur.Attrs["active"] != false
	oldHash := cur.PasswordHash
	u := cur
	if err := fn(&u); err != nil {
		return nil, err
	}
	u.ID, u.Created, u.Version = cur.ID, cur.Created, cur.Version+1
	u.Modified = fromNanos(nanos(u.Modified))
	h, err := s.derive(u.Attrs)
	if err != nil {
		return nil, err
	}
	if u.PasswordHash == oldHash && h.doc == oldDoc {
		// Nothing changed: nothing is stored, and the version and
		// modification time stay (RFC 7644 §3.5.2).
		return nil, nil
	}
	p := &userPlan{u: u, emails: h.emails, emailsChanged: !slices.Equal(oldEmails, h.emails)}
	p.args = []any{u.Version, nanos(u.Modified), h.userName, h.userNameFold, h.externalID, h.displayNameFold, h.active,
		h.givenNameFold, h.familyNameFold, h.formattedNameFold, h.externalIDFold}
	p.args = append(append(p.args, s.docArgs(h.doc, h.docFold)...), u.PasswordHash)
	changed := changedPaths(oldDoc, h.doc)
	if u.PasswordHash != oldHash {
		changed = append(changed, "password")
	}
	p.typ = store.EventUserUpdated
	switch {
	case wasActive && !h.active:
		p.typ = store.EventUserDeactivated
	case !wasActive && h.active:
		p.typ = store.EventUserReactivated
	}
	p.data = userData(&p.u, h.doc, changed)
	return p, nil
}

// finishUserUpdate queues what an update writes besides the user's row:
// its e-mail rows, when they changed, and its event.
func (s *Store) finishUserUpdate(ctx context.Context, q Querier, tenantID, seq int64, p *userPlan) {
	if p.emailsChanged {
		q.Queue(ctx, sqlDeleteEmails, seq)
		insertEmails(ctx, q, tenantID, p.u.ID, p.emails)
	}
	s.emit(ctx, q, tenantID, p.typ, store.MemberUser, p.u.ID, p.data)
}

// DeleteUser removes a live user from SCIM. With archive its record moves
// to archived_users (its userName is free again) until PurgeUser; otherwise
// it is destroyed. Either way the user leaves every group it was a member
// of (those groups get a new version): an archived user is a member of
// nothing, and restoring one does not restore its memberships. Returns
// store.ErrNotFound.
func (s *Store) DeleteUser(ctx context.Context, tenantID int64, id string, archive bool) error {
	return s.DeleteUserIf(ctx, tenantID, id, archive, nil)
}

// DeleteUserIf is DeleteUser guarded by check (see store.Store).
func (s *Store) DeleteUserIf(ctx context.Context, tenantID int64, id string, archive bool, check func(int64) error) error {
	return s.write(ctx, func(ctx context.Context, q Querier) error {
		if err := s.checkVersion(ctx, q, "users", tenantID, id, check); err != nil {
			return err
		}
		if archive {
			q.Queue(ctx, sqlArchiveUser, nanos(s.Now()), tenantID, id)
		}
		if err := affectedOne(q.Exec(ctx, sqlDeleteUser, tenantID, id)); err != nil {
			return err
		}
		q.Queue(ctx, sqlCountUsers, tenantID, s.countSlot(), -1)
		s.emit(ctx, q, tenantID, store.EventUserDeleted, store.MemberUser, id, []byte(`{"archived":`+strconv.FormatBool(archive)+`}`))
		s.deleteMemberships(ctx, q, tenantID, id, store.MemberUser)
		return nil
	})
}

// PurgeUser destroys a user's record, live or archived, and, for a live
// user, its memberships. Returns store.ErrNotFound if neither exists.
func (s *Store) PurgeUser(ctx context.Context, tenantID int64, id string) error {
	return s.write(ctx, func(ctx context.Context, q Querier) error {
		live, err := q.Exec(ctx, sqlDeleteUser, tenantID, id)
		if err != nil {
			return err
		}
		archived, err := q.Exec(ctx, sqlPurgeArchived, tenantID, id)
		if err != nil {
			return err
		}
		if live+archived == 0 {
			return store.ErrNotFound
		}
		if live > 0 {
			q.Queue(ctx, sqlCountUsers, tenantID, s.countSlot(), -1)
			s.deleteMemberships(ctx, q, tenantID, id, store.MemberUser)
		}
		// "Permanently delete": what earlier events and the activity log
		// said of the user goes too; their ids and types stay.
		q.Queue(ctx, sqlScrubEvents, tenantID, id)
		q.Queue(ctx, sqlScrubActivity, tenantID, id)
		s.emit(ctx, q, tenantID, store.EventUserPurged, store.MemberUser, id, []byte(`{}`))
		return nil
	})
}

// deleteMemberships queues the removal of a user or group (typ) from every
// group of the tenant, and gives those groups a new version. On
// PostgreSQL it runs after the statement that deleted the member, with a
// snapshot that sees every membership committed before that delete (which
// waited for the adders' key-share locks).
func (s *Store) deleteMemberships(ctx context.Context, q Querier, tenantID int64, id, typ string) {
	q.Queue(ctx, sqlTouchParents, nanos(s.Now()), tenantID, id, typ)
	q.Queue(ctx, s.ev.memberOfs, nanos(s.Now()), actorJSON(ctx), memberData(id, typ), tenantID, id, typ)
	s.mark(ctx, "", "")
	q.Queue(ctx, sqlDeleteMemberOfs, tenantID, id, typ)
}

// checkVersion locks the row of table (users or groups) and calls check
// with its version; nil check passes.
func (s *Store) checkVersion(ctx context.Context, q Querier, table string, tenantID int64, id string, check func(int64) error) error {
	if check == nil {
		return nil
	}
	var v int64
	err := q.QueryRow(ctx, "SELECT version FROM "+table+" WHERE tenant_id = ? AND id = ?"+s.d.Lock(ForUpdate), tenantID, id).Scan(&v)
	if err != nil {
		return err
	}
	return check(v)
}

// storable reports whether s can be stored in a text column: PostgreSQL
// refuses NUL characters and invalid UTF-8.
func storable(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// userData is the data of an event about u, whose document is doc.
func userData(u *store.User, doc string, changed []string) []byte {
	return resourceData("User", schema.UserURN, u.ID, u.Version, u.Created, u.Modified, u.Attrs, doc, changed)
}

// UserByUserName returns the live user whose userName equals userName under
// scim.Fold, or store.ErrNotFound.
func (s *Store) UserByUserName(ctx context.Context, tenantID int64, userName string) (store.User, error) {
	fold := scim.Fold(userName)
	if !storable(fold) { // what a sign-in form was given; no stored userName matches
		return store.User{}, store.ErrNotFound
	}
	u, _, err := s.scanUser(s.q.QueryRow(ctx, s.users.byUserName, tenantID, fold))
	return u, err
}

// ArchivedUsers lists a tenant's archived users, most recently deleted
// first, at most limit (all of them when limit is negative).
func (s *Store) ArchivedUsers(ctx context.Context, tenantID int64, limit int) ([]store.ArchivedUser, error) {
	lim := int64(limit)
	if limit < 0 {
		lim = math.MaxInt64
	}
	rows, err := s.q.Query(ctx, sqlArchivedUsers, tenantID, lim)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.ArchivedUser
	for rows.Next() {
		var a store.ArchivedUser
		var created, deleted int64
		if err := rows.Scan(&a.ID, &a.UserName, &created, &deleted); err != nil {
			return nil, err
		}
		a.Created, a.Deleted = fromNanos(created), fromNanos(deleted)
		out = append(out, a)
	}
	return out, rows.Err()
}

// RestoreUser moves an archived user back to the live users, with its
// version incremented. Returns store.ErrNotFound, or store.ErrConflict when
// a live user has its userName: the unique index decides, so a restore
// racing a create of the same userName through another instance cannot
// both succeed. The archived row is locked first, so two concurrent
// restores of one user cannot both succeed either.
func (s *Store) RestoreUser(ctx context.Context, tenantID int64, id string) (store.User, error) {
	var u store.User
	err := s.write(ctx, func(ctx context.Context, q Querier) error {
		var seq, created int64
		var doc []byte
		u = store.User{ID: id}
		if err := q.QueryRow(ctx, s.users.restore, tenantID, id).Scan(&seq, &u.Version, &created, &doc, &u.PasswordHash); err != nil {
			return err
		}
		if err := json.Unmarshal(doc, &u.Attrs); err != nil {
			return fmt.Errorf("%s: archived user %s: corrupt document: %w", s.d.Name(), id, err)
		}
		if u.Attrs == nil {
			u.Attrs = map[string]any{}
		}
		u.Version++
		u.Created, u.Modified = fromNanos(created), fromNanos(nanos(s.Now()))
		h, err := s.derive(u.Attrs)
		if err != nil {
			return err
		}
		s.insertUser(ctx, q, tenantID, &u, &h)
		q.Queue(ctx, sqlDeleteArchived, seq)
		s.emit(ctx, q, tenantID, store.EventUserRestored, store.MemberUser, u.ID, userData(&u, h.doc, nil))
		return nil
	})
	if err != nil {
		return store.User{}, err
	}
	return u, nil
}

// bulkChunk is how many users one transaction of BulkCreateUsers
// creates: a fraction of a second of the single writer, well within its
// bound.
const bulkChunk = 250

// BulkCreateUsers creates users as CreateUser does, bulkChunk to a
// transaction; for loading fixtures and imports. On an error, the users of
// the transactions committed before it stay.
func (s *Store) BulkCreateUsers(ctx context.Context, tenantID int64, us []store.User) error {
	for lo := 0; lo < len(us); lo += bulkChunk {
		chunk := us[lo:min(lo+bulkChunk, len(us))]
		hs := make([]hot, len(chunk))
		data := make([][]byte, len(chunk))
		for i := range chunk {
			h, err := s.derive(chunk[i].Attrs)
			if err != nil {
				return err
			}
			hs[i] = h
			chunk[i].Version = 1
			data[i] = userData(&chunk[i], h.doc, nil)
		}
		err := s.write(ctx, func(ctx context.Context, q Querier) error {
			for i := range chunk {
				s.insertUser(ctx, q, tenantID, &chunk[i], &hs[i])
				s.emit(ctx, q, tenantID, store.EventUserCreated, store.MemberUser, chunk[i].ID, data[i])
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
