"""End-to-end tests for the string commands.

Every expected value / error text here was checked against redis-server 7.0.15
(TESSERA_SERVER=/usr/bin/redis-server .venv/bin/python -m pytest Tests/e2e/test_strings.py).
"""
import os
import time

import pytest
import redis

from dtype_helpers import *  # noqa: F401,F403


# --------------------------------------------------------------------------
# GET / SET and options
# --------------------------------------------------------------------------


def test_get_set_basic(r):
    assert cmd(r, "GET", "k") is None
    assert cmd(r, "SET", "k", "v") == b"OK"
    assert cmd(r, "GET", "k") == b"v"
    assert cmd(r, "SET", "k", "v2") == b"OK"
    assert cmd(r, "GET", "k") == b"v2"
    # binary safe, empty values
    assert cmd(r, "SET", b"bin\x00key", b"\x00\xff\r\n") == b"OK"
    assert cmd(r, "GET", b"bin\x00key") == b"\x00\xff\r\n"
    assert cmd(r, "SET", "empty", "") == b"OK"
    assert cmd(r, "GET", "empty") == b""
    assert cmd(r, "EXISTS", "empty") == 1


def test_set_large_value(r):
    big = os.urandom(200_000)
    assert cmd(r, "SET", "big", big) == b"OK"
    assert cmd(r, "GET", "big") == big
    assert cmd(r, "STRLEN", "big") == 200_000


def test_set_overwrites_other_types(r):
    cmd(r, "RPUSH", "l", "a")
    assert cmd(r, "SET", "l", "v") == b"OK"
    assert cmd(r, "TYPE", "l") == b"string"
    assert cmd(r, "GET", "l") == b"v"


def test_get_wrongtype(r):
    cmd(r, "RPUSH", "l", "a")
    assert err(r, "GET", "l") == WRONGTYPE


def test_set_nx_xx(r):
    assert cmd(r, "SET", "k", "1", "XX") is None
    assert cmd(r, "EXISTS", "k") == 0
    assert cmd(r, "SET", "k", "1", "NX") == b"OK"
    assert cmd(r, "SET", "k", "2", "NX") is None
    assert cmd(r, "GET", "k") == b"1"
    assert cmd(r, "SET", "k", "3", "XX") == b"OK"
    assert cmd(r, "GET", "k") == b"3"
    # options are case-insensitive
    assert cmd(r, "set", "k", "4", "xx") == b"OK"
    assert cmd(r, "GET", "k") == b"4"


def test_set_ex_px(r):
    assert cmd(r, "SET", "k", "v", "EX", 100) == b"OK"
    assert 95 <= cmd(r, "TTL", "k") <= 100
    assert cmd(r, "SET", "k", "v", "PX", 100000) == b"OK"
    assert 95000 <= cmd(r, "PTTL", "k") <= 100000
    # a plain SET clears the TTL
    assert cmd(r, "SET", "k", "v") == b"OK"
    assert cmd(r, "TTL", "k") == -1


def test_set_exat_pxat(r):
    now = int(time.time())
    assert cmd(r, "SET", "k", "v", "EXAT", now + 100) == b"OK"
    assert 95 <= cmd(r, "TTL", "k") <= 100
    assert cmd(r, "EXPIRETIME", "k") == now + 100
    assert cmd(r, "SET", "k", "v", "PXAT", (now + 200) * 1000 + 123) == b"OK"
    assert cmd(r, "PEXPIRETIME", "k") == (now + 200) * 1000 + 123
    # a PXAT in the past makes the key disappear
    assert cmd(r, "SET", "gone", "v", "PXAT", 1) == b"OK"
    assert cmd(r, "GET", "gone") is None
    assert cmd(r, "EXISTS", "gone") == 0


def test_set_px_short_expiry(r):
    assert cmd(r, "SET", "k", "v", "PX", 50) == b"OK"
    assert cmd(r, "GET", "k") == b"v"
    deadline = time.time() + 3
    while cmd(r, "GET", "k") is not None and time.time() < deadline:
        time.sleep(0.02)
    assert cmd(r, "GET", "k") is None


