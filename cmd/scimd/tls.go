package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// certPoll is how often serve looks at the certificate files for changes.
const certPoll = 10 * time.Second

// certReloader serves the certificate of a --tls-cert/--tls-key pair and
// loads it again on SIGHUP or when either file changes, so that a renewed
// certificate (certbot, cert-manager) is served without a restart. A pair
// that fails to load (a renewal half written, a key that does not match)
// is logged and the previous certificate kept.
type certReloader struct {
	certFile, keyFile string
	log               *slog.Logger
	cert              atomic.Pointer[tls.Certificate]

	mu    sync.Mutex // serializes loads
	stamp string     // the files' sizes and times at the last load attempt
}

func newCertReloader(certFile, keyFile string, log *slog.Logger) (*certReloader, error) {
	c := &certReloader{certFile: certFile, keyFile: keyFile, log: log}
	if err := c.reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// config is the TLS configuration of the public listener: TLS 1.2 at
// least, Go's default cipher suites (all with forward secrecy and AEAD for
// TLS 1.2), the current certificate.
func (c *certReloader) config() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return c.cert.Load(), nil },
	}
}

// fileStamp identifies the contents of the certificate files cheaply.
func (c *certReloader) fileStamp() string {
	var s string
	for _, f := range []string{c.certFile, c.keyFile} {
		fi, err := os.Stat(f)
		if err != nil {
			s += "missing;"
			continue
		}
		s += fmt.Sprintf("%d@%d;", fi.Size(), fi.ModTime().UnixNano())
	}
	return s
}

// reload loads the pair and, if it is valid, serves it from now on.
func (c *certReloader) reload() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stamp = c.fileStamp()
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("TLS certificate %s, key %s: %w", c.certFile, c.keyFile, err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return fmt.Errorf("TLS certificate %s: %w", c.certFile, err)
	}
	cert.Leaf = leaf
	c.cert.Store(&cert)
	c.log.Info("TLS certificate loaded", "file", c.certFile, "subject", leaf.Subject.String(),
		"dns_names", leaf.DNSNames, "not_after", leaf.NotAfter.UTC().Format(time.RFC3339))
	return nil
}

// changed reports whether the files changed since the last load attempt.
func (c *certReloader) changed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fileStamp() != c.stamp
}

// watch reloads the pair on each signal from hup and, every poll, when the
// files changed, until ctx ends.
func (c *certReloader) watch(ctx context.Context, poll time.Duration, hup <-chan os.Signal) {
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		case <-t.C:
			if !c.changed() {
				continue
			}
		}
		if err := c.reload(); err != nil {
			c.log.Error("reloading the TLS certificate failed; still serving the previous one", "err", err)
		}
	}
}
