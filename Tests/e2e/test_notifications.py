"""Keyspace notifications end-to-end: notify-keyspace-events parsing and
canonical CONFIG GET form, each event class, keyspace vs keyevent channels,
expired events from lazy and active expiry, new/keymiss classes, events of
served blocking pops.

Validated against redis-server 7.0.15:
    TESSERA_SERVER=/usr/bin/redis-server .venv/bin/python -m pytest -q Tests/e2e/test_notifications.py
"""

import re
import time
from contextlib import contextmanager

import pytest
import redis

from conftest import RespError, error_line

MARK = "zz-marker"


@contextmanager
def notify(r, flags):
    old = r.config_get("notify-keyspace-events")["notify-keyspace-events"]
    r.config_set("notify-keyspace-events", flags)
    try:
        yield
    finally:
        r.config_set("notify-keyspace-events", old)


def listener(raw, pattern="__key*"):
    c = raw()
    c.send_command("PSUBSCRIBE", pattern, MARK)
    c.read_parsed()
    c.read_parsed()
    return c


def events(r, c, timeout=3.0):
    """Everything published before a marker: [(channel, message)]."""
    r.publish(MARK, "x")
    out = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        m = c.read_parsed(timeout=deadline - time.time())
        if m[0] != b"pmessage":
            continue
        if m[2] == MARK.encode():
            return out
        out.append((m[2].decode(), m[3].decode()))
    raise AssertionError("marker never arrived; got %r" % out)


def keyevents(r, c):
    """Events as (event, key) from __keyevent channels only."""
    return [(ch.split(":", 1)[1], msg) for ch, msg in events(r, c) if ch.startswith("__keyevent@")]


# ---------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("given,shown", [
    ("KEA", "AKE"), ("gKE", "gKE"), ("$lshzxeKE", "$lshzxeKE"), ("KA", "AK"), ("EA", "AE"),
    ("", ""), ("AKEnm", "AKEm"), ("Kn", "nK"), ("g$lshzxetd", "AKE"[:1]), ("m", "m"),
    ("tdx", "xtd"), ("EKgg", "gKE"),
])
def test_config_canonical_form(r, given, shown):
    with notify(r, given):
        assert r.config_get("notify-keyspace-events")["notify-keyspace-events"] == shown


def test_config_rejects_unknown_class(r):
    with pytest.raises(redis.ResponseError) as e:
        r.config_set("notify-keyspace-events", "KEq")
    assert error_line(e.value) == ("ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - "
                            "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")


def test_new_class_kept_although_not_shown(r, raw):
    # Like Redis: 'n' is kept in the flags even though CONFIG GET shows "AE".
    with notify(r, "AEn"):
        assert r.config_get("notify-keyspace-events")["notify-keyspace-events"] == "AE"
        c = listener(raw)
        r.set("k", "v")
        assert keyevents(r, c) == [("new", "k"), ("set", "k")]


def test_off_by_default_nothing_published(r, raw):
    with notify(r, ""):
        c = listener(raw)
        r.set("k", "v")
        r.lpush("l", "a")
        r.get("missing")
        assert events(r, c) == []


# ---------------------------------------------------------------------------
# Channels and classes
# ---------------------------------------------------------------------------


def test_keyspace_and_keyevent_channels(r, raw):
    with notify(r, "KEA"):
        c = listener(raw)
        r.set("foo", "bar")
        assert events(r, c) == [("__keyspace@0__:foo", "set"), ("__keyevent@0__:set", "foo")]
    with notify(r, "K$"):
        c2 = listener(raw)
        r.set("foo", "bar")
        assert events(r, c2) == [("__keyspace@0__:foo", "set")]
    with notify(r, "E$"):
        c3 = listener(raw)
        r.set("foo", "bar")
        assert events(r, c3) == [("__keyevent@0__:set", "foo")]


def test_database_number_in_channel(r, raw, make_client):
    with notify(r, "KEA"):
        c = listener(raw)
        r9 = make_client(db=9)
        r9.set("in9", "v")
        assert events(r, c) == [("__keyspace@9__:in9", "set"), ("__keyevent@9__:set", "in9")]
        r9.delete("in9")
        events(r, c)


