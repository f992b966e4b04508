package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/scimd/scimd/internal/testenv"
)

// EnvVar names the server tests run against: a DSN whose user may create
// databases, e.g. postgres://postgres@127.0.0.1:5432/postgres.
const EnvVar = "SCIM_TEST_POSTGRES_DSN"

// SkipMessage is why PostgreSQL tests are skipped without EnvVar.
const SkipMessage = "SKIPPING PostgreSQL tests: " + EnvVar + " is not set. " +
	"`make test` starts a throwaway PostgreSQL and sets it (scripts/with-postgres.sh); " +
	"or point it at a server whose user may create databases, e.g. " +
	EnvVar + "=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// ServerDSN returns EnvVar's value, skipping tb when it is not set (or,
// under CI=true, failing it: see testenv).
func ServerDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(EnvVar)
	if dsn == "" {
		testenv.Missing(tb, SkipMessage)
	}
	return dsn
}

// NewDatabase creates an empty database on the server named by EnvVar and
// returns its DSN; the database is dropped when the test ends. It skips tb
// when EnvVar is not set.
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	ServerDSN(tb)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dsn, name, err := Create(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := Drop(ctx, name); err != nil {
			tb.Error(err)
		}
	})
	return dsn
}

// Create creates an empty database on the server named by EnvVar and
// returns its DSN and name; Drop drops it. The database's default collation
// is ICU's en-US where the server has ICU, so that a query that forgets
// COLLATE "C" orders differently from SQLite and fails the suite.
func Create(ctx context.Context) (dsn, name string, err error) {
	server := os.Getenv(EnvVar)
	if server == "" {
		return "", "", fmt.Errorf("pgtest: %s is not set", EnvVar)
	}
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		return "", "", fmt.Errorf("pgtest: connect to %s: %w", EnvVar, err)
	}
	defer conn.Close(ctx)
	var b [6]byte
	rand.Read(b[:])
	name = fmt.Sprintf("scimd_test_%d_%s", os.Getpid(), hex.EncodeToString(b[:]))
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident+" TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'en-US'"); err != nil {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
			return "", "", fmt.Errorf("pgtest: create database: %w", err)
		}
	}
	dsn, err = WithDatabase(server, name)
	return dsn, name, err
}

// Drop drops the database name on EnvVar's server, disconnecting whoever
// is still connected.
func Drop(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, os.Getenv(EnvVar))
	if err != nil {
		return fmt.Errorf("pgtest: connect to drop %s: %w", name, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("pgtest: drop database %s: %w", name, err)
	}
	return nil
}

// WithDatabase returns dsn (a URL or a keyword/value string) naming the
// database name instead of its own.
func WithDatabase(dsn, name string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("pgtest: %s is not a valid URL", EnvVar)
		}
		u.Path = "/" + name
		return u.String(), nil
	}
	return dsn + " dbname=" + name, nil
}
