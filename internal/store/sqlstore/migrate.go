package sqlstore

import (
	"context"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

// Migrations are a backend's schema changes: numbered .sql files, applied
// in name order, each once, each recorded in the table schema_migrations
// (name, applied). Never edit a migration that has shipped; add one.
type Migrations struct {
	// Name is the backend's, for errors.
	Name string
	// FS holds the files, as migrations/NNNN_what.sql.
	FS fs.FS
	// Applied returns the names schema_migrations lists (creating the
	// table first if needed).
	Applied func(ctx context.Context) ([]string, error)
	// Apply applies one migration and records it, unless it is recorded
	// already (another process may be migrating too), in one transaction,
	// and reports whether it did.
	Apply func(ctx context.Context, name, body string) (bool, error)
}

// Run applies the migrations that are not recorded, up to and including
// the one named last ("": all), and returns the names of those it applied.
// It refuses a database that records a migration it does not know: a
// newer scimd migrated it.
func (m Migrations) Run(ctx context.Context, last string) ([]string, error) {
	paths, err := fs.Glob(m.FS, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	known := make(map[string]bool, len(paths))
	for _, p := range paths {
		known[strings.TrimPrefix(p, "migrations/")] = true
	}
	recorded, err := m.Applied(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: migrate: %w", m.Name, err)
	}
	var unknown []string
	for _, n := range recorded {
		if !known[n] {
			unknown = append(unknown, n)
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("%s: the database has migrations this scimd does not know (%s); it was written by a newer version",
			m.Name, strings.Join(unknown, ", "))
	}
	var applied []string
	for _, p := range paths {
		name := strings.TrimPrefix(p, "migrations/")
		body, err := fs.ReadFile(m.FS, p)
		if err != nil {
			return applied, err
		}
		done, err := m.Apply(ctx, name, string(body))
		if err != nil {
			return applied, fmt.Errorf("%s: migration %s: %w", m.Name, name, err)
		}
		if done {
			applied = append(applied, name)
		}
		if name == last {
			break
		}
	}
	return applied, nil
}
