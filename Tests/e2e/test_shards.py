"""Several shards (issue #5): `tessera-server --shards N` splits the 16384
hash slots over N shard processes sharing the main port.

* On the main port any client sees one keyspace: commands on keys of another
  shard are forwarded and their replies relayed in order (pipelines too);
  MGET/MSET/DEL/EXISTS/UNLINK/TOUCH are split and merged; DBSIZE, KEYS, SCAN,
  FLUSHALL, FLUSHDB, SWAPDB, RANDOMKEY, PUBLISH, INFO keyspace, SAVE... fan
  out; other multi-key commands and transactions spanning shards get
  -CROSSSLOT, exactly as Redis Cluster words it.
* `--shard-ports P` opens port P+i on shard i, speaking Redis Cluster
  (CLUSTER SLOTS/SHARDS/NODES/INFO/MYID, -MOVED), for redis-py RedisCluster,
  redis-cli -c and redis-benchmark --cluster.
* Each shard keeps its files in dir/shard-<i>/, is restarted by the
  supervisor when it dies, and tessera-ctl shows every shard.

Each connection on the main port is served by one shard process (the one
that accepted it): `INFO server`'s process_id says which, and the tests open
connections until they have one on the shard they need, so every command is
exercised both as a local and as a forwarded one. Replies are compared with
the reference redis-server where the value is deterministic.
"""

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import pytest
import redis
from redis.crc import key_slot

from conftest import (HOST, error_line, REDIS_CLI, RawConn, RespError, _client, _launch, _stop_collect,
                      check_alive, encode_command, is_reference_redis, parse_resp, server_binary)
from persistence_helpers import DataServer, wait_for, wait_port_free

pytestmark = pytest.mark.skipif(is_reference_redis(), reason="Tessera's shards (the reference runs one process)")

CROSSSLOT = "CROSSSLOT Keys in request don't hash to the same slot"
SLOTS = 16384


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

def free_port_range(n):
    """A base port such that base..base+n-1 are all free right now."""
    for _ in range(200):
        base = random.randint(20000, 50000)
        socks = []
        try:
            for i in range(n):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                socks.append(s)
                s.bind((HOST, base + i))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise AssertionError("no free port range")