def test_set_keepttl(r):
    cmd(r, "SET", "k", "v", "EX", 100)
    assert cmd(r, "SET", "k", "v2", "KEEPTTL") == b"OK"
    assert cmd(r, "GET", "k") == b"v2"
    assert 95 <= cmd(r, "TTL", "k") <= 100
    assert cmd(r, "SET", "k", "v3") == b"OK"
    assert cmd(r, "TTL", "k") == -1
    # KEEPTTL on a missing key just sets it without a TTL
    assert cmd(r, "SET", "n", "v", "KEEPTTL") == b"OK"
    assert cmd(r, "TTL", "n") == -1


def test_set_get_option(r):
    assert cmd(r, "SET", "k", "v1", "GET") is None
    assert cmd(r, "GET", "k") == b"v1"
    assert cmd(r, "SET", "k", "v2", "GET") == b"v1"
    assert cmd(r, "GET", "k") == b"v2"
    # GET combined with NX / XX (allowed since 7.0)
    assert cmd(r, "SET", "k", "v3", "NX", "GET") == b"v2"
    assert cmd(r, "GET", "k") == b"v2"
    assert cmd(r, "SET", "k", "v4", "XX", "GET") == b"v2"
    assert cmd(r, "GET", "k") == b"v4"
    assert cmd(r, "SET", "missing", "x", "XX", "GET") is None
    assert cmd(r, "EXISTS", "missing") == 0
    # with expiry
    assert cmd(r, "SET", "k", "v5", "GET", "EX", 100) == b"v4"
    assert 95 <= cmd(r, "TTL", "k") <= 100
    # GET against a non-string: error and the key is left alone
    cmd(r, "RPUSH", "l", "a")
    assert err(r, "SET", "l", "v", "GET") == WRONGTYPE
    assert cmd(r, "TYPE", "l") == b"list"


@pytest.mark.parametrize(
    "args",
    [
        ("NX", "XX"),
        ("EX", "10", "PX", "10"),
        ("EX", "10", "EXAT", "99999999999"),
        ("PX", "10", "PXAT", "99999999999999"),
        ("KEEPTTL", "EX", "10"),
        ("EX", "10", "KEEPTTL"),
        ("EX",),
        ("FOO",),
        ("EX", "10", "EX", "10", "XX", "NX"),
    ],
)
def test_set_syntax_errors(r, args):
    assert err(r, "SET", "k", "v", *args) == SYNTAX
    assert cmd(r, "EXISTS", "k") == 0


@pytest.mark.parametrize(
    "args",
    [("EX", "0"), ("EX", "-1"), ("PX", "0"), ("PX", "-100"), ("EXAT", "0"),
     ("PXAT", "0"), ("EX", "9999999999999999")],
)
def test_set_invalid_expire(r, args):
    assert err(r, "SET", "k", "v", *args) == "ERR invalid expire time in 'set' command"
    assert cmd(r, "EXISTS", "k") == 0


def test_set_expire_not_integer(r):
    assert err(r, "SET", "k", "v", "EX", "abc") == NOT_INT
    assert err(r, "SET", "k", "v", "PX", "1.5") == NOT_INT


def test_set_wrong_arity(r):
    assert err(r, "SET", "k") == wrong_args("set")
    assert err(r, "GET") == wrong_args("get")
    assert err(r, "GET", "a", "b") == wrong_args("get")


# --------------------------------------------------------------------------
# SETNX SETEX PSETEX MGET MSET MSETNX GETSET GETDEL GETEX
# --------------------------------------------------------------------------


def test_setnx(r):
    assert cmd(r, "SETNX", "k", "1") == 1
    assert cmd(r, "SETNX", "k", "2") == 0
    assert cmd(r, "GET", "k") == b"1"
    # SETNX against a non-string existing key is just 0
    cmd(r, "RPUSH", "l", "a")
    assert cmd(r, "SETNX", "l", "x") == 0
    assert cmd(r, "TYPE", "l") == b"list"


