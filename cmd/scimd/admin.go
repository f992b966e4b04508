package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/scimd/scimd/internal/auth"
	"github.com/scimd/scimd/internal/console"
	"github.com/scimd/scimd/internal/store"
)

func cmdMigrate(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs, dbURL := newFlags("migrate", getenv)
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	st, err := openStore(ctx, *dbURL) // opening applies pending migrations
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintln(stdout, "database is up to date")
	return nil
}

// withStore parses flags, opens the store and runs fn.
func withStore(ctx context.Context, name string, args []string, getenv func(string) string,
	define func(fs *flag.FlagSet), fn func(st store.Store, pos []string) error) error {
	fs, dbURL := newFlags(name, getenv)
	if define != nil {
		define(fs)
	}
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(st, pos)
}

func cmdTenants(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return usagef("tenants: expected create, list, activate, deactivate, set or unlock")
	}
	sub, args := args[0], args[1:]
	var apiKeys, signIn, onDelete, rateLimit *string
	var flags *flag.FlagSet
	define := func(fs *flag.FlagSet) {
		flags = fs
		if sub == "set" {
			apiKeys = fs.String("api-keys", "", "the API Keys option: `on|off`")
			signIn = fs.String("password-signin", "", "password sign-in: `on|off`")
			onDelete = fs.String("on-delete", "", "what SCIM DELETE does: `archive|purge`")
			rateLimit = fs.String("rate-limit", "", "requests per second per API key (`N`; 0: the server's default)")
		}
	}
	return withStore(ctx, "tenants "+sub, args, getenv, define, func(st store.Store, pos []string) error {
		one := func() (string, error) {
			if len(pos) != 1 {
				return "", usagef("tenants %s: expected one tenant NAME", sub)
			}
			return pos[0], nil
		}
		switch sub {
		case "list":
			ts, err := st.Tenants(ctx)
			if err != nil {
				return err
			}
			if len(ts) == 0 {
				// Say which database: the CLI's default is not the one
				// "make run" serves.
				fmt.Fprintf(stdout, "no tenants in %s (scimd tenants create NAME makes one; --database URL opens another)\n",
					redactURL(flags.Lookup("database").Value.String()))
				return nil
			}
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tPROVISIONING\tAPI KEYS\tPASSWORD SIGN-IN\tON DELETE\tCREATED")
			for _, t := range ts {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.Name, word(t.ProvisioningActive, "active", "inactive"),
					word(t.APIKeysEnabled, "on", "off"), word(t.PasswordSignIn, "on", "off"), t.OnDelete, t.Created.UTC().Format(time.RFC3339))
			}
			return tw.Flush()
		case "activate", "deactivate":
			name, err := one()
			if err != nil {
				return err
			}
			if _, err := updateTenant(ctx, st, name, func(t *store.Tenant) error {
				t.ProvisioningActive = sub == "activate"
				return nil
			}); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "provisioning %sd for tenant %s\n", sub, name)
			return nil
		case "set":
			name, err := one()
			if err != nil {
				return err
			}
			t, err := updateTenant(ctx, st, name, func(t *store.Tenant) error {
				if *apiKeys != "" {
					v, err := onOff(*apiKeys)
					if err != nil {
						return err
					}
					t.APIKeysEnabled = v
				}
				if *signIn != "" {
					v, err := onOff(*signIn)
					if err != nil {
						return err
					}
					t.PasswordSignIn = v
				}
				if *onDelete != "" {
					if *onDelete != store.OnDeleteArchive && *onDelete != store.OnDeletePurge {
						return usagef("--on-delete must be archive or purge")
					}
					t.OnDelete = *onDelete
				}
				if *rateLimit != "" {
					n, err := strconv.Atoi(*rateLimit)
					if err != nil || n < 0 {
						return usagef("--rate-limit must be a number of requests per second, 0 or more")
					}
					t.RateLimit = n
				}
				return nil
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "tenant %s: api-keys %s, password-signin %s, on-delete %s, rate-limit %s\n", t.Name,
				word(t.APIKeysEnabled, "on", "off"), word(t.PasswordSignIn, "on", "off"), t.OnDelete, rateWord(t.RateLimit))
			return nil
		case "unlock":
			// An account locked out of the console by failed sign-ins (from
			// any address) can sign in again at once.
			if len(pos) != 2 {
				return usagef("tenants unlock: expected the tenant NAME and a USERNAME")
			}
			cs, ok := st.(store.ConsoleStore)
			if !ok {
				return errors.New("this database backend keeps no console data")
			}
			t, err := st.Tenant(ctx, pos[0])
			if err != nil {
				return fmt.Errorf("tenant %q: %w", pos[0], err)
			}
			n, err := cs.ClearThrottles(ctx, console.AccountThrottles(t.ID, pos[1]))
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s of tenant %s unlocked (%d sign-in failure records cleared)\n", pos[1], t.Name, n)
			return nil
		}
		return usagef("tenants: unknown subcommand %q", sub)
	})
}

