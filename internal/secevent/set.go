package secevent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/scimd/scimd/internal/scim"
	"github.com/scimd/scimd/internal/store"
)

// ContentType is the media type of a SET (RFC 8417 §2.3), the body of an
// RFC 8935 push.
const ContentType = "application/secevent+jwt"

// TokenType is the "typ" header of every SET scimd signs (RFC 8417 §2.3).
const TokenType = "secevent+jwt"

// The SCIM event URIs of RFC 9967 (its registry, §7.4) that scimd's SETs
// carry. The RFC spells them with a lower-case "scim".
const (
	ProvCreateFull   = "urn:ietf:params:scim:event:prov:create:full"
	ProvCreateNotice = "urn:ietf:params:scim:event:prov:create:notice"
	ProvPutFull      = "urn:ietf:params:scim:event:prov:put:full"
	ProvPutNotice    = "urn:ietf:params:scim:event:prov:put:notice"
	ProvPatchFull    = "urn:ietf:params:scim:event:prov:patch:full"
	ProvDelete       = "urn:ietf:params:scim:event:prov:delete"
	ProvActivate     = "urn:ietf:params:scim:event:prov:activate"
	ProvDeactivate   = "urn:ietf:params:scim:event:prov:deactivate"
)

// EventURIs are the event URIs scimd generates, as the
// ServiceProviderConfig advertises them (RFC 9967 §4, "eventUris"). The
// ":notice" forms appear only for the events of a purged user, whose data
// is gone.
var EventURIs = []string{
	ProvCreateFull, ProvCreateNotice, ProvPutFull, ProvPutNotice, ProvPatchFull,
	ProvDelete, ProvActivate, ProvDeactivate,
}

// Types are the event types that have SETs, as store.EventQuery.Types
// patterns: the events of users and groups. Tenant and key events
// (tenant.provisioning_*, key.*) are not about a SCIM resource and have
// none; Encode answers ErrNoSET for them.
var Types = []string{"user.*", "group.*"}

// ErrNoSET is returned by Encode for an event that has no SET: its type is
// not one of Types. A sender skips it (it is not a failure).
var ErrNoSET = errors.New("secevent: this event type has no Security Event Token (only user and group events do)")

// Format encodes events as SETs signed with the deployment's key.
type Format struct {
	// Issuer is the "iss" of every SET: the deployment's base URL.
	Issuer string
	Keys   *Keyring
	// Now is the clock of "iat"; nil means time.Now.
	Now func() time.Time
}

// Encode returns the SET of event e addressed to audience (its "aud",
// e.g. the receiver's URL; "" leaves it out), and the content type of an
// RFC 8935 push of it. It returns ErrNoSET for an event that has none.
// The "jti" is the event id, so that a receiver recognizes a SET it was
// sent before, whoever signed it again.
func (f *Format) Encode(ctx context.Context, e store.Event, audience string) (body []byte, contentType string, err error) {
	now := time.Now
	if f.Now != nil {
		now = f.Now
	}
	c, err := claimsOf(e, f.Issuer, audience, now())
	if err != nil {
		return nil, "", err
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return nil, "", err
	}
	tok, err := f.Keys.sign(ctx, payload)
	if err != nil {
		return nil, "", err
	}
	return []byte(tok), ContentType, nil
}

// Claims are the claims of a SET (RFC 8417 §2.2, RFC 9967 §2).
type Claims struct {
	Issuer   string `json:"iss"`
	IssuedAt int64  `json:"iat"`
	ID       string `json:"jti"`
	Audience string `json:"aud,omitempty"`
	// Txn is the id of the request that made the change (RFC 8417 §2.2):
	// the SETs of one request share it. Changes made without a request
	// (the CLI, retention) have none.
	Txn string `json:"txn,omitempty"`
	// Time is when the change happened ("toe").
	Time    int64 `json:"toe"`
	Subject SubID `json:"sub_id"`
	// Tenant is the scimd tenant whose resource changed: sub_id.uri is
	// relative to that tenant's SCIM base URL. (A private claim: one
	// deployment serves many SCIM service providers.)
	Tenant string                     `json:"tenant"`
	Events map[string]json.RawMessage `json:"events"`
}

// SubID identifies the SCIM resource a SET is about (RFC 9967 §2.1).
type SubID struct {
	Format     string `json:"format"` // "scim"
	URI        string `json:"uri"`    // "/Users/ID" or "/Groups/ID"
	ID         string `json:"id"`
	ExternalID string `json:"externalId,omitempty"`
}

// payload is an event URI's member of "events" (RFC 9967 §2.2, §2.4).
// Exactly one of Data ("full" events) and Attributes ("notice" events) is
// set; prov:delete, prov:activate and prov:deactivate carry neither.
type payload struct {
	Version    string          `json:"version,omitempty"`
	Data       json.RawMessage `json:"data,omitempty"`
	Attributes *[]string       `json:"attributes,omitempty"`
}

// eventData is what the store's events of users and groups hold (see
// store.Event.Data).
type eventData struct {
	Resource json.RawMessage `json:"resource"`
	Changed  []string        `json:"changed"`
	Member   *struct {
		Value string `json:"value"`
		Type  string `json:"type"`
	} `json:"member"`
	Scrubbed bool `json:"scrubbed"`
}

