#!/usr/bin/env bash
# Sets up everything Capstan needs on this machine, idempotently:
#   - checks Node.js (20.19 or newer),
#   - installs the npm packages (npm ci, when package-lock.json changed) and builds dist/ and the web UI,
#   - creates the Python venv (.venv) with ipykernel, numpy, pandas, scipy, pyarrow, and its kernelspec.
# With --test it also installs what the test suite needs: PostgreSQL, Chromium and openssh-server (Debian packages),
# the test-only Python tools (papermill, pytest, schemathesis) and the Kubernetes test control plane
# (built from Go modules once, cached under ~/.cache/capstan/kube), and Maven and Java 17 for the test Kafka
# broker (fetched from Maven Central once, cached under ~/.cache/capstan/kafka), and pyspark in the venv.
# With --spark (and no --test) it adds only pyspark, for `spark:` tasks with a local master (docs/spark.md).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
with_test=0
with_spark=0
for arg in "$@"; do
  case "$arg" in
    --test) with_test=1 ;;
    --spark) with_spark=1 ;;
    *) echo "setup.sh: unknown option $arg (accepted: --test, --spark)" >&2; exit 2 ;;
  esac
done

step() { printf '\n==> %s\n' "$*" >&2; }

if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'; then
  echo "Capstan needs Node.js 20.19 or newer; this is $(node --version 2>/dev/null || echo 'no node')" >&2
  exit 1
fi

# Debian packages: only what is missing, only where apt-get can install.
packages=()
if [ $with_test = 1 ]; then
  compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || packages+=(postgresql)
  [ -x /usr/bin/chromium ] || packages+=(chromium)
  [ -x /usr/sbin/sshd ] || packages+=(openssh-server)
  command -v mvn >/dev/null || packages+=(maven)
  command -v java >/dev/null || packages+=(openjdk-17-jre-headless)
  command -v javac >/dev/null || packages+=(openjdk-17-jdk-headless)
fi
if [ $with_spark = 1 ] && [ $with_test = 0 ]; then
  command -v java >/dev/null || packages+=(openjdk-17-jre-headless)
fi
command -v python3 >/dev/null || packages+=(python3 python3-venv)
if [ ${#packages[@]} -gt 0 ]; then
  step "installing Debian packages: ${packages[*]}"
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "missing: ${packages[*]}; install them (Debian: apt-get install ${packages[*]}) and run this again" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

lock_sum="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ ! -f node_modules/.capstan-lock ] || [ "$(cat node_modules/.capstan-lock)" != "$lock_sum" ]; then
  step "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_sum" > node_modules/.capstan-lock
fi

step "building"
npm run --silent build

step "preparing the Python environment (.venv)"
python_options=()
[ $with_test = 1 ] && python_options+=(--test)
[ $with_spark = 1 ] && python_options+=(--spark)
scripts/setup-python.sh ${python_options[@]+"${python_options[@]}"}
# Under root, local tasks run as nobody (docs/security.md), so nobody must be able to start the venv's
# interpreter: a Python installed under /root (pyenv) needs the folders above it enterable (o+x only).
venv_python="${CAPSTAN_VENV:-$root/.venv}/bin/python"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && ! setpriv --reuid=65534 --regid=65534 --clear-groups -- /bin/sh -c 'exec "$0" -c ""' "$venv_python" 2>/dev/null; then
  dir="$(dirname "$(readlink -f "$venv_python")")"
  while [ "$dir" != / ]; do
    [ "$(stat -c %A "$dir" | cut -c10)" = x ] || chmod o+x "$dir"
    dir="$(dirname "$dir")"
  done
  step "made the folders above $(readlink -f "$venv_python") enterable by other users, for tasks that run as nobody"
fi

if [ $with_test = 1 ]; then
  step "building (or reusing) the Kubernetes test control plane"
  scripts/kube-testenv/build.sh >/dev/null
  step "fetching (or reusing) the test Kafka broker (Maven Central)"
  scripts/kafka-testenv/fetch.sh >/dev/null
  step "fetching (or reusing) the test Hadoop minicluster (Maven Central)"
  scripts/hadoop-testenv/fetch.sh >/dev/null
fi
