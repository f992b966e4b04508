package server_test

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func groupJSON(name string, members ...string) string {
	var ms []string
	for _, m := range members {
		ms = append(ms, `{"value":"`+m+`"}`)
	}
	return `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"` + name + `","members":[` + strings.Join(ms, ",") + `]}`
}

func (e *env) createGroup(body string) string {
	e.t.Helper()
	r := e.do("POST", "/Groups", body)
	if r.status != http.StatusCreated {
		e.t.Fatalf("create group: %d %s", r.status, r.body)
	}
	return r.json["id"].(string)
}

func memberIDs(r response) []string {
	var ids []string
	list, _ := r.json["members"].([]any)
	for _, m := range list {
		ids = append(ids, m.(map[string]any)["value"].(string))
	}
	sort.Strings(ids)
	return ids
}

func TestGroupMembers(t *testing.T) { forEachBackend(t, testGroupMembers) }

func testGroupMembers(t *testing.T, e *env) {
	ann := e.createUser(userJSON("ann@example.com"))
	bob := e.createUser(userJSON("bob@example.com"))

	t.Run("unknown member on create: 400 naming it, nothing stored", func(t *testing.T) {
		r := e.do("POST", "/Groups", groupJSON("Ghosts", ann, "no-such-id"))
		wantError(t, r, 400, "invalidValue", `"no-such-id"`)
		if r := e.do("GET", `/Groups?filter=displayName+eq+"Ghosts"`, ""); r.json["totalResults"] != 0.0 {
			t.Errorf("group stored: %s", r.body)
		}
	})
	t.Run("unknown member on PATCH: nothing applied, version unchanged", func(t *testing.T) {
		gid := e.createGroup(groupJSON("Keep", ann))
		r := e.do("PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
			{"op":"replace","path":"displayName","value":"Changed"},{"op":"add","path":"members","value":[{"value":"`+bob+`"},{"value":"ghost-1"},{"value":"ghost-2"}]}]}`)
		wantError(t, r, 400, "invalidValue", `"ghost-1", "ghost-2"`)
		r = e.do("GET", "/Groups/"+gid, "")
		if r.json["displayName"] != "Keep" || r.header.Get("ETag") != `W/"1"` {
			t.Errorf("failed PATCH changed the group: %s %s", r.header.Get("ETag"), r.body)
		}
		if d := cmp.Diff([]string{ann}, memberIDs(r)); d != "" {
			t.Errorf("members (-want +got):\n%s", d)
		}
	})
	t.Run("nested groups and the user's groups attribute", func(t *testing.T) {
		inner := e.createGroup(groupJSON("Inner", ann))
		outer := e.createGroup(groupJSON("Outer", inner, bob))
		r := e.do("GET", "/Groups/"+outer, "")
		types := map[string]string{}
		for _, m := range r.json["members"].([]any) {
			mm := m.(map[string]any)
			types[mm["value"].(string)] = mm["type"].(string)
		}
		if types[inner] != "Group" || types[bob] != "User" {
			t.Errorf("member types %v", types)
		}
		r = e.do("GET", "/Users/"+ann, "")
		got := map[string]string{}
		for _, g := range r.json["groups"].([]any) {
			gm := g.(map[string]any)
			got[gm["display"].(string)] = gm["type"].(string)
		}
		if got["Inner"] != "direct" || got["Outer"] != "indirect" {
			t.Errorf("ann's groups = %v, want Inner direct and Outer indirect", got)
		}
		if r := e.do("GET", "/Users/"+ann+"?excludedAttributes=groups", ""); r.json["groups"] != nil {
			t.Errorf("groups not excluded")
		}
		// A cycle is refused.
		r = e.do("PATCH", "/Groups/"+inner, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"`+outer+`"}]}]}`)
		wantError(t, r, 400, "invalidValue", "member of itself")
		// Deleting the inner group removes it from the outer one.
		if r := e.do("DELETE", "/Groups/"+inner, ""); r.status != 204 {
			t.Fatal(r.status)
		}
		if d := cmp.Diff([]string{bob}, memberIDs(e.do("GET", "/Groups/"+outer, ""))); d != "" {
			t.Errorf("outer members after deleting inner (-want +got):\n%s", d)
		}
	})
	t.Run("deactivated users stay members", func(t *testing.T) {
		gid := e.createGroup(groupJSON("Active or not", ann))
		e.do("PATCH", "/Users/"+ann, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}`)
		if d := cmp.Diff([]string{ann}, memberIDs(e.do("GET", "/Groups/"+gid, ""))); d != "" {
			t.Errorf("(-want +got):\n%s", d)
		}
	})
	// RFC 7644 §3.5.2: 204, or 200 with what attributes or
	// excludedAttributes select (members are returned by default).
	t.Run("PATCH answers 204 unless a representation is asked for", func(t *testing.T) {
		gid := e.createGroup(groupJSON("Asked"))
		add := func(id string) string {
			return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"` + id + `"}]}]}`
		}
		r := e.do("PATCH", "/Groups/"+gid, add(ann))
		if r.status != 204 || len(r.body) != 0 || r.header.Get("ETag") == "" {
			t.Errorf("default PATCH response: %d, ETag %q, body %s", r.status, r.header.Get("ETag"), r.body)
		}
		if g := e.do("GET", "/Groups/"+gid, ""); g.header.Get("ETag") != r.header.Get("ETag") {
			t.Errorf("204's ETag %s, the group's %s", r.header.Get("ETag"), g.header.Get("ETag"))
		}
		if r := e.do("PATCH", "/Groups/"+gid+"?attributes=members", add(bob)); r.status != 200 || len(memberIDs(r)) != 2 {
			t.Errorf("attributes=members PATCH response: %d %s", r.status, r.body)
		}
		if r := e.do("PATCH", "/Groups/"+gid+"?excludedAttributes=members", add(ann)); r.status != 200 || r.json["members"] != nil || r.json["displayName"] != "Asked" {
			t.Errorf("excludedAttributes=members PATCH response: %d %s", r.status, r.body)
		}
		if r := e.do("PATCH", "/Groups/"+gid+"?excludedAttributes=externalId", add(ann)); r.status != 200 || len(memberIDs(r)) != 2 {
			t.Errorf("a full representation asked for: %d %s", r.status, r.body)
		}
	})
}

