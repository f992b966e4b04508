package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"regexp"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/scimd/scimd/internal/activity"
	"github.com/scimd/scimd/internal/auth"
	"github.com/scimd/scimd/internal/connlimit"
	"github.com/scimd/scimd/internal/events"
	"github.com/scimd/scimd/internal/limits"
	"github.com/scimd/scimd/internal/metrics"
	"github.com/scimd/scimd/internal/store"
	"github.com/scimd/scimd/internal/store/postgres"
	"github.com/scimd/scimd/internal/store/sqlite"
)

const defaultListen = "127.0.0.1:8080"

// shutdownGrace is how long in-flight requests get to finish on SIGINT/SIGTERM.
const shutdownGrace = 30 * time.Second

// serveConfig is serve's command line.
type serveConfig struct {
	listen, database, baseDomain string
	dev                          bool
	retention                    time.Duration
	adminListen                  string
	pprof                        bool
	logFormat, logLevel          string
	tlsCert, tlsKey              string
	trustedProxies               string
	eventsRetention              time.Duration
	tenantConcurrency, keyRate   int
	maxConns, maxConnsPerAddr    int
	setIssuer, setPollKeyFile    string
	webhooksInsecure             bool
}

// serveFlags defines serve's flags, which fill c. Every flag has an
// environment variable, returned by flag name; a flag on the command line
// wins over its variable.
func serveFlags(c *serveConfig) (*flag.FlagSet, map[string]string) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	env := map[string]string{}
	str := func(p *string, name, envVar, def, usage string) {
		fs.StringVar(p, name, def, usage+" (env "+envVar+")")
		env[name] = envVar
	}
	boolean := func(p *bool, name, envVar, usage string) {
		fs.BoolVar(p, name, false, usage+" (env "+envVar+"=true)")
		env[name] = envVar
	}
	integer := func(p *int, name, envVar string, def int, usage string) {
		fs.IntVar(p, name, def, usage+" (env "+envVar+")")
		env[name] = envVar
	}
	str(&c.listen, "listen", "SCIMD_LISTEN", defaultListen, "the `ADDR` (host:port) to serve SCIM and the console on")
	str(&c.database, "database", "SCIMD_DATABASE", defaultDatabase, databaseUsage)
	str(&c.baseDomain, "base-domain", "SCIMD_BASE_DOMAIN", "", "serve tenant T also at T.`DOMAIN`")
	boolean(&c.dev, "dev", "SCIMD_DEV", "on an empty database, create tenant demo with an active key and print it")
	fs.DurationVar(&c.retention, "activity-retention", activity.DefaultRetention, "how long provisioning activity is kept (negative: forever) (env SCIMD_ACTIVITY_RETENTION)")
	env["activity-retention"] = "SCIMD_ACTIVITY_RETENTION"
	str(&c.adminListen, "admin-listen", "SCIMD_ADMIN_LISTEN", "", "the `ADDR` (host:port) of the admin listener, which serves /metrics (default: none; keep it off the public network)")
	boolean(&c.pprof, "pprof", "SCIMD_PPROF", "also serve /debug/pprof/ on the admin listener")
	str(&c.logFormat, "log-format", "SCIMD_LOG_FORMAT", "text", "log format: `text|json`")
	str(&c.logLevel, "log-level", "SCIMD_LOG_LEVEL", "info", "least severe level logged: `debug|info|warn|error`")
	str(&c.tlsCert, "tls-cert", "SCIMD_TLS_CERT", "", "serve HTTPS with the certificate (chain) in this PEM `FILE`, reloaded on SIGHUP and when it changes")
	str(&c.tlsKey, "tls-key", "SCIMD_TLS_KEY", "", "the private key of --tls-cert, a PEM `FILE`")
	fs.DurationVar(&c.eventsRetention, "events-retention", events.DefaultRetention, "how long the event log keeps events (negative: forever) (env SCIMD_EVENTS_RETENTION)")
	env["events-retention"] = "SCIMD_EVENTS_RETENTION"
	integer(&c.tenantConcurrency, "tenant-concurrency", "SCIMD_TENANT_CONCURRENCY", limits.DefaultTenantConcurrency,
		"requests of one tenant served at once; more wait up to 2 s, then get 429 (negative: no limit)")
	integer(&c.keyRate, "key-rate", "SCIMD_KEY_RATE", limits.DefaultKeyRate,
		"requests per second per API key, unless the tenant sets its own (negative: no limit)")
	integer(&c.maxConns, "max-connections", "SCIMD_MAX_CONNECTIONS", connlimit.DefaultMax,
		"connections held at once; past three quarters, idle ones are closed (negative: no limit)")
	integer(&c.maxConnsPerAddr, "max-connections-per-address", "SCIMD_MAX_CONNECTIONS_PER_ADDRESS", connlimit.DefaultPerAddr,
		"connections of one client address; behind a proxy, the proxy's (negative: no limit)")
	str(&c.setIssuer, "set-issuer", "SCIMD_SET_ISSUER", "", "the \"iss\" of Security Event Tokens: this deployment's base `URL` (default https://BASE-DOMAIN, else http://LISTEN)")
	str(&c.setPollKeyFile, "set-poll-key-file", "SCIMD_SET_POLL_KEY_FILE", "", "serve the RFC 8936 SET poll endpoint to the keys in `FILE`, one a line")
	boolean(&c.webhooksInsecure, "webhooks-allow-insecure", "SCIMD_WEBHOOKS_ALLOW_INSECURE", "permit http:// webhook URLs to loopback hosts (development and tests)")
	str(&c.trustedProxies, "trusted-proxies", "SCIMD_TRUSTED_PROXIES", "", "comma-separated `CIDRs` of the reverse proxies whose X-Forwarded-For gives the client address the sign-in throttle counts by")
	return fs, env
}

