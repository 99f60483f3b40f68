"""End-to-end tests for the sorted set commands.

Expected values / error texts were checked against redis-server 7.0.15.
"""
import bisect
import math
import random
from collections import Counter

import pytest

from dtype_helpers import *  # noqa: F401,F403

NOT_FLOAT_RANGE = "ERR min or max is not a float"
NOT_LEX_RANGE = "ERR min or max not valid string range item"


def zall(r, key):
    return cmd(r, "ZRANGE", key, 0, -1, "WITHSCORES")


@pytest.fixture
def z5(r):
    cmd(r, "ZADD", "z", 1, "a", 2, "b", 3, "c", 4, "d", 5, "e")


# --------------------------------------------------------------------------
# ZADD and options
# --------------------------------------------------------------------------


def test_zadd_basic(r):
    assert cmd(r, "ZADD", "z", 1, "a", 2, "b") == 2
    assert cmd(r, "ZADD", "z", 3, "a", 4, "c") == 1
    assert zall(r, "z") == [b"b", b"2", b"a", b"3", b"c", b"4"]
    assert cmd(r, "ZADD", "z", 5, "d", 6, "d") == 1
    assert cmd(r, "ZSCORE", "z", "d") == b"6"
    assert cmd(r, "ZCARD", "z") == 4
    assert cmd(r, "TYPE", "z") == b"zset"
    # equal scores are ordered lexicographically
    cmd(r, "ZADD", "t", 0, "c", 0, "a", 0, "b", -1, "z")
    assert cmd(r, "ZRANGE", "t", 0, -1) == [b"z", b"a", b"b", b"c"]
    cmd(r, "ZADD", "inf", "-inf", "lo", "+inf", "hi", 0, "mid")
    assert zall(r, "inf") == [b"lo", b"-inf", b"mid", b"0", b"hi", b"inf"]


def test_zadd_nx_xx(r):
    cmd(r, "ZADD", "z", 1, "a")
    assert cmd(r, "ZADD", "z", "NX", 5, "a", 2, "b") == 1
    assert zall(r, "z") == [b"a", b"1", b"b", b"2"]
    assert cmd(r, "ZADD", "z", "XX", 5, "a", 3, "c") == 0
    assert zall(r, "z") == [b"b", b"2", b"a", b"5"]
    assert cmd(r, "ZADD", "nokey", "XX", 1, "a") == 0
    assert cmd(r, "EXISTS", "nokey") == 0


def test_zadd_gt_lt_ch(r):
    cmd(r, "ZADD", "z", 5, "a", 6, "b")
    assert cmd(r, "ZADD", "z", "CH", 5, "a", 7, "b") == 1
    assert cmd(r, "ZADD", "z", "CH", 1, "x") == 1
    # GT: only update when the new score is greater; new members are added
    assert cmd(r, "ZADD", "z", "GT", "CH", 4, "a", 8, "b", 9, "c") == 2
    assert zall(r, "z") == [b"x", b"1", b"a", b"5", b"b", b"8", b"c", b"9"]
    # LT: only update when smaller
    assert cmd(r, "ZADD", "z", "LT", "CH", 3, "a", 10, "b") == 1
    assert zall(r, "z") == [b"x", b"1", b"a", b"3", b"b", b"8", b"c", b"9"]
    # GT/LT + XX do not add
    assert cmd(r, "ZADD", "z", "XX", "GT", "CH", 20, "b", 1, "new") == 1
    assert cmd(r, "ZSCORE", "z", "new") is None
    assert cmd(r, "ZADD", "z", "XX", "LT", 2, "new2") == 0
    assert cmd(r, "ZCARD", "z") == 4
    # without CH only additions are counted
    assert cmd(r, "ZADD", "z", 100, "a", 1, "y") == 1


def test_zadd_incr(r):
    assert cmd(r, "ZADD", "z", "INCR", 1.5, "a") == b"1.5"
    assert cmd(r, "ZADD", "z", "INCR", 2, "a") == b"3.5"
    assert cmd(r, "ZADD", "z", "XX", "INCR", 1, "nokey") is None
    assert cmd(r, "ZADD", "z", "NX", "INCR", 1, "a") is None
    assert cmd(r, "ZADD", "z", "NX", "INCR", 1, "b") == b"1"
    assert cmd(r, "ZADD", "z", "GT", "INCR", -1, "a") is None
    assert cmd(r, "ZADD", "z", "LT", "INCR", -1, "a") == b"2.5"
    assert cmd(r, "ZADD", "z", "INCR", "inf", "a") == b"inf"
    assert err(r, "ZADD", "z", "INCR", "-inf", "a") == "ERR resulting score is not a number (NaN)"
    assert cmd(r, "ZSCORE", "z", "a") == b"inf"


def test_zadd_errors(r):
    cmd(r, "ZADD", "z", 1, "a")
    assert err(r, "ZADD", "z", "NX", "XX", 1, "a") == \
        "ERR XX and NX options at the same time are not compatible"
    msg = "ERR GT, LT, and/or NX options at the same time are not compatible"
    assert err(r, "ZADD", "z", "GT", "LT", 1, "a") == msg
    assert err(r, "ZADD", "z", "NX", "GT", 1, "a") == msg
    assert err(r, "ZADD", "z", "NX", "LT", 1, "a") == msg
    assert err(r, "ZADD", "z", "INCR", 1, "a", 2, "b") == \
        "ERR INCR option supports a single increment-element pair"
    assert err(r, "ZADD", "z", "x", "a") == NOT_FLOAT
    assert err(r, "ZADD", "z", "nan", "a") == NOT_FLOAT
    assert err(r, "ZADD", "z", 1, "a", 2) == SYNTAX
    assert err(r, "ZADD", "z", 1) == wrong_args("zadd")
    # nothing was changed by the failed calls
    assert zall(r, "z") == [b"a", b"1"]
    # a bad score anywhere means nothing is added
    assert err(r, "ZADD", "z", 2, "b", "bad", "c") == NOT_FLOAT
    assert cmd(r, "ZCARD", "z") == 1


