#!/usr/bin/env python3
"""Several shards: throughput and server CPU per request, same run.

Setups (every one fed by redis-benchmark -c 50 -r 100000, SET and GET, at
each pipeline depth):
  redis        one redis-server (the reference)
  t1           tessera-server --shards 1
  t2-main      tessera-server --shards 2, redis-benchmark on the main port:
               a connection is served by one shard, about half of its keys
               live on the other one, so about half the requests take one
               forwarding hop (the exact number comes from INFO stats
               tessera_forwarded_commands, summed over the shards)
  t2-cluster   the same server, redis-benchmark --cluster on the shard ports
               (cluster routing: no hop)

Server CPU = utime + stime from /proc/<pid>/stat, summed over every process
of the server (supervisor + shard processes), over the test, divided by the
requests. The forwarding cost per hop is the extra CPU of t2-main over t1
divided by the number of forwarded requests:
    hop_us = (cpu_total(t2-main) - requests * cpu_per_req(t1)) / forwarded
and "forwarded/local" = (cpu_per_req(t1) + hop_us) / cpu_per_req(t1): what a
forwarded request costs relative to a local one (issue #5's target: < 2x).

usage: Benchmarks/shards.py [--tessera PATH] [--requests N] [--pipelines 1,16]
                            [--tests set,get] [--server-cpus 0] [--client-cpus 1]
   or: TESSERA=path/to/tessera-server Benchmarks/shards.py
The default binary is .build/release/tessera-server (numbers from a debug
build mean nothing).
"""

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TICK_US = 1_000_000 / os.sysconf("SC_CLK_TCK")


def free_port_range(n):
    for base in range(21000, 60000, 97):
        ok = True
        for i in range(n):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", base + i))
                except OSError:
                    ok = False
                    break
        if ok:
            return base
    raise SystemExit("no free ports")


def cli(port, *args):
    return subprocess.run(["redis-cli", "-p", str(port), *map(str, args)], capture_output=True,
                          text=True, timeout=60).stdout


def wait_ping(port, proc, log):
    for _ in range(400):
        if proc.poll() is not None:
            raise SystemExit(f"server on port {port} exited:\n{open(log).read()[-3000:]}")
        if cli(port, "ping").strip() == "PONG":
            return
        time.sleep(0.05)
    raise SystemExit(f"server on port {port} did not answer")


