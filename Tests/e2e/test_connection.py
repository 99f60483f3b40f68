"""Connection-level commands: PING/ECHO/SELECT/QUIT/RESET/HELLO/AUTH/CLIENT/COMMAND.

Expected replies were checked against redis-server 7.0.15.
"""

import re

import pytest
import redis

from conftest import RespError, encode_command

HELLO_KEYS = [b"server", b"version", b"proto", b"id", b"mode", b"role", b"modules"]
WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."
NOAUTH = "NOAUTH Authentication required."


def call(conn, *args):
    """Send one command on a RawConn and return the parsed reply
    (avoids redis-py's per-command reply post-processing)."""
    conn.send_command(*args)
    return conn.read_parsed()


def client_id(conn):
    reply = conn.request(b"CLIENT ID\r\n")
    assert reply.startswith(b":")
    return int(reply[1:-2])


def parse_client_line(line):
    if isinstance(line, bytes):
        line = line.decode()
    fields = {}
    for item in line.strip().split(" "):
        k, _, v = item.partition("=")
        fields[k] = v
    return fields


def info_field(r, section, name):
    return r.info(section)[name]


# ---------------------------------------------------------------------------
# PING / ECHO / SELECT / QUIT / RESET
# ---------------------------------------------------------------------------


def test_ping(r, raw):
    assert r.ping() is True
    c = raw()
    assert c.request(b"PING\r\n") == b"+PONG\r\n"
    assert c.request(b"PING hi\r\n") == b"$2\r\nhi\r\n"
    assert c.request(b"PING a b\r\n") == b"-ERR wrong number of arguments for 'ping' command\r\n"


def test_echo(r, raw):
    assert r.echo("hello") == b"hello"
    assert r.echo(b"a\r\n\x00b") == b"a\r\n\x00b"
    assert r.echo("") == b""
    c = raw()
    assert c.request(b"ECHO\r\n") == b"-ERR wrong number of arguments for 'echo' command\r\n"
    assert c.request(b"ECHO a b\r\n") == b"-ERR wrong number of arguments for 'echo' command\r\n"


def test_select(make_client):
    c = make_client(single_connection_client=True)
    c.flushall()
    for db in range(16):
        assert c.select(db) is True
        c.set("k", "db%d" % db)
    for db in range(16):
        c.select(db)
        assert c.get("k") == b"db%d" % db
        assert c.dbsize() == 1
    c.flushall()


def test_select_out_of_range(raw):
    c = raw()
    assert c.request(b"SELECT 16\r\n") == b"-ERR DB index is out of range\r\n"
    assert c.request(b"SELECT -1\r\n") == b"-ERR DB index is out of range\r\n"
    assert c.request(b"SELECT abc\r\n") == b"-ERR value is not an integer or out of range\r\n"
    assert c.request(b"SELECT\r\n") == b"-ERR wrong number of arguments for 'select' command\r\n"
    assert c.request(b"SELECT 15\r\n") == b"+OK\r\n"


def test_select_is_per_connection(r, raw):
    a = raw()
    b = raw()
    assert a.request(b"SELECT 9\r\n") == b"+OK\r\n"
    assert a.request(b"SET k nine\r\n") == b"+OK\r\n"
    assert b.request(b"GET k\r\n") == b"$-1\r\n"
    assert a.request(b"GET k\r\n") == b"$4\r\nnine\r\n"


def test_quit(raw):
    c = raw()
    c.send(b"QUIT\r\nPING\r\n")
    assert c.read_reply() == b"+OK\r\n"
    assert c.wait_closed(5)
    assert c.buf == b""  # the PING after QUIT is not executed


def test_quit_via_resp(raw):
    c = raw()
    assert c.request(encode_command("QUIT")) == b"+OK\r\n"
    assert c.wait_closed(5)