def test_zincrby(r):
    assert cmd(r, "ZINCRBY", "z", 1.5, "a") == b"1.5"
    assert cmd(r, "ZINCRBY", "z", -3, "a") == b"-1.5"
    assert cmd(r, "ZINCRBY", "z", 10, "b") == b"10"
    assert cmd(r, "ZRANGE", "z", 0, -1) == [b"a", b"b"]
    assert cmd(r, "ZINCRBY", "z", "inf", "c") == b"inf"
    assert err(r, "ZINCRBY", "z", "-inf", "c") == "ERR resulting score is not a number (NaN)"
    assert err(r, "ZINCRBY", "z", "x", "a") == NOT_FLOAT
    assert cmd(r, "ZSCORE", "z", "a") == b"-1.5"


def test_score_formatting(r):
    """redis 7.0 formats scores with %.17g (so 1.1 -> 1.1000000000000001);
    integral values print without a fraction, infinities as inf/-inf."""
    cmd(r, "ZADD", "z", 3.0, "int", 1.1, "f11", 0.1, "f01", 1e20, "big",
        123456789.123, "mixed", -0.5, "neg", 1e-5, "small", "+inf", "pinf", "-inf", "ninf")
    assert cmd(r, "ZSCORE", "z", "int") == b"3"
    assert cmd(r, "ZSCORE", "z", "f11") == b"1.1000000000000001"
    assert cmd(r, "ZSCORE", "z", "f01") == b"0.10000000000000001"
    assert cmd(r, "ZSCORE", "z", "big") == b"1e+20"
    assert cmd(r, "ZSCORE", "z", "mixed") == b"123456789.123"
    assert cmd(r, "ZSCORE", "z", "neg") == b"-0.5"
    assert cmd(r, "ZSCORE", "z", "small") == b"1.0000000000000001e-05"
    assert cmd(r, "ZSCORE", "z", "pinf") == b"inf"
    assert cmd(r, "ZSCORE", "z", "ninf") == b"-inf"
    assert cmd(r, "ZINCRBY", "z", 0.2, "f01") == b"0.30000000000000004"


# --------------------------------------------------------------------------
# ZREM ZCARD ZSCORE ZMSCORE ZCOUNT ZLEXCOUNT ZRANK ZREVRANK
# --------------------------------------------------------------------------


def test_zrem_zcard(r, z5):
    assert cmd(r, "ZCARD", "z") == 5
    assert cmd(r, "ZREM", "z", "a", "nosuch", "a") == 1
    assert cmd(r, "ZCARD", "z") == 4
    assert cmd(r, "ZREM", "z", "b", "c", "d", "e") == 4
    assert cmd(r, "EXISTS", "z") == 0
    assert cmd(r, "ZCARD", "z") == 0
    assert cmd(r, "ZREM", "nokey", "a") == 0
    assert err(r, "ZREM", "z") == wrong_args("zrem")


def test_zscore_zmscore(r, z5):
    assert cmd(r, "ZSCORE", "z", "c") == b"3"
    assert cmd(r, "ZSCORE", "z", "nosuch") is None
    assert cmd(r, "ZSCORE", "nokey", "a") is None
    assert cmd(r, "ZMSCORE", "z", "a", "nosuch", "e") == [b"1", None, b"5"]
    assert cmd(r, "ZMSCORE", "nokey", "a", "b") == [None, None]
    assert err(r, "ZMSCORE", "z") == wrong_args("zmscore")


def test_zcount(r, z5):
    assert cmd(r, "ZCOUNT", "z", "-inf", "+inf") == 5
    assert cmd(r, "ZCOUNT", "z", "-inf", "inf") == 5
    assert cmd(r, "ZCOUNT", "z", 2, 4) == 3
    assert cmd(r, "ZCOUNT", "z", "(2", 4) == 2
    assert cmd(r, "ZCOUNT", "z", 2, "(4") == 2
    assert cmd(r, "ZCOUNT", "z", "(2", "(4") == 1
    assert cmd(r, "ZCOUNT", "z", "(1", "(1") == 0
    assert cmd(r, "ZCOUNT", "z", 1, 1) == 1
    assert cmd(r, "ZCOUNT", "z", 3, 1) == 0
    assert cmd(r, "ZCOUNT", "z", "(-inf", "(+inf") == 5
    assert cmd(r, "ZCOUNT", "z", 1.5, 2.5) == 1
    assert cmd(r, "ZCOUNT", "nokey", "-inf", "+inf") == 0
    assert err(r, "ZCOUNT", "z", "x", 1) == NOT_FLOAT_RANGE
    assert err(r, "ZCOUNT", "z", "(x", 1) == NOT_FLOAT_RANGE
    assert err(r, "ZCOUNT", "z", 1, "[2") == NOT_FLOAT_RANGE


def test_zlexcount(r):
    cmd(r, "ZADD", "z", 0, "a", 0, "b", 0, "c", 0, "d", 0, "e")
    assert cmd(r, "ZLEXCOUNT", "z", "-", "+") == 5
    assert cmd(r, "ZLEXCOUNT", "z", "[b", "[d") == 3
    assert cmd(r, "ZLEXCOUNT", "z", "(b", "[d") == 2
    assert cmd(r, "ZLEXCOUNT", "z", "[b", "(d") == 2
    assert cmd(r, "ZLEXCOUNT", "z", "(b", "(c") == 0
    assert cmd(r, "ZLEXCOUNT", "z", "[bb", "+") == 3
    assert cmd(r, "ZLEXCOUNT", "z", "+", "-") == 0
    assert cmd(r, "ZLEXCOUNT", "nokey", "-", "+") == 0
    assert err(r, "ZLEXCOUNT", "z", "b", "d") == NOT_LEX_RANGE
    assert err(r, "ZLEXCOUNT", "z", "[b", "d") == NOT_LEX_RANGE


