package sqlstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/scimd/scimd/internal/store"
)

// A list (ListUsers, ListGroups) reads the page and, when the page does not
// tell it, the total in one read transaction (Backend.Read), so that they
// agree. A filtered list first reads the page alone, one statement: most
// are lookups (userName eq) whose short page tells the total.
//
// Paging by startIndex uses OFFSET; pageQuery makes the skipped rows cost
// an index entry each rather than a row. Paging by cursor (q.Cursor) is
// keyset paging: the page is the first rows after q.After in the list's
// order (order.after), which an index on the order serves as a range, so
// that page N costs what page 1 does, and rows inserted meanwhile have a
// greater seq and so never shift the rows already seen.
//
// Where the dialect keeps list stamps (SQLite: a per-tenant change count
// kept by triggers), a page by offset may also start where a page served
// before ended (see offsetCache), as a keyset page, if the stamp read in
// the same transaction shows that nothing has changed since.

// lister is what a list needs to know of its resource.
type lister struct {
	res      *resource
	cols     string // the columns the scan function reads
	countSQL string // the tenant's total without a filter
}

// keyScanner reads a row whose first column is the sort key into key, and
// the rest into Scan's arguments.
type keyScanner struct {
	rows Rows
	key  *any
}

func (k keyScanner) Scan(dest ...any) error {
	return k.rows.Scan(append([]any{k.key}, dest...)...)
}

