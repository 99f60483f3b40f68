"""Plugins: Tessera's own (bloom in C, cell in Swift, built by Plugins/Makefile)
and compatibility modules written against the Redis Modules API
(Tests/e2e/modules/*.c, compiled here with gcc against our header and, when
Redis 7.0's source tree is at $HOME/redis-src-7.0, against Redis's own
redismodule.h too). Loaded from the configuration (loadmodule) and with
MODULE LOAD; every command, persistence (SAVE + restart, AOF rewrite +
restart), MEMORY USAGE, MODULE LIST/UNLOAD, blocking with threads, timers,
a plugin crash (the supervisor restarts the shard) and tessera-ctl.

The same modules load into redis-server 7.0, so most of this file also runs
against the reference (TESSERA_SERVER=/usr/bin/redis-server)."""

import os
import shutil
import signal
import subprocess
import threading
import time

import pytest
import redis

from conftest import is_reference_redis, server_binary, _client
from persistence_helpers import DataServer, wait_for

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PLUGINS = os.path.join(REPO, "Plugins")
MODULES_SRC = os.path.join(os.path.dirname(__file__), "modules")
REDIS_HEADER = os.path.expanduser("~/redis-src-7.0/src/redismodule.h")

tessera_only = pytest.mark.skipif(is_reference_redis(), reason="Tessera's supervisor, tessera-ctl and messages")


@pytest.fixture(scope="session")
def plugin_dir(tmp_path_factory):
    """Builds our plugins (make) and the compatibility modules (gcc)."""
    out = tmp_path_factory.mktemp("plugins")
    build = subprocess.run(["make", "-C", PLUGINS, f"BUILD={out}/ours"], capture_output=True, text=True)
    assert build.returncode == 0, build.stdout + build.stderr
    variants = {"tessera": ["-I", os.path.join(PLUGINS, "include")]}
    if os.path.exists(REDIS_HEADER):
        inc = out / "redis-include"
        inc.mkdir()
        shutil.copy(REDIS_HEADER, inc / "redismodule.h")
        variants["redis"] = ["-DUSE_REDIS_HEADER", "-I", str(inc)]
    for name in ("basics", "async"):
        for variant, flags in variants.items():
            target = out / f"{name}-{variant}.so"
            cc = subprocess.run(["gcc", "-Wall", "-O1", "-fPIC", "-shared", *flags,
                                 os.path.join(MODULES_SRC, f"{name}.c"), "-o", str(target), "-lpthread"],
                                capture_output=True, text=True)
            assert cc.returncode == 0, cc.stderr
    return out


def mod(plugin_dir, name, variant=None):
    if name in ("bloom", "cell"):
        return str(plugin_dir / "ours" / f"{name}.so")
    if variant is None:
        variant = "redis" if (plugin_dir / f"{name}-redis.so").exists() else "tessera"
    return str(plugin_dir / f"{name}-{variant}.so")


def start(tmp_path, plugin_dir, *extra, modules=("bloom", "cell", "basics", "async"), variant=None):
    args = ["--save", "", "--enable-module-command", "yes"]
    for m in modules:
        args += ["--loadmodule", mod(plugin_dir, m, variant)]
        if m == "basics":
            args += ["x1", "x2"]
    return DataServer(str(tmp_path), *args, *extra).start()


@pytest.fixture
def srv(tmp_path, plugin_dir):
    s = start(tmp_path, plugin_dir)
    yield s
    s.stop(signal.SIGKILL)


def names(module_list):
    return sorted(m[b"name"] if isinstance(m, dict) else dict(zip(m[::2], m[1::2]))[b"name"] for m in module_list)


def as_dict(entry):
    return entry if isinstance(entry, dict) else dict(zip(entry[::2], entry[1::2]))


# ---------------------------------------------------------------------------
# loading
# ---------------------------------------------------------------------------

