// Command scimd is a multi-tenant SCIM 2.0 provisioning server.
//
//	scimd serve [--listen ADDR] [--database URL] [--base-domain DOMAIN] [--dev]
//	scimd migrate
//	scimd backup --to FILE
//	scimd tenants create|list|activate|deactivate|set ...
//	scimd keys create|list|revoke ...
//	scimd users purge ...
//	scimd version
//	scimd set-keys list|rotate ...
//
// Run "scimd help" for the details.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/scimd/scimd/internal/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "scimd:", err)
		var ue usageError
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

const usage = `scimd: a multi-tenant SCIM 2.0 provisioning server

Commands:
  scimd serve [--listen ADDR] [--database URL] [--base-domain DOMAIN] [--dev] [--admin-listen ADDR] [--tls-cert FILE --tls-key FILE] ...
  scimd migrate
  scimd backup --to FILE            online copy of a SQLite database (PostgreSQL: use pg_dump)
  scimd tenants create NAME [--owner USERNAME --password-stdin]
  scimd tenants list
  scimd tenants activate NAME       activate SCIM provisioning for the tenant
  scimd tenants deactivate NAME
  scimd tenants set NAME [--api-keys on|off] [--password-signin on|off] [--on-delete archive|purge] [--rate-limit N]
  scimd tenants unlock NAME USERNAME   let an account locked out by failed sign-ins sign in again
  scimd tenants add-owner NAME USERNAME [--password-stdin]   give a user the Owner role (creating it with a password from stdin)
  scimd keys create --tenant NAME --name LABEL [--scope read|write] [--expires DURATION] [--json]
  scimd keys list --tenant NAME
  scimd keys revoke --tenant NAME USERID
  scimd users purge --tenant NAME ID|USERNAME   permanently delete a user's data
  scimd users set-password --tenant NAME USERNAME --password-stdin   a console user's new password; ends their sessions
  scimd users restore --tenant NAME ID   make an archived user live again
  scimd operators create EMAIL --password-stdin   an operator of the /operator/ console pages
  scimd operators list | remove EMAIL
  scimd appkeys create --name NAME [--tenants all|a,b] [--json]   a key of your application for /api/v1
  scimd appkeys list
  scimd appkeys revoke ID
  scimd set-keys list|rotate [--grace DURATION] [--json]   the keys that sign Security Event Tokens
  scimd webhooks add|list|disable|enable|rotate-secret|remove|replay ...   (scimd webhooks help)
  scimd healthcheck [--url URL]     exit 0 if the scimd at SCIMD_LISTEN answers /healthz (a container's HEALTHCHECK)
  scimd version                     the version, commit and Go version of this binary (also --version)

Every command takes --database URL (default sqlite:scimd.db, env SCIMD_DATABASE):
sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DB.
Every serve flag has an environment variable (scimd serve --help lists them).
"scimd COMMAND --help" lists a command's flags.
`

// run is the whole program; main only wires it to the process.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	err := dispatch(ctx, args, getenv, stdin, stdout, stderr)
	var h helpRequested
	if errors.As(err, &h) {
		printHelp(stdout, h.fs)
		return nil
	}
	return err
}

// groups are the commands that take a subcommand.
var groups = map[string]string{"tenants": "tenants", "tenant": "tenants", "keys": "keys", "key": "keys",
	"users": "users", "user": "users", "operators": "operators", "operator": "operators", "appkeys": "appkeys", "appkey": "appkeys"}

func dispatch(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usagef("no command given")
	}
	if args[0] != "serve" {
		// What an operator changes from the command line is theirs in the
		// event log.
		ctx = store.WithActor(ctx, store.Actor{Kind: store.ActorOperator, ID: "cli"})
	}
	if g, ok := groups[args[0]]; ok && len(args) > 1 && isHelp(args[1]) {
		fmt.Fprintln(stdout, "Usage:")
		printSynopsis(stdout, "scimd "+g)
		fmt.Fprintf(stdout, "\n\"scimd %s SUBCOMMAND --help\" lists a subcommand's flags.\n", g)
		return nil
	}
	switch args[0] {
	case "serve":
		return cmdServe(ctx, args[1:], getenv, stdout, stderr)
	case "migrate":
		return cmdMigrate(ctx, args[1:], getenv, stdout)
	case "backup":
		return cmdBackup(ctx, args[1:], getenv, stdout)
	case "tenants", "tenant":
		if len(args) > 1 && args[1] == "create" {
			return cmdTenantsCreate(ctx, args[2:], getenv, stdin, stdout)
		}
		if len(args) > 1 && args[1] == "add-owner" {
			return cmdTenantsAddOwner(ctx, args[2:], getenv, stdin, stdout)
		}
		return cmdTenants(ctx, args[1:], getenv, stdout)
	case "operators", "operator":
		return cmdOperators(ctx, args[1:], getenv, stdin, stdout)
	case "keys", "key":
		return cmdKeys(ctx, args[1:], getenv, stdout)
	case "users", "user":
		if len(args) > 1 && (args[1] == "set-password" || args[1] == "restore") {
			return cmdUsersBreakGlass(ctx, args[1], args[2:], getenv, stdin, stdout)
		}
		return cmdUsers(ctx, args[1:], getenv, stdout)
	case "healthcheck":
		return cmdHealthcheck(ctx, args[1:], getenv, stdout)
	case "version", "--version", "-version":
		return cmdVersion(args[1:], stdout)
	case "appkeys", "appkey":
		return cmdAppKeys(ctx, args[1:], getenv, stdout)
	case "set-keys", "set-key":
		return cmdSETKeys(ctx, args[1:], getenv, stdout)
	case "webhooks", "webhook":
		return cmdWebhooks(ctx, args[1:], getenv, stdout, stderr)
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return usagef("unknown command %q (run \"scimd help\")", args[0])
}
