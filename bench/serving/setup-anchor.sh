#!/usr/bin/env bash
# Installs the serving benchmark's anchor, TorchServe 0.12 with torch-model-archiver, into a venv kept
# outside the repository ($CAPSTAN_BENCH_TORCHSERVE_VENV, default ~/.cache/capstan/bench/torchserve-0.12/venv).
# TorchServe's Python worker imports torch before it loads any handler (ts/protocol/otf_message_handler.py),
# so even a no-op archive needs torch: PyPI's Linux torch brings its CUDA libraries, about 5.4 GB
# installed (about 2 minutes here). TorchServe's frontend runs on the machine's Java 17 (`java` on PATH).
# Idempotent: a venv that already imports everything is left as it is.
set -euo pipefail
venv="${CAPSTAN_BENCH_TORCHSERVE_VENV:-$HOME/.cache/capstan/bench/torchserve-0.12/venv}"
requirements=(torchserve==0.12.0 torch-model-archiver==0.12.0 torch pyyaml numpy)

if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import torch, ts.model_service_worker, model_archiver" 2>/dev/null; then
  echo "TorchServe anchor ready in $venv"
  exit 0
fi
command -v java >/dev/null || echo "warning: java is not on PATH; TorchServe's frontend needs Java 17" >&2
mkdir -p "$(dirname "$venv")"
available_kb="$(df -Pk "$(dirname "$venv")" | awk 'NR==2 {print $4}')"
if [ "${available_kb:-0}" -lt $((8 * 1024 * 1024)) ]; then
  echo "error: the TorchServe anchor needs about 6 GB free next to $venv (torch with its CUDA libraries)" >&2
  exit 1
fi
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
started=$(date +%s)
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${requirements[@]}"
echo "TorchServe anchor installed in $venv in $(( $(date +%s) - started )) s, $(du -sh "$venv" | cut -f1)"
