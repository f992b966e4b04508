package console

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimd/scimd/internal/store"
)

// peopleAt is when addPeople's users were created.
var peopleAt = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

// addPeople creates users to search for in acme, and one in another
// tenant whose name would match.
func (e *env) addPeople() {
	e.t.Helper()
	ctx := e.t.Context()
	for i, u := range []store.User{
		{ID: "u-grace", Attrs: map[string]any{"userName": "ghopper", "displayName": "Grace Hopper", "externalId": "NAVY-1906",
			"name":   map[string]any{"givenName": "Grace", "familyName": "Hopper"},
			"emails": []any{map[string]any{"value": "grace@navy.example", "primary": true}}, "active": true}},
		{ID: "u-gracie", Attrs: map[string]any{"userName": "gracie", "name": map[string]any{"givenName": "Gracie", "familyName": "Allen"}, "active": false}},
		{ID: "u-ada", Attrs: map[string]any{"userName": "ada", "displayName": "Ada Lovelace", "active": true,
			"name": map[string]any{"givenName": "Ada", "familyName": "Lovelace"}}},
		// Cells a spreadsheet would take as formulas, and CSV's own
		// special characters.
		{ID: "u-eve", Attrs: map[string]any{"userName": "@eve", "displayName": "=HYPERLINK(\"http://evil\")", "externalId": "+1",
			"name":   map[string]any{"givenName": "-2", "familyName": "Doe, \"Jr\"\nthe 2nd"},
			"emails": []any{map[string]any{"value": "\teve@example.com"}}, "active": true}},
	} {
		u.Created = peopleAt.Add(time.Duration(i) * time.Hour)
		u.Modified = u.Created
		if _, err := e.db.CreateUser(ctx, e.tenant.ID, u); err != nil {
			e.t.Fatal(err)
		}
	}
	other, err := e.db.CreateTenant(ctx, "other")
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.db.CreateUser(ctx, other.ID, store.User{ID: "u-other-grace", Attrs: map[string]any{"userName": "grace.other"}}); err != nil {
		e.t.Fatal(err)
	}
}

var userLinkRE = regexp.MustCompile(`<a href="/t/acme/console/users/([^"]+)">`)

