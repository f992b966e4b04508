package storetest

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimd/scimd/internal/store"
)

// searchTests are the search by words' part of the suite (store.Query.Words,
// the console's search).
var searchTests = []testCase[store.Store]{
	{"SearchWords", testSearchWords},
	{"SearchWordsFollowUpdates", testSearchUpdates},
	{"SearchWordsPaging", testSearchPaging},
	{"SearchWordsInvalid", testSearchInvalid},
}

// loadSearchFixture is loadFixture and, in acme, a user with every name
// part, and an archived user whose words would match.
func loadSearchFixture(t *testing.T, s store.Store) int64 {
	t.Helper()
	acme := loadFixture(t, s)
	mustCreateUser(t, s, acme, newUser("u-hopper", "ghopper", 20, map[string]any{
		"externalId": "NAVY-1906",
		"name":       map[string]any{"givenName": "Grace", "familyName": "Hopper", "formatted": "Rear Admiral Grace Hopper"},
		"emails":     []any{email("amazing@navy.example", "work", true)},
	}))
	mustCreateUser(t, s, acme, newUser("u-gracie", "gracie", 21, map[string]any{"displayName": "Gracie Archived"}))
	if err := s.DeleteUser(t.Context(), acme, "u-gracie", true); err != nil {
		t.Fatal(err)
	}
	return acme
}

// search returns the userNames that q with words finds in the tenant, and
// the total.
func search(t *testing.T, s store.Store, tenantID int64, q store.Query, words ...string) ([]string, int) {
	t.Helper()
	q.Words = words
	if q.Count == 0 {
		q.Count = 100
	}
	p, err := s.ListUsers(t.Context(), tenantID, q)
	if err != nil {
		t.Fatalf("ListUsers(words %q): %v", words, err)
	}
	if len(p.Users) == 0 {
		return nil, p.Total
	}
	return userNames(p.Users), p.Total
}

func testSearchWords(t *testing.T, s store.Store) {
	acme := loadSearchFixture(t, s)
	for _, tc := range []struct {
		words []string
		want  []string
	}{
		{[]string{"grace"}, []string{"grace", "ghopper"}}, // userName and e-mails; givenName
		{[]string{"GRA"}, []string{"grace", "ghopper"}},   // case folded
		{[]string{"hopper"}, []string{"ghopper"}},         // familyName
		{[]string{"rear"}, []string{"ghopper"}},           // name.formatted
		{[]string{"navy-19"}, []string{"ghopper"}},        // externalId, case-insensitively
		{[]string{"amazing@navy"}, []string{"ghopper"}},   // an e-mail value
		{[]string{"grace", "hopper"}, []string{"ghopper"}},
		{[]string{"Hopper", "GRACE"}, []string{"ghopper"}},
		{[]string{"grace", "hopper", "x"}, nil}, // every word must match
		{[]string{"ext-"}, []string{"alice", "Bob", "Élodie", "frank_100%"}},
		{[]string{"smith"}, []string{"alice"}},
		{[]string{"alice", "smith"}, []string{"alice"}},
		{[]string{"alice", "jones"}, nil},
		{[]string{"jones"}, []string{"Bob"}},
		{[]string{"bob@example.com"}, []string{"Bob"}},
		{[]string{"élo"}, []string{"Élodie"}},
		{[]string{"ÉLODIE"}, []string{"Élodie"}},
		{[]string{"durand"}, nil}, // a prefix of displayName, not a word within it
		{[]string{"Élodie Durand"}, []string{"Élodie"}},
		{[]string{"frank_"}, []string{"frank_100%"}}, // no LIKE wildcards
		{[]string{"frank"}, []string{"frank_100%", "frankx1000"}},
		{[]string{"%"}, nil},
		{[]string{"_"}, nil},
		{[]string{"carol"}, []string{"carol"}}, // inactive users are found
		{[]string{"zed"}, nil},                 // another tenant's
		{[]string{"gracie"}, nil},              // archived
		{[]string{"lice"}, nil},                // prefixes only
		{[]string{"", " "}, append(append([]string(nil), fixtureNames...), "ghopper")},
	} {
		got, total := search(t, s, acme, store.Query{}, tc.words...)
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("words %q (-want +got):\n%s", tc.words, diff)
		}
		if total != len(tc.want) {
			t.Errorf("words %q: total %d, want %d", tc.words, total, len(tc.want))
		}
	}
	// With a filter and a sort.
	got, _ := search(t, s, acme, store.Query{Filter: mustParse(t, "active eq true")}, "ext")
	if diff := cmp.Diff([]string{"alice", "Bob", "frank_100%"}, got); diff != "" {
		t.Errorf("words and filter (-want +got):\n%s", diff)
	}
	got, _ = search(t, s, acme, store.Query{SortBy: "userName", SortDescending: true}, "ext")
	if diff := cmp.Diff([]string{"Élodie", "frank_100%", "Bob", "alice"}, got); diff != "" {
		t.Errorf("words sorted by userName descending (-want +got):\n%s", diff)
	}
	// The other tenant finds its own.
	globex, err := s.Tenant(t.Context(), "globex")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := search(t, s, globex.ID, store.Query{}, "grace"); !cmp.Equal(got, []string{"zed"}) {
		t.Errorf("globex: words grace found %q, want zed", got)
	}
}

