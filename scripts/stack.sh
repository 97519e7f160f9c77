#!/usr/bin/env bash
# `npm run stack`: start RabbitMQ and the MongoDB-compatible server (unless MONGO_URL / AMQP_URL answer),
# then the whole Baygate system, submit the example orders and follow them to their final status.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh start
exec node bin/baygate.js stack "$@"
