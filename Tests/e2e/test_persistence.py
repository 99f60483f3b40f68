"""RDB snapshots and the AOF end to end: round trips through SAVE, BGSAVE,
SHUTDOWN, AOF and rewrites; crash safety (kill -9 at any time); LOADING;
truncated AOFs. Interop with redis-server and disk-full handling are in
test_persistence_interop.py and test_persistence_disk.py."""

import os
import signal
import threading
import time

import pytest
import redis

from conftest import is_reference_redis, _client
from persistence_helpers import DataServer, snapshot, populate_all_types, wait_for, wait_rewrite_done


@pytest.fixture
def data_dir(tmp_path):
    return str(tmp_path)


def test_save_and_restart_keeps_every_type(data_dir):
    s = DataServer(data_dir, "--save", "").start()
    r = s.client()
    populate_all_types(r)
    before = snapshot(r)
    assert r.save() is True
    s.kill9()
    assert os.path.exists(os.path.join(data_dir, "dump.rdb"))
    s2 = DataServer(data_dir, "--save", "", port=s.port).start()
    r2 = s2.client()
    assert snapshot(r2) == before
    # Encodings come back as Redis would choose them.
    assert r2.object("encoding", "set:int") == b"intset"
    assert r2.object("encoding", "zset:small") == b"listpack"
    assert r2.object("encoding", "zset:big") == b"skiplist"
    assert r2.object("encoding", "hash:big") == b"hashtable"
    info = r2.info("persistence")
    assert info["rdb_last_load_keys_loaded"] == len(before)
    s2.stop()


def test_bgsave_reports_and_persists(data_dir):
    s = DataServer(data_dir, "--save", "").start()
    r = s.client()
    r.set("k", "v")
    before = r.lastsave()
    time.sleep(1.1)
    assert r.bgsave() is True
    s.wait_info("rdb_bgsave_in_progress", 0)
    info = r.info("persistence")
    assert info["rdb_last_bgsave_status"] == "ok"
    assert info["rdb_changes_since_last_save"] == 0
    assert r.lastsave() > before
    stats = r.info("stats")
    assert stats["total_forks"] >= 1 and stats["latest_fork_usec"] > 0
    s.kill9()
    s2 = DataServer(data_dir, "--save", "", port=s.port).start()
    assert s2.client().get("k") == b"v"
    s2.stop()


def test_bgsave_while_running_and_schedule(data_dir):
    s = DataServer(data_dir, "--save", "", "--rdb-key-save-delay", "2000").start()
    r = s.client()
    r.execute_command("DEBUG", "POPULATE", "1000")
    assert r.bgsave() is True
    with pytest.raises(redis.ResponseError, match="Background save already in progress"):
        r.bgsave()
    with pytest.raises(redis.ResponseError, match="Background save already in progress"):
        r.save()
    assert r.bgrewriteaof() is True
    assert r.info("persistence")["aof_rewrite_scheduled"] == 1
    r.config_set("rdb-key-save-delay", 0)
    s.stop(signal.SIGKILL)


def test_save_points_trigger_bgsave(data_dir):
    s = DataServer(data_dir, "--save", "1 1").start()
    r = s.client()
    r.set("a", 1)
    wait_for(lambda: r.info("persistence")["rdb_changes_since_last_save"] == 0, timeout=10,
             what="save point to fire")
    assert os.path.exists(os.path.join(data_dir, "dump.rdb"))
    s.kill9()


def test_shutdown_and_sigterm_save_when_save_points_exist(data_dir):
    s = DataServer(data_dir, "--save", "3600 1").start()
    s.client().set("a", "1")
    try:
        s.client().shutdown()
    except redis.ConnectionError:
        pass
    assert s.wait_exit() == 0
    s2 = DataServer(data_dir, "--save", "3600 1", port=s.port).start()
    r2 = s2.client()
    assert r2.get("a") == b"1"
    r2.set("b", "2")
    assert s2.stop(signal.SIGTERM) == 0
    s3 = DataServer(data_dir, "--save", "", port=s.port).start()
    assert s3.client().mget("a", "b") == [b"1", b"2"]
    # SHUTDOWN NOSAVE does not save.
    s3.client().set("c", "3")
    try:
        s3.client().shutdown(nosave=True)
    except redis.ConnectionError:
        pass
    s3.wait_exit()
    s4 = DataServer(data_dir, "--save", "", port=s.port).start()
    assert s4.client().get("c") is None
    s4.stop()


