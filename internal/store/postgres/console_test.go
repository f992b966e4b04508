package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/scimd/scimd/internal/store"
	"github.com/scimd/scimd/internal/store/postgres/pgtest"
	"github.com/scimd/scimd/internal/store/storetest"
)

func TestConsoleConformance(t *testing.T) {
	pgtest.ServerDSN(t) // skip once, not in every subtest
	storetest.RunConsole(t, func(t *testing.T) storetest.ConsoleBackend { return mustOpen(t) })
}

// openPair opens two DBs on one fresh database: two scimd instances.
func openPair(t *testing.T) (*DB, *DB) {
	t.Helper()
	dsn := pgtest.NewDatabase(t)
	var dbs [2]*DB
	for i := range dbs {
		db, err := Open(t.Context(), dsn)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { db.Close() })
		dbs[i] = db
	}
	return dbs[0], dbs[1]
}

// race runs fn(0), …, fn(n-1) at once, fn(i) on dbs[i%2].
func race(n int, dbs [2]*DB, fn func(i int, db *DB)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			fn(i, dbs[i%2])
		})
	}
	close(start)
	wg.Wait()
}

var t0 = time.Date(2024, 1, 2, 3, 4, 5, 123456789, time.UTC)

// TestConsoleConcurrency checks what SQLite gets from its single writer
// with two instances sharing one database.
func TestConsoleConcurrency(t *testing.T) {
	a, b := openPair(t)
	dbs := [2]*DB{a, b}
	ctx := t.Context()
	tn, err := a.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("EnsureDefaultRoles", func(t *testing.T) {
		race(6, dbs, func(_ int, db *DB) {
			if err := db.EnsureDefaultRoles(ctx, tn.ID); err != nil {
				t.Errorf("EnsureDefaultRoles: %v", err)
			}
		})
		roles, err := a.Roles(ctx, tn.ID)
		var names []string
		for _, r := range roles {
			names = append(names, r.Name)
		}
		if err != nil || !slices.Equal(names, []string{store.RoleOwner, store.RoleAdmin, store.RoleMember}) {
			t.Errorf("roles = %v, %v; want Owner, Admin, Member in that order", names, err)
		}
	})

	t.Run("UpdateThrottle", func(t *testing.T) {
		const workers, each = 8, 3
		race(workers, dbs, func(_ int, db *DB) {
			for range each {
				if _, err := db.UpdateThrottle(ctx, "u:1:ada", func(th *store.Throttle) { th.Failures++; th.Last = t0 }); err != nil {
					t.Errorf("UpdateThrottle: %v", err)
				}
			}
		})
		if th, err := b.Throttle(ctx, "u:1:ada"); err != nil || th.Failures != workers*each || !th.Last.Equal(t0) || !th.LockedUntil.IsZero() {
			t.Errorf("Throttle = %+v, %v; want %d failures (none lost)", th, err, workers*each)
		}
	})

	t.Run("SetUserRoles", func(t *testing.T) {
		roles, err := a.Roles(ctx, tn.ID)
		if err != nil || len(roles) != 3 {
			t.Fatalf("Roles = %v, %v", roles, err)
		}
		// Another user is an Owner throughout, so that no replacement
		// would take the tenant's last Owner (see LastOwner).
		if err := a.SetUserRoles(ctx, tn.ID, "the-owner", []int64{roles[0].ID}); err != nil {
			t.Fatal(err)
		}
		for round := range 10 {
			user := fmt.Sprintf("u%d", round)
			race(6, dbs, func(i int, db *DB) {
				ids := []int64{roles[i%3].ID, roles[(i+1)%3].ID}
				if err := db.SetUserRoles(ctx, tn.ID, user, ids); err != nil {
					t.Errorf("SetUserRoles: %v", err)
				}
			})
			// The last replacement wins whole: two roles, never the union.
			got, err := a.UserRoles(ctx, tn.ID, user)
			if err != nil || len(got) != 2 {
				t.Errorf("round %d: UserRoles = %+v, %v; want one replacement's 2 roles", round, got, err)
			}
		}
	})

	t.Run("RestoreRacesCreate", func(t *testing.T) {
		for round := range 4 {
			id, name := fmt.Sprintf("r%d", round), fmt.Sprintf("Race%d@example.com", round)
			if _, err := a.CreateUser(ctx, tn.ID, store.User{ID: id, Created: t0, Modified: t0, Attrs: map[string]any{"userName": name}}); err != nil {
				t.Fatal(err)
			}
			if err := a.DeleteUser(ctx, tn.ID, id, true); err != nil {
				t.Fatal(err)
			}
			errs := make([]error, 3)
			race(3, dbs, func(i int, db *DB) {
				if i == 2 { // the same userName, another case
					_, errs[i] = db.CreateUser(ctx, tn.ID, store.User{ID: id + "-new", Created: t0, Modified: t0,
						Attrs: map[string]any{"userName": "race" + name[4:]}})
					return
				}
				_, errs[i] = db.RestoreUser(ctx, tn.ID, id)
			})
			ok := 0
			for i, err := range errs {
				switch {
				case err == nil:
					ok++
				case errors.Is(err, store.ErrConflict):
				case i < 2 && errors.Is(err, store.ErrNotFound): // the other restore won
				default:
					t.Errorf("round %d, #%d: unexpected error %v", round, i, err)
				}
			}
			if ok != 1 {
				t.Errorf("round %d: %d of restore, restore, create succeeded (%v); want exactly 1", round, ok, errs)
			}
			page, err := a.ListUsers(ctx, tn.ID, store.Query{Count: 100})
			if err != nil || page.Total != len(page.Users) {
				t.Fatalf("ListUsers = %d users, total %d, %v", len(page.Users), page.Total, err)
			}
			for _, u := range page.Users { // leave the tenant empty for the next round
				if err := a.DeleteUser(ctx, tn.ID, u.ID, false); err != nil {
					t.Fatal(err)
				}
			}
			if arch, _ := a.ArchivedUsers(ctx, tn.ID, -1); len(arch) != boolInt(errs[2] == nil) {
				// The archived record is gone iff a restore succeeded.
				t.Errorf("round %d: archived = %+v", round, arch)
			}
			if err := a.PurgeUser(ctx, tn.ID, id); err != nil && !errors.Is(err, store.ErrNotFound) {
				t.Fatal(err)
			}
		}
	})

	t.Run("AddActivity", func(t *testing.T) {
		const batches, size = 3, 300
		race(batches, dbs, func(i int, db *DB) {
			recs := make([]store.Activity, size)
			for j := range recs {
				recs[j] = store.Activity{TenantID: tn.ID, Time: t0, RequestID: fmt.Sprintf("%d-%03d", i, j), Method: "GET", Path: "/scim/v2/Users", Status: 200}
			}
			if err := db.AddActivity(ctx, recs); err != nil {
				t.Errorf("AddActivity: %v", err)
			}
		})
		all, more, err := a.ActivityLog(ctx, tn.ID, store.ActivityQuery{Limit: 1000})
		if err != nil || more || len(all) != batches*size {
			t.Fatalf("ActivityLog = %d records, more %v, %v; want %d", len(all), more, err, batches*size)
		}
		// Newest first; within a batch, the ids follow the records' order.
		last := map[byte]string{}
		for i, r := range all {
			if i > 0 && r.ID >= all[i-1].ID {
				t.Fatalf("ids not decreasing at %d: %d after %d", i, r.ID, all[i-1].ID)
			}
			if prev, ok := last[r.RequestID[0]]; ok && r.RequestID >= prev {
				t.Fatalf("batch order lost: %s listed after %s", r.RequestID, prev)
			}
			last[r.RequestID[0]] = r.RequestID
		}
		if n, err := b.PurgeActivity(ctx, t0.Add(time.Second)); err != nil || n != batches*size {
			t.Errorf("PurgeActivity = %d, %v; want %d", n, err, batches*size)
		}
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestConsoleUnstorableText: what PostgreSQL text cannot hold (NUL, invalid
// UTF-8) may reach the console's store from a sign-in form or a request's
// headers; it must neither fail a batch of activity nor error a sign-in.
func TestConsoleUnstorableText(t *testing.T) {
	db := mustOpen(t)
	ctx := t.Context()
	tn, err := db.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	bad := "a\x00b\xffc"
	recs := []store.Activity{
		{TenantID: tn.ID, Time: t0, Method: "GET", Path: "/scim/v2/Users/" + bad, UserAgent: bad, Status: 400,
			Changes: []store.Change{{Attr: "x", New: `"` + bad + `"`}}},
		{TenantID: tn.ID, Time: t0, Method: "GET", Path: "/scim/v2/Users", Status: 200},
	}
	if err := db.AddActivity(ctx, recs); err != nil {
		t.Fatalf("AddActivity: %v", err)
	}
	got, _, err := db.ActivityLog(ctx, tn.ID, store.ActivityQuery{Text: bad})
	if err != nil || len(got) != 1 || got[0].UserAgent != "a\uFFFDb\uFFFDc" || got[0].Changes[0].New != "\"a\x00b\uFFFDc\"" {
		t.Errorf("ActivityLog = %+v, %v", got, err)
	}
	if _, err := db.UserByUserName(ctx, tn.ID, bad); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UserByUserName(NUL) = %v, want ErrNotFound", err)
	}
	if _, err := db.OperatorByEmail(ctx, bad); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("OperatorByEmail(NUL) = %v, want ErrNotFound", err)
	}
	key := "u:1:" + bad
	if th, err := db.UpdateThrottle(ctx, key, func(th *store.Throttle) { th.Failures++ }); err != nil || th.Failures != 1 || th.Key != key {
		t.Errorf("UpdateThrottle = %+v, %v", th, err)
	}
	if th, err := db.Throttle(ctx, "u:1:a\x00b\xfec"); err != nil || th.Failures != 0 {
		t.Errorf("Throttle of another key = %+v, %v; want none (keys compared as bytes)", th, err)
	}
	if err := db.ClearThrottle(ctx, key); err != nil {
		t.Fatal(err)
	}
	if th, err := db.Throttle(ctx, key); err != nil || th.Failures != 0 {
		t.Errorf("Throttle after clear = %+v, %v", th, err)
	}
}

// TestConsoleSetUserRolesAtomic: a role of another tenant changes nothing.
func TestConsoleSetUserRolesAtomic(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	a, err := db.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	b, err := db.CreateTenant(ctx, "bravo")
	if err != nil {
		t.Fatal(err)
	}
	for _, tn := range []store.Tenant{a, b} {
		if err := db.EnsureDefaultRoles(ctx, tn.ID); err != nil {
			t.Fatal(err)
		}
	}
	ra, _ := db.Roles(ctx, a.ID)
	rb, _ := db.Roles(ctx, b.ID)
	if err := db.SetUserRoles(ctx, a.ID, "u1", []int64{ra[0].ID, ra[0].ID}); err != nil {
		t.Fatalf("SetUserRoles with a repeated id: %v", err)
	}
	err = db.SetUserRoles(ctx, a.ID, "u1", []int64{ra[1].ID, rb[1].ID})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetUserRoles with another tenant's role = %v, want ErrNotFound", err)
	}
	if got, _ := db.UserRoles(ctx, a.ID, "u1"); len(got) != 1 || got[0].ID != ra[0].ID {
		t.Errorf("UserRoles after a refused change = %+v, want the Owner role only", got)
	}
	// u1 is the only Owner: clearing its roles is refused until another
	// user is one.
	if err := db.SetUserRoles(ctx, a.ID, "u1", nil); !errors.Is(err, store.ErrLastOwner) {
		t.Errorf("clearing the last Owner's roles = %v, want ErrLastOwner", err)
	}
	if err := db.SetUserRoles(ctx, a.ID, "u2", []int64{ra[0].ID}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetUserRoles(ctx, a.ID, "u1", nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.UserRoles(ctx, a.ID, "u1"); len(got) != 0 {
		t.Errorf("UserRoles after clearing = %+v", got)
	}
	if err := db.SetRolePermissions(ctx, a.ID, ra[2].ID, nil); err != nil {
		t.Fatalf("SetRolePermissions(nil): %v", err)
	}
	if roles, _ := db.Roles(ctx, a.ID); roles[2].Permissions != nil {
		t.Errorf("permissions after clearing = %#v, want nil (as SQLite)", roles[2].Permissions)
	}
}
