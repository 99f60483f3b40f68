"""SLOWLOG: entries, truncation, redaction, limits.

Expected replies were checked against redis-server 7.0.15.  Each test uses its
own server instance (``start_server``): the slowlog is server-wide state.
"""

import time

import pytest
import redis

from conftest import is_reference_redis


@pytest.fixture
def slow(start_server, make_client):
    info = start_server("--slowlog-log-slower-than", "0", "--slowlog-max-len", "128")
    c = make_client(info.port)
    c.slowlog_reset()
    return c


def entries(c, n=-1):
    return c.execute_command("SLOWLOG", "GET", n)


def test_entry_shape_and_fields(slow):
    slow.client_setname("probe")
    slow.set("k", "v")
    e = entries(slow, 1)[0]
    assert len(e) == 6
    ident, ts, usec, args, peer, name = e
    assert isinstance(ident, int) and ident >= 1  # SLOWLOG RESET itself was entry 0
    assert abs(ts - time.time()) < 5
    assert usec >= 0
    assert args == [b"SET", b"k", b"v"]
    assert peer.startswith(b"127.0.0.1:")
    assert name == b"probe"


def test_ids_grow_and_newest_first(slow):
    for i in range(5):
        slow.set("k%d" % i, i)
    es = entries(slow)
    ids = [e[0] for e in es]
    assert ids == sorted(ids, reverse=True)
    assert es[0][3] == [b"SET", b"k4", b"4"]


def test_threshold_and_debug_sleep(slow):
    slow.config_set("slowlog-log-slower-than", 100000)
    slow.slowlog_reset()
    slow.ping()
    assert slow.slowlog_len() == 0
    slow.execute_command("DEBUG", "SLEEP", "0.2")
    assert slow.slowlog_len() == 1
    e = entries(slow)[0]
    assert e[2] >= 190000
    assert e[3] == [b"DEBUG", b"SLEEP", b"0.2"]


def test_slow_sort_is_logged(slow):
    slow.rpush("big", *range(20000))
    slow.config_set("slowlog-log-slower-than", 1000)
    slow.slowlog_reset()
    slow.execute_command("SORT", "big", "BY", "nosort-please-*", "DESC", "LIMIT", "0", "1")
    slow.execute_command("SORT", "big", "DESC")
    cmds = [e[3][0].lower() for e in entries(slow)]
    assert b"sort" in cmds


def test_max_len_keeps_newest(slow):
    slow.config_set("slowlog-max-len", 10)
    for _ in range(50):
        slow.ping()
    assert slow.slowlog_len() == 10
    assert len(entries(slow, 5)) == 5
    assert len(entries(slow, 0)) == 0
    assert len(entries(slow, -1)) == 10


def test_truncates_arguments_and_bytes(slow):
    slow.sadd("set", *range(3, 34))   # 33 arguments in total
    e = [x for x in entries(slow) if x[3][0] == b"SADD"][0]
    assert len(e[3]) == 32
    assert e[3][-1] == b"... (2 more arguments)"
    slow.slowlog_reset()
    slow.sadd("set", "foo", "A" * 129)
    e = [x for x in entries(slow) if x[3][0] == b"SADD"][0]
    assert e[3][3] == b"A" * 128 + b"... (1 more bytes)"


def test_secrets_are_redacted(slow):
    try:
        slow.execute_command("AUTH", "not-real")
    except redis.RedisError:
        pass
    try:
        slow.execute_command("AUTH", "user", "pass")
    except redis.RedisError:
        pass
    try:
        slow.execute_command("HELLO", "2", "AUTH", "user", "pass")
    except redis.RedisError:
        pass
    slow.config_set("requirepass", "")
    got = [e[3] for e in entries(slow)]
    assert [b"AUTH", b"(redacted)"] in got
    assert [b"AUTH", b"(redacted)", b"(redacted)"] in got
    assert [b"HELLO", b"2", b"AUTH", b"(redacted)", b"(redacted)"] in got
    assert [b"CONFIG", b"SET", b"requirepass", b"(redacted)"] in got
    flat = b" ".join(b" ".join(a) for a in got)
    assert b"pass" not in flat.replace(b"requirepass", b"")


def test_exec_is_not_logged_but_its_commands_are(slow):
    p = slow.pipeline(transaction=True)
    p.set("a", 1)
    p.incr("a")
    p.execute()
    names = [e[3][0].lower() for e in entries(slow)]
    assert b"exec" not in names
    assert b"set" in names and b"incrby" in names


def test_reset_len_help_and_errors(slow):
    slow.ping()
    assert slow.slowlog_len() > 0
    assert slow.execute_command("SLOWLOG", "RESET") == b"OK"
    assert slow.slowlog_len() == 1 or slow.slowlog_len() == 0
    helptext = slow.execute_command("SLOWLOG", "HELP")
    assert helptext[0].startswith(b"SLOWLOG <subcommand>")
    with pytest.raises(redis.ResponseError, match="count should be greater than or equal to -1"):
        slow.execute_command("SLOWLOG", "GET", "-2")
    with pytest.raises(redis.ResponseError, match="count should be greater than or equal to -1"):
        slow.execute_command("SLOWLOG", "GET", "x")
    with pytest.raises(redis.ResponseError, match="unknown subcommand"):
        slow.execute_command("SLOWLOG", "NOPE")


def test_disabled_with_minus_one(slow):
    slow.config_set("slowlog-log-slower-than", -1)
    slow.slowlog_reset()
    slow.execute_command("DEBUG", "SLEEP", "0.05")
    assert slow.slowlog_len() == 0


def test_resetstat_keeps_slowlog(slow):
    slow.set("x", 1)
    n = slow.slowlog_len()
    slow.config_resetstat()
    assert slow.slowlog_len() >= n
