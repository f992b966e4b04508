package server_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// rfcAttr is what /Schemas says of one attribute or sub-attribute. CaseExact
// is nil and Uniqueness empty where the document leaves them out (complex
// and boolean attributes, as in most of RFC 7643 §8.7.1).
type rfcAttr struct {
	Type            string
	MultiValued     bool
	Required        bool
	CaseExact       *bool
	Mutability      string
	Returned        string
	Uniqueness      string
	ReferenceTypes  []string
	CanonicalValues []string
}

type attrOpt func(*rfcAttr)

var (
	multi    attrOpt = func(a *rfcAttr) { a.MultiValued = true }
	required attrOpt = func(a *rfcAttr) { a.Required = true }
	exact    attrOpt = func(a *rfcAttr) { t := true; a.CaseExact = &t }
)

func mut(m string) attrOpt          { return func(a *rfcAttr) { a.Mutability = m } }
func ret(r string) attrOpt          { return func(a *rfcAttr) { a.Returned = r } }
func uniq(u string) attrOpt         { return func(a *rfcAttr) { a.Uniqueness = u } }
func refs(t ...string) attrOpt      { return func(a *rfcAttr) { a.ReferenceTypes = t } }
func canonical(v ...string) attrOpt { return func(a *rfcAttr) { a.CanonicalValues = v } }

// attr is an RFC 7643 §8.7.1 attribute of type typ: readWrite, returned
// by default, not required, single-valued; simple types other than boolean
// also have caseExact false and uniqueness none, changed by opts.
func attr(typ string, opts ...attrOpt) rfcAttr {
	a := rfcAttr{Type: typ, Mutability: "readWrite", Returned: "default"}
	if typ != "complex" && typ != "boolean" {
		f := false
		a.CaseExact, a.Uniqueness = &f, "none"
	}
	for _, o := range opts {
		o(&a)
	}
	return a
}

