"""End-to-end tests for the generic keyspace commands.

Expected values / error texts were checked against redis-server 7.0.15.
"""
import time

import pytest

from dtype_helpers import *  # noqa: F401,F403


def fill_types(r):
    cmd(r, "SET", "str", "v")
    cmd(r, "RPUSH", "list", "a", "b")
    cmd(r, "HSET", "hash", "f", "v")
    cmd(r, "SADD", "set", "m")
    cmd(r, "ZADD", "zset", 1, "m")


# --------------------------------------------------------------------------
# DEL UNLINK EXISTS TYPE
# --------------------------------------------------------------------------


def test_del_unlink(r):
    cmd(r, "MSET", "a", 1, "b", 2, "c", 3, "d", 4)
    cmd(r, "RPUSH", "l", "x")
    assert cmd(r, "DEL", "a", "nokey", "l") == 2
    assert cmd(r, "DEL", "a") == 0
    assert cmd(r, "DEL", "b", "b") == 1
    assert cmd(r, "UNLINK", "c", "d", "nokey") == 2
    assert cmd(r, "UNLINK", "c") == 0
    assert cmd(r, "DBSIZE") == 0
    assert err(r, "DEL") == wrong_args("del")
    assert err(r, "UNLINK") == wrong_args("unlink")


def test_unlink_big_values(r):
    cmd(r, "RPUSH", "biglist", *range(5000))
    cmd(r, "SADD", "bigset", *range(5000))
    assert cmd(r, "UNLINK", "biglist", "bigset") == 2
    assert cmd(r, "EXISTS", "biglist", "bigset") == 0


def test_exists_counts_duplicates(r):
    cmd(r, "SET", "a", 1)
    cmd(r, "RPUSH", "l", "x")
    assert cmd(r, "EXISTS", "a") == 1
    assert cmd(r, "EXISTS", "nokey") == 0
    assert cmd(r, "EXISTS", "a", "a", "a") == 3
    assert cmd(r, "EXISTS", "a", "l", "nokey", "l") == 3
    assert err(r, "EXISTS") == wrong_args("exists")


def test_type(r):
    fill_types(r)
    assert cmd(r, "TYPE", "str") == b"string"
    assert cmd(r, "TYPE", "list") == b"list"
    assert cmd(r, "TYPE", "hash") == b"hash"
    assert cmd(r, "TYPE", "set") == b"set"
    assert cmd(r, "TYPE", "zset") == b"zset"
    assert cmd(r, "TYPE", "nokey") == b"none"


def test_empty_aggregates_are_deleted(r):
    cmd(r, "RPUSH", "list", "a")
    cmd(r, "LPOP", "list")
    cmd(r, "HSET", "hash", "f", "v")
    cmd(r, "HDEL", "hash", "f")
    cmd(r, "SADD", "set", "m")
    cmd(r, "SREM", "set", "m")
    cmd(r, "ZADD", "zset", 1, "m")
    cmd(r, "ZREM", "zset", "m")
    assert cmd(r, "EXISTS", "list", "hash", "set", "zset") == 0
    assert cmd(r, "DBSIZE") == 0


# --------------------------------------------------------------------------
# RENAME RENAMENX
# --------------------------------------------------------------------------


def test_rename(r):
    cmd(r, "SET", "a", "1")
    assert cmd(r, "RENAME", "a", "b") == b"OK"
    assert cmd(r, "EXISTS", "a") == 0
    assert cmd(r, "GET", "b") == b"1"
    # overwrites the destination whatever its type
    cmd(r, "RPUSH", "l", "x", "y")
    assert cmd(r, "RENAME", "b", "l") == b"OK"
    assert cmd(r, "TYPE", "l") == b"string"
    assert cmd(r, "GET", "l") == b"1"
    # renaming to itself is OK
    assert cmd(r, "RENAME", "l", "l") == b"OK"
    assert cmd(r, "GET", "l") == b"1"
    # aggregate values move too
    cmd(r, "RPUSH", "list", "a", "b", "c")
    assert cmd(r, "RENAME", "list", "list2") == b"OK"
    assert cmd(r, "LRANGE", "list2", 0, -1) == [b"a", b"b", b"c"]


