#!/usr/bin/env bash
# A real Confluent-compatible Schema Registry for development and tests: Apicurio Registry 3.x from
# Maven Central (io.apicurio:apicurio-registry-app:<ver>:tar.gz:all), in-memory storage, used
# through its Confluent-compatible API at http://127.0.0.1:<port>/apis/ccompat/v7.
#
#   scripts/registry.sh fetch     download and unpack into .cache/infra/apicurio-<version>/
#   scripts/registry.sh start     start it in the background (pid file), wait for the ccompat API
#   scripts/registry.sh stop [--all]  stop the registry on REGISTRY_PORT (--all: on any port)
#                                 whose pid file this script wrote
#   scripts/registry.sh status    exit 0 when it is running and answers
#   scripts/registry.sh running   exit 0 when its process is alive (no network check)
#   scripts/registry.sh url       print the ccompat base URL
#
# Environment:
#   REGISTRY_PORT=18081             HTTP port on 127.0.0.1
#   REGISTRY_MGMT_PORT=PORT+1000    Quarkus management interface (health, metrics) on 127.0.0.1
#   REGISTRY_VERSION                3.3.3 when a Java >= 21 is found, else 3.0.9 (runs on Java 17)
#   REGISTRY_COMPATIBILITY=BACKWARD global compatibility rule (Confluent's default; Apicurio's own
#                                   default is none, i.e. NONE), NONE to switch it off
#   REGISTRY_HEAP_OPTS="-Xms128m -Xmx512m", REGISTRY_START_TIMEOUT=90 (seconds)
#   REGISTRY_JAVA                   java binary to use (default: searched, see infra-lib.sh)
#   MAVEN_REPO_LOCAL                Maven's local repository (default ~/.m2/repository)
#
# Differences from Confluent's Schema Registry (checked against 3.3.3 with these settings):
#   - ids: contentId mode (apicurio.ccompat.legacy-id-mode.enabled=false, the default). The id in
#     the wire format is a content id and resolves through GET /schemas/ids/{id}, so Confluent
#     serializers/deserializers interoperate. But ids are not always contiguous (some numbers are
#     skipped), and the same schema written differently (whitespace, key order) in another
#     subject gets a new id, where Confluent reuses one id per normalised schema; the exact same
#     text does share one id across subjects, and re-registering in the same subject (any
#     spelling) returns the existing id, as Confluent does.
#   - compatibility: Apicurio's own default is no rule (NONE); this script sets the global rule
#     to BACKWARD, Confluent's default. GET /config/{subject} of a subject without its own level
#     answers the global level (Confluent: 40408 unless ?defaultToGlobal=true). 3.0.x enforces
#     the rule but reports NONE from GET /config and GET /config/{subject}.
#   - error codes as Confluent: 409 for an incompatible schema, 40401 unknown subject, 40402
#     unknown version, 40403 unknown schema id, 42201 (HTTP 422) for an invalid schema; messages
#     differ (Apicurio's name its Java exception).
#   - storage is in memory: schemas vanish on restart (ids start again at 1).
# Logs: .cache/infra/logs/registry-<port>.out
set -euo pipefail
INFRA_WHO=registry
# shellcheck source=scripts/infra-lib.sh
source "$(dirname "$0")/infra-lib.sh"

port="${REGISTRY_PORT:-18081}"
mgmt_port="${REGISTRY_MGMT_PORT:-$((port + 1000))}"
compatibility="${REGISTRY_COMPATIBILITY:-BACKWARD}"
pidfile="$INFRA_RUN/registry-$port.pid"
# Both in the java command line (the -jar path and the port): guard against pid reuse and against
# reusing a registry of this tree that listens elsewhere.
markers=("$INFRA_DIR/apicurio-" "-Dquarkus.http.port=$port ")
outfile="$INFRA_LOGS/registry-$port.out"
url="http://127.0.0.1:$port/apis/ccompat/v7"

usage() { infra_usage "$0"; }

# Choose the version and the java to run it with (Apicurio 3.1+ is built for Java 21).
pick() {
  if [ -n "${REGISTRY_JAVA:-}" ]; then
    java="$REGISTRY_JAVA"
    if [ -z "${REGISTRY_VERSION:-}" ]; then
      if [ "$(infra_java_major "$java")" -ge 21 ]; then version=3.3.3; else version=3.0.9; fi
    else
      version="$REGISTRY_VERSION"
    fi
  elif [ -n "${REGISTRY_VERSION:-}" ]; then
    version="$REGISTRY_VERSION"
    case "$version" in
      3.0.*) java="$(infra_find_java 17)" || infra_die "Apicurio $version needs Java >= 17" ;;
      *) java="$(infra_find_java 21)" || infra_die "Apicurio $version needs Java >= 21" ;;
    esac
  elif java="$(infra_find_java 21)"; then
    version=3.3.3
  else
    java="$(infra_find_java 17)" || infra_die "Apicurio Registry needs Java >= 17; none found"
    version=3.0.9
    infra_log "no Java >= 21 found: using Apicurio Registry $version on $java"
  fi
  home="$INFRA_DIR/apicurio-$version"
}

# The launcher differs between releases: 3.0.x is a legacy runner jar, 3.1+ a fast-jar.
runner() {
  if [ -f "$home/quarkus-run.jar" ]; then
    printf '%s\n' "$home/quarkus-run.jar"
  else
    compgen -G "$home/apicurio-registry-app-*-runner.jar" | head -n 1
  fi
}

