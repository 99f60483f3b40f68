#!/usr/bin/env python3
"""Persistence benchmark: tessera-server against Debian's redis-server 7.0.15
in the same run, reported as ratios (tessera / redis; below 1 is better for
times and memory, above 1 for throughput).

For each dataset size (default 1M and 5M string keys with 16-byte values,
loaded with DEBUG POPULATE):
  - SAVE wall time and RDB size;
  - load time at start (process start until PING answers PONG, not LOADING);
  - BGSAVE under a write load (redis-benchmark SET, 50 clients, P16, random
    keys over the dataset): latest_fork_usec, rdb_last_cow_size, and the peak
    RSS of parent + child sampled every 20 ms from /proc;
then AOF throughput: redis-benchmark SET (50 clients, P1) with appendonly yes
and appendfsync everysec, then always.

usage: Benchmarks/persistence.py [--sizes 1000000,5000000] [--aof-requests 200000]
Servers run pinned to CPU 0, the benchmark client to CPU 1 (taskset).
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESSERA = os.environ.get("TESSERA", os.path.join(ROOT, ".build/release/tessera-server"))
REDIS = os.environ.get("REDIS", "/usr/bin/redis-server")


def cli(port, *args, timeout=600):
    return subprocess.run(["redis-cli", "-p", str(port), *map(str, args)], capture_output=True,
                          text=True, timeout=timeout).stdout.strip()


def info(port, section):
    out = {}
    for line in cli(port, "INFO", section).splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            out[k] = v
    return out


def rss_bytes(pid):
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def descendants(pid):
    """pid's children, their children, ... (a tessera-server supervisor's shards
    and their snapshot children)."""
    out = []
    for c in children(pid):
        out.append(c)
        out += descendants(c)
    return out


def tree_rss(pid):
    """Resident memory of a process and all its descendants."""
    return rss_bytes(pid) + sum(rss_bytes(c) for c in descendants(pid))


class Server:
    def __init__(self, name, binary, port, directory, *extra):
        self.name, self.binary, self.port, self.dir, self.extra = name, binary, port, directory, extra

    def start(self, wait_loaded=True):
        argv = ["taskset", "-c", "0", self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", self.dir, "--save", "", "--enable-debug-command", "yes", *self.extra]
        self.log = open(os.path.join(self.dir, "server.log"), "ab")
        t0 = time.monotonic()
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)
        while True:
            if self.proc.poll() is not None:
                sys.exit(f"{self.name} exited: see {self.dir}/server.log")
            if cli(self.port, "PING") == "PONG":
                break
            time.sleep(0.01)
        return time.monotonic() - t0

    def stop(self):
        cli(self.port, "SHUTDOWN", "NOSAVE")
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def bench(port, n, pipeline, clients=50, keyspace=1_000_000):
    out = subprocess.run(["taskset", "-c", "1", "redis-benchmark", "-p", str(port), "-t", "set", "-n", str(n),
                          "-c", str(clients), "-P", str(pipeline), "-r", str(keyspace), "-q"],
                         capture_output=True, text=True).stdout
    for part in out.replace("\r", "\n").splitlines():
        if "requests per second" in part:
            return float(part.split(":")[1].split("requests")[0])
    return 0.0


def snapshot_round(name, binary, port, size, work):
    d = os.path.join(work, f"{name}-{size}")
    os.makedirs(d)
    s = Server(name, binary, port, d)
    s.start()
    cli(port, "DEBUG", "POPULATE", size, "key", 16)
    t0 = time.monotonic()
    cli(port, "SAVE")
    save_s = time.monotonic() - t0
    rdb_size = os.path.getsize(os.path.join(d, "dump.rdb"))
    # BGSAVE while redis-benchmark writes.
    load = subprocess.Popen(["taskset", "-c", "1", "redis-benchmark", "-p", str(port), "-t", "set",
                             "-n", "100000000", "-c", "50", "-P", "16", "-r", str(size), "-q"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    peak = 0
    cli(port, "BGSAVE")
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        total = tree_rss(s.proc.pid)
        peak = max(peak, total)
        if info(port, "persistence").get("rdb_bgsave_in_progress") == "0":
            break
        time.sleep(0.02)
    load.send_signal(signal.SIGINT)
    load.wait()
    persist = info(port, "persistence")
    stats = info(port, "stats")
    s.stop()
    s2 = Server(name, binary, port, d)
    load_s = s2.start()
    keys = cli(port, "DBSIZE")
    s2.stop()
    shutil.rmtree(d)
    return {"save_s": save_s, "rdb_bytes": rdb_size, "load_s": load_s, "keys_loaded": int(keys),
            "fork_us": int(stats.get("latest_fork_usec", 0)), "cow_bytes": int(persist.get("rdb_last_cow_size", 0)),
            "peak_rss": peak, "bgsave_status": persist.get("rdb_last_bgsave_status")}


def aof_round(name, binary, port, policy, requests, work):
    d = os.path.join(work, f"{name}-aof-{policy}")
    os.makedirs(d)
    s = Server(name, binary, port, d, "--appendonly", "yes", "--appendfsync", policy)
    s.start()
    rps = bench(port, requests, 1)
    s.stop()
    shutil.rmtree(d)
    return rps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000000,5000000")
    ap.add_argument("--aof-requests", type=int, default=200000)
    ap.add_argument("--port", type=int, default=16390)
    a = ap.parse_args()
    if not os.path.exists(TESSERA):
        subprocess.run(["swift", "build", "-c", "release", "--product", "tessera-server"], cwd=ROOT, check=True)
    work = tempfile.mkdtemp(prefix="tessera-persist-bench-")
    servers = [("tessera", TESSERA), ("redis", REDIS)]
    try:
        print("| keys | metric | tessera | redis | ratio |")
        print("|---|---|---|---|---|")
        for size in [int(x) for x in a.sizes.split(",")]:
            res = {name: snapshot_round(name, b, a.port, size, work) for name, b in servers}
            for metric, fmt in [("save_s", "{:.2f} s"), ("rdb_bytes", "{:,} B"), ("load_s", "{:.2f} s"),
                                ("fork_us", "{:,} µs"), ("cow_bytes", "{:,} B"), ("peak_rss", "{:,} B")]:
                t, r = res["tessera"][metric], res["redis"][metric]
                ratio = t / r if r else float("nan")
                print(f"| {size:,} | {metric} | {fmt.format(t)} | {fmt.format(r)} | {ratio:.2f} |", flush=True)
            for name in res:
                assert res[name]["keys_loaded"] >= size, f"{name} reloaded {res[name]['keys_loaded']} keys"
                assert res[name]["bgsave_status"] == "ok", f"{name} bgsave failed"
        for policy in ("everysec", "always"):
            t = aof_round("tessera", TESSERA, a.port, policy, a.aof_requests, work)
            r = aof_round("redis", REDIS, a.port, policy, a.aof_requests // (1 if policy == "everysec" else 1), work)
            print(f"| - | SET rps, appendfsync {policy} (c50 P1) | {t:,.0f} | {r:,.0f} | {t / r:.2f} |", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
