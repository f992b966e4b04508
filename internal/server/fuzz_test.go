package server_test

import (
	"net/http"
	"testing"
)

// FuzzCreateUser sends arbitrary bodies to POST /Users, PUT and PATCH: the
// answer is always a success or a 4xx SCIM error, never a 500.
func FuzzCreateUser(f *testing.F) {
	for _, s := range []string{
		userJSON("seed@example.com"),
		`{"userName":"a@b.c","active":"False","emails":[{"value":"x","primary":"true"},{"value":"y","primary":true}]}`,
		`{"userName":"a@b.c","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":"m","employeeNumber":7}}`,
		`{"userName":"a@b.c","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department":"D"}`,
		`{"userName":null,"name":null,"emails":null}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}`,
		`{"Operations":[{"op":"Add","path":"emails[type eq \"work\"].value","value":"w@x.y"}]}`,
		`{"userName":"\u0000\ud800","phoneNumbers":"555"}`,
		`[1,2,3]`, `"str"`, `{}`, `{"userName":{}}`, `{"emails":{"value":"single"}, "userName":"s"}`,
	} {
		f.Add(s)
	}
	e := newEnv(f)
	id := e.createUser(userJSON("target@example.com"))
	f.Fuzz(func(t *testing.T, body string) {
		e.t = t
		for _, req := range []struct{ method, path string }{
			{"POST", "/Users"}, {"PUT", "/Users/" + id}, {"PATCH", "/Users/" + id}, {"POST", "/Users/.search"},
		} {
			r := e.do(req.method, req.path, body)
			if r.status >= 500 {
				t.Fatalf("%s %s with %q: %d %s", req.method, req.path, body, r.status, r.body)
			}
			if r.status >= 400 && r.status != http.StatusConflict {
				if r.json["schemas"] == nil || r.json["detail"] == nil {
					t.Fatalf("%s %s: error without a SCIM body: %s", req.method, req.path, r.body)
				}
			}
			if r.status == 201 {
				e.do("DELETE", "/Users/"+r.json["id"].(string), "")
			}
		}
	})
}
