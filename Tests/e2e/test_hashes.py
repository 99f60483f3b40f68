"""End-to-end tests for the hash commands.

Expected values / error texts were checked against redis-server 7.0.15.
"""
from collections import Counter

import pytest

from dtype_helpers import *  # noqa: F401,F403


def hgetall(r, key):
    return dict(pairs(cmd(r, "HGETALL", key)))


def test_hset_hget(r):
    assert cmd(r, "HSET", "h", "f1", "v1") == 1
    assert cmd(r, "HSET", "h", "f1", "v1b", "f2", "v2", "f3", "v3") == 2
    assert cmd(r, "HGET", "h", "f1") == b"v1b"
    assert cmd(r, "HGET", "h", "nofield") is None
    assert cmd(r, "HGET", "nokey", "f") is None
    assert cmd(r, "HSET", "h", "f2", "x", "f2", "y") == 0
    assert cmd(r, "HGET", "h", "f2") == b"y"
    assert cmd(r, "HSET", "h", "", "") == 1
    assert cmd(r, "HGET", "h", "") == b""
    assert cmd(r, "TYPE", "h") == b"hash"
    assert err(r, "HSET", "h", "f") == wrong_args("hset")
    assert err(r, "HSET", "h", "f", "v", "g") == wrong_args("hset")


def test_hsetnx(r):
    assert cmd(r, "HSETNX", "h", "f", "v") == 1
    assert cmd(r, "HSETNX", "h", "f", "w") == 0
    assert cmd(r, "HGET", "h", "f") == b"v"
    assert cmd(r, "HSETNX", "h", "g", "w") == 1
    assert cmd(r, "HLEN", "h") == 2


def test_hmset_hmget(r):
    assert cmd(r, "HMSET", "h", "a", "1", "b", "2") == b"OK"
    assert cmd(r, "HMGET", "h", "a", "nofield", "b", "a") == [b"1", None, b"2", b"1"]
    assert cmd(r, "HMGET", "nokey", "a", "b") == [None, None]
    assert err(r, "HMSET", "h", "a", "1", "b") == wrong_args("hmset")
    assert err(r, "HMGET", "h") == wrong_args("hmget")


def test_hdel_hexists_hlen(r):
    cmd(r, "HSET", "h", "a", 1, "b", 2, "c", 3)
    assert cmd(r, "HLEN", "h") == 3
    assert cmd(r, "HEXISTS", "h", "a") == 1
    assert cmd(r, "HEXISTS", "h", "z") == 0
    assert cmd(r, "HEXISTS", "nokey", "a") == 0
    assert cmd(r, "HDEL", "h", "a", "z", "a") == 1
    assert cmd(r, "HEXISTS", "h", "a") == 0
    assert cmd(r, "HLEN", "h") == 2
    assert cmd(r, "HDEL", "h", "b", "c") == 2
    assert cmd(r, "EXISTS", "h") == 0
    assert cmd(r, "HLEN", "h") == 0
    assert cmd(r, "HDEL", "nokey", "a") == 0
    assert err(r, "HDEL", "h") == wrong_args("hdel")


def test_hstrlen(r):
    cmd(r, "HSET", "h", "s", "hello", "n", "12345", "e", "")
    assert cmd(r, "HSTRLEN", "h", "s") == 5
    assert cmd(r, "HSTRLEN", "h", "n") == 5
    assert cmd(r, "HSTRLEN", "h", "e") == 0
    assert cmd(r, "HSTRLEN", "h", "nofield") == 0
    assert cmd(r, "HSTRLEN", "nokey", "f") == 0


def test_hkeys_hvals_hgetall(r):
    cmd(r, "HSET", "h", "a", "1", "b", "2", "c", "3")
    keys = cmd(r, "HKEYS", "h")
    vals = cmd(r, "HVALS", "h")
    flat = cmd(r, "HGETALL", "h")
    assert sorted(keys) == [b"a", b"b", b"c"]
    assert sorted(vals) == [b"1", b"2", b"3"]
    assert len(flat) == 6
    # all three commands iterate in the same order
    assert flat[0::2] == keys
    assert flat[1::2] == vals
    assert hgetall(r, "h") == {b"a": b"1", b"b": b"2", b"c": b"3"}
    assert cmd(r, "HKEYS", "nokey") == []
    assert cmd(r, "HVALS", "nokey") == []
    assert cmd(r, "HGETALL", "nokey") == []


def test_hgetall_resp3_map(r, r3):
    cmd(r, "HSET", "h", "a", "1", "b", "2")
    assert cmd(r3, "HGETALL", "h") == {b"a": b"1", b"b": b"2"}
    assert cmd(r3, "HGETALL", "nokey") == {}


