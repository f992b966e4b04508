package sqlstore

import (
	"testing"
	"time"
)

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
		{"a\x80b", "a\x80b\xff", true}, // not UTF-8: bytewise
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

// TestBindKey pins which Position keys fit which sort keys.
func TestBindKey(t *testing.T) {
	at := "2024-05-06T07:08:09.5Z"
	nanos := time.Date(2024, 5, 6, 7, 8, 9, 5e8, time.UTC).UnixNano()
	for _, tc := range []struct {
		kind keyKind
		key  any
		want any // nil with bad: refused
		bad  bool
	}{
		{keyText, "x", "x", false},
		{keyText, nil, nil, false},
		{keyText, 3.0, nil, true},
		{keyText, true, nil, true},
		{keyBool, true, true, false},
		{keyBool, "true", nil, true},
		{keyTime, at, nanos, false},
		{keyTime, "yesterday", nil, true},
		{keyTime, 1.0, nil, true},
		{keyInt, 3.0, int64(3), false},
		{keyInt, 2.5, nil, true},
		{keyInt, "3", nil, true},
		{keyNumber, 2.5, 2.5, false},
		{keyNumber, 3.0, int64(3), false},
		{keyNumber, "3", "3", false},
		{keyText, []int{1}, nil, true},
	} {
		got, err := order{key: "k", keyKind: tc.kind}.bindKey(tc.key)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("kind %d: bindKey(%#v) = %#v, %v; want %#v, bad %v", tc.kind, tc.key, got, err, tc.want, tc.bad)
		}
	}
}
