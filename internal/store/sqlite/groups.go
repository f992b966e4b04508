package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/scimd/scimd/internal/scim"
	"github.com/scimd/scimd/internal/store"
)

var _ store.GroupStore = (*DB)(nil)

// Groups are stored like users: one row with the attributes as a JSONB
// document and the hot ones (displayName, folded and not, externalId) in
// columns. Members are rows of group_members, one each, so that a change
// of membership costs what it changes: adding one member to a group of
// 100,000 inserts one row, removing one deletes one, and neither reads the
// other members nor rewrites the group's document (the group row gets a new
// version and modification time, nothing else). Member ids come in as JSON
// arrays bound to one parameter (json_each), so that every statement is the
// same whatever the number of ids, and is prepared once.
//
// A member's type is what its id names in the tenant (users first; ids are
// UUIDs, unique across users and groups), and its display is looked up
// when read (memberDisplaySQL), so renaming a user never touches groups.
//
// Deleting a user (archived or destroyed) or a group deletes its
// memberships, and gives each group it was a member of a new version.

// groupCols are the columns scanGroup reads.
const groupCols = "groups.seq, groups.id, groups.version, groups.created, groups.modified, json(groups.doc)"

const (
	sqlGroupByID    = "SELECT " + groupCols + " FROM groups WHERE groups.tenant_id = ? AND groups.id = ?"
	sqlInsertGroup  = "INSERT INTO groups (tenant_id, id, version, created, modified, display_name, display_name_fold, external_id, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, jsonb(?))"
	sqlUpdateGroup  = "UPDATE groups SET version = ?, modified = ?, display_name = ?, display_name_fold = ?, external_id = ?, doc = jsonb(?) WHERE seq = ?"
	sqlTouchGroup   = "UPDATE groups SET version = ?, modified = ? WHERE seq = ?"
	sqlDeleteGroup  = "DELETE FROM groups WHERE tenant_id = ? AND id = ?" // its group_members rows cascade
	sqlTenantGrpCnt = "SELECT coalesce((SELECT n FROM group_counts WHERE tenant_id = ?), 0)"

	// sqlTouchParents gives the groups that have a member a new version.
	sqlTouchParents = "UPDATE groups SET version = version + 1, modified = ? WHERE seq IN " +
		"(SELECT m.group_seq FROM group_members m WHERE m.tenant_id = ? AND m.member_id = ? AND m.member_type = ?)"
	// sqlDeleteMemberships removes a user or group from every group.
	sqlDeleteMemberships = "DELETE FROM group_members WHERE tenant_id = ? AND member_id = ? AND member_type = ?"

	// sqlCheckMembers returns the ids of a JSON array that name neither a
	// user nor a group of the tenant (cycle 0), and those that name the
	// group itself or a group that contains it, directly or not (cycle 1):
	// adding those would make a group a member of itself. The walk up
	// looks parents up by member_id (CROSS JOIN fixes the join order).
	// Arguments: the group's id, the tenant, the ids, the tenant, the
	// tenant.
	sqlCheckMembers = `WITH RECURSIVE anc(id) AS (
		SELECT ?
		UNION
		SELECT p.id FROM anc
			CROSS JOIN group_members m ON m.tenant_id = ? AND m.member_id = anc.id AND m.member_type = 'Group'
			CROSS JOIN groups p ON p.seq = m.group_seq
	)
	SELECT j.value, j.value IN (SELECT id FROM anc) FROM json_each(?) j
	WHERE j.value IN (SELECT id FROM anc)
		OR (NOT EXISTS (SELECT 1 FROM users u WHERE u.tenant_id = ? AND u.id = j.value)
			AND NOT EXISTS (SELECT 1 FROM groups g WHERE g.tenant_id = ? AND g.id = j.value))
	ORDER BY j.key`
	// sqlAddMembers adds the ids of a JSON array, in order, which
	// sqlCheckMembers found all exist; ids already members are left alone.
	// Arguments: the tenant, the group's seq, the tenant, the ids.
	sqlAddMembers = "INSERT INTO group_members (tenant_id, group_seq, member_id, member_type) " +
		"SELECT ?, ?, j.value, CASE WHEN EXISTS (SELECT 1 FROM users u WHERE u.tenant_id = ? AND u.id = j.value) THEN 'User' ELSE 'Group' END " +
		"FROM json_each(?) j WHERE true ORDER BY j.key ON CONFLICT DO NOTHING"
	sqlRemoveMembers    = "DELETE FROM group_members WHERE group_seq = ? AND member_id IN (SELECT value FROM json_each(?))"
	sqlRemoveAllMembers = "DELETE FROM group_members WHERE group_seq = ?"

	// sqlMembers reads a group's members in the order they were added.
	sqlMembers = "SELECT m.member_id, m.member_type, " + memberDisplaySQL +
		" FROM group_members m WHERE m.group_seq = ? ORDER BY m.group_seq, m.rowid"
	// sqlPageMembers reads the members of the groups whose seqs are in a
	// JSON array.
	sqlPageMembers = "SELECT m.group_seq, m.member_id, m.member_type, " + memberDisplaySQL +
		" FROM group_members m WHERE m.group_seq IN (SELECT value FROM json_each(?)) ORDER BY m.group_seq, m.rowid"

	// sqlUserGroups returns the groups each user of a JSON array of ids
	// belongs to: directly (direct 1), or through groups that are members
	// of groups (direct 0). UNION keeps each (user, group, direct) once,
	// so the walk ends even on a cycle. CROSS JOIN fixes the join order, so
	// that each step looks its rows up by member_id (the planner, without
	// statistics, would rather scan the tenant's memberships). Arguments:
	// the ids, the tenant.
	sqlUserGroups = `WITH RECURSIVE r(user_id, group_seq, direct) AS (
		SELECT m.member_id, m.group_seq, 1 FROM json_each(?) j
			CROSS JOIN group_members m ON m.tenant_id = ? AND m.member_id = j.value AND m.member_type = 'User'
		UNION
		SELECT r.user_id, m.group_seq, 0 FROM r
			CROSS JOIN groups g ON g.seq = r.group_seq
			CROSS JOIN group_members m ON m.tenant_id = g.tenant_id AND m.member_id = g.id AND m.member_type = 'Group'
	)
	SELECT r.user_id, g.id, coalesce(g.display_name, ''), max(r.direct) FROM r JOIN groups g ON g.seq = r.group_seq
	GROUP BY r.user_id, r.group_seq ORDER BY r.user_id, r.group_seq`
)

