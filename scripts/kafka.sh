#!/usr/bin/env bash
# Apache Kafka (KRaft, combined broker+controller) for development and tests, from Maven Central.
#
#   scripts/kafka.sh fetch                  download the jars (mvn) into .cache/infra/kafka-<ver>/libs
#   scripts/kafka.sh start [options]        format storage and start one node in the background
#   scripts/kafka.sh stop  [options|--all]  stop the node(s) whose pid files this script wrote
#   scripts/kafka.sh status [options]       exit 0 when the node is running and answers
#   scripts/kafka.sh running [options]      exit 0 when its process is alive (no network check)
#
# Options (each also an environment variable; defaults give the single test broker):
#   --node N              KAFKA_NODE_ID=1            node.id; names pid file, config and data dir
#   --port P              KAFKA_PORT=19092           client (PLAINTEXT) port on 127.0.0.1
#   --controller-port C   KAFKA_CONTROLLER_PORT=P+1  KRaft controller port on 127.0.0.1
#   --voters LIST         KAFKA_VOTERS=N@127.0.0.1:C controller.quorum.voters, same on every node
#   --replication R       KAFKA_REPLICATION=1        RF of internal topics and default RF;
#                                                    min.insync.replicas = 2 when R >= 3, else 1
#   --data-dir D          KAFKA_DATA_DIR=.cache/infra/kafka-node<N>/data
#   --cluster-id ID       KAFKA_CLUSTER_ID=(fixed)   same on every node of one cluster
#   --keep-data           KAFKA_KEEP_DATA=1          reuse the data dir (default: wipe on start)
# Other environment: KAFKA_VERSION=4.1.1, KAFKA_HEAP_OPTS="-Xms256m -Xmx1g",
#   KAFKA_START_TIMEOUT=90 (seconds), KAFKA_EXTRA_PROPS (extra server.properties lines),
#   JAVA_HOME (any Java >= 17), MAVEN_REPO_LOCAL (Maven's local repository, default ~/.m2).
#
# A 3-node cluster, later: start each node with the same voters and cluster id, e.g.
#   V=1@127.0.0.1:19093,2@127.0.0.1:19095,3@127.0.0.1:19097
#   for n in 1 2 3; do scripts/kafka.sh start --node $n --port $((19090 + 2*n)) \
#     --controller-port $((19091 + 2*n)) --voters $V --replication 3 --no-wait & done; wait
#   (--no-wait skips the readiness wait: one node alone has no quorum; then wait with
#   `.venv/bin/python scripts/infra_probe.py kafka 127.0.0.1:19092 --brokers 3`; stop them all
#   with `scripts/kafka.sh stop --all`, which stops the nodes together.)
#
# Logs: .cache/infra/logs/kafka-node<N>.log (log4j2) and kafka-node<N>.out (JVM stdout/stderr).
set -euo pipefail
INFRA_WHO=kafka
# shellcheck source=scripts/infra-lib.sh
source "$(dirname "$0")/infra-lib.sh"

KAFKA_VERSION="${KAFKA_VERSION:-4.1.1}"
KAFKA_LIBS="$INFRA_DIR/kafka-$KAFKA_VERSION/libs"
KAFKA_MAIN=kafka.Kafka

node="${KAFKA_NODE_ID:-1}"
port="${KAFKA_PORT:-19092}"
cport="${KAFKA_CONTROLLER_PORT:-}"
voters="${KAFKA_VOTERS:-}"
replication="${KAFKA_REPLICATION:-1}"
data_dir="${KAFKA_DATA_DIR:-}"
# 16 random bytes, base64url: any value works as long as every node of a cluster shares it.
cluster_id="${KAFKA_CLUSTER_ID:-ZG9nZS1jb25uZWN0LXRzdA}"
keep_data="${KAFKA_KEEP_DATA:-0}"
wait_ready=1
all=0

usage() { infra_usage "$0"; }

