#!/usr/bin/env bash
# Starts the test Kubernetes control plane by hand (building its binaries first if needed) and
# prints the kubeconfig path; Ctrl-C stops it. Usage: scripts/kube-testenv/start.sh [DIR]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
exec node --import jiti/register scripts/kube-testenv/start.ts "$@"
