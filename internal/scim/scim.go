package scim

// Message schema URNs (RFC 7644 §3.1, §3.4.2, §3.5.2, §3.12).
const (
	ListResponseURN  = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	SearchRequestURN = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
	PatchOpURN       = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	ErrorURN         = "urn:ietf:params:scim:api:messages:2.0:Error"
	ServiceConfigURN = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	ResourceTypeURN  = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	SchemaURN        = "urn:ietf:params:scim:schemas:core:2.0:Schema"
	MediaType        = "application/scim+json"
	ContentType      = MediaType + "; charset=utf-8"
)
