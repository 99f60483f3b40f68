"""RESP / inline protocol handling, error texts and robustness.

All expected bytes were checked against redis-server 7.0.15.
"""

import random

import pytest
import redis

from conftest import RespError, encode_command, error_line


def assert_server_alive(raw, port=None):
    c = raw(port)
    # NOAUTH also proves the server is alive (servers started with requirepass)
    assert c.request(b"*1\r\n$4\r\nPING\r\n") in (
        b"+PONG\r\n", b"-NOAUTH Authentication required.\r\n")
    c.close()


def expect_protocol_error(raw, payload, message, port=None):
    """Send payload on a fresh connection, expect exactly one protocol error
    reply, then the connection to be closed; the server must keep serving."""
    c = raw(port)
    c.send(payload)
    assert c.read_reply() == b"-ERR Protocol error: " + message + b"\r\n"
    assert c.wait_closed(5), "server must close the connection after a protocol error"
    assert c.buf == b"", "nothing may follow the protocol error"
    assert_server_alive(raw, port)


# ---------------------------------------------------------------------------
# inline protocol
# ---------------------------------------------------------------------------


def test_inline_ping(raw):
    c = raw()
    assert c.request(b"PING\r\n") == b"+PONG\r\n"
    assert c.request(b"ping\r\n") == b"+PONG\r\n"
    # bare LF terminator is accepted for inline commands
    assert c.request(b"PING\n") == b"+PONG\r\n"
    # surrounding whitespace is ignored
    assert c.request(b"   ping   \r\n") == b"+PONG\r\n"


def test_inline_set_get(raw, r):
    c = raw()
    assert c.request(b"SET inlinekey inlinevalue\r\n") == b"+OK\r\n"
    assert c.request(b"GET inlinekey\r\n") == b"$11\r\ninlinevalue\r\n"
    assert c.request(b"GET missing\r\n") == b"$-1\r\n"
    assert r.get("inlinekey") == b"inlinevalue"


def test_inline_empty_lines_are_ignored(raw):
    c = raw()
    c.send(b"\r\n\r\n\n")
    assert c.request(b"PING\r\n") == b"+PONG\r\n"


def test_inline_quoting(raw):
    c = raw()
    assert c.request(b'ECHO "hello world"\r\n') == b"$11\r\nhello world\r\n"
    # escapes are interpreted inside double quotes only
    assert c.request(b'ECHO "a\\x41\\n"\r\n') == b"$3\r\naA\n\r\n"
    assert c.request(b"ECHO 'a\\x41'\r\n") == b"$5\r\na\\x41\r\n"
    assert c.request(b'ECHO ""\r\n') == b"$0\r\n\r\n"


def test_inline_multiple_commands_in_one_packet(raw, r):
    c = raw()
    c.send(b"SET a 1\r\nINCR a\r\nGET a\r\n")
    assert c.read_reply() == b"+OK\r\n"
    assert c.read_reply() == b":2\r\n"
    assert c.read_reply() == b"$1\r\n2\r\n"


def test_inline_unbalanced_quotes(raw):
    expect_protocol_error(raw, b'SET "a b\r\n', b"unbalanced quotes in request")


def test_inline_closing_quote_must_be_followed_by_space(raw):
    expect_protocol_error(raw, b'ECHO "a"b\r\n', b"unbalanced quotes in request")
    expect_protocol_error(raw, b"ECHO 'a'b\r\n", b"unbalanced quotes in request")


def test_inline_too_big(raw):
    expect_protocol_error(raw, b"x" * (70 * 1024), b"too big inline request")


# ---------------------------------------------------------------------------
# multibulk protocol
# ---------------------------------------------------------------------------


def test_multibulk_basic(raw, r):
    c = raw()
    assert c.request(encode_command("SET", "k", "v")) == b"+OK\r\n"
    assert c.request(encode_command("GET", "k")) == b"$1\r\nv\r\n"
    assert c.request(encode_command("DEL", "k", "nokey")) == b":1\r\n"


def test_multibulk_empty_and_negative_count_are_ignored(raw):
    c = raw()
    c.send(b"*0\r\n*-1\r\n")
    assert c.request(b"*1\r\n$4\r\nPING\r\n") == b"+PONG\r\n"


def test_multibulk_sent_byte_by_byte(raw, r):
    c = raw()
    c.send_slowly(encode_command("SET", "frag", "hello\r\nworld"), chunk=1, delay=0.001)
    assert c.read_reply() == b"+OK\r\n"
    c.send_slowly(encode_command("GET", "frag"), chunk=1, delay=0.001)
    assert c.read_reply() == b"$12\r\nhello\r\nworld\r\n"