def slot_ranges(n):
    """The contiguous slot ranges of n shards, as CLUSTER SLOTS reports them."""
    return [(SLOTS * i // n, SLOTS * (i + 1) // n - 1) for i in range(n)]


class Sharded:
    """A running multi-shard server: main port, shard ports, helpers."""

    def __init__(self, info, shards, shard_base):
        self.info = info
        self.port = info.port
        self.n = shards
        self.shard_base = shard_base
        self.ranges = None

    def shard_port(self, i):
        return self.shard_base + i

    def topology(self):
        """[(start, end, port)] from CLUSTER SLOTS on shard 0's port."""
        c = _client(self.shard_port(0))
        try:
            rows = c.execute_command("CLUSTER", "SLOTS")
        finally:
            c.close()
        return sorted((int(r[0]), int(r[1]), int(r[2][1])) for r in rows)

    def shard_of_slot(self, slot):
        if self.ranges is None:
            self.ranges = slot_ranges(self.n)
        for i, (a, b) in enumerate(self.ranges):
            if a <= slot <= b:
                return i
        raise AssertionError(slot)

    def shard_of(self, key):
        if isinstance(key, str):
            key = key.encode()
        return self.shard_of_slot(key_slot(key))

    def key_on(self, shard, prefix="k", start=0):
        """A key (no braces) living on `shard`."""
        i = start
        while True:
            k = f"{prefix}{i}"
            if self.shard_of(k) == shard:
                return k
            i += 1

    def keys_on(self, shard, count, prefix="k"):
        out, i = [], 0
        while len(out) < count:
            k = f"{prefix}{i}"
            if self.shard_of(k) == shard:
                out.append(k)
            i += 1
        return out

    def shard_pid(self, i):
        c = _client(self.shard_port(i))
        try:
            return int(c.info("server")["process_id"])
        finally:
            c.close()

    def client(self, **kw):
        return _client(self.port, **kw)

    def client_on(self, shard, **kw):
        """A main-port connection served by shard `shard`'s process."""
        want = self.shard_pid(shard)
        for _ in range(1000):
            c = _client(self.port, **kw)
            # INFO server is never forwarded: it describes the serving process.
            if int(c.info("server")["process_id"]) == want:
                return c
            c.close()
        raise AssertionError(f"no main-port connection landed on shard {shard}")

    def raw_on(self, shard, timeout=10.0):
        want = b"process_id:%d\r\n" % self.shard_pid(shard)
        for _ in range(1000):
            rc = RawConn(HOST, self.port, timeout)
            rc.send_command("INFO", "server")
            if want in rc.read_reply():
                return rc
            rc.close()
        raise AssertionError(f"no main-port connection landed on shard {shard}")

    def cli(self, *args, port=None, input=None, timeout=60):
        cmd = [REDIS_CLI, "-h", HOST, "-p", str(port or self.port)] + [str(a) for a in args]
        cp = subprocess.run(cmd, input=input.encode() if isinstance(input, str) else input,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        return cp.returncode, cp.stdout.decode("utf-8", "replace"), cp.stderr.decode("utf-8", "replace")


def start_sharded(n, *extra, tag="shards"):
    base = free_port_range(n)
    info = _launch(["--shards", n, "--shard-ports", base] + [str(a) for a in extra], tag=tag)
    s = Sharded(info, n, base)
    # Every shard must answer on its own port too before the tests begin.
    deadline = time.monotonic() + 20
    for i in range(n):
        while True:
            try:
                if _client(s.shard_port(i)).ping():
                    break
            except redis.RedisError:
                pass
            assert time.monotonic() < deadline, f"shard port {s.shard_port(i)} never answered\n{info.log_tail()}"
            time.sleep(0.05)
    return s


def stop_sharded(s):
    msg = _stop_collect(s.info, f"sharded server (port {s.port}, args {s.info.args[1:]})")
    if msg:
        pytest.fail(msg, pytrace=False)


@pytest.fixture(scope="module")
def sh():
    s = start_sharded(2)
    yield s
    stop_sharded(s)


@pytest.fixture
def own_sh():
    """A server of its own, for tests that may leave a shard broken."""
    s = start_sharded(2, tag="shards-own")
    yield s
    stop_sharded(s)


@pytest.fixture
def sr(sh):
    """A flushed main-port client."""
    check_alive(sh.info)
    c = sh.client()
    c.flushall()
    yield c
    c.close()


@pytest.fixture(scope="module")
def ref():
    """A client to a reference redis-server (module-scoped)."""
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    assert os.path.exists(binary), "redis-server (the reference) must be installed"
    port = free_port_range(1)
    d = tempfile.mkdtemp(prefix="tessera-e2e-shards-ref-")
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", HOST, "--save", "",
                             "--appendonly", "no", "--dir", d],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    c = _client(port)
    for _ in range(200):
        try:
            c.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.02)
    c.port = port
    yield c
    c.close()
    proc.kill()
    proc.wait()
    shutil.rmtree(d, ignore_errors=True)


def run_script(c, script):
    """Runs each command; errors become ('ERR', message) so they compare too."""
    out = []
    for cmd in script:
        try:
            v = c.execute_command(*cmd)
        except redis.ResponseError as e:
            v = ("ERR", str(e))
        if isinstance(v, list) and cmd[0].upper() in ("SMEMBERS", "SUNION", "SINTER", "SDIFF", "HKEYS", "HVALS",
                                                     "SPOP"):
            v = sorted(v)
        out.append(v)
    return out


def materialize(script, **keys):
    """Substitutes $A, $B... in a script by the given key names."""
    out = []
    for cmd in script:
        row = []
        for a in cmd:
            if isinstance(a, str) and "$" in a:
                for name, k in sorted(keys.items(), key=lambda kv: -len(kv[0])):
                    a = a.replace("$" + name, k)
            row.append(a)
        out.append(tuple(row))
    return out


# ---------------------------------------------------------------------------
# Command families: the same script on keys of both shards, from connections
# on both shards (so each key is once local, once forwarded), against Redis.
# $A/$A2/$A3 share a slot; so do $B/$B2/$B3; A and B are on different shards.
# ---------------------------------------------------------------------------

FAMILIES = {
    "strings": [
        ("SET", "$A", "hello"), ("GET", "$A"), ("APPEND", "$A", " world"), ("STRLEN", "$A"),
        ("GETRANGE", "$A", 2, 7), ("SETRANGE", "$A", 6, "WORLD"), ("GET", "$A"), ("SUBSTR", "$A", 0, 3),
        ("SET", "$B", 10), ("INCR", "$B"), ("INCRBY", "$B", 5), ("DECR", "$B"), ("DECRBY", "$B", 3),
        ("INCRBYFLOAT", "$B", "1.5"), ("GET", "$B"), ("INCR", "$A"), ("GETSET", "$B", "new"),
        ("SETNX", "$B", "x"), ("SETNX", "$B2", "x"), ("SET", "$B", "v", "GET"), ("SET", "$B", "w", "NX"),
        ("SET", "$B", "w", "XX", "GET"), ("GETDEL", "$B2"), ("GET", "$B2"), ("GETEX", "$B", "PERSIST"),
        ("MSETNX", "$A2", 1, "$A3", 2), ("MGET", "$A", "$A2", "$A3", "$B", "$B2"),
        ("LCS", "$A", "$A2"), ("SET", "$A2", "hello there"), ("LCS", "$A", "$A2", "LEN"),
        ("MSET", "$A", 1, "$B", 2), ("MGET", "$B", "$A"), ("STRLEN", "$B3"), ("GET", "$B3"),
    ],
    "bitmaps": [
        ("SETBIT", "$A", 7, 1), ("SETBIT", "$A", 100, 1), ("GETBIT", "$A", 7), ("GETBIT", "$A", 8),
        ("BITCOUNT", "$A"), ("BITCOUNT", "$A", 0, 0), ("BITPOS", "$A", 1), ("BITPOS", "$A", 0),
        ("SET", "$A2", "\xff\x0f"), ("BITOP", "AND", "$A3", "$A", "$A2"), ("GET", "$A3"),
        ("BITOP", "OR", "$A3", "$A", "$A2"), ("BITCOUNT", "$A3"), ("BITOP", "NOT", "$A3", "$A2"),
        ("BITFIELD", "$B", "SET", "u8", 0, 200, "GET", "u8", 0, "INCRBY", "i5", 100, 1),
        ("BITFIELD_RO", "$B", "GET", "u4", 0), ("BITCOUNT", "$B", 0, -1, "BIT"),
    ],
    "lists": [
        ("RPUSH", "$A", "a", "b", "c", "d", "e"), ("LPUSH", "$A", "z"), ("LRANGE", "$A", 0, -1), ("LLEN", "$A"),
        ("LINDEX", "$A", 2), ("LSET", "$A", 1, "A"), ("LINSERT", "$A", "BEFORE", "c", "bb"),
        ("LREM", "$A", 1, "bb"), ("LPOS", "$A", "c"), ("LTRIM", "$A", 0, 4), ("LPOP", "$A", 2),
        ("RPOP", "$A"), ("RPOPLPUSH", "$A", "$A2"), ("LMOVE", "$A", "$A2", "LEFT", "RIGHT"),
        ("LRANGE", "$A2", 0, -1), ("LMPOP", 2, "$A3", "$A2", "LEFT", "COUNT", 5), ("EXISTS", "$A2"),
        ("RPUSH", "$B", 1, 2, 3), ("BLPOP", "$B", 0), ("BRPOP", "$B", 0), ("BLMOVE", "$B", "$B2", "LEFT", "LEFT", 0),
        ("LRANGE", "$B2", 0, -1), ("LPUSHX", "$B3", 1), ("RPUSHX", "$B2", 9), ("LRANGE", "$B2", 0, -1),
        ("LPOP", "$B3"), ("LLEN", "$B3"), ("INCR", "$B2"),
    ],
    "hashes": [
        ("HSET", "$A", "f1", "v1", "f2", "v2", "n", 5), ("HGET", "$A", "f1"), ("HMGET", "$A", "f1", "nope", "f2"),
        ("HGETALL", "$A"), ("HLEN", "$A"), ("HEXISTS", "$A", "f2"), ("HDEL", "$A", "f2", "nope"),
        ("HINCRBY", "$A", "n", 10), ("HINCRBYFLOAT", "$A", "n", "0.5"), ("HKEYS", "$A"), ("HVALS", "$A"),
        ("HSETNX", "$A", "f1", "x"), ("HSETNX", "$A", "f3", "x"), ("HSTRLEN", "$A", "f1"),
        ("HSCAN", "$A", 0, "COUNT", 100), ("HMSET", "$B", "a", 1), ("HGETALL", "$B"), ("HGET", "$B2", "a"),
        ("HRANDFIELD", "$B", 1), ("HGETALL", "$B3"),
    ],
    "sets": [
        ("SADD", "$A", "a", "b", "c", "d"), ("SADD", "$A2", "c", "d", "e"), ("SCARD", "$A"),
        ("SISMEMBER", "$A", "a"), ("SMISMEMBER", "$A", "a", "zz"), ("SMEMBERS", "$A"), ("SREM", "$A", "a"),
        ("SINTER", "$A", "$A2"), ("SUNION", "$A", "$A2"), ("SDIFF", "$A", "$A2"),
        ("SINTERSTORE", "$A3", "$A", "$A2"), ("SMEMBERS", "$A3"), ("SUNIONSTORE", "$A3", "$A", "$A2"),
        ("SDIFFSTORE", "$A3", "$A", "$A2"), ("SINTERCARD", 2, "$A", "$A2"), ("SMOVE", "$A", "$A2", "b"),
        ("SMEMBERS", "$A2"), ("SADD", "$B", 1, 2, 3), ("SPOP", "$B", 10), ("EXISTS", "$B"),
        ("SADD", "$B", 5), ("SRANDMEMBER", "$B"), ("SSCAN", "$B", 0), ("OBJECT", "ENCODING", "$B"),
    ],
    "zsets": [
        ("ZADD", "$A", 1, "a", 2, "b", 3, "c", "2.5", "x"), ("ZSCORE", "$A", "x"), ("ZRANGE", "$A", 0, -1, "WITHSCORES"),
        ("ZRANGEBYSCORE", "$A", "(1", "+inf"), ("ZREVRANGE", "$A", 0, 1), ("ZRANK", "$A", "c"),
        ("ZREVRANK", "$A", "c"), ("ZINCRBY", "$A", 10, "a"), ("ZCARD", "$A"), ("ZCOUNT", "$A", 2, 3),
        ("ZLEXCOUNT", "$A", "-", "+"), ("ZREM", "$A", "b"), ("ZPOPMIN", "$A"), ("ZPOPMAX", "$A"),
        ("ZADD", "$A2", 5, "c", 7, "q"), ("ZUNIONSTORE", "$A3", 2, "$A", "$A2", "WEIGHTS", 2, 3),
        ("ZRANGE", "$A3", 0, -1, "WITHSCORES"), ("ZINTER", 2, "$A", "$A2", "WITHSCORES"),
        ("ZDIFF", 2, "$A2", "$A"), ("ZMSCORE", "$A2", "c", "nope"), ("ZRANGESTORE", "$A3", "$A2", 0, 0),
        ("ZMPOP", 2, "$A3", "$A2", "MIN"), ("ZADD", "$B", "NX", "INCR", 3, "m"),
        ("ZRANGEBYLEX", "$B", "-", "+"), ("BZPOPMIN", "$B", 0), ("ZCARD", "$B"),
    ],
    "streams": [
        ("XADD", "$A", "1-1", "f", "v"), ("XADD", "$A", "2-1", "f", "w", "g", "x"), ("XADD", "$A", "3-0", "n", 1),
        ("XLEN", "$A"), ("XRANGE", "$A", "-", "+"), ("XREVRANGE", "$A", "+", "-", "COUNT", 1),
        ("XDEL", "$A", "2-1"), ("XGROUP", "CREATE", "$A", "g1", "0"),
        ("XREADGROUP", "GROUP", "g1", "alice", "COUNT", 1, "STREAMS", "$A", ">"),
        ("XPENDING", "$A", "g1"), ("XACK", "$A", "g1", "1-1"), ("XPENDING", "$A", "g1"),
        ("XADD", "$A2", "5-0", "a", "b"), ("XREAD", "COUNT", 5, "STREAMS", "$A", "$A2", "0", "0"),
        ("XTRIM", "$A", "MAXLEN", 1), ("XRANGE", "$A", "-", "+"), ("XADD", "$B", "MAXLEN", 2, "1-0", "a", 1),
        ("XADD", "$B", "0-1", "a", 1), ("XREAD", "STREAMS", "$B", "0"), ("XINFO", "GROUPS", "$B"),
        ("XGROUP", "CREATE", "$B2", "g", "$", "MKSTREAM"), ("XLEN", "$B2"), ("XSETID", "$B", "9-9"),
    ],
    "keys": [
        ("SET", "$A", "v"), ("RPUSH", "$B", "x"), ("TYPE", "$A"), ("TYPE", "$B"), ("TYPE", "$B2"),
        ("EXISTS", "$A"), ("EXISTS", "$A", "$B", "$A3", "$A"), ("RENAME", "$A", "$A2"), ("GET", "$A2"),
        ("EXISTS", "$A"), ("RENAMENX", "$A2", "$A3"), ("SET", "$A", "other"), ("RENAMENX", "$A3", "$A"),
        ("RENAME", "$A", "$A"), ("RENAME", "$B2", "$B3"), ("COPY", "$B", "$B2"), ("LRANGE", "$B2", 0, -1),
        ("COPY", "$B", "$B2"), ("COPY", "$B", "$B2", "REPLACE"), ("OBJECT", "ENCODING", "$A"),
        ("OBJECT", "ENCODING", "$B"), ("SET", "$A3", 12345), ("OBJECT", "ENCODING", "$A3"),
        ("OBJECT", "REFCOUNT", "$A3"), ("TOUCH", "$A", "$A3", "$A2"), ("TTL", "$A"), ("PTTL", "$B9"),
        ("EXPIRE", "$A", 1000), ("EXPIRETIME", "$A9"), ("PERSIST", "$A"), ("TTL", "$A"),
        ("EXPIRE", "$A", 1000, "XX"), ("PERSIST", "$A"), ("PEXPIREAT", "$B", 1), ("EXISTS", "$B"),
        ("RPUSH", "$B", 3, 1, 2), ("SORT", "$B"), ("SORT", "$B", "DESC", "LIMIT", 0, 2),
        ("SORT_RO", "$B", "ALPHA"), ("SORT", "$B", "STORE", "$B2"), ("LRANGE", "$B2", 0, -1),
        ("DEL", "$A", "$A2", "$A3"), ("UNLINK", "$B", "$B2"), ("DBSIZE",),
    ],
}


def family_keys(sh):
    a = sh.key_on(0, "fa")
    b = sh.key_on(1, "fb")
    keys = {"A": a, "B": b}
    for base, k in (("A", a), ("B", b)):
        for suffix in ("2", "3", "9"):
            keys[base + suffix] = "{%s}%s" % (k, suffix)
    return keys


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_command_family_on_keys_of_both_shards(sh, ref, family):
    keys = family_keys(sh)
    assert sh.shard_of(keys["A"]) == 0 and sh.shard_of(keys["B"]) == 1
    for k in ("A2", "A3", "A9"):
        assert key_slot(keys[k].encode()) == key_slot(keys["A"].encode())
    script = materialize(FAMILIES[family], **keys)
    ref.flushall()
    expected = run_script(ref, script)
    for shard in (0, 1):
        c = sh.client_on(shard)
        c.flushall()
        got = run_script(c, script)
        for cmd, g, e in zip(script, got, expected):
            assert g == e, f"from a connection on shard {shard}: {cmd} -> {g!r}, Redis: {e!r}"
        c.close()


def test_keys_really_live_on_their_shard(sh, sr):
    """CLUSTER KEYSLOT matches Redis Cluster's function; each key is stored
    only by the shard that owns its slot (the shard ports show it)."""
    assert sh.topology() == [(a, b, sh.shard_port(i)) for i, (a, b) in enumerate(slot_ranges(2))]
    names = [f"user:{i}" for i in range(200)] + ["{tag}x", "x{tag}", "{}", "{}a", "a{b}c{d}", "", "\xff"]
    for k in names:
        assert sr.execute_command("CLUSTER", "KEYSLOT", k) == key_slot(k.encode()), k
    for k in names[:200]:
        sr.set(k, k)
    s0, s1 = _client(sh.shard_port(0)), _client(sh.shard_port(1))
    counts = [s0.dbsize(), s1.dbsize()]
    assert sum(counts) == 200 and min(counts) > 50, counts
    for k in names[:200]:
        owner = [s0, s1][sh.shard_of(k)]
        assert owner.get(k) == k.encode()
    assert sr.dbsize() == 200


def test_dump_restore_across_shards(sh, sr, ref):
    """DUMP on one shard restores on the other and in Redis (and back)."""
    a, b = sh.key_on(0, "d"), sh.key_on(1, "d")
    c = sh.client_on(0)
    c.rpush(a, *range(50))
    c.hset(b, mapping={"f": "v", "g": 1})
    pa, pb = c.dump(a), c.dump(b)
    assert c.restore(b + "copy", 0, pa) and c.restore(a + "copy", 0, pb)
    assert c.lrange(b + "copy", 0, -1) == [str(i).encode() for i in range(50)]
    assert c.hgetall(a + "copy") == {b"f": b"v", b"g": b"1"}
    ref.flushall()
    ref.restore("x", 0, pa)
    assert ref.lrange("x", 0, -1) == c.lrange(a, 0, -1)
    ref.zadd("z", {"m": 1.5})
    pz = ref.dump("z")
    for k in (a + "z", b + "z"):
        assert c.restore(k, 0, pz)
        assert c.zrange(k, 0, -1, withscores=True) == [(b"m", 1.5)]
    with pytest.raises(redis.ResponseError, match="BUSYKEY"):
        c.restore(b, 0, pa)
    assert c.restore(b, 5000, pa, replace=True) and 0 < c.pttl(b) <= 5000
    # MEMORY USAGE and OBJECT on a forwarded key describe the remote value
    assert c.memory_usage(b) > 0 and c.memory_usage(a) > 0
    assert c.object("encoding", b) == c.object("encoding", a) == ref.object("encoding", "x") == b"quicklist"
    assert c.memory_usage(sh.key_on(1, "missing")) is None
    c.close()


def test_expiry_on_both_shards(sh, sr):
    for shard in (0, 1):
        c = sh.client_on(shard)
        a, b = sh.key_on(0, f"e{shard}-"), sh.key_on(1, f"e{shard}-")
        for k in (a, b):
            assert c.set(k, "v", px=300) is True
            assert 0 < c.pttl(k) <= 300
            assert 0 <= c.ttl(k) <= 1
            assert c.expiretime(k) >= int(time.time())
        c.set(a + "p", "v", ex=100)
        c.set(b + "p", "v", ex=100)
        assert c.execute_command("INFO", "keyspace")["db0"]["expires"] >= 4
        time.sleep(0.45)
        assert c.get(a) is None and c.get(b) is None
        assert c.exists(a, b) == 0
        assert c.persist(a + "p") and c.persist(b + "p") and c.ttl(b + "p") == -1
        c.close()


# ---------------------------------------------------------------------------
# Pipelines and replies in order
# ---------------------------------------------------------------------------

def mixed_pipeline(sh, n=1000, seed=7, fan_out=True):
    rnd = random.Random(seed)
    k0 = sh.keys_on(0, 10, "p")
    k1 = sh.keys_on(1, 10, "p")
    allk = k0 + k1
    cmds = []
    for i in range(n):
        k = rnd.choice(allk)
        op = rnd.randrange(14)
        if not fan_out and op in (5, 6, 7, 9, 11):
            op = 1
        if op == 0:
            cmds.append(("SET", k, f"v{i}"))
        elif op == 1:
            cmds.append(("GET", k))
        elif op == 2:
            cmds.append(("INCR", "n:" + k))
        elif op == 3:
            cmds.append(("RPUSH", "l:" + k, i))
        elif op == 4:
            cmds.append(("LRANGE", "l:" + k, 0, 3))
        elif op == 5:
            cmds.append(("MGET",) + tuple(rnd.sample(allk, 4)))
        elif op == 6:
            cmds.append(("EXISTS",) + tuple(rnd.sample(allk, 3)))
        elif op == 7:
            cmds.append(("DEL", rnd.choice(allk), rnd.choice(allk)))
        elif op == 8:
            cmds.append(("LPUSH", k, 1))          # WRONGTYPE some of the time
        elif op == 9:
            cmds.append(("DBSIZE",))
        elif op == 10:
            cmds.append(("PING", f"p{i}"))
        elif op == 11:
            cmds.append(("MSET", rnd.choice(allk), i, rnd.choice(allk), -i))
        elif op == 12:
            cmds.append(("HSET", "h:" + k, "f", i))
        else:
            cmds.append(("ECHO", f"e{i}"))
    return cmds


def raw_replies(rc, cmds, timeout=30):
    rc.send(b"".join(encode_command(*c) for c in cmds))
    return [rc.read_reply(timeout) for _ in cmds]


@pytest.mark.parametrize("shard", [0, 1])
def test_pipeline_of_1000_mixed_commands_in_order(sh, sr, ref, shard):
    cmds = mixed_pipeline(sh, seed=shard)
    ref.flushall()
    rr = RawConn(HOST, ref.port, 10)
    expected = raw_replies(rr, cmds)
    rr.close()
    rc = sh.raw_on(shard)
    got = raw_replies(rc, cmds)
    for i, (c, g, e) in enumerate(zip(cmds, got, expected)):
        assert g == e, f"reply #{i} to {c}: {g!r}, Redis: {e!r}"
    rc.close()


@pytest.mark.parametrize("shard", [0, 1])
def test_pipeline_of_1000_single_key_commands_in_order(sh, sr, ref, shard):
    """Local and forwarded commands interleaved (no split or fan-out)."""
    cmds = mixed_pipeline(sh, seed=10 + shard, fan_out=False)
    ref.flushall()
    rr = RawConn(HOST, ref.port, 10)
    expected = raw_replies(rr, cmds)
    rr.close()
    rc = sh.raw_on(shard)
    got = raw_replies(rc, cmds)
    for i, (c, g, e) in enumerate(zip(cmds, got, expected)):
        assert g == e, f"reply #{i} to {c}: {g!r}, Redis: {e!r}"
    rc.close()


@pytest.mark.parametrize("shard", [0, 1])
def test_split_and_fan_out_commands_keep_their_place_in_a_pipeline(sh, sr, shard):
    """A split DEL/MSET/EXISTS or a DBSIZE must not see (or undo) the
    commands pipelined after it."""
    k0, k1 = sh.key_on(0, "po"), sh.key_on(1, "po")
    rc = sh.raw_on(shard)
    for mine in (k0, k1):
        sr.flushall()
        assert raw_replies(rc, [("DEL", k0, k1), ("SET", mine, "v"), ("GET", mine)]) == [
            b":0\r\n", b"+OK\r\n", b"$1\r\nv\r\n"]
        assert sr.get(mine) == b"v", "the DEL ran after the SET pipelined behind it"
        sr.flushall()
        assert raw_replies(rc, [("MSET", k0, "old", k1, "old"), ("SET", mine, "new")]) == [b"+OK\r\n"] * 2
        assert sr.get(mine) == b"new", "the MSET ran after the SET pipelined behind it"
        sr.flushall()
        assert raw_replies(rc, [("DBSIZE",), ("EXISTS", k0, k1), ("MGET", k0, k1), ("SET", mine, "x"),
                                ("DBSIZE",), ("EXISTS", k0, k1)]) == [
            b":0\r\n", b":0\r\n", b"*2\r\n$-1\r\n$-1\r\n", b"+OK\r\n", b":1\r\n", b":1\r\n"]
    rc.close()


def test_pipeline_with_large_and_many_forwarded_replies(sh, sr):
    rc = sh.raw_on(0)
    k1 = sh.keys_on(1, 3, "big")
    big = b"x" * (3 << 20)
    cmds = [("SET", k1[0], big), ("GET", k1[0])] + [("INCR", k1[1])] * 5000 + [("GET", k1[0]), ("STRLEN", k1[0])]
    got = raw_replies(rc, cmds, timeout=60)
    assert got[0] == b"+OK\r\n"
    assert got[1] == b"$%d\r\n%s\r\n" % (len(big), big)
    assert [parse_resp(g)[0] for g in got[2:5002]] == list(range(1, 5001))
    assert got[-1] == b":%d\r\n" % len(big)
    rc.close()


# ---------------------------------------------------------------------------
# Split and fan-out commands
# ---------------------------------------------------------------------------

def test_mget_mset_del_exists_unlink_touch_across_shards(sh, sr):
    k0, k1 = sh.keys_on(0, 5, "m"), sh.keys_on(1, 5, "m")
    order = [k0[0], k1[0], k0[1], k1[1], k1[2], k0[2], k0[3], k1[3]]
    for shard in (0, 1):
        c = sh.client_on(shard)
        c.flushall()
        assert c.mset({k: f"val-{k}" for k in order}) is True
        assert c.mget(order) == [f"val-{k}".encode() for k in order]
        assert c.mget([k0[4], order[1], k1[4], order[0], order[1]]) == [
            None, f"val-{order[1]}".encode(), None, f"val-{order[0]}".encode(), f"val-{order[1]}".encode()]
        assert c.exists(*order) == 8
        assert c.exists(order[0], order[0], order[1], k0[4], k1[4]) == 3
        assert c.touch(*order, k0[4]) == 8
        assert c.delete(order[0], order[1], k1[4]) == 2
        assert c.unlink(order[2], order[3], order[3]) == 2
        assert c.exists(*order) == 4
        assert c.dbsize() == 4
        c.rpush(k0[4], 1)
        assert c.mget(k0[4], order[4]) == [None, f"val-{order[4]}".encode()]   # wrong type: nil, as Redis
        c.close()


def test_mset_with_a_missing_value_is_an_arity_error(own_sh):
    """MSET k0 v k1 (keys of two shards, no value for the last key) must be
    rejected like Redis does, not crash the shard."""
    sh = own_sh
    a, b = sh.key_on(0, "ar"), sh.key_on(1, "ar")
    for c in (sh.client_on(0), sh.client_on(1)):
        for args in ((a, 1, b), (b, 1, a), (a, 1, a, 2, b)):
            with pytest.raises(redis.ResponseError) as e:
                c.execute_command("MSET", *args)
            assert error_line(e.value) == "ERR wrong number of arguments for 'mset' command"
        c.close()
    check_alive(sh.info)
    assert sh.shard_pid(0) and sh.client().mget(a, b) == [None, None]
    assert "killed by signal" not in sh.info.log_tail(20000)


def test_dbsize_keys_info_keyspace_sum_over_shards(sh, sr):
    k0, k1 = sh.keys_on(0, 30, "ks"), sh.keys_on(1, 40, "ks")
    p = sr.pipeline(transaction=False)
    for k in k0 + k1:
        p.set(k, 1)
    for k in k0[:5] + k1[:7]:
        p.expire(k, 1000)
    p.execute()
    sr.execute_command("SELECT", 0)
    c3 = sh.client(db=3)
    c3.set(k0[0], 1)
    c3.set(k1[0], 1)
    for shard in (0, 1):
        c = sh.client_on(shard)
        assert c.dbsize() == 70
        assert sorted(c.keys("*")) == sorted(k.encode() for k in k0 + k1)
        assert sorted(c.keys("ks1*")) == sorted(k.encode() for k in k0 + k1 if k.startswith("ks1"))
        ks = c.info("keyspace")
        # (avg_ttl is an estimate the expire cycle refines: not compared)
        assert ks["db0"]["keys"] == 70 and ks["db0"]["expires"] == 12
        assert ks["db3"] == {"keys": 2, "expires": 0, "avg_ttl": 0}
        full = c.info()
        assert full["db0"]["keys"] == 70 and full["db3"]["keys"] == 2
        assert "redis_version" in full and "used_memory" in full
        every = c.info("everything")
        assert every["db0"]["keys"] == 70 and "cmdstat_info" in every
        c.close()
    assert _client(sh.shard_port(0)).dbsize() == 30 and _client(sh.shard_port(1)).dbsize() == 40


@pytest.mark.parametrize("shard", [0, 1])
def test_scan_returns_every_key_exactly_once(sh, sr, shard):
    p = sr.pipeline(transaction=False)
    for i in range(5000):
        if i % 5 == 0:
            p.sadd(f"set:{i}", 1)
        else:
            p.set(f"str:{i}", i)
    p.execute()
    c = sh.client_on(shard)

    def full_scan(**kw):
        cursor, seen, calls = 0, [], 0
        while True:
            cursor, keys = c.scan(cursor, count=10, **kw)
            seen += keys
            calls += 1
            assert calls < 20000
            if cursor == 0:
                return seen

    seen = full_scan()
    assert len(seen) == len(set(seen)) == 5000
    matched = full_scan(match="str:1*")
    expected = {f"str:{i}".encode() for i in range(5000) if i % 5 and str(i).startswith("1")}
    assert len(matched) == len(set(matched)) and set(matched) == expected
    sets = full_scan(_type="set")
    assert len(sets) == len(set(sets)) == 1000 and all(k.startswith(b"set:") for k in sets)
    both = full_scan(match="set:2*", _type="set")
    assert set(both) == {f"set:{i}".encode() for i in range(0, 5000, 5) if str(i).startswith("2")}
    # the cursor carries the shard: a scan may go on from a connection on another shard
    conns = [c, sh.client_on(1 - shard)]
    cursor, seen, calls = 0, [], 0
    while True:
        cursor, keys = conns[calls % 2].scan(cursor, count=100)
        seen += keys
        calls += 1
        if cursor == 0:
            break
    assert len(seen) == len(set(seen)) == 5000
    conns[1].close()
    # a cursor that is not a number, as Redis
    with pytest.raises(redis.ResponseError, match="invalid cursor"):
        c.scan("abc")
    c.close()


def test_randomkey_draws_from_every_shard(sh, sr):
    assert sr.randomkey() is None
    a, b = sh.key_on(0, "rk"), sh.key_on(1, "rk")
    sr.set(b, 1)
    for shard in (0, 1):
        c = sh.client_on(shard)
        assert {c.randomkey() for _ in range(10)} == {b.encode()}
        c.close()
    sr.set(a, 1)
    seen = {sr.randomkey() for _ in range(200)}
    assert seen == {a.encode(), b.encode()}


def test_flushall_flushdb_swapdb_reach_every_shard(sh, sr):
    k0, k1 = sh.key_on(0, "fl"), sh.key_on(1, "fl")
    c5 = sh.client(db=5)
    for c in (sr, c5):
        c.set(k0, 1)
        c.set(k1, 1)
    assert c5.flushdb() is True
    assert c5.dbsize() == 0 and sr.dbsize() == 2
    assert sr.swapdb(0, 5) is True
    assert sr.dbsize() == 0 and c5.dbsize() == 2 and c5.mget(k0, k1) == [b"1", b"1"]
    assert sr.execute_command("FLUSHALL", "ASYNC") is True
    assert c5.dbsize() == 0
    for i in range(2):
        assert _client(sh.shard_port(i)).dbsize() == 0


def test_select_then_forwarded_commands_land_in_that_db(sh, sr):
    k0, k1 = sh.key_on(0, "db"), sh.key_on(1, "db")
    for shard in (0, 1):
        sr.flushall()
        c = sh.client_on(shard)
        c.execute_command("SELECT", 3)
        c.set(k0, "three")
        c.set(k1, "three")
        c.rpush(k1 + "l", 1)
        c.execute_command("SELECT", 0)
        c.set(k1, "zero")
        c.execute_command("SELECT", 3)
        assert c.mget(k0, k1) == [b"three", b"three"]
        assert c.dbsize() == 3
        c.execute_command("SELECT", 0)
        assert c.get(k1) == b"zero" and c.get(k0) is None and c.dbsize() == 1
        # MOVE from a forwarded command's db
        c.execute_command("SELECT", 3)
        assert c.move(k1 + "l", 7) is True
        c7 = sh.client(db=7)
        assert c7.lrange(k1 + "l", 0, -1) == [b"1"]
        assert sh.client(db=3).info("keyspace")["db3"]["keys"] == 2
        c.close()


def test_select_inside_multi_switches_the_db_for_later_commands(own_sh, ref):
    """MULTI / SELECT 5 / SET <key of the other shard> / EXEC leaves the
    connection in db 5 (as in Redis), and no other connection's db changes."""
    sh = own_sh
    k0, k1 = sh.key_on(0, "ms"), sh.key_on(1, "ms")
    script = [("MULTI",), ("SELECT", 5), ("SET", k1, "in-5"), ("EXEC",),
              ("SET", k1 + "after", "x"), ("SET", k0 + "after", "x"), ("DBSIZE",)]
    expected = run_script(ref, script)
    c = sh.client_on(0)
    other = sh.client_on(0)
    got = run_script(c, script)
    assert got == expected
    other.set(k1 + "other", "db0")        # another connection, still db 0
    c0, c5 = sh.client_on(1), sh.client_on(1, db=5)     # read where the keys live
    assert c5.mget(k1, k1 + "after", k0 + "after") == [b"in-5", b"x", b"x"]
    assert c0.get(k1 + "other") == b"db0"
    assert c0.get(k1) is None and c0.get(k1 + "after") is None
    assert other.get(k1) is None and other.get(k1 + "other") == b"db0"


def test_keyspace_commands_inside_multi_cover_every_shard(sh, sr):
    """FLUSHALL / DBSIZE / KEYS queued in MULTI on the main port act on the
    whole keyspace, as they do outside a transaction (or are refused): they
    must not silently act on the serving shard only."""
    k0, k1 = sh.key_on(0, "mx"), sh.key_on(1, "mx")
    for shard in (0, 1):
        c = sh.client_on(shard)
        c.mset({k0: 1, k1: 1})
        p = c.pipeline(transaction=True)
        p.dbsize().keys("*")
        try:
            res = p.execute()
        except redis.ResponseError:
            res = None          # refused: acceptable
        if res is not None:
            assert res[0] == 2 and sorted(res[1]) == sorted([k0.encode(), k1.encode()]), res
        p = c.pipeline(transaction=True)
        p.flushall()
        try:
            p.execute()
        except redis.ResponseError:
            c.flushall()        # refused: acceptable, flush outside
        assert sr.dbsize() == 0, f"MULTI/FLUSHALL/EXEC from shard {shard} left {sr.keys('*')}"
        c.close()


def test_sort_by_and_get_patterns(sh, sr, ref):
    """SORT ... BY/GET <pattern> reads keys that may live on any shard. On a
    shard port Redis Cluster 7.0 refuses them; on the main port the answer
    must be the single-server one or an error, never silently missing values."""
    lst = sh.key_on(0, "sortlist")
    data = {f"obj_{i}": f"o{i}" for i in range(1, 9)}
    data.update({f"w_{i}": str(10 - i) for i in range(1, 9)})
    assert {sh.shard_of(k) for k in data} == {0, 1}
    for c in (sr, ref):
        c.rpush(lst, *range(1, 9))
        c.mset(data)
    for args in (dict(get="obj_*"), dict(by="w_*"), dict(by="w_*", get=["#", "obj_*"])):
        expected = ref.sort(lst, **args)
        for shard in (0, 1):
            c = sh.client_on(shard)
            try:
                got = c.sort(lst, **args)
            except redis.ResponseError:
                continue
            assert got == expected, (shard, args)
            c.close()
    raw = RawConn(HOST, sh.shard_port(0))
    raw.send_command("SORT", lst, "GET", "obj_*")
    assert raw.read_parsed() == RespError("ERR GET option of SORT denied in Cluster mode.")
    raw.send_command("SORT", lst, "BY", "w_*")
    assert raw.read_parsed() == RespError("ERR BY option of SORT denied in Cluster mode.")
    raw.send_command("SORT", lst, "BY", "nosort")
    assert raw.read_parsed() == [str(i).encode() for i in range(1, 9)]


def test_hello_inside_a_forwarded_multi_does_not_change_other_connections(own_sh):
    """MULTI / HELLO 3 / HGETALL <key of the other shard> / EXEC: the
    connection speaks RESP3 afterwards (as in Redis); other RESP2
    connections of the same shard keep getting RESP2 replies."""
    sh = own_sh
    k1 = sh.key_on(1, "h3")
    sh.client().hset(k1, "f", "v")
    rc = sh.raw_on(0)
    for cmd in (("MULTI",), ("HELLO", 3), ("HGETALL", k1), ("EXEC",), ("HGETALL", k1)):
        rc.send_command(*cmd)
    replies = [rc.read_reply(5) for _ in range(5)]
    assert replies[:3] == [b"+OK\r\n", b"+QUEUED\r\n", b"+QUEUED\r\n"]
    assert replies[4] == b"%1\r\n$1\r\nf\r\n$1\r\nv\r\n"
    for _ in range(3):
        other = sh.raw_on(0)
        other.send_command("HGETALL", k1)
        assert other.read_reply(5) == b"*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
        other.send_command("MGET", k1 + "x", sh.key_on(0, "h3"))
        assert other.read_reply(5) == b"*2\r\n$-1\r\n$-1\r\n"
        other.close()


def test_big_forwarded_reply_over_the_output_limit_only_hits_its_client(own_sh):
    """With client-output-buffer-limit normal 1mb, a client reading a 3 MB
    value of another shard is disconnected (as Redis does); the internal link
    it shares with other clients must not be, or their commands in flight
    fail with TRYAGAIN."""
    sh = own_sh
    c = sh.client()
    assert c.config_set("client-output-buffer-limit", "normal 1mb 1mb 0")
    big, counter = sh.key_on(1, "obig"), sh.key_on(1, "ocount")
    c.set(big, b"x" * (3 << 20))
    stop = threading.Event()
    failures, done = [], [0]

    def steady():
        rc = sh.raw_on(0)
        while not stop.is_set():
            for reply in raw_replies(rc, [("INCR", counter)] * 200):
                if not reply.startswith(b":"):
                    failures.append(reply)
            done[0] += 200
        rc.close()

    t = threading.Thread(target=steady)
    t.start()
    try:
        for _ in range(10):
            greedy = sh.raw_on(0)
            greedy.send_command("GET", big)
            try:
                reply = greedy.read_reply(10)
                assert not reply.startswith(b"$3145728"), "a 3 MB reply went past a 1 MB hard limit"
            except ConnectionError:
                pass        # closed for overcoming the limit: as Redis
            greedy.close()
    finally:
        stop.set()
        t.join(30)
    assert done[0] > 0
    assert not failures, failures[:3]


# ---------------------------------------------------------------------------
# Pub/Sub
# ---------------------------------------------------------------------------

def test_publish_reaches_subscribers_on_every_shard(sh, sr):
    pids = [sh.shard_pid(0), sh.shard_pid(1)]
    subs = []
    per_shard = {0: 0, 1: 0}
    while min(per_shard.values()) < 2 or len(subs) < 6:
        rc = RawConn(HOST, sh.port, 5)
        rc.send_command("INFO", "server")
        info = rc.read_reply().decode()
        shard = 0 if f"process_id:{pids[0]}\r\n" in info else 1
        per_shard[shard] += 1
        rc.send_command("SUBSCRIBE", "news")
        assert rc.read_parsed() == [b"subscribe", b"news", 1]
        subs.append(rc)
        assert len(subs) < 200
    psub = sh.raw_on(1)
    psub.send_command("PSUBSCRIBE", "n*")
    assert psub.read_parsed() == [b"psubscribe", b"n*", 1]
    for shard in (0, 1):
        c = sh.client_on(shard)
        assert c.publish("news", f"hello-{shard}") == len(subs) + 1
        for rc in subs:
            assert rc.read_parsed() == [b"message", b"news", f"hello-{shard}".encode()]
        assert psub.read_parsed() == [b"pmessage", b"n*", b"news", f"hello-{shard}".encode()]
        assert c.publish("nobody", "x") == 1        # the pattern subscriber
        assert psub.read_parsed()[0] == b"pmessage"
        c.close()
    for rc in subs + [psub]:
        rc.close()


def test_spublish_reaches_shard_channel_subscribers(sh, sr):
    subs = [sh.raw_on(0), sh.raw_on(1)]
    for rc in subs:
        rc.send_command("SSUBSCRIBE", "orders")
        assert rc.read_parsed() == [b"ssubscribe", b"orders", 1]
    c = sh.client()
    assert c.execute_command("SPUBLISH", "orders", "o1") == 2
    for rc in subs:
        assert rc.read_parsed() == [b"smessage", b"orders", b"o1"]


def test_pubsub_introspection_counts_every_shard(sh, sr):
    subs = [sh.raw_on(0), sh.raw_on(0), sh.raw_on(1)]
    for rc in subs:
        rc.send_command("SUBSCRIBE", "intro")
        rc.read_parsed()
    subs[2].send_command("PSUBSCRIBE", "i*")
    subs[2].read_parsed()
    for shard in (0, 1):
        c = sh.client_on(shard)
        assert c.publish("intro", "x") == 4
        assert c.pubsub_numsub("intro") == [(b"intro", 3)]
        assert c.pubsub_numpat() == 1
        assert c.pubsub_channels("intro") == [b"intro"]
        c.close()


def test_keyspace_notifications_for_keys_of_every_shard(sh, sr):
    sr.config_set("notify-keyspace-events", "KEA")
    try:
        k0, k1 = sh.key_on(0, "nt"), sh.key_on(1, "nt")
        for shard in (0, 1):
            sub = sh.raw_on(shard)
            sub.send_command("SUBSCRIBE", f"__keyspace@0__:{k0}", f"__keyspace@0__:{k1}")
            sub.read_parsed()
            sub.read_parsed()
            sr.set(k0, 1)
            sr.set(k1, 1)
            got = {tuple(sub.read_parsed(3)) for _ in range(2)}
            assert got == {(b"message", f"__keyspace@0__:{k}".encode(), b"set") for k in (k0, k1)}
            sub.close()
    finally:
        sr.config_set("notify-keyspace-events", "")


def test_client_pause_write_pauses_writes_to_every_shard(sh, sr):
    k0, k1 = sh.key_on(0, "pz"), sh.key_on(1, "pz")
    for pauser_shard in (0, 1):
        for writer_shard in (0, 1):
            for k in (k0, k1):
                pauser = sh.client_on(pauser_shard)
                writer = sh.client_on(writer_shard)
                assert pauser.execute_command("CLIENT", "PAUSE", 600, "WRITE")
                t0 = time.monotonic()
                writer.set(k, 1)
                waited = time.monotonic() - t0
                pauser.execute_command("CLIENT", "UNPAUSE")
                assert waited > 0.4, (pauser_shard, writer_shard, sh.shard_of(k), waited)
                pauser.close()
                writer.close()


# ---------------------------------------------------------------------------
# CROSSSLOT, transactions, WATCH
# ---------------------------------------------------------------------------

def test_multi_key_commands_across_shards_are_crossslot(sh, sr):
    a, b = sh.key_on(0, "x"), sh.key_on(1, "x")
    sr.set(a, 1)
    sr.sadd(a + "s", 1)
    for c in (sh.client_on(0), sh.client_on(1)):
        for cmd in (("RENAME", a, b), ("RENAME", b, a), ("SUNIONSTORE", a + "s", b, a), ("SINTER", a, b),
                    ("MSETNX", a, 1, b, 2), ("RPOPLPUSH", a, b), ("LMOVE", b, a, "LEFT", "LEFT"),
                    ("ZUNIONSTORE", a, 2, a, b), ("COPY", a, b), ("BLPOP", a, b, 0), ("SMOVE", a, b, 1),
                    ("LMPOP", 2, a, b, "LEFT"), ("SINTERCARD", 2, a, b), ("BITOP", "AND", a, a, b),
                    ("XREAD", "STREAMS", a, b, "0", "0"), ("LCS", a, b)):
            with pytest.raises(redis.ResponseError) as e:
                c.execute_command(*cmd)
            assert error_line(e.value) == CROSSSLOT, cmd
        c.close()
    rc, out, err = sh.cli("RENAME", a, b)
    assert out.strip() == f"(error) {CROSSSLOT}" or out.strip() == CROSSSLOT
    raw = sh.raw_on(0)
    raw.send_command("SUNIONSTORE", a, b, a)
    assert raw.read_reply() == f"-{CROSSSLOT}\r\n".encode()
    assert sr.get(a) == b"1" and sr.exists(b) == 0


def test_multi_exec_on_one_remote_shard(sh, sr):
    a, b = sh.key_on(0, "tx"), sh.key_on(1, "tx")
    c = sh.client_on(0)
    p = c.pipeline(transaction=True)
    p.set(b, 1).incr(b).rpush("{%s}l" % b, "x").lrange("{%s}l" % b, 0, -1).get(b)
    assert p.execute() == [True, 2, 1, [b"x"], b"2"]
    # hash-tagged keys of the local shard, and of the remote one
    for tag in (a, b):
        p = c.pipeline(transaction=True)
        p.set("{%s}1" % tag, "a").set("{%s}2" % tag, "b").mget("{%s}1" % tag, "{%s}2" % tag)
        p.rename("{%s}1" % tag, "{%s}3" % tag)
        assert p.execute() == [True, True, [b"a", b"b"], True]
    # errors inside the remote transaction come back in EXEC's array
    p = c.pipeline(transaction=True)
    p.set(b, "str").lpush(b, 1).get(b)
    res = p.execute(raise_on_error=False)
    assert res[0] is True and isinstance(res[1], redis.ResponseError) and res[2] == b"str"
    # a queuing error aborts, as in Redis
    raw = sh.raw_on(0)
    for cmd in (("MULTI",), ("SET", b, 1), ("INCR",), ("EXEC",)):
        raw.send_command(*cmd)
    replies = [raw.read_parsed() for _ in range(4)]
    assert replies[:2] == [b"OK", b"QUEUED"] and isinstance(replies[2], RespError)
    assert replies[3] == RespError("EXECABORT Transaction discarded because of previous errors.")
    assert sr.get(b) == b"str"
    # DISCARD of a transaction on remote keys
    for cmd in (("MULTI",), ("SET", b, "discarded"), ("DISCARD",), ("GET", b)):
        raw.send_command(*cmd)
    assert [raw.read_parsed() for _ in range(4)] == [b"OK", b"QUEUED", b"OK", b"str"]


def test_multi_exec_spanning_shards_is_crossslot_and_discarded(sh, sr):
    a, b = sh.key_on(0, "sp"), sh.key_on(1, "sp")
    for shard in (0, 1):
        raw = sh.raw_on(shard)
        for cmd in (("MULTI",), ("SET", a, 1), ("SET", b, 2), ("EXEC",), ("GET", a), ("GET", b), ("EXEC",)):
            raw.send_command(*cmd)
        replies = [raw.read_parsed() for _ in range(7)]
        assert replies[:3] == [b"OK", b"QUEUED", b"QUEUED"]
        assert replies[3] == RespError(CROSSSLOT)
        assert replies[4:6] == [None, None]           # nothing ran
        assert replies[6] == RespError("ERR EXEC without MULTI")      # and the transaction is gone
        raw.close()
    assert sr.exists(a, b) == 0


def test_watch_of_a_remote_key_is_refused_local_watch_works(sh, sr):
    a, b = sh.key_on(0, "w"), sh.key_on(1, "w")
    c = sh.client_on(0)
    with pytest.raises(redis.ResponseError, match="WATCH"):
        c.execute_command("WATCH", b)
    assert c.execute_command("WATCH", a) is True
    sh.client_on(1).set(a, "changed")            # a write from another shard's connection
    c.execute_command("MULTI")
    c.execute_command("SET", a, "mine")
    assert c.execute_command("EXEC") is None
    assert sr.get(a) == b"changed"


# ---------------------------------------------------------------------------
# Blocking commands on remote keys
# ---------------------------------------------------------------------------

def test_blpop_on_a_remote_key_is_served_by_another_client(sh, sr):
    a, b = sh.key_on(0, "bl"), sh.key_on(1, "bl")
    waiter = sh.raw_on(0)
    waiter.send_command("BLPOP", b, 0)
    time.sleep(0.3)
    pusher = sh.client_on(0)                    # pushes through a forward too
    assert pusher.lpush(b, "v1") == 1
    assert waiter.read_parsed(5) == [b.encode(), b"v1"]
    # the connection goes on serving; a second wait, woken from the owning shard
    waiter.send_command("BRPOP", b, 0)
    waiter.send_command("PING")
    time.sleep(0.2)
    sh.client_on(1).rpush(b, "v2")
    assert waiter.read_parsed(5) == [b.encode(), b"v2"]
    assert waiter.read_parsed(5) == b"PONG"
    # XREAD BLOCK and BZPOPMIN on the remote shard
    waiter.send_command("XREAD", "BLOCK", 0, "STREAMS", b + "s", "$")
    time.sleep(0.2)
    sr.xadd(b + "s", {"f": "v"}, id="5-5")
    assert waiter.read_parsed(5) == [[(b + "s").encode(), [[b"5-5", [b"f", b"v"]]]]]
    assert sr.llen(b) == 0


def test_blpop_on_a_remote_key_times_out(sh, sr):
    """BLPOP with a timeout on a key of another shard returns nil after the
    timeout, as a local one does."""
    b = sh.key_on(1, "bt")
    for shard in (1, 0):     # local first (baseline), then forwarded
        waiter = sh.raw_on(shard)
        t0 = time.monotonic()
        waiter.send_command("BLPOP", b, "0.3")
        assert waiter.read_parsed(5) is None, f"from shard {shard}"
        assert 0.25 < time.monotonic() - t0 < 3
        waiter.send_command("BZPOPMIN", "{%s}z" % b, "0.2")
        assert waiter.read_parsed(5) is None
        waiter.send_command("XREAD", "BLOCK", 200, "STREAMS", "{%s}s" % b, "$")
        assert waiter.read_parsed(5) is None
        waiter.send_command("PING")
        assert waiter.read_parsed(5) == b"PONG"
        waiter.close()


def test_blocked_remote_client_that_disconnects_takes_nothing(sh, sr):
    b = sh.key_on(1, "bd")
    waiter = sh.raw_on(0)
    waiter.send_command("BLPOP", b, 0)
    time.sleep(0.3)
    waiter.close()
    time.sleep(0.3)
    assert sr.rpush(b, "kept") == 1
    time.sleep(0.2)
    assert sr.lrange(b, 0, -1) == [b"kept"]


# ---------------------------------------------------------------------------
# Client state that must follow forwarded commands
# ---------------------------------------------------------------------------

def test_client_reply_off_and_skip_cover_forwarded_commands(sh, sr, ref):
    a, b = sh.key_on(0, "cr"), sh.key_on(1, "cr")
    cmds = [("CLIENT", "REPLY", "OFF"), ("SET", b, "1"), ("SET", a, "2"), ("CLIENT", "REPLY", "ON"),
            ("GET", b), ("CLIENT", "REPLY", "SKIP"), ("GET", b), ("GET", a), ("CLIENT", "REPLY", "SKIP"),
            ("GET", a), ("GET", b), ("MGET", a, b)]
    rr = RawConn(HOST, ref.port)
    rr.send(b"".join(encode_command(*c) for c in cmds))
    time.sleep(0.5)
    expected = rr.read_available(0.5)
    rr.close()
    assert expected == b"+OK\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n1\r\n*2\r\n$1\r\n2\r\n$1\r\n1\r\n"
    rc = sh.raw_on(0)
    rc.send(b"".join(encode_command(*c) for c in cmds))
    time.sleep(0.5)
    assert rc.read_available(0.5) == expected


def test_resp3_replies_through_forwarding(sh, sr):
    a, b = sh.key_on(0, "r3"), sh.key_on(1, "r3")
    for shard in (0, 1):
        sr.flushall()
        sr.hset(b, mapping={"f": "v"})
        sr.zadd(b + "z", {"m": 1.5})
        sr.sadd(b + "s", "x")
        sr.set(a, "1")
        rc = sh.raw_on(shard)
        rc.send_command("HELLO", 3)
        assert rc.read_parsed()[b"proto"] == 3
        checks = [
            (("HGETALL", b), b"%1\r\n$1\r\nf\r\n$1\r\nv\r\n"),
            (("ZSCORE", b + "z", "m"), b",1.5\r\n"),
            (("ZRANGE", b + "z", 0, -1, "WITHSCORES"), b"*1\r\n*2\r\n$1\r\nm\r\n,1.5\r\n"),
            (("SMEMBERS", b + "s"), b"~1\r\n$1\r\nx\r\n"),
            (("GET", b + "none"), b"_\r\n"),
            (("HGET", b, "none"), b"_\r\n"),
            (("MGET", a, b + "none", b + "none2"), b"*3\r\n$1\r\n1\r\n_\r\n_\r\n"),
            (("ZINCRBY", b + "z", 1, "m"), b",2.5\r\n"),
            (("EXISTS", a, b), b":2\r\n"),
            (("DBSIZE",), b":4\r\n"),
            (("HRANDFIELD", b, 1, "WITHVALUES"), b"*1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"),
            (("XINFO", "STREAM", b + "nostream"), b"-ERR no such key\r\n"),
            (("LPOP", b + "none"), b"_\r\n"),
            (("BLPOP", b + "none2", b + "none"), b"-ERR timeout is not a float or out of range\r\n"),
        ]
        for cmd, want in checks:
            rc.send_command(*cmd)
            assert rc.read_reply(5) == want, (shard, cmd)
        rc.send_command("INFO", "keyspace")
        info = rc.read_reply()
        assert info.startswith(b"=") and b"txt:# Keyspace\r\ndb0:keys=4," in info
        rc.send_command("SCAN", 0, "COUNT", 1000)
        cursor, keys = rc.read_parsed()
        # a RESP3 client on one connection mixing with a RESP2 client on the other link
        r2 = sh.client_on(shard)
        assert r2.hgetall(b) == {b"f": b"v"}
        rc.send_command("HGETALL", b)
        assert rc.read_reply() == b"%1\r\n$1\r\nf\r\n$1\r\nv\r\n"
        rc.close()
        r2.close()


# ---------------------------------------------------------------------------
# Persistence per shard
# ---------------------------------------------------------------------------

def test_per_shard_files_and_restart_keeps_all_data(tmp_path):
    d = str(tmp_path)
    base = free_port_range(2)
    args = ("--shards", 2, "--shard-ports", base, "--save", "", "--appendonly", "no")
    s = DataServer(d, *args).start()
    r = s.client()
    p = r.pipeline(transaction=False)
    for i in range(2000):
        p.set(f"k:{i}", i)
    p.rpush("list", *range(100))
    p.hset("hash", mapping={"a": 1})
    p.execute()
    r3 = s.client(db=3)
    r3.set("db3key", "x")
    r.set("ttl", "v", ex=1000)
    assert r.save() is True
    for i in (0, 1):
        f = os.path.join(d, f"shard-{i}", "dump.rdb")
        assert os.path.exists(f), os.listdir(d)
        assert os.path.getsize(f) > 1000
    assert not os.path.exists(os.path.join(d, "dump.rdb"))
    assert r.bgsave() in (True, b"Background saving started")
    s.kill9()
    s2 = DataServer(d, *args, port=s.port).start()
    r = s2.client()
    assert r.dbsize() == 2003
    assert r.mget([f"k:{i}" for i in range(0, 2000, 97)]) == [str(i).encode() for i in range(0, 2000, 97)]
    assert r.lrange("list", 0, -1) == [str(i).encode() for i in range(100)]
    assert s2.client(db=3).get("db3key") == b"x"
    assert 900 < r.ttl("ttl") <= 1000
    for i in (0, 1):
        assert _client(base + i).dbsize() > 500
    # SHUTDOWN on the main port saves every shard
    r.set("late", "1")
    r.set("late2", "1")
    assert s2.client().config_set("save", "3600 1")
    try:
        r.shutdown()
    except redis.ConnectionError:
        pass
    s2.wait_exit()
    s3 = DataServer(d, *args, port=s.port).start()
    assert s3.client().mget("late", "late2") == [b"1", b"1"]
    assert s3.client().dbsize() == 2005
    s3.stop()


def test_per_shard_aof_and_restart(tmp_path):
    d = str(tmp_path)
    base = free_port_range(2)
    args = ("--shards", 2, "--shard-ports", base, "--save", "", "--appendonly", "yes")
    s = DataServer(d, *args).start()
    r = s.client()
    for i in range(500):
        r.set(f"a:{i}", i)
    r.execute_command("BGREWRITEAOF")
    for i in range(500, 600):
        r.set(f"a:{i}", i)
    time.sleep(1.5)
    for i in (0, 1):
        assert os.path.isdir(os.path.join(d, f"shard-{i}", "appendonlydir")), os.listdir(os.path.join(d, f"shard-{i}"))
    s.kill9()
    s2 = DataServer(d, *args, port=s.port).start()
    assert s2.client().dbsize() == 600
    assert s2.client().get("a:599") == b"599"
    s2.stop()


# ---------------------------------------------------------------------------
# Shard ports: Redis Cluster
# ---------------------------------------------------------------------------

def test_cluster_commands_on_shard_ports(sh, sr):
    ranges = slot_ranges(2)
    ids = []
    for i in range(2):
        c = _client(sh.shard_port(i))
        slots = c.execute_command("CLUSTER", "SLOTS")
        assert len(slots) == 2
        for row, (lo, hi) in zip(sorted(slots), ranges):
            assert row[0] == lo and row[1] == hi
            assert row[2][0] == b"127.0.0.1" and len(row[2][2]) == 40
        myid = c.execute_command("CLUSTER", "MYID")
        assert len(myid) == 40
        ids.append(myid)
        info = c.execute_command("CLUSTER", "INFO").decode()
        fields = dict(line.split(":", 1) for line in info.strip().split("\r\n"))
        assert fields["cluster_state"] == "ok"
        assert fields["cluster_slots_assigned"] == "16384" and fields["cluster_slots_ok"] == "16384"
        assert fields["cluster_known_nodes"] == "2" and fields["cluster_size"] == "2"
        nodes = c.execute_command("CLUSTER", "NODES").decode().strip().split("\n")
        assert len(nodes) == 2
        for line in nodes:
            f = line.split(" ")
            assert len(f) >= 9
            idx = [k for k, port in enumerate((sh.shard_port(0), sh.shard_port(1)))
                   if f[1].startswith(f"127.0.0.1:{port}@")][0]
            assert f[8] == f"{ranges[idx][0]}-{ranges[idx][1]}"
            assert ("myself" in f[2]) == (idx == i) and "master" in f[2]
            assert f[7] == "connected"
        shards = c.execute_command("CLUSTER", "SHARDS")
        assert len(shards) == 2
        c.close()
    assert ids[0] != ids[1]
    # the ids of CLUSTER SLOTS / NODES / SHARDS agree
    c0 = _client(sh.shard_port(0))
    slot_ids = {row[2][2] for row in c0.execute_command("CLUSTER", "SLOTS")}
    assert slot_ids == set(ids)
    # KEYSLOT, COUNTKEYSINSLOT, GETKEYSINSLOT
    k = sh.key_on(0, "ck")
    sr.set(k, 1)
    sr.set("{%s}x" % k, 1)
    slot = key_slot(k.encode())
    assert c0.execute_command("CLUSTER", "KEYSLOT", k) == slot
    assert c0.execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) == 2
    assert sorted(c0.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 10)) == sorted([k.encode(), b"{%s}x" % k.encode()])


