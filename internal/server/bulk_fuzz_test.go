package server_test

import "testing"

// FuzzBulk sends arbitrary bodies to POST /Bulk: the answer is a
// BulkResponse or a 4xx SCIM error, never a 500, and no operation result
// is a 500 either.
func FuzzBulk(f *testing.F) {
	for _, s := range []string{
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[{"method":"POST","path":"/Users","bulkId":"u","data":{"userName":"f@x.y"}},{"method":"POST","path":"/Groups","data":{"displayName":"G","members":[{"value":"bulkId:u"}]}}]}`,
		`{"failOnErrors":1,"Operations":[{"method":"PATCH","path":"/Users/bulkId:u","data":{"Operations":[{"op":"replace","value":{"active":false}}]}}]}`,
		`{"Operations":[{"method":"DELETE","path":"/Groups/x","version":"W/\"1\""}]}`,
		`{"Operations":[{"method":"PUT","path":"/Users/bulkId:","data":"bulkId:"}]}`,
		`{"Operations":null}`, `[]`, `{"Operations":[{}]}`,
	} {
		f.Add(s)
	}
	e := newEnv(f)
	f.Fuzz(func(t *testing.T, body string) {
		e.t = t
		r := e.do("POST", "/Bulk", body)
		if r.status >= 500 {
			t.Fatalf("%q: %d %s", body, r.status, r.body)
		}
		if r.status == 200 {
			ops, _ := r.json["Operations"].([]any)
			for _, op := range ops {
				if s, _ := op.(map[string]any)["status"].(string); len(s) == 0 || s[0] == '5' {
					t.Fatalf("%q: operation status %q: %s", body, s, r.body)
				}
			}
		}
	})
}