def test_pipelined_commands_in_random_fragments(raw, r):
    rnd = random.Random(1234)
    payload = b"".join(encode_command("RPUSH", "fraglist", "v%d" % i) for i in range(200))
    payload += b"PING\r\n"  # inline command mixed into the stream
    payload += encode_command("LRANGE", "fraglist", 0, 2)
    c = raw()
    pos = 0
    while pos < len(payload):
        n = rnd.randint(1, 17)
        c.send(payload[pos:pos + n])
        pos += n
    for i in range(200):
        assert c.read_reply() == b":%d\r\n" % (i + 1)
    assert c.read_reply() == b"+PONG\r\n"
    assert c.read_reply() == b"*3\r\n$2\r\nv0\r\n$2\r\nv1\r\n$2\r\nv2\r\n"


def test_partial_command_waits_for_rest(raw):
    c = raw()
    c.send(b"*2\r\n$4\r\nECHO\r\n$5\r\nhel")
    assert c.read_available(0.2) == b""
    c.send(b"lo\r\n")
    assert c.read_reply() == b"$5\r\nhello\r\n"


def test_invalid_multibulk_length(raw):
    expect_protocol_error(raw, b"*abc\r\n", b"invalid multibulk length")
    expect_protocol_error(raw, b"*1x\r\n", b"invalid multibulk length")
    expect_protocol_error(raw, b"*\r\n", b"invalid multibulk length")


def test_multibulk_count_above_int_max(raw):
    # 7.0 rejects counts above INT_MAX (2147483647)
    expect_protocol_error(raw, b"*2147483648\r\n", b"invalid multibulk length")


def test_large_multibulk_count_is_not_rejected_for_authenticated_client(raw):
    # redis 7.0.15 only rejects > INT_MAX (or > 10 for unauthenticated
    # clients); a count of 1024*1024+1 just waits for the arguments.
    c = raw()
    c.send(b"*1048577\r\n")
    assert c.read_available(0.2) == b""
    assert not c.closed_by_peer


def test_too_big_multibulk_count_string(raw):
    expect_protocol_error(raw, b"*" + b"1" * (70 * 1024), b"too big mbulk count string")


def test_expected_dollar(raw):
    expect_protocol_error(raw, b"*1\r\n+foo\r\n", b"expected '$', got '+'")
    expect_protocol_error(raw, b"*1\r\n:1\r\n", b"expected '$', got ':'")
    expect_protocol_error(raw, b"*3\r\nfoo\r\n", b"expected '$', got 'f'")


def test_invalid_bulk_length(raw):
    expect_protocol_error(raw, b"*1\r\n$abc\r\n", b"invalid bulk length")
    expect_protocol_error(raw, b"*1\r\n$1x\r\n", b"invalid bulk length")
    expect_protocol_error(raw, b"*1\r\n$-1\r\n", b"invalid bulk length")
    expect_protocol_error(raw, b"*1\r\n$\r\n", b"invalid bulk length")


def test_bulk_length_above_proto_max_bulk_len(raw):
    c = raw()
    assert c.request(b"CONFIG GET proto-max-bulk-len\r\n") == \
        b"*2\r\n$18\r\nproto-max-bulk-len\r\n$9\r\n536870912\r\n"
    expect_protocol_error(raw, b"*1\r\n$536870913\r\n", b"invalid bulk length")
    expect_protocol_error(raw, b"*1\r\n$2147483648\r\n", b"invalid bulk length")


def test_too_big_bulk_count_string(raw):
    expect_protocol_error(raw, b"*1\r\n$" + b"1" * (70 * 1024), b"too big bulk count string")


def test_replies_before_protocol_error_are_delivered(raw):
    c = raw()
    c.send(b"*1\r\n$4\r\nPING\r\n*1\r\n$a\r\n")
    assert c.read_reply() == b"+PONG\r\n"
    assert c.read_reply() == b"-ERR Protocol error: invalid bulk length\r\n"
    assert c.wait_closed(5)


def test_protocol_error_does_not_affect_other_clients(raw, r):
    r.set("survivor", "yes")
    other = raw()
    assert other.request(b"PING\r\n") == b"+PONG\r\n"
    bad = raw()
    bad.send(b"*1\r\n$foo\r\n")
    assert bad.read_reply() == b"-ERR Protocol error: invalid bulk length\r\n"
    assert bad.wait_closed(5)
    # the already-connected client is unaffected
    assert other.request(b"GET survivor\r\n") == b"$3\r\nyes\r\n"
    assert r.get("survivor") == b"yes"