cmd="${1:-}"
[ -n "$cmd" ] || usage
shift
while [ $# -gt 0 ]; do
  case "$1" in
    --node) node="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --controller-port) cport="$2"; shift 2 ;;
    --voters) voters="$2"; shift 2 ;;
    --replication) replication="$2"; shift 2 ;;
    --data-dir) data_dir="$2"; shift 2 ;;
    --cluster-id) cluster_id="$2"; shift 2 ;;
    --keep-data) keep_data=1; shift ;;
    --no-wait) wait_ready=0; shift ;;
    --all) all=1; shift ;;
    -h|--help) usage ;;
    *) infra_die "unknown option: $1 (try --help)" ;;
  esac
done
[[ "$node" =~ ^[0-9]+$ ]] || infra_die "--node must be a number, got '$node'"
cport="${cport:-$((port + 1))}"
voters="${voters:-$node@127.0.0.1:$cport}"
node_dir="$INFRA_DIR/kafka-node$node"
data_dir="${data_dir:-$node_dir/data}"
props="$node_dir/server.properties"
pidfile="$INFRA_RUN/kafka-node$node.pid"
outfile="$INFRA_LOGS/kafka-node$node.out"
# Marker for infra_pid_alive: our main class plus this node's own config path.
marker="$props"

java_bin() { infra_find_java 17 || infra_die "Kafka $KAFKA_VERSION needs Java >= 17; none found"; }

fetch() {
  infra_dirs
  local stamp="$KAFKA_LIBS/.complete"
  [ -f "$stamp" ] && return 0
  infra_log "fetching Kafka $KAFKA_VERSION jars with Maven into ${KAFKA_LIBS#"$INFRA_ROOT"/}"
  rm -rf "$KAFKA_LIBS"
  infra_mvn -f "$INFRA_SCRIPTS/kafka/pom.xml" "-Dkafka.version=$KAFKA_VERSION" \
    "-Dlibs.dir=$KAFKA_LIBS" dependency:copy-dependencies
  ls "$KAFKA_LIBS"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null
  touch "$stamp"
  infra_log "fetched in ${SECONDS}s"
}

write_props() {
  local min_isr=1
  if [ "$replication" -ge 3 ]; then min_isr=2; fi
  mkdir -p "$node_dir"
  cat >"$props" <<EOF
# Written by scripts/kafka.sh; edit the script, not this file.
process.roles=broker,controller
node.id=$node
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$data_dir
auto.create.topics.enable=true
num.partitions=1
default.replication.factor=$replication
min.insync.replicas=$min_isr
offsets.topic.replication.factor=$replication
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=$replication
transaction.state.log.min.isr=$min_isr
transaction.state.log.num.partitions=10
group.initial.rebalance.delay.ms=0
# Transactions: clients may ask for up to 15 min; hanging ones are aborted within ~1 s of their
# own transaction.timeout.ms, so tests with short client timeouts see aborts quickly.
transaction.max.timeout.ms=900000
transaction.abort.timed.out.transaction.cleanup.interval.ms=1000
transaction.remove.expired.transaction.cleanup.interval.ms=60000
share.coordinator.state.topic.replication.factor=$replication
share.coordinator.state.topic.min.isr=$min_isr
log.retention.hours=24
log.segment.bytes=268435456
num.network.threads=2
num.io.threads=4
${KAFKA_EXTRA_PROPS:-}
EOF
}

java_props() {
  printf '%s\n' "-Dkafka.logs.dir=$INFRA_LOGS" "-Dkafka.node.id=$node" \
    "-Dlog4j2.configurationFile=$INFRA_SCRIPTS/kafka/log4j2.properties"
}

# KRaft storage: formatted once into a template (kafka-storage format costs a JVM start), then
# copied to a fresh data dir on every start unless --keep-data.
format_storage() {
  local java="$1" tpl="$node_dir/format-template"
  local key="$KAFKA_VERSION $cluster_id $node $voters"
  if [ "$keep_data" = 1 ] && [ -f "$data_dir/meta.properties" ]; then return 0; fi
  if [ ! -f "$tpl/meta.properties" ] || [ "$(cat "$node_dir/format-template.key" 2>/dev/null)" != "$key" ]; then
    rm -rf "$tpl"
    mkdir -p "$tpl"
    sed "s|^log.dirs=.*|log.dirs=$tpl|" "$props" >"$node_dir/format.properties"
    local -a jprops
    mapfile -t jprops < <(java_props)
    "$java" -Xmx256m -XX:TieredStopAtLevel=1 "${jprops[@]}" -cp "$KAFKA_LIBS/*" \
      kafka.tools.StorageTool format -t "$cluster_id" -c "$node_dir/format.properties" \
      >>"$outfile" 2>&1 || { tail -n 20 "$outfile" >&2; infra_die "formatting KRaft storage failed"; }
    printf '%s\n' "$key" >"$node_dir/format-template.key"
  fi
  rm -rf "$data_dir"
  mkdir -p "$(dirname "$data_dir")"
  cp -a "$tpl" "$data_dir"
}

