package storetest

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimd/scimd/internal/scim/filter"
	"github.com/scimd/scimd/internal/store"
)

const ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

func mustParse(t *testing.T, s string) filter.Expr {
	t.Helper()
	e, err := filter.Parse(s)
	if err != nil {
		t.Fatalf("filter.Parse(%q): %v", s, err)
	}
	return e
}

func email(value, typ string, primary ...bool) map[string]any {
	m := map[string]any{"value": value}
	if typ != "" {
		m["type"] = typ
	}
	if len(primary) > 0 {
		m["primary"] = primary[0]
	}
	return m
}

// fixture is the user set the filter and sort tests run against; the users
// are created in this order, an hour apart from base.
//
//	userName    externalId  displayName    title       active emails (type)                                      phones (type)          department   manager
//	alice       ext-Alice   Alice Smith    Engineer    true   alice@example.com (work, primary), alice@home.org   +1-555-0100 (work)     Engineering  u-bob
//	Bob         ext-bob     Bob Jones      Manager     true   Bob@Example.COM (Work)                              -                      engineering  -
//	carol       -           Carol          -           false  carol@example.org (home, primary)                   +44.. (mobile), +1-555-0199 (work)  Sales  u-alice
//	dave        -           -              engineer    true   -                                                   -                      -            -
//	Élodie      ext-élodie  Élodie Durand  Ingénieure  false  ELODIE@EXAMPLE.COM (work)                           -                      -            -
//	frank_100%  EXT-FRANK   -              Engineer    true   frank@example.net (other)                           -                      -            -
//	frankx1000  -           -              -           true   -   (nickName Frankie)                              -                      -            -
//	grace       -           -              -           true   grace@example.com (home), grace@work.example.com (work)  -             Sales        -
//	heidi       -           -              -           true   -                                                   -                      -            -
//	ivan        -           -              ""          false  ivan@example.com (no type)                          -                      (extension with only a manager) u-carol
func fixture() []store.User {
	users := []store.User{
		{ID: "u-alice", Attrs: map[string]any{"userName": "alice", "externalId": "ext-Alice", "displayName": "Alice Smith",
			"name":         map[string]any{"givenName": "Alice", "familyName": "Smith"},
			"title":        "Engineer",
			"emails":       []any{email("alice@example.com", "work", true), email("alice@home.org", "home")},
			"phoneNumbers": []any{map[string]any{"value": "+1-555-0100", "type": "work"}},
			ent:            map[string]any{"department": "Engineering", "employeeNumber": "100", "manager": map[string]any{"value": "u-bob"}},
		}},
		{ID: "u-bob", Attrs: map[string]any{"userName": "Bob", "externalId": "ext-bob", "displayName": "Bob Jones",
			"name":   map[string]any{"familyName": "Jones"},
			"title":  "Manager",
			"emails": []any{email("Bob@Example.COM", "Work")},
			ent:      map[string]any{"department": "engineering"},
		}},
		{ID: "u-carol", Attrs: map[string]any{"userName": "carol", "displayName": "Carol", "active": false,
			"emails": []any{email("carol@example.org", "home", true)},
			"phoneNumbers": []any{
				map[string]any{"value": "+44-20-7946-0000", "type": "mobile"},
				map[string]any{"value": "+1-555-0199", "type": "work"},
			},
			ent: map[string]any{"department": "Sales", "manager": map[string]any{"value": "u-alice"}},
		}},
		{ID: "u-dave", Attrs: map[string]any{"userName": "dave", "title": "engineer"}},
		{ID: "u-elodie", Attrs: map[string]any{"userName": "Élodie", "externalId": "ext-élodie", "displayName": "Élodie Durand",
			"title": "Ingénieure", "active": false,
			"emails": []any{email("ELODIE@EXAMPLE.COM", "work")},
		}},
		{ID: "u-frank", Attrs: map[string]any{"userName": "frank_100%", "externalId": "EXT-FRANK", "title": "Engineer",
			"emails": []any{email("frank@example.net", "other")},
		}},
		{ID: "u-frankx", Attrs: map[string]any{"userName": "frankx1000", "nickName": "Frankie"}},
		{ID: "u-grace", Attrs: map[string]any{"userName": "grace",
			"emails": []any{email("grace@example.com", "home"), email("grace@work.example.com", "work")},
			ent:      map[string]any{"department": "Sales"},
		}},
		{ID: "u-heidi", Attrs: map[string]any{"userName": "heidi"}},
		{ID: "u-ivan", Attrs: map[string]any{"userName": "ivan", "title": "", "active": false,
			"emails": []any{email("ivan@example.com", "")},
			ent:      map[string]any{"manager": map[string]any{"value": "u-carol"}},
		}},
	}
	for i := range users {
		u := &users[i]
		if _, ok := u.Attrs["active"]; !ok {
			u.Attrs["active"] = true
		}
		u.Created = base.Add(time.Duration(i) * time.Hour)
		u.Modified = u.Created.Add(time.Duration(i) * time.Minute)
	}
	return users
}

