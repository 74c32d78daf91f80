#!/usr/bin/env bash
# The main job: sets Capstan up, starts it on the embedded default (SQLite, local processes, a local
# ipykernel; nothing else to install), runs the reference pipeline "similar-users" at size small with
# a live progress view, prints its precision@10 against both baselines and where the results and the
# UI are, and keeps the platform running until Ctrl-C.
#
# Environment: CAPSTAN_HOME (default ./.capstan), CAPSTAN_PORT (default 8080).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/setup.sh

export CAPSTAN_HOME="${CAPSTAN_HOME:-$root/.capstan}"
port="${CAPSTAN_PORT:-8080}"
mkdir -p "$CAPSTAN_HOME"
# As root, tasks run as the unprivileged user `nobody` (local.run_as, docs/security.md): the reference
# pipeline's publish stage writes its results folder, so that folder is given to that user.
if [ "$(id -u)" = 0 ]; then
  results="$root/examples/similar-users/results"
  mkdir -p "$results"
  chown -R nobody:"$(id -gn nobody)" "$results"
fi
capstan=(node "$root/bin/capstan.js" --pipelines "$root/examples")
started=$(date +%s)

printf '\n==> starting capstan up on port %s (log: %s/up.log)\n' "$port" "$CAPSTAN_HOME" >&2
"${capstan[@]}" up --port "$port" >"$CAPSTAN_HOME/up.log" 2>&1 &
up_pid=$!
trap 'kill -TERM $up_pid 2>/dev/null; wait $up_pid 2>/dev/null' INT TERM
for _ in $(seq 1 120); do
  grep -q "Capstan is up at" "$CAPSTAN_HOME/up.log" 2>/dev/null && break
  if ! kill -0 $up_pid 2>/dev/null; then cat "$CAPSTAN_HOME/up.log" >&2; exit 1; fi
  sleep 0.5
done
url=$(grep -o "Capstan is up at [^ ]*" "$CAPSTAN_HOME/up.log" | head -1 | cut -d' ' -f5)
[ -n "$url" ] || { echo "capstan up did not start; see $CAPSTAN_HOME/up.log" >&2; exit 1; }

printf '\n==> running the reference pipeline similar-users (size small)\n' >&2
status=0
run_json=$("${capstan[@]}" --json run similar-users -p size=small --wait) || status=$?
node -e '
  const run = JSON.parse(process.argv[1]);
  const ev = run.tasks.evaluate?.outputs ?? {};
  const pub = run.tasks.publish?.outputs ?? {};
  const f = (x) => (typeof x === "number" ? x.toFixed(3) : "-");
  console.log(`\nrun ${run.id}: ${run.state}`);
  for (const [id, t] of Object.entries(run.tasks)) console.log(`  ${id.padEnd(11)} ${t.state.padEnd(15)} ${t.reason ?? ""}`);
  console.log(`\nprecision@10 ${f(ev.precision_at_k)}  (raw-count cosine baseline ${f(ev.raw_counts_precision_at_k)}, random neighbours ${f(ev.random_precision_at_k)})`);
  if (pub.version_dir) console.log(`results: ${pub.version_dir} (latest: ${pub.latest})`);
' "$run_json"
printf 'finished in %ss\n' "$(( $(date +%s) - started ))"
printf '\nCapstan keeps running at %s — the UI and the API (/api/openapi.json). Logs: %s/up.log\n' "$url" "$CAPSTAN_HOME"
if grep -q "First start" "$CAPSTAN_HOME/up.log"; then
  grep -A3 "First start" "$CAPSTAN_HOME/up.log" | sed 's/^/  /'
else
  printf '  Sign in as admin with the password printed at the first start, or make a new one: node bin/capstan.js users reset-password admin\n'
fi
printf 'Try: node bin/capstan.js --pipelines examples runs list   ·   Ctrl-C stops the platform.\n'
[ $status = 0 ] || echo "the run did not succeed (exit $status); see: node bin/capstan.js --pipelines examples logs <run> <task>" >&2
wait $up_pid
