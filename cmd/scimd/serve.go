package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/scimd/scimd/internal/activity"
	"github.com/scimd/scimd/internal/auth"
	"github.com/scimd/scimd/internal/store"
)

const defaultListen = "127.0.0.1:8080"

// shutdownGrace is how long in-flight requests get to finish on SIGINT/SIGTERM.
const shutdownGrace = 30 * time.Second

func cmdServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs, dbURL := newFlags("serve", getenv)
	listen := fs.String("listen", envOr(getenv, "SCIMD_LISTEN", defaultListen), "address to listen on")
	baseDomain := fs.String("base-domain", getenv("SCIMD_BASE_DOMAIN"), "serve tenant T also at T.DOMAIN")
	dev := fs.Bool("dev", false, "on an empty database, create tenant demo with an active key and print it")
	retention := fs.Duration("activity-retention", activity.DefaultRetention, "how long provisioning activity is kept (negative: forever)")
	webhooksInsecure := insecureFlag(fs, getenv) // --webhooks-allow-insecure
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("serve: unexpected argument %q", pos[0])
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	st, err := openStore(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer st.Close()

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	fmt.Fprintf(stdout, "scimd listening on http://%s (database %s)\n", addr, redactURL(*dbURL))
	if *dev {
		if err := seedDev(ctx, st, stdout, func(tenant string) string {
			if *baseDomain != "" {
				return "https://" + tenant + "." + *baseDomain + "/scim/v2"
			}
			return "http://" + addr + "/t/" + tenant + "/scim/v2"
		}); err != nil {
			ln.Close()
			return err
		}
	}

	webhooks, stopWebhooks := startWebhooks(ctx, st, logger, *webhooksInsecure)
	defer stopWebhooks()
	handler, closeConsole := consoleHandler(st, logger, *baseDomain, *retention, webhooks)
	defer closeConsole()
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down: waiting for in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}

// seedDev gives an empty database a ready tenant: demo, provisioning
// activated, one read-write key, printed with everything needed to use it.
func seedDev(ctx context.Context, st store.Store, stdout io.Writer, baseURL func(string) string) error {
	ts, err := st.Tenants(ctx)
	if err != nil {
		return err
	}
	if len(ts) > 0 {
		names := make([]string, len(ts))
		for i, t := range ts {
			names[i] = t.Name
		}
		fmt.Fprintf(stdout, "--dev: the database already has tenants (%s); not seeding. Create a key with \"scimd keys create --tenant NAME --name LABEL\".\n", strings.Join(names, ", "))
		return nil
	}
	t, err := st.CreateTenant(ctx, "demo")
	if err != nil {
		return err
	}
	if t, err = st.UpdateTenant(ctx, t.Name, func(t *store.Tenant) error { t.ProvisioningActive = true; return nil }); err != nil {
		return err
	}
	k, secret, err := newKey(ctx, st, t, "dev", store.ScopeWrite, "scimd serve --dev", time.Time{})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\n--dev: created tenant %q with provisioning activated and an API key:\n\n", t.Name)
	printKey(stdout, false, k.ID, secret, baseURL(t.Name))
	if cs, ok := st.(store.ConsoleStore); ok {
		// An owner to sign in to the console with, password shown once.
		password := base64.RawURLEncoding.EncodeToString(randomBytes(12))
		hash, err := auth.HashPassword(ctx, password)
		if err != nil {
			return err
		}
		if err := createOwner(ctx, st, cs, t, "admin", hash); err != nil {
			return err
		}
		console := strings.TrimSuffix(baseURL(t.Name), "/scim/v2") + "/console/"
		fmt.Fprintf(stdout, "\nConsole:        %s\n  sign in as admin with password %s (shown once)\n", console, password)
	}
	fmt.Fprintln(stdout)
	return nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// redactURL hides the password of a database URL (postgres://user:pw@host/db,
// or password=… in libpq's keyword/value form) so that it never reaches
// the terminal or the logs.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		return u.Redacted()
	}
	return kvPassword.ReplaceAllString(s, "${1}xxxxx")
}

// kvPassword matches the password of a keyword/value connection string,
// quoted ('…', with \' inside) or not.
var kvPassword = regexp.MustCompile(`(?i)(\bpassword\s*=\s*)('(?:\\.|[^'\\])*'|\S+)`)
