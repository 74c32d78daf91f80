#!/usr/bin/env bash
# Shared steps of the scripts that build test components from the Go module proxy and cache them in
# a versioned folder outside the repository (scripts/{kube,s3,helm,kustomize}-testenv/build.sh):
# the --print-dir/--force arguments, the cache check, the build lock, the private Go caches and
# flags, the staging folder moved into place whole, and the clean-up. Sourced, not run.
#
# A build script sets cache_complete() (what a finished cache folder holds) and calls:
#   go_testenv_init LABEL ENV_PREFIX CACHE_ROOT OUT WANT_STAMP "$@"
#   go_testenv_start "message when go is missing" [MIN_GO_MINOR]
#   ... builds into "$staging" (Go caches under "$work", compile jobs in "$jobs") ...
#   go_testenv_finish
# Progress goes to stderr; the last line on stdout is the cache folder.

# LABEL names the log lines; ENV_PREFIX the CAPSTAN_<PREFIX>_BUILD_JOBS / _KEEP_BUILD variables.
go_testenv_init() {
  go_testenv_label="$1"
  go_testenv_prefix="$2"
  cache_root="$3"
  out="$4"
  want_stamp="$5"
  shift 5
  stamp="$out/.complete"
  go_testenv_force=0
  local print_dir=0 arg
  for arg in "$@"; do
    case "$arg" in
      --print-dir) print_dir=1 ;;
      --force) go_testenv_force=1 ;;
      *) echo "build.sh: unknown argument '$arg'; accepted: --print-dir, --force" >&2; exit 2 ;;
    esac
  done
  if [[ $print_dir == 1 ]]; then
    echo "$out"
    exit 0
  fi
}

log() { printf '[%s %s] %s\n' "$go_testenv_label" "$(date +%H:%M:%S)" "$*" >&2; }

# True when the cache folder's stamp names the wanted versions.
go_testenv_stamp_ok() {
  [[ -f "$stamp" && "$(cat "$stamp")" == "$want_stamp" ]]
}

# Exits printing the cache folder when it is complete; otherwise checks Go, takes the build lock
# (concurrent runs wait for each other), and prepares the Go environment and the staging folder.
go_testenv_start() {
  local missing_go="$1" min_minor="${2:-}"
  if [[ $go_testenv_force == 0 ]] && cache_complete; then
    log "$want_stamp is cached in $out"
    echo "$out"
    exit 0
  fi
  if ! command -v go >/dev/null 2>&1; then
    echo "build.sh: the go command was not found on PATH; $missing_go" >&2
    exit 1
  fi
  go_version="$(go env GOVERSION)"
  if [[ -n "$min_minor" ]]; then
    local go_minor
    go_minor="$(sed -E 's/^go1\.([0-9]+).*/\1/' <<<"$go_version")"
    if [[ ! "$go_minor" =~ ^[0-9]+$ ]] || (( go_minor < min_minor )); then
      echo "build.sh: found $go_version; $want_stamp needs Go >= 1.$min_minor" >&2
      exit 1
    fi
  fi
  mkdir -p "$cache_root"
  exec 9>"$cache_root/.build.lock"
  log "waiting for the build lock $cache_root/.build.lock"
  flock 9
  if [[ $go_testenv_force == 0 ]] && cache_complete; then
    log "another run built $want_stamp meanwhile"
    echo "$out"
    exit 0
  fi
  go_testenv_started=$SECONDS
  work="$cache_root/.build-$(basename "$out")"
  mkdir -p "$work"
  export GOMODCACHE="$work/gomodcache"
  export GOCACHE="$work/gocache"
  export GOPATH="$work/gopath"
  export GOFLAGS="-trimpath -buildvcs=false"
  export GOTOOLCHAIN=local
  export CGO_ENABLED=0
  export GOPROXY="${GOPROXY:-https://proxy.golang.org}"
  local jobs_var="CAPSTAN_${go_testenv_prefix}_BUILD_JOBS"
  jobs="${!jobs_var:-2}"
  staging="$out.partial"
  rm -rf "$staging"
  mkdir -p "$staging"
  log "building $want_stamp with $go_version, go build -p $jobs, into $out"
}

# Stamps the staging folder, moves it into place, and removes the Go caches unless
# CAPSTAN_<PREFIX>_KEEP_BUILD=1; prints the cache folder last.
go_testenv_finish() {
  echo "$want_stamp" >"$staging/.complete"
  rm -rf "$out"
  mv "$staging" "$out"
  local keep_var="CAPSTAN_${go_testenv_prefix}_KEEP_BUILD"
  if [[ "${!keep_var:-0}" != 1 ]]; then
    log "removing the build folder $work"
    go clean -modcache
    rm -rf "$work"
  fi
  log "built $want_stamp in $((SECONDS - go_testenv_started)) s; cache $(du -sh "$out" | cut -f1) in $out"
  echo "$out"
}