# Wait until the node answers; when it never does, stop it if this run launched it ($1).
wait_until_ready() {
  local launched="${1:-0}" rc=0
  infra_probe kafka "127.0.0.1:$port" --timeout "${KAFKA_START_TIMEOUT:-90}" \
    --pid-file "$pidfile" || rc=$?
  [ "$rc" = 0 ] && return 0
  tail -n 30 "$outfile" >&2
  if [ "$launched" = 1 ]; then infra_stop_pid "$pidfile" 10 "$marker"; fi
  if [ "$rc" = 3 ]; then infra_die "node $node exited during startup; see $outfile"; fi
  infra_die "node $node did not answer on port $port in time; see $outfile"
}

start() {
  infra_dirs
  if infra_pid_alive "$pidfile" "$marker"; then
    if ! grep -qF "listeners=PLAINTEXT://127.0.0.1:$port," "$props"; then
      infra_die "node $node is already running with other ports ($props); stop it first"
    fi
    infra_log "node $node already running (pid $(cat "$pidfile")), reusing it"
    if [ "$wait_ready" = 1 ]; then wait_until_ready 0; fi
    return 0
  fi
  if infra_port_busy "$port"; then
    infra_die "port $port is taken by a process this script did not start; set KAFKA_PORT"
  fi
  if infra_port_busy "$cport"; then
    infra_die "controller port $cport is taken; set KAFKA_CONTROLLER_PORT"
  fi
  fetch
  local java
  java="$(java_bin)"
  write_props
  : >"$outfile"
  format_storage "$java"
  local -a jprops
  mapfile -t jprops < <(java_props)
  local -a heap cds
  read -r -a heap <<<"${KAFKA_HEAP_OPTS:--Xms256m -Xmx1g}"
  mapfile -t cds < <(infra_cds_opts "$java" "$KAFKA_LIBS")
  infra_launch "$pidfile" "$outfile" "$java" "${heap[@]}" "${cds[@]}" -server -XX:+UseG1GC \
    -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true "${jprops[@]}" \
    -cp "$KAFKA_LIBS/*" "$KAFKA_MAIN" "$props"
  local state="started (not waiting for it)"
  if [ "$wait_ready" = 1 ]; then
    wait_until_ready 1
    state=up
  fi
  infra_log "node $node $state: bootstrap 127.0.0.1:$port (pid $(cat "$pidfile"), Kafka $KAFKA_VERSION)"
}

stop() {
  if [ "$all" = 1 ]; then
    # All nodes at once: stopped one by one, the last ones would lose their controller quorum
    # and hang in controlled shutdown until killed.
    local f n
    for f in "$INFRA_RUN"/kafka-node*.pid; do
      [ -e "$f" ] || continue
      n="${f##*/kafka-node}"
      n="${n%.pid}"
      (infra_stop_pid "$f" 30 "$INFRA_DIR/kafka-node$n/server.properties" &&
        infra_log "node $n stopped") &
    done
    wait
    return 0
  fi
  infra_stop_pid "$pidfile" 30 "$marker"
  infra_log "node $node stopped"
}

status() {
  if ! infra_pid_alive "$pidfile" "$marker"; then
    infra_log "node $node not running"
    return 1
  fi
  if infra_probe kafka "127.0.0.1:$port" --timeout 5 --pid-file "$pidfile"; then
    infra_log "node $node running (pid $(cat "$pidfile")) and answering on 127.0.0.1:$port"
    return 0
  fi
  infra_log "node $node running (pid $(cat "$pidfile")) but not answering on port $port"
  return 1
}

case "$cmd" in
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  running) infra_pid_alive "$pidfile" "$marker" ;;
  *) usage ;;
esac