def test_loadmodule_from_config_and_module_list(srv, plugin_dir):
    r = srv.client()
    mods = {as_dict(m)[b"name"]: as_dict(m) for m in r.execute_command("MODULE", "LIST")}
    assert set(mods) == {b"bloom", b"cell", b"basics", b"async"}
    assert mods[b"basics"][b"ver"] == 3
    assert mods[b"basics"][b"args"] == [b"x1", b"x2"]
    assert mods[b"bloom"][b"path"] == mod(plugin_dir, "bloom").encode()
    assert r.execute_command("t.args") == [b"x1", b"x2"]
    # INFO modules: one "module:name=...,ver=...,..." line per module
    # (redis-py gathers them under "modules").
    listed = {m["name"]: m for m in r.info("modules").get("modules", [])}
    assert set(listed) == {"bloom", "cell", "basics", "async"}
    assert listed["basics"]["ver"] == 3


@pytest.mark.parametrize("variant", ["tessera", "redis"])
def test_module_load_and_unload(tmp_path, plugin_dir, variant):
    if variant == "redis" and not os.path.exists(REDIS_HEADER):
        pytest.skip("no Redis source tree for redismodule.h")
    s = start(tmp_path, plugin_dir, modules=())
    r = s.client()
    assert r.execute_command("MODULE", "LIST") == []
    assert r.execute_command("MODULE", "LOAD", mod(plugin_dir, "basics", variant), "a", "b") == b"OK"
    assert r.execute_command("t.args") == [b"a", b"b"]
    assert r.execute_command("t.echo", "x") == [b"x"]
    # The name is taken: a second copy is refused.
    with pytest.raises(redis.ResponseError, match="Error loading the extension"):
        r.execute_command("MODULE", "LOAD", mod(plugin_dir, "basics", variant))
    assert r.execute_command("MODULE", "LOADEX", mod(plugin_dir, "async", variant)) == b"OK"
    assert r.execute_command("MODULE", "UNLOAD", "basics") == b"OK"
    with pytest.raises(redis.ResponseError, match="unknown command"):
        r.execute_command("t.echo", "x")
    # A module with data types cannot be unloaded.
    with pytest.raises(redis.ResponseError, match="Error unloading module"):
        r.execute_command("MODULE", "UNLOAD", "async")
    with pytest.raises(redis.ResponseError, match="no such module"):
        r.execute_command("MODULE", "UNLOAD", "nosuch")
    # Failures: a missing file, OnLoad returning an error.
    with pytest.raises(redis.ResponseError, match="Error loading the extension"):
        r.execute_command("MODULE", "LOAD", str(tmp_path / "missing.so"))
    with pytest.raises(redis.ResponseError, match="Error loading the extension"):
        r.execute_command("MODULE", "LOAD", mod(plugin_dir, "basics", variant), "fail")
    assert names(r.execute_command("MODULE", "LIST")) == [b"async"]
    # And it can come back after the unload.
    assert r.execute_command("MODULE", "LOADEX", mod(plugin_dir, "basics", variant), "ARGS", "z") == b"OK"
    assert r.execute_command("t.args") == [b"z"]
    s.stop(signal.SIGKILL)


def test_module_command_needs_enable_module_command(tmp_path, plugin_dir):
    s = DataServer(str(tmp_path), "--save", "").start()
    with pytest.raises(redis.ResponseError, match="MODULE command not allowed"):
        s.client().execute_command("MODULE", "LOAD", mod(plugin_dir, "bloom"))
    s.stop(signal.SIGKILL)


@tessera_only
def test_failing_loadmodule_stops_startup(tmp_path, plugin_dir):
    s = DataServer(str(tmp_path), "--save", "", "--loadmodule", mod(plugin_dir, "basics"), "fail")
    s.start(wait=False)
    assert s.wait_exit(timeout=20) != 0
    assert "failed to load" in s.log_tail()


# ---------------------------------------------------------------------------
# the basics module: commands, replies, strings, Call, keys
# ---------------------------------------------------------------------------

