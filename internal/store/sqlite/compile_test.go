package sqlite

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/scimd/scimd/internal/scim/filter"
	"github.com/scimd/scimd/internal/scim/schema"
	"github.com/scimd/scimd/internal/store"
)

func path(attr string) filter.Path { return filter.Path{Attr: attr} }

func sub(attr, s string) filter.Path { return filter.Path{Attr: attr, Sub: s} }

func cmpr(p filter.Path, op filter.Op, v any) *filter.Compare {
	return &filter.Compare{Path: p, Op: op, Value: v}
}

const tenant = int64(7)

// The folded display and type of group member m.
const (
	display = "(CASE m.member_type WHEN 'User' THEN " +
		"(SELECT coalesce(nullif(mu.display_name_fold, ''), mu.user_name_fold) FROM users mu WHERE mu.tenant_id = m.tenant_id AND mu.id = m.member_id) " +
		"ELSE (SELECT mg.display_name_fold FROM groups mg WHERE mg.tenant_id = m.tenant_id AND mg.id = m.member_id) END)"
	memberType = "(CASE m.member_type WHEN 'User' THEN 'user' ELSE 'group' END)"
)

// TestCompileFilter pins the SQL each filter form compiles to, from
// hand-built trees.
func TestCompileFilter(t *testing.T) {
	created := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	entPath := func(a string) string { return `$."` + schema.EnterpriseURN + `".` + a }
	for _, tc := range []struct {
		name     string
		e        filter.Expr
		wantSQL  string
		wantArgs []any
	}{
		{"userName eq compares the folded column with the folded literal",
			cmpr(path("userName"), filter.Eq, "ÉLODIE"),
			"users.user_name_fold = ?", []any{"élodie"}},
		{"attribute names are case-insensitive",
			cmpr(path("USERNAME"), filter.Eq, "a"),
			"users.user_name_fold = ?", []any{"a"}},
		{"the core URN may prefix a name",
			cmpr(filter.Path{URN: schema.UserURN, Attr: "userName"}, filter.Eq, "a"),
			"users.user_name_fold = ?", []any{"a"}},
		{"externalId is case-exact",
			cmpr(path("externalId"), filter.Eq, "Ext-1"),
			"users.external_id = ?", []any{"Ext-1"}},
		{"id is case-exact",
			cmpr(path("id"), filter.Eq, "ID"),
			"users.id = ?", []any{"ID"}},
		{"displayName uses its folded column",
			cmpr(path("displayName"), filter.Eq, "Bob"),
			"users.display_name_fold = ?", []any{"bob"}},
		{"other strings come from the document, folded in SQL",
			cmpr(sub("name", "familyName"), filter.Eq, "Smith"),
			`scim_fold(json_extract(users.doc, ?)) = ?`, []any{`$."name"."familyName"`, "smith"}},
		{"extension attributes are under their URN",
			cmpr(filter.Path{URN: schema.EnterpriseURN, Attr: "department"}, filter.Eq, "Sales"),
			`scim_fold(json_extract(users.doc, ?)) = ?`, []any{entPath(`"department"`), "sales"}},
		{"a case-exact extension sub-attribute is not folded",
			cmpr(filter.Path{URN: schema.EnterpriseURN, Attr: "manager", Sub: "value"}, filter.Eq, "M-1"),
			`json_extract(users.doc, ?) = ?`, []any{entPath(`"manager"."value"`), "M-1"}},
		{"a URN left in the attribute name is split",
			cmpr(path(schema.EnterpriseURN+":department"), filter.Eq, "x"),
			`scim_fold(json_extract(users.doc, ?)) = ?`, []any{entPath(`"department"`), "x"}},
		{"ne is true when the attribute is absent",
			cmpr(path("title"), filter.Ne, "x"),
			`scim_fold(json_extract(users.doc, ?)) IS DISTINCT FROM ?`, []any{`$."title"`, "x"}},
		{"not eq is ne",
			&filter.Not{X: cmpr(path("title"), filter.Eq, "x")},
			`scim_fold(json_extract(users.doc, ?)) IS DISTINCT FROM ?`, []any{`$."title"`, "x"}},
		{"not ne is eq",
			&filter.Not{X: cmpr(path("externalId"), filter.Ne, "x")},
			`users.external_id = ?`, []any{"x"}},
		{"not of an ordering is true on NULL",
			&filter.Not{X: cmpr(path("userName"), filter.Gt, "m")},
			`(users.user_name_fold > ?) IS NOT TRUE`, []any{"m"}},
		{"sw is a range an index serves",
			cmpr(path("userName"), filter.Sw, "Jo"),
			`(users.user_name_fold >= ?) AND (users.user_name_fold < ?)`, []any{"jo", "jp"}},
		{"co is instr, so % and _ are plain characters",
			cmpr(path("externalId"), filter.Co, "50%_"),
			`instr(users.external_id, ?) > 0`, []any{"50%_"}},
		{"ew compares the tail, counted in characters",
			cmpr(path("externalId"), filter.Ew, "é1"),
			`substr(users.external_id, -?) = ?`, []any{2, "é1"}},
		{"ew with an empty string matches any value",
			cmpr(path("externalId"), filter.Ew, ""),
			`users.external_id IS NOT NULL`, nil},
		{"gt, ge, lt, le",
			&filter.And{Left: cmpr(path("userName"), filter.Ge, "a"), Right: cmpr(path("userName"), filter.Lt, "b")},
			`(users.user_name_fold >= ?) AND (users.user_name_fold < ?)`, []any{"a", "b"}},
		{"pr is not NULL and not empty",
			&filter.Present{Path: path("title")},
			`(json_extract(users.doc, ?) IS NOT NULL AND json_extract(users.doc, ?) <> '')`, []any{`$."title"`, `$."title"`}},
		{"not pr",
			&filter.Not{X: &filter.Present{Path: path("externalId")}},
			`NOT ((users.external_id IS NOT NULL AND users.external_id <> ''))`, nil},
		{"eq null is absent",
			cmpr(path("externalId"), filter.Eq, nil),
			`NOT ((users.external_id IS NOT NULL AND users.external_id <> ''))`, nil},
		{"a complex attribute is present when it has a non-empty member",
			&filter.Present{Path: path("name")},
			`EXISTS (SELECT 1 FROM json_each(users.doc, ?) WHERE value IS NOT NULL AND value <> '')`, []any{`$."name"`}},
		{"booleans",
			cmpr(path("active"), filter.Eq, false),
			`users.active = ?`, []any{false}},
		{"booleans ne",
			cmpr(path("active"), filter.Ne, true),
			`users.active IS DISTINCT FROM ?`, []any{true}},
		{"meta.created is an integer column",
			cmpr(sub("meta", "created"), filter.Gt, "2024-05-06T09:08:09+02:00"),
			`users.created > ?`, []any{created.UnixNano()}},
		{"meta.lastModified",
			cmpr(sub("meta", "lastModified"), filter.Le, "2024-05-06T07:08:09Z"),
			`users.modified <= ?`, []any{created.UnixNano()}},
		{"meta.resourceType is a constant",
			cmpr(sub("meta", "resourceType"), filter.Eq, "User"),
			`TRUE`, nil},
		{"and folds constants",
			&filter.And{Left: cmpr(sub("meta", "resourceType"), filter.Eq, "User"), Right: cmpr(path("id"), filter.Eq, "x")},
			`users.id = ?`, []any{"x"}},
		{"or folds constants",
			&filter.Or{Left: cmpr(sub("meta", "resourceType"), filter.Ne, "User"), Right: cmpr(path("id"), filter.Eq, "x")},
			`users.id = ?`, []any{"x"}},
		{"De Morgan",
			&filter.Not{X: &filter.Or{Left: cmpr(path("id"), filter.Eq, "a"), Right: cmpr(path("userName"), filter.Sw, "b")}},
			`(users.id IS DISTINCT FROM ?) AND (((users.user_name_fold >= ?) AND (users.user_name_fold < ?)) IS NOT TRUE)`, []any{"a", "b", "c"}},
		{"Entra's emails[type eq \"work\"].value eq: one element, through the index",
			&filter.ValuePath{Path: path("emails"), Filter: &filter.And{
				Left:  cmpr(path("type"), filter.Eq, "work"),
				Right: cmpr(path("value"), filter.Eq, "Alice@Example.com")}},
			`users.seq IN (SELECT e.user_seq FROM user_emails e WHERE e.tenant_id = ? AND ((scim_fold(e.type) = ?) AND (e.value_fold = ?)))`,
			[]any{tenant, "work", "alice@example.com"}},
		{"a path with a value filter is a value path",
			cmpr(filter.Path{Attr: "emails", Filter: cmpr(path("type"), filter.Eq, "work"), Sub: "value"}, filter.Eq, "x"),
			`users.seq IN (SELECT e.user_seq FROM user_emails e WHERE e.tenant_id = ? AND ((scim_fold(e.type) = ?) AND (e.value_fold = ?)))`,
			[]any{tenant, "work", "x"}},
		{"emails.value eq",
			cmpr(sub("emails", "value"), filter.Eq, "x"),
			`users.seq IN (SELECT e.user_seq FROM user_emails e WHERE e.tenant_id = ? AND (e.value_fold = ?))`, []any{tenant, "x"}},
		{"emails eq compares value",
			cmpr(path("emails"), filter.Co, "X"),
			`users.seq IN (SELECT e.user_seq FROM user_emails e WHERE e.tenant_id = ? AND (instr(e.value_fold, ?) > 0))`, []any{tenant, "x"}},
		{"emails pr",
			&filter.Present{Path: path("emails")},
			`users.seq IN (SELECT e.user_seq FROM user_emails e WHERE e.tenant_id = ?)`, []any{tenant}},
		{"not of a value path",
			&filter.Not{X: &filter.ValuePath{Path: path("emails"), Filter: cmpr(path("primary"), filter.Eq, true)}},
			`NOT (users.seq IN (SELECT e.user_seq FROM user_emails e WHERE e.tenant_id = ? AND (e.is_primary = ?)))`, []any{tenant, true}},
		{"not inside a value path applies to the element",
			&filter.ValuePath{Path: path("emails"), Filter: &filter.Not{X: cmpr(path("type"), filter.Eq, "work")}},
			`users.seq IN (SELECT e.user_seq FROM user_emails e WHERE e.tenant_id = ? AND (scim_fold(e.type) IS DISTINCT FROM ?))`, []any{tenant, "work"}},
		{"other multi-valued attributes: json_each, one element",
			&filter.ValuePath{Path: path("phoneNumbers"), Filter: &filter.And{
				Left:  cmpr(path("type"), filter.Eq, "work"),
				Right: cmpr(path("value"), filter.Eq, "+1")}},
			`EXISTS (SELECT 1 FROM json_each(users.doc, ?) j WHERE TRUE AND ((scim_fold(json_extract(j.value, ?)) = ?) AND (scim_fold(json_extract(j.value, ?)) = ?)))`,
			[]any{`$."phoneNumbers"`, `$."type"`, "work", `$."value"`, "+1"}},
		{"a value filter on a single complex attribute",
			&filter.ValuePath{Path: path("name"), Filter: cmpr(path("givenName"), filter.Eq, "A")},
			`scim_fold(json_extract(users.doc, ?)) = ?`, []any{`$."name"."givenName"`, "a"}},
		{"schemas eq the extension: the document has it",
			cmpr(path("schemas"), filter.Eq, schema.EnterpriseURN),
			`json_type(users.doc, ?) IS NOT NULL`, []any{`$."` + schema.EnterpriseURN + `"`}},
		{"schemas eq core",
			cmpr(path("schemas"), filter.Eq, schema.UserURN),
			`TRUE`, nil},
		{"a value filter on what is not a sub-attribute",
			&filter.ValuePath{Path: path("emails"), Filter: cmpr(sub("meta", "resourceType"), filter.Eq, "Group")},
			"", nil}, // an error
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := compileFilter(schema.UserType, tc.e, tenant)
			if tc.wantSQL == "" {
				if err == nil {
					t.Fatalf("compiled to %q, want an error", got.SQL)
				}
				return
			}
			if err != nil {
				t.Fatalf("compileFilter: %v", err)
			}
			if got.SQL != tc.wantSQL {
				t.Errorf("SQL\n got %s\nwant %s", got.SQL, tc.wantSQL)
			}
			if diff := cmp.Diff(tc.wantArgs, got.Args, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("args (-want +got):\n%s", diff)
			}
			if n := strings.Count(got.SQL, "?"); n != len(got.Args) {
				t.Errorf("%d placeholders, %d args", n, len(got.Args))
			}
		})
	}
}

