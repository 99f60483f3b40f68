"""The sd_notify protocol without systemd: the test listens on its own
NOTIFY_SOCKET (SOCK_DGRAM with SO_PASSCRED, so each datagram carries the
sender's PID) and checks what the server tells the service manager and when:
STATUS while loading, READY=1 only once the dataset is loaded and clients are
served, WATCHDOG=1 at half of WATCHDOG_USEC that stops while the process is
frozen (SIGSTOP), RELOADING=1 ... READY=1 around SIGHUP, STOPPING=1 at
shutdown. Without NOTIFY_SOCKET the server runs the same, silently."""

import os
import signal
import socket
import struct
import subprocess
import time

import pytest
import redis

from conftest import is_reference_redis, server_binary, track_process, _free_port, _client
from persistence_helpers import wait_port_free

pytestmark = pytest.mark.skipif(is_reference_redis(), reason="Tessera's own systemd integration")


class NotifyListener:
    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.messages = []   # (monotonic time, sender pid, {key: value})

    def poll(self, timeout):
        self.sock.settimeout(timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                data, anc, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(12))
            except (socket.timeout, BlockingIOError):
                break
            pid = None
            for level, kind, payload in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                    pid = struct.unpack("iII", payload[:12])[0]
            fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
            self.messages.append((time.monotonic(), pid, fields))
            self.sock.settimeout(max(0.001, deadline - time.monotonic()))

    def wait_for(self, key, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for m in self.messages:
                if key in m[2]:
                    return m
            self.poll(0.1)
        raise AssertionError(f"no {key} within {timeout}s: {self.messages}")

    def count(self, key, since=0.0):
        return sum(1 for t, _, f in self.messages if key in f and t >= since)


def start(tmp_path, *args, watchdog_usec=None):
    sock_path = tmp_path / "notify.sock"
    if sock_path.exists():
        sock_path.unlink()
    listener = NotifyListener(str(sock_path))
    env = dict(os.environ, NOTIFY_SOCKET=listener.path)
    if watchdog_usec:
        env["WATCHDOG_USEC"] = str(watchdog_usec)
    port = _free_port()
    conf = tmp_path / "tessera.conf"
    conf.write_text("save \"\"\nloglevel notice\n")
    log = open(tmp_path / "server.log", "ab")
    p = track_process(subprocess.Popen([server_binary(), str(conf), "--port", str(port), "--bind", "127.0.0.1",
                                        "--dir", str(tmp_path), "--enable-debug-command", "yes", *args],
                                       env=env, stdout=log, stderr=subprocess.STDOUT))
    return p, port, listener, conf


def test_ready_status_watchdog_reload_and_stopping(tmp_path):
    p, port, n, conf = start(tmp_path, "--shard-timeout", "1000", watchdog_usec=400_000)
    try:
        ready = n.wait_for("READY")
        assert ready[1] == p.pid, "READY must come from the main PID"
        assert ready[2].get("MAINPID") == str(p.pid)
        assert "STATUS" in ready[2]
        assert _client(port).ping()
        # The watchdog: every ~200 ms while the loop runs.
        t0 = time.monotonic()
        n.poll(1.2)
        assert n.count("WATCHDOG", since=t0) >= 3
        # A frozen process sends nothing; pings resume once it runs again.
        os.kill(p.pid, signal.SIGSTOP)
        n.poll(0.3)   # drain what was in flight
        t1 = time.monotonic()
        n.poll(1.0)
        assert n.count("WATCHDOG", since=t1) == 0
        os.kill(p.pid, signal.SIGCONT)
        t2 = time.monotonic()
        n.poll(1.0)
        assert n.count("WATCHDOG", since=t2) >= 2
        # A frozen shard: no answer within shard-timeout (1 s here) stops the pings;
        # the supervisor kills and restarts it, and they resume.
        shard = int(_client(port).info("server")["process_id"])
        assert shard != p.pid
        os.kill(shard, signal.SIGSTOP)
        tf = time.monotonic()
        n.poll(3.0)
        pings = [t for t, _, f in n.messages if "WATCHDOG" in f and t >= tf - 0.3]
        gaps = [b - a for a, b in zip(pings, pings[1:])]
        # Normally one every 0.2 s; the frozen shard opens a gap (until the restarted
        # shard answers), twice the normal spacing at least.
        assert gaps and max(gaps) >= 0.4, gaps
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                if int(_client(port).info("server")["process_id"]) != shard:
                    break
            except Exception:
                pass
            time.sleep(0.1)
        assert int(_client(port).info("server")["process_id"]) != shard, "the frozen shard was not replaced"
        t6 = time.monotonic()
        n.poll(1.0)
        assert n.count("WATCHDOG", since=t6) >= 2
        # SIGHUP: RELOADING, the file's new value applied, READY again.
        conf.write_text("save \"\"\nloglevel notice\nmaxmemory-samples 7\n")
        t3 = time.monotonic()
        os.kill(p.pid, signal.SIGHUP)
        n.poll(1.0)
        kinds = [list(f) for t, _, f in n.messages if t >= t3]
        assert any("RELOADING" in k for k in kinds)
        assert any("READY" in k for k in kinds)
        assert _client(port).config_get("maxmemory-samples")["maxmemory-samples"] in (b"7", "7")
        # SIGTERM: STOPPING, then a clean exit.
        t4 = time.monotonic()
        p.send_signal(signal.SIGTERM)
        assert p.wait(20) == 0
        n.poll(0.3)
        assert n.count("STOPPING", since=t4) == 1
    finally:
        if p.poll() is None:
            p.kill()


def test_ready_only_after_loading(tmp_path):
    p, port, n, _ = start(tmp_path)
    n.wait_for("READY")
    c = _client(port, socket_timeout=300)
    c.execute_command("DEBUG", "POPULATE", "1500000")
    c.save()
    p.kill()
    p.wait()
    wait_port_free(port)
    n.messages.clear()
    p, port2, n2, _ = start(tmp_path, "--port", str(port))
    try:
        loading_seen = False
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            n2.poll(0.01)
            if any("READY" in f for _, _, f in n2.messages):
                break
            try:
                _client(port).ping()
            except redis.BusyLoadingError:
                loading_seen = True
            except redis.ConnectionError:
                pass
        ready = n2.wait_for("READY")
        assert loading_seen, "the server answered before READY without -LOADING"
        statuses = [f["STATUS"] for _, _, f in n2.messages if "STATUS" in f]
        assert any("Loading" in s for s in statuses)
        # Progress per shard: "Loading the dataset: shard 0 42.10%" (or "starting" before its first answer).
        assert any("shard 0" in s for s in statuses if "Loading" in s), statuses
        assert _client(port).dbsize() == 1500000
        assert ready[1] == p.pid
    finally:
        p.kill()
