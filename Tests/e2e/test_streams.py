"""Streams end to end: XADD/XRANGE/XREVRANGE/XLEN/XDEL/XTRIM/XSETID, XREAD,
consumer groups (XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM),
XINFO with Redis 7.0's fields, errors, RESP3 shapes, a work queue with crash
recovery, MAXLEN ~ bounding memory, and DUMP payloads moving both ways
between the server under test and redis-server 7.0.15.

Passes against the reference too:
    TESSERA_SERVER=/usr/bin/redis-server .venv/bin/python -m pytest -q Tests/e2e/test_streams.py
"""

import time

import pytest
import redis

from conftest import _client, error_line


def ids(entries):
    return [e[0] for e in entries]


def rawc(c):
    """A client of the same server without redis-py's reply parsing."""
    kw = c.connection_pool.connection_kwargs
    plain = _client(kw["port"], protocol=2)
    plain.response_callbacks.clear()
    return plain


def err(fn, *a, **kw):
    """The server's complete error line for a redis-py call."""
    with pytest.raises(redis.ResponseError) as e:
        fn(*a, **kw)
    return error_line(e.value)


# ---------------------------------------------------------------- basics

def test_xadd_explicit_and_auto_ids(r):
    assert r.xadd("s", {"a": 1}, id="1-1") == b"1-1"
    assert r.xadd("s", {"a": 2}, id="1-*") == b"1-2"
    assert r.xadd("s", {"a": 3}, id="5-*") == b"5-0"
    auto = r.xadd("s", {"a": 4})
    ms, seq = map(int, auto.split(b"-"))
    assert ms > 1_600_000_000_000 and seq == 0
    assert r.xlen("s") == 4
    assert "equal or smaller" in err(r.xadd, "s", {"a": 1}, id="1-5")
    assert "greater than 0-0" in err(r.xadd, "t", {"a": 1}, id="0-0")
    assert not r.exists("t")
    assert r.xadd("t", {"a": 1}, id="0-*") == b"0-1"
    assert "Invalid stream ID" in err(r.xadd, "s", {"a": 1}, id="abc")
    r.xadd("m", {"a": 1}, id="18446744073709551615-18446744073709551615")
    assert "exhausted the last possible ID" in err(r.xadd, "m", {"a": 1})
    r.xadd("o", {"a": 1}, id="1-18446744073709551615")
    # Redis 7.0 reports this sequence overflow with the ERANGE text.
    assert err(r.xadd, "o", {"a": 1}, id="1-*") == "ERR Elements are too large to be stored"


def test_xadd_nomkstream_and_arity(r):
    assert r.xadd("s", {"a": 1}, nomkstream=True) is None
    assert not r.exists("s")
    assert "wrong number of arguments for 'xadd'" in err(r.execute_command, "XADD", "s", "*", "a")
    r.set("str", "x")
    assert err(r.xadd, "str", {"a": 1}).startswith("WRONGTYPE")
    assert r.type("s") == b"none"
    r.xadd("s", {"a": 1})
    assert r.type("s") == b"stream"
    assert r.object("encoding", "s") == b"stream"


def test_xrange_xrevrange(r):
    for i in range(1, 11):
        r.xadd("s", {"f": i, "g": "v%d" % i}, id=f"{i}-0")
    all_ = r.xrange("s")
    assert ids(all_) == [f"{i}-0".encode() for i in range(1, 11)]
    assert all_[0][1] == {b"f": b"1", b"g": b"v1"}
    assert ids(r.xrevrange("s")) == list(reversed(ids(all_)))
    assert ids(r.xrange("s", "3", "5")) == [b"3-0", b"4-0", b"5-0"]
    assert ids(r.xrange("s", "(3-0", "(5-0")) == [b"4-0"]
    assert ids(r.xrevrange("s", "(5-0", "(3-0")) == [b"4-0"]
    assert ids(r.xrange("s", "-", "+", count=2)) == [b"1-0", b"2-0"]
    assert ids(r.xrevrange("s", "+", "-", count=2)) == [b"10-0", b"9-0"]
    assert r.execute_command("XRANGE", "s", "-", "+", "COUNT", "0") is None
    assert r.xrange("nokey") == []
    assert "invalid start ID" in err(r.execute_command, "XRANGE", "s", "(18446744073709551615-18446744073709551615", "+")
    assert "invalid end ID" in err(r.execute_command, "XRANGE", "s", "-", "(0-0")
    assert "Invalid stream ID" in err(r.execute_command, "XRANGE", "s", "(-", "+")
    assert err(r.execute_command, "XRANGE", "s", "-", "+", "FOO") == "ERR syntax error"


