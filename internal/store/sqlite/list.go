package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/scimd/scimd/internal/scim/filter"
	"github.com/scimd/scimd/internal/scim/schema"
	"github.com/scimd/scimd/internal/store"
	"github.com/scimd/scimd/internal/store/sqlstore"
)

// A list (ListUsers, ListGroups) is one read transaction: the page, then,
// when the page does not tell it, the total.
//
// Paging by startIndex uses OFFSET; pageQuery makes the skipped rows cost
// an index entry each rather than a row. Paging by cursor (q.Cursor) is
// keyset paging: the page is the first rows after q.After in the list's
// order (Order.After), which an index on the order serves as a range, so
// that page N costs what page 1 does; rows inserted meanwhile have a
// greater seq (AUTOINCREMENT) and so never shift the rows already seen.

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
// compiler in SQLite's dialect.
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
	countSQL string // the tenant's total without a filter
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(...any) error }

// keyScanner reads a row whose first column is the sort key into key, and
// the rest into Scan's arguments.
type keyScanner struct {
	rows *sql.Rows
	key  *any
}

func (k keyScanner) Scan(dest ...any) error {
	return k.rows.Scan(append([]any{k.key}, dest...)...)
}

// list runs q for the tenant's resources of l. scan reads one row (the
// columns l.cols) and keeps it, returning its seq. page, when not nil, runs
// in the same transaction once the page is read, with the seqs of its rows.
// It returns the total and, for a cursor query with more rows to come, the
// position of the page's last row.
func (db *DB) list(ctx context.Context, l *lister, tenantID int64, q store.Query,
	scan func(scanner) (int64, error), page func(ctx context.Context, tx *sql.Tx, seqs []int64) error,
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

	var pageSQL string
	var pageArgs []any
	withKey := ord.Key != ""
	// By offset, a page may start where a page served before ended (see
	// offsetCache): then it is a keyset page, if the stamp read in the
	// transaction shows that nothing has changed since.
	var ok offsetKey
	var known offsetPos
	var knownSQL string
	var knownArgs []any
	haveKnown := false
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
		pageSQL, pageArgs = cursorQuery(l, w, ord, count+1)
	} else {
		pageSQL, pageArgs = pageQuery(l, where, ord, count, start-1)
		if count > 0 {
			ok = offsetKey{tenant: tenantID, query: queryKey(t.table, where, ord), offset: start - 1}
			if start > 1 {
				known, haveKnown = db.offsets.get(ok)
			}
			if haveKnown {
				knownSQL, knownArgs = cursorQuery(l, sqlstore.And(where, ord.AfterBound(known.seq, known.key)), ord, count)
				db.rs.stmt(ctx, knownSQL)
			}
			db.rs.stmt(ctx, sqlListStamp)
		}
	}
	countSQL := l.countSQL // maintained by triggers: no scan when there is no filter
	countArgs := []any{tenantID}
	if q.Filter != nil {
		countSQL, countArgs = "SELECT count(*) FROM "+t.table+" WHERE "+where.SQL, where.Args
	}
	// Prepare before the transaction takes a connection (see stmtCache.stmt).
	if count > 0 {
		db.rs.stmt(ctx, pageSQL)
	}
	db.rs.stmt(ctx, countSQL)

	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return 0, nil, dbErr(err)
	}
	defer tx.Rollback()

	total = -1
	// The stamp, read in this transaction, is the one of its snapshot,
	// before or after the page.
	var stamp int64
	stampRead := false
	readStamp := func() error {
		stampRead = true
		return dbErr(db.rs.queryRow(ctx, tx, sqlListStamp, tenantID, t.table).Scan(&stamp))
	}
	if haveKnown {
		if err := readStamp(); err != nil {
			return 0, nil, err
		}
		if known.stamp == stamp {
			pageSQL, pageArgs = knownSQL, knownArgs
			db.offsets.hits.Add(1)
		}
	}
	if count > 0 {
		rows, err := db.rs.query(ctx, tx, pageSQL, pageArgs...)
		if err != nil {
			return 0, nil, dbErr(err)
		}
		defer rows.Close()
		var row scanner = rows
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
				return 0, nil, err
			}
			seqs = append(seqs, seq)
			lastKey = key
		}
		if err := rows.Err(); err != nil {
			return 0, nil, dbErr(err)
		}
		rows.Close()
		n := len(seqs)
		if ok.query != "" && n == count {
			// A full page: the next may be asked for.
			if !stampRead {
				if err := readStamp(); err != nil {
					return 0, nil, err
				}
			}
			ok.offset += n
			db.offsets.put(ok, offsetPos{stamp: stamp, seq: seqs[n-1], key: lastKey})
		}
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
		if page != nil && n > 0 {
			if err := page(ctx, tx, seqs); err != nil {
				return 0, nil, err
			}
		}
	}
	if total < 0 {
		if err := db.rs.queryRow(ctx, tx, countSQL, countArgs...).Scan(&total); err != nil {
			return 0, nil, dbErr(err)
		}
	}
	return total, next, nil
}

