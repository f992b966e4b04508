package patch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/scimd/scimd/internal/scim"
)

// The operations of RFC 7644 §3.5.2, as Decode spells them.
const (
	opAdd     = "add"
	opRemove  = "remove"
	opReplace = "replace"
)

// Operation is one decoded PATCH operation.
type Operation struct {
	// Op is "add", "remove" or "replace". Decode lower-cases it; Apply
	// accepts any case.
	Op string
	// Path is the target, as the client wrote it; "" when the operation
	// has none.
	Path string
	// Value is the operation's value as decoded JSON (objects are
	// map[string]any, arrays []any, numbers json.Number); nil when the
	// value is null or, for remove, absent.
	Value any
}

// Error is a PATCH request the server must refuse with HTTP 400. ScimType is
// the RFC 7644 §3.12 error type: "invalidSyntax", "invalidPath",
// "invalidValue", "noTarget" or "mutability". Msg is safe to send to the
// client: it names the offending operation, path or attribute and never
// contains a password.
type Error struct {
	ScimType string
	Msg      string
}

// Error returns e.Msg.
func (e *Error) Error() string { return e.Msg }

func errorf(scimType, format string, args ...any) *Error {
	return &Error{ScimType: scimType, Msg: fmt.Sprintf(format, args...)}
}

// Decode reads a PatchOp request body (RFC 7644 §3.5.2). A "schemas" member
// may be missing, but when present it must list the PatchOp URN.
// "Operations" must be a non-empty array; member names ("Operations", "op",
// "path", "value") and op values are matched case-insensitively. add and
// replace must carry a "value" member (null is allowed and means remove).
// Paths are not parsed here: Apply checks them against the resource type.
// Errors are *Error values.
func Decode(body []byte) ([]Operation, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var top any
	if err := dec.Decode(&top); err != nil {
		return nil, errorf(scim.InvalidSyntax, "the request body is not valid JSON")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errorf(scim.InvalidSyntax, "the request body has data after the JSON object")
	}
	obj, ok := top.(map[string]any)
	if !ok {
		return nil, errorf(scim.InvalidSyntax, "the request body must be a JSON object")
	}
	schemas, _, err := member(obj, "schemas", "the request")
	if err != nil {
		return nil, err
	}
	if !listsPatchOp(schemas) {
		return nil, errorf(scim.InvalidSyntax, "%q must contain %q", "schemas", scim.PatchOpURN)
	}
	// Some clients spell the member "operations" (R6: structural names are
	// case-insensitive); TestDecode case "operations lower case".
	raw, _, err := member(obj, "Operations", "the request")
	if err != nil {
		return nil, err
	}
	list, ok := raw.([]any)
	if !ok || len(list) == 0 {
		return nil, errorf(scim.InvalidSyntax, "%q must be a non-empty array of operations", "Operations")
	}
	ops := make([]Operation, len(list))
	for i, x := range list {
		op, err := decodeOp(x)
		if err != nil {
			return nil, errorf(err.ScimType, "operation %d: %s", i+1, err.Msg)
		}
		ops[i] = op
	}
	return ops, nil
}

func decodeOp(x any) (Operation, *Error) {
	obj, ok := x.(map[string]any)
	if !ok {
		return Operation{}, errorf(scim.InvalidSyntax, "an operation must be a JSON object")
	}
	rawOp, _, err := member(obj, "op", "an operation")
	if err != nil {
		return Operation{}, err
	}
	opName, ok := rawOp.(string)
	if !ok {
		return Operation{}, errorf(scim.InvalidSyntax, `"op" must be one of "add", "remove" or "replace"`)
	}
	// Entra ID sends "Add", "Replace" and "Remove" (B.7, R6); test cases
	// "entra/disable default mode" and "entra/add members".
	op := Operation{Op: strings.ToLower(opName)}
	switch op.Op {
	case opAdd, opRemove, opReplace:
	default:
		return Operation{}, errorf(scim.InvalidSyntax, `op %s is not supported: use "add", "remove" or "replace"`, quote(opName))
	}
	rawPath, _, err := member(obj, "path", "an operation")
	if err != nil {
		return Operation{}, err
	}
	switch p := rawPath.(type) {
	case nil:
	case string:
		op.Path = p
	default:
		return Operation{}, errorf(scim.InvalidSyntax, `"path" must be a string`)
	}
	value, present, err := member(obj, "value", "an operation")
	if err != nil {
		return Operation{}, err
	}
	if !present && op.Op != opRemove {
		return Operation{}, errorf(scim.InvalidValue, "%s needs a %q member", op.Op, "value")
	}
	op.Value = value
	return op, nil
}

// member returns obj's member name, matched case-insensitively, and whether
// it is present; two members differing only in case are an error.
func member(obj map[string]any, name, where string) (v any, present bool, err *Error) {
	for k, x := range obj {
		if !strings.EqualFold(k, name) {
			continue
		}
		if present {
			return nil, false, errorf(scim.InvalidSyntax, "%s has more than one %q member", where, name)
		}
		v, present = x, true
	}
	return v, present, nil
}

// listsPatchOp reports whether a "schemas" member is acceptable: absent or
// null (lenient), the PatchOp URN, or an array containing it.
func listsPatchOp(schemas any) bool {
	switch s := schemas.(type) {
	case nil:
		return true
	case string:
		return strings.EqualFold(s, scim.PatchOpURN)
	case []any:
		for _, x := range s {
			if u, ok := x.(string); ok && strings.EqualFold(u, scim.PatchOpURN) {
				return true
			}
		}
	}
	return false
}
