package console

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/scimd/scimd/internal/auth"
	"github.com/scimd/scimd/internal/scim/filter"
	"github.com/scimd/scimd/internal/store"
)

const usersPerPage = 50

type userRow struct {
	ID, UserName, DisplayName, Email string
	Active                           bool
	Created, Modified                time.Time
}

func rowOf(u store.User) userRow {
	row := userRow{ID: u.ID, Active: true, Created: u.Created, Modified: u.Modified}
	row.UserName, _ = u.Attrs["userName"].(string)
	row.DisplayName, _ = u.Attrs["displayName"].(string)
	if row.DisplayName == "" {
		if n, ok := u.Attrs["name"].(map[string]any); ok {
			g, _ := n["givenName"].(string)
			f, _ := n["familyName"].(string)
			row.DisplayName = strings.TrimSpace(g + " " + f)
		}
	}
	if a, ok := u.Attrs["active"].(bool); ok {
		row.Active = a
	}
	if es, ok := u.Attrs["emails"].([]any); ok && len(es) > 0 {
		for _, e := range es {
			if m, ok := e.(map[string]any); ok {
				if s, _ := m["value"].(string); s != "" && (row.Email == "" || m["primary"] == true) {
					row.Email = s
				}
			}
		}
	}
	return row
}

// userSorts are the columns the users list sorts by: the sort parameter's
// value and the store's SortBy. E-mail is not among them: the addresses
// are in a side table, and sorting by them would read every user.
var userSorts = []struct{ param, sortBy, label string }{
	{"userName", "userName", "userName"},
	{"name", "displayName", "Name"},
	{"status", "active", "Status"},
	{"created", "meta.created", "Created"},
	{"modified", "meta.lastModified", "Modified"},
}

// userSearch is the search of the users list and of its CSV export, read
// from the query string: the text typed (filter), the status, the sort.
type userSearch struct {
	Text, Status string
	Sort         string // a userSorts param, or "" for creation order
	Desc         bool
	// What the text was taken as: Filter when it parses as a SCIM filter,
	// else Words.
	Filter     filter.Expr
	Words      []string
	NotAFilter string // why the text is not a SCIM filter, when it looks like one
}

// readUserSearch reads the search parameters of r.
func readUserSearch(r *http.Request) userSearch {
	qs := r.URL.Query()
	s := userSearch{Text: strings.TrimSpace(qs.Get("filter")), Status: qs.Get("status"), Desc: qs.Get("order") == "desc"}
	if s.Status != "active" && s.Status != "inactive" {
		s.Status = "all"
	}
	for _, us := range userSorts {
		if qs.Get("sort") == us.param {
			s.Sort = us.param
		}
	}
	if s.Sort == "" {
		s.Desc = false
	}
	if s.Text == "" {
		return s
	}
	f, err := filter.Parse(s.Text)
	if err == nil {
		s.Filter = f
		return s
	}
	s.Words = strings.Fields(s.Text)
	if strings.ContainsAny(s.Text, `"[]()`) {
		s.NotAFilter = err.Error()
	}
	return s
}

// query is the store query of s.
func (s userSearch) query() store.Query {
	q := store.Query{Filter: s.Filter, Words: s.Words, SortDescending: s.Desc}
	for _, us := range userSorts {
		if us.param == s.Sort {
			q.SortBy = us.sortBy
		}
	}
	if s.Status != "all" {
		active := filter.Expr(&filter.Compare{Path: filter.Path{Attr: "active"}, Op: filter.Eq, Value: s.Status == "active"})
		if q.Filter != nil {
			active = &filter.And{Left: q.Filter, Right: active}
		}
		q.Filter = active
	}
	return q
}

// values are the query string of s, with extra parameters (start).
func (s userSearch) values(extra ...string) url.Values {
	v := url.Values{}
	if s.Text != "" {
		v.Set("filter", s.Text)
	}
	if s.Status != "all" {
		v.Set("status", s.Status)
	}
	if s.Sort != "" {
		v.Set("sort", s.Sort)
		if s.Desc {
			v.Set("order", "desc")
		}
	}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return v
}

// sortLink is a column header of the users list: a link that sorts by the
// column, the other way round when the list is sorted by it already.
type sortLink struct {
	Label, Href string
	Current     string // "asc" or "desc" when the list is sorted by the column
}

type usersData struct {
	Filter, Status string
	// Mode says what the text was taken as: "filter", "words" or "".
	Mode         string
	Words        []string
	NotAFilter   string
	Sorts        map[string]sortLink // by userSorts param
	CSV          string
	Users        []userRow
	Total, Start int
	Prev, Next   string
}

