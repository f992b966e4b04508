package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// cmdHealthcheck: scimd healthcheck [--url URL]. It asks a running scimd's
// /healthz and succeeds on 200: a container image without a shell or curl
// runs it as its HEALTHCHECK.
func cmdHealthcheck(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	u := fs.String("url", "", "the `URL` to ask (default: /healthz at SCIMD_LISTEN, over https when SCIMD_TLS_CERT is set)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("healthcheck: unexpected argument %q", pos[0])
	}
	if *u == "" {
		*u = healthURL(envOr(getenv, "SCIMD_LISTEN", defaultListen), getenv("SCIMD_TLS_CERT") != "")
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", *u, nil)
	if err != nil {
		return usagef("healthcheck: %v", err)
	}
	// The server checked is this machine's: its certificate is for the
	// public name, not for the address asked.
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s", *u, resp.Status)
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}

// healthURL is the /healthz URL of a scimd listening on listen; a wildcard
// host (":8080", "0.0.0.0:8080") is asked on loopback.
func healthURL(listen string, tls bool) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		host, port = listen, "80"
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	scheme := "http"
	if tls {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port) + "/healthz"
}
