package secevent

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimd/scimd/internal/store"
)

const (
	userRes = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u-1","meta":{"resourceType":"User","version":"W/\"2\""},` +
		`"externalId":"ext-1","userName":"ada@example.com","active":true,"title":"CTO"}`
	groupRes = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"g-1","meta":{"resourceType":"Group","version":"W/\"3\""},` +
		`"displayName":"Eng","urn:x:ext":{"a":"b"}}`
)

// TestEventMapping: every event type of the store maps to the RFC 9967
// events its SET carries (or to none), with the payload each defines.
func TestEventMapping(t *testing.T) {
	user := func(typ, data string) store.Event {
		return store.Event{ID: "evt_1", Type: typ, Resource: store.EventResource{Type: "User", ID: "u-1"}, Data: json.RawMessage(data)}
	}
	group := func(typ, data string) store.Event {
		return store.Event{ID: "evt_1", Type: typ, Resource: store.EventResource{Type: "Group", ID: "g-1"}, Data: json.RawMessage(data)}
	}
	full := `{"version":"W/\"2\"","data":` + userRes + `}`
	tests := []struct {
		name   string
		e      store.Event
		events string // the "events" claim; "" for no SET
		subID  SubID
	}{
		{"", user(store.EventUserCreated, `{"resource":`+userRes+`}`),
			`{"` + ProvCreateFull + `":` + full + `}`, SubID{"scim", "/Users/u-1", "u-1", "ext-1"}},
		{"", user(store.EventUserUpdated, `{"resource":`+userRes+`,"changed":["title"]}`),
			`{"` + ProvPutFull + `":` + full + `}`, SubID{"scim", "/Users/u-1", "u-1", "ext-1"}},
		{"", user(store.EventUserDeactivated, `{"resource":`+userRes+`,"changed":["active"]}`),
			`{"` + ProvDeactivate + `":{},"` + ProvPutFull + `":` + full + `}`, SubID{"scim", "/Users/u-1", "u-1", "ext-1"}},
		{"", user(store.EventUserReactivated, `{"resource":`+userRes+`,"changed":["active"]}`),
			`{"` + ProvActivate + `":{},"` + ProvPutFull + `":` + full + `}`, SubID{"scim", "/Users/u-1", "u-1", "ext-1"}},
		{"", user(store.EventUserDeleted, `{"archived":true}`), `{"` + ProvDelete + `":{}}`, SubID{"scim", "/Users/u-1", "u-1", ""}},
		{"", user(store.EventUserRestored, `{"resource":`+userRes+`}`),
			`{"` + ProvCreateFull + `":` + full + `}`, SubID{"scim", "/Users/u-1", "u-1", "ext-1"}},
		{"", user(store.EventUserPurged, `{}`), `{"` + ProvDelete + `":{}}`, SubID{"scim", "/Users/u-1", "u-1", ""}},
		{"", group(store.EventGroupCreated, `{"resource":`+groupRes+`}`),
			`{"` + ProvCreateFull + `":{"version":"W/\"3\"","data":` + groupRes + `}}`, SubID{"scim", "/Groups/g-1", "g-1", ""}},
		{"", group(store.EventGroupUpdated, `{"resource":`+groupRes+`,"changed":["displayName","externalId","urn:x:ext:a","urn:x:ext:gone"]}`),
			`{"` + ProvPatchFull + `":{"version":"W/\"3\"","data":{"Operations":[` +
				`{"op":"replace","path":"displayName","value":"Eng"},{"op":"remove","path":"externalId"},` +
				`{"op":"replace","path":"urn:x:ext:a","value":"b"},{"op":"remove","path":"urn:x:ext:gone"}],` +
				`"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}}}`, SubID{"scim", "/Groups/g-1", "g-1", ""}},
		{"", group(store.EventGroupDeleted, `{}`), `{"` + ProvDelete + `":{}}`, SubID{"scim", "/Groups/g-1", "g-1", ""}},
		{"", group(store.EventGroupMemberAdded, `{"member":{"value":"u-1","type":"User"}}`),
			`{"` + ProvPatchFull + `":{"data":{"Operations":[{"op":"add","path":"members","value":[{"type":"User","value":"u-1"}]}],` +
				`"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}}}`, SubID{"scim", "/Groups/g-1", "g-1", ""}},
		{"", group(store.EventGroupMemberRemoved, `{"member":{"value":"g\"2","type":"Group"}}`),
			`{"` + ProvPatchFull + `":{"data":{"Operations":[{"op":"remove","path":"members[value eq \"g\\\"2\"]"}],` +
				`"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}}}`, SubID{"scim", "/Groups/g-1", "g-1", ""}},
		{"", store.Event{ID: "evt_1", Type: store.EventTenantActivated, Resource: store.EventResource{Type: "Tenant", ID: "acme"}, Data: json.RawMessage(`{}`)}, "", SubID{}},
		{"", store.Event{ID: "evt_1", Type: store.EventTenantDeactivated, Resource: store.EventResource{Type: "Tenant", ID: "acme"}, Data: json.RawMessage(`{}`)}, "", SubID{}},
		{"", store.Event{ID: "evt_1", Type: store.EventTenantDeleted, Resource: store.EventResource{Type: "Tenant", ID: "acme"}, Data: json.RawMessage(`{}`)}, "", SubID{}},
		{"", store.Event{ID: "evt_1", Type: store.EventKeyCreated, Resource: store.EventResource{Type: "APIKey", ID: "k1"}, Data: json.RawMessage(`{"name":"okta"}`)}, "", SubID{}},
		{"", store.Event{ID: "evt_1", Type: store.EventKeyRevoked, Resource: store.EventResource{Type: "APIKey", ID: "k1"}, Data: json.RawMessage(`{}`)}, "", SubID{}},
		{"", store.Event{ID: "evt_1", Type: store.EventKeyRotated, Resource: store.EventResource{Type: "APIKey", ID: "k1"}, Data: json.RawMessage(`{"previous_expires":"2026-01-02T00:00:00Z"}`)}, "", SubID{}},
		// A purged user's earlier events keep no data: notice forms.
		{"scrubbed created", user(store.EventUserCreated, `{"scrubbed":true}`), `{"` + ProvCreateNotice + `":{"attributes":[]}}`, SubID{"scim", "/Users/u-1", "u-1", ""}},
		{"scrubbed updated", user(store.EventUserUpdated, `{"scrubbed":true}`), `{"` + ProvPutNotice + `":{"attributes":[]}}`, SubID{"scim", "/Users/u-1", "u-1", ""}},
		{"scrubbed deactivated", user(store.EventUserDeactivated, `{"scrubbed":true}`),
			`{"` + ProvDeactivate + `":{},"` + ProvPutNotice + `":{"attributes":[]}}`, SubID{"scim", "/Users/u-1", "u-1", ""}},
		{"scrubbed deleted", user(store.EventUserDeleted, `{"scrubbed":true}`), `{"` + ProvDelete + `":{}}`, SubID{"scim", "/Users/u-1", "u-1", ""}},
		{"corrupt data", user(store.EventUserCreated, `{"resource":`), `{"` + ProvCreateNotice + `":{"attributes":[]}}`, SubID{"scim", "/Users/u-1", "u-1", ""}},
		{"unknown type", user("user.exploded", `{}`), "", SubID{}},
	}
	seen := map[string]bool{}
	iat := time.Unix(1_800_000_000, 0)
	for _, tc := range tests {
		name := tc.name
		if name == "" {
			name = tc.e.Type
			seen[tc.e.Type] = true
		}
		t.Run(name, func(t *testing.T) {
			c, err := claimsOf(tc.e, "https://scimd.example", "aud", iat)
			if tc.events == "" {
				if !errors.Is(err, ErrNoSET) {
					t.Fatalf("claimsOf = %+v, %v; want ErrNoSET", c, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var want bytes.Buffer
			if err := json.Compact(&want, []byte(tc.events)); err != nil {
				t.Fatalf("the test's events: %v", err)
			}
			if got := string(mustJSON(c.Events)); got != want.String() {
				t.Errorf("events\n got %s\nwant %s", got, want.String())
			}
			if diff := cmp.Diff(tc.subID, c.Subject); diff != "" {
				t.Errorf("sub_id (-want +got):\n%s", diff)
			}
			for uri := range c.Events {
				if !slices.Contains(EventURIs, uri) {
					t.Errorf("event URI %s is not advertised in EventURIs", uri)
				}
			}
		})
	}
	for _, typ := range store.EventTypes {
		if !seen[typ] {
			t.Errorf("event type %s has no case in this table", typ)
		}
	}
}

// TestEncodeVerify: a SET made from a real event verifies, with go-jose,
// against the JWKS the server serves, and carries the claims RFC 8417 and
// RFC 9967 define.
func TestEncodeVerify(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := store.WithActor(t.Context(), store.Actor{Kind: store.ActorAPIKey, ID: "key-1", RequestID: "req-42"})
		acme := mustTenant(t, b, "acme")
		clk := newClock()
		keys := &Keyring{Store: b, Now: clk.Now}
		if made, err := keys.Ensure(ctx); err != nil || !made {
			t.Fatalf("Ensure = %v, %v; want a new key", made, err)
		}
		if made, err := keys.Ensure(ctx); err != nil || made {
			t.Fatalf("Ensure again = %v, %v; want the existing key", made, err)
		}
		now := time.Now().UTC()
		if _, err := b.CreateUser(ctx, acme.ID, store.User{ID: "u-1", Created: now, Modified: now,
			Attrs: map[string]any{"userName": "ada@example.com", "externalId": "00u1", "name": map[string]any{"givenName": "Ada"}}}); err != nil {
			t.Fatal(err)
		}
		evs := allEvents(t, b)
		if len(evs) != 1 {
			t.Fatalf("events %+v", evs)
		}
		f := &Format{Issuer: "https://scimd.example", Keys: keys, Now: clk.Now}
		tok, ct, err := f.Encode(ctx, evs[0], "https://receiver.example/events")
		if err != nil || ct != "application/secevent+jwt" {
			t.Fatalf("Encode = %q, %v", ct, err)
		}
		if n := strings.Count(string(tok), "."); n != 2 {
			t.Fatalf("not a compact JWS: %s", tok)
		}
		set := jwks(t, keys)
		if len(set.Keys) != 1 {
			t.Fatalf("JWKS has %d keys, want 1", len(set.Keys))
		}
		c, kid := verify(t, set, string(tok))
		if kid != set.Keys[0].KeyID {
			t.Errorf("kid %q, want %q", kid, set.Keys[0].KeyID)
		}
		var data struct {
			Resource json.RawMessage `json:"resource"`
		}
		json.Unmarshal(evs[0].Data, &data)
		want := Claims{
			Issuer: "https://scimd.example", IssuedAt: clk.Now().Unix(), ID: evs[0].ID, Audience: "https://receiver.example/events",
			Txn: "req-42", Time: evs[0].Time.Unix(), Tenant: "acme",
			Subject: SubID{Format: "scim", URI: "/Users/u-1", ID: "u-1", ExternalID: "00u1"},
			Events:  map[string]json.RawMessage{ProvCreateFull: mustJSON(payload{Version: `W/"1"`, Data: data.Resource})},
		}
		if diff := cmp.Diff(want, c); diff != "" {
			t.Errorf("claims (-want +got):\n%s", diff)
		}
		var res map[string]any
		json.Unmarshal(c.Events[ProvCreateFull], &res)
		if d, _ := res["data"].(map[string]any); d["userName"] != "ada@example.com" || d["id"] != "u-1" || d["password"] != nil {
			t.Errorf("data %v", res["data"])
		}
		// The raw payload has exactly the claims RFC 8417 and RFC 9967 use
		// (no "sub", no "exp").
		var raw map[string]any
		parts := strings.Split(string(tok), ".")
		if err := json.Unmarshal(mustDecode(t, parts[1]), &raw); err != nil {
			t.Fatal(err)
		}
		var names []string
		for k := range raw {
			names = append(names, k)
		}
		slices.Sort(names)
		if diff := cmp.Diff([]string{"aud", "events", "iat", "iss", "jti", "sub_id", "tenant", "toe", "txn"}, names); diff != "" {
			t.Errorf("claim names (-want +got):\n%s", diff)
		}
		// A changed payload does not verify.
		parts[1] = strings.TrimRight(parts[1], "=") + "A"
		if _, _, err := verifyErr(set, strings.Join(parts, ".")); err == nil {
			t.Error("a tampered SET verified")
		}
		// Tenant and key events have no SET.
		tnEv := store.Event{ID: "evt_x", Type: store.EventKeyCreated, Resource: store.EventResource{Type: "APIKey", ID: "k"}}
		if _, _, err := f.Encode(ctx, tnEv, ""); !errors.Is(err, ErrNoSET) {
			t.Errorf("Encode(key.created) = %v, want ErrNoSET", err)
		}
	})
}
