package console

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/scimd/scimd/internal/store"
)

type activityData struct {
	Q        store.ActivityQuery
	Records  []activityRow
	Older    string
	CSV      string // the CSV export of the records the filters select
	Clients  []string
	Methods  []string
	Statuses []statusClass
}

// activityRow is a record as the page shows it.
type activityRow struct {
	store.Activity
	KeyName   string // "" when the key is unknown (deleted) or none was sent
	Hint      string // what to do about a failure (see hint)
	QueryText string // the query string, decoded to be read
}

type statusClass struct {
	Class int
	Label string
}

// activityQuery is the selection that the query parameters of the page
// (and of its CSV export) ask for.
func activityQuery(qs url.Values) store.ActivityQuery {
	aq := store.ActivityQuery{
		ResourceID: strings.TrimSpace(qs.Get("resource")), KeyID: strings.TrimSpace(qs.Get("key")),
		Client: qs.Get("client"), Method: qs.Get("method"), Failed: qs.Get("failed") == "on",
		RequestID: strings.TrimSpace(qs.Get("request")), Text: strings.TrimSpace(qs.Get("text")),
	}
	if n, err := strconv.Atoi(qs.Get("status")); err == nil && n >= 2 && n <= 5 {
		aq.Status = n
	}
	aq.Before, _ = strconv.ParseInt(qs.Get("before"), 10, 64)
	return aq
}

// keyNames maps the ids of the tenant's API keys to their names: one
// query for a page of records, whatever keys they name.
func (c *Console) keyNames(ctx context.Context, tenantID int64) (map[string]string, error) {
	ks, err := c.st.APIKeys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(ks))
	for _, k := range ks {
		names[k.ID] = k.Name
	}
	return names, nil
}

// activityPage shows the tenant's SCIM requests, newest first, 50 a page.
func (c *Console) activityPage(w http.ResponseWriter, r *http.Request, q *req) error {
	qs := r.URL.Query()
	aq := activityQuery(qs)
	aq.Limit = 50
	recs, more, err := c.cs.ActivityLog(r.Context(), q.tenant.ID, aq)
	if err != nil {
		return err
	}
	names, err := c.keyNames(r.Context(), q.tenant.ID)
	if err != nil {
		return err
	}
	d := activityData{Q: aq,
		Clients:  []string{"Okta", "Entra", "OneLogin", "JumpCloud", "Rippling", "other"},
		Methods:  []string{"GET", "POST", "PUT", "PATCH", "DELETE"},
		Statuses: []statusClass{{2, "2xx success"}, {3, "3xx"}, {4, "4xx refused"}, {5, "5xx server error"}}}
	for _, a := range recs {
		row := activityRow{Activity: a, KeyName: names[a.KeyID], Hint: hint(a, q.tenant), QueryText: a.Query}
		if t, err := url.QueryUnescape(a.Query); err == nil {
			row.QueryText = t
		}
		d.Records = append(d.Records, row)
	}
	v := url.Values{}
	for k, vs := range qs {
		v[k] = vs
	}
	v.Del("before") // the export starts from the newest record
	d.CSV = q.prefix + "/activity.csv"
	if len(v) > 0 {
		d.CSV += "?" + v.Encode()
	}
	if more && len(recs) > 0 {
		v.Set("before", strconv.FormatInt(recs[len(recs)-1].ID, 10))
		d.Older = "?" + v.Encode()
	}
	c.render(w, http.StatusOK, "activity", c.view(q, "Provisioning activity", d))
	return nil
}

var csvHeader = []string{"time", "request id", "key id", "key name", "client", "method", "path", "query",
	"resource type", "resource id", "status", "scimType", "detail", "hint"}

// activityCSV exports the records the page's filters select, newest
// first, as CSV, reading them csvChunk at a time by keyset paging.
func (c *Console) activityCSV(w http.ResponseWriter, r *http.Request, q *req) error {
	ctx := r.Context()
	aq := activityQuery(r.URL.Query())
	aq.Limit = csvChunk
	names, err := c.keyNames(ctx, q.tenant.ID)
	if err != nil {
		return err
	}
	// The first chunk is read before anything is written, so that a
	// failing store still gets an error page.
	recs, more, err := c.cs.ActivityLog(ctx, q.tenant.ID, aq)
	if err != nil {
		return err
	}
	cw := csvStart(w, "activity-"+q.tenant.Name+".csv")
	cw.Write(csvHeader)
	for {
		for _, a := range recs {
			cw.Write(csvRecord(a, names[a.KeyID], hint(a, q.tenant)))
		}
		cw.Flush()
		if cw.Error() != nil || !more || len(recs) == 0 {
			return nil // a write error: the client went away
		}
		aq.Before = recs[len(recs)-1].ID
		if recs, more, err = c.cs.ActivityLog(ctx, q.tenant.ID, aq); err != nil {
			// Too late for an error page: the download ends short.
			c.log.Error("activity export failed", "tenant", q.tenant.Name, "err", err)
			return nil
		}
	}
}

// csvRecord is a record as a row of csvHeader.
func csvRecord(a store.Activity, keyName, hint string) []string {
	row := []string{a.Time.UTC().Format(time.RFC3339Nano), a.RequestID, a.KeyID, keyName, a.Client, a.Method, a.Path, a.Query,
		a.ResourceType, a.ResourceID, strconv.Itoa(a.Status), a.ScimType, a.Detail, hint}
	for i, cell := range row {
		row[i] = csvSafe(cell)
	}
	return row
}
