# shellcheck shell=bash
# Helpers shared by scripts/kafka.sh, scripts/registry.sh and scripts/infra.sh (sourced, not run).
#
# Layout, all under the repo's .cache/ (git-ignored; a fresh clone downloads again, Maven's own
# repository ~/.m2 keeps the artifacts between clones):
#   .cache/infra/kafka-<version>/libs/   Kafka jars (mvn dependency:copy-dependencies)
#   .cache/infra/apicurio-<version>/     unpacked Apicurio Registry (mvn dependency:copy + tar)
#   .cache/infra/kafka-node<N>/          server.properties and KRaft data of broker node N
#   .cache/infra/run/*.pid               pid files of the processes these scripts started
#   .cache/infra/logs/                   every log (Kafka's log4j2 file, JVM stdout/stderr)
#   .cache/infra/env                     DOGE_TEST_BOOTSTRAP / DOGE_TEST_REGISTRY for tests

INFRA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
INFRA_DIR="$INFRA_ROOT/.cache/infra"
INFRA_LOGS="$INFRA_DIR/logs"
INFRA_RUN="$INFRA_DIR/run"
INFRA_SCRIPTS="$INFRA_ROOT/scripts"

infra_log() { printf '[%s] %s\n' "${INFRA_WHO:-infra}" "$*" >&2; }
infra_die() { infra_log "ERROR: $*"; exit 1; }

# Print the header comment of script $1 (its usage) and exit 2.
infra_usage() {
  awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$1" >&2
  exit 2
}

infra_dirs() { mkdir -p "$INFRA_DIR" "$INFRA_LOGS" "$INFRA_RUN"; }

# Python for the readiness probes: the project's venv (has confluent_kafka) or the system one.
infra_python() {
  if [ -x "$INFRA_ROOT/.venv/bin/python" ]; then
    printf '%s\n' "$INFRA_ROOT/.venv/bin/python"
  else
    command -v python3 || infra_die "no python3 found for the readiness probe"
  fi
}

infra_probe() { "$(infra_python)" "$INFRA_SCRIPTS/infra_probe.py" "$@"; }

# Major version of a java binary (17, 21, 25, ...).
infra_java_major() {
  "$1" -XshowSettings:properties -version 2>&1 |
    sed -n 's/^ *java\.specification\.version = \([0-9][0-9]*\).*/\1/p' | head -n 1
}