def test_reset(r, raw):
    c = raw()
    assert c.request(b"CLIENT SETNAME foo\r\n") == b"+OK\r\n"
    assert c.request(b"SELECT 3\r\n") == b"+OK\r\n"
    assert c.request(b"SET dbkey 3\r\n") == b"+OK\r\n"
    assert c.request(b"MULTI\r\n") == b"+OK\r\n"
    assert c.request(b"RESET\r\n") == b"+RESET\r\n"
    # name cleared, transaction discarded, db back to 0
    assert c.request(b"CLIENT GETNAME\r\n") == b"$-1\r\n"
    assert c.request(b"EXEC\r\n") == b"-ERR EXEC without MULTI\r\n"
    assert c.request(b"GET dbkey\r\n") == b"$-1\r\n"
    c.send(b"CLIENT INFO\r\n")
    info = parse_client_line(c.read_parsed())
    assert info["db"] == "0"
    assert info["name"] == ""
    assert info["multi"] == "-1"
    assert info["resp"] == "2"


def test_reset_returns_to_resp2(raw):
    c = raw()
    c.send(b"HELLO 3\r\n")
    hello = c.read_parsed()
    assert isinstance(hello, dict) and hello[b"proto"] == 3
    assert c.request(b"RESET\r\n") == b"+RESET\r\n"
    # RESP2 null again
    assert c.request(b"GET nosuchkey_reset\r\n") == b"$-1\r\n"


def test_reset_unwatches(r, raw, make_client):
    c = raw()
    other = make_client()
    r.set("w", "1")
    assert c.request(b"WATCH w\r\n") == b"+OK\r\n"
    assert c.request(b"RESET\r\n") == b"+RESET\r\n"
    other.set("w", "2")
    assert c.request(b"MULTI\r\n") == b"+OK\r\n"
    assert c.request(b"GET w\r\n") == b"+QUEUED\r\n"
    assert c.request(b"EXEC\r\n") == b"*1\r\n$1\r\n2\r\n"


# ---------------------------------------------------------------------------
# HELLO
# ---------------------------------------------------------------------------


def check_hello(hello, proto, conn_id, r):
    if isinstance(hello, list):  # RESP2: flat array
        assert len(hello) == 14
        keys = hello[0::2]
        d = dict(zip(hello[0::2], hello[1::2]))
    else:
        keys = list(hello.keys())
        d = hello
    assert keys == HELLO_KEYS
    assert isinstance(d[b"server"], bytes) and d[b"server"]
    version = d[b"version"].decode()
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    assert int(version.split(".")[0]) >= 7
    assert version == r.info("server")["redis_version"]
    assert d[b"proto"] == proto
    assert d[b"id"] == conn_id
    assert d[b"mode"] == b"standalone"
    assert d[b"role"] == b"master"
    assert d[b"modules"] == []


def test_hello_2(r, raw):
    c = raw()
    cid = client_id(c)
    c.send(b"HELLO 2\r\n")
    head = c.read_line()
    assert head == b"*14\r\n"
    c.buf = head + c.buf
    check_hello(c.read_parsed(), 2, cid, r)


def test_hello_3(r, raw):
    c = raw()
    cid = client_id(c)
    c.send(b"HELLO 3\r\n")
    head = c.read_line()
    assert head == b"%7\r\n"
    c.buf = head + c.buf
    check_hello(c.read_parsed(), 3, cid, r)
    # connection now speaks RESP3
    assert c.request(b"GET nosuchkey_hello\r\n") == b"_\r\n"
    # and back to RESP2
    c.send(b"HELLO 2\r\n")
    check_hello(c.read_parsed(), 2, cid, r)
    assert c.request(b"GET nosuchkey_hello\r\n") == b"$-1\r\n"


def test_hello_without_version(r, raw):
    c = raw()
    cid = client_id(c)
    c.send(b"HELLO\r\n")
    check_hello(c.read_parsed(), 2, cid, r)


