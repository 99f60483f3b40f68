#!/usr/bin/env bash
# Quick start: installs what is missing, builds tessera-server in release mode
# and runs it in the foreground with the bundled Config/tessera.conf.
# Data goes to ./data (override any directive: run-server.sh --port 7000).
set -euo pipefail
cd "$(dirname "$0")/../.."
Packaging/dev/install-deps.sh server
swift build -c release --product tessera-server
mkdir -p data
exec .build/release/tessera-server Config/tessera.conf --dir "$PWD/data" "$@"
