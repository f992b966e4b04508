package filter

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type pathCase struct {
	name      string
	in        string
	want      Path
	canonical string // expected String(); empty means in
}

// validPaths is shared with the fuzz seeds.
var validPaths = []pathCase{
	// RFC 7644 §3.5.2 examples.
	{name: "members value filter", in: `members[value eq "2819c223-7f76-453a-919d-413861904646"]`,
		want: Path{Attr: "members", Filter: eq("value", "2819c223-7f76-453a-919d-413861904646")}},
	{name: "members value filter sub-attribute", in: `members[value eq "2819c223-7f76-453a-919d-413861904646"].displayName`,
		want: Path{Attr: "members", Filter: eq("value", "2819c223-7f76-453a-919d-413861904646"), Sub: "displayName"}},
	{name: "emails work value", in: `emails[type eq "work"].value`,
		want: Path{Attr: "emails", Filter: eq("type", "work"), Sub: "value"}},
	{name: "sub-attribute", in: `name.familyName`, want: sub("name", "familyName")},
	{name: "enterprise attribute", in: `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber`,
		want: urn(enterpriseUser, "employeeNumber", "")},
	{name: "enterprise sub-attribute", in: `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`,
		want: urn(enterpriseUser, "manager", "value")},
	{name: "addresses street", in: `addresses[type eq "work"].streetAddress`,
		want: Path{Attr: "addresses", Filter: eq("type", "work"), Sub: "streetAddress"}},
	{name: "members complex filter", in: `members[value eq "1" or value eq "2"]`,
		want: Path{Attr: "members", Filter: or(eq("value", "1"), eq("value", "2"))}},
	{name: "emails and filter", in: `emails[type eq "work" and primary eq true].display`,
		want: Path{Attr: "emails", Filter: and(eq("type", "work"), eq("primary", true)), Sub: "display"}},

	// Other forms.
	{name: "attribute", in: `userName`, want: attr("userName")},
	{name: "core urn", in: `urn:ietf:params:scim:schemas:core:2.0:User:userName`, want: urn(coreUser, "userName", "")},
	{name: "urn with value filter", in: `urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work"].value`,
		want: Path{URN: coreUser, Attr: "emails", Filter: eq("type", "work"), Sub: "value"}},
	{name: "group urn members", in: `urn:ietf:params:scim:schemas:core:2.0:Group:members`,
		want: urn("urn:ietf:params:scim:schemas:core:2.0:Group", "members", "")},
	{name: "meta", in: `meta.lastModified`, want: sub("meta", "lastModified")},
	{name: "$ref", in: `members.$ref`, want: sub("members", "$ref")},
	{name: "case kept", in: `NAME.GivenName`, want: sub("NAME", "GivenName")},
	{name: "surrounding space", in: "  emails \t", want: attr("emails"), canonical: `emails`},
	{name: "canonical filter", in: `emails[ type  EQ "work" ].value`,
		want: Path{Attr: "emails", Filter: eq("type", "work"), Sub: "value"}, canonical: `emails[type eq "work"].value`},
	{name: "not in filter", in: `emails[not (type eq "work")]`, want: Path{Attr: "emails", Filter: not(eq("type", "work"))}},
	{name: "pr in filter", in: `emails[primary pr]`, want: Path{Attr: "emails", Filter: pr(attr("primary"))}},
}