def test_hello_errors(raw):
    c = raw()
    assert c.request(b"HELLO 4\r\n") == b"-NOPROTO unsupported protocol version\r\n"
    assert c.request(b"HELLO 1\r\n") == b"-NOPROTO unsupported protocol version\r\n"
    assert c.request(b"HELLO abc\r\n") == \
        b"-ERR Protocol version is not an integer or out of range\r\n"
    assert c.request(b"HELLO 2 foo\r\n") == b"-ERR Syntax error in HELLO option 'foo'\r\n"
    assert c.request(b"HELLO 2 SETNAME\r\n") == b"-ERR Syntax error in HELLO option 'SETNAME'\r\n"
    assert c.request(b"HELLO 2 AUTH default\r\n") == b"-ERR Syntax error in HELLO option 'AUTH'\r\n"
    assert c.request(b"PING\r\n") == b"+PONG\r\n"


def test_hello_setname(r, raw):
    c = raw()
    c.send(b"HELLO 3 SETNAME myname\r\n")
    assert isinstance(c.read_parsed(), dict)
    c.send(b"CLIENT GETNAME\r\n")
    assert c.read_parsed() == b"myname"
    assert c.request(b"HELLO 2 SETNAME \"a b\"\r\n") == \
        b"-ERR Client names cannot contain spaces, newlines or special characters.\r\n"


def test_hello_auth_without_requirepass(r, raw):
    # default user has "nopass": any password is accepted
    c = raw()
    c.send(b"HELLO 2 AUTH default whatever\r\n")
    hello = c.read_parsed()
    assert isinstance(hello, list) and hello[4:6] == [b"proto", 2]


# ---------------------------------------------------------------------------
# AUTH / requirepass
# ---------------------------------------------------------------------------


def test_auth_without_password_configured(raw):
    c = raw()
    assert c.request(b"AUTH x\r\n") == (
        b"-ERR AUTH <password> called without any password configured for the default "
        b"user. Are you sure your configuration is correct?\r\n")
    assert c.request(b"AUTH default x\r\n") == b"+OK\r\n"
    assert c.request(b"AUTH a b c\r\n") == b"-ERR syntax error\r\n"


def test_requirepass(start_server, raw, make_client):
    srv = start_server("--requirepass", "secret")
    c = raw(srv.port)
    assert c.request(b"PING\r\n") == b"-NOAUTH Authentication required.\r\n"
    assert c.request(b"GET a\r\n") == b"-NOAUTH Authentication required.\r\n"
    assert c.request(b"SET a b\r\n") == b"-NOAUTH Authentication required.\r\n"
    assert c.request(b"AUTH wrong\r\n") == b"-" + WRONGPASS.encode() + b"\r\n"
    assert c.request(b"AUTH default wrong\r\n") == b"-" + WRONGPASS.encode() + b"\r\n"
    assert c.request(b"AUTH nouser secret\r\n") == b"-" + WRONGPASS.encode() + b"\r\n"
    assert c.request(b"PING\r\n") == b"-NOAUTH Authentication required.\r\n"
    assert c.request(b"AUTH secret\r\n") == b"+OK\r\n"
    assert c.request(b"PING\r\n") == b"+PONG\r\n"
    assert c.request(b"SET a b\r\n") == b"+OK\r\n"

    c2 = raw(srv.port)
    assert c2.request(b"AUTH default secret\r\n") == b"+OK\r\n"
    assert c2.request(b"GET a\r\n") == b"$1\r\nb\r\n"

    # RESET de-authenticates the connection
    assert c2.request(b"RESET\r\n") == b"+RESET\r\n"
    assert c2.request(b"PING\r\n") == b"-NOAUTH Authentication required.\r\n"

    # QUIT is allowed before authentication
    c3 = raw(srv.port)
    assert c3.request(b"QUIT\r\n") == b"+OK\r\n"
    assert c3.wait_closed(5)

    # redis-py
    good = make_client(port=srv.port, password="secret")
    assert good.get("a") == b"b"
    bad = make_client(port=srv.port)
    with pytest.raises(redis.AuthenticationError):
        bad.get("a")
    wrong = make_client(port=srv.port, password="nope")
    with pytest.raises(redis.AuthenticationError):
        wrong.ping()


