#!/usr/bin/env bash
# Instructions per request of the serving shard, counted by callgrind: the
# same binary and load give the same count whatever else the machine does, so
# two builds can be compared where timings on a shared 2-core VM are noise
# (Benchmarks/compare.sh's CPU ratios move by 10-20% between runs).
#
# usage: Benchmarks/instructions.sh BINARY [BINARY...]
#        TESTS=set,get PIPELINE=16 Benchmarks/instructions.sh old/tessera-server new/tessera-server
#
# For each binary: the shard runs under valgrind --tool=callgrind twice, with
# N and 3N requests of redis-benchmark; the difference of the two totals over
# 2N requests per test cancels start-up and shutdown. Needs valgrind,
# redis-benchmark and redis-cli. Debug info is stripped from a copy first
# (valgrind 3.19 cannot read the DWARF 5 of Swift 6's toolchain).
set -euo pipefail
TESTS=${TESTS:-set,get}
PIPELINE=${PIPELINE:-16}
N=${N:-50000}
[ $# -ge 1 ] || { echo "usage: $0 BINARY [BINARY...]" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 2; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
ntests=$(tr ',' '\n' <<< "$TESTS" | wc -l)

total() { # total BINARY REQUESTS -> instructions of the shard process
    local dir="$WORK/run" port=$((20000 + RANDOM % 20000)) pid
    rm -rf "$dir"; mkdir -p "$dir"
    valgrind --tool=callgrind --trace-children=yes --callgrind-out-file="$dir/cg.%p" \
        "$1" --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" > "$dir/log" 2>&1 &
    pid=$!
    for _ in $(seq 600); do redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break; sleep 0.2; done
    redis-benchmark -p "$port" -t "$TESTS" -n "$2" -P "$PIPELINE" -c 50 -r 100000 -q > /dev/null 2>&1
    redis-cli -p "$port" shutdown nosave > /dev/null 2>&1 || true
    wait "$pid" || true
    # The shard did the work: the biggest profile is its own.
    grep -E "^(summary|totals):" "$(ls -S "$dir"/cg.* | head -1)" | tail -1 | awk '{print $2}'
}

echo "instructions per request, tests $TESTS, pipeline $PIPELINE, $((2 * N)) requests per test counted"
for b in "$@"; do
    strip --strip-debug -o "$WORK/bin" "$b"
    small=$(total "$WORK/bin" "$N")
    big=$(total "$WORK/bin" "$((3 * N))")
    echo "$b: $(( (big - small) / (2 * N * ntests) ))"
done
