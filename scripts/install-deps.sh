#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks to run Baygate and its tests, in one step, before anything starts:
#
#   scripts/install-deps.sh [component…]      default: all of them
#     rabbitmq   Debian rabbitmq-server
#     ferretdb   FerretDB v1.24 with Baygate's patches, built with Go into .services/bin (needs git, ca-certificates)
#     tools      Debian libxml2-utils (xmllint), xmlsec1, openssl
#     browser    Debian chromium (the dashboard's end-to-end tests)
#
# Idempotent and quick when everything is there. Debian packages need root (or sudo). Long steps print a line at
# least every 15 s; a failed step says what failed and how to fix it, and the script exits non-zero.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PROGRESS_PREFIX=install-deps
# shellcheck source=lib/progress.sh
. "$ROOT/scripts/lib/progress.sh"

components=("$@")
[ ${#components[@]} -gt 0 ] || components=(rabbitmq ferretdb tools browser)
wants() { local c; for c in "${components[@]}"; do [ "$c" = "$1" ] && return 0; done; return 1; }
for c in "${components[@]}"; do
  case "$c" in rabbitmq | ferretdb | tools | browser) ;; *) echo "install-deps: unknown component '$c' (rabbitmq, ferretdb, tools, browser)" >&2; exit 2 ;; esac
done

need=()
if wants rabbitmq; then [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || need+=(rabbitmq-server); fi
if wants ferretdb; then
  command -v git >/dev/null || need+=(git)
  [ -s /etc/ssl/certs/ca-certificates.crt ] || need+=(ca-certificates) # Go fetches modules over HTTPS
fi
if wants tools; then
  command -v xmllint >/dev/null || need+=(libxml2-utils)
  command -v xmlsec1 >/dev/null || need+=(xmlsec1)
  command -v openssl >/dev/null || need+=(openssl)
fi
if wants browser; then command -v chromium >/dev/null || need+=(chromium); fi

if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then
    if ! command -v sudo >/dev/null; then
      echo "install-deps: FAILED: these Debian packages are missing and installing them needs root: ${need[*]}" >&2
      echo "install-deps: how to fix: run this as root, or install them yourself: apt-get install ${need[*]}" >&2
      exit 1
    fi
    SUDO="sudo"
  fi
  if ! command -v apt-get >/dev/null; then
    echo "install-deps: FAILED: missing ${need[*]}, and this is not a Debian-like system (no apt-get)." >&2
    echo "install-deps: how to fix: install the equivalents with your package manager, or set MONGO_URL / AMQP_URL to running servers." >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  step "updating the Debian package lists (apt-get update)" \
    "check the network and /etc/apt/sources.list*, then run: $SUDO apt-get update" \
    $SUDO apt-get update
  step "installing Debian packages: ${need[*]} (can take a few minutes on a fresh machine)" \
    "run: $SUDO apt-get install ${need[*]}   and read its error (a held or broken package, a full disk, no network)" \
    $SUDO apt-get install -y --no-install-recommends "${need[@]}"
fi

if wants ferretdb; then bash "$ROOT/scripts/install-ferretdb.sh"; fi
