// Package patch implements SCIM PATCH (RFC 7644 §3.5.2) for scimd: [Decode]
// reads a PatchOp request body in every dialect the identity providers in
// CLIENTS.md send, and [Apply] applies the decoded operations to a
// resource's attributes, held as the store's canonical JSON-like map, using
// the schema definitions of package schema.
//
// Client quirks are normalised here, in one place; each carries a comment
// naming the client and the test case in patch_test.go that proves it.
//
// Choices where RFC 7644 or the clients leave room:
//
//   - Unassigned, null and empty are one state (RFC 7643 §2.5): Apply
//     never leaves an empty list, an empty complex value or an empty
//     extension object behind, it removes the attribute instead; a null
//     value in add or replace removes its target.
//   - add and replace on a singular complex attribute (name) merge the
//     given sub-attributes and keep the others (RFC 7644 §3.5.2.3); a
//     reference (the enterprise manager) is replaced whole, since a new
//     value makes the old $ref and displayName wrong.
//   - In a value without a path, read-only attributes (id, meta, groups),
//     "schemas" and keys that are URIs of schemas the resource type does
//     not have are ignored, because Okta and Entra ID echo them; any other
//     unknown key is an invalidPath error, as a typo must not be dropped
//     silently. In a path, a read-only attribute is a mutability error and
//     an unknown one an invalidPath error.
//   - Read-only sub-attributes inside a value (the display of a group
//     member, the displayName of a manager) are kept as the client's label;
//     only paths naming them are refused. Unknown sub-attributes in a value
//     are an invalidValue error.
//   - Elements added to a multi-valued attribute that equal an existing one
//     are skipped; elements that reference a resource (group members) are
//     equal when their value is. Removing a sub-attribute "value" from an
//     element removes the element.
//   - remove with a value on a multi-valued attribute removes the listed
//     elements only: matched by "value" when the listed element has one,
//     else by all the sub-attributes it gives.
//   - The password is never stored in the attributes: Apply returns it so
//     the caller can hash it. It cannot be removed (invalidValue) or set to
//     the empty string.
//   - Required attributes (userName, displayName) are not checked here: the
//     caller validates the resulting resource as a whole.
package patch
