"""Blocking commands end-to-end: BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP
BZPOPMIN BZPOPMAX BZMPOP — immediate service, blocking and wake-up, FIFO
fairness, timeouts, MULTI/EXEC, type changes, CLIENT UNBLOCK, INFO and
CLIENT LIST, disconnection, and other clients' latency meanwhile.

Validated against redis-server 7.0.15:
    TESSERA_SERVER=/usr/bin/redis-server .venv/bin/python -m pytest -q Tests/e2e/test_blocking.py
"""

import time

import pytest
import redis

from conftest import Push, RespError


def blocked_count(r):
    return r.info("clients")["blocked_clients"]


def wait_blocked(r, n, timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if blocked_count(r) >= n:
            return
        time.sleep(0.005)
    raise AssertionError("expected %d blocked clients, have %d" % (n, blocked_count(r)))


def blocker(raw, r, *cmd):
    """A raw connection blocked in `cmd` (waits until the server counts it)."""
    before = blocked_count(r)
    c = raw()
    c.send_command(*cmd)
    wait_blocked(r, before + 1)
    return c


def client_id(c):
    c.send_command("CLIENT", "ID")
    return c.read_parsed()


# ---------------------------------------------------------------------------
# Served at once
# ---------------------------------------------------------------------------


def test_immediate_service_like_non_blocking_forms(r):
    r.rpush("l1", "a", "b", "c")
    assert r.blpop(["none", "l1"], 1) == (b"l1", b"a")
    assert r.brpop(["l1"], 1) == (b"l1", b"c")
    r.rpush("src", "x", "y")
    assert r.blmove("src", "dst", 1, "LEFT", "RIGHT") == b"x"
    assert r.brpoplpush("src", "dst", 1) == b"y"
    assert r.lrange("dst", 0, -1) == [b"y", b"x"]
    assert r.exists("src") == 0
    r.rpush("m", "1", "2", "3")
    assert r.execute_command("BLMPOP", 1, 2, "none", "m", "RIGHT", "COUNT", 2) == [b"m", [b"3", b"2"]]
    r.zadd("z", {"a": 1, "b": 2, "c": 3})
    assert r.execute_command("BZPOPMIN", "z", 1) == (b"z", b"a", 1.0)
    assert r.execute_command("BZPOPMAX", "none", "z", 1) == (b"z", b"c", 3.0)
    assert r.execute_command("BZMPOP", 1, 1, "z", "MIN", "COUNT", 5) == [b"z", [[b"b", b"2"]]]


def test_resp3_replies(r, r3):
    r.zadd("z", {"a": 1})
    assert list(r3.execute_command("BZPOPMIN", "z", 1)) == [b"z", b"a", 1.0]
    assert r3.execute_command("BLPOP", "nothing", 0.01) is None
    assert r3.execute_command("BLMOVE", "nothing", "d", "LEFT", "LEFT", 0.01) is None


def test_errors(r):
    r.set("str", "v")
    for cmd in [("BLPOP", "str", 1), ("BRPOP", "none", "str", 1), ("BLMOVE", "str", "d", "LEFT", "LEFT", 1),
                ("BZPOPMIN", "str", 1), ("BLMPOP", 1, 1, "str", "LEFT"), ("BZMPOP", 1, 1, "str", "MAX")]:
        with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
            r.execute_command(*cmd)
    with pytest.raises(redis.ResponseError, match="^timeout is negative$"):
        r.blpop(["k"], -1)
    with pytest.raises(redis.ResponseError, match="^timeout is not a float or out of range$"):
        r.execute_command("BLPOP", "k", "abc")
    for huge in ("1e400", "0x7FFFFFFFFFFFFF", "inf"):
        with pytest.raises(redis.ResponseError, match="^timeout is negative$"):
            r.execute_command("BZPOPMIN", "k", huge)
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        r.execute_command("BLMOVE", "a", "b", "UP", "LEFT", 1)
    with pytest.raises(redis.ResponseError, match="^numkeys should be greater than 0$"):
        r.execute_command("BLMPOP", 1, 0, "k", "LEFT")
    with pytest.raises(redis.ResponseError, match="^count should be greater than 0$"):
        r.execute_command("BZMPOP", 1, 1, "k", "MIN", "COUNT", 0)
    assert blocked_count(r) == 0


# ---------------------------------------------------------------------------
# Blocking and waking up
# ---------------------------------------------------------------------------


def test_block_then_served_by_push(r, raw):
    c = blocker(raw, r, "BLPOP", "k1", "k2", "0")
    assert r.rpush("k2", "v1", "v2") == 2
    assert c.read_parsed() == [b"k2", b"v1"]
    assert r.lrange("k2", 0, -1) == [b"v2"]
    assert blocked_count(r) == 0


def test_each_blocking_command_wakes_up(r, raw):
    cases = [
        (("BRPOP", "w", "0"), lambda: r.rpush("w", "a", "b"), [b"w", b"b"]),
        (("BLMOVE", "w2", "dst", "RIGHT", "LEFT", "0"), lambda: r.rpush("w2", "a", "b"), b"b"),
        (("BRPOPLPUSH", "w3", "dst", "0"), lambda: r.rpush("w3", "c"), b"c"),
        (("BLMPOP", "0", "2", "x", "w4", "LEFT", "COUNT", "5"), lambda: r.rpush("w4", "1", "2"),
         [b"w4", [b"1", b"2"]]),
        (("BZPOPMIN", "z1", "0"), lambda: r.zadd("z1", {"m": 5, "n": 6}), [b"z1", b"m", b"5"]),
        (("BZPOPMAX", "z2", "0"), lambda: r.zadd("z2", {"m": 5, "n": 6}), [b"z2", b"n", b"6"]),
        (("BZMPOP", "0", "1", "z3", "MAX", "COUNT", "2"), lambda: r.zadd("z3", {"m": 5, "n": 6, "o": 7}),
         [b"z3", [[b"o", b"7"], [b"n", b"6"]]]),
    ]
    for cmd, push, expected in cases:
        c = blocker(raw, r, *cmd)
        push()
        assert c.read_parsed() == expected, cmd
    assert r.lrange("dst", 0, -1) == [b"c", b"b"]
    assert blocked_count(r) == 0


def test_fifo_fairness_with_100_blocked_clients(r, raw):
    conns = []
    for i in range(100):
        conns.append(blocker(raw, r, "BLPOP", "fifo", "0"))
    assert blocked_count(r) == 100
    r.rpush("fifo", *[str(i) for i in range(100)])
    for i, c in enumerate(conns):
        assert c.read_parsed() == [b"fifo", str(i).encode()]
    assert blocked_count(r) == 0
    assert r.exists("fifo") == 0


def test_fifo_one_push_at_a_time(r, raw):
    conns = [blocker(raw, r, "BRPOP", "one", "0") for _ in range(5)]
    for i, c in enumerate(conns):
        r.lpush("one", "v%d" % i)
        assert c.read_parsed() == [b"one", b"v%d" % i]
        assert blocked_count(r) == 4 - i


def test_timeout_precision(r):
    for t in (0.05, 0.2, 0.5):
        start = time.time()
        assert r.blpop(["never"], t) is None
        elapsed = time.time() - start
        assert t <= elapsed + 0.005 and elapsed < t + 0.1, (t, elapsed)
    start = time.time()
    assert r.execute_command("BZPOPMIN", "never", "0.1") is None
    assert r.execute_command("BLMOVE", "never", "d", "LEFT", "LEFT", "0.1") is None
    assert time.time() - start < 0.6


def test_many_timeouts_at_once(r, raw):
    conns = []
    for i in range(20):
        c = raw()
        c.send_command("BLPOP", "t%d" % (i % 3), "0.%d" % (2 + i % 3))
        conns.append(c)
    start = time.time()
    for c in conns:
        assert c.read_parsed(timeout=3) is None
    assert time.time() - start < 1.0
    assert blocked_count(r) == 0


def test_pipelined_commands_wait_behind_the_blocked_one(r, raw):
    c = raw()
    c.send(b"*3\r\n$5\r\nBLPOP\r\n$2\r\npk\r\n$1\r\n0\r\n*2\r\n$4\r\nECHO\r\n$5\r\nafter\r\n")
    wait_blocked(r, 1)
    assert c.read_available(0.1) == b""
    r.rpush("pk", "v")
    assert c.read_parsed() == [b"pk", b"v"]
    assert c.read_parsed() == b"after"


# ---------------------------------------------------------------------------
# Transactions and type changes
# ---------------------------------------------------------------------------


def test_push_inside_multi_wakes_after_exec(r, raw):
    c = blocker(raw, r, "BLPOP", "mx", "0")
    p = r.pipeline(transaction=True)
    p.lpush("mx", "a")
    p.lpush("mx", "b")
    p.lpush("mx", "c")
    p.execute()
    # Served after EXEC, seeing the whole transaction's result.
    assert c.read_parsed() == [b"mx", b"c"]
    assert r.lrange("mx", 0, -1) == [b"b", b"a"]


def test_push_and_delete_inside_multi_does_not_wake(r, raw):
    c = blocker(raw, r, "BLPOP", "md", "0")
    p = r.pipeline(transaction=True)
    p.lpush("md", "a")
    p.delete("md")
    p.execute()
    assert c.read_available(0.2) == b""
    assert blocked_count(r) == 1
    p = r.pipeline(transaction=True)
    p.lpush("md", "a")
    p.delete("md")
    p.set("md", "str")
    p.execute()
    assert c.read_available(0.2) == b""
    assert blocked_count(r) == 1
    r.delete("md")
    r.rpush("md", "finally")
    assert c.read_parsed() == [b"md", b"finally"]


def test_blocking_commands_inside_multi_do_not_block(r):
    p = r.pipeline(transaction=True)
    p.blpop(["nothing"], 0)
    p.execute_command("BLMOVE", "nothing", "d", "LEFT", "LEFT", 0)
    p.execute_command("BZPOPMIN", "nothing", 0)
    p.execute_command("BLMPOP", 0, 1, "nothing", "LEFT")
    p.execute_command("BZMPOP", 0, 1, "nothing", "MIN")
    start = time.time()
    assert p.execute() == [None, None, None, None, None]
    assert time.time() - start < 0.5
    r.rpush("something", "x")
    p = r.pipeline(transaction=True)
    p.blpop(["something"], 0)
    assert p.execute() == [(b"something", b"x")]


def test_key_changes_type_while_blocked(r, raw):
    c = blocker(raw, r, "BZPOPMIN", "tz", "0")
    r.rpush("tz", "not-a-zset")  # wrong type for the waiter: stays blocked
    assert c.read_available(0.2) == b""
    assert blocked_count(r) == 1
    r.delete("tz")
    r.zadd("tz", {"m": 1})
    assert c.read_parsed() == [b"tz", b"m", b"1"]


def test_blmove_served_with_wrong_destination_type(r, raw):
    r.set("wdst", "string")
    c = blocker(raw, r, "BLMOVE", "wsrc", "wdst", "LEFT", "LEFT", "0")
    r.rpush("wsrc", "e")
    err = c.read_parsed()
    assert isinstance(err, RespError) and str(err).startswith("WRONGTYPE")
    assert r.lrange("wsrc", 0, -1) == [b"e"]  # nothing popped
    assert blocked_count(r) == 0


def test_blmove_chain_serves_next_waiter(r, raw):
    a = blocker(raw, r, "BLMOVE", "c1", "c2", "LEFT", "LEFT", "0")
    b = blocker(raw, r, "BLPOP", "c2", "0")
    r.rpush("c1", "item")
    assert a.read_parsed() == b"item"
    assert b.read_parsed() == [b"c2", b"item"]
    assert r.exists("c1", "c2") == 0


def test_expired_key_does_not_serve(r, raw):
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    try:
        c = blocker(raw, r, "BLPOP", "ex", "0")
        p = r.pipeline(transaction=True)
        p.lpush("ex", "v")
        p.pexpire("ex", 1)
        p.execute_command("DEBUG", "SLEEP", "0.01")
        p.execute()
        assert c.read_available(0.2) == b""
        assert blocked_count(r) == 1
        r.rpush("ex", "fresh")
        assert c.read_parsed() == [b"ex", b"fresh"]
    finally:
        r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")


# ---------------------------------------------------------------------------
# Unblocking, introspection, disconnection
# ---------------------------------------------------------------------------


def test_client_unblock(r, raw):
    c = blocker(raw, r, "BLPOP", "ub", "0")
    cid = int(r.execute_command("CLIENT", "LIST").decode().strip().splitlines()[-1].split(" ")[0][3:])
    line = r.execute_command("CLIENT", "LIST", "ID", cid).decode()
    assert "flags=b" in line and "cmd=blpop" in line
    assert r.execute_command("CLIENT", "UNBLOCK", cid, "TIMEOUT") == 1
    assert c.read_parsed() is None
    assert r.execute_command("CLIENT", "UNBLOCK", cid) == 0  # not blocked any more
    c.send_command("BLMOVE", "ub", "x", "LEFT", "LEFT", "0")
    wait_blocked(r, 1)
    assert r.execute_command("CLIENT", "UNBLOCK", cid, "ERROR") == 1
    err = c.read_parsed()
    assert isinstance(err, RespError) and str(err) == "UNBLOCKED client unblocked via CLIENT UNBLOCK"
    with pytest.raises(redis.ResponseError, match="^CLIENT UNBLOCK reason should be TIMEOUT or ERROR$"):
        r.execute_command("CLIENT", "UNBLOCK", cid, "NOPE")
    assert r.execute_command("CLIENT", "UNBLOCK", 999999) == 0
    # The connection goes on normally.
    c.send_command("PING")
    assert c.read_parsed() == b"PONG"


def test_info_and_commandstats(r, raw):
    r.execute_command("CONFIG", "RESETSTAT")
    c1 = blocker(raw, r, "BLPOP", "i1", "0")
    c2 = blocker(raw, r, "BZPOPMAX", "i2", "100")
    info = r.info("clients")
    assert info["blocked_clients"] == 2
    assert info["clients_in_timeout_table"] == 1
    r.rpush("i1", "v")
    assert c1.read_parsed() == [b"i1", b"v"]
    stats = r.info("commandstats")
    # Counted once, when the command blocked (Redis 7.0), not again when served.
    assert stats["cmdstat_blpop"]["calls"] == 1
    assert stats["cmdstat_bzpopmax"]["calls"] == 1
    c2.close()
    deadline = time.time() + 3
    while blocked_count(r) and time.time() < deadline:
        time.sleep(0.01)
    assert r.info("clients")["clients_in_timeout_table"] == 0


def test_disconnect_while_blocked_cleans_up(r, raw):
    c = blocker(raw, r, "BLPOP", "dc", "0")
    c.close()
    deadline = time.time() + 3
    while blocked_count(r) and time.time() < deadline:
        time.sleep(0.01)
    assert blocked_count(r) == 0
    # The element is not lost to the departed client.
    r.rpush("dc", "kept")
    assert r.lrange("dc", 0, -1) == [b"kept"]


def test_other_clients_keep_normal_latency(r, raw, make_client):
    waiters = [blocker(raw, r, "BLPOP", "never-%d" % i, "0") for i in range(20)]
    other = make_client()
    # A pipeline of 2000 commands goes through in one go.
    start = time.time()
    p = other.pipeline(transaction=False)
    for i in range(1000):
        p.set("k%d" % i, i)
        p.get("k%d" % i)
    res = p.execute()
    assert len(res) == 2000 and res[1] == b"0"
    assert time.time() - start < 2.0
    # Single round trips stay fast.
    worst = 0.0
    for _ in range(200):
        t0 = time.time()
        other.ping()
        worst = max(worst, time.time() - t0)
    assert worst < 0.1
    assert blocked_count(r) == 20
    for i, w in enumerate(waiters):
        r.rpush("never-%d" % i, "x")
        assert w.read_parsed() == [b"never-%d" % i, b"x"]


def test_idle_timeout_spares_blocked_and_subscribed_clients(r, raw):
    old = r.config_get("timeout")["timeout"]
    try:
        r.config_set("timeout", "1")
        b = blocker(raw, r, "BLPOP", "idle", "0")
        s = raw()
        s.send_command("SUBSCRIBE", "idle-ch")
        assert s.read_parsed() == [b"subscribe", b"idle-ch", 1]
        plain = raw()
        plain.send_command("PING")
        assert plain.read_parsed() == b"PONG"
        time.sleep(3.2)
        assert plain.wait_closed(2)  # an idle normal client is closed...
        assert blocked_count(r) == 1  # ...a blocked one and a subscriber are not
        r.config_set("timeout", old)
        r.rpush("idle", "v")
        assert b.read_parsed() == [b"idle", b"v"]
        assert r.publish("idle-ch", "m") == 1
        assert s.read_parsed() == [b"message", b"idle-ch", b"m"]
    finally:
        r.config_set("timeout", old)