def test_xdel_and_recorded_first_entry(r):
    for i in range(1, 6):
        r.xadd("s", {"f": i}, id=f"{i}-0")
    assert r.xdel("s", "1-0", "3-0", "9-0") == 2
    info = r.xinfo_stream("s")
    assert info["length"] == 3
    assert info["recorded-first-entry-id"] == b"2-0"
    assert info["max-deleted-entry-id"] == b"3-0"
    assert info["entries-added"] == 5
    assert r.xdel("nokey", "1-0") == 0
    assert "Invalid stream ID" in err(r.xdel, "s", "bad")
    # An emptied stream stays as a key.
    r.xdel("s", "2-0", "4-0", "5-0")
    assert r.exists("s") and r.xlen("s") == 0
    assert r.xinfo_stream("s")["recorded-first-entry-id"] == b"0-0"


def test_trimming(r):
    r.config_set("stream-node-max-entries", 10)
    try:
        for i in range(1, 101):
            r.xadd("s", {"f": i}, id=f"{i}-0")
        assert r.xtrim("s", maxlen=55, approximate=True) == 40
        assert r.xtrim("s", maxlen=55, approximate=False) == 5
        assert r.xrange("s", count=1)[0][0] == b"46-0"
        assert r.xtrim("s", minid="60", approximate=False) == 14
        # Whole nodes only, within LIMIT: the node holding 60 (1 live entry) and 61..70.
        assert r.xtrim("s", maxlen=0, approximate=True, limit=15) == 11
        assert r.xadd("s", {"f": 1}, maxlen=5, approximate=False) is not None
        assert r.xlen("s") == 5
        assert r.xadd("s", {"f": 1}, minid="99", approximate=False) is not None
        assert ids(r.xrange("s"))[0] == b"99-0"
        assert "LIMIT cannot be used without the special ~" in err(r.execute_command, "XTRIM", "s", "MAXLEN", "1", "LIMIT", "5")
        assert "LIMIT cannot be used without specifying a trimming strategy" in err(r.execute_command, "XTRIM", "s", "LIMIT", "5")
        assert "XTRIM must be called with a trimming strategy" in err(r.execute_command, "XTRIM", "s", "LIMIT", "0")
        assert "MAXLEN and MINID" in err(r.execute_command, "XTRIM", "s", "MAXLEN", "1", "MINID", "5")
        assert "MAXLEN argument must be >= 0" in err(r.execute_command, "XTRIM", "s", "MAXLEN", "-1")
        assert r.xtrim("nokey", maxlen=0) == 0
    finally:
        r.config_set("stream-node-max-entries", 100)


def test_xsetid(r):
    r.xadd("s", {"a": 1}, id="5-0")
    assert r.execute_command("XSETID", "s", "10-0", "ENTRIESADDED", "7", "MAXDELETEDID", "3-0") == b"OK"
    info = r.xinfo_stream("s")
    assert (info["last-generated-id"], info["entries-added"], info["max-deleted-entry-id"]) == (b"10-0", 7, b"3-0")
    assert "smaller than the target stream top item" in err(r.execute_command, "XSETID", "s", "1-0")
    assert "no such key" in err(r.execute_command, "XSETID", "nokey", "1-0")
    assert "smaller than the target stream length" in err(r.execute_command, "XSETID", "s", "10-0", "ENTRIESADDED", "0")
    assert "must be positive" in err(r.execute_command, "XSETID", "s", "10-0", "ENTRIESADDED", "-1")
    assert r.xadd("s", {"a": 1}, id="10-*") == b"10-1"


# ---------------------------------------------------------------- XREAD

