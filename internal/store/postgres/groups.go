package postgres

import (
	"bytes"
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

var _ store.GroupStore = (*DB)(nil)

// Groups are stored like users: one row with the attributes as a JSONB
// document (and its folded copy) and the hot ones (displayName, folded and
// not, externalId) in columns. Members are rows of group_members, one
// each, so that a change of membership costs what it changes: adding one
// member to a group of 100,000 inserts one row, removing one deletes one,
// and neither reads the other members nor rewrites the group's document.
// Member ids are bound as one text[] parameter, so every statement is the
// same whatever the number of ids.
//
// A member's type is what its id names in the tenant (users first), and
// its display is looked up when read (memberDisplaySQL), so renaming a user
// never touches groups. Deleting a user (archived or destroyed) or a group
// deletes its memberships and gives each group it was a member of a new
// version.
//
// Several instances may change one tenant's groups at once, so what the
// SQLite backend gets from its single writer is done with row locks, all
// taken inside the transaction and, on a deadlock, retried (see DB.tx):
//
//   - UpdateGroup locks the group's row (FOR NO KEY UPDATE): changes of
//     one group queue.
//   - Adding members locks the users and groups they name (FOR KEY SHARE),
//     so that a member cannot be deleted between the check that it exists
//     and the commit; deleting it waits, then removes the new membership too
//     (the statement that removes memberships runs after the delete, with a
//     snapshot that sees it).
//   - Adding a group as a member locks the tenant's row (FOR NO KEY UPDATE)
//     before the cycle check, so that two such changes in one tenant never
//     check at once: two changes that are each acyclic but form a cycle
//     together cannot both commit. Adding users does not take it; it does
//     not conflict with creating users (foreign key checks take KEY SHARE).

// groupCols are the columns scanGroup reads.
const groupCols = "groups.seq, groups.id, groups.version, groups.created, groups.modified, groups.doc"

const (
	sqlGroupByID     = "SELECT " + groupCols + " FROM groups WHERE groups.tenant_id = $1 AND groups.id = $2"
	sqlLockGroupByID = sqlGroupByID + " FOR NO KEY UPDATE"

	// $1 tenant, $2 count slot, $3 id, $4 created, $5 modified, $6 display
	// name, $7 folded, $8 externalId, $9 doc, $10 doc_fold.
	sqlInsertGroup = `WITH g AS (
		INSERT INTO groups (tenant_id, id, version, created, modified, display_name, display_name_fold, external_id, doc, doc_fold)
		VALUES ($1::bigint, $3::text, 1, $4::bigint, $5::bigint, $6::text, $7::text, $8::text, $9::jsonb, $10::jsonb)
		RETURNING seq
	), c AS (
		INSERT INTO group_counts (tenant_id, slot, n) SELECT $1::bigint, $2::int, 1 FROM g
		ON CONFLICT (tenant_id, slot) DO UPDATE SET n = group_counts.n + 1
	)
	SELECT seq FROM g`
	sqlUpdateGroup = "UPDATE groups SET version = $2, modified = $3, display_name = $4, display_name_fold = $5, external_id = $6, doc = $7, doc_fold = $8 WHERE seq = $1"
	sqlTouchGroup  = "UPDATE groups SET version = $2, modified = $3 WHERE seq = $1"
	// $1 tenant, $2 id, $3 count slot. Its group_members rows cascade.
	sqlDeleteGroup = `WITH d AS (
		DELETE FROM groups WHERE tenant_id = $1 AND id = $2 RETURNING seq
	), c AS (
		INSERT INTO group_counts (tenant_id, slot, n) SELECT $1::bigint, $3::int, -1 FROM d
		ON CONFLICT (tenant_id, slot) DO UPDATE SET n = group_counts.n - 1
	)
	SELECT count(*) FROM d`
	sqlTenantGroupCount = "SELECT coalesce(sum(n), 0)::bigint FROM group_counts WHERE tenant_id = $1"

	// sqlDeleteMemberships removes a user or group ($2, of type $3) from
	// every group of tenant $1 and gives those groups a new version and
	// modification time ($4).
	sqlDeleteMemberships = `WITH d AS (
		DELETE FROM group_members WHERE tenant_id = $1 AND member_id = $2 AND member_type = $3 RETURNING group_seq
	)
	UPDATE groups SET version = version + 1, modified = $4 WHERE seq IN (SELECT group_seq FROM d)`

	// sqlLockUsers and sqlLockGroups find, and lock against deletion, the
	// users and groups of tenant $1 whose ids are in $2.
	sqlLockUsers  = "SELECT id FROM users WHERE tenant_id = $1 AND id = ANY($2::text[]) FOR KEY SHARE"
	sqlLockGroups = "SELECT id FROM groups WHERE tenant_id = $1 AND id = ANY($2::text[]) FOR KEY SHARE"
	// sqlLockTenant serializes the additions of group members in a tenant.
	sqlLockTenant = "SELECT id FROM tenants WHERE id = $1 FOR NO KEY UPDATE"
	// sqlAncestors returns those of the ids $3 that are the group $1
	// itself or a group that contains it, directly or not: adding them
	// would make a group a member of itself.
	sqlAncestors = `WITH RECURSIVE anc(id) AS (
		SELECT $1::text COLLATE "C"
		UNION
		SELECT p.id FROM anc
			JOIN group_members m ON m.tenant_id = $2 AND m.member_id = anc.id AND m.member_type = 'Group'
			JOIN groups p ON p.seq = m.group_seq
	)
	SELECT id FROM anc WHERE id = ANY($3::text[])`
	// sqlAddMembers adds the ids $3 with their types $4, in order; ids
	// already members are left alone.
	sqlAddMembers = `INSERT INTO group_members (tenant_id, group_seq, member_id, member_type)
		SELECT $1::bigint, $2::bigint, x.id, x.typ FROM unnest($3::text[], $4::text[]) WITH ORDINALITY AS x(id, typ, n)
		ORDER BY x.n
		ON CONFLICT (group_seq, member_id) DO NOTHING`
	sqlRemoveMembers    = "DELETE FROM group_members WHERE group_seq = $1 AND member_id = ANY($2::text[])"
	sqlRemoveAllMembers = "DELETE FROM group_members WHERE group_seq = $1"

	// sqlMembers reads a group's members in the order they were added.
	sqlMembers = "SELECT m.member_id, m.member_type, " + memberDisplaySQL +
		" FROM group_members m WHERE m.group_seq = $1 ORDER BY m.ord"
	// sqlPageMembers reads the members of the groups whose seqs are $1.
	sqlPageMembers = "SELECT m.group_seq, m.member_id, m.member_type, " + memberDisplaySQL +
		" FROM group_members m WHERE m.group_seq = ANY($1::bigint[]) ORDER BY m.group_seq, m.ord"

	// sqlUserGroups returns the groups each user of $1 belongs to in
	// tenant $2: directly (direct 1), or through groups that are members of
	// groups (direct 0). UNION keeps each (user, group, direct) once, so
	// the walk ends even on a cycle.
	sqlUserGroups = `WITH RECURSIVE r(user_id, group_seq, direct) AS (
		SELECT m.member_id, m.group_seq, 1 FROM group_members m
			WHERE m.tenant_id = $2 AND m.member_id = ANY($1::text[]) AND m.member_type = 'User'
		UNION
		SELECT r.user_id, m.group_seq, 0 FROM r
			JOIN groups g ON g.seq = r.group_seq
			JOIN group_members m ON m.tenant_id = g.tenant_id AND m.member_id = g.id AND m.member_type = 'Group'
	)
	SELECT r.user_id, g.id, coalesce(g.display_name, ''), max(r.direct) FROM r JOIN groups g ON g.seq = r.group_seq
	GROUP BY r.user_id, r.group_seq, g.id, g.display_name ORDER BY r.user_id, r.group_seq`
)

// scanGroup reads the columns groupCols names.
func scanGroup(row pgx.Row) (store.Group, int64, error) {
	var g store.Group
	var seq, created, modified int64
	var doc []byte
	if err := row.Scan(&seq, &g.ID, &g.Version, &created, &modified, &doc); err != nil {
		return store.Group{}, 0, dbErr(err)
	}
	g.Created = fromNanos(created)
	g.Modified = fromNanos(modified)
	if err := json.Unmarshal(doc, &g.Attrs); err != nil {
		return store.Group{}, 0, fmt.Errorf("postgres: group %s: corrupt document: %w", g.ID, err)
	}
	if g.Attrs == nil {
		g.Attrs = map[string]any{}
	}
	return g, seq, nil
}

// groupHot holds the columns derived from a group's attributes.
type groupHot struct {
	doc, docFold    []byte
	displayName     *string
	displayNameFold *string
	externalID      *string
}

// deriveGroup computes a group's documents and hot columns from its
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
		return h, fmt.Errorf("postgres: encode group: %w", err)
	}
	h.doc = doc
	var generic any
	if err := json.Unmarshal(doc, &generic); err != nil {
		return h, fmt.Errorf("postgres: encode group: %w", err)
	}
	if h.docFold, err = json.Marshal(foldStrings(generic)); err != nil {
		return h, fmt.Errorf("postgres: encode group: %w", err)
	}
	if s, ok := attrs["displayName"].(string); ok {
		f := scim.Fold(s)
		h.displayName, h.displayNameFold = &s, &f
	}
	if s, ok := attrs["externalId"].(string); ok {
		h.externalID = &s
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
	err = db.tx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		var seq int64
		err := tx.QueryRow(ctx, sqlInsertGroup, tenantID, rand.IntN(countSlots), g.ID, nanos(g.Created), nanos(g.Modified),
			h.displayName, h.displayNameFold, h.externalID, h.doc, h.docFold).Scan(&seq)
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
		g.Members, err = readMembers(ctx, tx, seq)
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
		g, _, err := scanGroup(db.pool.QueryRow(ctx, sqlGroupByID, tenantID, id))
		return g, err
	}
	var g store.Group
	err := db.tx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var seq int64
		var err error
		g, seq, err = scanGroup(tx.QueryRow(ctx, sqlGroupByID, tenantID, id))
		if err != nil {
			return err
		}
		g.Members, err = readMembers(ctx, tx, seq)
		return err
	})
	if err != nil {
		return store.Group{}, err
	}
	return g, nil
}

