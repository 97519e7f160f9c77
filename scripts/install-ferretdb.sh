#!/usr/bin/env bash
# Builds FerretDB v1.24 (MongoDB wire protocol, SQLite backend) into .services/bin/ferretdb.
#
# `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.0` fetches and builds it, but the binary it
# produces panics at start-up ("Invalid build/version/version.txt file content"): the module zip lacks the
# version.txt that FerretDB's release process generates. So we let `go install` fetch the module, then
# build the same source again with that one file written, as FerretDB's own build does.
set -euo pipefail
VERSION=v1.24.0
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN="$ROOT/.services/bin/ferretdb"

if [ -x "$BIN" ] && "$BIN" --version 2>/dev/null | grep -q "version: $VERSION"; then
  exit 0
fi
command -v go >/dev/null || { echo "install-ferretdb: Go is required (https://go.dev) to build FerretDB" >&2; exit 1; }

mkdir -p "$ROOT/.services/bin"
# Fetch (and try) the official way first; a future release with version.txt would just work.
GOBIN="$ROOT/.services/bin" go install "github.com/FerretDB/FerretDB/cmd/ferretdb@$VERSION"
if "$BIN" --version 2>/dev/null | grep -q "version: $VERSION"; then
  exit 0
fi

SRC=$(go env GOMODCACHE)/github.com/!ferret!d!b/!ferret!d!b@$VERSION
WORK=$(mktemp -d)
trap 'chmod -R u+w "$WORK"; rm -rf "$WORK"' EXIT
cp -r "$SRC/." "$WORK/"
chmod -R u+w "$WORK"
echo "$VERSION" > "$WORK/build/version/version.txt"
(cd "$WORK" && go build -trimpath -o "$BIN" ./cmd/ferretdb)
"$BIN" --version | head -1
