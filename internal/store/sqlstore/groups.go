package sqlstore

import (
	"context"
	"fmt"
	"slices"

	"github.com/scimd/scimd/internal/scim"
	"github.com/scimd/scimd/internal/scim/schema"
	"github.com/scimd/scimd/internal/store"
)

// Groups are stored like users: the attributes as a document (without
// members) and the hot ones (displayName, folded and not, externalId) in
// columns. Members are rows of group_members, one each, so that a change
// of membership costs what it changes: adding one member to a group of
// 100,000 inserts one row, removing one deletes one, and neither reads the
// other members nor rewrites the group's document (the group row gets a new
// version and modification time, nothing else). Lists of ids are bound to
// one placeholder (Dialect.In, Dialect.Rows), so every statement is the
// same whatever their length.
//
// A member's type is what its id names in the tenant (users first; ids are
// UUIDs, unique across users and groups), and its display is looked up when
// read (memberDisplay), so renaming a user never touches groups. Deleting a
// user (archived or destroyed) or a group deletes its memberships and gives
// each group it was a member of a new version.
//
// Several PostgreSQL instances may change one tenant's groups at once, so
// what SQLite gets from its single writer is done with row locks (no-ops on
// SQLite), all taken inside the transaction:
//
//   - UpdateGroup locks the group's row (FOR NO KEY UPDATE): changes of one
//     group queue.
//   - Adding members locks the users and groups they name (FOR KEY SHARE),
//     so that a member cannot be deleted between the check that it exists
//     and the commit; deleting it waits, then removes the new membership too
//     (deleteMemberships runs after the delete, with a snapshot that sees
//     it).
//   - Adding a group as a member locks the tenant's row (FOR NO KEY UPDATE)
//     before the cycle check, so that two such changes in one tenant never
//     check at once: two changes that are each acyclic but form a cycle
//     together cannot both commit. Adding users does not take it.

// groupSQL are the statements of groups, built once for the dialect.
type groupSQL struct {
	cols, byID, lockByID, insert, update string
	lockUsers, lockGroups, lockTenant    string
	ancestors, addMembers, removeMembers string
	members, pageMembers, userGroups     string
}