def test_moved_and_crossslot_on_shard_ports(sh, sr):
    a, b = sh.key_on(0, "mv"), sh.key_on(1, "mv")
    raw = RawConn(HOST, sh.shard_port(0))
    raw.send_command("GET", b)
    assert raw.read_reply() == f"-MOVED {key_slot(b.encode())} 127.0.0.1:{sh.shard_port(1)}\r\n".encode()
    raw.send_command("SET", a, "1")
    assert raw.read_parsed() == b"OK"
    raw.send_command("MGET", a, "{%s}2" % a)
    assert raw.read_parsed() == [b"1", None]
    raw.send_command("MGET", a, sh.key_on(0, "mv", 1000))       # same shard, different slots
    assert raw.read_parsed() == RespError(CROSSSLOT)
    raw.send_command("SELECT", 1)
    assert raw.read_parsed() == RespError("ERR SELECT is not allowed in cluster mode")
    raw.send_command("SELECT", 0)
    assert raw.read_parsed() == b"OK"
    raw.send_command("PING")
    assert raw.read_parsed() == b"PONG"
    raw1 = RawConn(HOST, sh.shard_port(1))
    raw1.send_command("GET", a)
    assert raw1.read_reply() == f"-MOVED {key_slot(a.encode())} 127.0.0.1:{sh.shard_port(0)}\r\n".encode()
    # MULTI on a shard port: keys of one slot run
    for cmd in (("MULTI",), ("SET", a, 1), ("SET", "{%s}z" % a, 2), ("EXEC",)):
        raw.send_command(*cmd)
    assert [raw.read_parsed() for _ in range(4)] == [b"OK", b"QUEUED", b"QUEUED", [b"OK", b"OK"]]
    # several slots of this shard: CROSSSLOT at EXEC, the transaction discarded
    other_slot = sh.key_on(0, "mv", 1000)
    for cmd in (("MULTI",), ("SET", a, "x"), ("SET", other_slot, "y"), ("EXEC",), ("EXEC",)):
        raw.send_command(*cmd)
    assert [raw.read_parsed() for _ in range(5)] == [b"OK", b"QUEUED", b"QUEUED", RespError(CROSSSLOT),
                                                     RespError("ERR EXEC without MULTI")]
    assert sr.get(a) == b"1"


