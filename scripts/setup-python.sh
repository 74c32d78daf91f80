#!/usr/bin/env bash
# Creates the project's Python venv (.venv by default) with the kernel and the libraries pipelines use,
# registers its ipykernel kernelspec inside the venv, adds JupyterLab for local sandboxes, with
# --test adds the test-only reference tools, and with --spark (implied by --test) adds pyspark for `spark:` tasks.
# Idempotent: a venv whose requirements have not changed is left as it is.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${CAPSTAN_VENV:-$root/.venv}"
with_test=0
with_spark=0
for arg in "$@"; do
  case "$arg" in
    --test) with_test=1; with_spark=1 ;;
    --spark) with_spark=1 ;;
    *) echo "setup-python.sh: unknown option $arg (accepted: --test, --spark)" >&2; exit 2 ;;
  esac
done

# Local sandboxes run JupyterLab from this venv (src/sandboxes/local).
sandbox_requirements="jupyterlab>=4.2,<5"
# Serving tests run handlers that import ts.* and archives built by the real archiver; no torch (docs/serving.md).
serving_test_requirements="torchserve==0.12.0 torch-model-archiver==0.12.0"
# `spark:` tasks with a local master run the venv's spark-submit (docs/spark.md); it needs Java 17 or newer.
spark_requirements="pyspark==4.1.4"
stamp="$venv/.capstan-requirements"
want="$(cat "$root/python/requirements.txt"; echo "$sandbox_requirements"; [ $with_test = 1 ] && cat "$root/python/requirements-test.txt" && echo "$serving_test_requirements"; [ $with_spark = 1 ] && echo "$spark_requirements"; echo "test=$with_test")"
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$root/python/requirements.txt" "$sandbox_requirements"
if [ $with_test = 1 ]; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$root/python/requirements-test.txt" $serving_test_requirements
fi
if [ $with_spark = 1 ]; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$spark_requirements"
fi
# Task code imports Capstan's helpers from python/ (from capstan import kafka; docs/streams.md).
"$venv/bin/python" -c 'import sys, sysconfig; open(sysconfig.get_paths()["purelib"] + "/capstan-python.pth", "w").write(sys.argv[1] + "\n")' "$root/python"
# The kernelspec lives in the venv ({prefix}/share/jupyter), so it names the venv's own interpreter.
"$venv/bin/python" -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (capstan)" >/dev/null
printf '%s' "$want" > "$stamp"
