package patch

import (
	"fmt"
	"strings"
	"testing"

	"github.com/scimd/scimd/internal/scim/schema"
)

// benchUser is a realistic stored user, with the enterprise extension.
const benchUser = `{
	"userName": "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
	"externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
	"active": true,
	"displayName": "Test User",
	"name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
	"emails": [
		{"primary": true, "type": "work", "value": "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com"},
		{"type": "home", "value": "home@example.com"}
	],
	"phoneNumbers": [{"type": "work", "value": "+1 555 0100"}],
	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
		"employeeNumber": "701984", "department": "Tour Operations",
		"manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}
	}
}`

// BenchmarkApplyDeactivate measures Okta's deactivation (CLIENTS.md A.4): a
// pathless replace of active.
func BenchmarkApplyDeactivate(b *testing.B) {
	benchmarkApply(b, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}`)
}

// BenchmarkApplyEntraMulti measures Entra ID's default-mode update of six
// attributes (CLIENTS.md B.3), filtered email path and extension included.
func BenchmarkApplyEntraMulti(b *testing.B) {
	benchmarkApply(b, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"Replace","path":"displayName","value":"Pvlo"},
		{"op":"Replace","path":"emails[type eq \"work\"].value","value":"TestBcwqnm@test.microsoft.com"},
		{"op":"Replace","path":"name.givenName","value":"Gtfd"},
		{"op":"Replace","path":"name.familyName","value":"Pkqf"},
		{"op":"Replace","path":"externalId","value":"Eqpj"},
		{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber","value":"Eqpj"}]}`)
}

// benchmarkApply reports Apply alone and Decode plus Apply (the cost per
// PATCH request).
func benchmarkApply(b *testing.B, body string) {
	attrs := mustObject(b, benchUser)
	ops, err := Decode([]byte(body))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("Apply", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := Apply(schema.UserType, attrs, ops); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("DecodeApply", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ops, err := Decode([]byte(body))
			if err != nil {
				b.Fatal(err)
			}
			if _, _, err := Apply(schema.UserType, attrs, ops); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkApplyManyEmails adds n e-mail addresses in one operation: the
// cost must grow linearly with n (it once compared every pair).
func BenchmarkApplyManyEmails(b *testing.B) {
	for _, n := range []int{1_000, 20_000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			var sb strings.Builder
			sb.WriteString(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"emails","value":[`)
			for i := range n {
				if i > 0 {
					sb.WriteString(",")
				}
				fmt.Fprintf(&sb, `{"type":"work","value":"user%d@example.com"}`, i)
			}
			sb.WriteString(`]}]}`)
			ops, err := Decode([]byte(sb.String()))
			if err != nil {
				b.Fatal(err)
			}
			attrs := mustObject(b, benchUser)
			for b.Loop() {
				if _, _, err := Apply(schema.UserType, attrs, ops); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
