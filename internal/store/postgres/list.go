package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/scimd/scimd/internal/scim/filter"
	"github.com/scimd/scimd/internal/scim/schema"
	"github.com/scimd/scimd/internal/store"
	"github.com/scimd/scimd/internal/store/sqlstore"
)

// A list (ListUsers, ListGroups) reads the page and, when the page does not
// tell it, the total in one REPEATABLE READ read-only transaction, so that
// they agree. A filtered list first reads the page alone, one statement:
// most are lookups whose short page tells the total.
//
// Paging by startIndex uses OFFSET; pageQuery makes the skipped rows cost
// an index entry each rather than a row. Paging by cursor (q.Cursor) is
// keyset paging: the page is the first rows after q.After in the list's
// order (Order.After), which an index on the order serves as a range, so
// that page N costs what page 1 does, and rows inserted meanwhile never
// shift the rows already seen.

// resource is a resource type's table, as the lists name it.
type resource struct {
	rt    *schema.ResourceType
	table string
}

// col qualifies a column name with the resource's table.
func (r *resource) col(name string) string { return r.table + "." + name }

var (
	usersRes  = &resource{rt: schema.UserType, table: "users"}
	groupsRes = &resource{rt: schema.GroupType, table: "groups"}
)

// compileFilter, compileMemberFilter and compileSort are sqlstore's
// compiler in PostgreSQL's dialect.
func compileFilter(rt *schema.ResourceType, e filter.Expr, tenantID int64) (sqlstore.Cond, error) {
	return sqlstore.CompileFilter(dialect{}, rt, e, tenantID)
}

func compileMemberFilter(e filter.Expr, tenantID int64) (sqlstore.Cond, error) {
	return sqlstore.CompileMemberFilter(dialect{}, e, tenantID)
}

func compileSort(rt *schema.ResourceType, sortBy string, desc bool) (sqlstore.Order, error) {
	return sqlstore.CompileSort(dialect{}, rt, sortBy, desc)
}

// lister is what a list needs to know of its resource.
type lister struct {
	res      *resource
	cols     string // the columns the scan function reads
	countSQL string // the tenant's total without a filter ($1 the tenant)
}

