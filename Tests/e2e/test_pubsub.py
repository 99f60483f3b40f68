"""Pub/Sub end-to-end tests: SUBSCRIBE/PSUBSCRIBE/SSUBSCRIBE, PUBLISH counts,
PUBSUB introspection, RESP2 subscribed-mode rules, RESP3 push messages,
RESET/disconnect cleanup and the pubsub output-buffer limit.

Validated against redis-server 7.0.15:
    TESSERA_SERVER=/usr/bin/redis-server .venv/bin/python -m pytest -q Tests/e2e/test_pubsub.py
"""

import re
import socket
import threading
import time

import pytest

from conftest import Push, RespError


SUBSCRIBED_ERR = ("ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / "
                  "PING / QUIT / RESET are allowed in this context")


def sub_conn(raw, *cmds):
    """A raw connection that ran each command in `cmds` and read its replies
    (one per channel for the subscribe commands)."""
    c = raw()
    for cmd in cmds:
        c.send_command(*cmd)
        n = len(cmd) - 1 if cmd[0].upper().endswith("SUBSCRIBE") else 1
        for _ in range(n):
            c.read_parsed()
    return c


def numsub(r, *channels):
    reply = r.execute_command("PUBSUB", "NUMSUB", *channels)
    return dict(zip(reply[::2], reply[1::2]))


def wait_until(pred, timeout=3.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.01)
    return pred()


# ---------------------------------------------------------------------------
# Subscribing and counts
# ---------------------------------------------------------------------------


def test_subscribe_replies_and_counts(r, raw):
    c = raw()
    c.send_command("SUBSCRIBE", "a", "b", "a")
    assert [c.read_parsed() for _ in range(3)] == [
        [b"subscribe", b"a", 1], [b"subscribe", b"b", 2], [b"subscribe", b"a", 2]]
    c.send_command("PSUBSCRIBE", "h?llo", "news.*")
    assert [c.read_parsed() for _ in range(2)] == [
        [b"psubscribe", b"h?llo", 3], [b"psubscribe", b"news.*", 4]]
    # Shard channels are counted apart.
    c.send_command("SSUBSCRIBE", "s1")
    assert c.read_parsed() == [b"ssubscribe", b"s1", 1]
    c.send_command("UNSUBSCRIBE", "b", "zzz")
    assert [c.read_parsed() for _ in range(2)] == [
        [b"unsubscribe", b"b", 3], [b"unsubscribe", b"zzz", 3]]
    c.send_command("PUNSUBSCRIBE")
    got = [c.read_parsed() for _ in range(2)]
    assert sorted(g[1] for g in got) == [b"h?llo", b"news.*"]
    assert [g[0] for g in got] == [b"punsubscribe"] * 2
    assert sorted(g[2] for g in got) == [1, 2]
    c.send_command("SUNSUBSCRIBE")
    assert c.read_parsed() == [b"sunsubscribe", b"s1", 0]
    c.send_command("UNSUBSCRIBE")
    assert c.read_parsed() == [b"unsubscribe", b"a", 0]
    # Nothing left: one reply with a null name.
    c.send_command("UNSUBSCRIBE")
    assert c.read_parsed() == [b"unsubscribe", None, 0]
    c.send_command("PUNSUBSCRIBE")
    assert c.read_parsed() == [b"punsubscribe", None, 0]
    c.send_command("SUNSUBSCRIBE")
    assert c.read_parsed() == [b"sunsubscribe", None, 0]
    # Out of subscribed mode: normal commands work again.
    c.send_command("GET", "x")
    assert c.read_parsed() is None