// usersPage lists users. The text typed is a SCIM filter when it parses as
// one (run by the same engine as SCIM's /Users?filter=), else words that
// each must begin the userName, displayName, a name part, an e-mail
// address or the externalId (store.Query.Words).
func (c *Console) usersPage(w http.ResponseWriter, r *http.Request, q *req) error {
	s := readUserSearch(r)
	d := usersData{Filter: s.Text, Status: s.Status, Words: s.Words, NotAFilter: s.NotAFilter, Sorts: map[string]sortLink{}}
	switch {
	case s.Filter != nil:
		d.Mode = "filter"
	case len(s.Words) > 0:
		d.Mode = "words"
	}
	d.Start, _ = strconv.Atoi(r.URL.Query().Get("start"))
	d.Start = max(d.Start, 1)
	for _, us := range userSorts {
		l := sortLink{Label: us.label}
		by := s
		by.Sort, by.Desc = us.param, false
		if s.Sort == us.param {
			l.Current = "asc"
			if s.Desc {
				l.Current = "desc"
			}
			by.Desc = !s.Desc
		}
		l.Href = "?" + by.values().Encode()
		d.Sorts[us.param] = l
	}
	d.CSV = q.prefix + "/users.csv?" + s.values().Encode()
	query := s.query()
	query.StartIndex, query.Count = d.Start, usersPerPage
	v := c.view(q, "Users", &d)
	page, err := c.st.ListUsers(r.Context(), q.tenant.ID, query)
	var fe *store.FilterError
	if errors.As(err, &fe) {
		v.Error = "Invalid filter: " + fe.Msg
		if d.Mode == "words" {
			v.Error = "Invalid search: " + fe.Msg
		}
		c.render(w, http.StatusBadRequest, "users", v)
		return nil
	}
	if err != nil {
		return err
	}
	d.Total = page.Total
	for _, u := range page.Users {
		d.Users = append(d.Users, rowOf(u))
	}
	link := func(start int) string { return "?" + s.values("start", strconv.Itoa(start)).Encode() }
	if d.Start > 1 {
		d.Prev = link(max(1, d.Start-usersPerPage))
	}
	if d.Start-1+len(page.Users) < page.Total {
		d.Next = link(d.Start + usersPerPage)
	}
	c.render(w, http.StatusOK, "users", v)
	return nil
}

type userData struct {
	userRow
	JSON      string
	HasPass   bool
	Roles     []store.Role
	UserRoles map[int64]bool
	History   []store.Activity
	// Groups are the groups the user belongs to, directly or through a
	// nested group (as SCIM's groups attribute lists them).
	Groups []store.GroupRef
}

func (c *Console) userPage(w http.ResponseWriter, r *http.Request, q *req) error {
	id := r.PathValue("id")
	u, err := c.st.User(r.Context(), q.tenant.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusNotFound, "There is no user with id %q (deleted users are under Archived).", id)
	}
	if err != nil {
		return err
	}
	b, _ := json.MarshalIndent(u.Attrs, "", "  ")
	d := userData{userRow: rowOf(u), JSON: string(b), HasPass: u.PasswordHash != "", UserRoles: map[int64]bool{}}
	if d.Roles, err = c.cs.Roles(r.Context(), q.tenant.ID); err != nil {
		return err
	}
	urs, err := c.cs.UserRoles(r.Context(), q.tenant.ID, id)
	if err != nil {
		return err
	}
	for _, role := range urs {
		d.UserRoles[role.ID] = true
	}
	groups, err := c.st.UserGroups(r.Context(), q.tenant.ID, []string{id})
	if err != nil {
		return err
	}
	d.Groups = groups[id]
	if d.History, _, err = c.cs.ActivityLog(r.Context(), q.tenant.ID, store.ActivityQuery{ResourceType: "User", ResourceID: id, Limit: 100}); err != nil {
		return err
	}
	v := c.view(q, "User "+d.UserName, d)
	switch r.URL.Query().Get("saved") {
	case "roles":
		v.Flash = "Roles saved."
	case "password":
		v.Flash = "Password set."
	case "restored":
		v.Flash = "User restored."
	}
	c.render(w, http.StatusOK, "user", v)
	return nil
}

// setPassword sets a user's sign-in password (hashed with argon2id, like a
// password pushed by the identity provider).
func (c *Console) setPassword(w http.ResponseWriter, r *http.Request, q *req) error {
	id := r.PathValue("id")
	pw := r.PostFormValue("password")
	if len(pw) < 8 || len(pw) > 1024 {
		return errorf(http.StatusBadRequest, "The password must have 8 to 1024 characters.")
	}
	// No one may change the credentials of someone above them: only an
	// Owner sets an Owner's password, and the target may hold no
	// permission the signed-in user lacks.
	targetRoles, err := c.cs.UserRoles(r.Context(), q.tenant.ID, id)
	if err != nil {
		return err
	}
	for _, role := range targetRoles {
		if role.Name == store.RoleOwner && !q.isOwner() {
			return errorf(http.StatusForbidden, "Only an Owner can set an Owner's password.")
		}
		for _, p := range role.Permissions {
			if !q.perms[p] {
				return errorf(http.StatusForbidden, "This user holds permissions you do not have; you cannot set their password.")
			}
		}
	}
	hash, err := auth.HashPassword(r.Context(), pw)
	if err != nil {
		return err
	}
	_, err = c.st.UpdateUser(r.Context(), q.tenant.ID, id, func(u *store.User) error {
		u.PasswordHash = hash
		u.Modified = c.now().UTC()
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusNotFound, "There is no such user.")
	}
	if err != nil {
		return err
	}
	// A new password ends the target's other sessions (a thief's among
	// them); the signed-in user's own session stays.
	if err := c.cs.DeleteUserSessions(r.Context(), q.tenant.ID, id); err != nil {
		return err
	}
	if id == q.user.ID && q.sess != nil {
		if err := c.cs.CreateSession(r.Context(), *q.sess); err != nil {
			return err
		}
	}
	c.log.Info("console: password set", "tenant", q.tenant.Name, "user", id, "by", q.userName())
	return redirect(w, r, q, "/users/"+id+"?saved=password")
}