func newGroupSQL(d Dialect) groupSQL {
	var g groupSQL
	g.cols = "groups.seq, groups.id, groups.version, groups.created, groups.modified, " + d.JSONOut("groups.doc")
	g.byID = "SELECT " + g.cols + " FROM groups WHERE groups.tenant_id = ? AND groups.id = ?"
	g.lockByID = g.byID + d.Lock(ForNoKeyUpdate)
	docCols, docVals, docSet := docSQL(d)
	g.insert = "INSERT INTO groups (tenant_id, id, version, created, modified, display_name, display_name_fold, external_id, " + docCols +
		") VALUES (?, ?, ?, ?, ?, ?, ?, ?, " + docVals + ")"
	g.update = "UPDATE groups SET version = ?, modified = ?, display_name = ?, display_name_fold = ?, external_id = ?, " + docSet + " WHERE seq = ?"

	// lockUsers and lockGroups find, and lock against deletion, the users
	// and groups of a tenant whose ids are in a list.
	g.lockUsers = "SELECT id FROM users WHERE tenant_id = ? AND " + d.In("id", "text") + d.Lock(ForKeyShare)
	g.lockGroups = "SELECT id FROM groups WHERE tenant_id = ? AND " + d.In("id", "text") + d.Lock(ForKeyShare)
	// lockTenant serializes the additions of group members in a tenant.
	g.lockTenant = "SELECT id FROM tenants WHERE id = ?" + d.Lock(ForNoKeyUpdate)
	// ancestors returns those of a list of group ids that are the group
	// itself or a group that contains it, directly or not: adding them
	// would make a group a member of itself. The walk up looks parents up
	// by member_id. Arguments: the tenant and the group's id, the tenant,
	// the ids.
	join := d.FixedJoin()
	g.ancestors = `WITH RECURSIVE anc(id) AS (
		SELECT g.id FROM groups g WHERE g.tenant_id = ? AND g.id = ?
		UNION
		SELECT p.id FROM anc
			` + join + ` group_members m ON m.tenant_id = ? AND m.member_id = anc.id AND m.member_type = 'Group'
			` + join + ` groups p ON p.seq = m.group_seq
	)
	SELECT id FROM anc WHERE ` + d.In("id", "text")
	// addMembers adds a list of ids, in order, which the locks found all
	// exist; ids already members are left alone. Arguments: the tenant, the
	// group's seq, the tenant, the ids.
	g.addMembers = "INSERT INTO group_members (tenant_id, group_seq, member_id, member_type) " +
		"SELECT CAST(? AS BIGINT), CAST(? AS BIGINT), x.value, CASE WHEN EXISTS (SELECT 1 FROM users u WHERE u.tenant_id = ? AND u.id = x.value) THEN 'User' ELSE 'Group' END " +
		"FROM " + d.Rows("x", "text") + " WHERE TRUE ORDER BY x.ord ON CONFLICT (group_seq, member_id) DO NOTHING RETURNING member_id, member_type"
	g.removeMembers = "DELETE FROM group_members WHERE group_seq = ? AND " + d.In("member_id", "text") + " RETURNING member_id, member_type"

	display := memberDisplay(d)
	ord := "m." + d.MemberOrder()
	// members reads a group's members in the order they were added.
	g.members = "SELECT m.member_id, m.member_type, " + display + " FROM group_members m WHERE m.group_seq = ? ORDER BY " + ord
	// pageMembers reads the members of the groups whose seqs are in a list.
	g.pageMembers = "SELECT m.group_seq, m.member_id, m.member_type, " + display +
		" FROM group_members m WHERE " + d.In("m.group_seq", "bigint") + " ORDER BY m.group_seq, " + ord
	// userGroups returns the groups each user of a list belongs to:
	// directly (direct 1), or through groups that are members of groups
	// (direct 0). UNION keeps each (user, group, direct) once, so the walk
	// ends even on a cycle. The joins keep their order, so that each step
	// looks its rows up by member_id (SQLite's planner, without
	// statistics, would rather scan the tenant's memberships). Arguments:
	// the tenant, the ids.
	g.userGroups = `WITH RECURSIVE r(user_id, group_seq, direct) AS (
		SELECT m.member_id, m.group_seq, 1 FROM group_members m
			WHERE m.tenant_id = ? AND ` + d.In("m.member_id", "text") + ` AND m.member_type = 'User'
		UNION
		SELECT r.user_id, m.group_seq, 0 FROM r
			` + join + ` groups g ON g.seq = r.group_seq
			` + join + ` group_members m ON m.tenant_id = g.tenant_id AND m.member_id = g.id AND m.member_type = 'Group'
	)
	SELECT r.user_id, g.id, coalesce(g.display_name, ''), max(r.direct) FROM r JOIN groups g ON g.seq = r.group_seq
	GROUP BY r.user_id, r.group_seq, g.id, g.display_name ORDER BY r.user_id, r.group_seq`
	return g
}

// memberDisplay is the display of the member in row m of group_members:
// a user's displayName, else its userName; a group's displayName.
func memberDisplay(d Dialect) string {
	return "CASE m.member_type WHEN 'User' THEN " +
		"(SELECT coalesce(nullif(" + d.JSONField("mu.doc", "displayName") + ", ''), mu.user_name) FROM users mu WHERE mu.tenant_id = m.tenant_id AND mu.id = m.member_id) " +
		"ELSE (SELECT mg.display_name FROM groups mg WHERE mg.tenant_id = m.tenant_id AND mg.id = m.member_id) END"
}

const (
	sqlTouchGroup       = "UPDATE groups SET version = ?, modified = ? WHERE seq = ?"
	sqlDeleteGroup      = "DELETE FROM groups WHERE tenant_id = ? AND id = ?" // its group_members rows cascade
	sqlCountGroups      = "INSERT INTO group_counts (tenant_id, slot, n) VALUES (?, ?, ?) ON CONFLICT (tenant_id, slot) DO UPDATE SET n = group_counts.n + excluded.n"
	sqlTenantGroupCnt   = "SELECT CAST(coalesce(sum(n), 0) AS BIGINT) FROM group_counts WHERE tenant_id = ?"
	sqlRemoveAllMembers = "DELETE FROM group_members WHERE group_seq = ? RETURNING member_id, member_type"
	sqlGroupSeq         = "SELECT seq FROM groups WHERE tenant_id = ? AND id = ?"
)