def test_setex_psetex(r):
    assert cmd(r, "SETEX", "k", 100, "v") == b"OK"
    assert cmd(r, "GET", "k") == b"v"
    assert 95 <= cmd(r, "TTL", "k") <= 100
    assert cmd(r, "PSETEX", "p", 100000, "v") == b"OK"
    assert 95000 <= cmd(r, "PTTL", "p") <= 100000
    assert err(r, "SETEX", "k", 0, "v") == "ERR invalid expire time in 'setex' command"
    assert err(r, "SETEX", "k", -5, "v") == "ERR invalid expire time in 'setex' command"
    assert err(r, "PSETEX", "k", 0, "v") == "ERR invalid expire time in 'psetex' command"
    assert err(r, "SETEX", "k", "x", "v") == NOT_INT
    assert err(r, "SETEX", "k", 10) == wrong_args("setex")


def test_mset_mget(r):
    assert cmd(r, "MSET", "a", "1", "b", "2", "c", "3") == b"OK"
    cmd(r, "RPUSH", "l", "x")
    assert cmd(r, "MGET", "a", "b", "nokey", "c", "l", "a") == [
        b"1", b"2", None, b"3", None, b"1"]
    # later duplicates win
    assert cmd(r, "MSET", "d", "1", "d", "2") == b"OK"
    assert cmd(r, "GET", "d") == b"2"
    # MSET overwrites other types and clears TTLs
    cmd(r, "SET", "t", "v", "EX", 100)
    assert cmd(r, "MSET", "l", "s", "t", "w") == b"OK"
    assert cmd(r, "TYPE", "l") == b"string"
    assert cmd(r, "TTL", "t") == -1
    assert err(r, "MSET", "a") == wrong_args("mset")
    assert err(r, "MSET", "a", "1", "b") == wrong_args("mset")
    assert err(r, "MGET") == wrong_args("mget")


def test_msetnx(r):
    assert cmd(r, "MSETNX", "a", "1", "b", "2") == 1
    assert cmd(r, "MGET", "a", "b") == [b"1", b"2"]
    # one existing key -> nothing is set
    assert cmd(r, "MSETNX", "c", "3", "a", "x") == 0
    assert cmd(r, "MGET", "a", "c") == [b"1", None]
    # duplicated new key within the same call
    assert cmd(r, "MSETNX", "d", "1", "d", "2") == 1
    assert cmd(r, "GET", "d") == b"2"
    assert err(r, "MSETNX", "a", "1", "b") == wrong_args("msetnx")


def test_getset(r):
    assert cmd(r, "GETSET", "k", "1") is None
    assert cmd(r, "GETSET", "k", "2") == b"1"
    assert cmd(r, "GET", "k") == b"2"
    cmd(r, "SET", "t", "v", "EX", 100)
    assert cmd(r, "GETSET", "t", "w") == b"v"
    assert cmd(r, "TTL", "t") == -1
    cmd(r, "RPUSH", "l", "a")
    assert err(r, "GETSET", "l", "x") == WRONGTYPE


def test_getdel(r):
    cmd(r, "SET", "k", "v")
    assert cmd(r, "GETDEL", "k") == b"v"
    assert cmd(r, "EXISTS", "k") == 0
    assert cmd(r, "GETDEL", "k") is None
    cmd(r, "RPUSH", "l", "a")
    assert err(r, "GETDEL", "l") == WRONGTYPE
    assert cmd(r, "EXISTS", "l") == 1