// scanGroup reads the columns groupCols names.
func scanGroup(row scanner) (store.Group, int64, error) {
	var g store.Group
	var seq, created, modified int64
	var doc []byte
	if err := row.Scan(&seq, &g.ID, &g.Version, &created, &modified, &doc); err != nil {
		return store.Group{}, 0, dbErr(err)
	}
	g.Created = fromNanos(created)
	g.Modified = fromNanos(modified)
	if err := json.Unmarshal(doc, &g.Attrs); err != nil {
		return store.Group{}, 0, fmt.Errorf("sqlite: group %s: corrupt document: %w", g.ID, err)
	}
	if g.Attrs == nil {
		g.Attrs = map[string]any{}
	}
	return g, seq, nil
}

// groupHot holds the columns derived from a group's attributes.
type groupHot struct {
	doc             []byte
	displayName     any // string or nil
	displayNameFold any // string or nil
	externalID      any // string or nil
}

// deriveGroup computes a group's document and hot columns from its
// attributes. Members are never part of the document.
func deriveGroup(attrs map[string]any) (groupHot, error) {
	var h groupHot
	if _, ok := attrs["members"]; ok {
		a := make(map[string]any, len(attrs))
		for k, v := range attrs {
			if k != "members" {
				a[k] = v
			}
		}
		attrs = a
	}
	if attrs == nil {
		attrs = map[string]any{}
	}
	doc, err := json.Marshal(attrs)
	if err != nil {
		return h, fmt.Errorf("sqlite: encode group: %w", err)
	}
	h.doc = doc
	if s, ok := attrs["displayName"].(string); ok {
		h.displayName, h.displayNameFold = s, scim.Fold(s)
	}
	if s, ok := attrs["externalId"].(string); ok {
		h.externalID = s
	}
	return h, nil
}