def test_rename_keeps_ttl(r):
    cmd(r, "SET", "a", "1", "EX", 100)
    cmd(r, "SET", "b", "2")
    assert cmd(r, "RENAME", "a", "b") == b"OK"
    assert 95 <= cmd(r, "TTL", "b") <= 100
    cmd(r, "SET", "c", "3")
    cmd(r, "SET", "d", "4", "EX", 100)
    assert cmd(r, "RENAME", "c", "d") == b"OK"
    assert cmd(r, "TTL", "d") == -1


def test_rename_errors(r):
    assert err(r, "RENAME", "nokey", "b") == "ERR no such key"
    assert err(r, "RENAMENX", "nokey", "b") == "ERR no such key"
    assert err(r, "RENAME", "nokey", "nokey") == "ERR no such key"
    assert err(r, "RENAME", "a") == wrong_args("rename")


def test_renamenx(r):
    cmd(r, "SET", "a", "1")
    cmd(r, "SET", "b", "2")
    assert cmd(r, "RENAMENX", "a", "b") == 0
    assert cmd(r, "MGET", "a", "b") == [b"1", b"2"]
    assert cmd(r, "RENAMENX", "a", "a") == 0
    assert cmd(r, "RENAMENX", "a", "c") == 1
    assert cmd(r, "MGET", "a", "c") == [None, b"1"]


# --------------------------------------------------------------------------
# KEYS
# --------------------------------------------------------------------------


@pytest.fixture
def glob_keys(r):
    names = [b"hello", b"hallo", b"hxllo", b"hllo", b"heeeello", b"h*llo",
             b"h?llo", b"hbllo", b"h[llo", b"h\\llo", b"other"]
    args = []
    for n in names:
        args += [n, b"1"]
    cmd(r, "MSET", *args)
    return names


@pytest.mark.parametrize(
    "pattern,expected",
    [
        (b"*", [b"hello", b"hallo", b"hxllo", b"hllo", b"heeeello", b"h*llo",
                b"h?llo", b"hbllo", b"h[llo", b"h\\llo", b"other"]),
        (b"h?llo", [b"hello", b"hallo", b"hxllo", b"h*llo", b"h?llo", b"hbllo",
                    b"h[llo", b"h\\llo"]),
        (b"h*llo", [b"hello", b"hallo", b"hxllo", b"hllo", b"heeeello", b"h*llo",
                    b"h?llo", b"hbllo", b"h[llo", b"h\\llo"]),
        (b"h[ae]llo", [b"hello", b"hallo"]),
        (b"h[^e]llo", [b"hallo", b"hxllo", b"h*llo", b"h?llo", b"hbllo",
                       b"h[llo", b"h\\llo"]),
        (b"h[a-b]llo", [b"hallo", b"hbllo"]),
        (b"h[b-a]llo", [b"hallo", b"hbllo"]),   # reversed ranges are accepted
        (b"h[!e]llo", [b"hello"]),              # '!' is not a negation
        (b"h\\*llo", [b"h*llo"]),
        (b"h\\?llo", [b"h?llo"]),
        (b"h[\\[]llo", [b"h[llo"]),
        (b"h\\\\llo", [b"h\\llo"]),
        (b"hello", [b"hello"]),
        (b"HELLO", []),
        (b"nomatch*", []),
        (b"*o", [b"hello", b"hallo", b"hxllo", b"hllo", b"heeeello", b"h*llo",
                 b"h?llo", b"hbllo", b"h[llo", b"h\\llo"]),
        (b"o*", [b"other"]),
        (b"*e*e*", [b"heeeello"]),
    ],
)
def test_keys_patterns(r, glob_keys, pattern, expected):
    assert sorted(cmd(r, "KEYS", pattern)) == sorted(expected)


def test_keys_skips_expired(r):
    cmd(r, "SET", "k1", "v")
    cmd(r, "SET", "k2", "v", "PX", 1)
    time.sleep(0.05)
    assert cmd(r, "KEYS", "*") == [b"k1"]


# --------------------------------------------------------------------------
# SCAN
# --------------------------------------------------------------------------