def test_moved_inside_multi_on_a_shard_port_aborts_the_transaction(sh, sr):
    """Redis Cluster flags the transaction when a queued command gets -MOVED:
    EXEC then fails with EXECABORT and nothing runs."""
    a, b = sh.key_on(0, "mm"), sh.key_on(1, "mm")
    raw = RawConn(HOST, sh.shard_port(0))
    for cmd in (("MULTI",), ("SET", b, 1), ("SET", a, 1), ("EXEC",)):
        raw.send_command(*cmd)
    replies = [raw.read_parsed() for _ in range(4)]
    assert replies[:3] == [b"OK", RespError(f"MOVED {key_slot(b.encode())} 127.0.0.1:{sh.shard_port(1)}"), b"QUEUED"]
    assert replies[3] == RespError("EXECABORT Transaction discarded because of previous errors.")
    assert sr.exists(a, b) == 0


def test_redis_py_cluster_client(sh, sr):
    from redis.cluster import RedisCluster
    rc = RedisCluster(host=HOST, port=sh.shard_port(0), socket_timeout=10)
    try:
        nodes = rc.get_nodes()
        assert sorted(n.port for n in nodes) == [sh.shard_port(0), sh.shard_port(1)]
        keys = [f"rc:{i}" for i in range(500)]
        for k in keys[:100]:
            assert rc.set(k, k) is True
        for k in keys[:100]:
            assert rc.get(k) == k.encode()
        rc.mset_nonatomic({k: k for k in keys[100:]})
        assert rc.mget_nonatomic(keys) == [k.encode() for k in keys]
        assert rc.delete(*keys[:10]) == 10
        with rc.pipeline() as p:
            for k in keys[10:60]:
                p.incr(k + ":n")
            assert p.execute() == [1] * 50
    finally:
        rc.close()
    assert sr.dbsize() == 540
    assert sr.get("rc:499") == b"rc:499"