// pageQuery returns the query for one page by offset. It finds the page's
// rows first, by seq, so that the rows that OFFSET skips are walked in an
// index and never read (a third faster deep into a large tenant), then
// reads the page's rows in the same order.
//
// The sort key, when there is one, is the first column, for the offset
// cache.
func pageQuery(l *lister, where sqlstore.Cond, o sqlstore.Order, limit, offset int) (string, []any) {
	t := l.res
	cols := l.cols
	args := make([]any, 0, len(o.KeyArgs)+len(where.Args)+2*len(o.Args)+2)
	if o.Key != "" {
		cols = o.Key + ", " + cols
		args = append(args, o.KeyArgs...)
	}
	q := "SELECT " + cols + " FROM " + t.table + " WHERE " + t.col("seq") + " IN (SELECT " + t.col("seq") + " FROM " + t.table +
		" WHERE " + where.SQL + " ORDER BY " + o.SQL + " LIMIT ? OFFSET ?) ORDER BY " + o.SQL
	args = append(append(append(append(args, where.Args...), o.Args...), limit, offset), o.Args...)
	return q, args
}

// cursorQuery returns the query for one page by keyset: where already has
// the keyset condition. The sort key, when there is one, is the first
// column, for the next position.
func cursorQuery(l *lister, where sqlstore.Cond, o sqlstore.Order, limit int) (string, []any) {
	cols := l.cols
	args := make([]any, 0, len(o.KeyArgs)+len(where.Args)+len(o.Args)+1)
	if o.Key != "" {
		cols = o.Key + ", " + cols
		args = append(args, o.KeyArgs...)
	}
	q := "SELECT " + cols + " FROM " + l.res.table + " WHERE " + where.SQL + " ORDER BY " + o.SQL + " LIMIT ?"
	args = append(append(append(args, where.Args...), o.Args...), limit)
	return q, args
}

// sqlListStamp reads the change count of a tenant's table (list_stamps).
const sqlListStamp = "SELECT coalesce((SELECT changes FROM list_stamps WHERE tenant_id = ? AND tbl = ?), 0)"

// offsetCache remembers where pages served by offset ended: for a query
// (its SQL and arguments) and an offset, the seq and sort key of the row
// just before it, and the tenant's change stamp when it was read. A request
// for the page at that offset, with the stamp unchanged, is a keyset page
// from there (the rows after the position in the same total order are the
// rows at that offset and beyond): an import walking startIndex 1, 1001,
// 2001, … then pays for each page, not for the rows before it. A changed
// stamp, or a position forgotten, falls back to OFFSET, so results never
// depend on this memory. It holds at most maxOffsetEntries positions.
type offsetCache struct {
	mu   sync.Mutex
	m    map[offsetKey]offsetPos
	hits atomic.Int64 // pages served from a remembered position
}

const maxOffsetEntries = 4096

type offsetKey struct {
	tenant int64
	query  string
	offset int
}

type offsetPos struct {
	stamp int64
	seq   int64
	key   any // as the sort expression returned it
}

func (c *offsetCache) get(k offsetKey) (offsetPos, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.m[k]
	return p, ok
}

func (c *offsetCache) put(k offsetKey, p offsetPos) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxOffsetEntries {
		c.m = make(map[offsetKey]offsetPos)
	}
	c.m[k] = p
}

// queryKey identifies a list query: its table, condition, order and their
// arguments.
func queryKey(table string, where sqlstore.Cond, o sqlstore.Order) string {
	var b strings.Builder
	b.WriteString(table + "\x00" + where.SQL + "\x00" + o.SQL)
	for _, args := range [][]any{where.Args, o.Args} {
		b.WriteString("\x00")
		for _, a := range args {
			if s, ok := a.(string); ok {
				b.WriteString(strconv.Quote(s))
			} else {
				fmt.Fprintf(&b, "%T:%v", a, a)
			}
			b.WriteByte(',')
		}
	}
	return b.String()
}
