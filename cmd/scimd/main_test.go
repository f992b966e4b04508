package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func envFunc(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

// runCLI runs one scimd command to completion and returns its output.
func runCLI(t testing.TB, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), args, envFunc(env), strings.NewReader(""), &out, &out)
	return out.String(), err
}

func mustCLI(t testing.TB, env map[string]string, args ...string) string {
	t.Helper()
	out, err := runCLI(t, env, args...)
	if err != nil {
		t.Fatalf("scimd %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

var listenLine = regexp.MustCompile(`scimd listening on (https?://\S+)`)

// startServe runs "scimd serve" on a free port until the test ends and
// returns its address and everything it printed so far.
func startServe(t testing.TB, env map[string]string, extra ...string) (addr string, stdout *syncBuffer) {
	t.Helper()
	addr, stdout, _ = startServeLog(t, env, extra...)
	return addr, stdout
}

// startServeLog is startServe that also returns serve's log (stderr).
func startServeLog(t testing.TB, env map[string]string, extra ...string) (addr string, stdout, stderr *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdout = &syncBuffer{}
	stderr = &syncBuffer{}
	done := make(chan error, 1)
	args := append([]string{"serve", "--listen", "127.0.0.1:0"}, extra...)
	go func() { done <- run(ctx, args, envFunc(env), strings.NewReader(""), stdout, stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("serve did not stop within 30s")
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if m := listenLine.FindStringSubmatch(stdout.String()); m != nil {
			return m[1], stdout, stderr
		}
		select {
		case err := <-done:
			t.Fatalf("serve exited: %v\nstdout: %s\nstderr: %s", err, stdout, stderr)
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("serve did not report its address; stdout: %s", stdout)
	return "", nil, nil
}

// newEnv returns an environment whose database is a fresh file.
func newEnv(t testing.TB) map[string]string {
	return map[string]string{"SCIMD_DATABASE": "sqlite:" + filepath.Join(t.TempDir(), "scimd.db")}
}

type keyJSON struct {
	UserID  string `json:"userId"`
	APIKey  string `json:"apiKey"`
	Basic   string `json:"basic"`
	BaseURL string `json:"baseUrl"`
}

// newTenant creates an activated tenant with a read-write key.
func newTenant(t testing.TB, env map[string]string, name string) keyJSON {
	t.Helper()
	mustCLI(t, env, "tenants", "create", name)
	mustCLI(t, env, "tenants", "activate", name)
	var k keyJSON
	out := mustCLI(t, env, "keys", "create", "--tenant", name, "--name", "test", "--json")
	if err := json.Unmarshal([]byte(out), &k); err != nil {
		t.Fatalf("keys create --json printed %q: %v", out, err)
	}
	return k
}

func stringsReader(s string) io.Reader { return strings.NewReader(s) }

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