// CreateGroup stores a new group with Version 1 and its initial members,
// which it returns with their types and displays. Returns a
// *store.MemberError if a member names no user or group of the tenant (or
// the group itself), store.ErrConflict if the id is taken, and
// store.ErrNotFound if the tenant does not exist.
func (db *DB) CreateGroup(ctx context.Context, tenantID int64, g store.Group) (store.Group, error) {
	h, err := deriveGroup(g.Attrs)
	if err != nil {
		return store.Group{}, err
	}
	g.Version = 1
	g.Created = fromNanos(nanos(g.Created))
	g.Modified = fromNanos(nanos(g.Modified))
	initial := g.Members
	err = db.writeTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := db.ws.exec(ctx, tx, sqlInsertGroup, tenantID, g.ID, g.Version, nanos(g.Created), nanos(g.Modified),
			h.displayName, h.displayNameFold, h.externalID, string(h.doc))
		if err != nil {
			return dbErr(err)
		}
		seq, err := res.LastInsertId()
		if err != nil {
			return dbErr(err)
		}
		g.Members = []store.Member{}
		if len(initial) == 0 {
			return nil
		}
		if err := db.applyMemberOps(ctx, tx, tenantID, seq, g.ID, []store.MemberOp{{Kind: store.AddMembers, Members: initial}}); err != nil {
			return err
		}
		g.Members, err = readMembers(ctx, db.ws, tx, seq)
		return err
	})
	if err != nil {
		return store.Group{}, err
	}
	return g, nil
}

// Group returns a group, with its members when members is true, or
// store.ErrNotFound. Without members it does not read group_members.
func (db *DB) Group(ctx context.Context, tenantID int64, id string, members bool) (store.Group, error) {
	if !members {
		g, _, err := scanGroup(db.rs.queryRow(ctx, nil, sqlGroupByID, tenantID, id))
		return g, err
	}
	// Prepare before the transaction takes a connection (see stmtCache.stmt).
	db.rs.stmt(ctx, sqlGroupByID)
	db.rs.stmt(ctx, sqlMembers)
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return store.Group{}, dbErr(err)
	}
	defer tx.Rollback()
	g, seq, err := scanGroup(db.rs.queryRow(ctx, tx, sqlGroupByID, tenantID, id))
	if err != nil {
		return store.Group{}, err
	}
	g.Members, err = readMembers(ctx, db.rs, tx, seq)
	if err != nil {
		return store.Group{}, err
	}
	return g, nil
}

// readMembers reads a group's members, in the order they were added.
func readMembers(ctx context.Context, c *stmtCache, tx *sql.Tx, seq int64) ([]store.Member, error) {
	rows, err := c.query(ctx, tx, sqlMembers, seq)
	if err != nil {
		return nil, dbErr(err)
	}
	defer rows.Close()
	members := []store.Member{}
	for rows.Next() {
		var m store.Member
		var display sql.NullString
		if err := rows.Scan(&m.Value, &m.Type, &display); err != nil {
			return nil, dbErr(err)
		}
		m.Display = display.String
		members = append(members, m)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr(err)
	}
	return members, nil
}

// UpdateGroup reads the group (without members), calls fn with it inside one
// write transaction, stores the attributes fn left (the document only if
// they changed) with Version incremented, and applies the membership
// changes fn returns, in order. fn's error aborts the update and is
// returned unchanged; so does a *store.MemberError (every missing id and
// every id that would make a cycle, from all the AddMembers ops), or a
// *store.FilterError for a RemoveMembersWhere filter it cannot apply.
// Returns store.ErrNotFound. The result has Members only when members is
// true.
//
// fn runs while the database's single write connection is held: it must be
// quick and must not call the store.
func (db *DB) UpdateGroup(ctx context.Context, tenantID int64, id string, members bool, fn func(*store.Group) ([]store.MemberOp, error)) (store.Group, error) {
	var g store.Group
	err := db.writeTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		cur, seq, err := scanGroup(db.ws.queryRow(ctx, tx, sqlGroupByID, tenantID, id))
		if err != nil {
			return err
		}
		old, err := deriveGroup(cur.Attrs)
		if err != nil {
			return err
		}
		g = cur
		ops, err := fn(&g)
		if err != nil {
			return err
		}
		g.ID, g.Created, g.Version, g.Members = cur.ID, cur.Created, cur.Version+1, nil
		g.Modified = fromNanos(nanos(g.Modified))
		h, err := deriveGroup(g.Attrs)
		if err != nil {
			return err
		}
		if bytes.Equal(h.doc, old.doc) {
			_, err = db.ws.exec(ctx, tx, sqlTouchGroup, g.Version, nanos(g.Modified), seq)
		} else {
			_, err = db.ws.exec(ctx, tx, sqlUpdateGroup, g.Version, nanos(g.Modified),
				h.displayName, h.displayNameFold, h.externalID, string(h.doc), seq)
		}
		if err != nil {
			return dbErr(err)
		}
		if err := db.applyMemberOps(ctx, tx, tenantID, seq, g.ID, ops); err != nil {
			return err
		}
		if members {
			g.Members, err = readMembers(ctx, db.ws, tx, seq)
		}
		return err
	})
	if err != nil {
		return store.Group{}, err
	}
	return g, nil
}