// list runs q for the tenant's resources of l. scan reads one row (the
// columns l.cols) and keeps it, returning its seq. page, when not nil, runs
// in the same transaction once the page is read, with the seqs of its rows.
// It returns the total and, for a cursor query with more rows to come, the
// position of the page's last row. reset is called before each attempt of
// the transaction (which may be retried).
func (db *DB) list(ctx context.Context, l *lister, tenantID int64, q store.Query, reset func(),
	scan func(pgx.Row) (int64, error), page func(tx pgx.Tx, seqs []int64) error,
) (total int, next *store.Position, err error) {
	t := l.res
	where := sqlstore.Cond{SQL: t.col("tenant_id") + " = ?", Args: []any{tenantID}}
	if q.Filter != nil {
		f, err := compileFilter(t.rt, q.Filter, tenantID)
		if err != nil {
			return 0, nil, err
		}
		where = sqlstore.And(where, f)
	}
	ord, err := compileSort(t.rt, q.SortBy, q.SortDescending)
	if err != nil {
		return 0, nil, err
	}
	count := max(q.Count, 0)
	start := max(q.StartIndex, 1)

	countSQL, countArgs := l.countSQL, []any{tenantID} // slots: no scan when there is no filter
	if q.Filter != nil {
		if countSQL, err = bind("SELECT count(*) FROM "+t.table+" WHERE "+where.SQL, len(where.Args)); err != nil {
			return 0, nil, err
		}
		countArgs = where.Args
	}
	readCount := func(r interface {
		QueryRow(context.Context, string, ...any) pgx.Row
	}) (int, error) {
		var n int64
		if err := r.QueryRow(ctx, countSQL, countArgs...).Scan(&n); err != nil {
			return 0, dbErr(err)
		}
		return int(n), nil
	}
	if count == 0 {
		n, err := readCount(db.pool)
		return n, nil, err
	}

	var pageSQL string
	var pageArgs []any
	withKey := false
	if q.Cursor {
		start = 1
		w := where
		if q.After != nil {
			a, err := ord.After(q.After)
			if err != nil {
				return 0, nil, err
			}
			w = sqlstore.And(where, a)
		}
		withKey = ord.Key != ""
		pageSQL, pageArgs, err = cursorQuery(l, w, ord, count+1)
	} else {
		pageSQL, pageArgs, err = pageQuery(l, where, ord, count, start-1)
	}
	if err != nil {
		return 0, nil, err
	}
	// readPage reads the page with r and sets total when the page tells it.
	readPage := func(r querier) ([]int64, error) {
		reset()
		total, next = -1, nil
		rows, err := r.Query(ctx, pageSQL, pageArgs...)
		if err != nil {
			return nil, dbErr(err)
		}
		defer rows.Close()
		var row pgx.Row = rows
		var key, lastKey any
		if withKey {
			row = keyScanner{rows: rows, key: &key}
		}
		var seqs []int64
		more := false
		for rows.Next() {
			if len(seqs) == count {
				more = true // the extra row of a cursor query
				break
			}
			seq, err := scan(row)
			if err != nil {
				return nil, err
			}
			seqs = append(seqs, seq)
			lastKey = key
		}
		if err := rows.Err(); err != nil {
			return nil, dbErr(err)
		}
		rows.Close()
		n := len(seqs)
		switch {
		case q.Cursor && more:
			next = &store.Position{Seq: seqs[n-1], Key: ord.ReadKey(lastKey)}
		case q.Cursor:
			if q.After == nil {
				total = n // the whole result
			}
		case n > 0 && n < count || n == 0 && start == 1:
			// A short page that is not empty ends the result, and so
			// tells the total without counting (the common case of a
			// lookup such as userName eq).
			total = start - 1 + n
		}
		return seqs, nil
	}
	// A filtered list is most often a lookup (userName eq) whose page
	// tells its total: one statement, no transaction. When it does not, the
	// page is read again with the count, in a transaction.
	if q.Filter != nil && page == nil {
		if _, err := readPage(db.pool); err != nil {
			return 0, nil, err
		}
		if total >= 0 {
			return total, next, nil
		}
	}
	err = db.tx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		seqs, err := readPage(tx)
		if err != nil {
			return err
		}
		if page != nil && len(seqs) > 0 {
			if err := page(tx, seqs); err != nil {
				return err
			}
		}
		if total < 0 {
			total, err = readCount(tx)
		}
		return err
	})
	if err != nil {
		return 0, nil, err
	}
	return total, next, nil
}

// querier is a *pgxpool.Pool or a pgx.Tx.
type querier interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}

// keyScanner reads a row whose first column is the sort key into key, and
// the rest into Scan's arguments.
type keyScanner struct {
	rows pgx.Rows
	key  *any
}

func (k keyScanner) Scan(dest ...any) error {
	return k.rows.Scan(append([]any{k.key}, dest...)...)
}

// pageQuery returns the query for one page by offset. It finds the page's
// rows first, by seq, so that the rows that OFFSET skips are walked in an
// index and never read, then reads the page's rows in the same order.
func pageQuery(l *lister, where sqlstore.Cond, o sqlstore.Order, limit, offset int) (string, []any, error) {
	t := l.res
	q := "SELECT " + l.cols + " FROM " + t.table + " WHERE " + t.col("seq") + " IN (SELECT " + t.col("seq") + " FROM " + t.table +
		" WHERE " + where.SQL + " ORDER BY " + o.SQL + " LIMIT ? OFFSET ?) ORDER BY " + o.SQL
	args := make([]any, 0, len(where.Args)+2*len(o.Args)+2)
	args = append(append(append(append(args, where.Args...), o.Args...), limit, offset), o.Args...)
	q, err := bind(q, len(args))
	return q, args, err
}

// cursorQuery returns the query for one page by keyset: where already has
// the keyset condition. The sort key, when there is one, is the first
// column, for the next position.
func cursorQuery(l *lister, where sqlstore.Cond, o sqlstore.Order, limit int) (string, []any, error) {
	cols := l.cols
	args := make([]any, 0, len(o.KeyArgs)+len(where.Args)+len(o.Args)+1)
	if o.Key != "" {
		cols = o.Key + ", " + cols
		args = append(args, o.KeyArgs...)
	}
	q := "SELECT " + cols + " FROM " + l.res.table + " WHERE " + where.SQL + " ORDER BY " + o.SQL + " LIMIT ?"
	args = append(append(append(args, where.Args...), o.Args...), limit)
	q, err := bind(q, len(args))
	return q, args, err
}