def test_requirepass_hello(start_server, raw):
    srv = start_server("--requirepass", "secret")
    c = raw(srv.port)
    noauth_hello = (b"-NOAUTH HELLO must be called with the client already authenticated, "
                    b"otherwise the HELLO AUTH <user> <pass> option can be used to "
                    b"authenticate the client and select the RESP protocol version at the "
                    b"same time\r\n")
    assert c.request(b"HELLO 3\r\n") == noauth_hello
    assert c.request(b"HELLO 3 AUTH default wrong\r\n") == b"-" + WRONGPASS.encode() + b"\r\n"
    assert c.request(b"HELLO 3 AUTH foo secret\r\n") == b"-" + WRONGPASS.encode() + b"\r\n"
    c.send(b"HELLO 3 AUTH default secret SETNAME authed\r\n")
    hello = c.read_parsed()
    assert isinstance(hello, dict) and hello[b"proto"] == 3
    c.send(b"CLIENT GETNAME\r\n")
    assert c.read_parsed() == b"authed"
    assert c.request(b"PING\r\n") == b"+PONG\r\n"


def test_config_set_requirepass_at_runtime(start_server, raw):
    srv = start_server()
    admin = raw(srv.port)
    assert admin.request(b"CONFIG SET requirepass s3cr3t\r\n") == b"+OK\r\n"
    # the admin connection stays authenticated
    assert admin.request(b"PING\r\n") == b"+PONG\r\n"
    c = raw(srv.port)
    assert c.request(b"PING\r\n") == b"-NOAUTH Authentication required.\r\n"
    assert c.request(b"AUTH s3cr3t\r\n") == b"+OK\r\n"
    assert c.request(b"PING\r\n") == b"+PONG\r\n"


# ---------------------------------------------------------------------------
# CLIENT
# ---------------------------------------------------------------------------


def test_client_id(raw):
    a = raw()
    b = raw()
    ida = client_id(a)
    idb = client_id(b)
    assert ida > 0 and idb > ida
    assert client_id(a) == ida
    assert a.request(b"CLIENT ID x\r\n") == \
        b"-ERR wrong number of arguments for 'client|id' command\r\n"


def test_client_setname_getname(raw):
    c = raw()
    assert c.request(b"CLIENT GETNAME\r\n") == b"$-1\r\n"
    assert c.request(b"CLIENT SETNAME conn-1\r\n") == b"+OK\r\n"
    assert c.request(b"CLIENT GETNAME\r\n") == b"$6\r\nconn-1\r\n"
    assert c.request(b'CLIENT SETNAME "a b"\r\n') == \
        b"-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
    assert c.request(b'CLIENT SETNAME "a\\nb"\r\n') == \
        b"-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
    assert c.request(b"CLIENT GETNAME\r\n") == b"$6\r\nconn-1\r\n"
    # empty name clears it
    assert c.request(b'CLIENT SETNAME ""\r\n') == b"+OK\r\n"
    assert c.request(b"CLIENT GETNAME\r\n") == b"$-1\r\n"


def test_client_setname_redis_py(make_client):
    c = make_client(single_connection_client=True)
    assert c.client_getname() is None
    assert c.client_setname("pyname") is True
    assert c.client_getname() == "pyname"  # redis-py decodes this reply


CLIENT_FIELDS = ["id", "addr", "laddr", "fd", "name", "age", "idle", "flags", "db", "sub",
                 "psub", "multi", "qbuf", "qbuf-free", "argv-mem", "obl", "oll", "omem",
                 "tot-mem", "events", "cmd", "user", "resp"]


