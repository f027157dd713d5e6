#!/usr/bin/env bash
# Helm for the chart's tests (`helm lint`, `helm template`): built once from the Go module proxy
# (helm.sh/helm/v3) into .cache/tools/ and reused. Idempotent; prints the path of helm.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=v3.19.0
DIR=.cache/tools/helm-$VERSION
if [ ! -x "$DIR/helm" ]; then
  command -v go >/dev/null 2>&1 || { echo "[helm] go not found" >&2; exit 1; }
  echo "[helm] building helm $VERSION from the Go module proxy (once, a few minutes)" >&2
  mkdir -p "$DIR"
  GOBIN="$(pwd)/$DIR" GOFLAGS=-buildvcs=false go install "helm.sh/helm/v3/cmd/helm@$VERSION" >&2
fi
echo "$(pwd)/$DIR/helm"
