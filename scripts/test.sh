#!/usr/bin/env bash
# Lint, type-check, check the import layers, start the local Kafka + Schema Registry + PostgreSQL
# (unless already running), run the whole suite, and stop what this script started even when
# tests fail.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

"$BIN/ruff" check connector tests bench
"$BIN/mypy"
"$BIN/lint-imports"  # the package layers (.importlinter)
scripts/graphviz.sh >/dev/null  # `dot` for the graph tests (Debian's graphviz when missing)
scripts/helm.sh >/dev/null  # helm for tests/deploy (built once from the Go module proxy)
scripts/compose-check.sh >/dev/null  # docker compose's loader for tests/deploy (same)

started=0
if ! scripts/infra.sh status >/dev/null 2>&1; then
  scripts/infra.sh up
  started=1
fi
cleanup() { if [ "$started" = 1 ]; then scripts/infra.sh down || true; fi; }
trap cleanup EXIT

# shellcheck disable=SC1091
source .cache/infra/env
export DOGE_TEST_BOOTSTRAP DOGE_TEST_REGISTRY DOGE_TEST_POSTGRES
"$BIN/pytest" "$@"
