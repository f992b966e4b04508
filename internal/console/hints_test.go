package console

import (
	"strings"
	"testing"

	"github.com/scimd/scimd/internal/store"
)

// TestHint: each failure scimd knows gets its advice, matched on the
// details internal/server and internal/auth send (copied here as they
// are sent), and the tenant as it is now.
func TestHint(t *testing.T) {
	on := store.Tenant{APIKeysEnabled: true, ProvisioningActive: true}
	keysOff := store.Tenant{APIKeysEnabled: false, ProvisioningActive: true}
	inactive := store.Tenant{APIKeysEnabled: true}
	for _, tc := range []struct {
		name   string
		a      store.Activity
		tenant store.Tenant
		want   string // a part of the hint; "" for none
	}{
		{"success", store.Activity{Status: 200}, on, ""},
		{"created", store.Activity{Status: 201, Method: "POST"}, on, ""},
		{"401 unknown key", store.Activity{Status: 401, Detail: "invalid credentials: unknown User ID or wrong API key for this tenant"}, on,
			"generate or rotate a key on API Keys"},
		{"401 missing", store.Activity{Status: 401, Detail: "authentication required: send the API key as Authorization: Basic base64(userId:apiKey) or Bearer"}, on,
			"sent no credentials"},
		{"401 malformed", store.Activity{Status: 401, Detail: "invalid credentials: the Authorization header does not carry a valid User ID and API key"}, on,
			"Basic base64(userId:secret)"},
		{"401 revoked", store.Activity{Status: 401, Detail: "invalid credentials: this API key has been revoked"}, on, "The key was revoked"},
		{"401 expired", store.Activity{Status: 401, Detail: "invalid credentials: this API key expired at 2024-01-02T03:04:05Z"}, on, "The key expired"},
		{"401 keys disabled", store.Activity{Status: 401, Detail: "API keys are disabled for this tenant: a tenant admin must enable the API Keys option in General Settings"}, keysOff,
			"Turn on the API Keys option in General Settings"},
		{"401 keys disabled, since enabled", store.Activity{Status: 401, Detail: "API keys are disabled for this tenant: a tenant admin must enable the API Keys option in General Settings"}, on,
			"it is on now"},
		{"403 not activated", store.Activity{Status: 403, Detail: `SCIM provisioning is not activated for tenant "acme": initial activation is done by support, please contact support to activate provisioning`}, inactive,
			"Provisioning is not activated yet: contact support"},
		{"403 not activated, since activated", store.Activity{Status: 403, Detail: `SCIM provisioning is not activated for tenant "acme": …`}, on, "it is now"},
		{"403 read-only", store.Activity{Status: 403, Detail: "this API key is read-only: a read-write key is needed to change resources"}, on, "read-write key"},
		{"409 userName on create", store.Activity{Status: 409, ScimType: "uniqueness", ResourceType: "User", Method: "POST", Detail: `a user with userName "ada" already exists`}, on,
			"A user with this userName already exists"},
		{"409 userName on update", store.Activity{Status: 409, ScimType: "uniqueness", ResourceType: "User", Method: "PUT", Detail: "another user already has this userName"}, on,
			"A user with this userName already exists"},
		{"409 group", store.Activity{Status: 409, ScimType: "uniqueness", ResourceType: "Group", Detail: "a resource with the same unique attribute already exists"}, on,
			"same unique value"},
		{"409 bulkId", store.Activity{Status: 409, Detail: `bulkId "b1" refers to an operation that failed`}, on, "Bulk request"},
		{"400 invalidFilter", store.Activity{Status: 400, ScimType: "invalidFilter", Detail: "invalid filter: …", Query: "filter=userName+eq&count=1"}, on,
			"cannot use: userName eq."},
		{"400 invalidFilter without query", store.Activity{Status: 400, ScimType: "invalidFilter", Detail: "invalid filter: …"}, on, "a filter scimd cannot use;"},
		{"400 unknown member", store.Activity{Status: 400, ScimType: "invalidValue", ResourceType: "Group", Detail: `no user or group with id "u-9"; nothing was changed`}, on,
			"push those users to scimd first"},
		{"400 cycle", store.Activity{Status: 400, ScimType: "invalidValue", Detail: `adding group "g1" would make a group a member of itself; nothing was changed`}, on,
			"contain itself"},
		{"400 invalidSyntax", store.Activity{Status: 400, ScimType: "invalidSyntax", Detail: "request body is not valid JSON: …"}, on, "not valid SCIM JSON"},
		{"400 invalidValue", store.Activity{Status: 400, ScimType: "invalidValue", Detail: "userName is required and must be a non-empty string"}, on, "fix its mapping"},
		{"404 user", store.Activity{Status: 404, ResourceType: "User", Detail: `no user with id "u-1"`}, on, "a user scimd does not have"},
		{"404 group", store.Activity{Status: 404, ResourceType: "Group", Detail: `no group with id "g-1"`}, on, "a group scimd does not have"},
		{"404 endpoint", store.Activity{Status: 404, Detail: "no SCIM endpoint at /scim/v2/Userz"}, on, "base URL is wrong"},
		{"404 other", store.Activity{Status: 404, Detail: `no schema "x"`}, on, ""},
		{"412", store.Activity{Status: 412, Detail: `the resource has changed: its version is now W/"2"`}, on, "read it again"},
		{"413", store.Activity{Status: 413, Detail: "request body exceeds the limit of 1048576 bytes"}, on, "smaller requests"},
		{"429 key rate", store.Activity{Status: 429, Detail: "too many requests with this API key: slow down (retry after 1 s)"}, on, "this key sent more requests"},
		{"429 concurrency", store.Activity{Status: 429, Detail: "too many requests of this tenant at once: retry shortly (retry after 1 s)"}, on, "parallel requests"},
		{"499", store.Activity{Status: 499}, on, "closed the connection"},
		{"500", store.Activity{Status: 500, Detail: "internal error"}, on, "contact support with the request id"},
		{"503", store.Activity{Status: 503, Detail: "the request took too long and was stopped; narrow the filter or ask for fewer resources"}, on, "took too long"},
		{"501 /Me", store.Activity{Status: 501, Detail: "/Me is not supported"}, on, ""},
	} {
		got := hint(tc.a, tc.tenant)
		if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("%s: hint = %q, want one with %q", tc.name, got, tc.want)
		}
	}
}
