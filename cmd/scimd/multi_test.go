package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/scimd/scimd/internal/store/postgres/pgtest"
)

// These tests run three real scimd processes (this test binary re-executed
// as scimd, see TestMain) against one real PostgreSQL database, the
// deployment of several stateless instances behind a load balancer. They
// skip, saying so, without SCIM_TEST_POSTGRES_DSN (`make test` sets it).

// instance is a running scimd process.
type instance struct {
	cmd    *exec.Cmd
	url    string // http://127.0.0.1:PORT
	stderr *syncBuffer
}

// startInstances starts n "scimd serve" processes on dbURL at the same
// time and waits until all of them listen. They are killed when the test
// ends.
func startInstances(t testing.TB, n int, dbURL string) []*instance {
	t.Helper()
	insts := make([]*instance, n)
	addrs := make(chan struct {
		i    int
		addr string
	}, n)
	exited := make(chan int, n)
	for i := range insts {
		cmd := exec.Command(os.Args[0], "serve", "--listen", "127.0.0.1:0", "--database", dbURL)
		cmd.Env = append(os.Environ(), "SCIMD_TEST_AS_MAIN=1")
		in := &instance{cmd: cmd, stderr: &syncBuffer{}}
		cmd.Stderr = in.stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		insts[i] = in
		go func() {
			lines := bufio.NewScanner(stdout)
			for lines.Scan() {
				if m := listenLine.FindStringSubmatch(lines.Text()); m != nil {
					addrs <- struct {
						i    int
						addr string
					}{i, m[1]}
				}
			}
			exited <- i
		}()
	}
	timeout := time.After(60 * time.Second)
	for range n {
		select {
		case a := <-addrs:
			insts[a.i].url = a.addr
		case i := <-exited:
			insts[i].cmd.Wait()
			t.Fatalf("instance %d exited before listening: %v\nstderr: %s", i, insts[i].cmd.ProcessState, insts[i].stderr)
		case <-timeout:
			t.Fatal("the instances did not all start within 60s")
		}
	}
	return insts
}

// scimDo sends one SCIM request and returns the status, the ETag and the
// body.
func scimDo(t testing.TB, method, url, basic, ifMatch, body string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Basic "+basic)
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	if ifMatch != "" {
		req.Header.Set("If-Match", ifMatch)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, url, err)
		return 0, "", ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("ETag"), string(b)
}

