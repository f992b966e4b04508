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
// The write pool's only connection is held by the writer during a
// transaction, so nothing can be prepared on that pool then: its cache is
// filled at Open and frozen (see prepareAll).
type stmtCache struct {
	pool   *sql.DB
	mu     sync.Mutex
	m      map[string]*sql.Stmt
	frozen bool // no more statements are prepared
}

func newStmtCache(pool *sql.DB) *stmtCache {
	return &stmtCache{pool: pool, m: make(map[string]*sql.Stmt)}
}

// lookup returns the cached statement for q, or nil.
func (c *stmtCache) lookup(q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[q]
}

// stmt returns the cached statement for q, preparing it if needed, or nil
// when the cache is full or q does not prepare (the caller then runs q
// directly, which reports the error). Preparing takes a connection of the
// pool: a goroutine that holds one (in a transaction) must not call stmt, or
// it could wait forever for a connection; it uses lookup, after warming the
// cache before its transaction began.
func (c *stmtCache) stmt(ctx context.Context, q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[q]; ok {
		return st
	}
	if c.frozen || len(c.m) >= maxCachedStmts {
		return nil
	}
	st, err := c.pool.PrepareContext(ctx, q)
	if err != nil {
		return nil
	}
	c.m[q] = st
	return st
}

// prepareAll prepares qs and freezes the cache.
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
