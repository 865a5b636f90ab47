#!/usr/bin/env bash
# Make sure Graphviz's `dot` program is on PATH: `pip install graphviz` installs only the
# Python side. Installs it with apt-get where that is available and permitted; otherwise stops
# with a message saying how to install it.
set -euo pipefail
if command -v dot >/dev/null 2>&1; then
    exit 0
fi
echo "Graphviz's 'dot' program is missing; installing it." >&2
if command -v apt-get >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ]; then
        sudo=""
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo="sudo -n"
    else
        sudo="unavailable"
    fi
    if [ "$sudo" != "unavailable" ]; then
        export DEBIAN_FRONTEND=noninteractive
        $sudo apt-get update -qq >/dev/null
        $sudo apt-get install -y -qq graphviz >/dev/null
        command -v dot >/dev/null 2>&1 && { dot -V; exit 0; }
    fi
fi
cat >&2 <<'MSG'
Graphviz's `dot` program is needed to render graphs and could not be installed automatically.
`pip install graphviz` installs only the Python side. Install the program itself:
  Debian/Ubuntu: sudo apt-get install graphviz
  Fedora:        sudo dnf install graphviz
  macOS:         brew install graphviz
  conda:         conda install -c conda-forge graphviz
  Windows:       the installer from graphviz.org, then add its bin folder to PATH
MSG
exit 1
