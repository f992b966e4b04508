package storetest

import (
	"context"
	"testing"

	"github.com/scimd/scimd/internal/store"
)

// SearchUsers benchmarks the console's search by words
// (store.Query.Words) on the fixture of 100,000 users: a page of 50 sorted
// by userName, with its total. "rare" words match a user or a few;
// "broad" ones a ninth of the tenant, which the page must count and sort.
func (bn *Bench) SearchUsers(b *testing.B) {
	f := bn.Fixture(b, 100_000)
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		words []string
		total int
	}{
		{"one-word/rare", []string{"user0012345"}, 1},                            // userName, e-mails
		{"one-word/rare-familyName", []string{"Number1234"}, 11},                 // number1234, number12340…9
		{"two-words/rare", []string{"user", "number1234"}, 11},                   // "user" is everyone's givenName
		{"two-words/rare-email", []string{"user0012345@home", "NUMBER12345"}, 1}, // an e-mail and the familyName
		{"one-word/broad", []string{"number1"}, 11_111},                          // number1, number10…, number10000…19999
		{"two-words/broad", []string{"user", "number1"}, 11_111},
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
