package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/scimd/scimd/internal/store"
)

func TestCreateUser(t *testing.T) { forEachBackend(t, testCreateUser) }

func testCreateUser(t *testing.T, e *env) {
	body := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
		"userName":"Élodie.Martin@example.com","externalId":"00ujl29u0le5T6Aj10h7",
		"name":{"givenName":"Élodie","familyName":"Martin"},
		"emails":[{"primary":true,"value":"elodie@example.com","type":"work"}],
		"password":"1mz050nq","groups":[],"id":"client-chosen","meta":{"resourceType":"User","created":"04-12-2018 00:00:00"},
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Sales","manager":"boss-id","employeeNumber":"12345"}}`
	r := e.do("POST", "/Users", body, "Content-Type", "application/json")
	if r.status != http.StatusCreated {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	id, _ := r.json["id"].(string)
	if id == "" || id == "client-chosen" {
		t.Fatalf("id = %q, want a server-assigned id", id)
	}
	if got := r.header.Get("Location"); got != e.base+"/Users/"+id {
		t.Errorf("Location = %q", got)
	}
	if got := r.header.Get("ETag"); got != `W/"1"` {
		t.Errorf("ETag = %q", got)
	}
	if got := r.header.Get("Content-Type"); got != "application/scim+json; charset=utf-8" {
		t.Errorf("Content-Type = %q", got)
	}
	want := map[string]any{
		"schemas":    []any{"urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"},
		"id":         id,
		"externalId": "00ujl29u0le5T6Aj10h7",
		"userName":   "Élodie.Martin@example.com",
		"name":       map[string]any{"givenName": "Élodie", "familyName": "Martin"},
		"emails":     []any{map[string]any{"primary": true, "value": "elodie@example.com", "type": "work"}},
		"active":     true,
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": map[string]any{
			"department": "Sales", "manager": map[string]any{"value": "boss-id"}, "employeeNumber": "12345"},
	}
	meta, _ := r.json["meta"].(map[string]any)
	got := map[string]any{}
	for k, v := range r.json {
		if k != "meta" {
			got[k] = v
		}
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("created user (-want +got):\n%s", d)
	}
	if meta["resourceType"] != "User" || meta["location"] != e.base+"/Users/"+id || meta["version"] != `W/"1"` || meta["created"] == nil {
		t.Errorf("meta = %v", meta)
	}
	if strings.Contains(string(r.body), "1mz050nq") || strings.Contains(string(r.body), "password") {
		t.Errorf("response leaks the password: %s", r.body)
	}
	u, err := e.store.User(context.Background(), e.tenant.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
		t.Errorf("stored password hash = %q, want argon2id", u.PasswordHash)
	}

	t.Run("same userName in another case conflicts", func(t *testing.T) {
		wantError(t, e.do("POST", "/Users", userJSON("ÉLODIE.MARTIN@EXAMPLE.COM")), http.StatusConflict, "uniqueness", "already exists")
	})
	t.Run("password not stored when password sign-in is off", func(t *testing.T) {
		e.setTenant(func(t *store.Tenant) { t.PasswordSignIn = false })
		defer e.setTenant(func(t *store.Tenant) { t.PasswordSignIn = true })
		id := e.createUser(`{"userName":"nopw@example.com","password":"placeholder"}`)
		u, _ := e.store.User(context.Background(), e.tenant.ID, id)
		if u.PasswordHash != "" {
			t.Errorf("password stored although sign-in is off")
		}
	})
}

func TestCreateUserRejects(t *testing.T) { forEachBackend(t, testCreateUserRejects) }

