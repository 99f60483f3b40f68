"""Latency monitor (LATENCY LATEST/HISTORY/RESET/GRAPH/DOCTOR/HELP) and
per-command latency tracking (LATENCY HISTOGRAM, INFO latencystats).

Expected replies were checked against redis-server 7.0.15; DOCTOR's prose is
our own, so only its mention of the cause is checked against Tessera.
"""

import re
import time

import pytest
import redis

from conftest import is_reference_redis


@pytest.fixture
def lat(start_server, make_client):
    info = start_server("--latency-monitor-threshold", "50")
    c = make_client(info.port)
    return c


def test_debug_sleep_is_a_command_event(lat):
    lat.execute_command("DEBUG", "SLEEP", "0.12")
    latest = lat.execute_command("LATENCY", "LATEST")
    assert len(latest) == 1
    name, ts, last, worst = latest[0]
    assert name == b"command"
    assert abs(ts - time.time()) < 5
    assert 100 <= last <= 1000 and worst == last
    hist = lat.execute_command("LATENCY", "HISTORY", "command")
    assert len(hist) == 1 and hist[0][0] == ts and hist[0][1] == last


def test_samples_per_second_and_max(lat):
    lat.execute_command("DEBUG", "SLEEP", "0.06")
    lat.execute_command("DEBUG", "SLEEP", "0.15")   # same second: the worst is kept
    hist = lat.execute_command("LATENCY", "HISTORY", "command")
    assert len(hist) in (1, 2)
    assert max(h[1] for h in hist) >= 140
    assert lat.execute_command("LATENCY", "LATEST")[0][3] >= 140


def test_below_threshold_is_ignored(lat):
    lat.execute_command("DEBUG", "SLEEP", "0.01")
    assert lat.execute_command("LATENCY", "LATEST") == []
    assert lat.execute_command("LATENCY", "HISTORY", "command") == []


def test_doctor_mentions_the_cause(lat):
    lat.execute_command("DEBUG", "SLEEP", "0.1")
    lat.rpush("big", *range(50000))
    lat.config_set("latency-monitor-threshold", 1)
    lat.execute_command("SORT", "big", "DESC")
    report = lat.execute_command("LATENCY", "DOCTOR").decode()
    assert "command" in report
    if not is_reference_redis():
        assert "SLOWLOG" in report and "SORT" in report
        assert "slow commands" in report.lower()


def test_big_del_shows_in_slowlog_latency_and_doctor(lat):
    """A synchronous DEL of a big value: a slowlog entry, a command latency
    event, and a DOCTOR report that names DEL and the background alternative."""
    lat.config_set("latency-monitor-threshold", 1)
    lat.config_set("slowlog-log-slower-than", 1000)
    lat.slowlog_reset()
    for start in range(0, 400_000, 10_000):
        lat.sadd("bigset", *range(start, start + 10_000))
    t = time.monotonic()
    assert lat.delete("bigset") == 1
    took_ms = (time.monotonic() - t) * 1000
    if took_ms < 2:
        pytest.skip(f"DEL of 400k members took only {took_ms:.1f} ms here")
    entries = lat.slowlog_get(10)
    dels = [e for e in entries if e["command"].startswith(b"DEL") or e["command"].startswith(b"del")]
    assert dels and dels[0]["duration"] >= 1000, entries
    assert b"command" in {e[0] for e in lat.execute_command("LATENCY", "LATEST")}
    report = lat.execute_command("LATENCY", "DOCTOR").decode()
    assert "command" in report
    if not is_reference_redis():
        assert "DEL " in report and "UNLINK" in report, report


def test_doctor_when_disabled(start_server, make_client):
    c = make_client(start_server().port)
    report = c.execute_command("LATENCY", "DOCTOR").decode()
    assert "latency-monitor-threshold" in report


