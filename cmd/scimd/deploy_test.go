package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scimd/scimd/internal/testenv"
)

// deployDir is the repository's deploy/ folder.
const deployDir = "../../deploy"

// TestDeployVariables: every SCIMD_ variable the deploy files set or
// mention is one that serve reads.
func TestDeployVariables(t *testing.T) {
	var c serveConfig
	_, env := serveFlags(&c)
	known := map[string]bool{}
	for _, v := range env {
		known[v] = true
	}
	name := regexp.MustCompile(`SCIMD_[A-Z_]+`)
	for _, f := range []string{"Dockerfile", "scimd.service", "nginx.conf"} {
		b, err := os.ReadFile(filepath.Join(deployDir, f))
		if err != nil {
			t.Fatal(err)
		}
		names := name.FindAllString(string(b), -1)
		if len(names) == 0 {
			t.Errorf("%s names no SCIMD_ variable", f)
		}
		for _, n := range names {
			if !known[n] {
				t.Errorf("%s: serve has no variable %s", f, n)
			}
		}
	}
}

// TestSystemdUnit checks deploy/scimd.service with systemd-analyze: verify
// must have nothing to say, and the hardening must rate as exposure 2.0
// or less ("OK").
func TestSystemdUnit(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		testenv.Missing(t, "systemd-analyze not found: install Debian's systemd package to check deploy/scimd.service")
	}
	unit, err := os.ReadFile(filepath.Join(deployDir, "scimd.service"))
	if err != nil {
		t.Fatal(err)
	}
	// verify checks that ExecStart's binary exists: this test binary is
	// scimd too (TestMain).
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(unit), "ExecStart=/usr/local/bin/scimd serve\n") {
		t.Fatal("the unit does not run /usr/local/bin/scimd serve")
	}
	path := filepath.Join(t.TempDir(), "scimd.service")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(string(unit), "/usr/local/bin/scimd", self)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, err = exec.Command(analyze, "security", "--offline=true", path).CombinedOutput()
	m := regexp.MustCompile(`Overall exposure level for scimd\.service: ([0-9.]+)`).FindSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	if level, _ := strconv.ParseFloat(string(m[1]), 64); level > 2.0 {
		t.Errorf("exposure level %.1f, want at most 2.0:\n%s", level, out)
	}
}

// nginxBinary is Debian's nginx, or "".
func nginxBinary() string {
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx"
	}
	return ""
}

