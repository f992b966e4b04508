package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/scimd/scimd/internal/store"
	"github.com/scimd/scimd/internal/store/sqlstore"
)

var _ store.Store = (*DB)(nil)

// DB is a [store.Store] backed by a PostgreSQL (or PostgreSQL-compatible)
// database. It is safe for concurrent use, and any number of DBs, in any
// number of processes, may share one database.
type DB struct {
	// Store holds every statement; the DB is its backend.
	*sqlstore.Store

	pool *pgxpool.Pool
	auth *pgxpool.Pool // authentication reads' own connections (AuthDB)
	// maxAttempts and backoff are the retry policy of transactions that
	// fail with a serialization failure or a deadlock.
	maxAttempts int
	backoff     func(attempt int) time.Duration
	obs         atomic.Pointer[Observer] // see SetObserver

	closeOnce sync.Once
}

// defaultMaxConns is the pool size when the DSN does not set
// pool_max_conns. Each scimd instance holds at most this many connections.
const defaultMaxConns = 10

// defaultStatementTimeout is the statement_timeout of scimd's connections
// when the DSN does not set one.
const defaultStatementTimeout = "20s"

// Open connects to the PostgreSQL database named by dsn (a postgres:// URL
// or a libpq keyword/value string; pool_max_conns and the other pgxpool
// parameters are honoured) and brings its schema up to date with [Migrate].
// Any number of processes may Open one database at once.
func Open(ctx context.Context, dsn string) (*DB, error) {
	pool, err := newPool(ctx, dsn)
	if err != nil {
		return nil, err
	}
	if _, err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	auth, err := newAuthPool(ctx, pool)
	if err != nil {
		pool.Close()
		return nil, err
	}
	db := &DB{pool: pool, auth: auth, maxAttempts: maxAttempts, backoff: backoff}
	db.Store = sqlstore.New(backend{db: db})
	return db, nil
}