// fixtureNames is the fixture's userNames in creation order.
var fixtureNames = []string{"alice", "Bob", "carol", "dave", "Élodie", "frank_100%", "frankx1000", "grace", "heidi", "ivan"}

// loadFixture creates the fixture in a tenant "acme", and in a tenant
// "globex" users that would match many of the filters, and returns acme's
// id.
func loadFixture(t *testing.T, s store.Store) int64 {
	t.Helper()
	acme := mustTenant(t, s, "acme")
	globex := mustTenant(t, s, "globex")
	for _, u := range fixture() {
		mustCreateUser(t, s, acme.ID, u)
	}
	for i, u := range []store.User{
		newUser("u-alice", "alice", 0, map[string]any{"title": "Engineer", "externalId": "ext-Alice",
			"emails": []any{email("alice@example.com", "work", true)}, ent: map[string]any{"department": "Engineering"}}),
		newUser("u-zed", "zed", 1, map[string]any{"title": "Engineer", "active": false, "displayName": "Zed",
			"emails":       []any{email("zed@example.com", "work"), email("grace@example.com", "home")},
			"phoneNumbers": []any{map[string]any{"value": "+1-555-0100", "type": "work"}},
			ent:            map[string]any{"department": "Sales", "manager": map[string]any{"value": "u-bob"}}}),
	} {
		u.Created = base.Add(time.Duration(i) * time.Hour)
		mustCreateUser(t, s, globex.ID, u)
	}
	return acme.ID
}

// all returns the fixture's userNames except the given ones.
func all(except ...string) []string {
	var out []string
	for _, n := range fixtureNames {
		if !slices.Contains(except, n) {
			out = append(out, n)
		}
	}
	return out
}