def test_zrank_zrevrank(r, z5):
    assert cmd(r, "ZRANK", "z", "a") == 0
    assert cmd(r, "ZRANK", "z", "c") == 2
    assert cmd(r, "ZRANK", "z", "e") == 4
    assert cmd(r, "ZREVRANK", "z", "a") == 4
    assert cmd(r, "ZREVRANK", "z", "e") == 0
    assert cmd(r, "ZRANK", "z", "nosuch") is None
    assert cmd(r, "ZREVRANK", "z", "nosuch") is None
    assert cmd(r, "ZRANK", "nokey", "a") is None


# --------------------------------------------------------------------------
# ZRANGE and friends
# --------------------------------------------------------------------------


def test_zrange_by_index(r, z5):
    assert cmd(r, "ZRANGE", "z", 0, -1) == [b"a", b"b", b"c", b"d", b"e"]
    assert cmd(r, "ZRANGE", "z", 1, 2) == [b"b", b"c"]
    assert cmd(r, "ZRANGE", "z", -2, -1, "WITHSCORES") == [b"d", b"4", b"e", b"5"]
    assert cmd(r, "ZRANGE", "z", -100, 0) == [b"a"]
    assert cmd(r, "ZRANGE", "z", 3, 100) == [b"d", b"e"]
    assert cmd(r, "ZRANGE", "z", 3, 1) == []
    assert cmd(r, "ZRANGE", "z", 5, 10) == []
    assert cmd(r, "ZRANGE", "z", 0, -1, "REV") == [b"e", b"d", b"c", b"b", b"a"]
    assert cmd(r, "ZRANGE", "z", 1, 3, "REV", "WITHSCORES") == [
        b"d", b"4", b"c", b"3", b"b", b"2"]
    assert cmd(r, "ZREVRANGE", "z", 0, 1, "WITHSCORES") == [b"e", b"5", b"d", b"4"]
    assert cmd(r, "ZREVRANGE", "z", -1, -1) == [b"a"]
    assert cmd(r, "ZRANGE", "nokey", 0, -1) == []
    assert err(r, "ZRANGE", "z", "x", 1) == NOT_INT


def test_zrange_byscore(r, z5):
    assert cmd(r, "ZRANGE", "z", "(1", 3, "BYSCORE") == [b"b", b"c"]
    assert cmd(r, "ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", 1, 2) == [b"b", b"c"]
    assert cmd(r, "ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", 3, -1) == [b"d", b"e"]
    assert cmd(r, "ZRANGE", "z", "+inf", "-inf", "BYSCORE", "REV", "LIMIT", 0, 2,
               "WITHSCORES") == [b"e", b"5", b"d", b"4"]
    assert cmd(r, "ZRANGE", "z", 4, 2, "BYSCORE", "REV") == [b"d", b"c", b"b"]
    assert cmd(r, "ZRANGE", "z", 2, 4, "BYSCORE", "REV") == []
    assert cmd(r, "ZRANGE", "z", 0, -1, "BYSCORE") == []
    assert cmd(r, "ZRANGEBYSCORE", "z", "(1", "(5") == [b"b", b"c", b"d"]
    assert cmd(r, "ZRANGEBYSCORE", "z", 2, 4, "WITHSCORES", "LIMIT", 1, 5) == [
        b"c", b"3", b"d", b"4"]
    assert cmd(r, "ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", 10, 5) == []
    assert cmd(r, "ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", 0, 0) == []
    assert cmd(r, "ZREVRANGEBYSCORE", "z", 4, 2) == [b"d", b"c", b"b"]
    assert cmd(r, "ZREVRANGEBYSCORE", "z", "+inf", "(3", "WITHSCORES") == [
        b"e", b"5", b"d", b"4"]
    assert cmd(r, "ZREVRANGEBYSCORE", "z", 2, 4) == []
    assert cmd(r, "ZREVRANGEBYSCORE", "z", "+inf", "-inf", "LIMIT", 1, 2) == [b"d", b"c"]


def test_zrange_bylex(r):
    cmd(r, "ZADD", "z", 0, "a", 0, "b", 0, "c", 0, "d", 0, "e", 0, "ee")
    assert cmd(r, "ZRANGE", "z", "[a", "(c", "BYLEX") == [b"a", b"b"]
    assert cmd(r, "ZRANGE", "z", "-", "+", "BYLEX", "LIMIT", 2, 3) == [b"c", b"d", b"e"]
    assert cmd(r, "ZRANGE", "z", "+", "[d", "BYLEX", "REV") == [b"ee", b"e", b"d"]
    assert cmd(r, "ZRANGEBYLEX", "z", "-", "+") == [b"a", b"b", b"c", b"d", b"e", b"ee"]
    assert cmd(r, "ZRANGEBYLEX", "z", "(b", "[d", "LIMIT", 1, 1) == [b"d"]
    assert cmd(r, "ZRANGEBYLEX", "z", "[e", "+") == [b"e", b"ee"]
    assert cmd(r, "ZRANGEBYLEX", "z", "(e", "+") == [b"ee"]
    assert cmd(r, "ZRANGEBYLEX", "z", "+", "-") == []
    assert cmd(r, "ZREVRANGEBYLEX", "z", "+", "-", "LIMIT", 0, 2) == [b"ee", b"e"]
    assert cmd(r, "ZREVRANGEBYLEX", "z", "[d", "(b") == [b"d", b"c"]
    assert cmd(r, "ZREVRANGEBYLEX", "z", "(b", "[d") == []


def test_zrange_errors(r, z5):
    assert err(r, "ZRANGE", "z", "a", "c", "BYLEX") == NOT_LEX_RANGE
    assert err(r, "ZRANGEBYLEX", "z", "a", "[c") == NOT_LEX_RANGE
    assert err(r, "ZRANGE", "z", 0, -1, "LIMIT", 0, 1) == (
        "ERR syntax error, LIMIT is only supported in combination with either "
        "BYSCORE or BYLEX")
    assert err(r, "ZRANGE", "z", 0, -1, "BYLEX", "BYSCORE") == SYNTAX
    assert err(r, "ZRANGE", "z", "x", "y", "BYSCORE") == NOT_FLOAT_RANGE
    assert err(r, "ZRANGE", "z", "(x", 1, "BYSCORE") == NOT_FLOAT_RANGE
    assert err(r, "ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES") == \
        "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
    assert err(r, "ZRANGEBYSCORE", "z", 2, 4, "LIMIT", 1) == SYNTAX
    assert err(r, "ZRANGEBYSCORE", "z", 2, 4, "FOO") == SYNTAX
    assert err(r, "ZRANGE", "z", 0) == wrong_args("zrange")