def test_scan_full_iteration(r):
    keys = {f"key:{i}".encode() for i in range(1000)}
    args = []
    for k in keys:
        args += [k, b"v"]
    cmd(r, "MSET", *args)
    for count in (None, 1, 10, 1000):
        got = scan_all(r, "SCAN", count=count)
        assert set(got) == keys
    # no key is returned twice when the keyspace does not change
    got = scan_all(r, "SCAN", count=7)
    assert len(got) == len(set(got)) == 1000


def test_scan_match(r):
    cmd(r, "MSET", *[x for i in range(300) for x in (f"user:{i}", "v")])
    cmd(r, "MSET", *[x for i in range(200) for x in (f"item:{i}", "v")])
    got = scan_all(r, "SCAN", match="user:1*", count=50)
    expected = {f"user:{i}".encode() for i in range(300) if str(i).startswith("1")}
    assert set(got) == expected
    assert scan_all(r, "SCAN", match="nomatch*") == []


def test_scan_type(r):
    fill_types(r)
    for i in range(50):
        cmd(r, "SET", f"s{i}", "v")
        cmd(r, "RPUSH", f"l{i}", "v")
    got = set(scan_all(r, "SCAN", type_="string", count=10))
    assert got == {b"str"} | {f"s{i}".encode() for i in range(50)}
    got = set(scan_all(r, "SCAN", type_="list"))
    assert got == {b"list"} | {f"l{i}".encode() for i in range(50)}
    assert scan_all(r, "SCAN", type_="hash") == [b"hash"]
    assert scan_all(r, "SCAN", type_="set") == [b"set"]
    assert scan_all(r, "SCAN", type_="zset") == [b"zset"]
    # type names are case-insensitive, MATCH and TYPE combine
    assert set(scan_all(r, "SCAN", type_="STRING", match="s1*")) == \
        {f"s{i}".encode() for i in range(50) if str(i).startswith("1")}


def test_scan_empty_and_errors(r):
    assert cmd(r, "SCAN", 0) == [b"0", []]
    assert err(r, "SCAN", "x") == "ERR invalid cursor"
    assert err(r, "SCAN", 0, "COUNT", 0) == SYNTAX
    assert err(r, "SCAN", 0, "COUNT", -1) == SYNTAX
    assert err(r, "SCAN", 0, "COUNT", "x") == NOT_INT
    assert err(r, "SCAN", 0, "FOO", "bar") == SYNTAX
    assert err(r, "SCAN", 0, "MATCH") == SYNTAX
    assert err(r, "SCAN") == wrong_args("scan")


# --------------------------------------------------------------------------
# RANDOMKEY DBSIZE FLUSHDB FLUSHALL
# --------------------------------------------------------------------------


def test_randomkey_dbsize(r):
    assert cmd(r, "RANDOMKEY") is None
    assert cmd(r, "DBSIZE") == 0
    cmd(r, "SET", "only", "v")
    assert cmd(r, "RANDOMKEY") == b"only"
    keys = {b"a", b"b", b"c", b"only"}
    cmd(r, "MSET", "a", 1, "b", 2, "c", 3)
    seen = set()
    for _ in range(200):
        k = cmd(r, "RANDOMKEY")
        assert k in keys
        seen.add(k)
    assert len(seen) >= 2
    assert cmd(r, "DBSIZE") == 4


def test_flushdb_flushall(r, make_client):
    r1 = make_client(db=1)
    cmd(r, "MSET", "a", 1, "b", 2)
    cmd(r1, "SET", "x", 1)
    assert cmd(r, "FLUSHDB") == b"OK"
    assert cmd(r, "DBSIZE") == 0
    assert cmd(r1, "DBSIZE") == 1
    cmd(r, "SET", "a", 1)
    assert cmd(r, "FLUSHALL") == b"OK"
    assert cmd(r, "DBSIZE") == 0
    assert cmd(r1, "DBSIZE") == 0
    for mode in ("ASYNC", "SYNC", "async"):
        cmd(r, "MSET", "a", 1, "b", 2)
        cmd(r1, "SET", "x", 1)
        assert cmd(r, "FLUSHDB", mode) == b"OK"
        assert cmd(r, "DBSIZE") == 0
        assert cmd(r1, "DBSIZE") == 1
        cmd(r, "SET", "a", 1)
        assert cmd(r, "FLUSHALL", mode) == b"OK"
        assert cmd(r, "DBSIZE") == 0
        assert cmd(r1, "DBSIZE") == 0
    assert err(r, "FLUSHALL", "FOO") == SYNTAX
    assert err(r, "FLUSHDB", "FOO") == SYNTAX


