#!/usr/bin/env bash
# Runs the README's test command the way CI and a newcomer do: in a fresh
# clone of the current commit (nothing of this checkout's build, .venv or
# plugins), with a Python environment created from Tests/requirements.txt.
# Prints the suite's summary lines and the wall time; exits with its status.
#
#   Scripts/check-fresh-clone.sh [--keep] [extra env, e.g. TESSERA_TEST_CACHE=/tmp/x]
#
# --keep leaves the clone (its path is printed) for a look at what failed.
# Commit first: uncommitted changes are not in the clone (a warning says so).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
keep=no
if [ "${1:-}" = --keep ]; then keep=yes; shift; fi

commit=$(git -C "$repo" rev-parse HEAD)
if [ -n "$(git -C "$repo" status --porcelain --untracked-files=no)" ]; then
    echo "warning: uncommitted changes in $repo are not part of this check" >&2
fi
work=$(mktemp -d /tmp/tessera-fresh-XXXXXX)
log="$work.log"
[ "$keep" = yes ] || trap 'rm -rf "$work"' EXIT
git clone -q --no-local "$repo" "$work"
git -C "$work" checkout -q "$commit"
echo "== fresh clone of $commit in $work (log: $log) =="

start=$(date +%s)
status=0
# No variable of this shell leaks in beyond the basics a login has.
env -i HOME="$HOME" PATH="$PATH" LANG=C.UTF-8 TERM="${TERM:-dumb}" "$@" \
    bash -c 'cd "$0" && exec Tests/run-all.sh' "$work" >"$log" 2>&1 || status=$?
end=$(date +%s)

grep -E '^(== |[0-9]+ (passed|failed)|=+ .*(passed|failed|error).* =+$|.*Test run with .* tests)' "$log" || true
echo "== exit status $status after $(( (end - start) / 60 )) min $(( (end - start) % 60 )) s =="
exit "$status"