def test_zrangestore(r, z5):
    assert cmd(r, "ZRANGESTORE", "dst", "z", 0, 1) == 2
    assert zall(r, "dst") == [b"a", b"1", b"b", b"2"]
    assert cmd(r, "ZRANGESTORE", "dst", "z", "(2", "+inf", "BYSCORE", "LIMIT", 0, 2) == 2
    assert zall(r, "dst") == [b"c", b"3", b"d", b"4"]
    assert cmd(r, "ZRANGESTORE", "dst", "z", 0, 1, "REV") == 2
    assert zall(r, "dst") == [b"d", b"4", b"e", b"5"]
    cmd(r, "ZADD", "lex", 0, "a", 0, "b", 0, "c")
    assert cmd(r, "ZRANGESTORE", "dst", "lex", "(a", "+", "BYLEX") == 2
    assert zall(r, "dst") == [b"b", b"0", b"c", b"0"]
    # empty result deletes the destination
    assert cmd(r, "ZRANGESTORE", "dst", "z", 10, 20) == 0
    assert cmd(r, "EXISTS", "dst") == 0
    assert cmd(r, "ZRANGESTORE", "dst", "nokey", 0, -1) == 0
    # overwrites other types
    cmd(r, "SET", "dst", "x")
    assert cmd(r, "ZRANGESTORE", "dst", "z", 0, 0) == 1
    assert cmd(r, "TYPE", "dst") == b"zset"
    assert err(r, "ZRANGESTORE", "dst", "z", 0, -1, "WITHSCORES") == SYNTAX


# --------------------------------------------------------------------------
# Popping / random
# --------------------------------------------------------------------------


def test_zpopmin_zpopmax(r, z5):
    assert cmd(r, "ZPOPMIN", "z") == [b"a", b"1"]
    assert cmd(r, "ZPOPMAX", "z") == [b"e", b"5"]
    assert cmd(r, "ZPOPMAX", "z", 2) == [b"d", b"4", b"c", b"3"]
    assert cmd(r, "ZPOPMIN", "z", 0) == []
    assert cmd(r, "ZPOPMIN", "z", 10) == [b"b", b"2"]
    assert cmd(r, "EXISTS", "z") == 0
    assert cmd(r, "ZPOPMIN", "nokey") == []
    assert cmd(r, "ZPOPMAX", "nokey", 2) == []
    cmd(r, "ZADD", "z", 1, "a")
    assert err(r, "ZPOPMIN", "z", -1) == "ERR value is out of range, must be positive"
    assert err(r, "ZPOPMAX", "z", "x") == "ERR value is out of range, must be positive"


def test_zmpop(r):
    cmd(r, "ZADD", "z1", 1, "a", 2, "b", 3, "c")
    cmd(r, "ZADD", "z2", 10, "x")
    assert cmd(r, "ZMPOP", 1, "z1", "MIN") == [b"z1", [[b"a", b"1"]]]
    assert cmd(r, "ZMPOP", 2, "nokey", "z1", "MAX", "COUNT", 10) == [
        b"z1", [[b"c", b"3"], [b"b", b"2"]]]
    assert cmd(r, "EXISTS", "z1") == 0
    assert cmd(r, "ZMPOP", 2, "z1", "z2", "min", "count", 1) == [b"z2", [[b"x", b"10"]]]
    assert cmd(r, "ZMPOP", 1, "nokey", "MIN") is None
    cmd(r, "ZADD", "z", 1, "a")
    assert err(r, "ZMPOP", 1, "z", "MIN", "COUNT", 0) == "ERR count should be greater than 0"
    assert err(r, "ZMPOP", 0, "z", "MIN") == "ERR numkeys should be greater than 0"
    assert err(r, "ZMPOP", 1, "z", "FOO") == SYNTAX
    assert err(r, "ZMPOP", 2, "z", "MIN") == SYNTAX
    cmd(r, "SET", "s", "x")
    assert err(r, "ZMPOP", 2, "s", "z", "MIN") == WRONGTYPE


def test_zrandmember(r):
    assert cmd(r, "ZRANDMEMBER", "nokey") is None
    assert cmd(r, "ZRANDMEMBER", "nokey", 5) == []
    assert cmd(r, "ZRANDMEMBER", "nokey", -5, "WITHSCORES") == []
    scores = {f"m{i}".encode(): str(i).encode() for i in range(20)}
    cmd(r, "ZADD", "z", *[x for m, s in scores.items() for x in (s, m)])
    for _ in range(10):
        assert cmd(r, "ZRANDMEMBER", "z") in scores
    assert cmd(r, "ZRANDMEMBER", "z", 0) == []
    got = cmd(r, "ZRANDMEMBER", "z", 5)
    assert len(got) == 5 and len(set(got)) == 5 and set(got) <= set(scores)
    assert sorted(cmd(r, "ZRANDMEMBER", "z", 100)) == sorted(scores)
    got = cmd(r, "ZRANDMEMBER", "z", -100)
    assert len(got) == 100 and set(got) <= set(scores)
    assert max(Counter(got).values()) > 1
    got = pairs(cmd(r, "ZRANDMEMBER", "z", -30, "WITHSCORES"))
    assert len(got) == 30 and all(scores[m] == s for m, s in got)
    got = pairs(cmd(r, "ZRANDMEMBER", "z", 7, "WITHSCORES"))
    assert len({m for m, _ in got}) == 7 and all(scores[m] == s for m, s in got)
    assert cmd(r, "ZCARD", "z") == 20
    assert err(r, "ZRANDMEMBER", "z", "x") == NOT_INT
    assert err(r, "ZRANDMEMBER", "z", 1, "FOO") == SYNTAX


