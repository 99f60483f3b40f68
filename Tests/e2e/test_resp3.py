"""RESP3 reply types (HELLO 3).

Exact bytes were checked against redis-server 7.0.15.
"""

import math

import pytest
import redis

from conftest import encode_command


@pytest.fixture
def c3(raw, r):
    """A raw connection switched to RESP3 (database flushed by ``r``)."""
    c = raw()
    c.send(b"HELLO 3\r\n")
    hello = c.read_parsed()
    assert isinstance(hello, dict) and hello[b"proto"] == 3
    return c


# ---------------------------------------------------------------------------
# exact wire format
# ---------------------------------------------------------------------------


def test_map_reply_hgetall(c3):
    assert c3.request(b"HSET h f v g w\r\n") == b":2\r\n"
    assert c3.request(b"HGETALL h\r\n") == b"%2\r\n$1\r\nf\r\n$1\r\nv\r\n$1\r\ng\r\n$1\r\nw\r\n"
    assert c3.request(b"HGETALL nokey\r\n") == b"%0\r\n"


def test_set_reply_smembers(c3):
    assert c3.request(b"SADD s a\r\n") == b":1\r\n"
    assert c3.request(b"SMEMBERS s\r\n") == b"~1\r\n$1\r\na\r\n"
    assert c3.request(b"SMEMBERS nokey\r\n") == b"~0\r\n"
    assert c3.request(b"SADD s b c\r\n") == b":2\r\n"
    c3.send(b"SMEMBERS s\r\n")
    assert c3.read_parsed() == {b"a", b"b", b"c"}


def test_double_reply_zscore(c3):
    assert c3.request(b"ZADD z 1.5 m 2 n\r\n") == b":2\r\n"
    assert c3.request(b"ZSCORE z m\r\n") == b",1.5\r\n"
    assert c3.request(b"ZSCORE z n\r\n") == b",2\r\n"
    assert c3.request(b"ZINCRBY z 0.25 m\r\n") == b",1.75\r\n"
    assert c3.request(b"ZADD z INCR 1 n\r\n") == b",3\r\n"
    assert c3.request(b"ZADD z inf pinf -inf ninf\r\n") == b":2\r\n"
    assert c3.request(b"ZSCORE z pinf\r\n") == b",inf\r\n"
    assert c3.request(b"ZSCORE z ninf\r\n") == b",-inf\r\n"
    assert c3.request(b"ZADD z 0.1 t\r\n") == b":1\r\n"
    c3.send(b"ZSCORE z t\r\n")
    assert c3.read_parsed() == 0.1


def test_null_replies(c3):
    assert c3.request(b"GET nokey\r\n") == b"_\r\n"
    assert c3.request(b"LPOP nokey\r\n") == b"_\r\n"
    assert c3.request(b"ZSCORE nokey m\r\n") == b"_\r\n"
    assert c3.request(b"HSET h f v\r\n") == b":1\r\n"
    assert c3.request(b"HGET h nope\r\n") == b"_\r\n"
    assert c3.request(b"HMGET h f nope\r\n") == b"*2\r\n$1\r\nv\r\n_\r\n"
    assert c3.request(b"SET s v GET\r\n") == b"_\r\n"
    assert c3.request(b"LPOP nolist 2\r\n") == b"_\r\n"
    # empty aggregates are not null
    assert c3.request(b"LRANGE nokey 0 -1\r\n") == b"*0\r\n"


def test_zrange_withscores_shape(c3):
    assert c3.request(b"ZADD z 1.5 m 2 n\r\n") == b":2\r\n"
    assert c3.request(b"ZRANGE z 0 -1 WITHSCORES\r\n") == \
        b"*2\r\n*2\r\n$1\r\nm\r\n,1.5\r\n*2\r\n$1\r\nn\r\n,2\r\n"
    assert c3.request(b"ZRANGE z 0 -1\r\n") == b"*2\r\n$1\r\nm\r\n$1\r\nn\r\n"
    assert c3.request(b"ZREVRANGE z 0 0 WITHSCORES\r\n") == b"*1\r\n*2\r\n$1\r\nn\r\n,2\r\n"
    assert c3.request(b"ZRANGEBYSCORE z -inf +inf WITHSCORES\r\n") == \
        b"*2\r\n*2\r\n$1\r\nm\r\n,1.5\r\n*2\r\n$1\r\nn\r\n,2\r\n"
    assert c3.request(b"ZPOPMIN z\r\n") == b"*2\r\n$1\r\nm\r\n,1.5\r\n"
    assert c3.request(b"ZMSCORE z m n\r\n") == b"*2\r\n_\r\n,2\r\n"


