package storetest

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/scimd/scimd/internal/store"
)

// SearchUsers benchmarks the console's search by words
// (store.Query.Words) on the fixture of SCIMD_BENCH_SEARCH_USERS users
// (default 100,000; BenchUser's: familyName Number<i>, givenName User, two
// e-mails): a page of 50 sorted by userName, with its total. "rare" words
// match a user or a few; "broad" ones a ninth of the tenant, which the page
// must count and sort.
func (bn *Bench) SearchUsers(b *testing.B) {
	n := 100_000
	if s := os.Getenv("SCIMD_BENCH_SEARCH_USERS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	f := bn.Fixture(b, n)
	ctx := context.Background()
	// numbered is how many users' number starts with digits.
	numbered := func(digits string) int {
		c := 0
		for i := range n {
			if strings.HasPrefix(strconv.Itoa(i), digits) {
				c++
			}
		}
		return c
	}
	for _, tc := range []struct {
		name  string
		words []string
		total int
	}{
		{"one-word/rare", []string{"user0012345"}, 1},                            // userName, e-mails
		{"one-word/rare-familyName", []string{"Number1234"}, numbered("1234")},   // number1234, number12340…
		{"two-words/rare", []string{"user", "number1234"}, numbered("1234")},     // "user" is everyone's givenName
		{"two-words/rare-email", []string{"user0012345@home", "NUMBER12345"}, 1}, // an e-mail and the familyName
		{"one-word/broad", []string{"number1"}, numbered("1")},                   // number1, number10…
		{"two-words/broad", []string{"user", "number1"}, numbered("1")},
		{"two-words/none", []string{"user0012345", "nobody"}, 0},
	} {
		q := store.Query{Words: tc.words, SortBy: "userName", Count: 50}
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				p, err := f.Store.ListUsers(ctx, f.Tenant, q)
				if err != nil || p.Total != tc.total {
					b.Fatalf("total %d, err %v; want %d", p.Total, err, tc.total)
				}
			}
		})
	}
}