// listed returns the ids of the users a users page lists, in order.
func listed(body string) []string {
	var ids []string
	for _, m := range userLinkRE.FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

func TestUsersSearch(t *testing.T) {
	e := newEnv(t)
	e.addPeople()
	b := e.signedIn("member")
	for _, tc := range []struct {
		name, text string
		want       []string
		mode       string
	}{
		{"one word, the issue's", "grace", []string{"u-grace"}, "Searching for the words “grace”"}, // not another tenant's grace.other
		{"case folded", "GRACE", []string{"u-grace"}, "Searching for the words “GRACE”"},
		{"a prefix", "grac", []string{"u-grace", "u-gracie"}, "Searching for the words “grac”"},
		{"every word must match", "grace hopper", []string{"u-grace"}, "Searching for the words “grace”, “hopper”"},
		{"familyName", "lovelace", []string{"u-ada"}, "Searching for the words"},
		{"externalId", "navy", []string{"u-grace"}, "Searching for the words"},
		{"e-mail", "grace@navy", []string{"u-grace"}, "Searching for the words"},
		{"nothing", "grace lovelace", nil, "Searching for the words"},
		{"a SCIM filter", `userName sw "gr"`, []string{"u-gracie"}, "SCIM filter <code>userName sw &#34;gr&#34;</code>"},
		{"a broken filter is words", `userName eq`, nil, "Searching for the words “userName”, “eq”"},
	} {
		r := b.get("/users?" + url.Values{"filter": {tc.text}}.Encode())
		wantStatus(t, tc.name, r, http.StatusOK)
		wantBody(t, tc.name, r, tc.mode)
		if got := listed(r.body); !cmp.Equal(got, tc.want) {
			t.Errorf("%s: %q lists %q, want %q", tc.name, tc.text, got, tc.want)
		}
	}
	r := b.get("/users?" + url.Values{"filter": {"grac"}, "status": {"inactive"}}.Encode())
	if got := listed(r.body); !cmp.Equal(got, []string{"u-gracie"}) {
		t.Errorf("words and status inactive list %q", got)
	}
	wantBody(t, "a displayName with quotes", b.get("/users?"+url.Values{"filter": {"=hyperlink("}}.Encode()), "=HYPERLINK(&#34;http://evil&#34;)")
	r = b.get("/users?" + url.Values{"filter": {strings.Repeat("a ", 9)}}.Encode())
	wantStatus(t, "nine words", r, http.StatusBadRequest)
	wantBody(t, "nine words", r, "Invalid search")
}

func TestUsersSort(t *testing.T) {
	e := newEnv(t)
	e.addPeople()
	b := e.signedIn("member")
	byName := map[string]string{"u-eve": "@eve", "u-ada": "ada", "id-admin": "admin", "u-grace": "ghopper", "u-gracie": "gracie", "id-member": "member", "id-owner": "owner"}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"sort=userName", []string{"u-eve", "u-ada", "id-admin", "u-grace", "u-gracie", "id-member", "id-owner"}},
		{"sort=userName&order=desc", []string{"id-owner", "id-member", "u-gracie", "u-grace", "id-admin", "u-ada", "u-eve"}},
		{"sort=created&order=desc&filter=grac", []string{"u-gracie", "u-grace"}},
		{"sort=name&filter=a", []string{"u-ada", "id-admin", "u-gracie"}}, // "Ada Lovelace", then no displayName (last, by creation)
		{"sort=status&filter=grac", []string{"u-gracie", "u-grace"}},
		{"sort=nonsense&filter=grac", []string{"u-grace", "u-gracie"}}, // creation order
	} {
		r := b.get("/users?" + tc.query)
		wantStatus(t, tc.query, r, http.StatusOK)
		if got := listed(r.body); !cmp.Equal(got, tc.want) {
			var names []string
			for _, id := range got {
				names = append(names, byName[id])
			}
			t.Errorf("%s lists %q (%q), want %q", tc.query, got, names, tc.want)
		}
	}
	// The header of the column sorted by sorts the other way; the others
	// sort ascending; all keep the search.
	r := b.get("/users?filter=grace&sort=userName")
	wantBody(t, "sorted column", r, `aria-sort="ascending"><a href="?filter=grace&amp;order=desc&amp;sort=userName" class="sort">userName ▲</a>`)
	wantBody(t, "other column", r, `<a href="?filter=grace&amp;sort=created" class="sort">Created</a>`)
	wantBody(t, "CSV link", r, `href="/t/acme/console/users.csv?filter=grace&amp;sort=userName"`)

	// The pager keeps the search, the status and the sort.
	for i := range 60 {
		e.addUser(fmt.Sprintf("zz%02d", i), "")
	}
	r = b.get("/users?filter=zz&status=active&sort=userName&order=desc")
	if got := listed(r.body); len(got) != usersPerPage || got[0] != "id-zz59" {
		t.Errorf("first page of zz, descending: %d users from %v", len(got), got[:1])
	}
	wantBody(t, "next link", r, `<a href="?filter=zz&amp;order=desc&amp;sort=userName&amp;start=51&amp;status=active">Next →</a>`)
	r = b.get("/users?filter=zz&order=desc&sort=userName&start=51&status=active")
	if got := listed(r.body); !cmp.Equal(got, []string{"id-zz09", "id-zz08", "id-zz07", "id-zz06", "id-zz05", "id-zz04", "id-zz03", "id-zz02", "id-zz01", "id-zz00"}) {
		t.Errorf("second page: %v", got)
	}
	wantBody(t, "previous link", r, `<a href="?filter=zz&amp;order=desc&amp;sort=userName&amp;start=1&amp;status=active">← Previous</a>`)
}

// getCSV fetches the CSV export with the given query string.
func (b *browser) getCSV(query url.Values) (*http.Response, string) {
	b.e.t.Helper()
	res, err := b.c.Get(b.base + "/users.csv?" + query.Encode())
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		b.e.t.Fatal(err)
	}
	return res, string(raw)
}

