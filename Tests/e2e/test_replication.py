"""Replication of one shard, as Redis 7.0 does it: full and partial resyncs
(PSYNC/PSYNC2), the stream of writes in every database, chains of replicas,
promotion with REPLICAOF NO ONE, the refusals a replica or a master with too
few replicas gives (READONLY, MASTERDOWN, NOREPLICAS), WAIT, lag reporting,
expiry on replicas, bad input on the replication commands, a master that dies
during a sync and a replica restarted with the replicaof directive.

Every server runs in its own directory (``Node``: a ``DataServer`` made by
the ``nodes`` fixture, stopped and removed after the test). "SUT" is the
binary under test (``TESSERA_SERVER``); ``REDIS`` is Debian's redis-server
7.0.15, used for the interoperability cases. Run with
``TESSERA_SERVER=/usr/bin/redis-server`` the whole file checks its
expectations against the reference."""

import os
import re
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import pytest
import redis

from conftest import HOST, REDIS_CLI, RawConn, RespError, _client, _free_port, error_line, error_reply, server_binary, track_process
from persistence_helpers import DataServer, REDIS_SERVER, populate_all_types, snapshot, wait_port_free

SUT = server_binary()
REDIS = REDIS_SERVER
# No snapshots of our own, and no 5 s wait before a diskless transfer (redis-server's default).
BASE_ARGS = ("--save", "", "--appendonly", "no", "--repl-diskless-sync-delay", "0")


# ---------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------


def _descendants(pid):
    """Every process below `pid` (a Tessera shard, a BGSAVE child)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents.setdefault(int(f.read().rsplit(")", 1)[1].split()[1]), []).append(int(entry))
            except OSError:
                pass
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _kill_and_reap(pids, timeout=5):
    """SIGKILLs `pids` and waits until they are gone (reaping those that
    became our children: pytest is the subreaper of what the suite starts)."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    for pid in pids:
        while time.monotonic() < deadline:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
            if not os.path.exists(f"/proc/{pid}"):
                break
            time.sleep(0.01)


class Node(DataServer):
    """A server in a fresh temp directory, with the replication helpers the tests use."""

    def __init__(self, binary, *args, port=None):
        super().__init__(tempfile.mkdtemp(prefix="tessera-e2e-repl-"), *BASE_ARGS, *args,
                         binary=binary, port=port)
        self.ended_on_purpose = False
        self.shard_killed_on_purpose = False
        self.paused_pid = None
        self._r = None

    @property
    def is_tessera(self):
        return "redis-server" not in os.path.basename(self.binary)

    @property
    def r(self) -> redis.Redis:
        if self._r is None:
            self._r = self.client()
        return self._r

    def repl(self):
        return self.r.info("replication")

    def stats(self):
        return self.r.info("stats")

    def pid(self):
        """The process that serves the data (Tessera: the shard, not the supervisor)."""
        return int(self.r.info("server")["process_id"])

    def replicaof(self, master):
        assert self.r.execute_command("REPLICAOF", HOST, master.port) == b"OK"

    def pause(self):
        self.paused_pid = self.pid()
        os.kill(self.paused_pid, signal.SIGSTOP)

    def resume(self):
        if self.paused_pid is not None:
            os.kill(self.paused_pid, signal.SIGCONT)
            self.paused_pid = None

    def restart(self):
        self.ended_on_purpose = False
        self._r = None
        return self.start()

    def stop(self, sig=signal.SIGTERM, timeout=30):
        self.ended_on_purpose = True
        self._r = None
        return super().stop(sig, timeout)

    def kill9(self):
        """SIGKILL, with whatever the server forked (a BGSAVE child would outlive it)."""
        self.ended_on_purpose = True
        self._r = None
        below = _descendants(self.proc.pid)
        self.proc.kill()
        self.proc.wait(10)
        _kill_and_reap(below)
        self.log.close()
        wait_port_free(self.port)

    def finish(self):
        """Ends the node after its test; returns a complaint if it crashed."""
        self.resume()
        complaint = None
        if self.proc is not None:
            if self.proc.poll() is not None and not self.ended_on_purpose:
                complaint = f"{self.binary} on port {self.port} exited ({self.proc.returncode}) during the test"
            elif (self.is_tessera and not self.shard_killed_on_purpose
                  and re.search(r"Shard \d+ \(pid \d+\) ", self.log_tail(100_000))):
                complaint = f"a shard of the server on port {self.port} died or froze during the test"
            if complaint:
                complaint += f"\n--- log tail ---\n{self.log_tail()}"
            if self.proc.poll() is None:
                below = _descendants(self.proc.pid)
                self.proc.kill()
                self.proc.wait(10)
                _kill_and_reap(below)
            self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        return complaint


@pytest.fixture
def nodes():
    """Factory ``nodes(binary=SUT, *args, port=None) -> Node`` (started)."""
    started = []

    def start(binary=SUT, *args, port=None):
        node = Node(binary, *args, port=port)
        started.append(node)
        return node.start()

    yield start
    complaints = [c for c in (n.finish() for n in started) if c]
    if complaints:
        pytest.fail("\n\n".join(complaints), pytrace=False)


# ---------------------------------------------------------------------------
# Waiting and comparing
# ---------------------------------------------------------------------------


def wait_until(predicate, timeout=10.0, what="condition", detail=None):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}"
                                 + (f": {detail()}" if detail else ""))
        time.sleep(0.02)


