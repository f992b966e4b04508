package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestWriterStats holds the writer busy while n writes queue up, and checks
// the queue depth they show and the batches the observer is told of.
func TestWriterStats(t *testing.T) {
	db := mustOpen(t)
	defer db.Close()
	ctx := t.Context()
	tn, err := db.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var batches []int
	db.SetObserver(Observer{Commit: func(n int, d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		if d <= 0 {
			t.Errorf("commit took %v", d)
		}
		batches = append(batches, n)
	}})
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
	if d := db.WriteQueueDepth(); d != 0 {
		t.Errorf("queue depth %d with one write running, want 0", d)
	}
	const n = 10
	for i := range n {
		wg.Go(func() {
			if _, err := db.CreateUser(ctx, tn.ID, newTestUser(fmt.Sprint("u", i), fmt.Sprint("user", i))); err != nil {
				t.Error(err)
			}
		})
	}
	deadline := time.Now().Add(10 * time.Second)
	for db.WriteQueueDepth() != n && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if d := db.WriteQueueDepth(); d != n {
		t.Errorf("queue depth %d, want %d", d, n)
	}
	close(release)
	wg.Wait()
	if d := db.WriteQueueDepth(); d != 0 {
		t.Errorf("queue depth %d after the writes, want 0", d)
	}
	mu.Lock()
	defer mu.Unlock()
	total := 0
	for _, b := range batches {
		total += b
	}
	// The held write, then the n queued ones, at most maxBatch a commit.
	if len(batches) < 2 || batches[0] != 1 || total != n+1 {
		t.Errorf("batches %v, want [1] and then %d writes in all", batches, n)
	}
	if s := db.ReadPoolStats(); s.MaxOpenConnections < 4 {
		t.Errorf("read pool of %d connections, want at least 4", s.MaxOpenConnections)
	}
}