def test_client_info(raw, server):
    c = raw()
    cid = client_id(c)
    assert c.request(b"CLIENT SETNAME infotest\r\n") == b"+OK\r\n"
    assert c.request(b"SELECT 2\r\n") == b"+OK\r\n"
    c.send(b"CLIENT INFO\r\n")
    line = c.read_parsed()
    assert isinstance(line, bytes) and line.endswith(b"\n") and line.count(b"\n") == 1
    f = parse_client_line(line)
    for name in CLIENT_FIELDS:
        assert name in f, name
    assert f["id"] == str(cid)
    assert f["name"] == "infotest"
    assert f["db"] == "2"
    assert f["flags"] == "N"
    assert f["multi"] == "-1"
    assert f["cmd"] == "client|info"
    assert f["user"] == "default"
    assert f["resp"] == "2"
    assert f["laddr"] == "%s:%d" % (server.host, server.port)
    local = c.sock.getsockname()
    assert f["addr"] == "%s:%d" % local


def test_client_list(raw):
    a = raw()
    b = raw()
    ida = client_id(a)
    idb = client_id(b)
    assert b.request(b"CLIENT SETNAME lister\r\n") == b"+OK\r\n"
    a.send(b"CLIENT LIST\r\n")
    text = a.read_parsed()
    assert isinstance(text, bytes) and text.endswith(b"\n")
    clients = {int(f["id"]): f for f in map(parse_client_line, text.decode().splitlines())}
    assert ida in clients and idb in clients
    assert clients[idb]["name"] == "lister"
    assert clients[ida]["cmd"] == "client|list"
    for name in CLIENT_FIELDS:
        assert name in clients[ida]
    # filters
    a.send(b"CLIENT LIST ID %d\r\n" % idb)
    only = a.read_parsed().decode().splitlines()
    assert len(only) == 1 and parse_client_line(only[0])["id"] == str(idb)
    a.send(b"CLIENT LIST ID %d %d\r\n" % (ida, idb))
    assert len(a.read_parsed().decode().splitlines()) == 2
    a.send(b"CLIENT LIST TYPE normal\r\n")
    ids = {int(parse_client_line(l)["id"]) for l in a.read_parsed().decode().splitlines()}
    assert {ida, idb} <= ids
    assert a.request(b"CLIENT LIST TYPE foo\r\n") == b"-ERR Unknown client type 'foo'\r\n"
    assert a.request(b"CLIENT LIST ID abc\r\n") == b"-ERR Invalid client ID\r\n"
    assert a.request(b"CLIENT LIST foo\r\n") == b"-ERR syntax error\r\n"


def test_client_list_redis_py(make_client):
    c = make_client(single_connection_client=True)
    c.client_setname("pylist")
    mine = [cl for cl in c.client_list() if cl["name"] == "pylist"]
    assert len(mine) == 1
    assert int(mine[0]["id"]) == c.client_id()


def test_client_kill_id(raw):
    victim = raw()
    killer = raw()
    vid = client_id(victim)
    assert killer.request(b"CLIENT KILL ID %d\r\n" % vid) == b":1\r\n"
    assert victim.wait_closed(5)
    assert killer.request(b"CLIENT KILL ID %d\r\n" % vid) == b":0\r\n"
    assert killer.request(b"PING\r\n") == b"+PONG\r\n"


def test_client_kill_addr(raw):
    victim = raw()
    killer = raw()
    addr = ("%s:%d" % victim.sock.getsockname()).encode()
    assert killer.request(b"CLIENT KILL ADDR " + addr + b"\r\n") == b":1\r\n"
    assert victim.wait_closed(5)
    assert killer.request(b"CLIENT KILL ADDR " + addr + b"\r\n") == b":0\r\n"


def test_client_kill_old_form(raw):
    victim = raw()
    killer = raw()
    addr = ("%s:%d" % victim.sock.getsockname()).encode()
    assert killer.request(b"CLIENT KILL " + addr + b"\r\n") == b"+OK\r\n"
    assert victim.wait_closed(5)
    assert killer.request(b"CLIENT KILL " + addr + b"\r\n") == b"-ERR No such client\r\n"