// filterTests maps a filter to the userNames of the fixture it matches.
var filterTests = []struct {
	filter string
	want   []string
}{
	// userName: caseExact false, compared under scim.Fold.
	{`userName eq "alice"`, []string{"alice"}},
	{`userName eq "ALICE"`, []string{"alice"}},
	{`USERNAME eq "bob"`, []string{"Bob"}},
	{`userName eq "élodie"`, []string{"Élodie"}},
	{`userName eq "ÉLODIE"`, []string{"Élodie"}},
	{`userName eq "elodie"`, nil},
	{`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "carol"`, []string{"carol"}},
	{`userName ne "alice"`, all("alice")},
	{`userName sw "fr"`, []string{"frank_100%", "frankx1000"}},
	{`userName sw "FRANK_"`, []string{"frank_100%"}},
	{`userName sw ""`, all()},
	{`userName co "_1"`, []string{"frank_100%"}},
	{`userName co "%"`, []string{"frank_100%"}},
	{`userName co "\\"`, nil},
	{`userName ew "0%"`, []string{"frank_100%"}},
	{`userName ew "E"`, []string{"alice", "dave", "Élodie", "grace"}},
	{`userName gt "h"`, []string{"Élodie", "heidi", "ivan"}}, // folded, in code point order
	{`userName lt "c"`, []string{"alice", "Bob"}},
	{`userName le "carol"`, []string{"alice", "Bob", "carol"}},
	{`userName ge "grace"`, []string{"Élodie", "grace", "heidi", "ivan"}},
	{`userName pr`, all()},

	// id and externalId: caseExact.
	{`id eq "u-alice"`, []string{"alice"}},
	{`id eq "U-ALICE"`, nil},
	{`externalId eq "ext-Alice"`, []string{"alice"}},
	{`externalId eq "ext-alice"`, nil},
	{`externalId sw "ext"`, []string{"alice", "Bob", "Élodie"}},
	{`externalId sw "EXT"`, []string{"frank_100%"}},
	{`externalId co "Fra"`, nil},
	{`externalId pr`, []string{"alice", "Bob", "Élodie", "frank_100%"}},
	{`not (externalId pr)`, []string{"carol", "dave", "frankx1000", "grace", "heidi", "ivan"}},
	{`externalId ne "ext-bob"`, all("Bob")},

	// displayName and other core strings, absent values.
	{`displayName eq "alice smith"`, []string{"alice"}},
	{`displayName co "O"`, []string{"Bob", "carol", "Élodie"}},
	{`title eq "engineer"`, []string{"alice", "dave", "frank_100%"}},
	{`title ne "Engineer"`, all("alice", "dave", "frank_100%")},
	{`not (title eq "Engineer")`, all("alice", "dave", "frank_100%")},
	{`not (title ne "Engineer")`, []string{"alice", "dave", "frank_100%"}},
	{`title gt "F"`, []string{"Bob", "Élodie"}},
	{`not (title gt "F")`, all("Bob", "Élodie")},
	{`title eq ""`, []string{"ivan"}},
	{`title pr`, []string{"alice", "Bob", "dave", "Élodie", "frank_100%"}},
	{`not (title pr)`, []string{"carol", "frankx1000", "grace", "heidi", "ivan"}},
	{`title eq null`, []string{"carol", "frankx1000", "grace", "heidi", "ivan"}},
	{`title ne null`, []string{"alice", "Bob", "dave", "Élodie", "frank_100%"}},
	{`nickName eq "FRANKIE"`, []string{"frankx1000"}},
	{`name.familyName eq "smith"`, []string{"alice"}},
	{`name.familyName pr`, []string{"alice", "Bob"}},
	{`name pr`, []string{"alice", "Bob"}},
	{`name[givenName eq "alice"]`, []string{"alice"}},
	{`name.givenName eq "Alice" or name.familyName eq "Jones"`, []string{"alice", "Bob"}},

	// Booleans.
	{`active eq false`, []string{"carol", "Élodie", "ivan"}},
	{`active eq true`, all("carol", "Élodie", "ivan")},
	{`active ne true`, []string{"carol", "Élodie", "ivan"}},
	{`not (active eq true)`, []string{"carol", "Élodie", "ivan"}},
	{`active pr`, all()},

	// Logic, with absent values.
	{`title eq "Engineer" and active eq true`, []string{"alice", "dave", "frank_100%"}},
	{`title eq "Engineer" or userName eq "heidi"`, []string{"alice", "dave", "frank_100%", "heidi"}},
	{`not (title eq "Engineer" or active eq false)`, []string{"Bob", "frankx1000", "grace", "heidi"}},
	{`not (title eq "Engineer" and displayName pr)`, all("alice")},
	{`not (not (active eq false))`, []string{"carol", "Élodie", "ivan"}},
	{`(userName sw "d" or userName sw "h") and not (emails pr)`, []string{"dave", "heidi"}},
	{`userName eq "alice" and userName eq "bob"`, nil},
	{`title ne "Engineer" and not (title pr)`, []string{"carol", "frankx1000", "grace", "heidi", "ivan"}},

	// emails: multi-valued; a comparison holds if it holds for one element;
	// value and type are caseExact false.
	{`emails.value eq "bob@example.com"`, []string{"Bob"}},
	{`emails eq "ALICE@example.com"`, []string{"alice"}},
	{`emails.value eq "alice@home.org"`, []string{"alice"}},
	{`emails co "example.com"`, []string{"alice", "Bob", "Élodie", "grace", "ivan"}},
	{`emails.value ew ".ORG"`, []string{"alice", "carol"}},
	{`emails.value sw "grace@w"`, []string{"grace"}},
	{`emails[type eq "work"]`, []string{"alice", "Bob", "Élodie", "grace"}},
	{`emails[type eq "work" and value co "grace@example"]`, nil},
	{`emails.type eq "work" and emails.value co "grace@example"`, []string{"grace"}},
	{`emails[type eq "work"].value eq "elodie@example.com"`, []string{"Élodie"}},
	{`emails[type eq "work"].value eq "alice@home.org"`, nil},
	{`emails[type eq "work" and value eq "Grace@Work.Example.com"]`, []string{"grace"}},
	{`emails[type eq "home" or primary eq true]`, []string{"alice", "carol", "grace"}},
	{`emails[primary eq true]`, []string{"alice", "carol"}},
	{`emails.primary eq true`, []string{"alice", "carol"}},
	{`emails[not (type eq "work")]`, []string{"alice", "carol", "frank_100%", "grace", "ivan"}},
	{`not (emails[type eq "work"])`, []string{"carol", "dave", "frank_100%", "frankx1000", "heidi", "ivan"}},
	{`emails pr`, []string{"alice", "Bob", "carol", "Élodie", "frank_100%", "grace", "ivan"}},
	{`not (emails pr)`, []string{"dave", "frankx1000", "heidi"}},
	{`emails.type pr`, []string{"alice", "Bob", "carol", "Élodie", "frank_100%", "grace"}},
	{`Emails[Type eq "WORK"].Value eq "BOB@example.com"`, []string{"Bob"}},
	{`emails.value eq "bob@example.com" or emails.value eq "carol@example.org"`, []string{"Bob", "carol"}},

	// Other multi-valued attributes, from the document.
	{`phoneNumbers[type eq "work" and value sw "+1"]`, []string{"alice", "carol"}},
	{`phoneNumbers[type eq "mobile" and value sw "+1"]`, nil},
	{`phoneNumbers.value co "7946"`, []string{"carol"}},
	{`phoneNumbers.type eq "WORK"`, []string{"alice", "carol"}},
	{`phoneNumbers pr`, []string{"alice", "carol"}},
	{`not (phoneNumbers[type eq "mobile"])`, all("carol")},

	// The enterprise extension.
	{ent + `:department eq "engineering"`, []string{"alice", "Bob"}},
	{ent + `:department ne "Sales"`, all("carol", "grace")},
	{`not (` + ent + `:department eq "Sales")`, all("carol", "grace")},
	{ent + `:manager.value eq "u-bob"`, []string{"alice"}},
	{ent + `:manager.value eq "U-BOB"`, nil},
	{ent + `:manager.value pr`, []string{"alice", "carol", "ivan"}},
	{ent + `:employeeNumber eq "100"`, []string{"alice"}},
	{ent + `:department pr and title pr`, []string{"alice", "Bob"}},

	// meta.
	{`meta.created eq "2024-01-02T03:04:05.123456789Z"`, []string{"alice"}},
	{`meta.created gt "2024-01-02T07:34:05Z"`, []string{"frank_100%", "frankx1000", "grace", "heidi", "ivan"}},
	{`meta.created ge "2024-01-02T07:04:05.123456789Z"`, []string{"Élodie", "frank_100%", "frankx1000", "grace", "heidi", "ivan"}},
	{`meta.created lt "2024-01-02T07:04:05.123456789+02:00"`, []string{"alice", "Bob"}},
	{`meta.created le "2024-01-02T04:04:05.123456789Z"`, []string{"alice", "Bob"}},
	{`meta.created ne "2024-01-02T03:04:05.123456789Z"`, all("alice")},
	{`meta.lastModified gt "2024-01-02T11:13:00Z"`, []string{"ivan"}},
	{`meta.lastModified pr`, all()},
	{`meta.resourceType eq "User"`, all()},
	{`meta.resourceType eq "Group"`, nil},
	{`meta pr`, all()},

	// schemas.
	{`schemas eq "urn:ietf:params:scim:schemas:core:2.0:User"`, all()},
	{`schemas eq "` + ent + `"`, []string{"alice", "Bob", "carol", "grace", "ivan"}},
	{`not (schemas eq "` + ent + `")`, []string{"dave", "Élodie", "frank_100%", "frankx1000", "heidi"}},
	{`schemas eq "urn:example:other"`, nil},
}