# --------------------------------------------------------------------------
# MOVE SWAPDB COPY
# --------------------------------------------------------------------------


def test_move(r, make_client):
    r1 = make_client(db=1)
    cmd(r, "SET", "a", "1", "EX", 100)
    assert cmd(r, "MOVE", "a", 1) == 1
    assert cmd(r, "EXISTS", "a") == 0
    assert cmd(r1, "GET", "a") == b"1"
    assert 95 <= cmd(r1, "TTL", "a") <= 100
    # destination exists -> 0, nothing moved
    cmd(r, "SET", "a", "2")
    assert cmd(r, "MOVE", "a", 1) == 0
    assert cmd(r, "GET", "a") == b"2"
    assert cmd(r1, "GET", "a") == b"1"
    assert cmd(r, "MOVE", "nokey", 1) == 0
    cmd(r, "RPUSH", "l", "x", "y")
    assert cmd(r, "MOVE", "l", 1) == 1
    assert cmd(r1, "LRANGE", "l", 0, -1) == [b"x", b"y"]


def test_move_errors(r):
    cmd(r, "SET", "a", "1")
    assert err(r, "MOVE", "a", 0) == "ERR source and destination objects are the same"
    assert err(r, "MOVE", "a", 16) == "ERR DB index is out of range"
    assert err(r, "MOVE", "a", -1) == "ERR DB index is out of range"
    assert err(r, "MOVE", "a", "x") == NOT_INT


def test_select_errors(make_client, r):
    c = make_client(single_connection_client=True)
    assert err(c, "SELECT", 16) == "ERR DB index is out of range"
    assert err(c, "SELECT", "x") == NOT_INT


def test_swapdb(r, make_client):
    r1 = make_client(db=1)
    cmd(r, "MSET", "a", "db0", "only0", "x")
    cmd(r1, "SET", "a", "db1")
    assert cmd(r, "SWAPDB", 0, 1) == b"OK"
    assert cmd(r, "GET", "a") == b"db1"
    assert cmd(r, "EXISTS", "only0") == 0
    assert cmd(r1, "MGET", "a", "only0") == [b"db0", b"x"]
    assert cmd(r, "SWAPDB", 1, 0) == b"OK"
    assert cmd(r, "MGET", "a", "only0") == [b"db0", b"x"]
    assert cmd(r, "SWAPDB", 1, 1) == b"OK"
    assert err(r, "SWAPDB", 0, 16) == "ERR DB index is out of range"
    assert err(r, "SWAPDB", "x", 0) == "ERR invalid first DB index"
    assert err(r, "SWAPDB", 0, "x") == "ERR invalid second DB index"
    assert err(r, "SWAPDB", 0) == wrong_args("swapdb")


def test_copy(r, make_client):
    cmd(r, "SET", "a", "1", "EX", 100)
    assert cmd(r, "COPY", "a", "b") == 1
    assert cmd(r, "GET", "b") == b"1"
    assert 95 <= cmd(r, "TTL", "b") <= 100
    # destination exists
    cmd(r, "SET", "c", "other")
    assert cmd(r, "COPY", "a", "c") == 0
    assert cmd(r, "GET", "c") == b"other"
    assert cmd(r, "COPY", "a", "c", "REPLACE") == 1
    assert cmd(r, "GET", "c") == b"1"
    assert cmd(r, "COPY", "nokey", "d") == 0
    assert cmd(r, "EXISTS", "d") == 0
    # to another DB
    r1 = make_client(db=1)
    assert cmd(r, "COPY", "a", "a", "DB", 1) == 1
    assert cmd(r1, "GET", "a") == b"1"
    assert cmd(r, "GET", "a") == b"1"
    assert cmd(r, "COPY", "a", "a", "DB", 1) == 0
    assert cmd(r, "COPY", "a", "a", "DB", 1, "REPLACE") == 1