def test_debug_reload_keeps_data_and_expired_keys_go(data_dir):
    s = DataServer(data_dir, "--save", "").start()
    r = s.client()
    populate_all_types(r, big=150)
    r.set("soon", "x", px=100)
    before = snapshot(r)
    del before[(0, b"soon")]
    time.sleep(0.2)
    assert r.execute_command("DEBUG", "RELOAD") == b"OK"
    assert snapshot(r) == before
    with pytest.raises(redis.ResponseError, match="only supports the MERGE, NOFLUSH and NOSAVE"):
        r.execute_command("DEBUG", "RELOAD", "BOGUS")
    s.stop()


def test_corrupt_rdb_refuses_to_start(data_dir):
    s = DataServer(data_dir, "--save", "").start()
    r = s.client()
    r.set("k", "v" * 100)
    r.save()
    s.kill9()
    path = os.path.join(data_dir, "dump.rdb")
    data = bytearray(open(path, "rb").read())
    data[len(data) // 2] ^= 0xFF
    open(path, "wb").write(bytes(data))
    s2 = DataServer(data_dir, "--save", "", port=s.port).start(wait=False)
    assert s2.wait_exit() != 0
    log = s2.log_tail()
    assert "Fatal error loading the DB" in log or "CRC error" in log


def test_loading_answers_loading_error(data_dir):
    s = DataServer(data_dir, "--save", "").start()
    r = s.client()
    r.execute_command("DEBUG", "POPULATE", "1500000", "key", "20")
    r.save()
    s.kill9()
    s2 = DataServer(data_dir, "--save", "", port=s.port).start(wait=False)
    seen_loading = False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            c = s2.client(socket_timeout=5)
            c.ping()
            break
        except redis.BusyLoadingError:
            seen_loading = True
        except redis.ConnectionError:
            pass
        time.sleep(0.01)
    assert seen_loading, "never saw -LOADING while a 1.5M-key RDB loaded"
    assert s2.client().dbsize() == 1500000
    s2.stop()


# ---------------------------------------------------------------------------
# AOF
# ---------------------------------------------------------------------------

def aof_files(data_dir):
    d = os.path.join(data_dir, "appendonlydir")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def test_aof_round_trip_with_rewrite(data_dir):
    s = DataServer(data_dir, "--save", "", "--appendonly", "yes", "--appendfsync", "always").start()
    r = s.client()
    assert aof_files(data_dir) == ["appendonly.aof.1.base.rdb", "appendonly.aof.1.incr.aof",
                                   "appendonly.aof.manifest"]
    populate_all_types(r, big=150)
    r.incrbyfloat("float", "1.1")
    r.expire("str", 1000)
    r.spop("set:str", 3)
    r.set("gone", "x", ex=1)
    before = snapshot(r)
    s.kill9()
    s2 = DataServer(data_dir, "--save", "", "--appendonly", "yes", "--appendfsync", "always", port=s.port).start()
    r2 = s2.client()
    after = snapshot(r2)
    after.pop((0, b"gone"), None)
    before.pop((0, b"gone"), None)
    assert after == before
    # Rewrite: a new base replaces the old one, writes after it land in a new incr file.
    assert r2.bgrewriteaof()
    wait_rewrite_done(r2)
    assert "appendonly.aof.2.base.rdb" in aof_files(data_dir)
    assert "appendonly.aof.1.base.rdb" not in aof_files(data_dir)
    r2.set("after-rewrite", "yes")
    manifest = open(os.path.join(data_dir, "appendonlydir", "appendonly.aof.manifest")).read()
    assert "type b" in manifest and "type i" in manifest and "type h" not in manifest
    before2 = snapshot(r2)
    s2.kill9()
    s3 = DataServer(data_dir, "--save", "", "--appendonly", "yes", "--appendfsync", "always", port=s.port).start()
    after2 = snapshot(s3.client())
    # "gone" (1 s TTL) may expire between the snapshot and the restart under load.
    before2.pop((0, b"gone"), None)
    after2.pop((0, b"gone"), None)
    assert after2 == before2
    s3.stop()


def test_aof_rewrite_without_rdb_preamble(data_dir):
    s = DataServer(data_dir, "--save", "", "--appendonly", "yes", "--aof-use-rdb-preamble", "no").start()
    r = s.client()
    populate_all_types(r, big=100)
    before = snapshot(r)
    r.bgrewriteaof()
    wait_rewrite_done(r)
    files = aof_files(data_dir)
    base = [f for f in files if ".base." in f]
    assert base == ["appendonly.aof.2.base.aof"]
    with open(os.path.join(data_dir, "appendonlydir", base[0]), "rb") as f:
        assert f.read(1) == b"*"
    s.kill9()
    s2 = DataServer(data_dir, "--save", "", "--appendonly", "yes", port=s.port).start()
    assert snapshot(s2.client()) == before
    s2.stop()


def test_config_set_appendonly_rewrites_first(data_dir):
    s = DataServer(data_dir, "--save", "", "--appendfsync", "always").start()
    r = s.client()
    populate_all_types(r, big=50)
    assert r.config_set("appendonly", "yes")
    wait_rewrite_done(r)
    r.set("later", "1")
    before = snapshot(r)
    s.kill9()
    s2 = DataServer(data_dir, "--save", "", "--appendonly", "yes", "--appendfsync", "always", port=s.port).start()
    assert snapshot(s2.client()) == before
    r2 = s2.client()
    assert r2.config_set("appendonly", "no")
    assert r2.info("persistence")["aof_enabled"] == 0
    s2.stop()


def _writer(port, acked, stop, command):
    c = _client(port, socket_timeout=5)
    i = 0
    while not stop.is_set():
        try:
            command(c, i)
        except (redis.ConnectionError, redis.TimeoutError):
            return
        acked.append((i, time.monotonic()))
        i += 1


@pytest.mark.parametrize("clients", [4])
def test_kill9_loses_no_acknowledged_write_with_always(data_dir, clients):
    s = DataServer(data_dir, "--save", "", "--appendonly", "yes", "--appendfsync", "always").start()
    stop = threading.Event()
    acks = [[] for _ in range(clients)]
    threads = [threading.Thread(target=_writer, args=(s.port, acks[t], stop,
                                                      lambda c, i, t=t: c.set(f"w{t}:{i}", i)))
               for t in range(clients)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    s.kill9()
    stop.set()
    for t in threads:
        t.join()
    total = sum(len(a) for a in acks)
    assert total > 100, f"only {total} writes acknowledged"
    s2 = DataServer(data_dir, "--save", "", "--appendonly", "yes", port=s.port).start()
    r2 = s2.client()
    for t in range(clients):
        if acks[t]:
            last = acks[t][-1][0]
            assert r2.get(f"w{t}:{last}") == str(last).encode(), f"acknowledged write w{t}:{last} lost"
            missing = [i for i, _ in acks[t] if not r2.exists(f"w{t}:{i}")] if len(acks[t]) < 5000 else []
            assert missing == []
    s2.stop()


def test_kill9_with_everysec_loses_at_most_about_a_second(data_dir):
    s = DataServer(data_dir, "--save", "", "--appendonly", "yes", "--appendfsync", "everysec").start()
    stop = threading.Event()
    acked = []
    t = threading.Thread(target=_writer, args=(s.port, acked, stop, lambda c, i: c.rpush("log", i)))
    t.start()
    time.sleep(2.5)
    s.kill9()
    stop.set()
    t.join()
    s2 = DataServer(data_dir, "--save", "", "--appendonly", "yes", port=s.port).start()
    n = s2.client().llen("log")
    assert n > 0
    kill_time = acked[-1][1]
    # Every write acknowledged more than ~1.5 s before the kill is on disk.
    old = [i for i, ts in acked if ts < kill_time - 1.5]
    assert not old or n > old[-1]
    s2.stop()


def test_kill9_during_bgsave_keeps_previous_dump(data_dir):
    s = DataServer(data_dir, "--save", "").start()
    r = s.client()
    r.set("generation", 1)
    r.save()
    r.execute_command("DEBUG", "POPULATE", "20000")
    r.config_set("rdb-key-save-delay", 100)
    r.set("generation", 2)
    r.bgsave()
    time.sleep(0.3)
    assert r.info("persistence")["rdb_bgsave_in_progress"] == 1
    s.kill9()
    time.sleep(0.2)
    s2 = DataServer(data_dir, "--save", "", port=s.port).start()
    r2 = s2.client()
    assert r2.get("generation") == b"1"
    assert r2.dbsize() == 1
    s2.stop()


def test_kill9_during_rewrite_keeps_previous_files(data_dir):
    s = DataServer(data_dir, "--save", "", "--appendonly", "yes", "--appendfsync", "always").start()
    r = s.client()
    # Written with real commands, so the incr file holds them (DEBUG POPULATE
    # is not propagated, by redis-server neither).
    expected = {}
    for base in range(0, 20_000, 1_000):
        batch = {f"key:{i}": f"value:{i}" for i in range(base, base + 1_000)}
        r.mset(batch)
        expected.update(batch)
    manifest = os.path.join(data_dir, "appendonlydir", "appendonly.aof.manifest")

    def base_file():
        with open(manifest) as f:
            return [line for line in f if line.rstrip().endswith("type b")]
    base_before = base_file()
    # 20,000 keys x 1 ms: the rewrite cannot finish before the kill.
    r.config_set("rdb-key-save-delay", 1000)
    r.bgrewriteaof()
    wait_for(lambda: r.info("persistence")["aof_rewrite_in_progress"] == 1, what="the rewrite to start")
    r.set("during", "rewrite")
    expected["during"] = "rewrite"
    s.kill9()
    # (A rewrite opens a new incr file at its start; only its end installs a base.)
    assert base_file() == base_before, "the killed rewrite must not have installed its base"
    s2 = DataServer(data_dir, "--save", "", "--appendonly", "yes", "--appendfsync", "always", port=s.port).start()
    r2 = s2.client(decode_responses=True)
    assert r2.dbsize() == len(expected)
    keys = sorted(expected)
    for i in range(0, len(keys), 1_000):
        chunk = keys[i:i + 1_000]
        assert r2.mget(chunk) == [expected[k] for k in chunk]
    s2.stop()


def test_truncated_aof_tail(data_dir):
    s = DataServer(data_dir, "--save", "", "--appendonly", "yes", "--appendfsync", "always").start()
    r = s.client()
    r.set("a", "1")
    r.set("b", "2")
    s.kill9()
    incr = os.path.join(data_dir, "appendonlydir", "appendonly.aof.1.incr.aof")
    with open(incr, "ab") as f:
        f.write(b"*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$2\r\n3")   # cut mid-command
    size_torn = os.path.getsize(incr)
    # Not allowed: the server refuses to start and says why.
    s2 = DataServer(data_dir, "--save", "", "--appendonly", "yes", "--aof-load-truncated", "no",
                    port=s.port).start(wait=False)
    assert s2.wait_exit() != 0
    assert "Unexpected end of file" in s2.log_tail()
    # Allowed (the default): loads what is whole and cuts the torn tail off.
    s3 = DataServer(data_dir, "--save", "", "--appendonly", "yes", port=s.port).start()
    r3 = s3.client()
    assert r3.mget("a", "b", "c") == [b"1", b"2", None]
    assert os.path.getsize(incr) < size_torn
    r3.set("d", "4")
    s3.kill9()
    s4 = DataServer(data_dir, "--save", "", "--appendonly", "yes", port=s.port).start()
    assert s4.client().mget("a", "b", "d") == [b"1", b"2", b"4"]
    s4.stop()


def test_incomplete_multi_in_aof_is_reverted(data_dir):
    s = DataServer(data_dir, "--save", "", "--appendonly", "yes", "--appendfsync", "always").start()
    s.client().set("a", "1")
    s.kill9()
    incr = os.path.join(data_dir, "appendonlydir", "appendonly.aof.1.incr.aof")
    with open(incr, "ab") as f:
        f.write(b"*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$1\r\n1\r\n")
    s2 = DataServer(data_dir, "--save", "", "--appendonly", "yes", "--appendfsync", "always", port=s.port).start()
    assert s2.client().mget("a", "x") == [b"1", None]
    s2.stop()


def test_transactions_are_atomic_in_the_aof(data_dir):
    s = DataServer(data_dir, "--save", "", "--appendonly", "yes").start()
    r = s.client()
    p = r.pipeline(transaction=True)
    p.set("t1", 1)
    p.incr("t1")
    p.rpush("tl", "a")
    p.execute()
    incr = os.path.join(data_dir, "appendonlydir", "appendonly.aof.1.incr.aof")
    data = open(incr, "rb").read()
    assert data.count(b"MULTI") == 1 and data.count(b"EXEC") == 1
    s.stop()


def test_aof_enabled_loads_from_aof_not_rdb(data_dir):
    s = DataServer(data_dir, "--save", "").start()
    r = s.client()
    r.set("only-in-rdb", 1)
    r.save()
    s.kill9()
    s2 = DataServer(data_dir, "--save", "", "--appendonly", "yes", port=s.port).start()
    assert s2.client().get("only-in-rdb") is None
    s2.stop()


def test_info_persistence_fields(data_dir):
    s = DataServer(data_dir, "--save", "", "--appendonly", "yes").start()
    info = s.client().info("persistence")
    for field in ("loading", "rdb_changes_since_last_save", "rdb_bgsave_in_progress", "rdb_last_save_time",
                  "rdb_last_bgsave_status", "rdb_last_cow_size", "aof_enabled", "aof_rewrite_in_progress",
                  "aof_last_write_status", "aof_current_size", "aof_base_size", "aof_buffer_length",
                  "aof_delayed_fsync"):
        assert field in info, field
    assert info["aof_enabled"] == 1
    s.stop()


def _tool(*args):
    import subprocess
    from conftest import server_binary
    return subprocess.run([server_binary(), *args], capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(is_reference_redis(), reason="tessera-server's own --check-rdb/--check-aof")
def test_check_rdb_and_check_aof_tools(data_dir):
    s = DataServer(data_dir, "--save", "", "--appendonly", "yes", "--appendfsync", "always").start()
    r = s.client()
    populate_all_types(r, big=50)
    r.save()
    s.kill9()
    dump = os.path.join(data_dir, "dump.rdb")
    ok = _tool("--check-rdb", dump)
    assert ok.returncode == 0 and "RDB looks OK" in ok.stdout, ok.stdout
    data = bytearray(open(dump, "rb").read())
    bad = os.path.join(data_dir, "bad.rdb")
    open(bad, "wb").write(bytes(data[: len(data) - 20]))
    broken = _tool("--check-rdb", bad)
    assert broken.returncode == 1 and "RDB ERROR" in broken.stdout
    aofdir = os.path.join(data_dir, "appendonlydir")
    assert _tool("--check-aof", aofdir).returncode == 0
    with open(os.path.join(aofdir, "appendonly.aof.1.incr.aof"), "ab") as f:
        f.write(b"*2\r\n$3\r\nDEL\r\n$5\r\nst")
    torn = _tool("--check-aof", os.path.join(aofdir, "appendonly.aof.manifest"))
    assert torn.returncode == 1 and "--fix" in torn.stdout
    fixed = _tool("--check-aof", "--fix", aofdir)
    assert fixed.returncode == 0 and "Successfully truncated" in fixed.stdout, fixed.stdout
    assert _tool("--check-aof", aofdir).returncode == 0
    s2 = DataServer(data_dir, "--save", "", "--appendonly", "yes", "--aof-load-truncated", "no", port=s.port).start()
    assert s2.client().get("str") == b"hello"
    s2.stop()


def test_lfu_and_lru_access_data_survive_reload(data_dir):
    s = DataServer(data_dir, "--save", "", "--maxmemory-policy", "allkeys-lfu").start()
    r = s.client()
    r.set("hot", 1)
    for _ in range(300):
        r.get("hot")
    freq = r.object("freq", "hot")
    assert freq > 5
    assert r.execute_command("DEBUG", "RELOAD") == b"OK"
    assert abs(r.object("freq", "hot") - freq) <= 1
    r.config_set("maxmemory-policy", "allkeys-lru")
    r.set("cold", 1)
    r.restore("cold", 0, r.dump("cold"), replace=True, idletime=5000)
    assert r.execute_command("DEBUG", "RELOAD") == b"OK"
    assert r.object("idletime", "cold") >= 5000
    s.stop()


def test_flushall_with_save_points_saves_the_empty_dataset(data_dir):
    s = DataServer(data_dir, "--save", "3600 1").start()
    r = s.client()
    r.set("a", 1)
    r.save()
    r.flushall()
    assert r.info("persistence")["rdb_changes_since_last_save"] == 0
    s.kill9()
    s2 = DataServer(data_dir, "--save", "", port=s.port).start()
    assert s2.client().dbsize() == 0
    s2.stop()
