package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/scimd/scimd/internal/store"
)

type activityData struct {
	Q       store.ActivityQuery
	Records []store.Activity
	Older   string
	Clients []string
	Methods []string
}

// activityPage shows the tenant's SCIM requests, newest first, 50 a page.
func (c *Console) activityPage(w http.ResponseWriter, r *http.Request, q *req) error {
	qs := r.URL.Query()
	aq := store.ActivityQuery{
		ResourceID: strings.TrimSpace(qs.Get("resource")), KeyID: strings.TrimSpace(qs.Get("key")),
		Client: qs.Get("client"), Method: qs.Get("method"), Failed: qs.Get("failed") == "on",
		Text: strings.TrimSpace(qs.Get("text")), Limit: 50,
	}
	aq.Before, _ = strconv.ParseInt(qs.Get("before"), 10, 64)
	recs, more, err := c.cs.ActivityLog(r.Context(), q.tenant.ID, aq)
	if err != nil {
		return err
	}
	d := activityData{Q: aq, Records: recs,
		Clients: []string{"Okta", "Entra", "OneLogin", "JumpCloud", "Rippling", "other"},
		Methods: []string{"GET", "POST", "PUT", "PATCH", "DELETE"}}
	if more && len(recs) > 0 {
		v := url.Values{}
		for k, vs := range qs {
			v[k] = vs
		}
		v.Set("before", strconv.FormatInt(recs[len(recs)-1].ID, 10))
		d.Older = "?" + v.Encode()
	}
	c.render(w, http.StatusOK, "activity", c.view(q, "Provisioning activity", d))
	return nil
}
