package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/scimd/scimd/internal/auth"
	"github.com/scimd/scimd/internal/console"
	"github.com/scimd/scimd/internal/store"
)

// TestHelp: every command's --help (and -h) prints its usage and its flags
// to stdout and succeeds, without touching the database.
func TestHelp(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string // in the output
	}{
		{[]string{"serve"}, []string{"scimd serve [--listen ADDR]", "--listen ADDR", "(env SCIMD_LISTEN)", "(default 127.0.0.1:8080)",
			"--activity-retention DURATION", "(env SCIMD_ACTIVITY_RETENTION)", "--admin-listen ADDR", "--pprof\n", "--log-format text|json",
			"--log-level debug|info|warn|error", "--tls-cert FILE", "--tls-key FILE", "--dev\n", "(env SCIMD_DEV=true)"}},
		{[]string{"migrate"}, []string{"scimd migrate", "--database URL"}},
		{[]string{"backup"}, []string{"scimd backup --to FILE", "--to FILE", "--database URL"}},
		{[]string{"tenants", "create"}, []string{"scimd tenants create NAME", "--owner", "--password-stdin", "--database URL"}},
		{[]string{"tenants", "list"}, []string{"scimd tenants list", "--database URL"}},
		{[]string{"tenants", "activate"}, []string{"scimd tenants activate NAME", "--database URL"}},
		{[]string{"tenants", "deactivate"}, []string{"scimd tenants deactivate NAME", "--database URL"}},
		{[]string{"tenants", "set"}, []string{"scimd tenants set NAME", "--api-keys on|off", "--password-signin on|off", "--on-delete archive|purge"}},
		{[]string{"keys", "create"}, []string{"scimd keys create --tenant NAME", "--tenant NAME", "--name LABEL", "--scope read|write", "--expires", "--json\n", "(default write)"}},
		{[]string{"keys", "list"}, []string{"scimd keys list --tenant NAME", "--tenant NAME"}},
		{[]string{"keys", "revoke"}, []string{"scimd keys revoke --tenant NAME USERID", "--tenant NAME"}},
		{[]string{"users", "purge"}, []string{"scimd users purge --tenant NAME ID", "--tenant NAME"}},
		{[]string{"operators", "create"}, []string{"scimd operators create EMAIL --password-stdin", "--password-stdin"}},
		{[]string{"version"}, []string{"scimd version"}},
		{[]string{"healthcheck"}, []string{"scimd healthcheck [--url URL]", "--url URL"}},
		{[]string{"tenants"}, []string{"scimd tenants create", "scimd tenants set", "SUBCOMMAND --help"}},
		{[]string{"keys"}, []string{"scimd keys create", "scimd keys revoke"}},
		{[]string{"users"}, []string{"scimd users purge"}},
		{[]string{"operators"}, []string{"scimd operators create"}},
	} {
		for _, h := range []string{"--help", "-h"} {
			args := append(append([]string{}, tc.args...), h)
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				// A database that cannot be opened: help must not try.
				env := map[string]string{"SCIMD_DATABASE": "sqlite:/nonexistent/dir/scimd.db"}
				out, err := runCLI(t, env, args...)
				if err != nil {
					t.Fatalf("error %v\n%s", err, out)
				}
				if !strings.HasPrefix(out, "Usage:\n") {
					t.Errorf("output does not start with Usage:\n%s", out)
				}
				for _, w := range tc.want {
					if !strings.Contains(out, w) {
						t.Errorf("output lacks %q:\n%s", w, out)
					}
				}
			})
		}
	}
}

// TestHelpExitStatus runs the binary: serve --help exits 0 (it used to
// exit 2 with "flag: help requested"), a wrong flag exits 2.
func TestHelpExitStatus(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"serve", "--help"}, 0, "--admin-listen"},
		{[]string{"keys", "create", "-h"}, 0, "--tenant"},
		{[]string{"--version"}, 0, "commit:"},
		{[]string{"serve", "--no-such-flag"}, 2, "flag provided but not defined"},
	} {
		cmd := exec.Command(os.Args[0], tc.args...)
		cmd.Env = append(os.Environ(), "SCIMD_TEST_AS_MAIN=1", "SCIMD_DATABASE=sqlite:/nonexistent/dir/scimd.db")
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tc.code || !strings.Contains(string(out), tc.want) {
			t.Errorf("scimd %s: exit %d, want %d; output:\n%s", strings.Join(tc.args, " "), code, tc.code, out)
		}
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		out := mustCLI(t, nil, args...)
		if !strings.HasPrefix(out, "scimd ") || !strings.Contains(out, "\ngo:          "+runtime.Version()) {
			t.Errorf("scimd %s printed:\n%s", args[0], out)
		}
	}
	if _, err := runCLI(t, nil, "version", "extra"); err == nil {
		t.Error("scimd version extra: no error")
	}
}