func testFilters(t *testing.T, s store.Store) {
	ctx := t.Context()
	acme := loadFixture(t, s)
	for _, tc := range filterTests {
		t.Run(tc.filter, func(t *testing.T) {
			p, err := s.ListUsers(ctx, acme, store.Query{Filter: mustParse(t, tc.filter), Count: 100})
			if err != nil {
				t.Fatalf("ListUsers: %v", err)
			}
			got := userNames(p.Users)
			want := slices.Clone(tc.want)
			slices.Sort(got)
			slices.Sort(want)
			if diff := cmp.Diff(want, got, cmpEmpty); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if p.Total != len(tc.want) {
				t.Errorf("Total = %d, want %d", p.Total, len(tc.want))
			}
			// The count alone agrees.
			p, err = s.ListUsers(ctx, acme, store.Query{Filter: mustParse(t, tc.filter)})
			if err != nil || p.Total != len(tc.want) || len(p.Users) != 0 {
				t.Errorf("Count 0: Total %d, %d users, err %v; want Total %d and no users", p.Total, len(p.Users), err, len(tc.want))
			}
		})
	}
}

func testInvalidFilters(t *testing.T, s store.Store) {
	ctx := t.Context()
	acme := loadFixture(t, s)
	for _, f := range []string{
		`foo eq "x"`,
		`name.foo eq "x"`,
		`userName.foo eq "x"`,
		`foo[type eq "work"]`,
		`emails[foo eq "x"]`,
		ent + `:foo eq "x"`,
		`urn:example:unknown:2.0:User:department eq "x"`,
		`password eq "secret"`,
		`active gt true`,
		`active eq "true"`,
		`userName eq true`,
		`userName eq 42`,
		`meta.created gt "yesterday"`,
		`meta.created co "2024"`,
		`name eq "x"`,
		`emails[type eq "work"] and foo pr`,
		`not (bar pr)`,
	} {
		t.Run(f, func(t *testing.T) {
			_, err := s.ListUsers(ctx, acme, store.Query{Filter: mustParse(t, f), Count: 10})
			var fe *store.FilterError
			if !errors.As(err, &fe) {
				t.Fatalf("got error %v (%T), want a *store.FilterError", err, err)
			}
			if fe.Msg == "" {
				t.Errorf("FilterError has no message")
			}
		})
	}
	// The message names the unknown attribute.
	_, err := s.ListUsers(ctx, acme, store.Query{Filter: mustParse(t, `costCentre eq "x"`), Count: 10})
	if err == nil || !strings.Contains(err.Error(), "costCentre") {
		t.Errorf("unknown attribute: error %v does not name costCentre", err)
	}
}

