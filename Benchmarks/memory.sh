#!/usr/bin/env bash
# Memory per key and eviction throughput: Debian's redis-server against
# tessera-server, same run, same data.
#
# Memory: for each type, both servers are started fresh, KEYS keys are loaded
# through `redis-cli --pipe`, and the growth of used_memory (allocator's view)
# and of RSS (/proc/<pid>/status VmRSS) is divided by KEYS:
#   string  SET key:<n> <16 bytes>
#   hash    HSET key:<n> with 10 fields "f0".."f9" -> "value-0".."value-9"
#   set     SADD key:<n> 0..9                  (intset)
#   zset    ZADD key:<n> 10 members m0..m9 with scores 0..9 (listpack)
#   list    RPUSH key:<n> e0..e9               (quicklist)
# Eviction: maxmemory EVICT_MB with allkeys-lru, filled first, then
# redis-benchmark SET with random keys (-r 10000000, 100-byte values, P16):
# writes/s and server CPU µs per write while every write evicts.
#
# usage: Benchmarks/memory.sh
#        KEYS=200000 TYPES=string,hash Benchmarks/memory.sh
#        TESSERA=.build/debug/tessera-server Benchmarks/memory.sh
set -euo pipefail
cd "$(dirname "$0")/.."

KEYS=${KEYS:-1000000}
TYPES=${TYPES:-string,hash,set,zset,list}   # TYPES=none skips the memory part
EVICT=${EVICT:-1}                             # EVICT=0 skips the eviction part
EVICT_MB=${EVICT_MB:-64}
EVICT_N=${EVICT_N:-500000}
REDIS_PORT=${REDIS_PORT:-7381}
TESSERA_PORT=${TESSERA_PORT:-7382}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
if [ -z "${TESSERA:-}" ]; then
    TESSERA=.build/release/tessera-server
    [ -x "$TESSERA" ] || TESSERA=.build/debug/tessera-server
fi

command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null || {
    echo "needs redis-server and redis-benchmark (apt-get install redis-server redis-tools)" >&2; exit 2; }
[ -x "$TESSERA" ] || { echo "no $TESSERA: build it first (swift build)" >&2; exit 2; }

