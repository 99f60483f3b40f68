"""Server commands: INFO, CONFIG, TIME, DBSIZE, DEBUG, LASTSAVE, MONITOR, redis-cli.

Expected replies were checked against redis-server 7.0.15.  Tests that need
clean statistics or mutate configuration use a separate server instance
(``start_server``) so they don't disturb the shared one.
"""

import re
import time

import pytest
import redis

from conftest import is_reference_redis, encode_command

# Redis order of the INFO sections we care about.
SECTION_ORDER = ["Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU",
                 "Commandstats", "Errorstats", "Keyspace"]


def info_text(conn, *sections):
    conn.send_command("INFO", *sections)
    text = conn.read_parsed()
    assert isinstance(text, bytes)
    return text.decode()


def parse_info(text):
    """Returns {section_name: {field: value_str}} preserving order."""
    out = {}
    cur = None
    for line in text.split("\r\n"):
        if not line:
            continue
        if line.startswith("# "):
            cur = line[2:]
            out[cur] = {}
            continue
        assert cur is not None, line
        k, sep, v = line.partition(":")
        assert sep == ":", "malformed INFO line %r" % line
        out[cur][k] = v
    return out


def headers(text):
    return [l[2:] for l in text.split("\r\n") if l.startswith("# ")]


# ---------------------------------------------------------------------------
# INFO
# ---------------------------------------------------------------------------


def test_info_format(raw):
    c = raw()
    text = info_text(c)
    assert text.startswith("# Server\r\n")
    assert text.endswith("\r\n")
    # every non-empty line is either a header or key:value
    parse_info(text)
    hs = headers(text)
    for s in ["Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU",
              "Errorstats", "Keyspace"]:
        assert s in hs
    assert "Commandstats" not in hs  # only in "all" / "everything" / explicit
    order = [s for s in hs if s in SECTION_ORDER]
    assert order == [s for s in SECTION_ORDER if s in order]


def test_info_all_and_everything(raw):
    c = raw()
    for arg in ("all", "everything"):
        hs = headers(info_text(c, arg))
        assert [s for s in hs if s in SECTION_ORDER] == SECTION_ORDER


def test_info_single_and_multiple_sections(raw):
    c = raw()
    assert headers(info_text(c, "server")) == ["Server"]
    assert headers(info_text(c, "SERVER")) == ["Server"]
    assert headers(info_text(c, "server", "clients")) == ["Server", "Clients"]
    assert headers(info_text(c, "commandstats")) == ["Commandstats"]
    assert info_text(c, "nosuchsection") == ""


def test_info_server(raw, server):
    c = raw()
    s = parse_info(info_text(c, "server"))["Server"]
    for f in ["redis_version", "redis_mode", "os", "arch_bits", "process_id", "run_id",
              "tcp_port", "server_time_usec", "uptime_in_seconds", "uptime_in_days", "hz",
              "executable", "config_file"]:
        assert f in s, f
    assert re.fullmatch(r"\d+\.\d+\.\d+", s["redis_version"])
    assert s["redis_mode"] == "standalone"
    assert s["tcp_port"] == str(server.port)
    if is_reference_redis():
        assert s["process_id"] == str(server.proc.pid)
    else:
        # The shard serving this connection: a child of the supervisor we started.
        with open(f"/proc/{s['process_id']}/stat") as f:
            assert f.read().rsplit(")", 1)[1].split()[1] == str(server.proc.pid)
    assert re.fullmatch(r"[0-9a-f]{40}", s["run_id"])
    assert int(s["uptime_in_seconds"]) >= 0
    assert abs(int(s["server_time_usec"]) / 1e6 - time.time()) < 60


def test_info_clients(start_server, raw):
    # separate server: the shared one may still be reaping connections that
    # earlier tests closed, which would make the counts racy
    srv = start_server()
    c = raw(srv.port)
    s = parse_info(info_text(c, "clients"))["Clients"]
    for f in ["connected_clients", "maxclients", "blocked_clients",
              "client_recent_max_input_buffer", "client_recent_max_output_buffer"]:
        assert f in s, f
    assert s["connected_clients"] == "1"
    assert s["maxclients"] == "10000"
    assert s["blocked_clients"] == "0"
    extra = [raw(srv.port) for _ in range(3)]
    for e in extra:
        assert e.request(b"PING\r\n") == b"+PONG\r\n"
    assert parse_info(info_text(c, "clients"))["Clients"]["connected_clients"] == "4"
    for e in extra:
        e.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        now = parse_info(info_text(c, "clients"))["Clients"]["connected_clients"]
        if now == "1":
            break
        time.sleep(0.02)
    assert now == "1"