// groupData is the data of an event about g (without its members), whose
// document is doc.
func groupData(g *store.Group, doc string, changed []string) []byte {
	return resourceData("Group", schema.GroupURN, g.ID, g.Version, g.Created, g.Modified, g.Attrs, doc, changed)
}

// scanGroup reads the columns of groupSQL.cols.
func (s *Store) scanGroup(row Row) (store.Group, int64, error) {
	g, seq, _, err := s.scanGroupSized(row)
	return g, seq, err
}

// scanGroupSized is scanGroup that also returns the size of the group's
// document.
func (s *Store) scanGroupSized(row Row) (store.Group, int64, int, error) {
	r, err := s.scanRow(row, "group")
	if err != nil {
		return store.Group{}, 0, 0, err
	}
	return store.Group{ID: r.id, Version: r.version, Created: r.created, Modified: r.modified, Attrs: r.attrs}, r.seq, r.size, nil
}

// groupHot holds the columns derived from a group's attributes.
type groupHot struct {
	doc, docFold    string
	displayName     any // string or nil
	displayNameFold any // string or nil
	externalID      any // string or nil
}

// deriveGroup computes a group's document and hot columns from its
// attributes. Members are never part of the document.
func (s *Store) deriveGroup(attrs map[string]any) (groupHot, error) {
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
	doc, docFold, err := s.docs(attrs)
	if err != nil {
		return h, fmt.Errorf("%s: encode group: %w", s.d.Name(), err)
	}
	if err := checkLimits(attrs, doc); err != nil {
		return h, err
	}
	h.doc, h.docFold = doc, docFold
	if v, ok := attrs["displayName"].(string); ok {
		h.displayName, h.displayNameFold = v, scim.Fold(v)
	}
	if v, ok := attrs["externalId"].(string); ok {
		h.externalID = v
	}
	return h, nil
}

// CreateGroup stores a new group with Version 1 and its initial members,
// which it returns with their types and displays. Returns a
// *store.MemberError if a member names no user or group of the tenant (or
// the group itself), store.ErrConflict if the id is taken, and
// store.ErrNotFound if the tenant does not exist.
func (s *Store) CreateGroup(ctx context.Context, tenantID int64, g store.Group) (store.Group, error) {
	h, err := s.deriveGroup(g.Attrs)
	if err != nil {
		return store.Group{}, err
	}
	g.Version = 1
	g.Created = fromNanos(nanos(g.Created))
	g.Modified = fromNanos(nanos(g.Modified))
	initial := g.Members
	data := groupData(&g, h.doc, nil)
	err = s.write(ctx, func(ctx context.Context, q Querier) error {
		args := []any{tenantID, g.ID, g.Version, nanos(g.Created), nanos(g.Modified), h.displayName, h.displayNameFold, h.externalID}
		q.Queue(ctx, s.groups.insert, append(args, s.docArgs(h.doc, h.docFold)...)...)
		q.Queue(ctx, sqlCountGroups, tenantID, s.countSlot(), 1)
		s.emit(ctx, q, tenantID, store.EventGroupCreated, store.MemberGroup, g.ID, data)
		g.Members = []store.Member{}
		if len(initial) == 0 {
			return nil
		}
		var seq int64
		if err := q.QueryRow(ctx, sqlGroupSeq, tenantID, g.ID).Scan(&seq); err != nil {
			return err
		}
		if _, err := s.applyMemberOps(ctx, q, tenantID, seq, g.ID, []store.MemberOp{{Kind: store.AddMembers, Members: initial}}); err != nil {
			return err
		}
		var err error
		g.Members, err = s.readMembers(ctx, q, seq)
		return err
	})
	if err != nil {
		return store.Group{}, err
	}
	return g, nil
}

