#!/usr/bin/env bash
# Fetches Apache Kafka (org.apache.kafka:kafka_2.13 and its runtime dependencies) from Maven Central
# with Maven for the stream tests, and caches the jars in a versioned folder outside the repository:
#
#   ${CAPSTAN_KAFKA_CACHE:-$HOME/.cache/capstan/kafka}/<KAFKA_VERSION>/libs/*.jar
#
# The broker runs from that class path on the machine's Java 17 (test/support/kafka-testenv.ts).
# A second run finds the cache complete and only prints its path. Concurrent runs wait for each
# other (flock). Progress goes to stderr; the last line on stdout is the cache folder.
#
# Usage: scripts/kafka-testenv/fetch.sh [--print-dir] [--force]
# Environment:
#   CAPSTAN_KAFKA_CACHE  cache root (default ~/.cache/capstan/kafka)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"

cache_root="${CAPSTAN_KAFKA_CACHE:-$HOME/.cache/capstan/kafka}"
out="$cache_root/$KAFKA_VERSION"
stamp="$out/.complete"
want_stamp="kafka_2.13=$KAFKA_VERSION"

print_dir=0
force=0
for arg in "$@"; do
  case "$arg" in
    --print-dir) print_dir=1 ;;
    --force) force=1 ;;
    *) echo "fetch.sh: unknown argument '$arg'; accepted: --print-dir, --force" >&2; exit 2 ;;
  esac
done

if [[ $print_dir == 1 ]]; then
  echo "$out"
  exit 0
fi

log() { printf '[kafka-testenv %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

cache_complete() {
  [[ -f "$stamp" && "$(cat "$stamp")" == "$want_stamp" && -f "$out/libs/kafka_2.13-$KAFKA_VERSION.jar" ]]
}

if [[ $force == 0 ]] && cache_complete; then
  log "kafka $KAFKA_VERSION is cached in $out"
  echo "$out"
  exit 0
fi

for tool in mvn java; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "fetch.sh: the $tool command was not found on PATH; scripts/setup.sh --test installs it (Debian packages maven and openjdk-17-jre-headless)" >&2
    exit 1
  fi
done

mkdir -p "$cache_root"
exec 9>"$cache_root/.fetch.lock"
log "waiting for the fetch lock $cache_root/.fetch.lock"
flock 9
if [[ $force == 0 ]] && cache_complete; then
  log "another run fetched kafka $KAFKA_VERSION meanwhile"
  echo "$out"
  exit 0
fi

started=$SECONDS
staging="$out.partial"
rm -rf "$staging"
mkdir -p "$staging/libs"
log "resolving org.apache.kafka:kafka_2.13:$KAFKA_VERSION and its runtime dependencies into $out"
# The local repository is the user's own (~/.m2), so a second version reuses the shared jars.
if ! mvn_output="$(mvn -B -q -f "$here/pom.xml" -Dkafka.version="$KAFKA_VERSION" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$staging/libs" 2>&1)"; then
  echo "fetch.sh: Maven could not resolve kafka_2.13 $KAFKA_VERSION; its last lines:" >&2
  echo "$mvn_output" | tail -20 >&2
  exit 1
fi
if [[ ! -f "$staging/libs/kafka_2.13-$KAFKA_VERSION.jar" ]]; then
  echo "fetch.sh: Maven ran but kafka_2.13-$KAFKA_VERSION.jar is not in $staging/libs" >&2
  exit 1
fi
# The broker's class path works: kafka.Kafka prints its usage when given no configuration.
if ! probe="$(java -cp "$staging/libs/*" kafka.tools.StorageTool version 2>&1)"; then
  probe_main="$(java -cp "$staging/libs/*" kafka.Kafka 2>&1 || true)"
  if [[ "$probe_main" != *USAGE* ]]; then
    echo "fetch.sh: java could not load kafka.Kafka from the fetched jars:" >&2
    echo "$probe" | tail -5 >&2
    echo "$probe_main" | tail -5 >&2
    exit 1
  fi
fi

echo "$want_stamp" >"$staging/.complete"
rm -rf "$out"
mv "$staging" "$out"
log "fetched kafka $KAFKA_VERSION in $((SECONDS - started)) s; $(ls "$out/libs" | wc -l) jars, $(du -sh "$out" | cut -f1) in $out"
echo "$out"
