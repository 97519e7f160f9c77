#!/usr/bin/env bash
# Development and test services: RabbitMQ and a MongoDB-wire server (FerretDB v1.24, SQLite backend).
#
#   scripts/services.sh start [rabbitmq|mongo]    use MONGO_URL / AMQP_URL when they answer, else start on loopback
#   scripts/services.sh stop  [rabbitmq|mongo]    stop only what this script started (by pid)
#   scripts/services.sh restart rabbitmq|mongo    used by the chaos tests
#   scripts/services.sh status
#   scripts/services.sh needs                     the install-deps.sh components the servers to start need
#
# `start` installs what is missing first, in one step (scripts/install-deps.sh, with progress lines), then starts
# both servers; each failure says what failed and how to fix it, and the exit code is non-zero.
# Idempotent: starting twice is fine. Data, logs and pids live in .services/ (git-ignored).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
STATE="$ROOT/.services"
mkdir -p "$STATE"

AMQP_URL=${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672}
MONGO_URL=${MONGO_URL:-mongodb://127.0.0.1:27017/baygate}
# The port of a URL (scheme://[user:pass@]host:port/…), so that one checkout's services can run beside
# another's: set AMQP_URL and MONGO_URL to other loopback ports and the servers started here listen there.
port_of() { local u=${1#*://}; u=${u##*@}; u=${u%%/*}; u=${u%%\?*}; [[ $u == *:* ]] && echo "${u##*:}" || echo "$2"; }
RABBITMQ_PORT=${BAYGATE_RABBITMQ_PORT:-$(port_of "$AMQP_URL" 5672)}
MONGO_PORT=${BAYGATE_MONGO_PORT:-$(port_of "$MONGO_URL" 27017)}
RMQ_DIR="$STATE/rabbitmq"
FDB_DIR="$STATE/ferretdb"
# One Erlang node name per port: epmd is shared by every RabbitMQ node on the machine.
NODENAME=baygate@localhost
[ "$RABBITMQ_PORT" = 5672 ] || NODENAME=baygate-$RABBITMQ_PORT@localhost

probe() { PROBE_TIMEOUT_MS=${PROBE_TIMEOUT_MS:-2000} node --import tsx "$ROOT/scripts/probe.ts" "$@" 2>/dev/null; }
pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
say() { echo "services: $*"; }

wait_until() { # what, seconds, pidfile of the server started here (or ""), command…
  local what=$1 secs=$2 pidfile=$3; shift 3
  local deadline=$((SECONDS + secs))
  until "$@"; do
    if [ -n "$pidfile" ] && ! pid_alive "$pidfile"; then say "$what exited before answering" >&2; return 1; fi
    if [ $SECONDS -ge $deadline ]; then say "$what did not answer within ${secs}s" >&2; return 1; fi
    sleep 0.5
  done
}

not_started() { # what, port, log, variable, example: says what failed and how to fix it; returns 1
  {
    say "FAILED: $1 did not start on 127.0.0.1:$2. The end of $3:"
    tail -20 "$3" | sed 's/^/    /'
    say "how to fix: read the log above; if the port is taken, set $4 to a free one (e.g. $5)"
  } >&2
  return 1
}

# RabbitMQ runs as the calling user with everything (cookie, mnesia, logs) under .services/rabbitmq.
rmq_env() {
  export HOME="$RMQ_DIR/home" RABBITMQ_NODENAME=$NODENAME RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    RABBITMQ_NODE_PORT=$RABBITMQ_PORT RABBITMQ_DIST_PORT=$((RABBITMQ_PORT + 20000)) \
    RABBITMQ_MNESIA_BASE="$RMQ_DIR/mnesia" RABBITMQ_LOG_BASE="$RMQ_DIR/log" \
    RABBITMQ_CONFIG_FILE="$RMQ_DIR/rabbitmq" RABBITMQ_ENABLED_PLUGINS_FILE="$RMQ_DIR/enabled_plugins" \
    RABBITMQ_PID_FILE="$RMQ_DIR/rabbitmq.pid" ERL_EPMD_ADDRESS=127.0.0.1
}

start_rabbitmq() {
  if probe amqp "$AMQP_URL"; then say "rabbitmq answers at ${AMQP_URL%%@*}@… (using it)"; return 0; fi
  local rmq=/usr/lib/rabbitmq/bin/rabbitmq-server
  [ -x $rmq ] || bash "$ROOT/scripts/install-deps.sh" rabbitmq || return 1
  [ -x $rmq ] || { say "FAILED: rabbitmq-server is not installed. How to fix: apt-get install rabbitmq-server" >&2; return 1; }
  if ! pid_alive "$RMQ_DIR/started.pid"; then
    mkdir -p "$RMQ_DIR/home" "$RMQ_DIR/log" "$RMQ_DIR/mnesia"
    cat > "$RMQ_DIR/rabbitmq.conf" <<CONF
listeners.tcp.default = 127.0.0.1:$RABBITMQ_PORT
loopback_users.guest = true
disk_free_limit.absolute = 50MB
vm_memory_high_watermark.relative = 0.4
log.console = false
CONF
    echo '[].' > "$RMQ_DIR/enabled_plugins"
    (rmq_env; exec setsid nohup $rmq) > "$RMQ_DIR/log/startup.log" 2>&1 &
    echo $! > "$RMQ_DIR/started.pid"
    say "starting rabbitmq on 127.0.0.1:$RABBITMQ_PORT (pid $(cat "$RMQ_DIR/started.pid"))"
  fi
  wait_until rabbitmq 90 "$RMQ_DIR/started.pid" probe amqp "$AMQP_URL" ||
    not_started rabbitmq "$RABBITMQ_PORT" "$RMQ_DIR/log/startup.log" "AMQP_URL" "amqp://guest:guest@127.0.0.1:5690" || return 1
  say "rabbitmq ready"
}

start_mongo() {
  # A FerretDB this checkout started from a binary since rebuilt (the patch set changed) is restarted: tests must
  # never run on the old server just because it still answers.
  if pid_alive "$FDB_DIR/started.pid"; then
    bash "$ROOT/scripts/install-ferretdb.sh" || return 1
    if ! cmp -s "$STATE/bin/ferretdb.stamp" "$FDB_DIR/started.stamp" 2>/dev/null; then
      say "restarting FerretDB (pid $(cat "$FDB_DIR/started.pid")): it runs a binary built from another patch set"
      stop_mongo
    fi
  fi
  if probe mongo "$MONGO_URL"; then say "mongodb-compatible server answers at ${MONGO_URL%%\?*} (using it)"; return 0; fi
  if ! pid_alive "$FDB_DIR/started.pid"; then
    bash "$ROOT/scripts/install-ferretdb.sh" || return 1
    mkdir -p "$FDB_DIR/data"
    # `exec setsid` inside the background subshell: $! is FerretDB's own pid (setsid does not fork when the
    # caller is not a group leader), so stop/restart end the server itself, not a wrapper shell.
    # synchronous(normal) in WAL mode: a commit survives the server's crash or restart (not the machine's
    # power loss), without an fsync per insert — 2-4x the write throughput when scans compete (docs/BENCHMARKS.md).
    (cd "$FDB_DIR"; exec setsid nohup "$STATE/bin/ferretdb" --handler=sqlite --sqlite-url="file:$FDB_DIR/data/?_pragma=synchronous(normal)" \
      --listen-addr="127.0.0.1:$MONGO_PORT" --state-dir="$FDB_DIR" --telemetry=disable \
      --log-level=warn --debug-addr=-) > "$FDB_DIR/ferretdb.log" 2>&1 &
    echo $! > "$FDB_DIR/started.pid"
    cp "$STATE/bin/ferretdb.stamp" "$FDB_DIR/started.stamp"
    say "starting FerretDB v1.24 (SQLite) on 127.0.0.1:$MONGO_PORT (pid $(cat "$FDB_DIR/started.pid"))"
  fi
  wait_until ferretdb 60 "$FDB_DIR/started.pid" probe mongo "$MONGO_URL" ||
    not_started FerretDB "$MONGO_PORT" "$FDB_DIR/ferretdb.log" "MONGO_URL" "mongodb://127.0.0.1:27090/baygate" || return 1
  say "ferretdb ready"
}

# The install-deps.sh components needed by the servers `start` would start (none for one that answers).
needs() {
  local list=()
  if ! probe amqp "$AMQP_URL" && [ ! -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; then list+=(rabbitmq); fi
  # install-ferretdb.sh also rebuilds a binary built from another patch set, and is instant when up to date
  if ! probe mongo "$MONGO_URL"; then list+=(ferretdb); fi
  echo "${list[*]}"
}

# Install first, in one step, then start both (in parallel: each only waits for its server to answer).
start_all() {
  local missing
  missing=$(needs)
  if [ -n "$missing" ]; then
    # shellcheck disable=SC2086 # a list of words
    bash "$ROOT/scripts/install-deps.sh" $missing || { say "FAILED: installing what the services need ($missing): see above" >&2; return 1; }
  fi
  local r m rc_r=0 rc_m=0
  start_rabbitmq & r=$!
  start_mongo & m=$!
  wait $r || rc_r=$?
  wait $m || rc_m=$?
  [ $rc_r -eq 0 ] || say "FAILED: rabbitmq is not running (see above)" >&2
  [ $rc_m -eq 0 ] || say "FAILED: the MongoDB-compatible server is not running (see above)" >&2
  [ $rc_r -eq 0 ] && [ $rc_m -eq 0 ]
}

stop_pidfile() { # name pidfile
  local name=$1 pidfile=$2
  if pid_alive "$pidfile"; then
    local pid; pid=$(cat "$pidfile")
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL -- "-$pid" 2>/dev/null || true
    say "$name stopped"
  fi
  rm -f "$pidfile"
}

stop_rabbitmq() {
  if pid_alive "$RMQ_DIR/started.pid"; then
    (rmq_env; /usr/lib/rabbitmq/bin/rabbitmqctl -n $NODENAME stop >/dev/null 2>&1 || true)
  fi
  stop_pidfile rabbitmq "$RMQ_DIR/started.pid"
}
stop_mongo() { stop_pidfile ferretdb "$FDB_DIR/started.pid"; }

status() {
  if probe amqp "$AMQP_URL"; then say "rabbitmq: up$(pid_alive "$RMQ_DIR/started.pid" && echo " (started here, pid $(cat "$RMQ_DIR/started.pid"))")"; else say "rabbitmq: down"; fi
  if probe mongo "$MONGO_URL"; then say "mongo: up$(pid_alive "$FDB_DIR/started.pid" && echo " (FerretDB started here, pid $(cat "$FDB_DIR/started.pid"))")"; else say "mongo: down"; fi
}

cmd=${1:-status}; which=${2:-all}
case "$cmd" in
  start)
    case "$which" in rabbitmq) start_rabbitmq ;; mongo) start_mongo ;; all) start_all ;; esac ;;
  stop)
    case "$which" in rabbitmq) stop_rabbitmq ;; mongo) stop_mongo ;; all) stop_rabbitmq; stop_mongo ;; esac ;;
  restart)
    # Only a server this checkout started can be restarted; restarting "someone else's" would silently do
    # nothing, and the chaos run would then pass without the fault it claims (exit 3, loudly, instead).
    case "$which" in
      rabbitmq)
        if ! pid_alive "$RMQ_DIR/started.pid" && probe amqp "$AMQP_URL"; then say "cannot restart rabbitmq: the broker at ${AMQP_URL%%@*}@… was not started by this checkout ($ROOT)" >&2; exit 3; fi
        stop_rabbitmq; start_rabbitmq ;;
      mongo)
        if ! pid_alive "$FDB_DIR/started.pid" && probe mongo "$MONGO_URL"; then say "cannot restart mongo: the server at ${MONGO_URL%%\?*} was not started by this checkout ($ROOT)" >&2; exit 3; fi
        stop_mongo; start_mongo ;;
      *) echo "restart rabbitmq|mongo" >&2; exit 2 ;;
    esac ;;
  status) status ;;
  needs) needs ;;
  ctl) # rabbitmqctl against the node started here (tests use it to force-close connections)
    shift; (rmq_env; /usr/lib/rabbitmq/bin/rabbitmqctl -n $NODENAME "$@") ;;
  *) echo "usage: $0 start|stop|restart|status [rabbitmq|mongo] | needs | ctl <rabbitmqctl args>" >&2; exit 2 ;;
esac