def test_publish_receiver_counts_and_messages(r, raw):
    s1 = sub_conn(raw, ("SUBSCRIBE", "news.tech", "other"))
    s2 = sub_conn(raw, ("SUBSCRIBE", "news.tech"))
    p1 = sub_conn(raw, ("PSUBSCRIBE", "news.*"))
    p2 = sub_conn(raw, ("PSUBSCRIBE", "news.*", "*tech", "nomatch*"))
    assert r.publish("news.tech", "hello") == 5  # s1, s2, p1, and p2 twice
    assert r.publish("other", "x") == 1
    assert r.publish("nobody", "x") == 0
    assert s1.read_parsed() == [b"message", b"news.tech", b"hello"]
    assert s1.read_parsed() == [b"message", b"other", b"x"]
    assert s2.read_parsed() == [b"message", b"news.tech", b"hello"]
    assert p1.read_parsed() == [b"pmessage", b"news.*", b"news.tech", b"hello"]
    got = sorted(tuple(p2.read_parsed()) for _ in range(2))
    assert got == [(b"pmessage", b"*tech", b"news.tech", b"hello"),
                   (b"pmessage", b"news.*", b"news.tech", b"hello")]
    # Binary-safe channel and payload.
    b = sub_conn(raw, ("SUBSCRIBE", b"\x00bin\xff"))
    assert r.publish(b"\x00bin\xff", b"a\r\nb\x00") == 1
    assert b.read_parsed() == [b"message", b"\x00bin\xff", b"a\r\nb\x00"]


def test_glob_patterns(r, raw):
    p = sub_conn(raw, ("PSUBSCRIBE", "h[ae]llo", "x\\*y", "[^a]b"))
    for ch, expected in [("hallo", True), ("hello", True), ("hillo", False),
                         ("x*y", True), ("xzy", False), ("cb", True), ("ab", False)]:
        assert r.publish(ch, "m") == (1 if expected else 0), ch
    got = [p.read_parsed()[2] for _ in range(4)]
    assert got == [b"hallo", b"hello", b"x*y", b"cb"]


def test_shard_channels(r, raw):
    s = sub_conn(raw, ("SSUBSCRIBE", "sc1", "sc2"))
    n = sub_conn(raw, ("SUBSCRIBE", "sc1"))
    p = sub_conn(raw, ("PSUBSCRIBE", "*"))
    assert r.execute_command("SPUBLISH", "sc1", "hi") == 1
    assert s.read_parsed() == [b"smessage", b"sc1", b"hi"]
    # PUBLISH does not reach shard subscribers; SPUBLISH reaches neither
    # plain channel nor pattern subscribers.
    assert r.publish("sc1", "plain") == 2
    assert n.read_parsed() == [b"message", b"sc1", b"plain"]
    assert p.read_parsed() == [b"pmessage", b"*", b"sc1", b"plain"]
    assert sorted(r.execute_command("PUBSUB", "SHARDCHANNELS")) == [b"sc1", b"sc2"]
    assert r.execute_command("PUBSUB", "SHARDCHANNELS", "*2") == [b"sc2"]
    assert r.execute_command("PUBSUB", "SHARDNUMSUB", "sc1", "nope") == [b"sc1", 1, b"nope", 0]
    assert r.execute_command("PUBSUB", "SHARDNUMSUB") == []


def test_pubsub_introspection(r, raw):
    base_pat = r.execute_command("PUBSUB", "NUMPAT")
    a = sub_conn(raw, ("SUBSCRIBE", "chan:1", "chan:2"), ("PSUBSCRIBE", "pat:*"))
    b = sub_conn(raw, ("SUBSCRIBE", "chan:1"), ("PSUBSCRIBE", "pat:*", "other:*"))
    assert sorted(ch for ch in r.execute_command("PUBSUB", "CHANNELS", "chan:*")) == [b"chan:1", b"chan:2"]
    assert r.execute_command("PUBSUB", "CHANNELS", "chan:[2]") == [b"chan:2"]
    assert numsub(r, "chan:1", "chan:2", "chan:3") == {b"chan:1": 2, b"chan:2": 1, b"chan:3": 0}
    assert r.execute_command("PUBSUB", "NUMSUB") == []
    # NUMPAT counts distinct patterns.
    assert r.execute_command("PUBSUB", "NUMPAT") == base_pat + 2
    info = r.info("stats")
    assert info["pubsub_channels"] >= 2 and info["pubsub_patterns"] >= 2
    with pytest.raises(Exception, match=re.escape("unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP.")):
        r.execute_command("PUBSUB", "CHANNELS", "a", "b")
    with pytest.raises(Exception, match=re.escape("wrong number of arguments for 'pubsub|numpat' command")):
        r.execute_command("PUBSUB", "NUMPAT", "x")
    with pytest.raises(Exception, match=re.escape("unknown subcommand 'FOO'. Try PUBSUB HELP.")):
        r.execute_command("PUBSUB", "FOO")
    a.close()
    b.close()
    assert wait_until(lambda: numsub(r, "chan:1")[b"chan:1"] == 0)
    assert r.execute_command("PUBSUB", "NUMPAT") == base_pat


