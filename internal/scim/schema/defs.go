package schema

// Schema URNs.
const (
	UserURN       = "urn:ietf:params:scim:schemas:core:2.0:User"
	EnterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	GroupURN      = "urn:ietf:params:scim:schemas:core:2.0:Group"
)

func str(name, desc string) *Attribute {
	return &Attribute{Name: name, Type: String, Description: desc, Mutability: ReadWrite, Returned: Default, Uniqueness: "none"}
}

func caseExact(a *Attribute) *Attribute { a.CaseExact = true; return a }

func typed(a *Attribute, t Type) *Attribute { a.Type = t; return a }

func reference(a *Attribute, types ...string) *Attribute {
	a.Type = Reference
	a.ReferenceTypes = types
	return a
}

func canonical(a *Attribute, values ...string) *Attribute { a.CanonicalValues = values; return a }

func complexAttr(name, desc string, multi bool, subs ...*Attribute) *Attribute {
	return &Attribute{Name: name, Type: Complex, MultiValued: multi, Description: desc, Mutability: ReadWrite, Returned: Default, Uniqueness: "none", SubAttributes: subs}
}

// multiSubs are the sub-attributes of a multi-valued attribute of simple
// values with a type, e.g. emails (RFC 7643 §2.4).
func multiSubs(valueDesc string, types ...string) []*Attribute {
	t := str("type", "A label indicating the attribute's function.")
	t.CanonicalValues = types
	return []*Attribute{
		str("value", valueDesc),
		str("display", "A human-readable name, primarily used for display purposes."),
		t,
		typed(str("primary", "Indicates the 'primary' or preferred attribute value for this attribute."), Boolean),
	}
}

// photoSubs are the sub-attributes of photos: multiSubs, with a value that
// is a reference of type "external" (RFC 7643 §8.7.1, errata 6001).
func photoSubs() []*Attribute {
	subs := multiSubs("URL of a photo of the User.", "photo", "thumbnail")
	reference(subs[0], "external")
	return subs
}

// x509Subs are the sub-attributes of x509Certificates: multiSubs, with a
// binary value (a base64-encoded DER certificate, RFC 7643 §4.1.2, §8.7.1).
func x509Subs() []*Attribute {
	subs := multiSubs("The value of an X.509 certificate.")
	subs[0].Type = Binary
	return subs
}

// Common are the attributes every resource has (RFC 7643 §3.1).
var Common = []*Attribute{
	{Name: "id", Type: String, CaseExact: true, Mutability: ReadOnly, Returned: Always, Uniqueness: "server",
		Description: "Unique identifier for the SCIM resource as defined by the service provider."},
	caseExact(str("externalId", "Identifier for the resource as defined by the provisioning client.")),
	{Name: "meta", Type: Complex, Mutability: ReadOnly, Returned: Default, Uniqueness: "none", Description: "Resource metadata.",
		SubAttributes: []*Attribute{
			{Name: "resourceType", Type: String, CaseExact: true, Mutability: ReadOnly, Returned: Default, Uniqueness: "none", Description: "The name of the resource type of the resource."},
			{Name: "created", Type: DateTime, Mutability: ReadOnly, Returned: Default, Uniqueness: "none", Description: "The date and time the resource was added to the service provider."},
			{Name: "lastModified", Type: DateTime, Mutability: ReadOnly, Returned: Default, Uniqueness: "none", Description: "The most recent date and time the resource was modified."},
			{Name: "location", Type: Reference, CaseExact: true, Mutability: ReadOnly, Returned: Default, Uniqueness: "none", Description: "The URI of the resource being returned."},
			{Name: "version", Type: String, CaseExact: true, Mutability: ReadOnly, Returned: Default, Uniqueness: "none", Description: "The version (ETag) of the resource."},
		}},
}

