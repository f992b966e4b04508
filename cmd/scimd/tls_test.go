package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// testCerts makes throwaway self-signed certificates for 127.0.0.1 and
// localhost, each with its own serial number, and trusts them all.
type testCerts struct {
	t    testing.TB
	dir  string
	pool *x509.CertPool
}

func newTestCerts(t testing.TB) *testCerts {
	return &testCerts{t: t, dir: t.TempDir(), pool: x509.NewCertPool()}
}

// write writes a new pair with the given serial to cert.pem and key.pem
// (each replaced by a rename) and returns their paths.
func (c *testCerts) write(serial int64) (certFile, keyFile string) {
	c.t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		c.t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "scimd test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		c.t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	c.pool.AddCert(cert)
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		c.t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(c.dir, "cert.pem"), filepath.Join(c.dir, "key.pem")
	c.replace(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	c.replace(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}))
	return certFile, keyFile
}

func (c *testCerts) replace(path string, data []byte) {
	c.t.Helper()
	if err := os.WriteFile(path+".tmp", data, 0o600); err != nil {
		c.t.Fatal(err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		c.t.Fatal(err)
	}
}

// served returns the serial number of the certificate served at addr
// (host:port), verified against the trusted certificates, with the TLS
// versions the client allows.
func (c *testCerts) served(addr string, minVersion, maxVersion uint16) (int64, error) {
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: c.pool, MinVersion: minVersion, MaxVersion: maxVersion})
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64(), nil
}

// waitServed waits until addr serves the certificate with serial want
// (less long than serve's poll of the files, certPoll).
func (c *testCerts) waitServed(addr string, want int64) {
	c.t.Helper()
	deadline := time.Now().Add(certPoll / 2)
	for {
		got, err := c.served(addr, 0, 0)
		if err == nil && got == want {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("serial %d (%v), want %d", got, err, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestServeTLS: with --tls-cert and --tls-key, serve speaks HTTPS only,
// TLS 1.2 at least, and SCIM's locations are https.
func TestServeTLS(t *testing.T) {
	env := newEnv(t)
	key := newTenant(t, env, "acme")
	certs := newTestCerts(t)
	certFile, keyFile := certs.write(1)
	env["SCIMD_TLS_KEY"] = keyFile // from the environment, the other from a flag
	base, _ := startServe(t, env, "--tls-cert", certFile)
	addr, ok := strings.CutPrefix(base, "https://")
	if !ok {
		t.Fatalf("serve listens on %s, want https://", base)
	}
	for _, tc := range []struct {
		name     string
		min, max uint16
		ok       bool
	}{
		{"TLS 1.3", tls.VersionTLS13, tls.VersionTLS13, true},
		{"TLS 1.2", tls.VersionTLS12, tls.VersionTLS12, true},
		{"TLS 1.1", tls.VersionTLS10, tls.VersionTLS11, false},
		{"TLS 1.0", tls.VersionTLS10, tls.VersionTLS10, false},
	} {
		serial, err := certs.served(addr, tc.min, tc.max)
		if tc.ok && (err != nil || serial != 1) {
			t.Errorf("%s: serial %d, %v", tc.name, serial, err)
		}
		if !tc.ok && err == nil {
			t.Errorf("%s: handshake succeeded, want it refused", tc.name)
		}
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: certs.pool}}}
	req, _ := http.NewRequest("POST", base+"/t/acme/scim/v2/Users", strings.NewReader(userBody("tls@example.com")))
	req.Header.Set("Authorization", "Basic "+key.Basic)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != 201 || !strings.HasPrefix(loc, base+"/t/acme/scim/v2/Users/") {
		t.Errorf("create over TLS: %d, Location %q", resp.StatusCode, loc)
	}
	// Plain HTTP on the TLS port is refused.
	if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
		if resp.StatusCode == 200 {
			t.Errorf("plain HTTP on the TLS port: 200")
		}
		resp.Body.Close()
	}
}

// TestCertReloader: the pair is loaded again when the files change or on
// a signal; a pair that does not load leaves the previous one served.
func TestCertReloader(t *testing.T) {
	certs := newTestCerts(t)
	certFile, keyFile := certs.write(1)
	var logs syncBuffer
	r, err := newCertReloader(certFile, keyFile, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", r.config())
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.NotFoundHandler(), ErrorLog: log.New(io.Discard, "", 0)}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	addr := ln.Addr().String()
	certs.waitServed(addr, 1)

	ctx := t.Context()
	hup := make(chan os.Signal, 1)
	go r.watch(ctx, 20*time.Millisecond, hup)

	certs.write(2) // noticed by the poll
	certs.waitServed(addr, 2)

	certs.replace(certFile, []byte("not a certificate"))
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), "reloading the TLS certificate failed") && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "still serving the previous one") {
		t.Fatalf("a broken certificate file was not reported:\n%s", logs.String())
	}
	certs.waitServed(addr, 2)

	// A signal reloads even when the files look unchanged (same size and
	// time, as a copy with cp -p leaves them).
	certFile3, keyFile3 := filepath.Join(certs.dir, "c3.pem"), filepath.Join(certs.dir, "k3.pem")
	certs.write(3)
	for _, p := range [][2]string{{certFile, certFile3}, {keyFile, keyFile3}} {
		os.Rename(p[0], p[1])
	}
	r.mu.Lock()
	r.certFile, r.keyFile = certFile3, keyFile3
	r.stamp = r.fileStamp() // as if already seen
	r.mu.Unlock()
	time.Sleep(50 * time.Millisecond)
	if got, _ := certs.served(addr, 0, 0); got != 2 {
		t.Fatalf("serial %d before the signal, want 2", got)
	}
	hup <- syscall.SIGHUP
	certs.waitServed(addr, 3)
}

// TestSIGHUPReloadsCertificate runs scimd with TLS as a process, replaces
// its certificate and sends it SIGHUP.
func TestSIGHUPReloadsCertificate(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	env := newEnv(t)
	certs := newTestCerts(t)
	certFile, keyFile := certs.write(1)
	cmd := exec.Command(os.Args[0], "serve", "--listen", "127.0.0.1:0", "--database", env["SCIMD_DATABASE"], "--tls-cert", certFile, "--tls-key", keyFile)
	cmd.Env = append(os.Environ(), "SCIMD_TEST_AS_MAIN=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addrc := make(chan string, 1)
	go func() {
		lines := bufio.NewScanner(stdout)
		for lines.Scan() {
			if m := listenLine.FindStringSubmatch(lines.Text()); m != nil {
				addrc <- strings.TrimPrefix(m[1], "https://")
			}
		}
	}()
	var addr string
	select {
	case addr = <-addrc:
	case <-time.After(20 * time.Second):
		t.Fatalf("scimd did not start:\n%s", stderr.String())
	}
	certs.waitServed(addr, 1)
	certs.write(2)
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	certs.waitServed(addr, 2)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("scimd after SIGHUP and SIGTERM: %v\n%s", err, stderr.String())
	}
	if n := strings.Count(stderr.String(), "TLS certificate loaded"); n != 2 {
		t.Errorf("%d loads logged, want 2:\n%s", n, stderr.String())
	}
}

// TestSIGHUPWithoutTLS: without a certificate to reload, SIGHUP (which
// "systemctl reload" sends) does not stop scimd.
func TestSIGHUPWithoutTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	cmd, addr := startProcess(t, newEnv(t)["SCIMD_DATABASE"])
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	resp, err := http.Get(addr + "/healthz")
	if err != nil {
		t.Fatalf("after SIGHUP: %v", err)
	}
	resp.Body.Close()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit after SIGHUP and SIGTERM: %v", err)
	}
}
