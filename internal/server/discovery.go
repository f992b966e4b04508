package server

import (
	"net/http"
	"strings"

	"github.com/scimd/scimd/internal/scim"
	"github.com/scimd/scimd/internal/scim/schema"
)

// served are the resource types scimd advertises: only what works.
var served = []*schema.ResourceType{schema.UserType, schema.GroupType}

func (s *Server) serviceProviderConfig(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet {
		return methodNotAllowed(w, "GET")
	}
	base := infoFrom(r.Context()).base
	spc := map[string]any{
		"schemas":          []string{scim.ServiceConfigURN},
		"documentationUri": "https://github.com/scimd/scimd#readme",
		"patch":            map[string]any{"supported": true},
		"bulk":             map[string]any{"supported": true, "maxOperations": bulkMaxOperations, "maxPayloadSize": bulkMaxPayload},
		"filter":           map[string]any{"supported": true, "maxResults": maxCount},
		"changePassword":   map[string]any{"supported": true},
		"sort":             map[string]any{"supported": true},
		// RFC 9865: index (startIndex) and cursor paging; cursors do not expire.
		"pagination": map[string]any{"cursor": true, "index": true, "defaultPaginationMethod": "index",
			"defaultPageSize": defaultCount, "maxPageSize": maxCount},
		"etag": map[string]any{"supported": true},
		"authenticationSchemes": []any{
			map[string]any{"type": "httpbasic", "name": "HTTP Basic", "primary": true,
				"description": "Authorization: Basic base64(userId:apiKey), with a User ID and API key pair generated for the tenant."},
			map[string]any{"type": "oauthbearertoken", "name": "Bearer API key",
				"description": "Authorization: Bearer <apiKey> or Bearer base64(userId:apiKey)."},
		},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": base + "/ServiceProviderConfig"},
	}
	if s.securityEvents != nil {
		spc["securityEvents"] = s.securityEvents.json()
	}
	writeJSON(w, http.StatusOK, spc)
	return nil
}

// SecurityEvents is what the ServiceProviderConfig advertises of Security
// Event Tokens, as RFC 9967 §4 defines it: the SET event URIs this
// deployment generates and delivers. Asynchronous requests (Prefer:
// respond-async) are not supported, so asyncRequest is "none". Where the
// SETs are delivered (the poll endpoint, the JWKS) is deployment-wide and
// documented, not a tenant's: RFC 9967 leaves stream configuration out of
// scope and defines no attribute for it.
type SecurityEvents struct {
	EventURIs []string
}

func (se *SecurityEvents) json() map[string]any {
	uris := se.EventURIs
	if uris == nil {
		uris = []string{}
	}
	return map[string]any{"asyncRequest": "none", "eventUris": uris}
}

func resourceTypeJSON(rt *schema.ResourceType, base string) map[string]any {
	exts := []any{}
	for _, e := range rt.Extensions {
		exts = append(exts, map[string]any{"schema": e.ID, "required": false})
	}
	return map[string]any{
		"schemas":          []string{scim.ResourceTypeURN},
		"id":               rt.Name,
		"name":             rt.Name,
		"endpoint":         rt.Endpoint,
		"description":      rt.Core.Description,
		"schema":           rt.Core.ID,
		"schemaExtensions": exts,
		"meta":             map[string]any{"resourceType": "ResourceType", "location": base + "/ResourceTypes/" + rt.Name},
	}
}

func (s *Server) resourceTypes(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet {
		return methodNotAllowed(w, "GET")
	}
	base := infoFrom(r.Context()).base
	var items []any
	for _, rt := range served {
		items = append(items, resourceTypeJSON(rt, base))
	}
	writeJSON(w, http.StatusOK, listOf(items))
	return nil
}

func (s *Server) resourceType(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet {
		return methodNotAllowed(w, "GET")
	}
	name := r.PathValue("name")
	for _, rt := range served {
		if strings.EqualFold(rt.Name, name) {
			writeJSON(w, http.StatusOK, resourceTypeJSON(rt, infoFrom(r.Context()).base))
			return nil
		}
	}
	return scim.NotFound("no resource type %q", name)
}

func servedSchemas() []*schema.Schema {
	var out []*schema.Schema
	for _, rt := range served {
		out = append(out, rt.Schemas()...)
	}
	return out
}

func (s *Server) schemas(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet {
		return methodNotAllowed(w, "GET")
	}
	base := infoFrom(r.Context()).base
	var items []any
	for _, sc := range servedSchemas() {
		items = append(items, schemaJSON(sc, base))
	}
	writeJSON(w, http.StatusOK, listOf(items))
	return nil
}

func (s *Server) schemaByURN(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet {
		return methodNotAllowed(w, "GET")
	}
	urn := r.PathValue("urn")
	for _, sc := range servedSchemas() {
		if strings.EqualFold(sc.ID, urn) {
			writeJSON(w, http.StatusOK, schemaJSON(sc, infoFrom(r.Context()).base))
			return nil
		}
	}
	return scim.NotFound("no schema %q", urn)
}

func listOf(items []any) map[string]any {
	if items == nil {
		items = []any{}
	}
	return map[string]any{
		"schemas":      []string{scim.ListResponseURN},
		"totalResults": len(items),
		"itemsPerPage": len(items),
		"startIndex":   1,
		"Resources":    items,
	}
}

func schemaJSON(sc *schema.Schema, base string) map[string]any {
	attrs := make([]any, 0, len(sc.Attributes))
	for _, a := range sc.Attributes {
		attrs = append(attrs, attributeJSON(a))
	}
	return map[string]any{
		"schemas":     []string{scim.SchemaURN},
		"id":          sc.ID,
		"name":        sc.Name,
		"description": sc.Description,
		"attributes":  attrs,
		"meta":        map[string]any{"resourceType": "Schema", "location": base + "/Schemas/" + sc.ID},
	}
}

func attributeJSON(a *schema.Attribute) map[string]any {
	m := map[string]any{
		"name":        a.Name,
		"type":        string(a.Type),
		"multiValued": a.MultiValued,
		"description": a.Description,
		"required":    a.Required,
		"mutability":  string(a.Mutability),
		"returned":    string(a.Returned),
	}
	if a.Type != schema.Complex && a.Type != schema.Boolean {
		m["caseExact"] = a.CaseExact
		m["uniqueness"] = a.Uniqueness
	}
	if len(a.CanonicalValues) > 0 {
		m["canonicalValues"] = a.CanonicalValues
	}
	if len(a.ReferenceTypes) > 0 {
		m["referenceTypes"] = a.ReferenceTypes
	}
	if len(a.SubAttributes) > 0 {
		subs := make([]any, 0, len(a.SubAttributes))
		for _, s := range a.SubAttributes {
			subs = append(subs, attributeJSON(s))
		}
		m["subAttributes"] = subs
	}
	return m
}
