#!/usr/bin/env bash
# Graphviz's `dot` for `doge graph --format svg|png` and its tests: installs Debian's graphviz
# package when `dot` is missing (as root, or through sudo). Idempotent; prints the path of dot.
set -euo pipefail
if ! command -v dot >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  echo "[graphviz] dot not found: installing Debian's graphviz package" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y -q graphviz >&2 || {
    $SUDO apt-get update -q >&2
    $SUDO apt-get install -y -q graphviz >&2
  }
fi
command -v dot