// TestConcurrentGroupPatches sends many PATCHes to one group at once: no
// update is lost.
func TestConcurrentGroupPatches(t *testing.T) { forEachBackend(t, testConcurrentGroupPatches) }

func testConcurrentGroupPatches(t *testing.T, e *env) {
	const workers, each = 10, 5
	var users []string
	for i := range workers * each {
		users = append(users, e.createUser(userJSON(fmt.Sprintf("c%d@example.com", i))))
	}
	gid := e.createGroup(groupJSON("Busy"))
	var wg sync.WaitGroup
	errs := make(chan string, workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				id := users[w*each+i]
				body := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"` + id + `"}]},{"op":"replace","path":"displayName","value":"Busy ` + id + `"}]}`
				req, _ := http.NewRequest("PATCH", e.base+"/Groups/"+gid, strings.NewReader(body))
				req.Header.Set("Authorization", e.authz)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					errs <- err.Error()
					continue
				}
				resp.Body.Close()
				if resp.StatusCode != 204 {
					errs <- fmt.Sprintf("status %d", resp.StatusCode)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	r := e.do("GET", "/Groups/"+gid, "")
	want := append([]string(nil), users...)
	sort.Strings(want)
	if d := cmp.Diff(want, memberIDs(r)); d != "" {
		t.Errorf("lost updates (-want +got):\n%s", d)
	}
	if r.header.Get("ETag") != fmt.Sprintf(`W/"%d"`, 1+workers*each) {
		t.Errorf("ETag %s, want one version per PATCH", r.header.Get("ETag"))
	}
}

func TestCursorPaging(t *testing.T) { forEachBackend(t, testCursorPaging) }

func testCursorPaging(t *testing.T, e *env) {
	for i := range 25 {
		e.createUser(fmt.Sprintf(`{"userName":"p%02d@example.com","displayName":"%c"}`, i, 'z'-i))
	}
	walk := func(query string, insertBetween bool) []string {
		var names []string
		cursor := ""
		for page := 0; ; page++ {
			r := e.do("GET", "/Users?count=10&attributes=userName&cursor="+cursor+query, "")
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if _, ok := r.json["startIndex"]; ok {
				t.Errorf("cursor page has startIndex")
			}
			if r.json["totalResults"] == nil {
				t.Errorf("no totalResults")
			}
			for _, res := range r.json["Resources"].([]any) {
				names = append(names, res.(map[string]any)["userName"].(string))
			}
			next, _ := r.json["nextCursor"].(string)
			if next == "" {
				return names
			}
			if insertBetween {
				e.createUser(fmt.Sprintf(`{"userName":"late%d@example.com","displayName":"a"}`, page))
			}
			cursor = next
			if page > 20 {
				t.Fatal("cursor walk does not end")
			}
		}
	}
	got := walk("", true)
	if len(got) < 25 || got[0] != "p00@example.com" || got[24] != "p24@example.com" {
		t.Errorf("creation-order walk: %v", got)
	}
	seen := map[string]bool{}
	for _, n := range got {
		if seen[n] {
			t.Errorf("%s returned twice", n)
		}
		seen[n] = true
	}
	sorted := walk("&sortBy=displayName&filter=userName+sw+%22p%22", false)
	if len(sorted) != 25 || sorted[0] != "p24@example.com" || sorted[24] != "p00@example.com" {
		t.Errorf("sorted walk: %v", sorted)
	}
	t.Run("cursor of another query", func(t *testing.T) {
		r := e.do("GET", "/Users?count=5&cursor=", "")
		next := r.json["nextCursor"].(string)
		wantError(t, e.do("GET", "/Users?count=5&filter=userName+pr&cursor="+next, ""), 400, "invalidCursor", "another query")
		wantError(t, e.do("GET", "/Users?count=5&cursor=garbage!", ""), 400, "invalidCursor", "")
		wantError(t, e.do("GET", "/Users?count=5&startIndex=2&cursor="+next, ""), 400, "invalidValue", "either")
	})
	t.Run("groups", func(t *testing.T) {
		for i := range 3 {
			e.createGroup(groupJSON(fmt.Sprintf("g%d", i)))
		}
		r := e.do("GET", "/Groups?count=2&cursor=", "")
		next, _ := r.json["nextCursor"].(string)
		if len(r.json["Resources"].([]any)) != 2 || next == "" {
			t.Fatalf("first page %s", r.body)
		}
		r = e.do("GET", "/Groups?count=2&cursor="+next, "")
		if len(r.json["Resources"].([]any)) != 1 || r.json["nextCursor"] != nil {
			t.Fatalf("last page %s", r.body)
		}
	})
}

func TestBulk(t *testing.T) { forEachBackend(t, testBulk) }

func testBulk(t *testing.T, e *env) {
	t.Run("user and group with a bulkId reference", func(t *testing.T) {
		r := e.do("POST", "/Bulk", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[
			{"method":"POST","path":"/Groups","bulkId":"g1","data":{"displayName":"Bulk group","members":[{"value":"bulkId:u1"}]}},
			{"method":"POST","path":"/Users","bulkId":"u1","data":{"userName":"bulk@example.com"}},
			{"method":"PATCH","path":"/Users/bulkId:u1","data":{"Operations":[{"op":"replace","path":"displayName","value":"Bulky"}]}}]}`)
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		ops := r.json["Operations"].([]any)
		if len(ops) != 3 {
			t.Fatalf("%s", r.body)
		}
		for i, want := range []string{"201", "201", "200"} {
			if got := ops[i].(map[string]any)["status"]; got != want {
				t.Errorf("op %d status %v, want %s: %s", i, got, want, r.body)
			}
		}
		uloc := ops[1].(map[string]any)["location"].(string)
		gloc := ops[0].(map[string]any)["location"].(string)
		uid := uloc[strings.LastIndex(uloc, "/")+1:]
		g := e.doURL("GET", gloc, "", "Authorization", e.authz)
		if d := cmp.Diff([]string{uid}, memberIDs(g)); d != "" {
			t.Errorf("group members (-want +got):\n%s", d)
		}
		if u := e.doURL("GET", uloc, "", "Authorization", e.authz); u.json["displayName"] != "Bulky" {
			t.Errorf("user %s", u.body)
		}
	})
	t.Run("failOnErrors stops processing", func(t *testing.T) {
		r := e.do("POST", "/Bulk", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"failOnErrors":1,"Operations":[
			{"method":"POST","path":"/Users","bulkId":"a","data":{"userName":"bulk@example.com"}},
			{"method":"POST","path":"/Users","bulkId":"b","data":{"userName":"never@example.com"}}]}`)
		ops := r.json["Operations"].([]any)
		if len(ops) != 1 || ops[0].(map[string]any)["status"] != "409" {
			t.Fatalf("%s", r.body)
		}
		if ops[0].(map[string]any)["response"].(map[string]any)["scimType"] != "uniqueness" {
			t.Errorf("error response %s", r.body)
		}
		if r := e.do("GET", `/Users?filter=userName+eq+"never@example.com"`, ""); r.json["totalResults"] != 0.0 {
			t.Error("operation after failOnErrors was run")
		}
	})
	t.Run("circular and unknown references", func(t *testing.T) {
		r := e.do("POST", "/Bulk", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[
			{"method":"POST","path":"/Groups","bulkId":"x","data":{"displayName":"X","members":[{"value":"bulkId:y"}]}},
			{"method":"POST","path":"/Groups","bulkId":"y","data":{"displayName":"Y","members":[{"value":"bulkId:x"}]}},
			{"method":"DELETE","path":"/Users/bulkId:nope"}]}`)
		for i, op := range r.json["Operations"].([]any) {
			if s := op.(map[string]any)["status"]; s != "409" {
				t.Errorf("op %d status %v: %s", i, s, r.body)
			}
		}
	})
	t.Run("limits", func(t *testing.T) {
		ops := make([]string, 1001)
		for i := range ops {
			ops[i] = `{"method":"DELETE","path":"/Users/x"}`
		}
		r := e.do("POST", "/Bulk", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[`+strings.Join(ops, ",")+`]}`)
		wantError(t, r, http.StatusRequestEntityTooLarge, "tooMany", "1000")
		wantError(t, e.do("POST", "/Bulk", `{"Operations":[]}`), 400, "invalidValue", "at least one")
		r = e.do("POST", "/Bulk", `{"Operations":[{"method":"GET","path":"/Users"},{"method":"POST","path":"/Bulk","data":{}}]}`)
		for _, op := range r.json["Operations"].([]any) {
			if op.(map[string]any)["status"] != "400" {
				t.Errorf("%s", r.body)
			}
		}
	})
}
