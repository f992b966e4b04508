package server

import (
	"errors"
	"net/http"
	"strings"

	"github.com/scimd/scimd/internal/scim"
	"github.com/scimd/scimd/internal/scim/patch"
	"github.com/scimd/scimd/internal/scim/schema"
	"github.com/scimd/scimd/internal/store"
)

func groupProjection(r *http.Request) projection {
	q := r.URL.Query()
	return parseProjection(schema.GroupType, q.Get("attributes"), q.Get("excludedAttributes"))
}

// groupResourceOf renders a stored group; members only when the store
// loaded them.
func groupResourceOf(g store.Group, base string, withMembers bool) *resource {
	attrs := g.Attrs
	if withMembers && len(g.Members) > 0 {
		attrs = make(map[string]any, len(g.Attrs)+1)
		for k, v := range g.Attrs {
			attrs[k] = v
		}
		list := make([]any, len(g.Members))
		for i, m := range g.Members {
			e := map[string]any{"value": m.Value, "type": m.Type}
			if m.Display != "" {
				e["display"] = m.Display
			}
			endpoint := schema.UserType.Endpoint
			if m.Type == store.MemberGroup {
				endpoint = schema.GroupType.Endpoint
			}
			e["$ref"] = base + endpoint + "/" + m.Value
			list[i] = e
		}
		attrs["members"] = list
	}
	return &resource{rt: schema.GroupType, id: g.ID, version: g.Version, created: g.Created, modified: g.Modified, attrs: attrs}
}

// validateGroup checks the rules a stored group must satisfy.
func validateGroup(attrs map[string]any) error {
	name, _ := attrs["displayName"].(string)
	if strings.TrimSpace(name) == "" {
		return scim.BadRequest(scim.InvalidValue, "displayName is required and must be a non-empty string")
	}
	return nil
}

// groupInput normalises a Group body and takes its members out of the
// attributes: members live in rows, never in the group's document.
func groupInput(r *http.Request) (attrs map[string]any, members []store.Member, err error) {
	in, err := readResource(r, schema.GroupType)
	if err != nil {
		return nil, nil, err
	}
	if err := validateGroup(in.attrs); err != nil {
		return nil, nil, err
	}
	list, _ := in.attrs["members"].([]any)
	delete(in.attrs, "members")
	seen := map[string]bool{}
	for _, e := range list {
		m, _ := e.(map[string]any)
		id, _ := m["value"].(string)
		if id == "" {
			return nil, nil, scim.BadRequest(scim.InvalidValue, "a member has no \"value\": each member must name the id of a user or group")
		}
		if !seen[id] {
			seen[id] = true
			members = append(members, store.Member{Value: id})
		}
	}
	return in.attrs, members, nil
}

// groupError maps the store's membership errors to SCIM errors.
func groupError(id string, err error) error {
	var me *store.MemberError
	switch {
	case errors.As(err, &me):
		return scim.BadRequest(scim.InvalidValue, "%s; nothing was changed", me.Error())
	case errors.Is(err, store.ErrNotFound):
		return scim.NotFound("no group with id %q", id)
	}
	return err
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request) error {
	attrs, members, err := groupInput(r)
	if err != nil {
		return err
	}
	now := s.now().UTC()
	g, err := s.store.CreateGroup(r.Context(), tenantOf(r).ID, store.Group{
		ID: newID(), Created: now, Modified: now, Attrs: attrs, Members: members,
	})
	if err != nil {
		return groupError("", err)
	}
	after := withMemberNote(g.Attrs, "members", memberValues(members))
	noteChange(r.Context(), g.ID, nil, after)
	proj := groupProjection(r)
	withMembers := proj.wants("members")
	if withMembers && len(members) > 0 {
		// The response shows members with the type and display the store derived.
		if g, err = s.store.Group(r.Context(), tenantOf(r).ID, g.ID, true); err != nil {
			return err
		}
	}
	writeResource(w, r, http.StatusCreated, groupResourceOf(g, infoFrom(r.Context()).base, withMembers), proj)
	return nil
}

