package filter

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// userJSON is a User resource as a client or the store would hold it; some
// keys deliberately differ in case from the schema.
const userJSON = `{
	"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
	"id": "2819c223-7f76-453a-919d-413861904646",
	"externalId": "BJensen-Ext",
	"UserName": "BJensen@Example.com",
	"name": {"familyName": "O'Malley", "givenName": "Barbara", "formatted": ""},
	"displayName": "Élodie Jensen",
	"nickName": "",
	"title": "Tour Guide",
	"userType": "Employee",
	"active": true,
	"age": 42,
	"score": 3.5,
	"locale": null,
	"emptyList": [],
	"emptyObject": {},
	"emails": [
		{"value": "bjensen@example.com", "type": "work", "primary": true},
		{"value": "babs@jensen.org", "type": "home"}
	],
	"ims": [{"value": "someaimhandle", "type": "aim"}],
	"phoneNumbers": [{"value": "555-555-8377", "type": "work", "display": ""}],
	"x509Certificates": [],
	"meta": {
		"created": "2010-01-23T04:56:22Z",
		"lastModified": "2011-05-13T05:00:00+02:00"
	},
	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
		"employeeNumber": "701984",
		"manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d", "displayName": "John Smith"}
	}
}`

func decodeUser(t testing.TB, useNumber bool) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader([]byte(userJSON)))
	if useNumber {
		dec.UseNumber()
	}
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// exactAttrs says which attributes are case-exact in these tests.
func exactAttrs(p Path) bool {
	switch strings.ToLower(p.Attr) {
	case "id", "externalid":
		return p.Sub == ""
	case "emails":
		return strings.EqualFold(p.Sub, "type") // to check value filters get qualified paths
	}
	return false
}

func mustParse(t testing.TB, s string) Expr {
	t.Helper()
	e, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return e
}

