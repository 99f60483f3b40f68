"""End-to-end tests for the list commands.

Expected values / error texts were checked against redis-server 7.0.15.
"""
import random

import pytest

from dtype_helpers import *  # noqa: F401,F403


def lrange(r, key):
    return cmd(r, "LRANGE", key, 0, -1)


def test_push_and_range(r):
    assert cmd(r, "RPUSH", "l", "a", "b") == 2
    assert cmd(r, "LPUSH", "l", "x", "y") == 4
    assert lrange(r, "l") == [b"y", b"x", b"a", b"b"]
    assert cmd(r, "LLEN", "l") == 4
    assert cmd(r, "RPUSH", "l", "") == 5
    assert cmd(r, "RPUSH", "l", b"\x00\xff") == 6
    assert lrange(r, "l") == [b"y", b"x", b"a", b"b", b"", b"\x00\xff"]
    assert cmd(r, "TYPE", "l") == b"list"
    assert cmd(r, "LLEN", "nokey") == 0
    assert err(r, "RPUSH", "l") == wrong_args("rpush")
    assert err(r, "LPUSH", "l") == wrong_args("lpush")


def test_pushx(r):
    assert cmd(r, "LPUSHX", "nokey", "a") == 0
    assert cmd(r, "RPUSHX", "nokey", "a", "b") == 0
    assert cmd(r, "EXISTS", "nokey") == 0
    cmd(r, "RPUSH", "l", "m")
    assert cmd(r, "LPUSHX", "l", "a", "b") == 3
    assert cmd(r, "RPUSHX", "l", "y", "z") == 5
    assert lrange(r, "l") == [b"b", b"a", b"m", b"y", b"z"]


def test_pop(r):
    cmd(r, "RPUSH", "l", "a", "b", "c", "d", "e")
    assert cmd(r, "LPOP", "l") == b"a"
    assert cmd(r, "RPOP", "l") == b"e"
    assert cmd(r, "LPOP", "l", 2) == [b"b", b"c"]
    assert cmd(r, "RPOP", "l", 1) == [b"d"]
    assert cmd(r, "EXISTS", "l") == 0
    assert cmd(r, "LPOP", "l") is None
    assert cmd(r, "RPOP", "l") is None
    assert cmd(r, "LPOP", "nokey", 2) is None


def test_pop_count(r):
    cmd(r, "RPUSH", "l", "a", "b", "c")
    assert cmd(r, "LPOP", "l", 0) == []
    assert cmd(r, "RPOP", "l", 2) == [b"c", b"b"]
    assert cmd(r, "LPOP", "l", 10) == [b"a"]
    assert cmd(r, "EXISTS", "l") == 0
    cmd(r, "RPUSH", "l", "a", "b", "c")
    assert cmd(r, "RPOP", "l", 100) == [b"c", b"b", b"a"]
    assert cmd(r, "EXISTS", "l") == 0
    assert err(r, "LPOP", "l", -1) == "ERR value is out of range, must be positive"
    assert err(r, "RPOP", "l", "x") == "ERR value is out of range, must be positive"
    assert err(r, "LPOP", "l", 1, 2) == wrong_args("lpop")


def test_lrange_indexes(r):
    cmd(r, "RPUSH", "l", *"abcdefg")
    assert cmd(r, "LRANGE", "l", 0, 2) == [b"a", b"b", b"c"]
    assert cmd(r, "LRANGE", "l", -3, -1) == [b"e", b"f", b"g"]
    assert cmd(r, "LRANGE", "l", -100, 1) == [b"a", b"b"]
    assert cmd(r, "LRANGE", "l", 5, 100) == [b"f", b"g"]
    assert cmd(r, "LRANGE", "l", 3, 2) == []
    assert cmd(r, "LRANGE", "l", 7, 10) == []
    assert cmd(r, "LRANGE", "l", -1, -2) == []
    assert cmd(r, "LRANGE", "l", 0, -100) == []
    assert cmd(r, "LRANGE", "l", 2, -3) == [b"c", b"d", b"e"]
    assert cmd(r, "LRANGE", "nokey", 0, -1) == []
    assert err(r, "LRANGE", "l", "x", 1) == NOT_INT