// readMembers reads a group's members, in the order they were added.
func readMembers(ctx context.Context, tx pgx.Tx, seq int64) ([]store.Member, error) {
	rows, err := tx.Query(ctx, sqlMembers, seq)
	if err != nil {
		return nil, dbErr(err)
	}
	defer rows.Close()
	members := []store.Member{}
	for rows.Next() {
		var m store.Member
		var display *string
		if err := rows.Scan(&m.Value, &m.Type, &display); err != nil {
			return nil, dbErr(err)
		}
		if display != nil {
			m.Display = *display
		}
		members = append(members, m)
	}
	return members, dbErr(rows.Err())
}

// UpdateGroup reads the group (without members) with its row locked, calls
// fn with it inside one transaction, stores the attributes fn left (the
// document only if they changed) with Version incremented, and applies the
// membership changes fn returns, in order. fn's error aborts the update
// and is returned unchanged; so does a *store.MemberError (every missing id
// and every id that would make a cycle, from all the AddMembers ops), or a
// *store.FilterError for a RemoveMembersWhere filter it cannot apply.
// Returns store.ErrNotFound. The result has Members only when members is
// true. fn may be called more than once (see DB.tx) and must not call the
// store.
func (db *DB) UpdateGroup(ctx context.Context, tenantID int64, id string, members bool, fn func(*store.Group) ([]store.MemberOp, error)) (store.Group, error) {
	var g store.Group
	err := db.tx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		cur, seq, err := scanGroup(tx.QueryRow(ctx, sqlLockGroupByID, tenantID, id))
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
			_, err = tx.Exec(ctx, sqlTouchGroup, seq, g.Version, nanos(g.Modified))
		} else {
			_, err = tx.Exec(ctx, sqlUpdateGroup, seq, g.Version, nanos(g.Modified),
				h.displayName, h.displayNameFold, h.externalID, h.doc, h.docFold)
		}
		if err != nil {
			return dbErr(err)
		}
		if err := db.applyMemberOps(ctx, tx, tenantID, seq, g.ID, ops); err != nil {
			return err
		}
		if members {
			g.Members, err = readMembers(ctx, tx, seq)
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
func (db *DB) applyMemberOps(ctx context.Context, tx pgx.Tx, tenantID, seq int64, groupID string, ops []store.MemberOp) error {
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
	types := map[string]string{}
	if len(adds) > 0 {
		var err error
		if types, err = checkMembers(ctx, tx, tenantID, groupID, adds); err != nil {
			return err
		}
	}
	for _, op := range ops {
		var err error
		switch op.Kind {
		case store.AddMembers:
			var ids, typs []string
			added := map[string]bool{}
			for _, m := range op.Members {
				if !added[m.Value] {
					added[m.Value] = true
					ids, typs = append(ids, m.Value), append(typs, types[m.Value])
				}
			}
			if len(ids) > 0 {
				_, err = tx.Exec(ctx, sqlAddMembers, tenantID, seq, ids, typs)
			}
		case store.RemoveMembers:
			if len(op.IDs) > 0 {
				_, err = tx.Exec(ctx, sqlRemoveMembers, seq, op.IDs)
			}
		case store.RemoveMembersWhere:
			if op.Where == nil {
				return errors.New("postgres: RemoveMembersWhere without a filter")
			}
			c, cerr := compileMemberFilter(op.Where, tenantID)
			if cerr != nil {
				return cerr
			}
			q, berr := bind("DELETE FROM group_members AS m WHERE m.group_seq = ? AND ("+c.SQL+")", len(c.Args)+1)
			if berr != nil {
				return berr
			}
			_, err = tx.Exec(ctx, q, append([]any{seq}, c.Args...)...)
		case store.RemoveAllMembers:
			_, err = tx.Exec(ctx, sqlRemoveAllMembers, seq)
		default:
			return fmt.Errorf("postgres: unknown member operation %d", op.Kind)
		}
		if err != nil {
			return dbErr(err)
		}
	}
	return nil
}

// checkMembers returns the type of each of ids, locking the users and
// groups they name against deletion until the transaction ends, or a
// *store.MemberError naming every id that is neither a user nor a group of
// the tenant, and every group whose addition would make the group a member
// of itself.
func checkMembers(ctx context.Context, tx pgx.Tx, tenantID int64, groupID string, ids []string) (map[string]string, error) {
	types := make(map[string]string, len(ids))
	var groups []string
	for _, q := range []struct{ sql, typ string }{{sqlLockGroups, store.MemberGroup}, {sqlLockUsers, store.MemberUser}} {
		rows, err := tx.Query(ctx, q.sql, tenantID, ids)
		if err != nil {
			return nil, dbErr(err)
		}
		found, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return nil, dbErr(err)
		}
		for _, id := range found {
			types[id] = q.typ // users last: an id that names both is a user
			if q.typ == store.MemberGroup {
				groups = append(groups, id)
			}
		}
	}
	var me store.MemberError
	for _, id := range ids {
		if types[id] == "" {
			me.Missing = append(me.Missing, id)
		}
	}
	if len(groups) > 0 {
		if _, err := tx.Exec(ctx, sqlLockTenant, tenantID); err != nil {
			return nil, dbErr(err)
		}
		rows, err := tx.Query(ctx, sqlAncestors, groupID, tenantID, groups)
		if err != nil {
			return nil, dbErr(err)
		}
		cycle, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return nil, dbErr(err)
		}
		for _, id := range cycle {
			if !slices.Contains(me.Cycle, id) {
				me.Cycle = append(me.Cycle, id)
			}
		}
	}
	if len(me.Missing) > 0 || len(me.Cycle) > 0 {
		return nil, &me
	}
	return types, nil
}