func TestMatch(t *testing.T) {
	tests := []struct {
		name   string
		filter string
		want   bool
	}{
		// Equality and case folding.
		{"eq", `userName eq "BJensen@Example.com"`, true},
		{"eq folds when not caseExact", `userName eq "bjensen@example.COM"`, true},
		{"eq folds non-ASCII", `displayName eq "élodie JENSEN"`, true},
		{"eq case-exact differs", `externalId eq "bjensen-ext"`, false},
		{"eq case-exact same", `externalId eq "BJensen-Ext"`, true},
		{"attribute name case-insensitive", `USERNAME eq "bjensen@example.com"`, true},
		{"eq other", `userName eq "bjensen"`, false},
		{"ne", `userName ne "bjensen@example.com"`, false},
		{"ne other", `userName ne "bjensen"`, true},
		{"ne missing attribute", `preferredLanguage ne "en"`, true},
		{"eq missing attribute", `preferredLanguage eq "en"`, false},
		{"eq null missing", `preferredLanguage eq null`, true},
		{"eq null null", `locale eq null`, true},
		{"eq null present", `title eq null`, false},
		{"eq null empty string", `nickName eq null`, true},
		{"eq null empty list", `emptyList eq null`, true},
		{"ne null empty string", `nickName ne null`, false},
		{"gt null", `title gt null`, false},
		{"ne null present", `title ne null`, true},
		{"ne null missing", `preferredLanguage ne null`, false},

		// Substring operators.
		{"co", `name.familyName co "'mal"`, true},
		{"co case-exact", `externalId co "jensen"`, false},
		{"co empty", `title co ""`, true},
		{"sw", `userName sw "bj"`, true},
		{"sw no", `userName sw "jensen"`, false},
		{"ew", `userName ew "EXAMPLE.com"`, true},
		{"ew case-exact", `id ew "904646"`, true},
		{"co on boolean", `active co "t"`, false},
		{"co on number", `age co 4`, false},

		// Multi-valued attributes.
		{"multi-valued value", `emails co "jensen.org"`, true},
		{"multi-valued eq", `emails eq "BJENSEN@example.com"`, true},
		{"multi-valued sub-attribute", `emails.type eq "home"`, true},
		{"multi-valued sub-attribute none", `emails.type eq "other"`, false},
		{"multi-valued ne is not any-ne", `emails.type ne "work"`, false},
		{"multi-valued ne", `emails.type ne "other"`, true},
		{"multi-valued schemas", `schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`, true},
		{"multi-valued boolean", `emails.primary eq true`, true},

		// Value paths.
		{"value path", `emails[type eq "work" and value co "@example.com"]`, true},
		{"value path same element required", `emails[type eq "home" and value co "@example.com"]`, false},
		{"value path case-exact sub-attribute", `emails[type eq "WORK"]`, false},
		{"value path folded sub-attribute", `emails[value eq "BABS@JENSEN.ORG"]`, true},
		{"value path entra form", `emails[type eq "work"].value eq "bjensen@example.com"`, true},
		{"value path entra form no", `emails[type eq "home"].value eq "bjensen@example.com"`, false},
		{"value path pr", `emails[type eq "work"].primary pr`, true},
		{"value path pr missing", `emails[type eq "home"].primary pr`, false},
		{"value path not", `emails[not (type eq "work")]`, true},
		{"value path or", `emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`, true},
		{"value path missing attribute", `addresses[type eq "work"]`, false},
		{"value path on empty", `x509Certificates[value pr]`, false},
		{"value path on complex single", `name[givenName eq "barbara"]`, true},

		// Presence.
		{"pr", `title pr`, true},
		{"pr empty string", `nickName pr`, false},
		{"pr null", `locale pr`, false},
		{"pr missing", `preferredLanguage pr`, false},
		{"pr empty list", `emptyList pr`, false},
		{"pr empty object", `emptyObject pr`, false},
		{"pr list", `emails pr`, true},
		{"pr complex", `name pr`, true},
		{"pr sub-attribute", `name.givenName pr`, true},
		{"pr empty sub-attribute", `name.formatted pr`, false},
		{"pr multi-valued sub-attribute", `emails.primary pr`, true},
		{"pr multi-valued empty sub-attribute", `phoneNumbers.display pr`, false},
		{"pr false", `active pr`, true},

		// Logic.
		{"and", `title pr and userType eq "Employee"`, true},
		{"and false", `title pr and userType eq "Intern"`, false},
		{"or", `title pr or userType eq "Intern"`, true},
		{"or false", `nickName pr or userType eq "Intern"`, false},
		{"not", `not (userType eq "Intern")`, true},
		{"rfc grouped", `userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`, true},
		{"rfc not", `userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`, false},
		{"precedence", `userType eq "Intern" and title pr or active eq true`, true},
		{"precedence 2", `userType eq "Intern" and (title pr or active eq true)`, false},

		// Ordering: dates, numbers, strings.
		{"gt date chronological", `meta.lastModified gt "2011-05-13T04:42:34Z"`, false}, // 05:00+02:00 is 03:00Z
		{"lt date chronological", `meta.lastModified lt "2011-05-13T04:42:34Z"`, true},
		{"eq date other offset", `meta.lastModified eq "2011-05-13T03:00:00.000Z"`, true},
		{"ge date equal", `meta.created ge "2010-01-23T04:56:22Z"`, true},
		{"le date", `meta.created le "2010-01-23T04:56:21Z"`, false},
		{"gt number", `age gt 41`, true},
		{"gt number equal", `age gt 42`, false},
		{"ge number", `age ge 42`, true},
		{"eq number decimal form", `age eq 42.0`, true},
		{"eq number exponent", `age eq 4.2e1`, true},
		{"lt number", `score lt 4`, true},
		{"le number negative", `score le -1`, false},
		{"number vs string", `age eq "42"`, false},
		{"string vs number", `title eq 42`, false},
		{"gt string", `title gt "tour"`, true},               // folded: "tour guide" > "tour"
		{"gt string case-exact", `externalId gt "b"`, false}, // "B..." < "b"
		{"lt string", `userName lt "c"`, true},
		{"ge string equal folded", `title ge "TOUR GUIDE"`, true},

		// Booleans.
		{"eq true", `active eq true`, true},
		{"eq false", `active eq false`, false},
		{"ne false", `active ne false`, true},
		{"gt boolean", `active gt false`, false},
		{"boolean vs string", `active eq "true"`, false},

		// Schema URNs.
		{"enterprise attribute", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984"`, true},
		{"enterprise sub-attribute", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"`, true},
		{"enterprise urn case-insensitive", `URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:employeeNumber pr`, true},
		{"core urn is top level", `urn:ietf:params:scim:schemas:core:2.0:User:userName sw "BJ"`, true},
		{"extension attribute without urn", `employeeNumber pr`, false},
		{"complex without value", `name eq "Barbara"`, false},
		{"complex compares value", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager eq "26118915-6090-4610-87e4-49d8ca9f808d"`, true},
	}
	for _, useNumber := range []bool{false, true} {
		user := decodeUser(t, useNumber)
		for _, tc := range tests {
			name := tc.name
			if useNumber {
				name += "/json.Number"
			}
			t.Run(name, func(t *testing.T) {
				e := mustParse(t, tc.filter)
				if got := Match(e, user, exactAttrs); got != tc.want {
					t.Errorf("Match(%s) = %v, want %v", tc.filter, got, tc.want)
				}
			})
		}
	}
}

// TestMatchElement covers the PATCH engine's use: a value filter evaluated
// on one element of a multi-valued attribute.
func TestMatchElement(t *testing.T) {
	elem := map[string]any{"Value": "Bjensen@Example.com", "TYPE": "Work", "primary": true}
	tests := []struct {
		name      string
		filter    string
		caseExact func(Path) bool
		want      bool
	}{
		{"folded", `type eq "work"`, nil, true},
		{"case-exact", `type eq "work"`, func(Path) bool { return true }, false},
		{"case-exact same", `type eq "Work"`, func(Path) bool { return true }, true},
		{"and", `type eq "work" and value co "@example.com"`, nil, true},
		{"boolean", `primary eq true and not (display pr)`, nil, true},
		{"ne", `type ne "home"`, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Match(mustParse(t, tc.filter), elem, tc.caseExact); got != tc.want {
				t.Errorf("Match(%s) = %v, want %v", tc.filter, got, tc.want)
			}
		})
	}
}

// TestMatchCaseExactPaths checks the paths Match passes to caseExact.
func TestMatchCaseExactPaths(t *testing.T) {
	user := decodeUser(t, false)
	var got []string
	record := func(p Path) bool {
		if s := p.String(); len(got) == 0 || got[len(got)-1] != s {
			got = append(got, s)
		}
		return false
	}
	f := `userName eq "x" or name.givenName eq "x" or emails[type eq "x"] or active eq false or ` +
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x" or missing eq "x"`
	Match(mustParse(t, f), user, record)
	want := []string{"userName", "name.givenName", "emails.type", enterpriseUser + ":manager.value"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("caseExact called with %q, want %q", got, want)
	}
}

func TestMatchBuiltTrees(t *testing.T) {
	user := decodeUser(t, false)
	tests := []struct {
		name string
		e    Expr
		want bool
	}{
		{"filtered path sub-attribute", cmpx(Path{Attr: "emails", Filter: eq("type", "home"), Sub: "value"}, Ew, ".org"), true},
		{"filtered path no match", cmpx(Path{Attr: "emails", Filter: eq("type", "other"), Sub: "value"}, Ew, ".org"), false},
		{"float literal", &Compare{Path: attr("age"), Op: Eq, Value: 42.0}, true},
		{"int literal", &Compare{Path: attr("age"), Op: Lt, Value: 100}, true},
		{"nil expression", nil, false},
		{"and with nil", and(nil, pr(attr("title"))), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Match(tc.e, user, nil); got != tc.want {
				t.Errorf("Match = %v, want %v", got, tc.want)
			}
		})
	}
}
