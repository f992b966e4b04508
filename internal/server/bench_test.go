package server_test

import (
	"fmt"
	"net/url"
	"testing"
)

// The HTTP benchmarks measure whole requests through the real handler over
// loopback: routing, authentication (two indexed reads), decoding, the store
// and encoding. Store-level figures at 10k and 100k users are in
// internal/store/sqlite.

func BenchmarkHTTPCreateUser(b *testing.B) {
	e := newEnv(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if r := e.do("POST", "/Users", userJSON(fmt.Sprintf("bench%d@example.com", i))); r.status != 201 {
			b.Fatalf("%d %s", r.status, r.body)
		}
	}
}

func BenchmarkHTTPGetUser(b *testing.B) {
	e := newEnv(b)
	id := e.createUser(userJSON("get@example.com"))
	b.ReportAllocs()
	for b.Loop() {
		if r := e.do("GET", "/Users/"+id, ""); r.status != 200 {
			b.Fatal(r.status)
		}
	}
}

func BenchmarkHTTPUserNameEq(b *testing.B) {
	e := newEnv(b)
	for i := range 1000 {
		e.createUser(userJSON(fmt.Sprintf("user%d@example.com", i)))
	}
	q := "/Users?filter=" + url.QueryEscape(`userName eq "USER500@example.com"`) + "&startIndex=1&count=100"
	b.ReportAllocs()
	for b.Loop() {
		if r := e.do("GET", q, ""); r.json["totalResults"] != 1.0 {
			b.Fatal(string(r.body))
		}
	}
}

func BenchmarkHTTPPatchDeactivate(b *testing.B) {
	e := newEnv(b)
	id := e.createUser(userJSON("patch@example.com"))
	bodies := []string{
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":true}}]}`,
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if r := e.do("PATCH", "/Users/"+id, bodies[i%2]); r.status != 200 {
			b.Fatal(r.status)
		}
	}
}

func BenchmarkHTTPListPage100(b *testing.B) {
	e := newEnv(b)
	for i := range 300 {
		e.createUser(userJSON(fmt.Sprintf("list%d@example.com", i)))
	}
	b.ReportAllocs()
	for b.Loop() {
		if r := e.do("GET", "/Users?startIndex=101&count=100", ""); r.json["itemsPerPage"] != 100.0 {
			b.Fatal(string(r.body))
		}
	}
}
