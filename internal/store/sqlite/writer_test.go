package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/scimd/scimd/internal/store"
)

func newTestUser(id, userName string) store.User {
	now := time.Now()
	return store.User{ID: id, Created: now, Modified: now, Attrs: map[string]any{"userName": userName}}
}

// TestGroupCommitIsolatesFailures runs requests that fail among requests
// that succeed, concurrently, so that they share transactions: each gets its
// own result, and only the failures are undone.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	db := mustOpen(t)
	defer db.Close()
	ctx := t.Context()
	tn, err := db.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateUser(ctx, tn.ID, newTestUser("taken", "taken")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	const n = 60
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			switch i % 3 {
			case 0: // succeeds
				_, errs[i] = db.CreateUser(ctx, tn.ID, newTestUser(fmt.Sprint("u", i), fmt.Sprint("user", i)))
			case 1: // conflicts after inserting nothing
				_, errs[i] = db.CreateUser(ctx, tn.ID, newTestUser(fmt.Sprint("u", i), "TAKEN"))
			case 2: // writes, then fails
				_, errs[i] = db.UpdateUser(ctx, tn.ID, "taken", func(u *store.User) error {
					u.Attrs["title"] = "changed"
					return boom
				})
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		var want error
		switch i % 3 {
		case 1:
			want = store.ErrConflict
		case 2:
			want = boom
		}
		if !errors.Is(err, want) || (want == nil) != (err == nil) {
			t.Errorf("request %d: got %v, want %v", i, err, want)
		}
	}
	p, err := db.ListUsers(ctx, tn.ID, store.Query{})
	if err != nil || p.Total != n/3+1 {
		t.Errorf("%d users (err %v), want %d", p.Total, err, n/3+1)
	}
	u, err := db.User(ctx, tn.ID, "taken")
	if err != nil || u.Version != 1 || u.Attrs["title"] != nil {
		t.Errorf("a failed update left version %d, title %v (err %v)", u.Version, u.Attrs["title"], err)
	}
}

// TestGroupCommitBatches holds the writer busy while requests queue up and
// checks that they then share one commit.
func TestGroupCommitBatches(t *testing.T) {
	db := mustOpen(t)
	defer db.Close()
	ctx := t.Context()
	tn, err := db.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	started := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		db.writeTx(ctx, func(context.Context, *sql.Tx) error {
			close(started)
			<-release
			return nil
		})
	})
	<-started
	before := db.w.commits.Load()
	const n = 20
	for i := range n {
		wg.Go(func() {
			if _, err := db.CreateUser(ctx, tn.ID, newTestUser(fmt.Sprint("u", i), fmt.Sprint("user", i))); err != nil {
				t.Error(err)
			}
		})
	}
	time.Sleep(200 * time.Millisecond) // let them queue
	close(release)
	wg.Wait()
	if commits := db.w.commits.Load() - before; commits > 3 {
		t.Errorf("%d queued writes took %d commits, want them batched", n, commits)
	}
}

func TestWriterSurvivesPanic(t *testing.T) {
	db := mustOpen(t)
	defer db.Close()
	ctx := t.Context()
	tn, err := db.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateUser(ctx, tn.ID, newTestUser("u1", "alice")); err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if p := recover(); p != "kaboom" {
				t.Errorf("recovered %v, want the panic of fn", p)
			}
		}()
		db.UpdateUser(ctx, tn.ID, "u1", func(u *store.User) error {
			u.Attrs["title"] = "x"
			panic("kaboom")
		})
	}()
	u, err := db.UpdateUser(ctx, tn.ID, "u1", func(u *store.User) error {
		if u.Attrs["title"] != nil {
			return fmt.Errorf("the panicked update left title %v", u.Attrs["title"])
		}
		u.Attrs["nickName"] = "y"
		return nil
	})
	if err != nil || u.Version != 2 || u.Attrs["title"] != nil {
		t.Errorf("after a panic: version %d, title %v, err %v", u.Version, u.Attrs["title"], err)
	}
}

func TestWriteWithCancelledContext(t *testing.T) {
	db := mustOpen(t)
	defer db.Close()
	tn, err := db.CreateTenant(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := db.CreateUser(ctx, tn.ID, newTestUser("u1", "alice")); !errors.Is(err, context.Canceled) {
		t.Errorf("CreateUser with a cancelled context: %v", err)
	}
	if _, err := db.User(t.Context(), tn.ID, "u1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the cancelled create happened: %v", err)
	}
}

func TestWriteAfterClose(t *testing.T) {
	db := mustOpen(t)
	db.Close()
	if _, err := db.CreateTenant(t.Context(), "acme"); !errors.Is(err, errClosed) {
		t.Errorf("CreateTenant after Close: %v", err)
	}
}

// TestWriterHoldIsBounded: a request whose statement holds the writer past
// maxHold is interrupted and fails; the requests batched with it, before
// and after, still commit.
func TestWriterHoldIsBounded(t *testing.T) {
	db := mustOpen(t)
	defer db.Close()
	db.w.maxHold = 200 * time.Millisecond
	ctx := t.Context()
	tn, err := db.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	release, started := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		db.writeTx(ctx, func(context.Context, *sql.Tx) error {
			close(started)
			<-release
			return nil
		})
	})
	<-started
	errs := make([]error, 3)
	wg.Go(func() { _, errs[0] = db.CreateUser(ctx, tn.ID, newTestUser("before", "before")) })
	time.Sleep(50 * time.Millisecond)
	wg.Go(func() {
		errs[1] = db.writeTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO server_secrets (name, value)
				WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000000) SELECT 'x' || i, x'00' FROM n`)
			return err
		})
	})
	time.Sleep(50 * time.Millisecond)
	wg.Go(func() { _, errs[2] = db.CreateUser(ctx, tn.ID, newTestUser("after", "after")) })
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	if errs[0] != nil || errs[2] != nil || !errors.Is(errs[1], errHeldTooLong) {
		t.Fatalf("errors %v; want the long write alone to fail with errHeldTooLong", errs)
	}
	for _, id := range []string{"before", "after"} {
		if _, err := db.User(ctx, tn.ID, id); err != nil {
			t.Errorf("user %s of the same batch: %v", id, err)
		}
	}
	var n int
	if err := db.read.QueryRowContext(ctx, "SELECT count(*) FROM server_secrets WHERE name LIKE 'x%'").Scan(&n); err != nil || n != 0 {
		t.Errorf("the stopped write left %d rows (%v)", n, err)
	}
}