def test_info_memory(raw):
    s = parse_info(info_text(raw(), "memory"))["Memory"]
    for f in ["used_memory", "used_memory_human", "used_memory_rss", "used_memory_peak",
              "maxmemory", "maxmemory_human", "maxmemory_policy", "mem_fragmentation_ratio"]:
        assert f in s, f
    assert int(s["used_memory"]) > 0
    assert s["maxmemory"] == "0"
    assert s["maxmemory_policy"] == "noeviction"


def test_info_persistence(raw):
    s = parse_info(info_text(raw(), "persistence"))["Persistence"]
    for f in ["loading", "rdb_changes_since_last_save", "rdb_bgsave_in_progress",
              "rdb_last_save_time", "aof_enabled", "aof_rewrite_in_progress"]:
        assert f in s, f
    assert s["loading"] == "0"
    assert s["aof_enabled"] == "0"
    assert s["rdb_bgsave_in_progress"] == "0"


def test_info_stats_counters(raw, r):
    c = raw()
    r.set("hit", "1")
    s0 = parse_info(info_text(c, "stats"))["Stats"]
    for f in ["total_connections_received", "total_commands_processed",
              "instantaneous_ops_per_sec", "total_net_input_bytes", "total_net_output_bytes",
              "rejected_connections", "expired_keys", "evicted_keys", "keyspace_hits",
              "keyspace_misses", "total_error_replies"]:
        assert f in s0, f
    assert c.request(b"GET hit\r\n") == b"$1\r\n1\r\n"
    assert c.request(b"GET hit\r\n") == b"$1\r\n1\r\n"
    assert c.request(b"GET miss\r\n") == b"$-1\r\n"
    assert raw().request(b"PING\r\n") == b"+PONG\r\n"
    s1 = parse_info(info_text(c, "stats"))["Stats"]
    assert int(s1["keyspace_hits"]) - int(s0["keyspace_hits"]) == 2
    assert int(s1["keyspace_misses"]) - int(s0["keyspace_misses"]) == 1
    assert int(s1["total_connections_received"]) - int(s0["total_connections_received"]) == 1
    # 3 GETs + the PING + the first INFO (counted after it ran)
    assert int(s1["total_commands_processed"]) - int(s0["total_commands_processed"]) == 5


def test_info_replication(raw):
    s = parse_info(info_text(raw(), "replication"))["Replication"]
    assert s["role"] == "master"
    assert s["connected_slaves"] == "0"
    assert re.fullmatch(r"[0-9a-f]{40}", s["master_replid"])
    assert "master_repl_offset" in s


def test_info_cpu(raw):
    s = parse_info(info_text(raw(), "cpu"))["CPU"]
    for f in ["used_cpu_sys", "used_cpu_user", "used_cpu_sys_children", "used_cpu_user_children"]:
        assert f in s, f
        assert re.fullmatch(r"\d+\.\d+", s[f]), s[f]


def test_info_keyspace(r, raw, make_client):
    c = raw()
    assert parse_info(info_text(c, "keyspace")) == {"Keyspace": {}}
    assert info_text(c, "keyspace") == "# Keyspace\r\n"
    r.set("k1", "v")
    assert info_text(c, "keyspace") == "# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n"
    r.set("k2", "v", ex=1000)
    db3 = make_client(db=3)
    db3.set("a", "1")
    db3.set("b", "1")
    db3.set("c", "1")
    ks = parse_info(info_text(c, "keyspace"))["Keyspace"]
    assert list(ks) == ["db0", "db3"]
    assert re.fullmatch(r"keys=2,expires=1,avg_ttl=\d+", ks["db0"])
    assert ks["db3"] == "keys=3,expires=0,avg_ttl=0"
    # redis-py parses it too
    assert r.info("keyspace")["db3"] == {"keys": 3, "expires": 0, "avg_ttl": 0}


def test_info_redis_py(r, server):
    info = r.info()
    assert info["role"] == "master"
    assert info["connected_slaves"] == 0
    assert info["tcp_port"] == server.port
    assert isinstance(info["used_memory"], int)
    assert isinstance(info["connected_clients"], int) and info["connected_clients"] >= 1
    assert isinstance(info["total_commands_processed"], int)


