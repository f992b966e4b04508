package patch

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/scimd/scimd/internal/scim/schema"
)

// FuzzDecodeApply decodes and applies arbitrary request bodies to arbitrary
// resources. It must never panic; every failure must be an *Error with a
// message; a failed Apply must leave its input unchanged; a result must
// encode to JSON and never hold a password.
func FuzzDecodeApply(f *testing.F) {
	for _, tc := range applyTests {
		f.Add(tc.attrs, tc.body, tc.group)
	}
	f.Fuzz(func(t *testing.T, attrsJSON, body string, group bool) {
		rt := schema.UserType
		if group {
			rt = schema.GroupType
		}
		var attrs, before map[string]any
		if json.Unmarshal([]byte(attrsJSON), &attrs) != nil {
			attrs = nil
		}
		_ = json.Unmarshal([]byte(attrsJSON), &before)
		ops, err := Decode([]byte(body))
		if err != nil {
			checkError(t, err)
			return
		}
		got, password, err := Apply(rt, attrs, ops)
		if !reflect.DeepEqual(attrs, before) {
			t.Fatalf("Apply modified its input:\nbefore %v\nafter  %v", before, attrs)
		}
		if err != nil {
			checkError(t, err)
			if got != nil || password != nil {
				t.Fatal("Apply returned a result with an error")
			}
			return
		}
		if _, err := json.Marshal(got); err != nil {
			t.Fatalf("result does not encode: %v", err)
		}
		if _, had := attrs["password"]; !had {
			if _, has := got["password"]; has {
				t.Fatal("the result holds a password")
			}
		}
	})
}

func checkError(t *testing.T, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Msg == "" {
		t.Fatalf("error %#v is not an *Error with a message", err)
	}
	switch e.ScimType {
	case "invalidSyntax", "invalidPath", "invalidValue", "noTarget", "mutability":
	default:
		t.Fatalf("error %q has scimType %q", e.Msg, e.ScimType)
	}
}
