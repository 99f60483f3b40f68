"""Client limits and connection safety: maxclients, idle timeout, output and
query buffer limits, a connection storm next to a pipelined client, CLIENT
LIST/INFO fields, CLIENT KILL filters, CLIENT PAUSE, rename-command and
Tessera's protect-dangerous-commands.

Expected replies were checked against redis-server 7.0.15 (tests of Tessera's
own directive are skipped there).
"""

import re
import socket
import threading
import time

import pytest
import redis

from conftest import is_reference_redis, encode_command, HOST


def info_field(c, section, field):
    return str(c.info(section).get(field))


def wait_for(pred, timeout=5.0, step=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return False


# --- maxclients, timeout -----------------------------------------------------

def test_maxclients_rejects_the_next_client(start_server, make_client, raw):
    info = start_server("--maxclients", "5")
    conns = []
    for _ in range(5):
        r = raw(info.port)
        assert r.request(encode_command("PING")) == b"+PONG\r\n"
        conns.append(r)
    extra = raw(info.port)
    line = extra.read_line()
    assert line.rstrip(b"\r\n") == b"-ERR max number of clients reached"
    assert extra.wait_closed(2)
    conns.pop().close()
    c = None
    assert wait_for(lambda: _can_connect(info.port))
    c = make_client(info.port)
    assert int(info_field(c, "stats", "rejected_connections")) >= 1
    assert info_field(c, "clients", "maxclients") == "5"


def _can_connect(port):
    s = socket.create_connection((HOST, port), timeout=1)
    try:
        s.sendall(encode_command("PING"))
        return s.recv(64).startswith(b"+PONG")
    finally:
        s.close()


def test_idle_timeout_closes_idle_clients(start_server, make_client, raw):
    info = start_server("--timeout", "1")
    idle = raw(info.port)
    assert idle.request(encode_command("PING")) == b"+PONG\r\n"
    busy = make_client(info.port)
    deadline = time.monotonic() + 3.5
    while time.monotonic() < deadline:
        busy.ping()              # an active client is never timed out
        time.sleep(0.2)
    assert idle.wait_closed(3)
    assert busy.ping()


# --- buffer limits -------------------------------------------------------------

def test_output_buffer_limit_disconnects_a_slow_reader(start_server, make_client):
    info = start_server("--client-output-buffer-limit", "normal 1mb 256kb 1")
    c = make_client(info.port)
    c.set("big", "x" * 100_000)
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect((HOST, info.port))
    s.sendall(encode_command("GET", "big") * 300)      # ~30 MB of replies, never read
    assert wait_for(lambda: len(c.client_list()) == 1, 15), c.client_list()
    if not is_reference_redis():  # a Redis 7.2 field; 7.0 does not count
        assert wait_for(lambda: info_field(c, "stats", "client_output_buffer_limit_disconnections") == "1", 5)
    s.settimeout(5)
    got = 0
    try:
        while True:
            d = s.recv(1 << 20)
            if not d:
                break
            got += len(d)
    except (ConnectionResetError, socket.timeout):
        pass
    s.close()
    assert got < 30_000_000
    assert c.ping()


def test_output_buffer_limit_disconnects_a_slow_pubsub_subscriber(start_server, make_client):
    info = start_server("--client-output-buffer-limit", "pubsub 512kb 128kb 1")
    c = make_client(info.port)
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect((HOST, info.port))
    s.sendall(encode_command("SUBSCRIBE", "news"))
    assert wait_for(lambda: c.pubsub_numsub("news")[0][1] == 1)
    payload = "y" * 50_000
    receivers = []
    for _ in range(200):               # ~10 MB published, never read by the subscriber
        receivers.append(c.publish("news", payload))
        if receivers[-1] == 0:
            break
    assert receivers[0] == 1 and receivers[-1] == 0, receivers[-5:]
    assert c.pubsub_numsub("news")[0][1] == 0
    assert wait_for(lambda: len(c.client_list()) == 1, 5), c.client_list()
    if not is_reference_redis():  # a Redis 7.2 field; 7.0 does not count
        assert info_field(c, "stats", "client_output_buffer_limit_disconnections") == "1"
    s.close()
    assert c.ping()


def test_output_buffer_limit_config_roundtrip(start_server, make_client):
    c = make_client(start_server().port)
    c.config_set("client-output-buffer-limit", "normal 10mb 5mb 30 pubsub 64mb 16mb 90")
    v = c.config_get("client-output-buffer-limit")["client-output-buffer-limit"]
    assert v == "normal 10485760 5242880 30 slave 268435456 67108864 60 pubsub 67108864 16777216 90"


def test_query_buffer_limit(start_server, make_client):
    info = start_server("--client-query-buffer-limit", "1mb")
    c = make_client(info.port)
    s = socket.create_connection((HOST, info.port))
    s.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10000000\r\n")
    chunk = b"a" * 65536
    try:
        for _ in range(40):      # 2.5 MB of an unfinished argument
            s.sendall(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass
    s.settimeout(5)
    try:
        assert s.recv(100) == b""
    except ConnectionResetError:
        pass
    s.close()
    if not is_reference_redis():  # a Redis 7.2 field; 7.0 does not count
        assert info_field(c, "stats", "client_query_buffer_limit_disconnections") == "1"


# --- connection storm -----------------------------------------------------------

def test_connection_storm_does_not_starve_a_pipelined_client(start_server, make_client):
    info = start_server()
    c = make_client(info.port)
    latencies = []
    stop = threading.Event()
    errors = []

    def pipelined():
        p = make_client(info.port)
        while not stop.is_set():
            t = time.monotonic()
            pipe = p.pipeline(transaction=False)
            for i in range(50):
                pipe.incr("counter")
            pipe.execute()
            latencies.append(time.monotonic() - t)

    th = threading.Thread(target=pipelined)
    th.start()
    try:
        for i in range(2000):
            s = socket.socket()
            try:
                s.connect((HOST, info.port))
                if i % 10 == 0:
                    s.sendall(encode_command("PING"))
                    s.recv(16)
            except OSError as e:
                errors.append(e)
            finally:
                s.close()
    finally:
        stop.set()
        th.join(10)
    assert not errors[:5]
    assert len(latencies) > 10
    assert max(latencies) < 1.0, max(latencies)
    assert int(c.get("counter")) == 50 * len(latencies)
    assert int(info_field(c, "stats", "total_connections_received")) >= 2000


# --- CLIENT LIST / INFO / KILL --------------------------------------------------

FIELDS = ("id addr laddr fd name age idle flags db sub psub ssub multi qbuf qbuf-free argv-mem "
          "multi-mem rbs rbp obl oll omem tot-mem events cmd user redir resp").split()


def test_client_list_fields_in_redis_order(start_server, make_client):
    c = make_client(start_server().port)
    line = c.execute_command("CLIENT", "INFO").decode().strip()
    assert [kv.split("=", 1)[0] for kv in line.split(" ")] == FIELDS
    assert " qbuf=26 " in line and " cmd=client|info " in line and " flags=N " in line
    assert " multi=-1 " in line and " obl=0 oll=0 omem=0 " in line
    lines = c.execute_command("CLIENT", "LIST").decode().strip().split("\n")
    assert all(l.startswith("id=") for l in lines)


def test_client_kill_filters(start_server, make_client):
    info = start_server()
    me = make_client(info.port)
    a, b, d = (make_client(info.port) for _ in range(3))
    a.client_setname("a"); b.client_setname("b"); d.client_setname("d")
    ida, idb = a.client_id(), b.client_id()
    addr_b = [x for x in me.client_list() if x["name"] == "b"][0]["addr"]
    laddr = [x for x in me.client_list() if x["name"] == "d"][0]["laddr"]

    assert me.execute_command("CLIENT", "KILL", "ID", ida) == 1
    assert me.execute_command("CLIENT", "KILL", "ADDR", addr_b) == 1
    assert me.execute_command("CLIENT", "KILL", "ID", ida) == 0
    names = {x["name"] for x in me.client_list()}
    assert "a" not in names and "b" not in names and "d" in names

    e1 = make_client(info.port); e1.client_setname("e1")
    addr_e1 = [x for x in me.client_list() if x["name"] == "e1"][0]["addr"]
    assert me.execute_command("CLIENT", "KILL", addr_e1) == b"OK"
    with pytest.raises(redis.ResponseError, match="No such client"):
        me.execute_command("CLIENT", "KILL", addr_e1)

    # LADDR, TYPE and USER match every other client; SKIPME yes spares the caller.
    assert me.execute_command("CLIENT", "KILL", "LADDR", laddr, "TYPE", "normal", "USER", "default") >= 1
    assert [x["name"] for x in me.client_list()] == [""]
    assert me.execute_command("CLIENT", "KILL", "TYPE", "pubsub") == 0
    assert me.execute_command("CLIENT", "KILL", "TYPE", "master") == 0

    for args, msg in [((), "wrong number of arguments for 'client|kill' command"),
                      (("ID", "10", "wrong_arg"), "syntax error"),
                      (("ID", "str"), "client-id should be greater than 0"),
                      (("ID", "0"), "client-id should be greater than 0"),
                      (("TYPE", "wrong_type"), "Unknown client type 'wrong_type'"),
                      (("USER", "wrong_user"), "No such user 'wrong_user'"),
                      (("SKIPME", "maybe"), "syntax error")]:
        with pytest.raises(redis.ResponseError, match=re.escape(msg)):
            me.execute_command("CLIENT", "KILL", *args)

    # SKIPME no: the caller goes too (after its reply).
    assert me.execute_command("CLIENT", "KILL", "ID", me.client_id(), "SKIPME", "no") == 1


# --- CLIENT PAUSE -------------------------------------------------------------

def test_client_pause_write_holds_writes_and_serves_reads(start_server, make_client):
    info = start_server()
    admin = make_client(info.port)
    reader = make_client(info.port)
    writer = make_client(info.port)
    admin.set("k", "v")
    assert admin.execute_command("CLIENT", "PAUSE", 60000, "WRITE") == b"OK"
    t = time.monotonic()
    assert reader.get("k") == b"v"
    assert reader.ping()
    assert time.monotonic() - t < 0.5
    done = {}

    def write():
        done["reply"] = writer.set("k", "new")
        done["at"] = time.monotonic()

    th = threading.Thread(target=write)
    th.start()
    assert wait_for(lambda: info_field(admin, "clients", "blocked_clients") == "1")
    time.sleep(0.3)
    assert "reply" not in done
    assert reader.get("k") == b"v"
    # Syntax errors are answered at once even while paused.
    with pytest.raises(redis.ResponseError, match="wrong number of arguments for 'set'"):
        reader.execute_command("SET", "x")
    released = time.monotonic()
    assert admin.execute_command("CLIENT", "UNPAUSE") == b"OK"
    th.join(5)
    assert done["reply"] is True and done["at"] >= released
    assert admin.get("k") == b"new"
    assert info_field(admin, "clients", "blocked_clients") == "0"


def test_client_pause_ends_by_itself(start_server, make_client):
    info = start_server()
    admin, writer = make_client(info.port), make_client(info.port)
    admin.execute_command("CLIENT", "PAUSE", 300, "WRITE")
    t = time.monotonic()
    writer.set("a", 1)
    assert time.monotonic() - t >= 0.2
    admin.execute_command("CLIENT", "PAUSE", 300)   # ALL: reads wait too
    t = time.monotonic()
    writer.get("a")
    assert time.monotonic() - t >= 0.2


def test_client_no_evict(start_server, make_client):
    c = make_client(start_server().port)
    assert c.execute_command("CLIENT", "NO-EVICT", "on") == b"OK"
    assert "e" in c.execute_command("CLIENT", "INFO").decode().split(" flags=")[1].split(" ")[0]
    assert c.execute_command("CLIENT", "NO-EVICT", "off") == b"OK"
    with pytest.raises(redis.ResponseError, match="syntax error"):
        c.execute_command("CLIENT", "NO-EVICT", "maybe")


# --- dangerous commands --------------------------------------------------------

def test_rename_command(start_server, make_client):
    c = make_client(start_server("--rename-command", "KEYS", "mykeys",
                                 "--rename-command", "flushdb", "").port)
    c.set("a", 1)
    with pytest.raises(redis.ResponseError, match="(?i)unknown command 'keys'"):
        c.keys("*")
    assert c.execute_command("MYKEYS", "*") == [b"a"]
    with pytest.raises(redis.ResponseError, match="(?i)unknown command 'flushdb'"):
        c.flushdb()
    r = c.connection_pool.get_connection()
    try:
        r.send_command("COMMAND", "INFO", "mykeys", "keys", "flushdb")
        info = r.read_response(disable_decoding=True)
    finally:
        c.connection_pool.release(r)
    # The renamed command keeps its own name; the old names are gone.
    assert info[0][0] == b"keys" and info[1] is None and info[2] is None


@pytest.mark.skipif(is_reference_redis(), reason="Tessera directive")
def test_protect_dangerous_commands(start_server, make_client):
    c = make_client(start_server("--protect-dangerous-commands", "yes").port)
    c.set("a", 1)
    with pytest.raises(redis.ResponseError, match="SCAN"):
        c.keys("*")
    with pytest.raises(redis.ResponseError, match="FLUSHALL ASYNC"):
        c.flushall()
    with pytest.raises(redis.ResponseError, match="FLUSHDB ASYNC"):
        c.flushdb()
    with pytest.raises(redis.ResponseError, match="protect-dangerous-commands"):
        c.execute_command("DEBUG", "SLEEP", "0")
    assert c.scan(0, match="*")[1] == [b"a"]
    assert c.flushall(asynchronous=True)
    assert c.dbsize() == 0
    with pytest.raises(redis.ResponseError):
        c.config_set("protect-dangerous-commands", "no")
