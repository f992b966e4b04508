package console

import (
	"encoding/csv"
	"net/http"
	"strings"
)

// The CSV exports (users, activity) are written as they are read, csvChunk
// rows at a time, never held whole.
const csvChunk = 1000

// csvStart sends the headers of a CSV download named name (made safe for
// the header) and returns the writer of its rows.
func csvStart(w http.ResponseWriter, name string) *csv.Writer {
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+fileName(name)+`"`)
	h.Set("Cache-Control", "no-store")
	return csv.NewWriter(w)
}

// fileName is name with every character but ASCII letters, digits, '.',
// '-' and '_' replaced by '_', to stand in a Content-Disposition header.
func fileName(name string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x80 && (r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return r
		}
		return '_'
	}, name)
}

// csvSafe keeps a spreadsheet from reading a cell as a formula: a cell
// that starts with =, +, -, @ (or a tab or carriage return, which some
// spreadsheets skip before looking) gets a leading '. Paths, queries,
// details and key names come from clients and admins.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
