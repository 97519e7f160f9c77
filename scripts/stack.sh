#!/usr/bin/env bash
# `npm run stack`: install what is missing (one step, with progress), start RabbitMQ and the MongoDB-compatible
# server (unless MONGO_URL / AMQP_URL answer), then the whole Baygate system, submit the example orders and
# follow them to their final status. The gateway listens on $PORT (default 8080).
set -euo pipefail
cd "$(dirname "$0")/.."
fail() { echo "npm run stack: FAILED: $1" >&2; echo "npm run stack: how to fix: $2" >&2; exit 1; }
[ -d node_modules ] || fail "node_modules is missing" "run npm ci first (npm ci && npm run stack)"
missing=$(bash scripts/services.sh needs)
# shellcheck disable=SC2086 # a list of words
bash scripts/install-deps.sh tools $missing || fail "installing what Baygate needs (see above)" "fix the step reported above and run the command again"
bash scripts/services.sh start || fail "the services did not start (see above)" "fix the step reported above, or set MONGO_URL / AMQP_URL to running servers"
exec node bin/baygate.js stack "$@"
