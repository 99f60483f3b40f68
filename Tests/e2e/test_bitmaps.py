"""End-to-end tests for the bitmap commands: SETBIT, GETBIT, BITCOUNT, BITPOS,
BITOP, BITFIELD and BITFIELD_RO.

Every expected value / error text here was checked against redis-server 7.0.15
(TESSERA_SERVER=/usr/bin/redis-server .venv/bin/python -m pytest Tests/e2e/test_bitmaps.py).
"""
import os
import random
import sys
import threading
import time

import pytest
import redis

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dtype_helpers import (  # noqa: E402
    NOT_INT,
    SYNTAX,
    WRONGTYPE,
    cmd,
    config,
    encoding,
    err,
    wrong_args,
)

OFFSET_ERR = "ERR bit offset is not an integer or out of range"
BIT_ERR = "ERR bit is not an integer or out of range"
TYPE_ERR = ("ERR Invalid bitfield type. Use something like i16 u8. "
            "Note that u64 is not supported but i64 is.")
RO_ERR = "ERR BITFIELD_RO only supports the GET subcommand"


# --------------------------------------------------------------------------
# Python models
# --------------------------------------------------------------------------


def bit(data, i):
    return (data[i >> 3] >> (7 - (i & 7))) & 1 if (i >> 3) < len(data) else 0


def popcount(data):
    return sum(bin(b).count("1") for b in data)


def model_bitcount(data, start=None, end=None, unit="byte"):
    if start is None:
        return popcount(data)
    total = len(data) * (8 if unit == "bit" else 1)
    if start < 0 and end < 0 and start > end:
        return 0
    if start < 0:
        start += total
    if end < 0:
        end += total
    start, end = max(start, 0), max(end, 0)
    end = min(end, total - 1)
    if start > end:
        return 0
    if unit == "byte":
        return popcount(data[start:end + 1])
    return sum(bit(data, i) for i in range(start, end + 1))


def model_bitpos(data, b, start=None, end=None, unit="byte"):
    end_given = end is not None
    total = len(data) * (8 if unit == "bit" else 1)
    if start is None:
        start, end = 0, len(data) - 1
    else:
        if end is None:
            end = len(data) - 1
        if start < 0:
            start += total
        if end < 0:
            end += total
        start, end = max(start, 0), max(end, 0)
        end = min(end, total - 1)
    if start > end:
        return -1
    if unit == "byte":
        start, end = start * 8, end * 8 + 7
    for i in range(start, end + 1):
        if bit(data, i) == b:
            return i
    if b == 0 and not end_given:
        return end + 1
    return -1


def model_field(data, offset, bits, signed):
    v = 0
    for i in range(bits):
        v = (v << 1) | bit(data, offset + i)
    if signed and v >> (bits - 1):
        v -= 1 << bits
    return v


# --------------------------------------------------------------------------
# SETBIT / GETBIT
# --------------------------------------------------------------------------


def test_setbit_getbit_basics(r):
    assert cmd(r, "GETBIT", "k", "0") == 0
    assert cmd(r, "SETBIT", "k", "7", "1") == 0
    assert cmd(r, "GET", "k") == b"\x01"
    assert cmd(r, "SETBIT", "k", "7", "1") == 1
    assert cmd(r, "SETBIT", "k", "7", "0") == 1
    assert cmd(r, "GET", "k") == b"\x00"
    assert cmd(r, "SETBIT", "k", "0", "1") == 0
    assert cmd(r, "GETBIT", "k", "0") == 1
    assert cmd(r, "GETBIT", "k", "1") == 0
    # beyond the end: 0, no growth
    assert cmd(r, "GETBIT", "k", "1000") == 0
    assert cmd(r, "STRLEN", "k") == 1


def test_setbit_grows_with_zero_padding(r):
    cmd(r, "SET", "k", "ab")
    assert cmd(r, "SETBIT", "k", "39", "1") == 0
    assert cmd(r, "GET", "k") == b"ab\x00\x00\x01"
    # clearing a bit past the end still grows the string
    assert cmd(r, "SETBIT", "k", "63", "0") == 0
    assert cmd(r, "GET", "k") == b"ab\x00\x00\x01\x00\x00\x00"


def test_setbit_keeps_ttl_and_makes_raw(r):
    cmd(r, "SET", "k", "12345", "EX", "1000")
    assert encoding(r, "k") == b"int"
    assert cmd(r, "SETBIT", "k", "0", "0") == 0  # '1' = 0x31: bit 0 clear, no change
    assert encoding(r, "k") == b"raw"
    assert cmd(r, "SETBIT", "k", "2000", "1") == 0
    assert 990 <= cmd(r, "TTL", "k") <= 1000
    assert cmd(r, "STRLEN", "k") == 251
    assert cmd(r, "GETRANGE", "k", "0", "4") == b"12345"
    cmd(r, "DEL", "n")
    cmd(r, "SETBIT", "n", "0", "1")
    assert encoding(r, "n") == b"raw"


