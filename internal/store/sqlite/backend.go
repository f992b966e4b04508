package sqlite

import (
	"context"
	"database/sql"

	"github.com/scimd/scimd/internal/store/sqlstore"
)

// backend is the DB as sqlstore sees it: reads on the pool of query-only
// connections, writes through the single writer (see writer.go).
type backend struct {
	dialect
	db *DB
}

var _ sqlstore.Backend = backend{}

func (b backend) DB() sqlstore.Reader     { return poolReader{b.db.rs} }
func (b backend) AuthDB() sqlstore.Reader { return poolReader{b.db.as} }

func (b backend) Read(ctx context.Context, fn func(sqlstore.Reader) error) error {
	tx, err := b.db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return dbErr(err)
	}
	err = fn(&txQuerier{tx: tx, c: b.db.rs})
	tx.Rollback()
	b.db.rs.prepareMissed(ctx)
	return err
}

// Write runs fn through the writer, in a savepoint of the batch's
// transaction. SQLite has one writer, so transactions never conflict and
// are never retried, and every isolation is serializable.
func (b backend) Write(ctx context.Context, _ sqlstore.TxOptions, fn func(context.Context, sqlstore.Querier) error) error {
	return b.db.writeTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		q := &txQuerier{tx: tx, c: b.db.ws}
		if err := fn(ctx, q); err != nil {
			return err
		}
		return q.err
	})
}

func (b backend) Close() error { return b.db.close() }

// poolReader reads outside transactions, with the read pool's prepared
// statements.
type poolReader struct{ c *stmtCache }

func (r poolReader) Query(ctx context.Context, q string, args ...any) (sqlstore.Rows, error) {
	rows, err := r.c.query(ctx, nil, q, args...)
	if err != nil {
		return nil, dbErr(err)
	}
	return sqlRows{rows}, nil
}

func (r poolReader) QueryRow(ctx context.Context, q string, args ...any) sqlstore.Row {
	return sqlRow{r.c.queryRow(ctx, nil, q, args...)}
}

// txQuerier runs statements in a transaction. Queue runs the statement at
// once (there is no round trip to save) and keeps its error for the next
// call.
type txQuerier struct {
	tx  *sql.Tx
	c   *stmtCache
	err error // of a queued statement
}

func (t *txQuerier) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	if t.err != nil {
		return 0, t.err
	}
	res, err := t.c.exec(ctx, t.tx, q, args...)
	if err != nil {
		return 0, dbErr(err)
	}
	n, err := res.RowsAffected()
	return n, dbErr(err)
}

func (t *txQuerier) Queue(ctx context.Context, q string, args ...any) {
	if t.err == nil {
		_, t.err = t.Exec(ctx, q, args...)
	}
}

func (t *txQuerier) Query(ctx context.Context, q string, args ...any) (sqlstore.Rows, error) {
	if t.err != nil {
		return nil, t.err
	}
	rows, err := t.c.query(ctx, t.tx, q, args...)
	if err != nil {
		return nil, dbErr(err)
	}
	return sqlRows{rows}, nil
}

func (t *txQuerier) QueryRow(ctx context.Context, q string, args ...any) sqlstore.Row {
	if t.err != nil {
		return errRow{t.err}
	}
	return sqlRow{t.c.queryRow(ctx, t.tx, q, args...)}
}

// sqlRow and sqlRows translate the driver's errors (see dbErr).
type sqlRow struct{ r *sql.Row }

func (r sqlRow) Scan(dest ...any) error { return dbErr(r.r.Scan(dest...)) }

type sqlRows struct{ *sql.Rows }

func (r sqlRows) Scan(dest ...any) error { return dbErr(r.Rows.Scan(dest...)) }
func (r sqlRows) Err() error             { return dbErr(r.Rows.Err()) }
func (r sqlRows) Close()                 { r.Rows.Close() }

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
