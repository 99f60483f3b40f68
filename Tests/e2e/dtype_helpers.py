"""Small helpers shared by the data-type e2e tests (test_strings/keys/expire/
lists/hashes/sets/zsets).

`cmd` sends a command over one of the client's pooled connections and returns
the reply exactly as decoded from RESP, bypassing redis-py's per-command
response callbacks (so SET returns b"OK", ZRANGE WITHSCORES returns the flat
array of bulk strings, HGETALL returns a flat list, ...).

`err` returns the complete error line sent by the server ("ERR ...",
"WRONGTYPE ...", "BUSYKEY ..."), read off a raw connection (conftest's
`error_reply`), so it does not depend on how a redis-py version renders
exceptions.

The test modules take all of `__all__` with `from dtype_helpers import *`
(pytest puts this directory on sys.path, as for conftest).
"""
import contextlib

from conftest import error_reply

__all__ = [
    "cmd", "err", "wrong_args", "WRONGTYPE", "NOT_INT", "NOT_FLOAT", "SYNTAX",
    "flat_pairs", "pairs", "config", "encoding", "scan_all",
]


def cmd(client, *args):
    pool = client.connection_pool
    conn = pool.get_connection()
    try:
        conn.send_command(*args)
        return conn.read_response()
    finally:
        pool.release(conn)


def err(client, *args):
    return error_reply(client, *args)


WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INT = "ERR value is not an integer or out of range"
NOT_FLOAT = "ERR value is not a valid float"
SYNTAX = "ERR syntax error"


def wrong_args(name):
    return f"ERR wrong number of arguments for '{name}' command"


def flat_pairs(d):
    """{b'f': b'v'} -> sorted list of (field, value) tuples."""
    return sorted(d.items())


def pairs(flat):
    """[a, b, c, d] -> [(a, b), (c, d)]"""
    assert len(flat) % 2 == 0, flat
    return [(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)]


@contextlib.contextmanager
def config(client, **settings):
    """Temporarily CONFIG SET the given parameters (underscores become dashes),
    restoring the previous values afterwards (the server may be shared across
    tests)."""
    saved = {}
    try:
        for name, value in settings.items():
            name = name.replace("_", "-")
            old = cmd(client, "CONFIG", "GET", name)
            assert len(old) == 2, old
            saved[name] = old[1]
            assert cmd(client, "CONFIG", "SET", name, value) == b"OK"
        yield
    finally:
        for name, value in saved.items():
            cmd(client, "CONFIG", "SET", name, value)


def encoding(client, key):
    return cmd(client, "OBJECT", "ENCODING", key)


def scan_all(client, command, *args, key=None, count=None, match=None, type_=None):
    """Full SCAN/HSCAN/SSCAN/ZSCAN iteration; returns the list of all returned
    elements (flat for HSCAN/ZSCAN) and asserts the cursor protocol."""
    cursor = b"0"
    out = []
    iterations = 0
    while True:
        a = [command]
        if key is not None:
            a.append(key)
        a.append(cursor)
        if match is not None:
            a += ["MATCH", match]
        if count is not None:
            a += ["COUNT", count]
        if type_ is not None:
            a += ["TYPE", type_]
        a += list(args)
        reply = cmd(client, *a)
        assert isinstance(reply, list) and len(reply) == 2, reply
        cursor, items = reply
        assert isinstance(cursor, bytes)
        assert isinstance(items, list)
        out.extend(items)
        iterations += 1
        assert iterations < 100000, "SCAN did not terminate"
        if cursor == b"0":
            return out