def test_getbit_on_integer_encoded_string(r):
    cmd(r, "SET", "k", "1")  # 0x31 = 00110001
    assert [cmd(r, "GETBIT", "k", str(i)) for i in range(8)] == [0, 0, 1, 1, 0, 0, 0, 1]


def test_setbit_getbit_errors(r):
    for off in ["-1", "x", "", "1.5", "#1", " 1", "4294967296", "9223372036854775808",
                "-9223372036854775808"]:
        assert err(r, "SETBIT", "k", off, "1") == OFFSET_ERR, off
        assert err(r, "GETBIT", "k", off) == OFFSET_ERR, off
    for v in ["2", "-1", "x", "", "1.0", "9223372036854775808"]:
        assert err(r, "SETBIT", "k", "0", v) == BIT_ERR, v
    # the offset is checked first
    assert err(r, "SETBIT", "k", "-1", "5") == OFFSET_ERR
    assert cmd(r, "EXISTS", "k") == 0
    assert err(r, "SETBIT", "k", "0") == wrong_args("setbit")
    assert err(r, "GETBIT", "k") == wrong_args("getbit")


def test_setbit_getbit_wrongtype(r):
    cmd(r, "RPUSH", "l", "a")
    assert err(r, "SETBIT", "l", "0", "1") == WRONGTYPE
    assert err(r, "GETBIT", "l", "0") == WRONGTYPE
    # the offset is validated before the type
    assert err(r, "GETBIT", "l", "-1") == OFFSET_ERR
    assert cmd(r, "LRANGE", "l", "0", "-1") == [b"a"]


def test_offset_limit_follows_proto_max_bulk_len(r):
    with config(r, proto_max_bulk_len="1mb"):
        limit = 1024 * 1024 * 8
        assert err(r, "SETBIT", "k", str(limit), "1") == OFFSET_ERR
        assert err(r, "GETBIT", "k", str(limit)) == OFFSET_ERR
        assert err(r, "BITFIELD", "k", "SET", "u8", str(limit), "1") == OFFSET_ERR
        assert cmd(r, "SETBIT", "k", str(limit - 1), "1") == 0
        assert cmd(r, "STRLEN", "k") == 1024 * 1024
        assert cmd(r, "GETBIT", "k", str(limit - 1)) == 1
        # BITFIELD may write a little past the limit, as Redis does
        assert cmd(r, "BITFIELD", "k", "SET", "u8", str(limit - 1), "255") == [128]
        assert cmd(r, "STRLEN", "k") == 1024 * 1024 + 1
        assert cmd(r, "BITCOUNT", "k") == 8


def test_setbit_large_offset(r):
    # the largest offset allowed by the default 512MB limit
    assert cmd(r, "SETBIT", "big", "4294967295", "1") == 0
    assert cmd(r, "STRLEN", "big") == 512 * 1024 * 1024
    assert cmd(r, "GETBIT", "big", "4294967295") == 1
    assert cmd(r, "BITCOUNT", "big") == 1
    assert cmd(r, "BITPOS", "big", "1") == 4294967295
    assert cmd(r, "BITPOS", "big", "1", "-1") == 4294967295
    assert cmd(r, "BITPOS", "big", "0", "-1") == (512 * 1024 * 1024 - 1) * 8
    assert cmd(r, "DEL", "big") == 1


# --------------------------------------------------------------------------
# BITCOUNT
# --------------------------------------------------------------------------


def test_bitcount_basics(r):
    assert cmd(r, "BITCOUNT", "nokey") == 0
    assert cmd(r, "BITCOUNT", "nokey", "0", "-1") == 0
    # with a missing key the range is not even parsed
    assert cmd(r, "BITCOUNT", "nokey", "a", "b") == 0
    cmd(r, "SET", "k", "foobar")
    assert cmd(r, "BITCOUNT", "k") == 26
    assert cmd(r, "BITCOUNT", "k", "0", "0") == 4
    assert cmd(r, "BITCOUNT", "k", "1", "1") == 6
    assert cmd(r, "BITCOUNT", "k", "1", "1", "BYTE") == 6
    assert cmd(r, "BITCOUNT", "k", "5", "30", "BIT") == 17
    assert cmd(r, "BITCOUNT", "k", "5", "30", "bit") == 17
    assert cmd(r, "BITCOUNT", "k", "-2", "-1") == 7
    assert cmd(r, "BITCOUNT", "k", "100", "200") == 0
    assert cmd(r, "BITCOUNT", "k", "-100", "-1") == 26
    assert cmd(r, "BITCOUNT", "k", "-1", "-2") == 0
    cmd(r, "SET", "e", "")
    assert cmd(r, "BITCOUNT", "e") == 0
    assert cmd(r, "BITCOUNT", "e", "0", "-1") == 0


