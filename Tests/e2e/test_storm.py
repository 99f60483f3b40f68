"""Connection storms: 10k connections opened and closed in a bounded loop on
loopback, in waves larger than maxclients, next to an established pipelined
client whose PING latency is measured all along. Every storm connection is
either served (+PONG) or refused cleanly (-ERR max number of clients reached);
the established client keeps a bounded p99. Also: the server raises its own
RLIMIT_NOFILE for maxclients (or lowers maxclients to fit, as Redis does), and
warns when tcp-backlog exceeds somaxconn.

Runs against redis-server 7.0.15 too (TESSERA_SERVER=/usr/bin/redis-server)."""

import resource
import socket
import statistics
import threading
import time

import pytest

from conftest import HOST, encode_command, is_reference_redis

TOTAL = 10_000
WAVE = 300
MAXCLIENTS = 250          # waves of 300 > maxclients: some are refused each wave
REFUSED = b"-ERR max number of clients reached\r\n"


def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = n if hard == resource.RLIM_INFINITY else min(n, hard)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def read_line(s):
    buf = b""
    while not buf.endswith(b"\r\n"):
        chunk = s.recv(64)
        if not chunk:
            break
        buf += chunk
    return buf


def shard_pid(c):
    return int(c.info("server")["process_id"])


def test_connection_storm_keeps_an_established_client_fast(start_server, make_client):
    raise_nofile(4096)
    info = start_server("--maxclients", str(MAXCLIENTS))
    c = make_client(info.port)
    c.ping()
    latencies = []
    stop = threading.Event()
    failures = []

    def pinger():
        try:
            s = socket.create_connection((HOST, info.port), timeout=10)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            batch = encode_command("PING") * 10
            expected = b"+PONG\r\n" * 10
            while not stop.is_set():
                t = time.perf_counter()
                s.sendall(batch)
                got = b""
                while len(got) < len(expected):
                    chunk = s.recv(4096)
                    if not chunk:
                        raise ConnectionError("pinger disconnected")
                    got += chunk
                latencies.append(time.perf_counter() - t)
                assert got == expected
                time.sleep(0.002)
            s.close()
        except Exception as e:  # reported by the main thread
            failures.append(e)

    th = threading.Thread(target=pinger)
    th.start()
    served = refused = 0
    bad = []
    t0 = time.monotonic()
    try:
        done = 0
        while done < TOTAL and time.monotonic() - t0 < 240:
            wave = []
            for _ in range(min(WAVE, TOTAL - done)):
                s = socket.socket()
                s.settimeout(10)
                s.connect((HOST, info.port))
                wave.append(s)
            for s in wave:
                try:
                    s.sendall(encode_command("PING"))
                except OSError:
                    pass          # already refused and closed by the server
            for s in wave:
                try:
                    line = read_line(s)
                except OSError as e:
                    line = repr(e).encode()
                if line == b"+PONG\r\n":
                    served += 1
                elif line == REFUSED:
                    refused += 1
                else:
                    bad.append(line)
                s.close()
            done += len(wave)
    finally:
        stop.set()
        th.join(30)
    elapsed = time.monotonic() - t0
    assert not failures, failures
    assert done == TOTAL, f"only {done} connections in {elapsed:.0f}s"
    assert not bad, bad[:5]
    assert served + refused == TOTAL and served > 0 and refused > 0, (served, refused)
    assert len(latencies) > 50
    lat = sorted(latencies)
    p99 = lat[int(len(lat) * 0.99)]
    print(f"\nstorm: {TOTAL} connections in {elapsed:.1f}s, served {served}, refused {refused}; "
          f"established client: {len(lat)} rounds of 10 pipelined PINGs, "
          f"p50 {statistics.median(lat) * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms, max {lat[-1] * 1000:.2f} ms")
    assert p99 < 0.25, p99
    stats = c.info("stats")
    assert stats["rejected_connections"] == refused
    assert stats["total_connections_received"] >= served
    assert c.ping()
    # Every refused or closed connection is gone: only the test clients remain.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and c.info("clients")["connected_clients"] > 1:
        time.sleep(0.05)
    assert c.info("clients")["connected_clients"] == 1


def test_maxclients_fits_the_open_files_limit(start_server, make_client):
    """The server raises RLIMIT_NOFILE to maxclients + 32, or lowers maxclients."""
    info = start_server("--maxclients", "30000")
    c = make_client(info.port)
    maxclients = int(c.config_get("maxclients")["maxclients"])
    with open(f"/proc/{shard_pid(c)}/limits") as f:
        line = next(l for l in f if l.startswith("Max open files"))
    soft = int(line.split()[3])
    assert maxclients + 32 <= soft, (maxclients, soft)
    if maxclients < 30000:
        assert "maxclients has been reduced" in info.log_tail(20000)


def test_tcp_backlog_above_somaxconn_is_reported(start_server):
    with open("/proc/sys/net/core/somaxconn") as f:
        somaxconn = int(f.read())
    info = start_server("--tcp-backlog", str(somaxconn + 1))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and "cannot be enforced" not in info.log_tail(20000):
        time.sleep(0.05)
    assert f"TCP backlog setting of {somaxconn + 1} cannot be enforced" in info.log_tail(20000)
    assert f"somaxconn is set to the lower value of {somaxconn}" in info.log_tail(20000)