def test_hincrby(r):
    assert cmd(r, "HINCRBY", "h", "n", 5) == 5
    assert cmd(r, "HINCRBY", "h", "n", -10) == -5
    assert cmd(r, "HGET", "h", "n") == b"-5"
    cmd(r, "HSET", "h", "m", "100")
    assert cmd(r, "HINCRBY", "h", "m", 1) == 101
    cmd(r, "HSET", "h", "big", "9223372036854775807", "small", "-9223372036854775808")
    assert err(r, "HINCRBY", "h", "big", 1) == "ERR increment or decrement would overflow"
    assert err(r, "HINCRBY", "h", "small", -1) == "ERR increment or decrement would overflow"
    cmd(r, "HSET", "h", "s", "abc", "f", "1.5", "sp", " 1")
    assert err(r, "HINCRBY", "h", "s", 1) == "ERR hash value is not an integer"
    assert err(r, "HINCRBY", "h", "f", 1) == "ERR hash value is not an integer"
    assert err(r, "HINCRBY", "h", "sp", 1) == "ERR hash value is not an integer"
    assert err(r, "HINCRBY", "h", "n", "x") == NOT_INT
    assert err(r, "HINCRBY", "h", "n", "1.5") == NOT_INT
    assert cmd(r, "HGET", "h", "big") == b"9223372036854775807"


def test_hincrbyfloat(r):
    assert cmd(r, "HINCRBYFLOAT", "h", "f", "1.5") == b"1.5"
    assert cmd(r, "HINCRBYFLOAT", "h", "f", "1e2") == b"101.5"
    assert cmd(r, "HINCRBYFLOAT", "h", "f", "-1.5") == b"100"
    assert cmd(r, "HGET", "h", "f") == b"100"
    cmd(r, "HSET", "h", "i", "3")
    assert cmd(r, "HINCRBYFLOAT", "h", "i", "0.25") == b"3.25"
    cmd(r, "HSET", "h", "s", "abc")
    assert err(r, "HINCRBYFLOAT", "h", "s", "1") == "ERR hash value is not a float"
    assert err(r, "HINCRBYFLOAT", "h", "f", "x") == NOT_FLOAT
    assert err(r, "HINCRBYFLOAT", "h", "f", "nan") == NOT_FLOAT
    assert err(r, "HINCRBYFLOAT", "h", "f", "inf") == "ERR value is NaN or Infinity"
    assert cmd(r, "HGET", "h", "f") == b"100"


def test_hrandfield(r):
    assert cmd(r, "HRANDFIELD", "nokey") is None
    assert cmd(r, "HRANDFIELD", "nokey", 5) == []
    assert cmd(r, "HRANDFIELD", "nokey", -5, "WITHVALUES") == []
    fields = {f"f{i}".encode(): f"v{i}".encode() for i in range(20)}
    cmd(r, "HSET", "h", *[x for kv in fields.items() for x in kv])
    for _ in range(20):
        assert cmd(r, "HRANDFIELD", "h") in fields
    assert cmd(r, "HRANDFIELD", "h", 0) == []
    # positive count: distinct fields, at most the hash size
    got = cmd(r, "HRANDFIELD", "h", 5)
    assert len(got) == 5 and len(set(got)) == 5 and set(got) <= set(fields)
    got = cmd(r, "HRANDFIELD", "h", 100)
    assert sorted(got) == sorted(fields)
    got = cmd(r, "HRANDFIELD", "h", 15, "WITHVALUES")
    assert len(got) == 30
    ps = pairs(got)
    assert len({f for f, _ in ps}) == 15
    assert all(fields[f] == v for f, v in ps)
    # negative count: exactly |count| elements, repetitions allowed
    got = cmd(r, "HRANDFIELD", "h", -100)
    assert len(got) == 100 and set(got) <= set(fields)
    assert max(Counter(got).values()) > 1
    got = cmd(r, "HRANDFIELD", "h", -50, "WITHVALUES")
    assert len(got) == 100
    assert all(fields[f] == v for f, v in pairs(got))


def test_hrandfield_single_field(r):
    cmd(r, "HSET", "h", "only", "v")
    assert cmd(r, "HRANDFIELD", "h", -3) == [b"only"] * 3
    assert cmd(r, "HRANDFIELD", "h", 3, "WITHVALUES") == [b"only", b"v"]


def test_hrandfield_errors(r):
    cmd(r, "HSET", "h", "f", "v")
    assert err(r, "HRANDFIELD", "h", "x") == NOT_INT
    assert err(r, "HRANDFIELD", "h", 1, "FOO") == SYNTAX


def test_hrandfield_resp3_withvalues_pairs(r, r3):
    cmd(r, "HSET", "h", "a", "1", "b", "2")
    got = cmd(r3, "HRANDFIELD", "h", 2, "WITHVALUES")
    assert sorted(got) == [[b"a", b"1"], [b"b", b"2"]]