func testCreateUserRejects(t *testing.T, e *env) {
	tests := []struct {
		name, body     string
		status         int
		scimType, frag string
	}{
		{"not JSON", `{"userName":`, 400, "invalidSyntax", "not valid JSON"},
		{"array", `[]`, 400, "invalidSyntax", "JSON object"},
		{"trailing data", `{"userName":"a@b.c"} {}`, 400, "invalidSyntax", "after the JSON object"},
		{"no userName", `{"name":{"givenName":"x"}}`, 400, "invalidValue", "userName is required"},
		{"empty userName", `{"userName":""}`, 400, "invalidValue", "userName is required"},
		{"userName not a string", `{"userName":42}`, 400, "invalidValue", "userName must be a string"},
		{"active not boolean", `{"userName":"a@b.c","active":"maybe"}`, 400, "invalidValue", "active must be a boolean"},
		{"name not an object", `{"userName":"a@b.c","name":"Bob"}`, 400, "invalidValue", "name must be an object"},
		{"NUL in a string", `{"userName":"a\u0000b@example.com"}`, 400, "invalidValue", "NUL"},
		{"NUL in a key", `{"userName":"nul@example.com","x\u0000":"y"}`, 400, "invalidValue", "NUL"},
		{"email type not string", `{"userName":"a@b.c","emails":[{"value":"a@b.c","type":7}]}`, 400, "invalidValue", "emails.type must be a string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, e.do("POST", "/Users", tc.body), tc.status, tc.scimType, tc.frag)
		})
	}
	if r := e.do("GET", "/Users", ""); r.json["totalResults"] != 0.0 {
		t.Errorf("rejected creates stored users: %s", r.body)
	}
	t.Run("body over 1 MiB", func(t *testing.T) {
		big := `{"userName":"big@example.com","displayName":"` + strings.Repeat("x", 1<<20) + `"}`
		wantError(t, e.do("POST", "/Users", big), http.StatusRequestEntityTooLarge, "", "exceeds")
	})
}

func TestLenientInput(t *testing.T) { forEachBackend(t, testLenientInput) }

