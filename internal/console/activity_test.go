package console

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/scimd/scimd/internal/auth"
	"github.com/scimd/scimd/internal/store"
)

// scimAs sends a SCIM request with the Authorization header value and the
// request id reqID (the server's own when "") and returns its status.
func (e *env) scimAs(reqID, method, path, authz, body string) int {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+"/t/acme/scim/v2"+path, strings.NewReader(body))
	req.Header.Set("Authorization", authz)
	req.Header.Set("Content-Type", "application/scim+json")
	req.Header.Set("User-Agent", "Okta SCIM Client 1.0.0")
	if reqID != "" {
		req.Header.Set("X-Request-Id", reqID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// namedKey creates a read-write key named name and returns its User ID and
// Authorization header.
func (e *env) namedKey(name string) (string, string) {
	e.t.Helper()
	id, secret := auth.NewKey()
	if err := e.db.CreateAPIKey(context.Background(), store.APIKey{ID: id, TenantID: e.tenant.ID, Name: name, Scope: store.ScopeWrite,
		SecretHash: auth.HashSecret(secret), CreatedBy: "test"}); err != nil {
		e.t.Fatal(err)
	}
	return id, "Basic " + auth.Basic(id, secret)
}

const adaUser = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada@example.com"}`

// TestActivityExplainsFailures: a failed request's row shows the key's
// name (its User ID beside it), the request id, the query string, the
// SCIM detail and what to do; the filters by request id and status class
// select it; the CSV link keeps the filters.
func TestActivityExplainsFailures(t *testing.T) {
	e := newEnv(t)
	keyID, key := e.namedKey("Okta production")
	for _, r := range []struct {
		id, method, path, body string
		want                   int
	}{
		{"req-create", "POST", "/Users", adaUser, 201},
		{"req-dup", "POST", "/Users", adaUser, 409},
		{"req-filter", "GET", "/Users?filter=userName+eq&count=5", "", 400},
	} {
		if got := e.scimAs(r.id, r.method, r.path, key, r.body); got != r.want {
			t.Fatalf("%s: status %d, want %d", r.id, got, r.want)
		}
	}
	e.rec.Flush()
	b := e.signedIn("owner")
	r := b.get("/activity")
	for _, s := range []string{
		`<span class="keyname">Okta production</span>`,
		`<small class="keyid" title="User ID ` + keyID + `">` + keyID + `</small>`,
		`req-dup`, `req-filter`,
		`<span class="scimtype">uniqueness</span>`,
		`a user with userName &#34;ada@example.com&#34; already exists`,
		`A user with this userName already exists`,
		`?filter=userName eq&amp;count=5`,
		`The identity provider sent a filter scimd cannot use: userName eq.`,
		`<a href="/t/acme/console/activity.csv" id="activity-csv" download>Download CSV</a>`,
	} {
		wantBody(t, "activity", r, s)
	}
	r = b.get("/activity?request=req-dup")
	if strings.Contains(r.body, "req-filter") || strings.Contains(r.body, "req-create") || !strings.Contains(r.body, "req-dup") {
		t.Errorf("activity by request id shows other requests:\n%.3000s", r.body)
	}
	r = b.get("/activity?status=2&client=Okta")
	if strings.Contains(r.body, "req-dup") || !strings.Contains(r.body, "req-create") {
		t.Errorf("activity of 2xx shows failures:\n%.3000s", r.body)
	}
	wantBody(t, "activity of 2xx", r, `href="/t/acme/console/activity.csv?client=Okta&amp;status=2"`)
	wantBody(t, "activity of 2xx", r, `<option value="2" selected>`)
}

// TestActivityCSV: the export has the documented columns, the records
// newest first across more than one chunk, the filters of the page, cells
// that a spreadsheet would take for formulas escaped, and the page's
// permission.
func TestActivityCSV(t *testing.T) {
	e := newEnv(t)
	keyID, _ := e.namedKey("=HYPERLINK(\"http://evil\")")
	at := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	n := csvChunk*2 + 5
	recs := make([]store.Activity, 0, n)
	for i := range n {
		recs = append(recs, store.Activity{TenantID: e.tenant.ID, Time: at.Add(time.Duration(i) * time.Second), RequestID: fmt.Sprintf("r%05d", i),
			KeyID: keyID, Client: "Okta", Method: "GET", Path: "/scim/v2/Users", Status: 200})
	}
	recs[n-1] = store.Activity{TenantID: e.tenant.ID, Time: at.Add(time.Hour), RequestID: "evil", KeyID: keyID, Client: "Okta",
		Method: "POST", Path: "/scim/v2/Users", Query: "-1+2", ResourceType: "User", Status: 409, ScimType: "uniqueness",
		Detail: "@SUM(A1)", Changes: nil}
	for i := 0; i < n; i += 500 {
		if err := e.db.AddActivity(t.Context(), recs[i:min(i+500, n)]); err != nil {
			t.Fatal(err)
		}
	}
	b := e.signedIn("owner")
	res, err := b.c.Get(b.base + "/activity.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		res.Header.Get("Content-Disposition") != `attachment; filename="activity-acme.csv"` {
		t.Fatalf("GET /activity.csv: %d, %v", res.StatusCode, res.Header)
	}
	rows, err := csv.NewReader(res.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rows[0], ","); got != "time,request id,key id,key name,client,method,path,query,resource type,resource id,status,scimType,detail,hint" {
		t.Errorf("header = %s", got)
	}
	if len(rows) != n+1 {
		t.Fatalf("%d rows, want %d records", len(rows)-1, n)
	}
	want := []string{"2024-05-06T08:08:09Z", "evil", keyID, `'=HYPERLINK("http://evil")`, "Okta", "POST", "/scim/v2/Users", "'-1+2",
		"User", "", "409", "uniqueness", "'@SUM(A1)", hint(recs[n-1], e.tenant)}
	if got := rows[1]; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("first row = %q\nwant %q", got, want)
	}
	for i, row := range rows[2:] { // then the others, newest first, each once
		if want := fmt.Sprintf("r%05d", n-2-i); row[1] != want {
			t.Fatalf("row %d is %s, want %s", i+2, row[1], want)
		}
	}
	// The page's filters apply.
	r := b.get("/activity.csv?failed=on")
	if rows, err := csv.NewReader(strings.NewReader(r.body)).ReadAll(); err != nil || len(rows) != 2 || rows[1][1] != "evil" {
		t.Errorf("failures only: %v, %v", rows, err)
	}
	if r := e.signedIn("member").get("/activity.csv"); r.status != http.StatusForbidden {
		t.Errorf("a member's export: %d, want 403", r.status)
	}
}

func TestFileName(t *testing.T) {
	if got := fileName(`acme-1.x_y"; a=b\é`); got != "acme-1.x_y___a_b__" {
		t.Errorf("fileName = %q", got)
	}
}

func TestCSVSafe(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "plain": "plain", "=1+1": "'=1+1", "+1": "'+1", "-1": "'-1", "@x": "'@x", "\tx": "'\tx", "a=b": "a=b",
	} {
		if got := csvSafe(in); got != want {
			t.Errorf("csvSafe(%q) = %q, want %q", in, got, want)
		}
	}
}
