package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/scimd/scimd/internal/store"
)

// userCols are the columns scanUser reads.
const userCols = "users.seq, users.id, users.version, users.created, users.modified, users.doc, users.password_hash"

// countSlots is the number of user_counts rows per tenant.
const countSlots = 16

const sqlTenantUserCount = "SELECT coalesce(sum(n), 0)::bigint FROM user_counts WHERE tenant_id = $1"

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
		u, seq, err := db.ScanUser(row)
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
