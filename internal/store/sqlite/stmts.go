package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// maxCachedStmts bounds a stmtCache. The SQL of filtered lists varies with
// the filter's shape (never with its literals, which are parameters), so
// the number of distinct statements is open-ended; past the bound,
// statements are prepared for each use.
const maxCachedStmts = 256

// stmtCache keeps prepared statements by SQL text. Preparing (parsing and
// planning) is a good part of the cost of a small query; database/sql
// prepares a cached statement once per connection and reuses it, in
// transactions too (Tx.StmtContext).
//
// Inside a transaction, the transaction holds a connection of the pool
// (the write pool's only one, for the writer), so nothing is prepared then:
// a statement not yet cached runs unprepared, and is prepared once the
// transaction is over (prepareMissed).
type stmtCache struct {
	pool   *sql.DB
	mu     sync.Mutex
	m      map[string]*sql.Stmt
	frozen bool // stmt never prepares (see prepareMissed)
	// missed are the statements that lookup did not find: prepareMissed
	// prepares them once no transaction holds a connection.
	missed map[string]bool
}

func newStmtCache(pool *sql.DB) *stmtCache {
	return &stmtCache{pool: pool, m: make(map[string]*sql.Stmt)}
}

// lookup returns the cached statement for q, or nil; a statement not
// found is remembered for prepareMissed.
func (c *stmtCache) lookup(q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.m[q]
	if st == nil && len(c.m)+len(c.missed) < maxCachedStmts {
		if c.missed == nil {
			c.missed = make(map[string]bool)
		}
		c.missed[q] = true
	}
	return st
}

// prepareMissed prepares the statements lookup did not find. The caller
// holds no connection of the pool: the writer between two batches, a
// reader after its transaction.
func (c *stmtCache) prepareMissed(ctx context.Context) {
	c.mu.Lock()
	qs := make([]string, 0, len(c.missed))
	for q := range c.missed {
		qs = append(qs, q)
	}
	clear(c.missed)
	c.mu.Unlock()
	for _, q := range qs {
		if st, err := c.pool.PrepareContext(ctx, q); err == nil {
			c.keep(q, st)
		}
	}
}

// stmt returns the cached statement for q, preparing it if needed, or nil
// when the cache is full or frozen or q does not prepare (the caller then
// runs q directly, which reports the error). It is for use outside
// transactions; inside one, lookup.
func (c *stmtCache) stmt(ctx context.Context, q string) *sql.Stmt {
	c.mu.Lock()
	st, ok := c.m[q]
	full := c.frozen || len(c.m) >= maxCachedStmts
	c.mu.Unlock()
	if ok {
		return st
	}
	if full {
		return nil
	}
	// Prepared without the lock: preparing waits for a connection, which a
	// goroutine in a transaction may hold while it calls lookup.
	st, err := c.pool.PrepareContext(ctx, q)
	if err != nil {
		return nil
	}
	return c.keep(q, st)
}

// keep caches st for q, unless another goroutine cached one meanwhile
// (then st is closed and that one returned) or the cache is full (then st
// is closed and nil returned).
func (c *stmtCache) keep(q string, st *sql.Stmt) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cur, ok := c.m[q]; ok {
		st.Close()
		return cur
	}
	if len(c.m) >= maxCachedStmts {
		st.Close()
		return nil
	}
	c.m[q] = st
	return st
}

// prepareAll prepares qs and freezes the cache: it grows only through
// prepareMissed.
func (c *stmtCache) prepareAll(ctx context.Context, qs []string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, q := range qs {
		st, err := c.pool.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("sqlite: prepare %q: %w", q, err)
		}
		c.m[q] = st
	}
	c.frozen = true
	return nil
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.m {
		st.Close()
		delete(c.m, q)
	}
}

// get is stmt outside a transaction and lookup inside one.
func (c *stmtCache) get(ctx context.Context, tx *sql.Tx, q string) *sql.Stmt {
	if tx != nil {
		return c.lookup(q)
	}
	return c.stmt(ctx, q)
}

// queryRow runs q in tx, or on the pool when tx is nil.
func (c *stmtCache) queryRow(ctx context.Context, tx *sql.Tx, q string, args ...any) *sql.Row {
	st := c.get(ctx, tx, q)
	switch {
	case st != nil && tx != nil:
		return tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	case st != nil:
		return st.QueryRowContext(ctx, args...)
	case tx != nil:
		return tx.QueryRowContext(ctx, q, args...)
	}
	return c.pool.QueryRowContext(ctx, q, args...)
}

// query runs q in tx, or on the pool when tx is nil.
func (c *stmtCache) query(ctx context.Context, tx *sql.Tx, q string, args ...any) (*sql.Rows, error) {
	st := c.get(ctx, tx, q)
	switch {
	case st != nil && tx != nil:
		return tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	case st != nil:
		return st.QueryContext(ctx, args...)
	case tx != nil:
		return tx.QueryContext(ctx, q, args...)
	}
	return c.pool.QueryContext(ctx, q, args...)
}

// exec runs q in tx.
func (c *stmtCache) exec(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	if st := c.lookup(q); st != nil {
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, q, args...)
}