// list runs q for the tenant's resources of l. reset is called before each
// attempt at reading the page (a transaction may be retried, and a page
// read alone may be read again); scan reads one row (the columns l.cols)
// and keeps it, returning its seq. page, when not nil, runs in the same
// transaction once the page is read, with the seqs of its rows. It returns
// the total and, for a cursor query with more rows to come, the position
// of the page's last row.
func (s *Store) list(ctx context.Context, l *lister, tenantID int64, q store.Query, reset func(),
	scan func(Row) (seq int64, size int, err error), page func(ctx context.Context, r Reader, seqs []int64) error,
) (total int, next *store.Position, err error) {
	t := l.res
	where := cond{sql: t.col("tenant_id") + " = ?", args: []any{tenantID}}
	if q.Filter != nil {
		f, err := compileFilter(s.d, t.rt, q.Filter, tenantID)
		if err != nil {
			return 0, nil, err
		}
		where = and(where, f)
	}
	if len(q.Words) > 0 {
		if t.table != "users" {
			return 0, nil, &store.FilterError{Msg: "only users can be searched by words"}
		}
		w, err := searchCond(tenantID, q.Words)
		if err != nil {
			return 0, nil, err
		}
		where = and(where, w)
	}
	filtered := where.sql != t.col("tenant_id")+" = ?"
	// from is the FROM item of the statements that find the rows: a
	// search finds its candidates by seq (see search.go).
	from := t.table
	if len(q.Words) > 0 {
		from = s.d.ByKey(t.table)
	}
	ord, err := compileSort(s.d, t.rt, q.SortBy, q.SortDescending)
	if err != nil {
		return 0, nil, err
	}
	count := max(q.Count, 0)
	start := max(q.StartIndex, 1)

	countSQL, countArgs := l.countSQL, []any{tenantID} // no scan when there is no filter
	if filtered {
		countSQL, countArgs = "SELECT count(*) FROM "+from+" WHERE "+where.sql, where.args
	}
	readCount := func(r Reader) (int, error) {
		var n int64
		if err := r.QueryRow(ctx, countSQL, countArgs...).Scan(&n); err != nil {
			return 0, err
		}
		return int(n), nil
	}
	if count == 0 {
		n, err := readCount(s.q)
		return n, nil, err
	}

	var pageSQL string
	var pageArgs []any
	withKey := ord.key != ""
	// By offset, the page may start where one served before ended.
	var ok offsetKey
	var known offsetPos
	var knownSQL string
	var knownArgs []any
	haveKnown := false
	stamps := s.d.ListStamps()
	if q.Cursor {
		start = 1
		w := where
		if q.After != nil {
			a, err := ord.after(q.After)
			if err != nil {
				return 0, nil, err
			}
			w = and(where, a)
		}
		pageSQL, pageArgs = cursorQuery(l, from, w, ord, count+1)
	} else {
		pageSQL, pageArgs = pageQuery(l, from, where, ord, count, start-1)
		if stamps {
			ok = offsetKey{tenant: tenantID, query: queryKey(t.table, where, ord), offset: start - 1}
			if start > 1 {
				known, haveKnown = s.offsets.get(ok)
			}
			if haveKnown {
				knownSQL, knownArgs = cursorQuery(l, from, and(where, ord.afterBound(known.seq, known.key)), ord, count)
			}
		}
	}

	// readPage reads the page with r, sets total when the page tells it,
	// and returns the seqs of its rows. stamp, when not nil, reads the
	// list stamp in r's snapshot.
	readPage := func(r Reader, stamp func() (int64, error)) ([]int64, error) {
		reset()
		total, next = -1, nil
		sqlText, args := pageSQL, pageArgs
		var st int64
		stampRead := false
		if haveKnown && stamp != nil {
			var err error
			if st, err = stamp(); err != nil {
				return nil, err
			}
			stampRead = true
			if known.stamp == st {
				sqlText, args = knownSQL, knownArgs
				s.offsets.hits.Add(1)
			}
		}
		rows, err := r.Query(ctx, sqlText, args...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var row Row = rows
		var key, lastKey any
		if withKey {
			row = keyScanner{rows: rows, key: &key}
		}
		var seqs []int64
		more, cut := false, false
		bytes := 0
		for rows.Next() {
			if len(seqs) == count {
				more = true // the extra row of a cursor query
				break
			}
			if bytes >= store.MaxPageBytes {
				// The page is big enough: it ends early, and says so
				// (itemsPerPage, or the next cursor).
				more, cut = true, true
				break
			}
			seq, size, err := scan(row)
			if err != nil {
				return nil, err
			}
			bytes += size
			seqs = append(seqs, seq)
			lastKey = key
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		rows.Close()
		n := len(seqs)
		if ok.query != "" && n == count && stamp != nil {
			// A full page: the next may be asked for.
			if !stampRead {
				if st, err = stamp(); err != nil {
					return nil, err
				}
			}
			k := ok
			k.offset += n
			s.offsets.put(k, offsetPos{stamp: st, seq: seqs[n-1], key: lastKey})
		}
		switch {
		case q.Cursor && more:
			next = &store.Position{Seq: seqs[n-1], Key: ord.readKey(lastKey)}
		case q.Cursor:
			if q.After == nil {
				total = n // the whole result
			}
		case cut:
			// A page cut short does not end the result: total is counted.
		case n > 0 && n < count || n == 0 && start == 1:
			// A short page that is not empty ends the result, and so
			// tells the total without counting.
			total = start - 1 + n
		}
		return seqs, nil
	}
	// A filtered list is most often a lookup whose page tells its total:
	// one statement, no transaction. When it does not, the page is read
	// again with the count, in a transaction.
	if filtered && page == nil && !haveKnown {
		if _, err := readPage(s.q, nil); err != nil {
			return 0, nil, err
		}
		if total >= 0 || q.NoTotal {
			return total, next, nil
		}
	}
	err = s.b.Read(ctx, func(r Reader) error {
		var stamp func() (int64, error)
		if stamps && ok.query != "" {
			stamp = func() (int64, error) {
				var st int64
				err := r.QueryRow(ctx, sqlListStamp, tenantID, t.table).Scan(&st)
				return st, err
			}
		}
		seqs, err := readPage(r, stamp)
		if err != nil {
			return err
		}
		if page != nil && len(seqs) > 0 {
			if err := page(ctx, r, seqs); err != nil {
				return err
			}
		}
		if total < 0 && !q.NoTotal {
			total, err = readCount(r)
		}
		return err
	})
	if err != nil {
		return 0, nil, err
	}
	return total, next, nil
}

// pageQuery returns the query for one page by offset, finding its rows in
// from (the table, or the dialect's ByKey of it). It finds the page's rows
// first, by seq, so that the rows that OFFSET skips are walked in an
// index and never read, then reads the page's rows in the same order. The
// sort key, when there is one, is the first column, for the offset cache.
func pageQuery(l *lister, from string, where cond, o order, limit, offset int) (string, []any) {
	t := l.res
	cols := l.cols
	args := make([]any, 0, len(o.keyArgs)+len(where.args)+2*len(o.args)+2)
	if o.key != "" {
		cols = o.key + ", " + cols
		args = append(args, o.keyArgs...)
	}
	q := "SELECT " + cols + " FROM " + t.table + " WHERE " + t.col("seq") + " IN (SELECT " + t.col("seq") + " FROM " + from +
		" WHERE " + where.sql + " ORDER BY " + o.sql + " LIMIT ? OFFSET ?) ORDER BY " + o.sql
	args = append(append(append(append(args, where.args...), o.args...), limit, offset), o.args...)
	return q, args
}

// cursorQuery returns the query for one page by keyset, from as for
// pageQuery: where already has the keyset condition. The sort key, when there is one, is the first
// column, for the next position.
func cursorQuery(l *lister, from string, where cond, o order, limit int) (string, []any) {
	cols := l.cols
	args := make([]any, 0, len(o.keyArgs)+len(where.args)+len(o.args)+1)
	if o.key != "" {
		cols = o.key + ", " + cols
		args = append(args, o.keyArgs...)
	}
	q := "SELECT " + cols + " FROM " + from + " WHERE " + where.sql + " ORDER BY " + o.sql + " LIMIT ?"
	args = append(append(append(args, where.args...), o.args...), limit)
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

// OffsetHits is the number of pages by offset served from a remembered
// position; ForgetOffsets empties the memory. (For tests and benchmarks.)
func (s *Store) OffsetHits() int64 { return s.offsets.hits.Load() }

// ForgetOffsets empties the memory of where pages by offset ended.
func (s *Store) ForgetOffsets() {
	s.offsets.mu.Lock()
	s.offsets.m = nil
	s.offsets.mu.Unlock()
}

// queryKey identifies a list query: its table, condition, order and their
// arguments.
func queryKey(table string, where cond, o order) string {
	var b strings.Builder
	b.WriteString(table + "\x00" + where.sql + "\x00" + o.sql)
	for _, args := range [][]any{where.args, o.args} {
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
