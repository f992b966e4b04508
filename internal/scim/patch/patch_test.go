package patch

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimd/scimd/internal/scim"
	"github.com/scimd/scimd/internal/scim/schema"
)

// Starting resources shared by the cases below.
const (
	// oktaUser is the user of CLIENTS.md A.2, as stored.
	oktaUser = `{
		"userName": "test.user@okta.local",
		"name": {"givenName": "Test", "familyName": "User"},
		"emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
		"displayName": "Test User",
		"locale": "en-US",
		"externalId": "00ujl29u0le5T6Aj10h7",
		"active": true
	}`
	// entraUser is the user of CLIENTS.md B.2, with a home email too.
	entraUser = `{
		"userName": "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
		"externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
		"active": true,
		"name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
		"emails": [
			{"primary": true, "type": "work", "value": "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com"},
			{"type": "home", "value": "home@example.com"}
		]
	}`
	// homeOnlyUser has no work email.
	homeOnlyUser = `{"userName": "bjensen", "emails": [{"type": "home", "value": "home@example.com"}]}`
	// enterpriseUser has the enterprise extension.
	enterpriseUser = `{
		"userName": "bjensen",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
			"department": "Tour Operations",
			"manager": {"value": "old-manager", "$ref": "https://example.com/v2/Users/old-manager", "displayName": "Old Manager"}
		}
	}`
	// rfcGroup is the group of RFC 7644 §3.5.2 with two members.
	rfcGroup = `{
		"displayName": "Tour Guides",
		"members": [
			{"display": "Babs Jensen", "$ref": "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646", "value": "2819c223-7f76-453a-919d-413861904646"},
			{"display": "Mandy Pepperidge", "$ref": "https://example.com/v2/Users/902c246b-6245-4190-8e05-00816be7344a", "value": "902c246b-6245-4190-8e05-00816be7344a"}
		]
	}`
	// entraGroup has the member Entra removes in B.6 and one more.
	entraGroup = `{
		"displayName": "displayName",
		"members": [
			{"value": "f648f8d5ea4e4cd38e9c"},
			{"value": "7f4bc1a3-285e-48ae-8202-5accb43efb0e", "type": "User"}
		]
	}`
)

// Resource bodies CLIENTS.md quotes for POST and PUT, verbatim. Clients
// send the same shapes as the value of a pathless PATCH; the cases
// "*/... body as value" apply them that way.
const (
	// oktaPutBody is Okta's profile push (A.3).
	oktaPutBody = `{
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
    "id": "23a35c27-23d3-4c03-b4c5-6443c09e7173",
    "userName": "test.user@okta.local",
    "name": {
        "givenName": "Another",
        "middleName": "Excited",
        "familyName": "User"
    },
    "emails": [{
        "primary": true,
        "value": "test.user@okta.local",
        "type": "work",
        "display": "test.user@okta.local"
    }],
    "active": true,
    "groups": [],
    "meta": {
        "resourceType": "User"
    }
}`
	// oktaGroupBody is Okta's group push create (A.6).
	oktaGroupBody = `{
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
    "displayName": "Test SCIMv2",
    "members": []
}`
	// entraGroupBody is Entra ID's group create (B.6).
	entraGroupBody = `{
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group", "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
    "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
    "displayName": "displayName",
    "meta": {
        "resourceType": "Group"
    }
}`
	// oneLoginUserBody is OneLogin's user create (C.1).
	oneLoginUserBody = `{"userName":"peter.meier@example.com","name":{"givenName":"Peter","familyName":"Meier"},"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"emails":[{"primary":true,"type":"work","value":"pm@example.com"}],"active":true}`
)

