"""End-to-end test infrastructure for Tessera.

The server under test is the binary named by the environment variable
``TESSERA_SERVER`` (default: ``<repo>/.build/release/tessera-server``).  It is
started with redis-server compatible argv, so the whole suite can be validated
against the reference implementation:

    TESSERA_SERVER=/usr/bin/redis-server .venv/bin/python -m pytest -q Tests/e2e

``TESSERA_EXTRA_ARGS`` adds arguments to every shared server, e.g.
``TESSERA_EXTRA_ARGS="--shards 2"`` runs a suite over two shards (commands
mixing keys of both shards then get -CROSSSLOT, as in Redis Cluster).

Fixtures
--------
server        session-scoped ``ServerInfo`` (host, port, proc, dir, args, binary,
              log_path) of the shared server.  At session end the fixture checks
              the process is still alive (i.e. it did not crash) and fails
              otherwise.
r             ``redis.Redis`` (protocol=2, decode_responses=False) connected to
              the shared server; FLUSHALL is issued before each test.
r3            ``redis.Redis`` (protocol=3, decode_responses=False) to the shared
              server (no extra FLUSHALL; request ``r`` too if you need one).
make_client   factory ``make_client(port=None, **redis_kwargs) -> redis.Redis``
              with the same safe defaults (no CLIENT SETINFO, no retries, ...).
raw           factory ``raw(port=None, timeout=5.0) -> RawConn``: a raw TCP
              socket (closed after the test).  ``RawConn`` methods: ``send(bytes)``,
              ``send_command(*args)`` (RESP-encodes the args),
              ``send_slowly(bytes, chunk=1, delay=0.001)``, ``read_reply(timeout)``
              (bytes of exactly one complete RESP2/RESP3 reply),
              ``read_parsed(timeout)`` (the reply decoded to python objects;
              errors become ``RespError`` instances, not raised),
              ``request(bytes)`` (send + read_reply), ``read_line()``,
              ``read_available(timeout)``, ``wait_closed(timeout) -> bool``,
              ``close()``.
start_server  factory ``start_server(*extra_args) -> ServerInfo``: starts a
              *separate* server instance (fresh port and dir) with the base args
              plus ``extra_args`` (e.g. ``"--requirepass", "secret"``).  Killed
              at the end of the test; the test fails if it crashed.
redis_cli     helper ``redis_cli(*args, input=None, port=None, timeout=30)``
              running ``redis-cli -h 127.0.0.1 -p PORT *args``; returns a
              ``subprocess.CompletedProcess`` whose ``stdout``/``stderr`` are
              ``str`` (``stdout_bytes`` holds the raw bytes).  ``input`` may be
              ``str`` or ``bytes``.

Helpers importable from conftest: ``RawConn``, ``RespError``, ``parse_resp``,
``encode_command``, ``ServerInfo``, ``check_alive(info)``, ``is_reference_redis()``,
``error_reply(client, *args)`` and ``error_line(exc)`` (below).

Error replies: tests compare the server's complete error line ("ERR syntax
error", "WRONGTYPE Operation ..."), never redis-py's rendering of it, which
changes between versions (some strip the first word, some keep it, some keep
it twice when asked for ``status_code`` too). ``error_reply`` sends a command
on a raw connection and returns the line as the server sent it;
``error_line`` rebuilds it from a ``redis.ResponseError`` raised by a redis-py
method call.

Processes: nothing a test starts outlives the suite. pytest makes itself the
subreaper of its descendants, so a process orphaned by a killed parent (a
shard whose supervisor was killed, a snapshot child whose shard was killed)
is re-parented to pytest instead of init; ``track_process(popen)`` registers
a server started by a helper (persistence_helpers.DataServer does), which is
killed after its test whether the test passed or failed; and when the session
ends, any descendant still alive is listed, killed, and fails the run.

Client defaults: redis-py clients are created without CLIENT SETINFO, without
RESP3 maintenance-notification handshakes and without automatic retries, so
the server sees exactly the commands a test issues.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

try:  # redis-py >= 6: RESP3 "maintenance notifications" handshake
    from redis.maint_notifications import MaintNotificationsConfig
except Exception:  # pragma: no cover - older redis-py
    MaintNotificationsConfig = None

PR_SET_CHILD_SUBREAPER = 36


def _become_subreaper():
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:  # pragma: no cover - Linux only
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


_become_subreaper()

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SERVER = REPO_ROOT / ".build" / "release" / "tessera-server"
HOST = "127.0.0.1"
STARTUP_TIMEOUT = 10.0

REDIS_CLI = os.environ.get("REDIS_CLI", shutil.which("redis-cli") or "/usr/bin/redis-cli")


def server_binary() -> str:
    return os.environ.get("TESSERA_SERVER", str(DEFAULT_SERVER))


def is_reference_redis() -> bool:
    """True when the suite runs against the real redis-server."""
    return "redis-server" in os.path.basename(server_binary())


# ---------------------------------------------------------------------------
# Server process management
# ---------------------------------------------------------------------------


@dataclass
class ServerInfo:
    host: str
    port: int
    proc: subprocess.Popen
    dir: str
    args: List[str]
    binary: str
    log_path: str
    _log_file: object = field(default=None, repr=False)

    @property
    def addr(self):
        return (self.host, self.port)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, n=4000) -> str:
        try:
            with open(self.log_path, "rb") as f:
                data = f.read()
            return data[-n:].decode("utf-8", "replace")
        except OSError:
            return ""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _ping(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=timeout) as s:
            s.settimeout(timeout)
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            buf = b""
            while b"\r\n" not in buf:
                chunk = s.recv(64)
                if not chunk:
                    return False
                buf += chunk
            # "-LOADING" or "-NOAUTH" also prove the server is up and serving.
            return buf.startswith(b"+PONG") or buf.startswith(b"-NOAUTH")
    except OSError:
        return False


def _launch(extra_args=(), tag="main") -> ServerInfo:
    binary = server_binary()
    if not os.path.exists(binary):
        pytest.fail(
            f"server binary not found: {binary} (build it, or set TESSERA_SERVER)",
            pytrace=False,
        )
    last_err = None
    for _attempt in range(3):  # retry on port races
        port = _free_port()
        d = tempfile.mkdtemp(prefix=f"tessera-e2e-{tag}-")
        args = [
            binary,
            "--port", str(port),
            "--bind", HOST,
            "--save", "",
            "--appendonly", "no",
            "--enable-debug-command", "yes",
            "--dir", d,
        ] + [str(a) for a in extra_args] + os.environ.get("TESSERA_EXTRA_ARGS", "").split()
        log_path = os.path.join(d, "server.log")
        log = open(log_path, "wb")
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=d)
        info = ServerInfo(HOST, port, proc, d, args, binary, log_path, log)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            if _ping(port):
                return info
            time.sleep(0.05)
        last_err = (f"server did not answer PING within {STARTUP_TIMEOUT}s "
                    f"(exit code {proc.poll()}); argv={args}\n--- log ---\n"
                    f"{info.log_tail()}")
        _stop(info)
    pytest.fail(last_err, pytrace=False)


def _stop(info: ServerInfo) -> Optional[int]:
    """Stop the server; returns the exit code if it had already exited
    before we tried to stop it (i.e. it crashed), else None."""
    crashed_rc = info.proc.poll()
    if crashed_rc is None:
        info.proc.kill()
        try:
            info.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            pass
    if info._log_file is not None:
        info._log_file.close()
    return crashed_rc


def _stop_collect(info: ServerInfo, what: str) -> Optional[str]:
    """Stop the server and remove its dir; returns a failure message if it
    had crashed/exited on its own, else None."""
    rc = _stop(info)
    log = info.log_tail()
    shutil.rmtree(info.dir, ignore_errors=True)
    if rc is not None:
        return (f"{what} exited/crashed during the tests (exit code {rc})\n"
                f"--- log tail ---\n{log}")
    return None


def _stop_and_check(info: ServerInfo, what: str):
    msg = _stop_collect(info, what)
    if msg:
        pytest.fail(msg, pytrace=False)


def check_alive(info: ServerInfo):
    """Fail fast (with the server log) if the server process has died."""
    rc = info.proc.poll()
    if rc is not None:
        pytest.fail(f"server {info.binary} (port {info.port}) is not running "
                    f"(exit code {rc})\n--- log tail ---\n{info.log_tail()}", pytrace=False)


# ---------------------------------------------------------------------------
# Nothing left behind
# ---------------------------------------------------------------------------

_tracked: List[subprocess.Popen] = []


def track_process(proc: subprocess.Popen) -> subprocess.Popen:
    """Registers a process a helper started: it is killed after the test."""
    _tracked.append(proc)
    return proc


@pytest.fixture(autouse=True)
def _end_tracked_processes():
    yield
    while _tracked:
        proc = _tracked.pop()
        if proc.poll() is None:
            proc.kill()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover
                pass


def _children() -> List[int]:
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me:
            found.append(int(entry))
    return found


def _reap(pid) -> bool:
    """Reaps `pid` if it has exited; True if it is gone."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == pid
    except ChildProcessError:
        return True