func (s *Server) getGroup(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	proj := groupProjection(r)
	withMembers := proj.wants("members")
	if withMembers {
		release, err := s.heavy(w, r)
		if err != nil {
			return err
		}
		defer release()
	}
	g, err := s.store.Group(r.Context(), tenantOf(r).ID, id, withMembers)
	if err != nil {
		return groupError(id, err)
	}
	if m := r.Header.Get("If-None-Match"); m != "" && etagMatches(m, g.Version) {
		w.Header().Set("ETag", etag(g.Version))
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	writeResource(w, r, http.StatusOK, groupResourceOf(g, infoFrom(r.Context()).base, withMembers), proj)
	return nil
}

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request, lq listQuery) error {
	if err := s.resolveCursor(r.Context(), &lq); err != nil {
		return err
	}
	withMembers := lq.proj.wants("members")
	if withMembers {
		release, err := s.heavy(w, r)
		if err != nil {
			return err
		}
		defer release()
	}
	page, err := s.store.ListGroups(r.Context(), tenantOf(r).ID, lq.q, withMembers)
	if err != nil {
		return err
	}
	base := infoFrom(r.Context()).base
	items := make([]*resource, len(page.Groups))
	for i, g := range page.Groups {
		items[i] = groupResourceOf(g, base, withMembers)
	}
	p, err := s.pageOf(r.Context(), lq, page.Total, items, page.Next)
	if err != nil {
		return err
	}
	writeList(w, r, p, lq.proj)
	return nil
}