def test_getex(r):
    assert cmd(r, "GETEX", "nokey") is None
    assert cmd(r, "GETEX", "nokey", "EX", 100) is None
    assert cmd(r, "EXISTS", "nokey") == 0
    cmd(r, "SET", "k", "v")
    assert cmd(r, "GETEX", "k") == b"v"
    assert cmd(r, "TTL", "k") == -1
    assert cmd(r, "GETEX", "k", "EX", 100) == b"v"
    assert 95 <= cmd(r, "TTL", "k") <= 100
    assert cmd(r, "GETEX", "k", "PX", 200000) == b"v"
    assert 195000 <= cmd(r, "PTTL", "k") <= 200000
    now = int(time.time())
    assert cmd(r, "GETEX", "k", "EXAT", now + 300) == b"v"
    assert cmd(r, "EXPIRETIME", "k") == now + 300
    assert cmd(r, "GETEX", "k", "PXAT", (now + 400) * 1000) == b"v"
    assert cmd(r, "PEXPIRETIME", "k") == (now + 400) * 1000
    assert cmd(r, "GETEX", "k", "PERSIST") == b"v"
    assert cmd(r, "TTL", "k") == -1
    # a past absolute time deletes the key (value still returned)
    assert cmd(r, "GETEX", "k", "PXAT", 1) == b"v"
    assert cmd(r, "EXISTS", "k") == 0


def test_getex_errors(r):
    cmd(r, "SET", "k", "v")
    assert err(r, "GETEX", "k", "EX", 0) == "ERR invalid expire time in 'getex' command"
    assert err(r, "GETEX", "k", "PX", -1) == "ERR invalid expire time in 'getex' command"
    assert err(r, "GETEX", "k", "PERSIST", "EX", 10) == SYNTAX
    assert err(r, "GETEX", "k", "EX", 10, "PX", 10) == SYNTAX
    assert err(r, "GETEX", "k", "FOO") == SYNTAX
    assert err(r, "GETEX", "k", "EX", "abc") == NOT_INT
    cmd(r, "RPUSH", "l", "a")
    assert err(r, "GETEX", "l") == WRONGTYPE


# --------------------------------------------------------------------------
# INCR / DECR family
# --------------------------------------------------------------------------


def test_incr_decr(r):
    assert cmd(r, "INCR", "n") == 1
    assert cmd(r, "INCR", "n") == 2
    assert cmd(r, "GET", "n") == b"2"
    assert cmd(r, "DECR", "n") == 1
    assert cmd(r, "DECR", "n") == 0
    assert cmd(r, "DECR", "n") == -1
    assert cmd(r, "DECR", "m") == -1
    assert cmd(r, "INCRBY", "n", 10) == 9
    assert cmd(r, "INCRBY", "n", -20) == -11
    assert cmd(r, "DECRBY", "n", 5) == -16
    assert cmd(r, "DECRBY", "n", -16) == 0
    assert cmd(r, "GET", "n") == b"0"
    cmd(r, "SET", "s", "-42")
    assert cmd(r, "INCR", "s") == -41
    # INCR keeps the TTL
    cmd(r, "SET", "t", "5", "EX", 100)
    assert cmd(r, "INCR", "t") == 6
    assert 95 <= cmd(r, "TTL", "t") <= 100


def test_incr_limits(r):
    cmd(r, "SET", "n", "9223372036854775806")
    assert cmd(r, "INCR", "n") == 9223372036854775807
    assert err(r, "INCR", "n") == "ERR increment or decrement would overflow"
    assert err(r, "INCRBY", "n", 1) == "ERR increment or decrement would overflow"
    assert cmd(r, "GET", "n") == b"9223372036854775807"
    cmd(r, "SET", "n", "-9223372036854775807")
    assert cmd(r, "DECR", "n") == -9223372036854775808
    assert err(r, "DECR", "n") == "ERR increment or decrement would overflow"
    assert err(r, "DECRBY", "n", 1) == "ERR increment or decrement would overflow"
    assert err(r, "INCRBY", "n", -1) == "ERR increment or decrement would overflow"
    cmd(r, "SET", "z", "0")
    assert err(r, "DECRBY", "z", "-9223372036854775808") == "ERR decrement would overflow"
    assert cmd(r, "INCRBY", "z", "-9223372036854775808") == -9223372036854775808
    # values outside int64 are not integers
    cmd(r, "SET", "big", "9223372036854775808")
    assert err(r, "INCR", "big") == NOT_INT
    assert err(r, "INCRBY", "z", "9223372036854775808") == NOT_INT


