package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/scimd/scimd/internal/store/sqlstore"
)

// backend is the DB as sqlstore sees it. Reads outside transactions go to
// the pool. A transaction takes one connection and sends its statements in
// batches (pgx pipelines them): BEGIN goes with the first statement, and
// the statements queued with Queue go with the next one or with COMMIT, so
// that a transaction of writes whose results nobody reads costs one round
// trip. A transaction that fails with a serialization failure or a deadlock
// is run again (see retry).
type backend struct {
	dialect
	db *DB
}

var _ sqlstore.Backend = backend{}

func (b backend) DB() sqlstore.Reader     { return poolReader{b.db.pool} }
func (b backend) AuthDB() sqlstore.Reader { return poolReader{b.db.auth} }

func (b backend) Read(ctx context.Context, fn func(sqlstore.Reader) error) error {
	return b.db.runTx(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", func(t *pgTx) error { return fn(t) })
}

func (b backend) Write(ctx context.Context, opts sqlstore.TxOptions, fn func(context.Context, sqlstore.Querier) error) error {
	begin := "BEGIN"
	if opts.Serializable {
		begin = "BEGIN ISOLATION LEVEL SERIALIZABLE"
	}
	return b.db.runTx(ctx, begin, func(t *pgTx) error { return fn(ctx, t) })
}

func (b backend) Close() error {
	b.db.closeOnce.Do(func() {
		b.db.pool.Close()
		b.db.auth.Close()
	})
	return nil
}

// runTx runs fn in a transaction started with the statement begin and
// commits it, running it all again on a serialization failure or a
// deadlock.
func (db *DB) runTx(ctx context.Context, begin string, fn func(*pgTx) error) error {
	return db.retry(ctx, func() error {
		conn, err := db.pool.Acquire(ctx)
		if err != nil {
			return dbErr(err)
		}
		defer conn.Release()
		t := &pgTx{conn: conn.Conn(), begin: begin}
		if err := fn(t); err != nil {
			t.rollback(ctx)
			return err
		}
		if err := t.commit(ctx); err != nil {
			t.rollback(ctx)
			return err
		}
		return nil
	})
}

// pgTx is a transaction on one connection, begun lazily.
type pgTx struct {
	conn    *pgx.Conn
	begin   string
	begun   bool // BEGIN was sent
	pending []queued
	err     error // the transaction has failed
}

type queued struct {
	sql  string
	args []any
}

// send sends BEGIN (once), the queued statements and then last, if not nil,
// in one batch, and reads the results of all but last, which it returns
// unread with the batch. It returns an error, and fails the transaction,
// when one of them failed.
func (t *pgTx) send(ctx context.Context, last *queued) (pgx.BatchResults, error) {
	if t.err != nil {
		return nil, t.err
	}
	b := &pgx.Batch{}
	n := 0
	begin := !t.begun && (last != nil || t.begin != "BEGIN")
	if begin {
		b.Queue(t.begin)
		n++
	}
	for _, p := range t.pending {
		b.Queue(p.sql, p.args...)
		n++
	}
	t.pending = t.pending[:0]
	if last != nil {
		b.Queue(last.sql, last.args...)
	}
	br := t.conn.SendBatch(ctx, b)
	t.begun = t.begun || begin
	for range n {
		if _, err := br.Exec(); err != nil {
			br.Close()
			t.err = dbErr(err)
			return nil, t.err
		}
	}
	return br, nil
}

func (t *pgTx) bind(q string, args []any) (*queued, error) {
	s, err := bind(q, len(args))
	if err != nil {
		return nil, err
	}
	return &queued{sql: s, args: args}, nil
}

func (t *pgTx) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	last, err := t.bind(q, args)
	if err != nil {
		return 0, err
	}
	br, err := t.send(ctx, last)
	if err != nil {
		return 0, err
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.err = dbErr(err)
		return 0, t.err
	}
	return tag.RowsAffected(), nil
}

func (t *pgTx) Queue(ctx context.Context, q string, args ...any) {
	last, err := t.bind(q, args)
	if err != nil {
		if t.err == nil {
			t.err = err
		}
		return
	}
	t.pending = append(t.pending, *last)
}

