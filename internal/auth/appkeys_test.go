package auth

import (
	"strings"
	"testing"
)

func TestAppKeys(t *testing.T) {
	id, secret := NewAppKey()
	if len(id) != idLen || !strings.HasPrefix(secret, "scimdapp_"+id+"_") || len(secret) != len("scimdapp_")+idLen+1+randLen {
		t.Fatalf("NewAppKey = %q, %q", id, secret)
	}
	if got, ok := AppKeyID(secret); !ok || got != id {
		t.Errorf("AppKeyID(%q) = %q, %v; want %q", secret, got, ok, id)
	}
	id2, secret2 := NewAppKey()
	if id2 == id || secret2 == secret {
		t.Errorf("two NewAppKey calls gave the same key")
	}
	tenantID, tenantSecret := NewKey()
	for _, bad := range []string{
		"", "scimdapp_", tenantSecret, // a tenant key is not an application key
		"scimdapp_" + tenantID + "_" + strings.Repeat("a", randLen-1),
		"scimdapp_" + tenantID + "-" + strings.Repeat("a", randLen),
		"scimdapp_" + tenantID + "_" + strings.Repeat("A", randLen), // not our alphabet
		"scimdapp_" + strings.ToUpper(tenantID) + "_" + strings.Repeat("a", randLen),
		"SCIMDAPP_" + tenantID + "_" + strings.Repeat("a", randLen),
		secret + "x", " " + secret,
	} {
		if got, ok := AppKeyID(bad); ok {
			t.Errorf("AppKeyID(%q) = %q, true; want false", bad, got)
		}
	}
	if _, _, err := ParseAuthorization("Bearer " + secret); err == nil {
		t.Errorf("ParseAuthorization accepted an application key as a tenant key")
	}
}

func TestBearerToken(t *testing.T) {
	for _, tc := range []struct {
		h, token string
		ok       bool
	}{
		{"Bearer abc", "abc", true},
		{"bearer abc", "abc", true},
		{"BEARER   abc  ", "abc", true},
		{"  Bearer abc", "abc", true},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"Bearer a b", "", false},
		{"Basic abc", "", false},
		{"abc", "", false},
		{"", "", false},
	} {
		token, ok := BearerToken(tc.h)
		if ok != tc.ok || ok && token != tc.token {
			t.Errorf("BearerToken(%q) = %q, %v; want %q, %v", tc.h, token, ok, tc.token, tc.ok)
		}
	}
}

// FuzzAppKeyID: whatever an Authorization header carries, the parsers do
// not panic, and an id is only ever found in the one shape NewAppKey makes.
func FuzzAppKeyID(f *testing.F) {
	_, secret := NewAppKey()
	for _, s := range []string{"Bearer " + secret, secret, "Bearer scimdapp_", "Basic x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		token, ok := BearerToken(h)
		if !ok {
			token = h
		}
		id, ok := AppKeyID(token)
		if ok && (len(id) != idLen || token != "scimdapp_"+id+token[len("scimdapp_")+idLen:] || len(token) != len("scimdapp_")+idLen+1+randLen) {
			t.Errorf("AppKeyID(%q) = %q", token, id)
		}
	})
}