def test_commandstats_and_errorstats(start_server, raw):
    srv = start_server()
    c = raw(srv.port)
    assert c.request(b"CONFIG RESETSTAT\r\n") == b"+OK\r\n"
    assert c.request(b"SET k v\r\n") == b"+OK\r\n"
    assert c.request(b"GET k\r\n") == b"$1\r\nv\r\n"
    assert c.request(b"GET k\r\n") == b"$1\r\nv\r\n"
    assert c.request(b"GET\r\n") == b"-ERR wrong number of arguments for 'get' command\r\n"
    assert c.request(b"INCR k\r\n") == b"-ERR value is not an integer or out of range\r\n"
    assert c.request(b"LPUSH k x\r\n").startswith(b"-WRONGTYPE")
    assert c.request(b"NOSUCHCMD\r\n").startswith(b"-ERR unknown command")
    cs = parse_info(info_text(c, "commandstats"))["Commandstats"]
    pat = (r"calls=(\d+),usec=(\d+),usec_per_call=(\d+\.\d\d),"
           r"rejected_calls=(\d+),failed_calls=(\d+)")
    m = re.fullmatch(pat, cs["cmdstat_get"])
    assert m, cs["cmdstat_get"]
    assert (m.group(1), m.group(4), m.group(5)) == ("2", "1", "0")
    m = re.fullmatch(pat, cs["cmdstat_incr"])
    assert (m.group(1), m.group(4), m.group(5)) == ("1", "0", "1")
    m = re.fullmatch(pat, cs["cmdstat_set"])
    assert (m.group(1), m.group(4), m.group(5)) == ("1", "0", "0")
    assert "cmdstat_config|resetstat" in cs
    assert "cmdstat_nosuchcmd" not in cs

    es = parse_info(info_text(c, "errorstats"))["Errorstats"]
    # arity error + INCR error + unknown command = 3 x ERR, 1 x WRONGTYPE
    assert es == {"errorstat_ERR": "count=3", "errorstat_WRONGTYPE": "count=1"}
    st = parse_info(info_text(c, "stats"))["Stats"]
    assert st["total_error_replies"] == "4"

    # redis-py view
    rc = redis.Redis(host=srv.host, port=srv.port, protocol=2)
    try:
        assert rc.info("commandstats")["cmdstat_get"]["calls"] == 2
    finally:
        rc.close()


def test_config_resetstat(start_server, raw):
    srv = start_server()
    c = raw(srv.port)
    for _ in range(5):
        assert c.request(b"SET a b\r\n") == b"+OK\r\n"
    c.request(b"GET\r\n")
    assert c.request(b"GET a\r\n") == b"$1\r\nb\r\n"
    assert c.request(b"GET nokey\r\n") == b"$-1\r\n"
    assert c.request(b"CONFIG RESETSTAT\r\n") == b"+OK\r\n"
    info = parse_info(info_text(c, "everything"))
    assert "cmdstat_set" not in info["Commandstats"]
    assert "cmdstat_get" not in info["Commandstats"]
    assert info["Errorstats"] == {}
    st = info["Stats"]
    assert st["keyspace_hits"] == "0"
    assert st["keyspace_misses"] == "0"
    assert st["total_error_replies"] == "0"
    assert int(st["total_commands_processed"]) in (1, 2)
    # data is untouched
    assert c.request(b"GET a\r\n") == b"$1\r\nb\r\n"
    assert c.request(b"CONFIG RESETSTAT x\r\n") == \
        b"-ERR wrong number of arguments for 'config|resetstat' command\r\n"


# ---------------------------------------------------------------------------
# CONFIG
# ---------------------------------------------------------------------------


def config_get(conn, *patterns):
    conn.send_command("CONFIG", "GET", *patterns)
    flat = conn.read_parsed()
    assert isinstance(flat, list) and len(flat) % 2 == 0
    return dict(zip(flat[0::2], flat[1::2]))


def test_config_get_startup_args(raw, server):
    c = raw()
    assert config_get(c, "port") == {b"port": str(server.port).encode()}
    assert config_get(c, "bind") == {b"bind": b"127.0.0.1"}
    assert config_get(c, "save") == {b"save": b""}
    assert config_get(c, "appendonly") == {b"appendonly": b"no"}
    assert config_get(c, "dir") == {b"dir": server.dir.encode()}
    assert config_get(c, "port", "bind") == {b"port": str(server.port).encode(),
                                              b"bind": b"127.0.0.1"}