def test_lindex(r):
    cmd(r, "RPUSH", "l", "a", "b", "c")
    assert cmd(r, "LINDEX", "l", 0) == b"a"
    assert cmd(r, "LINDEX", "l", 2) == b"c"
    assert cmd(r, "LINDEX", "l", -1) == b"c"
    assert cmd(r, "LINDEX", "l", -3) == b"a"
    assert cmd(r, "LINDEX", "l", 3) is None
    assert cmd(r, "LINDEX", "l", -4) is None
    assert cmd(r, "LINDEX", "nokey", 0) is None
    assert err(r, "LINDEX", "l", "x") == NOT_INT


def test_lset(r):
    cmd(r, "RPUSH", "l", "a", "b", "c")
    assert cmd(r, "LSET", "l", 0, "A") == b"OK"
    assert cmd(r, "LSET", "l", -1, "C") == b"OK"
    assert cmd(r, "LSET", "l", 1, "x" * 1000) == b"OK"
    assert lrange(r, "l") == [b"A", b"x" * 1000, b"C"]
    assert err(r, "LSET", "nokey", 0, "x") == "ERR no such key"
    assert err(r, "LSET", "l", 3, "x") == "ERR index out of range"
    assert err(r, "LSET", "l", -4, "x") == "ERR index out of range"
    assert err(r, "LSET", "l", "x", "x") == NOT_INT
    assert cmd(r, "EXISTS", "nokey") == 0


def test_linsert(r):
    cmd(r, "RPUSH", "l", "a", "b", "c", "b")
    assert cmd(r, "LINSERT", "l", "BEFORE", "b", "X") == 5
    assert lrange(r, "l") == [b"a", b"X", b"b", b"c", b"b"]
    assert cmd(r, "LINSERT", "l", "after", "b", "Y") == 6
    assert lrange(r, "l") == [b"a", b"X", b"b", b"Y", b"c", b"b"]
    assert cmd(r, "LINSERT", "l", "AFTER", "b", "b") == 7
    assert cmd(r, "LINSERT", "l", "BEFORE", "a", "first") == 8
    assert lrange(r, "l") == [b"first", b"a", b"X", b"b", b"b", b"Y", b"c", b"b"]
    assert cmd(r, "LINSERT", "l", "BEFORE", "zz", "x") == -1
    assert cmd(r, "LINSERT", "nokey", "BEFORE", "a", "x") == 0
    assert cmd(r, "EXISTS", "nokey") == 0
    assert err(r, "LINSERT", "l", "MIDDLE", "a", "x") == SYNTAX
    assert cmd(r, "LLEN", "l") == 8


def test_lrem(r):
    cmd(r, "RPUSH", "l", "a", "b", "a", "c", "a", "b", "a")
    assert cmd(r, "LREM", "l", 2, "a") == 2
    assert lrange(r, "l") == [b"b", b"c", b"a", b"b", b"a"]
    assert cmd(r, "LREM", "l", -1, "b") == 1
    assert lrange(r, "l") == [b"b", b"c", b"a", b"a"]
    assert cmd(r, "LREM", "l", 0, "a") == 2
    assert lrange(r, "l") == [b"b", b"c"]
    assert cmd(r, "LREM", "l", 0, "zz") == 0
    assert cmd(r, "LREM", "l", -10, "b") == 1
    assert cmd(r, "LREM", "l", 1, "c") == 1
    assert cmd(r, "EXISTS", "l") == 0
    assert cmd(r, "LREM", "nokey", 0, "a") == 0
    assert err(r, "LREM", "l", "x", "a") == NOT_INT