def test_commands_replies_strings(srv):
    r = srv.client()
    assert r.execute_command("t.echo", "a", "b") == [b"a", b"b"]
    assert r.execute_command("t.replies") == [42, b"simple", b"buf", b"cstr", None, b"3.5", 1, [1, 2],
                                              [b"k", 7], [], b"verbatim", b"", b"1.25"]
    r3 = srv.client(protocol=3)
    rep = r3.execute_command("t.replies")
    assert rep[5] == 3.5 and rep[6] is True and rep[8] == {b"k": 7}
    with pytest.raises(redis.ResponseError, match="something went wrong"):
        r.execute_command("t.error")
    with pytest.raises(redis.ResponseError, match="wrong number of arguments for 't.strings' command"):
        r.execute_command("t.strings")
    assert r.execute_command("t.strings", "21") == b"42!"
    assert r.execute_command("t.strings", "2.5") == b"double:2.50"
    assert r.execute_command("t.strings", "hello") == [b"hello", 0]
    assert r.execute_command("t.parent", "sub", "a", "b") == 4
    assert r.execute_command("t.dict") == [b"bravo", 4, b"delta", 1, 3, 1]
    r.set("one", "1")
    r.client_setname("me")
    p = srv.client().pubsub()
    p.subscribe("news")
    p.get_message(timeout=1)
    assert r.execute_command("t.extras", "news") == [1, b"t.extras", b"me", 1]
    assert p.get_message(timeout=2)["data"] == b"hi"
    p.close()


def test_command_table_entries(srv):
    r = srv.client()
    out = subprocess.run(["redis-cli", "-p", str(srv.port), "COMMAND", "INFO", "t.keyinfo", "bf.add"],
                         capture_output=True, text=True).stdout.split()
    assert out[:6] == ["t.keyinfo", "-1", "readonly", "module", "1", "1"]
    assert out[out.index("bf.add") + 1] == "-1"
    assert "write" in out and "denyoom" in out


def test_call_and_call_replies(srv):
    r = srv.client()
    assert r.execute_command("t.call", "set", "foo", "bar") == b"string:OK"
    assert r.execute_command("t.call", "get", "foo") == b"string:bar"
    assert r.execute_command("t.call", "get", "missing") == b"null"
    assert r.execute_command("t.call", "incr", "foo") == b"error:ERR value is not an integer or out of range"
    assert r.execute_command("t.call", "nosuchcmd") == b"NULL errno=ENOENT"
    assert r.execute_command("t.call", "get") == b"NULL errno=EINVAL"
    r.hset("h", mapping={"a": "1"})
    assert r.execute_command("t.call", "hgetall", "h") == [b"string:a", b"string:1"]
    assert r.execute_command("t.call3", "hgetall", "h") == [b"string:a", b"string:1"]
    r.zadd("z", {"m": 1.5})
    assert r.execute_command("t.call3", "zscore", "z", "m") == b"double:1.5"
    assert r.execute_command("t.call", "zscore", "z", "m") == b"string:1.5"
    assert r.execute_command("t.callproto", "lrange", "nolist", "0", "-1") == []
    r.rpush("l", "x", "y")
    assert r.execute_command("t.callproto", "lrange", "l", "0", "-1") == [b"x", b"y"]
    assert r.execute_command("t.callfmt", "cf") == [b"string:c-str", b"string:buffer", b"string:12345"]