// TestRFC7643_8_7_1_Schemas checks every attribute and sub-attribute /Schemas
// advertises against RFC 7643 §8.7.1 (with errata 6001: photos.value is an
// external reference and photos has no $ref), and that the document has
// exactly the attributes of the table: a deliberate difference from the RFC
// is listed here with its reason (and next to the definition in
// internal/scim/schema/defs.go).
func TestRFC7643_8_7_1_Schemas(t *testing.T) {
	// The sub-attributes display, type and primary of a multi-valued
	// attribute of simple values (RFC 7643 §2.4, §8.7.1).
	display := attr("string")
	typ := attr("string")
	primary := attr("boolean")
	ro := mut("readOnly")

	tests := []struct {
		path string
		want rfcAttr
		note string // why this differs from RFC 7643 §8.7.1, if it does
	}{
		// urn:ietf:params:scim:schemas:core:2.0:User
		{path: "User:userName", want: attr("string", required, uniq("server"))},
		{path: "User:name", want: attr("complex")},
		{path: "User:name.formatted", want: attr("string")},
		{path: "User:name.familyName", want: attr("string")},
		{path: "User:name.givenName", want: attr("string")},
		{path: "User:name.middleName", want: attr("string")},
		{path: "User:name.honorificPrefix", want: attr("string")},
		{path: "User:name.honorificSuffix", want: attr("string")},
		{path: "User:displayName", want: attr("string")},
		{path: "User:nickName", want: attr("string")},
		{path: "User:profileUrl", want: attr("reference", refs("external"))},
		{path: "User:title", want: attr("string")},
		{path: "User:userType", want: attr("string")},
		{path: "User:preferredLanguage", want: attr("string")},
		{path: "User:locale", want: attr("string")},
		{path: "User:timezone", want: attr("string")},
		{path: "User:active", want: attr("boolean")},
		{path: "User:password", want: attr("string", mut("writeOnly"), ret("never"))},
		{path: "User:emails", want: attr("complex", multi)},
		{path: "User:emails.value", want: attr("string")},
		{path: "User:emails.display", want: display},
		{path: "User:emails.type", want: attr("string", canonical("work", "home", "other"))},
		{path: "User:emails.primary", want: primary},
		{path: "User:phoneNumbers", want: attr("complex", multi)},
		{path: "User:phoneNumbers.value", want: attr("string")},
		{path: "User:phoneNumbers.display", want: display},
		{path: "User:phoneNumbers.type", want: attr("string", canonical("work", "home", "mobile", "fax", "pager", "other"))},
		{path: "User:phoneNumbers.primary", want: primary},
		{path: "User:ims", want: attr("complex", multi)},
		{path: "User:ims.value", want: attr("string")},
		{path: "User:ims.display", want: display},
		{path: "User:ims.type", want: attr("string", canonical("aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"))},
		{path: "User:ims.primary", want: primary},
		{path: "User:photos", want: attr("complex", multi)},
		{path: "User:photos.value", want: attr("reference", refs("external"))},
		{path: "User:photos.display", want: display},
		{path: "User:photos.type", want: attr("string", canonical("photo", "thumbnail"))},
		{path: "User:photos.primary", want: primary},
		{path: "User:addresses", want: attr("complex", multi)},
		{path: "User:addresses.formatted", want: attr("string")},
		{path: "User:addresses.streetAddress", want: attr("string")},
		{path: "User:addresses.locality", want: attr("string")},
		{path: "User:addresses.region", want: attr("string")},
		{path: "User:addresses.postalCode", want: attr("string")},
		{path: "User:addresses.country", want: attr("string")},
		{path: "User:addresses.type", want: attr("string", canonical("work", "home", "other"))},
		{path: "User:addresses.primary", want: primary,
			note: "not in §8.7.1's addresses: §2.4 gives multi-valued attributes a primary; scimd stores and returns it"},
		{path: "User:groups", want: attr("complex", multi, ro)},
		{path: "User:groups.value", want: attr("string", ro)},
		{path: "User:groups.$ref", want: attr("reference", ro, refs("User", "Group"))},
		{path: "User:groups.display", want: attr("string", ro)},
		{path: "User:groups.type", want: attr("string", ro, canonical("direct", "indirect"))},
		{path: "User:entitlements", want: attr("complex", multi)},
		{path: "User:entitlements.value", want: attr("string")},
		{path: "User:entitlements.display", want: display},
		{path: "User:entitlements.type", want: typ},
		{path: "User:entitlements.primary", want: primary},
		{path: "User:roles", want: attr("complex", multi)},
		{path: "User:roles.value", want: attr("string")},
		{path: "User:roles.display", want: display},
		{path: "User:roles.type", want: typ},
		{path: "User:roles.primary", want: primary},
		{path: "User:x509Certificates", want: attr("complex", multi)},
		{path: "User:x509Certificates.value", want: attr("binary")},
		{path: "User:x509Certificates.display", want: display},
		{path: "User:x509Certificates.type", want: typ},
		{path: "User:x509Certificates.primary", want: primary},

		// urn:ietf:params:scim:schemas:extension:enterprise:2.0:User
		{path: "EnterpriseUser:employeeNumber", want: attr("string")},
		{path: "EnterpriseUser:costCenter", want: attr("string")},
		{path: "EnterpriseUser:organization", want: attr("string")},
		{path: "EnterpriseUser:division", want: attr("string")},
		{path: "EnterpriseUser:department", want: attr("string")},
		{path: "EnterpriseUser:manager", want: attr("complex")},
		{path: "EnterpriseUser:manager.value", want: attr("string", exact),
			note: "caseExact (RFC: false): a User id (§3.1 case-exact); Entra ID filters manager.value eq id"},
		{path: "EnterpriseUser:manager.$ref", want: attr("reference", refs("User"))},
		{path: "EnterpriseUser:manager.displayName", want: attr("string", ro)},

		// urn:ietf:params:scim:schemas:core:2.0:Group
		{path: "Group:displayName", want: attr("string", required),
			note: "required (§8.7.1 JSON: false): §4.2 says REQUIRED and scimd refuses a group without one"},
		{path: "Group:members", want: attr("complex", multi)},
		{path: "Group:members.value", want: attr("string", exact, mut("immutable")),
			note: "caseExact (RFC: false): an id (§3.1 case-exact); Okta's and Entra ID's members[value eq id] use the member_id index"},
		{path: "Group:members.$ref", want: attr("reference", mut("immutable"), refs("User", "Group"))},
		{path: "Group:members.display", want: attr("string", ro),
			note: "not in §8.7.1's members: scimd returns each member's display, Okta and Entra ID send it"},
		{path: "Group:members.type", want: attr("string", mut("immutable"), canonical("User", "Group"))},
	}

	e := newEnv(t)
	r := e.do("GET", "/Schemas", "")
	if r.status != 200 {
		t.Fatalf("GET /Schemas: %d %s", r.status, r.body)
	}
	got := map[string]rfcAttr{}
	resources, _ := r.json["Resources"].([]any)
	for _, res := range resources {
		sc := res.(map[string]any)
		name, _ := sc["name"].(string)
		attrs, _ := sc["attributes"].([]any)
		collect(t, got, name+":", attrs)
	}

	want := map[string]rfcAttr{}
	for _, tt := range tests {
		if _, dup := want[tt.path]; dup {
			t.Fatalf("%s is in the table twice", tt.path)
		}
		want[tt.path] = tt.want
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			g, ok := got[tt.path]
			if !ok {
				t.Fatalf("%s is not in /Schemas", tt.path)
			}
			if d := cmp.Diff(tt.want, g); d != "" {
				t.Errorf("%s (-RFC 7643 §8.7.1 +/Schemas):\n%s", tt.path, d)
			}
		})
	}
	// Nothing more and nothing less than the table.
	if d := cmp.Diff(keys(want), keys(got)); d != "" {
		t.Errorf("attribute paths (-table +/Schemas):\n%s", d)
	}
}

// collect adds the attributes attrs (and their sub-attributes) of the
// schema whose paths start with prefix to got.
func collect(t *testing.T, got map[string]rfcAttr, prefix string, attrs []any) {
	t.Helper()
	for _, x := range attrs {
		m := x.(map[string]any)
		name, _ := m["name"].(string)
		path := prefix + name
		a := rfcAttr{}
		a.Type, _ = m["type"].(string)
		a.MultiValued, _ = m["multiValued"].(bool)
		a.Required, _ = m["required"].(bool)
		if v, ok := m["caseExact"].(bool); ok {
			a.CaseExact = &v
		}
		a.Mutability, _ = m["mutability"].(string)
		a.Returned, _ = m["returned"].(string)
		a.Uniqueness, _ = m["uniqueness"].(string)
		a.ReferenceTypes = stringList(m["referenceTypes"])
		a.CanonicalValues = stringList(m["canonicalValues"])
		if _, dup := got[path]; dup {
			t.Errorf("%s appears twice in /Schemas", path)
		}
		got[path] = a
		if subs, ok := m["subAttributes"].([]any); ok {
			collect(t, got, path+".", subs)
		}
	}
}

func stringList(v any) []string {
	l, ok := v.([]any)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(l))
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

func keys(m map[string]rfcAttr) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}
