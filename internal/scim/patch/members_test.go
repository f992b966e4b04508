package patch

import (
	"testing"

	"github.com/google/go-cmp/cmp"
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
