package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/scimd/scimd/internal/store"
)

// TestMain lets the test binary act as scimd itself, so process-level tests
// (kill -9, signals) run the real program without a separate build.
func TestMain(m *testing.M) {
	if os.Getenv("SCIMD_TEST_AS_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// startProcess runs "scimd serve" as a child process and returns it and its
// address.
func startProcess(t *testing.T, dbURL string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "serve", "--listen", "127.0.0.1:0", "--database", dbURL)
	cmd.Env = append(os.Environ(), "SCIMD_TEST_AS_MAIN=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := bufio.NewScanner(stdout)
	addrc := make(chan string, 1)
	go func() {
		for lines.Scan() {
			if m := listenLine.FindStringSubmatch(lines.Text()); m != nil {
				addrc <- m[1]
			}
		}
	}()
	select {
	case addr := <-addrc:
		return cmd, addr
	case <-time.After(20 * time.Second):
		t.Fatal("scimd did not start")
	}
	return nil, ""
}

// TestKill9KeepsAcknowledgedWrites creates users concurrently, kills the
// server with SIGKILL in the middle of the load, restarts it and checks that
// every user whose creation was acknowledged (201) is there.
func TestKill9KeepsAcknowledgedWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	env := newEnv(t)
	key := newTenant(t, env, "durable")
	cmd, addr := startProcess(t, env["SCIMD_DATABASE"])
	base := addr + "/t/durable/scim/v2"

	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				name := fmt.Sprintf("w%d-u%d@example.com", w, i)
				status, _, err := tryJSON("POST", base+"/Users", "Basic "+key.Basic, userBody(name))
				if err != nil {
					return // the server is gone
				}
				if status == http.StatusCreated {
					mu.Lock()
					acked = append(acked, name)
					mu.Unlock()
				}
			}
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 100 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	close(stop)
	wg.Wait()
	if len(acked) == 0 {
		t.Fatal("no create was acknowledged before the kill")
	}

	second, addr := startProcess(t, env["SCIMD_DATABASE"])
	base = addr + "/t/durable/scim/v2"
	ids := map[string]string{} // id → userName
	for _, name := range acked {
		status, body, err := tryJSON("GET", base+"/Users?filter=userName+eq+%22"+name+"%22&attributes=userName", "Basic "+key.Basic, "")
		if err != nil || status != 200 {
			t.Fatalf("lookup %s: %v %d %s", name, err, status, body)
		}
		var page struct {
			Resources []struct{ ID string }
		}
		if err := json.Unmarshal([]byte(body), &page); err != nil || len(page.Resources) != 1 {
			t.Fatalf("acknowledged user %s lost after kill -9: %s", name, body)
		}
		ids[page.Resources[0].ID] = name
	}
	second.Process.Signal(syscall.SIGTERM)
	second.Wait()

	// Each acknowledged create has its event and its activity record.
	st, err := openStore(t.Context(), env["SCIMD_DATABASE"])
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	created := map[string]bool{}
	var after *store.EventPosition
	for {
		p, err := st.ReadEvents(t.Context(), store.EventQuery{After: after, Limit: 1000, Types: []string{store.EventUserCreated}})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Events {
			created[e.Resource.ID] = true
		}
		if len(p.Events) == 0 && (p.Next == nil || after != nil && *p.Next == *after) {
			break
		}
		after = p.Next
	}
	tn, err := st.Tenant(t.Context(), "durable")
	if err != nil {
		t.Fatal(err)
	}
	recorded := map[string]bool{}
	var before int64
	for {
		as, more, err := st.(store.ConsoleStore).ActivityLog(t.Context(), tn.ID, store.ActivityQuery{Method: "POST", Before: before, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range as {
			if a.Status == http.StatusCreated {
				recorded[a.ResourceID] = true
			}
			before = a.ID
		}
		if !more {
			break
		}
	}
	for id, name := range ids {
		if !created[id] {
			t.Errorf("acknowledged user %s (%s) has no user.created event after kill -9", name, id)
		}
		if !recorded[id] {
			t.Errorf("acknowledged user %s (%s) has no activity record after kill -9", name, id)
		}
	}
	t.Logf("%d acknowledged creates all survived kill -9, with their events and activity records", len(acked))
}

// TestSIGTERMStopsGracefully checks that serve exits cleanly on SIGTERM.
func TestSIGTERMStopsGracefully(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	env := newEnv(t)
	cmd, addr := startProcess(t, env["SCIMD_DATABASE"])
	if resp, err := http.Get(addr + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v", err)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("scimd exited with %v after SIGTERM", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("scimd did not stop after SIGTERM")
	}
	if _, err := os.Stat(filepath.Dir(env["SCIMD_DATABASE"][len("sqlite:"):])); err != nil {
		t.Fatal(err)
	}
}

func userBody(name string) string {
	return `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"` + name + `","name":{"givenName":"G","familyName":"F"},"active":true}`
}

func tryJSON(method, u, authz, body string) (int, string, error) {
	req, err := http.NewRequest(method, u, stringsReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", authz)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}