def test_redis_cli_cluster_mode_follows_moved(sh, sr):
    a, b = sh.key_on(0, "cli"), sh.key_on(1, "cli")
    for port in (sh.shard_port(0), sh.shard_port(1)):
        rc, out, err = sh.cli("-c", "SET", b, f"via-{port}", port=port)
        assert rc == 0 and out.strip() == "OK", out + err
        rc, out, err = sh.cli("-c", "GET", a, port=port)
        assert rc == 0
    assert sr.get(b) == f"via-{sh.shard_port(1)}".encode()
    # without -c the redirection is shown
    rc, out, err = sh.cli("GET", b, port=sh.shard_port(0))
    assert out.strip() == f"(error) MOVED {key_slot(b.encode())} 127.0.0.1:{sh.shard_port(1)}" \
        or out.strip() == f"MOVED {key_slot(b.encode())} 127.0.0.1:{sh.shard_port(1)}"
    rc, out, err = sh.cli("--cluster", "check", f"127.0.0.1:{sh.shard_port(0)}", timeout=60)
    assert "[OK] All 16384 slots covered." in out, out + err


def test_redis_benchmark_cluster_mode(sh, sr):
    cp = subprocess.run(["redis-benchmark", "--cluster", "-h", HOST, "-p", str(sh.shard_port(0)),
                         "-t", "set,get", "-n", "20000", "-r", "1000", "-q"],
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
    out = cp.stdout.decode("utf-8", "replace")
    assert cp.returncode == 0, out
    assert "Cluster has 2 master nodes" in out, out
    assert "SET:" in out and "GET:" in out, out
    assert "error" not in out.lower(), out
    assert sr.dbsize() > 100
    # every key the benchmark wrote lives where its slot says
    for i in range(2):
        c = _client(sh.shard_port(i))
        for k in c.scan_iter(count=1000):
            assert sh.shard_of(k) == i


def test_redis_benchmark_on_main_port(sh, sr):
    cp = subprocess.run(["redis-benchmark", "-h", HOST, "-p", str(sh.port), "-t", "set,get,mset,lpush,lpop",
                         "-n", "20000", "-r", "1000", "-P", "16", "-q"],
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
    out = cp.stdout.decode("utf-8", "replace")
    assert cp.returncode == 0 and "error" not in out.lower(), out
    for t in ("SET:", "GET:", "MSET", "LPUSH:", "LPOP:"):
        assert t in out, out


# ---------------------------------------------------------------------------
# Three shards
# ---------------------------------------------------------------------------

def test_three_shards_one_keyspace():
    s = start_sharded(3, tag="shards3")
    try:
        assert s.topology() == [(a, b, s.shard_port(i)) for i, (a, b) in enumerate(slot_ranges(3))]
        r = s.client()
        keys = [f"t:{i}" for i in range(3000)]
        assert r.mset({k: k for k in keys}) is True
        counts = [_client(s.shard_port(i)).dbsize() for i in range(3)]
        assert sum(counts) == 3000 and min(counts) > 800, counts
        for shard in range(3):
            r.flushall()
            assert r.mset({k: k for k in keys}) is True
            c = s.client_on(shard)
            assert c.dbsize() == 3000
            assert c.mget(keys[::7]) == [k.encode() for k in keys[::7]]
            cursor, seen = 0, []
            while True:
                cursor, ks = c.scan(cursor, count=10)
                seen += ks
                if cursor == 0:
                    break
            assert len(seen) == len(set(seen)) == 3000
            trio = [s.key_on(i, "trio") for i in range(3)]
            assert c.exists(*trio, *keys[:3]) == 3
            for i, k in enumerate(trio):
                c.rpush(k, i)
                assert c.lrange(k, 0, -1) == [str(i).encode()]
            with pytest.raises(redis.ResponseError, match="hash to the same slot"):
                c.rename(trio[0], trio[2])
            assert c.delete(*trio) == 3
            rc = s.raw_on(shard)
            cmds = mixed_pipeline(s, 300, seed=shard)
            assert len(raw_replies(rc, cmds)) == 300
            rc.close()
            c.close()
        r.flushall()
        assert r.mset({k: k for k in keys}) is True
        assert r.delete(*keys) == 3000
        assert r.dbsize() == 0
    finally:
        stop_sharded(s)


# ---------------------------------------------------------------------------
# A shard killed under load; tessera-ctl
# ---------------------------------------------------------------------------

def test_kill9_one_shard_under_write_load(tmp_path):
    d = str(tmp_path)
    base = free_port_range(2)
    s = DataServer(d, "--shards", 2, "--shard-ports", base, "--save", "", "--appendonly", "yes",
                   "--appendfsync", "always").start()
    sh2 = Sharded(type("I", (), {"port": s.port})(), 2, base)
    victim_pid = sh2.shard_pid(1)
    survivor_keys = sh2.keys_on(0, 50, "surv")
    stop = threading.Event()
    acked = [dict() for _ in range(4)]
    errors = []
    survivor_failures = []
    survivor_ok = [0]

    def writer(n):
        c = None
        i = 0
        while not stop.is_set():
            key, val = f"w{n}:{i}", f"{n}-{i}"
            try:
                if c is None:
                    c = s.client(socket_timeout=10)
                if c.set(key, val) is True:
                    acked[n][key] = val
                    i += 1
            except redis.exceptions.TryAgainError:
                # the owning shard is down or restarting: retry, as the error says
                time.sleep(0.01)
            except redis.ResponseError as e:
                errors.append(f"{type(e).__name__}: {e}")
                time.sleep(0.01)
            except (redis.ConnectionError, redis.TimeoutError):
                c = None
                time.sleep(0.01)

    def survivor():
        # a connection served by shard 0, writing keys of shard 0: never disturbed
        c = sh2.client_on(0)
        j = 0
        while not stop.is_set():
            k = survivor_keys[j % 50]
            try:
                c.set(k, j)
                assert c.get(k) == str(j).encode()
                survivor_ok[0] += 1
            except Exception as e:      # noqa: BLE001
                survivor_failures.append(repr(e))
                c = sh2.client_on(0)
            j += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)] + [threading.Thread(target=survivor)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    before_kill = survivor_ok[0]
    os.kill(victim_pid, signal.SIGKILL)
    t_kill = time.monotonic()

    def replaced():
        try:
            return sh2.shard_pid(1) != victim_pid
        except redis.RedisError:
            return False
    wait_for(replaced, timeout=30, what="shard 1 to be restarted")
    during = survivor_ok[0] - before_kill
    time.sleep(1.5)
    stop.set()
    for t in threads:
        t.join(30)
    assert not errors, errors[:5]
    assert not survivor_failures, survivor_failures[:5]
    assert during > 0, "shard 0 served nothing while shard 1 was down"
    assert s.proc.poll() is None
    c = s.client()
    total = sum(len(a) for a in acked)
    assert total > 100
    for a in acked:
        keys = list(a)
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            assert c.mget(chunk) == [a[k].encode() for k in chunk]
    # both shards got writes, and the restarted one has its share back
    assert _client(base + 1).dbsize() > 0 and _client(base).dbsize() > 0
    assert "killed by signal 9" in s.log_tail(20000) or "Restarting shard 1" in s.log_tail(20000)
    s.stop()


def ctl(sock, *args):
    ctl_bin = os.path.join(os.path.dirname(server_binary()), "tessera-ctl")
    cp = subprocess.run([ctl_bin, "--socket", sock, *map(str, args)], capture_output=True, text=True, timeout=60)
    assert cp.returncode == 0, cp.stdout + cp.stderr
    return cp.stdout


def test_tessera_ctl_shows_every_shard(tmp_path):
    sock = str(tmp_path / "ctl.sock")
    base = free_port_range(2)
    s = DataServer(str(tmp_path), "--shards", 2, "--shard-ports", base, "--save", "", "--control-socket", sock).start()
    sh2 = Sharded(type("I", (), {"port": s.port})(), 2, base)
    r = s.client()
    for k in sh2.keys_on(0, 3, "c") + sh2.keys_on(1, 7, "c"):
        r.set(k, 1)
    pids = [sh2.shard_pid(0), sh2.shard_pid(1)]
    # The supervisor marks a shard ready at its first PONG (it PINGs every second).
    wait_for(lambda: all(x["state"] == "ready" for x in json.loads(ctl(sock, "--json", "shards"))),
             timeout=20, what="both shards ready")
    shards = json.loads(ctl(sock, "--json", "shards"))
    assert shards == [{"shard": i, "pid": pids[i], "state": "ready", "restarts": 0} for i in range(2)]
    status = json.loads(ctl(sock, "status", "--json"))
    assert [x["shard"] for x in status] == [0, 1]
    assert [x["pid"] for x in status] == pids
    assert all(x["state"] == "ready" for x in status)
    text = ctl(sock, "status")
    assert len([line for line in text.splitlines() if "ready" in line]) == 2
    # each shard's own key count (3 and 7), not the whole keyspace twice
    assert [x["keys"] for x in status] == [3, 7]
    # restart-shard 1 over the control socket
    ctl(sock, "restart-shard", 1)
    wait_for(lambda: json.loads(ctl(sock, "--json", "shards"))[1]["pid"] != pids[1], timeout=20,
             what="shard 1 to be restarted")
    wait_for(lambda: json.loads(ctl(sock, "--json", "shards"))[1]["state"] == "ready", timeout=20,
             what="shard 1 to be ready")
    assert json.loads(ctl(sock, "--json", "shards"))[0]["pid"] == pids[0]
    s.stop()
