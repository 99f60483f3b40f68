"""End-to-end tests for key expiration.

Expected values / error texts were checked against redis-server 7.0.15.
Timing-dependent checks poll with generous deadlines instead of asserting
fixed delays.
"""
import time

import pytest

from dtype_helpers import *  # noqa: F401,F403


def info_field(r, section, field):
    text = cmd(r, "INFO", section).decode()
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"{field} not in INFO {section}")


def wait_until(pred, timeout=5.0, interval=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(interval)
    return pred()


@pytest.fixture
def no_active_expire(r):
    """Disable the active expire cycle (DEBUG SET-ACTIVE-EXPIRE 0) so that
    only lazy expiration can remove keys; restored afterwards."""
    assert cmd(r, "DEBUG", "SET-ACTIVE-EXPIRE", 0) == b"OK"
    try:
        yield
    finally:
        cmd(r, "DEBUG", "SET-ACTIVE-EXPIRE", 1)


# --------------------------------------------------------------------------
# EXPIRE family, TTL / PTTL / EXPIRETIME / PEXPIRETIME / PERSIST
# --------------------------------------------------------------------------


def test_expire_ttl(r):
    cmd(r, "SET", "k", "v")
    assert cmd(r, "TTL", "k") == -1
    assert cmd(r, "PTTL", "k") == -1
    assert cmd(r, "EXPIRE", "k", 100) == 1
    assert 95 <= cmd(r, "TTL", "k") <= 100
    assert 95000 <= cmd(r, "PTTL", "k") <= 100000
    assert cmd(r, "PEXPIRE", "k", 200000) == 1
    assert 195 <= cmd(r, "TTL", "k") <= 200
    assert 195000 <= cmd(r, "PTTL", "k") <= 200000
    # missing keys
    assert cmd(r, "EXPIRE", "nokey", 100) == 0
    assert cmd(r, "PEXPIRE", "nokey", 100) == 0
    assert cmd(r, "EXPIREAT", "nokey", int(time.time()) + 100) == 0
    assert cmd(r, "PEXPIREAT", "nokey", int(time.time() * 1000) + 100) == 0
    assert cmd(r, "TTL", "nokey") == -2
    assert cmd(r, "PTTL", "nokey") == -2
    assert cmd(r, "EXISTS", "nokey") == 0


def test_expireat_expiretime(r):
    cmd(r, "SET", "k", "v")
    assert cmd(r, "EXPIRETIME", "k") == -1
    assert cmd(r, "PEXPIRETIME", "k") == -1
    assert cmd(r, "EXPIRETIME", "nokey") == -2
    assert cmd(r, "PEXPIRETIME", "nokey") == -2
    at = int(time.time()) + 100
    assert cmd(r, "EXPIREAT", "k", at) == 1
    assert cmd(r, "EXPIRETIME", "k") == at
    assert cmd(r, "PEXPIRETIME", "k") == at * 1000
    assert 95 <= cmd(r, "TTL", "k") <= 100
    # (a sub-second part below 500 ms, so EXPIRETIME is unambiguous)
    pat = (int(time.time()) + 150) * 1000 + 200
    assert cmd(r, "PEXPIREAT", "k", pat) == 1
    assert cmd(r, "PEXPIRETIME", "k") == pat
    assert cmd(r, "EXPIRETIME", "k") == pat // 1000
    # EXPIRETIME of a relative EXPIRE is now + ttl
    now = time.time()
    cmd(r, "EXPIRE", "k", 1000)
    assert abs(cmd(r, "EXPIRETIME", "k") - (now + 1000)) <= 2


def test_persist(r):
    cmd(r, "SET", "k", "v", "EX", 100)
    assert cmd(r, "PERSIST", "k") == 1
    assert cmd(r, "TTL", "k") == -1
    assert cmd(r, "PERSIST", "k") == 0
    assert cmd(r, "PERSIST", "nokey") == 0
    assert cmd(r, "GET", "k") == b"v"


@pytest.mark.parametrize(
    "command,value",
    [("EXPIRE", 0), ("EXPIRE", -1), ("PEXPIRE", 0), ("PEXPIRE", -1000),
     ("EXPIREAT", 1), ("PEXPIREAT", 0), ("EXPIREAT", -10)],
)
def test_non_positive_or_past_expire_deletes(r, command, value):
    cmd(r, "SET", "k", "v")
    cmd(r, "RPUSH", "l", "a")
    assert cmd(r, command, "k", value) == 1
    assert cmd(r, command, "l", value) == 1
    assert cmd(r, "EXISTS", "k", "l") == 0
    assert cmd(r, "TTL", "k") == -2
    assert cmd(r, "DBSIZE") == 0


def test_expire_options_nx_xx(r):
    cmd(r, "SET", "k", "v")
    assert cmd(r, "EXPIRE", "k", 100, "XX") == 0
    assert cmd(r, "TTL", "k") == -1
    assert cmd(r, "EXPIRE", "k", 100, "NX") == 1
    assert 95 <= cmd(r, "TTL", "k") <= 100
    assert cmd(r, "EXPIRE", "k", 200, "NX") == 0
    assert 95 <= cmd(r, "TTL", "k") <= 100
    assert cmd(r, "EXPIRE", "k", 200, "XX") == 1
    assert 195 <= cmd(r, "TTL", "k") <= 200
    assert cmd(r, "PEXPIRE", "k", 300000, "xx") == 1
    assert 295 <= cmd(r, "TTL", "k") <= 300


def test_expire_options_gt_lt(r):
    cmd(r, "SET", "k", "v")
    # no TTL counts as infinite: GT never applies, LT always does
    assert cmd(r, "EXPIRE", "k", 100, "GT") == 0
    assert cmd(r, "TTL", "k") == -1
    assert cmd(r, "EXPIRE", "k", 100, "LT") == 1
    assert 95 <= cmd(r, "TTL", "k") <= 100
    assert cmd(r, "EXPIRE", "k", 200, "LT") == 0
    assert cmd(r, "EXPIRE", "k", 50, "LT") == 1
    assert 45 <= cmd(r, "TTL", "k") <= 50
    assert cmd(r, "EXPIRE", "k", 10, "GT") == 0
    assert cmd(r, "EXPIRE", "k", 200, "GT") == 1
    assert 195 <= cmd(r, "TTL", "k") <= 200
    # XX + GT / XX + LT combine
    assert cmd(r, "EXPIRE", "k", 300, "XX", "GT") == 1
    assert cmd(r, "EXPIRE", "k", 100, "XX", "GT") == 0
    assert cmd(r, "EXPIRE", "k", 100, "XX", "LT") == 1
    assert 95 <= cmd(r, "TTL", "k") <= 100
    at = int(time.time()) + 1000
    assert cmd(r, "EXPIREAT", "k", at, "GT") == 1
    assert cmd(r, "EXPIRETIME", "k") == at
    assert cmd(r, "PEXPIREAT", "k", at * 1000 - 5000, "LT") == 1
    assert cmd(r, "PEXPIRETIME", "k") == at * 1000 - 5000
    assert cmd(r, "PEXPIREAT", "k", at * 1000, "LT") == 0


def test_expire_errors(r):
    cmd(r, "SET", "k", "v")
    msg = "ERR NX and XX, GT or LT options at the same time are not compatible"
    assert err(r, "EXPIRE", "k", 100, "NX", "XX") == msg
    assert err(r, "EXPIRE", "k", 100, "NX", "GT") == msg
    assert err(r, "EXPIRE", "k", 100, "NX", "LT") == msg
    assert err(r, "EXPIRE", "k", 100, "GT", "LT") == \
        "ERR GT and LT options at the same time are not compatible"
    assert err(r, "EXPIRE", "k", 100, "FOO") == "ERR Unsupported option FOO"
    assert err(r, "EXPIRE", "k", "x") == NOT_INT
    assert err(r, "EXPIRE", "k", "1.5") == NOT_INT
    assert err(r, "EXPIRE", "k", 9223372036854775807) == \
        "ERR invalid expire time in 'expire' command"
    assert err(r, "EXPIRE", "k", 9223372036854775) == \
        "ERR invalid expire time in 'expire' command"
    assert err(r, "PEXPIRE", "k", 9223372036854775807) == \
        "ERR invalid expire time in 'pexpire' command"
    assert err(r, "EXPIREAT", "k", 9223372036854775807) == \
        "ERR invalid expire time in 'expireat' command"
    assert err(r, "EXPIRE", "k") == wrong_args("expire")
    assert err(r, "TTL") == wrong_args("ttl")
    assert cmd(r, "TTL", "k") == -1
    assert cmd(r, "GET", "k") == b"v"


def test_ttl_cleared_by_overwrite_and_kept_by_modification(r):
    cmd(r, "SET", "k", "v", "EX", 100)
    cmd(r, "SET", "k", "v2")
    assert cmd(r, "TTL", "k") == -1
    cmd(r, "SET", "k", "v", "EX", 100)
    assert cmd(r, "SET", "k", "v3", "KEEPTTL") == b"OK"
    assert 95 <= cmd(r, "TTL", "k") <= 100
    cmd(r, "APPEND", "k", "x")
    cmd(r, "SETRANGE", "k", 0, "y")
    assert 95 <= cmd(r, "TTL", "k") <= 100
    cmd(r, "SET", "n", "1", "EX", 100)
    cmd(r, "INCRBY", "n", 5)
    assert 95 <= cmd(r, "TTL", "n") <= 100
    cmd(r, "RPUSH", "l", "a")
    cmd(r, "EXPIRE", "l", 100)
    cmd(r, "RPUSH", "l", "b")
    cmd(r, "LPOP", "l")
    assert 95 <= cmd(r, "TTL", "l") <= 100
    # deleting and re-creating drops the TTL
    cmd(r, "DEL", "l")
    cmd(r, "RPUSH", "l", "a")
    assert cmd(r, "TTL", "l") == -1
    # GETSET clears it
    cmd(r, "GETSET", "k", "z")
    assert cmd(r, "TTL", "k") == -1


# --------------------------------------------------------------------------
# Expiry behaviour
# --------------------------------------------------------------------------


def test_key_expires(r):
    cmd(r, "SET", "k", "v", "PX", 100)
    cmd(r, "RPUSH", "l", "a")
    cmd(r, "PEXPIRE", "l", 100)
    assert cmd(r, "GET", "k") == b"v"
    assert wait_until(lambda: cmd(r, "EXISTS", "k", "l") == 0, timeout=5)
    assert cmd(r, "GET", "k") is None
    assert cmd(r, "LRANGE", "l", 0, -1) == []
    assert cmd(r, "TTL", "k") == -2


def test_lazy_expiry_on_access(r, no_active_expire):
    before = int(info_field(r, "stats", "expired_keys"))
    for i in range(10):
        cmd(r, "SET", f"k{i}", "v", "PX", 50)
    cmd(r, "SET", "keep", "v")
    time.sleep(0.2)
    # active expiry is off, so the expired keys are still counted
    assert cmd(r, "DBSIZE") == 11
    # ... but every access sees them as missing and deletes them
    assert cmd(r, "GET", "k0") is None
    assert cmd(r, "EXISTS", "k1") == 0
    assert cmd(r, "TTL", "k2") == -2
    assert cmd(r, "TYPE", "k3") == b"none"
    assert cmd(r, "STRLEN", "k4") == 0
    assert cmd(r, "MGET", "k5", "k6", "keep") == [None, None, b"v"]
    assert cmd(r, "SET", "k7", "new", "NX") == b"OK"
    assert cmd(r, "TTL", "k7") == -1
    # 8 expired keys deleted, k7 re-created: k7, k8, k9 (still expired), keep
    assert cmd(r, "DBSIZE") == 4
    assert int(info_field(r, "stats", "expired_keys")) - before == 8
    assert sorted(cmd(r, "KEYS", "*")) == [b"k7", b"keep"]


def test_active_expiry_without_access(r):
    before = int(info_field(r, "stats", "expired_keys"))
    for i in range(100):
        cmd(r, "SET", f"k{i}", "v", "PX", 100)
    assert cmd(r, "DBSIZE") == 100
    assert wait_until(lambda: cmd(r, "DBSIZE") == 0, timeout=5, interval=0.05), \
        f"DBSIZE still {cmd(r, 'DBSIZE')}"
    assert int(info_field(r, "stats", "expired_keys")) - before == 100


def test_active_expiry_spares_persistent_keys(r):
    for i in range(50):
        cmd(r, "SET", f"tmp{i}", "v", "PX", 100)
        cmd(r, "SET", f"keep{i}", "v")
    cmd(r, "HSET", "h", "f", "v")
    cmd(r, "PEXPIRE", "h", 100)
    assert wait_until(lambda: cmd(r, "DBSIZE") == 50, timeout=5, interval=0.05)
    assert sorted(cmd(r, "KEYS", "*")) == sorted(f"keep{i}".encode() for i in range(50))


def test_expired_keys_counted_in_info(r):
    before = int(info_field(r, "stats", "expired_keys"))
    cmd(r, "SET", "a", "v", "PX", 20)
    cmd(r, "SET", "b", "v", "PX", 20)
    assert wait_until(lambda: cmd(r, "EXISTS", "a", "b") == 0)
    assert int(info_field(r, "stats", "expired_keys")) - before == 2
    # DEL and EXPIRE 0 are not expirations
    cmd(r, "SET", "c", "v")
    cmd(r, "DEL", "c")
    cmd(r, "SET", "d", "v")
    cmd(r, "EXPIRE", "d", 0)
    assert int(info_field(r, "stats", "expired_keys")) - before == 2


def test_info_keyspace_expires(r):
    cmd(r, "SET", "a", "v", "EX", 100)
    cmd(r, "SET", "b", "v")
    line = info_field(r, "keyspace", "db0")
    fields = dict(kv.split("=") for kv in line.split(","))
    assert fields["keys"] == "2"
    assert fields["expires"] == "1"
