package filter

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	coreUser       = "urn:ietf:params:scim:schemas:core:2.0:User"
	enterpriseUser = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
)

// Helpers that keep the expected trees readable.
func attr(name string) Path              { return Path{Attr: name} }
func sub(name, s string) Path            { return Path{Attr: name, Sub: s} }
func urn(u, name, s string) Path         { return Path{URN: u, Attr: name, Sub: s} }
func cmpx(p Path, op Op, v any) *Compare { return &Compare{Path: p, Op: op, Value: v} }
func eq(name string, v any) *Compare     { return cmpx(attr(name), Eq, v) }
func pr(p Path) *Present                 { return &Present{Path: p} }
func and(l, r Expr) *And                 { return &And{Left: l, Right: r} }
func or(l, r Expr) *Or                   { return &Or{Left: l, Right: r} }
func not(x Expr) *Not                    { return &Not{X: x} }
func vp(p Path, f Expr) *ValuePath       { return &ValuePath{Path: p, Filter: f} }

type parseCase struct {
	name string
	in   string
	want Expr
	// canonical is the expected String() of the result; empty means in.
	canonical string
}

// validFilters is shared with the fuzz seeds.
var validFilters = []parseCase{
	// RFC 7644 §3.4.2.2, every example.
	{name: "rfc eq", in: `userName eq "bjensen"`, want: eq("userName", "bjensen")},
	{name: "rfc co sub-attribute", in: `name.familyName co "O'Malley"`, want: cmpx(sub("name", "familyName"), Co, "O'Malley")},
	{name: "rfc sw", in: `userName sw "J"`, want: cmpx(attr("userName"), Sw, "J")},
	{name: "rfc urn sw", in: `urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`, want: cmpx(urn(coreUser, "userName", ""), Sw, "J")},
	{name: "rfc pr", in: `title pr`, want: pr(attr("title"))},
	{name: "rfc gt date", in: `meta.lastModified gt "2011-05-13T04:42:34Z"`, want: cmpx(sub("meta", "lastModified"), Gt, "2011-05-13T04:42:34Z")},
	{name: "rfc ge date", in: `meta.lastModified ge "2011-05-13T04:42:34Z"`, want: cmpx(sub("meta", "lastModified"), Ge, "2011-05-13T04:42:34Z")},
	{name: "rfc lt date", in: `meta.lastModified lt "2011-05-13T04:42:34Z"`, want: cmpx(sub("meta", "lastModified"), Lt, "2011-05-13T04:42:34Z")},
	{name: "rfc le date", in: `meta.lastModified le "2011-05-13T04:42:34Z"`, want: cmpx(sub("meta", "lastModified"), Le, "2011-05-13T04:42:34Z")},
	{name: "rfc pr and eq", in: `title pr and userType eq "Employee"`, want: and(pr(attr("title")), eq("userType", "Employee"))},
	{name: "rfc pr or eq", in: `title pr or userType eq "Intern"`, want: or(pr(attr("title")), eq("userType", "Intern"))},
	{name: "rfc schemas eq urn", in: `schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`, want: eq("schemas", enterpriseUser)},
	{
		name: "rfc and grouped or",
		in:   `userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`,
		want: and(eq("userType", "Employee"), or(cmpx(attr("emails"), Co, "example.com"), cmpx(sub("emails", "value"), Co, "example.org"))),
	},
	{
		name: "rfc ne and not",
		in:   `userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`,
		want: and(cmpx(attr("userType"), Ne, "Employee"), not(or(cmpx(attr("emails"), Co, "example.com"), cmpx(sub("emails", "value"), Co, "example.org")))),
	},
	{
		name:      "rfc redundant parens",
		in:        `userType eq "Employee" and (emails.type eq "work")`,
		want:      and(eq("userType", "Employee"), cmpx(sub("emails", "type"), Eq, "work")),
		canonical: `userType eq "Employee" and emails.type eq "work"`,
	},
	{
		name: "rfc value path",
		in:   `userType eq "Employee" and emails[type eq "work" and value co "@example.com"]`,
		want: and(eq("userType", "Employee"), vp(attr("emails"), and(eq("type", "work"), cmpx(attr("value"), Co, "@example.com")))),
	},
	{
		name: "rfc two value paths",
		in:   `emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`,
		want: or(
			vp(attr("emails"), and(eq("type", "work"), cmpx(attr("value"), Co, "@example.com"))),
			vp(attr("ims"), and(eq("type", "xmpp"), cmpx(attr("value"), Co, "@foo.com"))),
		),
	},

	// What Okta and Entra ID send.
	{name: "okta userName", in: `userName eq "test.user@okta.local"`, want: eq("userName", "test.user@okta.local")},
	{name: "entra externalId", in: `externalId eq "2d8c0a3f-7b4e-4f5a-9c1d-6e2b8a9f0c11"`, want: eq("externalId", "2d8c0a3f-7b4e-4f5a-9c1d-6e2b8a9f0c11")},
	{
		name:      "entra value path with sub-attribute",
		in:        `emails[type eq "work"].value eq "user@contoso.com"`,
		want:      vp(attr("emails"), and(eq("type", "work"), eq("value", "user@contoso.com"))),
		canonical: `emails[type eq "work" and value eq "user@contoso.com"]`,
	},
	{
		name:      "value path with sub-attribute pr",
		in:        `emails[type eq "work"].value pr`,
		want:      vp(attr("emails"), and(eq("type", "work"), pr(attr("value")))),
		canonical: `emails[type eq "work" and value pr]`,
	},
	{
		name:      "value path with or filter and sub-attribute",
		in:        `emails[type eq "work" or type eq "home"].value co "@"`,
		want:      vp(attr("emails"), and(or(eq("type", "work"), eq("type", "home")), cmpx(attr("value"), Co, "@"))),
		canonical: `emails[(type eq "work" or type eq "home") and value co "@"]`,
	},
	{name: "entra displayName", in: `displayName eq "Test SCIMv2"`, want: eq("displayName", "Test SCIMv2")},
	{name: "entra id and manager", in: `id eq "x" and manager eq "y"`, want: and(eq("id", "x"), eq("manager", "y"))},
	{
		name: "enterprise manager value",
		in:   `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"`,
		want: cmpx(urn(enterpriseUser, "manager", "value"), Eq, "26118915-6090-4610-87e4-49d8ca9f808d"),
	},
	{
		name: "urn value path",
		in:   `urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work"]`,
		want: vp(urn(coreUser, "emails", ""), eq("type", "work")),
	},
	{
		name:      "urn value path with sub-attribute",
		in:        `urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work"].value eq "a@b.c"`,
		want:      vp(urn(coreUser, "emails", ""), and(eq("type", "work"), eq("value", "a@b.c"))),
		canonical: `urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work" and value eq "a@b.c"]`,
	},
	{name: "members value path", in: `members[value eq "2819c223-7f76-453a-919d-413861904646"]`, want: vp(attr("members"), eq("value", "2819c223-7f76-453a-919d-413861904646"))},

	// Operators, keywords and precedence.
	{name: "ne", in: `a ne "x"`, want: cmpx(attr("a"), Ne, "x")},
	{name: "ew", in: `a ew "x"`, want: cmpx(attr("a"), Ew, "x")},
	{name: "upper case operator", in: `userName EQ "x"`, want: eq("userName", "x"), canonical: `userName eq "x"`},
	{name: "mixed case keywords", in: `a Pr AND b pR Or NOT (c Sw "x")`, want: or(and(pr(attr("a")), pr(attr("b"))), not(cmpx(attr("c"), Sw, "x"))), canonical: `a pr and b pr or not (c sw "x")`},
	{name: "and binds tighter than or", in: `a pr or b pr and c pr`, want: or(pr(attr("a")), and(pr(attr("b")), pr(attr("c"))))},
	{name: "and binds tighter than or, left", in: `a pr and b pr or c pr`, want: or(and(pr(attr("a")), pr(attr("b"))), pr(attr("c")))},
	{name: "and is left-associative", in: `a pr and b pr and c pr`, want: and(and(pr(attr("a")), pr(attr("b"))), pr(attr("c")))},
	{name: "or is left-associative", in: `a pr or b pr or c pr`, want: or(or(pr(attr("a")), pr(attr("b"))), pr(attr("c")))},
	{name: "right-nested and keeps parens", in: `a pr and (b pr and c pr)`, want: and(pr(attr("a")), and(pr(attr("b")), pr(attr("c"))))},
	{name: "right-nested or keeps parens", in: `a pr or (b pr or c pr)`, want: or(pr(attr("a")), or(pr(attr("b")), pr(attr("c"))))},
	{name: "left-nested and drops parens", in: `(a pr and b pr) and c pr`, want: and(and(pr(attr("a")), pr(attr("b"))), pr(attr("c"))), canonical: `a pr and b pr and c pr`},
	{name: "or inside and", in: `(a pr or b pr) and c pr`, want: and(or(pr(attr("a")), pr(attr("b"))), pr(attr("c")))},
	{name: "not binds to its group", in: `not (a pr) and b pr`, want: and(not(pr(attr("a"))), pr(attr("b")))},
	{name: "not without space", in: `not(a pr)`, want: not(pr(attr("a"))), canonical: `not (a pr)`},
	{name: "double not", in: `not (not (a pr))`, want: not(not(pr(attr("a"))))},
	{name: "not inside value filter", in: `emails[not (type eq "work")]`, want: vp(attr("emails"), not(eq("type", "work")))},
	{name: "parens inside value filter", in: `emails[(type eq "work" or type eq "home") and primary eq true]`, want: vp(attr("emails"), and(or(eq("type", "work"), eq("type", "home")), eq("primary", true)))},
	{name: "redundant outer parens", in: `((userName eq "x"))`, want: eq("userName", "x"), canonical: `userName eq "x"`},

	// Literals.
	{name: "true", in: `active eq true`, want: eq("active", true)},
	{name: "FALSE", in: `active eq FALSE`, want: eq("active", false), canonical: `active eq false`},
	{name: "null", in: `nickName eq null`, want: eq("nickName", nil)},
	{name: "Null", in: `nickName ne Null`, want: cmpx(attr("nickName"), Ne, nil), canonical: `nickName ne null`},
	{name: "integer", in: `age gt 42`, want: cmpx(attr("age"), Gt, Number("42"))},
	{name: "zero", in: `age ge 0`, want: cmpx(attr("age"), Ge, Number("0"))},
	{name: "negative decimal exponent", in: `x lt -1.5E+3`, want: cmpx(attr("x"), Lt, Number("-1.5E+3"))},
	{name: "exponent", in: `x le 2e-10`, want: cmpx(attr("x"), Le, Number("2e-10"))},
	{name: "empty string", in: `nickName eq ""`, want: eq("nickName", "")},
	{name: "escapes", in: `a eq "q\" b\\ s\/ \b\f\n\r\t"`, want: eq("a", "q\" b\\ s/ \b\f\n\r\t"), canonical: `a eq "q\" b\\ s/ \b\f\n\r\t"`},
	{name: "unicode escape", in: `a eq "\u00e9l\u00C9"`, want: eq("a", "élÉ"), canonical: `a eq "élÉ"`},
	{name: "surrogate pair", in: `a eq "\ud83d\ude00"`, want: eq("a", "😀"), canonical: `a eq "😀"`},
	{name: "raw unicode", in: `displayName eq "Zoë 日本"`, want: eq("displayName", "Zoë 日本")},
	{name: "control escape", in: `a eq "\u0001"`, want: eq("a", "\x01")},
	{name: "parens and brackets in string", in: `a eq "(x] [y)"`, want: eq("a", "(x] [y)")},
	{name: "keywords in string", in: `a eq "b and c or not (d)"`, want: eq("a", "b and c or not (d)")},

	// Names.
	{name: "$ref", in: `members[$ref eq "https://example.com/v2/Users/1"]`, want: vp(attr("members"), eq("$ref", "https://example.com/v2/Users/1"))},
	{name: "name chars", in: `x-y_z9 pr`, want: pr(attr("x-y_z9"))},
	{name: "attribute named not", in: `not eq "x"`, want: eq("not", "x")},
	{name: "attribute named not, pr", in: `not pr`, want: pr(attr("not"))},
	{name: "attribute named and", in: `and pr and or pr`, want: and(pr(attr("and")), pr(attr("or")))},
	{name: "attribute named pr", in: `pr pr`, want: pr(attr("pr"))},
	{name: "name case kept", in: `USERNAME eq "x"`, want: eq("USERNAME", "x")},

	// White space.
	{name: "extra white space", in: " \t userName   eq\t\"x\"  and\t\ttitle  pr \t", want: and(eq("userName", "x"), pr(attr("title"))), canonical: `userName eq "x" and title pr`},
	{name: "no space before string", in: `userName eq"x"`, want: eq("userName", "x"), canonical: `userName eq "x"`},
	{name: "no space around parens", in: `(a pr)and(b pr)or(c pr)`, want: or(and(pr(attr("a")), pr(attr("b"))), pr(attr("c"))), canonical: `a pr and b pr or c pr`},
	{name: "spaces inside brackets", in: `emails[ type eq "work" ]`, want: vp(attr("emails"), eq("type", "work")), canonical: `emails[type eq "work"]`},
	{name: "newlines", in: "a pr\r\nand b pr", want: and(pr(attr("a")), pr(attr("b"))), canonical: `a pr and b pr`},
}

