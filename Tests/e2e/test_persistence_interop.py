"""Data moves both ways between Tessera and Debian's redis-server 7.0.15:
RDB files and AOF directories written by one load into the other with the
same contents, and Redis's own checkers accept ours."""

import os
import subprocess
import time

import pytest

from conftest import is_reference_redis
from persistence_helpers import DataServer, REDIS_SERVER, snapshot, populate_all_types, wait_rewrite_done

pytestmark = pytest.mark.skipif(is_reference_redis(), reason="compares Tessera with the reference itself")


def test_our_rdb_passes_redis_check_rdb_and_loads_into_redis(tmp_path):
    d = str(tmp_path)
    ours = DataServer(d, "--save", "").start()
    r = ours.client()
    populate_all_types(r)
    before = snapshot(r)
    r.save()
    ours.stop()
    check = subprocess.run(["redis-check-rdb", os.path.join(d, "dump.rdb")], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "RDB looks OK" in check.stdout
    theirs = DataServer(d, "--save", "", binary=REDIS_SERVER).start()
    assert snapshot(theirs.client()) == before
    theirs.stop()


def test_redis_rdb_loads_into_tessera(tmp_path):
    d = str(tmp_path)
    theirs = DataServer(d, "--save", "", binary=REDIS_SERVER).start()
    r = theirs.client()
    populate_all_types(r)
    before = snapshot(r)
    keys = (b"set:int", b"set:str", b"zset:small", b"zset:big", b"hash:small", b"hash:big", b"list:big")
    encodings = {k: r.object("encoding", k) for k in keys}
    r.save()
    theirs.stop()
    ours = DataServer(d, "--save", "").start()
    r2 = ours.client()
    assert snapshot(r2) == before
    assert {k: r2.object("encoding", k) for k in keys} == encodings
    ours.stop()


def _aof_workload(r):
    populate_all_types(r, big=120)
    r.incrbyfloat("f", "2.5")
    r.expire("str", 5000)
    r.spop("set:str", 2)
    p = r.pipeline(transaction=True)
    p.incr("counter")
    p.lpush("list:small", "tx")
    p.execute()


@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_redis_aof_directory_loads_into_tessera(tmp_path, preamble):
    d = str(tmp_path)
    theirs = DataServer(d, "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--aof-use-rdb-preamble", preamble,
                        binary=REDIS_SERVER).start()
    r = theirs.client()
    _aof_workload(r)
    r.bgrewriteaof()
    wait_rewrite_done(r)
    r.set("after-rewrite", "1")
    r.hset("hash:small", "f3", "v3")
    before = snapshot(r)
    theirs.kill9()
    ours = DataServer(d, "--save", "", "--appendonly", "yes").start()
    assert snapshot(ours.client()) == before
    ours.stop()


@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_our_aof_directory_loads_into_redis(tmp_path, preamble):
    d = str(tmp_path)
    ours = DataServer(d, "--save", "", "--appendonly", "yes", "--appendfsync", "always",
                      "--aof-use-rdb-preamble", preamble).start()
    r = ours.client()
    _aof_workload(r)
    r.bgrewriteaof()
    wait_rewrite_done(r)
    r.set("after-rewrite", "1")
    before = snapshot(r)
    ours.kill9()
    manifest = os.path.join(d, "appendonlydir", "appendonly.aof.manifest")
    check = subprocess.run(["redis-check-aof", manifest], capture_output=True, text=True)
    assert check.returncode == 0 and "is valid" in check.stdout, check.stdout + check.stderr
    theirs = DataServer(d, "--save", "", "--appendonly", "yes", binary=REDIS_SERVER).start()
    assert snapshot(theirs.client()) == before
    theirs.stop()
