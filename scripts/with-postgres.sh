#!/usr/bin/env bash
# with-postgres.sh CMD [ARGS...]: run CMD with SCIM_TEST_POSTGRES_DSN set.
# with-postgres.sh --check: exit 0 when a throwaway server could be started.
#
# When SCIM_TEST_POSTGRES_DSN is already set, CMD runs against that server.
# Otherwise this starts a throwaway PostgreSQL (initdb in a temporary
# directory, listening on 127.0.0.1 only, on a free port, fsync off), exports
# its DSN, runs CMD, and stops and removes the server however CMD ends.
# PostgreSQL refuses to run as root: as root, the server runs as the user
# "postgres" (PG_USER overrides).
#
# The server binaries (initdb, pg_ctl, postgres) are looked up in PG_BIN,
# then on PATH, /usr/local/bin and /usr/lib/postgresql/*/bin. The server runs
# with fsync off, for speed; PG_DURABLE=1 keeps PostgreSQL's durable
# defaults (fsync, synchronous_commit), for benchmarks comparable with
# SQLite's synchronous=FULL.
set -euo pipefail

if [[ $# -eq 0 ]]; then
	echo "usage: $0 CMD [ARGS...]" >&2
	exit 2
fi
if [[ -n "${SCIM_TEST_POSTGRES_DSN:-}" && "$1" != "--check" ]]; then
	exec "$@"
fi

die() {
	echo "with-postgres.sh: $*" >&2
	exit 1
}

find_bin() {
	local dir
	for dir in ${PG_BIN:-} $(tr ':' ' ' <<<"$PATH") /usr/local/bin $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
		if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" && -x "$dir/postgres" ]]; then
			echo "$dir"
			return 0
		fi
	done
	return 1
}
if [[ "$1" == "--check" ]]; then
	find_bin >/dev/null
	exit
fi
bin=$(find_bin) || die "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found in PG_BIN, PATH, /usr/local/bin or /usr/lib/postgresql/*/bin.
Install PostgreSQL (Debian: apt-get install postgresql), or set PG_BIN to their directory,
or point SCIM_TEST_POSTGRES_DSN at a server you run (postgres://user:pass@host:port/db)."

# as_pg runs a command as the user the server runs as.
pg_user=""
runuser=""
if [[ $(id -u) -eq 0 ]]; then
	pg_user=${PG_USER:-postgres}
	id "$pg_user" >/dev/null 2>&1 || die "running as root, and PostgreSQL will not run as root: there is no user \"$pg_user\" to run it as (set PG_USER, or run as another user)"
	runuser=$(command -v runuser || ls /usr/sbin/runuser /sbin/runuser 2>/dev/null | head -n1 || true)
fi
as_pg() {
	if [[ -z "$pg_user" ]]; then
		"$@"
	elif [[ -n "$runuser" ]]; then
		"$runuser" -u "$pg_user" -- "$@"
	else
		su -s /bin/bash "$pg_user" -c "$(printf '%q ' "$@")"
	fi
}

dir=$(mktemp -d "${TMPDIR:-/tmp}/scimd-pg.XXXXXX")
chmod 0755 "$dir"
started=""
cleanup() {
	local status=$?
	if [[ -n "$started" ]]; then
		as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	rm -rf "$dir"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if [[ -n "$pg_user" ]]; then
	chown "$pg_user" "$dir"
fi

as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 ||
	{ cat "$dir/initdb.log" >&2; die "initdb failed"; }

opts="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
if [[ "${PG_DURABLE:-}" == 1 ]]; then
	opts=""
fi

# A free port: try a few random ones; pg_ctl -w fails when the port is taken.
for attempt in 1 2 3 4 5 6 7 8; do
	port=$((20000 + RANDOM % 40000))
	if as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
		-o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir $opts -c max_connections=400 -c shared_buffers=128MB" >/dev/null 2>&1; then
		started=1
		break
	fi
	if ! grep -qi "address already in use\|could not bind\|could not create any TCP/IP sockets" "$dir/server.log" 2>/dev/null; then
		cat "$dir/server.log" >&2 || true
		die "PostgreSQL did not start (log above)"
	fi
	: >"$dir/server.log"
done
[[ -n "$started" ]] || die "PostgreSQL found no free port"

export SCIM_TEST_POSTGRES_DSN="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
echo "with-postgres.sh: throwaway PostgreSQL $("$bin/postgres" --version | awk '{print $3}') at $SCIM_TEST_POSTGRES_DSN${opts:+ ($opts)}" >&2
"$@"