# Print the path of a java binary whose major version is at least $1, preferring $JAVA_HOME, then
# the java on PATH, then the JDKs under /usr/lib/jvm (newest first). Exit 1 when none is found.
infra_find_java() {
  local min="$1" cand major
  local -a cands=()
  if [ -n "${JAVA_HOME:-}" ]; then cands+=("$JAVA_HOME/bin/java"); fi
  if command -v java >/dev/null 2>&1; then cands+=("$(command -v java)"); fi
  local -a jvms=()
  mapfile -t jvms < <(printf '%s\n' /usr/lib/jvm/*/bin/java | sort -rV)
  cands+=("${jvms[@]}")
  for cand in "${cands[@]}"; do
    [ -x "$cand" ] || continue
    major="$(infra_java_major "$cand")"
    if [ -n "$major" ] && [ "$major" -ge "$min" ]; then
      printf '%s\n' "$cand"
      return 0
    fi
  done
  return 1
}

# JVM options for a class-data-sharing archive in directory $2 for java $1: the first run writes
# it (at exit), later runs map it and boot in about half the time. A stale or foreign archive is
# only warned about by the JVM, never fatal. JDK 19+ manages it with -XX:+AutoCreateSharedArchive.
infra_cds_opts() {
  local java="$1" dir="$2" major jdk archive
  major="$(infra_java_major "$java")"
  jdk="$(basename "$(dirname "$(dirname "$(readlink -f "$java")")")")"
  archive="$dir/cds-$jdk.jsa"
  if [ "${INFRA_CDS:-1}" != 1 ] || [ -z "$major" ]; then
    return 0
  elif [ "$major" -ge 19 ]; then
    printf '%s\n' -XX:+AutoCreateSharedArchive "-XX:SharedArchiveFile=$archive"
  elif [ -f "$archive" ]; then
    printf '%s\n' "-XX:SharedArchiveFile=$archive"
  else
    printf '%s\n' "-XX:ArchiveClassesAtExit=$archive"
  fi
}

# Maven in batch mode, its output in .cache/infra/logs/maven.log (shown when it fails);
# MAVEN_REPO_LOCAL overrides ~/.m2/repository.
infra_mvn() {
  command -v mvn >/dev/null 2>&1 || infra_die "mvn not found (Maven 3.8+ is needed to fetch jars)"
  local -a args=(-B --no-transfer-progress -Dstyle.color=never)
  if [ -n "${MAVEN_REPO_LOCAL:-}" ]; then args+=("-Dmaven.repo.local=$MAVEN_REPO_LOCAL"); fi
  local log="$INFRA_LOGS/maven.log"
  mkdir -p "$INFRA_LOGS"
  printf '\n$ mvn %s\n' "${args[*]} $*" >>"$log"
  if ! mvn "${args[@]}" "$@" >>"$log" 2>&1; then
    grep -E '^\[(ERROR|WARNING)\]' "$log" | tail -n 20 >&2 || true
    infra_die "Maven failed; full output in $log"
  fi
}

# True when process $1 exists and is not a zombie.
infra_proc_running() {
  local state
  state="$(sed -n 's/^[0-9]* (.*) \([A-Za-z]\) .*/\1/p' "/proc/$1/stat" 2>/dev/null || true)"
  [ -n "$state" ] && [ "$state" != Z ]
}

# True when pid file $1 names a live process whose command line (arguments joined by spaces,
# with a trailing space) contains every marker in "$@" (guards against pid reuse).
infra_pid_alive() {
  local pidfile="$1" pid cmdline marker
  shift
  [ -f "$pidfile" ] || return 1
  pid="$(cat "$pidfile" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  infra_proc_running "$pid" || return 1
  cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
  for marker in "$@"; do
    [[ "$cmdline" == *"$marker"* ]] || return 1
  done
}

# True when something accepts TCP connections on 127.0.0.1:$1.
infra_port_busy() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Start "$@" detached in its own session, stdout+stderr to $2, and write its pid to $1.
infra_launch() {
  local pidfile="$1" logfile="$2"
  shift 2
  rm -f "$pidfile"
  # The inner shell writes its own pid and then execs the command, so the pid file always names
  # the real server process (setsid may or may not fork, depending on the caller's job control).
  # shellcheck disable=SC2016
  # fd 9 is closed as well: it is infra.sh's lock, which a server must never hold.
  setsid bash -c 'echo "$$" >"$1"; shift; exec "$@"' infra-launch "$pidfile" "$@" \
    </dev/null >>"$logfile" 2>&1 9>&- &
  for _ in $(seq 1 50); do
    [ -s "$pidfile" ] && return 0
    sleep 0.1
  done
  infra_die "process did not start (see $logfile)"
}

# Stop the process of pid file $1 with SIGTERM, SIGKILL after $2 seconds, and wait for it; the
# markers "${@:3}" are checked as in infra_pid_alive.
infra_stop_pid() {
  local pidfile="$1" grace="$2" pid
  shift 2
  if ! infra_pid_alive "$pidfile" "$@"; then
    rm -f "$pidfile"
    return 0
  fi
  pid="$(cat "$pidfile")"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 $((grace * 10))); do
    infra_proc_running "$pid" || break
    sleep 0.1
  done
  if infra_proc_running "$pid"; then
    infra_log "pid $pid still alive after ${grace}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      infra_proc_running "$pid" || break
      sleep 0.1
    done
  fi
  rm -f "$pidfile"
}
