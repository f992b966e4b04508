package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/scimd/scimd/internal/store"
)

// groupCols are the columns scanGroup reads.
const groupCols = "groups.seq, groups.id, groups.version, groups.created, groups.modified, groups.doc"

const (
	sqlTenantGroupCount = "SELECT coalesce(sum(n), 0)::bigint FROM group_counts WHERE tenant_id = $1"

	// sqlPageMembers reads the members of the groups whose seqs are $1.
	sqlPageMembers = "SELECT m.group_seq, m.member_id, m.member_type, " + memberDisplaySQL +
		" FROM group_members m WHERE m.group_seq = ANY($1::bigint[]) ORDER BY m.group_seq, m.ord"
)

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
