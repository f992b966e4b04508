package patch

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimd/scimd/internal/scim/schema"
)

func TestSplitMembers(t *testing.T) {
	const urn = `"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]`
	type change struct {
		Kind  MemberKind
		IDs   []string
		Where string
	}
	tests := []struct {
		name     string
		body     string
		changes  []change
		rest     int // operations left for Apply
		scimType string
	}{
		{"Okta membership delta (A.6.4)", `{` + urn + `,"Operations":[{"op":"remove","path":"members[value eq \"89bb\"]"},{"op":"add","path":"members","value":[{"value":"23a3","display":"test.user@okta.local"}]}]}`,
			[]change{{Kind: RemoveMembersWhere, Where: `value eq "89bb"`}, {Kind: AddMembers, IDs: []string{"23a3"}}}, 0, ""},
		{"Okta rename with id in the value (A.6.3)", `{` + urn + `,"Operations":[{"op":"replace","value":{"id":"abf4","displayName":"Test SCIMv2"}}]}`,
			nil, 1, ""},
		{"Okta full push (A.6.5)", `{` + urn + `,"Operations":[{"op":"replace","path":"members","value":[{"value":"a"},{"value":"b"}]}]}`,
			[]change{{Kind: RemoveAllMembers}, {Kind: AddMembers, IDs: []string{"a", "b"}}}, 0, ""},
		{"Okta push of an empty group", `{` + urn + `,"Operations":[{"op":"replace","path":"members","value":[]}]}`,
			[]change{{Kind: RemoveAllMembers}}, 0, ""},
		{"Entra default remove with a value list (B.6)", `{` + urn + `,"Operations":[{"op":"Remove","path":"members","value":[{"$ref":null,"value":"f648"}]}]}`,
			[]change{{Kind: RemoveMembers, IDs: []string{"f648"}}}, 0, ""},
		{"Entra add several (B.6)", `{` + urn + `,"Operations":[{"op":"Add","path":"members","value":[{"$ref":null,"value":"f648"},{"value":"f649"},{"value":"f648"}]}]}`,
			[]change{{Kind: AddMembers, IDs: []string{"f648", "f649"}}}, 0, ""},
		{"remove members without value empties", `{` + urn + `,"Operations":[{"op":"remove","path":"members"}]}`,
			[]change{{Kind: RemoveAllMembers}}, 0, ""},
		{"pathless replace with members and displayName", `{` + urn + `,"Operations":[{"op":"replace","value":{"displayName":"X","members":[{"value":"u1"}]}}]}`,
			[]change{{Kind: RemoveAllMembers}, {Kind: AddMembers, IDs: []string{"u1"}}}, 1, ""},
		{"URN-qualified path", `{` + urn + `,"Operations":[{"op":"add","path":"urn:ietf:params:scim:schemas:core:2.0:Group:members","value":[{"value":"u1"}]}]}`,
			[]change{{Kind: AddMembers, IDs: []string{"u1"}}}, 0, ""},
		{"OneLogin add (C.1)", `{` + urn + `,"Operations":[{"value":[{"value":"uid"}],"op":"add","path":"members"}]}`,
			[]change{{Kind: AddMembers, IDs: []string{"uid"}}}, 0, ""},
		{"rename only", `{` + urn + `,"Operations":[{"op":"Replace","path":"displayName","value":"new"}]}`, nil, 1, ""},
		{"member without value", `{` + urn + `,"Operations":[{"op":"add","path":"members","value":[{"display":"x"}]}]}`, nil, 0, "invalidValue"},
		{"member as a string", `{` + urn + `,"Operations":[{"op":"add","path":"members","value":["u1"]}]}`, nil, 0, "invalidValue"},
		{"add with a filter", `{` + urn + `,"Operations":[{"op":"add","path":"members[value eq \"x\"]","value":[{"value":"x"}]}]}`, nil, 0, "invalidPath"},
		{"member sub-attribute", `{` + urn + `,"Operations":[{"op":"replace","path":"members[value eq \"x\"].display","value":"y"}]}`, nil, 0, "mutability"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ops, err := Decode([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			rest, changes, err := SplitMembers(ops)
			if tc.scimType != "" {
				pe, ok := err.(*Error)
				if !ok || pe.ScimType != tc.scimType {
					t.Fatalf("err = %v, want scimType %s", err, tc.scimType)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []change
			for _, c := range changes {
				g := change{Kind: c.Kind, IDs: c.IDs}
				if c.Where != nil {
					g.Where = c.Where.String()
				}
				got = append(got, g)
			}
			if d := cmp.Diff(tc.changes, got); d != "" {
				t.Errorf("changes (-want +got):\n%s", d)
			}
			if len(rest) != tc.rest {
				t.Errorf("rest = %v, want %d operations", rest, tc.rest)
			}
		})
	}
}

// TestElemKeyAgreesWithEqualElem: adding and removing values find
// elements by key; the keys must say "equal" exactly when equalElem does.
func TestElemKeyAgreesWithEqualElem(t *testing.T) {
	emails := schema.UserType.Core.Attr("emails")
	members := schema.GroupType.Core.Attr("members")
	x509 := schema.UserType.Core.Attr("x509Certificates")
	for _, tc := range []struct {
		attr *schema.Attribute
		a, b any
	}{
		{emails, map[string]any{"value": "A@x.com", "type": "work"}, map[string]any{"type": "WORK", "value": "a@X.com"}},
		{emails, map[string]any{"value": "a@x.com"}, map[string]any{"value": "a@x.com", "type": "work"}},
		{emails, map[string]any{"value": "a@x.com", "primary": true}, map[string]any{"value": "a@x.com", "primary": false}},
		{emails, map[string]any{"value": "a@x.com", "n": 1.0}, map[string]any{"value": "a@x.com", "n": 1}},
		{emails, map[string]any{"value": "a@x.com", "n": 0.0}, map[string]any{"value": "a@x.com", "n": math.Copysign(0, -1)}},
		{emails, map[string]any{"value": "a"}, "a"},
		{emails, map[string]any{"value": "a", "x": []any{"A"}}, map[string]any{"value": "a", "x": []any{"a"}}},
		{members, map[string]any{"value": "id-1", "display": "One"}, map[string]any{"value": "id-1"}},
		{members, map[string]any{"value": "id-1"}, map[string]any{"value": "ID-1"}},
		{members, map[string]any{"display": "x"}, map[string]any{"display": "x"}},
		{x509, map[string]any{"value": "QUJD"}, map[string]any{"value": "qujd"}},
	} {
		ka, oka := elemKey(tc.attr, tc.a)
		kb, okb := elemKey(tc.attr, tc.b)
		byKey := oka && okb && ka == kb
		if want := equalElem(tc.attr, tc.a, tc.b); byKey != want {
			t.Errorf("%s: %v and %v: keys %q, %q say equal=%v; equalElem says %v", tc.attr.Name, tc.a, tc.b, ka, kb, byKey, want)
		}
	}
}
