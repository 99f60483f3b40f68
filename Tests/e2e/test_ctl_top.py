"""`tessera-ctl top`: the live per-shard view over the control socket, driven
non-interactively (--iterations / --once; plain text when stdout is a pipe,
--json for machines)."""

import json
import threading
import time

import pytest

from conftest import is_reference_redis
from persistence_helpers import DataServer
from test_supervisor import ctl, shard_pid

pytestmark = pytest.mark.skipif(is_reference_redis(), reason="tessera-ctl")


@pytest.fixture
def ctl_server(tmp_path):
    sock = str(tmp_path / "ctl.sock")
    s = DataServer(str(tmp_path), "--save", "", "--control-socket", sock,
                   "--latency-monitor-threshold", "5", "--slowlog-log-slower-than", "1000").start()
    s.sock = sock
    yield s
    s.stop()


def test_top_plain_frames(ctl_server):
    s = ctl_server
    r = s.client()
    for i in range(25):
        r.set(f"k{i}", i)
    r.get("k1")
    r.get("missing")
    r.execute_command("DEBUG", "SLEEP", "0.02")
    out = ctl(s.sock, "top", "--iterations", "2", "--interval", "0.2").stdout
    frames = [f for f in out.split("tessera top - ") if f.strip()]
    assert len(frames) == 2, out
    assert "\x1b[" not in out          # no terminal control codes into a pipe
    lines = frames[-1].splitlines()
    assert "shards: 1" in lines[0] and "keys: 25" in lines[0]
    header = lines[1].split()
    assert header[:4] == ["SHARD", "PID", "STATE", "KEYS"] and "OPS/S" in header and "SLOWLOG" in header
    row = lines[2].split()
    assert row[0] == "0" and int(row[1]) == shard_pid(s.port) and row[2] == "ready" and row[3] == "25"
    assert "command" in lines[2] and "ms" in lines[2]          # the DEBUG SLEEP latency event
    assert row[header.index("HIT%")] == "50.0"
    assert int(row[header.index("SLOWLOG")]) >= 1


def test_top_json_and_rates(ctl_server):
    s = ctl_server
    r = s.client()
    stop = threading.Event()

    def load():
        c = s.client()
        while not stop.is_set():
            p = c.pipeline(transaction=False)
            for i in range(100):
                p.incr("counter")
            p.execute()

    t = threading.Thread(target=load)
    t.start()
    try:
        out = ctl(s.sock, "top", "--iterations", "3", "--interval", "0.5", "--json").stdout
    finally:
        stop.set()
        t.join()
    snapshots = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert len(snapshots) == 3
    last = snapshots[-1][0]
    assert last["shard"] == 0 and last["state"] == "ready" and last["keys"] == 1
    assert last["ops_per_sec"] > 100, snapshots
    assert last["used_memory"] > 0 and float(last["mem_fragmentation_ratio"]) > 0
    assert last["connected_clients"] >= 1
    assert last["restarts"] == 0 and last["slowlog_len"] >= 0
    assert int(r.get("counter")) > 0


def test_top_once_and_errors(ctl_server, tmp_path):
    s = ctl_server
    once = ctl(s.sock, "top", "--once").stdout
    assert once.count("tessera top - ") == 1
    assert ctl(s.sock, "top", "--iterations", "0", check=False).returncode == 64
    down = ctl(str(tmp_path / "nothing.sock"), "top", "--once", check=False)
    assert down.returncode == 2 and "not running" in down.stderr


def test_top_does_not_hang_on_a_frozen_shard(ctl_server):
    import os
    import signal
    s = ctl_server
    pid = shard_pid(s.port)
    os.kill(pid, signal.SIGSTOP)
    try:
        t = time.monotonic()
        row = json.loads(ctl(s.sock, "top", "--once", "--json").stdout)[0]
        assert time.monotonic() - t < 8
        assert row["state"] == "silent" and row["pid"] == pid
    finally:
        os.kill(pid, signal.SIGCONT)
    row = json.loads(ctl(s.sock, "top", "--once", "--json").stdout)[0]
    assert row["state"] == "ready"