def test_client_list_fields(r, raw):
    c = sub_conn(raw, ("CLIENT", "SETNAME", "subber"), ("SUBSCRIBE", "a", "b"), ("PSUBSCRIBE", "p*"),
                 ("SSUBSCRIBE", "s"))
    line = [l for l in r.execute_command("CLIENT", "LIST").decode().splitlines() if "name=subber" in l][0]
    fields = dict(kv.split("=", 1) for kv in line.split(" "))
    assert fields["sub"] == "2" and fields["psub"] == "1" and fields["ssub"] == "1"
    assert "P" in fields["flags"]
    pubsub_list = r.execute_command("CLIENT", "LIST", "TYPE", "pubsub").decode()
    assert "name=subber" in pubsub_list
    assert "name=subber" not in r.execute_command("CLIENT", "LIST", "TYPE", "normal").decode()
    c.close()


# ---------------------------------------------------------------------------
# Subscribed mode (RESP2) and RESP3
# ---------------------------------------------------------------------------


def test_resp2_subscribed_mode_rules(r, raw):
    c = sub_conn(raw, ("SUBSCRIBE", "ch"))
    c.send_command("GET", "k")
    err = c.read_parsed()
    assert isinstance(err, RespError) and str(err) == SUBSCRIBED_ERR.format("get")
    c.send_command("CONFIG", "GET", "maxmemory")
    assert str(c.read_parsed()) == SUBSCRIBED_ERR.format("config|get")
    c.send_command("PING")
    assert c.read_parsed() == [b"pong", b""]
    c.send_command("PING", "hey")
    assert c.read_parsed() == [b"pong", b"hey"]
    c.send_command("PSUBSCRIBE", "x*")
    assert c.read_parsed() == [b"psubscribe", b"x*", 2]
    # Still works as a subscriber.
    assert r.publish("ch", "m") == 1
    assert c.read_parsed() == [b"message", b"ch", b"m"]
    c.send_command("QUIT")
    assert c.read_parsed() == b"OK"
    assert c.wait_closed(2)


def test_resp3_push_messages_on_a_normal_connection(r, raw):
    c = raw()
    c.send_command("HELLO", "3")
    c.read_parsed()
    c.send_command("SUBSCRIBE", "ch")
    assert c.read_reply().startswith(b">3\r\n")
    # Any command still works in RESP3 while subscribed.
    c.send_command("SET", "k", "v")
    assert c.read_parsed() == b"OK"
    c.send_command("PING")
    assert c.read_parsed() == b"PONG"
    assert r.publish("ch", "hello") == 1
    data = c.read_reply()
    assert data == b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhello\r\n"
    # A subscriber publishing to itself gets the push before the reply.
    c.send_command("PUBLISH", "ch", "me")
    assert c.read_parsed() == Push([b"message", b"ch", b"me"])
    assert c.read_parsed() == 1
    c.send_command("UNSUBSCRIBE")
    assert c.read_parsed() == Push([b"unsubscribe", b"ch", 0])
    c.send_command("UNSUBSCRIBE")
    assert c.read_reply() == b">3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n"


def test_messages_survive_client_reply_off(r, raw):
    c = raw()
    c.send_command("CLIENT", "REPLY", "OFF")
    c.send_command("SUBSCRIBE", "ch")
    assert c.read_parsed() == [b"subscribe", b"ch", 1]
    assert r.publish("ch", "x") == 1
    assert c.read_parsed() == [b"message", b"ch", b"x"]


def test_reset_and_disconnect_unsubscribe(r, raw):
    c = sub_conn(raw, ("SUBSCRIBE", "rch"), ("PSUBSCRIBE", "rp*"))
    assert numsub(r, "rch")[b"rch"] == 1
    c.send_command("RESET")
    assert c.read_parsed() == b"RESET"
    assert numsub(r, "rch")[b"rch"] == 0
    assert r.publish("rpx", "m") == 0
    c.send_command("GET", "k")  # no longer in subscribed mode
    assert c.read_parsed() is None
    d = sub_conn(raw, ("SUBSCRIBE", "dch"))
    assert numsub(r, "dch")[b"dch"] == 1
    d.close()
    assert wait_until(lambda: numsub(r, "dch")[b"dch"] == 0)


