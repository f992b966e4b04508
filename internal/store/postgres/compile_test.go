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
		`not (phoneNumbers[display co "alice" or primary eq false])`,
		`x509Certificates[value eq "alice"] and ims[type ne "example"]`,
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
		if _, err := bind(c.SQL, len(c.Args)); err != nil {
			t.Errorf("%s: %v\n%s", f, err, c.SQL)
		}
		for _, lit := range []string{"example", "alice", "Engineer", "urn:"} {
			if strings.Contains(c.SQL, lit) {
				t.Errorf("%s: literal %q in the SQL: %s", f, lit, c.SQL)
			}
		}
	}
}

// TestCompiledSortIsParameterised checks that sorts and their keyset
// conditions have as many placeholders as arguments.
func TestCompiledSortIsParameterised(t *testing.T) {
	for _, sortBy := range []string{"", "userName", "title", "name.familyName", "emails", "emails.type", "emails.primary",
		"phoneNumbers", "phoneNumbers.primary", "meta.created", "meta.version", "active",
		schema.EnterpriseURN + ":manager.value"} {
		o, err := compileSort(schema.UserType, sortBy, false)
		if err != nil {
			t.Errorf("compileSort(%q): %v", sortBy, err)
			continue
		}
		if _, err := bind(o.SQL, len(o.Args)); err != nil {
			t.Errorf("%s: %v\n%s", sortBy, err, o.SQL)
		}
		if _, err := bind(o.Key, len(o.KeyArgs)); err != nil {
			t.Errorf("%s: key: %v\n%s", sortBy, err, o.Key)
		}
		a := o.AfterBound(3, "x")
		if _, err := bind(a.SQL, len(a.Args)); err != nil {
			t.Errorf("%s: keyset: %v\n%s", sortBy, err, a.SQL)
		}
	}
}