// rateWord shows a tenant's rate limit.
func rateWord(n int) string {
	if n == 0 {
		return "default"
	}
	return strconv.Itoa(n) + "/s"
}

func updateTenant(ctx context.Context, st store.Store, name string, fn func(*store.Tenant) error) (store.Tenant, error) {
	t, err := st.UpdateTenant(ctx, name, fn)
	if errors.Is(err, store.ErrNotFound) {
		return t, fmt.Errorf("no tenant named %q", name)
	}
	return t, err
}

func word(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

func lookupTenant(ctx context.Context, st store.Store, name string) (store.Tenant, error) {
	if name == "" {
		return store.Tenant{}, usagef("--tenant NAME is required")
	}
	t, err := st.Tenant(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return t, fmt.Errorf("no tenant named %q", name)
	}
	return t, err
}

// baseURLFor is the SCIM base URL an identity provider should use.
func baseURLFor(getenv func(string) string, tenant string) string {
	if d := getenv("SCIMD_BASE_DOMAIN"); d != "" {
		return "https://" + tenant + "." + strings.TrimPrefix(d, ".") + "/scim/v2"
	}
	return "http://" + envOr(getenv, "SCIMD_LISTEN", defaultListen) + "/t/" + tenant + "/scim/v2"
}

// newKey creates and stores an API key and returns its secret.
func newKey(ctx context.Context, st store.Store, t store.Tenant, name, scope, createdBy string, expires time.Time) (store.APIKey, string, error) {
	id, secret := auth.NewKey()
	k := store.APIKey{ID: id, TenantID: t.ID, Name: name, Scope: scope, SecretHash: auth.HashSecret(secret),
		CreatedBy: createdBy, Created: time.Now().UTC(), Expires: expires}
	return k, secret, st.CreateAPIKey(ctx, k)
}

func cmdKeys(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return usagef("keys: expected create, list or revoke")
	}
	sub, args := args[0], args[1:]
	var tenant, name, scope, expires *string
	jsonOut := new(bool)
	define := func(fs *flag.FlagSet) {
		tenant = fs.String("tenant", "", "the tenant's `NAME`")
		if sub == "create" {
			name = fs.String("name", "", "a `LABEL` for the key")
			scope = fs.String("scope", store.ScopeWrite, "`read|write`")
			expires = fs.String("expires", "", "the key's lifetime, a `DURATION` such as 720h (default: never)")
			jsonOut = fs.Bool("json", false, "print the key as JSON")
		}
	}
	return withStore(ctx, "keys "+sub, args, getenv, define, func(st store.Store, pos []string) error {
		t, err := lookupTenant(ctx, st, *tenant)
		if err != nil {
			return err
		}
		switch sub {
		case "create":
			if len(pos) != 0 {
				return usagef("keys create: unexpected argument %q", pos[0])
			}
			if strings.TrimSpace(*name) == "" {
				return usagef("keys create: --name LABEL is required")
			}
			if *scope != store.ScopeRead && *scope != store.ScopeWrite {
				return usagef("keys create: --scope must be read or write")
			}
			var exp time.Time
			if *expires != "" {
				d, err := time.ParseDuration(*expires)
				if err != nil || d <= 0 {
					return usagef("keys create: --expires must be a positive duration such as 720h")
				}
				exp = time.Now().Add(d).UTC()
			}
			k, secret, err := newKey(ctx, st, t, *name, *scope, "cli", exp)
			if errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("tenant %s already has a key named %q (names are unique, ignoring case, among keys not revoked): choose another --name, or revoke that key", t.Name, strings.TrimSpace(*name))
			}
			if err != nil {
				return err
			}
			printKey(stdout, *jsonOut, k.ID, secret, baseURLFor(getenv, t.Name))
			return nil
		case "list":
			keys, err := st.APIKeys(ctx, t.ID)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "USER ID\tNAME\tSCOPE\tCREATED BY\tCREATED\tLAST USED\tEXPIRES\tSTATUS")
			now := time.Now()
			for _, k := range keys {
				status := "active"
				switch {
				case !k.Revoked.IsZero():
					status = "revoked"
				case !k.Expires.IsZero() && !now.Before(k.Expires):
					status = "expired"
				case k.PrevSecretHash != nil && now.Before(k.PrevExpires):
					status = "active, previous secret until " + stamp(k.PrevExpires, "")
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, k.Scope, k.CreatedBy,
					stamp(k.Created, "-"), stamp(k.LastUsed, "never"), stamp(k.Expires, "never"), status)
			}
			return tw.Flush()
		case "revoke":
			if len(pos) != 1 {
				return usagef("keys revoke: expected one USERID")
			}
			err := st.RevokeAPIKey(ctx, t.ID, pos[0], time.Now().UTC())
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("tenant %s has no key with User ID %q", t.Name, pos[0])
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "revoked key %s of tenant %s\n", pos[0], t.Name)
			return nil
		}
		return usagef("keys: unknown subcommand %q", sub)
	})
}

