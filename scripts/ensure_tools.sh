#!/usr/bin/env bash
# Installs the command-line tools the tests drive for real, when missing:
# tmux (TUI smoke test in a real terminal), poppler-utils (pdftoppm/pdftotext/pdffonts) and
# util-linux's unshare (a small, really full disk in a private mount namespace).
set -euo pipefail
missing=()
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
command -v unshare >/dev/null 2>&1 || missing+=(util-linux)
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "need root to install: ${missing[*]}" >&2; exit 2; }
  SUDO="sudo"
fi
echo "== installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
