package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/scimd/scimd/internal/activity"
	"github.com/scimd/scimd/internal/auth"
	"github.com/scimd/scimd/internal/console"
	"github.com/scimd/scimd/internal/limits"
	"github.com/scimd/scimd/internal/metrics"
	"github.com/scimd/scimd/internal/server"
	"github.com/scimd/scimd/internal/store"
	"github.com/scimd/scimd/internal/webhook"
)

// readPassword reads a password from the first line of stdin.
func readPassword(stdin io.Reader) (string, error) {
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	pw := strings.TrimRight(line, "\r\n")
	if len(pw) < 8 {
		return "", usagef("the password read from stdin must have at least 8 characters")
	}
	return pw, nil
}

// readPasswordHash reads a password from stdin (see readPassword) and
// returns its hash, as the store keeps it.
func readPasswordHash(ctx context.Context, stdin io.Reader) (string, error) {
	pw, err := readPassword(stdin)
	if err != nil {
		return "", err
	}
	return auth.HashPassword(ctx, pw)
}

// consoleStore returns st's console storage, or an error if its backend
// has none.
func consoleStore(st store.Store) (store.ConsoleStore, error) {
	cs, ok := st.(store.ConsoleStore)
	if !ok {
		return nil, errors.New("this database backend does not support the console yet")
	}
	return cs, nil
}

// cmdOperators: scimd operators create EMAIL --password-stdin.
func cmdOperators(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	if len(args) > 0 && (args[0] == "list" || args[0] == "remove") {
		return cmdOperatorsAdmin(ctx, args[0], args[1:], getenv, stdout)
	}
	if len(args) == 0 || args[0] != "create" {
		return usagef("operators: expected create EMAIL --password-stdin, list, or remove EMAIL")
	}
	fs, dbURL := newFlags("operators create", getenv)
	fromStdin := fs.Bool("password-stdin", false, "read the password from stdin")
	pos, err := parseArgs(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 || !strings.Contains(pos[0], "@") {
		return usagef("operators create: expected one EMAIL address")
	}
	if !*fromStdin {
		return usagef("operators create: give the password on stdin with --password-stdin")
	}
	hash, err := readPasswordHash(ctx, stdin)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer st.Close()
	cs, err := consoleStore(st)
	if err != nil {
		return err
	}
	if _, err := cs.CreateOperator(ctx, pos[0], hash, time.Now()); errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("operator %s already exists", pos[0])
	} else if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created operator %s: sign in at /operator/\n", pos[0])
	return nil
}

// cmdTenantsCreate: scimd tenants create NAME [--owner USERNAME --password-stdin].
func cmdTenantsCreate(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	fs, dbURL := newFlags("tenants create", getenv)
	owner := fs.String("owner", "", "create the user `USERNAME` as the tenant's first Owner")
	fromStdin := fs.Bool("password-stdin", false, "read the owner's password from stdin")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("tenants create: expected one tenant NAME")
	}
	name := pos[0]
	if err := store.ValidateTenantName(name); err != nil {
		return err
	}
	var hash string
	if *owner != "" {
		if !*fromStdin {
			return usagef("tenants create: --owner needs the owner's password on stdin (--password-stdin)")
		}
		if hash, err = readPasswordHash(ctx, stdin); err != nil {
			return err
		}
	}
	st, err := openStore(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer st.Close()
	var cs store.ConsoleStore
	if *owner != "" {
		if cs, err = consoleStore(st); err != nil {
			return err
		}
	}
	t, err := st.CreateTenant(ctx, name)
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("tenant %q already exists", name)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created tenant %s (provisioning not yet activated: run \"scimd tenants activate %s\")\n", t.Name, t.Name)
	if *owner == "" {
		return nil
	}
	if err := createOwner(ctx, st, cs, t, *owner, hash); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created owner %s: sign in at /t/%s/console/\n", *owner, t.Name)
	return nil
}

// createOwner creates an active user with the given password hash and
// makes it the tenant's Owner.
func createOwner(ctx context.Context, st store.Store, cs store.ConsoleStore, t store.Tenant, userName, hash string) error {
	if err := cs.EnsureDefaultRoles(ctx, t.ID); err != nil {
		return err
	}
	roles, err := cs.Roles(ctx, t.ID)
	if err != nil {
		return err
	}
	var ownerRole int64
	for _, r := range roles {
		if r.Name == store.RoleOwner {
			ownerRole = r.ID
		}
	}
	now := time.Now().UTC()
	u, err := st.CreateUser(ctx, t.ID, store.User{ID: newUserID(), Created: now, Modified: now, PasswordHash: hash,
		Attrs: map[string]any{"userName": userName, "active": true}})
	if err != nil {
		return fmt.Errorf("creating owner %q: %w", userName, err)
	}
	return cs.SetUserRoles(ctx, t.ID, u.ID, []int64{ownerRole})
}

// newUserID returns a random RFC 4122 version 4 UUID, like SCIM's ids.
func newUserID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// consoleHandler returns the SCIM server, with the admin console and
// activity recording in front of it when the store supports them, and a
// function that flushes the activity queue on shutdown. opts complete the
// SCIM server's Config.
func consoleHandler(st store.Store, logger *slog.Logger, baseDomain string, retention time.Duration, proxies []netip.Prefix, m *metrics.Metrics, lim *limits.Limiter, wh *webhook.Service, opts ...func(*server.Config)) (http.Handler, func()) {
	cfg := server.Config{Store: st, Logger: logger, BaseDomain: baseDomain, Metrics: m, Limits: lim}
	for _, o := range opts {
		o(&cfg)
	}
	cs, ok := st.(store.ConsoleStore)
	if !ok {
		logger.Warn("this database backend has no console storage: the admin console and activity log are off")
		return server.New(cfg), func() {}
	}
	rec := activity.New(activity.Config{Store: cs, Logger: logger, Retention: retention})
	cfg.Activity = rec
	var con *console.Console
	cfg.Wrap = func(next http.Handler) http.Handler {
		con = console.New(console.Config{Store: st, Console: cs, Logger: logger, BaseDomain: baseDomain, Next: next, Metrics: m, TrustedProxies: proxies, Webhooks: wh})
		return con
	}
	scim := server.New(cfg)
	m.WatchActivity(rec, scim.UnauthenticatedDropped)
	ctx, cancel := context.WithCancel(context.Background())
	go con.SweepSessions(ctx, 15*time.Minute)
	return scim, func() { cancel(); rec.Close() }
}
