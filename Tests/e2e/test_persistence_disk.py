"""Full disks: saves and AOF writes fail cleanly (error logged, INFO says
err, writes refused with MISCONF, reads still served, no crash, no good file
replaced by a broken one) and everything recovers once space is back,
without a restart. Runs on a small tmpfs mounted by the test (needs root,
as CI has)."""

import os
import subprocess
import threading
import time

import pytest
import redis

from conftest import is_reference_redis, _client
from persistence_helpers import DataServer, wait_for

MISCONF_RDB = "MISCONF Redis is configured to save RDB snapshots"


@pytest.fixture
def small_disk(tmp_path):
    mnt = tmp_path / "disk"
    mnt.mkdir()
    def mount(size):
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mnt)],
                           capture_output=True, text=True)
        assert r.returncode == 0, f"cannot mount a tmpfs for the disk-full test (needs root): {r.stderr}"
        return str(mnt)
    yield mount
    subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def fill(path, nbytes):
    with open(path, "wb") as f:
        f.write(os.urandom(nbytes))


def test_bgsave_on_full_disk_refuses_writes_until_space_returns(small_disk):
    d = small_disk("4m")
    s = DataServer(d, "--save", "3600 1", "--rdbcompression", "no").start()
    r = s.client()
    r.set("small", "1")
    assert r.save()
    good = open(os.path.join(d, "dump.rdb"), "rb").read()
    # ~3 MB of incompressible data cannot be written next to a 1.5 MB filler.
    fill(os.path.join(d, "filler"), 1_500_000)
    for i in range(30):
        r.set(f"big{i}", os.urandom(100_000))
    assert r.bgsave()
    wait_for(lambda: r.info("persistence")["rdb_bgsave_in_progress"] == 0, what="bgsave end")
    assert r.info("persistence")["rdb_last_bgsave_status"] == "err"
    with pytest.raises(redis.ResponseError, match=MISCONF_RDB):
        r.set("x", "y")
    with pytest.raises(redis.ResponseError, match=MISCONF_RDB):
        r.ping()
    assert r.get("small") == b"1"                  # reads still work
    with pytest.raises(redis.ResponseError, match=MISCONF_RDB):
        r.delete("big0")                           # DEL is a write: refused too
    # The previous dump is intact and no temp file is left behind.
    assert open(os.path.join(d, "dump.rdb"), "rb").read() == good
    assert not [f for f in os.listdir(d) if f.startswith("temp-")]
    # Space comes back: the next save succeeds and writes are accepted again.
    os.unlink(os.path.join(d, "filler"))
    assert r.bgsave()
    wait_for(lambda: r.info("persistence")["rdb_last_bgsave_status"] == "ok", what="bgsave ok")
    assert r.set("x", "y")
    assert s.proc.poll() is None
    s.kill9()   # a final save would not fit next to the last dump


def test_save_on_full_disk_reports_error(small_disk):
    d = small_disk("1m")
    s = DataServer(d, "--save", "", "--rdbcompression", "no").start()
    r = s.client()
    for i in range(20):
        r.set(f"big{i}", os.urandom(100_000))
    with pytest.raises(redis.ResponseError):
        r.save()
    assert not [f for f in os.listdir(d) if f.startswith("temp-")]
    # Without save points, writes stay allowed (stop-writes-on-bgsave-error needs them).
    assert r.set("x", "y")
    s.stop()


def test_aof_everysec_full_disk_misconf_then_recovers(small_disk):
    d = small_disk("2m")
    fill(os.path.join(d, "filler"), 1_200_000)
    s = DataServer(d, "--save", "", "--appendonly", "yes", "--appendfsync", "everysec").start()
    r = s.client()
    payload = os.urandom(50_000)
    refused = None
    for i in range(40):
        try:
            r.set(f"k{i}", payload)
        except redis.ResponseError as e:
            refused = str(e)
            break
        time.sleep(0.02)
    assert refused is not None and refused.startswith("MISCONF Errors writing to the AOF file: No space left on device"), refused
    assert r.info("persistence")["aof_last_write_status"] == "err"
    assert r.get("k0") == payload
    os.unlink(os.path.join(d, "filler"))
    wait_for(lambda: r.info("persistence")["aof_last_write_status"] == "ok", timeout=10, what="AOF recovery")
    assert r.set("after", "1")
    keys = r.dbsize()
    s.stop()
    s2 = DataServer(d, "--save", "", "--appendonly", "yes", port=s.port).start()
    assert s2.client().dbsize() == keys
    assert s2.client().get("after") == b"1"
    s2.stop()


def test_aof_always_full_disk_holds_the_reply_until_written(small_disk):
    if is_reference_redis():
        pytest.skip("redis-server exits on an AOF write error with appendfsync always; Tessera holds the reply")
    d = small_disk("1m")
    fill(os.path.join(d, "filler"), 700_000)
    s = DataServer(d, "--save", "", "--appendonly", "yes", "--appendfsync", "always").start()
    r = s.client()
    payload = os.urandom(30_000)
    result = {}
    def writer():
        c = _client(s.port, socket_timeout=60)
        try:
            for i in range(20):
                c.set(f"k{i}", payload)
                result["acked"] = i
            result["done"] = True
        except redis.RedisError as e:
            result["error"] = e
    t = threading.Thread(target=writer)
    t.start()
    wait_for(lambda: r.info("persistence")["aof_last_write_status"] == "err", timeout=20, what="write error")
    acked_while_full = result.get("acked", -1)
    time.sleep(0.5)
    assert result.get("acked", -1) == acked_while_full      # the failing write is not acknowledged
    with pytest.raises(redis.ResponseError, match="MISCONF Errors writing to the AOF file"):
        r.set("other", "1")
    assert r.get("k0") == payload                           # reads are served meanwhile
    assert s.proc.poll() is None
    os.unlink(os.path.join(d, "filler"))
    t.join(30)
    assert result.get("done"), result
    s.stop()
    s2 = DataServer(d, "--save", "", "--appendonly", "yes", port=s.port).start()
    assert s2.client().get("k19") == payload
    s2.stop()
