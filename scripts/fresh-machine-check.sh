#!/usr/bin/env bash
# Does the README's first command work the first time on a fresh machine? (CI runs this on demand.)
#
#   sudo bash scripts/fresh-machine-check.sh [--keep] [--command '<shell command>']
#
# 1. A clean Debian bookworm root made with debootstrap (variant minbase: no git, no CA certificates, no
#    RabbitMQ, nothing of ours). The base root is cached as a tarball in /var/cache/baygate-fresh/ after the
#    first run; every run unpacks a new copy, so nothing from an earlier run is left in it.
# 2. Only what the README promises a newcomer has: Node.js ≥ 20.19 with npm (the host's node and npm, copied into
#    the root's /usr/local) and Go (the host's /usr/local/go, bind-mounted read-only). The root also gets the
#    host's /etc/hosts and /etc/resolv.conf, and the host's local certificate authorities
#    (/usr/local/share/ca-certificates, and NODE_EXTRA_CA_CERTS when the host sets it): any machine on this
#    network needs them (its HTTPS egress goes through a proxy with its own CA). And a policy-rc.d that keeps
#    Debian packages from starting system services (a chroot has no init; a real machine would start its own
#    RabbitMQ).
# 3. A fresh `git clone` of this checkout's committed HEAD into /home/newcomer/baygate (made from the host).
# 4. Exactly the README's first command, as root, inside the root: `npm ci && npm run stack -- --exit`.
#    A chroot shares the host's network and loopback ports, so the services and the gateway use ports of their
#    own: PORT=8090, AMQP_URL …:5690, MONGO_URL …:27090 (FRESH_PORT, FRESH_AMQP_PORT, FRESH_MONGO_PORT).
# 5. The services started inside are stopped, leftover processes of the root are ended (by pid), mounts undone.
#
# Prints PASSED or FAILED with the exit code, the time, the longest silence between two output lines, and where
# the full log is. Exits with the command's exit code.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PROGRESS_PREFIX=fresh-machine
# shellcheck source=lib/progress.sh
. "$ROOT/scripts/lib/progress.sh"

KEEP=0
COMMAND='npm ci && npm run stack -- --exit'
while [ $# -gt 0 ]; do
  case "$1" in
    --keep) KEEP=1 ;;
    --command) COMMAND=$2; shift ;;
    *) echo "usage: $0 [--keep] [--command '<shell command>']" >&2; exit 2 ;;
  esac
  shift