def test_copy_is_deep(r):
    cmd(r, "RPUSH", "l", "a", "b")
    cmd(r, "HSET", "h", "f", "v")
    cmd(r, "SADD", "s", "x")
    cmd(r, "ZADD", "z", 1, "x")
    for k in ("l", "h", "s", "z"):
        assert cmd(r, "COPY", k, k + "2") == 1
    cmd(r, "RPUSH", "l2", "c")
    cmd(r, "HSET", "h2", "g", "w")
    cmd(r, "SADD", "s2", "y")
    cmd(r, "ZADD", "z2", 2, "y")
    assert cmd(r, "LRANGE", "l", 0, -1) == [b"a", b"b"]
    assert cmd(r, "LRANGE", "l2", 0, -1) == [b"a", b"b", b"c"]
    assert cmd(r, "HGETALL", "h") == [b"f", b"v"]
    assert cmd(r, "SMEMBERS", "s") == [b"x"]
    assert cmd(r, "ZRANGE", "z", 0, -1) == [b"x"]
    assert cmd(r, "ZCARD", "z2") == 2


def test_copy_errors(r):
    cmd(r, "SET", "a", "1")
    assert err(r, "COPY", "a", "a") == "ERR source and destination objects are the same"
    assert err(r, "COPY", "a", "b", "DB", 16) == "ERR DB index is out of range"
    assert err(r, "COPY", "a", "b", "DB", "x") == NOT_INT
    assert err(r, "COPY", "a", "b", "FOO") == SYNTAX


def test_touch(r):
    cmd(r, "MSET", "a", 1, "b", 2)
    assert cmd(r, "TOUCH", "a", "b", "nokey") == 2
    assert cmd(r, "TOUCH", "a", "a") == 2
    assert cmd(r, "TOUCH", "nokey") == 0


# --------------------------------------------------------------------------
# OBJECT
# --------------------------------------------------------------------------


def test_object_subcommands(r):
    cmd(r, "SET", "s", "hello world")
    assert cmd(r, "OBJECT", "ENCODING", "s") == b"embstr"
    assert cmd(r, "OBJECT", "REFCOUNT", "s") == 1
    idle = cmd(r, "OBJECT", "IDLETIME", "s")
    assert isinstance(idle, int) and 0 <= idle <= 2
    for sub in ("ENCODING", "REFCOUNT", "IDLETIME", "FREQ"):
        assert cmd(r, "OBJECT", sub, "nokey") is None
    assert err(r, "OBJECT", "FOO", "s") == "ERR unknown subcommand 'FOO'. Try OBJECT HELP."
    assert err(r, "OBJECT", "ENCODING") == \
        "ERR wrong number of arguments for 'object|encoding' command"
    help_lines = cmd(r, "OBJECT", "HELP")
    assert isinstance(help_lines, list) and len(help_lines) > 0


def test_object_freq_needs_lfu(r):
    cmd(r, "SET", "s", "v")
    assert err(r, "OBJECT", "FREQ", "s") == (
        "ERR An LFU maxmemory policy is not selected, access frequency not tracked. "
        "Please note that when switching between policies at runtime LRU and LFU "
        "data will take some time to adjust.")
    with config(r, maxmemory_policy="allkeys-lfu"):
        cmd(r, "SET", "t", "v")
        freq = cmd(r, "OBJECT", "FREQ", "t")
        assert isinstance(freq, int) and 0 <= freq <= 255
        assert err(r, "OBJECT", "IDLETIME", "t") == (
            "ERR An LFU maxmemory policy is selected, idle time not tracked. "
            "Please note that when switching between policies at runtime LRU and LFU "
            "data will take some time to adjust.")


# --------------------------------------------------------------------------
# DUMP / RESTORE
# --------------------------------------------------------------------------