// User is the core User schema (RFC 7643 §4.1).
var User = &Schema{
	ID:          UserURN,
	Name:        "User",
	Description: "User Account",
	Attributes: []*Attribute{
		{Name: "userName", Type: String, Required: true, Mutability: ReadWrite, Returned: Default, Uniqueness: "server",
			Description: "Unique identifier for the User, typically used by the user to directly authenticate to the service provider. Compared case-insensitively."},
		complexAttr("name", "The components of the user's real name.", false,
			str("formatted", "The full name, including all middle names, titles, and suffixes as appropriate, formatted for display."),
			str("familyName", "The family name of the User."),
			str("givenName", "The given name of the User."),
			str("middleName", "The middle name(s) of the User."),
			str("honorificPrefix", "The honorific prefix(es) of the User."),
			str("honorificSuffix", "The honorific suffix(es) of the User."),
		),
		str("displayName", "The name of the User, suitable for display to end-users."),
		str("nickName", "The casual way to address the user in real life."),
		reference(str("profileUrl", "A fully qualified URL pointing to a page representing the User's online profile."), "external"),
		str("title", "The user's title, such as \"Vice President\"."),
		str("userType", "Used to identify the relationship between the organization and the user."),
		str("preferredLanguage", "Indicates the User's preferred written or spoken language."),
		str("locale", "Used to indicate the User's default location for purposes of localizing items such as currency, date time format, or numerical representations."),
		str("timezone", "The User's time zone in the 'Olson' time zone database format, e.g., 'America/Los_Angeles'."),
		typed(str("active", "A Boolean value indicating the User's administrative status."), Boolean),
		{Name: "password", Type: String, Mutability: WriteOnly, Returned: Never, Uniqueness: "none",
			Description: "The User's cleartext password. Write-only: stored only as a hash and never returned."},
		complexAttr("emails", "Email addresses for the user.", true, multiSubs("Email address for the User.", "work", "home", "other")...),
		complexAttr("phoneNumbers", "Phone numbers for the User.", true, multiSubs("Phone number of the User.", "work", "home", "mobile", "fax", "pager", "other")...),
		complexAttr("ims", "Instant messaging addresses for the User.", true, multiSubs("Instant messaging address for the User.", "aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo")...),
		// RFC 7643 §8.7.1 as corrected by errata 6001: photos.value is an
		// external reference, and photos has no "$ref" sub-attribute.
		complexAttr("photos", "URLs of photos of the User.", true, photoSubs()...),
		complexAttr("addresses", "A physical mailing address for this User.", true,
			str("formatted", "The full mailing address, formatted for display or use with a mailing label."),
			str("streetAddress", "The full street address component."),
			str("locality", "The city or locality component."),
			str("region", "The state or region component."),
			str("postalCode", "The zip code or postal code component."),
			str("country", "The country name component."),
			canonical(str("type", "A label indicating the attribute's function, e.g., 'work' or 'home'."), "work", "home", "other"),
			// Deliberately beyond RFC 7643 §8.7.1, whose addresses lists no
			// "primary": §2.4 gives every multi-valued attribute a primary
			// sub-attribute, scimd stores and returns the primary a client
			// sends (at most one, §2.4), so a client generated from /Schemas
			// must know it.
			typed(str("primary", "Indicates the 'primary' or preferred address."), Boolean),
		),
		{Name: "groups", Type: Complex, MultiValued: true, Mutability: ReadOnly, Returned: Default, Uniqueness: "none",
			Description: "A list of groups to which the user belongs. Read-only.",
			SubAttributes: []*Attribute{
				{Name: "value", Type: String, Mutability: ReadOnly, Returned: Default, Uniqueness: "none", Description: "The identifier of the User's group."},
				{Name: "$ref", Type: Reference, Mutability: ReadOnly, Returned: Default, Uniqueness: "none", ReferenceTypes: []string{"User", "Group"}, Description: "The URI of the corresponding 'Group' resource."},
				{Name: "display", Type: String, Mutability: ReadOnly, Returned: Default, Uniqueness: "none", Description: "A human-readable name."},
				{Name: "type", Type: String, Mutability: ReadOnly, Returned: Default, Uniqueness: "none", CanonicalValues: []string{"direct", "indirect"}, Description: "direct or indirect membership."},
			}},
		complexAttr("entitlements", "A list of entitlements for the User.", true, multiSubs("The value of an entitlement.")...),
		complexAttr("roles", "A list of roles for the User.", true, multiSubs("The value of a role.")...),
		complexAttr("x509Certificates", "A list of certificates issued to the User.", true, x509Subs()...),
	},
}

