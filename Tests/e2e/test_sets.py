"""End-to-end tests for the set commands.

Expected values / error texts were checked against redis-server 7.0.15.
"""
from collections import Counter

import pytest

from dtype_helpers import *  # noqa: F401,F403


def members(r, key):
    return sorted(cmd(r, "SMEMBERS", key))


def bset(*items):
    return sorted(str(i).encode() for i in items)


def test_sadd_srem_scard(r):
    assert cmd(r, "SADD", "s", "a", "b", "c") == 3
    assert cmd(r, "SADD", "s", "a", "d", "d") == 1
    assert cmd(r, "SCARD", "s") == 4
    assert members(r, "s") == bset("a", "b", "c", "d")
    assert cmd(r, "SREM", "s", "a", "zz", "a") == 1
    assert cmd(r, "SCARD", "s") == 3
    assert cmd(r, "SREM", "s", "b", "c", "d") == 3
    assert cmd(r, "EXISTS", "s") == 0
    assert cmd(r, "SCARD", "s") == 0
    assert cmd(r, "SREM", "nokey", "a") == 0
    assert cmd(r, "SMEMBERS", "nokey") == []
    assert cmd(r, "TYPE", "s") == b"none"
    cmd(r, "SADD", "s", "")
    assert cmd(r, "TYPE", "s") == b"set"
    assert err(r, "SADD", "s") == wrong_args("sadd")


def test_sismember_smismember(r):
    cmd(r, "SADD", "s", "a", "1")
    assert cmd(r, "SISMEMBER", "s", "a") == 1
    assert cmd(r, "SISMEMBER", "s", "1") == 1
    assert cmd(r, "SISMEMBER", "s", "b") == 0
    assert cmd(r, "SISMEMBER", "nokey", "a") == 0
    assert cmd(r, "SMISMEMBER", "s", "a", "b", "1", "a") == [1, 0, 1, 1]
    assert cmd(r, "SMISMEMBER", "nokey", "a", "b") == [0, 0]
    assert err(r, "SMISMEMBER", "s") == wrong_args("smismember")


def test_spop(r):
    cmd(r, "SADD", "s", *range(10))
    popped = cmd(r, "SPOP", "s")
    assert popped in bset(*range(10))
    assert cmd(r, "SCARD", "s") == 9
    assert cmd(r, "SISMEMBER", "s", popped) == 0
    got = cmd(r, "SPOP", "s", 4)
    assert len(got) == 4 and len(set(got)) == 4 and popped not in got
    assert cmd(r, "SCARD", "s") == 5
    rest = cmd(r, "SPOP", "s", 100)
    assert sorted(got + rest + [popped]) == bset(*range(10))
    assert cmd(r, "EXISTS", "s") == 0
    assert cmd(r, "SPOP", "nokey") is None
    assert cmd(r, "SPOP", "nokey", 3) == []
    cmd(r, "SADD", "s", "a")
    assert cmd(r, "SPOP", "s", 0) == []
    assert cmd(r, "SCARD", "s") == 1
    assert err(r, "SPOP", "s", -1) == "ERR value is out of range, must be positive"
    assert err(r, "SPOP", "s", "x") == "ERR value is out of range, must be positive"


def test_spop_large_count(r):
    # exercises the "pop most of the set" path as well
    cmd(r, "SADD", "s", *[f"m{i}" for i in range(500)])
    got = cmd(r, "SPOP", "s", 450)
    assert len(set(got)) == 450
    rest = cmd(r, "SMEMBERS", "s")
    assert len(rest) == 50
    assert set(got) | set(rest) == {f"m{i}".encode() for i in range(500)}


def test_srandmember(r):
    assert cmd(r, "SRANDMEMBER", "nokey") is None
    assert cmd(r, "SRANDMEMBER", "nokey", 3) == []
    cmd(r, "SADD", "s", *range(20))
    all_m = set(bset(*range(20)))
    for _ in range(10):
        assert cmd(r, "SRANDMEMBER", "s") in all_m
    assert cmd(r, "SRANDMEMBER", "s", 0) == []
    got = cmd(r, "SRANDMEMBER", "s", 5)
    assert len(got) == 5 and len(set(got)) == 5 and set(got) <= all_m
    assert sorted(cmd(r, "SRANDMEMBER", "s", 100)) == sorted(all_m)
    got = cmd(r, "SRANDMEMBER", "s", -100)
    assert len(got) == 100 and set(got) <= all_m
    assert max(Counter(got).values()) > 1
    # SRANDMEMBER does not remove anything
    assert cmd(r, "SCARD", "s") == 20
    cmd(r, "SADD", "one", "x")
    assert cmd(r, "SRANDMEMBER", "one", -3) == [b"x", b"x", b"x"]
    assert err(r, "SRANDMEMBER", "s", "x") == NOT_INT


