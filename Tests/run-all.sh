#!/usr/bin/env bash
# The whole test suite: unit tests (swift test), then end-to-end tests that
# start the release tessera-server and drive it with redis-py and redis-cli
# (plugins included: Plugins/ is built with make),
# then the Debian package (built, lintian-checked) under a real systemd booted
# with systemd-nspawn (Tests/packaging; needs root, as CI has).
# Installs missing system packages first, and the pinned Python packages of
# Tests/requirements.txt into .venv/; every Python step runs with .venv's
# interpreter, never the machine's own packages. Exit status is non-zero on any
# failure.
set -euo pipefail
cd "$(dirname "$0")/.."
Packaging/dev/install-deps.sh tests
PYTHON="$PWD/.venv/bin/python"

echo "== build (release) =="
swift build -c release --product tessera-server
swift build -c release --product tessera-ctl

echo "== plugins (Plugins/Makefile) =="
make -C Plugins

echo "== unit tests =="
swift test

echo "== end-to-end tests =="
TESSERA_SERVER="$PWD/.build/release/tessera-server" "$PYTHON" -m pytest -q -p no:cacheprovider -rfEs Tests/e2e

echo "== Debian package (Packaging/deb/build-deb.sh, lintian) =="
deb_log=$(mktemp)
Packaging/deb/build-deb.sh | tee "$deb_log"
DEB=$(tail -n 1 "$deb_log")
rm -f "$deb_log"

echo "== the package under systemd (systemd-nspawn) =="
TESSERA_DEB="$DEB" "$PYTHON" -m pytest -q -p no:cacheprovider Tests/packaging