def test_ltrim(r):
    cmd(r, "RPUSH", "l", *"abcdefg")
    assert cmd(r, "LTRIM", "l", 1, -2) == b"OK"
    assert lrange(r, "l") == [b"b", b"c", b"d", b"e", b"f"]
    assert cmd(r, "LTRIM", "l", -3, 100) == b"OK"
    assert lrange(r, "l") == [b"d", b"e", b"f"]
    assert cmd(r, "LTRIM", "l", 0, 0) == b"OK"
    assert lrange(r, "l") == [b"d"]
    # empty range removes the key
    assert cmd(r, "LTRIM", "l", 5, 10) == b"OK"
    assert cmd(r, "EXISTS", "l") == 0
    cmd(r, "RPUSH", "l", "a", "b")
    assert cmd(r, "LTRIM", "l", 1, 0) == b"OK"
    assert cmd(r, "EXISTS", "l") == 0
    assert cmd(r, "LTRIM", "nokey", 0, 1) == b"OK"
    assert err(r, "LTRIM", "l", 0) == wrong_args("ltrim")


def test_lpos(r):
    cmd(r, "RPUSH", "l", "a", "b", "c", "a", "b", "c", "a")
    assert cmd(r, "LPOS", "l", "a") == 0
    assert cmd(r, "LPOS", "l", "c") == 2
    assert cmd(r, "LPOS", "l", "z") is None
    assert cmd(r, "LPOS", "l", "a", "RANK", 2) == 3
    assert cmd(r, "LPOS", "l", "a", "RANK", 3) == 6
    assert cmd(r, "LPOS", "l", "a", "RANK", 4) is None
    assert cmd(r, "LPOS", "l", "a", "RANK", -1) == 6
    assert cmd(r, "LPOS", "l", "a", "RANK", -3) == 0
    assert cmd(r, "LPOS", "l", "a", "COUNT", 0) == [0, 3, 6]
    assert cmd(r, "LPOS", "l", "a", "COUNT", 2) == [0, 3]
    assert cmd(r, "LPOS", "l", "z", "COUNT", 0) == []
    assert cmd(r, "LPOS", "l", "a", "RANK", -2, "COUNT", 2) == [3, 0]
    assert cmd(r, "LPOS", "l", "a", "RANK", 2, "COUNT", 0) == [3, 6]
    assert cmd(r, "LPOS", "l", "a", "COUNT", 0, "MAXLEN", 4) == [0, 3]
    assert cmd(r, "LPOS", "l", "c", "MAXLEN", 2) is None
    assert cmd(r, "LPOS", "l", "c", "MAXLEN", 3) == 2
    assert cmd(r, "LPOS", "l", "c", "RANK", -1, "MAXLEN", 2) == 5
    assert cmd(r, "LPOS", "l", "a", "MAXLEN", 0) == 0
    assert cmd(r, "LPOS", "nokey", "a") is None
    assert cmd(r, "LPOS", "nokey", "a", "COUNT", 0) == []


def test_lpos_errors(r):
    cmd(r, "RPUSH", "l", "a")
    assert err(r, "LPOS", "l", "a", "RANK", 0) == (
        "ERR RANK can't be zero: use 1 to start from the first match, 2 from the "
        "second ... or use negative to start from the end of the list")
    assert err(r, "LPOS", "l", "a", "COUNT", -1) == "ERR COUNT can't be negative"
    assert err(r, "LPOS", "l", "a", "MAXLEN", -1) == "ERR MAXLEN can't be negative"
    assert err(r, "LPOS", "l", "a", "FOO") == SYNTAX
    assert err(r, "LPOS", "l", "a", "RANK") == SYNTAX
    assert err(r, "LPOS", "l", "a", "RANK", "x") == NOT_INT