def test_hscan(r):
    # small (listpack) hash
    cmd(r, "HSET", "small", "a", "1", "b", "2")
    got = scan_all(r, "HSCAN", key="small", count=1)
    assert dict(pairs(got)) == {b"a": b"1", b"b": b"2"}
    # big (hashtable) hash, several COUNT values
    fields = {f"field:{i}".encode(): str(i).encode() for i in range(1000)}
    cmd(r, "HSET", "big", *[x for kv in fields.items() for x in kv])
    for count in (None, 3, 100):
        got = scan_all(r, "HSCAN", key="big", count=count)
        assert dict(pairs(got)) == fields
    got = scan_all(r, "HSCAN", key="big", match="field:99*")
    assert dict(pairs(got)) == {k: v for k, v in fields.items() if k.startswith(b"field:99")}
    # MATCH applies to field names only
    assert scan_all(r, "HSCAN", key="small", match="1") == []
    assert cmd(r, "HSCAN", "nokey", 0) == [b"0", []]


def test_hscan_errors(r):
    cmd(r, "HSET", "h", "a", "1")
    assert err(r, "HSCAN", "h", "x") == "ERR invalid cursor"
    assert err(r, "HSCAN", "h", 0, "COUNT", 0) == SYNTAX
    assert err(r, "HSCAN", "h", 0, "FOO") == SYNTAX


HASH_COMMANDS = [
    ("HSET", "k", "f", "v"), ("HSETNX", "k", "f", "v"), ("HGET", "k", "f"),
    ("HMSET", "k", "f", "v"), ("HMGET", "k", "f"), ("HDEL", "k", "f"), ("HEXISTS", "k", "f"),
    ("HLEN", "k"), ("HSTRLEN", "k", "f"), ("HKEYS", "k"), ("HVALS", "k"), ("HGETALL", "k"),
    ("HINCRBY", "k", "f", 1), ("HINCRBYFLOAT", "k", "f", 1), ("HSCAN", "k", 0),
    ("HRANDFIELD", "k"), ("HRANDFIELD", "k", 2),
]


@pytest.mark.parametrize("args", HASH_COMMANDS, ids=lambda a: " ".join(map(str, a)))
def test_wrongtype(r, args):
    cmd(r, "SET", "k", "v")
    assert err(r, *args) == WRONGTYPE


# --------------------------------------------------------------------------
# Encoding
# --------------------------------------------------------------------------


def test_encoding_entries_threshold(r):
    with config(r, hash_max_listpack_entries=16, hash_max_listpack_value=64):
        cmd(r, "HSET", "h", *[x for i in range(16) for x in (f"f{i}", "v")])
        assert encoding(r, "h") == b"listpack"
        cmd(r, "HSET", "h", "f16", "v")
        assert encoding(r, "h") == b"hashtable"
        # no conversion back
        cmd(r, "HDEL", "h", *[f"f{i}" for i in range(10)])
        assert encoding(r, "h") == b"hashtable"
        assert cmd(r, "HLEN", "h") == 7
        # a single HSET with too many fields converts directly
        cmd(r, "HSET", "h2", *[x for i in range(17) for x in (f"f{i}", "v")])
        assert encoding(r, "h2") == b"hashtable"
        assert cmd(r, "HLEN", "h2") == 17


def test_encoding_value_threshold(r):
    with config(r, hash_max_listpack_entries=128, hash_max_listpack_value=10):
        cmd(r, "HSET", "h", "f", "x" * 10)
        assert encoding(r, "h") == b"listpack"
        cmd(r, "HSET", "h", "g", "x" * 11)
        assert encoding(r, "h") == b"hashtable"
        assert cmd(r, "HGET", "h", "g") == b"x" * 11
        # long field names count too
        cmd(r, "HSET", "h2", "y" * 11, "v")
        assert encoding(r, "h2") == b"hashtable"
        cmd(r, "HSET", "h3", "a", "1")
        assert encoding(r, "h3") == b"listpack"
        cmd(r, "HINCRBYFLOAT", "h3", "a", "0.5")
        assert encoding(r, "h3") == b"listpack"


def test_encoding_conversion_preserves_data(r):
    with config(r, hash_max_listpack_entries=8):
        expected = {}
        for i in range(20):
            f, v = f"f{i}".encode(), f"v{i}".encode()
            cmd(r, "HSET", "h", f, v)
            expected[f] = v
            assert hgetall(r, "h") == expected
        assert encoding(r, "h") == b"hashtable"
        assert cmd(r, "HINCRBY", "h", "cnt", 3) == 3
        assert cmd(r, "HLEN", "h") == 21
