package hostapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/scimd/scimd/internal/events"
	"github.com/scimd/scimd/internal/scim/schema"
	"github.com/scimd/scimd/internal/store"
)

// statusJSON is a user's status as the sign-in check answers it. Exactly
// one of ID and UserName is null for a user that does not exist: the one
// that was not asked.
type statusJSON struct {
	ID       *string     `json:"id"`
	UserName *string     `json:"userName"`
	Active   bool        `json:"active"`
	Archived bool        `json:"archived"`
	Exists   bool        `json:"exists"`
	Groups   []groupJSON `json:"groups"`
}

type groupJSON struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	Type        string `json:"type"` // "direct" or "indirect"
}

func statusOf(st store.UserStatus) statusJSON {
	out := statusJSON{ID: &st.ID, UserName: &st.UserName, Active: st.Active && !st.Archived, Archived: st.Archived, Exists: true,
		Groups: groupsOf(st.Groups)}
	return out
}

func groupsOf(refs []store.GroupRef) []groupJSON {
	out := make([]groupJSON, len(refs))
	for i, g := range refs {
		out[i] = groupJSON{ID: g.Value, DisplayName: g.Display, Type: g.Type}
	}
	return out
}

// user serves GET /api/v1/tenants/{tenant}/users/{id}: the sign-in check
// by id. An unknown user is no error: exists is false.
func (a *API) user(w http.ResponseWriter, r *http.Request, k store.AppKey) error {
	if err := checkParams(r.URL.Query()); err != nil {
		return err
	}
	t, err := a.tenant(r.Context(), k, r.PathValue("tenant"))
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	st, err := a.host.UserStatus(r.Context(), t.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return writeJSON(w, http.StatusOK, statusJSON{ID: &id, Groups: []groupJSON{}})
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, statusOf(st))
}

// resyncUser is one user of a resync page: its status and its SCIM
// resource, as the data.resource of its events shows it.
type resyncUser struct {
	statusJSON
	Resource json.RawMessage `json:"resource"`
}

// resyncPage is a page of GET /api/v1/tenants/{tenant}/users.
type resyncPage struct {
	Users []resyncUser `json:"users"`
	// NextCursor is set while more users follow.
	NextCursor string `json:"next_cursor,omitempty"`
	// EventsCursor, on the first page only, is where to read the events
	// feed from once the last page is read.
	EventsCursor string `json:"events_cursor,omitempty"`
}

// users serves GET /api/v1/tenants/{tenant}/users: the sign-in check by
// userName, or a page of the resync of the tenant's live users.
func (a *API) users(w http.ResponseWriter, r *http.Request, k store.AppKey) error {
	ctx := r.Context()
	t, err := a.tenant(ctx, k, r.PathValue("tenant"))
	if err != nil {
		return err
	}
	p, err := parseUsersParams(r.URL.Query(), t.ID)
	if err != nil {
		return err
	}
	if p.userName != "" {
		st, err := a.host.UserStatusByUserName(ctx, t.ID, p.userName)
		if errors.Is(err, store.ErrNotFound) {
			return writeJSON(w, http.StatusOK, statusJSON{UserName: &p.userName, Groups: []groupJSON{}})
		}
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, statusOf(st))
	}

	var out resyncPage
	q := store.Query{Cursor: true, Count: p.limit}
	if p.after != nil {
		q.After = &store.Position{Seq: *p.after}
	} else {
		// Taken before the first page is read: every change after it is
		// in the feed from here, every change before it in the pages.
		head, err := a.store.EventsHead(ctx)
		if err != nil {
			return err
		}
		out.EventsCursor = events.Cursor(head)
	}
	page, err := a.store.ListUsers(ctx, t.ID, q)
	if err != nil {
		return err
	}
	ids := make([]string, len(page.Users))
	for i, u := range page.Users {
		ids[i] = u.ID
	}
	groups, err := a.store.UserGroups(ctx, t.ID, ids)
	if err != nil {
		return err
	}
	out.Users = make([]resyncUser, len(page.Users))
	for i, u := range page.Users {
		userName, _ := u.Attrs["userName"].(string)
		res, err := scimUser(u)
		if err != nil {
			return err
		}
		out.Users[i] = resyncUser{statusJSON: statusJSON{ID: &page.Users[i].ID, UserName: &userName, Active: u.Attrs["active"] != false,
			Exists: true, Groups: groupsOf(groups[u.ID])}, Resource: res}
	}
	if page.Next != nil {
		out.NextCursor = encodeUsersCursor(t.ID, page.Next.Seq)
	}
	return writeJSON(w, http.StatusOK, out)
}

// scimUser is u as a SCIM resource, in the form of the data.resource of
// its events: schemas, id, meta (without location) and the attributes;
// never the password.
func scimUser(u store.User) (json.RawMessage, error) {
	exts := []string{}
	for k := range u.Attrs {
		if strings.HasPrefix(k, "urn:") {
			exts = append(exts, k)
		}
	}
	sort.Strings(exts)
	m := make(map[string]any, len(u.Attrs)+3)
	for k, v := range u.Attrs {
		m[k] = v
	}
	m["schemas"] = append([]string{schema.UserURN}, exts...)
	m["id"] = u.ID
	m["meta"] = map[string]string{
		"resourceType": "User",
		"created":      u.Created.UTC().Format(time.RFC3339Nano),
		"lastModified": u.Modified.UTC().Format(time.RFC3339Nano),
		"version":      `W/"` + strconv.FormatInt(u.Version, 10) + `"`,
	}
	delete(m, "password")
	b, err := json.Marshal(m)
	return b, err
}