// updateGroup runs change inside the store's transaction and writes the
// result: the group, with members when withMembers is set, or, when
// noContent is set, 204 No Content with the new ETag.
func (s *Server) updateGroup(w http.ResponseWriter, r *http.Request, withMembers, noContent bool, change func(g *store.Group) ([]store.MemberOp, error)) error {
	if withMembers {
		release, err := s.heavy(w, r)
		if err != nil {
			return err
		}
		defer release()
	}
	id := r.PathValue("id")
	var before map[string]any
	var beforeVersion int64
	var memberOps []store.MemberOp
	g, err := s.store.UpdateGroup(r.Context(), tenantOf(r).ID, id, withMembers, func(g *store.Group) ([]store.MemberOp, error) {
		before, beforeVersion = g.Attrs, g.Version
		if err := checkIfMatch(r, g.Version); err != nil {
			return nil, err
		}
		ops, err := change(g)
		if err != nil {
			return nil, err
		}
		if err := validateGroup(g.Attrs); err != nil {
			return nil, err
		}
		g.Modified = s.now().UTC()
		memberOps = ops
		return ops, nil
	})
	if err != nil {
		return groupError(id, err)
	}
	if g.Version == beforeVersion {
		memberOps = nil // nothing changed (RFC 7644 §3.5.2): no change to note
	}
	noteChange(r.Context(), id, before, noteMemberOps(g.Attrs, memberOps))
	if noContent {
		w.Header().Set("ETag", etag(g.Version))
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	writeResource(w, r, http.StatusOK, groupResourceOf(g, infoFrom(r.Context()).base, withMembers), groupProjection(r))
	return nil
}

func (s *Server) replaceGroup(w http.ResponseWriter, r *http.Request) error {
	attrs, members, err := groupInput(r)
	if err != nil {
		return err
	}
	return s.updateGroup(w, r, groupProjection(r).wants("members"), false, func(g *store.Group) ([]store.MemberOp, error) {
		g.Attrs = attrs
		ops := []store.MemberOp{{Kind: store.RemoveAllMembers}}
		if len(members) > 0 {
			ops = append(ops, store.MemberOp{Kind: store.AddMembers, Members: members})
		}
		return ops, nil
	})
}

func (s *Server) patchGroup(w http.ResponseWriter, r *http.Request) error {
	raw, err := readAll(r)
	if err != nil {
		return err
	}
	ops, err := decodePatch(raw)
	if err != nil {
		return err
	}
	rest, changes, err := patch.SplitMembers(ops)
	if err != nil {
		return patchError(err)
	}
	memberOps := make([]store.MemberOp, 0, len(changes))
	for _, c := range changes {
		op := store.MemberOp{IDs: c.IDs, Where: c.Where}
		switch c.Kind {
		case patch.AddMembers:
			op = store.MemberOp{Kind: store.AddMembers, Members: make([]store.Member, len(c.IDs))}
			for i, id := range c.IDs {
				op.Members[i] = store.Member{Value: id}
			}
		case patch.RemoveMembers:
			op.Kind = store.RemoveMembers
		case patch.RemoveMembersWhere:
			op.Kind = store.RemoveMembersWhere
		case patch.RemoveAllMembers:
			op.Kind = store.RemoveAllMembers
		}
		memberOps = append(memberOps, op)
	}
	// RFC 7644 §3.5.2: a PATCH answers 200 with the whole resource (members
	// are returned by default) or 204. A group's PATCH answers 204, with the
	// new ETag, unless the request names attributes or excludedAttributes:
	// then 200 with the group they select. So a one-member change to a
	// 100,000-member group never re-sends the group, and a client that
	// wants the result asks for what it wants. Okta and Entra ID accept 204
	// (CLIENTS.md A.6, B.6; Entra recommends it).
	q := r.URL.Query()
	noContent := !q.Has("attributes") && !q.Has("excludedAttributes")
	withMembers := !noContent && groupProjection(r).wants("members")
	return s.updateGroup(w, r, withMembers, noContent, func(g *store.Group) ([]store.MemberOp, error) {
		if len(rest) > 0 {
			attrs, _, err := patch.Apply(schema.GroupType, g.Attrs, rest)
			if err != nil {
				return nil, patchError(err)
			}
			g.Attrs = attrs
		}
		return memberOps, nil
	})
}

func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := s.store.DeleteGroupIf(r.Context(), tenantOf(r).ID, id, ifMatch(r)); err != nil {
		return groupError(id, err)
	}
	noteChange(r.Context(), id, nil, nil)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Membership changes are not attributes of the group's document; for the
// activity record they appear as pseudo-attributes next to them.

func memberValues(ms []store.Member) []any {
	out := make([]any, len(ms))
	for i, m := range ms {
		out[i] = m.Value
	}
	return out
}

func withMemberNote(attrs map[string]any, key string, v any) map[string]any {
	out := make(map[string]any, len(attrs)+1)
	for k, e := range attrs {
		out[k] = e
	}
	if l, ok := v.([]any); !ok || len(l) > 0 {
		out[key] = v
	}
	return out
}

// noteMemberOps describes membership changes for the activity record:
// "members.added", "members.removed" (ids), "members.removedWhere"
// (filters) and "members.removedAll".
func noteMemberOps(attrs map[string]any, ops []store.MemberOp) map[string]any {
	if len(ops) == 0 {
		return attrs
	}
	var added, removed, where []any
	all := false
	for _, op := range ops {
		switch op.Kind {
		case store.AddMembers:
			added = append(added, memberValues(op.Members)...)
		case store.RemoveMembers:
			for _, id := range op.IDs {
				removed = append(removed, id)
			}
		case store.RemoveMembersWhere:
			where = append(where, op.Where.String())
		case store.RemoveAllMembers:
			all = true
		}
	}
	out := withMemberNote(attrs, "members.added", added)
	out = withMemberNote(out, "members.removed", removed)
	out = withMemberNote(out, "members.removedWhere", where)
	if all {
		out["members.removedAll"] = true
	}
	return out
}

// heavy takes one of the tenant's slots for requests that return groups
// with their members (a group may have 100,000), so that few of them take
// memory at once; it answers 429 when none frees in time.
func (s *Server) heavy(w http.ResponseWriter, r *http.Request) (func(), error) {
	if s.limits == nil {
		return func() {}, nil
	}
	release, err := s.limits.AcquireHeavy(r.Context(), tenantOf(r).ID)
	if err != nil {
		return nil, s.refused(w, err)
	}
	return release, nil
}