def wait_synced(master, *replicas, timeout=15.0):
    """Until every replica's link is up and its offset equals the master's."""
    def state():
        return [master.repl().get("master_repl_offset")] + [
            (r.repl().get("master_link_status"), r.repl().get("slave_repl_offset")) for r in replicas]

    def synced():
        s = state()
        return all(link == "up" and offset == s[0] for link, offset in s[1:])
    wait_until(synced, timeout, "replicas in sync (master offset, [(link, offset)])", state)


def wait_acked(master, timeout=10.0):
    """Until every replica acknowledged the master's offset (REPLCONF ACK, once a second)."""
    def acked():
        info = master.repl()
        slaves = [v for k, v in info.items() if re.fullmatch(r"slave\d+", k)]
        return slaves and all(s["offset"] == info["master_repl_offset"] for s in slaves)
    wait_until(acked, timeout, "replicas acknowledging the master's offset", lambda: master.repl())


def wait_link(replica, status, timeout=10.0):
    wait_until(lambda: replica.repl().get("master_link_status") == status, timeout,
               f"master_link_status:{status}", lambda: replica.repl())


def _text(v):
    return v.decode() if isinstance(v, bytes) else v


def keyspace(node):
    """DBSIZE and the number of keys with a TTL, per database."""
    return {db: (v["keys"], v["expires"]) for db, v in node.r.info("keyspace").items()}


def assert_same_data(master, replica):
    assert keyspace(replica) == keyspace(master)
    assert snapshot(replica.r) == snapshot(master.r)


def live_writes(node, tag):
    """Writes of every type in databases 0, 2 and 7, a transaction that
    switches database inside MULTI, TTLs set and removed."""
    r = node.r
    r.set(f"{tag}:s", "v")
    r.incrby(f"{tag}:n", 5)
    r.lpush(f"{tag}:l", "a", "b", "c")
    r.lpop(f"{tag}:l")
    r.hset(f"{tag}:h", mapping={"f": "1", "g": "2"})
    r.hincrby(f"{tag}:h", "f", 10)
    r.sadd(f"{tag}:set", "x", "y", "z")
    r.srem(f"{tag}:set", "y")
    r.zadd(f"{tag}:z", {"a": 1, "b": 2})
    r.zincrby(f"{tag}:z", 5, "a")
    r.xadd(f"{tag}:x", {"f": "v"})
    r.append("str", "-more")
    r.delete("list:small")
    for db in (2, 7):
        c = node.client(db=db)
        c.set(f"{tag}:db{db}", db)
        c.rpush(f"{tag}:list{db}", *range(db))
        c.expire(f"{tag}:list{db}", 1000)
        c.close()
    p = r.pipeline(transaction=True)
    p.set(f"{tag}:tx", "1")
    p.incr(f"{tag}:n")
    p.rpush(f"{tag}:l", "tx")
    p.expire(f"{tag}:s", 2000)
    p.execute()
    with RawConn(HOST, node.port) as c:
        for command in (("MULTI",), ("SELECT", 4), ("SET", f"{tag}:in-db4", "v"), ("HSET", f"{tag}:h4", "f", "v"),
                        ("SELECT", 0), ("INCR", f"{tag}:n"), ("EXEC",)):
            c.send_command(*command)
            reply = c.read_parsed()
            assert not isinstance(reply, RespError), (command, reply)
        assert reply[:4] == [b"OK", b"OK", 1, b"OK"], reply
    r.set(f"{tag}:ex", "v", ex=3000)
    r.persist("ttl:str")
    r.pexpire("hash:small", 1_000_000)


def read_bulk_payload(conn: RawConn, timeout=10.0) -> bytes:
    """After +FULLRESYNC: skips the master's keepalive newlines and reads the $<len> RDB payload."""
    deadline = time.monotonic() + timeout
    while True:
        conn.buf = conn.buf.lstrip(b"\n")
        if b"\r\n" in conn.buf:
            break
        assert conn._fill(deadline), "connection closed before the payload"
    header, conn.buf = conn.buf.split(b"\r\n", 1)
    assert header.startswith(b"$") and header[1:].isdigit(), header
    size = int(header[1:])
    while len(conn.buf) < size:
        assert conn._fill(deadline), "connection closed in the payload"
    payload, conn.buf = conn.buf[:size], conn.buf[size:]
    return payload


# ---------------------------------------------------------------------------
# 1. Tessera master -> Tessera replica
# ---------------------------------------------------------------------------


def test_full_sync_then_stream_of_every_type_and_database(nodes):
    """A replica loads the master's whole dataset (every type, TTLs, several
    databases) with one full sync, then applies the stream: writes in other
    databases (SELECT in the stream), MULTI/EXEC, EXPIRE/PERSIST, and the DEL
    of a key the master expires; ROLE on both sides describes the link."""
    master = nodes(SUT)
    populate_all_types(master.r)
    replica = nodes(SUT)
    replica.replicaof(master)
    wait_synced(master, replica)
    assert_same_data(master, replica)
    assert master.stats()["sync_full"] == 1

    live_writes(master, "live")
    master.r.set("short-lived", "v", px=100)
    master.client(db=15).flushdb()
    wait_until(lambda: master.r.info("stats")["expired_keys"] >= 1, what="the master expiring short-lived")
    wait_synced(master, replica)
    assert_same_data(master, replica)
    assert replica.client(db=4).get("live:in-db4") == b"v"
    assert replica.r.get("live:n") == b"7"
    assert replica.r.exists("short-lived") == 0
    assert 990 < replica.client(db=2).ttl("live:list2") <= 1000

    wait_acked(master)
    offset = master.repl()["master_repl_offset"]
    assert replica.r.execute_command("ROLE") == [b"slave", HOST.encode(), master.port, b"connected", offset]
    assert master.r.execute_command("ROLE") == [b"master", offset, [[HOST.encode(), str(replica.port).encode(),
                                                                      str(offset).encode()]]]
    info = master.repl()
    assert info["connected_slaves"] == 1
    assert info["slave0"]["state"] == "online" and info["slave0"]["port"] == replica.port
    assert replica.repl()["master_replid"] == info["master_replid"]


