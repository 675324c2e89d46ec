#!/bin/bash
# Starts the broker from the environment, as the upstream apache/kafka image does:
#   1. server.properties from the KAFKA_* variables (a single-node default when none is set)
#   2. on first start, the log directories formatted with CLUSTER_ID (a random id when unset)
#   3. exec kafka-server-start.sh, so the JVM is PID 1 and gets SIGTERM for a controlled shutdown
# Any other command runs as it is (`docker run IMAGE kafka-topics.sh --list ...`).
set -euo pipefail

if [ $# -ne 1 ] || [ "$(basename "$1")" != kafka-server-start.sh ]; then
  exec "$@"
fi

config_dir=/opt/kafka/config
[ -w "$config_dir" ] || config_dir="${TMPDIR:-/tmp}"
config="$config_dir/server.properties"

# Variables that configure the JVM or the scripts, not the broker.
not_broker_setting() {
  case "$1" in
    KAFKA_HEAP_OPTS | KAFKA_OPTS | KAFKA_JVM_PERFORMANCE_OPTS | KAFKA_GC_LOG_OPTS | KAFKA_LOG4J_OPTS | \
      KAFKA_JMX_OPTS | KAFKA_JMX_PORT | KAFKA_JMX_HOSTNAME | KAFKA_DEBUG | KAFKA_HOME | KAFKA_VERSION | \
      KAFKA_LOG4J_ROOT_LOGLEVEL | KAFKA_LOG4J_LOGGERS | KAFKA_TOOLS_LOG4J_LOGLEVEL) return 0 ;;
    # Kubernetes service links of a Service called `kafka` (the operator turns them off).
    KAFKA_PORT | KAFKA_PORT_* | KAFKA_SERVICE_*) return 0 ;;
  esac
  return 1
}

# KAFKA_LOG_DIRS -> log.dirs; `__` keeps an underscore, `___` makes a dash.
property_name() {
  local key="${1#KAFKA_}"
  key="${key,,}"
  key="${key//___/-}"
  key="${key//__/$'\x01'}"
  key="${key//_/.}"
  printf '%s' "${key//$'\x01'/_}"
}

write_config() {
  local tmp="$config.tmp" name value found=0 log_dirs=0
  : >"$tmp"
  while read -r name; do
    [[ "$name" == KAFKA_?* ]] || continue
    not_broker_setting "$name" && continue
    value="${!name}"
    # Escape what java.util.Properties would otherwise interpret.
    value="${value//\\/\\\\}"
    value="${value//$'\n'/\\n}"
    printf '%s=%s\n' "$(property_name "$name")" "$value" >>"$tmp"
    found=1
    [[ "$name" == KAFKA_LOG_DIRS || "$name" == KAFKA_LOG_DIR ]] && log_dirs=1
  done < <(compgen -e | LC_ALL=C sort)
  if [ "$found" = 0 ]; then
    echo "no KAFKA_* settings: a single-node KRaft broker on localhost:9092" >&2
    cat >>"$tmp" <<'PROPS'
process.roles=broker,controller
node.id=1
listeners=PLAINTEXT://:9092,CONTROLLER://:9093
advertised.listeners=PLAINTEXT://localhost:9092
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
controller.quorum.voters=1@localhost:9093
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
PROPS
  fi
  [ "$log_dirs" = 1 ] || echo "log.dirs=/var/lib/kafka/data" >>"$tmp"
  mv "$tmp" "$config"
}

# Formats the log directories once: a directory with meta.properties is left alone.
format_storage() {
  local dirs dir unformatted=0
  dirs="$(sed -n -e 's/^log\.dirs=//p' -e 's/^log\.dir=//p' -e 's/^metadata\.log\.dir=//p' "$config" | tr ',\n' '  ')"
  for dir in $dirs; do
    [ -f "$dir/meta.properties" ] || unformatted=1
  done
  [ "$unformatted" = 1 ] || return 0
  local id="${CLUSTER_ID:-}"
  if [ -z "$id" ]; then
    id="$(kafka-storage.sh random-uuid)"
    echo "CLUSTER_ID is not set: formatting with the random cluster id $id" >&2
  fi
  kafka-storage.sh format --cluster-id "$id" --config "$config" --ignore-formatted
}

write_config
format_storage
exec kafka-server-start.sh "$config"