def test_config_get_glob(raw):
    c = raw()
    mm = config_get(c, "maxmemory*")
    assert {b"maxmemory", b"maxmemory-policy", b"maxmemory-samples"} <= set(mm)
    assert all(k.startswith(b"maxmemory") for k in mm)
    assert mm[b"maxmemory"] == b"0"
    assert mm[b"maxmemory-policy"] == b"noeviction"
    hm = config_get(c, "hash-max-*")
    assert {b"hash-max-listpack-entries", b"hash-max-listpack-value"} <= set(hm)
    assert hm[b"hash-max-listpack-entries"] == b"512"
    assert hm[b"hash-max-listpack-value"] == b"64"
    q = config_get(c, "maxmemory-polic?")
    assert q == {b"maxmemory-policy": b"noeviction"}
    everything = config_get(c, "*")
    assert len(everything) > 50
    assert b"port" in everything and b"maxmemory-policy" in everything
    assert config_get(c, "nosuchparam") == {}
    assert config_get(c, "nosuch*") == {}


def test_config_get_arity(raw):
    c = raw()
    assert c.request(b"CONFIG GET\r\n") == \
        b"-ERR wrong number of arguments for 'config|get' command\r\n"


def test_config_set_get_roundtrip(start_server, raw):
    srv = start_server()
    c = raw(srv.port)
    assert c.request(b"CONFIG SET maxmemory-policy allkeys-lru\r\n") == b"+OK\r\n"
    assert config_get(c, "maxmemory-policy") == {b"maxmemory-policy": b"allkeys-lru"}
    # enum values are case-insensitive
    assert c.request(b"CONFIG SET maxmemory-policy VOLATILE-TTL\r\n") == b"+OK\r\n"
    assert config_get(c, "maxmemory-policy") == {b"maxmemory-policy": b"volatile-ttl"}
    assert c.request(b"CONFIG SET hash-max-listpack-entries 100\r\n") == b"+OK\r\n"
    assert config_get(c, "hash-max-listpack-entries") == {b"hash-max-listpack-entries": b"100"}
    # the legacy ziplist name is an alias
    assert config_get(c, "hash-max-ziplist-entries") == {b"hash-max-ziplist-entries": b"100"}
    assert c.request(b"CONFIG SET hash-max-ziplist-entries 77\r\n") == b"+OK\r\n"
    assert config_get(c, "hash-max-listpack-entries") == {b"hash-max-listpack-entries": b"77"}
    # memory units
    assert c.request(b"CONFIG SET maxmemory 1mb\r\n") == b"+OK\r\n"
    assert config_get(c, "maxmemory") == {b"maxmemory": b"1048576"}
    assert c.request(b"CONFIG SET maxmemory 0\r\n") == b"+OK\r\n"
    # several parameters at once
    assert c.request(b"CONFIG SET maxmemory-policy noeviction hash-max-listpack-entries 128\r\n") \
        == b"+OK\r\n"
    assert config_get(c, "maxmemory-policy", "hash-max-listpack-entries") == {
        b"maxmemory-policy": b"noeviction", b"hash-max-listpack-entries": b"128"}
    # parameter names are case-insensitive
    assert c.request(b"CONFIG SET MAXMEMORY-POLICY allkeys-random\r\n") == b"+OK\r\n"
    assert config_get(c, "maxmemory-policy") == {b"maxmemory-policy": b"allkeys-random"}
    # visible through INFO as well
    assert parse_info(info_text(c, "memory"))["Memory"]["maxmemory_policy"] == "allkeys-random"


def test_config_set_hash_listpack_entries_changes_encoding(start_server, raw):
    srv = start_server()
    c = raw(srv.port)
    assert c.request(b"CONFIG SET hash-max-listpack-entries 4\r\n") == b"+OK\r\n"
    assert c.request(b"HSET small a 1 b 2 c 3 d 4\r\n") == b":4\r\n"
    assert c.request(b"OBJECT ENCODING small\r\n") == b"$8\r\nlistpack\r\n"
    assert c.request(b"HSET big a 1 b 2 c 3 d 4 e 5\r\n") == b":5\r\n"
    assert c.request(b"OBJECT ENCODING big\r\n") == b"$9\r\nhashtable\r\n"


