package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/scimd/scimd/internal/store"
)

// The operator's break-glass commands: a tenant whose console nobody can
// sign in to any more (its only Owner deleted by SCIM, a lost password)
// gets an Owner back, a password reset, or an archived user restored.

// cmdTenantsAddOwner is "scimd tenants add-owner NAME USERNAME
// [--password-stdin]": USERNAME, a live user of the tenant, gets the Owner
// role (and, with --password-stdin, a new password); when the tenant has
// no such user, it is created, with the password read from stdin.
func cmdTenantsAddOwner(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	fs, dbURL := newFlags("tenants add-owner", getenv)
	fromStdin := fs.Bool("password-stdin", false, "read the user's (new) password from stdin")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usagef("tenants add-owner: expected the tenant NAME and a USERNAME")
	}
	var hash string
	if *fromStdin {
		if hash, err = readPasswordHash(ctx, stdin); err != nil {
			return err
		}
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
	t, err := lookupTenant(ctx, st, pos[0])
	if err != nil {
		return err
	}
	u, err := cs.UserByUserName(ctx, t.ID, pos[1])
	if errors.Is(err, store.ErrNotFound) {
		if hash == "" {
			return usagef("tenants add-owner: tenant %s has no user %q; to create one, give its password on stdin (--password-stdin)", t.Name, pos[1])
		}
		if err := createOwner(ctx, st, cs, t, pos[1], hash); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created %s in tenant %s, with the Owner role\n", pos[1], t.Name)
		return nil
	}
	if err != nil {
		return err
	}
	if err := cs.EnsureDefaultRoles(ctx, t.ID); err != nil {
		return err
	}
	roles, err := cs.Roles(ctx, t.ID)
	if err != nil {
		return err
	}
	held, err := cs.UserRoles(ctx, t.ID, u.ID)
	if err != nil {
		return err
	}
	ids := []int64{}
	for _, r := range held {
		ids = append(ids, r.ID)
	}
	for _, r := range roles {
		if r.Name == store.RoleOwner && !slices.Contains(ids, r.ID) {
			ids = append(ids, r.ID)
		}
	}
	if err := cs.SetUserRoles(ctx, t.ID, u.ID, ids); err != nil {
		return err
	}
	if hash != "" {
		if err := setPassword(ctx, st, cs, t, u.ID, hash); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "%s of tenant %s holds the Owner role%s\n", pos[1], t.Name, map[bool]string{true: ", with the new password", false: ""}[hash != ""])
	return nil
}

// setPassword sets a console user's password and ends their sessions.
func setPassword(ctx context.Context, st store.Store, cs store.ConsoleStore, t store.Tenant, userID, hash string) error {
	if _, err := st.UpdateUser(ctx, t.ID, userID, func(u *store.User) error {
		u.PasswordHash = hash
		u.Modified = time.Now().UTC()
		return nil
	}); err != nil {
		return err
	}
	return cs.DeleteUserSessions(ctx, t.ID, userID)
}

// cmdUsersBreakGlass is "scimd users set-password --tenant NAME USERNAME
// --password-stdin" and "scimd users restore --tenant NAME ID".
func cmdUsersBreakGlass(ctx context.Context, sub string, args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	fs, dbURL := newFlags("users "+sub, getenv)
	tenant := fs.String("tenant", "", "the tenant's `NAME`")
	var fromStdin *bool
	if sub == "set-password" {
		fromStdin = fs.Bool("password-stdin", false, "read the new password from stdin")
	}
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("users %s: expected one %s", sub, map[string]string{"set-password": "USERNAME", "restore": "user ID"}[sub])
	}
	var hash string
	if sub == "set-password" {
		if !*fromStdin {
			return usagef("users set-password: give the new password on stdin (--password-stdin)")
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
	cs, err := consoleStore(st)
	if err != nil {
		return err
	}
	t, err := lookupTenant(ctx, st, *tenant)
	if err != nil {
		return err
	}
	switch sub {
	case "set-password":
		u, err := cs.UserByUserName(ctx, t.ID, pos[0])
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("tenant %s has no live user %q", t.Name, pos[0])
		}
		if err != nil {
			return err
		}
		if err := setPassword(ctx, st, cs, t, u.ID, hash); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "new password set for %s of tenant %s; their console sessions are ended\n", pos[0], t.Name)
	case "restore":
		u, err := cs.RestoreUser(ctx, t.ID, pos[0])
		switch {
		case errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("tenant %s has no archived user with id %q", t.Name, pos[0])
		case errors.Is(err, store.ErrConflict):
			return fmt.Errorf("tenant %s: a live user now has the userName of archived user %s", t.Name, pos[0])
		case err != nil:
			return err
		}
		fmt.Fprintf(stdout, "restored user %s (%v) of tenant %s\n", u.ID, u.Attrs["userName"], t.Name)
	}
	return nil
}

// cmdOperatorsAdmin is "scimd operators list" and "scimd operators remove
// EMAIL" (which ends the operator's sessions).
func cmdOperatorsAdmin(ctx context.Context, sub string, args []string, getenv func(string) string, stdout io.Writer) error {
	return withStore(ctx, "operators "+sub, args, getenv, nil, func(st store.Store, pos []string) error {
		cs, err := consoleStore(st)
		if err != nil {
			return err
		}
		if sub == "remove" {
			if len(pos) != 1 {
				return usagef("operators remove: expected one EMAIL address")
			}
			if err := cs.DeleteOperator(ctx, pos[0]); errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("no operator %s", pos[0])
			} else if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "removed operator %s; their sessions are ended\n", pos[0])
			return nil
		}
		if len(pos) != 0 {
			return usagef("operators list: unexpected argument %q", pos[0])
		}
		ops, err := cs.Operators(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "EMAIL\tCREATED")
		for _, op := range ops {
			fmt.Fprintf(tw, "%s\t%s\n", op.Email, op.Created.UTC().Format(time.RFC3339))
		}
		return tw.Flush()
	})
}
