#!/bin/bash
# The command-line tools of Kafka's bin/ directory, one symlink each to this script: the name it is
# called by picks the main class (the jars come from Maven Central, which ships no scripts).
set -euo pipefail
here="$(dirname "$0")"
case "$(basename "$0" .sh)" in
  kafka-server-start)
    # The broker: upstream's default 1 GiB heap and broker logging, unless set.
    export KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xmx1G -Xms1G}"
    export KAFKA_LOG4J_OPTS="${KAFKA_LOG4J_OPTS:--Dlog4j.configuration=file:/opt/kafka/config/log4j.properties}"
    [ $# -ge 1 ] || { echo "usage: kafka-server-start.sh server.properties [--override property=value]..." >&2; exit 2; }
    exec "$here/kafka-run-class.sh" kafka.Kafka "$@" ;;
  kafka-storage) exec "$here/kafka-run-class.sh" kafka.tools.StorageTool "$@" ;;
  kafka-topics) exec "$here/kafka-run-class.sh" org.apache.kafka.tools.TopicCommand "$@" ;;
  kafka-console-producer) exec "$here/kafka-run-class.sh" kafka.tools.ConsoleProducer "$@" ;;
  kafka-console-consumer) exec "$here/kafka-run-class.sh" org.apache.kafka.tools.consumer.ConsoleConsumer "$@" ;;
  kafka-consumer-groups) exec "$here/kafka-run-class.sh" org.apache.kafka.tools.consumer.group.ConsumerGroupCommand "$@" ;;
  kafka-metadata-quorum) exec "$here/kafka-run-class.sh" org.apache.kafka.tools.MetadataQuorumCommand "$@" ;;
  kafka-configs) exec "$here/kafka-run-class.sh" kafka.admin.ConfigCommand "$@" ;;
  kafka-log-dirs) exec "$here/kafka-run-class.sh" org.apache.kafka.tools.LogDirsCommand "$@" ;;
  kafka-broker-api-versions) exec "$here/kafka-run-class.sh" kafka.admin.BrokerApiVersionsCommand "$@" ;;
  kafka-get-offsets) exec "$here/kafka-run-class.sh" org.apache.kafka.tools.GetOffsetShell "$@" ;;
  kafka-features) exec "$here/kafka-run-class.sh" org.apache.kafka.tools.FeatureCommand "$@" ;;
  *) echo "kafka-tool.sh: unknown tool $(basename "$0")" >&2; exit 2 ;;
esac