func TestCompileFilterErrors(t *testing.T) {
	deep := filter.Expr(cmpr(path("id"), filter.Eq, "x"))
	for range 200 {
		deep = &filter.Not{X: deep}
	}
	// A balanced tree: shallow, but with more arguments than allowed.
	var wide func(n int) filter.Expr
	wide = func(n int) filter.Expr {
		if n == 1 {
			return cmpr(path("externalId"), filter.Eq, "x")
		}
		return &filter.Or{Left: wide(n / 2), Right: wide(n - n/2)}
	}
	for _, tc := range []struct {
		name string
		e    filter.Expr
		want string // in the message
	}{
		{"unknown attribute", cmpr(path("foo"), filter.Eq, "x"), `"foo"`},
		{"unknown sub-attribute", cmpr(sub("name", "foo"), filter.Eq, "x"), `"name.foo"`},
		{"unknown extension attribute", cmpr(filter.Path{URN: schema.EnterpriseURN, Attr: "foo"}, filter.Eq, "x"), "foo"},
		{"unknown schema", cmpr(filter.Path{URN: "urn:example:x", Attr: "foo"}, filter.Eq, "x"), "schema"},
		{"unknown attribute in a value filter", &filter.ValuePath{Path: path("emails"), Filter: cmpr(path("foo"), filter.Eq, "x")}, `"emails.foo"`},
		{"nested value filters", &filter.ValuePath{Path: path("emails"), Filter: &filter.ValuePath{Path: path("value"), Filter: cmpr(path("x"), filter.Eq, "x")}}, "nested"},
		{"password", cmpr(path("password"), filter.Eq, "x"), "password"},
		{"groups", cmpr(sub("groups", "value"), filter.Eq, "x"), "groups"},
		{"boolean with a string", cmpr(path("active"), filter.Eq, "true"), "boolean"},
		{"boolean ordered", cmpr(path("active"), filter.Gt, true), "boolean"},
		{"string with a number", cmpr(path("userName"), filter.Eq, filter.Number("1")), "string"},
		{"string with a boolean", cmpr(path("userName"), filter.Eq, true), "string"},
		{"bad time", cmpr(sub("meta", "created"), filter.Gt, "yesterday"), "RFC 3339"},
		{"time with co", cmpr(sub("meta", "created"), filter.Co, "2024-01-01T00:00:00Z"), "co"},
		{"meta.location", cmpr(sub("meta", "location"), filter.Eq, "x"), "cannot be filtered"},
		{"complex compared", cmpr(path("name"), filter.Eq, "x"), "complex"},
		{"null ordered", cmpr(path("title"), filter.Gt, nil), "null"},
		{"schemas co", cmpr(path("schemas"), filter.Co, "x"), "schemas"},
		{"nil", nil, "empty"},
		{"too deep", deep, "deeply"},
		{"too many arguments", wide(1500), "complex"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := compileFilter(schema.UserType, tc.e, tenant)
			var fe *store.FilterError
			if !errors.As(err, &fe) {
				t.Fatalf("got %v (%T), want a *store.FilterError", err, err)
			}
			if !strings.Contains(fe.Msg, tc.want) {
				t.Errorf("message %q does not mention %q", fe.Msg, tc.want)
			}
		})
	}
}