def test_zrange_withscores_resp2_is_flat(raw, r):
    c = raw()
    assert c.request(b"ZADD z 1.5 m 2 n\r\n") == b":2\r\n"
    assert c.request(b"ZRANGE z 0 -1 WITHSCORES\r\n") == \
        b"*4\r\n$1\r\nm\r\n$3\r\n1.5\r\n$1\r\nn\r\n$1\r\n2\r\n"
    assert c.request(b"ZSCORE z m\r\n") == b"$3\r\n1.5\r\n"


def test_config_get_is_map(c3):
    assert c3.request(b"CONFIG GET maxmemory\r\n") == b"%1\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n"


def test_info_is_verbatim_string(c3):
    assert c3.request(b"SET k v\r\n") == b"+OK\r\n"
    assert c3.request(b"INFO keyspace\r\n") == \
        b"=48\r\ntxt:# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n\r\n"
    reply = c3.request(b"CLIENT INFO\r\n")
    assert reply.startswith(b"=") and b"\r\ntxt:id=" in reply


def test_integer_and_status_replies_unchanged(c3):
    assert c3.request(b"PING\r\n") == b"+PONG\r\n"
    assert c3.request(b"SET k v\r\n") == b"+OK\r\n"
    assert c3.request(b"EXISTS k nokey\r\n") == b":1\r\n"
    assert c3.request(b"ECHO x\r\n") == b"$1\r\nx\r\n"
    assert c3.request(b"INCRBYFLOAT f 1.5\r\n") == b"$3\r\n1.5\r\n"
    assert c3.request(b"GET\r\n") == b"-ERR wrong number of arguments for 'get' command\r\n"


def test_hello_3_then_back_to_2(raw, r):
    c = raw()
    assert c.request(b"HSET h f v\r\n") == b":1\r\n"
    assert c.request(b"HGETALL h\r\n") == b"*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
    assert c.request(b"GET nokey\r\n") == b"$-1\r\n"
    c.send(b"HELLO 3\r\n")
    assert c.read_parsed()[b"proto"] == 3
    assert c.request(b"HGETALL h\r\n") == b"%1\r\n$1\r\nf\r\n$1\r\nv\r\n"
    assert c.request(b"GET nokey\r\n") == b"_\r\n"
    assert c.request(b"HMGET h nope\r\n") == b"*1\r\n_\r\n"
    c.send(b"HELLO 2\r\n")
    hello = c.read_parsed()
    assert isinstance(hello, list) and hello[4:6] == [b"proto", 2]
    assert c.request(b"HGETALL h\r\n") == b"*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
    assert c.request(b"GET nokey\r\n") == b"$-1\r\n"
    assert c.request(b"HMGET h nope\r\n") == b"*1\r\n$-1\r\n"


def test_hello_3_inside_pipeline(raw, r):
    c = raw()
    c.send(b"GET nokey\r\nHELLO 3\r\nGET nokey\r\nHELLO 2\r\nGET nokey\r\n")
    assert c.read_reply() == b"$-1\r\n"
    assert c.read_line() == b"%7\r\n"
    c.buf = b"%7\r\n" + c.buf
    c.read_reply()
    assert c.read_reply() == b"_\r\n"
    assert c.read_line() == b"*14\r\n"
    c.buf = b"*14\r\n" + c.buf
    c.read_reply()
    assert c.read_reply() == b"$-1\r\n"


# ---------------------------------------------------------------------------
# redis-py protocol=3 client
# ---------------------------------------------------------------------------


def test_r3_types(r, r3):
    r3.hset("h", mapping={"f1": "v1", "f2": "v2"})
    assert r3.hgetall("h") == {b"f1": b"v1", b"f2": b"v2"}
    r3.sadd("s", "a", "b")
    assert r3.smembers("s") == {b"a", b"b"}
    r3.zadd("z", {"m": 1.5, "n": 2})
    score = r3.zscore("z", "m")
    assert isinstance(score, float) and score == 1.5
    assert r3.zscore("z", "n") == 2.0
    assert r3.zscore("z", "nope") is None
    assert r3.get("nokey") is None
    assert r3.hget("h", "nope") is None
    assert r3.zincrby("z", 1, "m") == 2.5
    assert r3.zadd("z", {"inf": float("inf")}) == 1
    assert math.isinf(r3.zscore("z", "inf"))


def test_r3_zrange_withscores(r, r3):
    r3.zadd("z", {"a": 1, "b": 2.5})
    res = r3.zrange("z", 0, -1, withscores=True)
    assert [list(x) for x in res] == [[b"a", 1.0], [b"b", 2.5]]
    assert r3.zrange("z", 0, -1) == [b"a", b"b"]


def test_r3_transaction_and_pipeline(r, r3):
    p = r3.pipeline(transaction=True)
    p.hset("h", "f", "v").hgetall("h").sadd("s", "x").smembers("s").get("nokey")
    assert p.execute() == [1, {b"f": b"v"}, 1, {b"x"}, None]


def test_r3_connection_reports_resp3(r3):
    info = r3.client_info()
    assert str(info["resp"]) == "3"
