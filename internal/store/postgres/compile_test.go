package postgres

import (
	"strings"
	"testing"

	"github.com/scimd/scimd/internal/scim/filter"
	"github.com/scimd/scimd/internal/scim/schema"
)

func TestBind(t *testing.T) {
	got, err := bind("a = ? AND b IN (?, ?)", 3)
	if err != nil || got != "a = $1 AND b IN ($2, $3)" {
		t.Errorf("bind = %q, %v", got, err)
	}
	if _, err := bind("a = ?", 2); err == nil {
		t.Errorf("bind with too many arguments succeeded")
	}
}

func TestSuccessor(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"", "", false},
		{"a", "b", true},
		{"ab", "ac", true},
		{"é", "ê", true},
		{"a\U0010FFFF", "b", true},
		{"\U0010FFFF", "", false},
		{"x\uD7FF", "x\uE000", true},
	} {
		got, ok := successor(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("successor(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
		// Every string with the prefix sorts before the successor.
		if ok && !(tc.in+"\U0010FFFF\U0010FFFF" < got) {
			t.Errorf("successor(%q) = %q is not above the strings it bounds", tc.in, got)
		}
	}
}

// TestCompiledSQLIsParameterised compiles filters of every form and checks
// that no literal and no attribute name reaches the SQL text, and that the
// placeholders match the arguments. (What the filters mean is the
// conformance suite's business.)
func TestCompiledSQLIsParameterised(t *testing.T) {
	for _, f := range []string{
		`userName eq "alice"`,
		`userName sw "alice" and not (userName ew "example")`,
		`title co "Engineer" or nickName eq null`,
		`name.familyName gt "alice"`,
		`name[givenName eq "alice"]`,
		`name pr`,
		`active eq false and meta.created gt "2024-01-01T00:00:00Z"`,
		`emails[type eq "work" and value co "example"]`,
		`not (emails.value ew "example.org")`,
		`phoneNumbers[type eq "work" and primary eq true]`,
		`phoneNumbers.value sw "alice"`,
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "alice"`,
		`schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`,
	} {
		e, err := filter.Parse(f)
		if err != nil {
			t.Fatalf("Parse(%q): %v", f, err)
		}
		c, err := compileFilter(schema.UserType, e, 1)
		if err != nil {
			t.Errorf("compile %s: %v", f, err)
			continue
		}
		if _, err := bind(c.sql, len(c.args)); err != nil {
			t.Errorf("%s: %v\n%s", f, err, c.sql)
		}
		for _, lit := range []string{"example", "alice", "Engineer", "urn:"} {
			if strings.Contains(c.sql, lit) {
				t.Errorf("%s: literal %q in the SQL: %s", f, lit, c.sql)
			}
		}
	}
}