// TestCompileFilterParameterises checks that no literal reaches the SQL
// text.
func TestCompileFilterParameterises(t *testing.T) {
	const evil = `x') OR 1=1; DROP TABLE users; --"`
	for _, p := range []filter.Path{path("userName"), path("title"), sub("emails", "value"), sub("phoneNumbers", "type"),
		{URN: schema.EnterpriseURN, Attr: "department"}, path("externalId")} {
		for _, op := range []filter.Op{filter.Eq, filter.Ne, filter.Co, filter.Sw, filter.Ew, filter.Gt, filter.Le} {
			c, err := compileFilter(schema.UserType, cmpr(p, op, evil), tenant)
			if err != nil {
				t.Fatalf("%v %s: %v", p, op, err)
			}
			if strings.Contains(c.SQL, "DROP") || strings.Contains(c.SQL, "1=1") {
				t.Errorf("%v %s: literal in SQL: %s", p, op, c.SQL)
			}
		}
	}
}

func TestCompileSort(t *testing.T) {
	for _, tc := range []struct {
		sortBy   string
		desc     bool
		wantSQL  string
		wantArgs []any
	}{
		{"", false, "users.seq", nil},
		{"", true, "users.seq", nil},
		{"userName", false, "users.user_name_fold ASC, users.seq ASC", nil},
		{"userName", true, "users.user_name_fold DESC, users.seq DESC", nil},
		{"meta.created", false, "users.created ASC, users.seq ASC", nil},
		{"externalId", false, "users.external_id ASC NULLS LAST, users.seq ASC", nil},
		{"displayName", true, "users.display_name_fold DESC NULLS FIRST, users.seq DESC", nil},
		{"title", false, `scim_fold(json_extract(users.doc, ?)) ASC NULLS LAST, users.seq ASC`, []any{`$."title"`}},
		{schema.EnterpriseURN + ":manager.value", false, `json_extract(users.doc, ?) ASC NULLS LAST, users.seq ASC`,
			[]any{`$."` + schema.EnterpriseURN + `"."manager"."value"`}},
		{"emails", false, "(SELECT e.value_fold FROM user_emails e WHERE e.user_seq = users.seq ORDER BY e.is_primary IS TRUE DESC, e.pos LIMIT 1) ASC NULLS LAST, users.seq ASC", nil},
		{"phoneNumbers", false, `(SELECT scim_fold(json_extract(j.value, ?)) FROM json_each(users.doc, ?) j ORDER BY json_extract(j.value, ?) IS TRUE DESC, j.key LIMIT 1) ASC NULLS LAST, users.seq ASC`,
			[]any{`$."value"`, `$."phoneNumbers"`, `$."primary"`}},
		{"meta.resourceType", false, "users.seq", nil},
	} {
		got, err := compileSort(schema.UserType, tc.sortBy, tc.desc)
		if err != nil {
			t.Errorf("compileSort(%q): %v", tc.sortBy, err)
			continue
		}
		if got.SQL != tc.wantSQL {
			t.Errorf("compileSort(%q, %v)\n got %s\nwant %s", tc.sortBy, tc.desc, got.SQL, tc.wantSQL)
		}
		if diff := cmp.Diff(tc.wantArgs, got.Args, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("compileSort(%q) args (-want +got):\n%s", tc.sortBy, diff)
		}
	}
}