// Group returns a group, with its members when members is true (read in
// the same snapshot), or store.ErrNotFound. Without members it does not
// read group_members.
func (s *Store) Group(ctx context.Context, tenantID int64, id string, members bool) (store.Group, error) {
	if !members {
		g, _, err := s.scanGroup(s.q.QueryRow(ctx, s.groups.byID, tenantID, id))
		return g, err
	}
	var g store.Group
	err := s.b.Read(ctx, func(r Reader) error {
		var seq int64
		var err error
		g, seq, err = s.scanGroup(r.QueryRow(ctx, s.groups.byID, tenantID, id))
		if err != nil {
			return err
		}
		g.Members, err = s.readMembers(ctx, r, seq)
		return err
	})
	if err != nil {
		return store.Group{}, err
	}
	return g, nil
}

// readMembers reads a group's members, in the order they were added.
func (s *Store) readMembers(ctx context.Context, r Reader, seq int64) ([]store.Member, error) {
	rows, err := r.Query(ctx, s.groups.members, seq)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	members := []store.Member{}
	for rows.Next() {
		var m store.Member
		var display *string
		if err := rows.Scan(&m.Value, &m.Type, &display); err != nil {
			return nil, err
		}
		if display != nil {
			m.Display = *display
		}
		members = append(members, m)
	}
	return members, rows.Err()
}

// pageMembers fills the members of groups, whose seqs are seqs, with one
// query.
func (s *Store) pageMembers(ctx context.Context, r Reader, seqs []int64, groups []store.Group) error {
	at := make(map[int64]int, len(seqs))
	for i, seq := range seqs {
		at[seq] = i
	}
	rows, err := r.Query(ctx, s.groups.pageMembers, s.d.List(seqs))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		var m store.Member
		var display *string
		if err := rows.Scan(&seq, &m.Value, &m.Type, &display); err != nil {
			return err
		}
		if display != nil {
			m.Display = *display
		}
		if i, ok := at[seq]; ok {
			groups[i].Members = append(groups[i].Members, m)
		}
	}
	return rows.Err()
}