# --------------------------------------------------------------------------
# ZREMRANGEBY*
# --------------------------------------------------------------------------


def test_zremrangebyrank(r, z5):
    assert cmd(r, "ZREMRANGEBYRANK", "z", 0, 0) == 1
    assert cmd(r, "ZRANGE", "z", 0, -1) == [b"b", b"c", b"d", b"e"]
    assert cmd(r, "ZREMRANGEBYRANK", "z", -2, -1) == 2
    assert cmd(r, "ZRANGE", "z", 0, -1) == [b"b", b"c"]
    assert cmd(r, "ZREMRANGEBYRANK", "z", 5, 10) == 0
    assert cmd(r, "ZREMRANGEBYRANK", "z", 0, -1) == 2
    assert cmd(r, "EXISTS", "z") == 0
    assert cmd(r, "ZREMRANGEBYRANK", "nokey", 0, -1) == 0
    assert err(r, "ZREMRANGEBYRANK", "z", "x", 1) == NOT_INT


def test_zremrangebyscore(r, z5):
    assert cmd(r, "ZREMRANGEBYSCORE", "z", "(1", 2) == 1
    assert cmd(r, "ZRANGE", "z", 0, -1) == [b"a", b"c", b"d", b"e"]
    assert cmd(r, "ZREMRANGEBYSCORE", "z", "(4", "+inf") == 1
    assert cmd(r, "ZREMRANGEBYSCORE", "z", 10, 20) == 0
    assert cmd(r, "ZREMRANGEBYSCORE", "z", "-inf", "+inf") == 3
    assert cmd(r, "EXISTS", "z") == 0
    assert err(r, "ZREMRANGEBYSCORE", "z", "x", 1) == NOT_FLOAT_RANGE


def test_zremrangebylex(r):
    cmd(r, "ZADD", "z", 0, "a", 0, "b", 0, "c", 0, "d")
    assert cmd(r, "ZREMRANGEBYLEX", "z", "[b", "(d") == 2
    assert cmd(r, "ZRANGE", "z", 0, -1) == [b"a", b"d"]
    assert cmd(r, "ZREMRANGEBYLEX", "z", "(a", "+") == 1
    assert cmd(r, "ZREMRANGEBYLEX", "z", "-", "+") == 1
    assert cmd(r, "EXISTS", "z") == 0
    assert err(r, "ZREMRANGEBYLEX", "z", "b", "d") == NOT_LEX_RANGE


# --------------------------------------------------------------------------
# ZUNION ZINTER ZDIFF (+STORE) ZINTERCARD
# --------------------------------------------------------------------------


@pytest.fixture
def zsets(r):
    cmd(r, "ZADD", "z1", 1, "a", 2, "b", 3, "c")
    cmd(r, "ZADD", "z2", 10, "b", 20, "c", 30, "d")
    cmd(r, "SADD", "s", "c", "d", "e")


def test_zunion(r, zsets):
    assert cmd(r, "ZUNION", 2, "z1", "z2") == [b"a", b"b", b"c", b"d"]
    assert cmd(r, "ZUNION", 2, "z1", "z2", "WITHSCORES") == [
        b"a", b"1", b"b", b"12", b"c", b"23", b"d", b"30"]
    assert cmd(r, "ZUNION", 2, "z1", "z2", "WEIGHTS", 2, 0.5, "WITHSCORES") == [
        b"a", b"2", b"b", b"9", b"d", b"15", b"c", b"16"]
    assert cmd(r, "ZUNION", 2, "z1", "z2", "AGGREGATE", "MAX", "WITHSCORES") == [
        b"a", b"1", b"b", b"10", b"c", b"20", b"d", b"30"]
    assert cmd(r, "ZUNION", 2, "z1", "z2", "AGGREGATE", "MIN", "WITHSCORES") == [
        b"a", b"1", b"b", b"2", b"c", b"3", b"d", b"30"]
    assert cmd(r, "ZUNION", 2, "z1", "z2", "AGGREGATE", "SUM", "WEIGHTS", 1, -1,
               "WITHSCORES") == [b"d", b"-30", b"c", b"-17", b"b", b"-8", b"a", b"1"]
    # plain sets count with score 1
    assert cmd(r, "ZUNION", 2, "z1", "s", "WITHSCORES") == [
        b"a", b"1", b"d", b"1", b"e", b"1", b"b", b"2", b"c", b"4"]
    assert cmd(r, "ZUNION", 2, "z1", "nokey", "WITHSCORES") == [b"a", b"1", b"b", b"2", b"c", b"3"]
    assert cmd(r, "ZUNION", 1, "nokey") == []


def test_zinter(r, zsets):
    assert cmd(r, "ZINTER", 2, "z1", "z2") == [b"b", b"c"]
    assert cmd(r, "ZINTER", 2, "z1", "z2", "WITHSCORES") == [b"b", b"12", b"c", b"23"]
    assert cmd(r, "ZINTER", 2, "z1", "z2", "AGGREGATE", "MIN", "WITHSCORES") == [
        b"b", b"2", b"c", b"3"]
    assert cmd(r, "ZINTER", 2, "z1", "z2", "WEIGHTS", 3, 0, "AGGREGATE", "MAX",
               "WITHSCORES") == [b"b", b"6", b"c", b"9"]
    assert cmd(r, "ZINTER", 2, "z1", "s", "WITHSCORES") == [b"c", b"4"]
    assert cmd(r, "ZINTER", 2, "z1", "nokey") == []


def test_zdiff(r, zsets):
    assert cmd(r, "ZDIFF", 2, "z1", "z2") == [b"a"]
    assert cmd(r, "ZDIFF", 2, "z1", "z2", "WITHSCORES") == [b"a", b"1"]
    assert cmd(r, "ZDIFF", 2, "z1", "s", "WITHSCORES") == [b"a", b"1", b"b", b"2"]
    assert cmd(r, "ZDIFF", 1, "z2", "WITHSCORES") == [b"b", b"10", b"c", b"20", b"d", b"30"]
    assert cmd(r, "ZDIFF", 2, "nokey", "z1") == []
    assert cmd(r, "ZDIFF", 2, "z1", "z1") == []
    assert err(r, "ZDIFF", 2, "z1", "z2", "WEIGHTS", 1, 1) == SYNTAX


