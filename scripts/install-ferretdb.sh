#!/usr/bin/env bash
# Builds FerretDB v1.24 (MongoDB wire protocol, SQLite backend) with Baygate's patches into .services/bin/ferretdb.
#
#   scripts/install-ferretdb.sh              the patched server (what services.sh runs); instant when up to date
#   scripts/install-ferretdb.sh --upstream   the unpatched v1.24.0 as .services/bin/ferretdb-upstream
#                                            (npm run bench:db and the contract's evidence compare the two)
#
# The patches (scripts/ferretdb-patches/*.patch, applied in name order) give FerretDB what the store relies on
# from MongoDB: single-document atomicity and indexed queries. Each says why in its header;
# docs/decisions/0001-ferretdb-patches.md has the evidence. FerretDB 1.x is archived, so they cannot go upstream.
#
# How: `go mod download` fetches the module source; it is copied, FerretDB's version file is written (the
# module zip lacks build/version/version.txt, without which the binary panics at start-up), the patches are
# applied with `git apply`, and the copy is built. A stamp beside the binary records the version and a hash of
# the patches and of this script: a binary built from another patch set (or from none, or another way) is
# rebuilt, never reused.
set -euo pipefail
VERSION=v1.24.0
MODULE=github.com/FerretDB/FerretDB
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PATCHES="$ROOT/scripts/ferretdb-patches"
PROGRESS_PREFIX=install-ferretdb
# shellcheck source=lib/progress.sh
. "$ROOT/scripts/lib/progress.sh"

flavour=patched
case "${1:-}" in
  "") ;;
  --upstream) flavour=upstream ;;
  *) echo "usage: $0 [--upstream]" >&2; exit 2 ;;
esac

if [ $flavour = patched ]; then
  BIN="$ROOT/.services/bin/ferretdb"
  stamp=$( { echo "$VERSION"; cat "${BASH_SOURCE[0]}"; for p in "$PATCHES"/*.patch; do basename "$p"; cat "$p"; done; } | sha256sum | cut -d' ' -f1)
else
  BIN="$ROOT/.services/bin/ferretdb-upstream"
  stamp=$( { echo "$VERSION upstream"; cat "${BASH_SOURCE[0]}"; } | sha256sum | cut -d' ' -f1)
fi
STAMP="$BIN.stamp"

# (the binary's output is read whole: `| grep -q` could end it with SIGPIPE, a failure under pipefail)
version_of() { "$1" --version 2>/dev/null || true; }
if [ -x "$BIN" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$stamp" ] && [[ $(version_of "$BIN") == *"version: $VERSION"* ]]; then
  exit 0
fi
if [ -x "$BIN" ]; then echo "install-ferretdb: $BIN was built from another patch set (or none): rebuilding it"; fi

if ! command -v go >/dev/null; then
  echo "install-ferretdb: FAILED: Go is not installed, and it is needed to build FerretDB $VERSION." >&2
  echo "install-ferretdb: how to fix: install Go 1.22 or newer (https://go.dev/doc/install, or Debian's golang-go from bookworm-backports) and put it on PATH." >&2
  exit 1
fi
command -v git >/dev/null || { echo "install-ferretdb: FAILED: git is needed to apply the patches. How to fix: apt-get install git" >&2; exit 1; }

mkdir -p "$ROOT/.services/bin"
WORK=$(mktemp -d)
trap 'chmod -R u+w "$WORK" 2>/dev/null; rm -rf "$WORK"' EXIT

# Outside any Go module (the checkout has none, but a parent directory might).
step "fetching the FerretDB $VERSION module source (go mod download)" \
  "check the network access to the Go module proxy ($(go env GOPROXY)); behind a proxy set HTTPS_PROXY, or set GOPROXY to a reachable mirror" \
  bash -c "cd '$WORK' && go mod download -json '$MODULE@$VERSION' > '$WORK/module.json' || { cat '$WORK/module.json'; exit 1; }"
SRC=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' "$WORK/module.json")
[ -d "$SRC" ] || { echo "install-ferretdb: FAILED: go mod download did not report the module's directory (see $WORK/module.json)" >&2; exit 1; }

mkdir "$WORK/src"
cp -r "$SRC/." "$WORK/src/"
chmod -R u+w "$WORK/src"
echo "$VERSION" > "$WORK/src/build/version/version.txt"
# What `ferretdb --version` and buildInfo's gitVersion report: which build this is (tests print it).
if [ $flavour = patched ]; then echo "baygate-patched-${stamp:0:12}"; else echo "upstream"; fi > "$WORK/src/build/version/commit.txt"
if [ $flavour = patched ]; then
  for p in "$PATCHES"/*.patch; do
    if ! (cd "$WORK/src" && git apply -p1 "$p"); then
      echo "install-ferretdb: FAILED: the patch $(basename "$p") does not apply to FerretDB $VERSION." >&2
      echo "install-ferretdb: how to fix: regenerate it against the $VERSION source (see its header); the patches apply in name order." >&2
      exit 1
    fi
  done
  echo "install-ferretdb: applied $(ls "$PATCHES"/*.patch | wc -l) patches ($(cd "$PATCHES" && ls -- *.patch | tr '\n' ' '))"
fi

step "building FerretDB $VERSION ($flavour; the first build downloads its dependencies and compiles for a few minutes)" \
  "make sure Go ≥ 1.22 works (\`go version\`), the Go module proxy is reachable and there is 1 GB free for the Go build cache" \
  bash -c "cd '$WORK/src' && go build -trimpath -buildvcs=false -o '$BIN.new' ./cmd/ferretdb"
mv -f "$BIN.new" "$BIN"
echo "$stamp" > "$STAMP"
version=$(version_of "$BIN")
echo "install-ferretdb: ${version%%$'\n'*} ($flavour) at ${BIN#"$ROOT"/}"
