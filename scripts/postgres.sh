#!/usr/bin/env bash
# A real PostgreSQL server for development and tests: Debian's `postgresql` package (installed with
# apt-get when no /usr/lib/postgresql/*/bin/initdb exists), a cluster of its own under .cache/infra,
# listening on 127.0.0.1 only, no system service.
#
#   scripts/postgres.sh start     initdb on first use, start the server (pid file), wait until ready
#   scripts/postgres.sh stop [--all]  fast shutdown of the server on POSTGRES_PORT (--all: of every
#                                 server whose pid file this script wrote)
#   scripts/postgres.sh status    exit 0 when it is running and accepts connections
#   scripts/postgres.sh running   exit 0 when its postmaster is alive (no connection check)
#   scripts/postgres.sh url       print the test role's URL (what DOGE_TEST_POSTGRES holds)
#   scripts/postgres.sh fetch     only install the server package when it is missing
#
# The cluster: superuser `postgres` (peer-less local socket, trust, for this script only), test role
# `doge` (password POSTGRES_TEST_PASSWORD, CREATEDB and CREATEROLE so that tests make their own
# databases and roles, pg_signal_backend so that they can drop them), database `doge` owned by
# it. TCP connections need a password (scram-sha-256), so wrong-password tests meet a real refusal.
#
# Environment:
#   POSTGRES_PORT=15432                TCP port on 127.0.0.1 (the socket lives in .cache/infra/run/)
#   POSTGRES_DATA                      data directory (default .cache/infra/postgres-data-<port>)
#   POSTGRES_BIN                       directory of initdb/pg_ctl (default: newest installed)
#   POSTGRES_TEST_PASSWORD=doge-test   the test role's password (a test credential, not a secret)
#   POSTGRES_START_TIMEOUT=60          seconds
# When run as root, initdb and pg_ctl run as the `postgres` user (created by the package), which
# owns the data directory; otherwise they run as the calling user. When `postgres` cannot reach
# .cache/infra (a folder above it is private), the data, socket and log go to
# /tmp/doge-postgres-<hash of this tree's path>/ instead.
# Logs: .cache/infra/logs/postgres-<port>.log
set -euo pipefail
INFRA_WHO=postgres
# shellcheck source=scripts/infra-lib.sh
source "$(dirname "$0")/infra-lib.sh"

port="${POSTGRES_PORT:-15432}"
password="${POSTGRES_TEST_PASSWORD:-doge-test}"
pidfile="$INFRA_RUN/postgres-$port.pid"
logfile="$INFRA_LOGS/postgres-$port.log"
sockdir="$INFRA_RUN/postgres-$port"
home="$INFRA_DIR"
url="postgresql://doge:$password@127.0.0.1:$port/doge"

usage() { infra_usage "$0"; }

# The data directory with symlinks resolved: the postmaster's command line names it, and a
# worktree whose .cache is a link must recognise the server another checkout started.
datadir() {
  local d="${POSTGRES_DATA:-$home/postgres-data-$port}"
  mkdir -p "$(dirname "$d")"
  printf '%s/%s\n' "$(cd "$(dirname "$d")" && pwd -P)" "$(basename "$d")"
}

bindir() {
  if [ -n "${POSTGRES_BIN:-}" ]; then
    printf '%s\n' "$POSTGRES_BIN"
    return 0
  fi
  local found
  found="$(printf '%s\n' /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)"
  [ -x "$found" ] || return 1
  dirname "$found"
}

fetch() {
  bindir >/dev/null && return 0
  [ "$(id -u)" = 0 ] || infra_die "PostgreSQL is not installed; run: sudo apt-get install postgresql"
  infra_log "installing Debian's postgresql package (server binaries only, no service started)"
  # policy-rc.d 101 keeps the package from starting its own cluster service.
  local policy=/usr/sbin/policy-rc.d created=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql \
    >"$INFRA_LOGS/postgres-apt.log" 2>&1 || {
    [ "$created" = 1 ] && rm -f "$policy"
    tail -n 20 "$INFRA_LOGS/postgres-apt.log" >&2
    infra_die "apt-get install postgresql failed"
  }
  [ "$created" = 1 ] && rm -f "$policy"
  bindir >/dev/null || infra_die "no initdb found after installing postgresql"
}

# As root the server runs as `postgres`, which must reach its data, socket and log: in this tree
# when every folder above it lets it through (the usual case), else in a private folder of /tmp.
server_paths() {
  [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1 || return 0
  if setpriv --reuid=postgres --regid=postgres --init-groups -- test -x "$INFRA_DIR" 2>/dev/null
  then
    return 0
  fi
  home="${TMPDIR:-/tmp}/doge-postgres-$(printf '%s' "$INFRA_ROOT" | md5sum | cut -c1-8)"
  mkdir -p "$home"
  chmod 755 "$home"
  logfile="$home/postgres-$port.log"
  sockdir="$home/run-$port"
}

# Run a command as the cluster's owner: `postgres` when we are root, ourselves otherwise.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"
  else
    "$@"
  fi
}

# Superuser SQL over the local socket (trust auth, socket directory readable by the owner only).
admin_sql() {
  as_owner "$(bindir)/psql" -X -q -tA -v ON_ERROR_STOP=1 -h "$sockdir" -p "$port" -U postgres \
    -d "${2:-postgres}" -c "$1"
}