@pytest.mark.parametrize("value", ["abc", "1.5", " 1", "1 ", "01", "", "+1", "0x10", "1e3"])
def test_incr_not_an_integer(r, value):
    cmd(r, "SET", "s", value)
    assert err(r, "INCR", "s") == NOT_INT
    assert err(r, "DECR", "s") == NOT_INT
    assert err(r, "INCRBY", "s", 1) == NOT_INT
    assert cmd(r, "GET", "s") == value.encode()


def test_incr_bad_increment_and_wrongtype(r):
    assert err(r, "INCRBY", "n", "abc") == NOT_INT
    assert err(r, "DECRBY", "n", "1.0") == NOT_INT
    assert cmd(r, "EXISTS", "n") == 0
    cmd(r, "RPUSH", "l", "1")
    assert err(r, "INCR", "l") == WRONGTYPE
    assert err(r, "INCRBYFLOAT", "l", 1) == WRONGTYPE


def test_incrbyfloat(r):
    assert cmd(r, "INCRBYFLOAT", "f", "10.5") == b"10.5"
    assert cmd(r, "INCRBYFLOAT", "f", "0.25") == b"10.75"
    assert cmd(r, "INCRBYFLOAT", "f", "-0.75") == b"10"
    assert cmd(r, "GET", "f") == b"10"
    assert cmd(r, "INCRBYFLOAT", "f", "5.0e3") == b"5010"
    assert cmd(r, "INCRBYFLOAT", "f", "-5010") == b"0"
    assert cmd(r, "INCRBYFLOAT", "g", "3.0") == b"3"
    assert cmd(r, "INCRBYFLOAT", "g", "1.5") == b"4.5"
    cmd(r, "SET", "i", "7")
    assert cmd(r, "INCRBYFLOAT", "i", "1") == b"8"
    assert cmd(r, "INCRBYFLOAT", "h", "1e2") == b"100"
    assert cmd(r, "INCRBYFLOAT", "h", "-0.5") == b"99.5"
    # the result is stored as a string that INCR can no longer parse
    assert err(r, "INCR", "h") == NOT_INT
    # keeps the TTL
    cmd(r, "SET", "t", "1", "EX", 100)
    assert cmd(r, "INCRBYFLOAT", "t", "0.5") == b"1.5"
    assert 95 <= cmd(r, "TTL", "t") <= 100


def test_incrbyfloat_errors(r):
    cmd(r, "SET", "f", "1")
    assert err(r, "INCRBYFLOAT", "f", "abc") == NOT_FLOAT
    assert err(r, "INCRBYFLOAT", "f", "nan") == NOT_FLOAT
    assert err(r, "INCRBYFLOAT", "f", "") == NOT_FLOAT
    assert err(r, "INCRBYFLOAT", "f", " 1") == NOT_FLOAT
    assert err(r, "INCRBYFLOAT", "f", "inf") == "ERR increment would produce NaN or Infinity"
    assert err(r, "INCRBYFLOAT", "f", "-inf") == "ERR increment would produce NaN or Infinity"
    assert cmd(r, "GET", "f") == b"1"
    cmd(r, "SET", "s", "abc")
    assert err(r, "INCRBYFLOAT", "s", "1") == NOT_FLOAT
    assert err(r, "INCRBYFLOAT", "f") == wrong_args("incrbyfloat")


# --------------------------------------------------------------------------
# APPEND STRLEN GETRANGE SETRANGE SUBSTR
# --------------------------------------------------------------------------


def test_append_strlen(r):
    assert cmd(r, "APPEND", "k", "abc") == 3
    assert cmd(r, "APPEND", "k", "def") == 6
    assert cmd(r, "APPEND", "k", "") == 6
    assert cmd(r, "GET", "k") == b"abcdef"
    assert cmd(r, "STRLEN", "k") == 6
    assert cmd(r, "STRLEN", "nokey") == 0
    cmd(r, "SET", "n", "12")
    assert cmd(r, "APPEND", "n", "34") == 4
    assert cmd(r, "INCR", "n") == 1235
    assert cmd(r, "STRLEN", "n") == 4
    cmd(r, "RPUSH", "l", "a")
    assert err(r, "APPEND", "l", "x") == WRONGTYPE
    assert err(r, "STRLEN", "l") == WRONGTYPE