func (c *Console) archivedPage(w http.ResponseWriter, r *http.Request, q *req) error {
	as, err := c.cs.ArchivedUsers(r.Context(), q.tenant.ID, 500)
	if err != nil {
		return err
	}
	c.render(w, http.StatusOK, "archived", c.view(q, "Archived users", as))
	return nil
}

func (c *Console) restoreUser(w http.ResponseWriter, r *http.Request, q *req) error {
	id := r.PathValue("id")
	_, err := c.cs.RestoreUser(r.Context(), q.tenant.ID, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errorf(http.StatusNotFound, "There is no archived user with id %q.", id)
	case errors.Is(err, store.ErrConflict):
		return errorf(http.StatusConflict, "This user cannot be restored: another user now has the same userName. Rename or delete that user first.")
	case err != nil:
		return err
	}
	c.log.Info("console: user restored", "tenant", q.tenant.Name, "user", id, "by", q.userName())
	return redirect(w, r, q, "/users/"+id+"?saved=restored")
}

type groupRow struct {
	ID, DisplayName, ExternalID string
}

type groupsData struct {
	Filter       string
	Groups       []groupRow
	Total, Start int
	Prev, Next   string
}

// groupsPage lists groups, searched with a SCIM filter run by the same
// engine as SCIM's /Groups?filter=. Members are not read for the list.
func (c *Console) groupsPage(w http.ResponseWriter, r *http.Request, q *req) error {
	qs := r.URL.Query()
	d := groupsData{Filter: strings.TrimSpace(qs.Get("filter"))}
	d.Start, _ = strconv.Atoi(qs.Get("start"))
	d.Start = max(d.Start, 1)
	query := store.Query{StartIndex: d.Start, Count: usersPerPage}
	v := c.view(q, "Groups", &d)
	if d.Filter != "" {
		f, err := filter.Parse(d.Filter)
		if err != nil {
			v.Error = "Invalid filter: " + err.Error()
			c.render(w, http.StatusBadRequest, "groups", v)
			return nil
		}
		query.Filter = f
	}
	page, err := c.st.ListGroups(r.Context(), q.tenant.ID, query, false)
	var fe *store.FilterError
	if errors.As(err, &fe) {
		v.Error = "Invalid filter: " + fe.Msg
		c.render(w, http.StatusBadRequest, "groups", v)
		return nil
	}
	if err != nil {
		return err
	}
	d.Total = page.Total
	for _, g := range page.Groups {
		row := groupRow{ID: g.ID}
		row.DisplayName, _ = g.Attrs["displayName"].(string)
		row.ExternalID, _ = g.Attrs["externalId"].(string)
		d.Groups = append(d.Groups, row)
	}
	link := func(start int) string {
		return "?" + url.Values{"filter": {d.Filter}, "start": {strconv.Itoa(start)}}.Encode()
	}
	if d.Start > 1 {
		d.Prev = link(max(1, d.Start-usersPerPage))
	}
	if d.Start-1+len(page.Groups) < page.Total {
		d.Next = link(d.Start + usersPerPage)
	}
	c.render(w, http.StatusOK, "groups", v)
	return nil
}

// groupMembersShown bounds the members listed on a group's page.
const groupMembersShown = 500

type groupData struct {
	groupRow
	Members     []store.Member
	MemberCount int
	MoreMembers int
}

// groupPage shows one group and its members.
func (c *Console) groupPage(w http.ResponseWriter, r *http.Request, q *req) error {
	g, err := c.st.Group(r.Context(), q.tenant.ID, r.PathValue("id"), true)
	if errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusNotFound, "There is no group with id %q.", r.PathValue("id"))
	}
	if err != nil {
		return err
	}
	d := groupData{groupRow: groupRow{ID: g.ID}, MemberCount: len(g.Members)}
	d.DisplayName, _ = g.Attrs["displayName"].(string)
	d.ExternalID, _ = g.Attrs["externalId"].(string)
	d.Members = g.Members
	if len(d.Members) > groupMembersShown {
		d.MoreMembers = len(d.Members) - groupMembersShown
		d.Members = d.Members[:groupMembersShown]
	}
	c.render(w, http.StatusOK, "group", c.view(q, d.DisplayName, &d))
	return nil
}