func testSorting(t *testing.T, s store.Store) {
	ctx := t.Context()
	acme := loadFixture(t, s)
	rev := func(s []string) []string { s = slices.Clone(s); slices.Reverse(s); return s }
	for _, tc := range []struct {
		sortBy string
		desc   bool
		want   []string
	}{
		{"", false, fixtureNames},
		{"", true, fixtureNames}, // sortOrder without sortBy is ignored
		// Folded, compared by code point: "élodie" sorts after the ASCII names.
		{"userName", false, []string{"alice", "Bob", "carol", "dave", "frank_100%", "frankx1000", "grace", "heidi", "ivan", "Élodie"}},
		{"userName", true, []string{"Élodie", "ivan", "heidi", "grace", "frankx1000", "frank_100%", "dave", "carol", "Bob", "alice"}},
		{"meta.created", false, fixtureNames},
		{"meta.created", true, rev(fixtureNames)},
		{"meta.lastModified", true, rev(fixtureNames)},
		{"id", false, []string{"alice", "Bob", "carol", "dave", "Élodie", "frank_100%", "frankx1000", "grace", "heidi", "ivan"}},
		// Absent values last when ascending, first when descending; ties in
		// creation order (reversed when descending).
		{"title", false, []string{"ivan", "alice", "dave", "frank_100%", "Élodie", "Bob", "carol", "frankx1000", "grace", "heidi"}},
		{"title", true, []string{"heidi", "grace", "frankx1000", "carol", "Bob", "Élodie", "frank_100%", "dave", "alice", "ivan"}},
		{"externalId", false, []string{"frank_100%", "alice", "Bob", "Élodie", "carol", "dave", "frankx1000", "grace", "heidi", "ivan"}},
		{"displayName", false, []string{"alice", "Bob", "carol", "Élodie", "dave", "frank_100%", "frankx1000", "grace", "heidi", "ivan"}},
		{"displayName", true, []string{"ivan", "heidi", "grace", "frankx1000", "frank_100%", "dave", "Élodie", "carol", "Bob", "alice"}},
		{"name.familyName", false, []string{"Bob", "alice", "carol", "dave", "Élodie", "frank_100%", "frankx1000", "grace", "heidi", "ivan"}},
		{ent + ":department", false, []string{"alice", "Bob", "carol", "grace", "dave", "Élodie", "frank_100%", "frankx1000", "heidi", "ivan"}},
		{"active", false, []string{"carol", "Élodie", "ivan", "alice", "Bob", "dave", "frank_100%", "frankx1000", "grace", "heidi"}},
		// A multi-valued attribute sorts by its primary value, else its first.
		{"emails.value", false, []string{"alice", "Bob", "carol", "Élodie", "frank_100%", "grace", "ivan", "dave", "frankx1000", "heidi"}},
		{"emails", true, []string{"heidi", "frankx1000", "dave", "ivan", "grace", "frank_100%", "Élodie", "carol", "Bob", "alice"}},
		{"phoneNumbers.value", false, []string{"alice", "carol", "Bob", "dave", "Élodie", "frank_100%", "frankx1000", "grace", "heidi", "ivan"}},
	} {
		name := tc.sortBy
		if tc.desc {
			name += " descending"
		}
		t.Run(name, func(t *testing.T) {
			p, err := s.ListUsers(ctx, acme, store.Query{SortBy: tc.sortBy, SortDescending: tc.desc, Count: 100})
			if err != nil {
				t.Fatalf("ListUsers: %v", err)
			}
			if diff := cmp.Diff(tc.want, userNames(p.Users)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			// Paged, the same order.
			var paged []string
			for start := 1; start <= len(tc.want); start += 3 {
				p, err := s.ListUsers(ctx, acme, store.Query{SortBy: tc.sortBy, SortDescending: tc.desc, StartIndex: start, Count: 3})
				if err != nil {
					t.Fatalf("ListUsers: %v", err)
				}
				paged = append(paged, userNames(p.Users)...)
			}
			if diff := cmp.Diff(tc.want, paged); diff != "" {
				t.Errorf("in pages of 3 (-want +got):\n%s", diff)
			}
		})
	}
	// Sorting and filtering together.
	p, err := s.ListUsers(ctx, acme, store.Query{Filter: mustParse(t, `title pr`), SortBy: "userName", SortDescending: true, Count: 2, StartIndex: 2})
	if err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	if diff := cmp.Diff([]string{"frank_100%", "dave"}, userNames(p.Users)); diff != "" || p.Total != 5 {
		t.Errorf("filtered, sorted, paged: Total %d (-want +got):\n%s", p.Total, diff)
	}
}

func testInvalidSort(t *testing.T, s store.Store) {
	ctx := t.Context()
	acme := loadFixture(t, s)
	for _, sortBy := range []string{"foo", "name", "name.foo", ent + ":foo", "password", "emails[type eq \"work\"].value"} {
		_, err := s.ListUsers(ctx, acme, store.Query{SortBy: sortBy, Count: 10})
		var fe *store.FilterError
		if !errors.As(err, &fe) {
			t.Errorf("sortBy %q: got error %v, want a *store.FilterError", sortBy, err)
		}
	}
}