def test_xread(r):
    r.xadd("a", {"f": 1}, id="1-0")
    r.xadd("a", {"f": 2}, id="2-0")
    r.xadd("b", {"f": 3}, id="3-0")
    out = r.xread({"a": "0", "b": "0"})
    assert [(k, ids(v)) for k, v in out] == [(b"a", [b"1-0", b"2-0"]), (b"b", [b"3-0"])]
    assert r.xread({"a": "1-0"}, count=5) == [[b"a", [(b"2-0", {b"f": b"2"})]]]
    assert r.xread({"a": "$"}) == []
    assert r.xread({"nokey": "0"}) == []
    # BLOCK with data available is served at once.
    assert r.xread({"a": "1"}, block=100)[0][0] == b"a"
    assert "Unbalanced" in err(r.execute_command, "XREAD", "STREAMS", "a", "b", "0")
    assert "only supported by XREADGROUP" in err(r.execute_command, "XREAD", "GROUP", "g", "c", "STREAMS", "a", "0")
    assert "can be specified only when calling XREADGROUP" in err(r.execute_command, "XREAD", "STREAMS", "a", ">")
    assert "timeout is negative" in err(r.execute_command, "XREAD", "BLOCK", "-1", "STREAMS", "a", "$")


def test_xread_resp3_is_a_map(r, raw, server):
    r.xadd("a", {"f": 1}, id="1-0")
    c = raw(server.port)
    c.send_command("HELLO", "3")
    c.read_reply()
    c.send_command("XREAD", "STREAMS", "a", "0")
    assert c.read_reply() == b"%1\r\n$1\r\na\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\n1\r\n"
    c.send_command("XREAD", "STREAMS", "a", "$")
    assert c.read_reply() == b"_\r\n"


# ---------------------------------------------------------------- groups

def test_group_lifecycle_and_errors(r):
    assert "requires the key to exist" in err(r.xgroup_create, "s", "g", "$")
    assert r.xgroup_create("s", "g", "$", mkstream=True)
    assert err(r.xgroup_create, "s", "g", "$").startswith("BUSYGROUP")
    assert r.xgroup_createconsumer("s", "g", "alice") == 1
    assert r.xgroup_createconsumer("s", "g", "alice") == 0
    assert err(r.xgroup_createconsumer, "s", "nog", "x").startswith("NOGROUP No such consumer group 'nog' for key name 's'")
    assert r.xgroup_delconsumer("s", "g", "alice") == 0
    assert r.xgroup_destroy("s", "g") == 1
    assert r.xgroup_destroy("s", "g") == 0
    assert "ENTRIESREAD must be positive or -1" in err(r.execute_command, "XGROUP", "CREATE", "s", "g", "$", "ENTRIESREAD", "-5")
    assert "unknown subcommand or wrong number of arguments for 'CREATE'" in err(
        r.execute_command, "XGROUP", "CREATE", "s", "g", "$", "FOO")
    assert r.execute_command("XGROUP", "HELP")[0].startswith(b"XGROUP <subcommand>")
    assert r.execute_command("XINFO", "HELP")[-1] == b"    Prints this help."