// applyMemberOps applies ops to the group (its seq and id) in order, after
// checking every id the AddMembers ops name: all of them must exist, and
// none may contain the group. The group's ancestors do not change while
// its own members do, so one check before the first op holds for all.
func (db *DB) applyMemberOps(ctx context.Context, tx *sql.Tx, tenantID, seq int64, groupID string, ops []store.MemberOp) error {
	var adds []string
	seen := map[string]bool{}
	for _, op := range ops {
		if op.Kind != store.AddMembers {
			continue
		}
		for _, m := range op.Members {
			if !seen[m.Value] {
				seen[m.Value] = true
				adds = append(adds, m.Value)
			}
		}
	}
	if len(adds) > 0 {
		if err := db.checkMembers(ctx, tx, tenantID, groupID, adds); err != nil {
			return err
		}
	}
	for _, op := range ops {
		var err error
		switch op.Kind {
		case store.AddMembers:
			ids := make([]string, len(op.Members))
			for i, m := range op.Members {
				ids[i] = m.Value
			}
			if len(ids) > 0 {
				_, err = db.ws.exec(ctx, tx, sqlAddMembers, tenantID, seq, tenantID, jsonIDs(ids))
			}
		case store.RemoveMembers:
			if len(op.IDs) > 0 {
				_, err = db.ws.exec(ctx, tx, sqlRemoveMembers, seq, jsonIDs(op.IDs))
			}
		case store.RemoveMembersWhere:
			if op.Where == nil {
				return errors.New("sqlite: RemoveMembersWhere without a filter")
			}
			c, cerr := compileMemberFilter(op.Where, tenantID)
			if cerr != nil {
				return cerr
			}
			// Not cached: the write cache is frozen (see stmtCache).
			_, err = tx.ExecContext(ctx, "DELETE FROM group_members AS m WHERE m.group_seq = ? AND ("+c.SQL+")",
				append([]any{seq}, c.Args...)...)
		case store.RemoveAllMembers:
			_, err = db.ws.exec(ctx, tx, sqlRemoveAllMembers, seq)
		default:
			return fmt.Errorf("sqlite: unknown member operation %d", op.Kind)
		}
		if err != nil {
			return dbErr(err)
		}
	}
	return nil
}

// checkMembers returns a *store.MemberError naming every id that is
// neither a user nor a group of the tenant, and every group whose addition
// would make the group a member of itself.
func (db *DB) checkMembers(ctx context.Context, tx *sql.Tx, tenantID int64, groupID string, ids []string) error {
	rows, err := db.ws.query(ctx, tx, sqlCheckMembers, groupID, tenantID, jsonIDs(ids), tenantID, tenantID)
	if err != nil {
		return dbErr(err)
	}
	defer rows.Close()
	var me store.MemberError
	for rows.Next() {
		var id string
		var cycle bool
		if err := rows.Scan(&id, &cycle); err != nil {
			return dbErr(err)
		}
		if cycle {
			me.Cycle = append(me.Cycle, id)
		} else {
			me.Missing = append(me.Missing, id)
		}
	}
	if err := rows.Err(); err != nil {
		return dbErr(err)
	}
	if len(me.Missing) > 0 || len(me.Cycle) > 0 {
		return &me
	}
	return nil
}

// jsonIDs encodes ids as a JSON array, for json_each.
func jsonIDs(ids []string) string {
	b, _ := json.Marshal(ids) // strings always encode
	return string(b)
}

// DeleteGroup destroys a group, its members' rows and its memberships of
// other groups, which get a new version. Returns store.ErrNotFound.
func (db *DB) DeleteGroup(ctx context.Context, tenantID int64, id string) error {
	return db.DeleteGroupIf(ctx, tenantID, id, nil)
}