// DeleteGroup destroys a group, its members' rows and its memberships of
// other groups, which get a new version. Returns store.ErrNotFound.
func (db *DB) DeleteGroup(ctx context.Context, tenantID int64, id string) error {
	return db.DeleteGroupIf(ctx, tenantID, id, nil)
}

// DeleteGroupIf is DeleteGroup guarded by check (see store.GroupStore).
func (db *DB) DeleteGroupIf(ctx context.Context, tenantID int64, id string, check func(int64) error) error {
	return db.tx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		if err := checkVersion(ctx, tx, "groups", tenantID, id, check); err != nil {
			return err
		}
		var n int64
		if err := tx.QueryRow(ctx, sqlDeleteGroup, tenantID, id, rand.IntN(countSlots)).Scan(&n); err != nil {
			return dbErr(err)
		}
		if n == 0 {
			return store.ErrNotFound
		}
		return db.deleteMemberships(ctx, tx, tenantID, id, store.MemberGroup)
	})
}

// deleteMemberships removes a user or group from every group it is a
// member of, giving those groups a new version. It runs as a statement of
// its own after the resource's deletion, so that, in READ COMMITTED, it
// sees memberships committed by a transaction that the deletion waited for.
func (db *DB) deleteMemberships(ctx context.Context, tx pgx.Tx, tenantID int64, id, typ string) error {
	_, err := tx.Exec(ctx, sqlDeleteMemberships, tenantID, id, typ, nanos(db.now()))
	return dbErr(err)
}

