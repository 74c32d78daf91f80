#!/usr/bin/env bash
# Builds the binaries of the test Kubernetes control plane from the Go module proxy: kube-apiserver
# and kube-scheduler (k8s.io/kubernetes through a generated wrapper module), etcd
# (go.etcd.io/etcd/server/v3 through a wrapper module) and kwok. No container engine and no
# prebuilt binary is used. The result is cached in a versioned folder outside the repository:
#
#   ${CAPSTAN_KUBE_CACHE:-$HOME/.cache/capstan/kube}/<KUBE_VERSION>/
#
# A second run finds the cache complete and only prints its path. Concurrent runs wait for each
# other (flock). Progress goes to stderr; the last line on stdout is the cache folder.
#
# Usage: scripts/kube-testenv/build.sh [--print-dir] [--force]
#   --print-dir  print the cache folder and exit (builds nothing)
#   --force      rebuild even when the cache is complete
# Environment:
#   CAPSTAN_KUBE_CACHE       cache root (default ~/.cache/capstan/kube)
#   CAPSTAN_KUBE_BUILD_JOBS  parallel compile jobs, go build -p (default 2)
#   CAPSTAN_KUBE_KEEP_BUILD  1 keeps the build folder (Go module and build caches) after success
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
# shellcheck source=../lib/go-testenv.sh
source "$here/../lib/go-testenv.sh"

cache_root="${CAPSTAN_KUBE_CACHE:-$HOME/.cache/capstan/kube}"
go_testenv_init kube-testenv KUBE "$cache_root" "$cache_root/$KUBE_VERSION" "kube=$KUBE_VERSION etcd=$ETCD_VERSION kwok=$KWOK_VERSION" "$@"
binaries=(kube-apiserver kube-scheduler etcd kwok)

cache_complete() {
  go_testenv_stamp_ok || return 1
  local b
  for b in "${binaries[@]}"; do [[ -x "$out/$b" ]] || return 1; done
  [[ -f "$out/crds/kwok.x-k8s.io_logs.yaml" ]]
}

go_testenv_start "install Go >= 1.26 (k8s $KUBE_VERSION needs it)" 26
started=$go_testenv_started
mkdir -p "$staging/crds"

log "Go caches for this build: $work (removed after success unless CAPSTAN_KUBE_KEEP_BUILD=1)"

# --- kwok: a plain module without replace directives, so go install works.
log "kwok $KWOK_VERSION: go install sigs.k8s.io/kwok/cmd/kwok"
GOBIN="$staging" go install -p "$jobs" -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
kwok_dir="$(go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -nE 's/^[[:space:]]*"Dir": "(.*)",?$/\1/p')"
cp "$kwok_dir/kustomize/crd/bases/kwok.x-k8s.io_logs.yaml" "$staging/crds/"
chmod u+w "$staging/crds/"*.yaml
log "kwok done ($((SECONDS - started)) s so far)"

# --- etcd: its go.mod replaces its sibling modules with local paths, so build it as a tool of a
# wrapper module (replace directives of a dependency are ignored; its requirements are used).
log "etcd $ETCD_VERSION: wrapper module, go build go.etcd.io/etcd/server/v3"
etcd_mod="$work/etcd-wrapper"
rm -rf "$etcd_mod"
mkdir -p "$etcd_mod"
cat >"$etcd_mod/go.mod" <<EOF
module capstan.local/etcd-wrapper

go 1.26.0

require go.etcd.io/etcd/server/v3 $ETCD_VERSION

tool go.etcd.io/etcd/server/v3
EOF
(cd "$etcd_mod" && go mod tidy && go build -p "$jobs" -ldflags "-s -w" -o "$staging/etcd" go.etcd.io/etcd/server/v3)
log "etcd done ($((SECONDS - started)) s so far)"

# --- kube-apiserver and kube-scheduler: k8s.io/kubernetes requires its staging modules at v0.0.0
# and replaces them with ./staging/...; the wrapper replaces each with its published tag instead.
log "kubernetes $KUBE_VERSION: reading its go.mod for the staging modules"
kube_mod_file="$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -nE 's/^[[:space:]]*"GoMod": "(.*)",?$/\1/p')"
staging_tag="v0.${KUBE_VERSION#v1.}"
replaces="$(awk '
  /^replace \($/ { inblock = 1; next }
  inblock && /^\)$/ { inblock = 0; next }
  inblock && $2 == "=>" && $3 ~ /^\.\/staging\// { print $1 }
  /^replace / && $3 == "=>" && $4 ~ /^\.\/staging\// { print $2 }
' "$kube_mod_file")"
# Only modules that k8s.io/kubernetes requires; a staging module it only replaces may be unpublished.
required="$(awk '
  /^require \($/ { inblock = 1; next }
  inblock && /^\)$/ { inblock = 0; next }
  inblock { print $1 }
  /^require [^(]/ { print $2 }
' "$kube_mod_file")"
kube_wrapper="$work/kube-wrapper"
rm -rf "$kube_wrapper"
mkdir -p "$kube_wrapper"
{
  echo "module capstan.local/kube-wrapper"
  echo
  echo "go 1.26.0"
  echo
  echo "require k8s.io/kubernetes $KUBE_VERSION"
  echo
  echo "replace ("
  count=0
  while read -r module; do
    [[ -n "$module" ]] || continue
    if grep -qxF "$module" <<<"$required"; then
      printf '\t%s => %s %s\n' "$module" "$module" "$staging_tag"
      count=$((count + 1))
    fi
  done <<<"$replaces"
  echo ")"
  echo
  echo "tool ("
  echo "	k8s.io/kubernetes/cmd/kube-apiserver"
  echo "	k8s.io/kubernetes/cmd/kube-scheduler"
  echo ")"
} >"$kube_wrapper/go.mod"
log "wrapper module replaces $(grep -c ' => ' "$kube_wrapper/go.mod") staging modules with $staging_tag"
log "kubernetes $KUBE_VERSION: go mod tidy (downloads the dependencies)"
(cd "$kube_wrapper" && go mod tidy)
minor="${KUBE_VERSION#v1.}"
minor="${minor%%.*}"
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
done
log "kubernetes $KUBE_VERSION: go build kube-apiserver and kube-scheduler (the long step)"
(cd "$kube_wrapper" && go build -p "$jobs" -ldflags "$ldflags" -o "$staging/" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-scheduler)
log "kubernetes done ($((SECONDS - started)) s so far)"

"$staging/kube-apiserver" --version >&2
"$staging/etcd" --version >&2
"$staging/kwok" --version >&2 || true

go_testenv_finish