def _make_values(r):
    cmd(r, "SET", "str", "hello")
    cmd(r, "SET", "int", "12345")
    cmd(r, "SET", "bigstr", "x" * 10000)
    cmd(r, "RPUSH", "list", "a", "b", "1", "c")
    cmd(r, "RPUSH", "biglist", *[f"e{i}" for i in range(1000)])
    cmd(r, "HSET", "hash", "f1", "v1", "f2", "2")
    cmd(r, "HSET", "bighash", *[x for i in range(1000) for x in (f"f{i}", f"v{i}")])
    cmd(r, "SADD", "intset", 1, 2, 3, -5)
    cmd(r, "SADD", "set", "a", "b", "c")
    cmd(r, "SADD", "bigset", *[f"m{i}" for i in range(1000)])
    cmd(r, "ZADD", "zset", 1, "a", 2.5, "b", "-inf", "c")
    cmd(r, "ZADD", "bigzset", *[x for i in range(1000) for x in (i * 0.5, f"m{i}")])


def _snapshot(r, key):
    t = cmd(r, "TYPE", key)
    if t == b"string":
        return t, cmd(r, "GET", key)
    if t == b"list":
        return t, cmd(r, "LRANGE", key, 0, -1)
    if t == b"hash":
        return t, sorted(zip(*[iter(cmd(r, "HGETALL", key))] * 2))
    if t == b"set":
        return t, sorted(cmd(r, "SMEMBERS", key))
    if t == b"zset":
        return t, cmd(r, "ZRANGE", key, 0, -1, "WITHSCORES")
    raise AssertionError(t)


KEYS_FOR_DUMP = ["str", "int", "bigstr", "list", "biglist", "hash", "bighash",
                 "intset", "set", "bigset", "zset", "bigzset"]


def test_dump_restore_roundtrip(r):
    _make_values(r)
    for key in KEYS_FOR_DUMP:
        before = _snapshot(r, key)
        payload = cmd(r, "DUMP", key)
        assert isinstance(payload, bytes) and len(payload) > 0
        assert cmd(r, "RESTORE", key + ":copy", 0, payload) == b"OK"
        assert _snapshot(r, key + ":copy") == before, key
        assert cmd(r, "TTL", key + ":copy") == -1
        # the payload can be restored over the original with REPLACE
        assert cmd(r, "RESTORE", key, 0, payload, "REPLACE") == b"OK"
        assert _snapshot(r, key) == before, key
    assert cmd(r, "DUMP", "nokey") is None


def test_restore_ttl_absttl(r):
    cmd(r, "SET", "k", "v")
    payload = cmd(r, "DUMP", "k")
    assert cmd(r, "RESTORE", "a", 100000, payload) == b"OK"
    assert 95000 <= cmd(r, "PTTL", "a") <= 100000
    abs_ms = (int(time.time()) + 200) * 1000
    assert cmd(r, "RESTORE", "b", abs_ms, payload, "ABSTTL") == b"OK"
    assert cmd(r, "PEXPIRETIME", "b") == abs_ms
    # an absolute time in the past: OK, but the key is not there
    assert cmd(r, "RESTORE", "c", 1000, payload, "ABSTTL") == b"OK"
    assert cmd(r, "EXISTS", "c") == 0
    # IDLETIME / FREQ options are accepted
    assert cmd(r, "RESTORE", "d", 0, payload, "IDLETIME", 1000) == b"OK"
    # OBJECT does not touch the key; GET does
    assert cmd(r, "OBJECT", "IDLETIME", "d") >= 1000
    assert cmd(r, "GET", "d") == b"v"
    assert cmd(r, "OBJECT", "IDLETIME", "d") <= 2


def test_restore_errors(r):
    cmd(r, "SET", "k", "v")
    payload = cmd(r, "DUMP", "k")
    assert err(r, "RESTORE", "k", 0, payload) == "BUSYKEY Target key name already exists."
    assert err(r, "RESTORE", "new", -1, payload) == "ERR Invalid TTL value, must be >= 0"
    assert err(r, "RESTORE", "new", "x", payload) == NOT_INT
    assert err(r, "RESTORE", "new", 0, payload, "FOO") == SYNTAX
    assert err(r, "RESTORE", "new", 0, payload, "IDLETIME", -1) == \
        "ERR Invalid IDLETIME value, must be >= 0"
    assert err(r, "RESTORE", "new", 0, payload, "FREQ", 300) == \
        "ERR Invalid FREQ value, must be >= 0 and <= 255"
    assert err(r, "RESTORE", "new", 0, b"garbage") == \
        "ERR DUMP payload version or checksum are wrong"
    # a corrupted checksum is rejected
    bad = payload[:-1] + bytes([payload[-1] ^ 0xFF])
    assert err(r, "RESTORE", "new", 0, bad) == \
        "ERR DUMP payload version or checksum are wrong"
    assert cmd(r, "EXISTS", "new") == 0