WORK=$(mktemp -d)
cleanup() { [ -f "$WORK/pids" ] && xargs -r kill < "$WORK/pids" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

start() { # start NAME BINARY PORT [args...] -> pid
    local name=$1 bin=$2 port=$3; shift 3
    local dir="$WORK/$name-$port-$RANDOM"; mkdir -p "$dir"
    if redis-cli -p "$port" ping >/dev/null 2>&1; then echo "port $port is already in use" >&2; exit 2; fi
    taskset -c "$SERVER_CPU" "$bin" --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
        --dir "$dir" "$@" > "$dir/log" 2>&1 &
    local pid=$!
    echo "$pid" >> "$WORK/pids"
    for _ in $(seq 200); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
    kill -0 "$pid" 2>/dev/null || { echo "$name did not start:" >&2; cat "$dir/log" >&2; exit 2; }
    echo "$pid"
}
# The pid that serves the port: tessera-server is a supervisor whose shard
# process serves clients, so CPU and RSS are read from INFO's process_id.
srvpid() { redis-cli -p "$1" info server | tr -d '\r' | awk -F: '$1=="process_id" {print $2}'; }
stop() { kill "$1" 2>/dev/null; while kill -0 "$1" 2>/dev/null; do sleep 0.05; done; }

mem() { # mem PORT PID -> "used_memory rss_bytes"
    local used rss
    used=$(redis-cli -p "$1" info memory | tr -d '\r' | awk -F: '$1=="used_memory" {print $2}')
    rss=$(awk '/VmRSS/ {print $2 * 1024}' "/proc/$2/status")
    echo "$used $rss"
}

gen() { # gen TYPE -> RESP on stdout
    python3 - "$1" "$KEYS" <<'PY'
import sys
kind, n = sys.argv[1], int(sys.argv[2])
out = sys.stdout.buffer
def cmd(*args):
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(parts)
if kind == "string":
    tail = [b"v" * 16]; name = b"SET"
elif kind == "hash":
    tail = [x for i in range(10) for x in (b"f%d" % i, b"value-%d" % i)]; name = b"HSET"
elif kind == "set":
    tail = [b"%d" % i for i in range(10)]; name = b"SADD"
elif kind == "zset":
    tail = [x for i in range(10) for x in (b"%d" % i, b"m%d" % i)]; name = b"ZADD"
else:
    tail = [b"e%d" % i for i in range(10)]; name = b"RPUSH"
buf = []
for i in range(n):
    buf.append(cmd(name, b"key:%d" % i, *tail))
    if len(buf) == 10000:
        out.write(b"".join(buf)); buf = []
out.write(b"".join(buf))
PY
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}'; }

echo "redis-server $(redis-server --version | awk '{print $3}') vs $TESSERA ($(git rev-parse --short HEAD))"
echo
echo "memory, $KEYS keys per type (bytes per key: growth from the empty server / keys)"
printf '| %-6s | %11s | %13s | %5s | %9s | %11s | %5s | %-10s |\n' type "redis used" "tessera used" ratio "redis RSS" "tessera RSS" ratio encoding
printf '|%s|\n' "--------|-------------|---------------|-------|-----------|-------------|-------|------------"
for t in ${TYPES//,/ }; do
    [ "$t" = none ] && continue
    gen "$t" > "$WORK/load.resp"
    declare -A U R E
    for s in redis tessera; do
        if [ $s = redis ]; then bin=$(command -v redis-server); port=$REDIS_PORT; else bin=$TESSERA; port=$TESSERA_PORT; fi
        pid=$(start "$s" "$bin" "$port")
        read -r u0 r0 < <(mem "$port" "$(srvpid "$port")")
        redis-cli -p "$port" --pipe < "$WORK/load.resp" >/dev/null
        read -r u1 r1 < <(mem "$port" "$(srvpid "$port")")
        U[$s]=$(( (u1 - u0) / KEYS )); R[$s]=$(( (r1 - r0) / KEYS ))
        E[$s]=$(redis-cli -p "$port" object encoding key:0)
        stop "$pid"
    done
    printf '| %-6s | %11s | %13s | %5s | %9s | %11s | %5s | %-10s |\n' "$t" "${U[redis]}" "${U[tessera]}" \
        "$(ratio "${U[tessera]}" "${U[redis]}")" "${R[redis]}" "${R[tessera]}" "$(ratio "${R[tessera]}" "${R[redis]}")" \
        "${E[tessera]}"
    [ "${E[redis]}" = "${E[tessera]}" ] || echo "  (encodings differ: redis ${E[redis]}, tessera ${E[tessera]})"
done

[ "$EVICT" = 1 ] || exit 0

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TICK_US=$(( 1000000 / $(getconf CLK_TCK) ))

echo
echo "eviction: maxmemory ${EVICT_MB}mb allkeys-lru, full before the run; redis-benchmark -t set -n $EVICT_N -r 10000000 -d 100 -c 50 -P 16"
echo "(plain µs/write: the same run without maxmemory; overhead = µs/write / plain µs/write)"
printf '| %-8s | %12s | %10s | %12s | %9s | %10s | %8s |\n' server "writes/s" "µs/write" "evicted" "used/max" "plain µs" overhead
printf '|%s|\n' "----------|--------------|------------|--------------|-----------|------------|----------"
declare -A RPS CPU
for s in redis tessera; do
    if [ $s = redis ]; then bin=$(command -v redis-server); port=$REDIS_PORT; else bin=$TESSERA; port=$TESSERA_PORT; fi
    # Baseline: the same writes without a memory limit.
    pid=$(start "$s" "$bin" "$port")
    taskset -c "$CLIENT_CPU" redis-benchmark -p "$port" -t set -n $(( EVICT_MB * 1024 * 1024 / 100 )) -r 100000000 -d 100 -c 50 -P 16 -q >/dev/null 2>&1
    before=$(cpu_ticks "$(srvpid "$port")")
    taskset -c "$CLIENT_CPU" redis-benchmark -p "$port" -t set -n "$EVICT_N" -r 10000000 -d 100 -c 50 -P 16 -q >/dev/null 2>&1
    after=$(cpu_ticks "$(srvpid "$port")")
    plain=$(awk -v t=$(( (after - before) * TICK_US )) -v n="$EVICT_N" 'BEGIN {printf "%.3f", t / n}')
    stop "$pid"
    pid=$(start "$s" "$bin" "$port" --maxmemory "${EVICT_MB}mb" --maxmemory-policy allkeys-lru)
    # Fill to the limit first, so every measured write evicts.
    taskset -c "$CLIENT_CPU" redis-benchmark -p "$port" -t set -n $(( EVICT_MB * 1024 * 1024 / 100 )) -r 100000000 -d 100 -c 50 -P 16 -q >/dev/null 2>&1
    redis-cli -p "$port" config resetstat >/dev/null
    before=$(cpu_ticks "$(srvpid "$port")")
    rps=$(taskset -c "$CLIENT_CPU" redis-benchmark -p "$port" -t set -n "$EVICT_N" -r 10000000 -d 100 -c 50 -P 16 --csv 2>/dev/null \
          | awk -F'","' 'NR==2 {print $2}')
    after=$(cpu_ticks "$(srvpid "$port")")
    evicted=$(redis-cli -p "$port" info stats | tr -d '\r' | awk -F: '$1=="evicted_keys" {print $2}')
    usedm=$(redis-cli -p "$port" info memory | tr -d '\r' | awk -F: '$1=="used_memory" {print $2}')
    RPS[$s]=$rps
    CPU[$s]=$(awk -v t=$(( (after - before) * TICK_US )) -v n="$EVICT_N" 'BEGIN {printf "%.3f", t / n}')
    printf '| %-8s | %12s | %10s | %12s | %9s | %10s | %8s |\n' "$s" "$rps" "${CPU[$s]}" "$evicted" \
        "$(awk -v u="$usedm" -v m=$(( EVICT_MB * 1024 * 1024 )) 'BEGIN {printf "%.3f", u / m}')" "$plain" "$(ratio "${CPU[$s]}" "$plain")"
    stop "$pid"
done
echo "ratio tessera/redis: writes/s $(ratio "${RPS[tessera]}" "${RPS[redis]}"), CPU µs/write $(ratio "${CPU[tessera]}" "${CPU[redis]}")"