// claimsOf maps event e to its SET claims: the decision of which store
// event is which RFC 9967 event is here, and only here.
//
//	user.created, group.created   prov:create:full (data: the resource)
//	user.restored                 prov:create:full (it is back in SCIM, same id)
//	user.updated                  prov:put:full (data: the whole user as it is now)
//	user.deactivated              prov:put:full and prov:deactivate, in one SET
//	user.reactivated              prov:put:full and prov:activate, in one SET
//	group.updated                 prov:patch:full (data: a PatchOp replacing or removing
//	                              the changed attributes; a group's data has no members,
//	                              so a put would read as "no members")
//	group.member_added            prov:patch:full (data: PatchOp add of the member)
//	group.member_removed          prov:patch:full (data: PatchOp remove members[value eq ...])
//	user.deleted, group.deleted   prov:delete (archived or destroyed: gone from SCIM either way)
//	user.purged                   prov:delete (again, if it was archived)
//	tenant.*, key.*               none: ErrNoSET
//
// The events of a purged user hold no data any more: their full forms
// become the ":notice" forms with an empty "attributes".
func claimsOf(e store.Event, issuer, audience string, iat time.Time) (Claims, error) {
	var endpoint string
	switch e.Resource.Type {
	case store.MemberUser:
		endpoint = "/Users/"
	case store.MemberGroup:
		endpoint = "/Groups/"
	}
	if endpoint == "" || !typeHasSET(e.Type) {
		return Claims{}, ErrNoSET
	}
	var d eventData
	if len(e.Data) > 0 && json.Unmarshal(e.Data, &d) != nil {
		d = eventData{Scrubbed: true} // unreadable data is sent as none
	}
	c := Claims{
		Issuer: issuer, IssuedAt: iat.Unix(), ID: e.ID, Audience: audience, Txn: e.Actor.RequestID,
		Time: e.Time.Unix(), Tenant: e.Tenant, Events: map[string]json.RawMessage{},
		Subject: SubID{Format: "scim", URI: endpoint + url.PathEscape(e.Resource.ID), ID: e.Resource.ID},
	}
	res := resourceOf(d.Resource)
	if res != nil {
		if x, ok := res.fields["externalId"]; ok {
			_ = json.Unmarshal(x, &c.Subject.ExternalID)
		}
	}
	full := func(uri string) {
		if res == nil {
			c.Events[strings.Replace(uri, ":full", ":notice", 1)] = notice()
			return
		}
		c.Events[uri] = mustJSON(payload{Version: res.version, Data: d.Resource})
	}
	switch e.Type {
	case store.EventUserCreated, store.EventGroupCreated, store.EventUserRestored:
		full(ProvCreateFull)
	case store.EventUserUpdated:
		full(ProvPutFull)
	case store.EventUserDeactivated:
		full(ProvPutFull)
		c.Events[ProvDeactivate] = empty
	case store.EventUserReactivated:
		full(ProvPutFull)
		c.Events[ProvActivate] = empty
	case store.EventGroupUpdated:
		if res == nil {
			c.Events[ProvPutNotice] = notice()
			break
		}
		c.Events[ProvPatchFull] = mustJSON(payload{Version: res.version, Data: mustJSON(patchOp(res.changedOps(d.Changed)))})
	case store.EventGroupMemberAdded, store.EventGroupMemberRemoved:
		if d.Member == nil {
			c.Events[ProvPutNotice] = mustJSON(payload{Attributes: &[]string{"members"}})
			break
		}
		op := map[string]any{"op": "add", "path": "members", "value": []any{map[string]string{"value": d.Member.Value, "type": d.Member.Type}}}
		if e.Type == store.EventGroupMemberRemoved {
			op = map[string]any{"op": "remove", "path": "members[value eq " + string(mustJSON(d.Member.Value)) + "]"}
		}
		c.Events[ProvPatchFull] = mustJSON(payload{Data: mustJSON(patchOp([]any{op}))})
	case store.EventUserDeleted, store.EventGroupDeleted, store.EventUserPurged:
		c.Events[ProvDelete] = empty
	default:
		return Claims{}, ErrNoSET
	}
	return c, nil
}

// typeHasSET reports whether events of type typ have SETs.
func typeHasSET(typ string) bool {
	for _, p := range Types {
		if strings.HasPrefix(typ, strings.TrimSuffix(p, "*")) {
			return true
		}
	}
	return false
}

var empty = json.RawMessage(`{}`)

func notice() json.RawMessage { return mustJSON(payload{Attributes: &[]string{}}) }

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only values of this file: strings, maps, raw JSON that was valid
	}
	return b
}

func patchOp(ops []any) map[string]any {
	if ops == nil {
		ops = []any{}
	}
	return map[string]any{"schemas": []string{scim.PatchOpURN}, "Operations": ops}
}

// resource is an event's SCIM resource, read only as far as SETs need.
type resource struct {
	fields  map[string]json.RawMessage
	version string
}

// resourceOf reads the resource of an event's data; nil when there is none.
func resourceOf(raw json.RawMessage) *resource {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil
	}
	r := &resource{}
	if json.Unmarshal(raw, &r.fields) != nil {
		return nil
	}
	var meta struct {
		Version string `json:"version"`
	}
	if m, ok := r.fields["meta"]; ok {
		_ = json.Unmarshal(m, &meta)
	}
	r.version = meta.Version
	return r
}

// changedOps are the PATCH operations that take a resource from before to
// as it is now, given the paths that changed: a replace with the current
// value, or a remove where the attribute is gone. Paths of extension
// attributes are "URN:attr".
func (r *resource) changedOps(changed []string) []any {
	ops := []any{}
	for _, p := range changed {
		v, ok := r.fields[p]
		if strings.HasPrefix(p, "urn:") {
			v, ok = nil, false
			if i := strings.LastIndex(p, ":"); i > 0 {
				var ext map[string]json.RawMessage
				if json.Unmarshal(r.fields[p[:i]], &ext) == nil {
					v, ok = ext[p[i+1:]]
				}
			}
		}
		if ok && string(v) != "null" {
			ops = append(ops, map[string]any{"op": "replace", "path": p, "value": v})
		} else {
			ops = append(ops, map[string]any{"op": "remove", "path": p})
		}
	}
	return ops
}
