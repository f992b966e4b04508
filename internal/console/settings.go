package console

import (
	"errors"
	"net/http"
	"slices"
	"strconv"

	"github.com/scimd/scimd/internal/store"
)

// settingsData is what the settings page shows besides the tenant.
type settingsData struct {
	// ConfirmNoSignIn asks to confirm turning password sign-in off.
	ConfirmNoSignIn bool
}

func (c *Console) settingsPage(w http.ResponseWriter, r *http.Request, q *req) error {
	v := c.view(q, "General Settings", settingsData{})
	v.Flash = r.URL.Query().Get("saved")
	if v.Flash != "" {
		v.Flash = "Settings saved."
	}
	c.render(w, http.StatusOK, "settings", v)
	return nil
}

func (c *Console) updateSettings(w http.ResponseWriter, r *http.Request, q *req) error {
	onDelete := r.PostFormValue("onDelete")
	if onDelete != store.OnDeleteArchive && onDelete != store.OnDeletePurge {
		return errorf(http.StatusBadRequest, "onDelete must be archive or purge.")
	}
	signIn := r.PostFormValue("passwordSignIn") == "on"
	if q.tenant.PasswordSignIn && !signIn && r.PostFormValue("confirmNoSignIn") != "on" {
		// Password sign-in is the console's only way in: turning it off
		// locks out everyone, the Owner who does it too.
		v := c.view(q, "General Settings", settingsData{ConfirmNoSignIn: true})
		// The form as it was sent.
		v.Tenant.APIKeysEnabled, v.Tenant.PasswordSignIn, v.Tenant.OnDelete = r.PostFormValue("apiKeys") == "on", false, onDelete
		v.Error = "Turning off password sign-in locks everyone out of this console, you included: nobody can sign in until the operator turns it on again. To do it anyway, tick \"I understand\" and save again."
		c.render(w, http.StatusConflict, "settings", v)
		return nil
	}
	_, err := c.st.UpdateTenant(r.Context(), q.tenant.Name, func(t *store.Tenant) error {
		t.APIKeysEnabled = r.PostFormValue("apiKeys") == "on"
		t.PasswordSignIn = signIn
		t.OnDelete = onDelete
		return nil
	})
	if err != nil {
		return err
	}
	c.log.Info("console: settings changed", "tenant", q.tenant.Name, "by", q.userName())
	return redirect(w, r, q, "/settings?saved=1")
}

type rolesData struct {
	Roles       []store.Role
	Permissions []string
	Members     map[int64][]string // role id → userNames
}

func (c *Console) rolesPage(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := c.cs.EnsureDefaultRoles(r.Context(), q.tenant.ID); err != nil {
		return err
	}
	roles, err := c.cs.Roles(r.Context(), q.tenant.ID)
	if err != nil {
		return err
	}
	as, err := c.cs.RoleAssignments(r.Context(), q.tenant.ID)
	if err != nil {
		return err
	}
	d := rolesData{Roles: roles, Permissions: store.Permissions, Members: map[int64][]string{}}
	for _, a := range as {
		name := a.UserID
		if u, err := c.st.User(r.Context(), q.tenant.ID, a.UserID); err == nil {
			name, _ = u.Attrs["userName"].(string)
		}
		d.Members[a.RoleID] = append(d.Members[a.RoleID], name)
	}
	v := c.view(q, "Roles and permissions", d)
	if r.URL.Query().Get("saved") != "" {
		v.Flash = "Role saved."
	}
	c.render(w, http.StatusOK, "roles", v)
	return nil
}

// updateRole sets a role's permissions. The Owner role always holds every
// permission and cannot be edited.
func (c *Console) updateRole(w http.ResponseWriter, r *http.Request, q *req) error {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	roles, err := c.cs.Roles(r.Context(), q.tenant.ID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(roles, func(x store.Role) bool { return x.ID == id })
	if i < 0 {
		return errorf(http.StatusNotFound, "There is no such role.")
	}
	if roles[i].Name == store.RoleOwner {
		return errorf(http.StatusBadRequest, "The Owner role always holds every permission.")
	}
	if err := r.ParseForm(); err != nil {
		return errorf(http.StatusBadRequest, "Bad form.")
	}
	var perms []string
	for _, p := range r.PostForm["perm"] {
		if !slices.Contains(store.Permissions, p) {
			return errorf(http.StatusBadRequest, "Unknown permission %q.", p)
		}
		perms = append(perms, p)
	}
	if err := c.cs.SetRolePermissions(r.Context(), q.tenant.ID, id, perms); err != nil {
		return err
	}
	c.log.Info("console: role changed", "tenant", q.tenant.Name, "role", roles[i].Name, "permissions", perms, "by", q.userName())
	return redirect(w, r, q, "/roles?saved=1")
}

// setUserRoles assigns roles to a user. Only an Owner may grant or take
// away the Owner role, and the last Owner keeps it.
func (c *Console) setUserRoles(w http.ResponseWriter, r *http.Request, q *req) error {
	userID := r.PathValue("id")
	if _, err := c.st.User(r.Context(), q.tenant.ID, userID); errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusNotFound, "There is no such user.")
	} else if err != nil {
		return err
	}
	roles, err := c.cs.Roles(r.Context(), q.tenant.ID)
	if err != nil {
		return err
	}
	current, err := c.cs.UserRoles(r.Context(), q.tenant.ID, userID)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return errorf(http.StatusBadRequest, "Bad form.")
	}
	var ids []int64
	var owner store.Role
	wantOwner := false
	for _, role := range roles {
		if role.Name == store.RoleOwner {
			owner = role
		}
		if slices.Contains(r.PostForm["role"], strconv.FormatInt(role.ID, 10)) {
			ids = append(ids, role.ID)
			wantOwner = wantOwner || role.Name == store.RoleOwner
		}
	}
	hadOwner := slices.ContainsFunc(current, func(x store.Role) bool { return x.Name == store.RoleOwner })
	if wantOwner != hadOwner {
		if !q.isOwner() {
			return errorf(http.StatusForbidden, "Only an Owner can grant or remove the Owner role.")
		}
		if hadOwner {
			as, err := c.cs.RoleAssignments(r.Context(), q.tenant.ID)
			if err != nil {
				return err
			}
			owners := 0
			for _, a := range as {
				if a.RoleID == owner.ID {
					owners++
				}
			}
			if owners <= 1 {
				return errorf(http.StatusConflict, "This is the site's last Owner: make someone else an Owner first.")
			}
		}
	}
	if err := c.cs.SetUserRoles(r.Context(), q.tenant.ID, userID, ids); errors.Is(err, store.ErrLastOwner) {
		// Another admin took the other Owner's role meanwhile.
		return errorf(http.StatusConflict, "This is the site's last Owner: make someone else an Owner first.")
	} else if err != nil {
		return err
	}
	c.log.Info("console: user roles changed", "tenant", q.tenant.Name, "user", userID, "by", q.userName())
	return redirect(w, r, q, "/users/"+userID+"?saved=roles")
}
