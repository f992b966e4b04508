package sqlstore

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/scimd/scimd/internal/scim"
	"github.com/scimd/scimd/internal/store"
)

// The search by words (store.Query.Words) finds the users of whom every
// word is a prefix, under scim.Fold, of the userName, the displayName, a
// part of the name (givenName, familyName, formatted), an e-mail value or
// the externalId.
//
// Each of those has a folded column with an index on (tenant_id, column):
// users.user_name_fold, display_name_fold, given_name_fold,
// family_name_fold, formatted_name_fold, external_id_fold (migrations
// 0015 on SQLite, 0014 on PostgreSQL) and user_emails.value_fold. A prefix
// p is the range p <= column < successor(p) of such an index, as for the
// filter operator sw, in code point order (SQLite's BINARY collation,
// PostgreSQL's COLLATE "C"); no LIKE, whose index use depends on collation
// and escaping, and whose _ and % would be wildcards. On SQLite the users
// are then found by seq (Dialect.ByKey): without statistics its planner
// would rather walk the index of the sort order through the whole tenant.
//
// Why columns rather than a table of search tokens
// (user_search(tenant_id, token, user_seq)): the columns cost a create or
// an update four more entries in the indexes of the users row it writes
// anyway, in the same statement; a token table would take a row for each
// of about seven values of every user, in a second table with two indexes
// (the lookup and the cascade on delete), and a delete and re-insert of
// those rows on every update that changes one. The reads are index ranges
// either way: seven small ones for a word rather than one.
//
// The words' conditions are and-ed. One word, the longest (the likeliest
// to be rare), finds the candidates: the union of its seven ranges. The
// others are checked on each candidate row (its columns, and its e-mail
// rows by their primary key), so that a common word ("a") does not read
// its whole range when a rarer one is given with it.

// maxSearchWords bounds the words of a search, and so its work.
const maxSearchWords = 8

// searchColumns are the folded columns of users that a word may prefix.
var searchColumns = []string{"user_name_fold", "display_name_fold", "given_name_fold", "family_name_fold", "formatted_name_fold", "external_id_fold"}

// searchCond compiles words to a condition on the users table of the
// tenant. Words are folded here; empty ones are ignored. More than
// maxSearchWords, or a word with a NUL (which PostgreSQL text cannot hold),
// is a *store.FilterError.
func searchCond(tenantID int64, words []string) (cond, error) {
	var folded []string
	for _, w := range words {
		if w = scim.Fold(strings.TrimSpace(w)); w == "" {
			continue
		}
		if strings.ContainsRune(w, 0) || !utf8.ValidString(w) {
			return cond{}, &store.FilterError{Msg: "a search word holds a character that cannot be searched for"}
		}
		folded = append(folded, w)
	}
	if len(folded) > maxSearchWords {
		return cond{}, &store.FilterError{Msg: fmt.Sprintf("a search takes at most %d words", maxSearchWords)}
	}
	if len(folded) == 0 {
		return condTrue, nil
	}
	lead := 0
	for i, w := range folded {
		if utf8.RuneCountInString(w) > utf8.RuneCountInString(folded[lead]) {
			lead = i
		}
	}
	c := candidates(tenantID, folded[lead])
	for i, w := range folded {
		if i != lead {
			c = and(c, rowMatches(w))
		}
	}
	return c, nil
}

// prefixRange is "col starts with p": col >= p, and col < the successor of
// p when p has one.
func prefixRange(col, p string) cond {
	hi, ok := successor(p)
	if !ok {
		return cond{sql: col + " >= ?", args: []any{p}}
	}
	return cond{sql: col + " >= ? AND " + col + " < ?", args: []any{p, hi}}
}

// candidates is "users.seq is that of a user of the tenant whose folded
// userName, displayName, name part, externalId or e-mail value starts with
// p": a union of index ranges.
func candidates(tenantID int64, p string) cond {
	var b strings.Builder
	var args []any
	b.WriteString("users.seq IN (")
	for i, col := range searchColumns {
		if i > 0 {
			b.WriteString(" UNION ALL ")
		}
		r := prefixRange("su."+col, p)
		b.WriteString("SELECT su.seq FROM users su WHERE su.tenant_id = ? AND " + r.sql)
		args = append(append(args, tenantID), r.args...)
	}
	r := prefixRange("se.value_fold", p)
	b.WriteString(" UNION ALL SELECT se.user_seq FROM user_emails se WHERE se.tenant_id = ? AND " + r.sql + ")")
	args = append(append(args, tenantID), r.args...)
	return cond{sql: b.String(), args: args}
}

// rowMatches is "the users row's folded userName, displayName, name part,
// externalId or one of its e-mail values starts with p", checked on the row
// (its e-mails found by user_seq, the primary key's first column).
func rowMatches(p string) cond {
	parts := make([]string, 0, len(searchColumns)+1)
	var args []any
	for _, col := range searchColumns {
		r := prefixRange("users."+col, p)
		parts = append(parts, "("+r.sql+")")
		args = append(args, r.args...)
	}
	r := prefixRange("re.value_fold", p)
	parts = append(parts, "EXISTS (SELECT 1 FROM user_emails re WHERE re.user_seq = users.seq AND "+r.sql+")")
	args = append(args, r.args...)
	return cond{sql: strings.Join(parts, " OR "), args: args}
}

// SearchCond compiles words, as ListUsers does for store.Query.Words, to a
// condition on the users table, for the backends' plan tests.
func SearchCond(tenantID int64, words []string) (Cond, error) {
	c, err := searchCond(tenantID, words)
	return exportCond(c), err
}
