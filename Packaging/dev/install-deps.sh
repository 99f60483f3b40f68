#!/usr/bin/env bash
# Installs what building and testing Tessera needs on Debian 12, if missing:
# jemalloc (the allocator), libsystemd (sd_notify), redis-tools / redis-server (reference clients and
# the reference server for benchmarks), tcl (Redis's own test suite), and
# redis-py + pytest + prometheus-client (the /metrics parser) and
# prometheus-redis-exporter for the end-to-end tests; for the Debian package and its
# real-systemd test: dpkg-dev (dpkg-shlibdeps), lintian, debootstrap and
# systemd-container (systemd-nspawn); gcc and make for the plugins. Swift itself must be on PATH.
set -euo pipefail

need_apt=()
dpkg -s libjemalloc-dev >/dev/null 2>&1 || need_apt+=(libjemalloc-dev)
dpkg -s libsystemd-dev >/dev/null 2>&1 || need_apt+=(libsystemd-dev)
command -v redis-cli >/dev/null 2>&1 || need_apt+=(redis-tools)
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
command -v tclsh >/dev/null 2>&1 || need_apt+=(tcl)
command -v pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
command -v gcc >/dev/null 2>&1 || need_apt+=(gcc)        # plugins (Plugins/Makefile, Tests/e2e/modules)
command -v make >/dev/null 2>&1 || need_apt+=(make)
command -v readelf >/dev/null 2>&1 || need_apt+=(binutils)
command -v dpkg-shlibdeps >/dev/null 2>&1 || need_apt+=(dpkg-dev)
command -v lintian >/dev/null 2>&1 || need_apt+=(lintian)
command -v debootstrap >/dev/null 2>&1 || need_apt+=(debootstrap)
command -v systemd-nspawn >/dev/null 2>&1 || need_apt+=(systemd-container)
command -v prometheus-redis-exporter >/dev/null 2>&1 || need_apt+=(prometheus-redis-exporter)
if [ ${#need_apt[@]} -gt 0 ]; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -q "${need_apt[@]}"
    # The Debian package starts its own redis-server on 6379; we only want the binary.
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
        $SUDO systemctl disable --now redis-server >/dev/null 2>&1 || true
        $SUDO systemctl disable --now prometheus-redis-exporter >/dev/null 2>&1 || true
    fi
fi
python3 -c 'import redis, pytest' 2>/dev/null || python3 -m pip install -q redis pytest
python3 -c 'import prometheus_client' 2>/dev/null || python3 -m pip install -q prometheus-client
command -v swift >/dev/null 2>&1 || { echo "swift is not on PATH (expected the Swift 6 toolchain)" >&2; exit 1; }