def test_key_api_on_every_type(srv):
    r = srv.client()
    r.set("s", "hello")
    r.rpush("l", "a", "b", "c")
    r.hset("h", mapping={"f": "v"})
    r.sadd("st", "m1", "m2")
    r.zadd("z", {"a": 1})
    r.xadd("x", {"f": "v"})
    r.execute_command("bf.add", "b", "item")
    r.pexpire("s", 100000)
    assert r.execute_command("t.keyinfo", "s")[:2] == [1, 5]
    assert 90000 < r.execute_command("t.keyinfo", "s")[2] <= 100000
    assert r.execute_command("t.keyinfo", "l") == [2, 3, -1]
    assert r.execute_command("t.keyinfo", "h") == [3, 1, -1]
    assert r.execute_command("t.keyinfo", "st") == [4, 2, -1]
    assert r.execute_command("t.keyinfo", "z") == [5, 1, -1]
    assert r.execute_command("t.keyinfo", "b")[0] == 6
    assert r.execute_command("t.keyinfo", "x")[0] == 7
    assert r.execute_command("t.keyinfo", "missing") is None
    # strings: StringSet, DMA, Truncate, SetExpire
    assert r.execute_command("t.string", "s2") == [b"HELLO", 1]
    assert r.get("s2") == b"HELLO" and r.pttl("s2") > 90000
    # lists
    assert r.execute_command("t.list", "l2") == [b"z", b"ins", b"c", 3]
    assert r.lrange("l2", 0, -1) == [b"ins", b"B", b"c"]
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.execute_command("t.list", "s")
    # hashes
    assert r.execute_command("t.hash", "h2") == [0, 0, 1, b"v1", None, 1]
    assert r.hgetall("h2") == {b"f1": b"v1"}
    # sorted sets
    assert r.execute_command("t.zset", "z2") == [b"11", 1, b"2", 1, b"b", b"c", b"a", b"a", b"c", b"b"]
    assert r.zrange("z2", 0, -1, withscores=True) == [(b"b", 2.0), (b"c", 3.0), (b"a", 11.0)]
    # delete, exists, select
    assert r.execute_command("t.exists", "s2") == 1
    assert r.execute_command("t.del", "s2") == 1
    assert r.execute_command("t.exists", "s2") == 0
    assert r.execute_command("t.selectdb", "0", "l") == 1
    assert r.execute_command("t.selectdb", "1", "l") == 0
    assert r.execute_command("t.keyinfo", "l") == [2, 3, -1]


def test_context_info_and_keyspace_events(srv):
    r = srv.client()
    cid, flags, events0, clock = r.execute_command("t.info")
    assert cid == r.client_id() and clock == 1
    assert flags & (1 << 2)                  # master
    assert not flags & (1 << 1)              # not in MULTI
    r.set("k", "v")                          # a string event the module subscribed to
    assert r.execute_command("t.notify", "k") == b"OK"
    assert r.execute_command("t.info")[2] == events0 + 2
    r.config_set("notify-keyspace-events", "KEA")
    p = srv.client().pubsub()
    p.psubscribe("__keyevent@0__:t.event")
    p.get_message(timeout=1)
    r.execute_command("t.notify", "k2")
    msg = p.get_message(timeout=2)
    assert msg and msg["data"] == b"k2"
    p.close()
    pipe = r.pipeline(transaction=True)
    pipe.execute_command("t.info")
    assert pipe.execute()[0][1] & (1 << 1)   # MULTI flag inside EXEC


def test_propagation_to_the_aof(tmp_path, plugin_dir):
    s = start(tmp_path, plugin_dir, "--appendonly", "yes", "--appendfsync", "always", modules=("basics",))
    r = s.client()
    r.execute_command("t.replicate", "k1", "v1")
    r.execute_command("t.verbatim", "k2", "v2")
    r.execute_command("t.call", "set", "k3", "not-propagated")
    r.execute_command("t.callrep", "set", "k4", "propagated")
    r.execute_command("t.keyinfo", "k1")
    aof = b""
    d = os.path.join(str(tmp_path), "appendonlydir")
    for f in sorted(os.listdir(d)):
        if f.endswith(".incr.aof"):
            aof += open(os.path.join(d, f), "rb").read()
    assert b"$3\r\nSET\r\n$2\r\nk1\r\n$2\r\nv1" in aof
    assert b"t.verbatim\r\n$2\r\nk2\r\n$2\r\nv2" in aof
    assert b"k3" not in aof
    assert b"$2\r\nk4\r\n$10\r\npropagated" in aof
    assert b"keyinfo" not in aof
    s.stop()
    s2 = start(tmp_path, plugin_dir, "--appendonly", "yes", modules=("basics",))
    r2 = s2.client()
    assert (r2.get("k1"), r2.get("k2"), r2.get("k3"), r2.get("k4")) == (b"v1", b"v2", None, b"propagated")
    s2.stop(signal.SIGKILL)


