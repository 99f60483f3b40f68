#!/usr/bin/env bash
# Installs what Tessera needs on Debian 12, only what is missing; safe to run
# again, as root or as a user with sudo. Swift itself must be on PATH.
#
#   install-deps.sh server   what building and running tessera-server needs:
#                            jemalloc (the allocator), libsystemd (sd_notify),
#                            pkg-config. The quick start's server command.
#   install-deps.sh tests    the above, plus what the whole test suite needs:
#                            redis-tools and redis-server 7.0 (reference
#                            clients and server), tcl (Redis's own suite), gcc,
#                            make and binutils (plugins), dpkg-dev, lintian,
#                            debootstrap and systemd-container (the .deb under a
#                            real systemd), prometheus-redis-exporter, and the
#                            pinned Python packages of Tests/requirements.txt in
#                            the project's virtual environment .venv/.
set -euo pipefail
cd "$(dirname "$0")/../.."

mode=${1:-tests}
case "$mode" in
    server|tests) ;;
    *) echo "usage: $0 [server|tests]" >&2; exit 2 ;;
esac

command -v swift >/dev/null 2>&1 || { echo "swift is not on PATH (expected the Swift 6 toolchain)" >&2; exit 1; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "not root and no sudo: cannot install system packages" >&2; exit 1; }
    SUDO=sudo
fi

need_apt=()
want_pkg() { dpkg -s "$1" >/dev/null 2>&1 || need_apt+=("$1"); }
want_cmd() { command -v "$1" >/dev/null 2>&1 || need_apt+=("$2"); }

want_pkg libjemalloc-dev
want_pkg libsystemd-dev
want_cmd pkg-config pkg-config
if [ "$mode" = tests ]; then
    want_cmd redis-cli redis-tools
    want_cmd redis-server redis-server
    want_cmd redis-sentinel redis-sentinel   # failover tests (Tests/e2e/test_sentinel.py)
    want_cmd tclsh tcl
    want_cmd gcc gcc            # plugins (Plugins/Makefile, Tests/e2e/modules)
    want_cmd make make
    want_cmd readelf binutils
    want_cmd dpkg-shlibdeps dpkg-dev
    want_cmd lintian lintian
    want_cmd debootstrap debootstrap
    want_cmd systemd-nspawn systemd-container
    want_cmd prometheus-redis-exporter prometheus-redis-exporter
    # Debian's python3 has no venv module without this package; other Pythons
    # (pyenv, python.org builds) carry it themselves.
    python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need_apt+=(python3-venv)
fi

if [ ${#need_apt[@]} -gt 0 ]; then
    echo "== installing Debian packages: ${need_apt[*]} =="
    $SUDO apt-get -o DPkg::Lock::Timeout=600 update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -q "${need_apt[@]}"
    # Debian's redis-server package starts its own server on 6379 (and the
    # exporter its own); the tests want only the binaries.
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
        $SUDO systemctl disable --now redis-server >/dev/null 2>&1 || true
        $SUDO systemctl disable --now redis-sentinel >/dev/null 2>&1 || true
        $SUDO systemctl disable --now prometheus-redis-exporter >/dev/null 2>&1 || true
    fi
fi

[ "$mode" = tests ] || exit 0

# The reference server is Redis 7.0 (Debian 12 ships 7.0.15): tests that pair
# Tessera with it, and the expected replies they were checked against, assume it.
ref_version=$(redis-server --version | sed -n 's/.* v=\([0-9.]*\).*/\1/p')
case "$ref_version" in
    7.0.*) ;;
    *) echo "warning: redis-server is $ref_version, the tests were checked against 7.0.15" >&2 ;;
esac

# The project's virtual environment, rebuilt whenever Tests/requirements.txt
# changes (its checksum is kept inside the environment).
req=Tests/requirements.txt
stamp=.venv/requirements.sha256
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "== Python test environment (.venv from $req) =="
    rm -rf .venv
    python3 -m venv .venv
    .venv/bin/python -m pip install -q --disable-pip-version-check --no-input -r "$req"
    echo "$want" > "$stamp"
fi