def test_config_set_errors(start_server, raw):
    srv = start_server()
    c = raw(srv.port)
    assert c.request(b"CONFIG SET nosuch 1\r\n") == \
        b"-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'\r\n"
    assert c.request(b"CONFIG SET maxmemory-policy foo\r\n") == (
        b"-ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s)"
        b" must be one of the following: volatile-lru, volatile-lfu, volatile-random, "
        b"volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction\r\n")
    assert c.request(b"CONFIG SET hash-max-listpack-entries abc\r\n") == (
        b"-ERR CONFIG SET failed (possibly related to argument 'hash-max-listpack-entries') - "
        b"argument couldn't be parsed into an integer\r\n")
    assert c.request(b"CONFIG SET maxmemory 1foo\r\n") == (
        b"-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - "
        b"argument must be a memory value\r\n")
    assert c.request(b"CONFIG SET maxmemory-policy\r\n") == \
        b"-ERR wrong number of arguments for 'config|set' command\r\n"
    assert c.request(b"CONFIG SET maxmemory-policy volatile-lru maxmemory-policy allkeys-lru\r\n") \
        == (b"-ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - "
            b"duplicate parameter\r\n")
    assert c.request(b"CONFIG SET daemonize yes\r\n") == (
        b"-ERR CONFIG SET failed (possibly related to argument 'daemonize') - "
        b"can't set immutable config\r\n")
    # a failing multi-parameter CONFIG SET applies nothing
    assert c.request(b"CONFIG SET maxmemory-policy allkeys-lru hash-max-listpack-entries abc\r\n") \
        .startswith(b"-ERR CONFIG SET failed (possibly related to argument "
                    b"'hash-max-listpack-entries')")
    assert config_get(c, "maxmemory-policy") == {b"maxmemory-policy": b"noeviction"}


# ---------------------------------------------------------------------------
# misc server commands
# ---------------------------------------------------------------------------


def test_time(raw):
    c = raw()
    c.send(b"TIME\r\n")
    reply = c.read_parsed()
    assert isinstance(reply, list) and len(reply) == 2
    assert all(isinstance(x, bytes) and x.isdigit() for x in reply)
    secs, usecs = int(reply[0]), int(reply[1])
    assert 0 <= usecs < 1000000
    assert abs(secs - time.time()) < 60
    assert c.request(b"TIME x\r\n") == b"-ERR wrong number of arguments for 'time' command\r\n"


def test_time_redis_py(r):
    secs, usecs = r.time()
    assert isinstance(secs, int) and isinstance(usecs, int)


def test_dbsize(r, raw, make_client):
    assert r.dbsize() == 0
    r.mset({"a": 1, "b": 2, "c": 3})
    assert r.dbsize() == 3
    r.delete("a")
    assert r.dbsize() == 2
    other = make_client(db=5)
    other.set("x", 1)
    assert other.dbsize() == 1
    assert r.dbsize() == 2
    assert raw().request(b"DBSIZE x\r\n") == \
        b"-ERR wrong number of arguments for 'dbsize' command\r\n"


def test_lastsave(r, raw):
    ts = r.lastsave()
    c = raw()
    reply = c.request(b"LASTSAVE\r\n")
    assert re.fullmatch(rb":\d+\r\n", reply)
    assert int(reply[1:-2]) <= time.time() + 1


def test_debug_sleep_0(raw):
    c = raw()
    assert c.request(b"DEBUG SLEEP 0\r\n") == b"+OK\r\n"
    assert c.request(b"PING\r\n") == b"+PONG\r\n"


def test_debug_object(r, raw):
    r.set("int", "12345")
    r.set("emb", "hello")
    r.set("rawstr", "x" * 100)
    r.rpush("list", "a")
    c = raw()
    for key, enc in ((b"int", b"int"), (b"emb", b"embstr"), (b"rawstr", b"raw"),
                     (b"list", b"quicklist")):
        reply = c.request(b"DEBUG OBJECT " + key + b"\r\n")
        assert reply.startswith(b"+Value at:"), reply
        fields = dict(f.split(b":", 1) for f in reply[len(b"+Value at:"):-2].split(b" ")[1:])
        assert fields[b"encoding"] == enc
        assert b"refcount" in fields
        assert b"serializedlength" in fields
        assert b"lru_seconds_idle" in fields
    assert c.request(b"DEBUG OBJECT nokey\r\n") == b"-ERR no such key\r\n"


def test_debug_unknown_subcommand(raw):
    assert raw().request(b"DEBUG nosuchsub\r\n") == (
        b"-ERR unknown subcommand or wrong number of arguments for 'nosuchsub'. "
        b"Try DEBUG HELP.\r\n")


def test_echo(r):
    assert r.echo("server-echo") == b"server-echo"


