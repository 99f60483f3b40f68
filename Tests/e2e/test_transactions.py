"""MULTI / EXEC / DISCARD / WATCH / UNWATCH.

Expected replies were checked against redis-server 7.0.15.
"""

import threading
import time

import pytest
import redis

EXECABORT = b"-EXECABORT Transaction discarded because of previous errors.\r\n"
WRONGTYPE = b"WRONGTYPE Operation against a key holding the wrong kind of value"


def test_multi_exec_basic(r, raw):
    c = raw()
    assert c.request(b"MULTI\r\n") == b"+OK\r\n"
    assert c.request(b"SET a 1\r\n") == b"+QUEUED\r\n"
    assert c.request(b"INCR a\r\n") == b"+QUEUED\r\n"
    assert c.request(b"GET a\r\n") == b"+QUEUED\r\n"
    # nothing executed yet
    assert r.get("a") is None
    assert c.request(b"EXEC\r\n") == b"*3\r\n+OK\r\n:2\r\n$1\r\n2\r\n"
    assert r.get("a") == b"2"


def test_empty_transaction(raw):
    c = raw()
    assert c.request(b"MULTI\r\n") == b"+OK\r\n"
    assert c.request(b"EXEC\r\n") == b"*0\r\n"


def test_multi_exec_redis_py(r):
    p = r.pipeline(transaction=True)
    p.set("x", "1").incrby("x", 10).lpush("l", "a", "b").lrange("l", 0, -1)
    assert p.execute() == [True, 11, 2, [b"b", b"a"]]


def test_discard(r, raw):
    c = raw()
    assert c.request(b"MULTI\r\n") == b"+OK\r\n"
    assert c.request(b"SET d 1\r\n") == b"+QUEUED\r\n"
    assert c.request(b"DISCARD\r\n") == b"+OK\r\n"
    assert r.exists("d") == 0
    # back to normal mode
    assert c.request(b"SET d 2\r\n") == b"+OK\r\n"
    assert c.request(b"EXEC\r\n") == b"-ERR EXEC without MULTI\r\n"
    assert r.get("d") == b"2"


def test_exec_and_discard_without_multi(raw):
    c = raw()
    assert c.request(b"EXEC\r\n") == b"-ERR EXEC without MULTI\r\n"
    assert c.request(b"DISCARD\r\n") == b"-ERR DISCARD without MULTI\r\n"


def test_nested_multi(raw):
    c = raw()
    assert c.request(b"MULTI\r\n") == b"+OK\r\n"
    assert c.request(b"MULTI\r\n") == b"-ERR MULTI calls can not be nested\r\n"
    # the nested MULTI does not abort the transaction
    assert c.request(b"PING\r\n") == b"+QUEUED\r\n"
    assert c.request(b"EXEC\r\n") == b"*1\r\n+PONG\r\n"


def test_execabort_unknown_command(r, raw):
    c = raw()
    assert c.request(b"MULTI\r\n") == b"+OK\r\n"
    assert c.request(b"SET a 1\r\n") == b"+QUEUED\r\n"
    assert c.request(b"FOO\r\n") == \
        b"-ERR unknown command 'FOO', with args beginning with: \r\n"
    assert c.request(b"GET a\r\n") == b"+QUEUED\r\n"
    assert c.request(b"EXEC\r\n") == EXECABORT
    assert r.exists("a") == 0
    # connection is out of MULTI state afterwards
    assert c.request(b"EXEC\r\n") == b"-ERR EXEC without MULTI\r\n"


def test_execabort_wrong_arity(r, raw):
    c = raw()
    assert c.request(b"MULTI\r\n") == b"+OK\r\n"
    assert c.request(b"SET b 1\r\n") == b"+QUEUED\r\n"
    assert c.request(b"SET a\r\n") == b"-ERR wrong number of arguments for 'set' command\r\n"
    assert c.request(b"EXEC\r\n") == EXECABORT
    assert r.exists("b") == 0


def test_execabort_redis_py(r):
    p = r.pipeline(transaction=True)
    p.set("a", 1)
    p.execute_command("SET", "a")  # wrong arity
    with pytest.raises(redis.ResponseError) as e:
        p.execute()
    # redis-py reports the queuing error in its own words (and swallows the
    # EXECABORT); the server's part of it is the arity error.
    assert "wrong number of arguments for 'set' command" in str(e.value)
    assert r.exists("a") == 0


def test_runtime_errors_inside_exec(r, raw):
    c = raw()
    assert c.request(b"MULTI\r\n") == b"+OK\r\n"
    assert c.request(b"SET a x\r\n") == b"+QUEUED\r\n"
    assert c.request(b"INCR a\r\n") == b"+QUEUED\r\n"
    assert c.request(b"LPUSH a v\r\n") == b"+QUEUED\r\n"
    assert c.request(b"GET a\r\n") == b"+QUEUED\r\n"
    assert c.request(b"SET b y\r\n") == b"+QUEUED\r\n"
    assert c.request(b"EXEC\r\n") == (
        b"*5\r\n+OK\r\n-ERR value is not an integer or out of range\r\n-" + WRONGTYPE
        + b"\r\n$1\r\nx\r\n+OK\r\n")
    # commands after the failing ones were executed (no rollback)
    assert r.get("b") == b"y"