// DeleteGroupIf is DeleteGroup guarded by check (see store.GroupStore).
func (db *DB) DeleteGroupIf(ctx context.Context, tenantID int64, id string, check func(int64) error) error {
	return db.writeTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := db.checkVersion(ctx, tx, "groups", tenantID, id, check); err != nil {
			return err
		}
		if err := affectedOne(db.ws.exec(ctx, tx, sqlDeleteGroup, tenantID, id)); err != nil {
			return err
		}
		return db.deleteMemberships(ctx, tx, tenantID, id, store.MemberGroup)
	})
}

// deleteMemberships removes a user or group from every group it is a
// member of, giving those groups a new version.
func (db *DB) deleteMemberships(ctx context.Context, tx *sql.Tx, tenantID int64, id, typ string) error {
	if _, err := db.ws.exec(ctx, tx, sqlTouchParents, nanos(db.now()), tenantID, id, typ); err != nil {
		return dbErr(err)
	}
	if _, err := db.ws.exec(ctx, tx, sqlDeleteMemberships, tenantID, id, typ); err != nil {
		return dbErr(err)
	}
	return nil
}

// groupsList is how ListGroups reads groups.
var groupsList = &lister{res: groupsRes, cols: groupCols, countSQL: sqlTenantGrpCnt}

// ListGroups returns the groups of the tenant that match q, like ListUsers,
// with their members when members is true (read in the same transaction,
// with one query for the page). Without members it does not read
// group_members, unless the filter names members.
func (db *DB) ListGroups(ctx context.Context, tenantID int64, q store.Query, members bool) (store.GroupPage, error) {
	var page store.GroupPage
	if q.Count > 0 {
		page.Groups = make([]store.Group, 0, min(q.Count, 128))
	}
	var withMembers func(context.Context, *sql.Tx, []int64) error
	if members {
		db.rs.stmt(ctx, sqlPageMembers)
		withMembers = func(ctx context.Context, tx *sql.Tx, seqs []int64) error {
			return readPageMembers(ctx, db.rs, tx, seqs, page.Groups)
		}
	}
	total, next, err := db.list(ctx, groupsList, tenantID, q, func(row scanner) (int64, error) {
		g, seq, err := scanGroup(row)
		if err != nil {
			return 0, err
		}
		if members {
			g.Members = []store.Member{}
		}
		page.Groups = append(page.Groups, g)
		return seq, nil
	}, withMembers)
	if err != nil {
		return store.GroupPage{}, err
	}
	page.Total, page.Next = total, next
	return page, nil
}

// readPageMembers fills the members of groups, whose seqs are seqs.
func readPageMembers(ctx context.Context, c *stmtCache, tx *sql.Tx, seqs []int64, groups []store.Group) error {
	at := make(map[int64]int, len(seqs))
	for i, s := range seqs {
		at[s] = i
	}
	b, _ := json.Marshal(seqs)
	rows, err := c.query(ctx, tx, sqlPageMembers, string(b))
	if err != nil {
		return dbErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		var m store.Member
		var display sql.NullString
		if err := rows.Scan(&seq, &m.Value, &m.Type, &display); err != nil {
			return dbErr(err)
		}
		m.Display = display.String
		if i, ok := at[seq]; ok {
			groups[i].Members = append(groups[i].Members, m)
		}
	}
	return dbErr(rows.Err())
}

// UserGroups returns, for each of the given users that belongs to a group,
// the groups it belongs to directly and through nested groups (a group
// reached both ways is "direct"), in the groups' creation order. One query
// serves the whole batch.
func (db *DB) UserGroups(ctx context.Context, tenantID int64, userIDs []string) (map[string][]store.GroupRef, error) {
	out := make(map[string][]store.GroupRef)
	if len(userIDs) == 0 {
		return out, nil
	}
	rows, err := db.rs.query(ctx, nil, sqlUserGroups, jsonIDs(userIDs), tenantID)
	if err != nil {
		return nil, dbErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		var user string
		var ref store.GroupRef
		var direct bool
		if err := rows.Scan(&user, &ref.Value, &ref.Display, &direct); err != nil {
			return nil, dbErr(err)
		}
		ref.Type = "indirect"
		if direct {
			ref.Type = "direct"
		}
		out[user] = append(out[user], ref)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr(err)
	}
	return out, nil
}