func (t *pgTx) Query(ctx context.Context, q string, args ...any) (sqlstore.Rows, error) {
	last, err := t.bind(q, args)
	if err != nil {
		return nil, err
	}
	br, err := t.send(ctx, last)
	if err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		br.Close()
		t.err = dbErr(err)
		return nil, t.err
	}
	return &batchRows{pgRows: pgRows{rows}, br: br, t: t}, nil
}

func (t *pgTx) QueryRow(ctx context.Context, q string, args ...any) sqlstore.Row {
	rows, err := t.Query(ctx, q, args...)
	if err != nil {
		return errRow{err}
	}
	return rowOf{rows}
}

// commit sends what is queued with COMMIT. A transaction of the default
// isolation that sent nothing yet is its queued statements alone, sent
// without BEGIN and COMMIT: a batch is one implicit transaction, atomic and
// committed at its end, which saves the server two statements (a create is
// one such batch).
func (t *pgTx) commit(ctx context.Context) error {
	if t.err != nil {
		return t.err
	}
	if !t.begun {
		if len(t.pending) == 0 {
			return nil
		}
		if t.begin != "BEGIN" { // an isolation level: BEGIN ... COMMIT
			_, err := t.Exec(ctx, "COMMIT")
			return err
		}
		br, err := t.send(ctx, nil)
		if err != nil {
			return err
		}
		if err := br.Close(); err != nil {
			t.err = dbErr(err)
			return t.err
		}
		return nil
	}
	_, err := t.Exec(ctx, "COMMIT")
	return err
}

// rollback ends a transaction that failed. After an error in a batch the
// server may still be in the failed transaction; ROLLBACK ends it.
func (t *pgTx) rollback(ctx context.Context) {
	if t.begun {
		_, _ = t.conn.Exec(context.WithoutCancel(ctx), "ROLLBACK")
	}
}

// batchRows are the rows of the last statement of a batch; closing them
// closes the batch, whose error (a failed COMMIT, say) Err reports.
type batchRows struct {
	pgRows
	br     pgx.BatchResults
	t      *pgTx
	closed bool
	err    error
}

func (r *batchRows) Next() bool {
	if r.pgRows.Next() {
		return true
	}
	r.Close()
	return false
}

func (r *batchRows) Err() error {
	if err := r.pgRows.Err(); err != nil {
		return err
	}
	return r.err
}

func (r *batchRows) Close() {
	if r.closed {
		return
	}
	r.closed = true
	r.pgRows.Close()
	if err := r.pgRows.r.Err(); err != nil {
		r.t.err = dbErr(err)
	}
	if err := r.br.Close(); err != nil {
		r.err = dbErr(err)
		r.t.err = r.err
	}
}

// rowOf is the first row of rows, as a Row.
type rowOf struct{ rows sqlstore.Rows }

func (r rowOf) Scan(dest ...any) error {
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return dbErr(pgx.ErrNoRows)
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}

// poolReader reads outside transactions.
type poolReader struct{ pool *pgxpool.Pool }

func (p poolReader) Query(ctx context.Context, q string, args ...any) (sqlstore.Rows, error) {
	s, err := bind(q, len(args))
	if err != nil {
		return nil, err
	}
	rows, err := p.pool.Query(ctx, s, args...)
	if err != nil {
		return nil, dbErr(err)
	}
	return pgRows{rows}, nil
}

func (p poolReader) QueryRow(ctx context.Context, q string, args ...any) sqlstore.Row {
	s, err := bind(q, len(args))
	if err != nil {
		return errRow{err}
	}
	return pgRow{p.pool.QueryRow(ctx, s, args...)}
}

// pgRow and pgRows translate the driver's errors (see dbErr).
type pgRow struct{ r pgx.Row }

func (r pgRow) Scan(dest ...any) error { return dbErr(r.r.Scan(dest...)) }

type pgRows struct{ r pgx.Rows }

func (r pgRows) Next() bool             { return r.r.Next() }
func (r pgRows) Scan(dest ...any) error { return dbErr(r.r.Scan(dest...)) }
func (r pgRows) Err() error             { return dbErr(r.r.Err()) }
func (r pgRows) Close()                 { r.r.Close() }

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
