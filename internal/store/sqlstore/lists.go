package sqlstore

import (
	"context"

	"github.com/scimd/scimd/internal/store"
)

// ListUsers returns the live users of the tenant that match q, ordered by
// q.SortBy and then by creation, with the exact number that matched. The
// page and the count come from one read transaction, so they agree. With
// q.Cursor the page follows q.After (keyset paging, see list). Returns a
// *store.FilterError for a filter or sort it cannot apply, or a cursor
// whose key does not fit the sort.
func (s *Store) ListUsers(ctx context.Context, tenantID int64, q store.Query) (store.UserPage, error) {
	var page store.UserPage
	total, next, err := s.list(ctx, s.usersList, tenantID, q, func() {
		page.Users = nil
		if q.Count > 0 {
			page.Users = make([]store.User, 0, min(q.Count, 128))
		}
	}, func(row Row) (int64, int, error) {
		u, seq, size, err := s.scanUserSized(row)
		if err != nil {
			return 0, 0, err
		}
		page.Users = append(page.Users, u)
		return seq, size, nil
	}, nil)
	if err != nil {
		return store.UserPage{}, err
	}
	page.Total, page.Next = total, next
	return page, nil
}

// ListGroups returns the groups of the tenant that match q, like ListUsers,
// with their members when members is true (read in the same transaction,
// with one query for the page). Without members it does not read
// group_members, unless the filter names members.
func (s *Store) ListGroups(ctx context.Context, tenantID int64, q store.Query, members bool) (store.GroupPage, error) {
	var page store.GroupPage
	var withMembers func(context.Context, Reader, []int64) error
	if members {
		withMembers = func(ctx context.Context, r Reader, seqs []int64) error {
			return s.pageMembers(ctx, r, seqs, page.Groups)
		}
	}
	total, next, err := s.list(ctx, s.groupsList, tenantID, q, func() {
		page.Groups = nil
		if q.Count > 0 {
			page.Groups = make([]store.Group, 0, min(q.Count, 128))
		}
	}, func(row Row) (int64, int, error) {
		g, seq, size, err := s.scanGroupSized(row)
		if err != nil {
			return 0, 0, err
		}
		if members {
			g.Members = []store.Member{}
		}
		page.Groups = append(page.Groups, g)
		return seq, size, nil
	}, withMembers)
	if err != nil {
		return store.GroupPage{}, err
	}
	page.Total, page.Next = total, next
	return page, nil
}
