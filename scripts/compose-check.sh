#!/usr/bin/env bash
# The compose file's checker (scripts/compose-check/main.go, compose-go: docker compose's own
# loader), built once from the Go module proxy into .cache/tools/ and reused. Idempotent; prints
# the path of the binary.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=$(awk '/compose-go/ {print $3}' scripts/compose-check/go.mod)
OUT=.cache/tools/compose-check-$VERSION
if [ ! -x "$OUT/compose-check" ]; then
  command -v go >/dev/null 2>&1 || { echo "[compose-check] go not found" >&2; exit 1; }
  echo "[compose-check] building with compose-go $VERSION (once)" >&2
  mkdir -p "$OUT/src"
  cp scripts/compose-check/main.go scripts/compose-check/go.mod "$OUT/src/"
  (cd "$OUT/src" && GOFLAGS=-buildvcs=false go mod tidy >&2 \
     && GOFLAGS=-buildvcs=false go build -o ../compose-check . >&2)
fi
echo "$(pwd)/$OUT/compose-check"