// TestCompileGroupFilter pins the SQL of group filters: the same compiler,
// driven by the groups table's columns, with members in group_members.
func TestCompileGroupFilter(t *testing.T) {
	for _, tc := range []struct {
		filter   string
		wantSQL  string
		wantArgs []any
	}{
		{`displayName eq "Engineering"`, "groups.display_name_fold = ?", []any{"engineering"}},
		{`externalId eq "X"`, "groups.external_id = ?", []any{"X"}},
		{`id eq "g"`, "groups.id = ?", []any{"g"}},
		{`meta.lastModified gt "2024-05-06T07:08:09Z"`, "groups.modified > ?", []any{time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC).UnixNano()}},
		{`meta.resourceType eq "Group"`, "TRUE", nil},
		{`meta.resourceType eq "User"`, "FALSE", nil},
		{`members[value eq "u-1"]`,
			"groups.seq IN (SELECT m.group_seq FROM group_members m WHERE m.tenant_id = ? AND (m.member_id = ?))", []any{tenant, "u-1"}},
		{`members.value eq "u-1"`,
			"groups.seq IN (SELECT m.group_seq FROM group_members m WHERE m.tenant_id = ? AND (m.member_id = ?))", []any{tenant, "u-1"}},
		{`members eq "u-1"`,
			"groups.seq IN (SELECT m.group_seq FROM group_members m WHERE m.tenant_id = ? AND (m.member_id = ?))", []any{tenant, "u-1"}},
		{`members[value eq "a" or value eq "b"]`,
			"groups.seq IN (SELECT m.group_seq FROM group_members m WHERE m.tenant_id = ? AND ((m.member_id = ?) OR (m.member_id = ?)))", []any{tenant, "a", "b"}},
		{`members[value eq "a" and type eq "user"]`,
			"groups.seq IN (SELECT m.group_seq FROM group_members m WHERE m.tenant_id = ? AND ((m.member_id = ?) AND (" + memberType + " = ?)))", []any{tenant, "a", "user"}},
		{`members[value eq "a" or type eq "Group"]`,
			"EXISTS (SELECT 1 FROM group_members m WHERE m.group_seq = groups.seq AND ((m.member_id = ?) OR (" + memberType + " = ?)))", []any{"a", "group"}},
		{`members[value ne "a"]`,
			"EXISTS (SELECT 1 FROM group_members m WHERE m.group_seq = groups.seq AND (m.member_id IS DISTINCT FROM ?))", []any{"a"}},
		{`members pr`, "EXISTS (SELECT 1 FROM group_members m WHERE m.group_seq = groups.seq)", nil},
		{`not (members pr)`, "NOT (EXISTS (SELECT 1 FROM group_members m WHERE m.group_seq = groups.seq))", nil},
		{`not (members[value eq "u-1"])`,
			"NOT (groups.seq IN (SELECT m.group_seq FROM group_members m WHERE m.tenant_id = ? AND (m.member_id = ?)))", []any{tenant, "u-1"}},
		{`members[display eq "Alice"]`,
			"EXISTS (SELECT 1 FROM group_members m WHERE m.group_seq = groups.seq AND (" + display + " = ?))", []any{"alice"}},
	} {
		t.Run(tc.filter, func(t *testing.T) {
			e, err := filter.Parse(tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			got, err := compileFilter(schema.GroupType, e, tenant)
			if err != nil {
				t.Fatalf("compileFilter: %v", err)
			}
			if got.SQL != tc.wantSQL {
				t.Errorf("SQL\n got %s\nwant %s", got.SQL, tc.wantSQL)
			}
			if diff := cmp.Diff(tc.wantArgs, got.Args, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("args (-want +got):\n%s", diff)
			}
		})
	}
	for _, f := range []string{`userName eq "x"`, `members[$ref eq "x"]`, `members[foo eq "x"]`, `emails pr`, `groups pr`} {
		e, err := filter.Parse(f)
		if err != nil {
			t.Fatal(err)
		}
		var fe *store.FilterError
		if _, err := compileFilter(schema.GroupType, e, tenant); !errors.As(err, &fe) {
			t.Errorf("%s: got %v, want a *store.FilterError", f, err)
		}
	}
}