def test_lmove(r):
    cmd(r, "RPUSH", "src", "a", "b", "c", "d")
    assert cmd(r, "LMOVE", "src", "dst", "LEFT", "RIGHT") == b"a"
    assert cmd(r, "LMOVE", "src", "dst", "RIGHT", "LEFT") == b"d"
    assert cmd(r, "LMOVE", "src", "dst", "LEFT", "LEFT") == b"b"
    assert cmd(r, "LMOVE", "src", "dst", "right", "right") == b"c"
    assert cmd(r, "EXISTS", "src") == 0
    assert lrange(r, "dst") == [b"b", b"d", b"a", b"c"]
    assert cmd(r, "LMOVE", "nokey", "dst", "LEFT", "LEFT") is None
    assert cmd(r, "EXISTS", "nokey") == 0
    # same list: rotation
    assert cmd(r, "LMOVE", "dst", "dst", "LEFT", "RIGHT") == b"b"
    assert lrange(r, "dst") == [b"d", b"a", b"c", b"b"]
    assert cmd(r, "LMOVE", "dst", "dst", "RIGHT", "LEFT") == b"b"
    assert lrange(r, "dst") == [b"b", b"d", b"a", b"c"]
    assert err(r, "LMOVE", "dst", "x", "LEFT", "MIDDLE") == SYNTAX
    # destination of the wrong type: error and nothing is popped
    cmd(r, "SET", "str", "x")
    assert err(r, "LMOVE", "dst", "str", "LEFT", "LEFT") == WRONGTYPE
    assert cmd(r, "LLEN", "dst") == 4


def test_rpoplpush(r):
    cmd(r, "RPUSH", "src", "a", "b", "c")
    assert cmd(r, "RPOPLPUSH", "src", "dst") == b"c"
    assert cmd(r, "RPOPLPUSH", "src", "dst") == b"b"
    assert lrange(r, "src") == [b"a"]
    assert lrange(r, "dst") == [b"b", b"c"]
    assert cmd(r, "RPOPLPUSH", "src", "src") == b"a"
    assert cmd(r, "RPOPLPUSH", "dst", "dst") == b"c"
    assert lrange(r, "dst") == [b"c", b"b"]
    assert cmd(r, "RPOPLPUSH", "nokey", "dst") is None
    cmd(r, "SET", "str", "x")
    assert err(r, "RPOPLPUSH", "str", "dst") == WRONGTYPE
    assert err(r, "RPOPLPUSH", "dst", "str") == WRONGTYPE


def test_lmpop(r):
    cmd(r, "RPUSH", "l1", "a", "b", "c")
    cmd(r, "RPUSH", "l2", "x", "y")
    assert cmd(r, "LMPOP", 2, "nokey", "l1", "LEFT") == [b"l1", [b"a"]]
    assert cmd(r, "LMPOP", 2, "l1", "l2", "RIGHT", "COUNT", 5) == [b"l1", [b"c", b"b"]]
    assert cmd(r, "EXISTS", "l1") == 0
    assert cmd(r, "LMPOP", 2, "l1", "l2", "left", "count", 1) == [b"l2", [b"x"]]
    assert cmd(r, "LMPOP", 1, "nokey", "LEFT") is None
    assert cmd(r, "LMPOP", 3, "a", "b", "c", "RIGHT") is None


def test_lmpop_errors(r):
    cmd(r, "RPUSH", "l", "a")
    assert err(r, "LMPOP", 0, "l", "LEFT") == "ERR numkeys should be greater than 0"
    assert err(r, "LMPOP", "x", "l", "LEFT") == "ERR numkeys should be greater than 0"
    assert err(r, "LMPOP", 1, "l", "MIDDLE") == SYNTAX
    assert err(r, "LMPOP", 3, "l", "LEFT") == SYNTAX
    assert err(r, "LMPOP", 1, "l", "LEFT", "COUNT", 0) == "ERR count should be greater than 0"
    assert err(r, "LMPOP", 1, "l", "LEFT", "COUNT", -1) == "ERR count should be greater than 0"
    assert err(r, "LMPOP", 1, "l", "LEFT", "FOO") == SYNTAX
    cmd(r, "SET", "s", "x")
    assert err(r, "LMPOP", 2, "s", "l", "LEFT") == WRONGTYPE
    assert lrange(r, "l") == [b"a"]


