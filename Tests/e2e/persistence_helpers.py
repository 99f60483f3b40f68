"""Helpers for persistence tests: servers that own a data directory across
restarts (kill -9, SHUTDOWN, SIGTERM), and a type-aware snapshot of the
dataset to compare two servers (ours and the reference redis-server)."""

import os
import signal
import socket
import subprocess
import time

import redis

from conftest import HOST, server_binary, track_process, _free_port, _client

REDIS_SERVER = "/usr/bin/redis-server"


class DataServer:
    """A server process bound to a directory that outlives it."""

    def __init__(self, directory, *args, binary=None, port=None):
        self.dir = directory
        self.args = [str(a) for a in args]
        self.binary = binary or server_binary()
        self.port = port or _free_port()
        self.proc = None
        self.log_path = os.path.join(directory, "server.log")

    def start(self, wait=True, timeout=20.0):
        argv = [self.binary, "--port", str(self.port), "--bind", HOST, "--dir", self.dir,
                "--enable-debug-command", "yes"] + self.args
        self.log = open(self.log_path, "ab")
        self.proc = track_process(subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                                   stdin=subprocess.DEVNULL, cwd=self.dir))
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if self.client().ping():
                    return
            except (redis.ConnectionError, redis.TimeoutError, redis.ResponseError):
                pass
            time.sleep(0.05)
        raise AssertionError(f"server not ready in {timeout}s:\n{self.log_tail()}")

    def client(self, **kw):
        kw.setdefault("socket_timeout", 30)
        return _client(self.port, **kw)

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.log.close()
        wait_port_free(self.port)

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout)
        self.log.close()
        return self.proc.returncode

    def wait_exit(self, timeout=20):
        self.proc.wait(timeout)
        self.log.close()
        return self.proc.returncode

    def log_tail(self, n=3000):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def info(self, section="persistence"):
        return self.client().info(section)

    def wait_info(self, field, value, timeout=30, section="persistence"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if str(self.info(section).get(field)) == str(value):
                return
            time.sleep(0.05)
        raise AssertionError(f"{field} != {value} after {timeout}s: {self.info(section).get(field)}")


def wait_port_free(port, timeout=10):
    """Tessera's shard processes die with their supervisor (PR_SET_PDEATHSIG),
    a moment after it: wait until nothing accepts on the port any more."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection((HOST, port), timeout=0.2).close()
        except OSError:
            return
        time.sleep(0.02)
    raise AssertionError(f"port {port} still accepts connections {timeout}s after the kill")


def snapshot(r, with_ttl=True):
    """Every key of every non-empty database with its type, value and (rounded) TTL."""
    out = {}
    for db_line, _ in r.info("keyspace").items():
        db = int(db_line[2:])
        c = _client(r.connection_pool.connection_kwargs["port"], db=db)
        for key in c.scan_iter(count=1000):
            t = c.type(key).decode()
            if t == "string":
                v = c.get(key)
            elif t == "list":
                v = c.lrange(key, 0, -1)
            elif t == "set":
                v = sorted(c.smembers(key))
            elif t == "zset":
                v = c.zrange(key, 0, -1, withscores=True)
            elif t == "hash":
                v = sorted(c.hgetall(key).items())
            elif t == "stream":
                groups = [(g["name"], g["last-delivered-id"], g["pending"], g["consumers"])
                          for g in c.xinfo_groups(key)]
                v = (c.xrange(key), groups, c.xinfo_stream(key)["last-generated-id"])
            else:
                v = t
            ttl = None
            if with_ttl:
                pttl = c.pttl(key)
                ttl = -1 if pttl < 0 else round(pttl / 10000)
            out[(db, key)] = (t, v, ttl)
    return out


def populate_all_types(r, big=300):
    """Small (compact encodings) and big (hashtable/skiplist/quicklist) values
    of every type, integers, binary data, TTLs, several databases."""
    p = r.pipeline(transaction=False)
    p.set("str", "hello")
    p.set("int", 12345)
    p.set("neg", -98765432109)
    p.set("bin", bytes(range(256)))
    p.set("long", "x" * 5000)   # LZF-compressible
    p.rpush("list:small", "a", "b", 1, 2, -3)
    p.rpush("list:big", *[f"element-{i}" * 3 for i in range(big * 10)])
    p.sadd("set:int", *range(100))
    p.sadd("set:bigint", *range(big * 2))
    p.sadd("set:str", *[f"m{i}" for i in range(big)])
    p.zadd("zset:small", {"a": 1, "b": 2.5, "c": -3})
    p.zadd("zset:big", {f"m{i}": i / 3 for i in range(big)})
    p.hset("hash:small", mapping={"f1": "v1", "f2": 2})
    p.hset("hash:big", mapping={f"f{i}": f"v{i}" for i in range(big * 2)})
    for i in range(big):
        p.xadd("stream", {"f": i, "g": "value"}, id=f"{1000 + i}-0")
    p.xgroup_create("stream", "grp", id="0")
    p.xreadgroup("grp", "alice", {"stream": ">"}, count=5)
    p.xadd("stream:small", {"a": "1"})
    p.set("ttl:str", "v", px=3_600_000)
    p.rpush("ttl:list", "x")
    p.expire("ttl:list", 7200)
    p.execute()
    for db in (3, 15):
        c = _client(r.connection_pool.connection_kwargs["port"], db=db)
        c.set(f"in-db-{db}", db)
        c.hset(f"h-db-{db}", "f", "v")


def wait_for(predicate, timeout=30, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


def wait_rewrite_done(r, timeout=30):
    """Waits until no AOF rewrite runs or is scheduled; the last one must have succeeded."""
    def done():
        i = r.info("persistence")
        return i["aof_rewrite_in_progress"] == 0 and i["aof_rewrite_scheduled"] == 0
    wait_for(done, timeout=timeout, what="AOF rewrite to finish")
    assert r.info("persistence")["aof_last_bgrewrite_status"] == "ok"