def test_getrange(r):
    cmd(r, "SET", "g", "This is a string")
    assert cmd(r, "GETRANGE", "g", 0, 3) == b"This"
    assert cmd(r, "GETRANGE", "g", -3, -1) == b"ing"
    assert cmd(r, "GETRANGE", "g", 0, -1) == b"This is a string"
    assert cmd(r, "GETRANGE", "g", 10, 100) == b"string"
    assert cmd(r, "GETRANGE", "g", 5, 3) == b""
    assert cmd(r, "GETRANGE", "g", -1, -100) == b""
    assert cmd(r, "GETRANGE", "g", 100, 200) == b""
    assert cmd(r, "GETRANGE", "g", -100, 3) == b"This"
    assert cmd(r, "GETRANGE", "nokey", 0, -1) == b""
    assert cmd(r, "SUBSTR", "g", 0, 3) == b"This"
    assert cmd(r, "SUBSTR", "g", -6, -1) == b"string"
    # integer-encoded values behave like their string form
    cmd(r, "SET", "n", "1234")
    assert cmd(r, "GETRANGE", "n", 1, 2) == b"23"
    assert err(r, "GETRANGE", "g", "a", "b") == NOT_INT
    cmd(r, "RPUSH", "l", "a")
    assert err(r, "GETRANGE", "l", 0, 1) == WRONGTYPE


def test_setrange(r):
    assert cmd(r, "SETRANGE", "s", 5, "x") == 6
    assert cmd(r, "GET", "s") == b"\x00\x00\x00\x00\x00x"
    cmd(r, "SET", "k", "Hello World")
    assert cmd(r, "SETRANGE", "k", 6, "Redis") == 11
    assert cmd(r, "GET", "k") == b"Hello Redis"
    assert cmd(r, "SETRANGE", "k", 11, "!!") == 13
    assert cmd(r, "GET", "k") == b"Hello Redis!!"
    assert cmd(r, "SETRANGE", "k", 0, "J") == 13
    assert cmd(r, "GET", "k") == b"Jello Redis!!"
    # empty value: no-op, does not create the key
    assert cmd(r, "SETRANGE", "empty", 0, "") == 0
    assert cmd(r, "SETRANGE", "empty", 10, "") == 0
    assert cmd(r, "EXISTS", "empty") == 0
    assert cmd(r, "SETRANGE", "k", 100, "") == 13
    # on an integer-encoded value
    cmd(r, "SET", "n", "1234")
    assert cmd(r, "SETRANGE", "n", 1, "9") == 4
    assert cmd(r, "GET", "n") == b"1934"


def test_setrange_errors(r):
    assert err(r, "SETRANGE", "k", -1, "x") == "ERR offset is out of range"
    assert err(r, "SETRANGE", "k", 536870912, "x") == \
        "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
    assert err(r, "SETRANGE", "k", 536870911, "xy") == \
        "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
    assert cmd(r, "EXISTS", "k") == 0
    assert err(r, "SETRANGE", "k", "a", "x") == NOT_INT
    cmd(r, "RPUSH", "l", "a")
    assert err(r, "SETRANGE", "l", 0, "x") == WRONGTYPE


# --------------------------------------------------------------------------
# LCS
# --------------------------------------------------------------------------


@pytest.fixture
def lcs_keys(r):
    cmd(r, "MSET", "key1", "ohmytext", "key2", "mynewtext")


def test_lcs_basic(r, lcs_keys):
    assert cmd(r, "LCS", "key1", "key2") == b"mytext"
    assert cmd(r, "LCS", "key1", "key2", "LEN") == 6
    assert cmd(r, "LCS", "key1", "key1") == b"ohmytext"
    assert cmd(r, "LCS", "key1", "nokey") == b""
    assert cmd(r, "LCS", "key1", "nokey", "LEN") == 0
    assert cmd(r, "LCS", "nokey1", "nokey2") == b""


