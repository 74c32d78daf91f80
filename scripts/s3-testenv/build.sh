#!/usr/bin/env bash
# Builds the test S3 server, versitygw, from the Go module proxy (no container engine, no prebuilt
# binary) and caches it in a versioned folder outside the repository:
#
#   ${CAPSTAN_S3_CACHE:-$HOME/.cache/capstan/s3}/versitygw-<VERSITYGW_VERSION>/versitygw
#
# A second run finds the cache complete and only prints its path. Concurrent runs wait for each
# other (flock). Progress goes to stderr; the last line on stdout is the cache folder.
#
# Usage: scripts/s3-testenv/build.sh [--print-dir] [--force]
# Environment:
#   CAPSTAN_S3_CACHE       cache root (default ~/.cache/capstan/s3)
#   CAPSTAN_S3_BUILD_JOBS  parallel compile jobs, go build -p (default 2)
#   CAPSTAN_S3_KEEP_BUILD  1 keeps the build folder (Go module and build caches) after success
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"

cache_root="${CAPSTAN_S3_CACHE:-$HOME/.cache/capstan/s3}"
out="$cache_root/versitygw-$VERSITYGW_VERSION"
stamp="$out/.complete"
want_stamp="versitygw=$VERSITYGW_VERSION"

print_dir=0
force=0
for arg in "$@"; do
  case "$arg" in
    --print-dir) print_dir=1 ;;
    --force) force=1 ;;
    *) echo "build.sh: unknown argument '$arg'; accepted: --print-dir, --force" >&2; exit 2 ;;
  esac
done

if [[ $print_dir == 1 ]]; then
  echo "$out"
  exit 0
fi

log() { printf '[s3-testenv %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

cache_complete() {
  [[ -f "$stamp" && "$(cat "$stamp")" == "$want_stamp" && -x "$out/versitygw" ]]
}

if [[ $force == 0 ]] && cache_complete; then
  log "versitygw $VERSITYGW_VERSION is cached in $out"
  echo "$out"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "build.sh: the go command was not found on PATH; install Go >= 1.25 (versitygw $VERSITYGW_VERSION needs it)" >&2
  exit 1
fi

mkdir -p "$cache_root"
exec 9>"$cache_root/.build.lock"
log "waiting for the build lock $cache_root/.build.lock"
flock 9
if [[ $force == 0 ]] && cache_complete; then
  log "another run built versitygw $VERSITYGW_VERSION meanwhile"
  echo "$out"
  exit 0
fi

started=$SECONDS
work="$cache_root/.build-$VERSITYGW_VERSION"
mkdir -p "$work"
export GOMODCACHE="$work/gomodcache"
export GOCACHE="$work/gocache"
export GOPATH="$work/gopath"
export GOFLAGS="-trimpath -buildvcs=false"
export GOTOOLCHAIN=local
export CGO_ENABLED=0
export GOPROXY="${GOPROXY:-https://proxy.golang.org}"
jobs="${CAPSTAN_S3_BUILD_JOBS:-2}"
staging="$out.partial"
rm -rf "$staging"
mkdir -p "$staging"

log "building versitygw $VERSITYGW_VERSION with $(go env GOVERSION), go build -p $jobs, into $out"
GOBIN="$staging" go install -p "$jobs" \
  -ldflags "-s -w -X main.Version=$VERSITYGW_VERSION -X main.Build=capstan-s3-testenv" \
  "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
"$staging/versitygw" --version >&2 || true

echo "$want_stamp" >"$staging/.complete"
rm -rf "$out"
mv "$staging" "$out"

if [[ "${CAPSTAN_S3_KEEP_BUILD:-0}" != 1 ]]; then
  log "removing the build folder $work"
  go clean -modcache
  rm -rf "$work"
fi
log "built versitygw $VERSITYGW_VERSION in $((SECONDS - started)) s; cache $(du -sh "$out" | cut -f1) in $out"
echo "$out"