def test_bitcount_errors(r):
    cmd(r, "SET", "k", "foobar")
    assert err(r, "BITCOUNT", "k", "0") == SYNTAX
    assert err(r, "BITCOUNT", "k", "0", "1", "BIT", "x") == SYNTAX
    assert err(r, "BITCOUNT", "k", "0", "1", "bits") == SYNTAX
    assert err(r, "BITCOUNT", "k", "a", "1") == NOT_INT
    assert err(r, "BITCOUNT", "k", "0", "1.5") == NOT_INT
    # negative start > end is answered before the unit is checked
    assert cmd(r, "BITCOUNT", "k", "-1", "-2", "foo") == 0
    assert err(r, "BITCOUNT") == wrong_args("bitcount")
    cmd(r, "RPUSH", "l", "a")
    assert err(r, "BITCOUNT", "l") == WRONGTYPE
    assert err(r, "BITCOUNT", "l", "x", "y") == WRONGTYPE


def test_bitcount_extreme_indexes(r):
    cmd(r, "SET", "k", "\x7f")
    lo, hi = str(-2**63), str(2**63 - 1)
    assert cmd(r, "BITCOUNT", "k", lo, hi) == 7
    assert cmd(r, "BITCOUNT", "k", lo, hi, "BIT") == 7
    assert cmd(r, "BITCOUNT", "k", hi, lo, "BIT") == 0
    assert cmd(r, "BITCOUNT", "k", hi, hi) == 0


def test_bitcount_random_against_model(r):
    rnd = random.Random(7)
    for n in [1, 7, 8, 9, 31, 32, 33, 100, 257, 1000]:
        data = bytes(rnd.choice([0, 255, rnd.randrange(256)]) for _ in range(n))
        cmd(r, "SET", "k", data)
        assert cmd(r, "BITCOUNT", "k") == popcount(data)
        for _ in range(30):
            unit = rnd.choice(["byte", "bit"])
            span = n * (8 if unit == "bit" else 1)
            s, e = rnd.randint(-span - 3, span + 3), rnd.randint(-span - 3, span + 3)
            got = cmd(r, "BITCOUNT", "k", str(s), str(e), unit.upper())
            assert got == model_bitcount(data, s, e, unit), (n, s, e, unit)


# --------------------------------------------------------------------------
# BITPOS
# --------------------------------------------------------------------------


def test_bitpos_missing_and_empty(r):
    assert cmd(r, "BITPOS", "nokey", "0") == 0
    assert cmd(r, "BITPOS", "nokey", "1") == -1
    assert cmd(r, "BITPOS", "nokey", "1", "a") == -1
    cmd(r, "SET", "e", "")
    assert cmd(r, "BITPOS", "e", "0") == -1
    assert cmd(r, "BITPOS", "e", "1") == -1


def test_bitpos_basics(r):
    cmd(r, "SET", "k", b"\xff\xf0\x00")
    assert cmd(r, "BITPOS", "k", "0") == 12
    assert cmd(r, "BITPOS", "k", "1") == 0
    assert cmd(r, "BITPOS", "k", "1", "2") == -1
    assert cmd(r, "BITPOS", "k", "0", "1") == 12
    assert cmd(r, "BITPOS", "k", "1", "1") == 8
    assert cmd(r, "BITPOS", "k", "0", "2", "-1", "BYTE") == 16
    assert cmd(r, "BITPOS", "k", "1", "7", "15", "BIT") == 7
    assert cmd(r, "BITPOS", "k", "0", "7", "15", "bit") == 12
    assert cmd(r, "BITPOS", "k", "1", "12", "-1", "BIT") == -1
    cmd(r, "SET", "k", b"\x00\x00\x00")
    assert cmd(r, "BITPOS", "k", "1") == -1
    assert cmd(r, "BITPOS", "k", "1", "0", "-1", "BIT") == -1


def test_bitpos_clear_bit_end_given(r):
    cmd(r, "SET", "k", b"\xff\xff\xff")
    assert cmd(r, "BITPOS", "k", "0") == 24
    assert cmd(r, "BITPOS", "k", "0", "0") == 24
    assert cmd(r, "BITPOS", "k", "0", "1") == 24
    assert cmd(r, "BITPOS", "k", "0", "0", "-1") == -1
    assert cmd(r, "BITPOS", "k", "0", "0", "-1", "bit") == -1
    assert cmd(r, "BITPOS", "k", "0", "10") == -1  # start past the end