// groupsList is how ListGroups reads groups.
var groupsList = &lister{res: groupsRes, cols: groupCols, countSQL: sqlTenantGroupCount}

// ListGroups returns the groups of the tenant that match q, like ListUsers,
// with their members when members is true (read in the same transaction,
// with one query for the page). Without members it does not read
// group_members, unless the filter names members.
func (db *DB) ListGroups(ctx context.Context, tenantID int64, q store.Query, members bool) (store.GroupPage, error) {
	var page store.GroupPage
	var withMembers func(pgx.Tx, []int64) error
	if members {
		withMembers = func(tx pgx.Tx, seqs []int64) error {
			return readPageMembers(ctx, tx, seqs, page.Groups)
		}
	}
	total, next, err := db.list(ctx, groupsList, tenantID, q, func() {
		page.Groups = nil
		if q.Count > 0 {
			page.Groups = make([]store.Group, 0, min(q.Count, 128))
		}
	}, func(row pgx.Row) (int64, error) {
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
func readPageMembers(ctx context.Context, tx pgx.Tx, seqs []int64, groups []store.Group) error {
	at := make(map[int64]int, len(seqs))
	for i, s := range seqs {
		at[s] = i
	}
	rows, err := tx.Query(ctx, sqlPageMembers, seqs)
	if err != nil {
		return dbErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		var m store.Member
		var display *string
		if err := rows.Scan(&seq, &m.Value, &m.Type, &display); err != nil {
			return dbErr(err)
		}
		if display != nil {
			m.Display = *display
		}
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
	rows, err := db.pool.Query(ctx, sqlUserGroups, userIDs, tenantID)
	if err != nil {
		return nil, dbErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		var user string
		var ref store.GroupRef
		var direct int32
		if err := rows.Scan(&user, &ref.Value, &ref.Display, &direct); err != nil {
			return nil, dbErr(err)
		}
		ref.Type = "indirect"
		if direct == 1 {
			ref.Type = "direct"
		}
		out[user] = append(out[user], ref)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr(err)
	}
	return out, nil
}