# --------------------------------------------------------------------------
# SORT / SORT_RO
# --------------------------------------------------------------------------


@pytest.fixture
def sort_data(r):
    cmd(r, "RPUSH", "l", 3, 1, 2, 10)
    cmd(r, "MSET", "w_1", 30, "w_2", 20, "w_3", 10, "w_10", 5,
        "o_1", "one", "o_2", "two", "o_3", "three")
    for k, v in ((1, 9), (2, 8), (3, 7), (10, 10)):
        cmd(r, "HSET", f"h_{k}", "f", v)


def test_sort_numeric(r, sort_data):
    assert cmd(r, "SORT", "l") == [b"1", b"2", b"3", b"10"]
    assert cmd(r, "SORT", "l", "DESC") == [b"10", b"3", b"2", b"1"]
    assert cmd(r, "SORT", "l", "ASC") == [b"1", b"2", b"3", b"10"]
    cmd(r, "RPUSH", "m", "1.5", "-2", "1e2", "+3")
    assert cmd(r, "SORT", "m") == [b"-2", b"1.5", b"+3", b"1e2"]
    cmd(r, "RPUSH", "dup", 2, 1, 2, 1)
    assert cmd(r, "SORT", "dup") == [b"1", b"1", b"2", b"2"]
    assert cmd(r, "SORT", "nokey") == []


def test_sort_alpha(r, sort_data):
    assert cmd(r, "SORT", "l", "ALPHA") == [b"1", b"10", b"2", b"3"]
    cmd(r, "RPUSH", "s", "b", "a", "c")
    assert cmd(r, "SORT", "s", "ALPHA") == [b"a", b"b", b"c"]
    assert cmd(r, "SORT", "s", "ALPHA", "DESC") == [b"c", b"b", b"a"]
    assert err(r, "SORT", "s") == "ERR One or more scores can't be converted into double"


def test_sort_limit(r, sort_data):
    assert cmd(r, "SORT", "l", "LIMIT", 1, 2) == [b"2", b"3"]
    assert cmd(r, "SORT", "l", "LIMIT", 0, -1) == [b"1", b"2", b"3", b"10"]
    assert cmd(r, "SORT", "l", "LIMIT", 3, 10) == [b"10"]
    assert cmd(r, "SORT", "l", "LIMIT", 10, 10) == []
    assert cmd(r, "SORT", "l", "DESC", "LIMIT", 0, 2) == [b"10", b"3"]
    assert cmd(r, "SORT", "l", "LIMIT", 0, 0) == []


def test_sort_by_and_get(r, sort_data):
    assert cmd(r, "SORT", "l", "BY", "w_*") == [b"10", b"3", b"2", b"1"]
    assert cmd(r, "SORT", "l", "BY", "w_*", "DESC") == [b"1", b"2", b"3", b"10"]
    # weights compared as strings with ALPHA: "10" < "20" < "30" < "5"
    assert cmd(r, "SORT", "l", "BY", "w_*", "ALPHA") == [b"3", b"2", b"1", b"10"]
    assert cmd(r, "SORT", "l", "BY", "w_*", "GET", "o_*") == [None, b"three", b"two", b"one"]
    assert cmd(r, "SORT", "l", "BY", "w_*", "GET", "o_*", "GET", "#", "GET", "nokey_*") == [
        None, b"10", None,
        b"three", b"3", None,
        b"two", b"2", None,
        b"one", b"1", None,
    ]
    # hash field patterns
    assert cmd(r, "SORT", "l", "BY", "h_*->f", "GET", "h_*->f", "GET", "#") == [
        b"7", b"3", b"8", b"2", b"9", b"1", b"10", b"10"]
    assert cmd(r, "SORT", "l", "GET", "#") == [b"1", b"2", b"3", b"10"]
    # GET of a non-pattern / missing hash field
    assert cmd(r, "SORT", "l", "GET", "h_*->nofield") == [None, None, None, None]
    # BY nosort keeps the original list order
    assert cmd(r, "SORT", "l", "BY", "nosort") == [b"3", b"1", b"2", b"10"]
    assert cmd(r, "SORT", "l", "BY", "nosort", "LIMIT", 1, 2) == [b"1", b"2"]
    assert cmd(r, "SORT", "l", "BY", "nosort", "GET", "o_*") == [b"three", b"one", b"two", None]