def test_bitpos_errors(r):
    cmd(r, "SET", "k", "abc")
    assert err(r, "BITPOS", "k", "2") == "ERR The bit argument must be 1 or 0."
    assert err(r, "BITPOS", "nokey", "-1") == "ERR The bit argument must be 1 or 0."
    assert err(r, "BITPOS", "k", "x") == NOT_INT
    assert err(r, "BITPOS", "k", "1", "x") == NOT_INT
    assert err(r, "BITPOS", "k", "1", "0", "x") == NOT_INT
    # the unit is checked before the end index
    assert err(r, "BITPOS", "k", "1", "0", "x", "foo") == SYNTAX
    assert err(r, "BITPOS", "k", "1", "0", "1", "BIT", "x") == SYNTAX
    assert err(r, "BITPOS", "k") == wrong_args("bitpos")
    cmd(r, "RPUSH", "l", "a")
    assert err(r, "BITPOS", "l", "1") == WRONGTYPE


def test_bitpos_random_against_model(r):
    rnd = random.Random(11)
    for n in [1, 2, 8, 9, 40, 64, 65, 300]:
        for fill in (0, 255):
            data = bytearray([fill] * n)
            for _ in range(rnd.randint(0, 2)):
                i = rnd.randrange(n * 8)
                data[i >> 3] ^= 0x80 >> (i & 7)
            data = bytes(data)
            cmd(r, "SET", "k", data)
            for b in (0, 1):
                assert cmd(r, "BITPOS", "k", str(b)) == model_bitpos(data, b)
                for _ in range(12):
                    unit = rnd.choice(["byte", "bit"])
                    span = n * (8 if unit == "bit" else 1)
                    s = rnd.randint(-span - 2, span + 2)
                    e = rnd.randint(-span - 2, span + 2)
                    assert cmd(r, "BITPOS", "k", str(b), str(s)) == model_bitpos(data, b, s), (n, b, s)
                    got = cmd(r, "BITPOS", "k", str(b), str(s), str(e), unit)
                    assert got == model_bitpos(data, b, s, e, unit), (n, b, s, e, unit)


# --------------------------------------------------------------------------
# BITOP
# --------------------------------------------------------------------------


def test_bitop_operations(r):
    cmd(r, "SET", "a", b"\xff\x0f\xaa")
    cmd(r, "SET", "b", b"\x0f\xff")
    assert cmd(r, "BITOP", "AND", "d", "a", "b") == 3
    assert cmd(r, "GET", "d") == b"\x0f\x0f\x00"
    assert cmd(r, "BITOP", "or", "d", "a", "b") == 3
    assert cmd(r, "GET", "d") == b"\xff\xff\xaa"
    assert cmd(r, "BITOP", "Xor", "d", "a", "b") == 3
    assert cmd(r, "GET", "d") == b"\xf0\xf0\xaa"
    assert cmd(r, "BITOP", "NOT", "d", "a") == 3
    assert cmd(r, "GET", "d") == b"\x00\xf0\x55"
    # missing keys are streams of zeros
    assert cmd(r, "BITOP", "OR", "d", "nokey", "b") == 2
    assert cmd(r, "GET", "d") == b"\x0f\xff"
    assert cmd(r, "BITOP", "AND", "d", "a", "nokey") == 3
    assert cmd(r, "GET", "d") == b"\x00\x00\x00"
    # single input: unchanged copy
    for op in ("AND", "OR", "XOR"):
        assert cmd(r, "BITOP", op, "d", "a") == 3
        assert cmd(r, "GET", "d") == b"\xff\x0f\xaa"
    # integer-encoded sources are their decimal text
    cmd(r, "SET", "i", "12")
    assert cmd(r, "BITOP", "NOT", "d", "i") == 2
    assert cmd(r, "GET", "d") == bytes([0xff ^ ord("1"), 0xff ^ ord("2")])
    assert encoding(r, "d") == b"raw"


def test_bitop_dest_is_source_and_overwrites(r):
    cmd(r, "SET", "a", b"\x01\x02")
    assert cmd(r, "BITOP", "NOT", "a", "a") == 2
    assert cmd(r, "GET", "a") == b"\xfe\xfd"
    # the destination may hold any type and loses its TTL
    cmd(r, "RPUSH", "d", "x")
    cmd(r, "EXPIRE", "d", "100")
    assert cmd(r, "BITOP", "XOR", "d", "a", "a") == 2
    assert cmd(r, "TYPE", "d") == b"string"
    assert cmd(r, "GET", "d") == b"\x00\x00"
    assert cmd(r, "TTL", "d") == -1