func TestUsersCSV(t *testing.T) {
	e := newEnv(t)
	e.addPeople()
	b := e.signedIn("member")
	const header = "id,userName,displayName,givenName,familyName,primary email,externalId,active,created,modified\n"
	for _, tc := range []struct {
		name  string
		query url.Values
		want  string
	}{
		{"words, sorted", url.Values{"filter": {"grac"}, "sort": {"userName"}, "order": {"desc"}}, header +
			"u-gracie,gracie,,Gracie,Allen,,,false,2024-05-06T08:08:09Z,2024-05-06T08:08:09Z\n" +
			"u-grace,ghopper,Grace Hopper,Grace,Hopper,grace@navy.example,NAVY-1906,true,2024-05-06T07:08:09Z,2024-05-06T07:08:09Z\n"},
		{"words and status", url.Values{"filter": {"grac"}, "status": {"active"}}, header +
			"u-grace,ghopper,Grace Hopper,Grace,Hopper,grace@navy.example,NAVY-1906,true,2024-05-06T07:08:09Z,2024-05-06T07:08:09Z\n"},
		// Formulas are defused with a leading apostrophe; commas, quotes
		// and line breaks are quoted as CSV quotes them.
		{"escaping", url.Values{"filter": {`userName eq "@eve"`}}, header +
			"u-eve,'@eve,\"'=HYPERLINK(\"\"http://evil\"\")\",'-2,\"Doe, \"\"Jr\"\"\nthe 2nd\",'\teve@example.com,'+1,true,2024-05-06T10:08:09Z,2024-05-06T10:08:09Z\n"},
		{"nothing", url.Values{"filter": {"nobody"}}, header},
	} {
		res, got := b.getCSV(tc.query)
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
			res.Header.Get("Content-Disposition") != `attachment; filename="acme-users.csv"` {
			t.Errorf("%s: %d, Content-Type %q, Content-Disposition %q", tc.name, res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Content-Disposition"))
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
	if res, _ := b.getCSV(url.Values{"filter": {`nosuch eq "x"`}}); res.StatusCode != http.StatusBadRequest {
		t.Errorf("a filter the store refuses: %d, want 400", res.StatusCode)
	}
	e.addUser("norole", "")
	if res, _ := e.signedIn("norole").getCSV(nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("without the view users permission: %d, want 403", res.StatusCode)
	}
	if res, _ := e.browser().getCSV(nil); res.StatusCode != http.StatusSeeOther {
		t.Errorf("signed out: %d, want 303", res.StatusCode)
	}
}

// TestUsersCSVChunks exports more users than one chunk holds, in creation
// order, each once.
func TestUsersCSVChunks(t *testing.T) {
	e := newEnv(t)
	us := make([]store.User, 2*csvChunk+500)
	for i := range us {
		us[i] = store.User{ID: fmt.Sprintf("u-%05d", i), Attrs: map[string]any{"userName": fmt.Sprintf("bulk%05d", i)}}
	}
	if err := e.db.BulkCreateUsers(t.Context(), e.tenant.ID, us); err != nil {
		t.Fatal(err)
	}
	_, got := e.signedIn("member").getCSV(url.Values{"filter": {"bulk"}})
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if len(lines) != len(us)+1 {
		t.Fatalf("%d lines, want %d", len(lines), len(us)+1)
	}
	for i, line := range lines[1:] {
		if want := fmt.Sprintf("u-%05d,bulk%05d,", i, i); !strings.HasPrefix(line, want) {
			t.Fatalf("line %d: %q, want it to start with %q", i+1, line, want)
		}
	}
}

// TestUserPageGroups: a user's page links to the groups the user belongs
// to, directly and through a nested group.
func TestUserPageGroups(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	now := time.Now()
	if _, err := e.db.CreateGroup(ctx, e.tenant.ID, store.Group{ID: "g-eng", Created: now, Modified: now,
		Attrs: map[string]any{"displayName": "Engineering"}, Members: []store.Member{{Value: e.ids["member"]}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.CreateGroup(ctx, e.tenant.ID, store.Group{ID: "g-all", Created: now, Modified: now,
		Attrs: map[string]any{"displayName": "Everyone"}, Members: []store.Member{{Value: "g-eng"}}}); err != nil {
		t.Fatal(err)
	}
	b := e.signedIn("member")
	r := b.get("/users/" + e.ids["member"])
	wantStatus(t, "user page", r, http.StatusOK)
	wantBody(t, "direct group", r, `<a href="/t/acme/console/groups/g-eng">Engineering</a></td><td>direct</td>`)
	wantBody(t, "indirect group", r, `<a href="/t/acme/console/groups/g-all">Everyone</a></td><td>indirect</td>`)
	wantBody(t, "no groups", b.get("/users/"+e.ids["owner"]), "Not a member of any group.")
}
