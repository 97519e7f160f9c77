#!/usr/bin/env bash
# `npm test`: starts RabbitMQ and the MongoDB-compatible server when none answer, runs every mocha test,
# and stops afterwards only what it started itself.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

before=$(bash scripts/services.sh status 2>/dev/null || true)
# install what is missing first, in one step (tools for the XML and signature checks, chromium for the dashboard)
missing=$(bash scripts/services.sh needs)
# shellcheck disable=SC2086 # a list of words
bash scripts/install-deps.sh tools browser $missing || { echo "npm test: FAILED: installing what the tests need (see above for the step and how to fix it)" >&2; exit 1; }
bash scripts/services.sh start || { echo "npm test: FAILED: the services could not be started (see above for how to fix it)" >&2; exit 1; }

if [ -d ../shared/ceb-2022 ]; then
  echo "npm test: official CEB schemas found at ../shared/ceb-2022: XSD conformance tests will run"
else
  echo "npm test: official CEB schemas not found at ../shared/ceb-2022: XSD conformance tests against them are not run"
fi

out=$(mktemp)
if [ $# -eq 0 ]; then set -- "test/**/*.test.ts"; fi
npx mocha --color "$@" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
# One plain closing line that any CI reads: "N passed, N failed".
strip() { sed -E 's/\x1b\[[0-9;]*m//g' "$out"; }
passed=$(strip | grep -oE '^ +[0-9]+ passing' | grep -oE '[0-9]+' | tail -1)
failed=$(strip | grep -oE '^ +[0-9]+ failing' | grep -oE '[0-9]+' | tail -1)
echo "mocha: ${passed:-0} passed, ${failed:-0} failed"
rm -f "$out"

# Leave running what was already running before (a developer's `npm run services:start`).
if ! grep -q "rabbitmq: up" <<<"$before"; then bash scripts/services.sh stop rabbitmq >/dev/null; fi
if ! grep -q "mongo: up" <<<"$before"; then bash scripts/services.sh stop mongo >/dev/null; fi
exit $rc