def test_runtime_errors_redis_py(r):
    p = r.pipeline(transaction=True)
    p.set("a", "x").incr("a").set("c", "z")
    res = p.execute(raise_on_error=False)
    assert res[0] is True
    assert isinstance(res[1], redis.ResponseError)
    assert str(res[1]) == "value is not an integer or out of range"
    assert res[2] is True
    assert r.get("c") == b"z"


def test_select_inside_multi(r, raw):
    c = raw()
    assert c.request(b"MULTI\r\n") == b"+OK\r\n"
    assert c.request(b"SELECT 99\r\n") == b"+QUEUED\r\n"
    assert c.request(b"SELECT 1\r\n") == b"+QUEUED\r\n"
    assert c.request(b"SET indb1 v\r\n") == b"+QUEUED\r\n"
    assert c.request(b"EXEC\r\n") == b"*3\r\n-ERR DB index is out of range\r\n+OK\r\n+OK\r\n"
    assert r.exists("indb1") == 0
    assert c.request(b"GET indb1\r\n") == b"$1\r\nv\r\n"


def test_watch_inside_multi(raw):
    c = raw()
    assert c.request(b"MULTI\r\n") == b"+OK\r\n"
    assert c.request(b"WATCH a\r\n") == b"-ERR WATCH inside MULTI is not allowed\r\n"
    assert c.request(b"EXEC\r\n") == b"*0\r\n"


def test_watch_arity(raw):
    c = raw()
    assert c.request(b"WATCH\r\n") == b"-ERR wrong number of arguments for 'watch' command\r\n"
    assert c.request(b"UNWATCH\r\n") == b"+OK\r\n"


# ---------------------------------------------------------------------------
# WATCH
# ---------------------------------------------------------------------------


def watched_exec(c):
    assert c.request(b"MULTI\r\n") == b"+OK\r\n"
    assert c.request(b"PING\r\n") == b"+QUEUED\r\n"
    return c.request(b"EXEC\r\n")


OK_EXEC = b"*1\r\n+PONG\r\n"
ABORTED = b"*-1\r\n"


def test_watch_untouched_key(r, raw):
    r.set("w", "1")
    c = raw()
    assert c.request(b"WATCH w\r\n") == b"+OK\r\n"
    r.get("w")  # reads don't invalidate
    r.set("other", "1")
    assert watched_exec(c) == OK_EXEC


def test_watch_modified_by_other_client(r, raw):
    r.set("w", "1")
    c = raw()
    assert c.request(b"WATCH w\r\n") == b"+OK\r\n"
    r.set("w", "1")  # same value still counts as a modification
    assert watched_exec(c) == ABORTED
    # WATCH state is cleared by EXEC
    r.set("w", "2")
    assert watched_exec(c) == OK_EXEC


def test_watch_modified_by_same_client(r, raw):
    r.set("w", "1")
    c = raw()
    assert c.request(b"WATCH w\r\n") == b"+OK\r\n"
    assert c.request(b"SET w 2\r\n") == b"+OK\r\n"
    assert watched_exec(c) == ABORTED


def test_watch_missing_key_created(r, raw):
    c = raw()
    assert c.request(b"WATCH nokey\r\n") == b"+OK\r\n"
    r.set("nokey", "1")
    assert watched_exec(c) == ABORTED


def test_watch_missing_key_deleted_is_not_a_change(r, raw):
    c = raw()
    assert c.request(b"WATCH nokey\r\n") == b"+OK\r\n"
    assert r.delete("nokey") == 0
    assert watched_exec(c) == OK_EXEC


def test_watch_multiple_keys(r, raw):
    c = raw()
    assert c.request(b"WATCH a b c\r\n") == b"+OK\r\n"
    r.rpush("c", "x")
    assert watched_exec(c) == ABORTED


def test_watch_expire_command(r, raw):
    r.set("w", "1")
    c = raw()
    assert c.request(b"WATCH w\r\n") == b"+OK\r\n"
    r.expire("w", 100)
    assert watched_exec(c) == ABORTED


def test_unwatch(r, raw):
    r.set("w", "1")
    c = raw()
    assert c.request(b"WATCH w\r\n") == b"+OK\r\n"
    r.set("w", "2")
    assert c.request(b"UNWATCH\r\n") == b"+OK\r\n"
    assert watched_exec(c) == OK_EXEC


def test_discard_unwatches(r, raw):
    r.set("w", "1")
    c = raw()
    assert c.request(b"WATCH w\r\n") == b"+OK\r\n"
    r.set("w", "2")
    assert c.request(b"MULTI\r\n") == b"+OK\r\n"
    assert c.request(b"DISCARD\r\n") == b"+OK\r\n"
    assert watched_exec(c) == OK_EXEC


