"""Prometheus metrics: the supervisor's /metrics endpoint (metrics-port),
parsed with prometheus_client's text parser and checked against INFO; a
killed shard counted in tessera_shard_restarts_total, a frozen one reported
down without stalling the scrape; the Grafana dashboard only uses exported
series; and Debian's prometheus-redis-exporter works against the main port
(that last test also runs against the reference redis-server)."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import redis

from conftest import HOST, REPO_ROOT, is_reference_redis, _free_port, _client, server_binary
from persistence_helpers import DataServer, wait_for

prometheus_parser = pytest.importorskip("prometheus_client.parser")

tessera_only = pytest.mark.skipif(is_reference_redis(), reason="Tessera's supervisor endpoint")
DASHBOARD = REPO_ROOT / "Packaging" / "grafana" / "tessera-dashboard.json"


def scrape(port, path="/metrics", timeout=15):
    with urllib.request.urlopen(f"http://{HOST}:{port}{path}", timeout=timeout) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain" if path == "/metrics" else "text/")
        return resp.read().decode()


def samples(text):
    """{(sample name, frozenset(labels)): value} and the set of family types."""
    out, types = {}, {}
    for fam in prometheus_parser.text_string_to_metric_families(text):
        types[fam.name] = fam.type
        for s in fam.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out, types


def value(series, name, **labels):
    return series[(name, frozenset((k, str(v)) for k, v in labels.items()))]


def names(series):
    return {n for (n, _) in series}


def shard_pid(port):
    return int(_client(port).info("server")["process_id"])


@pytest.fixture
def metrics_server(tmp_path):
    mport = _free_port()
    s = DataServer(str(tmp_path), "--save", "", "--metrics-port", mport).start()
    s.metrics_port = mport
    yield s
    s.stop()


@tessera_only
def test_metrics_match_info(metrics_server):
    s = metrics_server
    r = s.client()
    for i in range(40):
        r.set(f"k{i}", "x" * 100)
    for i in range(10):
        r.set(f"e{i}", "v", ex=1000)
    for i in range(10):
        r.get(f"k{i}")          # hits
        r.get(f"missing{i}")    # misses
    r.config_set("maxmemory", "100mb")
    r.client_setname("probe")
    series, types = samples(scrape(s.metrics_port))
    info = r.info("everything")

    assert value(series, "redis_up", shard=0) == 1
    assert value(series, "tessera_shard_up", shard=0) == 1
    assert value(series, "tessera_shard_pid", shard=0) == info["process_id"]
    assert value(series, "tessera_shard_restarts_total", shard=0) == 0
    assert value(series, "tessera_forwarded_commands_total", shard=0) == info.get("tessera_forwarded_commands", 0)
    assert value(series, "redis_db_keys", shard=0, db="db0") == 50
    assert value(series, "redis_db_keys_expiring", shard=0, db="db0") == 10
    assert value(series, "redis_db_keys", shard=0, db="db3") == 0
    assert value(series, "redis_commands_total", shard=0, cmd="set") == 50
    assert value(series, "redis_commands_total", shard=0, cmd="get") == 20
    assert value(series, "redis_commands_duration_seconds_total", shard=0, cmd="set") > 0
    assert value(series, "redis_keyspace_hits_total", shard=0) == 10
    assert value(series, "redis_keyspace_misses_total", shard=0) == 10
    assert value(series, "redis_memory_max_bytes", shard=0) == 100 * 1024 * 1024
    used = value(series, "redis_memory_used_bytes", shard=0)
    assert 0.5 * info["used_memory"] <= used <= 2 * info["used_memory"]
    assert value(series, "redis_memory_used_rss_bytes", shard=0) > 0
    assert value(series, "redis_mem_fragmentation_ratio", shard=0) > 0
    assert value(series, "redis_connected_clients", shard=0) >= 1
    assert value(series, "redis_blocked_clients", shard=0) == 0
    # Counters only grow: INFO (read after the scrape) is at least the scraped value.
    processed = value(series, "redis_commands_processed_total", shard=0)
    assert 73 <= processed <= info["total_commands_processed"]
    assert value(series, "redis_connections_received_total", shard=0) <= info["total_connections_received"]
    assert 0 < value(series, "redis_net_input_bytes_total", shard=0) <= info["total_net_input_bytes"]
    assert 0 < value(series, "redis_net_output_bytes_total", shard=0) <= info["total_net_output_bytes"]
    assert value(series, "redis_rdb_last_bgsave_status", shard=0) == 1
    assert value(series, "redis_aof_last_write_status", shard=0) == 1
    assert value(series, "redis_slowlog_length", shard=0) == r.slowlog_len()
    assert value(series, "redis_latest_fork_seconds", shard=0) == 0
    assert value(series, "redis_connected_slaves", shard=0) == 0
    assert value(series, "redis_evicted_keys_total", shard=0) == 0
    assert value(series, "redis_expired_keys_total", shard=0) == 0
    assert value(series, "redis_uptime_in_seconds", shard=0) >= 0
    # A master has no master_link_up series (as with redis_exporter).
    assert "redis_master_link_up" not in names(series)
    assert types["redis_commands"] == "counter" and types["redis_memory_used_bytes"] == "gauge"
    # Every series carries the shard label.
    assert all(dict(labels).get("shard") == "0" for (_, labels) in series)


@tessera_only
def test_metrics_after_bgsave_and_slow_command(metrics_server):
    s = metrics_server
    r = s.client()
    r.config_set("slowlog-log-slower-than", "0")
    r.config_set("latency-monitor-threshold", "1")
    for i in range(1000):
        r.set(f"k{i}", i)
    r.bgsave()
    s.wait_info("rdb_bgsave_in_progress", 0)
    r.execute_command("DEBUG", "SLEEP", "0.05")
    series, _ = samples(scrape(s.metrics_port))
    assert value(series, "redis_latest_fork_seconds", shard=0) > 0
    assert value(series, "redis_slowlog_length", shard=0) > 0
    assert value(series, "redis_slowlog_last_id", shard=0) > 0
    assert value(series, "redis_latency_spike_duration_seconds", shard=0, event_name="command") >= 0.05
    assert value(series, "redis_latency_spike_last", shard=0, event_name="command") > 1e9


@tessera_only
def test_killed_shard_counts_as_a_restart(metrics_server):
    s = metrics_server
    old = shard_pid(s.port)
    os.kill(old, signal.SIGKILL)

    def restarted():
        series, _ = samples(scrape(s.metrics_port))
        return (value(series, "tessera_shard_restarts_total", shard=0) == 1
                and value(series, "tessera_shard_up", shard=0) == 1
                and value(series, "tessera_shard_pid", shard=0) not in (0, old))
    wait_for(restarted, timeout=20, what="the restarted shard in /metrics")
    assert s.client().ping()


@tessera_only
def test_frozen_shard_is_reported_down_in_time(metrics_server):
    s = metrics_server
    pid = shard_pid(s.port)
    os.kill(pid, signal.SIGSTOP)
    try:
        t0 = time.monotonic()
        series, _ = samples(scrape(s.metrics_port))
        elapsed = time.monotonic() - t0
        assert elapsed < 8, elapsed
        assert value(series, "tessera_shard_up", shard=0) == 0
        assert value(series, "redis_up", shard=0) == 0
        assert value(series, "tessera_shard_pid", shard=0) == pid
        assert ("redis_memory_used_bytes", frozenset({("shard", "0")})) not in series
    finally:
        os.kill(pid, signal.SIGCONT)
    # The late replies are discarded; the next scrape is whole again.
    wait_for(lambda: value(samples(scrape(s.metrics_port))[0], "redis_up", shard=0) == 1,
             timeout=10, what="the shard back up in /metrics")


@tessera_only
def test_http_details(metrics_server):
    port = metrics_server.metrics_port
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(f"http://{HOST}:{port}/nothing", timeout=5)
    assert e.value.code == 404
    assert "/metrics" in scrape(port, "/")
    req = urllib.request.Request(f"http://{HOST}:{port}/metrics", method="POST", data=b"x")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=5)
    assert e.value.code == 405
    # A client that connects and says nothing does not block scrapes.
    idle = socket.create_connection((HOST, port))
    try:
        assert "redis_up" in scrape(port)
    finally:
        idle.close()
    # Several scrapes at once.
    conns = []
    for _ in range(5):
        c = socket.create_connection((HOST, port), timeout=10)
        c.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        conns.append(c)
    for c in conns:
        data = b""
        while True:
            chunk = c.recv(65536)
            if not chunk:
                break
            data += chunk
        c.close()
        assert data.startswith(b"HTTP/1.1 200") and b"tessera_shard_up" in data


@tessera_only
def test_metrics_port_in_use_is_fatal(tmp_path):
    busy = socket.socket()
    busy.bind((HOST, 0))
    busy.listen(1)
    s = DataServer(str(tmp_path), "--save", "", "--metrics-port", busy.getsockname()[1]).start(wait=False)
    try:
        assert s.wait_exit() != 0
        assert "metrics endpoint" in s.log_tail()
    finally:
        busy.close()


def dashboard_metric_names():
    dash = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
    exprs += [v["definition"] for v in dash["templating"]["list"] if "definition" in v]
    assert exprs
    return dash, {m for e in exprs for m in re.findall(r"\b((?:redis|tessera)_[a-z0-9_]+)", e)}


@tessera_only
def test_grafana_dashboard_uses_exported_metrics(metrics_server):
    dash, used = dashboard_metric_names()
    assert dash["title"] and dash["panels"]
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids))
    r = metrics_server.client()
    r.set("a", 1)
    r.get("a")
    exported = names(samples(scrape(metrics_server.metrics_port))[0])
    missing = sorted(m for m in used if m not in exported)
    assert not missing, f"dashboard uses series /metrics does not export: {missing}"
    for needed in ("tessera_shard_restarts_total", "redis_mem_fragmentation_ratio", "redis_slowlog_length",
                   "redis_latest_fork_seconds", "redis_keyspace_hits_total", "redis_evicted_keys_total",
                   "redis_connected_clients", "redis_memory_used_bytes", "redis_commands_processed_total"):
        assert needed in used


# ---------------------------------------------------------------------------
# Debian's prometheus-redis-exporter against the main port
# ---------------------------------------------------------------------------

EXPORTER = shutil.which("prometheus-redis-exporter")


@pytest.mark.skipif(EXPORTER is None, reason="prometheus-redis-exporter is not installed")
def test_redis_exporter_against_the_main_port(server, r):
    for i in range(30):
        r.set(f"k{i}", i)
    r.expire("k0", 1000)
    r.get("k1")
    r.get("nope")
    r.config_set("slowlog-log-slower-than", "0")
    try:
        r.set("slow", 1)
    finally:
        r.config_set("slowlog-log-slower-than", "10000")
    port = _free_port()
    proc = subprocess.Popen([EXPORTER, f"--redis.addr=redis://{HOST}:{server.port}",
                             f"--web.listen-address={HOST}:{port}"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        text = None
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                text = scrape(port)
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        assert text is not None, "the exporter did not come up"
        series, types = samples(text)
        assert value(series, "redis_up") == 1
        assert value(series, "redis_exporter_last_scrape_error", err="") == 0
        assert value(series, "redis_db_keys", db="db0") == 31
        assert value(series, "redis_db_keys_expiring", db="db0") == 1
        assert value(series, "redis_commands_total", cmd="set") >= 31
        assert value(series, "redis_keyspace_hits_total") >= 1
        assert value(series, "redis_keyspace_misses_total") >= 1
        assert value(series, "redis_connected_clients") >= 1
        assert value(series, "redis_memory_used_bytes") > 0
        assert value(series, "redis_memory_max_bytes") == 0
        assert value(series, "redis_slowlog_length") >= 1
        assert value(series, "redis_slowlog_last_id") >= 0
        assert value(series, "redis_rdb_last_bgsave_status") == 1
        assert value(series, "redis_aof_last_write_status") == 1
        assert value(series, "redis_connected_slaves") == 0
        assert value(series, "redis_latest_fork_seconds") >= 0
        for name in ("redis_mem_fragmentation_ratio", "redis_uptime_in_seconds", "redis_commands_processed_total",
                     "redis_connections_received_total", "redis_net_input_bytes_total", "redis_evicted_keys_total",
                     "redis_expired_keys_total", "redis_blocked_clients", "redis_instance_info",
                     "redis_commands_duration_seconds_total", "redis_config_maxclients"):
            assert name in names(series), name
        info = [k for k in series if k[0] == "redis_instance_info"][0]
        assert dict(info[1])["role"] == "master" and dict(info[1])["redis_version"].startswith("7.0")
    finally:
        proc.kill()
        out = proc.communicate(timeout=10)[0].decode(errors="replace")
    assert "level=error" not in out, out


@tessera_only
def test_several_shards_each_with_its_own_series(tmp_path):
    mport = _free_port()
    s = DataServer(str(tmp_path), "--save", "", "--shards", "2", "--metrics-port", mport).start()
    try:
        r = s.client()
        for i in range(200):
            r.set(f"key:{i}", i)
        series, _ = samples(scrape(mport))
        assert {dict(l)["shard"] for (_, l) in series} == {"0", "1"}
        keys = [value(series, "redis_db_keys", shard=i, db="db0") for i in (0, 1)]
        assert sum(keys) == 200 and all(k > 0 for k in keys), keys
        assert all(value(series, "tessera_shard_up", shard=i) == 1 for i in (0, 1))
        pids = {value(series, "tessera_shard_pid", shard=i) for i in (0, 1)}
        assert len(pids) == 2 and 0 not in pids
        # One connection on the main port: the keys of the other shard were forwarded.
        assert sum(value(series, "tessera_forwarded_commands_total", shard=i) for i in (0, 1)) >= min(keys)
        sets = sum(value(series, "redis_commands_total", shard=i, cmd="set") for i in (0, 1))
        assert sets == 200
    finally:
        s.stop()


@tessera_only
def test_replication_lag_in_metrics_and_ctl_status(tmp_path):
    """What people debug at 3 a.m.: /metrics has redis_exporter's replication
    series (connected slaves, each replica's offset and lag, the replica's
    link), and `tessera-ctl status` shows each shard's role and link or lag;
    a stopped replica's lag grows in both."""
    import json
    import signal
    import subprocess
    import time
    mport, rport = _free_port(), _free_port()
    msock = str(tmp_path / "m.sock")
    os.makedirs(tmp_path / "m")
    os.makedirs(tmp_path / "r")
    m = DataServer(str(tmp_path / "m"), "--save", "", "--metrics-port", mport, "--control-socket", msock).start()
    r = DataServer(str(tmp_path / "r"), "--save", "", "--metrics-port", rport,
                   "--replicaof", f"{HOST} {m.port}").start()
    ctl = os.path.join(os.path.dirname(server_binary()), "tessera-ctl")
    try:
        mc, rc = m.client(), r.client()
        mc.set("k", "v")
        deadline = time.monotonic() + 20
        while rc.info("replication").get("master_link_status") != "up" or rc.get("k") != b"v":
            assert time.monotonic() < deadline, "replica never synced"
            time.sleep(0.05)
        got = samples(scrape(mport))[0]
        assert got[("redis_connected_slaves", frozenset({("shard", "0")}))] == 1
        lag_keys = [k for k in got if k[0] == "redis_connected_slave_lag_seconds"]
        assert len(lag_keys) == 1 and ("slave_state", "online") in lag_keys[0][1]
        rgot = samples(scrape(rport))[0]
        assert rgot[("redis_master_link_up", frozenset({("shard", "0")}))] == 1
        status = json.loads(subprocess.run([ctl, "--socket", msock, "status", "--json"], capture_output=True,
                                           text=True, timeout=30, check=True).stdout)
        assert status[0]["role"] == "master" and status[0]["replication"].startswith("1 replica")
        # A stopped replica acknowledges nothing: its lag grows.
        shard = int(rc.info("server")["process_id"])
        os.kill(shard, signal.SIGSTOP)
        try:
            time.sleep(3.5)
            got = samples(scrape(mport))[0]
            lag = [v for k, v in got.items() if k[0] == "redis_connected_slave_lag_seconds"]
            assert lag and lag[0] >= 2
            status = json.loads(subprocess.run([ctl, "--socket", msock, "status", "--json"], capture_output=True,
                                               text=True, timeout=30, check=True).stdout)
            assert "max lag" in status[0]["replication"]
            assert int(status[0]["replication"].split("max lag ")[1].split(" ")[0]) >= 2
        finally:
            os.kill(shard, signal.SIGCONT)
    finally:
        r.stop()
        m.stop()