def descendants(pid):
    """pid and every process below it (the shard processes of a supervisor)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return out


def cpu_ticks(pids):
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])     # utime, stime (fields 14, 15)
        except OSError:
            pass
    return total


class Server:
    def __init__(self, name, argv, port, workdir, cpus):
        self.name, self.port = name, port
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir)
        self.log = os.path.join(self.dir, "log")
        pin = ["taskset", "-c", cpus] if cpus else []
        self.proc = subprocess.Popen(pin + argv + ["--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                                   "--appendonly", "no", "--dir", self.dir],
                                     stdout=open(self.log, "wb"), stderr=subprocess.STDOUT)
        wait_ping(port, self.proc, self.log)

    def pids(self):
        return descendants(self.proc.pid)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def forwarded(ports):
    total = 0
    for p in ports:
        for line in cli(p, "info", "stats").splitlines():
            if line.startswith("tessera_forwarded_commands:"):
                total += int(line.split(":")[1])
    return total


def bench(server, port, test, pipeline, n, client_cpus, cluster=False, stat_ports=()):
    cli(port, "flushall")
    if test == "get":       # GET over existing keys: fill the key range first
        subprocess.run(["redis-benchmark", "-p", str(port), "-t", "set", "-n", "200000", "-r", "100000",
                        "-P", "32", "-q"] + (["--cluster"] if cluster else []),
                       capture_output=True, timeout=600)
    pids = server.pids()
    f0 = forwarded(stat_ports)
    t0 = cpu_ticks(pids)
    pin = ["taskset", "-c", client_cpus] if client_cpus else []
    cmd = pin + ["redis-benchmark", "-p", str(port), "-t", test, "-n", str(n), "-r", "100000", "-c", "50",
                 "-P", str(pipeline), "--csv"] + (["--cluster"] if cluster else [])
    cp = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    t1 = cpu_ticks(pids)
    f1 = forwarded(stat_ports)
    rps = None
    for line in cp.stdout.splitlines():
        cols = [c.strip('"') for c in line.split('","')]
        if len(cols) > 2 and cols[0].strip('"').upper() == test.upper():
            rps = float(cols[1])
    if rps is None or cp.returncode != 0 or "error" in (cp.stdout + cp.stderr).lower():
        raise SystemExit(f"redis-benchmark failed on {server.name}:\n{cp.stdout}\n{cp.stderr}")
    cpu_us = (t1 - t0) * TICK_US
    return {"rps": rps, "cpu_total_us": cpu_us, "cpu_us": cpu_us / n, "forwarded": f1 - f0}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tessera", default=os.environ.get("TESSERA", os.path.join(ROOT, ".build/release/tessera-server")))
    ap.add_argument("--redis", default=shutil.which("redis-server") or "/usr/bin/redis-server")
    ap.add_argument("--requests", type=int, default=int(os.environ.get("N", 1_000_000)))
    ap.add_argument("--pipelines", default=os.environ.get("PIPELINES", "1,16"))
    ap.add_argument("--tests", default=os.environ.get("TESTS", "set,get"))
    ap.add_argument("--server-cpus", default=os.environ.get("SERVER_CPUS", "0"),
                    help="taskset list for the servers ('' = no pinning)")
    ap.add_argument("--client-cpus", default=os.environ.get("CLIENT_CPUS", "1"),
                    help="taskset list for redis-benchmark ('' = no pinning)")
    a = ap.parse_args()
    for tool in ("redis-benchmark", "redis-cli"):
        if not shutil.which(tool):
            raise SystemExit(f"needs {tool} (apt-get install redis-tools)")
    if not os.access(a.tessera, os.X_OK):
        raise SystemExit(f"no tessera-server at {a.tessera}: swift build -c release, or --tessera PATH")
    if "/debug/" in a.tessera or "debug" in os.path.basename(os.path.dirname(a.tessera)):
        print(f"WARNING: {a.tessera} looks like a debug build: the numbers mean nothing", file=sys.stderr)

    work = tempfile.mkdtemp(prefix="tessera-bench-shards-")
    servers = []
    try:
        base = free_port_range(8)
        redis = Server("redis", [a.redis], base, work, a.server_cpus)
        servers.append(redis)
        t1 = Server("t1", [a.tessera, "--shards", "1"], base + 1, work, a.server_cpus)
        servers.append(t1)
        t2 = Server("t2", [a.tessera, "--shards", "2", "--shard-ports", str(base + 3)], base + 2, work, a.server_cpus)
        servers.append(t2)
        for i in range(2):
            wait_ping(base + 3 + i, t2.proc, t2.log)
        shard_ports = (base + 3, base + 4)

        print(f"redis-server vs tessera-server ({a.tessera}), -n {a.requests} -c 50 -r 100000, "
              f"servers on CPUs '{a.server_cpus}', client on '{a.client_cpus}'")
        print("server CPU = utime+stime of every server process (supervisor + shards) / requests")
        print()
        header = ("| test | P | setup | req/s | ratio rps vs redis | CPU µs/req | ratio CPU vs redis | forwarded |")
        print(header)
        print("|---|---|---|---|---|---|---|---|")
        summary = []
        for p in [int(x) for x in a.pipelines.split(",")]:
            for test in a.tests.split(","):
                res = {
                    "redis": bench(redis, redis.port, test, p, a.requests, a.client_cpus),
                    "t1": bench(t1, t1.port, test, p, a.requests, a.client_cpus),
                    "t2-main": bench(t2, t2.port, test, p, a.requests, a.client_cpus, stat_ports=shard_ports),
                    "t2-cluster": bench(t2, shard_ports[0], test, p, a.requests, a.client_cpus, cluster=True,
                                        stat_ports=shard_ports),
                }
                ref = res["redis"]
                for name, r in res.items():
                    cpu_ratio = f"{r['cpu_us'] / ref['cpu_us']:.2f}" if ref["cpu_us"] > 0 else "-"
                    print(f"| {test.upper()} | {p} | {name} | {r['rps']:,.0f} | {r['rps'] / ref['rps']:.2f} | "
                          f"{r['cpu_us']:.2f} | {cpu_ratio} | {r['forwarded']:,} |", flush=True)
                local = res["t1"]["cpu_us"]
                fw = res["t2-main"]["forwarded"]
                hop = ((res["t2-main"]["cpu_total_us"] - a.requests * local) / fw) if fw else float("nan")
                summary.append((test.upper(), p, fw / a.requests, hop, (local + hop) / local if local else float("nan"),
                                res["t2-cluster"]["rps"] / res["t1"]["rps"]))
        print()
        print("| test | P | forwarded share (t2-main) | CPU µs per hop | forwarded/local cost | t2-cluster rps / t1 rps |")
        print("|---|---|---|---|---|---|")
        for test, p, share, hop, rel, scale in summary:
            print(f"| {test} | {p} | {share:.2f} | {hop:.2f} | {rel:.2f}x | {scale:.2f} |")
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