def test_graph_and_unknown_event(lat):
    lat.execute_command("DEBUG", "SLEEP", "0.06")
    g = lat.execute_command("LATENCY", "GRAPH", "command").decode()
    assert g.startswith("command - high ")
    assert "all time high" in g
    with pytest.raises(redis.ResponseError, match="No samples available for event 'nope'"):
        lat.execute_command("LATENCY", "GRAPH", "nope")


def test_reset(lat):
    lat.execute_command("DEBUG", "SLEEP", "0.06")
    assert lat.execute_command("LATENCY", "RESET", "blabla") == 0
    assert lat.execute_command("LATENCY", "RESET") == 1
    assert lat.execute_command("LATENCY", "LATEST") == []
    lat.execute_command("DEBUG", "SLEEP", "0.06")
    assert lat.execute_command("LATENCY", "RESET", "command", "command") == 1


def test_help_and_arity(lat):
    h = lat.execute_command("LATENCY", "HELP")
    assert h[0].startswith(b"LATENCY <subcommand>")
    assert any(line.startswith(b"HISTOGRAM") for line in h)
    with pytest.raises(redis.ResponseError, match="wrong number of arguments for 'latency\\|help' command"):
        lat.execute_command("LATENCY", "HELP", "xxx")


def _histo(c, *cmds):
    raw = c.execute_command("LATENCY", "HISTOGRAM", *cmds)
    out = {}
    for i in range(0, len(raw), 2):
        body = raw[i + 1]
        d = dict(zip(body[::2], body[1::2]))
        h = d[b"histogram_usec"]
        d[b"histogram_usec"] = list(zip(h[::2], h[1::2]))
        out[raw[i]] = d
    return out


def test_histogram_shape(lat):
    lat.config_resetstat()
    for _ in range(3):
        lat.set("a", "b")
    lat.get("a")
    lat.client_id()
    h = _histo(lat, "set", "get", "client", "blabla")
    assert set(h) == {b"set", b"get", b"client|id"}
    assert h[b"set"][b"calls"] == 3
    buckets = h[b"set"][b"histogram_usec"]
    assert buckets[-1][1] == 3
    # Bucket bounds are powers of two in microseconds, counts cumulative.
    for (b, n) in buckets:
        assert b in (1, 2, 4, 8, 16, 33, 66, 132, 264, 528, 1056, 2113, 4227, 8454, 16909, 33818,
                     67637, 135274, 270548, 541097, 1082194) or b > 0
    assert [n for _, n in buckets] == sorted(n for _, n in buckets)
    every = _histo(lat)
    assert b"config|resetstat" in every


def test_resetstat_clears_histograms(lat):
    lat.set("a", 1)
    lat.config_resetstat()
    h = _histo(lat)
    assert list(h) == [b"config|resetstat"]


def _info(c, *sections):
    # redis-py parses INFO into a dict: read the text through a raw connection.
    r = c.connection_pool.get_connection()
    try:
        r.send_command("INFO", *sections)
        return r.read_response(disable_decoding=True).decode()
    finally:
        c.connection_pool.release(r)


def test_info_latencystats(lat):
    lat.config_resetstat()
    lat.set("a", 1)
    info = _info(lat, "latencystats")
    assert info.startswith("# Latencystats")
    line = [l for l in info.split("\r\n") if l.startswith("latency_percentiles_usec_set:")][0]
    assert re.fullmatch(r"latency_percentiles_usec_set:p50=\d+\.\d{3},p99=\d+\.\d{3},p99\.9=\d+\.\d{3}", line)
    lat.config_set("latency-tracking-info-percentiles", "50 75.5 100")
    info = _info(lat, "latencystats")
    assert re.search(r"latency_percentiles_usec_set:p50=[\d.]+,p75\.5=[\d.]+,p100=[\d.]+", info)
    # Not in the default sections, but in everything.
    assert "Latencystats" not in _info(lat)
    assert "# Latencystats" in _info(lat, "everything")


def test_tracking_off(lat):
    lat.config_resetstat()
    lat.config_set("latency-tracking", "no")
    lat.set("a", 1)
    assert b"set" not in _histo(lat)
    lat.config_set("latency-tracking", "yes")