// applyEnv sets each flag of fs whose environment variable (env, by flag
// name) is set.
func applyEnv(fs *flag.FlagSet, env map[string]string, getenv func(string) string) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		v := getenv(env[f.Name])
		if err != nil || env[f.Name] == "" || v == "" {
			return
		}
		if serr := fs.Set(f.Name, v); serr != nil {
			err = usagef("%s=%q: %v", env[f.Name], v, serr)
		}
	})
	return err
}

// redacted says how to print the value of a flag that may hold a secret.
var redacted = map[string]func(string) string{"database": redactURL}

// configAttrs is the effective configuration, every flag of fs with its
// value (secrets redacted), for the log.
func configAttrs(fs *flag.FlagSet) []any {
	var attrs []any
	fs.VisitAll(func(f *flag.Flag) {
		v := f.Value.String()
		if r := redacted[f.Name]; r != nil {
			v = r(v)
		}
		attrs = append(attrs, slog.String(f.Name, v))
	})
	return attrs
}

// newLogger returns the logger --log-format and --log-level ask for.
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	switch level {
	case "debug":
		lv = slog.LevelDebug
	case "info":
		lv = slog.LevelInfo
	case "warn":
		lv = slog.LevelWarn
	case "error":
		lv = slog.LevelError
	default:
		return nil, usagef("serve: --log-level must be debug, info, warn or error, not %q", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usagef("serve: --log-format must be text or json, not %q", format)
}

func cmdServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c serveConfig
	fs, env := serveFlags(&c)
	if err := applyEnv(fs, env, getenv); err != nil {
		return err
	}
	setOpts := &setOptions{issuer: &c.setIssuer, pollKeyFile: &c.setPollKeyFile}
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("serve: unexpected argument %q", pos[0])
	}
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return usagef("serve: --tls-cert and --tls-key go together")
	}
	if c.pprof && c.adminListen == "" {
		return usagef("serve: --pprof needs --admin-listen (pprof is never served on the public port)")
	}
	proxies, err := parsePrefixes(c.trustedProxies)
	if err != nil {
		return err
	}
	logger, err := newLogger(stderr, c.logFormat, c.logLevel)
	if err != nil {
		return err
	}
	// SIGHUP reloads the TLS certificate; without one it must not stop
	// scimd (its default), since "systemctl reload" sends it. Caught from
	// before scimd says it listens.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	b := buildOf(readBuildInfo())
	logger.Info("configuration", append([]any{"version", b.version, "commit", b.commit}, configAttrs(fs)...)...)

	var certs *certReloader
	if c.tlsCert != "" {
		if certs, err = newCertReloader(c.tlsCert, c.tlsKey, logger); err != nil {
			return err
		}
	}

	st, err := openStore(ctx, c.database)
	if err != nil {
		return err
	}
	defer st.Close()

	var m *metrics.Metrics
	if c.adminListen != "" {
		m = metrics.New(prometheus.NewRegistry())
		observeStore(st, m)
	}

	ln, err := net.Listen("tcp", c.listen)
	if err != nil {
		return err
	}
	scheme := "http"
	if certs != nil {
		scheme = "https"
	}
	addr := ln.Addr().String()
	cl := connlimit.New(ln, c.maxConns, c.maxConnsPerAddr)
	// Ready before the line that says so: the first SET signing key.
	sets, err := setOpts.open(ctx, st, logger, addr, c.baseDomain)
	if err != nil {
		ln.Close()
		return err
	}
	// The admin listener is announced first: the public one's line says
	// that scimd is ready.
	var aln net.Listener
	if c.adminListen != "" {
		if aln, err = net.Listen("tcp", c.adminListen); err != nil {
			ln.Close()
			return fmt.Errorf("admin listener: %w", err)
		}
		defer aln.Close()
		paths := "/metrics"
		if c.pprof {
			paths += ", /debug/pprof/"
		}
		fmt.Fprintf(stdout, "scimd admin listening on http://%s (%s)\n", aln.Addr(), paths)
	}
	fmt.Fprintf(stdout, "scimd listening on %s://%s (database %s)\n", scheme, addr, redactURL(c.database))
	if c.dev {
		if err := seedDev(ctx, st, stdout, func(tenant string) string {
			if c.baseDomain != "" {
				return "https://" + tenant + "." + c.baseDomain + "/scim/v2"
			}
			return scheme + "://" + addr + "/t/" + tenant + "/scim/v2"
		}); err != nil {
			ln.Close()
			return err
		}
	}

	webhooks, stopWebhooks := startWebhooks(ctx, st, logger, c.webhooksInsecure, sets.encoder(), m)
	defer stopWebhooks()
	lim := limits.New(limits.Config{TenantConcurrency: c.tenantConcurrency, KeyRate: float64(c.keyRate)})
	handler, closeConsole := consoleHandler(st, logger, c.baseDomain, c.retention, proxies, m, lim, webhooks, sets.advertise)
	handler = withHostAPI(st, logger, handler)
	handler = sets.mount(handler)
	defer closeConsole()
	bg, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBackground()
	go events.Retain(bg, st, c.eventsRetention, time.Hour, logger)
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		ConnState:         cl.ConnState,
	}
	errc := make(chan error, 2)
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	if certs != nil {
		srv.TLSConfig = certs.config()
		go certs.watch(wctx, certPoll, hup)
		go func() { errc <- srv.ServeTLS(cl, "", "") }()
	} else {
		go ignoreHUP(wctx, hup, logger)
		go func() { errc <- srv.Serve(cl) }()
	}

	var admin *http.Server
	if aln != nil {
		admin = &http.Server{
			Handler:           adminHandler(m, c.pprof),
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       120 * time.Second,
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		}
		go func() { errc <- admin.Serve(aln) }()
	}

	select {
	case err := <-errc:
		srv.Close()
		if admin != nil {
			admin.Close()
		}
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down: waiting for in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if admin != nil {
		admin.Close() // scrapes and profiles need no grace
	}
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}