def writes_then_partial_resync(master, replica):
    """Live writes; then the replica's link is killed on the master, more
    writes happen meanwhile, and the replica catches up with one partial
    resync (sync_full stays 1)."""
    live_writes(master, "before-kill")
    wait_synced(master, replica)
    assert_same_data(master, replica)
    assert master.r.execute_command("CLIENT", "KILL", "TYPE", "replica") == 1
    live_writes(master, "meanwhile")
    wait_synced(master, replica)
    stats = master.stats()
    assert (stats["sync_full"], stats["sync_partial_ok"]) == (1, 1)
    assert_same_data(master, replica)


# ---------------------------------------------------------------------------
# 2. and 3. Interoperability with redis-server, both ways
# ---------------------------------------------------------------------------


def test_redis_server_replicates_our_master_and_continues_partially(nodes):
    """redis-server as a replica of the SUT: it loads the full sync's RDB and
    applies the stream; after CLIENT KILL TYPE replica on the master it
    reconnects with PSYNC <replid> <offset+1> and the master answers
    +CONTINUE (sync_partial_ok), sending what was written meanwhile."""
    master = nodes(SUT)
    populate_all_types(master.r)
    replica = nodes(REDIS)
    replica.replicaof(master)
    wait_synced(master, replica)
    assert_same_data(master, replica)
    writes_then_partial_resync(master, replica)
    assert replica.repl()["master_replid"] == master.repl()["master_replid"]


