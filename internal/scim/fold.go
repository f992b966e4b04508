package scim

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Fold returns the case-folded form of s used wherever scimd compares text
// case-insensitively: the userName uniqueness column, filters on attributes
// with caseExact false, and lookups. Every rune is mapped through simple
// Unicode case folding to a single representative (lower case of its upper
// case), so "Straße", "STRASSE" differ but "ÉLODIE" and "élodie" match,
// as do the Kelvin sign and "k".
func Fold(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
		if 'A' <= c && c <= 'Z' {
			ascii = false // needs mapping; take the general path below
			break
		}
	}
	if ascii {
		return s
	}
	return strings.Map(func(r rune) rune { return unicode.ToLower(unicode.ToUpper(r)) }, s)
}
