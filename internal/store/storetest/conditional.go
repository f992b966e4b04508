package storetest

import (
	"errors"
	"testing"

	"github.com/scimd/scimd/internal/store"
)

var errStale = errors.New("stale version")

// testConditionalDelete checks DeleteUserIf and DeleteGroupIf: the check
// sees the current version, a failing check deletes nothing and its error
// comes back unchanged, a passing one deletes.
func testConditionalDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	acme := mustTenant(t, s, "acme")
	u := mustCreateUser(t, s, acme.ID, newUser("u-1", "ann@example.com", 0, nil))
	if _, err := s.UpdateUser(ctx, acme.ID, u.ID, func(u *store.User) error { u.Attrs["title"] = "v2"; return nil }); err != nil {
		t.Fatal(err)
	}
	g := mustCreateGroup(t, s, acme.ID, newGroup("g-1", "Eng", 1, u.ID))
	only := func(want int64) func(int64) error {
		return func(v int64) error {
			if v != want {
				return errStale
			}
			return nil
		}
	}
	if err := s.DeleteUserIf(ctx, acme.ID, u.ID, true, only(1)); !errors.Is(err, errStale) {
		t.Fatalf("DeleteUserIf with a stale version = %v, want the check's error", err)
	}
	if _, err := s.User(ctx, acme.ID, u.ID); err != nil {
		t.Fatalf("user gone after a refused delete: %v", err)
	}
	if err := s.DeleteGroupIf(ctx, acme.ID, g.ID, only(7)); !errors.Is(err, errStale) {
		t.Fatalf("DeleteGroupIf with a stale version = %v, want the check's error", err)
	}
	if got, err := s.Group(ctx, acme.ID, g.ID, true); err != nil || len(got.Members) != 1 {
		t.Fatalf("group after a refused delete: %+v, %v", got, err)
	}
	if err := s.DeleteUserIf(ctx, acme.ID, "nobody", true, only(1)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteUserIf of a missing user = %v, want ErrNotFound", err)
	}
	if err := s.DeleteUserIf(ctx, acme.ID, u.ID, true, only(2)); err != nil {
		t.Fatalf("DeleteUserIf with the current version: %v", err)
	}
	if _, err := s.User(ctx, acme.ID, u.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("user after delete: %v", err)
	}
	gv, err := s.Group(ctx, acme.ID, g.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteGroupIf(ctx, acme.ID, g.ID, only(gv.Version)); err != nil {
		t.Fatalf("DeleteGroupIf with the current version: %v", err)
	}
	if _, err := s.Group(ctx, acme.ID, g.ID, false); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("group after delete: %v", err)
	}
}