func testLenientInput(t *testing.T, e *env) {
	// Entra ID's older documented create (CLIENTS.md B.2 "Example 2"): nulls
	// and a malformed extension URN.
	body := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0User"],
		"externalId":"jyoung","userName":"jyoung@testuser.com","active":true,"addresses":null,"displayName":"Joy Young",
		"emails":[{"type":"work","value":"jyoung@Contoso.com","primary":true}],"meta":{"resourceType":"User"},
		"name":{"familyName":"Young","givenName":"Joy"},"phoneNumbers":null,"preferredLanguage":null,"title":null,
		"department":null,"manager":null,"roles":[]}`
	r := e.do("POST", "/Users", body)
	if r.status != 201 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	for _, k := range []string{"addresses", "phoneNumbers", "title", "roles"} {
		if _, ok := r.json[k]; ok {
			t.Errorf("%s returned although sent as null or empty", k)
		}
	}
	// Attribute names are case-insensitive; booleans may be strings (OneLogin templates).
	r = e.do("POST", "/Users", `{"USERNAME":"case@example.com","Active":"False","NAME":{"GIVENNAME":"C"}}`)
	if r.status != 201 || r.json["userName"] != "case@example.com" || r.json["active"] != false ||
		r.json["name"].(map[string]any)["givenName"] != "C" {
		t.Fatalf("case-insensitive names: %d %s", r.status, r.body)
	}
	// GET without Content-Type, Accept or User-Agent (Entra's test connection).
	r = e.doURL("GET", e.base+`/Users?filter=userName+eq+%227d420df3-9995-4831-a406-ecf8166f5f6a%22`, "", "Authorization", e.authz, "User-Agent", "", "Accept", "")
	if r.status != 200 || r.json["totalResults"] != 0.0 {
		t.Fatalf("Entra test connection: %d %s", r.status, r.body)
	}
}

func TestGetPutPatchDelete(t *testing.T) { forEachBackend(t, testGetPutPatchDelete) }

func testGetPutPatchDelete(t *testing.T, e *env) {
	id := e.createUser(userJSON("crud@example.com"))

	t.Run("get unknown", func(t *testing.T) {
		wantError(t, e.do("GET", "/Users/00919288221112222", ""), 404, "", "00919288221112222")
	})
	t.Run("If-None-Match", func(t *testing.T) {
		r := e.do("GET", "/Users/"+id, "", "If-None-Match", `W/"1"`)
		if r.status != http.StatusNotModified {
			t.Fatalf("status %d", r.status)
		}
		if r := e.do("GET", "/Users/"+id, "", "If-None-Match", `W/"7"`); r.status != 200 {
			t.Fatalf("status %d", r.status)
		}
	})
	t.Run("PUT keeps active when omitted and ignores id, meta, groups", func(t *testing.T) {
		r := e.do("PUT", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"`+id+`","userName":"crud@example.com",
			"name":{"givenName":"Another","middleName":"Excited","familyName":"User"},"groups":[],"meta":{"resourceType":"User"}}`)
		if r.status != 200 {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		if r.json["active"] != true || r.json["name"].(map[string]any)["middleName"] != "Excited" {
			t.Errorf("PUT result %s", r.body)
		}
		if _, ok := r.json["emails"]; ok {
			t.Errorf("PUT is a replace: emails not sent must be gone: %s", r.body)
		}
		if r.header.Get("ETag") != `W/"2"` {
			t.Errorf("ETag %q after PUT", r.header.Get("ETag"))
		}
	})
	t.Run("If-Match mismatch is 412 and changes nothing", func(t *testing.T) {
		r := e.do("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":"X"}]}`, "If-Match", `W/"1"`)
		wantError(t, r, http.StatusPreconditionFailed, "", "changed")
		if r := e.do("GET", "/Users/"+id, ""); r.json["displayName"] != nil {
			t.Errorf("412 PATCH changed the user: %s", r.body)
		}
	})
	t.Run("PATCH with matching If-Match and attributes", func(t *testing.T) {
		r := e.do("PATCH", "/Users/"+id+"?attributes=displayName", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":"X"}]}`, "If-Match", `W/"2"`)
		if r.status != 200 {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		// userName is returned "default" (RFC 7643 §8.7.1): only id is
		// returned always.
		want := map[string]any{"schemas": []any{"urn:ietf:params:scim:schemas:core:2.0:User"}, "id": id, "displayName": "X"}
		if d := cmp.Diff(want, r.json); d != "" {
			t.Errorf("projected PATCH response (-want +got):\n%s", d)
		}
	})
	t.Run("PATCH bad path changes nothing", func(t *testing.T) {
		r := e.do("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":"Y"},{"op":"replace","path":"nosuch","value":"z"}]}`)
		if r.status != 400 {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		if r := e.do("GET", "/Users/"+id, ""); r.json["displayName"] != "X" {
			t.Errorf("failed PATCH applied its first op: %s", r.body)
		}
	})
	t.Run("PATCH userName to a taken one", func(t *testing.T) {
		e.createUser(userJSON("taken@example.com"))
		r := e.do("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"userName","value":"TAKEN@example.com"}]}`)
		wantError(t, r, http.StatusConflict, "uniqueness", "userName")
	})
	t.Run("DELETE with a stale If-Match is 412 and deletes nothing", func(t *testing.T) {
		wantError(t, e.do("DELETE", "/Users/"+id, "", "If-Match", `W/"1"`), http.StatusPreconditionFailed, "", "changed")
		if r := e.do("GET", "/Users/"+id, ""); r.status != 200 {
			t.Fatalf("user gone after a refused DELETE: %d", r.status)
		}
		gid := e.createGroup(groupJSON("Conditional"))
		wantError(t, e.do("DELETE", "/Groups/"+gid, "", "If-Match", `W/"9"`), http.StatusPreconditionFailed, "", "changed")
		if r := e.do("DELETE", "/Groups/"+gid, "", "If-Match", `W/"1"`); r.status != http.StatusNoContent {
			t.Fatalf("DELETE group with the current ETag: %d %s", r.status, r.body)
		}
	})
	t.Run("DELETE archives by default, frees userName", func(t *testing.T) {
		if r := e.do("DELETE", "/Users/"+id, ""); r.status != http.StatusNoContent || len(r.body) != 0 {
			t.Fatalf("DELETE: %d %s", r.status, r.body)
		}
		wantError(t, e.do("GET", "/Users/"+id, ""), 404, "", id)
		wantError(t, e.do("DELETE", "/Users/"+id, ""), 404, "", id)
		r := e.do("GET", `/Users?filter=userName+eq+"crud@example.com"`, "")
		if r.json["totalResults"] != 0.0 {
			t.Errorf("deleted user still listed: %s", r.body)
		}
		e.createUser(userJSON("crud@example.com"))
		// Archived: the operator can still purge it.
		if err := e.store.PurgeUser(context.Background(), e.tenant.ID, id); err != nil {
			t.Errorf("purging the archived user: %v", err)
		}
	})
	t.Run("DELETE with onDelete=purge destroys", func(t *testing.T) {
		e.setTenant(func(t *store.Tenant) { t.OnDelete = store.OnDeletePurge })
		id := e.createUser(userJSON("purged@example.com"))
		if r := e.do("DELETE", "/Users/"+id, ""); r.status != 204 {
			t.Fatalf("DELETE %d", r.status)
		}
		if err := e.store.PurgeUser(context.Background(), e.tenant.ID, id); err != store.ErrNotFound {
			t.Errorf("purge after hard delete: %v, want ErrNotFound", err)
		}
	})
}