// startNginx runs nginx with deploy/nginx.conf, its TLS server on a free
// loopback port with the certificate certFile/keyFile, in front of the
// scimd at upstream (host:port), until the test ends. It returns the
// https:// base URL.
func startNginx(t *testing.T, bin, upstream, certFile, keyFile string) string {
	t.Helper()
	conf, err := os.ReadFile(filepath.Join(deployDir, "nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	port, plain := freePort(t), freePort(t)
	site := string(conf)
	for _, r := range [][2]string{
		{"server 127.0.0.1:8080;", "server " + upstream + ";"},
		{"listen 443 ssl http2;", "listen 127.0.0.1:" + port + " ssl http2;"},
		{"listen 80;", "listen 127.0.0.1:" + plain + ";"},
		{"/etc/ssl/scimd/fullchain.pem", certFile},
		{"/etc/ssl/scimd/privkey.pem", keyFile},
	} {
		if !strings.Contains(site, r[0]) {
			t.Fatalf("deploy/nginx.conf has no %q", r[0])
		}
		site = strings.ReplaceAll(site, r[0], r[1])
	}
	dir := t.TempDir()
	main := fmt.Sprintf(`daemon off;
master_process off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 64; }
http {
	access_log %[1]s/access.log;
	client_body_temp_path %[1]s/body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
	include %[1]s/scimd.conf;
}
`, dir)
	for name, body := range map[string]string{"nginx.conf": main, "scimd.conf": site} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command(bin, "-t", "-e", "stderr", "-p", dir, "-c", filepath.Join(dir, "nginx.conf")).CombinedOutput(); err != nil {
		t.Fatalf("nginx -t: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-e", "stderr", "-p", dir, "-c", filepath.Join(dir, "nginx.conf"))
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("nginx stderr:\n%s\nerror.log:\n%s", stderr.String(), log)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", "127.0.0.1:"+port)
		if err == nil {
			c.Close()
			return "https://127.0.0.1:" + port
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx did not start: %v\n%s", err, stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// clientFrom is an HTTPS client trusting certs whose connections come from
// the loopback address local (127.0.0.2, …), as different machines' would.
func clientFrom(certs *testCerts, local string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 5 * time.Second}
	jar, _ := cookiejar.New(nil)
	return &http.Client{
		Jar: jar,
		Transport: &http.Transport{
			DialContext:       d.DialContext,
			TLSClientConfig:   &tls.Config{RootCAs: certs.pool},
			ForceAttemptHTTP2: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// consoleSignIn signs in to acme's console with client and returns the
// response and the cookies it set.
func consoleSignIn(t *testing.T, client *http.Client, base, user, password string, header ...string) (*http.Response, []*http.Cookie) {
	t.Helper()
	resp, err := client.Get(base + "/t/acme/console/signin")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfField.FindStringSubmatch(string(page))
	if m == nil {
		t.Fatalf("sign-in page %d without a CSRF token:\n%s", resp.StatusCode, page)
	}
	form := url.Values{"csrf": {m[1]}, "userName": {user}, "password": {password}}
	req, _ := http.NewRequest("POST", base+"/t/acme/console/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp, resp.Cookies()
}

// TestBehindNginx runs scimd behind a real nginx configured with
// deploy/nginx.conf, terminating TLS with a throwaway certificate on
// loopback: Okta's SPEC test passes through it, meta.location is the
// https URL the client used, the console's cookies are Secure, and
// clients' addresses reach the sign-in throttle only when the proxy is
// trusted (--trusted-proxies).
func TestBehindNginx(t *testing.T) {
	bin := nginxBinary()
	if bin == "" {
		testenv.Missing(t, "nginx not found: install Debian's nginx package (.ci/run does) to test deploy/nginx.conf")
	}
	if testing.Short() {
		t.Skip("starts nginx")
	}
	certs := newTestCerts(t)
	certFile, keyFile := certs.write(1)
	const ownerPassword = "owner-password-1"
	for _, trusted := range []bool{true, false} {
		t.Run(fmt.Sprintf("trusted=%v", trusted), func(t *testing.T) {
			env := newEnv(t)
			key := newTenant(t, env, "okta")
			var out strings.Builder
			if err := run(t.Context(), []string{"tenants", "create", "acme", "--owner", "owner", "--password-stdin"}, envFunc(env),
				strings.NewReader(ownerPassword+"\n"), &out, &out); err != nil {
				t.Fatalf("tenants create: %v\n%s", err, out.String())
			}
			mustCLI(t, env, "tenants", "set", "acme", "--password-signin", "on")
			args := []string{}
			if trusted {
				args = append(args, "--trusted-proxies", "127.0.0.1")
			}
			addr, _ := startServe(t, env, args...)
			base := startNginx(t, bin, strings.TrimPrefix(addr, "http://"), certFile, keyFile)
			client := clientFrom(certs, "127.0.0.1")

			if trusted {
				t.Run("Okta SPEC", func(t *testing.T) { runOktaSteps(t, oktaChecks(t), client, base+"/t/okta/scim/v2", key) })
			}

			// meta.location and Location are the URL the client used.
			req, _ := http.NewRequest("POST", base+"/t/okta/scim/v2/Users", strings.NewReader(userBody("proxied@example.com")))
			req.Header.Set("Authorization", "Basic "+key.Basic)
			req.Header.Set("Content-Type", "application/scim+json")
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			loc := resp.Header.Get("Location")
			if resp.StatusCode != 201 || resp.ProtoMajor != 2 || !strings.HasPrefix(loc, base+"/t/okta/scim/v2/Users/") ||
				!strings.Contains(string(body), `"location":"`+loc+`"`) {
				t.Errorf("create through nginx: %d %s, Location %q:\n%s", resp.StatusCode, resp.Proto, loc, body)
			}

			// The console's cookies: Secure, HttpOnly, SameSite=Strict, the
			// console's path; and a sign-in works over https.
			resp, cookies := consoleSignIn(t, client, base, "owner", ownerPassword)
			if resp.StatusCode != http.StatusSeeOther || len(cookies) == 0 {
				t.Fatalf("sign-in through nginx: %d, cookies %v", resp.StatusCode, cookies)
			}
			for _, c := range cookies {
				if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/t/acme/console/" {
					t.Errorf("cookie %s: Secure %v, HttpOnly %v, SameSite %v, Path %q", c.Name, c.Secure, c.HttpOnly, c.SameSite, c.Path)
				}
			}
			if resp, err := client.Get(base + "/t/acme/console/"); err != nil || resp.StatusCode != 200 {
				t.Errorf("the console's home after signing in: %v %v", resp, err)
			} else {
				resp.Body.Close()
			}

			// An attacker at 127.0.0.2 guesses the owner's password, each time
			// claiming another address in X-Forwarded-For; then the owner
			// signs in from 127.0.0.3.
			attacker := clientFrom(certs, "127.0.0.2")
			for i := range 5 {
				resp, _ := consoleSignIn(t, attacker, base, "owner", "wrong", "X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i+1))
				if resp.StatusCode != http.StatusUnauthorized {
					t.Fatalf("guess %d: %d, want 401", i+1, resp.StatusCode)
				}
			}
			if resp, _ := consoleSignIn(t, attacker, base, "owner", ownerPassword, "X-Forwarded-For", "198.51.100.99"); resp.StatusCode != http.StatusTooManyRequests {
				t.Errorf("the attacker after 5 guesses: %d, want 429 (its own X-Forwarded-For must not count)", resp.StatusCode)
			}
			resp, _ = consoleSignIn(t, clientFrom(certs, "127.0.0.3"), base, "owner", ownerPassword)
			want := http.StatusTooManyRequests // every client has nginx's address
			if trusted {
				want = http.StatusSeeOther // the owner's address is not the attacker's
			}
			if resp.StatusCode != want {
				t.Errorf("the owner from another address: %d, want %d", resp.StatusCode, want)
			}
		})
	}
}
