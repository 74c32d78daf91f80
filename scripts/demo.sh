#!/usr/bin/env bash
# The main job: sets Capstan up, starts it on the embedded default (SQLite, local processes, a local
# ipykernel; nothing else to install), runs the reference pipeline "similar-users" at size small with
# a live progress view, prints its precision@10 against both baselines and where the results and the
# UI are, registers the run's model as the production version of similar-users, serves it with
# `capstan serve` (TorchServe's API) and prints a curl to it with its answer, and keeps the platform
# and the model server running until Ctrl-C.
#
# Environment: CAPSTAN_HOME (default ./.capstan), CAPSTAN_PORT (default 8080), CAPSTAN_SERVE_PORT
# (default 8090: inference; management and metrics on the next two ports).
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
serve_pid=""
trap 'kill -TERM $up_pid $serve_pid 2>/dev/null; wait $up_pid 2>/dev/null' INT TERM
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

# The run's model, registered and served: the register task built a TorchServe model folder in the
# run's artifacts and declares register_model, so the platform registered it as a version of
# similar-users with the run as lineage and moved production to it; capstan serve answers for it. A
# failure here is reported and leaves the platform up.
serve_model() {
  local run_id model_dir version artifact user serve_port answer model_json
  run_id=$(node -e 'console.log(JSON.parse(process.argv[1]).id)' "$run_json")
  model_dir=$(node -e 'console.log(JSON.parse(process.argv[1]).tasks.register?.outputs?.model_dir ?? "")' "$run_json")
  [ -n "$model_dir" ] || { echo "the register task left no model folder" >&2; return 1; }
  printf '
==> serving the version of similar-users that run %s registered
' "$run_id" >&2
  model_json=$("${capstan[@]}" --json models show similar-users) || return 1
  version=$(node -e 'const m=JSON.parse(process.argv[1]);const v=m.aliases.production;const x=m.versions.find(x=>x.version===v);if(!x||x.run_id!==process.argv[2]){console.error("production is not the version of run "+process.argv[2]);process.exit(1)}console.log(v)' "$model_json" "$run_id") || return 1
  artifact=$(node -e 'const m=JSON.parse(process.argv[1]);console.log(m.versions.find(x=>x.version===Number(process.argv[2])).artifact_path)' "$model_json" "$version") || return 1
  user=$(node -e 'console.log(JSON.stringify(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"))[0]))' "$model_dir/user_ids.json") || return 1
  serve_port="${CAPSTAN_SERVE_PORT:-8090}"
  mkdir -p "$CAPSTAN_HOME/serve"
  cat >"$CAPSTAN_HOME/serve/config.properties" <<PROPS
inference_address=http://127.0.0.1:$serve_port
management_address=http://127.0.0.1:$((serve_port + 1))
metrics_address=http://127.0.0.1:$((serve_port + 2))
model_store=$(dirname "$artifact")
load_models=similar-users=$(basename "$artifact")
disable_token_authorization=true
PROPS
  node "$root/bin/capstan.js" serve --ts-config "$CAPSTAN_HOME/serve/config.properties" >"$CAPSTAN_HOME/serve/serve.log" 2>&1 &
  serve_pid=$!
  for _ in $(seq 1 120); do
    answer=$(curl -sf -X POST "http://127.0.0.1:$serve_port/predictions/similar-users" -H 'content-type: application/json' -d "{\"user_id\": $user, \"k\": 3}" 2>/dev/null) && break
    kill -0 $serve_pid 2>/dev/null || { cat "$CAPSTAN_HOME/serve/serve.log" >&2; return 1; }
    sleep 0.5
  done
  [ -n "${answer:-}" ] || { echo "the model server did not answer; see $CAPSTAN_HOME/serve/serve.log" >&2; return 1; }
  printf 'similar-users version %s is production, served by capstan serve (log: %s/serve/serve.log):
' "$version" "$CAPSTAN_HOME" >&2
  printf "  curl -s -X POST http://127.0.0.1:%s/predictions/similar-users -H 'content-type: application/json' -d '{\"user_id\": %s, \"k\": 3}'\n" "$serve_port" "$user"
  node -e 'console.log("  " + JSON.stringify(JSON.parse(process.argv[1])))' "$answer"
}
if [ $status = 0 ]; then
  serve_model || echo "serving the model did not work; the platform keeps running" >&2
fi
wait $up_pid