# ---------------------------------------------------------------------------
# bloom (data-type plugin in C)
# ---------------------------------------------------------------------------

def test_bloom_commands(srv):
    r = srv.client()
    assert r.execute_command("BF.RESERVE", "bf", "0.01", "100") == b"OK"
    with pytest.raises(redis.ResponseError, match="item exists"):
        r.execute_command("BF.RESERVE", "bf", "0.01", "100")
    with pytest.raises(redis.ResponseError, match="error rate"):
        r.execute_command("BF.RESERVE", "bf2", "2", "100")
    assert r.execute_command("BF.ADD", "bf", "a") == 1
    assert r.execute_command("BF.ADD", "bf", "a") == 0
    assert r.execute_command("BF.MADD", "bf", "b", "c", "a") == [1, 1, 0]
    assert r.execute_command("BF.EXISTS", "bf", "b") == 1
    assert r.execute_command("BF.EXISTS", "bf", "nope") == 0
    assert r.execute_command("BF.MEXISTS", "bf", "a", "nope", "c") == [1, 0, 1]
    assert r.execute_command("BF.EXISTS", "missing", "a") == 0
    assert r.execute_command("BF.CARD", "bf") == 3
    info = r.execute_command("BF.INFO", "bf")
    d = dict(zip(info[::2], info[1::2]))
    assert d[b"Capacity"] == 100 and d[b"Number of filters"] == 1 and d[b"Number of items inserted"] == 3
    assert d[b"Expansion rate"] == 2
    with pytest.raises(redis.ResponseError, match="not found"):
        r.execute_command("BF.INFO", "missing")
    r.set("str", "x")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.execute_command("BF.ADD", "str", "a")
    assert r.type("bf") == b"tessbloom"
    assert r.object("encoding", "bf") == b"raw"
    assert r.memory_usage("bf") > 120
    # Scaling: past its capacity the filter chains a bigger one; no false negatives.
    r.execute_command("BF.RESERVE", "small", "0.01", "50")
    added = r.execute_command("BF.MADD", "small", *[f"item{i}" for i in range(400)])
    assert sum(added) >= 390
    assert all(r.execute_command("BF.MEXISTS", "small", *[f"item{i}" for i in range(400)]))
    d = dict(zip(*[iter(r.execute_command("BF.INFO", "small"))] * 2))
    assert d[b"Number of filters"] >= 3
    assert r.memory_usage("small") > r.memory_usage("bf")
    fp = sum(r.execute_command("BF.MEXISTS", "small", *[f"other{i}" for i in range(1000)]))
    assert fp < 40
    # Non-scaling filters refuse items once full.
    r.execute_command("BF.RESERVE", "fixed", "0.01", "5", "NONSCALING")
    res = r.execute_command("BF.MADD", "fixed", *[f"i{i}" for i in range(10)])
    assert any(isinstance(x, redis.ResponseError) for x in res)
    # DEL, COPY and RENAME work on plugin values.
    assert r.copy("bf", "bfcopy") == 1
    assert r.execute_command("BF.EXISTS", "bfcopy", "a") == 1
    r.rename("bfcopy", "bfmoved")
    assert r.execute_command("BF.EXISTS", "bfmoved", "a") == 1
    assert r.delete("bfmoved") == 1


def bloom_fill(r):
    r.execute_command("BF.RESERVE", "bf", "0.001", "100")
    r.execute_command("BF.MADD", "bf", *[f"e{i}" for i in range(300)])
    r.execute_command("BF.ADD", "auto", "only")
    r.execute_command("a.tset", "ct", "12345", "-77", "text", "bin\x00ary")
    r.execute_command("CL.THROTTLE", "lim", "5", "10", "60")
    return r.execute_command("BF.INFO", "bf")


