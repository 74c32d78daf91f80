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
# shellcheck source=../lib/go-testenv.sh
source "$here/../lib/go-testenv.sh"

cache_root="${CAPSTAN_HELM_CACHE:-$HOME/.cache/capstan/helm}"
go_testenv_init helm-testenv HELM "$cache_root" "$cache_root/helm-$HELM_VERSION" "helm=$HELM_VERSION k8s=1.$HELM_K8S_MINOR" "$@"

cache_complete() { go_testenv_stamp_ok && [[ -x "$out/helm" ]]; }

go_testenv_start "install Go (at least the version named by the go directive of helm $HELM_VERSION's go.mod; Go 1.26 builds it)"

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

go_testenv_finish