// testSearchUpdates: the search follows updates of the name, externalId and
// e-mails, a restore, and a purge.
func testSearchUpdates(t *testing.T, s store.Store) {
	acme := loadSearchFixture(t, s)
	ctx := t.Context()
	_, err := s.UpdateUser(ctx, acme, "u-hopper", func(u *store.User) error {
		u.Attrs["name"] = map[string]any{"givenName": "Amazing", "familyName": "Hopper"}
		u.Attrs["externalId"] = "fleet-7"
		u.Attrs["emails"] = []any{email("grace.h@navy.example", "work")}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		words []string
		want  []string
	}{
		{[]string{"amazing"}, []string{"ghopper"}},
		{[]string{"rear"}, nil},
		{[]string{"navy-"}, nil},
		{[]string{"FLEET"}, []string{"ghopper"}},
		{[]string{"grace", "hopper"}, []string{"ghopper"}}, // the new e-mail
		{[]string{"amazing@"}, nil},
	} {
		if got, _ := search(t, s, acme, store.Query{}, tc.words...); !cmp.Equal(got, tc.want) {
			t.Errorf("after update, words %q found %q, want %q", tc.words, got, tc.want)
		}
	}
	cs, ok := s.(store.ConsoleStore)
	if !ok {
		return
	}
	if _, err := cs.RestoreUser(ctx, acme, "u-gracie"); err != nil {
		t.Fatal(err)
	}
	if got, _ := search(t, s, acme, store.Query{}, "gracie"); !cmp.Equal(got, []string{"gracie"}) {
		t.Errorf("after restore, words gracie found %q, want gracie", got)
	}
	if err := s.PurgeUser(ctx, acme, "u-gracie"); err != nil {
		t.Fatal(err)
	}
	if got, _ := search(t, s, acme, store.Query{}, "gracie"); got != nil {
		t.Errorf("after purge, words gracie found %q", got)
	}
}

// testSearchPaging walks a search sorted by userName by cursor and by
// offset, one user to a page.
func testSearchPaging(t *testing.T, s store.Store) {
	acme := loadSearchFixture(t, s)
	want := []string{"alice", "Bob", "frank_100%", "Élodie"} // folded, in code point order
	var got []string
	q := store.Query{Words: []string{"EXT"}, SortBy: "userName", Cursor: true, Count: 1}
	for range 10 {
		p, err := s.ListUsers(t.Context(), acme, q)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, userNames(p.Users)...)
		if p.Next == nil {
			break
		}
		q.After = p.Next
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("by cursor (-want +got):\n%s", diff)
	}
	// NoTotal: a full page does not count the rest; a short one still
	// tells its total.
	p, err := s.ListUsers(t.Context(), acme, store.Query{Words: []string{"ext"}, Cursor: true, Count: 2, NoTotal: true})
	if err != nil || len(p.Users) != 2 || p.Total != -1 || p.Next == nil {
		t.Errorf("NoTotal, a full page: %d users, total %d, next %v, err %v; want 2, -1, a position", len(p.Users), p.Total, p.Next, err)
	}
	p, err = s.ListUsers(t.Context(), acme, store.Query{Words: []string{"ext"}, Cursor: true, Count: 10, NoTotal: true})
	if err != nil || len(p.Users) != 4 || p.Total != 4 || p.Next != nil {
		t.Errorf("NoTotal, the whole result: %d users, total %d, next %v, err %v; want 4, 4, none", len(p.Users), p.Total, p.Next, err)
	}
	got = nil
	for start := 1; start <= len(want)+1; start++ {
		p, err := s.ListUsers(t.Context(), acme, store.Query{Words: []string{"ext"}, SortBy: "userName", StartIndex: start, Count: 1})
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != len(want) {
			t.Errorf("startIndex %d: total %d, want %d", start, p.Total, len(want))
		}
		got = append(got, userNames(p.Users)...)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("by offset (-want +got):\n%s", diff)
	}
}

// CheckSearchBackfill checks a tenant whose users a migration gave their
// search columns: user "u1" has userName "ada", externalId "HR-Ω1" and name
// {givenName "Ada", familyName "ÅSTRÖM", formatted "Countess Ada"}; another
// has a givenName that is the number 7.
func CheckSearchBackfill(t *testing.T, s store.Store, tenantID int64) {
	t.Helper()
	for _, word := range []string{"ada", "åström", "countess", "hr-ω", "HR-Ω1"} {
		p, err := s.ListUsers(t.Context(), tenantID, store.Query{Words: []string{word}, Count: 10})
		if err != nil || len(p.Users) != 1 || p.Users[0].ID != "u1" {
			t.Errorf("word %q after the migration: %d users, %v; want u1", word, len(p.Users), err)
		}
	}
	if p, err := s.ListUsers(t.Context(), tenantID, store.Query{Words: []string{"7"}, Count: 10}); err != nil || len(p.Users) != 0 {
		t.Errorf("a givenName that is not a string was folded: %d users, %v", len(p.Users), err)
	}
}

func testSearchInvalid(t *testing.T, s store.Store) {
	acme := loadSearchFixture(t, s)
	var fe *store.FilterError
	_, err := s.ListUsers(t.Context(), acme, store.Query{Words: strings.Fields("a b c d e f g h i"), Count: 10})
	if !errors.As(err, &fe) {
		t.Errorf("nine words: err %v, want a *store.FilterError", err)
	}
	_, err = s.ListUsers(t.Context(), acme, store.Query{Words: []string{"a\x00b"}, Count: 10})
	if !errors.As(err, &fe) {
		t.Errorf("a word with NUL: err %v, want a *store.FilterError", err)
	}
	_, err = s.ListGroups(t.Context(), acme, store.Query{Words: []string{"eng"}, Count: 10}, false)
	if !errors.As(err, &fe) {
		t.Errorf("ListGroups with words: err %v, want a *store.FilterError", err)
	}
}
