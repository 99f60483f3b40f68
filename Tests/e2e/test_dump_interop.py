"""DUMP payloads move both ways between the server under test and Debian's
redis-server 7.0.15 (the reference, started here on its own port)."""

import time

import pytest
import redis



def populate(c):
    c.set("s", "hello")
    c.set("i", "12345")
    c.set("big", "x" * 1000)                      # LZF-compressed in the payload
    c.set("ttl", "v", px=100000)
    c.rpush("l", *[f"e{i}" for i in range(300)])
    c.rpush("small", "a", "b")
    c.sadd("si", 1, 2, 3)                          # intset
    c.sadd("ss", *[f"m{i}" for i in range(600)])   # hashtable
    c.zadd("zs", {"a": 1.5, "b": 2, "c": -0.25})   # listpack
    c.zadd("zb", {f"m{i}": i / 3 for i in range(300)})  # skiplist
    c.hset("hs", mapping={"f": "v"})
    c.hset("hb", mapping={f"f{i}": "v" * 10 for i in range(600)})


def snapshot(c):
    out = {}
    for k in sorted(c.keys()):
        ty = c.type(k)
        if ty == b"string":
            out[k] = c.get(k)
        elif ty == b"list":
            out[k] = c.lrange(k, 0, -1)
        elif ty == b"set":
            out[k] = sorted(c.smembers(k))
        elif ty == b"zset":
            out[k] = c.zrange(k, 0, -1, withscores=True)
        elif ty == b"hash":
            out[k] = sorted(c.hgetall(k).items())
    return out


@pytest.mark.parametrize("direction", ["to-reference", "from-reference"])
def test_dump_restore_across_servers(r, reference, direction):
    src, dst = (r, reference) if direction == "to-reference" else (reference, r)
    dst.flushall()
    populate(src)
    for k in src.keys():
        dst.restore(k, 0, src.dump(k))
    assert snapshot(dst) == snapshot(src)
    assert len(snapshot(dst)) == 12


def test_restored_values_get_local_encodings(r, reference):
    populate(reference)
    for k in reference.keys():
        r.restore(k, 0, reference.dump(k))
    assert r.object("encoding", "si") == b"intset"
    assert r.object("encoding", "ss") == b"hashtable"
    assert r.object("encoding", "zs") == b"listpack"
    assert r.object("encoding", "zb") == b"skiplist"
    assert r.object("encoding", "hb") == b"hashtable"


def test_corrupt_payload_is_rejected_and_changes_nothing(r):
    r.set("k", "value")
    payload = bytearray(r.dump("k"))
    payload[1] ^= 0xFF
    with pytest.raises(redis.ResponseError, match="DUMP payload version or checksum are wrong"):
        r.restore("other", 0, bytes(payload))
    assert r.exists("other") == 0