@pytest.mark.parametrize("flags,expected", [
    ("Eg", [("del", "h"), ("del", "s"), ("expire", "l"), ("rename_from", "l"), ("rename_to", "l2")]),
    ("E$", [("set", "s"), ("append", "s"), ("incrby", "n")]),
    ("El", [("lpush", "l"), ("rpop", "l")]),
    ("Es", [("sadd", "st"), ("srem", "st")]),
    ("Eh", [("hset", "h"), ("hincrby", "h"), ("hdel", "h")]),
    ("Ez", [("zadd", "z"), ("zincr", "z"), ("zrem", "z")]),
])
def test_each_class_filters_events(r, raw, flags, expected):
    with notify(r, flags):
        c = listener(raw)
        r.set("s", "v")
        r.append("s", "x")
        r.incr("n")
        r.lpush("l", "a", "b")
        r.rpop("l")
        r.sadd("st", "a", "b")
        r.srem("st", "a")
        r.hset("h", "f", "1")
        r.hincrby("h", "f", 2)
        r.hdel("h", "f", "nope")  # removes the last field: the key goes ("del" is class g)
        r.zadd("z", {"a": 1, "b": 2})
        r.zincrby("z", 1, "a")
        r.zrem("z", "a")
        r.delete("s")
        r.expire("l", 100)
        r.rename("l", "l2")
        assert keyevents(r, c) == expected


def test_generic_del_when_aggregate_emptied(r, raw):
    with notify(r, "KEA"):
        c = listener(raw)
        r.rpush("l", "a")
        r.lpop("l")
        r.sadd("s", "m")
        r.spop("s")
        assert keyevents(r, c) == [("rpush", "l"), ("lpop", "l"), ("del", "l"),
                                   ("sadd", "s"), ("spop", "s"), ("del", "s")]


def test_keymiss_and_new_classes(r, raw):
    with notify(r, "Em"):
        c = listener(raw)
        r.get("nokey")
        r.set("k", "v")
        r.get("k")
        r.hget("noh", "f")
        r.exists("nokey2")  # EXISTS is a read too
        r.object("encoding", "nokey3")  # OBJECT is not (LOOKUP_NONOTIFY)
        assert keyevents(r, c) == [("keymiss", "nokey"), ("keymiss", "noh"), ("keymiss", "nokey2")]
    with notify(r, "En"):
        c = listener(raw)
        r.set("fresh", "v")
        r.set("fresh", "w")  # overwrite: not new
        r.rpush("newlist", "a")
        r.rename("newlist", "renamed")
        assert keyevents(r, c) == [("new", "fresh"), ("new", "newlist"), ("new", "renamed")]


def test_expired_events_lazy(r, raw):
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    try:
        with notify(r, "Ex"):
            c = listener(raw)
            r.set("a", "1", px=30)
            time.sleep(0.1)
            assert r.get("a") is None  # lazy expiry on access
            assert keyevents(r, c) == [("expired", "a")]
    finally:
        r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")


def test_expired_events_from_active_cycle(r, raw):
    with notify(r, "KEx"):
        c = listener(raw)
        r.set("act", "1", px=50)
        r.rpush("actl", "a")
        r.pexpire("actl", 50)
        # Never touch the keys: only the active expiry cycle can delete them.
        got = []
        deadline = time.time() + 5
        while time.time() < deadline and len(got) < 4:
            m = c.read_parsed(timeout=deadline - time.time())
            if m[0] == b"pmessage":
                got.append((m[2].decode(), m[3].decode()))
        assert sorted(got) == sorted([("__keyspace@0__:act", "expired"), ("__keyevent@0__:expired", "act"),
                                      ("__keyspace@0__:actl", "expired"), ("__keyevent@0__:expired", "actl")])
        assert r.exists("act", "actl") == 0


def test_expire_in_the_past_deletes(r, raw):
    with notify(r, "Eg"):
        c = listener(raw)
        r.set("k", "v")
        r.expire("k", -1)
        r.set("k2", "v")
        r.pexpireat("k2", 1)
        assert keyevents(r, c) == [("del", "k"), ("del", "k2")]


def test_blocking_pop_served_events(r, raw, make_client):
    with notify(r, "KEA"):
        c = listener(raw, "__keyevent*")
        waiter = raw()
        waiter.send_command("BLPOP", "bl", "5")
        deadline = time.time() + 3
        while r.info("clients")["blocked_clients"] < 1 and time.time() < deadline:
            time.sleep(0.01)
        r.rpush("bl", "x")
        assert waiter.read_parsed() == [b"bl", b"x"]
        assert keyevents(r, c) == [("rpush", "bl"), ("lpop", "bl"), ("del", "bl")]
        waiter.send_command("BRPOPLPUSH", "src", "dst", "5")
        deadline = time.time() + 3
        while r.info("clients")["blocked_clients"] < 1 and time.time() < deadline:
            time.sleep(0.01)
        r.rpush("src", "y")
        assert waiter.read_parsed() == b"y"
        assert keyevents(r, c) == [("rpush", "src"), ("lpush", "dst"), ("rpop", "src"), ("del", "src")]


def test_multi_exec_events_in_order(r, raw):
    with notify(r, "EA"):
        c = listener(raw)
        p = r.pipeline(transaction=True)
        p.set("t1", "a")
        p.lpush("t2", "b")
        p.delete("t1")
        p.execute()
        assert keyevents(r, c) == [("set", "t1"), ("lpush", "t2"), ("del", "t1")]