def bloom_check(r, info):
    assert r.execute_command("BF.INFO", "bf") == info
    assert all(r.execute_command("BF.MEXISTS", "bf", *[f"e{i}" for i in range(300)]))
    assert r.execute_command("BF.EXISTS", "auto", "only") == 1
    assert r.execute_command("a.tget", "ct") == [12345, -77, b"3086.25", b"1543.125", b"771.5625", b"text", b"bin\x00ary"]
    assert r.type("bf") == b"tessbloom" and r.type("ct") == b"tcompat01"


def test_plugin_types_survive_save_and_restart(tmp_path, plugin_dir):
    s = start(tmp_path, plugin_dir)
    r = s.client()
    info = bloom_fill(r)
    assert r.save()
    s.stop()
    s2 = start(tmp_path, plugin_dir)
    bloom_check(s2.client(), info)
    s2.stop(signal.SIGKILL)


@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_plugin_types_survive_aof_rewrite_and_restart(tmp_path, plugin_dir, preamble):
    args = ("--appendonly", "yes", "--aof-use-rdb-preamble", preamble)
    s = start(tmp_path, plugin_dir, *args)
    r = s.client()
    info = bloom_fill(r)
    r.bgrewriteaof()
    wait_for(lambda: r.info("persistence")["aof_rewrite_in_progress"] == 0
             and r.info("persistence")["aof_rewrite_scheduled"] == 0, what="AOF rewrite")
    time.sleep(0.2)
    base = [f for f in os.listdir(tmp_path / "appendonlydir") if ".base." in f]
    assert base and base[0].endswith(".rdb" if preamble == "yes" else ".aof")
    if preamble == "no":
        text = open(tmp_path / "appendonlydir" / base[0], "rb").read()
        assert b"BF._RESTORE" in text and b"A.TSET" in text
    r.execute_command("BF.ADD", "bf", "after-rewrite")
    s.stop()
    s2 = start(tmp_path, plugin_dir, *args)
    r2 = s2.client()
    assert r2.execute_command("BF.EXISTS", "bf", "after-rewrite") == 1
    info2 = r2.execute_command("BF.INFO", "bf")
    assert info2[7] == info[7] + 1          # items inserted
    assert r2.execute_command("a.tget", "ct")[0] == 12345
    s2.stop(signal.SIGKILL)


def test_debug_reload_keeps_plugin_values(srv):
    r = srv.client()
    info = bloom_fill(r)
    assert r.execute_command("DEBUG", "RELOAD") == b"OK"
    bloom_check(r, info)


@tessera_only
def test_rdb_with_a_missing_plugin_type_fails_clearly(tmp_path, plugin_dir):
    s = start(tmp_path, plugin_dir, modules=("bloom",))
    r = s.client()
    r.execute_command("BF.ADD", "bf", "x")
    r.save()
    s.stop()
    s2 = DataServer(str(tmp_path), "--save", "")
    s2.start(wait=False)
    assert s2.wait_exit(timeout=20) != 0
    assert "module type 'tessbloom'" in s2.log_tail()


# ---------------------------------------------------------------------------
# cell (command plugin in Swift)
# ---------------------------------------------------------------------------

def test_cell_throttle(srv):
    r = srv.client()
    # redis-cell's documented example: burst 15, 30 per 60 s.
    assert r.execute_command("CL.THROTTLE", "user123", "15", "30", "60", "1") == [0, 16, 15, -1, 2]
    assert r.execute_command("CL.THROTTLE", "user123", "15", "30", "60") == [0, 16, 14, -1, 4]
    assert r.execute_command("CL.THROTTLE", "user123", "15", "30", "60", "14")[:3] == [0, 16, 0]
    limited = r.execute_command("CL.THROTTLE", "user123", "15", "30", "60")
    assert limited[0] == 1 and limited[2] == 0 and limited[3] == 2 and limited[4] == 32
    assert 30000 < r.pttl("user123") <= 32000
    # quantity 0 only reads the state
    assert r.execute_command("CL.THROTTLE", "fresh", "3", "1", "1", "0") == [0, 4, 4, -1, 0]
    with pytest.raises(redis.ResponseError, match="not an integer"):
        r.execute_command("CL.THROTTLE", "k", "x", "1", "1")
    with pytest.raises(redis.ResponseError, match="wrong number of arguments"):
        r.execute_command("CL.THROTTLE", "k")
    r.rpush("alist", "x")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.execute_command("CL.THROTTLE", "alist", "1", "1", "1")