fetch() {
  infra_dirs
  pick
  [ -f "$home/.complete" ] && return 0
  infra_log "fetching Apicurio Registry $version with Maven into ${home#"$INFRA_ROOT"/}"
  local dl="$INFRA_DIR/downloads"
  rm -rf "$home" "$dl"
  mkdir -p "$home" "$dl"
  # No project needed: run Maven from an empty directory (.cache/infra/downloads). dependency:get
  # 2.8 (Maven 3.8's default) with -Ddest, because the 3.x plugin's get/copy read the artifact's
  # parent POM, which Apicurio did not publish to Maven Central for 3.0.x.
  (cd "$dl" && infra_mvn org.apache.maven.plugins:maven-dependency-plugin:2.8:get \
    "-Dartifact=io.apicurio:apicurio-registry-app:$version:tar.gz:all" -Dtransitive=false \
    "-Ddest=$dl/")
  tar -xzf "$dl/apicurio-registry-app-$version-all.tar.gz" -C "$home"
  rm -rf "$dl"
  [ -n "$(runner)" ] || infra_die "no runner jar in $home after unpacking"
  touch "$home/.complete"
  infra_log "fetched in ${SECONDS}s"
}

# Wait for the ccompat API; when it never answers, stop the process if this run launched it ($1).
wait_until_ready() {
  local launched="${1:-0}" rc=0
  infra_probe http "$url/subjects" --timeout "${REGISTRY_START_TIMEOUT:-90}" \
    --pid-file "$pidfile" || rc=$?
  [ "$rc" = 0 ] && return 0
  tail -n 30 "$outfile" >&2
  if [ "$launched" = 1 ]; then infra_stop_pid "$pidfile" 5 "${markers[@]}"; fi
  if [ "$rc" = 3 ]; then infra_die "registry exited during startup; see $outfile"; fi
  infra_die "registry did not answer on $url in time; see $outfile"
}

start() {
  infra_dirs
  if infra_pid_alive "$pidfile" "${markers[@]}"; then
    infra_log "already running (pid $(cat "$pidfile")), reusing it"
    wait_until_ready 0
    return 0
  fi
  if infra_port_busy "$port"; then
    infra_die "port $port is taken by a process this script did not start; set REGISTRY_PORT"
  fi
  fetch
  local jar
  jar="$(runner)"
  local -a heap cds opts
  read -r -a heap <<<"${REGISTRY_HEAP_OPTS:--Xms128m -Xmx512m}"
  mapfile -t cds < <(infra_cds_opts "$java" "$home")
  opts=(
    # Light load only: C1 and the serial GC halve the CPU the boot costs on 2 cores.
    -XX:TieredStopAtLevel=1 -XX:+UseSerialGC
    -Dquarkus.http.host=127.0.0.1 "-Dquarkus.http.port=$port"
    -Dquarkus.management.host=127.0.0.1 "-Dquarkus.management.port=$mgmt_port"
    # The wire-format id is the content id, resolvable at /schemas/ids/{id} (Confluent style).
    -Dapicurio.ccompat.legacy-id-mode.enabled=false
    -Dapicurio.ccompat.use-canonical-hash=true
    -Dquarkus.http.access-log.enabled=false
    -Dquarkus.otel.sdk.disabled=true
    "-Dapicurio.storage.snapshot.location=$INFRA_DIR"
  )
  if [ "$compatibility" != NONE ]; then
    opts+=("-Dapicurio.rules.global.compatibility=$compatibility")
  fi
  : >"$outfile"
  # Run from its own directory: the app resolves nothing relative to the caller's cwd.
  (cd "$home" && infra_launch "$pidfile" "$outfile" "$java" "${heap[@]}" \
    "${cds[@]}" -Djava.awt.headless=true "${opts[@]}" -jar "$jar")
  wait_until_ready 1
  infra_log "up: $url (pid $(cat "$pidfile"), Apicurio Registry $version, $("$java" -version 2>&1 | head -n 1))"
}

stop() {
  if [ "${1:-}" = --all ]; then
    local f p
    for f in "$INFRA_RUN"/registry-*.pid; do
      [ -e "$f" ] || continue
      p="${f##*/registry-}"
      p="${p%.pid}"
      infra_stop_pid "$f" 20 "$INFRA_DIR/apicurio-" "-Dquarkus.http.port=$p "
      infra_log "registry on port $p stopped"
    done
    return 0
  fi
  infra_stop_pid "$pidfile" 20 "${markers[@]}"
  infra_log "stopped"
}

status() {
  if ! infra_pid_alive "$pidfile" "${markers[@]}"; then
    infra_log "not running"
    return 1
  fi
  if infra_probe http "$url/subjects" --timeout 5 --pid-file "$pidfile"; then
    infra_log "running (pid $(cat "$pidfile")) and answering on $url"
    return 0
  fi
  infra_log "running (pid $(cat "$pidfile")) but not answering on $url"
  return 1
}

case "${1:-}" in
  fetch) fetch ;;
  start) start ;;
  stop) stop "${2:-}" ;;
  status) status ;;
  running) infra_pid_alive "$pidfile" "${markers[@]}" ;;
  url) printf '%s\n' "$url" ;;
  *) usage ;;
esac
