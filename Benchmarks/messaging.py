#!/usr/bin/env python3
"""Messaging benchmark: tessera-server against Debian's redis-server 7.0.15 in
the same run, as ratios (tessera / redis; above 1 is better for throughput,
below 1 for CPU per request).

  - PUBLISH fan-out: redis-benchmark PUBLISH (50 clients, P16) while 1, 10 and
    100 subscribers (one process draining them all) receive every message;
  - XADD (50 clients, P16, auto IDs) and XREADGROUP COUNT 10 over a prepared
    stream (50 clients, P16).
Reported: requests/s and server CPU µs per request (utime+stime from /proc).
Servers run on CPU 0, redis-benchmark and subscribers on CPU 1.

usage: Benchmarks/messaging.py [--requests 200000]
"""

import argparse
import os
import selectors
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESSERA = os.environ.get("TESSERA", os.path.join(ROOT, ".build/release/tessera-server"))
REDIS = os.environ.get("REDIS", "/usr/bin/redis-server")
TICKS = os.sysconf("SC_CLK_TCK")


def cli(port, *args):
    return subprocess.run(["redis-cli", "-p", str(port), *map(str, args)], capture_output=True, text=True).stdout


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / TICKS


def bench(port, pid, n, *command):
    c0 = cpu_seconds(pid)
    out = subprocess.run(["taskset", "-c", "1", "redis-benchmark", "-p", str(port), "-n", str(n), "-c", "50",
                          "-P", "16", "-q", *command], capture_output=True, text=True).stdout
    cpu = cpu_seconds(pid) - c0
    rps = 0.0
    for part in out.replace("\r", "\n").splitlines():
        if "requests per second" in part:
            rps = float(part.rsplit(":", 1)[1].split("requests")[0])
    return rps, cpu * 1e6 / n


class Subscribers:
    """N subscriber connections drained by one thread (bytes received counted)."""

    def __init__(self, port, n, channel="ch"):
        self.sel = selectors.DefaultSelector()
        self.socks = []
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(f"*2\r\n$9\r\nSUBSCRIBE\r\n${len(channel)}\r\n{channel}\r\n".encode())
            s.setblocking(False)
            self.sel.register(s, selectors.EVENT_READ)
            self.socks.append(s)
        self.received = 0
        self.stop = False
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()
        time.sleep(0.3)

    def run(self):
        os.sched_setaffinity(0, {1})
        while not self.stop:
            for key, _ in self.sel.select(0.1):
                try:
                    data = key.fileobj.recv(1 << 20)
                    self.received += len(data)
                except BlockingIOError:
                    pass

    def close(self):
        self.stop = True
        self.t.join()
        for s in self.socks:
            s.close()


def run_server(binary, port, d):
    if cli(port, "PING").strip():
        sys.exit(f"port {port} is already in use")
    p = subprocess.Popen(["taskset", "-c", "0", binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                          "--appendonly", "no", "--dir", d, "--client-output-buffer-limit", "pubsub 0 0 0"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        if cli(port, "PING").strip() == "PONG":
            return p
        time.sleep(0.05)
    sys.exit(f"{binary} did not start")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=200000)
    ap.add_argument("--port", type=int, default=16395)
    a = ap.parse_args()
    if not os.path.exists(TESSERA):
        subprocess.run(["swift", "build", "-c", "release", "--product", "tessera-server"], cwd=ROOT, check=True)
    results = {}
    for name, binary in (("tessera", TESSERA), ("redis", REDIS)):
        d = tempfile.mkdtemp()
        p = run_server(binary, a.port, d)
        r = {}
        for subs in (1, 10, 100):
            s = Subscribers(a.port, subs)
            r[f"PUBLISH to {subs} subscriber(s)"] = bench(a.port, p.pid, a.requests, "publish", "ch", "hello-world-message")
            s.close()
        r["XADD * (1 field)"] = bench(a.port, p.pid, a.requests, "xadd", "bench:s", "*", "f", "v")
        cli(a.port, "XGROUP", "CREATE", "bench:s", "g", "0")
        r["XREADGROUP COUNT 10"] = bench(a.port, p.pid, a.requests // 10, "xreadgroup", "group", "g", "c",
                                         "count", "10", "streams", "bench:s", ">")
        cli(a.port, "SHUTDOWN", "NOSAVE")
        p.wait()
        results[name] = r
    print("| test | tessera req/s | redis req/s | ratio | tessera CPU µs/req | redis CPU µs/req | ratio |")
    print("|---|---|---|---|---|---|---|")
    for test in results["tessera"]:
        (tr, tc), (rr, rc) = results["tessera"][test], results["redis"][test]
        print(f"| {test} | {tr:,.0f} | {rr:,.0f} | {tr / rr:.2f} | {tc:.2f} | {rc:.2f} | {tc / rc:.2f} |")


if __name__ == "__main__":
    main()
