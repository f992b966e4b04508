package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/scimd/scimd/internal/scim/filter"
)

// Member types.
const (
	MemberUser  = "User"
	MemberGroup = "Group"
)

// Member is one member of a group: a user or another group of the tenant.
// Memberships are stored one row each, so a change costs what it changes.
type Member struct {
	Value   string // the member's id
	Type    string // MemberUser or MemberGroup; set by the store from what Value names
	Display string // the member's displayName (users: displayName, else userName); set by the store when read
}

// Group is a stored Group resource.
type Group struct {
	ID       string
	Version  int64
	Created  time.Time
	Modified time.Time
	// Attrs holds the canonical attributes (displayName, externalId, …)
	// like User.Attrs; it never holds members.
	Attrs map[string]any
	// Members is filled only when asked for (see GroupStore); on create it
	// is the initial membership.
	Members []Member
}

// MemberOpKind says what a MemberOp does.
type MemberOpKind int

// The membership changes.
const (
	// AddMembers adds Members; a member already present is left alone.
	AddMembers MemberOpKind = iota + 1
	// RemoveMembers removes the members whose ids are in IDs; ids that are
	// not members are ignored.
	RemoveMembers
	// RemoveMembersWhere removes the members matching Where, a filter over
	// the member sub-attributes value, type and display (e.g. the filter of
	// PATCH path members[value eq "x"]).
	RemoveMembersWhere
	// RemoveAllMembers empties the group.
	RemoveAllMembers
)

// MemberOp is one membership change of an UpdateGroup, applied in order.
type MemberOp struct {
	Kind    MemberOpKind
	Members []Member    // AddMembers
	IDs     []string    // RemoveMembers
	Where   filter.Expr // RemoveMembersWhere
}

// MemberError is returned when members named in a change do not exist in
// the tenant, or when adding them would make a group contain itself.
// Nothing of the change is applied.
type MemberError struct {
	Missing []string // ids that name no user or group of the tenant
	Cycle   []string // group ids whose addition would create a cycle
}

func (e *MemberError) Error() string {
	var parts []string
	if len(e.Missing) > 0 {
		parts = append(parts, fmt.Sprintf("no user or group with id %s", quoteList(e.Missing)))
	}
	if len(e.Cycle) > 0 {
		parts = append(parts, fmt.Sprintf("adding group %s would make a group a member of itself", quoteList(e.Cycle)))
	}
	return strings.Join(parts, "; ")
}

func quoteList(ids []string) string {
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = fmt.Sprintf("%q", id)
	}
	return strings.Join(q, ", ")
}

// GroupPage is one page of groups and the number that matched in total.
type GroupPage struct {
	Total  int
	Groups []Group
	// Next is the position after the last group of the page when the
	// query used a cursor and more groups follow; nil otherwise.
	Next *Position
}

// GroupRef is a group a user belongs to.
type GroupRef struct {
	Value   string // the group's id
	Display string // its displayName
	Type    string // "direct" or "indirect"
}

// GroupStore is the part of Store that keeps groups and memberships.
type GroupStore interface {
	// CreateGroup stores a new group with its initial members (g.ID,
	// Created, Modified set by the caller; Version set to 1) and returns it
	// with the members' Type and Display. Returns a *MemberError if a
	// member does not exist. displayName is not required to be unique.
	CreateGroup(ctx context.Context, tenantID int64, g Group) (Group, error)
	// Group returns a group; its Members only when members is true (then
	// non-nil, in the order they were added). Returns ErrNotFound.
	Group(ctx context.Context, tenantID int64, id string, members bool) (Group, error)
	// UpdateGroup reads the group (without members), calls fn inside one
	// transaction, stores the attributes fn left and applies the
	// membership changes fn returns, with Version incremented; when neither
	// the attributes nor any membership changed in all (a member added
	// again, an absent one removed, one removed and added back), nothing is
	// stored and Version and Modified stay. fn's error
	// is returned unchanged; a *MemberError aborts the whole change.
	// The result carries Members only when members is true.
	UpdateGroup(ctx context.Context, tenantID int64, id string, members bool, fn func(*Group) ([]MemberOp, error)) (Group, error)
	// DeleteGroup destroys a group and every membership it is part of.
	// Returns ErrNotFound.
	DeleteGroup(ctx context.Context, tenantID int64, id string) error
	// DeleteGroupIf is DeleteGroup guarded by check, as DeleteUserIf.
	DeleteGroupIf(ctx context.Context, tenantID int64, id string, check func(version int64) error) error
	// ListGroups returns the groups that match q (filters may use
	// members[...] and members.value), with members when members is true.
	ListGroups(ctx context.Context, tenantID int64, q Query, members bool) (GroupPage, error)
	// UserGroups returns, for each of the given users, the groups it
	// belongs to directly and through nested groups (a group reached both
	// ways is "direct"); users in no group are absent from the map.
	UserGroups(ctx context.Context, tenantID int64, userIDs []string) (map[string][]GroupRef, error)
}