func stamp(t time.Time, zero string) string {
	if t.IsZero() {
		return zero
	}
	return t.UTC().Format(time.RFC3339)
}

// printKey shows a new key once, with everything needed to paste it into an
// identity provider.
func printKey(w io.Writer, asJSON bool, id, secret, base string) {
	basic := auth.Basic(id, secret)
	if asJSON {
		b, _ := json.Marshal(map[string]string{"userId": id, "apiKey": secret, "basic": basic, "baseUrl": base})
		fmt.Fprintln(w, string(b))
		return
	}
	fmt.Fprintf(w, "SCIM base URL:  %s\n", base)
	fmt.Fprintf(w, "User ID:        %s\n", id)
	fmt.Fprintf(w, "API key:        %s   (shown once: store it now)\n", secret)
	fmt.Fprintf(w, "Base64:         %s\n", basic)
	fmt.Fprintf(w, "\nTry it:\n  curl -H 'Authorization: Basic %s' '%s/Users?startIndex=1&count=2'\n", basic, base)
}

func cmdUsers(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "purge" {
		return usagef("users: expected purge, set-password or restore")
	}
	var tenant *string
	define := func(fs *flag.FlagSet) { tenant = fs.String("tenant", "", "the tenant's `NAME`") }
	return withStore(ctx, "users purge", args[1:], getenv, define, func(st store.Store, pos []string) error {
		t, err := lookupTenant(ctx, st, *tenant)
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return usagef("users purge: expected one user ID")
		}
		id := pos[0]
		if cs, ok := st.(store.ConsoleStore); ok {
			// A userName names the live user that has it (the operator pages
			// take either).
			if u, err := cs.UserByUserName(ctx, t.ID, id); err == nil {
				id = u.ID
			}
		}
		err = st.PurgeUser(ctx, t.ID, id)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("tenant %s has no user, live or archived, with id or userName %q", t.Name, pos[0])
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "purged user %s of tenant %s: all of its data is permanently deleted\n", id, t.Name)
		return nil
	})
}