func TestParse(t *testing.T) {
	for _, tc := range validFilters {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Parse(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
			canonical := tc.canonical
			if canonical == "" {
				canonical = tc.in
			}
			if s := got.String(); s != canonical {
				t.Errorf("String() = %q, want %q", s, canonical)
			}
		})
	}
}

func TestParseRoundTrip(t *testing.T) {
	for _, tc := range validFilters {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Parse(tc.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			s := e.String()
			e2, err := Parse(s)
			if err != nil {
				t.Fatalf("Parse(%q) (from String()): %v", s, err)
			}
			if diff := cmp.Diff(e, e2); diff != "" {
				t.Errorf("Parse(String()) differs (-orig +reparsed):\n%s", diff)
			}
			if s2 := e2.String(); s2 != s {
				t.Errorf("String() not stable: %q then %q", s, s2)
			}
		})
	}
}

// TestStringBuiltTrees checks rendering of trees the parser cannot produce
// from redundant input, and that they survive a round trip.
func TestStringBuiltTrees(t *testing.T) {
	tests := []struct {
		name string
		e    Expr
		want string
	}{
		{"or in and", and(or(pr(attr("a")), pr(attr("b"))), or(pr(attr("c")), pr(attr("d")))), `(a pr or b pr) and (c pr or d pr)`},
		{"and in or", or(and(pr(attr("a")), pr(attr("b"))), and(pr(attr("c")), pr(attr("d")))), `a pr and b pr or c pr and d pr`},
		{"right and in and", and(pr(attr("a")), and(pr(attr("b")), pr(attr("c")))), `a pr and (b pr and c pr)`},
		{"not of and", not(and(pr(attr("a")), pr(attr("b")))), `not (a pr and b pr)`},
		{"quoting", eq("a", "\"\\\x00\x1f\x7f/<>&é"), `a eq "\"\\\u0000\u001f\u007f/<>&é"`},
		{"path with filter", cmpx(Path{Attr: "emails", Filter: eq("type", "work"), Sub: "value"}, Eq, "x"), `emails[type eq "work"].value eq "x"`},
		{"urn", pr(urn(enterpriseUser, "manager", "value")), `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value pr`},
		{"bool and number", and(eq("a", false), eq("b", Number("1.0"))), `a eq false and b eq 1.0`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.e.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
			if _, ok := tc.e.(*Compare); ok && strings.Contains(tc.want, "[") {
				return // a Compare on a filtered path is not filter syntax
			}
			e2, err := Parse(tc.want)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.want, err)
			}
			if diff := cmp.Diff(tc.e, e2); diff != "" {
				t.Errorf("Parse(String()) differs (-built +parsed):\n%s", diff)
			}
		})
	}
}

