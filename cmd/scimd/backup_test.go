package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimd/scimd/internal/scim/filter"
	"github.com/scimd/scimd/internal/store"
	"github.com/scimd/scimd/internal/store/sqlite"
)

// TestBackupWhileServing backs up a SQLite database while scimd serves it
// and users are being created, then opens the copy: every user whose
// creation was acknowledged before the backup began is in it.
func TestBackupWhileServing(t *testing.T) {
	env := newEnv(t)
	key := newTenant(t, env, "acme")
	addr, _ := startServe(t, env)
	base := addr + "/t/acme/scim/v2"

	var mu sync.Mutex
	var acked []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				name := fmt.Sprintf("w%d-u%d@example.com", w, i)
				status, body, err := tryJSON("POST", base+"/Users", "Basic "+key.Basic, userBody(name))
				if err != nil || status != http.StatusCreated {
					t.Errorf("create %s: %v %d %s", name, err, status, body)
					return
				}
				mu.Lock()
				acked = append(acked, name)
				mu.Unlock()
			}
		})
	}
	waitFor := func(n int) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			mu.Lock()
			got := len(acked)
			mu.Unlock()
			if got >= n {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Fatalf("fewer than %d creates acknowledged", n)
	}
	waitFor(30)
	mu.Lock()
	before := append([]string(nil), acked...)
	mu.Unlock()
	copyPath := filepath.Join(t.TempDir(), "copy.db")
	out := mustCLI(t, env, "backup", "--to", copyPath)
	if !strings.Contains(out, "backed up") {
		t.Errorf("backup printed %q", out)
	}
	if entries, _ := os.ReadDir(filepath.Dir(copyPath)); len(entries) != 1 {
		t.Errorf("backup left files behind: %v", entries)
	}
	waitFor(len(before) + 10) // the server kept writing
	close(stop)
	wg.Wait()

	ctx := context.Background()
	st, err := sqlite.Open(ctx, copyPath)
	if err != nil {
		t.Fatalf("open the copy: %v", err)
	}
	defer st.Close()
	tn, err := st.Tenant(ctx, "acme")
	if err != nil {
		t.Fatalf("tenant in the copy: %v", err)
	}
	all, err := st.ListUsers(ctx, tn.ID, store.Query{})
	if err != nil || all.Total < len(before) {
		t.Fatalf("copy has %d users (%v), want at least the %d acknowledged before the backup", all.Total, err, len(before))
	}
	for _, name := range before {
		p, err := st.ListUsers(ctx, tn.ID, store.Query{Count: 1,
			Filter: &filter.Compare{Path: filter.Path{Attr: "userName"}, Op: filter.Eq, Value: name}})
		if err != nil || p.Total != 1 {
			t.Fatalf("user %s, acknowledged before the backup, is not in the copy (%v)", name, err)
		}
	}
	// The copy is a database scimd can use.
	if out := mustCLI(t, map[string]string{"SCIMD_DATABASE": "sqlite:" + copyPath}, "keys", "list", "--tenant", "acme"); !strings.Contains(out, key.UserID) {
		t.Errorf("keys list on the copy does not show the key: %s", out)
	}
	t.Logf("backup taken with %d users acknowledged holds %d", len(before), all.Total)

	// It never overwrites.
	if _, err := runCLI(t, env, "backup", "--to", copyPath); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("backup to an existing file: %v, want a refusal", err)
	}
}

func TestBackupRefuses(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"backup", "--database", "postgres://scimd@db.example.com/scimd", "--to", filepath.Join(dir, "x")}, "pg_dump"},
		{[]string{"backup", "--database", "sqlite:" + filepath.Join(dir, "x.db")}, "--to"},
		{[]string{"backup", "--database", "sqlite:" + filepath.Join(dir, "missing.db"), "--to", filepath.Join(dir, "y")}, "no such file"},
	} {
		_, err := runCLI(t, nil, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("scimd %s: %v, want an error mentioning %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
}
