"""The supervisor process model and tessera-ctl: tessera-server spawns its
shard, restarts it when it dies or freezes (data back from its AOF/RDB), its
shard dies with it, and tessera-ctl manages it over the control socket."""

import json
import os
import signal
import subprocess
import time

import pytest
import redis

from conftest import is_reference_redis, server_binary, _client
from persistence_helpers import DataServer, wait_for

pytestmark = pytest.mark.skipif(is_reference_redis(), reason="Tessera's supervisor and tessera-ctl")


def shard_pid(port):
    return int(_client(port).info("server")["process_id"])


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] != "Z"


def wait_new_shard(port, old, timeout=20):
    def replaced():
        try:
            return shard_pid(port) != old
        except (redis.ConnectionError, redis.TimeoutError, redis.ResponseError):
            return False
    wait_for(replaced, timeout=timeout, what="a new shard process")


def test_killed_shard_is_restarted_with_its_data(tmp_path):
    s = DataServer(str(tmp_path), "--save", "", "--appendonly", "yes", "--appendfsync", "always").start()
    r = s.client()
    for i in range(200):
        r.set(f"k{i}", i)
    old = shard_pid(s.port)
    assert old != s.proc.pid
    os.kill(old, signal.SIGKILL)
    wait_new_shard(s.port, old)
    r2 = s.client()
    assert r2.dbsize() == 200 and r2.get("k199") == b"199"
    assert s.proc.poll() is None
    assert "restarting" in s.log_tail().lower()
    s.stop()


def test_frozen_shard_is_killed_and_replaced(tmp_path):
    s = DataServer(str(tmp_path), "--save", "", "--shard-timeout", "1000").start()
    old = shard_pid(s.port)
    os.kill(old, signal.SIGSTOP)
    wait_new_shard(s.port, old, timeout=15)
    assert not alive(old)
    assert "did not answer" in s.log_tail()
    s.stop()


def test_shard_dies_with_the_supervisor(tmp_path):
    s = DataServer(str(tmp_path), "--save", "").start()
    pid = shard_pid(s.port)
    s.kill9()
    wait_for(lambda: not alive(pid), timeout=5, what="the shard to die with its supervisor")


def test_shutdown_command_stops_the_whole_server(tmp_path):
    s = DataServer(str(tmp_path), "--save", "").start()
    try:
        s.client().shutdown(nosave=True)
    except redis.ConnectionError:
        pass
    assert s.wait_exit() == 0


@pytest.mark.parametrize("value", ["0", "-1", "abc", "100000"])
def test_invalid_shard_counts_are_refused_clearly(tmp_path, value):
    # (several shards work now: Tests/e2e/test_shards.py)
    s = DataServer(str(tmp_path), "--shards", value).start(wait=False)
    assert s.wait_exit() != 0
    assert f"Invalid shards '{value}'" in s.log_tail()


def test_shards_auto_starts_one_shard_per_core(tmp_path):
    s = DataServer(str(tmp_path), "--save", "", "--shards", "auto").start()
    cores = os.cpu_count()
    wait_for(lambda: f"All {cores} shard(s) ready" in s.log_tail(), timeout=20, what="every shard ready")
    r = s.client()
    for i in range(100):
        r.set(f"k{i}", i)
    assert r.dbsize() == 100
    if cores > 1:
        assert sorted(os.listdir(tmp_path)) == sorted(["server.log"] + [f"shard-{i}" for i in range(cores)])
    s.stop()


