package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/scimd/scimd/internal/store"
)

// groupCols are the columns scanGroup reads.
const groupCols = "groups.seq, groups.id, groups.version, groups.created, groups.modified, json(groups.doc)"

const (
	sqlTenantGrpCnt = "SELECT coalesce(sum(n), 0) FROM group_counts WHERE tenant_id = ?"

	// sqlPageMembers reads the members of the groups whose seqs are in a
	// JSON array.
	sqlPageMembers = "SELECT m.group_seq, m.member_id, m.member_type, " + memberDisplaySQL +
		" FROM group_members m WHERE m.group_seq IN (SELECT value FROM json_each(?)) ORDER BY m.group_seq, m.rowid"
)

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
		g, seq, err := db.ScanGroup(row)
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
