#!/usr/bin/env bash
# testenv.sh CMD...: run CMD with TEST_DATABASE_URL and TEST_REDIS_URL exported, pointing
# at a Postgres and a Redis that answer.
#
# Postgres, first that answers:
#   1. $TEST_DATABASE_URL
#   2. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
#   3. a throwaway server: initdb into a temp dir, started on a free 127.0.0.1 port,
#      stopped and deleted when CMD exits.
# Redis, first that answers:
#   1. $TEST_REDIS_URL
#   2. redis://127.0.0.1:6379/0
#   3. a throwaway redis-server on a free 127.0.0.1 port, no persistence, killed on exit.
#
# TESTENV_FORCE_THROWAWAY=1 skips steps 1 and 2 for both (used to test this script).
# Exits with CMD's exit code.
set -euo pipefail

log() { printf 'testenv: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

[ $# -gt 0 ] || { echo "usage: $0 CMD [ARG...]" >&2; exit 2; }

DEFAULT_PG_URL='postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable'
DEFAULT_REDIS_URL='redis://127.0.0.1:6379/0'
force=${TESTENV_FORCE_THROWAWAY:-0}

tmp=''         # temp dir holding the throwaway servers' files
pg_bin=''      # directory of initdb/pg_ctl, set when a throwaway Postgres runs
pg_data=''
pg_user=''     # non-root user the throwaway Postgres runs as when we are root
redis_pid=''

cleanup() {
	if [ -n "$pg_data" ] && [ -f "$pg_data/postmaster.pid" ]; then
		as_pg_user "$pg_bin/pg_ctl" -D "$pg_data" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	if [ -n "$redis_pid" ]; then
		kill "$redis_pid" 2>/dev/null || true
		wait "$redis_pid" 2>/dev/null || true
	fi
	if [ -n "$tmp" ]; then
		rm -rf "$tmp"
	fi
}
trap 'rc=$?; trap - EXIT; cleanup; exit $rc' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# as_pg_user CMD...: run CMD as $pg_user (initdb and postgres refuse to run as root).
as_pg_user() {
	if [ -z "$pg_user" ]; then
		"$@"
	elif command -v runuser >/dev/null 2>&1; then
		runuser -u "$pg_user" -- "$@"
	else
		su -s /bin/sh "$pg_user" -c '"$0" "$@"' -- "$@"
	fi
}

make_tmp() {
	[ -n "$tmp" ] && return
	# As root the directory must be reachable by the unprivileged Postgres user, and
	# $TMPDIR may be private: use /tmp then.
	if [ "$(id -u)" -eq 0 ]; then
		tmp=$(mktemp -d /tmp/ticketd-testenv.XXXXXX)
	else
		tmp=$(mktemp -d "${TMPDIR:-/tmp}/ticketd-testenv.XXXXXX")
	fi
	chmod 755 "$tmp"
}

# host_port URL DEFAULT_PORT: print "host port" from scheme://[user[:pass]@]host[:port][/...].
host_port() {
	local rest=${1#*://}
	rest=${rest%%[/?]*}
	rest=${rest##*@}
	local host=${rest%%:*} port=$2
	[ "$rest" != "$host" ] && port=${rest##*:}
	printf '%s %s\n' "${host:-127.0.0.1}" "$port"
}

tcp_open() { timeout 2 bash -c ': >"/dev/tcp/$1/$2"' 2>/dev/null; }

# free_port: a 127.0.0.1 port nobody listens on right now (callers retry if they lose a race).
free_port() {
	local p
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 40000))
		tcp_open 127.0.0.1 "$p" || { echo "$p"; return; }
	done
	die "could not find a free port on 127.0.0.1"
}

pg_answers() {
	if command -v psql >/dev/null 2>&1; then
		PGCONNECT_TIMEOUT=3 psql "$1" -XAtqc 'select 1' >/dev/null 2>&1
	elif command -v pg_isready >/dev/null 2>&1; then
		pg_isready -q -t 3 -d "$1" >/dev/null 2>&1
	else
		# shellcheck disable=SC2046
		tcp_open $(host_port "$1" 5432)
	fi
}

redis_answers() {
	if command -v redis-cli >/dev/null 2>&1; then
		[ "$(timeout 3 redis-cli -u "$1" ping 2>/dev/null)" = PONG ]
	else
		local hp reply
		hp=$(host_port "$1" 6379)
		reply=$(timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"; printf "PING\r\n" >&3; head -c 5 <&3' _ $hp 2>/dev/null) || return 1
		[ "$reply" = '+PONG' ]
	fi
}

find_pg_bin() {
	local d
	if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
		dirname "$(command -v pg_ctl)"
		return
	fi
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
			echo "$d"
			return
		fi
	done
	return 1
}

start_pg() {
	pg_bin=$(find_pg_bin) || die "no Postgres answers and initdb/pg_ctl were not found in PATH or /usr/lib/postgresql/*/bin.
  Install PostgreSQL (Debian: apt-get install postgresql) or set TEST_DATABASE_URL to a running server."
	make_tmp
	if [ "$(id -u)" -eq 0 ]; then
		if id postgres >/dev/null 2>&1; then pg_user=postgres; else pg_user=nobody; fi
	fi
	pg_data=$tmp/pg/data
	mkdir -p "$tmp/pg"
	[ -n "$pg_user" ] && chown "$pg_user" "$tmp/pg"
	chmod 700 "$tmp/pg"
	# initdb syncs every file it writes; --no-sync is fine for a server that dies with us.
	(cd "$tmp/pg" && as_pg_user "$pg_bin/initdb" -D "$pg_data" -U postgres -A trust -E UTF8 \
		--locale=C --no-sync) >"$tmp/pg/initdb.log" 2>&1 ||
		die "initdb failed (as ${pg_user:-$(id -un)}):
$(cat "$tmp/pg/initdb.log")"
	local port
	for _ in 1 2 3 4 5; do
		port=$(free_port)
		if (cd "$tmp/pg" && as_pg_user "$pg_bin/pg_ctl" -D "$pg_data" -l "$tmp/pg/server.log" -w -t 60 \
			-o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories='$tmp/pg' -c fsync=off" \
			start) >/dev/null 2>&1; then
			TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
			return
		fi
	done
	die "the throwaway Postgres did not start; its log:
$(tail -n 20 "$tmp/pg/server.log" 2>/dev/null)"
}

start_redis() {
	command -v redis-server >/dev/null 2>&1 || die "no Redis answers and redis-server was not found in PATH.
  Install Redis (Debian: apt-get install redis-server) or set TEST_REDIS_URL to a running server."
	make_tmp
	mkdir -p "$tmp/redis"
	local port
	for _ in 1 2 3 4 5; do
		port=$(free_port)
		redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
			--dir "$tmp/redis" >"$tmp/redis/server.log" 2>&1 &
		redis_pid=$!
		for _ in $(seq 100); do
			if redis_answers "redis://127.0.0.1:$port/0"; then
				TEST_REDIS_URL="redis://127.0.0.1:$port/0"
				return
			fi
			kill -0 "$redis_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill "$redis_pid" 2>/dev/null || true
		wait "$redis_pid" 2>/dev/null || true
		redis_pid=''
	done
	die "the throwaway redis-server did not start; its log:
$(tail -n 20 "$tmp/redis/server.log" 2>/dev/null)"
}

# redact URL: hide a password in a URL before printing it.
redact() { sed -E 's#(://[^:/@]*:)[^@/]*@#\1***@#' <<<"$1"; }

pg_how='' redis_how=''
if [ "$force" != 1 ] && [ -n "${TEST_DATABASE_URL:-}" ] && pg_answers "$TEST_DATABASE_URL"; then
	pg_how=reused
elif [ "$force" != 1 ] && pg_answers "$DEFAULT_PG_URL"; then
	[ -n "${TEST_DATABASE_URL:-}" ] && log "TEST_DATABASE_URL does not answer; trying the default"
	TEST_DATABASE_URL=$DEFAULT_PG_URL
	pg_how=reused
else
	[ "$force" != 1 ] && [ -n "${TEST_DATABASE_URL:-}" ] && log "TEST_DATABASE_URL does not answer"
	start_pg
	pg_how=started
fi

if [ "$force" != 1 ] && [ -n "${TEST_REDIS_URL:-}" ] && redis_answers "$TEST_REDIS_URL"; then
	redis_how=reused
elif [ "$force" != 1 ] && redis_answers "$DEFAULT_REDIS_URL"; then
	[ -n "${TEST_REDIS_URL:-}" ] && log "TEST_REDIS_URL does not answer; trying the default"
	TEST_REDIS_URL=$DEFAULT_REDIS_URL
	redis_how=reused
else
	[ "$force" != 1 ] && [ -n "${TEST_REDIS_URL:-}" ] && log "TEST_REDIS_URL does not answer"
	start_redis
	redis_how=started
fi

export TEST_DATABASE_URL TEST_REDIS_URL
log "postgres $pg_how $(redact "$TEST_DATABASE_URL"), redis $redis_how $(redact "$TEST_REDIS_URL")"

set +e
"$@"
exit $?
