#!/usr/bin/env bash
# Long fuzz campaign: N generated models, connector and worker configs, expressions and YAML
# documents through the product, each batch in a forked child at low priority with an
# address-space limit and a per-input timeout. Counts tracebacks, hangs (> --timeout s of CPU) and
# inputs whose peak RSS passes 1 GiB; minimised failures go to the output folder.
#
#   scripts/fuzz.sh [INPUTS] [OUTPUT_DIR] [extra options of tests/fuzz/campaign.py]
#   scripts/fuzz.sh 100000 fuzz-failures --jobs 2 --progress
#
# Exit code 1 when anything failed; the summary (JSON) is printed and kept in OUTPUT_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
INPUTS="${1:-10000}"
OUT="${2:-fuzz-failures}"
shift $(( $# > 2 ? 2 : $# ))
# One thread per numeric library: the children run side by side on shared cores.
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
exec nice -n 19 .venv/bin/python -m tests.fuzz.campaign --inputs "$INPUTS" --out "$OUT" "$@"
