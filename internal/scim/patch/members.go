package patch

import (
	"strings"

	"github.com/scimd/scimd/internal/scim"
	"github.com/scimd/scimd/internal/scim/filter"
	"github.com/scimd/scimd/internal/scim/schema"
)

// MemberKind says what a MemberChange does.
type MemberKind int

// The membership changes a Group PATCH can ask for.
const (
	// AddMembers adds the members IDs; existing members are left alone.
	AddMembers MemberKind = iota + 1
	// RemoveMembers removes the members IDs; ids that are not members are
	// ignored.
	RemoveMembers
	// RemoveMembersWhere removes the members matching Where, a filter over
	// the member sub-attributes (value, type, display).
	RemoveMembersWhere
	// RemoveAllMembers empties the group.
	RemoveAllMembers
)

// MemberChange is one membership change, in request order.
type MemberChange struct {
	Kind  MemberKind
	IDs   []string
	Where filter.Expr
}

// SplitMembers separates a Group PATCH into the operations on members,
// returned as membership changes that a store applies one row each, and the
// other operations, which Apply applies to the group's attributes. Members
// are never loaded to be patched: that is what lets one member of a
// 100,000-member group be added or removed at the cost of one row.
//
// Understood member operations (CLIENTS.md A.6, B.6, C.1, C.2, R8):
//
//	add     members            [{value}…]  → AddMembers
//	replace members            [{value}…]  → RemoveAllMembers, AddMembers ([] empties the group)
//	remove  members                        → RemoveAllMembers
//	remove  members            [{value}…]  → RemoveMembers: only those listed, never all
//	remove  members[filter]                → RemoveMembersWhere
//	add/replace (no path) {"members": […]} → as add/replace members
func SplitMembers(ops []Operation) (rest []Operation, changes []MemberChange, err error) {
	for i, op := range ops {
		verb := strings.ToLower(op.Op)
		if op.Path == "" {
			obj, ok := op.Value.(map[string]any)
			if !ok || verb == opRemove {
				rest = append(rest, op)
				continue
			}
			others := map[string]any{}
			var members any
			found := false
			for k, v := range obj {
				if isMembersKey(k) {
					members, found = v, true
					continue
				}
				others[k] = v
			}
			if found {
				c, err := memberValues(i, op, verb, members)
				if err != nil {
					return nil, nil, err
				}
				changes = append(changes, c...)
			}
			if !found || len(others) > 0 {
				rest = append(rest, Operation{Op: op.Op, Value: others})
			}
			continue
		}
		p, perr := filter.ParsePath(op.Path)
		if perr != nil || !isMembersKey(pathName(p)) {
			rest = append(rest, op) // not about members (or a bad path: Apply reports it)
			continue
		}
		switch {
		case p.Sub != "":
			return nil, nil, opError(i, op, errorf(scim.Mutability, "member sub-attributes cannot be changed: add or remove the member instead"))
		case p.Filter != nil:
			if verb != opRemove {
				return nil, nil, opError(i, op, errorf(scim.InvalidPath, "members are added by value: use path \"members\" with a list of {\"value\": id}"))
			}
			changes = append(changes, MemberChange{Kind: RemoveMembersWhere, Where: p.Filter})
		case verb == opRemove:
			if op.Value == nil {
				changes = append(changes, MemberChange{Kind: RemoveAllMembers})
				continue
			}
			// Entra ID's default mode, OneLogin and JumpCloud remove with a
			// value list (testdata/entra/group-membership.json): only the
			// listed members go.
			ids, err := memberIDs(i, op, op.Value)
			if err != nil {
				return nil, nil, err
			}
			changes = append(changes, MemberChange{Kind: RemoveMembers, IDs: ids})
		default:
			c, err := memberValues(i, op, verb, op.Value)
			if err != nil {
				return nil, nil, err
			}
			changes = append(changes, c...)
		}
	}
	return rest, changes, nil
}

func pathName(p filter.Path) string {
	if p.URN != "" && !strings.EqualFold(p.URN, schema.GroupURN) {
		return p.URN + ":" + p.Attr
	}
	return p.Attr
}

func isMembersKey(k string) bool {
	return strings.EqualFold(k, "members") || strings.EqualFold(k, schema.GroupURN+":members")
}

// memberValues turns an add or replace of the whole members attribute into
// changes.
func memberValues(i int, op Operation, verb string, v any) ([]MemberChange, error) {
	if v == nil {
		if verb == opReplace {
			return []MemberChange{{Kind: RemoveAllMembers}}, nil
		}
		return nil, nil
	}
	ids, err := memberIDs(i, op, v)
	if err != nil {
		return nil, err
	}
	var out []MemberChange
	if verb == opReplace {
		// Okta's "Push now" of an empty group sends replace with [] (CLIENTS.md A.6.5).
		out = append(out, MemberChange{Kind: RemoveAllMembers})
	}
	if len(ids) > 0 {
		out = append(out, MemberChange{Kind: AddMembers, IDs: ids})
	}
	return out, nil
}

// memberIDs reads a member list ([{"value": id, …}] or one such object);
// display, type and $ref that clients send along are ignored: the server
// derives them.
func memberIDs(i int, op Operation, v any) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	ids := make([]string, 0, len(list))
	seen := make(map[string]bool, len(list))
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, opError(i, op, errorf(scim.InvalidValue, "each member must be an object with a \"value\" (the member's id), got %s", describe(e)))
		}
		var id string
		for k, val := range m {
			if strings.EqualFold(k, "value") {
				id, _ = val.(string)
			}
		}
		if id == "" {
			return nil, opError(i, op, errorf(scim.InvalidValue, "a member has no \"value\": each member must name the id of a user or group"))
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids, nil
}