def test_redis_cli_replica_mode_gets_the_sync_and_the_stream(nodes):
    """redis-cli --replica (the old SYNC command, then the stream printed
    command by command) receives a full sync and then the writes, which the
    master counts as a replica (sync_full, slave0 online)."""
    master = nodes(SUT)
    master.r.set("before", "1")
    cli = subprocess.Popen([REDIS_CLI, "-h", HOST, "-p", str(master.port), "--replica"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        out = b""

        def read_until(needle, timeout=10.0):
            nonlocal out
            deadline = time.monotonic() + timeout
            while needle not in out.lower():
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"redis-cli --replica never printed {needle!r}: {out!r}"
                if select.select([cli.stdout], [], [], remaining)[0]:
                    chunk = os.read(cli.stdout.fileno(), 65536)
                    assert chunk, f"redis-cli exited: {out!r}"
                    out += chunk
        read_until(b"sync done")
        assert master.stats()["sync_full"] == 1
        # Online once its first REPLCONF ACK arrives (after a diskless transfer).
        wait_until(lambda: master.repl().get("slave0", {}).get("state") == "online", what="slave0 online",
                   detail=lambda: master.repl())
        assert master.repl()["connected_slaves"] == 1
        master.client(db=3).set("streamed", "x y")
        read_until(b'"set","streamed","x y"')
    finally:
        cli.kill()
        cli.wait(10)


@pytest.mark.parametrize("payload", ["diskless-eof", "disk"])
def test_we_replicate_redis_server_and_continue_partially(nodes, payload):
    """The SUT as a replica of redis-server: a full sync in both payload
    formats redis-server sends ($EOF:<mark> streamed from a diskless save, or
    $<size> of the RDB file), then the stream; after CLIENT KILL TYPE replica
    on the master the replica continues partially (sync_partial_ok there)."""
    diskless = "yes" if payload == "diskless-eof" else "no"
    master = nodes(REDIS, "--repl-diskless-sync", diskless)
    populate_all_types(master.r)
    replica = nodes(SUT)
    replica.replicaof(master)
    wait_synced(master, replica)
    assert_same_data(master, replica)
    target = "replicas sockets" if diskless == "yes" else "disk"
    assert f"Starting BGSAVE for SYNC with target: {target}" in master.log_tail(100_000)

    writes_then_partial_resync(master, replica)


# ---------------------------------------------------------------------------
# 4. Chains
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("middle", ["sut", "redis"])
def test_chained_replicas_pass_the_stream_on(nodes, middle):
    """top -> middle -> bottom: a replica's own replicas get its master's
    stream byte for byte, so all three share master_replid and the offset,
    and writes on the top reach the bottom."""
    top = nodes(SUT)
    populate_all_types(top.r, big=50)
    mid = nodes(SUT if middle == "sut" else REDIS)
    bottom = nodes(SUT)
    mid.replicaof(top)
    bottom.replicaof(mid)
    wait_synced(top, mid, bottom)
    live_writes(top, "chain")
    wait_synced(top, mid, bottom)
    assert_same_data(top, bottom)
    ids = {n.repl()["master_replid"] for n in (top, mid, bottom)}
    assert len(ids) == 1
    info = mid.repl()
    assert info["role"] == "slave" and info["connected_slaves"] == 1
    assert info["slave0"]["port"] == bottom.port


# ---------------------------------------------------------------------------
# 5. Promotion (PSYNC2)
# ---------------------------------------------------------------------------


def test_promoted_replica_keeps_history_for_the_other_replicas(nodes):
    """REPLICAOF NO ONE: the replica becomes a master with a new
    master_replid, keeps the old master's id as master_replid2, valid up to
    second_repl_offset = its offset + 1, and accepts writes. Another replica
    of the old master pointed at it continues partially (+CONTINUE:
    sync_partial_ok on the promoted one, no full sync)."""
    old = nodes(SUT)
    populate_all_types(old.r, big=50)
    a = nodes(SUT)
    b = nodes(SUT)
    a.replicaof(old)
    b.replicaof(old)
    wait_synced(old, a, b)
    live_writes(old, "before")
    wait_synced(old, a, b)
    old_id = old.repl()["master_replid"]
    old.kill9()
    wait_until(lambda: a.repl()["slave_repl_offset"] == b.repl()["slave_repl_offset"],
               what="both replicas at the same offset")
    offset = a.repl()["slave_repl_offset"]

    assert a.r.execute_command("REPLICAOF", "NO", "ONE") == b"OK"
    info = a.repl()
    assert info["role"] == "master"
    assert info["master_replid2"] == old_id
    assert info["master_replid"] != old_id
    assert info["second_repl_offset"] == offset + 1
    assert info["master_repl_offset"] == offset
    assert a.r.execute_command("ROLE")[0] == b"master"
    assert a.r.set("after-promotion", "1")

    b.replicaof(a)
    wait_synced(a, b)
    stats = a.stats()
    assert (stats["sync_full"], stats["sync_partial_ok"]) == (0, 1)
    assert b.r.get("after-promotion") == b"1"
    assert b.repl()["master_replid"] == a.repl()["master_replid"]
    assert_same_data(a, b)


# ---------------------------------------------------------------------------
# 6. READONLY and MASTERDOWN
# ---------------------------------------------------------------------------


def test_read_only_replica_and_stale_data_refusals(nodes):
    """A replica refuses writes from clients (-READONLY) while applying its
    master's; with replica-serve-stale-data no and the link down, commands
    without the stale flag (GET, DBSIZE, even PING) get -MASTERDOWN while
    stale-flagged ones (INFO, ROLE, CONFIG) still answer; once the master is
    back and synced, reads work again."""
    # The payload format is not the point here (a second full sync after an
    # EOF-marked one: test_full_sync_again_when_the_master_restarts).
    master = nodes(SUT, "--repl-diskless-sync", "no")
    master.r.set("k", "v")
    replica = nodes(SUT)
    replica.replicaof(master)
    wait_synced(master, replica)
    assert error_reply(replica.r, "SET", "k", "mine") == "READONLY You can't write against a read only replica."
    assert error_reply(replica.r, "INCR", "n") == "READONLY You can't write against a read only replica."
    assert replica.r.get("k") == b"v"
    master.r.set("k", "v2")
    wait_synced(master, replica)
    assert replica.r.get("k") == b"v2"

    assert replica.r.config_set("replica-serve-stale-data", "no")
    assert replica.r.get("k") == b"v2"      # link up: served
    master.kill9()
    wait_link(replica, "down")
    masterdown = "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
    for command in (("GET", "k"), ("DBSIZE",), ("PING",), ("EXISTS", "k")):
        assert error_reply(replica.r, *command) == masterdown, command
    assert replica.r.info("replication")["role"] == "slave"
    assert replica.r.execute_command("ROLE")[0] == b"slave"
    assert {_text(k): _text(v) for k, v in replica.r.config_get("replica-serve-stale-data").items()} == {
        "replica-serve-stale-data": "no"}

    master.restart()
    master.r.set("k", "v3")
    wait_synced(master, replica, timeout=10)
    assert replica.r.get("k") == b"v3"
    assert replica.r.ping()


@pytest.mark.parametrize("diskless", ["yes", "no"])
def test_full_sync_again_when_the_master_restarts(nodes, diskless):
    """A master restarted at once (kill -9, same port, a new replication id)
    cannot continue the replica's history: the replica's next PSYNC gets
    +FULLRESYNC and it loads the new master's dataset right away, a second
    full sync in the same payload format as the first."""
    master = nodes(SUT, "--repl-diskless-sync", diskless)
    master.r.set("k", "v1")
    replica = nodes(SUT)
    replica.replicaof(master)
    wait_synced(master, replica)
    master.r.set("k", "v2")
    wait_synced(master, replica)
    master.kill9()
    master.restart()
    master.r.set("k", "v3")
    master.r.set("new", "1")
    wait_synced(master, replica, timeout=10)
    assert replica.r.get("k") == b"v3" and replica.r.get("new") == b"1"
    assert replica.repl()["master_replid"] == master.repl()["master_replid"]
    assert master.stats()["sync_full"] == 1


# ---------------------------------------------------------------------------
# 7. WAIT
# ---------------------------------------------------------------------------


def test_wait_counts_acknowledging_replicas(nodes):
    """WAIT numreplicas timeout returns how many replicas acknowledged the
    caller's last write: 1 with one replica; WAIT 2 100 gives up after the
    timeout with 1; a frozen replica acknowledges nothing (0 after the
    timeout) and catches up once resumed; WAIT on a replica is an error."""
    master = nodes(SUT)
    replica = nodes(SUT)
    replica.replicaof(master)
    wait_synced(master, replica)
    r = master.client(single_connection_client=True)
    r.set("a", "1")
    assert r.execute_command("WAIT", 1, 5000) == 1
    started = time.monotonic()
    assert r.execute_command("WAIT", 2, 100) == 1
    assert 0.09 <= time.monotonic() - started < 2
    assert error_reply(replica.r, "WAIT", 1, 100) == (
        "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica "
        "is configured to be writable (which is not the default) writes to replicas are just local and are "
        "not propagated.")

    replica.pause()
    try:
        r.set("b", "2")
        started = time.monotonic()
        assert r.execute_command("WAIT", 1, 300) == 0
        assert 0.29 <= time.monotonic() - started < 3
    finally:
        replica.resume()
    assert r.execute_command("WAIT", 1, 5000) == 1
    assert replica.r.get("b") == b"2"
    r.close()


# ---------------------------------------------------------------------------
# 8. min-replicas-to-write
# ---------------------------------------------------------------------------


def test_min_replicas_to_write_applies_from_the_start(nodes):
    """A master started with min-replicas-to-write 1 refuses writes from its
    very first command (no replica has acknowledged anything yet)."""
    master = nodes(SUT, "--min-replicas-to-write", "1", "--min-replicas-max-lag", "2")
    assert error_reply(master.r, "SET", "k", "v") == "NOREPLICAS Not enough good replicas to write."
    assert master.r.get("k") is None
    assert master.r.dbsize() == 0


def test_min_replicas_to_write(nodes):
    """min-replicas-to-write 1: without a replica that acknowledged within
    min-replicas-max-lag seconds, writes get -NOREPLICAS and reads work;
    with one they are accepted; a frozen replica stops counting once its
    last ACK is older than the lag, and counts again when resumed."""
    master = nodes(SUT)
    master.r.set("k", "v0")
    assert master.r.config_set("min-replicas-max-lag", "2")
    assert master.r.config_set("min-replicas-to-write", "1")
    noreplicas = "NOREPLICAS Not enough good replicas to write."
    assert error_reply(master.r, "SET", "k", "v") == noreplicas
    assert error_reply(master.r, "DEL", "k") == noreplicas
    assert master.r.get("k") == b"v0"

    replica = nodes(SUT)
    replica.replicaof(master)
    wait_synced(master, replica)

    def write_ok():
        try:
            return master.r.set("k", "v")
        except redis.ResponseError as e:
            assert error_line(e) == noreplicas
            return False
    wait_until(write_ok, what="writes accepted with a replica")

    replica.pause()
    try:
        paused = time.monotonic()
        wait_until(lambda: not write_ok(), timeout=10, what="-NOREPLICAS with the replica frozen")
        assert time.monotonic() - paused >= 0.9
        assert error_reply(master.r, "SET", "k", "v") == noreplicas
        assert master.r.get("k") == b"v"
    finally:
        replica.resume()
    wait_until(write_ok, what="writes accepted again")
    wait_synced(master, replica)
    assert replica.r.get("k") == b"v"


# ---------------------------------------------------------------------------
# 9. Lag
# ---------------------------------------------------------------------------


def test_lag_of_a_frozen_replica_is_visible(nodes):
    """INFO replication on the master: slaveN's lag is the seconds since its
    last ACK and its offset the last acknowledged one, so a frozen replica
    shows a growing lag and an offset behind master_repl_offset; both
    recover when it resumes."""
    master = nodes(SUT)
    replica = nodes(SUT)
    replica.replicaof(master)
    wait_synced(master, replica)
    wait_acked(master)
    replica.pause()
    try:
        for i in range(100):
            master.r.set(f"k{i}", i)
        info = wait_until(lambda: (lambda i: i if i["slave0"]["lag"] >= 2 else None)(master.repl()),
                          timeout=10, what="slave0 lag >= 2")
        assert info["slave0"]["state"] == "online"
        assert info["slave0"]["offset"] < info["master_repl_offset"]
        assert info["connected_slaves"] == 1
    finally:
        replica.resume()
    wait_acked(master)
    assert master.repl()["slave0"]["lag"] <= 1
    assert replica.r.dbsize() == 100


# ---------------------------------------------------------------------------
# 10. Expiry on replicas
# ---------------------------------------------------------------------------


def test_replica_leaves_expiry_to_the_master(nodes):
    """A replica does not delete expired keys itself: the master's DEL (active
    or lazy expiry) arrives in the stream. Meanwhile the replica hides a
    logically expired key from reads (GET, EXISTS, TTL, KEYS) though it still
    holds it (DBSIZE)."""
    master = nodes(SUT)
    replica = nodes(SUT)
    replica.replicaof(master)
    wait_synced(master, replica)

    master.r.set("active", "v", px=200)
    wait_until(lambda: master.stats()["expired_keys"] == 1, what="the master expiring the key")
    wait_synced(master, replica)
    assert replica.r.dbsize() == 0

    assert master.r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0") == b"OK"
    set_at = time.monotonic()
    master.r.set("lazy", "v", px=600)
    wait_synced(master, replica)
    assert replica.r.get("lazy") == b"v"
    wait_until(lambda: replica.r.get("lazy") is None, what="the replica hiding the expired key")
    assert time.monotonic() - set_at >= 0.59
    assert replica.r.exists("lazy") == 0
    assert replica.r.ttl("lazy") == -2
    assert replica.r.keys("*") == []
    assert replica.r.dbsize() == 1
    assert master.r.dbsize() == 1

    assert master.r.get("lazy") is None        # the master expires it now and propagates DEL
    wait_synced(master, replica)
    assert replica.r.dbsize() == 0
    assert master.stats()["expired_keys"] == 2
    master.r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")


# ---------------------------------------------------------------------------
# 11. Bad input
# ---------------------------------------------------------------------------


def test_psync_with_unknown_replid_gets_a_full_resync(nodes):
    """PSYNC with an id the master never had (or "?") gets +FULLRESYNC
    <master_replid> <offset> and the RDB payload ($<size>, since the
    connection did not announce capa eof); an unknown id counts in
    sync_partial_err, "?" does not."""
    master = nodes(SUT)
    master.r.set("k", "v")
    for attempt, (replid, offset) in enumerate([("0123456789abcdef0123456789abcdef01234567", "5"), ("?", "-1")], 1):
        with RawConn(HOST, master.port, timeout=10) as c:
            c.send_command("PSYNC", replid, offset)
            line = c.read_line()
            m = re.fullmatch(rb"\+FULLRESYNC ([0-9a-f]{40}) (\d+)\r\n", line)
            assert m, line
            assert m.group(1).decode() == master.repl()["master_replid"]
            payload = read_bulk_payload(c)
            assert payload.startswith(b"REDIS00") and payload[-9] == 0xFF   # EOF opcode, then the CRC64
            assert master.repl()["connected_slaves"] == 1
        wait_until(lambda: master.repl()["connected_slaves"] == 0, what="the raw replica gone")
        stats = master.stats()
        assert (stats["sync_full"], stats["sync_partial_ok"], stats["sync_partial_err"]) == (attempt, 0, 1)


def test_psync_with_a_non_numeric_offset_is_refused(nodes):
    """PSYNC <replid> <offset> with an offset that is not an integer is an
    error (-ERR value is not an integer or out of range): no sync starts."""
    master = nodes(SUT)
    with RawConn(HOST, master.port) as c:
        c.send_command("PSYNC", "0123456789abcdef0123456789abcdef01234567", "garbage")
        assert c.read_line() == b"-ERR value is not an integer or out of range\r\n"
        c.send_command("PING")
        assert c.read_line() == b"+PONG\r\n"
    stats = master.stats()
    assert (stats["sync_full"], stats["sync_partial_err"]) == (0, 0)
    assert master.repl()["connected_slaves"] == 0


def test_replconf_and_replicaof_bad_arguments(nodes):
    """REPLCONF with an unknown option, REPLICAOF with a port that is not a
    number or out of range: errors, and the server stays a master."""
    master = nodes(SUT)
    assert error_reply(master.r, "REPLCONF", "foo", "bar") == "ERR Unrecognized REPLCONF option: foo"
    assert error_reply(master.r, "REPLCONF", "listening-port") == "ERR syntax error"
    assert error_reply(master.r, "REPLCONF", "listening-port", "x") == "ERR value is not an integer or out of range"
    assert error_reply(master.r, "REPLICAOF", HOST) == "ERR wrong number of arguments for 'replicaof' command"
    for port in ("70000", "-1", "notaport"):
        assert error_reply(master.r, "REPLICAOF", HOST, port) == "ERR Invalid master port", port
    assert master.repl()["role"] == "master"
    assert master.r.execute_command("ROLE") == [b"master", 0, []]


def test_replica_of_an_absent_master_serves_its_data_and_links_later(nodes):
    """A replica whose master does not answer keeps serving its dataset with
    master_link_status:down, retries, and full-syncs from the master that
    later appears on that port (its own data replaced by the master's)."""
    port = _free_port()
    replica = nodes(SUT)
    replica.r.set("mine", "1")
    assert replica.r.execute_command("REPLICAOF", HOST, port) == b"OK"
    wait_until(lambda: replica.r.execute_command("ROLE")[3] == b"connect", what="a failed connection attempt")
    info = replica.repl()
    assert (info["role"], info["master_link_status"], info["master_port"]) == ("slave", "down", port)
    assert info["master_sync_in_progress"] == 0
    assert replica.r.get("mine") == b"1"
    assert replica.r.execute_command("ROLE")[:3] == [b"slave", HOST.encode(), port]

    master = nodes(SUT, port=port)
    master.r.set("theirs", "2")
    wait_synced(master, replica)
    assert replica.r.get("theirs") == b"2"
    assert replica.r.get("mine") is None


# ---------------------------------------------------------------------------
# 12. A master that dies during the sync
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("payload", ["sut-disk", "redis-diskless"])
def test_master_killed_during_the_sync(nodes, payload):
    """The master dies (kill -9) while the replica is in a full sync: the
    replica keeps running and serving its old dataset, reports the link down
    and no sync in progress, removes its temp file, and never crashes."""
    if payload == "sut-disk":
        master = nodes(SUT, "--repl-diskless-sync", "no", "--rdb-key-save-delay", "1000")
    else:
        master = nodes(REDIS, "--repl-diskless-sync", "yes", "--rdb-key-save-delay", "1000")
    p = master.r.pipeline(transaction=False)
    for i in range(4000):
        p.set(f"key:{i}", "x" * 20)
    p.execute()
    replica = nodes(SUT)
    replica.r.set("mine", "1")
    pid = replica.pid()
    replica.replicaof(master)

    def mid_transfer():
        info = replica.repl()
        if info.get("master_sync_in_progress") != 1 or master.r.info("persistence")["rdb_bgsave_in_progress"] != 1:
            return False
        return payload == "sut-disk" or info.get("master_sync_read_bytes", 0) > 0
    wait_until(mid_transfer, timeout=10, what="the sync under way", detail=lambda: replica.repl())
    master.kill9()

    wait_until(lambda: replica.repl()["master_sync_in_progress"] == 0, what="the sync abandoned",
               detail=lambda: replica.repl())
    assert replica.proc.poll() is None
    assert replica.pid() == pid
    assert replica.r.ping()
    info = replica.repl()
    assert (info["role"], info["master_link_status"]) == ("slave", "down")
    assert replica.r.get("mine") == b"1"
    assert replica.r.dbsize() == 1
    wait_until(lambda: not [f for f in os.listdir(replica.dir) if f.startswith("temp-")],
               what="the replica's temp file removed", detail=lambda: os.listdir(replica.dir))


# ---------------------------------------------------------------------------
# 13. The replicaof directive across a restart
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("own_rdb", ["kept", "removed"])
def test_replica_restarted_with_the_directive_resyncs(nodes, own_rdb):
    """A server started with --replicaof "host port" replicates from the
    start. Its full sync leaves the master's RDB as its dump.rdb, with the
    replication id and offset in it: restarted with that file it reloads it
    and continues partially (the master's backlog has what it missed);
    restarted without it, it syncs again in full. Either way it ends with
    what the master received while it was down."""
    master = nodes(SUT)
    master.r.set("first", "1")
    replica = nodes(SUT, "--replicaof", f"{HOST} {master.port}")
    wait_synced(master, replica)
    assert replica.r.get("first") == b"1"
    assert replica.repl()["master_port"] == master.port

    assert replica.stop() == 0
    wait_until(lambda: master.repl()["connected_slaves"] == 0, what="the master noticing the replica left")
    master.r.set("while-down", "2")
    rdb = os.path.join(replica.dir, "dump.rdb")
    if own_rdb == "kept":
        assert os.path.exists(rdb), f"no dump.rdb after the full sync: {os.listdir(replica.dir)}"
    elif os.path.exists(rdb):
        os.unlink(rdb)
    replica.restart()
    wait_synced(master, replica)
    assert replica.r.get("while-down") == b"2"
    assert replica.r.get("first") == b"1"
    stats = master.stats()
    assert (stats["sync_full"], stats["sync_partial_ok"]) == ((1, 1) if own_rdb == "kept" else (2, 0))


# ---------------------------------------------------------------------------
# 14. No acknowledged write lost on failover
# ---------------------------------------------------------------------------


def test_writes_acknowledged_by_wait_survive_kill9_of_the_master(nodes):
    """Under a write load where every write is followed by WAIT 1, the master
    is killed with SIGKILL mid-stream and the replica promoted (REPLICAOF NO
    ONE): every write WAIT acknowledged is on the promoted replica."""
    master = nodes(SUT)
    replica = nodes(SUT)
    replica.replicaof(master)
    wait_synced(master, replica)
    acknowledged = []
    stop = threading.Event()
    failures = []

    def writer():
        c = master.client(single_connection_client=True, socket_timeout=5)
        i = 0
        while not stop.is_set():
            try:
                c.set(f"w{i}", i)
                if c.execute_command("WAIT", 1, 1000) == 1:
                    acknowledged.append(i)
            except (redis.ConnectionError, redis.TimeoutError):
                return
            except Exception as e:  # pragma: no cover - reported below
                failures.append(repr(e))
                return
            i += 1

    t = threading.Thread(target=writer)
    t.start()
    wait_until(lambda: len(acknowledged) >= 300, timeout=20, what="300 acknowledged writes")
    master.kill9()
    stop.set()
    t.join(10)
    assert not failures, failures
    assert replica.r.execute_command("REPLICAOF", "NO", "ONE") == b"OK"
    assert replica.r.execute_command("ROLE")[0] == b"master"
    missing = [i for i in acknowledged if replica.r.get(f"w{i}") != str(i).encode()]
    assert not missing, f"{len(missing)} acknowledged writes lost, e.g. {missing[:5]}"


# ---------------------------------------------------------------------------
# 15. FAILOVER
# ---------------------------------------------------------------------------


def test_failover_hands_the_master_role_to_a_synced_replica(nodes):
    """FAILOVER TO host port: the master holds writes until the target has
    acknowledged everything, becomes its replica and sends PSYNC … FAILOVER;
    the target becomes the master and continues the old master's history
    (a partial resync); no write is lost and INFO shows the state."""
    master = nodes(SUT)
    target = nodes(SUT)
    other = nodes(SUT)
    for r in (target, other):
        r.replicaof(master)
    wait_synced(master, target, other)
    for i in range(100):
        master.r.set(f"f{i}", i)
    assert master.repl()["master_failover_state"] == "no-failover"
    assert master.r.execute_command("FAILOVER", "TO", HOST, target.port) == b"OK"
    wait_until(lambda: target.r.execute_command("ROLE")[0] == b"master", what="target promoted")
    wait_until(lambda: master.repl().get("master_link_status") == "up"
               and master.repl().get("master_port") == target.port, what="old master follows the target")
    assert master.repl()["master_failover_state"] == "no-failover"
    assert target.stats()["sync_partial_ok"] >= 1, "the old master continued partially"
    for i in range(100):
        assert target.r.get(f"f{i}") == str(i).encode()
    target.r.set("after", "1")
    wait_until(lambda: master.r.get("after") == b"1", what="new master's write reaches the old one")


def test_failover_errors_and_abort(nodes):
    """FAILOVER's refusals are Redis 7.0's; ABORT ends a failover waiting for a
    replica that never catches up, and writes resume."""
    lonely = nodes(SUT)
    assert error_reply(lonely.r, "FAILOVER") == "ERR FAILOVER requires connected replicas."
    assert error_reply(lonely.r, "FAILOVER", "ABORT") == "ERR No failover in progress."
    assert error_reply(lonely.r, "FAILOVER", "TIMEOUT", "0") == "ERR FAILOVER timeout must be greater than 0"
    master = nodes(SUT)
    replica = nodes(SUT)
    replica.replicaof(master)
    wait_synced(master, replica)
    assert error_reply(replica.r, "FAILOVER") == "ERR FAILOVER is not valid when server is a replica."
    assert error_reply(master.r, "FAILOVER", "TO", HOST, 1) == "ERR FAILOVER target HOST and PORT is not a replica."
    assert error_reply(master.r, "FAILOVER", "FORCE") == (
        "ERR FAILOVER with force option requires both a timeout and target HOST and IP.")
    replica.pause()          # never acknowledges: the failover waits
    master.r.set("k", "before")
    assert master.r.execute_command("FAILOVER") == b"OK"
    assert master.repl()["master_failover_state"] == "waiting-for-sync"
    assert error_reply(master.r, "FAILOVER") == "ERR FAILOVER already in progress."
    assert master.r.execute_command("FAILOVER", "ABORT") == b"OK"
    assert master.repl()["master_failover_state"] == "no-failover"
    assert master.r.set("k", "after")
    replica.resume()
    assert master.r.execute_command("ROLE")[0] == b"master"


def test_config_rewrite_keeps_the_role(nodes, tmp_path):
    """REPLICAOF at run time reaches the configuration file with CONFIG
    REWRITE (as `replicaof <host> <port>`), so a restart keeps the role;
    REPLICAOF NO ONE then CONFIG REWRITE removes the line."""
    master = nodes(SUT)
    conf = tmp_path / "replica.conf"
    port = _free_port()
    conf.write_text(f"port {port}\nbind {HOST}\nsave \"\"\ndir {tmp_path}\n")
    log = open(tmp_path / "replica.log", "wb")
    proc = track_process(subprocess.Popen([SUT, str(conf)], stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path))
    try:
        r = _client(port)
        wait_until(lambda: _ping_ok(r), what="replica up")
        assert r.execute_command("REPLICAOF", HOST, master.port) == b"OK"
        assert r.config_rewrite()
        assert f"replicaof {HOST} {master.port}" in conf.read_text().splitlines()
        assert r.execute_command("REPLICAOF", "NO", "ONE") == b"OK"
        assert r.config_rewrite()
        assert not any(line.startswith("replicaof") for line in conf.read_text().splitlines())
    finally:
        proc.kill()
        proc.wait(10)
        log.close()


def _ping_ok(client):
    try:
        return client.ping()
    except (redis.ConnectionError, redis.TimeoutError):
        return False


def test_a_restarted_shard_keeps_the_role_replicaof_gave_it(nodes):
    """A replica whose data process dies (kill -9 of the shard; the
    supervisor restarts it) comes back as a replica of the same master, not
    as a second master."""
    master = nodes(SUT)
    replica = nodes(SUT)
    if not replica.is_tessera:
        pytest.skip("redis-server has no supervisor: a killed server stays down")
    master.r.set("k", "v")
    replica.replicaof(master)
    wait_synced(master, replica)
    time.sleep(1.5)   # the supervisor reads the role with its liveness pings
    replica.shard_killed_on_purpose = True
    os.kill(replica.pid(), signal.SIGKILL)
    replica._r = None
    wait_until(lambda: _role(replica) == b"slave" and replica.repl().get("master_link_status") == "up",
               timeout=20, what="the restarted shard replicating again")
    master.r.set("after", "1")
    wait_until(lambda: replica.r.get("after") == b"1", what="stream after the restart")


def _role(node):
    try:
        return node.r.execute_command("ROLE")[0]
    except (redis.ConnectionError, redis.TimeoutError, redis.ResponseError):
        node._r = None
        return None


def test_writable_replica_expires_its_own_keys(nodes):
    """With replica-read-only no, keys a replica's own clients give a TTL are
    deleted by the replica itself once expired (its master never mentions
    them); a write to a key that expired on the master recreates it without
    the old TTL, while reads only hide such keys."""
    master = nodes(SUT)
    replica = nodes(SUT)
    replica.replicaof(master)
    wait_synced(master, replica)
    assert replica.r.config_set("replica-read-only", "no")
    replica.r.set("own", "1", px=300)
    assert replica.r.dbsize() == 1
    wait_until(lambda: replica.r.dbsize() == 0, timeout=5, what="the replica's own key deleted after its TTL")
    master.r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    master.r.set("m1", "5", px=50)
    master.r.set("m2", "5", px=50)
    wait_until(lambda: replica.r.dbsize() == 2 and replica.r.exists("m1", "m2") == 0,
               what="the master's keys replicated and logically expired")
    assert replica.r.incr("m1") == 1
    assert replica.r.ttl("m1") == -1
    assert replica.r.get("m2") is None
    assert replica.r.dbsize() == 2
