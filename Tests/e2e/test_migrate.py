"""MIGRATE between two servers: values and TTLs arrive, the source key goes
away unless COPY, REPLACE, BUSYKEY, AUTH/AUTH2 to a protected target, the
KEYS form, +NOKEY, IOERR, and credentials redacted in SLOWLOG and MONITOR.

Expected replies were checked against redis-server 7.0.15."""

import socket

import pytest
import redis

from conftest import HOST, _free_port


@pytest.fixture
def pair(start_server, make_client):
    src = start_server()
    dst = start_server("--requirepass", "pw")
    return src, make_client(src.port), dst, make_client(dst.port, password="pw")


def test_migrate_moves_values_and_ttls(pair):
    src, s, dst, d = pair
    s.set("a", "1")
    s.set("b", "2", px=100_000)
    s.rpush("l", "x", "y", "z")
    s.hset("h", mapping={"f": "v"})
    assert s.execute_command("MIGRATE", HOST, dst.port, "a", 0, 5000, "AUTH", "pw") == b"OK"
    assert s.exists("a") == 0 and d.get("a") == b"1"
    assert s.execute_command("MIGRATE", HOST, dst.port, "", 3, 5000, "COPY", "AUTH2", "default", "pw",
                             "KEYS", "b", "l", "h", "missing") == b"OK"
    assert s.exists("b", "l", "h") == 3                       # COPY keeps them
    d.select(3)
    assert d.lrange("l", 0, -1) == [b"x", b"y", b"z"] and d.hgetall("h") == {b"f": b"v"}
    assert 90_000 < d.pttl("b") <= 100_000 and d.pttl("l") == -1
    with pytest.raises(redis.ResponseError, match="BUSYKEY"):
        s.execute_command("MIGRATE", HOST, dst.port, "b", 3, 5000, "AUTH", "pw")
    s.set("b", "new")
    assert s.execute_command("MIGRATE", HOST, dst.port, "b", 3, 5000, "REPLACE", "AUTH", "pw") == b"OK"
    assert d.get("b") == b"new" and d.pttl("b") == -1 and s.exists("b") == 0


def test_migrate_errors(pair):
    src, s, dst, d = pair
    assert s.execute_command("MIGRATE", HOST, dst.port, "nothing", 0, 1000) == b"NOKEY"
    s.set("k", "v")
    with pytest.raises(redis.ResponseError, match="^Target instance replied with error: NOAUTH"):
        s.execute_command("MIGRATE", HOST, dst.port, "k", 0, 1000)
    assert s.get("k") == b"v"
    with pytest.raises(redis.ResponseError, match="the key argument must be set to the empty string"):
        s.execute_command("MIGRATE", HOST, dst.port, "k", 0, 1000, "KEYS", "k")
    with pytest.raises(redis.ResponseError, match="syntax error"):
        s.execute_command("MIGRATE", HOST, dst.port, "k", 0, 1000, "BOGUS")
    with pytest.raises(redis.ResponseError, match="not an integer"):
        s.execute_command("MIGRATE", HOST, dst.port, "k", "x", 1000)
    free = _free_port()
    with pytest.raises(redis.ResponseError, match="^IOERR error or timeout writing to target instance"):
        s.execute_command("MIGRATE", HOST, free, "k", 0, 500)
    assert s.get("k") == b"v"


def test_migrate_credentials_are_redacted(pair, make_client):
    src, s, dst, d = pair
    s.config_set("slowlog-log-slower-than", 0)
    s.slowlog_reset()
    mon = socket.create_connection((HOST, src.port))
    mon.sendall(b"MONITOR\r\n")
    assert mon.recv(64).startswith(b"+OK")
    s.execute_command("MIGRATE", HOST, dst.port, "none", 0, 1000, "AUTH", "secret1")
    s.execute_command("MIGRATE", HOST, dst.port, "none", 0, 1000, "AUTH2", "user", "secret2")
    s.config_set("slowlog-log-slower-than", 10000)
    logged = [e["command"] for e in s.slowlog_get(10)]
    assert any(c.endswith(b"AUTH (redacted)") for c in logged), logged
    assert any(c.endswith(b"AUTH2 (redacted) (redacted)") for c in logged), logged
    mon.settimeout(2)
    seen = b""
    while seen.lower().count(b"migrate") < 2:
        seen += mon.recv(4096)
    mon.close()
    assert b"secret" not in seen and b"user" not in seen and b'"(redacted)"' in seen
