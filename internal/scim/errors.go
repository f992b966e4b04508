package scim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// scimType values (RFC 7644 §3.12, Table 9).
const (
	InvalidFilter = "invalidFilter"
	TooMany       = "tooMany"
	Uniqueness    = "uniqueness"
	Mutability    = "mutability"
	InvalidSyntax = "invalidSyntax"
	InvalidPath   = "invalidPath"
	NoTarget      = "noTarget"
	InvalidValue  = "invalidValue"
	InvalidVers   = "invalidVers"
	Sensitive     = "sensitive"
)

// Error is a SCIM protocol error: the HTTP status, the optional scimType and
// a detail that is safe to send to the client. Err, when set, is the
// underlying cause; it is logged, never sent.
type Error struct {
	Status   int
	ScimType string
	Detail   string
	Err      error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%d %s: %s: %v", e.Status, e.ScimType, e.Detail, e.Err)
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.ScimType, e.Detail)
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// MarshalJSON renders the RFC 7644 §3.12 body; status is a string.
func (e *Error) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Schemas  []string `json:"schemas"`
		Status   string   `json:"status"`
		ScimType string   `json:"scimType,omitempty"`
		Detail   string   `json:"detail"`
	}{[]string{ErrorURN}, strconv.Itoa(e.Status), e.ScimType, e.Detail})
}

// Errorf returns an *Error with the given status and scimType and a detail
// formatted from format and args.
func Errorf(status int, scimType, format string, args ...any) *Error {
	return &Error{Status: status, ScimType: scimType, Detail: fmt.Sprintf(format, args...)}
}

// BadRequest returns a 400 error with the given scimType.
func BadRequest(scimType, format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, scimType, format, args...)
}

// NotFound returns a 404 error.
func NotFound(format string, args ...any) *Error {
	return Errorf(http.StatusNotFound, "", format, args...)
}

// Unauthorized returns a 401 error.
func Unauthorized(format string, args ...any) *Error {
	return Errorf(http.StatusUnauthorized, "", format, args...)
}

// Forbidden returns a 403 error.
func Forbidden(format string, args ...any) *Error {
	return Errorf(http.StatusForbidden, "", format, args...)
}

// Internal wraps an unexpected error as a 500 whose detail says only
// "internal error"; err is kept for the log.
func Internal(err error) *Error {
	return &Error{Status: http.StatusInternalServerError, Detail: "internal error", Err: err}
}