// asValue wraps a resource body as the value of one pathless operation.
func asValue(op, body string) string {
	return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"` + op + `","value":` + body + `}]}`
}

type applyTest struct {
	name  string
	group bool   // a Group; else a User
	attrs string // starting attributes
	body  string // the PATCH request body
	// Exactly one of the following: the resulting attributes, or the
	// scimType of the error (from Decode or Apply).
	want    string
	wantErr string
	// wantPassword is the password Apply returns, "" for none.
	wantPassword string
	// entra applies with Entra ID's leniency (Options.CreateOnReplace).
	entra bool
}

var applyTests = []applyTest{
	// ---- Okta (CLIENTS.md A.3, A.4, A.6) ----
	{
		name: "okta/profile update pathless",
		attrs: `{"userName": "test.user@okta.local", "displayName": "Test User",
			"name": {"givenName": "Test", "middleName": "Excited", "familyName": "User"}}`,
		body: `{
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{
        "op": "replace",
        "value": {
            "name": { "givenName": "Another", "familyName": "User" },
            "displayName": "Another User"
        }
    }]
}`,
		want: `{"userName": "test.user@okta.local", "displayName": "Another User",
			"name": {"givenName": "Another", "middleName": "Excited", "familyName": "User"}}`,
	},
	{
		name:  "okta/deactivate",
		attrs: oktaUser,
		body: `{
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{
        "op": "replace",
        "value": {
            "active": false
        }
    }]
}`,
		want: strings.Replace(oktaUser, `"active": true`, `"active": false`, 1),
	},
	{
		name:  "okta/reactivate",
		attrs: strings.Replace(oktaUser, `"active": true`, `"active": false`, 1),
		body: `{
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{
        "op": "replace",
        "value": {
            "active": true
        }
    }]
}`,
		want: oktaUser,
	},
	{
		name:  "okta/group rename",
		group: true,
		attrs: `{"displayName": "Old name", "members": [{"value": "23a35c27-23d3-4c03-b4c5-6443c09e7173"}]}`,
		body: `{
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{
        "op": "replace",
        "value": {
            "id": "abf4dd94-a4c0-4f67-89c9-76b03340cb9b",
            "displayName": "Test SCIMv2"
        }
    }]
}`,
		want: `{"displayName": "Test SCIMv2", "members": [{"value": "23a35c27-23d3-4c03-b4c5-6443c09e7173"}]}`,
	},
	{
		name:  "okta/membership delta",
		group: true,
		attrs: `{"displayName": "Test SCIMv2", "members": [
			{"value": "89bb1940-b905-4575-9e7f-6f887cfb368e", "display": "leaver@okta.local"},
			{"value": "0c8a2f57-7b5e-4d33-a7a9-3b4a0f2f1c11", "display": "stayer@okta.local"}]}`,
		body: `{
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{
        "op": "remove",
        "path": "members[value eq \"89bb1940-b905-4575-9e7f-6f887cfb368e\"]"
    },
    {
        "op": "add",
        "path": "members",
        "value": [{
            "value": "23a35c27-23d3-4c03-b4c5-6443c09e7173",
            "display": "test.user@okta.local"
        }]
    }]
}`,
		want: `{"displayName": "Test SCIMv2", "members": [
			{"value": "0c8a2f57-7b5e-4d33-a7a9-3b4a0f2f1c11", "display": "stayer@okta.local"},
			{"value": "23a35c27-23d3-4c03-b4c5-6443c09e7173", "display": "test.user@okta.local"}]}`,
	},
	{
		name:  "okta/full push",
		group: true,
		attrs: `{"displayName": "Test SCIMv2", "members": [{"value": "gone"}]}`,
		body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"members","value":[
			{"value":"23a35c27-23d3-4c03-b4c5-6443c09e7173","display":"test.user@okta.local"},
			{"value":"89bb1940-b905-4575-9e7f-6f887cfb368e","display":"other@okta.local"}]}]}`,
		want: `{"displayName": "Test SCIMv2", "members": [
			{"value":"23a35c27-23d3-4c03-b4c5-6443c09e7173","display":"test.user@okta.local"},
			{"value":"89bb1940-b905-4575-9e7f-6f887cfb368e","display":"other@okta.local"}]}`,
	},
	{
		// A.6 step 5: "Push now" of an empty Okta group must empty it.
		name:  "okta/full push empty group",
		group: true,
		attrs: rfcGroup,
		body:  `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"members","value":[]}]}`,
		want:  `{"displayName": "Tour Guides"}`,
	},
	{
		name:         "okta/password sync pathless",
		attrs:        oktaUser,
		body:         `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"password":"t1meMa$heen"}}]}`,
		want:         oktaUser,
		wantPassword: "t1meMa$heen",
	},

	// ---- Microsoft Entra ID (CLIENTS.md B.3, B.4, B.6) ----
	{
		name:  "entra/replace work email and familyName",
		attrs: entraUser,
		body: `{
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [
            {
            "op": "Replace",
            "path": "emails[type eq \"work\"].value",
            "value": "updatedEmail@microsoft.com"
            },
            {
            "op": "Replace",
            "path": "name.familyName",
            "value": "updatedFamilyName"
            }
    ]
}`,
		want: `{
		"userName": "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
		"externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
		"active": true,
		"name": {"formatted": "givenName familyName", "familyName": "updatedFamilyName", "givenName": "givenName"},
		"emails": [
			{"primary": true, "type": "work", "value": "updatedEmail@microsoft.com"},
			{"type": "home", "value": "home@example.com"}
		]}`,
	},
	{
		name:  "entra/replace userName",
		attrs: entraUser,
		body: `{
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{
        "op": "Replace",
        "path": "userName",
        "value": "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"
    }]
}`,
		want: strings.Replace(entraUser, "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee", "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com", 1),
	},
	{
		name:  "entra/replace multiple default mode",
		attrs: entraUser,
		body: `{
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [
        { "op": "Replace", "path": "displayName", "value": "Pvlo" },
        { "op": "Replace", "path": "emails[type eq \"work\"].value", "value": "TestBcwqnm@test.microsoft.com" },
        { "op": "Replace", "path": "name.givenName", "value": "Gtfd" },
        { "op": "Replace", "path": "name.familyName", "value": "Pkqf" },
        { "op": "Replace", "path": "externalId", "value": "Eqpj" },
        { "op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", "value": "Eqpj" }
    ]
}`,
		want: `{
		"userName": "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
		"externalId": "Eqpj",
		"displayName": "Pvlo",
		"active": true,
		"name": {"formatted": "givenName familyName", "familyName": "Pkqf", "givenName": "Gtfd"},
		"emails": [
			{"primary": true, "type": "work", "value": "TestBcwqnm@test.microsoft.com"},
			{"type": "home", "value": "home@example.com"}
		],
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "Eqpj"}}`,
	},
	{
		name:  "entra/replace multiple flag mode",
		attrs: entraUser,
		body: `{
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [
        {
            "op": "replace",
            "path": "emails[type eq \"work\"].value",
            "value": "TestMhvaes@test.microsoft.com"
        },
        {
            "op": "replace",
            "value": {
                "displayName": "Bjfe",
                "name.givenName": "Kkom",
                "name.familyName": "Unua",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "Aklq"
            }
        }
    ]
}`,
		want: `{
		"userName": "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
		"externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
		"displayName": "Bjfe",
		"active": true,
		"name": {"formatted": "givenName familyName", "familyName": "Unua", "givenName": "Kkom"},
		"emails": [
			{"primary": true, "type": "work", "value": "TestMhvaes@test.microsoft.com"},
			{"type": "home", "value": "home@example.com"}
		],
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "Aklq"}}`,
	},
	{
		name:  "entra/add nickName default mode",
		attrs: `{"userName": "bjensen"}`,
		body:  `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"nickName","value":"Babs"}]}`,
		want:  `{"userName": "bjensen", "nickName": "Babs"}`,
	},
	{
		name:  "entra/add nickName flag mode",
		attrs: `{"userName": "bjensen", "nickName": "Barbara"}`,
		body:  `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"nickName","value":"Babs"}]}`,
		want:  `{"userName": "bjensen", "nickName": "Babs"}`,
	},
	{
		// pond/scimitar issue #123, quoted in B.3.
		name:  "scimitar/pathless add dotted keys",
		attrs: `{"userName": "foo", "name": {"middleName": "Q"}}`,
		body:  `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","value":{"displayName":"Foo Bar","title":"Bar Foo","name.givenName":"Foo","name.familyName":"Bar","name.formatted":"Foo Bar"}}]}`,
		want: `{"userName": "foo", "displayName": "Foo Bar", "title": "Bar Foo",
			"name": {"givenName": "Foo", "familyName": "Bar", "formatted": "Foo Bar", "middleName": "Q"}}`,
	},
	{
		name:  "entra/add work email creates element",
		attrs: homeOnlyUser,
		body:  `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"emails[type eq \"work\"].value","value":"a@b.c"}]}`,
		want: `{"userName": "bjensen", "emails": [{"type": "home", "value": "home@example.com"},
			{"type": "work", "value": "a@b.c"}]}`,
	},
	{
		name:  "entra/add work email to user without emails",
		attrs: `{"userName": "bjensen"}`,
		body:  `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"emails[type eq \"work\"].value","value":"a@b.c"}]}`,
		want:  `{"userName": "bjensen", "emails": [{"type": "work", "value": "a@b.c"}]}`,
	},
	{
		name:  "entra/replace work address formatted and add department",
		entra: true,
		attrs: `{"userName": "bjensen"}`,
		body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
			{"op":"Replace","path":"addresses[type eq \"work\"].formatted","value":"18/2111"},{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Retail"}]}`,
		want: `{"userName": "bjensen", "addresses": [{"type": "work", "formatted": "18/2111"}],
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Retail"}}`,
	},
	{
		name: "entra/remove with value clears",
		attrs: `{"userName": "bjensen", "emails": [{"type": "work", "value": "updated@example.org", "primary": true},
			{"type": "home", "value": "home@example.com"}]}`,
		body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Remove","path":"emails[type eq \"work\"].value","value":"updated@example.org"}]}`,
		want: `{"userName": "bjensen", "emails": [{"type": "home", "value": "home@example.com"}]}`,
	},
	{
		name:  "entra/manager string",
		attrs: `{"userName": "bjensen"}`,
		body:  `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"2c2f6fb8-254f-492e-b7fe-c09c5a61c8a2"}]}`,
		want: `{"userName": "bjensen",
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"value": "2c2f6fb8-254f-492e-b7fe-c09c5a61c8a2"}}}`,
	},
	{
		name:  "entra/manager documented form",
		attrs: `{"userName": "bjensen"}`,
		body:  `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"manager","value":[{"$ref":"http://.../scim/Users/00aa…","value":"00aa…"}]}]}`,
		want: `{"userName": "bjensen",
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"$ref": "http://.../scim/Users/00aa…", "value": "00aa…"}}}`,
	},
	{
		name:  "entra/legacy displayName list",
		attrs: `{"userName": "bjensen", "displayName": "User w"}`,
		body:  `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"displayName","value":[{"$ref":null,"value":"User x"}]}]}`,
		want:  `{"userName": "bjensen", "displayName": "User x"}`,
	},
	{
		name:  "entra/disable default mode",
		attrs: oktaUser,
		body: `{
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [
        {
            "op": "Replace",
            "path": "active",
            "value": "False"
        }
    ]
}`,
		want: strings.Replace(oktaUser, `"active": true`, `"active": false`, 1),
	},
	{
		name:  "entra/disable flag mode",
		attrs: oktaUser,
		body: `{
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [
        {
            "op": "replace",
            "path": "active",
            "value": false
        }
    ]
}`,
		want: strings.Replace(oktaUser, `"active": true`, `"active": false`, 1),
	},
	{
		name:  "entra/disable lowercase string",
		attrs: oktaUser,
		body:  `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"false"}]}`,
		want:  strings.Replace(oktaUser, `"active": true`, `"active": false`, 1),
	},
	{
		name:  "entra/enable True string",
		attrs: strings.Replace(oktaUser, `"active": true`, `"active": false`, 1),
		body:  `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"True"}]}`,
		want:  oktaUser,
	},
	{
		// Entra re-sends active=true for active users (B.4): idempotent.
		name:  "entra/enable already active",
		attrs: oktaUser,
		body:  `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"True"}]}`,
		want:  oktaUser,
	},
	{
		name:  "entra/group rename",
		group: true,
		attrs: entraGroup,
		body:  `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"displayName","value":"…updatedDisplayName"}]}`,
		want:  strings.Replace(entraGroup, `"displayName": "displayName"`, `"displayName": "…updatedDisplayName"`, 1),
	},
	{
		name:  "entra/add members",
		group: true,
		attrs: `{"displayName": "displayName"}`,
		body: `{
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{
        "op": "Add",
        "path": "members",
        "value": [{
            "$ref": null,
            "value": "f648f8d5ea4e4cd38e9c"
        }]
    }]
}`,
		want: `{"displayName": "displayName", "members": [{"value": "f648f8d5ea4e4cd38e9c"}]}`,
	},
	{
		name:  "entra/remove members default mode",
		group: true,
		attrs: entraGroup,
		body: `{
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{
        "op": "Remove",
        "path": "members",
        "value": [{
            "$ref": null,
            "value": "f648f8d5ea4e4cd38e9c"
        }]
    }]
}`,
		want: `{"displayName": "displayName", "members": [{"value": "7f4bc1a3-285e-48ae-8202-5accb43efb0e", "type": "User"}]}`,
	},
	{
		name:  "entra/remove member flag mode",
		group: true,
		attrs: entraGroup,
		body:  `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members[value eq \"7f4bc1a3-285e-48ae-8202-5accb43efb0e\"]"}]}`,
		want:  `{"displayName": "displayName", "members": [{"value": "f648f8d5ea4e4cd38e9c"}]}`,
	},

	// ---- OneLogin (CLIENTS.md C.1) ----
	{
		name:  "onelogin/add members",
		group: true,
		attrs: `{"displayName": "Engineering", "members": [{"value": "existing"}]}`,
		body:  `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"value":[{"value":"<uid>"}],"op":"add","path":"members"}]}`,
		want:  `{"displayName": "Engineering", "members": [{"value": "existing"}, {"value": "<uid>"}]}`,
	},
	{
		name:  "onelogin/remove members",
		group: true,
		attrs: `{"displayName": "Engineering", "members": [{"value": "existing"}, {"value": "<uid>"}]}`,
		body:  `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"value":[{"value":"<uid>"}],"op":"remove","path":"members"}]}`,
		want:  `{"displayName": "Engineering", "members": [{"value": "existing"}]}`,
	},

	// ---- RFC 7644 §3.5.2 examples ----
	{
		name:  "rfc/add member",
		group: true,
		attrs: `{"displayName": "Tour Guides"}`,
		body: `{ "schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
     "Operations":[
       {
        "op":"add",
        "path":"members",
        "value":[
         {
           "display": "Babs Jensen",
           "$ref": "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646",
           "value": "2819c223-7f76-453a-919d-413861904646"
         }
        ]
       }
     ]
   }`,
		want: `{"displayName": "Tour Guides", "members": [{"display": "Babs Jensen",
			"$ref": "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646",
			"value": "2819c223-7f76-453a-919d-413861904646"}]}`,
	},
	{
		name:  "rfc/add pathless emails and nickname",
		attrs: oktaUser,
		body: `{ "schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
     "Operations":[{
       "op":"add",
       "value":{
         "emails":[
           {
             "value":"babs@jensen.org",
             "type":"home"
           }
         ],
         "nickname":"Babs"
     }}]
   }`,
		want: `{
		"userName": "test.user@okta.local",
		"name": {"givenName": "Test", "familyName": "User"},
		"emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}, {"value": "babs@jensen.org", "type": "home"}],
		"displayName": "Test User",
		"nickName": "Babs",
		"locale": "en-US",
		"externalId": "00ujl29u0le5T6Aj10h7",
		"active": true}`,
	},
	{
		name:  "rfc/remove all members",
		group: true,
		attrs: rfcGroup,
		body: `{ "schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
     "Operations":[{
       "op":"remove","path":"members"
     }]
   }`,
		want: `{"displayName": "Tour Guides"}`,
	},
	{
		name:  "rfc/remove one member",
		group: true,
		attrs: rfcGroup,
		body: `{ "schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
     "Operations":[{
       "op":"remove",
       "path":"members[value eq \"2819c223-7f76-453a-919d-413861904646\"]"
     }]
   }`,
		want: `{"displayName": "Tour Guides", "members": [{"display": "Mandy Pepperidge",
			"$ref": "https://example.com/v2/Users/902c246b-6245-4190-8e05-00816be7344a",
			"value": "902c246b-6245-4190-8e05-00816be7344a"}]}`,
	},
	{
		// The RFC writes these paths without a space before the quote.
		name:  "rfc/remove multiple members",
		group: true,
		attrs: rfcGroup,
		body: `{ "schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
     "Operations": [
       {
         "op":"remove",
         "path":"members[value eq\"2819c223-7f76-453a-919d-413861904646\"]"
       },
       {
         "op":"remove",
         "path":"members[value eq\"902c246b-6245-4190-8e05-00816be7344a\"]"
       }
     ]
   }`,
		want: `{"displayName": "Tour Guides"}`,
	},
	{
		name: "rfc/remove emails by complex filter",
		attrs: `{"userName": "bjensen", "emails": [{"type": "work", "value": "bjensen@example.com"},
			{"type": "work", "value": "babs@jensen.org"}, {"type": "home", "value": "home@example.com"}]}`,
		body: `{ "schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
     "Operations":[{
       "op":"remove",
       "path":"emails[type eq \"work\" and value ew \"example.com\"]"
     }]
   }`,
		want: `{"userName": "bjensen", "emails": [{"type": "work", "value": "babs@jensen.org"}, {"type": "home", "value": "home@example.com"}]}`,
	},
	{
		name:  "rfc/remove all members and add",
		group: true,
		attrs: rfcGroup,
		body: `{ "schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
     "Operations": [
       {
         "op":"remove",
         "path":"members"
       },
       {
         "op":"add",
         "path":"members",
         "value":[
         {
           "display": "James Smith",
           "$ref": "https://example.com/v2/Users/08e1d05d-121c-4561-8b96-473d93df9210",
           "value": "08e1d05d-121c-4561-8b96-473d93df9210"
         }
         ]
       }
     ]
   }`,
		want: `{"displayName": "Tour Guides", "members": [{"display": "James Smith",
			"$ref": "https://example.com/v2/Users/08e1d05d-121c-4561-8b96-473d93df9210",
			"value": "08e1d05d-121c-4561-8b96-473d93df9210"}]}`,
	},
	{
		name:  "rfc/replace members",
		group: true,
		attrs: rfcGroup,
		body: `{ "schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
     "Operations": [{
       "op":"replace",
       "path":"members",
       "value":[
         {
           "display": "Babs Jensen",
           "$ref": "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646",
           "value": "2819c223-7f76-453a-919d-413861904646"
         },
         {
           "display": "James Smith",
           "$ref": "https://example.com/v2/Users/08e1d05d-121c-4561-8b96-473d93df9210",
           "value": "08e1d05d-121c-4561-8b96-473d93df9210"
         }
       ]
     }]
   }`,
		want: `{"displayName": "Tour Guides", "members": [
			{"display": "Babs Jensen", "$ref": "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646", "value": "2819c223-7f76-453a-919d-413861904646"},
			{"display": "James Smith", "$ref": "https://example.com/v2/Users/08e1d05d-121c-4561-8b96-473d93df9210", "value": "08e1d05d-121c-4561-8b96-473d93df9210"}]}`,
	},
	{
		name: "rfc/replace work address",
		attrs: `{"userName": "bjensen", "addresses": [{"type": "work", "streetAddress": "100 Universal City Plaza", "primary": false},
			{"type": "home", "streetAddress": "456 Hollywood Blvd", "primary": true}]}`,
		body: `{ "schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
     "Operations": [{
       "op":"replace",
       "path":"addresses[type eq \"work\"]",
       "value":
       {
         "type": "work",
         "streetAddress": "911 Universal City Plaza",
         "locality": "Hollywood",
         "region": "CA",
         "postalCode": "91608",
         "country": "US",
         "formatted": "911 Universal City Plaza\nHollywood, CA 91608 US",
         "primary": true
       }
     }]
   }`,
		want: `{"userName": "bjensen", "addresses": [{"type": "work", "streetAddress": "911 Universal City Plaza",
			"locality": "Hollywood", "region": "CA", "postalCode": "91608", "country": "US",
			"formatted": "911 Universal City Plaza\nHollywood, CA 91608 US", "primary": true},
			{"type": "home", "streetAddress": "456 Hollywood Blvd", "primary": false}]}`,
	},
	{
		name:  "rfc/replace streetAddress",
		attrs: `{"userName": "bjensen", "addresses": [{"type": "work", "streetAddress": "911 Universal City Plaza", "locality": "Hollywood"}]}`,
		body: `{ "schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
     "Operations": [{
       "op":"replace",
       "path":"addresses[type eq \"work\"].streetAddress",
       "value":"1010 Broadway Ave"
     }]
   }`,
		want: `{"userName": "bjensen", "addresses": [{"type": "work", "streetAddress": "1010 Broadway Ave", "locality": "Hollywood"}]}`,
	},
	{
		name:  "rfc/replace pathless",
		attrs: entraUser,
		body: `{ "schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
     "Operations": [{
       "op":"replace",
       "value":{
         "emails":[
           {
             "value":"bjensen@example.com",
             "type":"work",
             "primary":true
           },
           {
             "value":"babs@jensen.org",
             "type":"home"
           }
         ],
         "nickname":"Babs"
       }
     }]
   }`,
		want: `{
		"userName": "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
		"externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
		"active": true,
		"nickName": "Babs",
		"name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
		"emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}, {"value": "babs@jensen.org", "type": "home"}]}`,
	},

	// ---- resource bodies as pathless values ----
	{
		name:  "okta/put body as value",
		attrs: oktaUser,
		body:  asValue("replace", oktaPutBody),
		want: `{
		"userName": "test.user@okta.local",
		"name": {"givenName": "Another", "middleName": "Excited", "familyName": "User"},
		"emails": [{"primary": true, "value": "test.user@okta.local", "type": "work", "display": "test.user@okta.local"}],
		"displayName": "Test User",
		"locale": "en-US",
		"externalId": "00ujl29u0le5T6Aj10h7",
		"active": true}`,
	},
	{
		name:  "okta/group create body as value",
		group: true,
		attrs: rfcGroup,
		body:  asValue("replace", oktaGroupBody),
		want:  `{"displayName": "Test SCIMv2"}`,
	},
	{
		name:  "entra/group create body as value",
		group: true,
		attrs: `{"displayName": "old"}`,
		body:  asValue("add", entraGroupBody),
		want:  `{"displayName": "displayName", "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159"}`,
	},
	{
		name:  "onelogin/create body as value",
		attrs: `{"userName": "peter.meier@example.com", "active": false}`,
		body:  asValue("replace", oneLoginUserBody),
		want: `{"userName": "peter.meier@example.com", "name": {"givenName": "Peter", "familyName": "Meier"},
			"emails": [{"primary": true, "type": "work", "value": "pm@example.com"}], "active": true}`,
	},

	// ---- names and ops are case-insensitive ----
	{
		name:  "case/attribute names",
		attrs: `{"userName": "old", "name": {"givenName": "Old"}}`,
		body: `{"Operations":[{"op":"ADD","path":"USERNAME","value":"new"},{"op":"rePlace","path":"Name.GivenName","value":"New"},
			{"op":"replace","value":{"DISPLAYNAME":"D","NAME":{"FAMILYNAME":"F"},"Emails":[{"VALUE":"a@b.c","Type":"work","PRIMARY":"true"}]}}]}`,
		want: `{"userName": "new", "displayName": "D", "name": {"givenName": "New", "familyName": "F"},
			"emails": [{"value": "a@b.c", "type": "work", "primary": true}]}`,
	},
	{
		name:  "case/extension URN in path",
		attrs: `{"userName": "bjensen"}`,
		body:  `{"Operations":[{"op":"add","path":"URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:Department","value":"x"}]}`,
		want:  `{"userName": "bjensen", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "x"}}`,
	},
	{
		name:  "case/filter is case-insensitive",
		attrs: `{"userName": "bjensen", "emails": [{"type": "work", "value": "a@b.c"}]}`,
		body:  `{"Operations":[{"op":"replace","path":"emails[TYPE eq \"WORK\"].Value","value":"x@y.z"}]}`,
		want:  `{"userName": "bjensen", "emails": [{"type": "work", "value": "x@y.z"}]}`,
	},
	{
		name:  "case/member value is case-exact",
		group: true,
		attrs: `{"displayName": "g", "members": [{"value": "abc"}]}`,
		body:  `{"Operations":[{"op":"remove","path":"members[value eq \"ABC\"]"}]}`,
		want:  `{"displayName": "g", "members": [{"value": "abc"}]}`,
	},

	// ---- values without a path ----
	{
		name:  "value/ignores id meta schemas groups",
		attrs: `{"userName": "bjensen"}`,
		body: `{"Operations":[{"op":"replace","value":{"id":"2819c223","meta":{"resourceType":"User","created":"04-12-2018 00:00:00"},
			"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"groups":[],"displayName":"Babs"}}]}`,
		want: `{"userName": "bjensen", "displayName": "Babs"}`,
	},
	{
		// A strict client library sends an extension as path = its URN
		// with the extension's object, "schemas" included.
		name:  "extension path/ignores schemas",
		attrs: `{"userName": "bjensen"}`,
		body: `{"Operations":[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
			"value":{"schemas":["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"department":"Tour Operations"}}]}`,
		want: `{"userName": "bjensen", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Tour Operations"}}`,
	},
	{
		name:  "value/nested extension object",
		attrs: enterpriseUser,
		body: `{"Operations":[{"op":"replace","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":
			{"employeeNumber":"701984","manager":{"value":"26118915-6090-4610-87e4-49d8ca9f808d"}}}}]}`,
		want: `{"userName": "bjensen", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
			"department": "Tour Operations", "employeeNumber": "701984",
			"manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}}}`,
	},
	{
		name:  "value/core URN object",
		attrs: `{"userName": "bjensen"}`,
		body:  `{"Operations":[{"op":"replace","value":{"urn:ietf:params:scim:schemas:core:2.0:User":{"displayName":"Babs"}}}]}`,
		want:  `{"userName": "bjensen", "displayName": "Babs"}`,
	},
	{
		name:  "value/ignores unknown extension",
		attrs: `{"userName": "bjensen"}`,
		body: `{"Operations":[{"op":"replace","value":{"urn:example:custom:1.0:User:badge":"7",
			"urn:example:custom:1.0:User":{"badge":"7"},
			"http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group":{},"title":"Boss"}}]}`,
		want: `{"userName": "bjensen", "title": "Boss"}`,
	},
	{
		name:    "value/unknown attribute",
		attrs:   `{"userName": "bjensen"}`,
		body:    `{"Operations":[{"op":"replace","value":{"displayName":"Babs","favouriteColour":"blue"}}]}`,
		wantErr: "invalidPath",
	},
	{
		name:    "value/unknown attribute of known extension",
		attrs:   `{"userName": "bjensen"}`,
		body:    `{"Operations":[{"op":"replace","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:badge":"7"}}]}`,
		wantErr: "invalidPath",
	},
	{
		// Entra's older samples carry nulls (B.2).
		name:  "value/nulls remove",
		attrs: `{"userName": "bjensen", "title": "Boss", "addresses": [{"type": "work", "locality": "x"}], "name": {"givenName": "B", "familyName": "J"}}`,
		body:  `{"Operations":[{"op":"replace","value":{"title":null,"addresses":null,"phoneNumbers":null,"name":{"givenName":null},"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager":null}}]}`,
		want:  `{"userName": "bjensen", "name": {"familyName": "J"}}`,
	},
	{
		name:  "value/extension attribute without URN",
		attrs: `{"userName": "bjensen"}`,
		body:  `{"Operations":[{"op":"add","value":{"department":"Retail"}}]}`,
		want:  `{"userName": "bjensen", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Retail"}}`,
	},
	{
		name:  "value/filtered key",
		entra: true,
		attrs: homeOnlyUser,
		body:  `{"Operations":[{"op":"replace","value":{"emails[type eq \"work\"].value":"w@example.com"}}]}`,
		want:  `{"userName": "bjensen", "emails": [{"type": "home", "value": "home@example.com"}, {"type": "work", "value": "w@example.com"}]}`,
	},
	{
		name:    "value/not an object",
		attrs:   `{"userName": "bjensen"}`,
		body:    `{"Operations":[{"op":"replace","value":"Babs"}]}`,
		wantErr: "invalidValue",
	},
	{
		name:    "value/null",
		attrs:   `{"userName": "bjensen"}`,
		body:    `{"Operations":[{"op":"add","value":null}]}`,
		wantErr: "invalidValue",
	},

	// ---- paths ----
	{
		name:  "path/whole extension",
		attrs: enterpriseUser,
		body:  `{"Operations":[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","value":{"costCenter":"4130"}}]}`,
		want: `{"userName": "bjensen", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
			"department": "Tour Operations", "costCenter": "4130",
			"manager": {"value": "old-manager", "$ref": "https://example.com/v2/Users/old-manager", "displayName": "Old Manager"}}}`,
	},
	{
		name:  "path/remove whole extension",
		attrs: enterpriseUser,
		body:  `{"Operations":[{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"}]}`,
		want:  `{"userName": "bjensen"}`,
	},
	{
		name:    "path/remove core schema",
		attrs:   enterpriseUser,
		body:    `{"Operations":[{"op":"remove","path":"urn:ietf:params:scim:schemas:core:2.0:User"}]}`,
		wantErr: "invalidPath",
	},
	{
		name:    "path/unknown attribute",
		attrs:   oktaUser,
		body:    `{"Operations":[{"op":"replace","path":"favouriteColour","value":"blue"}]}`,
		wantErr: "invalidPath",
	},
	{
		name:    "path/unknown sub-attribute",
		attrs:   oktaUser,
		body:    `{"Operations":[{"op":"replace","path":"name.nickName","value":"Babs"}]}`,
		wantErr: "invalidPath",
	},
	{
		name:    "path/sub-attribute of simple attribute",
		attrs:   oktaUser,
		body:    `{"Operations":[{"op":"replace","path":"userName.value","value":"x"}]}`,
		wantErr: "invalidPath",
	},
	{
		name:    "path/unknown schema",
		attrs:   oktaUser,
		body:    `{"Operations":[{"op":"replace","path":"urn:example:custom:1.0:User:badge","value":"7"}]}`,
		wantErr: "invalidPath",
	},
	{
		name:    "path/syntax error",
		attrs:   oktaUser,
		body:    `{"Operations":[{"op":"replace","path":"emails[type eq \"work\"","value":"x"}]}`,
		wantErr: "invalidPath",
	},
	{
		name:    "path/filter on singular attribute",
		attrs:   oktaUser,
		body:    `{"Operations":[{"op":"replace","path":"name[givenName eq \"Test\"].familyName","value":"x"}]}`,
		wantErr: "invalidPath",
	},
	{
		name:    "path/filter on unknown sub-attribute",
		attrs:   oktaUser,
		body:    `{"Operations":[{"op":"remove","path":"emails[tpye eq \"work\"]"}]}`,
		wantErr: "invalidPath",
	},
	{
		name:    "path/group has no password",
		group:   true,
		attrs:   `{"displayName": "g"}`,
		body:    `{"Operations":[{"op":"replace","path":"password","value":"x"}]}`,
		wantErr: "invalidPath",
	},
	{
		name:  "path/sub-attribute of every element",
		attrs: entraUser,
		body:  `{"Operations":[{"op":"replace","path":"emails.display","value":"mail"}]}`,
		want: `{
		"userName": "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
		"externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
		"active": true,
		"name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
		"emails": [
			{"primary": true, "type": "work", "value": "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com", "display": "mail"},
			{"type": "home", "value": "home@example.com", "display": "mail"}
		]}`,
	},

	// ---- mutability ----
	{
		name:    "mutability/id",
		attrs:   oktaUser,
		body:    `{"Operations":[{"op":"replace","path":"id","value":"x"}]}`,
		wantErr: "mutability",
	},
	{
		name:    "mutability/meta sub-attribute",
		attrs:   oktaUser,
		body:    `{"Operations":[{"op":"replace","path":"meta.created","value":"2020-01-01T00:00:00Z"}]}`,
		wantErr: "mutability",
	},
	{
		name:    "mutability/groups",
		attrs:   oktaUser,
		body:    `{"Operations":[{"op":"add","path":"groups","value":[{"value":"g1"}]}]}`,
		wantErr: "mutability",
	},
	{
		name:    "mutability/remove id",
		attrs:   oktaUser,
		body:    `{"Operations":[{"op":"remove","path":"id"}]}`,
		wantErr: "mutability",
	},
	{
		name:    "mutability/manager displayName",
		attrs:   enterpriseUser,
		body:    `{"Operations":[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName","value":"x"}]}`,
		wantErr: "mutability",
	},
	{
		name:    "mutability/member value is immutable",
		group:   true,
		attrs:   rfcGroup,
		body:    `{"Operations":[{"op":"replace","path":"members[value eq \"2819c223-7f76-453a-919d-413861904646\"].value","value":"x"}]}`,
		wantErr: "mutability",
	},
	{
		name:  "mutability/read-only dotted key ignored in value",
		attrs: enterpriseUser,
		body:  `{"Operations":[{"op":"replace","value":{"meta.created":"x","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName":"y"}}]}`,
		want:  enterpriseUser,
	},

	// ---- types ----
	{
		name:    "type/number for string",
		attrs:   oktaUser,
		body:    `{"Operations":[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber","value":701984}]}`,
		wantErr: "invalidValue",
	},
	{
		name:    "type/non-string userName",
		attrs:   oktaUser,
		body:    `{"Operations":[{"op":"replace","value":{"userName":true}}]}`,
		wantErr: "invalidValue",
	},
	{
		name:    "type/boolean from other string",
		attrs:   oktaUser,
		body:    `{"Operations":[{"op":"replace","path":"active","value":"no"}]}`,
		wantErr: "invalidValue",
	},
	{
		name:    "type/boolean from number",
		attrs:   oktaUser,
		body:    `{"Operations":[{"op":"replace","path":"active","value":0}]}`,
		wantErr: "invalidValue",
	},
	{
		name:    "type/string for complex",
		attrs:   oktaUser,
		body:    `{"Operations":[{"op":"replace","path":"name","value":"Test User"}]}`,
		wantErr: "invalidValue",
	},
	{
		name:    "type/string elements",
		attrs:   oktaUser,
		body:    `{"Operations":[{"op":"add","path":"emails","value":["a@b.c"]}]}`,
		wantErr: "invalidValue",
	},
	{
		name:    "type/unknown sub-attribute in value",
		attrs:   oktaUser,
		body:    `{"Operations":[{"op":"add","path":"emails","value":[{"value":"a@b.c","kind":"work"}]}]}`,
		wantErr: "invalidValue",
	},
	{
		name:    "type/list for singular",
		attrs:   oktaUser,
		body:    `{"Operations":[{"op":"replace","path":"displayName","value":["a","b"]}]}`,
		wantErr: "invalidValue",
	},
	{
		name:    "type/wrong sub-attribute type in filter path",
		attrs:   oktaUser,
		body:    `{"Operations":[{"op":"replace","path":"emails[type eq \"work\"].primary","value":"maybe"}]}`,
		wantErr: "invalidValue",
	},

	// ---- null values ----
	{
		name:  "null/replace removes",
		attrs: `{"userName": "bjensen", "title": "Boss"}`,
		body:  `{"Operations":[{"op":"replace","path":"title","value":null}]}`,
		want:  `{"userName": "bjensen"}`,
	},
	{
		name:  "null/add removes multi-valued",
		attrs: oktaUser,
		body:  `{"Operations":[{"op":"add","path":"emails","value":null}]}`,
		want: `{"userName": "test.user@okta.local", "name": {"givenName": "Test", "familyName": "User"},
			"displayName": "Test User", "locale": "en-US", "externalId": "00ujl29u0le5T6Aj10h7", "active": true}`,
	},
	{
		name:  "null/filtered sub-attribute",
		attrs: `{"userName": "bjensen", "emails": [{"type": "work", "value": "a@b.c", "display": "A"}]}`,
		body:  `{"Operations":[{"op":"replace","path":"emails[type eq \"work\"].display","value":null}]}`,
		want:  `{"userName": "bjensen", "emails": [{"type": "work", "value": "a@b.c"}]}`,
	},

	// ---- manager ----
	{
		name:  "manager/empty string removes",
		attrs: enterpriseUser,
		body:  `{"Operations":[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":""}]}`,
		want:  `{"userName": "bjensen", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Tour Operations"}}`,
	},
	{
		name:  "manager/empty string removes the extension when it was all",
		attrs: `{"userName": "bjensen", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"value": "m"}}}`,
		body:  `{"Operations":[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":""}]}`,
		want:  `{"userName": "bjensen"}`,
	},
	{
		name:  "manager/new value replaces stale reference",
		attrs: enterpriseUser,
		body:  `{"Operations":[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"new-manager"}]}`,
		want: `{"userName": "bjensen", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
			"department": "Tour Operations", "manager": {"value": "new-manager"}}}`,
	},
	{
		name:  "manager/value path replaces stale reference",
		attrs: enterpriseUser,
		body:  `{"Operations":[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value","value":"new-manager"}]}`,
		want: `{"userName": "bjensen", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
			"department": "Tour Operations", "manager": {"value": "new-manager"}}}`,
	},
	{
		name:  "manager/object",
		attrs: `{"userName": "bjensen"}`,
		body:  `{"Operations":[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":{"value":"m1","$ref":null}}]}`,
		want:  `{"userName": "bjensen", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"value": "m1"}}}`,
	},
	{
		name:  "manager/remove",
		attrs: enterpriseUser,
		body:  `{"Operations":[{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}]}`,
		want:  `{"userName": "bjensen", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Tour Operations"}}`,
	},
	{
		name:    "manager/two values",
		attrs:   enterpriseUser,
		body:    `{"Operations":[{"op":"add","path":"manager","value":[{"value":"a"},{"value":"b"}]}]}`,
		wantErr: "invalidValue",
	},
	{
		name:    "manager/without value",
		attrs:   enterpriseUser,
		body:    `{"Operations":[{"op":"add","path":"manager","value":{"$ref":"https://example.com/v2/Users/x"}}]}`,
		wantErr: "invalidValue",
	},
	{
		name:    "manager/number",
		attrs:   enterpriseUser,
		body:    `{"Operations":[{"op":"add","path":"manager","value":42}]}`,
		wantErr: "invalidValue",
	},

	// ---- password ----
	{
		name:         "password/replace",
		attrs:        oktaUser,
		body:         `{"Operations":[{"op":"replace","path":"password","value":"s3cret"}]}`,
		want:         oktaUser,
		wantPassword: "s3cret",
	},
	{
		name:         "password/last one wins",
		attrs:        oktaUser,
		body:         `{"Operations":[{"op":"add","path":"PASSWORD","value":"first"},{"op":"replace","value":{"password":"second","title":"t"}}]}`,
		want:         strings.Replace(oktaUser, `"active": true`, `"active": true, "title": "t"`, 1),
		wantPassword: "second",
	},
	{
		name:    "password/remove",
		attrs:   oktaUser,
		body:    `{"Operations":[{"op":"remove","path":"password"}]}`,
		wantErr: "invalidValue",
	},
	{
		name:    "password/null",
		attrs:   oktaUser,
		body:    `{"Operations":[{"op":"replace","value":{"password":null}}]}`,
		wantErr: "invalidValue",
	},
	{
		name:    "password/number",
		attrs:   oktaUser,
		body:    `{"Operations":[{"op":"replace","path":"password","value":1234}]}`,
		wantErr: "invalidValue",
	},
	{
		name:    "password/empty",
		attrs:   oktaUser,
		body:    `{"Operations":[{"op":"replace","path":"password","value":""}]}`,
		wantErr: "invalidValue",
	},

	// ---- primary uniqueness (RFC 7643 §2.4) ----
	{
		name:  "primary/added email takes it",
		attrs: oktaUser,
		body:  `{"Operations":[{"op":"add","path":"emails","value":{"value":"new@example.com","type":"home","primary":true}}]}`,
		want: strings.Replace(oktaUser, `"emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}]`,
			`"emails": [{"primary": false, "value": "test.user@okta.local", "type": "work"}, {"value": "new@example.com", "type": "home", "primary": true}]`, 1),
	},
	{
		name:  "primary/last in list wins",
		attrs: oktaUser,
		body:  `{"Operations":[{"op":"replace","path":"emails","value":[{"value":"a@example.com","primary":"True"},{"value":"b@example.com","primary":true}]}]}`,
		want: strings.Replace(oktaUser, `"emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}]`,
			`"emails": [{"value": "a@example.com", "primary": false}, {"value": "b@example.com", "primary": true}]`, 1),
	},
	{
		name:  "primary/set by filter",
		attrs: entraUser,
		body:  `{"Operations":[{"op":"replace","path":"emails[type eq \"home\"].primary","value":true}]}`,
		want: `{
		"userName": "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
		"externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
		"active": true,
		"name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
		"emails": [
			{"primary": false, "type": "work", "value": "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com"},
			{"type": "home", "value": "home@example.com", "primary": true}
		]}`,
	},
	{
		name:  "primary/created element",
		attrs: oktaUser,
		body:  `{"Operations":[{"op":"add","path":"emails[type eq \"home\" and primary eq true].value","value":"h@example.com"}]}`,
		want: strings.Replace(oktaUser, `"emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}]`,
			`"emails": [{"primary": false, "value": "test.user@okta.local", "type": "work"}, {"value": "h@example.com", "type": "home", "primary": true}]`, 1),
	},

	// ---- multi-valued attributes ----
	{
		name:  "multi/add existing member is a no-op",
		group: true,
		attrs: rfcGroup,
		body:  `{"Operations":[{"op":"add","path":"members","value":[{"value":"2819c223-7f76-453a-919d-413861904646","display":"Barbara"}]}]}`,
		want:  rfcGroup,
	},
	{
		name:  "multi/add same member twice",
		group: true,
		attrs: `{"displayName": "g"}`,
		body:  `{"Operations":[{"op":"add","path":"members","value":[{"value":"u1"},{"value":"u2"},{"value":"u1","display":"again"}]}]}`,
		want:  `{"displayName": "g", "members": [{"value": "u1"}, {"value": "u2"}]}`,
	},
	{
		name:  "multi/add single object",
		group: true,
		attrs: `{"displayName": "g"}`,
		body:  `{"Operations":[{"op":"add","path":"members","value":{"value":"u1","type":"User"}}]}`,
		want:  `{"displayName": "g", "members": [{"value": "u1", "type": "User"}]}`,
	},
	{
		name:    "multi/add member without value",
		group:   true,
		attrs:   `{"displayName": "g"}`,
		body:    `{"Operations":[{"op":"add","path":"members","value":[{"display":"nobody"}]}]}`,
		wantErr: "invalidValue",
	},
	{
		name:  "multi/add existing email is a no-op",
		attrs: homeOnlyUser,
		body:  `{"Operations":[{"op":"add","path":"emails","value":[{"type":"HOME","value":"Home@Example.com"}]}]}`,
		want:  homeOnlyUser,
	},
	{
		name:  "multi/remove absent member is a no-op",
		group: true,
		attrs: rfcGroup,
		body:  `{"Operations":[{"op":"remove","path":"members","value":[{"value":"not-a-member"}]}]}`,
		want:  rfcGroup,
	},
	{
		name:  "multi/remove empty list removes nothing",
		group: true,
		attrs: rfcGroup,
		body:  `{"Operations":[{"op":"remove","path":"members","value":[]}]}`,
		want:  rfcGroup,
	},
	{
		name:  "multi/remove listed member as object",
		group: true,
		attrs: rfcGroup,
		body:  `{"Operations":[{"op":"remove","path":"members","value":{"value":"902c246b-6245-4190-8e05-00816be7344a","display":"stale label"}}]}`,
		want: `{"displayName": "Tour Guides", "members": [{"display": "Babs Jensen",
			"$ref": "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646",
			"value": "2819c223-7f76-453a-919d-413861904646"}]}`,
	},
	{
		name:    "multi/remove with empty selector",
		group:   true,
		attrs:   rfcGroup,
		body:    `{"Operations":[{"op":"remove","path":"members","value":[{}]}]}`,
		wantErr: "invalidValue",
	},
	{
		name:  "multi/remove listed by other sub-attributes",
		attrs: entraUser,
		body:  `{"Operations":[{"op":"remove","path":"emails","value":[{"type":"home"}]}]}`,
		want: strings.Replace(entraUser, `,
			{"type": "home", "value": "home@example.com"}`, "", 1),
	},
	{
		name:  "multi/replace element merges nothing",
		attrs: `{"userName": "bjensen", "emails": [{"type": "work", "value": "a@b.c", "display": "A"}]}`,
		body:  `{"Operations":[{"op":"replace","path":"emails[type eq \"work\"]","value":{"type":"work","value":"x@y.z"}}]}`,
		want:  `{"userName": "bjensen", "emails": [{"type": "work", "value": "x@y.z"}]}`,
	},
	{
		name:  "multi/add to selected element merges",
		attrs: `{"userName": "bjensen", "emails": [{"type": "work", "value": "a@b.c", "display": "A"}]}`,
		body:  `{"Operations":[{"op":"add","path":"emails[type eq \"work\"]","value":{"value":"x@y.z"}}]}`,
		want:  `{"userName": "bjensen", "emails": [{"type": "work", "value": "x@y.z", "display": "A"}]}`,
	},
	{
		// RFC 7644 §3.5.2.3: replace of a filter that matches nothing.
		name:    "multi/replace absent element is noTarget",
		attrs:   homeOnlyUser,
		body:    `{"Operations":[{"op":"replace","path":"emails[type eq \"work\"]","value":{"value":"w@example.com","primary":true}}]}`,
		wantErr: scim.NoTarget,
	},
	{
		name:    "multi/replace absent sub-attribute is noTarget",
		attrs:   homeOnlyUser,
		body:    `{"Operations":[{"op":"replace","path":"emails[type eq \"work\"].value","value":"w@example.com"}]}`,
		wantErr: scim.NoTarget,
	},
	{
		name:    "value/filtered key to nothing is noTarget",
		attrs:   homeOnlyUser,
		body:    `{"Operations":[{"op":"replace","value":{"emails[type eq \"work\"].value":"w@example.com"}}]}`,
		wantErr: scim.NoTarget,
	},
	{
		name:  "multi/replace absent element creates it for Entra",
		entra: true,
		attrs: homeOnlyUser,
		body:  `{"Operations":[{"op":"replace","path":"emails[type eq \"work\"]","value":{"value":"w@example.com","primary":true}}]}`,
		want: `{"userName": "bjensen", "emails": [{"type": "home", "value": "home@example.com"},
			{"type": "work", "value": "w@example.com", "primary": true}]}`,
	},
	{
		name:  "multi/remove sub-attribute keeps element",
		attrs: `{"userName": "bjensen", "addresses": [{"type": "work", "locality": "Hollywood", "region": "CA"}]}`,
		body:  `{"Operations":[{"op":"remove","path":"addresses[type eq \"work\"].locality"}]}`,
		want:  `{"userName": "bjensen", "addresses": [{"type": "work", "region": "CA"}]}`,
	},
	{
		name:  "remove/filter matches nothing",
		attrs: oktaUser,
		body:  `{"Operations":[{"op":"remove","path":"emails[type eq \"home\"]"},{"op":"remove","path":"emails[type eq \"home\"].value"},{"op":"remove","path":"phoneNumbers[type eq \"work\"]"}]}`,
		want:  oktaUser,
	},
	{
		name:  "remove/absent attributes",
		attrs: `{"userName": "bjensen"}`,
		body: `{"Operations":[{"op":"remove","path":"title"},{"op":"remove","path":"name.givenName"},{"op":"remove","path":"emails"},
			{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"}]}`,
		want: `{"userName": "bjensen"}`,
	},
	{
		name:  "remove/last sub-attribute removes the attribute",
		attrs: `{"userName": "bjensen", "name": {"givenName": "B", "familyName": "J"}}`,
		body:  `{"Operations":[{"op":"remove","path":"name.givenName"},{"op":"remove","path":"name.familyName"}]}`,
		want:  `{"userName": "bjensen"}`,
	},
	{
		name:  "remove/last extension attribute removes the extension",
		attrs: `{"userName": "bjensen", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "x"}}`,
		body:  `{"Operations":[{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"}]}`,
		want:  `{"userName": "bjensen"}`,
	},
	{
		name:    "remove/no path",
		attrs:   oktaUser,
		body:    `{"Operations":[{"op":"remove","value":{"displayName":"Test User"}}]}`,
		wantErr: "noTarget",
	},
	{
		name:    "replace/non-equality filter matches nothing",
		attrs:   oktaUser,
		body:    `{"Operations":[{"op":"replace","path":"emails[value co \"nomatch\"].type","value":"home"}]}`,
		wantErr: "noTarget",
	},
	{
		name:    "add/or filter matches nothing",
		attrs:   oktaUser,
		body:    `{"Operations":[{"op":"add","path":"emails[type eq \"home\" or type eq \"other\"].value","value":"h@example.com"}]}`,
		wantErr: "noTarget",
	},
	{
		name:    "replace/sub-attribute of no element",
		attrs:   `{"userName": "bjensen"}`,
		body:    `{"Operations":[{"op":"replace","path":"emails.value","value":"h@example.com"}]}`,
		wantErr: "noTarget",
	},
	{
		name:  "add/singular complex merges",
		attrs: `{"userName": "bjensen", "name": {"givenName": "B"}}`,
		body:  `{"Operations":[{"op":"add","path":"name","value":{"middleName":"Q","familyName":"J"}}]}`,
		want:  `{"userName": "bjensen", "name": {"givenName": "B", "middleName": "Q", "familyName": "J"}}`,
	},
	{
		name:    "apply/failure in the middle",
		attrs:   oktaUser,
		body:    `{"Operations":[{"op":"replace","path":"displayName","value":"changed"},{"op":"replace","path":"nope","value":1},{"op":"replace","path":"title","value":"t"}]}`,
		wantErr: "invalidPath",
	},
}