def test_sort_set_and_zset(r):
    cmd(r, "SADD", "st", 5, 2, 9)
    assert cmd(r, "SORT", "st") == [b"2", b"5", b"9"]
    cmd(r, "ZADD", "z", 1, "c", 2, "a", 3, "b")
    assert cmd(r, "SORT", "z", "ALPHA") == [b"a", b"b", b"c"]
    # for sorted sets BY nosort returns the zset order
    assert cmd(r, "SORT", "z", "BY", "nosort", "ALPHA") == [b"c", b"a", b"b"]
    assert cmd(r, "SORT", "z", "BY", "nosort", "LIMIT", 1, 1) == [b"a"]


def test_sort_store(r, sort_data):
    assert cmd(r, "SORT", "l", "STORE", "dst") == 4
    assert cmd(r, "LRANGE", "dst", 0, -1) == [b"1", b"2", b"3", b"10"]
    assert cmd(r, "SORT", "l", "BY", "w_*", "LIMIT", 0, 2, "GET", "o_*", "STORE", "dst") == 2
    assert cmd(r, "TYPE", "dst") == b"list"
    # missing GET results are stored as empty strings
    assert cmd(r, "LRANGE", "dst", 0, -1) == [b"", b"three"]
    # STORE overwrites other types; empty result deletes the destination
    cmd(r, "SET", "strdst", "x")
    assert cmd(r, "SORT", "l", "STORE", "strdst") == 4
    assert cmd(r, "TYPE", "strdst") == b"list"
    assert cmd(r, "SORT", "nokey", "STORE", "dst") == 0
    assert cmd(r, "EXISTS", "dst") == 0


def test_sort_ro(r, sort_data):
    assert cmd(r, "SORT_RO", "l") == [b"1", b"2", b"3", b"10"]
    assert cmd(r, "SORT_RO", "l", "BY", "w_*", "GET", "o_*") == [None, b"three", b"two", b"one"]
    assert cmd(r, "SORT_RO", "l", "ALPHA", "DESC", "LIMIT", 0, 2) == [b"3", b"2"]
    assert err(r, "SORT_RO", "l", "STORE", "x") == SYNTAX
    assert cmd(r, "EXISTS", "x") == 0


def test_sort_errors(r, sort_data):
    cmd(r, "SET", "str", "x")
    assert err(r, "SORT", "str") == WRONGTYPE
    assert err(r, "SORT", "l", "FOO") == SYNTAX
    assert err(r, "SORT", "l", "LIMIT", 0) == SYNTAX
    assert err(r, "SORT", "l", "LIMIT", "a", "b") == NOT_INT
    assert err(r, "SORT") == wrong_args("sort")


def test_sort_limit_extremes_clamp(r):
    # Offsets and counts near Int64.max clamp to the list instead of overflowing.
    big = "9223372036854775807"
    r.rpush("l", 3, 1, 2)
    assert r.execute_command("SORT", "l", "LIMIT", big, big) == []
    assert r.execute_command("SORT", "l", "LIMIT", 1, big) == [b"2", b"3"]
    assert r.execute_command("SORT", "l", "BY", "nosort", "LIMIT", 1, big) == [b"1", b"2"]
    assert r.execute_command("SORT", "l", "LIMIT", "-5", 2) == [b"1", b"2"]


def test_command_getkeys_sort_ro(raw):
    c = raw()
    assert c.request(b"COMMAND GETKEYS SORT_RO abc\r\n") == b"*1\r\n$3\r\nabc\r\n"
    assert c.request(b"COMMAND GETKEYS SORT abc STORE d\r\n") == b"*2\r\n$3\r\nabc\r\n$1\r\nd\r\n"