def _cmdline(pid) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError:
        return "?"


def pytest_sessionfinish(session, exitstatus):
    """Every process the suite started (and every orphan of one: we are
    their subreaper) must be gone by now."""
    deadline = time.monotonic() + 5
    left = _children()
    while left and time.monotonic() < deadline:
        left = [pid for pid in left if not _reap(pid)]
        if left:
            time.sleep(0.1)
    if not left:
        return
    report = "\n".join(f"  pid {pid}: {_cmdline(pid)}" for pid in left)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        _reap(pid)
    session.config.get_terminal_writer().line(
        f"\nprocesses left running after the tests (killed now):\n{report}", red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def server():
    info = _launch(tag="main")
    yield info
    _stop_and_check(info, f"shared server {info.binary} (port {info.port})")


@pytest.fixture
def start_server():
    started = []

    def _start(*extra_args) -> ServerInfo:
        info = _launch(extra_args, tag="extra")
        started.append(info)
        return info

    yield _start
    failures = [m for m in (_stop_collect(i, f"extra server (port {i.port}, args {i.args[1:]})")
                            for i in started) if m]
    if failures:
        pytest.fail("\n\n".join(failures), pytrace=False)


# ---------------------------------------------------------------------------
# redis-py clients
# ---------------------------------------------------------------------------


def _client(port, **kw) -> redis.Redis:
    opts = dict(
        host=HOST,
        port=port,
        protocol=2,
        decode_responses=False,
        socket_timeout=10,
        socket_connect_timeout=5,
        retry=Retry(NoBackoff(), 0),
        driver_info=None,       # no CLIENT SETINFO (not in redis 7.0)
    )
    if MaintNotificationsConfig is not None:
        opts["maint_notifications_config"] = MaintNotificationsConfig(enabled=False)
    opts.update(kw)
    try:
        return redis.Redis(**opts)
    except TypeError:
        # older redis-py: no driver_info / maint notifications parameters
        for k in ("driver_info", "maint_notifications_config"):
            opts.pop(k, None)
        opts.setdefault("lib_name", None)
        opts.setdefault("lib_version", None)
        return redis.Redis(**opts)


@pytest.fixture
def make_client(server):
    clients = []

    def _make(port=None, **kw) -> redis.Redis:
        c = _client(port if port is not None else server.port, **kw)
        clients.append(c)
        return c

    yield _make
    for c in clients:
        try:
            c.close()
        except Exception:
            pass


@pytest.fixture
def r(server):
    check_alive(server)
    c = _client(server.port, protocol=2)
    c.flushall()
    yield c
    c.close()


@pytest.fixture
def r3(server):
    check_alive(server)
    c = _client(server.port, protocol=3)
    yield c
    c.close()


# ---------------------------------------------------------------------------
# Raw sockets and a small RESP parser
# ---------------------------------------------------------------------------


class RespError(Exception):
    """An error reply ("-ERR ..." / "!..." ) decoded by parse_resp."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message

    def __eq__(self, other):
        return isinstance(other, RespError) and other.message == self.message

    def __hash__(self):
        return hash(self.message)

    def __repr__(self):
        return f"RespError({self.message!r})"


class Incomplete(Exception):
    pass


class Attribute(dict):
    pass


class Push(list):
    pass


def encode_command(*args) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, (int, float)):
            a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def _line(buf, pos):
    end = buf.find(b"\r\n", pos)
    if end < 0:
        raise Incomplete()
    return buf[pos:end], end + 2


def parse_resp(buf: bytes, pos: int = 0):
    """Parse one RESP2/RESP3 value from buf[pos:].  Returns (value, newpos).
    Raises Incomplete when more bytes are needed."""
    if pos >= len(buf):
        raise Incomplete()
    t = buf[pos:pos + 1]
    line, p = _line(buf, pos + 1)
    if t == b"+":
        return line, p
    if t == b"-":
        return RespError(line.decode("utf-8", "replace")), p
    if t == b":":
        return int(line), p
    if t == b",":
        s = line.decode()
        return float(s), p
    if t == b"(":
        return int(line), p
    if t == b"#":
        return line == b"t", p
    if t == b"_":
        return None, p
    if t in (b"$", b"=", b"!"):
        n = int(line)
        if n < 0:
            return None, p
        if len(buf) < p + n + 2:
            raise Incomplete()
        data = buf[p:p + n]
        if t == b"!":
            return RespError(data.decode("utf-8", "replace")), p + n + 2
        return data, p + n + 2
    if t in (b"*", b"~", b">"):
        n = int(line)
        if n < 0:
            return None, p
        items = []
        for _ in range(n):
            v, p = parse_resp(buf, p)
            items.append(v)
        if t == b"~":
            return set(items) if all(_hashable(i) for i in items) else items, p
        if t == b">":
            return Push(items), p
        return items, p
    if t in (b"%", b"|"):
        n = int(line)
        d = {} if t == b"%" else Attribute()
        for _ in range(n):
            k, p = parse_resp(buf, p)
            v, p = parse_resp(buf, p)
            d[_freeze(k)] = v
        if t == b"|":
            # an attribute precedes the actual reply
            v, p = parse_resp(buf, p)
            return v, p
        return d, p
    raise ValueError(f"unknown RESP type byte {t!r} at {pos}: {buf[pos:pos+40]!r}")


def _hashable(x):
    try:
        hash(x)
        return True
    except TypeError:
        return False


def _freeze(x):
    if isinstance(x, list):
        return tuple(_freeze(i) for i in x)
    return x


class RawConn:
    def __init__(self, host, port, timeout=5.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        self.buf = b""
        self.closed_by_peer = False

    # -- sending --
    def send(self, data: bytes):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def send_command(self, *args):
        self.send(encode_command(*args))

    def send_slowly(self, data: bytes, chunk: int = 1, delay: float = 0.001):
        if isinstance(data, str):
            data = data.encode()
        for i in range(0, len(data), chunk):
            self.sock.sendall(data[i:i + chunk])
            if delay:
                time.sleep(delay)

    # -- receiving --
    def _fill(self, deadline) -> bool:
        """Read more bytes into buf. Returns False on EOF."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"timed out waiting for reply; buffered={self.buf[:200]!r}")
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(1 << 20)
        except socket.timeout:
            raise TimeoutError(f"timed out waiting for reply; buffered={self.buf[:200]!r}")
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self.closed_by_peer = True
            return False
        self.buf += chunk
        return True

    def read_reply(self, timeout=None) -> bytes:
        """Return the raw bytes of exactly one complete reply."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        while True:
            try:
                _, end = parse_resp(self.buf)
                out, self.buf = self.buf[:end], self.buf[end:]
                return out
            except Incomplete:
                pass
            if not self._fill(deadline):
                raise ConnectionError(f"connection closed by server; buffered={self.buf[:200]!r}")

    def read_parsed(self, timeout=None):
        """Return one reply decoded to python objects (errors -> RespError)."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        while True:
            try:
                v, end = parse_resp(self.buf)
                self.buf = self.buf[end:]
                return v
            except Incomplete:
                pass
            if not self._fill(deadline):
                raise ConnectionError(f"connection closed by server; buffered={self.buf[:200]!r}")

    def read_line(self, timeout=None) -> bytes:
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        while b"\r\n" not in self.buf:
            if not self._fill(deadline):
                raise ConnectionError("connection closed by server")
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line + b"\r\n"

    def read_available(self, timeout=0.2) -> bytes:
        """Collect whatever arrives within `timeout`; stops early on EOF."""
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if not self._fill(deadline):
                    break
        except TimeoutError:
            pass
        out, self.buf = self.buf, b""
        return out

    def request(self, data, timeout=None) -> bytes:
        self.send(data)
        return self.read_reply(timeout)

    def wait_closed(self, timeout=5.0) -> bool:
        """True if the server closes the connection within `timeout`
        (any pending data is discarded into self.buf)."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                if not self._fill(deadline):
                    return True
        except TimeoutError:
            return False
        except OSError:
            return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


@pytest.fixture
def raw(server):
    conns = []

    def _open(port=None, timeout=5.0) -> RawConn:
        if port is None:
            check_alive(server)
        c = RawConn(HOST, port if port is not None else server.port, timeout)
        conns.append(c)
        return c

    yield _open
    for c in conns:
        c.close()


# ---------------------------------------------------------------------------
# Error replies, independent of the redis-py version
# ---------------------------------------------------------------------------


def error_reply(client: redis.Redis, *args) -> str:
    """Sends one command on a new raw connection to the client's server (its
    db, password and protocol carried over) and returns the complete error
    line the server answered; fails the test if the reply is not an error."""
    kw = client.connection_pool.connection_kwargs
    conn = RawConn(kw.get("host", HOST), kw["port"])
    try:
        setup = []
        if kw.get("password") is not None:
            user = kw.get("username")
            setup.append(("AUTH", user, kw["password"]) if user else ("AUTH", kw["password"]))
        if kw.get("db"):
            setup.append(("SELECT", kw["db"]))
        if str(kw.get("protocol", 2)) == "3":
            setup.append(("HELLO", 3))
        for command in setup:
            conn.send_command(*command)
            reply = conn.read_parsed()
            assert not isinstance(reply, RespError), (command, reply.message)
        conn.send_command(*args)
        reply = conn.read_parsed()
    finally:
        conn.close()
    assert isinstance(reply, RespError), f"expected an error reply to {args!r}, got {reply!r}"
    return reply.message


def _error_codes_by_class():
    """redis-py's table of error codes it strips from messages, inverted:
    exception class -> code. Only older redis-py (no ``status_code``) needs it."""
    try:
        from redis._parsers.base import BaseParser
    except ImportError:  # pragma: no cover - redis-py < 5
        from redis.connection import BaseParser
    codes = {}
    for code, target in BaseParser.EXCEPTION_CLASSES.items():
        for cls in (target.values() if isinstance(target, dict) else [target]):
            codes.setdefault(cls, code)
        if isinstance(target, dict):
            codes.setdefault(redis.ResponseError, code)
    return codes


def error_line(exc: Exception) -> str:
    """The server's complete error line behind a redis-py ResponseError."""
    message = str(exc)
    code = getattr(exc, "status_code", None)
    if code is None:
        first = message.split(" ", 1)[0]
        if first.isupper() and first not in ("ERR",) and type(exc) is redis.ResponseError:
            return message  # an unknown code: redis-py left the line whole
        code = _error_codes_by_class().get(type(exc))
    if code and message != code and not message.startswith(code + " "):
        return f"{code} {message}"
    return message


# ---------------------------------------------------------------------------
# redis-cli
# ---------------------------------------------------------------------------


@pytest.fixture
def redis_cli(server):
    def _run(*args, input=None, port=None, timeout=30):
        cmd = [REDIS_CLI, "-h", HOST, "-p", str(port if port is not None else server.port)]
        cmd += [str(a) for a in args]
        if isinstance(input, str):
            input = input.encode()
        cp = subprocess.run(cmd, input=input, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, timeout=timeout)
        cp.stdout_bytes = cp.stdout
        cp.stdout = cp.stdout.decode("utf-8", "replace")
        cp.stderr = cp.stderr.decode("utf-8", "replace")
        return cp

    return _run


# A reference redis-server (DUMP/RESTORE interop tests): a client to it.
@pytest.fixture
def reference():
    binary = shutil.which("redis-server")
    assert binary, "redis-server (the reference) must be installed: apt-get install redis-server"
    port = _free_port()
    d = tempfile.mkdtemp(prefix="tessera-e2e-ref-")
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", d],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    for _ in range(200):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.02)
    yield client
    proc.kill()
    proc.wait()
    shutil.rmtree(d, ignore_errors=True)
