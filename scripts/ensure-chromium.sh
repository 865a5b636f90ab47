#!/usr/bin/env bash
# Make sure headless Chromium and its ChromeDriver are on PATH for the explorer's browser tests
# (tests/autodiff/viz/test_explorer_browser.py). Installs Debian's `chromium` and
# `chromium-driver` with apt-get where that is available and permitted. If they cannot be
# installed, CI (CI=true) stops here, since its browser tests must run; elsewhere the tests skip,
# and this says how to install them.
set -euo pipefail
have_browser() {
    { command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; } &&
        command -v chromedriver >/dev/null 2>&1
}
if have_browser; then
    exit 0
fi
echo "Chromium or ChromeDriver is missing; installing Debian's chromium and chromium-driver." >&2
as_root=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        as_root="sudo -n"
    else
        as_root="none"
    fi
fi
if command -v apt-get >/dev/null 2>&1 && [ "$as_root" != "none" ]; then
    export DEBIAN_FRONTEND=noninteractive
    $as_root apt-get update -qq >/dev/null
    $as_root apt-get install -y -qq chromium chromium-driver >/dev/null
    if have_browser; then
        chromedriver --version
        exit 0
    fi
fi
cat >&2 <<'MSG'
The explorer's browser tests need headless Chromium and ChromeDriver, which could not be
installed automatically. Install them, then run the tests again:
  Debian:        sudo apt-get install chromium chromium-driver
  Ubuntu:        sudo apt-get install chromium-browser chromium-chromedriver
  Fedora:        sudo dnf install chromium chromedriver
  macOS:         brew install --cask chromium chromedriver
Without them the browser tests skip, except in CI (CI=true), where they must run.
MSG
if [ "${CI:-}" = "true" ]; then
    exit 1
fi
exit 0