// Enterprise is the enterprise User extension (RFC 7643 §4.3).
var Enterprise = &Schema{
	ID:          EnterpriseURN,
	Name:        "EnterpriseUser",
	Description: "Enterprise User",
	Attributes: []*Attribute{
		str("employeeNumber", "Numeric or alphanumeric identifier assigned to a person."),
		str("costCenter", "Identifies the name of a cost center."),
		str("organization", "Identifies the name of an organization."),
		str("division", "Identifies the name of a division."),
		str("department", "Identifies the name of a department."),
		complexAttr("manager", "The User's manager. Accepted as a string (the manager's id) or an object; returned as an object.", false,
			// Deliberately caseExact, where RFC 7643 §8.7.1 has false: the
			// value is a User's id, which §3.1 makes case-exact, and Entra ID
			// filters manager.value eq "<id>"; it must find exactly the user
			// GET /Users/<id> finds.
			&Attribute{Name: "value", Type: String, CaseExact: true, Mutability: ReadWrite, Returned: Default, Uniqueness: "none", Description: "The id of the SCIM resource representing the User's manager."},
			&Attribute{Name: "$ref", Type: Reference, Mutability: ReadWrite, Returned: Default, Uniqueness: "none", ReferenceTypes: []string{"User"}, Description: "The URI of the SCIM resource representing the User's manager."},
			&Attribute{Name: "displayName", Type: String, Mutability: ReadOnly, Returned: Default, Uniqueness: "none", Description: "The displayName of the User's manager."},
		),
	},
}

// Group is the core Group schema (RFC 7643 §4.2).
var Group = &Schema{
	ID:          GroupURN,
	Name:        "Group",
	Description: "Group",
	Attributes: []*Attribute{
		// Deliberately required, where the RFC 7643 §8.7.1 JSON has false:
		// §4.2 says displayName is REQUIRED, and scimd refuses a group
		// without one (400 invalidValue), so advertising false would be
		// untrue.
		{Name: "displayName", Type: String, Required: true, Mutability: ReadWrite, Returned: Default, Uniqueness: "none", Description: "A human-readable name for the Group."},
		complexAttr("members", "A list of members of the Group.", true,
			// Deliberately caseExact, where RFC 7643 §8.7.1 has false: the
			// value is an id (case-exact, §3.1), and the member[value eq "<id>"]
			// filters and PATCH removes of Okta and Entra ID compare
			// group_members.member_id exactly, through its index; folding it
			// would scan every membership row of a 100,000-member group.
			&Attribute{Name: "value", Type: String, CaseExact: true, Mutability: Immutable, Returned: Default, Uniqueness: "none", Description: "Identifier of the member of this Group."},
			&Attribute{Name: "$ref", Type: Reference, Mutability: Immutable, Returned: Default, Uniqueness: "none", ReferenceTypes: []string{"User", "Group"}, Description: "The URI of the member resource."},
			// Deliberately beyond RFC 7643 §8.7.1, whose members lists no
			// "display" (its §8.4 example has one): scimd returns every
			// member's current displayName here, Okta and Entra ID send it,
			// and a client generated from /Schemas must know it. Read-only:
			// what a client sends is ignored.
			&Attribute{Name: "display", Type: String, Mutability: ReadOnly, Returned: Default, Uniqueness: "none", Description: "A human-readable name for the member."},
			&Attribute{Name: "type", Type: String, Mutability: Immutable, Returned: Default, Uniqueness: "none", CanonicalValues: []string{"User", "Group"}, Description: "The type of the member."},
		),
	},
}

// UserType is the User resource type.
var UserType = &ResourceType{Name: "User", Endpoint: "/Users", Core: User, Extensions: []*Schema{Enterprise}}

// GroupType is the Group resource type.
var GroupType = &ResourceType{Name: "Group", Endpoint: "/Groups", Core: Group}