func TestVersionText(t *testing.T) {
	platform := runtime.GOOS + "/" + runtime.GOARCH
	for _, tc := range []struct {
		name string
		bi   *debug.BuildInfo
		want string
	}{
		{"release", &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Path: "github.com/scimd/scimd", Version: "v1.2.3"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.time", Value: "2026-03-04T05:06:07Z"}, {Key: "vcs.modified", Value: "false"}}},
			"scimd v1.2.3\nmodule:      github.com/scimd/scimd\ncommit:      0123abcd\ncommit time: 2026-03-04T05:06:07Z\ngo:          go1.26.1 " + platform + "\n"},
		{"work tree", &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Path: "github.com/scimd/scimd", Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.time", Value: "2026-03-04T05:06:07Z"}, {Key: "vcs.modified", Value: "true"}}},
			"scimd (devel)\nmodule:      github.com/scimd/scimd\ncommit:      0123abcd (with uncommitted changes)\ncommit time: 2026-03-04T05:06:07Z\ngo:          go1.26.1 " + platform + "\n"},
		{"no VCS information", &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Path: "github.com/scimd/scimd", Version: "(devel)"}},
			"scimd (devel)\nmodule:      github.com/scimd/scimd\ncommit:      unknown\ncommit time: unknown\ngo:          go1.26.1 " + platform + "\n"},
		{"no build info", nil,
			"scimd unknown\nmodule:      github.com/scimd/scimd\ncommit:      unknown\ncommit time: unknown\ngo:          " + runtime.Version() + " " + platform + "\n"},
	} {
		if got := versionText(tc.bi); got != tc.want {
			t.Errorf("%s:\ngot\n%s\nwant\n%s", tc.name, got, tc.want)
		}
	}
}

// TestServeFlagsHaveEnv: every serve flag has an environment variable,
// named SCIMD_ and the flag's name, and setting it sets the flag.
func TestServeFlagsHaveEnv(t *testing.T) {
	var c serveConfig
	fs, env := serveFlags(&c)
	vars := map[string]string{}
	want := map[string]string{}
	n := 0
	fs.VisitAll(func(f *flag.Flag) {
		n++
		v := env[f.Name]
		if v != "SCIMD_"+strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_")) {
			t.Errorf("flag --%s has environment variable %q", f.Name, v)
		}
		if !strings.Contains(f.Usage, "(env "+v) {
			t.Errorf("flag --%s: its help does not name %s: %q", f.Name, v, f.Usage)
		}
		// A value of the flag's type, unlike its default.
		var val string
		switch f.Value.(flag.Getter).Get().(type) {
		case bool:
			val = "true"
		case time.Duration:
			val = "1h23m0s"
		case int:
			val = "4242"
		case string:
			val = "value-of-" + f.Name
		default:
			t.Fatalf("flag --%s of unexpected type %T", f.Name, f.Value)
		}
		vars[v], want[f.Name] = val, val
	})
	if n < 11 || len(env) != n {
		t.Errorf("%d flags, %d environment variables", n, len(env))
	}
	if err := applyEnv(fs, env, func(k string) string { return vars[k] }); err != nil {
		t.Fatal(err)
	}
	fs.VisitAll(func(f *flag.Flag) {
		if got := f.Value.String(); got != want[f.Name] {
			t.Errorf("--%s = %q after %s=%q", f.Name, got, env[f.Name], want[f.Name])
		}
	})
	// The command line wins over the environment.
	if _, err := parseArgs(fs, []string{"--listen", "127.0.0.1:1"}); err != nil || c.listen != "127.0.0.1:1" {
		t.Errorf("--listen on the command line: %q, %v", c.listen, err)
	}
}