const patchOp = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[%s]}`

func TestMultiInstancePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	dsn := pgtest.NewDatabase(t)
	env := map[string]string{"SCIMD_DATABASE": dsn}
	var insts []*instance
	top := t // the instances live as long as the whole test

	// (d) Three instances starting at the same moment on an empty database
	// migrate it together, safely: all serve, each migration is recorded
	// once.
	t.Run("StartTogetherOnEmptyDatabase", func(t *testing.T) {
		insts = startInstances(top, 3, dsn)
		for i, in := range insts {
			resp, err := http.Get(in.url + "/readyz")
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("instance %d not ready: %v %v\nstderr: %s", i, err, resp, in.stderr)
			}
			resp.Body.Close()
		}
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var rows, distinct int
		if err := conn.QueryRow(ctx, "SELECT count(*), count(DISTINCT name) FROM schema_migrations").Scan(&rows, &distinct); err != nil {
			t.Fatal(err)
		}
		if rows == 0 || rows != distinct {
			t.Errorf("schema_migrations has %d rows for %d migrations", rows, distinct)
		}
		if out := mustCLI(t, env, "migrate"); !strings.Contains(out, "up to date") {
			t.Errorf("migrate after the instances: %s", out)
		}
	})
	if len(insts) != 3 {
		t.Fatal("the instances did not start")
	}
	key := newTenant(t, env, "acme")
	base := func(i int) string { return insts[i%3].url + "/t/acme/scim/v2" }

	// (a) The same userName (in different cases) POSTed at once through the
	// three instances: exactly one 201, the others 409 uniqueness.
	t.Run("SameUserNameConcurrently", func(t *testing.T) {
		const rounds, perInstance = 8, 2
		for r := range rounds {
			name := fmt.Sprintf("race.%d@example.com", r)
			variants := []string{name, strings.ToUpper(name), "Race." + name[len("race."):]}
			statuses := make([]int, 3*perInstance)
			bodies := make([]string, len(statuses))
			start := make(chan struct{})
			var wg sync.WaitGroup
			for j := range statuses {
				wg.Go(func() {
					<-start
					statuses[j], _, bodies[j] = scimDo(t, "POST", base(j)+"/Users", key.Basic, "", userBody(variants[j%3]))
				})
			}
			close(start)
			wg.Wait()
			created := 0
			for j, st := range statuses {
				switch st {
				case http.StatusCreated:
					created++
				case http.StatusConflict:
					if !strings.Contains(bodies[j], `"uniqueness"`) {
						t.Errorf("409 without scimType uniqueness: %s", bodies[j])
					}
				default:
					t.Errorf("round %d, request %d (instance %d): status %d: %s", r, j, j%3, st, bodies[j])
				}
			}
			if created != 1 {
				t.Errorf("round %d: %d of %d concurrent POSTs of %q created a user (statuses %v), want exactly 1", r, created, len(statuses), name, statuses)
			}
			for i := range 3 {
				st, _, body := scimDo(t, "GET", base(i)+"/Users?filter=userName+eq+%22"+strings.ToUpper(name)+"%22", key.Basic, "", "")
				if st != 200 || !strings.Contains(body, `"totalResults":1`) {
					t.Errorf("instance %d sees %s: %d %s", i, name, st, body)
				}
			}
		}
	})

	// (b) A key revoked through the CLI (any instance's database) is
	// refused by every instance on the very next request.
	t.Run("RevokedKeyRefusedEverywhere", func(t *testing.T) {
		var k keyJSON
		out := mustCLI(t, env, "keys", "create", "--tenant", "acme", "--name", "to-revoke", "--json")
		if err := json.Unmarshal([]byte(out), &k); err != nil {
			t.Fatalf("keys create --json: %q: %v", out, err)
		}
		for i := range 3 {
			if st, _, body := scimDo(t, "GET", base(i)+"/Users?count=1", k.Basic, "", ""); st != 200 {
				t.Fatalf("instance %d before revocation: %d %s", i, st, body)
			}
		}
		mustCLI(t, env, "keys", "revoke", "--tenant", "acme", k.UserID)
		for i := range 3 {
			if st, _, body := scimDo(t, "GET", base(i)+"/Users?count=1", k.Basic, "", ""); st != http.StatusUnauthorized {
				t.Errorf("instance %d accepted the revoked key: %d %s", i, st, body)
			}
			if st, _, _ := scimDo(t, "GET", base(i)+"/Users?count=1", key.Basic, "", ""); st != 200 {
				t.Errorf("instance %d refused the other key: %d", i, st)
			}
		}
	})

	// (c) Two instances PATCH the same user with the same If-Match: one
	// 200, one 412, and the stored user is the winner's change on top of
	// the version both read.
	t.Run("IfMatchAcrossInstances", func(t *testing.T) {
		st, etag, body := scimDo(t, "POST", base(0)+"/Users", key.Basic, "", userBody("etag@example.com"))
		if st != http.StatusCreated {
			t.Fatalf("create: %d %s", st, body)
		}
		var u struct {
			ID   string `json:"id"`
			Meta struct {
				Version string `json:"version"`
			} `json:"meta"`
			Title string `json:"title"`
		}
		json.Unmarshal([]byte(body), &u)
		for r := range 10 {
			statuses := make([]int, 2)
			etags := make([]string, 2)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for j := range 2 {
				wg.Go(func() {
					<-start
					op := fmt.Sprintf(`{"op":"replace","path":"title","value":"round %d by instance %d"}`, r, j+1)
					statuses[j], etags[j], _ = scimDo(t, "PATCH", base(j+1)+"/Users/"+u.ID, key.Basic, etag, fmt.Sprintf(patchOp, op))
				})
			}
			close(start)
			wg.Wait()
			winner := -1
			for j, st := range statuses {
				switch st {
				case http.StatusOK:
					winner = j
				case http.StatusPreconditionFailed:
				default:
					t.Errorf("round %d: instance %d answered %d", r, j+1, st)
				}
			}
			if !(statuses[0] == 200 && statuses[1] == 412 || statuses[0] == 412 && statuses[1] == 200) {
				t.Fatalf("round %d: statuses %v, want one 200 and one 412", r, statuses)
			}
			st, got, body := scimDo(t, "GET", base(0)+"/Users/"+u.ID, key.Basic, "", "")
			json.Unmarshal([]byte(body), &u)
			want := fmt.Sprintf("round %d by instance %d", r, winner+1)
			if st != 200 || u.Title != want || got != etags[winner] || got == etag {
				t.Fatalf("round %d: stored title %q, ETag %s (was %s, winner's %s); want %q", r, u.Title, got, etag, etags[winner], want)
			}
			etag = got
		}
		if u.Meta.Version != `W/"11"` {
			t.Errorf("after 10 rounds the version is %s, want W/\"11\"", u.Meta.Version)
		}
	})

	// Without If-Match, concurrent PATCHes through all instances each
	// apply to the latest version: none is lost.
	t.Run("ConcurrentPatchesLoseNothing", func(t *testing.T) {
		st, _, body := scimDo(t, "POST", base(0)+"/Users", key.Basic, "", userBody("many@example.com"))
		if st != http.StatusCreated {
			t.Fatalf("create: %d %s", st, body)
		}
		var u struct {
			ID     string `json:"id"`
			Emails []struct {
				Value string `json:"value"`
			} `json:"emails"`
		}
		json.Unmarshal([]byte(body), &u)
		const n = 15
		var wg sync.WaitGroup
		for j := range n {
			wg.Go(func() {
				op := fmt.Sprintf(`{"op":"add","path":"emails","value":[{"value":"m%d@example.com","type":"other"}]}`, j)
				if st, _, body := scimDo(t, "PATCH", base(j)+"/Users/"+u.ID, key.Basic, "", fmt.Sprintf(patchOp, op)); st != 200 {
					t.Errorf("PATCH %d: %d %s", j, st, body)
				}
			})
		}
		wg.Wait()
		_, _, body = scimDo(t, "GET", base(1)+"/Users/"+u.ID, key.Basic, "", "")
		json.Unmarshal([]byte(body), &u)
		if len(u.Emails) != n {
			t.Errorf("after %d concurrent PATCHes adding one e-mail each, the user has %d e-mails", n, len(u.Emails))
		}
	})

	// Group memberships added at once through all instances: every one is
	// kept, each a row of its own.
	t.Run("ConcurrentGroupMemberAdds", func(t *testing.T) {
		var ids []string
		for i := range 12 {
			st, _, body := scimDo(t, "POST", base(i)+"/Users", key.Basic, "", userBody(fmt.Sprintf("member%d@example.com", i)))
			var u struct {
				ID string `json:"id"`
			}
			if json.Unmarshal([]byte(body), &u); st != http.StatusCreated || u.ID == "" {
				t.Fatalf("create member %d: %d %s", i, st, body)
			}
			ids = append(ids, u.ID)
		}
		st, _, body := scimDo(t, "POST", base(0)+"/Groups", key.Basic, "",
			`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Everyone"}`)
		var g struct {
			ID      string `json:"id"`
			Members []struct {
				Value string `json:"value"`
			} `json:"members"`
		}
		if json.Unmarshal([]byte(body), &g); st != http.StatusCreated || g.ID == "" {
			t.Fatalf("create group: %d %s", st, body)
		}
		var wg sync.WaitGroup
		for i, id := range ids {
			wg.Go(func() {
				op := fmt.Sprintf(`{"op":"add","path":"members","value":[{"value":%q}]}`, id)
				if st, _, body := scimDo(t, "PATCH", base(i)+"/Groups/"+g.ID, key.Basic, "", fmt.Sprintf(patchOp, op)); st != 200 && st != 204 {
					t.Errorf("PATCH add member %d: %d %s", i, st, body)
				}
			})
		}
		wg.Wait()
		_, _, body = scimDo(t, "GET", base(2)+"/Groups/"+g.ID, key.Basic, "", "")
		json.Unmarshal([]byte(body), &g)
		if len(g.Members) != len(ids) {
			t.Errorf("after %d concurrent adds through 3 instances the group has %d members: %s", len(ids), len(g.Members), body)
		}
	})
}