def test_disconnected_subscriber_loses_messages(r, raw):
    """Pub/Sub is fire-and-forget: messages published while nobody listens are gone."""
    a = sub_conn(raw, ("SUBSCRIBE", "ff"))
    assert r.publish("ff", "one") == 1
    assert a.read_parsed() == [b"message", b"ff", b"one"]
    a.close()
    assert wait_until(lambda: r.publish("ff", "lost") == 0)
    b = sub_conn(raw, ("SUBSCRIBE", "ff"))
    assert r.publish("ff", "two") == 1
    assert b.read_parsed() == [b"message", b"ff", b"two"]
    assert b.read_available(0.2) == b""


def test_keyspace_channel_names(r, raw):
    old = r.config_get("notify-keyspace-events")["notify-keyspace-events"]
    try:
        r.config_set("notify-keyspace-events", "KEA")
        c = sub_conn(raw, ("SUBSCRIBE", "__keyspace@0__:foo", "__keyevent@0__:set"))
        r.set("foo", "bar")
        assert c.read_parsed() == [b"message", b"__keyspace@0__:foo", b"set"]
        assert c.read_parsed() == [b"message", b"__keyevent@0__:set", b"foo"]
    finally:
        r.config_set("notify-keyspace-events", old)


# ---------------------------------------------------------------------------
# Output buffer limits
# ---------------------------------------------------------------------------


def _slow_subscriber(raw, channel, name):
    c = raw()
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    c.send_command("CLIENT", "SETNAME", name)
    assert c.read_parsed() == b"OK"
    c.send_command("SUBSCRIBE", channel)
    assert c.read_parsed() == [b"subscribe", channel.encode(), 1]
    return c


def _client_names(r):
    return [dict(kv.split("=", 1) for kv in l.split(" ")).get("name")
            for l in r.execute_command("CLIENT", "LIST").decode().splitlines()]


def test_slow_subscriber_cut_at_hard_limit(r, raw, make_client):
    old = r.config_get("client-output-buffer-limit")["client-output-buffer-limit"]
    payload = b"x" * 16384
    total = 1200  # ~19 MB: far above the limit plus whatever the kernel buffers
    try:
        r.config_set("client-output-buffer-limit", "pubsub 1mb 0 0")
        slow = _slow_subscriber(raw, "obl", "slowsub")
        received = []
        fast = make_client()
        ps = fast.pubsub()
        ps.subscribe("obl")
        ready = threading.Event()

        def reader():
            while True:
                m = ps.get_message(timeout=5)
                if m is None:
                    return
                if m["type"] == "subscribe":
                    ready.set()
                elif m["type"] == "message":
                    received.append(len(m["data"]))
                    if len(received) == total:
                        return

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        assert ready.wait(5)
        counts = []
        start = time.time()
        for _ in range(total):
            counts.append(r.publish("obl", payload))
        elapsed = time.time() - start
        t.join(20)
        # The publisher was never held up by the slow subscriber...
        assert elapsed < 15
        assert counts[0] == 2 and counts[-1] == 1
        # ...the fast subscriber got everything, the slow one was disconnected.
        assert len(received) == total
        assert "slowsub" not in _client_names(r)
        slow.close()  # (draining what the kernel buffered through a 4 KB window would take long)
        assert numsub(r, "obl")[b"obl"] == 1
        ps.close()
    finally:
        r.config_set("client-output-buffer-limit", old)


def test_slow_subscriber_cut_at_soft_limit_after_seconds(r, raw):
    old = r.config_get("client-output-buffer-limit")["client-output-buffer-limit"]
    payload = b"y" * 16384
    try:
        r.config_set("client-output-buffer-limit", "pubsub 0 256kb 1")
        _slow_subscriber(raw, "soft", "softsub")
        for _ in range(400):  # ~6.5 MB: over the soft limit, but no hard limit
            r.publish("soft", payload)
        assert "softsub" in _client_names(r)
        time.sleep(2.5)
        r.publish("soft", payload)  # over the soft limit for more than 1 s now
        assert wait_until(lambda: "softsub" not in _client_names(r))
    finally:
        r.config_set("client-output-buffer-limit", old)
