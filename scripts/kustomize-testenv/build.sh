#!/usr/bin/env bash
# Builds kustomize-build (main.go here: `kustomize build DIR` through kustomize's own library,
# sigs.k8s.io/kustomize/api krusty) from the Go module proxy for the kustomize tests, and caches it
# in a versioned folder outside the repository:
#
#   ${CAPSTAN_KUSTOMIZE_CACHE:-$HOME/.cache/capstan/kustomize}/<KUSTOMIZE_API_VERSION>/kustomize-build
#
# A second run finds the cache complete and only prints its path. Concurrent runs wait for each
# other (flock). Progress goes to stderr; the last line on stdout is the cache folder.
#
# Usage: scripts/kustomize-testenv/build.sh [--print-dir] [--force]
# Environment:
#   CAPSTAN_KUSTOMIZE_CACHE       cache root (default ~/.cache/capstan/kustomize)
#   CAPSTAN_KUSTOMIZE_BUILD_JOBS  parallel compile jobs, go build -p (default 2)
#   CAPSTAN_KUSTOMIZE_KEEP_BUILD  1 keeps the build folder (Go module and build caches) after success
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
# shellcheck source=../lib/go-testenv.sh
source "$here/../lib/go-testenv.sh"

# The stamp also holds go.mod's hash, so a changed pin rebuilds.
go_testenv_init kustomize-testenv KUSTOMIZE "${CAPSTAN_KUSTOMIZE_CACHE:-$HOME/.cache/capstan/kustomize}" \
  "${CAPSTAN_KUSTOMIZE_CACHE:-$HOME/.cache/capstan/kustomize}/$KUSTOMIZE_API_VERSION" \
  "kustomize-api=$KUSTOMIZE_API_VERSION go.mod=$(sha256sum "$here/go.mod" | cut -c1-12)" "$@"

cache_complete() { go_testenv_stamp_ok && [[ -x "$out/kustomize-build" ]]; }

go_testenv_start "install Go >= 1.26 (the go directive of scripts/kustomize-testenv/go.mod)" 26

# Build from a copy so the repository's folder gets no build output.
src="$work/src"
rm -rf "$src"
mkdir -p "$src"
cp "$here/go.mod" "$here/go.sum" "$here/main.go" "$src/"
(cd "$src" && go build -mod=readonly -p "$jobs" -ldflags "-s -w" -o "$staging/kustomize-build" .)
if ! probe="$("$staging/kustomize-build" "$here/../../deploy/kustomize/overlays/gpu-cluster" 2>&1)" || [[ "$probe" != *ServiceAccount* ]]; then
  echo "build.sh: the built kustomize-build could not build deploy/kustomize/overlays/gpu-cluster:" >&2
  echo "$probe" | tail -5 >&2
  exit 1
fi

go_testenv_finish