def test_set_op_store(r, zsets):
    assert cmd(r, "ZUNIONSTORE", "d", 2, "z1", "z2") == 4
    assert zall(r, "d") == [b"a", b"1", b"b", b"12", b"c", b"23", b"d", b"30"]
    assert cmd(r, "ZINTERSTORE", "d", 2, "z1", "z2", "WEIGHTS", 1, -1) == 2
    assert zall(r, "d") == [b"c", b"-17", b"b", b"-8"]
    assert cmd(r, "ZDIFFSTORE", "d", 2, "z2", "z1") == 1
    assert zall(r, "d") == [b"d", b"30"]
    assert cmd(r, "ZUNIONSTORE", "d", 2, "z1", "s", "AGGREGATE", "MAX") == 5
    assert zall(r, "d") == [b"a", b"1", b"d", b"1", b"e", b"1", b"b", b"2", b"c", b"3"]
    # destination may be a source
    assert cmd(r, "ZINTERSTORE", "z1", 2, "z1", "z2") == 2
    assert zall(r, "z1") == [b"b", b"12", b"c", b"23"]
    # empty result deletes the destination
    assert cmd(r, "ZINTERSTORE", "d", 2, "z2", "nokey") == 0
    assert cmd(r, "EXISTS", "d") == 0
    cmd(r, "SET", "d", "x")
    assert cmd(r, "ZDIFFSTORE", "d", 2, "z2", "z2") == 0
    assert cmd(r, "EXISTS", "d") == 0
    assert err(r, "ZUNIONSTORE", "d", 2, "z1", "z2", "WITHSCORES") == SYNTAX


def test_zintercard(r, zsets):
    assert cmd(r, "ZINTERCARD", 2, "z1", "z2") == 2
    assert cmd(r, "ZINTERCARD", 2, "z1", "z2", "LIMIT", 1) == 1
    assert cmd(r, "ZINTERCARD", 2, "z1", "z2", "LIMIT", 0) == 2
    assert cmd(r, "ZINTERCARD", 2, "z1", "s") == 1
    assert cmd(r, "ZINTERCARD", 1, "z2") == 3
    assert cmd(r, "ZINTERCARD", 2, "z1", "nokey") == 0
    assert err(r, "ZINTERCARD", 0, "z1") == \
        "ERR at least 1 input key is needed for 'zintercard' command"
    assert err(r, "ZINTERCARD", 2, "z1") == SYNTAX
    assert err(r, "ZINTERCARD", 1, "z1", "LIMIT", -1) == "ERR LIMIT can't be negative"


def test_set_op_errors(r, zsets):
    assert err(r, "ZINTER", 2, "z1", "z2", "WEIGHTS", 1) == SYNTAX
    assert err(r, "ZINTER", 2, "z1", "z2", "WEIGHTS", 1, "WITHSCORES") == \
        "ERR weight value is not a float"
    assert err(r, "ZUNION", 2, "z1", "z2", "WEIGHTS", 1, "x") == "ERR weight value is not a float"
    assert err(r, "ZINTER", 2, "z1", "z2", "AGGREGATE", "FOO") == SYNTAX
    assert err(r, "ZINTER", 0, "z1") == "ERR at least 1 input key is needed for 'zinter' command"
    assert err(r, "ZUNIONSTORE", "d", 0, "z1") == \
        "ERR at least 1 input key is needed for 'zunionstore' command"
    assert err(r, "ZINTER", "x", "z1") == NOT_INT
    assert err(r, "ZINTER", 3, "z1", "z2") == SYNTAX
    cmd(r, "SET", "str", "x")
    assert err(r, "ZUNION", 2, "z1", "str") == WRONGTYPE
    assert err(r, "ZINTERSTORE", "d", 2, "z1", "str") == WRONGTYPE
    assert cmd(r, "EXISTS", "d") == 0


ZSET_COMMANDS = [
    ("ZADD", "k", 1, "a"), ("ZINCRBY", "k", 1, "a"), ("ZREM", "k", "a"), ("ZCARD", "k"),
    ("ZSCORE", "k", "a"), ("ZMSCORE", "k", "a"), ("ZCOUNT", "k", 0, 1),
    ("ZLEXCOUNT", "k", "-", "+"), ("ZRANK", "k", "a"), ("ZREVRANK", "k", "a"),
    ("ZRANGE", "k", 0, -1), ("ZRANGEBYSCORE", "k", 0, 1), ("ZRANGEBYLEX", "k", "-", "+"),
    ("ZREVRANGE", "k", 0, -1), ("ZPOPMIN", "k"), ("ZPOPMAX", "k"), ("ZRANDMEMBER", "k"),
    ("ZREMRANGEBYRANK", "k", 0, 1), ("ZREMRANGEBYSCORE", "k", 0, 1),
    ("ZREMRANGEBYLEX", "k", "-", "+"), ("ZSCAN", "k", 0), ("ZRANGESTORE", "d", "k", 0, -1),
]


@pytest.mark.parametrize("args", ZSET_COMMANDS, ids=lambda a: " ".join(map(str, a)))
def test_wrongtype(r, args):
    cmd(r, "SET", "k", "v")
    assert err(r, *args) == WRONGTYPE


# --------------------------------------------------------------------------
# ZSCAN
# --------------------------------------------------------------------------


def test_zscan(r):
    cmd(r, "ZADD", "small", 1, "a", 2.5, "b")
    got = scan_all(r, "ZSCAN", key="small", count=1)
    assert dict(pairs(got)) == {b"a": b"1", b"b": b"2.5"}
    expected = {f"member:{i}".encode(): str(i).encode() for i in range(1000)}
    cmd(r, "ZADD", "big", *[x for m, s in expected.items() for x in (s, m)])
    for count in (None, 7, 300):
        got = scan_all(r, "ZSCAN", key="big", count=count)
        assert dict(pairs(got)) == expected
    got = scan_all(r, "ZSCAN", key="big", match="member:99?")
    assert dict(pairs(got)) == {f"member:99{i}".encode(): f"99{i}".encode() for i in range(10)}
    assert cmd(r, "ZSCAN", "nokey", 0) == [b"0", []]
    assert err(r, "ZSCAN", "big", "x") == "ERR invalid cursor"
    assert err(r, "ZSCAN", "big", 0, "COUNT", 0) == SYNTAX


