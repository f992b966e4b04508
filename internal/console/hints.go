package console

import (
	"cmp"
	"net/http"
	"net/url"
	"strings"

	"github.com/scimd/scimd/internal/scim"
	"github.com/scimd/scimd/internal/store"
)

// hint tells the admin what to do about a failed request, when scimd
// knows: "" for a success or a failure it has no advice for. It reads the
// record's status, scimType and detail (the texts internal/server and
// internal/auth send), its method and path, and the tenant as it is now
// (an option turned on since the failure is said to be on).
func hint(a store.Activity, t store.Tenant) string {
	d := a.Detail
	switch a.Status {
	case http.StatusUnauthorized:
		switch {
		case strings.HasPrefix(d, "API keys are disabled"):
			if t.APIKeysEnabled {
				return "The API Keys option was off in General Settings; it is on now, so the next attempt should pass."
			}
			return "Turn on the API Keys option in General Settings: until then no key is accepted."
		case strings.HasPrefix(d, "authentication required"):
			return "The identity provider sent no credentials: enter the key's User ID and secret in its SCIM connection settings."
		case strings.Contains(d, "does not carry a valid User ID"):
			return "The Authorization header is not a User ID and secret: the identity provider must send Basic base64(userId:secret), or the secret as a Bearer token."
		case strings.Contains(d, "has been revoked"):
			return "The key was revoked: generate a new key on API Keys and enter it in the identity provider."
		case strings.Contains(d, "expired at"):
			return "The key expired: rotate it (or generate a new one) on API Keys and enter it in the identity provider."
		}
		return "The key's User ID or secret is wrong, or the key was revoked or expired: generate or rotate a key on API Keys and enter it in the identity provider."
	case http.StatusForbidden:
		switch {
		case strings.HasPrefix(d, "SCIM provisioning is not activated"):
			if t.ProvisioningActive {
				return "Provisioning was not activated yet at the time; it is now, so the next attempt should pass."
			}
			return "Provisioning is not activated yet: contact support to activate it."
		case strings.Contains(d, "read-only"):
			return "The key is read-only: give the identity provider a read-write key (API Keys) to let it change users and groups."
		}
	case http.StatusConflict:
		switch {
		case a.ScimType == scim.Uniqueness && a.ResourceType == "User":
			return "A user with this userName already exists (created by hand, by another connection, or deleted in the identity provider but not here): find it on Users and delete it or change its userName, or link the identity provider's user to it."
		case a.ScimType == scim.Uniqueness:
			return "A resource with the same unique value already exists: find it and rename or delete it, or link the identity provider to it."
		case strings.HasPrefix(d, "bulkId"):
			return "An operation of the Bulk request refers to another that failed or does not exist: fix that one first."
		}
	case http.StatusBadRequest:
		switch {
		case a.ScimType == scim.InvalidFilter:
			if f := queryParam(a.Query, "filter"); f != "" {
				if len(f) > maxHintFilter {
					f = scim.Cut(f, maxHintFilter) + "…"
				}
				return "The identity provider sent a filter scimd cannot use: " + f + ". Check the attribute mappings of its connection."
			}
			return "The identity provider sent a filter scimd cannot use; check the attribute mappings of its connection."
		case strings.HasPrefix(d, "no user or group with id"):
			return "The group change names members scimd does not have (never provisioned, or deleted here): push those users to scimd first, then the group again."
		case strings.Contains(d, "make a group a member of itself"):
			return "The change would make a group contain itself: remove the nesting in the identity provider."
		case a.ScimType == scim.InvalidSyntax:
			return "The request body is not valid SCIM JSON: this is an identity provider or connector problem; report it to its vendor with the request id."
		case a.ScimType == scim.InvalidValue:
			return "An attribute has a value scimd refuses (the detail says which): fix its mapping in the identity provider."
		}
	case http.StatusNotFound:
		switch {
		case strings.HasPrefix(d, "no user with id"), strings.HasPrefix(d, "no group with id"), d == "resource not found":
			return "The identity provider refers to a " + strings.ToLower(cmp.Or(a.ResourceType, "resource")) + " scimd does not have (deleted here, or never created): push it again from the identity provider, or unlink and re-assign it there."
		case strings.HasPrefix(d, "no SCIM endpoint"):
			return "The connection's base URL is wrong: it must end in /scim/v2 (see the address on API Keys)."
		}
	case http.StatusPreconditionFailed:
		return "The resource changed since the identity provider read it: it should read it again and retry."
	case http.StatusRequestEntityTooLarge:
		return "The request is larger than scimd accepts (see the detail): the identity provider must send smaller requests, e.g. fewer Bulk operations or group members at a time."
	case http.StatusTooManyRequests:
		if strings.HasPrefix(d, "too many requests of this tenant at once") {
			return "Rate limited: the tenant had too many requests under way at once. The identity provider should retry shortly; lowering its number of parallel requests helps."
		}
		return "Rate limited: this key sent more requests than the tenant's limit allows. The identity provider should retry after the Retry-After delay; if it keeps happening, ask support to raise the limit."
	case http.StatusServiceUnavailable:
		return "The request took too long and was stopped: it is retried by most identity providers; narrower filters or smaller pages help."
	case http.StatusInternalServerError:
		return "scimd failed to handle the request: retrying usually works; if it keeps failing, contact support with the request id."
	case 499: // server.StatusClientClosedRequest
		return "The identity provider closed the connection before the answer (a timeout on its side): a change may still have been made; check the resource."
	}
	return ""
}

// maxHintFilter is how much of a filter a hint quotes (the query string
// shows all of it).
const maxHintFilter = 120

// queryParam is the value of a parameter of a recorded query string, or
// "" when it is not there or cannot be decoded.
func queryParam(raw, name string) string {
	v, err := url.ParseQuery(raw)
	if err != nil {
		return ""
	}
	return v.Get(name)
}
