package filter

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func FuzzParse(f *testing.F) {
	for _, tc := range validFilters {
		f.Add(tc.in)
	}
	for _, tc := range invalidFilters {
		if len(tc.in) <= 1024 {
			f.Add(tc.in)
		}
	}
	for _, tc := range validPaths {
		f.Add(tc.in + " pr")
	}
	user := decodeUser(f, false)
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("Parse(%q) error %T is not *Error", s, err)
			}
			if e != nil {
				t.Fatalf("Parse(%q) returned %v with an error", s, e)
			}
			return
		}
		canonical := e.String()
		if len(canonical) > MaxLength {
			// The canonical form can be longer than the input (escapes,
			// spaces); the length limit applies to what clients send.
			return
		}
		e2, err := Parse(canonical)
		if err != nil {
			t.Fatalf("Parse(%q) ok, but Parse of its String() %q: %v", s, canonical, err)
		}
		if s2 := e2.String(); s2 != canonical {
			t.Fatalf("Parse(%q): String() %q re-parses to %q", s, canonical, s2)
		}
		if diff := cmp.Diff(e, e2); diff != "" {
			t.Fatalf("Parse(%q): re-parsed String() differs (-first +second):\n%s", s, diff)
		}
		// Match must not panic on anything Parse accepts.
		Match(e, user, exactAttrs)
	})
}

func FuzzParsePath(f *testing.F) {
	for _, tc := range validPaths {
		f.Add(tc.in)
	}
	for _, tc := range invalidPaths {
		if len(tc.in) <= 1024 {
			f.Add(tc.in)
		}
	}
	for _, tc := range validFilters {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePath(s)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("ParsePath(%q) error %T is not *Error", s, err)
			}
			return
		}
		canonical := p.String()
		if len(canonical) > MaxLength {
			return
		}
		p2, err := ParsePath(canonical)
		if err != nil {
			t.Fatalf("ParsePath(%q) ok, but ParsePath of its String() %q: %v", s, canonical, err)
		}
		if s2 := p2.String(); s2 != canonical {
			t.Fatalf("ParsePath(%q): String() %q re-parses to %q", s, canonical, s2)
		}
		if diff := cmp.Diff(p, p2); diff != "" {
			t.Fatalf("ParsePath(%q): re-parsed String() differs (-first +second):\n%s", s, diff)
		}
	})
}