// TestServeRefuses: wrong values of flags and variables are usage errors,
// found before anything is opened.
func TestServeRefuses(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, []string{"--log-format", "xml"}, "--log-format must be text or json"},
		{nil, []string{"--log-level", "verbose"}, "--log-level must be debug, info, warn or error"},
		{map[string]string{"SCIMD_LOG_LEVEL": "loud"}, nil, "--log-level must be"},
		{map[string]string{"SCIMD_ACTIVITY_RETENTION": "a month"}, nil, `SCIMD_ACTIVITY_RETENTION="a month"`},
		{map[string]string{"SCIMD_DEV": "maybe"}, nil, `SCIMD_DEV="maybe"`},
		{nil, []string{"--tls-cert", "c.pem"}, "--tls-cert and --tls-key go together"},
		{nil, []string{"--tls-key", "k.pem"}, "--tls-cert and --tls-key go together"},
		{nil, []string{"--tls-cert", "/nonexistent/c.pem", "--tls-key", "/nonexistent/k.pem"}, "no such file"},
		{nil, []string{"--pprof"}, "--pprof needs --admin-listen"},
		{nil, []string{"--trusted-proxies", "10.0.0.0/8,proxy.example"}, `"proxy.example" is neither a CIDR nor an address`},
		{nil, []string{"extra"}, `unexpected argument "extra"`},
	} {
		env := map[string]string{"SCIMD_DATABASE": "sqlite:/nonexistent/dir/scimd.db"}
		for k, v := range tc.env {
			env[k] = v
		}
		_, err := runCLI(t, env, append([]string{"serve", "--listen", "127.0.0.1:0"}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("serve %v with %v: %v, want %q", tc.args, tc.env, err, tc.want)
		}
	}
}

// TestServeLogsConfiguration: serve logs its effective configuration,
// every flag, at start, in the format asked for, with the database
// password redacted.
func TestServeLogsConfiguration(t *testing.T) {
	env := newEnv(t)
	env["SCIMD_LOG_FORMAT"] = "json"
	env["SCIMD_BASE_DOMAIN"] = "scim.example"
	_, _, stderr := startServeLog(t, env, "--activity-retention", "48h")
	var cfg map[string]any
	for line := range strings.SplitSeq(stderr.String(), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			if line != "" {
				t.Errorf("not a JSON log line: %q", line)
			}
			continue
		}
		if rec["msg"] == "configuration" {
			cfg = rec
		}
	}
	if cfg == nil {
		t.Fatalf("no configuration line:\n%s", stderr)
	}
	for k, v := range map[string]string{"listen": "127.0.0.1:0", "database": env["SCIMD_DATABASE"], "base-domain": "scim.example",
		"dev": "false", "activity-retention": "48h0m0s", "admin-listen": "", "pprof": "false", "log-format": "json", "log-level": "info",
		"tls-cert": "", "tls-key": "", "trusted-proxies": "", "level": "INFO"} {
		if cfg[k] != v {
			t.Errorf("configuration %s = %v, want %q", k, cfg[k], v)
		}
	}
	if _, ok := cfg["version"].(string); !ok {
		t.Errorf("configuration without version: %v", cfg)
	}

	var c serveConfig
	fs, _ := serveFlags(&c)
	for _, dsn := range []string{"postgres://scimd:hunter2@db:5432/scimd", "host=db user=scimd password=hunter2 dbname=scimd"} {
		fs.Set("database", dsn)
		got := fmt.Sprint(configAttrs(fs)...)
		if strings.Contains(got, "hunter2") || !strings.Contains(got, "database=") {
			t.Errorf("configuration of %q: %s", dsn, got)
		}
	}
}

// TestNoSecretInServeLog runs serve with a JSON log at debug level, sends
// API keys in every accepted form, wrong ones, passwords in SCIM bodies and
// console sign-ins, and checks that no secret reaches the log or stdout.
func TestHealthcheck(t *testing.T) {
	for _, tc := range []struct {
		listen string
		tls    bool
		want   string
	}{
		{"127.0.0.1:8080", false, "http://127.0.0.1:8080/healthz"},
		{"0.0.0.0:8080", false, "http://127.0.0.1:8080/healthz"},
		{":8443", true, "https://127.0.0.1:8443/healthz"},
		{"[::]:8080", false, "http://127.0.0.1:8080/healthz"},
		{"[::1]:8080", false, "http://[::1]:8080/healthz"},
		{"scimd.internal:8080", false, "http://scimd.internal:8080/healthz"},
	} {
		if got := healthURL(tc.listen, tc.tls); got != tc.want {
			t.Errorf("healthURL(%q, %v) = %q, want %q", tc.listen, tc.tls, got, tc.want)
		}
	}
	env := newEnv(t)
	addr, _ := startServe(t, env)
	env["SCIMD_LISTEN"] = strings.TrimPrefix(addr, "http://")
	if out, err := runCLI(t, env, "healthcheck"); err != nil || out != "ok\n" {
		t.Errorf("healthcheck of a running scimd: %q, %v", out, err)
	}
	if _, err := runCLI(t, env, "healthcheck", "--url", addr+"/nothing"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("healthcheck of a 404: %v", err)
	}
	if _, err := runCLI(t, map[string]string{"SCIMD_LISTEN": "127.0.0.1:1"}, "healthcheck"); err == nil {
		t.Error("healthcheck of nothing succeeded")
	}
}

