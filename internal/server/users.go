package server

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/scimd/scimd/internal/auth"
	"github.com/scimd/scimd/internal/scim"
	"github.com/scimd/scimd/internal/scim/patch"
	"github.com/scimd/scimd/internal/scim/schema"
	"github.com/scimd/scimd/internal/store"
)

func tenantOf(r *http.Request) store.Tenant {
	p, _ := auth.PrincipalFrom(r.Context())
	return p.Tenant
}

func userResourceOf(u store.User) *resource {
	return &resource{rt: schema.UserType, id: u.ID, version: u.Version, created: u.Created, modified: u.Modified, attrs: u.Attrs}
}

func userProjection(r *http.Request) projection {
	q := r.URL.Query()
	return parseProjection(schema.UserType, q.Get("attributes"), q.Get("excludedAttributes"))
}

// validateUser checks the rules a stored user must satisfy whatever wrote it.
func validateUser(attrs map[string]any) error {
	name, _ := attrs["userName"].(string)
	if strings.TrimSpace(name) == "" {
		return scim.BadRequest(scim.InvalidValue, "userName is required and must be a non-empty string")
	}
	if len(name) > 1024 {
		return scim.BadRequest(scim.InvalidValue, "userName is longer than 1024 bytes")
	}
	return nil
}

// hashPassword returns the stored form of a pushed password: an argon2id
// hash when the tenant allows password sign-in, else nothing (the password
// is neither hashed nor kept: Okta sends a placeholder on every create).
func hashPassword(ctx context.Context, t store.Tenant, p *string) (string, error) {
	if p == nil || !t.PasswordSignIn || *p == "" {
		return "", nil
	}
	if len(*p) > 1024 {
		return "", scim.BadRequest(scim.InvalidValue, "password is longer than 1024 bytes")
	}
	return auth.HashPassword(ctx, *p)
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) error {
	in, err := readResource(r, schema.UserType)
	if err != nil {
		return err
	}
	if err := validateUser(in.attrs); err != nil {
		return err
	}
	if _, ok := in.attrs["active"]; !ok {
		in.attrs["active"] = true
	}
	t := tenantOf(r)
	hash, err := hashPassword(r.Context(), t, in.password)
	if err != nil {
		return err
	}
	now := s.now().UTC()
	u, err := s.store.CreateUser(r.Context(), t.ID, store.User{
		ID: newID(), Created: now, Modified: now, Attrs: in.attrs, PasswordHash: hash,
	})
	if errors.Is(err, store.ErrConflict) {
		return scim.Errorf(http.StatusConflict, scim.Uniqueness, "a user with userName %q already exists", in.attrs["userName"])
	}
	if err != nil {
		return err
	}
	noteChange(r.Context(), u.ID, nil, u.Attrs)
	writeResource(w, r, http.StatusCreated, userResourceOf(u), userProjection(r))
	return nil
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	u, err := s.store.User(r.Context(), tenantOf(r).ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return scim.NotFound("no user with id %q", id)
	}
	if err != nil {
		return err
	}
	if m := r.Header.Get("If-None-Match"); m != "" && etagMatches(m, u.Version) {
		w.Header().Set("ETag", etag(u.Version))
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	return s.writeUser(w, r, http.StatusOK, u)
}

// writeUser writes one user with its derived groups attribute.
func (s *Server) writeUser(w http.ResponseWriter, r *http.Request, status int, u store.User) error {
	res, proj := userResourceOf(u), userProjection(r)
	if err := s.addUserGroups(r, proj, []*resource{res}); err != nil {
		return err
	}
	writeResource(w, r, status, res, proj)
	return nil
}

// addUserGroups sets the read-only groups attribute (direct and indirect
// memberships) of the users about to be rendered, with one query for all
// of them, unless the projection leaves groups out.
func (s *Server) addUserGroups(r *http.Request, proj projection, items []*resource) error {
	if len(items) == 0 || !proj.wants("groups") {
		return nil
	}
	ids := make([]string, len(items))
	for i, res := range items {
		ids[i] = res.id
	}
	groups, err := s.store.UserGroups(r.Context(), tenantOf(r).ID, ids)
	if err != nil {
		return err
	}
	base := infoFrom(r.Context()).base
	for _, res := range items {
		refs := groups[res.id]
		if len(refs) == 0 {
			continue
		}
		list := make([]any, len(refs))
		for i, g := range refs {
			list[i] = map[string]any{"value": g.Value, "display": g.Display, "type": g.Type,
				"$ref": base + schema.GroupType.Endpoint + "/" + g.Value}
		}
		attrs := make(map[string]any, len(res.attrs)+1)
		for k, v := range res.attrs {
			attrs[k] = v
		}
		attrs["groups"] = list
		res.attrs = attrs
	}
	return nil
}

// etagMatches reports whether an If-Match / If-None-Match header value
// names version (or is "*").
func etagMatches(header string, version int64) bool {
	want := etag(version)
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || t == want || "W/"+t == want {
			return true
		}
	}
	return false
}