# --------------------------------------------------------------------------
# RESP3 replies (checked on the wire)
# --------------------------------------------------------------------------


def test_resp3_double_replies(r, raw):
    cmd(r, "ZADD", "z", 2, "a", 2.5, "b", "inf", "c")
    c = raw()
    assert c.request(b"*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n").startswith(b"%")
    c.send_command("ZSCORE", "z", "a")
    assert c.read_reply() == b",2\r\n"
    c.send_command("ZSCORE", "z", "b")
    assert c.read_reply() == b",2.5\r\n"
    c.send_command("ZSCORE", "z", "c")
    assert c.read_reply() == b",inf\r\n"
    c.send_command("ZSCORE", "z", "nosuch")
    assert c.read_reply() == b"_\r\n"
    c.send_command("ZMSCORE", "z", "b", "nosuch")
    assert c.read_reply() == b"*2\r\n,2.5\r\n_\r\n"
    c.send_command("ZINCRBY", "z", 1, "a")
    assert c.read_reply() == b",3\r\n"
    c.send_command("ZRANGE", "z", 0, 1, "WITHSCORES")
    assert c.read_reply() == b"*2\r\n*2\r\n$1\r\nb\r\n,2.5\r\n*2\r\n$1\r\na\r\n,3\r\n"


def test_resp3_pairs(r, r3):
    cmd(r, "ZADD", "z", 1, "a", 2.5, "b")
    assert cmd(r3, "ZRANGE", "z", 0, -1, "WITHSCORES") == [[b"a", 1.0], [b"b", 2.5]]
    assert cmd(r3, "ZRANGEBYSCORE", "z", "-inf", "+inf", "WITHSCORES") == [[b"a", 1.0], [b"b", 2.5]]
    assert cmd(r3, "ZUNION", 1, "z", "WITHSCORES") == [[b"a", 1.0], [b"b", 2.5]]
    assert sorted(cmd(r3, "ZRANDMEMBER", "z", 2, "WITHSCORES")) == [[b"a", 1.0], [b"b", 2.5]]
    assert cmd(r3, "ZSCORE", "z", "b") == 2.5
    # ZPOPMIN without count is a flat pair, with count an array of pairs
    assert cmd(r3, "ZPOPMIN", "z") == [b"a", 1.0]
    assert cmd(r3, "ZPOPMAX", "z", 1) == [[b"b", 2.5]]


# --------------------------------------------------------------------------
# Encoding
# --------------------------------------------------------------------------


def test_encoding_listpack_to_skiplist(r):
    with config(r, zset_max_listpack_entries=16, zset_max_listpack_value=64):
        cmd(r, "ZADD", "z", *[x for i in range(16) for x in (i, f"m{i}")])
        assert encoding(r, "z") == b"listpack"
        cmd(r, "ZADD", "z", 16, "m16")
        assert encoding(r, "z") == b"skiplist"
        # no conversion back on removal
        cmd(r, "ZREM", "z", *[f"m{i}" for i in range(10)])
        assert encoding(r, "z") == b"skiplist"
        assert cmd(r, "ZRANGE", "z", 0, -1) == [f"m{i}".encode() for i in range(10, 17)]
        # long members
        cmd(r, "ZADD", "long", 1, "x" * 64)
        assert encoding(r, "long") == b"listpack"
        cmd(r, "ZADD", "long", 2, "y" * 65)
        assert encoding(r, "long") == b"skiplist"
        assert cmd(r, "ZRANGE", "long", 0, -1) == [b"x" * 64, b"y" * 65]
        # store commands pick the encoding from the result size
        cmd(r, "ZADD", "small", 1, "a", 2, "b")
        cmd(r, "ZUNIONSTORE", "dst", 1, "small")
        assert encoding(r, "dst") == b"listpack"
        cmd(r, "ZUNIONSTORE", "dst2", 1, "z")
        assert encoding(r, "dst2") == b"listpack"  # 7 members
        cmd(r, "ZUNIONSTORE", "dst3", 2, "z", "long")
        assert encoding(r, "dst3") == b"skiplist"  # has a 65-byte member


def test_encoding_conversion_preserves_order(r):
    with config(r, zset_max_listpack_entries=4):
        rnd = random.Random(7)
        model = {}
        for i in range(30):
            m = f"m{i}".encode()
            s = rnd.randrange(-50, 50)
            cmd(r, "ZADD", "z", s, m)
            model[m] = s
            expected = sorted(model, key=lambda k: (model[k], k))
            assert cmd(r, "ZRANGE", "z", 0, -1) == expected
        assert encoding(r, "z") == b"skiplist"


# --------------------------------------------------------------------------
# A large zset checked against a Python model
# --------------------------------------------------------------------------


def fmt(score):
    """Expected reply for a score that is a multiple of 1/4 (exact in binary,
    so %.17g and repr agree)."""
    if score == int(score):
        return str(int(score)).encode()
    return repr(score).encode()


def parse_bound(b):
    if b in ("-inf",):
        return -math.inf, False
    if b in ("+inf", "inf"):
        return math.inf, False
    if b.startswith("("):
        return float(b[1:]), True
    return float(b), False


def in_range(score, lo, hi):
    lo_v, lo_ex = lo
    hi_v, hi_ex = hi
    if lo_ex and not score > lo_v or not lo_ex and not score >= lo_v:
        return False
    if hi_ex and not score < hi_v or not hi_ex and not score <= hi_v:
        return False
    return True