func TestParsePath(t *testing.T) {
	for _, tc := range validPaths {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePath(tc.in)
			if err != nil {
				t.Fatalf("ParsePath(%q): %v", tc.in, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParsePath(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
			canonical := tc.canonical
			if canonical == "" {
				canonical = tc.in
			}
			s := got.String()
			if s != canonical {
				t.Errorf("String() = %q, want %q", s, canonical)
			}
			again, err := ParsePath(s)
			if err != nil {
				t.Fatalf("ParsePath(%q) (from String()): %v", s, err)
			}
			if diff := cmp.Diff(got, again); diff != "" {
				t.Errorf("ParsePath(String()) differs (-orig +reparsed):\n%s", diff)
			}
		})
	}
}

// invalidPaths is shared with the fuzz seeds.
var invalidPaths = []errorCase{
	{"empty", ``, `path is empty`},
	{"blank", `   `, `path is empty`},
	{"unclosed bracket", `members[`, `expected an attribute name, "not" or "(" at offset 8 (end of path)`},
	{"unclosed filter", `members[value eq "x"`, `expected "]" to close the "[" at offset 7, found end of path at offset 20`},
	{"trailing text", `members[value eq "x"]extra`, `unexpected "extra" after the attribute path at offset 21`},
	{"double dot", `a..b`, `expected an attribute name after "." at offset 2`},
	{"leading digit", `1abc`, `attribute name "1abc" must start with a letter at offset 0`},
	{"missing value", `emails[type eq]`, `expected a value (a "string", number, true, false or null) after "eq" at offset 14`},
	{"two sub-attributes", `name.givenName.x`, `only one level of sub-attribute is allowed at offset 14`},
	{"trailing dot", `name.`, `expected an attribute name after "." at offset 5 (end of path)`},
	{"dot after filter only", `emails[type eq "work"].`, `expected an attribute name after "." at offset 23 (end of path)`},
	{"two subs after filter", `emails[type eq "work"].value.x`, `invalid character "." in attribute name at offset 28`},
	{"filter after sub-attribute", `name.givenName[value pr]`, `a value filter must follow the attribute name, not the sub-attribute "givenName" at offset 14`},
	{"empty filter", `emails[]`, `expected an attribute name, "not" or "(", found "]" at offset 7`},
	{"nested filter", `emails[type[value pr]]`, `value filters cannot be nested`},
	{"filter on a filter", `emails[type eq "work"][value pr]`, `unexpected "[" after the attribute path at offset 22`},
	{"filter sub in brackets", `emails[type.x eq "work"]`, `sub-attributes are not allowed inside a value filter at offset 11`},
	{"expression", `userName eq "x"`, `unexpected "eq" after the attribute path at offset 9`},
	{"space inside", `name. givenName`, `expected an attribute name after "." at offset 5`},
	{"invalid character", `user@name`, `invalid character "@" in attribute name at offset 4`},
	{"bracket only", `[type eq "work"]`, `expected an attribute name, found "[" at offset 0`},
	{"urn only prefix", `urn:ietf:`, `invalid schema URN "urn:ietf"`},
	{"urn without attribute", `urn:ietf:params:scim:schemas:core:2.0:User:`, `expected an attribute name at offset 43 (end of path)`},
	{"quote", `"userName"`, `expected an attribute name, found "\"" at offset 0`},
	{"paren", `(userName)`, `expected an attribute name, found "(" at offset 0`},
	{"invalid utf-8", "user\xc3Name", `invalid UTF-8 in path at offset 4`},
	{"too long", strings.Repeat("a", MaxLength+1), `path is too long: 8193 bytes, the limit is 8192`},
	{"too deep", "e[" + strings.Repeat("(", MaxDepth) + "a pr" + strings.Repeat(")", MaxDepth) + "]", `path is nested too deeply (the limit is 64 levels)`},
}

func TestParsePathErrors(t *testing.T) {
	for _, tc := range invalidPaths {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParsePath(tc.in)
			if err == nil {
				t.Fatalf("ParsePath(%q) = %v, want error containing %q", tc.in, p, tc.want)
			}
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("ParsePath(%q) error %T is not *Error", tc.in, err)
			}
			if !strings.Contains(perr.Msg, tc.want) {
				t.Errorf("ParsePath(%q) error = %q, want it to contain %q", tc.in, perr.Msg, tc.want)
			}
			if diff := cmp.Diff(Path{}, p); diff != "" {
				t.Errorf("ParsePath(%q) returned a non-zero Path with an error:\n%s", tc.in, diff)
			}
		})
	}
}