// ifMatch returns the version check of a conditional delete, or nil when
// the request has no If-Match.
func ifMatch(r *http.Request) func(int64) error {
	if r.Header.Get("If-Match") == "" {
		return nil
	}
	return func(v int64) error { return checkIfMatch(r, v) }
}

// checkIfMatch returns 412 when the request's If-Match names another version.
func checkIfMatch(r *http.Request, version int64) error {
	if m := r.Header.Get("If-Match"); m != "" && !etagMatches(m, version) {
		return scim.Errorf(http.StatusPreconditionFailed, "", "the resource has changed: its version is now %s", etag(version))
	}
	return nil
}

// updateUser runs change on the stored user inside the store's transaction
// and writes the result. setsPassword says whether change may set the
// password: only then are the user's console roles read (see privileged).
func (s *Server) updateUser(w http.ResponseWriter, r *http.Request, setsPassword bool, change func(u *store.User) error) error {
	id := r.PathValue("id")
	t := tenantOf(r)
	var before map[string]any
	privileged := false
	if setsPassword {
		var err error
		if privileged, err = s.privileged(r.Context(), t.ID, id); err != nil {
			return err
		}
	}
	kept := false
	u, err := s.store.UpdateUser(r.Context(), t.ID, id, func(u *store.User) error {
		before = u.Attrs
		if err := checkIfMatch(r, u.Version); err != nil {
			return err
		}
		hash := u.PasswordHash
		if err := change(u); err != nil {
			return err
		}
		// A SCIM key is a machine credential kept by a third party: it
		// may not set the console password of someone who manages the
		// site (keys, settings, roles, users), who could then be
		// impersonated. Their password is set in the console only.
		kept = privileged && u.PasswordHash != hash
		if kept {
			u.PasswordHash = hash
		}
		if err := validateUser(u.Attrs); err != nil {
			return err
		}
		u.Modified = s.now().UTC()
		return nil
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return scim.NotFound("no user with id %q", id)
	case errors.Is(err, store.ErrConflict):
		return scim.Errorf(http.StatusConflict, scim.Uniqueness, "another user already has this userName")
	case err != nil:
		return err
	}
	if kept {
		noteLeniency(r.Context(), "password not changed: this user holds a console role that manages the site, and such passwords are set in the console only")
	}
	noteChange(r.Context(), id, before, u.Attrs)
	return s.writeUser(w, r, http.StatusOK, u)
}

// privilegedPermissions are the console permissions that manage the site:
// a user who holds one is an administrator, whose credentials SCIM may not
// set.
var privilegedPermissions = []string{store.PermManageAPIKeys, store.PermManageSettings, store.PermManageRoles, store.PermManageUsers}

// privileged reports whether the tenant's user holds a console role with a
// privileged permission (false where the store keeps no console data).
func (s *Server) privileged(ctx context.Context, tenantID int64, userID string) (bool, error) {
	cs, ok := s.store.(store.ConsoleStore)
	if !ok {
		return false, nil
	}
	roles, err := cs.UserRoles(ctx, tenantID, userID)
	if err != nil {
		return false, err
	}
	for _, r := range roles {
		for _, p := range privilegedPermissions {
			if r.Name == store.RoleOwner || r.Has(p) {
				return true, nil
			}
		}
	}
	return false, nil
}

func (s *Server) replaceUser(w http.ResponseWriter, r *http.Request) error {
	in, err := readResource(r, schema.UserType)
	if err != nil {
		return err
	}
	t := tenantOf(r)
	// Hash outside the transaction: it is slow on purpose.
	hash, err := hashPassword(r.Context(), t, in.password)
	if err != nil {
		return err
	}
	return s.updateUser(w, r, hash != "", func(u *store.User) error {
		if _, ok := in.attrs["active"]; !ok {
			// A PUT that omits active must not deactivate the user
			// (CLIENTS.md A.3: Delinea, Okta AIW bodies built from our GET).
			in.attrs["active"] = u.Attrs["active"]
			if in.attrs["active"] == nil {
				in.attrs["active"] = true
			}
		}
		u.Attrs = in.attrs
		if hash != "" {
			u.PasswordHash = hash
		}
		return nil
	})
}

func (s *Server) patchUser(w http.ResponseWriter, r *http.Request) error {
	raw, err := readAll(r)
	if err != nil {
		return err
	}
	ops, err := decodePatch(raw)
	if err != nil {
		return err
	}
	t := tenantOf(r)
	// A password pushed by PATCH (Okta's password sync) is hashed before the
	// write transaction, which must stay short: a first pass over the
	// current user finds it.
	// Entra ID replaces values its users do not have yet (see
	// patch.Options.CreateOnReplace); every other client gets RFC 7644
	// §3.5.2.3's noTarget.
	opts := patch.Options{CreateOnReplace: scim.ClientOf(r.UserAgent()) == scim.ClientEntra}
	var plain *string
	var hash string
	if t.PasswordSignIn && mentionsPassword(ops) {
		if cur, err := s.store.User(r.Context(), t.ID, r.PathValue("id")); err == nil {
			if out, err := patch.ApplyWith(schema.UserType, cur.Attrs, ops, opts); err == nil && out.Password != nil {
				pw := out.Password
				if hash, err = hashPassword(r.Context(), t, pw); err != nil {
					return err
				}
				plain = pw
			}
		}
	}
	var lenient []string
	err = s.updateUser(w, r, t.PasswordSignIn && mentionsPassword(ops), func(u *store.User) error {
		out, err := patch.ApplyWith(schema.UserType, u.Attrs, ops, opts)
		if err != nil {
			return patchError(err)
		}
		attrs, pw := out.Attrs, out.Password
		lenient = out.Lenient
		if pw != nil && t.PasswordSignIn && *pw != "" {
			if plain == nil || *plain != *pw {
				// The user changed between the two passes; hash now.
				if hash, err = hashPassword(r.Context(), t, pw); err != nil {
					return err
				}
			}
			u.PasswordHash = hash
		}
		collapseAllDuplicates(schema.UserType, attrs)
		u.Attrs = attrs
		return nil
	})
	if err == nil {
		noteLeniency(r.Context(), lenient...)
	}
	return err
}

// mentionsPassword reports whether any operation may set the password. A
// false positive only costs the extra read of the first pass.
func mentionsPassword(ops []patch.Operation) bool {
	for _, op := range ops {
		if strings.Contains(strings.ToLower(op.Path), "password") {
			return true
		}
		if op.Path == "" {
			if b, err := json.Marshal(op.Value); err == nil && strings.Contains(strings.ToLower(string(b)), "password") {
				return true
			}
		}
	}
	return false
}

// decodePatch decodes a PatchOp body; a NUL anywhere is refused (see checkNUL).
func decodePatch(raw []byte) ([]patch.Operation, error) {
	ops, err := patch.Decode(raw)
	if err != nil {
		return nil, patchError(err)
	}
	for _, op := range ops {
		if err := checkNUL([]any{op.Path, op.Value}); err != nil {
			return nil, err
		}
	}
	return ops, nil
}

func patchError(err error) error {
	var pe *patch.Error
	if errors.As(err, &pe) {
		return scim.BadRequest(pe.ScimType, "%s", pe.Msg)
	}
	return err
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	t := tenantOf(r)
	err := s.store.DeleteUserIf(r.Context(), t.ID, id, t.OnDelete != store.OnDeletePurge, ifMatch(r))
	if errors.Is(err, store.ErrNotFound) {
		return scim.NotFound("no user with id %q", id)
	}
	if err != nil {
		return err
	}
	noteChange(r.Context(), id, nil, nil)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// readAll reads a request's JSON body (see readJSON).
func readAll(r *http.Request) ([]byte, error) { return readJSON(r.Body) }

// newID returns a random RFC 4122 version 4 UUID, the id of a new resource.
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
