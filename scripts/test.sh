#!/usr/bin/env bash
# The whole test suite on a fresh machine: sets up what tests need (scripts/setup.sh --test), then
# lint, type check, the vitest suite (unit, integration on SQLite and a real PostgreSQL, the crash
# test, notebooks against real papermill, the Kubernetes executor against a real API server, browser
# tests in Chromium) and the Python tests of the reference pipeline.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/setup.sh --test
printf '\n==> lint and type check\n' >&2
npm run --silent lint
npm run --silent typecheck
printf '\n==> tests\n' >&2
# Besides the usual output, a JSON report from which the slowest files are listed at the end, pass or fail.
report="$(mktemp -t capstan-vitest-XXXXXX.json)"
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" || status=$?
node scripts/slowest-test-files.mjs "$report" 15 >&2 || true
rm -f "$report"
[ "$status" -eq 0 ] || exit "$status"
printf '\n==> Python tests of the reference pipeline\n' >&2
.venv/bin/python -m pytest examples/similar-users/tests -q
printf '\n==> Python tests of the runtime helpers tasks import\n' >&2
.venv/bin/python -m pytest python/tests -q