def test_smove(r):
    cmd(r, "SADD", "src", "a", "b")
    cmd(r, "SADD", "dst", "b", "c")
    assert cmd(r, "SMOVE", "src", "dst", "a") == 1
    assert members(r, "src") == [b"b"]
    assert members(r, "dst") == bset("a", "b", "c")
    assert cmd(r, "SMOVE", "src", "dst", "b") == 1
    assert cmd(r, "EXISTS", "src") == 0
    assert members(r, "dst") == bset("a", "b", "c")
    assert cmd(r, "SMOVE", "dst", "src", "zz") == 0
    assert cmd(r, "SMOVE", "nokey", "dst", "a") == 0
    assert cmd(r, "SMOVE", "dst", "new", "c") == 1
    assert members(r, "new") == [b"c"]
    assert cmd(r, "SMOVE", "dst", "dst", "a") == 1
    assert members(r, "dst") == bset("a", "b")
    cmd(r, "SET", "str", "x")
    assert err(r, "SMOVE", "dst", "str", "a") == WRONGTYPE
    assert err(r, "SMOVE", "str", "dst", "a") == WRONGTYPE
    assert members(r, "dst") == bset("a", "b")


@pytest.fixture
def three_sets(r):
    cmd(r, "SADD", "s1", "a", "b", "c", "d", 1, 2)
    cmd(r, "SADD", "s2", "b", "c", "e", 2, 3)
    cmd(r, "SADD", "s3", "c", "d", "e", 2, 4)


def test_sinter(r, three_sets):
    assert sorted(cmd(r, "SINTER", "s1", "s2")) == bset(2, "b", "c")
    assert sorted(cmd(r, "SINTER", "s1", "s2", "s3")) == bset(2, "c")
    assert sorted(cmd(r, "SINTER", "s1")) == bset(1, 2, "a", "b", "c", "d")
    assert cmd(r, "SINTER", "s1", "nokey") == []
    assert cmd(r, "SINTER", "nokey", "s1") == []


def test_sunion(r, three_sets):
    assert sorted(cmd(r, "SUNION", "s1", "s2")) == bset(1, 2, 3, "a", "b", "c", "d", "e")
    assert sorted(cmd(r, "SUNION", "s1", "s2", "s3", "nokey")) == \
        bset(1, 2, 3, 4, "a", "b", "c", "d", "e")
    assert cmd(r, "SUNION", "nokey") == []


def test_sdiff(r, three_sets):
    assert sorted(cmd(r, "SDIFF", "s1", "s2")) == bset(1, "a", "d")
    assert sorted(cmd(r, "SDIFF", "s1", "s2", "s3")) == bset(1, "a")
    assert sorted(cmd(r, "SDIFF", "s1", "nokey")) == bset(1, 2, "a", "b", "c", "d")
    assert cmd(r, "SDIFF", "nokey", "s1") == []
    assert cmd(r, "SDIFF", "s1", "s1") == []


def test_store_variants(r, three_sets):
    assert cmd(r, "SINTERSTORE", "d", "s1", "s2") == 3
    assert members(r, "d") == bset(2, "b", "c")
    assert cmd(r, "SUNIONSTORE", "d", "s1", "s2") == 8
    assert members(r, "d") == bset(1, 2, 3, "a", "b", "c", "d", "e")
    assert cmd(r, "SDIFFSTORE", "d", "s1", "s2", "s3") == 2
    assert members(r, "d") == bset(1, "a")
    # the destination may be one of the sources
    assert cmd(r, "SINTERSTORE", "s1", "s1", "s3") == 3
    assert members(r, "s1") == bset(2, "c", "d")
    # an empty result deletes the destination
    assert cmd(r, "SINTERSTORE", "d", "s1", "nokey") == 0
    assert cmd(r, "EXISTS", "d") == 0
    cmd(r, "SET", "d", "x")
    assert cmd(r, "SDIFFSTORE", "d", "s2", "s2") == 0
    assert cmd(r, "EXISTS", "d") == 0
    # destination of another type is overwritten
    cmd(r, "SET", "d", "x")
    assert cmd(r, "SUNIONSTORE", "d", "s2") == 5
    assert cmd(r, "TYPE", "d") == b"set"


def test_sintercard(r, three_sets):
    assert cmd(r, "SINTERCARD", 2, "s1", "s2") == 3
    assert cmd(r, "SINTERCARD", 3, "s1", "s2", "s3") == 2
    assert cmd(r, "SINTERCARD", 2, "s1", "s2", "LIMIT", 2) == 2
    assert cmd(r, "SINTERCARD", 2, "s1", "s2", "LIMIT", 0) == 3
    assert cmd(r, "SINTERCARD", 2, "s1", "s2", "LIMIT", 10) == 3
    assert cmd(r, "SINTERCARD", 1, "s1") == 6
    assert cmd(r, "SINTERCARD", 2, "s1", "nokey") == 0


