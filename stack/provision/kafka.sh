#!/usr/bin/env bash
# Apache Kafka broker jars from Maven Central (KRaft, no ZooKeeper), run on Java 17.
source "$(dirname "$0")/lib.sh"
PART=kafka
OUT="$ECOM_CACHE/kafka-$KAFKA_VERSION"
provision() {
  if [ -f "$OUT/libs/.complete" ]; then say "cached: $OUT/libs"; return; fi
  need java "install Java 17: apt-get install openjdk-17-jre-headless"
  local major
  major="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^\s*java.specification.version = \([0-9]*\).*/\1/p')"
  [ "${major:-0}" -ge 17 ] || fail "Kafka $KAFKA_VERSION needs Java 17+, found ${major:-none}" "apt-get install openjdk-17-jre-headless"
  need mvn "install Maven: apt-get install maven"
  rm -rf "$OUT/libs" && mkdir -p "$OUT/libs"
  say "resolving kafka_2.13:$KAFKA_VERSION and its dependencies from Maven Central"
  run_logged "$OUT/maven.log" mvn -B -q -f "$STACK_DIR/kafka/pom.xml" -Dkafka.version="$KAFKA_VERSION" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$OUT/libs"
  touch "$OUT/libs/.complete"
}
with_lock "kafka-$KAFKA_VERSION" provision