// Migrate brings the schema of the database named by dsn up to date and
// returns the names of the migrations it applied (none when it was current).
// [Open] does the same; Migrate is for "scimd migrate".
func Migrate(ctx context.Context, dsn string) ([]string, error) {
	pool, err := newPool(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	return migrate(ctx, pool)
}

func newPool(ctx context.Context, dsn string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message may quote the DSN, password included.
		return nil, errors.New("postgres: invalid database URL")
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = defaultMaxConns
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "scimd"
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["statement_timeout"]; !ok {
		// No statement of one request may hold a connection, or its
		// locks, longer than this: the database stops it and its
		// transaction rolls back (store.ErrTimeout). A DSN may set its own.
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = defaultStatementTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect to %s: %w", describe(cfg.ConnConfig), err)
	}
	return pool, nil
}

// authConns is how many connections each instance keeps for
// authentication reads (see sqlstore.Backend.AuthDB), besides the pool.
const authConns = 2

// newAuthPool opens the authentication reads' pool, like pool.
func newAuthPool(ctx context.Context, pool *pgxpool.Pool) (*pgxpool.Pool, error) {
	cfg := pool.Config()
	cfg.MaxConns, cfg.MinConns = authConns, 0
	p, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return p, nil
}

// describe names the server of a connection without its password.
func describe(c *pgx.ConnConfig) string {
	return fmt.Sprintf("%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database)
}

// Close releases the pool's connections. A second Close does nothing.
func (db *DB) Close() error { return db.Store.Close() }

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrate applies, in name order, each embedded migration that the
// schema_migrations table does not list. Each runs in its own transaction
// that first inserts the migration's row: when several processes migrate at
// once, the row's primary key makes every other one wait at that INSERT
// until the first commits, then fail with a unique violation, which means
// "already applied" (or, on CockroachDB, with a serialization failure,
// which is retried and then finds the row). No advisory lock is needed.
func migrate(ctx context.Context, pool *pgxpool.Pool) ([]string, error) {
	// CREATE TABLE IF NOT EXISTS is not atomic in PostgreSQL: two sessions
	// racing can both pass the check, and the loser fails on the catalog's
	// unique index (23505), or with 42P07 or 42710 (its row type exists).
	// Then the table exists, and trying again says so.
	for attempt := 0; ; attempt++ {
		_, err := pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			name    TEXT COLLATE "C" PRIMARY KEY,
			applied BIGINT NOT NULL
		)`)
		if err == nil {
			break
		}
		if attempt < 5 && (sqlState(err) == "23505" || sqlState(err) == "42P07" || sqlState(err) == "42710" || retryable(err)) {
			continue
		}
		return nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	return sqlstore.Migrations{
		Name: "postgres",
		FS:   migrationFS,
		Applied: func(ctx context.Context) ([]string, error) {
			rows, err := pool.Query(ctx, "SELECT name FROM schema_migrations")
			if err != nil {
				return nil, err
			}
			return pgx.CollectRows(rows, pgx.RowTo[string])
		},
		Apply: func(ctx context.Context, name, body string) (ok bool, err error) {
			err = retry(ctx, maxAttempts, backoff, func() error {
				ok, err = applyMigration(ctx, pool, name, body)
				return err
			})
			return ok, err
		},
	}.Run(ctx, "")
}

// applyMigration applies one migration unless it is recorded, and reports
// whether it did.
func applyMigration(ctx context.Context, pool *pgxpool.Pool, name, body string) (bool, error) {
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM schema_migrations WHERE name = $1", name).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	// A migration may take long on a big database: the requests' time
	// limit is not its.
	if _, err := tx.Exec(ctx, "SET LOCAL statement_timeout = 0"); err != nil {
		return false, err
	}
	_, err = tx.Exec(ctx, "INSERT INTO schema_migrations (name, applied) VALUES ($1, $2)", name, time.Now().UnixNano())
	if sqlState(err) == "23505" {
		return false, nil // another process applied it meanwhile
	}
	if err != nil {
		return false, err
	}
	// No arguments: the simple protocol, which runs several statements.
	if _, err := tx.Exec(ctx, body, pgx.QueryExecModeSimpleProtocol); err != nil {
		return false, err
	}
	if err := tx.Commit(ctx); err != nil {
		if sqlState(err) == "23505" {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// Transactions that fail with a serialization failure (40001, which
// CockroachDB and SERIALIZABLE PostgreSQL transactions return on conflicts)
// or a deadlock (40P01) are run again, up to maxAttempts times in all, after
// a jittered, exponentially growing pause.
const maxAttempts = 10

// backoff is the pause before attempt n+1: a random duration between half
// and all of 2ms·2^(n-1), at most 250ms.
func backoff(n int) time.Duration {
	d := min(2*time.Millisecond<<min(n-1, 16), 250*time.Millisecond)
	return d/2 + rand.N(d/2+1)
}

// retryable reports whether err is a serialization failure or a deadlock,
// after which the whole transaction may be run again.
func retryable(err error) bool {
	switch sqlState(err) {
	case "40001", "40P01":
		return true
	}
	return false
}

// sqlState returns the SQLSTATE of a PostgreSQL error in err's chain, or "".
func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// retry calls fn until it returns nil or an error that is not retryable, at
// most attempts times, pausing backoff(n) after the nth failure.
func retry(ctx context.Context, attempts int, backoff func(int) time.Duration, fn func() error) error {
	for n := 1; ; n++ {
		err := fn()
		if err == nil || !retryable(err) {
			return err
		}
		if n >= attempts {
			return fmt.Errorf("postgres: giving up after %d attempts: %w", n, err)
		}
		t := time.NewTimer(backoff(n))
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// retry runs fn, a statement or a few outside a transaction, with the DB's
// retry policy.
func (db *DB) retry(ctx context.Context, fn func() error) error {
	var prev error
	return retry(ctx, db.maxAttempts, db.backoff, func() error {
		if prev != nil {
			db.retried(prev)
		}
		prev = fn()
		return prev
	})
}

// dbErr translates driver errors into the store's: no rows → ErrNotFound,
// a unique violation → ErrConflict, a foreign key violation (the tenant
// does not exist) → ErrNotFound. Other errors keep the driver's error in
// their chain, so that retryable still sees it.
func dbErr(err error) error {
	if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	switch sqlState(err) {
	case "23505":
		return store.ErrConflict
	case "23503":
		return store.ErrNotFound
	case "57014": // statement_timeout
		return fmt.Errorf("%w: %w", store.ErrTimeout, err)
	}
	if strings.HasPrefix(err.Error(), "postgres: ") {
		return err
	}
	return fmt.Errorf("postgres: %w", err)
}

// bind turns the ? placeholders of q into PostgreSQL's $1, $2, … The
// statements of this package use ? only as placeholders: JSON keys and
// paths are parameters, and the jsonb ? operator is never used. It returns
// an error when the number of placeholders is not the number of arguments.
func bind(q string, nargs int) (string, error) {
	var b strings.Builder
	b.Grow(len(q) + nargs*2)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] != '?' {
			b.WriteByte(q[i])
			continue
		}
		n++
		fmt.Fprintf(&b, "$%d", n)
	}
	if n != nargs {
		return "", fmt.Errorf("postgres: internal error: query has %d placeholders for %d arguments", n, nargs)
	}
	return b.String(), nil
}