def test_large_zset_against_model(r):
    rnd = random.Random(20240601)
    model = {}
    args = []
    for i in range(1000):
        m = f"member:{i:04d}".encode()
        s = rnd.randrange(-4000, 4000) / 4   # ties are likely and scores are exact
        model[m] = s
        args += [repr(s), m]
    assert cmd(r, "ZADD", "big", *args) == 1000
    # some updates and removals
    for m in rnd.sample(sorted(model), 100):
        s = rnd.randrange(-4000, 4000) / 4
        cmd(r, "ZADD", "big", repr(s), m)
        model[m] = s
    removed = rnd.sample(sorted(model), 50)
    assert cmd(r, "ZREM", "big", *removed) == 50
    for m in removed:
        del model[m]
    ordered = sorted(model, key=lambda k: (model[k], k))
    n = len(ordered)
    assert cmd(r, "ZCARD", "big") == n == 950
    assert encoding(r, "big") == b"skiplist"

    # full range
    flat = cmd(r, "ZRANGE", "big", 0, -1, "WITHSCORES")
    assert flat[0::2] == ordered
    assert flat[1::2] == [fmt(model[m]) for m in ordered]
    assert cmd(r, "ZREVRANGE", "big", 0, -1) == ordered[::-1]

    # ranks of every member
    pipe = r.pipeline(transaction=False)
    for m in ordered:
        pipe.execute_command("ZRANK", "big", m)
        pipe.execute_command("ZREVRANK", "big", m)
    ranks = pipe.execute()
    assert ranks[0::2] == list(range(n))
    assert ranks[1::2] == list(range(n - 1, -1, -1))

    # index ranges
    for _ in range(60):
        a = rnd.randrange(-n - 20, n + 20)
        b = rnd.randrange(-n - 20, n + 20)
        sa = max(a + n if a < 0 else a, 0)
        sb = b + n if b < 0 else b
        expected = ordered[sa:sb + 1] if sb >= 0 else []
        assert cmd(r, "ZRANGE", "big", a, b) == expected, (a, b)
        rev = ordered[::-1]
        expected_rev = rev[sa:sb + 1] if sb >= 0 else []
        assert cmd(r, "ZRANGE", "big", a, b, "REV") == expected_rev, (a, b)

    # score ranges, inclusive / exclusive / infinite, with LIMIT
    scores_sorted = [model[m] for m in ordered]
    for _ in range(80):
        lo_s = rnd.choice([rnd.randrange(-4100, 4100) / 4, rnd.choice(scores_sorted)])
        hi_s = lo_s + rnd.randrange(0, 3000) / 4
        lo = rnd.choice(["", "("]) + repr(lo_s)
        hi = rnd.choice(["", "("]) + repr(hi_s)
        if rnd.random() < 0.1:
            lo = "-inf"
        if rnd.random() < 0.1:
            hi = "+inf"
        lo_b, hi_b = parse_bound(lo), parse_bound(hi)
        expected = [m for m in ordered if in_range(model[m], lo_b, hi_b)]
        assert cmd(r, "ZRANGEBYSCORE", "big", lo, hi) == expected, (lo, hi)
        assert cmd(r, "ZCOUNT", "big", lo, hi) == len(expected), (lo, hi)
        assert cmd(r, "ZREVRANGEBYSCORE", "big", hi, lo) == expected[::-1], (lo, hi)
        off, cnt = rnd.randrange(0, 50), rnd.randrange(0, 30)
        assert cmd(r, "ZRANGE", "big", lo, hi, "BYSCORE", "LIMIT", off, cnt) == \
            expected[off:off + cnt], (lo, hi, off, cnt)
        assert cmd(r, "ZRANGE", "big", hi, lo, "BYSCORE", "REV", "LIMIT", off, cnt) == \
            expected[::-1][off:off + cnt], (lo, hi, off, cnt)

    # ZSCORE / ZMSCORE spot checks
    sample = rnd.sample(ordered, 50) + removed[:5]
    assert cmd(r, "ZMSCORE", "big", *sample) == [
        fmt(model[m]) if m in model else None for m in sample]

    # ZREMRANGEBYSCORE then ZREMRANGEBYRANK keep the model in sync
    lo_s, hi_s = -200.0, 150.25
    doomed = [m for m in ordered if lo_s <= model[m] <= hi_s]
    assert cmd(r, "ZREMRANGEBYSCORE", "big", repr(lo_s), repr(hi_s)) == len(doomed)
    ordered = [m for m in ordered if m not in set(doomed)]
    assert cmd(r, "ZREMRANGEBYRANK", "big", 10, 19) == 10
    del ordered[10:20]
    assert cmd(r, "ZRANGE", "big", 0, -1) == ordered
    assert cmd(r, "ZCARD", "big") == len(ordered)


def test_large_lex_zset_against_model(r):
    rnd = random.Random(99)
    members = sorted({bytes(rnd.choice(b"abcdef") for _ in range(rnd.randrange(1, 5)))
                      for _ in range(600)})
    cmd(r, "ZADD", "lex", *[x for m in members for x in (0, m)])
    assert cmd(r, "ZRANGEBYLEX", "lex", "-", "+") == members
    for _ in range(60):
        a = bytes(rnd.choice(b"abcdefg") for _ in range(rnd.randrange(1, 4)))
        b = bytes(rnd.choice(b"abcdefg") for _ in range(rnd.randrange(1, 4)))
        ia, ib = rnd.choice([b"[", b"("]), rnd.choice([b"[", b"("])
        expected = [m for m in members
                    if (m >= a if ia == b"[" else m > a) and (m <= b if ib == b"[" else m < b)]
        assert cmd(r, "ZRANGEBYLEX", "lex", ia + a, ib + b) == expected, (ia + a, ib + b)
        assert cmd(r, "ZLEXCOUNT", "lex", ia + a, ib + b) == len(expected)
        assert cmd(r, "ZREVRANGEBYLEX", "lex", ib + b, ia + a) == expected[::-1]
        idx = bisect.bisect_left(members, a)
        assert cmd(r, "ZRANGEBYLEX", "lex", b"[" + a, "+", "LIMIT", 0, 3) == members[idx:idx + 3]
