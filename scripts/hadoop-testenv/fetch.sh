#!/usr/bin/env bash
# Fetches the Hadoop minicluster (org.apache.hadoop:hadoop-client-minicluster and its runtime
# dependencies) from Maven Central with Maven for the HDFS tests, compiles the small launcher
# HadoopTestenv.java against it with javac, and caches both in a versioned folder outside the repository:
#
#   ${CAPSTAN_HADOOP_CACHE:-$HOME/.cache/capstan/hadoop}/<HADOOP_VERSION>/libs/*.jar
#   ${CAPSTAN_HADOOP_CACHE:-$HOME/.cache/capstan/hadoop}/<HADOOP_VERSION>/launcher/HadoopTestenv.class
#
# The minicluster runs from that class path on the machine's Java 17 (test/support/hadoop-testenv.ts).
# A second run finds the cache complete (same version, same launcher source) and only prints its path.
# Concurrent runs wait for each other (flock). Progress goes to stderr; the last line on stdout is the
# cache folder.
#
# Usage: scripts/hadoop-testenv/fetch.sh [--print-dir] [--force]
# Environment:
#   CAPSTAN_HADOOP_CACHE  cache root (default ~/.cache/capstan/hadoop)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"

cache_root="${CAPSTAN_HADOOP_CACHE:-$HOME/.cache/capstan/hadoop}"
out="$cache_root/$HADOOP_VERSION"
stamp="$out/.complete"
launcher_sum="$(cat "$here/HadoopTestenv.java" "$here/pom.xml" | sha256sum | cut -c1-16)"
want_stamp="hadoop-client-minicluster=$HADOOP_VERSION launcher=$launcher_sum"

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

log() { printf '[hadoop-testenv %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

cache_complete() {
  [[ -f "$stamp" && "$(cat "$stamp")" == "$want_stamp" && -f "$out/libs/hadoop-client-minicluster-$HADOOP_VERSION.jar" && -f "$out/launcher/HadoopTestenv.class" ]]
}

if [[ $force == 0 ]] && cache_complete; then
  log "hadoop $HADOOP_VERSION is cached in $out"
  echo "$out"
  exit 0
fi

for tool in mvn java javac; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "fetch.sh: the $tool command was not found on PATH; scripts/setup.sh --test installs it (Debian packages maven and openjdk-17-jdk-headless)" >&2
    exit 1
  fi
done

mkdir -p "$cache_root"
exec 9>"$cache_root/.fetch.lock"
log "waiting for the fetch lock $cache_root/.fetch.lock"
flock 9
if [[ $force == 0 ]] && cache_complete; then
  log "another run fetched hadoop $HADOOP_VERSION meanwhile"
  echo "$out"
  exit 0
fi

started=$SECONDS
staging="$out.partial"
rm -rf "$staging"
mkdir -p "$staging/libs" "$staging/launcher"
log "resolving org.apache.hadoop:hadoop-client-minicluster:$HADOOP_VERSION and its runtime dependencies into $out"
# The local repository is the user's own (~/.m2), so a second version reuses the shared jars.
if ! mvn_output="$(mvn -B -q -f "$here/pom.xml" -Dhadoop.version="$HADOOP_VERSION" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$staging/libs" 2>&1)"; then
  echo "fetch.sh: Maven could not resolve hadoop-client-minicluster $HADOOP_VERSION; its last lines:" >&2
  echo "$mvn_output" | tail -20 >&2
  exit 1
fi
if [[ ! -f "$staging/libs/hadoop-client-minicluster-$HADOOP_VERSION.jar" ]]; then
  echo "fetch.sh: Maven ran but hadoop-client-minicluster-$HADOOP_VERSION.jar is not in $staging/libs" >&2
  exit 1
fi
# Compiling the launcher against the jars is also the check that the class path is whole.
if ! javac_output="$(javac -nowarn -d "$staging/launcher" -cp "$staging/libs/*" "$here/HadoopTestenv.java" 2>&1)"; then
  echo "fetch.sh: javac could not compile scripts/hadoop-testenv/HadoopTestenv.java against the fetched jars:" >&2
  echo "$javac_output" | tail -20 >&2
  exit 1
fi

echo "$want_stamp" >"$staging/.complete"
rm -rf "$out"
mv "$staging" "$out"
log "fetched hadoop $HADOOP_VERSION in $((SECONDS - started)) s; $(ls "$out/libs" | wc -l) jars, $(du -sh "$out" | cut -f1) in $out"
echo "$out"
