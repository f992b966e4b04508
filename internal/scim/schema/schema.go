package schema

import "strings"

// Type is an attribute data type (RFC 7643 §2.3).
type Type string

// The attribute data types.
const (
	String    Type = "string"
	Boolean   Type = "boolean"
	Decimal   Type = "decimal"
	Integer   Type = "integer"
	DateTime  Type = "dateTime"
	Reference Type = "reference"
	Complex   Type = "complex"
	Binary    Type = "binary"
)

// Mutability says whether and when a client may write an attribute.
type Mutability string

// The mutability values of RFC 7643 §7.
const (
	ReadWrite Mutability = "readWrite"
	ReadOnly  Mutability = "readOnly"
	Immutable Mutability = "immutable"
	WriteOnly Mutability = "writeOnly"
)

// Returned says when an attribute appears in a response.
type Returned string

// The returned values of RFC 7643 §7.
const (
	Always  Returned = "always"
	Never   Returned = "never"
	Default Returned = "default"
	Request Returned = "request"
)

// Attribute describes one attribute or sub-attribute.
type Attribute struct {
	Name            string
	Type            Type
	MultiValued     bool
	Description     string
	Required        bool
	CaseExact       bool
	Mutability      Mutability
	Returned        Returned
	Uniqueness      string // "none", "server" or "global"
	CanonicalValues []string
	ReferenceTypes  []string
	SubAttributes   []*Attribute
}

// Sub returns the sub-attribute named name (case-insensitively), or nil.
func (a *Attribute) Sub(name string) *Attribute {
	for _, s := range a.SubAttributes {
		if strings.EqualFold(s.Name, name) {
			return s
		}
	}
	return nil
}

// Schema is one schema: a resource's core schema or an extension.
type Schema struct {
	ID          string
	Name        string
	Description string
	Attributes  []*Attribute
}

// Attr returns the top-level attribute named name (case-insensitively), or nil.
func (s *Schema) Attr(name string) *Attribute {
	for _, a := range s.Attributes {
		if strings.EqualFold(a.Name, name) {
			return a
		}
	}
	return nil
}

// ResourceType ties a core schema and its extensions to an endpoint.
type ResourceType struct {
	Name       string // "User"
	Endpoint   string // "/Users"
	Core       *Schema
	Extensions []*Schema
}

// Extension returns the extension schema with the given URN
// (case-insensitively), or nil.
func (rt *ResourceType) Extension(urn string) *Schema {
	for _, e := range rt.Extensions {
		if strings.EqualFold(e.ID, urn) {
			return e
		}
	}
	return nil
}

// Lookup resolves an attribute reference (the common attributes id,
// externalId and meta belong to the core schema): an optional schema URN, a
// top-level attribute name and an optional sub-attribute name. An empty urn
// or the core schema's URN means the core schema. It returns the schema the
// attribute belongs to, the attribute and, when sub is not empty, the
// sub-attribute; attr (and sub) are nil when unknown.
func (rt *ResourceType) Lookup(urn, name, sub string) (s *Schema, attr, subAttr *Attribute) {
	s = rt.Core
	if urn != "" && !strings.EqualFold(urn, rt.Core.ID) {
		s = rt.Extension(urn)
		if s == nil {
			return nil, nil, nil
		}
	}
	attr = s.Attr(name)
	if attr == nil && s == rt.Core {
		attr = common(name)
	}
	if attr == nil || sub == "" {
		return s, attr, nil
	}
	return s, attr, attr.Sub(sub)
}

func common(name string) *Attribute {
	for _, a := range Common {
		if strings.EqualFold(a.Name, name) {
			return a
		}
	}
	return nil
}

// SplitURN splits a fully qualified attribute reference such as
// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"
// into the schema URN of a known schema and the rest ("manager.value"). It
// reports false when s does not start with a known schema URN followed by ':'.
func (rt *ResourceType) SplitURN(s string) (urn, rest string, ok bool) {
	for _, sc := range rt.Schemas() {
		if len(s) > len(sc.ID) && strings.EqualFold(s[:len(sc.ID)], sc.ID) && s[len(sc.ID)] == ':' {
			return sc.ID, s[len(sc.ID)+1:], true
		}
	}
	return "", "", false
}

// Schemas returns the core schema followed by the extensions.
func (rt *ResourceType) Schemas() []*Schema {
	return append([]*Schema{rt.Core}, rt.Extensions...)
}
