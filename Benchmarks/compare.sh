#!/usr/bin/env bash
# Side-by-side benchmark: Debian's redis-server against tessera-server, same run.
#
# Both servers run pinned to CPU 0 with persistence off; redis-benchmark runs
# pinned to CPU 1. For each test and pipeline depth it reports throughput and
# server CPU time per request (utime+stime from /proc, so client cost and idle
# time do not count), then memory after loading 1M keys with 16-byte values.
#
# usage: Benchmarks/compare.sh            (N=1000000 requests per test)
#        N=200000 TESTS=set,get PIPELINES="16" Benchmarks/compare.sh
#        FLUSH=0 TESTS=sadd,spop,lpush,lpop KEYS=0 Benchmarks/compare.sh
#          (FLUSH=0: no FLUSHALL between tests, so SPOP/LPOP pop what SADD/LPUSH
#          pushed; KEYS=0: skip the memory part)
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-1000000}
TESTS=${TESTS:-set,get,incr,lpush,rpop,sadd,hset,zadd,lrange_100}
PIPELINES=${PIPELINES:-"1 16"}
KEYS=${KEYS:-1000000}
REDIS_PORT=${REDIS_PORT:-16379}
TESSERA_PORT=${TESSERA_PORT:-16380}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
TESSERA=${TESSERA:-.build/release/tessera-server}

command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null || {
    echo "needs redis-server and redis-benchmark (apt-get install redis-server redis-tools)" >&2; exit 2; }
[ -x "$TESSERA" ] || swift build -c release --product tessera-server >&2

WORK=$(mktemp -d)
# start() runs in a subshell ($(...)), so server pids are collected in a file.
cleanup() { [ -f "$WORK/pids" ] && xargs -r kill < "$WORK/pids" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

start() { # start NAME BINARY PORT -> pid
    local dir="$WORK/$1"; mkdir -p "$dir"
    if redis-cli -p "$3" ping >/dev/null 2>&1; then echo "port $3 is already in use" >&2; exit 2; fi
    taskset -c "$SERVER_CPU" "$2" --port "$3" --bind 127.0.0.1 --save "" --appendonly no \
        --dir "$dir" > "$dir/log" 2>&1 &
    local pid=$!
    echo "$pid" >> "$WORK/pids"
    for _ in $(seq 100); do redis-cli -p "$3" ping >/dev/null 2>&1 && break; sleep 0.05; done
    kill -0 "$pid" 2>/dev/null || { echo "$1 did not start:" >&2; cat "$dir/log" >&2; exit 2; }
    echo "$pid"
}

# tessera-server is a supervisor whose shard process(es) do the work: count
# the whole process tree (the server and its children).
tree() { echo "$1"; pgrep -P "$1"; }
cpu_ticks() { local t=0 p; for p in $(tree "$1"); do t=$(( t + $(awk '{print $14 + $15}' "/proc/$p/stat") )); done; echo $t; }
TICK_US=$(( 1000000 / $(getconf CLK_TCK) ))

# run PORT PID TEST P -> "rps cpu_us_per_request"
run() {
    [ "${FLUSH:-1}" = 1 ] && redis-cli -p "$1" flushall >/dev/null
    local before after rps
    before=$(cpu_ticks "$2")
    rps=$(taskset -c "$CLIENT_CPU" redis-benchmark -p "$1" -t "$3" -n "$N" -r 100000 -c 50 -P "$4" --csv 2>/dev/null \
          | awk -F'","' 'NR==2 {print $2}')
    after=$(cpu_ticks "$2")
    echo "$rps $(awk -v t=$(( (after - before) * TICK_US )) -v n="$N" 'BEGIN {printf "%.3f", t / n}')"
}

start redis "$(command -v redis-server)" "$REDIS_PORT" >/dev/null
start tessera "$TESSERA" "$TESSERA_PORT" >/dev/null
# The pid that serves the port: tessera-server is a supervisor whose shard
# process serves clients, so CPU and RSS are read from INFO's process_id.
srvpid() { redis-cli -p "$1" info server | tr -d '\r' | awk -F: '$1=="process_id" {print $2}'; }
REDIS_PID=$(srvpid "$REDIS_PORT")
TESSERA_PID=$(srvpid "$TESSERA_PORT")

echo "redis-server $(redis-server --version | awk '{print $3}') vs tessera-server, n=$N, -c 50 -r 100000"
printf '| %-10s | %2s | %12s | %12s | %6s | %9s | %9s | %6s |\n' test P "redis rps" "tessera rps" ratio "redis µs" "tessera µs" ratio
printf '|%s|\n' "------------|----|--------------|--------------|--------|-----------|-----------|--------"
for P in $PIPELINES; do
    for t in ${TESTS//,/ }; do
        read -r r_rps r_cpu < <(run "$REDIS_PORT" "$REDIS_PID" "$t" "$P")
        read -r t_rps t_cpu < <(run "$TESSERA_PORT" "$TESSERA_PID" "$t" "$P")
        printf '| %-10s | %2s | %12s | %12s | %6s | %9s | %9s | %6s |\n' "$t" "$P" "$r_rps" "$t_rps" \
            "$(awk -v a="$t_rps" -v b="$r_rps" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')" "$r_cpu" "$t_cpu" \
            "$(awk -v a="$t_cpu" -v b="$r_cpu" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')"
    done
done

[ "$KEYS" = 0 ] && exit 0   # KEYS=0: no memory part

# Memory: KEYS string keys "key:<n>" with 16-byte values, loaded through --pipe.
python3 - "$KEYS" > "$WORK/load.resp" <<'PY'
import sys
n = int(sys.argv[1])
out = sys.stdout.buffer
val = b"v" * 16
for i in range(n):
    k = b"key:%d" % i
    out.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$16\r\n%s\r\n" % (len(k), k, val))
PY
mem() { # mem PORT PID -> "used_memory rss_bytes"
    local used rss
    used=$(redis-cli -p "$1" info memory | tr -d '\r' | awk -F: '$1=="used_memory" {print $2}')
    rss=0
    for p in $(tree "$2"); do rss=$(( rss + $(awk '/VmRSS/ {print $2 * 1024}' "/proc/$p/status") )); done
    echo "$used $rss"
}
echo
echo "memory, $KEYS keys with 16-byte values (bytes per key, delta from the empty server)"
printf '| %-8s | %14s | %14s |\n' server "used_memory/key" "RSS/key"
printf '|%s|\n' "----------|-----------------|----------------"
declare -A USED RSS
for s in redis tessera; do
    if [ $s = redis ]; then port=$REDIS_PORT; pid=$REDIS_PID; else port=$TESSERA_PORT; pid=$TESSERA_PID; fi
    redis-cli -p "$port" flushall >/dev/null
    read -r u0 r0 < <(mem "$port" "$pid")
    redis-cli -p "$port" --pipe < "$WORK/load.resp" >/dev/null
    read -r u1 r1 < <(mem "$port" "$pid")
    USED[$s]=$(( (u1 - u0) / KEYS )); RSS[$s]=$(( (r1 - r0) / KEYS ))
    printf '| %-8s | %15s | %14s |\n' "$s" "${USED[$s]}" "${RSS[$s]}"
done
echo "ratio tessera/redis: used_memory $(awk -v a="${USED[tessera]}" -v b="${USED[redis]}" 'BEGIN {printf "%.2f", a / b}')," \
     "RSS $(awk -v a="${RSS[tessera]}" -v b="${RSS[redis]}" 'BEGIN {printf "%.2f", a / b}')"
