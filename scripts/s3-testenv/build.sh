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
# shellcheck source=../lib/go-testenv.sh
source "$here/../lib/go-testenv.sh"

cache_root="${CAPSTAN_S3_CACHE:-$HOME/.cache/capstan/s3}"
go_testenv_init s3-testenv S3 "$cache_root" "$cache_root/versitygw-$VERSITYGW_VERSION" "versitygw=$VERSITYGW_VERSION" "$@"

cache_complete() { go_testenv_stamp_ok && [[ -x "$out/versitygw" ]]; }

go_testenv_start "install Go >= 1.25 (versitygw $VERSITYGW_VERSION needs it)"

GOBIN="$staging" go install -p "$jobs" \
  -ldflags "-s -w -X main.Version=$VERSITYGW_VERSION -X main.Build=capstan-s3-testenv" \
  "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
"$staging/versitygw" --version >&2 || true

go_testenv_finish
