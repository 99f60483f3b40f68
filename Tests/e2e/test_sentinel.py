"""Failover with the tool Redis users already run: Debian's redis-sentinel
monitors a tessera-server master with tessera-server replicas, notices the
master is gone, promotes the replica with the best priority, repoints the
other one, and clients that discover the master through Sentinel (redis-py's
Sentinel) follow it. Every acknowledged write (WAIT 2) survives."""

import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest
import redis
from redis.sentinel import Sentinel

from conftest import HOST, _free_port, server_binary, track_process
from persistence_helpers import DataServer

SENTINEL = shutil.which("redis-sentinel") or "/usr/bin/redis-sentinel"


def wait_for(predicate, timeout=20.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except (redis.ConnectionError, redis.TimeoutError, redis.ResponseError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def link_up(client):
    info = client.info("replication")
    return info.get("master_link_status") == "up"


@pytest.fixture
def cluster():
    """A master, two replicas (the second preferred for promotion) and one
    Sentinel watching them; everything stopped at the end."""
    dirs, servers, procs = [], [], []

    def mkdir(tag):
        d = tempfile.mkdtemp(prefix=f"tessera-e2e-sentinel-{tag}-")
        dirs.append(d)
        return d

    master = DataServer(mkdir("m"), "--save", "", "--repl-diskless-sync-delay", "0").start()
    servers.append(master)
    replicas = []
    for i, priority in enumerate((100, 10)):
        s = DataServer(mkdir(f"r{i}"), "--save", "", "--replicaof", f"{HOST} {master.port}",
                       "--replica-priority", str(priority)).start()
        servers.append(s)
        replicas.append(s)
    for s in replicas:
        wait_for(lambda: link_up(s.client()), what="replica link up")
    sdir = mkdir("s")
    sport = _free_port()
    conf = os.path.join(sdir, "sentinel.conf")
    with open(conf, "w") as f:
        f.write(f"port {sport}\nbind {HOST}\ndir {sdir}\n"
                f"sentinel monitor mymaster {HOST} {master.port} 1\n"
                "sentinel down-after-milliseconds mymaster 1000\n"
                "sentinel failover-timeout mymaster 10000\n")
    log = open(os.path.join(sdir, "sentinel.log"), "wb")
    proc = track_process(subprocess.Popen([SENTINEL, conf], stdout=log, stderr=subprocess.STDOUT, cwd=sdir))
    procs.append(proc)
    sclient = redis.Redis(host=HOST, port=sport, decode_responses=True)
    wait_for(lambda: sclient.ping(), what="sentinel up")
    # Sentinel learns the replicas from the master's INFO replication.
    wait_for(lambda: len(sclient.sentinel_slaves("mymaster")) == 2, what="sentinel sees both replicas")
    try:
        yield master, replicas, sclient, sport, os.path.join(sdir, "sentinel.log")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(10)
        log.close()
        for s in servers:
            if s.proc.poll() is None:
                s.stop(signal.SIGKILL)
        for d in dirs:
            shutil.rmtree(d, ignore_errors=True)


@pytest.mark.skipif(not os.path.exists(SENTINEL), reason="redis-sentinel is not installed")
def test_sentinel_promotes_a_tessera_replica_and_clients_follow(cluster):
    master, (r_default, r_preferred), sclient, sport, sentinel_log = cluster
    sentinel = Sentinel([(HOST, sport)], socket_timeout=2)
    assert sentinel.discover_master("mymaster") == (HOST, master.port)
    writer = sentinel.master_for("mymaster", socket_timeout=2)
    acked = []
    for i in range(200):
        writer.set(f"k{i}", i)
        acked.append(i)
    # Both replicas acknowledged every write: none may be lost by the failover.
    assert writer.execute_command("WAIT", 2, 5000) == 2

    master.kill9()
    wait_for(lambda: sclient.sentinel_get_master_addr_by_name("mymaster") == (HOST, r_preferred.port),
             timeout=30, what="sentinel switches to the preferred replica")
    promoted = r_preferred.client(decode_responses=True)
    wait_for(lambda: promoted.execute_command("ROLE")[0] == "master", what="promoted replica is a master")
    other = r_default.client(decode_responses=True)
    wait_for(lambda: other.info("replication").get("master_port") == r_preferred.port and link_up(other),
             timeout=30, what="the other replica follows the new master")

    # A Sentinel client finds the new master and writes there; the other replica gets it.
    wait_for(lambda: sentinel.discover_master("mymaster") == (HOST, r_preferred.port),
             what="Sentinel clients discover the new master")
    writer = sentinel.master_for("mymaster", socket_timeout=2)
    writer.set("after-failover", "yes")
    wait_for(lambda: other.get("after-failover") == "yes", what="write after failover replicated")
    for i in acked:
        assert promoted.get(f"k{i}") == str(i)
        assert other.get(f"k{i}") == str(i)
    with open(sentinel_log, "rb") as f:
        text = f.read().decode("utf-8", "replace")
    assert "+promoted-slave" in text and "+switch-master" in text
