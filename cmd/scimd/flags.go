package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/scimd/scimd/internal/store"
	"github.com/scimd/scimd/internal/store/postgres"
	"github.com/scimd/scimd/internal/store/sqlite"
)

// newFlags returns a flag set with the --database flag every command takes.
func newFlags(name string, getenv func(string) string) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	db := fs.String("database", envOr(getenv, "SCIMD_DATABASE", defaultDatabase), databaseUsage+" (env SCIMD_DATABASE)")
	return fs, db
}

const (
	defaultDatabase = "sqlite:scimd.db"
	databaseUsage   = "database `URL`: sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DB"
)

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

// parseArgs parses flags that may come before or after positional
// arguments ("keys revoke --tenant acme ID" and "keys revoke ID --tenant acme")
// and returns the positional ones. For -h or --help it returns a
// helpRequested.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
			return nil, helpRequested{fs}
		} else if err != nil {
			return nil, usagef("%s: %v", fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// openStore opens the store named by a database URL.
func openStore(ctx context.Context, url string) (store.Store, error) {
	switch {
	case strings.HasPrefix(url, "sqlite:"):
		path := strings.TrimPrefix(url, "sqlite:")
		path = strings.TrimPrefix(path, "//")
		if path == "" {
			return nil, usagef("database URL %q names no file", url)
		}
		return sqlite.Open(ctx, path)
	case isPostgres(url):
		return postgres.Open(ctx, url)
	}
	return nil, usagef("unsupported database URL %q: use sqlite:PATH, postgres://USER:PASSWORD@HOST:PORT/DB or libpq's key=value form", redactURL(url))
}

// isPostgres reports whether a database URL names a PostgreSQL database:
// a postgres:// or postgresql:// URL, or libpq's keyword/value form
// ("host=db user=scimd password=… dbname=scimd").
func isPostgres(url string) bool {
	if strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://") {
		return true
	}
	return !strings.Contains(url, "://") && !strings.HasPrefix(url, "sqlite:") && keywordValue.MatchString(url)
}

// keywordValue matches libpq's keyword/value connection strings.
var keywordValue = regexp.MustCompile(`^\s*[a-z_]+\s*=`)

func onOff(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "on", "true", "yes", "1":
		return true, nil
	case "off", "false", "no", "0":
		return false, nil
	}
	return false, usagef("expected on or off, got %q", s)
}

// helpRequested is what parseArgs returns for -h or --help: run prints the
// command's usage and flags to stdout and succeeds.
type helpRequested struct{ fs *flag.FlagSet }

func (helpRequested) Error() string { return "help requested" }

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

// printHelp prints the usage lines of the command fs parses (from usage)
// and its flags.
func printHelp(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintln(w, "Usage:")
	printSynopsis(w, "scimd "+fs.Name())
	fmt.Fprintln(w, "\nFlags:")
	fs.VisitAll(func(f *flag.Flag) {
		name, use := flag.UnquoteUsage(f)
		switch name {
		case "":
		case "string", "duration", "value":
			name = " " + strings.ToUpper(name)
		default:
			name = " " + name
		}
		fmt.Fprintf(w, "  --%s%s\n        %s", f.Name, name, use)
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
}

// printSynopsis prints the lines of usage that start with cmd.
func printSynopsis(w io.Writer, cmd string) {
	found := false
	for line := range strings.SplitSeq(usage, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), cmd); ok && (rest == "" || rest[0] == ' ') {
			fmt.Fprintln(w, line)
			found = true
		}
	}
	if !found {
		fmt.Fprintf(w, "  %s [flags]\n", cmd)
	}
}