def test_client_kill_skipme(raw):
    c = raw()
    cid = client_id(c)
    # SKIPME defaults to yes for the filter form
    assert c.request(b"CLIENT KILL ID %d\r\n" % cid) == b":0\r\n"
    assert c.request(b"CLIENT KILL ID %d SKIPME yes\r\n" % cid) == b":0\r\n"
    assert c.request(b"CLIENT KILL ID %d SKIPME no\r\n" % cid) == b":1\r\n"
    assert c.wait_closed(5)


def test_client_kill_errors(raw):
    c = raw()
    assert c.request(b"CLIENT KILL ID abc\r\n") == b"-ERR client-id should be greater than 0\r\n"
    assert c.request(b"CLIENT KILL ID 0\r\n") == b"-ERR client-id should be greater than 0\r\n"
    assert c.request(b"CLIENT KILL FOO bar\r\n") == b"-ERR syntax error\r\n"
    assert c.request(b"CLIENT KILL ID 1 SKIPME maybe\r\n") == b"-ERR syntax error\r\n"
    assert c.request(b"CLIENT KILL 10.9.9.9:1\r\n") == b"-ERR No such client\r\n"


def test_client_no_evict(raw):
    c = raw()
    assert c.request(b"CLIENT NO-EVICT ON\r\n") == b"+OK\r\n"
    c.send(b"CLIENT INFO\r\n")
    assert parse_client_line(c.read_parsed())["flags"] == "e"
    assert c.request(b"CLIENT NO-EVICT OFF\r\n") == b"+OK\r\n"
    c.send(b"CLIENT INFO\r\n")
    assert parse_client_line(c.read_parsed())["flags"] == "N"
    assert c.request(b"CLIENT NO-EVICT maybe\r\n") == b"-ERR syntax error\r\n"


def test_client_reply(raw):
    c = raw()
    c.send(b"CLIENT REPLY OFF\r\nPING\r\nSET k1 v\r\nCLIENT REPLY ON\r\n")
    assert c.read_reply() == b"+OK\r\n"
    assert c.request(b"PING\r\n") == b"+PONG\r\n"
    c.send(b"CLIENT REPLY SKIP\r\nECHO skipped\r\nECHO shown\r\n")
    assert c.read_reply() == b"$5\r\nshown\r\n"
    assert c.read_available(0.1) == b""
    # commands ran even though their replies were suppressed
    assert c.request(b"GET k1\r\n") == b"$1\r\nv\r\n"
    # errors are suppressed too
    c.send(b"CLIENT REPLY OFF\r\nFOO\r\nCLIENT REPLY ON\r\n")
    assert c.read_reply() == b"+OK\r\n"
    assert c.request(b"CLIENT REPLY foo\r\n") == b"-ERR syntax error\r\n"


def test_client_help_and_unknown(raw):
    c = raw()
    c.send(b"CLIENT HELP\r\n")
    help_lines = c.read_parsed()
    assert isinstance(help_lines, list) and len(help_lines) > 5
    assert c.request(b"CLIENT foo\r\n") == b"-ERR unknown subcommand 'foo'. Try CLIENT HELP.\r\n"


# ---------------------------------------------------------------------------
# COMMAND
# ---------------------------------------------------------------------------


def test_command_count_and_list(raw):
    c = raw()
    count = call(c, "COMMAND", "COUNT")
    assert isinstance(count, int) and count > 100
    full = call(c, "COMMAND")
    assert len(full) == count
    names = call(c, "COMMAND", "LIST")
    assert isinstance(names, list)
    for n in (b"get", b"set", b"ping", b"config", b"config|get", b"client|list", b"zadd"):
        assert n in names
    # COMMAND LIST contains subcommands, COMMAND COUNT only top-level commands
    assert len([n for n in names if b"|" not in n]) == count
    assert sorted(e[0] for e in full) == sorted(n for n in names if b"|" not in n)
    zr = call(c, "COMMAND", "LIST", "FILTERBY", "PATTERN", "zr*")
    assert b"zrange" in zr and b"zrem" in zr and b"zadd" not in zr
    assert all(n.startswith(b"zr") for n in zr)
    hashes = call(c, "COMMAND", "LIST", "FILTERBY", "ACLCAT", "hash")
    assert {b"hset", b"hget", b"hgetall"} <= set(hashes) and b"get" not in hashes