func TestList(t *testing.T) { forEachBackend(t, testList) }

func testList(t *testing.T, e *env) {
	var ids []string
	for i := range 7 {
		body := fmt.Sprintf(`{"userName":"user%d@example.com","displayName":"User %d","active":%v,"emails":[{"type":"work","value":"u%d@corp.example"}]}`, i, 6-i, i%2 == 0, i)
		ids = append(ids, e.createUser(body))
	}
	names := func(r response) []string {
		var out []string
		for _, res := range r.json["Resources"].([]any) {
			out = append(out, res.(map[string]any)["userName"].(string))
		}
		return out
	}
	tests := []struct {
		name       string
		query      string
		total      float64
		startIndex float64
		want       []string
	}{
		{"Okta test connection", "?startIndex=1&count=2", 7, 1, []string{"user0@example.com", "user1@example.com"}},
		{"second page", "?startIndex=3&count=2", 7, 3, []string{"user2@example.com", "user3@example.com"}},
		{"past the end", "?startIndex=50&count=2", 7, 50, nil},
		{"count 0", "?count=0", 7, 1, nil},
		{"startIndex 0 means 1", "?startIndex=0&count=1", 7, 1, []string{"user0@example.com"}},
		{"negative count means 0", "?count=-5", 7, 1, nil},
		{"filter with plus for spaces", `?filter=userName+eq+%22USER3%40example.com%22`, 1, 1, []string{"user3@example.com"}},
		{"filter with %20", `?filter=userName%20eq%20%22user3%40example.com%22`, 1, 1, []string{"user3@example.com"}},
		{"filter miss", `?filter=userName+eq+%22nobody%22`, 0, 1, nil},
		{"Entra email filter", `?filter=emails%5Btype+eq+%22work%22%5D.value+eq+%22U4%40CORP.example%22`, 1, 1, []string{"user4@example.com"}},
		{"inactive", `?filter=active+eq+false`, 3, 1, []string{"user1@example.com", "user3@example.com", "user5@example.com"}},
		{"sort descending", `?sortBy=displayName&sortOrder=descending&count=2`, 7, 1, []string{"user0@example.com", "user1@example.com"}},
		{"sort ascending", `?sortBy=displayName&count=2`, 7, 1, []string{"user6@example.com", "user5@example.com"}},
		{"aadOptscim062020 flag tolerated", `?aadOptscim062020&count=1`, 7, 1, []string{"user0@example.com"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("GET", "/Users"+tc.query, "")
			if r.status != 200 {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if r.json["totalResults"] != tc.total || r.json["startIndex"] != tc.startIndex || r.json["itemsPerPage"] != float64(len(tc.want)) {
				t.Errorf("totalResults %v startIndex %v itemsPerPage %v", r.json["totalResults"], r.json["startIndex"], r.json["itemsPerPage"])
			}
			if _, ok := r.json["Resources"].([]any); !ok {
				t.Fatalf("Resources is not an array: %s", r.body)
			}
			if d := cmp.Diff(tc.want, names(r)); d != "" {
				t.Errorf("users (-want +got):\n%s", d)
			}
		})
	}
	t.Run("search", func(t *testing.T) {
		r := e.do("POST", "/Users/.search", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"userName sw \"user1\"","attributes":["userName"],"startIndex":1,"count":10}`)
		if r.status != 200 || r.json["totalResults"] != 1.0 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		res := r.json["Resources"].([]any)[0].(map[string]any)
		if _, ok := res["emails"]; ok {
			t.Errorf("attributes=userName returned emails: %v", res)
		}
	})
	t.Run("excludedAttributes", func(t *testing.T) {
		r := e.do("GET", "/Users?count=1&excludedAttributes=emails,meta,userName", "")
		res := r.json["Resources"].([]any)[0].(map[string]any)
		if _, ok := res["emails"]; ok {
			t.Errorf("emails not excluded: %v", res)
		}
		if _, ok := res["meta"]; ok {
			t.Errorf("meta not excluded: %v", res)
		}
		// userName is returned "default" (RFC 7643 §8.7.1), so it can be
		// excluded; id is returned always.
		if _, ok := res["userName"]; ok {
			t.Errorf("userName not excluded: %v", res)
		}
		if res["id"] == nil {
			t.Errorf("id is returned always: %v", res)
		}
	})
	errs := []struct{ name, query, scimType string }{
		{"bad filter", `?filter=userName+eq`, "invalidFilter"},
		{"unknown attribute", `?filter=shoeSize+eq+%2242%22`, "invalidFilter"},
		{"bad count", `?count=ten`, "invalidValue"},
		{"bad sortOrder", `?sortOrder=sideways`, "invalidValue"},
		{"NUL in a filter value", `?filter=userName+eq+%22a%5Cu0000b%22`, "invalidFilter"},
		{"NUL in the URL", `?attributes=a%00b`, "invalidValue"},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, e.do("GET", "/Users"+tc.query, ""), 400, tc.scimType, "")
		})
	}
	t.Run("integers are JSON numbers", func(t *testing.T) {
		r := e.do("GET", "/Users?count=1", "")
		var raw map[string]json.RawMessage
		json.Unmarshal(r.body, &raw)
		for _, k := range []string{"totalResults", "startIndex", "itemsPerPage"} {
			if s := string(raw[k]); s == "" || s[0] == '"' {
				t.Errorf("%s = %s, want an integer", k, s)
			}
		}
	})
}

func TestDiscovery(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/ServiceProviderConfig", "")
	if r.status != 200 || r.json["patch"].(map[string]any)["supported"] != true || r.json["bulk"].(map[string]any)["maxOperations"] != 1000.0 ||
		r.json["pagination"].(map[string]any)["cursor"] != true {
		t.Fatalf("ServiceProviderConfig: %d %s", r.status, r.body)
	}
	r = e.do("GET", "/ResourceTypes", "")
	if r.status != 200 || r.json["totalResults"] != 2.0 {
		t.Fatalf("ResourceTypes: %s", r.body)
	}
	r = e.do("GET", "/Schemas", "")
	if r.status != 200 || r.json["totalResults"] != 3.0 {
		t.Fatalf("Schemas: %s", r.body)
	}
	r = e.do("GET", "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", "")
	if r.status != 200 || r.json["id"] != "urn:ietf:params:scim:schemas:core:2.0:User" {
		t.Fatalf("Schema by id: %d %s", r.status, r.body)
	}
	r = e.do("GET", "/Groups?startIndex=1&count=100", "")
	if r.status != 200 || r.json["totalResults"] != 0.0 {
		t.Fatalf("Groups listing for Okta's connection test: %d %s", r.status, r.body)
	}
}
