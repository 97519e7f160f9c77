# Sourced by the install scripts: run a long step with a line of progress at least every 15 s, and say what
# failed and how to fix it when it fails.
#
#   step "<what is being done>" "<how to fix it if it fails>" command [args…]
#
# The command's own output goes to a log file; on failure its last 30 lines are shown with the fix.
# PROGRESS_PREFIX names the script in every line ("install-deps", "install-ferretdb", …).

PROGRESS_EVERY=${PROGRESS_EVERY:-15}

step() {
  local what=$1 fix=$2
  shift 2
  local prefix=${PROGRESS_PREFIX:-install}
  local log
  log=$(mktemp "${TMPDIR:-/tmp}/baygate-step.XXXXXX")
  local started=$SECONDS
  echo "$prefix: $what…"
  "$@" >"$log" 2>&1 &
  local pid=$!
  local last=$SECONDS
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    if [ $((SECONDS - last)) -ge "$PROGRESS_EVERY" ]; then
      last=$SECONDS
      echo "$prefix: still $what ($((SECONDS - started)) s; last output: $(tail -c 300 "$log" | tr -d '\r' | tail -1 | cut -c1-120))"
    fi
  done
  local rc=0
  wait "$pid" || rc=$?
  if [ "$rc" -ne 0 ]; then
    {
      echo "$prefix: FAILED: $what (exit $rc after $((SECONDS - started)) s). Its last output:"
      tail -30 "$log" | sed 's/^/    /'
      echo "$prefix: how to fix: $fix"
    } >&2
    rm -f "$log"
    return "$rc"
  fi
  echo "$prefix: done: $what ($((SECONDS - started)) s)"
  rm -f "$log"
}