def test_sintercard_errors(r, three_sets):
    assert err(r, "SINTERCARD", 0, "s1") == "ERR numkeys should be greater than 0"
    assert err(r, "SINTERCARD", "x", "s1") == "ERR numkeys should be greater than 0"
    assert err(r, "SINTERCARD", 3, "s1", "s2") == \
        "ERR Number of keys can't be greater than number of args"
    assert err(r, "SINTERCARD", 1, "s1", "LIMIT", -1) == "ERR LIMIT can't be negative"
    assert err(r, "SINTERCARD", 1, "s1", "FOO") == SYNTAX


def test_set_ops_wrongtype(r, three_sets):
    cmd(r, "SET", "str", "x")
    for c in ("SINTER", "SUNION", "SDIFF"):
        assert err(r, c, "s1", "str") == WRONGTYPE
        assert err(r, c + "STORE", "d", "s1", "str") == WRONGTYPE
    assert err(r, "SINTERCARD", 2, "s1", "str") == WRONGTYPE
    assert cmd(r, "EXISTS", "d") == 0


SET_COMMANDS = [
    ("SADD", "k", "a"), ("SREM", "k", "a"), ("SCARD", "k"), ("SISMEMBER", "k", "a"),
    ("SMISMEMBER", "k", "a"), ("SMEMBERS", "k"), ("SPOP", "k"), ("SPOP", "k", 2),
    ("SRANDMEMBER", "k"), ("SRANDMEMBER", "k", -2), ("SSCAN", "k", 0),
]


@pytest.mark.parametrize("args", SET_COMMANDS, ids=lambda a: " ".join(map(str, a)))
def test_wrongtype(r, args):
    cmd(r, "SET", "k", "v")
    assert err(r, *args) == WRONGTYPE


def test_sscan(r):
    cmd(r, "SADD", "small", 1, 2, 3)
    assert sorted(scan_all(r, "SSCAN", key="small", count=1)) == bset(1, 2, 3)
    all_m = {f"member:{i}".encode() for i in range(1000)}
    cmd(r, "SADD", "big", *all_m)
    for count in (None, 5, 500):
        got = scan_all(r, "SSCAN", key="big", count=count)
        assert set(got) == all_m
    got = scan_all(r, "SSCAN", key="big", match="member:1?")
    assert sorted(got) == sorted(f"member:1{i}".encode() for i in range(10))
    assert cmd(r, "SSCAN", "nokey", 0) == [b"0", []]
    assert err(r, "SSCAN", "big", "x") == "ERR invalid cursor"


# --------------------------------------------------------------------------
# Encoding
# --------------------------------------------------------------------------


def test_encoding_intset_to_hashtable_by_type(r):
    cmd(r, "SADD", "s", 1, 2, 3, -100, "9223372036854775807", "-9223372036854775808")
    assert encoding(r, "s") == b"intset"
    cmd(r, "SADD", "s", "9223372036854775808")
    assert encoding(r, "s") == b"hashtable"
    cmd(r, "SADD", "t", 1, 2)
    cmd(r, "SADD", "t", "a")
    assert encoding(r, "t") == b"hashtable"
    # removing the non-integer does not convert back
    cmd(r, "SREM", "t", "a")
    assert encoding(r, "t") == b"hashtable"
    assert members(r, "t") == bset(1, 2)
    # "01" is not a canonical integer
    cmd(r, "SADD", "u", "01")
    assert encoding(r, "u") == b"hashtable"
    cmd(r, "SADD", "v", "a")
    assert encoding(r, "v") == b"hashtable"


def test_encoding_intset_entries_threshold(r):
    with config(r, set_max_intset_entries=16):
        cmd(r, "SADD", "s", *range(16))
        assert encoding(r, "s") == b"intset"
        cmd(r, "SADD", "s", 16)
        assert encoding(r, "s") == b"hashtable"
        assert members(r, "s") == bset(*range(17))
        cmd(r, "SADD", "s2", *range(17))
        assert encoding(r, "s2") == b"hashtable"
        # store commands produce the right encoding as well
        cmd(r, "SADD", "small", 1, 2, 3)
        cmd(r, "SUNIONSTORE", "dst", "small")
        assert encoding(r, "dst") == b"intset"


def test_intset_operations_match_model(r):
    import random
    rnd = random.Random(42)
    model = set()
    for _ in range(300):
        n = rnd.randrange(-1000, 1000)
        if rnd.random() < 0.7:
            assert cmd(r, "SADD", "s", n) == (0 if n in model else 1)
            model.add(n)
        else:
            assert cmd(r, "SREM", "s", n) == (1 if n in model else 0)
            model.discard(n)
    assert cmd(r, "SCARD", "s") == len(model)
    assert sorted(int(x) for x in cmd(r, "SMEMBERS", "s")) == sorted(model)
    assert encoding(r, "s") == b"intset"
