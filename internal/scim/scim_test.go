package scim

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestFold(t *testing.T) {
	tests := []struct{ a, b string }{
		{"Test.User@Okta.Local", "test.user@okta.local"},
		{"ÉLODIE", "élodie"},
		{"\u212a", "k"}, // Kelvin sign
		{"ſ", "s"},      // long s
		{"ΣΊΣΥΦΟΣ", "σίσυφοσ"},
		{"", ""},
	}
	for _, tc := range tests {
		if Fold(tc.a) != Fold(tc.b) {
			t.Errorf("Fold(%q) = %q, Fold(%q) = %q: want equal", tc.a, Fold(tc.a), tc.b, Fold(tc.b))
		}
	}
	if Fold("a@b.c") != "a@b.c" {
		t.Error("folding changed a lower-case ASCII string")
	}
	if Fold("alice") == Fold("alicf") {
		t.Error("folding merged different names")
	}
}

func TestErrorJSON(t *testing.T) {
	e := Errorf(409, Uniqueness, "userName %q is taken", "x")
	e.Err = errors.New("secret internal detail")
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"409","scimType":"uniqueness","detail":"userName \"x\" is taken"}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	b, _ = json.Marshal(Internal(errors.New("db exploded")))
	if string(b) != `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"500","detail":"internal error"}` {
		t.Errorf("500 body %s", b)
	}
}

func TestCut(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{{"abc", 5, "abc"}, {"abc", 2, "ab"}, {"aé", 2, "a"}, {"aé", 3, "aé"}, {"日本", 4, "日"}, {"", 0, ""}} {
		if got := Cut(tc.s, tc.n); got != tc.want {
			t.Errorf("Cut(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}