done
PORT=${FRESH_PORT:-8090}
AMQP_PORT=${FRESH_AMQP_PORT:-5690}
MONGO_PORT=${FRESH_MONGO_PORT:-27090}
MIRROR=${FRESH_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
CACHE_DIR=/var/cache/baygate-fresh
BASE="$CACHE_DIR/$SUITE-minbase.tar"

say() { echo "fresh-machine: $*"; }
die() { echo "fresh-machine: FAILED: $1" >&2; echo "fresh-machine: how to fix: $2" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "this needs root (debootstrap, chroot, mount)" "run it with sudo"
NODE=$(command -v node) || die "no node on this host to give the fresh root" "install Node.js ≥ 20.19"
node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>20||(a===20&&b>=19)?0:1)' ||
  die "the host's node is $(node --version), older than the README's 20.19" "install Node.js ≥ 20.19"
NPM_DIR=$(cd "$(dirname "$(readlink -f "$(command -v npm)")")/.." && pwd) # …/node_modules/npm
[ -f "$NPM_DIR/bin/npm-cli.js" ] || die "cannot find npm's directory (got $NPM_DIR)" "install npm beside node"
GOROOT_HOST=$(go env GOROOT 2>/dev/null) || die "no Go on this host to give the fresh root" "install Go (https://go.dev/doc/install)"
command -v git >/dev/null || die "git is needed on the host to clone the checkout" "apt-get install git"
if ! command -v debootstrap >/dev/null; then
  step "installing debootstrap on the host" "apt-get update && apt-get install debootstrap" \
    bash -c 'DEBIAN_FRONTEND=noninteractive apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y debootstrap'
fi

WORK=$(mktemp -d /var/tmp/baygate-fresh.XXXXXX)
R="$WORK/root"
mkdir -p "$R"
mounted=()
cleanup() {
  set +e
  # end whatever still runs inside the root (only processes whose root is ours), by pid
  # (except an epmd: Erlang's port mapper on 4369 is shared by every RabbitMQ node on the machine, the host's too)
  for p in /proc/[0-9]*; do
    if [ "$(readlink "$p/root" 2>/dev/null)" = "$R" ] && [ "$(cat "$p/comm" 2>/dev/null)" != epmd ]; then
      kill -KILL "${p#/proc/}" 2>/dev/null
    fi
  done
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[$i]}" 2>/dev/null; done
  if [ $KEEP = 1 ]; then say "kept the root at $R"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

if [ ! -f "$BASE" ]; then
  mkdir -p "$CACHE_DIR"
  step "making a clean Debian $SUITE root with debootstrap (minbase, from $MIRROR; a few minutes, once)" \
    "check the network access to $MIRROR (or set FRESH_MIRROR to a reachable Debian mirror)" \
    debootstrap --variant=minbase "$SUITE" "$WORK/base" "$MIRROR"
  tar -C "$WORK/base" -cf "$BASE.new" . && mv "$BASE.new" "$BASE"
  rm -rf "$WORK/base"
fi
tar -C "$R" -xf "$BASE"
say "fresh root at $R (Debian $(cat "$R/etc/debian_version"), debootstrap minbase)"

# what the README promises the newcomer has: Node.js with npm, and Go
cp "$NODE" "$R/usr/local/bin/node"
mkdir -p "$R/usr/local/lib/node_modules"
cp -a "$NPM_DIR" "$R/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$R/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$R/usr/local/bin/npx"
mkdir -p "$R/usr/local/go"
mount --bind "$GOROOT_HOST" "$R/usr/local/go" && mounted+=("$R/usr/local/go")
mount -o remount,ro,bind "$R/usr/local/go" || say "note: could not make the Go mount read-only"
cp /etc/hosts /etc/resolv.conf "$R/etc/"
NETWORK_CA=()
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  mkdir -p "$R/usr/local/share/ca-certificates" "$R/etc/ssl"
  cp /usr/local/share/ca-certificates/*.crt "$R/usr/local/share/ca-certificates/"
  if [ -n "${NODE_EXTRA_CA_CERTS:-}" ]; then
    cat /usr/local/share/ca-certificates/*.crt > "$R/etc/ssl/local-ca.pem"
    NETWORK_CA=(NODE_EXTRA_CA_CERTS=/etc/ssl/local-ca.pem)
  fi
  say "gave it this network's local CAs: $(cd /usr/local/share/ca-certificates && ls -- *.crt | tr '\n' ' ')${NETWORK_CA[*]:+(and ${NETWORK_CA[*]})}"
fi
printf '#!/bin/sh\nexit 101\n' > "$R/usr/sbin/policy-rc.d" && chmod +x "$R/usr/sbin/policy-rc.d"
mount -t proc proc "$R/proc" && mounted+=("$R/proc")
mount -t sysfs sys "$R/sys" && mounted+=("$R/sys")
mount --bind /dev "$R/dev" && mounted+=("$R/dev")
mount --bind /dev/pts "$R/dev/pts" && mounted+=("$R/dev/pts")
if mountpoint -q /dev/shm; then mount --bind /dev/shm "$R/dev/shm" && mounted+=("$R/dev/shm"); fi
say "gave it node $("$NODE" --version), npm $(node "$NPM_DIR/bin/npm-cli.js" --version) and $(go version | cut -d' ' -f3) ($GOROOT_HOST, read-only)"

COMMIT=$(git -C "$ROOT" rev-parse HEAD)
if [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no)" ]; then
  say "note: $ROOT has uncommitted changes; the check runs the committed HEAD ($COMMIT)"
fi
mkdir -p "$R/home/newcomer"
git clone -q --no-hardlinks "$ROOT" "$R/home/newcomer/baygate"
git -C "$R/home/newcomer/baygate" checkout -q "$COMMIT"
say "cloned $COMMIT ($(git -C "$ROOT" log -1 --format=%s | cut -c1-80))"

LOG="$WORK/run.log"
say "running, as root in the fresh root: $COMMAND"
say "(PORT=$PORT AMQP_URL=amqp://guest:guest@127.0.0.1:$AMQP_PORT MONGO_URL=mongodb://127.0.0.1:$MONGO_PORT/baygate; full log: $LOG)"
start=$SECONDS
rc=0
set +e
{
  echo "== start"
  chroot "$R" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb "${NETWORK_CA[@]}" \
    PATH=/usr/local/go/bin:/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin \
    PORT="$PORT" AMQP_URL="amqp://guest:guest@127.0.0.1:$AMQP_PORT" MONGO_URL="mongodb://127.0.0.1:$MONGO_PORT/baygate" \
    bash -c "cd /home/newcomer/baygate && $COMMAND" 2>&1
} | while IFS= read -r line; do printf '%s %s\n' "$SECONDS" "$line"; done | tee "$LOG" | cut -d' ' -f2-
rc=${PIPESTATUS[0]} # the { … } group: the command's exit code
set -e
printf '%s == end\n' "$SECONDS" >> "$LOG"
elapsed=$((SECONDS - start))

# stop the services the command started inside the root
chroot "$R" /usr/bin/env -i HOME=/root PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  AMQP_URL="amqp://guest:guest@127.0.0.1:$AMQP_PORT" MONGO_URL="mongodb://127.0.0.1:$MONGO_PORT/baygate" \
  bash -c 'cd /home/newcomer/baygate && [ -d node_modules ] && bash scripts/services.sh stop' >/dev/null 2>&1 || true

gap=$(awk 'NR > 1 && $1 - prev > max { max = $1 - prev; after = text } { prev = $1; if (NF > 1) text = substr($0, index($0, " ") + 1) }
  END { printf "%d s, after \"%s\"", max, substr(after, 1, 100) }' "$LOG")
echo
if [ "$rc" = 0 ]; then
  say "PASSED: \`$COMMAND\` exited 0 in ${elapsed} s on a fresh Debian $SUITE root (commit ${COMMIT:0:12})"
else
  say "FAILED: \`$COMMAND\` exited $rc after ${elapsed} s on a fresh Debian $SUITE root (commit ${COMMIT:0:12}); the last lines:"
  tail -15 "$LOG" | cut -d' ' -f2- | sed 's/^/    /'
fi
say "longest silence between two output lines: $gap"
cp "$LOG" "$CACHE_DIR/last-run.log" 2>/dev/null && say "log: $CACHE_DIR/last-run.log"
exit "$rc"