def test_command_info_get(raw):
    c = raw()
    c.send(b"COMMAND INFO get\r\n")
    reply = c.read_parsed()
    assert len(reply) == 1
    get = reply[0]
    assert len(get) == 10
    name, arity, flags, first, last, step, acl, tips, keyspecs, subcommands = get
    assert name == b"get"
    assert arity == 2
    assert flags == [b"readonly", b"fast"]
    assert (first, last, step) == (1, 1, 1)
    assert acl == [b"@read", b"@string", b"@fast"]
    assert tips == []
    assert isinstance(keyspecs, list) and len(keyspecs) == 1
    assert subcommands == []


def test_command_info_various(raw):
    c = raw()
    info = call(c, "COMMAND", "INFO", "set", "mset", "config|get", "PING", "exists", "config")
    by_name = {e[0]: e for e in info}
    assert by_name[b"set"][1:6] == [-3, [b"write", b"denyoom"], 1, 1, 1]
    assert by_name[b"mset"][1:6] == [-3, [b"write", b"denyoom"], 1, -1, 2]
    assert by_name[b"exists"][1:6] == [-2, [b"readonly", b"fast"], 1, -1, 1]
    assert by_name[b"ping"][1:6] == [-1, [b"fast"], 0, 0, 0]
    cg = by_name[b"config|get"]
    assert cg[1] == -3 and cg[3:6] == [0, 0, 0]
    assert b"admin" in cg[2]
    # container command lists its subcommands (each a full command entry)
    subs = {e[0] for e in by_name[b"config"][9]}
    assert {b"config|get", b"config|set", b"config|resetstat"} <= subs


def test_command_info_unknown_is_null(raw):
    c = raw()
    c.send(b"COMMAND INFO nosuchcmd get\r\n")
    reply = c.read_parsed()
    assert reply[0] is None
    assert reply[1][0] == b"get"


def test_command_docs(raw):
    c = raw()
    c.send(b"COMMAND DOCS get\r\n")
    reply = c.read_parsed()
    assert reply[0] == b"get"
    doc = dict(zip(reply[1][0::2], reply[1][1::2]))
    assert doc[b"since"] == b"1.0.0"
    assert doc[b"group"] == b"string"
    args = [dict(zip(a[0::2], a[1::2])) for a in doc[b"arguments"]]
    assert [(a[b"name"], a[b"type"]) for a in args] == [(b"key", b"key")]
    c.send(b"COMMAND DOCS nosuchcmd\r\n")
    assert c.read_parsed() == []


def test_command_getkeys(raw):
    c = raw()
    assert call(c, "COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2") == [b"a", b"b"]
    assert call(c, "COMMAND", "GETKEYS", "SET", "k", "v") == [b"k"]
    assert call(c, "COMMAND", "GETKEYS", "ZUNIONSTORE", "d", "2", "a", "b") == [b"d", b"a", b"b"]
    assert c.request(b"COMMAND GETKEYS nosuch a\r\n") == b"-ERR Invalid command specified\r\n"
    assert c.request(b"COMMAND GETKEYS echo x\r\n") == \
        b"-ERR The command has no key arguments\r\n"
    assert c.request(b"COMMAND GETKEYS get a b\r\n") == \
        b"-ERR Invalid number of arguments specified for command\r\n"
    assert c.request(b"COMMAND GETKEYS get\r\n") == \
        b"-ERR wrong number of arguments for 'command|getkeys' command\r\n"
    assert c.request(b"COMMAND foo\r\n") == b"-ERR unknown subcommand 'foo'. Try COMMAND HELP.\r\n"