LIST_COMMANDS_ON_STRING = [
    ("LPUSH", "k", "a"), ("RPUSH", "k", "a"), ("LPUSHX", "k", "a"), ("RPUSHX", "k", "a"),
    ("LPOP", "k"), ("RPOP", "k"), ("LPOP", "k", 2), ("LLEN", "k"), ("LRANGE", "k", 0, -1),
    ("LINDEX", "k", 0), ("LSET", "k", 0, "a"), ("LINSERT", "k", "BEFORE", "a", "b"),
    ("LREM", "k", 0, "a"), ("LTRIM", "k", 0, 1), ("LPOS", "k", "a"),
    ("LMOVE", "k", "d", "LEFT", "LEFT"), ("RPOPLPUSH", "k", "d"), ("LMPOP", 1, "k", "LEFT"),
]


@pytest.mark.parametrize("args", LIST_COMMANDS_ON_STRING, ids=lambda a: " ".join(map(str, a)))
def test_wrongtype(r, args):
    cmd(r, "SET", "k", "v")
    assert err(r, *args) == WRONGTYPE
    assert cmd(r, "GET", "k") == b"v"


def test_list_commands_reject_lists_for_strings(r):
    cmd(r, "RPUSH", "l", "a")
    assert err(r, "GET", "l") == WRONGTYPE
    assert err(r, "SADD", "l", "a") == WRONGTYPE
    assert err(r, "HSET", "l", "f", "v") == WRONGTYPE
    assert err(r, "ZADD", "l", 1, "a") == WRONGTYPE


def test_object_encoding_quicklist(r):
    cmd(r, "RPUSH", "small", "a")
    assert encoding(r, "small") == b"quicklist"
    cmd(r, "RPUSH", "big", *[f"element-{i}" for i in range(2000)])
    assert encoding(r, "big") == b"quicklist"
    cmd(r, "RPUSH", "bigval", "x" * 10000)
    assert encoding(r, "bigval") == b"quicklist"


def test_large_list_against_model(r):
    rnd = random.Random(1234)
    model = []
    for i in range(1500):
        v = f"v{rnd.randrange(100)}".encode()
        if rnd.random() < 0.5:
            cmd(r, "RPUSH", "l", v)
            model.append(v)
        else:
            cmd(r, "LPUSH", "l", v)
            model.insert(0, v)
    n = len(model)
    assert cmd(r, "LLEN", "l") == n
    assert lrange(r, "l") == model
    for _ in range(100):
        i = rnd.randrange(-n - 5, n + 5)
        expected = model[i] if -n <= i < n else None
        assert cmd(r, "LINDEX", "l", i) == expected
    for _ in range(50):
        a = rnd.randrange(-n - 5, n + 5)
        b = rnd.randrange(-n - 5, n + 5)
        sa = max(a + n if a < 0 else a, 0)
        sb = b + n if b < 0 else b
        expected = model[sa:sb + 1] if sb >= 0 else []
        assert cmd(r, "LRANGE", "l", a, b) == expected, (a, b)
    for _ in range(20):
        i = rnd.randrange(n)
        v = f"set{i}".encode()
        cmd(r, "LSET", "l", i, v)
        model[i] = v
    assert cmd(r, "LREM", "l", 0, "v7") == model.count(b"v7")
    model = [x for x in model if x != b"v7"]
    assert cmd(r, "LPOS", "l", "v8", "COUNT", 0) == [i for i, x in enumerate(model) if x == b"v8"]
    cmd(r, "LTRIM", "l", 100, -100)
    model = model[100:len(model) - 99]
    assert lrange(r, "l") == model
    assert cmd(r, "LPOP", "l", 50) == model[:50]
    assert cmd(r, "RPOP", "l", 50) == model[::-1][:50]
    model = model[50:-50]
    assert lrange(r, "l") == model