def test_cell_refills_over_time(srv):
    r = srv.client()
    for _ in range(3):
        assert r.execute_command("CL.THROTTLE", "fast", "2", "10", "1")[0] == 0
    assert r.execute_command("CL.THROTTLE", "fast", "2", "10", "1")[0] == 1
    time.sleep(0.25)
    assert r.execute_command("CL.THROTTLE", "fast", "2", "10", "1")[0] == 0


# ---------------------------------------------------------------------------
# async: blocking, threads, timers
# ---------------------------------------------------------------------------

def test_block_completed_by_thread(srv):
    r = srv.client()
    t0 = time.monotonic()
    first = r.execute_command("a.block", "100")
    assert time.monotonic() - t0 >= 0.09
    assert first % 1000 == 100
    # The reply written from the thread through its thread-safe context.
    assert r.execute_command("a.block", "20", "thread-reply") == [b"from-thread", first // 1000 + 1]
    assert int(r.get("a:worker-runs")) == first // 1000 + 1
    # Other clients are served while one is blocked.
    results = []
    th = threading.Thread(target=lambda: results.append(srv.client().execute_command("a.block", "300")))
    th.start()
    time.sleep(0.05)
    assert r.ping()
    th.join()
    assert results[0] % 1000 == 300


def test_many_concurrent_blocked_clients(srv):
    results = []
    def one(ms):
        results.append(srv.client().execute_command("a.block", str(ms)) % 1000)
    threads = [threading.Thread(target=one, args=(10 + i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == list(range(10, 30))


def test_block_timeout_and_disconnect(srv):
    r = srv.client()
    t0 = time.monotonic()
    assert r.execute_command("a.blocktimeout", "150") == b"timeout"
    assert time.monotonic() - t0 >= 0.14
    before = r.execute_command("a.disconnects")
    c = srv.client(socket_timeout=0.3)
    with pytest.raises(redis.TimeoutError):
        c.execute_command("a.blocktimeout", "0")
    c.close()
    wait_for(lambda: r.execute_command("a.disconnects") == before + 1, timeout=5, what="the disconnect callback")
    assert r.execute_command("a.release") >= 1
    # CLIENT UNBLOCK: the timeout callback replies; with ERROR, the error (and nothing more later).
    for how, expected in (("TIMEOUT", b"timeout"), ("ERROR", "UNBLOCKED")):
        blocked = srv.client()
        bid = blocked.client_id()
        out = []
        def run():
            try:
                out.append(blocked.execute_command("a.blocktimeout", "0"))
            except redis.ResponseError as e:
                out.append(str(e))
        th = threading.Thread(target=run)
        th.start()
        wait_for(lambda: r.info("clients")["blocked_clients"] >= 1, timeout=5, what="a blocked client")
        assert r.client_unblock(bid, error=(how == "ERROR")) == 1
        th.join(5)
        assert out and (out[0] == expected or expected in str(out[0]))
        assert r.execute_command("a.release") == 1
        assert blocked.ping()
    # Inside MULTI a module cannot block.
    pipe = r.pipeline(transaction=True)
    pipe.execute_command("a.block", "10")
    with pytest.raises(redis.ResponseError, match="Blocking module command called from transaction"):
        pipe.execute()


def test_block_on_keys(srv):
    r = srv.client()
    r.rpush("q", "ready")
    assert r.execute_command("a.bpop", "q", "100") == [b"q", b"ready"]
    results = []
    th = threading.Thread(target=lambda: results.append(srv.client().execute_command("a.bpop", "q", "0")))
    th.start()
    time.sleep(0.2)
    r.set("unrelated", "1")
    r.rpush("q", "v1")
    th.join(5)
    assert results == [[b"q", b"v1"]]
    assert r.llen("q") == 0
    assert r.execute_command("a.bpop", "q", "100") == b"timeout"


def test_timers(srv):
    r = srv.client()
    assert r.execute_command("a.timer", "tk", "100") == 1
    assert r.get("tk") is None
    wait_for(lambda: r.get("tk") == b"fired", timeout=3, what="the timer")
    assert r.execute_command("a.timerstop", "50") == 1
    time.sleep(0.15)
    assert r.get("a:never") is None


def test_custom_type_values(srv):
    r = srv.client()
    assert r.execute_command("a.tset", "ct", "8", "-1", "s", "b") == b"OK"
    assert r.execute_command("a.tget", "ct") == [8, -1, b"2", b"1", b"0.5", b"s", b"b"]
    assert r.type("ct") == b"tcompat01"
    assert r.memory_usage("ct") >= 1000
    r.set("str", "x")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.execute_command("a.tset", "str", "1", "1", "s", "b")


# ---------------------------------------------------------------------------
# crash isolation and tessera-ctl
# ---------------------------------------------------------------------------

@tessera_only
def test_plugin_crash_takes_down_only_the_shard(tmp_path, plugin_dir):
    s = start(tmp_path, plugin_dir, "--appendonly", "yes", "--appendfsync", "always")
    r = s.client()
    r.set("survivor", "yes")
    old = int(r.info("server")["process_id"])
    with pytest.raises((redis.ConnectionError, redis.ResponseError)):
        s.client().execute_command("t.crash")
    def replaced():
        try:
            return int(s.client().info("server")["process_id"]) != old
        except (redis.ConnectionError, redis.TimeoutError, redis.ResponseError):
            return False
    wait_for(replaced, timeout=30, what="the restarted shard")
    r2 = s.client()
    assert r2.get("survivor") == b"yes"
    assert names(r2.execute_command("MODULE", "LIST")) == [b"async", b"basics", b"bloom", b"cell"]
    assert r2.execute_command("t.echo", "back") == [b"back"]
    assert s.proc.poll() is None
    s.stop(signal.SIGKILL)


@tessera_only
def test_tessera_ctl_plugins_list(tmp_path, plugin_dir):
    sock = str(tmp_path / "ctl.sock")
    s = start(tmp_path, plugin_dir, "--control-socket", sock, modules=("bloom", "cell"))
    ctl = os.path.join(os.path.dirname(server_binary()), "tessera-ctl")
    out = subprocess.run([ctl, "--socket", sock, "plugins", "list"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert "bloom" in out.stdout and "cell" in out.stdout
    js = subprocess.run([ctl, "--socket", sock, "--json", "plugins", "list"], capture_output=True, text=True, timeout=30)
    assert js.returncode == 0 and "bloom" in js.stdout and mod(plugin_dir, "cell") in js.stdout
    s.stop(signal.SIGKILL)


def test_our_plugins_load_under_memory_deny_write_execute(plugin_dir):
    """systemd's MemoryDenyWriteExecute=yes refuses W+X mappings and making a
    mapping executable later: a plugin must have no text relocations and a
    non-executable stack (the loader then maps each segment once, read+exec
    or read+write)."""
    for name in ("bloom", "cell"):
        path = mod(plugin_dir, name)
        dyn = subprocess.run(["readelf", "-d", path], capture_output=True, text=True).stdout
        assert "TEXTREL" not in dyn
        segs = subprocess.run(["readelf", "-lW", path], capture_output=True, text=True).stdout
        stack = [l for l in segs.splitlines() if "GNU_STACK" in l]
        assert stack and stack[0].split()[-2] == "RW", stack
        for line in segs.splitlines():
            if line.strip().startswith("LOAD"):
                assert "WE" not in line.split()[-2], line   # no segment both writable and executable
