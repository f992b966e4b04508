package server_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/scimd/scimd/internal/server"
)

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

// recorder collects activity events.
type recorder struct {
	mu     sync.Mutex
	events []server.ActivityEvent
}

func (r *recorder) Record(_ context.Context, e server.ActivityEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

// TestBulkActivity checks that each Bulk operation is recorded in the
// activity log with its own change, as well as the Bulk request.
func TestBulkActivity(t *testing.T) {
	e := newEnv(t)
	rec := &recorder{}
	e.srv.Config.Handler = server.New(server.Config{Store: e.store, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Activity: rec})
	r := e.do("POST", "/Bulk", `{"Operations":[{"method":"POST","path":"/Users","bulkId":"u","data":{"userName":"act@example.com"}},
		{"method":"PATCH","path":"/Users/bulkId:u","data":{"Operations":[{"op":"replace","path":"displayName","value":"Act"}]}}]}`, "User-Agent", "Okta SCIM Client 1.0.0")
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.events) != 3 {
		t.Fatalf("%d events, want 3 (two operations and the Bulk request): %+v", len(rec.events), rec.events)
	}
	post, patch, bulk := rec.events[0], rec.events[1], rec.events[2]
	if post.Method != "POST" || post.ResourceType != "User" || post.Status != 201 || post.After["userName"] != "act@example.com" || post.UserAgent != "Okta SCIM Client 1.0.0" {
		t.Errorf("POST event %+v", post)
	}
	if patch.Method != "PATCH" || patch.ResourceID != post.ResourceID || patch.Before["displayName"] != nil || patch.After["displayName"] != "Act" {
		t.Errorf("PATCH event %+v", patch)
	}
	if !strings.HasSuffix(bulk.Path, "/Bulk") || bulk.Status != 200 {
		t.Errorf("Bulk event %+v", bulk)
	}
}