def test_lcs_idx(r, lcs_keys):
    assert cmd(r, "LCS", "key1", "key2", "IDX") == [
        b"matches",
        [[[4, 7], [5, 8]], [[2, 3], [0, 1]]],
        b"len", 6,
    ]
    assert cmd(r, "LCS", "key1", "key2", "IDX", "MINMATCHLEN", 4) == [
        b"matches", [[[4, 7], [5, 8]]], b"len", 6,
    ]
    assert cmd(r, "LCS", "key1", "key2", "IDX", "MINMATCHLEN", 4, "WITHMATCHLEN") == [
        b"matches", [[[4, 7], [5, 8], 4]], b"len", 6,
    ]
    assert cmd(r, "LCS", "key1", "key2", "IDX", "WITHMATCHLEN") == [
        b"matches",
        [[[4, 7], [5, 8], 4], [[2, 3], [0, 1], 2]],
        b"len", 6,
    ]
    assert cmd(r, "LCS", "key1", "nokey", "IDX") == [b"matches", [], b"len", 0]


def test_lcs_errors(r, lcs_keys):
    assert err(r, "LCS", "key1", "key2", "LEN", "IDX") == \
        "ERR If you want both the length and indexes, please just use IDX."
    assert err(r, "LCS", "key1", "key2", "FOO") == SYNTAX
    assert err(r, "LCS", "key1", "key2", "MINMATCHLEN") == SYNTAX
    assert err(r, "LCS", "key1", "key2", "MINMATCHLEN", "x") == NOT_INT
    cmd(r, "RPUSH", "l", "a")
    assert err(r, "LCS", "key1", "l") == "ERR The specified keys must contain string values"
    assert err(r, "LCS", "key1") == wrong_args("lcs")


# --------------------------------------------------------------------------
# OBJECT ENCODING
# --------------------------------------------------------------------------


def test_object_encoding_strings(r):
    cmd(r, "SET", "i", "12345")
    assert encoding(r, "i") == b"int"
    cmd(r, "SET", "neg", "-9223372036854775808")
    assert encoding(r, "neg") == b"int"
    cmd(r, "SET", "e", "hello")
    assert encoding(r, "e") == b"embstr"
    cmd(r, "SET", "lead0", "0123")
    assert encoding(r, "lead0") == b"embstr"
    cmd(r, "SET", "toobig", "99999999999999999999")
    assert encoding(r, "toobig") == b"embstr"
    cmd(r, "SET", "e44", "x" * 44)
    assert encoding(r, "e44") == b"embstr"
    cmd(r, "SET", "r45", "x" * 45)
    assert encoding(r, "r45") == b"raw"
    # modifying commands turn strings into raw
    cmd(r, "SET", "a", "foo")
    cmd(r, "APPEND", "a", "bar")
    assert encoding(r, "a") == b"raw"
    cmd(r, "SET", "sr", "foo")
    cmd(r, "SETRANGE", "sr", 0, "b")
    assert encoding(r, "sr") == b"raw"
    # INCR results are ints again
    cmd(r, "SET", "n", "10")
    cmd(r, "APPEND", "n", "0")
    cmd(r, "INCR", "n")
    assert encoding(r, "n") == b"int"
    assert cmd(r, "OBJECT", "ENCODING", "nokey") is None


def test_numbers_with_embedded_nul_are_rejected(r):
    # "1\x002" is not a number: parsing must not stop at the NUL byte.
    r.set("foo", "1")
    r.setrange("foo", 2, "2")
    with pytest.raises(redis.ResponseError, match="not a valid float"):
        r.incrbyfloat("foo", 1)
    with pytest.raises(redis.ResponseError, match="not a valid float"):
        r.execute_command("ZADD", "z", b"1\x002", "m")
    assert r.get("foo") == b"1\x002"
    assert r.exists("z") == 0
