package activity

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimd/scimd/internal/scim"
	"github.com/scimd/scimd/internal/server"
	"github.com/scimd/scimd/internal/store"
)

func TestDiff(t *testing.T) {
	before := map[string]any{"userName": "ada", "active": true, "name": map[string]any{"givenName": "Ada"},
		"emails": []any{map[string]any{"value": "a@x"}}, "title": "Dr"}
	after := map[string]any{"userName": "ada", "active": false, "name": map[string]any{"givenName": "Augusta"},
		"emails": []any{map[string]any{"value": "b@x"}}, "password": "hunter2",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": map[string]any{"department": "R&D"}}
	want := []store.Change{
		{Attr: "active", Old: "true", New: "false"},
		{Attr: "emails", Old: `[{"value":"a@x"}]`, New: `[{"value":"b@x"}]`},
		{Attr: "name.givenName", Old: "Ada", New: "Augusta"},
		{Attr: "title", Old: "Dr"},
		{Attr: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", New: "R&D"},
	}
	if diff := cmp.Diff(want, Diff(before, after)); diff != "" {
		t.Errorf("Diff (-want +got):\n%s", diff)
	}
	if got := Diff(before, nil); got != nil {
		t.Errorf("Diff of a deletion = %v", got)
	}
}

func TestClient(t *testing.T) {
	for ua, want := range map[string]string{
		"Okta SCIM Client 1.0.0": "Okta", "Azure AD SCIM Client": "Entra", "OneLogin SCIM": "OneLogin",
		"JumpCloud": "JumpCloud", "curl/8.0": "other", "": "other",
	} {
		if got := scim.ClientOf(ua); got != want {
			t.Errorf("Client(%q) = %q, want %q", ua, got, want)
		}
	}
}

type memWriter struct {
	ch chan []store.Activity
}

func (m *memWriter) AddActivity(_ context.Context, as []store.Activity) error {
	m.ch <- as
	return nil
}
func (m *memWriter) PurgeActivity(context.Context, time.Time) (int64, error) { return 0, nil }

func TestRecorderDropsWhenFull(t *testing.T) {
	w := &memWriter{ch: make(chan []store.Activity)} // blocks the drainer
	r := New(Config{Store: w, Queue: 2, Batch: 1})
	e := server.ActivityEvent{Tenant: store.Tenant{ID: 1}, Method: "GET"}
	for range 10 {
		r.Record(t.Context(), e) // never blocks
	}
	if r.Dropped() < 7 {
		t.Errorf("Dropped = %d, want at least 7", r.Dropped())
	}
	go func() {
		for range w.ch {
		}
	}()
	r.Close()
	if r.Written()+r.Dropped() != 10 {
		t.Errorf("written %d + dropped %d != 10", r.Written(), r.Dropped())
	}
}