def test_socket_activation_uses_the_passed_listener(tmp_path):
    """LISTEN_PID/LISTEN_FDS as systemd sets them for tessera.socket: the
    server serves the inherited socket (fd 3) and opens no port of its own."""
    import socket as socketlib
    lsock = socketlib.socket()
    lsock.setsockopt(socketlib.SOL_SOCKET, socketlib.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(128)
    port = lsock.getsockname()[1]
    unused = DataServer(str(tmp_path)).port  # the --port given must stay closed
    log = open(tmp_path / "server.log", "ab")
    # sh keeps its pid across exec, so LISTEN_PID=$$ names the server; the
    # listening socket becomes descriptor 3 as systemd passes it.
    cmd = (f'LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" --port {unused} '
           f'--bind 127.0.0.1 --dir {tmp_path} --save ""')
    fd = lsock.fileno()
    proc = subprocess.Popen(["sh", "-c", cmd, server_binary()], preexec_fn=lambda: os.dup2(fd, 3),
                            pass_fds=(3,), stdout=log, stderr=subprocess.STDOUT)
    lsock.close()
    try:
        wait_for(lambda: _try_ping(port), timeout=20, what="the server on the activated socket")
        assert _client(port).set("a", "1") and _client(port).get("a") == b"1"
        assert not _try_ping(unused)
        assert "socket activation" in (tmp_path / "server.log").read_text()
    finally:
        proc.terminate()
        proc.wait(20)


def _try_ping(port):
    try:
        return _client(port, socket_timeout=2).ping()
    except (redis.ConnectionError, redis.TimeoutError, redis.ResponseError):
        return False


def test_unixsocket_serves_clients(tmp_path):
    path = str(tmp_path / "tessera.sock")
    s = DataServer(str(tmp_path), "--save", "", "--unixsocket", path, "--unixsocketperm", "700").start()
    r = redis.Redis(unix_socket_path=path)
    assert r.set("x", "y") and r.get("x") == b"y"
    assert oct(os.stat(path).st_mode & 0o777) == "0o700"
    out = subprocess.run(["redis-cli", "-s", path, "get", "x"], capture_output=True, text=True, timeout=10)
    assert out.stdout.strip() == "y"
    s.stop()


# ---------------------------------------------------------------------------
# tessera-ctl
# ---------------------------------------------------------------------------

def ctl_binary():
    return os.path.join(os.path.dirname(server_binary()), "tessera-ctl")


def ctl(sock, *args, check=True):
    r = subprocess.run([ctl_binary(), "--socket", sock, *map(str, args)], capture_output=True, text=True, timeout=60)
    if check:
        assert r.returncode == 0, r.stdout + r.stderr
    return r


def test_ctl_every_subcommand(tmp_path):
    sock = str(tmp_path / "ctl.sock")
    s = DataServer(str(tmp_path), "--save", "", "--control-socket", sock).start()
    r = s.client()
    r.set("a", "1")
    assert oct(os.stat(sock).st_mode & 0o777) == "0o660"
    assert ctl(sock, "ping").stdout.strip() == "PONG"
    status = json.loads(ctl(sock, "status", "--json").stdout)
    assert status[0]["shard"] == 0 and status[0]["state"] == "ready" and status[0]["keys"] == 1
    assert status[0]["pid"] == shard_pid(s.port)
    assert "ready" in ctl(sock, "status").stdout
    shards = json.loads(ctl(sock, "--json", "shards").stdout)
    assert shards == [{"shard": 0, "pid": shard_pid(s.port), "state": "ready", "restarts": 0}]
    assert ctl(sock, "config", "set", "maxmemory-samples", "9").stdout.strip() == "OK"
    assert r.config_get("maxmemory-samples")["maxmemory-samples"] in (b"9", "9")
    assert "9" in ctl(sock, "config", "get", "maxmemory-samples").stdout
    assert "db0:keys=1" in ctl(sock, "info", "keyspace").stdout
    ctl(sock, "save")
    assert os.path.exists(tmp_path / "dump.rdb")
    ctl(sock, "bgsave")
    assert ctl(sock, "plugins", "list").returncode == 0
    assert ctl(sock, "reload").stdout.strip() == "OK"
    old = shard_pid(s.port)
    ctl(sock, "restart-shard", "0")
    wait_new_shard(s.port, old)
    assert s.client().get("a") == b"1"          # saved on the graceful restart path? (the RDB above)
    assert json.loads(ctl(sock, "--json", "shards").stdout)[0]["restarts"] == 1
    bad = ctl(sock, "restart-shard", "7", check=False)
    assert bad.returncode == 1 and "no such shard" in bad.stderr
    usage = ctl(sock, "config", "frobnicate", "x", check=False)
    assert usage.returncode == 64
    ctl(sock, "shutdown", "--nosave")
    assert s.wait_exit() == 0
    assert not os.path.exists(sock)
    down = ctl(sock, "status", check=False)
    assert down.returncode == 2 and "not running" in down.stderr


def test_ctl_without_permission(tmp_path):
    sock = str(tmp_path / "ctl.sock")
    s = DataServer(str(tmp_path), "--save", "", "--control-socket", sock, "--control-socket-perm", "600").start()
    try:
        r = subprocess.run(["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups",
                            ctl_binary(), "--socket", sock, "status"], capture_output=True, text=True, timeout=30)
        assert r.returncode == 2 and "permission denied" in r.stderr, r.stdout + r.stderr
    finally:
        s.stop()
