package server

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestCheckJSON(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		ok         bool
	}{
		{"plain", `{"userName":"a","name":{"givenName":"b"},"emails":[{"value":"x"},{"value":"y"}]}`, true},
		{"same key in sibling objects", `{"emails":[{"value":"x","type":"work"},{"value":"y","type":"home"}]}`, true},
		{"same key at two levels", `{"value":"x","a":{"value":"y"}}`, true},
		{"key twice", `{"userName":"a","userName":"b"}`, false},
		{"keys differing in case", `{"userName":"a","username":"b"}`, false},
		{"nested duplicate", `{"name":{"givenName":"a","GivenName":"b"}}`, false},
		{"duplicate after a nested value", `{"name":{"givenName":"a"},"x":[1,{"k":2}],"name":3}`, false},
		{"duplicate in an array element", `{"Operations":[{"op":"add","op":"remove"}]}`, false},
		{"a value equal to a key", `{"a":"b","b":"a"}`, true},
		{"surrogate pair", `{"displayName":"\ud83d\ude00"}`, true},
		{"lone high surrogate", `{"displayName":"\ud800"}`, false},
		{"lone low surrogate", `{"displayName":"x\udc00"}`, false},
		{"high surrogate then a letter", `{"displayName":"\ud800x"}`, false},
		{"escaped backslash before u", `{"displayName":"\\ud800"}`, true},
		{"invalid UTF-8", "{\"displayName\":\"\xff\"}", false},
		{"not JSON (left to the decoder)", `{"a":`, true},
	} {
		err := checkJSON([]byte(tc.body))
		if (err == nil) != tc.ok {
			t.Errorf("%s: checkJSON(%s) = %v, want ok %v", tc.name, tc.body, err, tc.ok)
		}
	}
}

// FuzzCheckJSON: checkJSON never panics, and accepts every object that
// encoding/json writes (which has unique keys and valid UTF-8).
func FuzzCheckJSON(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{"a":{"b":[1,{"c":"\ud83d\ude00"}]}}`, `{"a":"\\u0041"}`, `[{"x":1,"X":2}]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = checkJSON(b)
		var v any
		if json.Unmarshal(b, &v) != nil {
			return
		}
		out, err := json.Marshal(v)
		if err != nil {
			return
		}
		if err := checkJSON(out); err != nil {
			if hasCaseVariants(v) {
				return // encoding/json keeps keys that differ in case
			}
			t.Fatalf("checkJSON refuses encoding/json's own output %s: %v", out, err)
		}
	})
}

// hasCaseVariants reports whether any object in v has two keys that
// differ only in case.
func hasCaseVariants(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		seen := map[string]bool{}
		for k, e := range x {
			lk := strings.ToLower(k)
			if seen[lk] || hasCaseVariants(e) {
				return true
			}
			seen[lk] = true
		}
	case []any:
		for _, e := range x {
			if hasCaseVariants(e) {
				return true
			}
		}
	}
	return false
}