def test_readgroup_pending_ack(r, make_client):
    x = rawc(make_client())
    r.xgroup_create("s", "g", "$", mkstream=True)
    for i in range(1, 6):
        r.xadd("s", {"n": i}, id=f"{i}-0")
    got = r.xreadgroup("g", "alice", {"s": ">"}, count=2)
    assert ids(got[0][1]) == [b"1-0", b"2-0"]
    got = r.xreadgroup("g", "bob", {"s": ">"})
    assert ids(got[0][1]) == [b"3-0", b"4-0", b"5-0"]
    assert r.xreadgroup("g", "bob", {"s": ">"}) == []
    summary = x.execute_command("XPENDING", "s", "g")
    assert summary == [5, b"1-0", b"5-0", [[b"alice", b"2"], [b"bob", b"3"]]]
    rows = x.execute_command("XPENDING", "s", "g", "-", "+", "10", "bob")
    assert [row[0] for row in rows] == [b"3-0", b"4-0", b"5-0"]
    assert all(row[1] == b"bob" and row[3] == 1 for row in rows)
    # History: the consumer's own pending entries; delivery count goes up.
    hist = r.xreadgroup("g", "alice", {"s": "0"})
    assert ids(hist[0][1]) == [b"1-0", b"2-0"]
    assert x.execute_command("XPENDING", "s", "g", "-", "+", "1")[0][3] == 2
    assert r.xack("s", "g", "1-0", "2-0", "9-0") == 2
    assert r.xack("nokey", "g", "1-0") == 0
    # A deleted entry still pending shows with a null body in the history.
    r.xdel("s", "3-0")
    hist = x.execute_command("XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", "0")
    assert hist[0][1][0] == [b"3-0", None]
    assert x.execute_command("XPENDING", "s", "g", "IDLE", "100000", "-", "+", "10") == []
    assert x.execute_command("XPENDING", "s", "g", "-", "+", "10", "nobody") == []
    assert err(r.execute_command, "XPENDING", "s", "nog").startswith("NOGROUP No such key 's' or consumer group 'nog'")
    assert "$ ID is meaningless" in err(r.execute_command, "XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "$")
    assert err(r.execute_command, "XREADGROUP", "GROUP", "nog", "c", "STREAMS", "s", ">").startswith(
        "NOGROUP No such key 's' or consumer group 'nog' in XREADGROUP with GROUP option")


def test_noack_and_lag(r):
    r.xgroup_create("s", "g", "0", mkstream=True)
    for i in range(1, 4):
        r.xadd("s", {"n": i}, id=f"{i}-0")
    info = r.xinfo_groups("s")[0]
    assert (info["entries-read"], info["lag"]) == (None, 3)
    r.xreadgroup("g", "c", {"s": ">"}, count=1, noack=True)
    info = r.xinfo_groups("s")[0]
    assert (info["pending"], info["entries-read"], info["lag"], info["last-delivered-id"]) == (0, 1, 2, b"1-0")
    r.xdel("s", "3-0")
    assert r.xinfo_groups("s")[0]["lag"] is None
    consumers = r.xinfo_consumers("s", "g")
    assert consumers[0]["name"] == b"c" and consumers[0]["pending"] == 0


def test_xclaim_and_xautoclaim(r, make_client):
    x = rawc(make_client())
    r.xgroup_create("s", "g", "$", mkstream=True)
    for i in range(1, 6):
        r.xadd("s", {"n": i}, id=f"{i}-0")
    r.xreadgroup("g", "alice", {"s": ">"})
    claimed = r.xclaim("s", "g", "bob", 0, ["1-0", "2-0"])
    assert ids(claimed) == [b"1-0", b"2-0"]
    assert r.xclaim("s", "g", "bob", 0, ["3-0"], justid=True) == [b"3-0"]
    assert r.xclaim("s", "g", "bob", 10_000_000, ["4-0"]) == []
    r.xclaim("s", "g", "carol", 0, ["4-0"], idle=5000, retrycount=7, justid=True)
    row = x.execute_command("XPENDING", "s", "g", "4-0", "4-0", "1")[0]
    assert row[1] == b"carol" and row[2] >= 5000 and row[3] == 7
    assert "Unrecognized XCLAIM option 'BOGUS'" in err(r.execute_command, "XCLAIM", "s", "g", "c", "0", "1-0", "BOGUS")
    assert "Invalid min-idle-time" in err(r.execute_command, "XCLAIM", "s", "g", "c", "x", "1-0")
    # XAUTOCLAIM: cursor, claimed entries, and 7.0's deleted IDs.
    r.xdel("s", "2-0")
    out = x.execute_command("XAUTOCLAIM", "s", "g", "dave", "0", "0", "COUNT", "2")
    assert out[0] == b"3-0"
    assert [e[0] for e in out[1]] == [b"1-0"]
    assert out[2] == [b"2-0"]
    out = x.execute_command("XAUTOCLAIM", "s", "g", "dave", "0", out[0], "JUSTID")
    assert out == [b"0-0", [b"3-0", b"4-0", b"5-0"], []]
    assert "COUNT must be > 0" in err(r.execute_command, "XAUTOCLAIM", "s", "g", "c", "0", "0", "COUNT", "0")
    assert err(r.execute_command, "XCLAIM", "s", "nog", "c", "0", "1-0").startswith("NOGROUP")


def test_xinfo_stream_full(r, make_client):
    r.xgroup_create("s", "g", "$", mkstream=True)
    r.xadd("s", {"a": 1}, id="1-0")
    r.xadd("s", {"b": 2}, id="2-0")
    r.xreadgroup("g", "alice", {"s": ">"}, count=1)
    info = r.xinfo_stream("s")
    assert info["length"] == 2 and info["groups"] == 1
    assert info["first-entry"] == (b"1-0", {b"a": b"1"})
    assert info["last-entry"] == (b"2-0", {b"b": b"2"})
    assert info["radix-tree-keys"] == 1 and info["radix-tree-nodes"] == 2
    full = r.xinfo_stream("s", full=True)
    g = full["groups"][0]
    assert g["name"] == b"g" and g["pel-count"] == 1 and g["entries-read"] == 1 and g["lag"] == 1
    assert g["pending"][0][0] == b"1-0" and g["pending"][0][1] == b"alice"
    cons = g["consumers"][0]
    assert cons["name"] == b"alice" and cons["pel-count"] == 1 and "seen-time" in cons
    full_raw = rawc(make_client()).execute_command("XINFO", "STREAM", "s", "FULL", "COUNT", "1")
    assert full_raw[full_raw.index(b"entries") + 1] == [[b"1-0", [b"a", b"1"]]]
    assert "no such key" in err(r.xinfo_stream, "nokey")


def test_keyspace_writes_touch_watch(r, make_client):
    r.xadd("s", {"a": 1})
    p = r.pipeline(transaction=True)
    p.watch("s")
    other = make_client()
    other.xadd("s", {"b": 2})
    p.multi()
    p.xlen("s")
    with pytest.raises(redis.WatchError):
        p.execute()


# ---------------------------------------------------------------- scenarios

def test_work_queue_with_crash_recovery(r, make_client):
    """Producers add jobs; two workers consume through a group; one dies
    holding jobs; XAUTOCLAIM hands them to the survivor; nothing is lost."""
    r.xgroup_create("jobs", "workers", "$", mkstream=True)
    total = 200
    for i in range(total):
        r.xadd("jobs", {"job": i})
    w1, w2 = make_client(), rawc(make_client())
    done = set()
    # Worker 1 takes a batch and crashes before acknowledging any of it.
    taken = w1.xreadgroup("workers", "w1", {"jobs": ">"}, count=30)
    crashed = {e[1][b"job"] for e in taken[0][1]}
    w1.close()
    # Worker 2 processes everything else.
    while True:
        got = w2.execute_command("XREADGROUP", "GROUP", "workers", "w2", "COUNT", "25", "STREAMS", "jobs", ">")
        if not got:
            break
        for eid, fields in got[0][1]:
            done.add(fields[1])
            w2.xack("jobs", "workers", eid)
    assert not (done & crashed)
    time.sleep(0.05)
    # Recovery: claim what w1 left behind (idle >= 20 ms), page by page.
    cursor = "0-0"
    while True:
        nxt, entries, deleted = w2.execute_command("XAUTOCLAIM", "jobs", "workers", "w2", "20", cursor, "COUNT", "7")
        assert deleted == []
        for eid, fields in entries:
            done.add(fields[1])
            w2.xack("jobs", "workers", eid)
        if nxt == b"0-0":
            break
        cursor = nxt
    assert done == {str(i).encode() for i in range(total)}
    assert w2.execute_command("XPENDING", "jobs", "workers")[0] == 0
    assert r.xinfo_groups("jobs")[0]["lag"] == 0
    assert r.xgroup_delconsumer("jobs", "workers", "w1") == 0


def test_maxlen_approx_bounds_memory(r):
    payload = "x" * 100
    for i in range(3000):
        r.xadd("capped", {"p": payload, "i": i}, maxlen=1000, approximate=True)
    n = r.xlen("capped")
    assert 1000 <= n <= 1100
    small = r.memory_usage("capped")
    for i in range(3000):
        r.xadd("capped", {"p": payload, "i": i}, maxlen=1000, approximate=True)
    assert 1000 <= r.xlen("capped") <= 1100
    # Memory stays bounded (does not grow with the number of XADDs).
    assert r.memory_usage("capped") < small * 1.5
    for i in range(3000):
        r.xadd("uncapped", {"p": payload, "i": i})
    assert r.memory_usage("uncapped") > 2 * small


# ---------------------------------------------------------------- DUMP interop

def build_stream(c):
    c.execute_command("CONFIG", "SET", "stream-node-max-entries", "50")
    for i in range(1, 400):
        if i % 7 == 0:
            c.xadd("s", {"other": i, "x": "y" * i}, id=f"{i}-{i % 3}")
        else:
            c.xadd("s", {"a": i, "b": "val%d" % i}, id=f"{i}-{i % 3}")
    c.xdel("s", "5-2", "14-2", "100-1")
    c.xtrim("s", maxlen=350)
    c.xgroup_create("s", "g1", id="0")
    c.xgroup_create("s", "g2", id="$")
    c.xreadgroup("g1", "alice", {"s": ">"}, count=10)
    c.xreadgroup("g1", "bob", {"s": ">"}, count=5, noack=True)
    c.xreadgroup("g1", "carol", {"s": ">"}, count=3)
    c.xgroup_createconsumer("s", "g2", "idle")
    c.xack("s", "g1", "56-2")
    c.execute_command("CONFIG", "SET", "stream-node-max-entries", "100")
    c.xgroup_create("empty", "g", "$", mkstream=True)


@pytest.mark.parametrize("direction", ["ours-to-reference", "reference-to-ours"])
def test_dump_restore_interop(make_client, reference, direction):
    r = rawc(make_client())
    r.flushall()
    reference = rawc(reference)
    src, dst = (r, reference) if direction == "ours-to-reference" else (reference, r)
    reference.flushall()
    build_stream(src)
    for key in ("s", "empty"):
        payload = src.dump(key)
        dst.restore(key + "2", 0, payload)
        assert dst.execute_command("XINFO", "STREAM", key + "2", "FULL") == src.execute_command("XINFO", "STREAM", key, "FULL")
        assert dst.execute_command("XRANGE", key + "2", "-", "+") == src.execute_command("XRANGE", key, "-", "+")
        assert dst.execute_command("XINFO", "STREAM", key + "2") == src.execute_command("XINFO", "STREAM", key)
        # The node listpacks are byte-identical, so uncompressed payloads are equal
        # (LZF output may differ between implementations).
        for c in (src, dst):
            c.execute_command("CONFIG", "SET", "rdbcompression", "no")
        try:
            assert dst.dump(key + "2") == src.dump(key)
        finally:
            for c in (src, dst):
                c.execute_command("CONFIG", "SET", "rdbcompression", "yes")
    # The restored stream keeps working (IDs, groups, PELs).
    assert dst.xadd("s2", {"z": 1}, id="1000-0") == b"1000-0"
    got = dst.execute_command("XREADGROUP", "GROUP", "g1", "alice", "COUNT", "1", "STREAMS", "s2", ">")
    assert got[0][1][0][0] == src.execute_command("XRANGE", "s", "-", "+")[18][0]  # 18 delivered before
    assert dst.execute_command("XPENDING", "s2", "g1")[0] == src.execute_command("XPENDING", "s", "g1")[0] + 1


def _start_blocked(raw_conn, *cmd):
    raw_conn.send_command(*cmd)
    time.sleep(0.1)


def test_xread_block_wakes_on_xadd_and_times_out(r, raw):
    r.xadd("bs", {"old": 1}, id="1-1")
    c = raw()
    _start_blocked(c, "XREAD", "BLOCK", "0", "STREAMS", "bs", "$")
    r.xadd("bs", {"new": 2}, id="2-1")
    reply = c.read_parsed(timeout=5)
    assert reply == [[b"bs", [[b"2-1", [b"new", b"2"]]]]]
    t0 = time.monotonic()
    assert r.xread({"bs": "$"}, block=150) == []
    assert 0.1 <= time.monotonic() - t0 < 2


def test_xreadgroup_block_serves_new_entries_and_errors_when_key_goes(r, raw):
    r.xgroup_create("gs", "grp", id="$", mkstream=True)
    c = raw()
    _start_blocked(c, "XREADGROUP", "GROUP", "grp", "alice", "BLOCK", "0", "STREAMS", "gs", ">")
    r.xadd("gs", {"f": "v"}, id="5-1")
    assert c.read_parsed(timeout=5) == [[b"gs", [[b"5-1", [b"f", b"v"]]]]]
    assert r.xpending("gs", "grp")["pending"] == 1
    _start_blocked(c, "XREADGROUP", "GROUP", "grp", "alice", "BLOCK", "0", "STREAMS", "gs", ">")
    r.delete("gs")
    err = c.read_parsed(timeout=5)
    assert "no longer exists" in str(err)
