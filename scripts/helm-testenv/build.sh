#!/usr/bin/env bash
# Builds helm from the Go module proxy (helm.sh/helm/v3/cmd/helm; no prebuilt binary is downloaded)
# for the chart tests and caches it in a versioned folder outside the repository:
#
#   ${CAPSTAN_HELM_CACHE:-$HOME/.cache/capstan/helm}/helm-<HELM_VERSION>/helm
#
# A second run finds the cache complete and only prints its path. Concurrent runs wait for each
# other (flock). Progress goes to stderr; the last line on stdout is the cache folder.
#
# Usage: scripts/helm-testenv/build.sh [--print-dir] [--force]
# Environment:
#   CAPSTAN_HELM_CACHE       cache root (default ~/.cache/capstan/helm)
#   CAPSTAN_HELM_BUILD_JOBS  parallel compile jobs, go build -p (default 2)
#   CAPSTAN_HELM_KEEP_BUILD  1 keeps the build folder (Go module and build caches) after success
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"

cache_root="${CAPSTAN_HELM_CACHE:-$HOME/.cache/capstan/helm}"
out="$cache_root/helm-$HELM_VERSION"
stamp="$out/.complete"
want_stamp="helm=$HELM_VERSION k8s=1.$HELM_K8S_MINOR"

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

log() { printf '[helm-testenv %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

cache_complete() {
  [[ -f "$stamp" && "$(cat "$stamp")" == "$want_stamp" && -x "$out/helm" ]]
}

if [[ $force == 0 ]] && cache_complete; then
  log "helm $HELM_VERSION is cached in $out"
  echo "$out"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "build.sh: the go command was not found on PATH; install Go (at least the version named by the go directive of helm $HELM_VERSION's go.mod; Go 1.26 builds it)" >&2
  exit 1
fi

mkdir -p "$cache_root"
exec 9>"$cache_root/.build.lock"
log "waiting for the build lock $cache_root/.build.lock"
flock 9
if [[ $force == 0 ]] && cache_complete; then
  log "another run built helm $HELM_VERSION meanwhile"
  echo "$out"
  exit 0
fi

started=$SECONDS
work="$cache_root/.build-$HELM_VERSION"
mkdir -p "$work"
export GOMODCACHE="$work/gomodcache"
export GOCACHE="$work/gocache"
export GOPATH="$work/gopath"
export GOFLAGS="-trimpath -buildvcs=false"
export GOTOOLCHAIN=local
export CGO_ENABLED=0
export GOPROXY="${GOPROXY:-https://proxy.golang.org}"
jobs="${CAPSTAN_HELM_BUILD_JOBS:-2}"
staging="$out.partial"
rm -rf "$staging"
mkdir -p "$staging"

log "building helm $HELM_VERSION with $(go env GOVERSION), go build -p $jobs, into $out"
GOBIN="$staging" go install -p "$jobs" \
  -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean \
    -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$HELM_K8S_MINOR \
    -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$HELM_K8S_MINOR" \
  "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
"$staging/helm" version --short >&2
# The stamped Kubernetes version is what `helm template` assumes; a chart's kubeVersion is checked against it.
if ! probe="$("$staging/helm" template capstan-probe "$here/../../deploy/helm/capstan-cluster" 2>&1)" || [[ "$probe" != *ServiceAccount* ]]; then
  echo "build.sh: the built helm could not render deploy/helm/capstan-cluster (its Kubernetes version stamp is 1.$HELM_K8S_MINOR):" >&2
  echo "$probe" | tail -5 >&2
  exit 1
fi

echo "$want_stamp" >"$staging/.complete"
rm -rf "$out"
mv "$staging" "$out"

if [[ "${CAPSTAN_HELM_KEEP_BUILD:-0}" != 1 ]]; then
  log "removing the build folder $work"
  go clean -modcache
  rm -rf "$work"
fi
log "built helm $HELM_VERSION in $((SECONDS - started)) s; cache $(du -sh "$out" | cut -f1) in $out"
echo "$out"