def test_execabort_unwatches(r, raw):
    r.set("w", "1")
    c = raw()
    assert c.request(b"WATCH w\r\n") == b"+OK\r\n"
    r.set("w", "2")
    assert c.request(b"MULTI\r\n") == b"+OK\r\n"
    c.request(b"FOO\r\n")
    assert c.request(b"EXEC\r\n") == EXECABORT
    assert watched_exec(c) == OK_EXEC


def test_watch_other_db_not_affected(r, raw, make_client):
    r.set("w", "1")
    c = raw()
    assert c.request(b"WATCH w\r\n") == b"+OK\r\n"
    other = make_client(db=1)
    other.set("w", "x")
    other.flushdb()
    assert watched_exec(c) == OK_EXEC


def test_watch_aborted_by_expiry(r, raw):
    r.set("w", "1", px=100)
    c = raw()
    assert c.request(b"WATCH w\r\n") == b"+OK\r\n"
    time.sleep(0.25)
    assert watched_exec(c) == ABORTED


def test_watch_key_already_expired_when_watched(r, raw):
    r.set("w", "1", px=1)
    time.sleep(0.05)
    c = raw()
    assert c.request(b"WATCH w\r\n") == b"+OK\r\n"
    assert watched_exec(c) == OK_EXEC


def test_watch_aborted_by_flushall(r, raw, make_client):
    r.set("w", "1")
    c = raw()
    assert c.request(b"WATCH w\r\n") == b"+OK\r\n"
    make_client().flushall()
    assert watched_exec(c) == ABORTED


def test_watch_aborted_by_flushdb(r, raw, make_client):
    r.set("w", "1")
    c = raw()
    assert c.request(b"WATCH w\r\n") == b"+OK\r\n"
    make_client().flushdb()
    assert watched_exec(c) == ABORTED


def test_flushall_on_missing_watched_key_does_not_abort(r, raw, make_client):
    c = raw()
    assert c.request(b"WATCH nokey\r\n") == b"+OK\r\n"
    make_client().flushall()
    assert watched_exec(c) == OK_EXEC


def test_watch_aborted_by_swapdb(r, raw, make_client):
    r.set("w", "1")
    c = raw()
    assert c.request(b"WATCH w\r\n") == b"+OK\r\n"
    make_client().swapdb(0, 1)
    assert watched_exec(c) == ABORTED


def test_watch_abort_resp3_null(r, raw):
    r.set("w", "1")
    c = raw()
    c.send(b"HELLO 3\r\n")
    assert isinstance(c.read_parsed(), dict)
    assert c.request(b"WATCH w\r\n") == b"+OK\r\n"
    r.set("w", "2")
    assert c.request(b"MULTI\r\n") == b"+OK\r\n"
    assert c.request(b"GET w\r\n") == b"+QUEUED\r\n"
    assert c.request(b"EXEC\r\n") == b"_\r\n"


def test_watch_race_two_clients(r, make_client):
    r.set("counter", "10")
    a = make_client()
    b = make_client()
    pa = a.pipeline(transaction=True)
    pb = b.pipeline(transaction=True)
    pa.watch("counter")
    pb.watch("counter")
    va = int(pa.get("counter"))
    vb = int(pb.get("counter"))
    pa.multi()
    pa.set("counter", va + 1)
    pb.multi()
    pb.set("counter", vb + 1)
    assert pa.execute() == [True]
    with pytest.raises(redis.WatchError):
        pb.execute()
    assert r.get("counter") == b"11"


def test_watch_optimistic_increment_threads(r, make_client):
    r.set("counter", "0")
    n_threads, n_incr = 4, 25
    errors = []

    def worker():
        c = make_client()
        try:
            for _ in range(n_incr):
                while True:
                    with c.pipeline(transaction=True) as p:
                        try:
                            p.watch("counter")
                            v = int(p.get("counter"))
                            p.multi()
                            p.set("counter", v + 1)
                            p.execute()
                            break
                        except redis.WatchError:
                            continue
        except Exception as e:  # pragma: no cover
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert r.get("counter") == b"%d" % (n_threads * n_incr)


def test_transaction_isolation(r, raw):
    """Commands from other clients are not interleaved inside EXEC."""
    c = raw()
    assert c.request(b"MULTI\r\n") == b"+OK\r\n"
    for i in range(100):
        assert c.request(b"RPUSH iso %d\r\n" % i) == b"+QUEUED\r\n"
    r.rpush("iso", "outside")
    res = c.request(b"EXEC\r\n")
    assert res.startswith(b"*100\r\n:2\r\n")
    assert r.lrange("iso", 0, 0) == [b"outside"]
    assert r.lrange("iso", 1, -1) == [b"%d" % i for i in range(100)]