// parsePrefixes parses --trusted-proxies: CIDRs (10.0.0.0/8) or single
// addresses, separated by commas.
func parsePrefixes(s string) ([]netip.Prefix, error) {
	var ps []netip.Prefix
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return nil, usagef("serve: --trusted-proxies: %q is neither a CIDR nor an address", f)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		ps = append(ps, p.Masked())
	}
	return ps, nil
}

// ignoreHUP logs each SIGHUP from hup, until ctx ends: without a TLS
// certificate there is nothing to reload.
func ignoreHUP(ctx context.Context, hup <-chan os.Signal, log *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			log.Info("SIGHUP: nothing to reload (no --tls-cert)")
		}
	}
}

// readBuildInfo is debug.ReadBuildInfo's info, or nil.
func readBuildInfo() *debug.BuildInfo {
	bi, _ := debug.ReadBuildInfo()
	return bi
}

// adminHandler serves the admin listener: /metrics, and /debug/pprof/ when
// asked for.
func adminHandler(m *metrics.Metrics, withPprof bool) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	if withPprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return mux
}

// observeStore has the store's backend report to m.
func observeStore(st store.Store, m *metrics.Metrics) {
	m.WatchEvents(st.EventsPending)
	switch db := st.(type) {
	case *sqlite.DB:
		db.SetObserver(sqlite.Observer{Commit: m.WriteBatch})
		m.WatchWriteQueue(db.WriteQueueDepth)
		m.WatchPool("sqlite_read", func() metrics.PoolStats { return metrics.DBStats(db.ReadPoolStats()) })
		m.WatchPool("sqlite_auth", func() metrics.PoolStats { return metrics.DBStats(db.AuthPoolStats()) })
	case *postgres.DB:
		db.SetObserver(postgres.Observer{Retry: m.Retry})
		for name, stats := range map[string]func() postgres.PoolStats{"postgres": db.PoolStats, "postgres_auth": db.AuthPoolStats} {
			m.WatchPool(name, func() metrics.PoolStats {
				s := stats()
				return metrics.PoolStats{Waits: s.Waits, WaitDuration: s.WaitDuration, InUse: s.InUse, Idle: s.Idle, Max: s.MaxConns}
			})
		}
	}
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
