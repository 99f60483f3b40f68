"""No process outlives the one that started it: a shard's snapshot and
rewrite children die with their shard (and never rename a stale file over a
newer one), a restarted shard starts only once its old incarnation is gone,
nothing of the server survives a kill -9 of the supervisor, and temp files
that killed children left behind are removed at start-up."""

import os
import signal
import subprocess
import time

import pytest

from conftest import is_reference_redis
from persistence_helpers import DataServer, wait_for
from test_supervisor import alive, shard_pid, wait_new_shard

pytestmark = pytest.mark.skipif(is_reference_redis(), reason="Tessera's supervisor and shards")

KEYS = 20_000
# Microseconds per key while a child writes: 20,000 keys take the child 3 s.
SAVE_DELAY_US = 150
CHILD_SECONDS = KEYS * SAVE_DELAY_US / 1e6


def children_of(pid):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except OSError:
                pass
    return found


def fill(r):
    for base in range(0, KEYS, 1_000):
        r.mset({f"old:{i}": i for i in range(base, base + 1_000)})


def start_child(s, start_command, progress_field):
    """Starts a slow background child; returns (shard pid, child pid, start time)."""
    r = s.client()
    fill(r)
    r.config_set("rdb-key-save-delay", SAVE_DELAY_US)
    started = time.monotonic()
    start_command(r)
    wait_for(lambda: r.info("persistence")[progress_field] == 1, what=progress_field)
    shard = shard_pid(s.port)
    kids = children_of(shard)
    assert len(kids) == 1, kids
    return shard, kids[0], started


def sleep_past_child(started):
    """Waits until a child started at `started` would have finished its work."""
    remaining = started + CHILD_SECONDS + 1.5 - time.monotonic()
    if remaining > 0:
        time.sleep(remaining)


def test_killed_shard_takes_its_snapshot_child_along(tmp_path):
    d = str(tmp_path)
    s = DataServer(d, "--save", "").start()
    shard, child, started = start_child(s, lambda r: r.bgsave(), "rdb_bgsave_in_progress")
    os.kill(shard, signal.SIGKILL)
    wait_new_shard(s.port, shard)
    assert not alive(shard) and not alive(child), "the old incarnation must be gone before the new one serves"
    assert not os.path.exists(os.path.join(d, f"temp-{child}.rdb")), "the dead child's temp file is removed at start-up"

    r = s.client()
    r.flushall()
    r.set("newer", "data")
    r.save()
    dump = os.path.join(d, "dump.rdb")
    with open(dump, "rb") as f:
        saved = f.read()
    sleep_past_child(started)
    with open(dump, "rb") as f:
        assert f.read() == saved, "a snapshot of the old incarnation replaced the newer dump.rdb"

    s.stop()
    s2 = DataServer(d, "--save", "", port=s.port).start()
    r2 = s2.client()
    assert r2.dbsize() == 1 and r2.get("newer") == b"data"
    s2.stop()


def test_killed_shard_takes_its_rewrite_child_along(tmp_path):
    d = str(tmp_path)
    s = DataServer(d, "--save", "", "--appendonly", "yes", "--appendfsync", "always").start()
    shard, child, started = start_child(s, lambda r: r.bgrewriteaof(), "aof_rewrite_in_progress")
    os.kill(shard, signal.SIGKILL)
    wait_new_shard(s.port, shard)
    assert not alive(shard) and not alive(child)
    assert not os.path.exists(os.path.join(d, f"temp-rewriteaof-bg-{child}.aof"))

    r = s.client()
    r.flushall()
    r.set("newer", "data")
    manifest = os.path.join(d, "appendonlydir", "appendonly.aof.manifest")
    with open(manifest, "rb") as f:
        before = f.read()
    sleep_past_child(started)
    with open(manifest, "rb") as f:
        assert f.read() == before
    assert r.info("persistence")["aof_rewrite_in_progress"] == 0

    s.stop()
    s2 = DataServer(d, "--save", "", "--appendonly", "yes", port=s.port).start()
    r2 = s2.client()
    assert r2.dbsize() == 1 and r2.get("newer") == b"data"
    s2.stop()


def test_nothing_survives_a_killed_supervisor(tmp_path):
    d = str(tmp_path)
    s = DataServer(d, "--save", "").start()
    shard, child, started = start_child(s, lambda r: r.bgsave(), "rdb_bgsave_in_progress")
    s.kill9()
    wait_for(lambda: not alive(shard) and not alive(child), timeout=5,
             what="the shard and its snapshot child to die with the supervisor")
    sleep_past_child(started)
    assert not os.path.exists(os.path.join(d, "dump.rdb")), "no process of the killed server may write files"


def test_startup_removes_temp_files_of_dead_children(tmp_path):
    d = str(tmp_path)
    gone = subprocess.Popen(["true"])
    gone.wait()
    stale = [f"temp-{gone.pid}.rdb", f"temp-rewriteaof-bg-{gone.pid}.aof"]
    kept = [f"temp-{os.getpid()}.rdb", "temp-notapid.rdb", "temp-1234.rdb.bak"]
    for name in stale + kept:
        with open(os.path.join(d, name), "wb") as f:
            f.write(b"partial")
    s = DataServer(d, "--save", "").start()
    try:
        for name in stale:
            assert not os.path.exists(os.path.join(d, name)), name
        for name in kept:
            assert os.path.exists(os.path.join(d, name)), name
        assert "left by a background child" in s.log_tail()
    finally:
        s.stop()


def test_restarted_shard_waits_for_a_stopped_old_incarnation(tmp_path):
    """A frozen shard (SIGSTOP) whose snapshot child is frozen too: the
    supervisor kills the whole group and restarts only when all of it is gone."""
    d = str(tmp_path)
    s = DataServer(d, "--save", "", "--shard-timeout", "1000").start()
    shard, child, started = start_child(s, lambda r: r.bgsave(), "rdb_bgsave_in_progress")
    os.kill(child, signal.SIGSTOP)
    os.kill(shard, signal.SIGSTOP)
    wait_new_shard(s.port, shard, timeout=15)
    assert not alive(shard) and not alive(child)
    r = s.client()
    r.set("after", "restart")
    r.save()
    with open(os.path.join(d, "dump.rdb"), "rb") as f:
        saved = f.read()
    sleep_past_child(started)
    with open(os.path.join(d, "dump.rdb"), "rb") as f:
        assert f.read() == saved
    s.stop()
