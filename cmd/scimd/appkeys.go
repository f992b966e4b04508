package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/scimd/scimd/internal/auth"
	"github.com/scimd/scimd/internal/hostapi"
	"github.com/scimd/scimd/internal/store"
)

// appKeysUsage is the help of scimd appkeys.
const appKeysUsage = `scimd appkeys: the host application's keys for /api/v1 (read-only, deployment-wide)

  scimd appkeys create --name NAME [--tenants all|a,b] [--json]   the key is shown once
  scimd appkeys list
  scimd appkeys revoke ID                                          refused from the next request on
`

// hostStore returns st's host application storage, or an error if its
// backend has none.
func hostStore(st store.Store) (store.HostStore, error) {
	hs, ok := st.(store.HostStore)
	if !ok {
		return nil, errors.New("this database backend does not support application keys")
	}
	return hs, nil
}

// withHostAPI serves the host application's API at /api/v1/ in front of
// next, which gets every other path as it did.
func withHostAPI(st store.Store, logger *slog.Logger, next http.Handler) http.Handler {
	hs, err := hostStore(st)
	if err != nil {
		logger.Warn(err.Error() + ": the API at /api/v1/ is off")
		return next
	}
	api := hostapi.New(hostapi.Config{Store: st, Host: hs, Logger: logger})
	prefix := strings.TrimSuffix(hostapi.Prefix, "/")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; p == prefix || strings.HasPrefix(p, hostapi.Prefix) {
			api.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// apiBaseURL is where the host application reaches the API.
func apiBaseURL(getenv func(string) string) string {
	if d := getenv("SCIMD_BASE_DOMAIN"); d != "" {
		return "https://" + strings.TrimPrefix(d, ".") + "/api/v1"
	}
	return "http://" + envOr(getenv, "SCIMD_LISTEN", defaultListen) + "/api/v1"
}

// cmdAppKeys: scimd appkeys create|list|revoke.
func cmdAppKeys(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stdout, appKeysUsage)
		return usagef("appkeys: expected create, list or revoke")
	}
	sub := args[0]
	fs, dbURL := newFlags("appkeys "+sub, getenv)
	var name, tenants *string
	var asJSON *bool
	switch sub {
	case "create":
		name = fs.String("name", "", "a label for the key (which application uses it)")
		tenants = fs.String("tenants", "all", "the tenants the key reads: all, or names separated by commas")
		asJSON = fs.Bool("json", false, `print {"id": ..., "key": ...}`)
	case "list", "revoke":
	default:
		return usagef("appkeys: unknown subcommand %q (expected create, list or revoke)", sub)
	}
	pos, err := parseArgs(fs, args[1:])
	if err != nil {
		return err
	}
	switch {
	case sub == "revoke" && len(pos) != 1:
		return usagef("appkeys revoke: expected one key ID")
	case sub != "revoke" && len(pos) > 0:
		return usagef("appkeys %s: unexpected argument %q", sub, pos[0])
	case sub == "create" && strings.TrimSpace(*name) == "":
		return usagef("appkeys create: --name NAME is required")
	}
	st, err := openStore(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer st.Close()
	hs, err := hostStore(st)
	if err != nil {
		return err
	}
	switch sub {
	case "create":
		return createAppKey(ctx, st, hs, strings.TrimSpace(*name), *tenants, *asJSON, getenv, stdout)
	case "list":
		return listAppKeys(ctx, st, hs, stdout)
	}
	err = hs.RevokeAppKey(ctx, pos[0], time.Now().UTC())
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no application key with ID %q (see scimd appkeys list)", pos[0])
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "revoked application key %s: every instance refuses it from its next request on\n", pos[0])
	return nil
}

// createAppKey makes and stores a key for the tenants named by list
// ("all" or names separated by commas), and shows it once.
func createAppKey(ctx context.Context, st store.Store, hs store.HostStore, name, list string, asJSON bool,
	getenv func(string) string, stdout io.Writer) error {
	id, secret := auth.NewAppKey()
	k := store.AppKey{ID: id, Name: name, SecretHash: auth.HashSecret(secret), CreatedBy: "cli", Created: time.Now().UTC()}
	var names []string
	if strings.TrimSpace(list) == "all" {
		k.AllTenants = true
	} else {
		for _, n := range strings.Split(list, ",") {
			n = strings.TrimSpace(n)
			if n == "" {
				return usagef("appkeys create: --tenants must be all or tenant names separated by commas, not %q", list)
			}
			t, err := lookupTenant(ctx, st, n)
			if err != nil {
				return err
			}
			k.TenantIDs = append(k.TenantIDs, t.ID)
			names = append(names, t.Name)
		}
	}
	if err := hs.CreateAppKey(ctx, k); err != nil {
		return err
	}
	if asJSON {
		b, _ := json.Marshal(struct {
			ID  string `json:"id"`
			Key string `json:"key"`
		}{id, secret})
		fmt.Fprintln(stdout, string(b))
		return nil
	}
	reads := "every tenant"
	if !k.AllTenants {
		reads = "tenants " + strings.Join(names, ", ")
	}
	base := apiBaseURL(getenv)
	fmt.Fprintf(stdout, "Application key %s (%s), reads %s:\n\n", id, name, reads)
	fmt.Fprintf(stdout, "  %s   (shown once: store it now)\n", secret)
	fmt.Fprintf(stdout, "\nTry it:\n  curl -H 'Authorization: Bearer %s' '%s/events?limit=10'\n", secret, base)
	fmt.Fprintf(stdout, "The API is described at %s/openapi.json\n", base)
	return nil
}

// listAppKeys prints every application key, newest first.
func listAppKeys(ctx context.Context, st store.Store, hs store.HostStore, stdout io.Writer) error {
	keys, err := hs.AppKeys(ctx)
	if err != nil {
		return err
	}
	ts, err := st.Tenants(ctx)
	if err != nil {
		return err
	}
	names := make(map[int64]string, len(ts))
	for _, t := range ts {
		names[t.ID] = t.Name
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tTENANTS\tCREATED\tLAST USED\tREVOKED")
	for _, k := range keys {
		tenants := "all"
		if !k.AllTenants {
			var ns []string
			for _, id := range k.TenantIDs {
				ns = append(ns, names[id])
			}
			tenants = strings.Join(ns, ",")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, tenants, stamp(k.Created, "-"), stamp(k.LastUsed, "never"), stamp(k.Revoked, "-"))
	}
	return tw.Flush()
}
