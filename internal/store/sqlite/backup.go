package sqlite

import (
	"context"
	"errors"
	"fmt"
)

// Backup writes a consistent copy of the SQLite database at path to dest,
// which must not exist, with VACUUM INTO: the copy is a snapshot of one
// read transaction, taken while other connections, in this process or in a
// scimd serving the file, go on reading and writing (WAL mode). The copy is
// compact and self-contained (no -wal file).
func Backup(ctx context.Context, path, dest string) error {
	if path == "" || path == ":memory:" || dest == "" {
		return errors.New("sqlite: backup needs a database file and a destination file")
	}
	p, err := openPool("file:"+escapePath(path)+"?", "mode=ro"+pragmas(false), 1)
	if err != nil {
		return err
	}
	defer p.Close()
	if _, err := p.ExecContext(ctx, "VACUUM INTO ?", dest); err != nil {
		return fmt.Errorf("sqlite: backup %s to %s: %w", path, dest, err)
	}
	return nil
}