// TestCompileMemberFilter pins the filters of RemoveMembersWhere, over one
// group_members row.
func TestCompileMemberFilter(t *testing.T) {
	for _, tc := range []struct {
		filter   string
		wantSQL  string
		wantArgs []any
	}{
		{`value eq "u-1"`, "m.member_id = ?", []any{"u-1"}},
		{`value eq "a" or value eq "b"`, "(m.member_id = ?) OR (m.member_id = ?)", []any{"a", "b"}},
		{`type eq "User"`, memberType + " = ?", []any{"user"}},
		{`display sw "Al"`, "(" + display + " >= ?) AND (" + display + " < ?)", []any{"al", "am"}},
	} {
		e, err := filter.Parse(tc.filter)
		if err != nil {
			t.Fatal(err)
		}
		got, err := compileMemberFilter(e, tenant)
		if err != nil {
			t.Fatalf("%s: %v", tc.filter, err)
		}
		if got.SQL != tc.wantSQL {
			t.Errorf("%s: SQL\n got %s\nwant %s", tc.filter, got.SQL, tc.wantSQL)
		}
		if diff := cmp.Diff(tc.wantArgs, got.Args, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: args (-want +got):\n%s", tc.filter, diff)
		}
	}
	for _, f := range []string{`foo eq "x"`, `$ref eq "x"`, `members[value eq "x"]`, `userName eq "x"`} {
		e, err := filter.Parse(f)
		if err != nil {
			t.Fatal(err)
		}
		var fe *store.FilterError
		if _, err := compileMemberFilter(e, tenant); !errors.As(err, &fe) {
			t.Errorf("%s: got %v, want a *store.FilterError", f, err)
		}
	}
}