// UpdateGroup reads the group (without members) with its row locked, calls
// fn with it inside one write transaction, stores the attributes fn left
// (the document only if they changed) with Version incremented, and applies
// the membership changes fn returns, in order. fn's error aborts the update
// and is returned unchanged; so does a *store.MemberError (every missing id
// and every id that would make a cycle, from all the AddMembers ops), or a
// *store.FilterError for a RemoveMembersWhere filter it cannot apply.
// Returns store.ErrNotFound. The result has Members only when members is
// true. fn must be quick, must not call the store, and may be called more
// than once.
func (s *Store) UpdateGroup(ctx context.Context, tenantID int64, id string, members bool, fn func(*store.Group) ([]store.MemberOp, error)) (store.Group, error) {
	var g store.Group
	err := s.write(ctx, func(ctx context.Context, q Querier) error {
		cur, seq, err := s.scanGroup(q.QueryRow(ctx, s.groups.lockByID, tenantID, id))
		if err != nil {
			return err
		}
		oldDoc := s.docOf(cur.Attrs) // before fn, which may change the map in place
		g = cur
		ops, err := fn(&g)
		if err != nil {
			return err
		}
		g.ID, g.Created, g.Version, g.Members = cur.ID, cur.Created, cur.Version+1, nil
		g.Modified = fromNanos(nanos(g.Modified))
		h, err := s.deriveGroup(g.Attrs)
		if err != nil {
			return err
		}
		changed, err := s.applyMemberOps(ctx, q, tenantID, seq, g.ID, ops)
		if err != nil {
			return err
		}
		switch {
		case h.doc != oldDoc:
			args := []any{g.Version, nanos(g.Modified), h.displayName, h.displayNameFold, h.externalID}
			q.Queue(ctx, s.groups.update, append(append(args, s.docArgs(h.doc, h.docFold)...), seq)...)
			s.emit(ctx, q, tenantID, store.EventGroupUpdated, store.MemberGroup, g.ID, groupData(&g, h.doc, changedPaths(oldDoc, h.doc)))
		case changed:
			q.Queue(ctx, sqlTouchGroup, g.Version, nanos(g.Modified), seq)
		default:
			// Nothing changed (an existing member added again, an absent
			// one removed): the version and modification time stay
			// (RFC 7644 §3.5.2).
			g = cur
		}
		if members {
			g.Members, err = s.readMembers(ctx, q, seq)
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
// none may contain the group. It writes a group.member_added or
// group.member_removed event for each member the ops added or removed in
// all (a member removed and added back has none), and reports whether
// there was any. The group's ancestors do not change while its own
// members do, so one check before the first op holds for all.
func (s *Store) applyMemberOps(ctx context.Context, q Querier, tenantID, seq int64, groupID string, ops []store.MemberOp) (changed bool, err error) {
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
		if err := s.checkMembers(ctx, q, tenantID, groupID, adds); err != nil {
			return false, err
		}
	}
	var net netMembers
	for _, op := range ops {
		var got map[string]string
		var order []string
		switch op.Kind {
		case store.AddMembers:
			var ids []string
			added := map[string]bool{}
			for _, m := range op.Members {
				if !added[m.Value] {
					added[m.Value] = true
					ids = append(ids, m.Value)
				}
			}
			if len(ids) > 0 {
				got, _, err = memberRows(q.Query(ctx, s.groups.addMembers, tenantID, seq, tenantID, s.d.List(ids)))
				net.added(ids, got)
			}
			if err != nil {
				return false, err
			}
			continue
		case store.RemoveMembers:
			if len(op.IDs) > 0 {
				got, order, err = memberRows(q.Query(ctx, s.groups.removeMembers, seq, s.d.List(op.IDs)))
			}
		case store.RemoveMembersWhere:
			if op.Where == nil {
				return false, fmt.Errorf("%s: RemoveMembersWhere without a filter", s.d.Name())
			}
			c, cerr := compileMemberFilter(s.d, op.Where, tenantID)
			if cerr != nil {
				return false, cerr
			}
			got, order, err = memberRows(q.Query(ctx, "DELETE FROM group_members AS m WHERE m.group_seq = ? AND ("+c.sql+") RETURNING member_id, member_type", append([]any{seq}, c.args...)...))
		case store.RemoveAllMembers:
			got, order, err = memberRows(q.Query(ctx, sqlRemoveAllMembers, seq))
		default:
			return false, fmt.Errorf("%s: unknown member operation %d", s.d.Name(), op.Kind)
		}
		if err != nil {
			return false, err
		}
		net.removed(got, order)
	}
	added, removed := net.events()
	s.emitMembers(ctx, q, tenantID, store.EventGroupMemberRemoved, groupID, removed)
	s.emitMembers(ctx, q, tenantID, store.EventGroupMemberAdded, groupID, added)
	return len(added)+len(removed) > 0, nil
}

// checkMembers locks the users and groups that ids name against deletion
// until the transaction ends, and returns a *store.MemberError naming every
// id that is neither a user nor a group of the tenant, and every group
// whose addition would make the group a member of itself.
func (s *Store) checkMembers(ctx context.Context, q Querier, tenantID int64, groupID string, ids []string) error {
	found := make(map[string]bool, len(ids))
	var groups []string
	for _, lock := range []struct {
		sql   string
		group bool
	}{{s.groups.lockGroups, true}, {s.groups.lockUsers, false}} {
		got, err := s.ids(ctx, q, lock.sql, tenantID, s.d.List(ids))
		if err != nil {
			return err
		}
		for _, id := range got {
			found[id] = true
			if lock.group {
				groups = append(groups, id)
			}
		}
	}
	var me store.MemberError
	for _, id := range ids {
		if !found[id] {
			me.Missing = append(me.Missing, id)
		}
	}
	if len(groups) > 0 {
		if _, err := q.Exec(ctx, s.groups.lockTenant, tenantID); err != nil {
			return err
		}
		cycle, err := s.ids(ctx, q, s.groups.ancestors, tenantID, groupID, tenantID, s.d.List(groups))
		if err != nil {
			return err
		}
		for _, id := range ids { // in the order they were given
			if slices.Contains(cycle, id) && !slices.Contains(me.Cycle, id) {
				me.Cycle = append(me.Cycle, id)
			}
		}
	}
	if len(me.Missing) > 0 || len(me.Cycle) > 0 {
		return &me
	}
	return nil
}

// ids runs a query whose one column is text (ids, names) and returns its
// values.
func (s *Store) ids(ctx context.Context, r Reader, query string, args ...any) ([]string, error) {
	rows, err := r.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// DeleteGroup destroys a group, its members' rows and its memberships of
// other groups, which get a new version. Returns store.ErrNotFound.
func (s *Store) DeleteGroup(ctx context.Context, tenantID int64, id string) error {
	return s.DeleteGroupIf(ctx, tenantID, id, nil)
}

// DeleteGroupIf is DeleteGroup guarded by check (see store.GroupStore).
func (s *Store) DeleteGroupIf(ctx context.Context, tenantID int64, id string, check func(int64) error) error {
	return s.write(ctx, func(ctx context.Context, q Querier) error {
		if err := s.checkVersion(ctx, q, "groups", tenantID, id, check); err != nil {
			return err
		}
		if err := affectedOne(q.Exec(ctx, sqlDeleteGroup, tenantID, id)); err != nil {
			return err
		}
		q.Queue(ctx, sqlCountGroups, tenantID, s.countSlot(), -1)
		s.emit(ctx, q, tenantID, store.EventGroupDeleted, store.MemberGroup, id, []byte(`{}`))
		s.deleteMemberships(ctx, q, tenantID, id, store.MemberGroup)
		return nil
	})
}

// UserGroups returns, for each of the given users that belongs to a group,
// the groups it belongs to directly and through nested groups (a group
// reached both ways is "direct"), in the groups' creation order. One query
// serves the whole batch.
func (s *Store) UserGroups(ctx context.Context, tenantID int64, userIDs []string) (map[string][]store.GroupRef, error) {
	return s.userGroupsIn(ctx, s.q, tenantID, userIDs)
}

// userGroupsIn is UserGroups read through r.
func (s *Store) userGroupsIn(ctx context.Context, r Reader, tenantID int64, userIDs []string) (map[string][]store.GroupRef, error) {
	out := make(map[string][]store.GroupRef)
	if len(userIDs) == 0 {
		return out, nil
	}
	rows, err := r.Query(ctx, s.groups.userGroups, tenantID, s.d.List(userIDs))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var user string
		var ref store.GroupRef
		var direct int64
		if err := rows.Scan(&user, &ref.Value, &ref.Display, &direct); err != nil {
			return nil, err
		}
		ref.Type = "indirect"
		if direct == 1 {
			ref.Type = "direct"
		}
		out[user] = append(out[user], ref)
	}
	return out, rows.Err()
}

// Statement returns the text of one of the store's statements by name,
// for the backends' tests of query plans; "" for an unknown name.
func (s *Store) Statement(name string) string {
	return map[string]string{
		"user.byID":              s.users.byID,
		"user.byUserName":        s.users.byUserName,
		"group.byID":             s.groups.byID,
		"group.members":          s.groups.members,
		"group.pageMembers":      s.groups.pageMembers,
		"group.addMembers":       s.groups.addMembers,
		"group.removeMembers":    s.groups.removeMembers,
		"group.lockUsers":        s.groups.lockUsers,
		"group.lockGroups":       s.groups.lockGroups,
		"group.ancestors":        s.groups.ancestors,
		"group.userGroups":       s.groups.userGroups,
		"group.touchParents":     sqlTouchParents,
		"group.deleteMembership": sqlDeleteMemberOfs,
		"host.statusByID":        sqlStatusByID,
		"host.statusByUserName":  sqlStatusByUserName,
		"host.archivedStatus":    sqlArchivedStatus,
		"host.appKey":            sqlAppKey,
		"tenant.countInactive":   sqlCountInactive,
		"tenant.countArchived":   sqlCountArchived,
		"tenant.countKeys":       sqlCountKeys,
		"tenant.purgeMembers":    tenantTables[0].deleteChunk(),
		"tenant.purgeUsers":      tenantTables[2].deleteChunk(),
		"tenant.purgeEvents":     tenantTables[5].deleteChunk(),
		"activity.last":          sqlLastActivity,
		"activity.lastChange":    sqlLastChange,
		"activity.lastFailure":   sqlLastFailure,
		"activity.counts":        sqlActivityCount,
		"activity.countFailure":  sqlCountFinishFailure,
	}[name]
}
