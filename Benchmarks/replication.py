#!/usr/bin/env python3
"""Replication benchmark: tessera-server against Debian's redis-server 7.0.15
in the same run, reported as ratios (tessera / redis; below 1 is better for
times, memory, CPU and lag, above 1 for throughput). Each server replicates
from a master of its own kind.

  - full sync of N string keys (DEBUG POPULATE, 16-byte values), disk-based
    and diskless: time from REPLICAOF until the replica's link is up and its
    offset equals the master's, peak RSS of the master's process tree (parent
    + forked child) and of the replica's;
  - writes on a master with 0, 1 and 2 replicas: redis-benchmark SET, 50
    clients, pipeline 16: requests/s and the master's CPU µs per request
    (its data process: the shard for tessera);
  - lag during that load with 1 replica: bytes between master_repl_offset and
    the replica's acknowledged offset, sampled every 50 ms (mean and max).

usage: Benchmarks/replication.py [--sizes 1000000,5000000] [--requests 2000000]
Masters run pinned to CPU 0, replicas and the benchmark client to CPU 1.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from persistence import REDIS, TESSERA, Server, cli, info, tree_rss

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def data_pid(port):
    """The process that serves the data: the shard for tessera (INFO process_id)."""
    return int(info(port, "server")["process_id"])


class PinnedServer(Server):
    def __init__(self, name, binary, port, directory, cpu, *extra):
        super().__init__(name, binary, port, directory, *extra)
        self.cpu = cpu

    def start(self, wait_loaded=True):
        argv = ["taskset", "-c", str(self.cpu), self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", self.dir, "--save", "", "--enable-debug-command", "yes", *self.extra]
        self.log = open(os.path.join(self.dir, "server.log"), "ab")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)
        while cli(self.port, "PING") != "PONG":
            if self.proc.poll() is not None:
                sys.exit(f"{self.name} exited: see {self.dir}/server.log")
            time.sleep(0.01)


def synced(master, replica):
    r = info(replica.port, "replication")
    if r.get("master_link_status") != "up":
        return False
    return r.get("slave_repl_offset") == info(master.port, "replication").get("master_repl_offset")


def full_sync_round(name, binary, size, diskless, work, port):
    d = tempfile.mkdtemp(dir=work)
    master = PinnedServer(name, binary, port, os.path.join(d, "m"), 0, "--repl-diskless-sync", diskless,
                          "--repl-diskless-sync-delay", "0")
    replica = PinnedServer(name, binary, port + 1, os.path.join(d, "r"), 1)
    for s in (master, replica):
        os.makedirs(s.dir)
        s.start()
    cli(master.port, "DEBUG", "POPULATE", size, "key", 16)
    peaks = {"master": 0, "replica": 0}
    done = threading.Event()

    def sample():
        while not done.is_set():
            peaks["master"] = max(peaks["master"], tree_rss(master.proc.pid))
            peaks["replica"] = max(peaks["replica"], tree_rss(replica.proc.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    t0 = time.monotonic()
    cli(replica.port, "REPLICAOF", "127.0.0.1", master.port)
    while not synced(master, replica):
        time.sleep(0.01)
    elapsed = time.monotonic() - t0
    done.set()
    sampler.join()
    keys = int(cli(replica.port, "DBSIZE"))
    for s in (replica, master):
        s.stop()
    shutil.rmtree(d)
    return {"sync_s": elapsed, "master_peak": peaks["master"], "replica_peak": peaks["replica"], "keys": keys}


def write_round(name, binary, replicas, requests, work, port):
    d = tempfile.mkdtemp(dir=work)
    master = PinnedServer(name, binary, port, os.path.join(d, "m"), 0, "--repl-diskless-sync-delay", "0")
    os.makedirs(master.dir)
    master.start()
    followers = []
    for i in range(replicas):
        r = PinnedServer(name, binary, port + 1 + i, os.path.join(d, f"r{i}"), 1)
        os.makedirs(r.dir)
        r.start()
        cli(r.port, "REPLICAOF", "127.0.0.1", master.port)
        followers.append(r)
    for r in followers:
        while not synced(master, r):
            time.sleep(0.01)
    pid = data_pid(master.port)
    lags = []
    done = threading.Event()

    def sample_lag():
        while not done.is_set():
            m = info(master.port, "replication")
            slave = m.get("slave0", "")
            acked = dict(p.split("=") for p in slave.split(",") if "=" in p).get("offset")
            if acked is not None:
                lags.append(int(m["master_repl_offset"]) - int(acked))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample_lag)
    if followers:
        sampler.start()
    cpu0 = cpu_seconds(pid)
    out = subprocess.run(["taskset", "-c", "1", "redis-benchmark", "-p", str(master.port), "-t", "set",
                          "-n", str(requests), "-c", "50", "-P", "16", "-r", "1000000", "-q"],
                         capture_output=True, text=True).stdout
    cpu = cpu_seconds(pid) - cpu0
    done.set()
    if followers:
        sampler.join()
    rps = 0.0
    for part in out.replace("\r", "\n").splitlines():
        if "requests per second" in part:
            rps = float(part.split(":")[1].split("requests")[0])
    for s in followers + [master]:
        s.stop()
    shutil.rmtree(d)
    return {"rps": rps, "cpu_us_per_req": cpu * 1e6 / requests,
            "lag_mean": sum(lags) / len(lags) if lags else 0, "lag_max": max(lags) if lags else 0}


def ratio(a, b):
    return a / b if b else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000000,5000000")
    ap.add_argument("--requests", type=int, default=2_000_000)
    ap.add_argument("--port", type=int, default=7300)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="tessera-bench-repl-")
    print(f"tessera: {TESSERA}\nredis:   {REDIS}\n")
    print("| full sync | keys | diskless | redis s | tessera s | ratio | master peak MB r/t (ratio) | replica peak MB r/t (ratio) |")
    print("|---|---|---|---|---|---|---|---|")
    for size in [int(x) for x in a.sizes.split(",")]:
        for diskless in ("no", "yes"):
            r = full_sync_round("redis", REDIS, size, diskless, work, a.port)
            t = full_sync_round("tessera", TESSERA, size, diskless, work, a.port + 10)
            mb = 1 << 20
            print(f"| | {size} | {diskless} | {r['sync_s']:.2f} | {t['sync_s']:.2f} | {ratio(t['sync_s'], r['sync_s']):.2f} "
                  f"| {r['master_peak'] / mb:.0f} / {t['master_peak'] / mb:.0f} ({ratio(t['master_peak'], r['master_peak']):.2f}) "
                  f"| {r['replica_peak'] / mb:.0f} / {t['replica_peak'] / mb:.0f} ({ratio(t['replica_peak'], r['replica_peak']):.2f}) |")
            sys.stdout.flush()
    print()
    print("| writes (SET P16) | replicas | redis req/s | tessera req/s | ratio | redis CPU µs/req | tessera CPU µs/req | ratio | lag mean/max bytes redis | tessera |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n in (0, 1, 2):
        r = write_round("redis", REDIS, n, a.requests, work, a.port + 20)
        t = write_round("tessera", TESSERA, n, a.requests, work, a.port + 30)
        print(f"| | {n} | {r['rps']:.0f} | {t['rps']:.0f} | {ratio(t['rps'], r['rps']):.2f} "
              f"| {r['cpu_us_per_req']:.2f} | {t['cpu_us_per_req']:.2f} | {ratio(t['cpu_us_per_req'], r['cpu_us_per_req']):.2f} "
              f"| {r['lag_mean']:.0f} / {r['lag_max']} | {t['lag_mean']:.0f} / {t['lag_max']} |")
        sys.stdout.flush()
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