func TestParsePrefixes(t *testing.T) {
	got, err := parsePrefixes(" 10.0.0.0/8, 127.0.0.1,::1 , 192.168.1.7/24,,::ffff:10.1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	want := "[10.0.0.0/8 127.0.0.1/32 ::1/128 192.168.1.0/24 10.1.2.3/32]"
	if fmt.Sprint(got) != want {
		t.Errorf("parsePrefixes = %v, want %s", got, want)
	}
	if ps, err := parsePrefixes(""); err != nil || len(ps) != 0 {
		t.Errorf("parsePrefixes(\"\") = %v, %v", ps, err)
	}
}

func TestNoSecretInServeLog(t *testing.T) {
	env := newEnv(t)
	const ownerPassword, wrongPassword, scimPassword = "Owner-pw-4711", "Wrong-pw-0815", "Scim-pw-1234"
	var out strings.Builder
	if err := run(t.Context(), []string{"tenants", "create", "acme", "--owner", "owner@acme.example", "--password-stdin"}, envFunc(env),
		strings.NewReader(ownerPassword+"\n"), &out, &out); err != nil {
		t.Fatalf("tenants create: %v\n%s", err, out.String())
	}
	mustCLI(t, env, "tenants", "activate", "acme")
	mustCLI(t, env, "tenants", "set", "acme", "--password-signin", "on")
	var key keyJSON
	if err := json.Unmarshal([]byte(mustCLI(t, env, "keys", "create", "--tenant", "acme", "--name", "t", "--json")), &key); err != nil {
		t.Fatal(err)
	}
	addr, stdout, stderr := startServeLog(t, env, "--log-level", "debug", "--log-format", "json")
	wrongKey := key.APIKey[:len(key.APIKey)-1] + map[bool]string{true: "b", false: "a"}[strings.HasSuffix(key.APIKey, "a")]
	secrets := []string{key.APIKey, key.Basic, wrongKey, ownerPassword, wrongPassword, scimPassword}

	base := addr + "/t/acme/scim/v2"
	for _, authz := range []string{"Basic " + key.Basic, "Bearer " + key.Basic, "Bearer " + key.APIKey, key.APIKey, "Bearer " + wrongKey, wrongKey} {
		for _, rq := range [][2]string{
			{"GET", "/Users?filter=userName+eq+%22owner@acme.example%22"},
			{"POST", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"u` + fmt.Sprint(len(authz)) + `","password":"` + scimPassword + `"}`},
			{"POST", `{"password":"` + scimPassword + `"`},
		} {
			method, body, path := rq[0], rq[1], "/Users"
			if method == "GET" {
				path, body = rq[1], ""
			}
			req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
			req.Header.Set("Authorization", authz)
			req.Header.Set("Content-Type", "application/scim+json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
	}
	// Console sign-ins, wrong and right (loopback: plain HTTP is allowed).
	for _, pw := range []string{wrongPassword, ownerPassword} {
		jar, _ := cookiejar.New(nil)
		client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		_, page := getWith(t, client, addr+"/t/acme/console/signin")
		m := csrfField.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no CSRF token in the sign-in page:\n%s", page)
		}
		form := "csrf=" + m[1] + "&userName=owner%40acme.example&password=" + pw
		req, _ := http.NewRequest("POST", addr+"/t/acme/console/signin", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if want := map[string]int{wrongPassword: 401, ownerPassword: 303}[pw]; resp.StatusCode != want {
			t.Errorf("sign-in: %d, want %d", resp.StatusCode, want)
		}
	}
	// Every request has its line: 18 SCIM, 2 sign-in pages, 2 sign-ins.
	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(stderr.String(), `"msg":"request"`) < 22 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	log := stderr.String()
	if n := strings.Count(log, `"msg":"request"`); n != 22 {
		t.Errorf("%d request lines, want 22:\n%s", n, log)
	}
	if !strings.Contains(log, `"route":"/t/{tenant}/console/signin"`) {
		t.Errorf("no console request line:\n%s", log)
	}
	for _, s := range secrets {
		if strings.Contains(log, s) || strings.Contains(stdout.String(), s) {
			t.Errorf("serve's output contains the secret %q", s)
		}
	}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func getWith(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestTenantsUnlock: the operator's unlock of an account locked out of
// the console clears its sign-in failures from every address.
func TestTenantsUnlock(t *testing.T) {
	env := newEnv(t)
	mustCLI(t, env, "tenants", "create", "acme")
	st, err := openStore(t.Context(), env["SCIMD_DATABASE"])
	if err != nil {
		t.Fatal(err)
	}
	tn, _ := st.Tenant(t.Context(), "acme")
	cs := st.(store.ConsoleStore)
	for _, addr := range []string{"198.51.100.7", "203.0.113.9"} {
		cs.UpdateThrottle(t.Context(), console.AccountThrottles(tn.ID, "Admin@acme.example")+addr, func(th *store.Throttle) { th.Failures = 5 })
	}
	cs.UpdateThrottle(t.Context(), console.AccountThrottles(tn.ID, "someone.else")+"198.51.100.7", func(th *store.Throttle) { th.Failures = 5 })
	st.Close()
	if out := mustCLI(t, env, "tenants", "unlock", "acme", "admin@ACME.example"); out != "admin@ACME.example of tenant acme unlocked (2 sign-in failure records cleared)\n" {
		t.Errorf("unlock: %q", out)
	}
	if _, err := runCLI(t, env, "tenants", "unlock", "acme"); err == nil {
		t.Error("unlock without a USERNAME succeeded")
	}
	if _, err := runCLI(t, env, "tenants", "unlock", "nope", "x"); err == nil {
		t.Error("unlock in an unknown tenant succeeded")
	}
}

// runCLIIn is runCLI with stdin.
func runCLIIn(env map[string]string, stdin string, args ...string) (string, error) {
	var out strings.Builder
	err := run(context.Background(), args, envFunc(env), strings.NewReader(stdin), &out, &out)
	return out.String(), err
}

// TestBreakGlass: an operator gives a tenant an Owner back (an existing
// user, or a new one), sets a console user's password (ending their
// sessions), and restores an archived user.
func TestBreakGlass(t *testing.T) {
	env := newEnv(t)
	mustCLI(t, env, "tenants", "create", "acme")
	st, err := openStore(t.Context(), env["SCIMD_DATABASE"])
	if err != nil {
		t.Fatal(err)
	}
	tn, _ := st.Tenant(t.Context(), "acme")
	now := time.Now()
	for _, id := range []string{"u-ada", "u-gone"} {
		if _, err := st.CreateUser(t.Context(), tn.ID, store.User{ID: id, Created: now, Modified: now, Attrs: map[string]any{"userName": id + "@acme.example"}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.DeleteUser(t.Context(), tn.ID, "u-gone", true); err != nil {
		t.Fatal(err)
	}
	cs := st.(store.ConsoleStore)
	if err := cs.CreateSession(t.Context(), store.Session{IDHash: []byte("0123456789abcdef0123456789abcdef"), TenantID: tn.ID, UserID: "u-ada",
		CSRF: "c", Created: now, LastSeen: now, Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	for _, tc := range []struct {
		stdin string
		args  []string
		out   string
		fails bool
	}{
		{"", []string{"tenants", "add-owner", "acme", "U-ADA@acme.example"}, "U-ADA@acme.example of tenant acme holds the Owner role\n", false},
		{"", []string{"tenants", "add-owner", "acme", "new@acme.example"}, "", true}, // a new user needs a password
		{"a new Owner pw\n", []string{"tenants", "add-owner", "acme", "new@acme.example", "--password-stdin"}, "created new@acme.example in tenant acme, with the Owner role\n", false},
		{"short\n", []string{"users", "set-password", "--tenant", "acme", "u-ada@acme.example", "--password-stdin"}, "", true},
		{"ada's new password\n", []string{"users", "set-password", "--tenant", "acme", "u-ada@acme.example", "--password-stdin"},
			"new password set for u-ada@acme.example of tenant acme; their console sessions are ended\n", false},
		{"", []string{"users", "restore", "--tenant", "acme", "u-gone"}, "restored user u-gone (u-gone@acme.example) of tenant acme\n", false},
		{"", []string{"users", "restore", "--tenant", "acme", "u-gone"}, "", true}, // no longer archived
	} {
		out, err := runCLIIn(env, tc.stdin, tc.args...)
		if (err != nil) != tc.fails || !tc.fails && out != tc.out {
			t.Errorf("scimd %s: %q, %v", strings.Join(tc.args, " "), out, err)
		}
	}

	st, err = openStore(t.Context(), env["SCIMD_DATABASE"])
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cs = st.(store.ConsoleStore)
	for _, id := range []string{"u-ada"} {
		roles, _ := cs.UserRoles(t.Context(), tn.ID, id)
		if len(roles) != 1 || roles[0].Name != store.RoleOwner {
			t.Errorf("%s's roles: %+v", id, roles)
		}
	}
	u, err := cs.UserByUserName(t.Context(), tn.ID, "u-ada@acme.example")
	if ok, _ := auth.CheckPassword(t.Context(), u.PasswordHash, "ada's new password"); err != nil || !ok {
		t.Errorf("ada's password after set-password: %v, %v", ok, err)
	}
	if _, err := cs.Session(t.Context(), []byte("0123456789abcdef0123456789abcdef")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ada's session after set-password: %v, want ended", err)
	}
	if _, err := st.User(t.Context(), tn.ID, "u-gone"); err != nil {
		t.Errorf("the restored user: %v", err)
	}
	nu, err := cs.UserByUserName(t.Context(), tn.ID, "new@acme.example")
	if err != nil {
		t.Fatal(err)
	}
	if roles, _ := cs.UserRoles(t.Context(), tn.ID, nu.ID); len(roles) != 1 || roles[0].Name != store.RoleOwner {
		t.Errorf("the new Owner's roles: %+v", roles)
	}
}

// TestTenantsListSaysWhichDatabase: with no tenants, tenants list names
// the database it opened (the CLI's default is not make run's).
func TestTenantsListSaysWhichDatabase(t *testing.T) {
	env := newEnv(t)
	out := mustCLI(t, env, "tenants", "list")
	if want := "no tenants in " + env["SCIMD_DATABASE"] + " (scimd tenants create NAME makes one; --database URL opens another)\n"; out != want {
		t.Errorf("tenants list of an empty database: %q, want %q", out, want)
	}
}

// TestOperatorsListRemoveAndPurgeByUserName: operators are listed and
// removed; users purge takes a userName as well as an id.
func TestOperatorsListRemoveAndPurgeByUserName(t *testing.T) {
	env := newEnv(t)
	for _, email := range []string{"zed@vendor.example", "amy@vendor.example"} {
		if _, err := runCLIIn(env, "a long password\n", "operators", "create", email, "--password-stdin"); err != nil {
			t.Fatal(err)
		}
	}
	out := mustCLI(t, env, "operators", "list")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[1], "amy@vendor.example ") || !strings.HasPrefix(lines[2], "zed@vendor.example ") {
		t.Errorf("operators list:\n%s", out)
	}
	if out := mustCLI(t, env, "operators", "remove", "ZED@vendor.example"); out != "removed operator ZED@vendor.example; their sessions are ended\n" {
		t.Errorf("operators remove: %q", out)
	}
	if _, err := runCLI(t, env, "operators", "remove", "zed@vendor.example"); err == nil {
		t.Error("removing a removed operator succeeded")
	}
	if out := mustCLI(t, env, "operators", "list"); strings.Contains(out, "zed@") {
		t.Errorf("after the removal:\n%s", out)
	}

	mustCLI(t, env, "tenants", "create", "acme")
	st, err := openStore(t.Context(), env["SCIMD_DATABASE"])
	if err != nil {
		t.Fatal(err)
	}
	tn, _ := st.Tenant(t.Context(), "acme")
	now := time.Now()
	st.CreateUser(t.Context(), tn.ID, store.User{ID: "u-ada", Created: now, Modified: now, Attrs: map[string]any{"userName": "ada@acme.example"}})
	st.Close()
	if out := mustCLI(t, env, "users", "purge", "--tenant", "acme", "ADA@acme.example"); out != "purged user u-ada of tenant acme: all of its data is permanently deleted\n" {
		t.Errorf("purge by userName: %q", out)
	}
	if _, err := runCLI(t, env, "users", "purge", "--tenant", "acme", "ada@acme.example"); err == nil {
		t.Error("purging a purged user succeeded")
	}
}
