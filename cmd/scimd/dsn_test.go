package main

import (
	"net/url"
	"strings"
	"testing"

	"github.com/scimd/scimd/internal/store/postgres/pgtest"
)

// TestKeywordValueDSN: libpq's key=value connection strings work where the
// README says they do, and their password is never printed.
func TestKeywordValueDSN(t *testing.T) {
	for _, tc := range []struct {
		dsn  string
		isPG bool
		want string // redacted
	}{
		{"host=db user=scimd password=s3cret dbname=scimd", true, "host=db user=scimd password=xxxxx dbname=scimd"},
		{"host=db password='two words' dbname=x", true, "host=db password=xxxxx dbname=x"},
		{"host=db PASSWORD='a b\\'c' dbname=x", true, "host=db PASSWORD=xxxxx dbname=x"},
		{"postgres://u:pw@db/x", true, "postgres://u:xxxxx@db/x"},
		{"sqlite:data/scimd.db", false, "sqlite:data/scimd.db"},
		{"mysql://u:pw@db/x", false, "mysql://u:xxxxx@db/x"},
	} {
		if got := isPostgres(tc.dsn); got != tc.isPG {
			t.Errorf("isPostgres(%q) = %v", tc.dsn, got)
		}
		if got := redactURL(tc.dsn); got != tc.want {
			t.Errorf("redactURL(%q) = %q, want %q", tc.dsn, got, tc.want)
		}
	}
	// A wrong one: the error does not show the password.
	_, err := openStore(t.Context(), "host=127.0.0.1 port=1 user=u password=hunter2 dbname=x connect_timeout=1")
	if err == nil || strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "unsupported") {
		t.Errorf("openStore of an unreachable key=value DSN: %v", err)
	}

	// A real one, written in key=value form.
	u, err := url.Parse(pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := u.User.Password()
	kv := "host=" + u.Hostname() + " port=" + u.Port() + " user=" + u.User.Username() + " dbname=" + strings.TrimPrefix(u.Path, "/") + " sslmode=disable"
	if pw != "" {
		kv += " password=" + pw
	}
	st, err := openStore(t.Context(), kv)
	if err != nil {
		t.Fatalf("openStore(%q): %v", redactURL(kv), err)
	}
	st.Close()
}