def test_smaller_proto_max_bulk_len(start_server, raw):
    srv = start_server("--proto-max-bulk-len", "1mb")
    c = raw(srv.port)
    value = b"v" * (1024 * 1024)
    assert c.request(encode_command("SET", "k", value)) == b"+OK\r\n"
    assert c.request(encode_command("STRLEN", "k")) == b":1048576\r\n"
    expect_protocol_error(raw, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1048577\r\n",
                          b"invalid bulk length", port=srv.port)


# ---------------------------------------------------------------------------
# command lookup errors
# ---------------------------------------------------------------------------


def test_unknown_command(raw):
    c = raw()
    assert c.request(b"foo a b\r\n") == \
        b"-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n"
    assert c.request(encode_command("foo", "a")) == \
        b"-ERR unknown command 'foo', with args beginning with: 'a' \r\n"
    assert c.request(b"FOO\r\n") == \
        b"-ERR unknown command 'FOO', with args beginning with: \r\n"
    # the connection stays usable
    assert c.request(b"PING\r\n") == b"+PONG\r\n"


def test_unknown_command_long_args_are_truncated(raw):
    c = raw()
    reply = c.request(encode_command("FOO", "x" * 200, "b"))
    assert reply == (b"-ERR unknown command 'FOO', with args beginning with: '"
                     + b"x" * 128 + b"' \r\n")
    reply = c.request(encode_command("F" * 200))
    assert reply == b"-ERR unknown command '" + b"F" * 128 + b"', with args beginning with: \r\n"


def test_unknown_command_newlines_replaced_in_error(raw):
    c = raw()
    reply = c.request(encode_command("FOO", "a\r\nb"))
    assert reply == b"-ERR unknown command 'FOO', with args beginning with: 'a  b' \r\n"


def test_unknown_command_via_redis_py(r):
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("foo", "a", "b")
    assert error_line(e.value) == "ERR unknown command 'foo', with args beginning with: 'a' 'b' "


def test_wrong_arity(raw):
    c = raw()
    assert c.request(b"GET\r\n") == b"-ERR wrong number of arguments for 'get' command\r\n"
    assert c.request(b"get a b\r\n") == b"-ERR wrong number of arguments for 'get' command\r\n"
    assert c.request(b"SET a\r\n") == b"-ERR wrong number of arguments for 'set' command\r\n"
    assert c.request(b"config get\r\n") == \
        b"-ERR wrong number of arguments for 'config|get' command\r\n"
    assert c.request(b"config\r\n") == b"-ERR wrong number of arguments for 'config' command\r\n"


def test_unknown_subcommand(raw):
    c = raw()
    assert c.request(b"client foo\r\n") == b"-ERR unknown subcommand 'foo'. Try CLIENT HELP.\r\n"
    assert c.request(b"config foo\r\n") == b"-ERR unknown subcommand 'foo'. Try CONFIG HELP.\r\n"
    assert c.request(b"object foo\r\n") == b"-ERR unknown subcommand 'foo'. Try OBJECT HELP.\r\n"


def test_command_names_are_case_insensitive(raw, r):
    c = raw()
    assert c.request(encode_command("sEt", "ck", "1")) == b"+OK\r\n"
    assert c.request(encode_command("GeT", "ck")) == b"$1\r\n1\r\n"


# ---------------------------------------------------------------------------
# big values, binary safety, pipelining
# ---------------------------------------------------------------------------


def test_10mb_value_roundtrip(r):
    value = bytes(random.Random(7).getrandbits(8) for _ in range(4096)) * 2560
    assert len(value) == 10 * 1024 * 1024
    assert r.set("big", value) is True
    assert r.strlen("big") == len(value)
    assert r.get("big") == value
    assert r.getrange("big", len(value) - 4096, -1) == value[-4096:]