def test_bitop_empty_result_deletes_dest(r):
    cmd(r, "RPUSH", "d", "x")
    assert cmd(r, "BITOP", "OR", "d", "nokey1", "nokey2") == 0
    assert cmd(r, "EXISTS", "d") == 0
    cmd(r, "SET", "e", "")
    cmd(r, "SET", "d", "v")
    assert cmd(r, "BITOP", "NOT", "d", "e") == 0
    assert cmd(r, "EXISTS", "d") == 0
    # issue #529: an empty string after a non-empty one
    cmd(r, "SET", "a", b"\xaa\xbb")
    assert cmd(r, "BITOP", "OR", "d", "a", "e") == 2
    assert cmd(r, "GET", "d") == b"\xaa\xbb"


def test_bitop_errors(r):
    cmd(r, "SET", "a", "x")
    cmd(r, "RPUSH", "l", "x")
    assert err(r, "BITOP", "NAND", "d", "a") == SYNTAX
    assert err(r, "BITOP", "NOT", "d", "a", "a") == "ERR BITOP NOT must be called with a single source key."
    assert err(r, "BITOP", "NOT", "d") == wrong_args("bitop")
    assert err(r, "BITOP", "AND", "d", "a", "l") == WRONGTYPE
    assert cmd(r, "EXISTS", "d") == 0
    # the destination's type does not matter, a source's does
    assert err(r, "BITOP", "AND", "a", "l") == WRONGTYPE
    assert cmd(r, "GET", "a") == b"x"


def test_bitop_random_against_model(r):
    rnd = random.Random(5)
    for _ in range(40):
        k = rnd.randint(1, 5)
        srcs = [bytes(rnd.randrange(256) for _ in range(rnd.randint(0, 100))) for _ in range(k)]
        for j, s in enumerate(srcs):
            cmd(r, "SET", f"s{j}", s)
        n = max(len(s) for s in srcs)
        for op in ("AND", "OR", "XOR") + (("NOT",) if k == 1 else ()):
            out = []
            for i in range(n):
                vals = [s[i] if i < len(s) else 0 for s in srcs]
                acc = vals[0]
                for v in vals[1:]:
                    acc = {"AND": acc & v, "OR": acc | v, "XOR": acc ^ v}[op]
                out.append(acc ^ 0xFF if op == "NOT" else acc)
            assert cmd(r, "BITOP", op, "dest", *[f"s{j}" for j in range(k)]) == n
            assert cmd(r, "GET", "dest") == (bytes(out) if n else None)


# --------------------------------------------------------------------------
# BITFIELD
# --------------------------------------------------------------------------


def test_bitfield_set_get_basics(r):
    assert cmd(r, "BITFIELD", "k", "SET", "i8", "0", "-100") == [0]
    assert cmd(r, "BITFIELD", "k", "SET", "i8", "0", "101") == [-100]
    assert cmd(r, "BITFIELD", "k", "GET", "i8", "0") == [101]
    assert cmd(r, "BITFIELD", "k", "SET", "u8", "0", "255") == [101]
    assert cmd(r, "BITFIELD", "k", "GET", "u8", "0", "GET", "i8", "0", "GET", "u4", "4") == [255, -1, 15]
    assert cmd(r, "GET", "k") == b"\xff"
    assert cmd(r, "BITFIELD", "k", "SET", "u2", "7", "1", "GET", "u16", "0") == [2, 65152]
    assert cmd(r, "GET", "k") == b"\xfe\x80"


def test_bitfield_only_key(r):
    assert cmd(r, "BITFIELD", "nokey") == []
    assert cmd(r, "BITFIELD_RO", "nokey") == []
    assert cmd(r, "EXISTS", "nokey") == 0
    cmd(r, "RPUSH", "l", "x")
    assert err(r, "BITFIELD", "l") == WRONGTYPE
    assert err(r, "BITFIELD_RO", "l") == WRONGTYPE
    assert cmd(r, "BITFIELD", "k", "OVERFLOW", "SAT") == []


def test_bitfield_hash_offsets(r):
    assert cmd(r, "BITFIELD", "k", "SET", "u8", "#0", "65", "SET", "u8", "#1", "66",
               "SET", "u8", "#2", "67") == [0, 0, 0]
    assert cmd(r, "GET", "k") == b"ABC"
    assert cmd(r, "BITFIELD", "k", "GET", "u8", "#1", "GET", "u4", "#3") == [66, 2]
    assert cmd(r, "BITFIELD", "k", "INCRBY", "u8", "#2", "1") == [68]
    # N * bits wraps in 64 bits, exactly as Redis computes it
    cmd(r, "SET", "k", "abcdefgh")
    assert cmd(r, "BITFIELD", "k", "GET", "i16", "#1152921504606846977") == \
        cmd(r, "BITFIELD", "k", "GET", "i16", "16")
    assert err(r, "BITFIELD", "k", "GET", "i8", "#1152921504606846977") == OFFSET_ERR
    assert err(r, "BITFIELD", "k", "GET", "i8", "#-1") == OFFSET_ERR
    assert err(r, "BITFIELD", "k", "GET", "i8", "#") == OFFSET_ERR


