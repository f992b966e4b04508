package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/scimd/scimd/internal/scim"
)

// checkJSON refuses, with 400 invalidSyntax, what encoding/json would
// accept but change silently, so that what is stored is what was sent:
//
//   - an object with the same key twice, or two keys that differ only in
//     case (SCIM names are case-insensitive, so {"userName":…,"username":…}
//     has no one meaning; encoding/json would keep one of them);
//   - invalid UTF-8, and \u escapes of lone surrogates (encoding/json would
//     store U+FFFD in their place).
//
// A body that is not JSON at all is left to the decoder's error.
func checkJSON(body []byte) error {
	if !utf8.Valid(body) {
		return scim.BadRequest(scim.InvalidSyntax, "request body is not valid UTF-8")
	}
	if i := loneSurrogate(body); i >= 0 {
		return scim.BadRequest(scim.InvalidSyntax, "request body has a \\u escape of a lone UTF-16 surrogate at byte %d", i)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	type frame struct {
		object bool
		keys   map[string]string // folded key → the key as sent
		key    bool              // the next string token is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return nil // not JSON: the decoder says so
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				if top != nil && top.object {
					top.key = true // the value of a key is done once this ends
				}
				stack = append(stack, &frame{object: t == '{', keys: map[string]string{}, key: t == '{'})
				continue
			case '}', ']':
				stack = stack[:len(stack)-1]
				continue
			}
		case string:
			if top != nil && top.object && top.key {
				k := strings.ToLower(t)
				if prev, dup := top.keys[k]; dup {
					if prev == t {
						return scim.BadRequest(scim.InvalidSyntax, "request body has the key %q twice in one object", t)
					}
					return scim.BadRequest(scim.InvalidSyntax, "request body has the keys %q and %q in one object; attribute names are case-insensitive", prev, t)
				}
				top.keys[k] = t
				top.key = false
				continue
			}
		}
		if top != nil && top.object {
			top.key = true // a scalar value: the next string is a key
		}
	}
}

// loneSurrogate returns the offset of the first \u escape in body that is
// a high surrogate not followed by a low one, or a low surrogate not
// preceded by a high one; -1 when there is none.
func loneSurrogate(body []byte) int {
	high := -1 // offset of a high surrogate escape waiting for its low half
	for i := 0; i+5 < len(body); i++ {
		if body[i] != '\\' {
			continue
		}
		if body[i+1] != 'u' {
			i++ // an escape of another character (\\, \", …)
			if high >= 0 {
				return high
			}
			continue
		}
		v, ok := hex4(body[i+2 : i+6])
		switch {
		case !ok:
		case v >= 0xD800 && v <= 0xDBFF:
			if high >= 0 {
				return high
			}
			high = i
		case v >= 0xDC00 && v <= 0xDFFF:
			if high < 0 || high != i-6 {
				return i
			}
			high = -1
		default:
			if high >= 0 {
				return high
			}
		}
		i += 5
	}
	return high
}

func hex4(b []byte) (int, bool) {
	v := 0
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | int(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | int(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v<<4 | int(c-'A'+10)
		default:
			return 0, false
		}
	}
	return v, true
}