def test_10mb_value_raw(raw, r):
    value = b"ab\r\n" * (10 * 1024 * 1024 // 4)
    c = raw(timeout=30)
    c.send(encode_command("SET", "bigraw", value))
    assert c.read_reply() == b"+OK\r\n"
    c.send(encode_command("GET", "bigraw"))
    assert c.read_reply() == b"$%d\r\n" % len(value) + value + b"\r\n"


def test_binary_safe_keys_and_values(r):
    keys = [b"a\r\nb", b"\x00", b"k\x00ey", b"\r\n", b"\xff\xfe\x00\x01", b" space ", b""]
    for i, k in enumerate(keys):
        v = b"val\r\n\x00%d\xff" % i
        assert r.set(k, v)
    for i, k in enumerate(keys):
        assert r.get(k) == b"val\r\n\x00%d\xff" % i
        assert r.exists(k) == 1
    assert sorted(r.keys("*")) == sorted(keys)
    assert r.strlen(b"\x00") == len(b"val\r\n\x000\xff")


def test_binary_safe_raw_bulk(raw, r):
    c = raw()
    key = b"bin\r\n\x00key"
    val = b"\x00\r\n$3\r\n*1\r\n"
    assert c.request(encode_command(b"SET", key, val)) == b"+OK\r\n"
    assert c.request(encode_command(b"GET", key)) == b"$%d\r\n" % len(val) + val + b"\r\n"


def test_pipeline_100000_commands(r):
    n = 50000
    p = r.pipeline(transaction=False)
    for i in range(n):
        p.set(b"pk:%d" % i, i)
        p.incr(b"counter")
    res = p.execute()
    assert len(res) == 2 * n
    assert res[0::2] == [True] * n
    assert res[1::2] == list(range(1, n + 1))
    assert r.dbsize() == n + 1
    assert r.get("counter") == b"%d" % n
    assert r.mget([b"pk:0", b"pk:12345", b"pk:%d" % (n - 1)]) == [b"0", b"12345", b"%d" % (n - 1)]


def test_pipeline_with_errors_in_the_middle(r):
    r.set("str", "x")
    p = r.pipeline(transaction=False)
    p.set("a", 1)
    p.incr("str")
    p.lpush("str", "v")
    p.get("a")
    res = p.execute(raise_on_error=False)
    assert res[0] is True
    assert isinstance(res[1], redis.ResponseError)
    assert str(res[1]) == "value is not an integer or out of range"
    assert isinstance(res[2], redis.ResponseError)
    assert str(res[2]) == "WRONGTYPE Operation against a key holding the wrong kind of value"
    assert res[3] == b"1"


def test_raw_pipeline_many_pings(raw):
    c = raw()
    c.send(b"PING\r\n" * 5000 + encode_command("PING") * 5000)
    for _ in range(10000):
        assert c.read_reply() == b"+PONG\r\n"


# ---------------------------------------------------------------------------
# query buffer limit / unauthenticated limits
# ---------------------------------------------------------------------------


def test_client_query_buffer_limit(start_server, raw):
    srv = start_server("--client-query-buffer-limit", "1mb")
    # a value below the limit works fine
    c = raw(srv.port)
    assert c.request(encode_command("SET", "k", b"x" * 900000)) == b"+OK\r\n"
    # a huge unterminated bulk overflows the query buffer: the client is closed
    big = raw(srv.port, timeout=10)
    big.send(b"*2\r\n$4\r\nECHO\r\n$10000000\r\n")
    try:
        for _ in range(40):
            big.send(b"x" * 100000)
    except OSError:
        pass  # reset by peer: already closed
    assert big.wait_closed(5)
    assert big.buf == b""
    # the server keeps serving
    assert_server_alive(raw, srv.port)
    c2 = raw(srv.port)
    assert c2.request(b"STRLEN k\r\n") == b":900000\r\n"


def test_unauthenticated_limits(start_server, raw):
    srv = start_server("--requirepass", "secret")
    expect_protocol_error(raw, b"*11\r\n", b"unauthenticated multibulk length", port=srv.port)
    expect_protocol_error(raw, b"*1\r\n$16385\r\n", b"unauthenticated bulk length", port=srv.port)
    c = raw(srv.port)
    c.send(b"*10\r\n")
    assert c.read_available(0.2) == b""
    assert not c.closed_by_peer
    # once authenticated, the normal limits apply
    a = raw(srv.port)
    assert a.request(b"AUTH secret\r\n") == b"+OK\r\n"
    assert a.request(encode_command("SET", "k", b"y" * 20000)) == b"+OK\r\n"
    assert a.request(encode_command("STRLEN", "k")) == b":20000\r\n"


def test_resp_parser_helper_roundtrip(raw, r):
    # sanity check of the conftest helper against real replies
    c = raw()
    c.send(encode_command("RPUSH", "l", "a", "b"))
    assert c.read_parsed() == 2
    c.send(encode_command("LRANGE", "l", 0, -1))
    assert c.read_parsed() == [b"a", b"b"]
    c.send(b"GET l\r\n")
    assert c.read_parsed() == RespError(
        "WRONGTYPE Operation against a key holding the wrong kind of value")
