package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/scimd/scimd/internal/store/sqlite"
)

// cmdBackup writes an online copy of a SQLite database: a consistent
// snapshot taken while scimd serves, written to a temporary file beside the
// destination and linked into place once complete, so FILE is either
// absent or a whole backup.
func cmdBackup(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs, dbURL := newFlags("backup", getenv)
	to := fs.String("to", "", "the `FILE` to write the copy to; it must not exist")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("backup: unexpected argument %q", pos[0])
	}
	if *to == "" {
		return usagef("backup: --to FILE is required")
	}
	if isPostgres(*dbURL) {
		return usagef("backup: scimd backs up SQLite databases only; back up PostgreSQL with its own tools: pg_dump (e.g. pg_dump -Fc -f scimd.dump DBNAME) or continuous archiving (PITR)")
	}
	if !strings.HasPrefix(*dbURL, "sqlite:") {
		return usagef("backup: unsupported database URL %q: use sqlite:PATH", *dbURL)
	}
	path := strings.TrimPrefix(strings.TrimPrefix(*dbURL, "sqlite:"), "//")
	if path == "" {
		return usagef("database URL %q names no file", *dbURL)
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if _, err := os.Stat(*to); err == nil {
		return fmt.Errorf("backup: %s already exists; choose a new file", *to)
	} else if !errors.Is(err, iofs.ErrNotExist) {
		return fmt.Errorf("backup: %w", err)
	}
	tmp := filepath.Join(filepath.Dir(*to), "."+filepath.Base(*to)+".partial")
	os.Remove(tmp) // left by an interrupted backup
	if err := sqlite.Backup(ctx, path, tmp); err != nil {
		os.Remove(tmp)
		return err
	}
	// A link, not a rename: it fails rather than replace a file that
	// appeared at *to meanwhile.
	err = os.Link(tmp, *to)
	os.Remove(tmp)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	info, err := os.Stat(*to)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(stdout, "backed up %s to %s (%d bytes)\n", path, *to, info.Size())
	return nil
}