// TestKeyset pins the keyset conditions of cursor paging, and the keys they
// read and bind.
func TestKeyset(t *testing.T) {
	for _, tc := range []struct {
		sortBy   string
		desc     bool
		key      any
		wantSQL  string
		wantArgs []any
	}{
		{"", false, nil, "users.seq > ?", []any{int64(9)}},
		{"userName", false, "bob", "(users.user_name_fold >= ?) AND ((users.user_name_fold > ?) OR (users.seq > ?))", []any{"bob", "bob", int64(9)}},
		{"userName", true, "bob", "(users.user_name_fold <= ?) AND ((users.user_name_fold < ?) OR (users.seq < ?))", []any{"bob", "bob", int64(9)}},
		{"displayName", false, "bob",
			"((users.display_name_fold >= ?) AND ((users.display_name_fold > ?) OR (users.seq > ?))) OR (users.display_name_fold IS NULL)",
			[]any{"bob", "bob", int64(9)}},
		{"displayName", false, nil, "(users.display_name_fold IS NULL) AND (users.seq > ?)", []any{int64(9)}},
		{"displayName", true, nil,
			"((users.display_name_fold IS NULL) AND (users.seq < ?)) OR (users.display_name_fold IS NOT NULL)", []any{int64(9)}},
		{"displayName", true, "bob", "(users.display_name_fold <= ?) AND ((users.display_name_fold < ?) OR (users.seq < ?))", []any{"bob", "bob", int64(9)}},
		{"meta.created", false, "2024-05-06T07:08:09.5Z", "(users.created >= ?) AND ((users.created > ?) OR (users.seq > ?))",
			[]any{int64(1714979289500000000), int64(1714979289500000000), int64(9)}},
		{"active", false, true, "(users.active >= ?) AND ((users.active > ?) OR (users.seq > ?))", []any{true, true, int64(9)}},
		{"title", false, "m", `((scim_fold(json_extract(users.doc, ?)) >= ?) AND ((scim_fold(json_extract(users.doc, ?)) > ?) OR (users.seq > ?))) OR (scim_fold(json_extract(users.doc, ?)) IS NULL)`,
			[]any{`$."title"`, "m", `$."title"`, "m", int64(9), `$."title"`}},
	} {
		o, err := compileSort(schema.UserType, tc.sortBy, tc.desc)
		if err != nil {
			t.Fatal(err)
		}
		got, err := o.After(&store.Position{Seq: 9, Key: tc.key})
		if err != nil {
			t.Fatalf("%s: %v", tc.sortBy, err)
		}
		if got.SQL != tc.wantSQL {
			t.Errorf("%s desc %v key %v:\n got %s\nwant %s", tc.sortBy, tc.desc, tc.key, got.SQL, tc.wantSQL)
		}
		if diff := cmp.Diff(tc.wantArgs, got.Args, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s desc %v key %v: args (-want +got):\n%s", tc.sortBy, tc.desc, tc.key, diff)
		}
	}
	created, _ := compileSort(schema.UserType, "meta.created", false)
	if k := created.ReadKey(int64(1714979289500000000)); k != "2024-05-06T07:08:09.5Z" {
		t.Errorf("time key read as %v", k)
	}
	if _, err := created.After(&store.Position{Seq: 1, Key: "yesterday"}); err == nil {
		t.Errorf("a time key that is not a time was accepted")
	}
	active, _ := compileSort(schema.UserType, "active", false)
	if k := active.ReadKey(int64(1)); k != true {
		t.Errorf("boolean key read as %v", k)
	}
	title, _ := compileSort(schema.UserType, "title", false)
	for in, want := range map[any]any{int64(3): 3.0, 2.5: 2.5, "x": "x", nil: nil} {
		if k := title.ReadKey(in); k != want {
			t.Errorf("readKey(%v) = %v, want %v", in, k, want)
		}
	}
	for _, k := range []any{[]int{1}, 3.0, true} {
		if _, err := title.After(&store.Position{Key: k}); err == nil {
			t.Errorf("a key of the wrong type (%T) was accepted for a text sort", k)
		}
	}
}

func TestCompileGroupSort(t *testing.T) {
	for _, tc := range []struct {
		sortBy  string
		wantSQL string
	}{
		{"", "groups.seq"},
		{"displayName", "groups.display_name_fold ASC NULLS LAST, groups.seq ASC"},
		{"meta.created", "groups.created ASC, groups.seq ASC"},
		{"id", "groups.id ASC, groups.seq ASC"},
	} {
		got, err := compileSort(schema.GroupType, tc.sortBy, false)
		if err != nil {
			t.Errorf("compileSort(%q): %v", tc.sortBy, err)
			continue
		}
		if got.SQL != tc.wantSQL {
			t.Errorf("compileSort(%q)\n got %s\nwant %s", tc.sortBy, got.SQL, tc.wantSQL)
		}
	}
	for _, sortBy := range []string{"members", "members.value", "members.display", "userName"} {
		if _, err := compileSort(schema.GroupType, sortBy, false); err == nil {
			t.Errorf("compileSort(%q) succeeded", sortBy)
		}
	}
}