def test_bitfield_extreme_types(r):
    cmd(r, "SET", "k", b"\x80" + b"\x00" * 7)
    assert cmd(r, "BITFIELD", "k", "GET", "i64", "0", "GET", "u63", "0", "GET", "i1", "0", "GET", "u1", "0") == \
        [-2**63, 2**62, -1, 1]
    assert cmd(r, "BITFIELD", "k", "SET", "i64", "0", str(2**63 - 1)) == [-2**63]
    assert cmd(r, "BITFIELD", "k", "GET", "i64", "0", "GET", "u63", "1") == [2**63 - 1, 2**63 - 1]
    # reads past the end are zero padded
    assert cmd(r, "BITFIELD", "k", "GET", "u63", "60", "GET", "i64", "1000") == [15 << 59, 0]


def test_bitfield_incrby_and_overflow(r):
    # unsigned wrap (default), sat, fail
    assert cmd(r, "BITFIELD", "k", "SET", "u8", "0", "250") == [0]
    assert cmd(r, "BITFIELD", "k", "INCRBY", "u8", "0", "10") == [4]
    assert cmd(r, "BITFIELD", "k", "INCRBY", "u8", "0", "-10") == [250]
    assert cmd(r, "BITFIELD", "k", "OVERFLOW", "SAT", "INCRBY", "u8", "0", "10") == [255]
    assert cmd(r, "BITFIELD", "k", "OVERFLOW", "SAT", "INCRBY", "u8", "0", "-1000") == [0]
    assert cmd(r, "BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "-1") == [None]
    assert cmd(r, "BITFIELD", "k", "GET", "u8", "0") == [0]
    # signed
    assert cmd(r, "BITFIELD", "s", "SET", "i8", "0", "120") == [0]
    assert cmd(r, "BITFIELD", "s", "INCRBY", "i8", "0", "10") == [-126]
    assert cmd(r, "BITFIELD", "s", "OVERFLOW", "SAT", "INCRBY", "i8", "0", "-10") == [-128]
    assert cmd(r, "BITFIELD", "s", "OVERFLOW", "SAT", "INCRBY", "i8", "0", "1000") == [127]
    assert cmd(r, "BITFIELD", "s", "OVERFLOW", "FAIL", "INCRBY", "i8", "0", "1") == [None]
    # the mode applies to the operations after it, and can change mid-command
    assert cmd(r, "BITFIELD", "s", "INCRBY", "i8", "0", "1", "OVERFLOW", "FAIL", "INCRBY", "i8", "0", "-1",
               "OVERFLOW", "SAT", "INCRBY", "i8", "0", "-1000") == [-128, None, -128]
    # i64 edges
    cmd(r, "DEL", "w")
    assert cmd(r, "BITFIELD", "w", "SET", "i64", "0", str(2**63 - 1), "INCRBY", "i64", "0", "1") == [0, -2**63]
    assert cmd(r, "BITFIELD", "w", "OVERFLOW", "SAT", "INCRBY", "i64", "0", "-1") == [-2**63]
    assert cmd(r, "BITFIELD", "w", "OVERFLOW", "FAIL", "INCRBY", "i64", "0", str(-2**63)) == [None]
    assert cmd(r, "BITFIELD", "w", "OVERFLOW", "SAT", "INCRBY", "u63", "0", str(2**63 - 1)) == [2**63 - 1]


def test_bitfield_set_overflow(r):
    assert cmd(r, "BITFIELD", "k", "SET", "u8", "0", "-1", "GET", "u8", "0") == [0, 255]
    assert cmd(r, "BITFIELD", "k", "SET", "u8", "0", "256", "GET", "u8", "0") == [255, 0]
    assert cmd(r, "BITFIELD", "k", "OVERFLOW", "SAT", "SET", "u8", "0", "-1", "GET", "u8", "0") == [0, 255]
    assert cmd(r, "BITFIELD", "k", "OVERFLOW", "FAIL", "SET", "u8", "0", "256", "GET", "u8", "0") == [None, 255]
    assert cmd(r, "BITFIELD", "k", "OVERFLOW", "SAT", "SET", "i8", "0", "-300", "GET", "i8", "0") == [-1, -128]
    assert cmd(r, "BITFIELD", "k", "SET", "i8", "0", "200", "GET", "i8", "0") == [-128, -56]
    # Redis quirk: a signed SET of a value near INT64_MIN saturates upwards
    assert cmd(r, "BITFIELD", "k", "OVERFLOW", "SAT", "SET", "i8", "0", str(-2**63), "GET", "i8", "0") == [-56, 127]
    assert cmd(r, "BITFIELD", "k", "OVERFLOW", "SAT", "SET", "i8", "0", str(-2**63 + 128), "GET", "i8", "0") == \
        [127, -128]


def test_bitfield_fail_still_creates_the_key(r):
    assert cmd(r, "BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u2", "10", "5") == [None]
    assert cmd(r, "GET", "k") == b"\x00\x00"


def test_bitfield_errors(r):
    cmd(r, "SET", "k", "x")
    for t in ["u64", "i65", "i0", "u0", "I8", "U8", "u", "i", "", "i08", "i+8", "8", "x8", "i-1"]:
        assert err(r, "BITFIELD", "k", "GET", t, "0") == TYPE_ERR, t
    for off in ["-1", "x", "", "1.0", "4294967296"]:
        assert err(r, "BITFIELD", "k", "GET", "u8", off) == OFFSET_ERR, off
    assert err(r, "BITFIELD", "k", "SET", "u8", "0", "x") == NOT_INT
    assert err(r, "BITFIELD", "k", "INCRBY", "u8", "0", str(2**63)) == NOT_INT
    assert err(r, "BITFIELD", "k", "GET", "u8") == SYNTAX
    assert err(r, "BITFIELD", "k", "SET", "u8", "0") == SYNTAX
    assert err(r, "BITFIELD", "k", "FOO", "u8", "0") == SYNTAX
    assert err(r, "BITFIELD", "k", "OVERFLOW") == SYNTAX
    assert err(r, "BITFIELD", "k", "GET", "u8", "0", "OVERFLOW") == SYNTAX
    assert err(r, "BITFIELD", "k", "OVERFLOW", "BOGUS", "GET", "u8", "0") == "ERR Invalid OVERFLOW type specified"
    # nothing is executed when a later operation is malformed
    assert err(r, "BITFIELD", "k", "SET", "u8", "0", "1", "GET", "u64", "0") == TYPE_ERR
    assert cmd(r, "GET", "k") == b"x"
    assert err(r, "BITFIELD") == wrong_args("bitfield")
    cmd(r, "RPUSH", "l", "a")
    assert err(r, "BITFIELD", "l", "GET", "u8", "0") == WRONGTYPE
    assert err(r, "BITFIELD", "l", "SET", "u8", "0", "1") == WRONGTYPE


def test_bitfield_ro(r):
    cmd(r, "SET", "k", b"\x0f")
    assert cmd(r, "BITFIELD_RO", "k", "GET", "u4", "4", "GET", "i4", "4") == [15, -1]
    assert cmd(r, "BITFIELD_RO", "nokey", "GET", "u4", "4") == [0]
    assert err(r, "BITFIELD_RO", "k", "SET", "u8", "0", "1") == RO_ERR
    assert err(r, "BITFIELD_RO", "k", "GET", "u8", "0", "INCRBY", "u8", "0", "1") == RO_ERR
    # parse errors come first
    assert err(r, "BITFIELD_RO", "k", "GET", "u8", "0", "SET", "u8", "0", "x") == NOT_INT
    assert cmd(r, "BITFIELD_RO", "k", "OVERFLOW", "FAIL", "GET", "u8", "0") == [15]
    assert cmd(r, "GET", "k") == b"\x0f"
    assert cmd(r, "EXISTS", "nokey") == 0


def test_bitfield_resp3_null_on_fail(r3, r):
    assert cmd(r3, "BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "5", "GET", "u2", "0") == [None, 0]


def test_bitfield_random_against_model(r):
    rnd = random.Random(3)
    data = bytearray()
    for _ in range(400):
        signed = rnd.random() < 0.5
        bits = rnd.randint(1, 64 if signed else 63)
        off = rnd.randint(0, 300)
        typ = ("i" if signed else "u") + str(bits)
        lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
        mode = rnd.choice(["WRAP", "SAT", "FAIL"])
        incr = rnd.randint(-(1 << bits), 1 << bits) if bits < 63 else rnd.randint(-2**63, 2**63 - 1)
        need = (off + bits - 1) // 8 + 1
        if len(data) < need:
            data.extend(b"\x00" * (need - len(data)))
        old = model_field(data, off, bits, signed)
        target = old + incr
        if lo <= target <= hi:
            new = target
        elif mode == "FAIL":
            new = None
        elif mode == "SAT":
            new = hi if target > hi else lo
        else:
            new = (target - lo) % (1 << bits) + lo
        got = cmd(r, "BITFIELD", "k", "OVERFLOW", mode, "INCRBY", typ, str(off), str(incr))
        assert got == [new], (typ, off, mode, old, incr)
        if new is not None:
            v = new % (1 << bits)
            for i in range(bits):
                b = (v >> (bits - 1 - i)) & 1
                p = off + i
                data[p >> 3] = (data[p >> 3] & ~(0x80 >> (p & 7))) | (b << (7 - (p & 7)))
        assert cmd(r, "GET", "k") == bytes(data)


# --------------------------------------------------------------------------
# Transactions, dirty counter, notifications, command table
# --------------------------------------------------------------------------


def _changes(r):
    info = cmd(r, "INFO", "persistence").decode()
    for line in info.splitlines():
        if line.startswith("rdb_changes_since_last_save:"):
            return int(line.split(":")[1])
    raise AssertionError("no rdb_changes_since_last_save")


def test_dirty_only_when_value_changes(r):
    d = _changes(r)
    cmd(r, "SETBIT", "a", "0", "0")
    cmd(r, "BITFIELD", "b", "SET", "i5", "0", "0")
    assert _changes(r) == d + 2
    cmd(r, "SETBIT", "a", "0", "0")
    cmd(r, "BITFIELD", "b", "SET", "i5", "0", "0")
    cmd(r, "BITFIELD", "b", "OVERFLOW", "FAIL", "INCRBY", "i5", "0", "100")
    assert _changes(r) == d + 2
    cmd(r, "BITFIELD", "b", "INCRBY", "i5", "0", "1", "INCRBY", "i5", "0", "1")
    assert _changes(r) == d + 4
    cmd(r, "BITOP", "NOT", "c", "a")
    assert _changes(r) == d + 5
    cmd(r, "BITOP", "AND", "c", "nokey")
    assert _changes(r) == d + 6
    cmd(r, "BITOP", "AND", "c", "nokey")
    assert _changes(r) == d + 6


def test_watch_sees_bit_changes(r, make_client):
    other = make_client()
    cmd(r, "SETBIT", "w", "3", "0")
    for change, touched in [(("SETBIT", "w", "3", "1"), True),
                            (("SETBIT", "w", "3", "1"), False),  # same bit: no change
                            (("BITFIELD", "w", "SET", "u4", "0", "1"), False),
                            (("BITFIELD", "w", "SET", "u4", "0", "2"), True),
                            (("BITFIELD", "w", "OVERFLOW", "FAIL", "INCRBY", "u4", "0", "99"), False),
                            (("BITOP", "OR", "w", "w"), True)]:
        assert cmd(r, "WATCH", "w") == b"OK"
        cmd(other, *change)
        assert cmd(r, "MULTI") == b"OK"
        cmd(r, "PING")
        res = cmd(r, "EXEC")
        assert (res is None) == touched, change


def test_keyspace_events(r, make_client):
    sub = make_client()
    ps = sub.pubsub()
    ps.psubscribe("__keyevent@0__:*")
    with config(r, notify_keyspace_events="KEA"):
        deadline = time.time() + 2
        while time.time() < deadline:
            m = ps.get_message(timeout=0.1)
            if m and m["type"] == "psubscribe":
                break
        cmd(r, "SETBIT", "k", "1", "1")
        cmd(r, "SETBIT", "k", "1", "1")  # no change: no event
        cmd(r, "BITFIELD", "k", "SET", "u8", "8", "5")
        cmd(r, "BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "9")  # fails: no event
        cmd(r, "BITOP", "NOT", "d", "k")
        cmd(r, "BITOP", "AND", "d", "nokey")
        events = []
        deadline = time.time() + 2
        while time.time() < deadline and len(events) < 4:
            m = ps.get_message(timeout=0.2)
            if m and m["type"] == "pmessage":
                events.append((m["channel"].split(b":", 1)[1], m["data"]))
        ps.close()
    assert events == [(b"setbit", b"k"), (b"setbit", b"k"), (b"set", b"d"), (b"del", b"d")]


def test_command_info(r):
    info = {}
    for name in ["setbit", "getbit", "bitcount", "bitpos", "bitop", "bitfield", "bitfield_ro"]:
        reply = cmd(r, "COMMAND", "INFO", name)[0]
        info[name] = (reply[1], sorted(reply[2]), reply[3], reply[4], reply[5])
    assert info == {
        "setbit": (4, [b"denyoom", b"write"], 1, 1, 1),
        "getbit": (3, [b"fast", b"readonly"], 1, 1, 1),
        "bitcount": (-2, [b"readonly"], 1, 1, 1),
        "bitpos": (-3, [b"readonly"], 1, 1, 1),
        "bitop": (-4, [b"denyoom", b"write"], 2, -1, 1),
        "bitfield": (-2, [b"denyoom", b"write"], 1, 1, 1),
        "bitfield_ro": (-2, [b"fast", b"readonly"], 1, 1, 1),
    }


# --------------------------------------------------------------------------
# Smoke tests through redis-py's command helpers (from main's first version)
# --------------------------------------------------------------------------


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