initialise() {
  local data="$1" bin
  bin="$(bindir)"
  [ -f "$data/PG_VERSION" ] && return 0
  infra_log "initdb into ${data#"$INFRA_ROOT"/}"
  if [ "$home" != "$INFRA_DIR" ]; then infra_log "(user postgres cannot reach $INFRA_DIR)"; fi
  rm -rf "$data"
  mkdir -p "$data"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$data"; fi
  chmod 700 "$data"
  as_owner "$bin/initdb" -D "$data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >>"$logfile" 2>&1 || {
    tail -n 20 "$logfile" >&2
    infra_die "initdb failed; see $logfile"
  }
  # Loopback TCP only; small memory; room for the parallel test sessions and the worker's tasks.
  cat >>"$data/postgresql.conf" <<EOF
# Added by scripts/postgres.sh
listen_addresses = '127.0.0.1'
max_connections = 200
shared_buffers = 128MB
fsync = on
wal_level = logical
max_wal_senders = 4
max_replication_slots = 4
EOF
}

markers() { printf '%s\n' "$(bindir)/postgres" "-D $(datadir) "; }

alive() {
  local -a m
  mapfile -t m < <(markers)
  infra_pid_alive "$pidfile" "${m[@]}"
}

# The test role and database, created once (idempotent).
provision() {
  admin_sql "DO \$\$BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'doge') THEN
      CREATE ROLE doge LOGIN CREATEDB CREATEROLE;
    END IF;
    -- Tests drop their databases WITH (FORCE), which ends every session on them, an
    -- autovacuum worker's too: it runs as no role, so without pg_signal_backend the drop
    -- fails now and then ('must be a member of the role whose process is being terminated').
    IF NOT pg_has_role('doge', 'pg_signal_backend', 'MEMBER') THEN
      GRANT pg_signal_backend TO doge;
    END IF;
  END\$\$; ALTER ROLE doge PASSWORD '$password';" >/dev/null
  if [ -z "$(admin_sql "SELECT 1 FROM pg_database WHERE datname = 'doge'")" ]; then
    admin_sql "CREATE DATABASE doge OWNER doge" >/dev/null
  fi
}

ready() {
  "$(bindir)/pg_isready" -q -h 127.0.0.1 -p "$port" -t 1
}

start() {
  infra_dirs
  fetch
  server_paths
  local data bin
  data="$(datadir)"
  bin="$(bindir)"
  if alive; then
    printf '%s\n' "$data" >"$INFRA_RUN/postgres-$port.datadir"
    infra_log "already running (pid $(cat "$pidfile")), reusing it"
    ready || infra_die "running but not accepting connections on 127.0.0.1:$port"
    return 0
  fi
  if infra_port_busy "$port"; then
    infra_die "port $port is taken by a process this script did not start; set POSTGRES_PORT"
  fi
  initialise "$data"
  mkdir -p "$sockdir"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$sockdir" "$logfile" 2>/dev/null || true; fi
  chmod 700 "$sockdir"
  touch "$logfile"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$logfile"; fi
  # A postmaster.pid left by a crash is handled by the server itself (it checks the pid).
  as_owner "$bin/pg_ctl" -D "$data" -l "$logfile" -w -t "${POSTGRES_START_TIMEOUT:-60}" \
    -o "-p $port -k $sockdir" start >/dev/null || {
    tail -n 20 "$logfile" >&2
    infra_die "server did not start; see $logfile"
  }
  head -n 1 "$data/postmaster.pid" >"$pidfile"
  printf '%s\n' "$data" >"$INFRA_RUN/postgres-$port.datadir"
  provision
  infra_log "up: 127.0.0.1:$port (pid $(cat "$pidfile"), $("$bin/postgres" --version))"
}

# Fast shutdown (clients are disconnected, open transactions roll back) of the server on port $1,
# whose data directory `start` recorded next to its pid file.
stop_port() {
  local p="$1" pf="$INFRA_RUN/postgres-$1.pid" df="$INFRA_RUN/postgres-$1.datadir" data
  data="$(cat "$df" 2>/dev/null || true)"
  [ -n "$data" ] || data="$(datadir)"
  if infra_pid_alive "$pf" "$(bindir)/postgres" "-D $data "; then
    as_owner "$(bindir)/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
    infra_log "server on port $p stopped"
  fi
  rm -f "$pf" "$df"
  rmdir "$INFRA_RUN/postgres-$p" 2>/dev/null || true  # the socket directory
}

stop() {
  if [ "${1:-}" = --all ]; then
    local f p
    for f in "$INFRA_RUN"/postgres-*.pid; do
      [ -e "$f" ] || continue
      p="${f##*/postgres-}"
      stop_port "${p%.pid}"
    done
    return 0
  fi
  stop_port "$port"
}

status() {
  if ! alive; then
    infra_log "not running"
    return 1
  fi
  if ready; then
    infra_log "running (pid $(cat "$pidfile")) and accepting connections on 127.0.0.1:$port"
    return 0
  fi
  infra_log "running (pid $(cat "$pidfile")) but not accepting connections"
  return 1
}

server_paths
case "${1:-}" in
  fetch) infra_dirs; fetch ;;
  start) start ;;
  stop) stop "${2:-}" ;;
  status) status ;;
  running) alive ;;
  url) printf '%s\n' "$url" ;;
  *) usage ;;
esac