def test_monitor(r, raw):
    m = raw()
    assert m.request(b"MONITOR\r\n") == b"+OK\r\n"
    o = raw()
    assert o.request(b"SELECT 2\r\n") == b"+OK\r\n"
    assert o.request(encode_command("set", "mon", b'a"b\r\n\x00\xff')) == b"+OK\r\n"
    assert o.request(b"GET mon\r\n") == b"$7\r\na\"b\r\n\x00\xff\r\n"
    port = o.sock.getsockname()[1]
    prefix = rb"\+\d+\.\d{6} \[%d 127\.0\.0\.1:%d\] "
    line = m.read_line()
    assert re.fullmatch(prefix % (2, port) + rb'"SELECT" "2"\r\n', line), line
    line = m.read_line()
    assert re.fullmatch(prefix % (2, port) + rb'"set" "mon" "a\\"b\\r\\n\\x00\\xff"\r\n', line), line
    line = m.read_line()
    assert re.fullmatch(prefix % (2, port) + rb'"GET" "mon"\r\n', line), line
    # commands rejected before execution (unknown / wrong arity) are not shown
    assert o.request(b"NOSUCH x\r\n").startswith(b"-ERR unknown command")
    assert o.request(b"GET\r\n").startswith(b"-ERR wrong number")
    assert o.request(b"PING\r\n") == b"+PONG\r\n"
    line = m.read_line()
    assert re.fullmatch(prefix % (2, port) + rb'"PING"\r\n', line), line
    # AUTH arguments are redacted
    o.request(b"AUTH hunter2\r\n")
    line = m.read_line()
    assert re.fullmatch(prefix % (2, port) + rb'"AUTH" "\(redacted\)"\r\n', line), line


def test_monitor_redis_py(r, make_client):
    c = make_client()
    with c.monitor() as mon:
        r.set("via-py", "1")
        cmd = mon.next_command()
        assert cmd["command"] == "SET via-py 1"
        assert cmd["db"] == 0


# ---------------------------------------------------------------------------
# redis-cli
# ---------------------------------------------------------------------------


def test_redis_cli_basic(r, redis_cli):
    cp = redis_cli("set", "a", "b")
    assert cp.returncode == 0 and cp.stdout == "OK\n"
    assert redis_cli("get", "a").stdout == "b\n"
    assert redis_cli("get", "nokey").stdout == "\n"
    assert redis_cli("ping").stdout == "PONG\n"
    assert redis_cli("rpush", "l", "x", "y", "z").stdout == "3\n"
    assert redis_cli("lrange", "l", "0", "-1").stdout == "x\ny\nz\n"
    assert redis_cli("--no-raw", "lrange", "l", "0", "-1").stdout == '1) "x"\n2) "y"\n3) "z"\n'
    assert redis_cli("--no-raw", "get", "nokey").stdout == "(nil)\n"
    # (redis-cli prints an error reply followed by an empty line)
    assert redis_cli("incr", "a").stdout == "ERR value is not an integer or out of range\n\n"
    assert r.get("a") == b"b"


def test_redis_cli_db_and_stdin(r, redis_cli, make_client):
    assert redis_cli("-n", "3", "set", "indb3", "v").stdout == "OK\n"
    assert redis_cli("-n", "3", "dbsize").stdout == "1\n"
    assert make_client(db=3).get("indb3") == b"v"
    cp = redis_cli(input="set x 1\nincr x\nget x\n")
    assert cp.stdout == "OK\n2\n2\n"


def test_redis_cli_error_exit_code(r, redis_cli):
    r.set("a", "b")
    cp = redis_cli("-e", "incr", "a")
    assert cp.returncode == 1


def test_redis_cli_pipe_mass_insert(r, redis_cli, server):
    n = 20000
    payload = b"".join(encode_command("SET", "mass:%d" % i, "value-%d" % i) for i in range(n))
    payload += encode_command("RPUSH", "masslist", *["e%d" % i for i in range(100)])
    cp = redis_cli("--pipe", input=payload, timeout=60)
    assert cp.returncode == 0, cp.stderr
    out = cp.stdout + cp.stderr
    assert "All data transferred" in out
    assert "errors: 0, replies: %d" % (n + 1) in out
    assert r.dbsize() == n + 1
    assert r.get("mass:0") == b"value-0"
    assert r.get("mass:%d" % (n - 1)) == b"value-%d" % (n - 1)
    assert r.llen("masslist") == 100


def test_redis_cli_pipe_reports_errors(r, redis_cli):
    payload = encode_command("SET", "k", "v") + encode_command("INCR", "k") + \
        encode_command("GET", "k")
    cp = redis_cli("--pipe", input=payload)
    out = cp.stdout + cp.stderr
    assert "errors: 1, replies: 3" in out
