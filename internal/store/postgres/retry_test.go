package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/scimd/scimd/internal/store/sqlstore"
)

func pgErr(code string) error {
	return fmt.Errorf("wrapped: %w", &pgconn.PgError{Code: code, Message: "test " + code})
}

func TestRetry(t *testing.T) {
	noWait := func(int) time.Duration { return 0 }
	for _, tc := range []struct {
		name      string
		errs      []error // what successive calls return; nil after the list
		wantCalls int
		wantCode  string // SQLSTATE of the error returned, "" for nil
	}{
		{"success", nil, 1, ""},
		{"serialization failure, then success", []error{pgErr("40001")}, 2, ""},
		{"deadlocks, then success", []error{pgErr("40P01"), pgErr("40P01")}, 3, ""},
		{"not retryable", []error{pgErr("23505")}, 1, "23505"},
		{"plain error", []error{errors.New("boom")}, 1, "none"},
		{"bounded", []error{pgErr("40001"), pgErr("40001"), pgErr("40001"), pgErr("40001"), pgErr("40001"),
			pgErr("40001"), pgErr("40001"), pgErr("40001"), pgErr("40001"), pgErr("40001"), pgErr("40001")}, maxAttempts, "40001"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			err := retry(t.Context(), maxAttempts, noWait, func() error {
				calls++
				if calls <= len(tc.errs) {
					return tc.errs[calls-1]
				}
				return nil
			})
			if calls != tc.wantCalls {
				t.Errorf("fn called %d times, want %d", calls, tc.wantCalls)
			}
			switch tc.wantCode {
			case "":
				if err != nil {
					t.Errorf("err = %v, want nil", err)
				}
			case "none":
				if err == nil || sqlState(err) != "" {
					t.Errorf("err = %v, want the plain error", err)
				}
			default:
				if sqlState(err) != tc.wantCode {
					t.Errorf("err = %v, want SQLSTATE %s", err, tc.wantCode)
				}
			}
			if tc.name == "bounded" && (err == nil || !strings.Contains(err.Error(), "giving up after 10 attempts")) {
				t.Errorf("err = %v, want it to say it gave up", err)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	for n := 1; n <= 20; n++ {
		d := backoff(n)
		hi := min(2*time.Millisecond<<min(n-1, 16), 250*time.Millisecond)
		if d < hi/2 || d > hi {
			t.Errorf("backoff(%d) = %v, want within [%v, %v]", n, d, hi/2, hi)
		}
	}
}

func TestRetryStopsWhenContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	calls := 0
	err := retry(ctx, maxAttempts, func(int) time.Duration { return time.Hour }, func() error {
		calls++
		cancel()
		return pgErr("40001")
	})
	if calls != 1 || sqlState(err) != "40001" {
		t.Errorf("calls %d, err %v; want 1 call and the 40001", calls, err)
	}
}

// TestTxRetriesSerializationFailure makes a SERIALIZABLE write transaction
// fail for real with 40001 (a row it read was changed and committed by
// another session before it wrote it) and checks that the backend runs it
// again and that no update is lost.
func TestTxRetriesSerializationFailure(t *testing.T) {
	db := mustOpen(t)
	ctx := t.Context()
	if _, err := db.pool.Exec(ctx, "CREATE TABLE counter (id int PRIMARY KEY, n int NOT NULL); INSERT INTO counter VALUES (1, 0)"); err != nil {
		t.Fatal(err)
	}
	var retried []string
	db.SetObserver(Observer{Retry: func(code string) { retried = append(retried, code) }})
	attempts := 0
	err := db.Backend().Write(ctx, sqlstore.TxOptions{Serializable: true}, func(ctx context.Context, q sqlstore.Querier) error {
		attempts++
		var n int
		if err := q.QueryRow(ctx, "SELECT n FROM counter WHERE id = 1").Scan(&n); err != nil {
			return err
		}
		if attempts == 1 {
			// Another instance's update commits after this snapshot.
			if _, err := db.pool.Exec(ctx, "UPDATE counter SET n = n + 100 WHERE id = 1"); err != nil {
				return err
			}
		}
		_, err := q.Exec(ctx, "UPDATE counter SET n = ? WHERE id = 1", n+1)
		if attempts == 1 && sqlState(err) != "40001" {
			t.Errorf("first attempt: got %v, want a serialization failure", err)
		}
		return err
	})
	if err != nil {
		t.Fatalf("tx: %v", err)
	}
	if attempts != 2 {
		t.Errorf("fn ran %d times, want 2", attempts)
	}
	if len(retried) != 1 || retried[0] != "40001" {
		t.Errorf("observed retries %v, want [40001]", retried)
	}
	var n int
	if err := db.pool.QueryRow(ctx, "SELECT n FROM counter").Scan(&n); err != nil || n != 101 {
		t.Errorf("counter = %d (%v), want 101: an update was lost", n, err)
	}
}

// TestTxRetriesDeadlock makes a write transaction one side of a real
// deadlock (40P01) and checks that it is run again and succeeds.
func TestTxRetriesDeadlock(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for PostgreSQL's deadlock_timeout")
	}
	db := mustOpen(t)
	ctx := t.Context()
	if _, err := db.pool.Exec(ctx, "CREATE TABLE rows (id int PRIMARY KEY, n int NOT NULL); INSERT INTO rows VALUES (1, 0), (2, 0)"); err != nil {
		t.Fatal(err)
	}
	other, err := db.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Rollback(ctx)
	if _, err := other.Exec(ctx, "UPDATE rows SET n = n + 10 WHERE id = 2"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var otherErr error
	attempts := 0
	err = db.Backend().Write(ctx, sqlstore.TxOptions{}, func(ctx context.Context, q sqlstore.Querier) error {
		attempts++
		if _, err := q.Exec(ctx, "UPDATE rows SET n = n + 1 WHERE id = 1"); err != nil {
			return err
		}
		if attempts == 1 {
			// The other session waits for row 1 while holding row 2,
			// once this transaction waits for row 2 (this one waits
			// first, so PostgreSQL's deadlock check aborts it).
			wg.Go(func() {
				time.Sleep(200 * time.Millisecond)
				if _, otherErr = other.Exec(ctx, "UPDATE rows SET n = n + 10 WHERE id = 1"); otherErr == nil {
					otherErr = other.Commit(ctx)
				}
			})
		}
		_, err := q.Exec(ctx, "UPDATE rows SET n = n + 1 WHERE id = 2")
		if attempts == 1 && sqlState(err) != "40P01" {
			t.Errorf("first attempt: got %v, want a deadlock", err)
		}
		return err
	})
	wg.Wait()
	if err != nil {
		t.Fatalf("tx: %v", err)
	}
	if otherErr != nil {
		t.Fatalf("other session: %v", otherErr)
	}
	if attempts != 2 {
		t.Errorf("fn ran %d times, want 2", attempts)
	}
	rows, _ := db.pool.Query(ctx, "SELECT n FROM rows ORDER BY id")
	ns, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil || len(ns) != 2 || ns[0] != 11 || ns[1] != 11 {
		t.Errorf("rows = %v (%v), want [11 11]", ns, err)
	}
}