type errorCase struct {
	name string
	in   string
	want string // fragment of the error message
}

// invalidFilters is shared with the fuzz seeds.
var invalidFilters = []errorCase{
	{"empty", ``, `filter is empty`},
	{"blank", " \t ", `filter is empty`},
	{"attribute only", `userName`, `expected a comparison operator after "userName" at offset 8 (end of filter)`},
	{"missing operator", `userName "bjensen"`, `expected a comparison operator after "userName" at offset 9`},
	{"unknown operator", `userName is "bjensen"`, `expected a comparison operator after "userName" at offset 9`},
	{"missing value", `userName eq`, `expected a value (a "string", number, true, false or null) after "eq" at offset 11 (end of filter)`},
	{"unquoted value", `userName eq bjensen`, `expected a value (a "string", number, true, false or null) after "eq" at offset 12`},
	{"pr with value", `title pr "x"`, `expected "and", "or" or end of filter, found "\"" at offset 9`},
	{"unterminated string", `userName eq "bjensen`, `unterminated string at offset 12`},
	{"unterminated after escape", `userName eq "bjensen\`, `unterminated string at offset 12`},
	{"invalid escape", `userName eq "a\x"`, `invalid escape sequence "\\x" in string at offset 14`},
	{"short unicode escape", `a eq "\u12"`, `invalid \u escape in string: expected 4 hexadecimal digits at offset 6`},
	{"bad hex in unicode escape", `a eq "\u12G4"`, `invalid \u escape`},
	{"lone high surrogate", `a eq "\ud800x"`, `unpaired surrogate \uD800 in string at offset 6`},
	{"high surrogate then non-surrogate", `a eq "\ud800\u0041"`, `unpaired surrogate \uD800`},
	{"lone low surrogate", `a eq "\udc00"`, `unpaired surrogate \uDC00`},
	{"leading zero", `a eq 01`, `invalid number "01" at offset 5`},
	{"trailing dot", `a eq 1.`, `invalid number "1."`},
	{"empty exponent", `a eq 1e`, `invalid number "1e"`},
	{"lone minus", `a eq -`, `invalid number "-"`},
	{"plus sign", `a eq +1`, `expected a value`},
	{"number with letters", `a eq 12abc`, `invalid number "12abc"`},
	{"bare word value", `active eq yes`, `expected a value`},
	{"truex", `active eq truex`, `expected a value`},
	{"trailing garbage", `userName eq "x" extra`, `expected "and", "or" or end of filter, found "extra" at offset 16`},
	{"dangling and", `userName eq "x" and`, `expected an attribute name, "not" or "(" at offset 19 (end of filter)`},
	{"dangling or", `userName eq "x" or `, `expected an attribute name, "not" or "(" at offset 19 (end of filter)`},
	{"unclosed paren", `(userName eq "x"`, `expected ")" to close the "(" at offset 0, found end of filter at offset 16`},
	{"unclosed paren, junk", `(a pr b pr)`, `expected ")" to close the "(" at offset 0, found "b" at offset 6`},
	{"extra close paren", `userName eq "x")`, `unexpected ")" without a matching "(" at offset 15`},
	{"extra close bracket", `userName eq "x"]`, `unexpected "]" without a matching "[" at offset 15`},
	{"empty parens", `()`, `expected an attribute name, "not" or "(", found ")" at offset 1`},
	{"unclosed bracket", `emails[type eq "work"`, `expected "]" to close the "[" at offset 6, found end of filter at offset 21`},
	{"empty brackets", `emails[]`, `expected an attribute name, "not" or "(", found "]" at offset 7`},
	{"value filter missing value", `emails[type eq]`, `expected a value (a "string", number, true, false or null) after "eq" at offset 14`},
	{"two value filters", `emails[type eq "work"][value pr]`, `expected "and", "or" or end of filter, found "["`},
	{"nested value filter", `emails[type[value pr]]`, `value filters cannot be nested at offset 11`},
	{"sub-attribute in value filter", `emails[name.first pr]`, `sub-attributes are not allowed inside a value filter at offset 11`},
	{"urn in value filter", `emails[urn:a:b:type pr]`, `a schema URN is not allowed inside a value filter at offset 7`},
	{"value filter after sub-attribute", `emails.value[type eq "work"]`, `a value filter must follow the attribute name, not the sub-attribute "value" at offset 12`},
	{"value path sub without operator", `emails[type eq "work"].value`, `expected a comparison operator after "emails[type eq \"work\"].value" at offset 28 (end of filter)`},
	{"value path dot without sub", `emails[type eq "work"]. eq "x"`, `expected an attribute name after "." at offset 23`},
	{"value path two subs", `emails[type eq "work"].value.x pr`, `invalid character "." in attribute name at offset 28`},
	{"value path operator", `emails[type eq "work"] eq "x"`, `expected "and", "or" or end of filter, found "eq"`},
	{"not without parens", `not userName eq "x"`, `expected "(" after "not" at offset 4`},
	{"not alone", `not`, `expected "(" after "not" at offset 3 (end of filter)`},
	{"not unclosed", `not (a pr`, `expected ")" to close the "(" at offset 4`},
	{"double dot", `a..b pr`, `expected an attribute name after "." at offset 2`},
	{"trailing dot in name", `name. pr`, `expected an attribute name after "." at offset 5`},
	{"leading digit", `1abc pr`, `attribute name "1abc" must start with a letter at offset 0`},
	{"leading dash", `-abc pr`, `attribute name "-abc" must start with a letter at offset 0`},
	{"two sub-attributes", `a.b.c pr`, `only one level of sub-attribute is allowed at offset 3`},
	{"invalid name character", `a$b pr`, `invalid character "$" in attribute name at offset 1`},
	{"non-ASCII name", `naïve pr`, `invalid character "ï" in attribute name at offset 2`},
	{"colon without urn", `foo:bar pr`, `invalid character ":" in attribute name at offset 3`},
	{"short urn", `urn:foo pr`, `invalid schema URN "urn": expected urn:<namespace>:<name>:<attribute> at offset 0`},
	{"urn without attribute", `urn:ietf:params:scim:schemas:core:2.0:User: pr`, `expected an attribute name, found white space at offset 43`},
	{"bad urn character", `urn:a<b:c:d pr`, `invalid character "<" in schema URN at offset 5`},
	{"invalid utf-8", "a eq \"\xff\"", `invalid UTF-8 in filter at offset 6`},
	{"too deep", strings.Repeat("(", MaxDepth+1) + "a pr" + strings.Repeat(")", MaxDepth+1), `filter is nested too deeply (the limit is 64 levels) at offset 64`},
	{"too deep not", strings.Repeat("not (", MaxDepth+1) + "a pr" + strings.Repeat(")", MaxDepth+1), `nested too deeply`},
	{"too long", `a eq "` + strings.Repeat("x", MaxLength) + `"`, `filter is too long: 8199 bytes, the limit is 8192`},
}

func TestParseErrors(t *testing.T) {
	for _, tc := range invalidFilters {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Parse(tc.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want error containing %q", tc.in, e, tc.want)
			}
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("Parse(%q) error %T is not *Error", tc.in, err)
			}
			if !strings.Contains(perr.Msg, tc.want) {
				t.Errorf("Parse(%q) error = %q, want it to contain %q", tc.in, perr.Msg, tc.want)
			}
			if e != nil {
				t.Errorf("Parse(%q) returned %v along with an error", tc.in, e)
			}
		})
	}
}

func TestParseDepthLimit(t *testing.T) {
	ok := strings.Repeat("(", MaxDepth) + "a pr" + strings.Repeat(")", MaxDepth)
	if _, err := Parse(ok); err != nil {
		t.Errorf("Parse at exactly MaxDepth: %v", err)
	}
	// A value filter counts as a level.
	vpOK := strings.Repeat("(", MaxDepth-1) + "e[" + "a pr" + "]" + strings.Repeat(")", MaxDepth-1)
	if _, err := Parse(vpOK); err != nil {
		t.Errorf("Parse value filter at exactly MaxDepth: %v", err)
	}
	if _, err := Parse("(" + vpOK + ")"); err == nil {
		t.Errorf("Parse value filter beyond MaxDepth: no error")
	}
	// The Entra form gains a level of parentheses when its filter is an
	// "or"; the parser must reject what it could not re-parse.
	nots := func(n int) string { return strings.Repeat("not (", n) + "a pr" + strings.Repeat(")", n) }
	entra := "e[" + nots(MaxDepth-1) + " or b pr].c pr"
	if _, err := Parse("e[" + nots(MaxDepth-1) + " or b pr]"); err != nil {
		t.Errorf("Parse value filter at exactly MaxDepth: %v", err)
	}
	if _, err := Parse(entra); err == nil || !strings.Contains(err.Error(), "nested too deeply") {
		t.Errorf("Parse(%q) = %v, want nesting error", entra, err)
	}
	entraOK := "e[" + nots(MaxDepth-2) + " or b pr].c pr"
	e, err := Parse(entraOK)
	if err != nil {
		t.Fatalf("Parse(%q): %v", entraOK, err)
	}
	if _, err := Parse(e.String()); err != nil {
		t.Errorf("Parse(%q) (from String()): %v", e.String(), err)
	}
}

func TestParseLongChains(t *testing.T) {
	// Long and/or chains are not nesting; they parse iteratively.
	var b strings.Builder
	for i := 0; b.Len() < MaxLength-20; i++ {
		if i > 0 {
			b.WriteString(" or ")
		}
		b.WriteString("a pr")
	}
	e, err := Parse(b.String())
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if e.String() != b.String() {
		t.Errorf("String() differs from input")
	}
	if !Match(e, map[string]any{"a": "x"}, nil) {
		t.Errorf("Match = false, want true")
	}
}

func TestErrorString(t *testing.T) {
	_, err := Parse(`userName "x"`)
	if err == nil {
		t.Fatal("no error")
	}
	want := `expected a comparison operator after "userName" at offset 9`
	if err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
}

func TestCount(t *testing.T) {
	for _, tc := range []struct {
		f                 string
		terms, substrings int
	}{
		{`userName eq "a"`, 1, 0},
		{`userName sw "a" or title co "x" or name.familyName ew "y"`, 3, 3},
		{`emails[type eq "work" and value co "@x"] and not (title pr)`, 3, 1},
		{`emails[type eq "work"].value eq "x"`, 2, 0},
	} {
		e, err := Parse(tc.f)
		if err != nil {
			t.Fatal(err)
		}
		if terms, subs := Count(e); terms != tc.terms || subs != tc.substrings {
			t.Errorf("Count(%s) = %d, %d; want %d, %d", tc.f, terms, subs, tc.terms, tc.substrings)
		}
	}
}
