"""Bitmap commands on string values: SETBIT GETBIT BITCOUNT BITPOS BITOP
BITFIELD BITFIELD_RO, with Redis 7.0.15's replies and errors."""

import pytest
import redis


def test_setbit_getbit_grow_and_keep_ttl(r):
    assert r.setbit("b", 7, 1) == 0
    assert r.get("b") == b"\x01"
    assert r.setbit("b", 7, 0) == 1
    assert r.setbit("b", 100, 1) == 0
    assert r.strlen("b") == 13
    assert r.getbit("b", 100) == 1
    assert r.getbit("b", 10_000) == 0
    assert r.getbit("missing", 3) == 0
    r.set("t", "a", ex=100)
    r.setbit("t", 0, 1)
    assert r.ttl("t") > 0


def test_bit_errors(r):
    with pytest.raises(redis.ResponseError, match="bit offset is not an integer or out of range"):
        r.setbit("b", 4294967296, 1)
    with pytest.raises(redis.ResponseError, match="bit offset is not an integer or out of range"):
        r.setbit("b", -1, 1)
    with pytest.raises(redis.ResponseError, match="bit is not an integer or out of range"):
        r.execute_command("SETBIT", "b", 1, 2)
    r.lpush("l", "x")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.setbit("l", 1, 1)
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.bitcount("l")


def test_bitcount_and_bitpos(r):
    r.set("s", "foobar")
    assert r.bitcount("s") == 26
    assert r.bitcount("s", 0, 0) == 4
    assert r.bitcount("s", 1, 1) == 6
    assert r.bitcount("s", 5, 30, "BIT") == 17
    assert r.bitcount("s", -2, -1) == 7
    r.set("p", b"\xff\xf0\x00")
    assert r.bitpos("p", 0) == 12
    assert r.bitpos("p", 1, 2) == -1
    assert r.bitpos("p", 0, 7, 15, "BIT") == 12
    r.set("ones", b"\xff\xff")
    assert r.bitpos("ones", 0) == 16
    assert r.bitpos("ones", 0, 0, -1) == -1
    assert r.bitpos("missing", 0) == 0


def test_bitop(r):
    r.set("a", b"\x0f\xf0")
    r.set("b", b"\xff")
    assert r.bitop("AND", "d", "a", "b") == 2
    assert r.get("d") == b"\x0f\x00"
    assert r.bitop("OR", "d", "a", "b") == 2
    assert r.get("d") == b"\xff\xf0"
    assert r.bitop("XOR", "d", "a", "b") == 2
    assert r.get("d") == b"\xf0\xf0"
    assert r.bitop("NOT", "d", "a") == 2
    assert r.get("d") == b"\xf0\x0f"
    assert r.bitop("AND", "d", "nope1", "nope2") == 0
    assert r.exists("d") == 0
    with pytest.raises(redis.ResponseError, match="BITOP NOT must be called with a single source key"):
        r.bitop("NOT", "d", "a", "b")


def test_bitfield_types_and_overflow(r):
    assert r.execute_command("BITFIELD", "f", "SET", "i8", 0, 100, "GET", "i8", 0) == [0, 100]
    assert r.execute_command("BITFIELD", "f", "INCRBY", "i8", 0, 100) == [-56]
    assert r.execute_command("BITFIELD", "f", "OVERFLOW", "SAT", "INCRBY", "i8", 0, -200) == [-128]
    assert r.execute_command("BITFIELD", "f", "OVERFLOW", "FAIL", "INCRBY", "i8", 0, -1) == [None]
    assert r.execute_command("BITFIELD", "f", "SET", "u4", "#1", 15, "GET", "u4", 4) == [0, 15]
    assert r.execute_command("BITFIELD_RO", "f", "GET", "u4", 4) == [15]
    with pytest.raises(redis.ResponseError, match="Invalid bitfield type"):
        r.execute_command("BITFIELD", "f", "GET", "u64", 0)
    with pytest.raises(redis.ResponseError, match="BITFIELD_RO only supports the GET subcommand"):
        r.execute_command("BITFIELD_RO", "f", "SET", "u4", 0, 1)
