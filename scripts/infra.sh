#!/usr/bin/env bash
# The local test infrastructure: one real Apache Kafka broker (scripts/kafka.sh) and one real
# Confluent-compatible Schema Registry (scripts/registry.sh), both downloaded from Maven Central,
# and one real PostgreSQL server (scripts/postgres.sh, Debian's package).
#
#   scripts/infra.sh up       fetch what is missing, start all three (reusing running ones), wait
#                             until they answer, write .cache/infra/env
#   scripts/infra.sh down     stop every broker node, registry and PostgreSQL server these scripts
#                             started in this tree (by their pid files only)
#   scripts/infra.sh status   exit 0 only when all three are running and answering
#   scripts/infra.sh fetch    only download (e.g. to warm a cache)
#
# .cache/infra/env holds shell lines for `source`:
#   DOGE_TEST_BOOTSTRAP=127.0.0.1:19092
#   DOGE_TEST_REGISTRY=http://127.0.0.1:18081/apis/ccompat/v7
#   DOGE_TEST_POSTGRES=postgresql://doge:doge-test@127.0.0.1:15432/doge
# Ports: KAFKA_PORT (19092), KAFKA_CONTROLLER_PORT (19093), REGISTRY_PORT (18081), POSTGRES_PORT
# (15432); see the headers of kafka.sh, registry.sh and postgres.sh for every other knob.
# Logs: .cache/infra/logs/.
set -euo pipefail
INFRA_WHO=infra
# shellcheck source=scripts/infra-lib.sh
source "$(dirname "$0")/infra-lib.sh"

kafka_port="${KAFKA_PORT:-19092}"
env_file="$INFRA_DIR/env"
K="$INFRA_SCRIPTS/kafka.sh"
R="$INFRA_SCRIPTS/registry.sh"
P="$INFRA_SCRIPTS/postgres.sh"

write_env() {
  local tmp="$env_file.tmp"
  {
    echo "# Written by scripts/infra.sh up; removed by scripts/infra.sh down."
    echo "DOGE_TEST_BOOTSTRAP=127.0.0.1:$kafka_port"
    echo "DOGE_TEST_REGISTRY=$("$R" url)"
    echo "DOGE_TEST_POSTGRES=$("$P" url)"
  } >"$tmp"
  mv "$tmp" "$env_file"
}

up() {
  infra_dirs
  local t0=$SECONDS
  # Concurrent `up`s (two test runs in one tree) take turns; the later one reuses the servers.
  # The children run with fd 9 closed, so the servers they start never inherit (and hold) the lock.
  exec 9>"$INFRA_RUN/up.lock"
  flock -w 900 9 || infra_die "timed out waiting for another scripts/infra.sh up"
  # Downloads one after the other (they share Maven's local repository), then both JVMs start
  # in parallel: the broker and the registry each take a few seconds to boot.
  "$K" fetch 9>&-
  "$R" fetch 9>&-
  "$P" fetch 9>&-
  local k_before=0 r_before=0 p_before=0 kpid rpid ppid krc=0 rrc=0 prc=0
  if "$K" running; then k_before=1; fi
  if "$R" running; then r_before=1; fi
  if "$P" running; then p_before=1; fi
  "$K" start 9>&- &
  kpid=$!
  "$R" start 9>&- &
  rpid=$!
  "$P" start 9>&- &
  ppid=$!
  wait "$kpid" || krc=$?
  wait "$rpid" || rrc=$?
  wait "$ppid" || prc=$?
  if [ "$krc" != 0 ] || [ "$rrc" != 0 ] || [ "$prc" != 0 ]; then
    # Leave things as they were: stop what this call started, keep what was already running.
    if [ "$k_before" = 0 ]; then "$K" stop 9>&- || true; fi
    if [ "$r_before" = 0 ]; then "$R" stop 9>&- || true; fi
    if [ "$p_before" = 0 ]; then "$P" stop 9>&- || true; fi
    infra_die "startup failed (kafka rc=$krc, registry rc=$rrc, postgres rc=$prc); logs in ${INFRA_LOGS#"$INFRA_ROOT"/}"
  fi
  write_env
  infra_log "up in $((SECONDS - t0))s; env in ${env_file#"$INFRA_ROOT"/}:"
  grep -v '^#' "$env_file" >&2
}

down() {
  local rc=0
  "$P" stop --all || rc=1
  "$R" stop --all || rc=1
  "$K" stop --all || rc=1
  rm -f "$env_file"
  return "$rc"
}

status() {
  local rc=0
  "$K" status || rc=1
  "$R" status || rc=1
  "$P" status || rc=1
  return "$rc"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  fetch) infra_dirs; "$K" fetch; "$R" fetch; "$P" fetch ;;
  *) infra_usage "$0" ;;
esac
