package sqlite

import (
	"context"

	"github.com/scimd/scimd/internal/store"
)

// userCols are the columns scanUser reads. The document is stored as
// JSONB (SQLite's binary JSON, which json_extract reads several times
// faster than text) and read back as text.
const userCols = "users.seq, users.id, users.version, users.created, users.modified, json(users.doc), users.password_hash"

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