func TestApply(t *testing.T) {
	for _, tc := range applyTests {
		t.Run(tc.name, func(t *testing.T) {
			rt := schema.UserType
			if tc.group {
				rt = schema.GroupType
			}
			attrs := mustObject(t, tc.attrs)
			before := mustObject(t, tc.attrs)
			got, password, err := decodeApply(rt, attrs, tc.body, Options{CreateOnReplace: tc.entra})
			if diff := cmp.Diff(before, attrs); diff != "" {
				t.Errorf("Apply modified its input (-before +after):\n%s", diff)
			}
			if tc.wantErr != "" {
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("err = %v, want an *Error with scimType %q", err, tc.wantErr)
				}
				if e.ScimType != tc.wantErr || e.Msg == "" {
					t.Errorf("err = {%q, %q}, want scimType %q and a message", e.ScimType, e.Msg, tc.wantErr)
				}
				if got != nil || password != nil {
					t.Errorf("Apply returned a result with an error: %v, %v", got, password)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if diff := cmp.Diff(mustObject(t, tc.want), normalize(t, got)); diff != "" {
				t.Errorf("result mismatch (-want +got):\n%s", diff)
			}
			gotPassword := ""
			if password != nil {
				gotPassword = *password
			}
			if gotPassword != tc.wantPassword {
				t.Errorf("password = %q, want %q", gotPassword, tc.wantPassword)
			}
		})
	}
}

func decodeApply(rt *schema.ResourceType, attrs map[string]any, body string, opts Options) (map[string]any, *string, error) {
	ops, err := Decode([]byte(body))
	if err != nil {
		return nil, nil, err
	}
	out, err := ApplyWith(rt, attrs, ops, opts)
	if err != nil {
		return nil, nil, err
	}
	return out.Attrs, out.Password, nil
}

// TestApplyNotesLeniency: a replace that created an element for Entra ID
// says so in the Outcome; one that matched needs no leniency.
func TestApplyNotesLeniency(t *testing.T) {
	for _, tc := range []struct {
		body string
		want int
	}{
		{`{"Operations":[{"op":"Replace","path":"addresses[type eq \"work\"].formatted","value":"18/2111"}]}`, 1},
		{`{"Operations":[{"op":"Replace","path":"emails[type eq \"home\"].value","value":"h@example.com"}]}`, 0},
		{`{"Operations":[{"op":"Add","path":"emails[type eq \"work\"].value","value":"w@example.com"}]}`, 0},
	} {
		ops, err := Decode([]byte(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		out, err := ApplyWith(schema.UserType, mustObject(t, homeOnlyUser), ops, Options{CreateOnReplace: true})
		if err != nil || len(out.Lenient) != tc.want {
			t.Errorf("%s: lenient %q, err %v; want %d notes", tc.body, out.Lenient, err, tc.want)
		}
	}
}

// TestApplyErrorMessages checks that messages name the operation and what
// is wrong with it, and never echo a password.
func TestApplyErrorMessages(t *testing.T) {
	tests := []struct {
		body string
		want []string // substrings of the message
	}{
		{`{"Operations":[{"op":"replace","path":"displayName","value":"x"},{"op":"replace","path":"favouriteColour","value":"blue"}]}`,
			[]string{"operation 2", "favouriteColour", "no such attribute"}},
		{`{"Operations":[{"op":"replace","path":"active","value":"maybe"}]}`,
			[]string{"operation 1", `"active"`, "boolean", `"maybe"`}},
		{`{"Operations":[{"op":"replace","path":"userName","value":42}]}`,
			[]string{`"userName"`, "must be a string", "number 42"}},
		{`{"Operations":[{"op":"replace","path":"id","value":"x"}]}`,
			[]string{`"id"`, "read-only"}},
		{`{"Operations":[{"op":"replace","path":"emails[value co \"zz\"].type","value":"home"}]}`,
			[]string{`emails[value co "zz"].type`, `"emails"`}},
		{`{"Operations":[{"op":"move","path":"userName"}]}`,
			[]string{"operation 1", `"move"`}},
		{`{"Operations":[{"op":"replace","path":"password","value":["hunter2"]}]}`,
			[]string{"password must be a string"}},
	}
	for _, tc := range tests {
		_, _, err := decodeApply(schema.UserType, mustObject(t, oktaUser), tc.body, Options{})
		if err == nil {
			t.Errorf("%s: no error", tc.body)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: message %q does not contain %q", tc.body, err.Error(), w)
			}
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: message %q echoes the password", tc.body, err.Error())
		}
	}
}

// TestApplyFailureHasNoEffect checks that an operation failing after
// others succeeded leaves no partial effect: the input keeps its nested
// values and neither a result nor a password comes back.
func TestApplyFailureHasNoEffect(t *testing.T) {
	attrs := mustObject(t, entraUser)
	ops, err := Decode([]byte(`{"Operations":[
		{"op":"replace","path":"password","value":"s3cret"},
		{"op":"replace","path":"emails[type eq \"work\"].value","value":"changed@example.com"},
		{"op":"remove","path":"name.givenName"},
		{"op":"replace","path":"active","value":"perhaps"},
		{"op":"replace","path":"displayName","value":"never"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	got, password, err := Apply(schema.UserType, attrs, ops)
	var e *Error
	if !errors.As(err, &e) || e.ScimType != "invalidValue" || !strings.HasPrefix(e.Msg, "operation 4 ") {
		t.Fatalf("err = %v, want operation 4's invalidValue", err)
	}
	if got != nil || password != nil {
		t.Errorf("Apply returned %v, %v with an error", got, password)
	}
	if diff := cmp.Diff(mustObject(t, entraUser), attrs); diff != "" {
		t.Errorf("the input changed (-want +got):\n%s", diff)
	}
}

// TestApplyIndependentResult checks that the result shares nothing with the
// input attributes or the operations' values, so changing one cannot change
// the other.
func TestApplyIndependentResult(t *testing.T) {
	attrs := mustObject(t, entraUser)
	ops, err := Decode([]byte(`{"Operations":[
		{"op":"add","path":"emails","value":[{"value":"n@example.com","type":"other"}]},
		{"op":"add","path":"addresses[type eq \"work\"]","value":{"locality":"x"}},
		{"op":"replace","value":{"name":{"givenName":"G"},"phoneNumbers":[{"value":"1"}]}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	wantAttrs := mustObject(t, entraUser)
	wantOps := copyOps(ops)
	got, _, err := Apply(schema.UserType, attrs, ops)
	if err != nil {
		t.Fatal(err)
	}
	scribble(got)
	if diff := cmp.Diff(wantAttrs, attrs); diff != "" {
		t.Errorf("changing the result changed the input (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantOps, ops); diff != "" {
		t.Errorf("changing the result changed the operations (-want +got):\n%s", diff)
	}
}

// scribble overwrites every map entry and list element reachable from v.
func scribble(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			scribble(e)
			x[k] = "scribbled"
		}
	case []any:
		for i, e := range x {
			scribble(e)
			x[i] = "scribbled"
		}
	}
}

func copyOps(ops []Operation) []Operation {
	out := make([]Operation, len(ops))
	for i, op := range ops {
		out[i] = Operation{Op: op.Op, Path: op.Path, Value: copyValue(op.Value)}
	}
	return out
}

// TestApplyGoValues checks that attributes built by Go code rather than
// decoded JSON ([]map[string]any, float64 and int numbers) work, and that
// operations work with any case of op.
func TestApplyGoValues(t *testing.T) {
	attrs := map[string]any{
		"userName": "bjensen",
		"emails":   []map[string]any{{"value": "a@example.com", "type": "work", "primary": true}},
	}
	got, _, err := Apply(schema.UserType, attrs, []Operation{
		{Op: "Add", Path: "emails", Value: map[string]any{"value": "b@example.com", "primary": "TRUE"}},
		{Op: "REPLACE", Path: "active", Value: "FALSE"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"userName": "bjensen",
		"active":   false,
		"emails": []any{
			map[string]any{"value": "a@example.com", "type": "work", "primary": false},
			map[string]any{"value": "b@example.com", "primary": true},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if p := attrs["emails"].([]map[string]any)[0]["primary"]; p != true {
		t.Errorf("input changed: primary = %v", p)
	}
	if _, _, err := Apply(schema.UserType, nil, []Operation{{Op: "move", Path: "userName"}}); err == nil {
		t.Error("op move: no error")
	}
	got, _, err = Apply(schema.UserType, nil, []Operation{{Op: "add", Path: "userName", Value: "x"}})
	if err != nil || got["userName"] != "x" {
		t.Errorf("Apply on nil attrs = %v, %v", got, err)
	}
}

// typesRT has attributes of the types the standard schemas lack.
var typesRT = &schema.ResourceType{
	Name: "Widget",
	Core: &schema.Schema{ID: "urn:example:widget", Attributes: []*schema.Attribute{
		{Name: "count", Type: schema.Integer, Mutability: schema.ReadWrite},
		{Name: "ratio", Type: schema.Decimal, Mutability: schema.ReadWrite},
		{Name: "tags", Type: schema.String, MultiValued: true, Mutability: schema.ReadWrite},
		{Name: "codes", Type: schema.String, CaseExact: true, MultiValued: true, Mutability: schema.ReadWrite},
	}},
}

func TestApplyTypes(t *testing.T) {
	tests := []struct {
		name, attrs, body, want, wantErr string
	}{
		{name: "integer", attrs: `{}`, body: `{"Operations":[{"op":"add","value":{"count":3,"ratio":0.5}}]}`, want: `{"count":3,"ratio":0.5}`},
		{name: "integer in exponent form", attrs: `{}`, body: `{"Operations":[{"op":"add","path":"count","value":1e3}]}`, want: `{"count":1000}`},
		{name: "fraction for integer", attrs: `{}`, body: `{"Operations":[{"op":"add","path":"count","value":3.5}]}`, wantErr: "invalidValue"},
		{name: "string for integer", attrs: `{}`, body: `{"Operations":[{"op":"add","path":"count","value":"3"}]}`, wantErr: "invalidValue"},
		{name: "string for decimal", attrs: `{}`, body: `{"Operations":[{"op":"add","path":"ratio","value":"0.5"}]}`, wantErr: "invalidValue"},
		{name: "simple multi add", attrs: `{"tags":["a"]}`, body: `{"Operations":[{"op":"add","path":"tags","value":["A","b",null]}]}`, want: `{"tags":["a","b"]}`},
		{name: "simple multi add one", attrs: `{}`, body: `{"Operations":[{"op":"add","path":"tags","value":"a"}]}`, want: `{"tags":["a"]}`},
		{name: "case-exact multi add", attrs: `{"codes":["a"]}`, body: `{"Operations":[{"op":"add","path":"codes","value":["A"]}]}`, want: `{"codes":["a","A"]}`},
		{name: "simple multi remove listed", attrs: `{"tags":["a","b","c"]}`, body: `{"Operations":[{"op":"remove","path":"tags","value":["B","c"]}]}`, want: `{"tags":["a"]}`},
		{name: "simple multi replace empty", attrs: `{"tags":["a"]}`, body: `{"Operations":[{"op":"replace","path":"tags","value":[]}]}`, want: `{}`},
		{name: "simple multi wrong type", attrs: `{}`, body: `{"Operations":[{"op":"add","path":"tags","value":[1]}]}`, wantErr: "invalidValue"},
		{name: "filter on simple multi", attrs: `{}`, body: `{"Operations":[{"op":"remove","path":"tags[value eq \"a\"]"}]}`, wantErr: "invalidPath"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := decodeApply(typesRT, mustObject(t, tc.attrs), tc.body, Options{})
			if tc.wantErr != "" {
				var e *Error
				if !errors.As(err, &e) || e.ScimType != tc.wantErr {
					t.Fatalf("err = %v, want scimType %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(mustObject(t, tc.want), normalize(t, got)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    []Operation
		wantErr string
	}{
		{
			name: "all ops",
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
				{"op":"Add","path":"nickName","value":"Babs"},{"op":"REMOVE","path":"title"},{"op":"replace","value":{"active":false,"n":1.5}}]}`,
			want: []Operation{
				{Op: "add", Path: "nickName", Value: "Babs"},
				{Op: "remove", Path: "title"},
				{Op: "replace", Value: map[string]any{"active": false, "n": json.Number("1.5")}},
			},
		},
		{
			// Okta's legacy note: lower-case member names (A.5).
			name: "operations lower case",
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"operations":[{"OP":"add","Path":"nickName","VALUE":"Babs"}]}`,
			want: []Operation{{Op: "add", Path: "nickName", Value: "Babs"}},
		},
		{
			name: "schemas missing",
			body: `{"Operations":[{"op":"remove","path":"title"}]}`,
			want: []Operation{{Op: "remove", Path: "title"}},
		},
		{
			name: "schemas as a string",
			body: `{"schemas":"urn:ietf:params:scim:api:messages:2.0:PatchOp","Operations":[{"op":"remove","path":"title"}]}`,
			want: []Operation{{Op: "remove", Path: "title"}},
		},
		{
			name: "null value and path",
			body: `{"Operations":[{"op":"replace","path":"title","value":null},{"op":"remove","path":null}]}`,
			want: []Operation{{Op: "replace", Path: "title"}, {Op: "remove"}},
		},
		{name: "not JSON", body: `{"Operations":`, wantErr: "invalidSyntax"},
		{name: "empty body", body: ``, wantErr: "invalidSyntax"},
		{name: "trailing data", body: `{"Operations":[{"op":"remove","path":"title"}]} {}`, wantErr: "invalidSyntax"},
		{name: "array body", body: `[{"op":"remove","path":"title"}]`, wantErr: "invalidSyntax"},
		{name: "wrong schemas", body: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"Operations":[{"op":"remove","path":"title"}]}`, wantErr: "invalidSyntax"},
		{name: "Operations missing", body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}`, wantErr: "invalidSyntax"},
		{name: "Operations empty", body: `{"Operations":[]}`, wantErr: "invalidSyntax"},
		{name: "Operations an object", body: `{"Operations":{"op":"remove","path":"title"}}`, wantErr: "invalidSyntax"},
		{name: "Operations twice", body: `{"Operations":[{"op":"remove","path":"title"}],"operations":[]}`, wantErr: "invalidSyntax"},
		{name: "operation not an object", body: `{"Operations":["remove"]}`, wantErr: "invalidSyntax"},
		{name: "op missing", body: `{"Operations":[{"path":"title"}]}`, wantErr: "invalidSyntax"},
		{name: "op unknown", body: `{"Operations":[{"op":"move","path":"title"}]}`, wantErr: "invalidSyntax"},
		{name: "op a number", body: `{"Operations":[{"op":1,"path":"title"}]}`, wantErr: "invalidSyntax"},
		{name: "path a number", body: `{"Operations":[{"op":"remove","path":1}]}`, wantErr: "invalidSyntax"},
		{name: "add without value", body: `{"Operations":[{"op":"add","path":"title"}]}`, wantErr: "invalidValue"},
		{name: "replace without value", body: `{"Operations":[{"op":"Replace"}]}`, wantErr: "invalidValue"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode([]byte(tc.body))
			if tc.wantErr != "" {
				var e *Error
				if !errors.As(err, &e) || e.ScimType != tc.wantErr || e.Msg == "" {
					t.Fatalf("err = %#v, want scimType %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// mustObject decodes a JSON object the way the store does.
func mustObject(tb testing.TB, s string) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		tb.Fatalf("bad test JSON %q: %v", s, err)
	}
	return m
}

// normalize round-trips v through JSON so numbers compare as float64.
func normalize(tb testing.TB, v map[string]any) map[string]any {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatalf("result does not encode: %v", err)
	}
	return mustObject(tb, string(b))
}
