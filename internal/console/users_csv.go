package console

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/scimd/scimd/internal/server"
	"github.com/scimd/scimd/internal/store"
)

// usersCSVHeader is the first row of the export.
var usersCSVHeader = []string{"id", "userName", "displayName", "givenName", "familyName", "primary email", "externalId", "active", "created", "modified"}

// usersCSV streams the users the list's search, status and sort select
// (the parameters of usersPage) as CSV: read csvChunk at a time by cursor
// (keyset paging, so each chunk costs what the first does and users
// created meanwhile neither shift nor repeat rows), each chunk written
// before the next is read, so that memory stays flat whatever the tenant's
// size. A failure after the first row has been sent cannot change the
// status any more: the file then ends early and the error is logged.
func (c *Console) usersCSV(w http.ResponseWriter, r *http.Request, q *req) error {
	query := readUserSearch(r).query()
	query.Cursor, query.Count, query.NoTotal = true, csvChunk, true
	page, err := c.st.ListUsers(r.Context(), q.tenant.ID, query)
	var fe *store.FilterError
	if errors.As(err, &fe) {
		return errorf(http.StatusBadRequest, "Invalid search: %s", fe.Msg)
	}
	if err != nil {
		return err
	}
	cw := csvStart(w, q.tenant.Name+"-users.csv")
	cw.Write(usersCSVHeader)
	rows := 0
	for {
		for _, u := range page.Users {
			cw.Write(userRecord(u))
		}
		rows += len(page.Users)
		cw.Flush()
		if err := cw.Error(); err != nil {
			return nil // the client went away
		}
		if page.Next == nil {
			break
		}
		query.After = page.Next
		if page, err = c.st.ListUsers(r.Context(), q.tenant.ID, query); err != nil {
			c.log.Error("console: CSV export of users cut short", "request_id", server.RequestID(r.Context()),
				"tenant", q.tenant.Name, "rows", rows, "err", err)
			return nil
		}
	}
	c.log.Info("console: users exported as CSV", "tenant", q.tenant.Name, "rows", rows, "by", q.userName())
	return nil
}

// userRecord is the export's row of u.
func userRecord(u store.User) []string {
	row := rowOf(u)
	var given, family string
	if n, ok := u.Attrs["name"].(map[string]any); ok {
		given, _ = n["givenName"].(string)
		family, _ = n["familyName"].(string)
	}
	display, _ := u.Attrs["displayName"].(string)
	externalID, _ := u.Attrs["externalId"].(string)
	rec := []string{u.ID, row.UserName, display, given, family, row.Email, externalID, strconv.FormatBool(row.Active),
		u.Created.UTC().Format(time.RFC3339Nano), u.Modified.UTC().Format(time.RFC3339Nano)}
	for i, s := range rec {
		rec[i] = csvSafe(s)
	}
	return rec
}
