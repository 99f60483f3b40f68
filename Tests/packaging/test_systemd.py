"""The Debian package under a real systemd (issue 5, "real-systemd test").

A Debian bookworm tree (debootstrap --variant=minbase with systemd) boots in
``systemd-nspawn --volatile=overlay`` (the tree itself is never modified), the
.deb is installed into the running system with ``dpkg -i`` (so the postinst
runs against a live systemd), and the service is driven with ``nsenter -t
<container PID 1> -a systemctl ...``. redis-cli runs on the host inside the
container's private network namespace (``nsenter -n``).

Environment:
  TESSERA_DEB          a built .deb to test (default: Packaging/deb/build-deb.sh --no-lintian)
  TESSERA_TEST_CACHE   where the bootstrapped tree is cached as a tarball
                       (default /var/cache/tessera-test)
  TESSERA_DEBIAN_MIRROR  Debian mirror for debootstrap (default: the one apt uses)

Needs root, systemd-nspawn (systemd-container), debootstrap, nsenter and
redis-cli; without them the test fails with a message saying what is missing
(it never skips silently).
"""

import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("TESSERA_TEST_CACHE", "/var/cache/tessera-test"))
SUITE = "bookworm"
INCLUDE = "systemd,systemd-sysv,dbus,libjemalloc2,adduser,procps"
PORT = 7531          # the service's port inside the container's private network
UNIT = "tessera.service"
CONF = "/etc/tessera/tessera.conf"
DATA = "/var/lib/tessera"
SHARD_TIMEOUT_MS = 5000
POPULATE_KEYS = int(os.environ.get("TESSERA_TEST_KEYS", "1000000"))


def log(msg):
    print(f"[systemd-test {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def run(cmd, check=True, timeout=120, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise AssertionError(f"command failed ({p.returncode}): {' '.join(map(str, cmd))}\n"
                             f"stdout: {p.stdout[-3000:]}\nstderr: {p.stderr[-3000:]}")
    return p


# ---------------------------------------------------------------------------
# Preconditions, the cached tree, the package
# ---------------------------------------------------------------------------

def preflight():
    problems = []
    if os.geteuid() != 0:
        problems.append("must run as root (systemd-nspawn, debootstrap)")
    for tool, pkg in [("systemd-nspawn", "systemd-container"), ("debootstrap", "debootstrap"),
                      ("nsenter", "util-linux"), ("redis-cli", "redis-tools"),
                      ("dpkg-deb", "dpkg")]:
        if shutil.which(tool) is None:
            problems.append(f"{tool} is missing (apt-get install {pkg}; Packaging/dev/install-deps.sh does it)")
    if problems:
        pytest.fail("this machine cannot run the real-systemd test:\n  " + "\n  ".join(problems),
                    pytrace=False)


def debian_mirror():
    if os.environ.get("TESSERA_DEBIAN_MIRROR"):
        return os.environ["TESSERA_DEBIAN_MIRROR"]
    # The registry apt uses: deb822 .sources first, then one-line sources.list.
    for f in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        text = Path(f).read_text()
        for stanza in text.split("\n\n"):
            suites = re.search(r"^Suites:\s*(.*)$", stanza, re.M)
            uris = re.search(r"^URIs:\s*(\S+)", stanza, re.M)
            if suites and uris and SUITE in suites.group(1).split():
                return uris.group(1)
    for f in ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list")):
        try:
            for line in Path(f).read_text().splitlines():
                m = re.match(r"\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+" + SUITE + r"\s", line)
                if m:
                    return m.group(1)
        except OSError:
            pass
    return "http://deb.debian.org/debian"


def cached_tree_tarball():
    """The bootstrapped tree as a tarball in CACHE, made on first use (~40-60 s)."""
    key = hashlib.sha256(f"{SUITE} minbase {INCLUDE} v1".encode()).hexdigest()[:12]
    tarball = CACHE / f"{SUITE}-systemd-{key}.tar"
    if tarball.exists():
        return tarball
    CACHE.mkdir(parents=True, exist_ok=True)
    mirror = debian_mirror()
    log(f"bootstrapping {SUITE} from {mirror} into the cache (first run only)")
    work = Path(tempfile.mkdtemp(prefix="debootstrap-", dir=CACHE))
    try:
        p = subprocess.run(["debootstrap", "--variant=minbase", f"--include={INCLUDE}", SUITE,
                            str(work / "root"), mirror], capture_output=True, text=True, timeout=900)
        if p.returncode != 0:
            pytest.fail(f"debootstrap {SUITE} from {mirror} failed (set TESSERA_DEBIAN_MIRROR?):\n"
                        f"{p.stdout[-2000:]}\n{p.stderr[-2000:]}", pytrace=False)
        # apt caches are not needed to boot.
        for d in ["var/cache/apt/archives", "var/lib/apt/lists"]:
            for f in (work / "root" / d).glob("*"):
                if f.is_file():
                    f.unlink()
        tmp = work / "tree.tar"
        run(["tar", "-C", str(work / "root"), "--numeric-owner", "--xattrs", "-cf", str(tmp), "."],
            timeout=300)
        os.replace(tmp, tarball)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return tarball


_built_deb = []


def package_path():
    if _built_deb:
        return _built_deb[0]
    deb = os.environ.get("TESSERA_DEB")
    if deb:
        if not os.path.exists(deb):
            pytest.fail(f"TESSERA_DEB={deb} does not exist", pytrace=False)
        return deb
    log("building the .deb (Packaging/deb/build-deb.sh --no-lintian)")
    p = subprocess.run([str(REPO / "Packaging/deb/build-deb.sh"), "--no-lintian"],
                       capture_output=True, text=True, timeout=1800)
    if p.returncode != 0:
        pytest.fail(f"build-deb.sh failed:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}", pytrace=False)
    _built_deb.append(p.stdout.strip().splitlines()[-1])
    return _built_deb[0]


# ---------------------------------------------------------------------------
# The booted container
# ---------------------------------------------------------------------------

class Container:
    def __init__(self, root: Path, logpath: Path):
        self.root = root
        self.logpath = logpath
        self.logfile = open(logpath, "wb")
        self.proc = subprocess.Popen(
            ["systemd-nspawn", "-D", str(root), "--register=no", "--keep-unit",
             "--volatile=overlay", "--private-network", "--console=read-only",
             "--machine=tessera-test", "-b"],
            stdin=subprocess.DEVNULL, stdout=self.logfile, stderr=subprocess.STDOUT)
        try:
            self.pid1 = self._find_pid1()
        except BaseException:
            self.proc.kill()
            self.proc.wait(timeout=10)
            raise

    def _find_pid1(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"systemd-nspawn exited with {self.proc.returncode}:\n{self.boot_log()}",
                            pytrace=False)
            p = subprocess.run(["ps", "-o", "pid=,comm=", "--ppid", str(self.proc.pid)],
                               capture_output=True, text=True)
            for line in p.stdout.splitlines():
                pid, comm = line.split(None, 1)
                if comm.strip() == "systemd":
                    return int(pid)
            time.sleep(0.05)
        pytest.fail(f"the container's systemd did not start:\n{self.boot_log()}", pytrace=False)

    def boot_log(self):
        try:
            return self.logpath.read_bytes()[-4000:].decode("utf-8", "replace")
        except OSError:
            return ""

    def sh(self, *cmd, check=True, timeout=60):
        """A command inside the container (all its namespaces)."""
        return run(["nsenter", "-t", str(self.pid1), "-a", *cmd], check=check, timeout=timeout)

    def cli(self, *args, check=False, timeout=30):
        """Host redis-cli in the container's network namespace."""
        return run(["nsenter", "-t", str(self.pid1), "-n", "redis-cli", "-p", str(PORT), *args],
                   check=check, timeout=timeout)

    def path(self, p):
        """A path of the container's (overlay) file system, seen from the host."""
        return Path(f"/proc/{self.pid1}/root") / p.lstrip("/")

    def prop(self, name):
        return self.sh("systemctl", "show", "-p", name, "--value", UNIT).stdout.strip()

    def journal(self, unit=UNIT, lines=80):
        return self.sh("journalctl", "--no-pager", "-o", "short-monotonic", "-n", str(lines),
                       "-u", unit, check=False).stdout

    def stop(self):
        if self.proc.poll() is None:
            # SIGRTMIN+3 = halt for systemd as PID 1; nspawn then exits.
            try:
                os.kill(self.pid1, 37)
                self.proc.wait(timeout=20)
            except Exception:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.logfile.close()


def wait_for(pred, timeout, what, diag=lambda: ""):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})\n{diag()}")


@pytest.fixture(scope="module")
def container(tmp_path_factory):
    preflight()
    deb = package_path()
    tarball = cached_tree_tarball()
    work = tmp_path_factory.mktemp("nspawn")
    root = work / "root"
    root.mkdir()
    t0 = time.time()
    run(["tar", "-C", str(root), "--numeric-owner", "--xattrs", "-xf", str(tarball)], timeout=300)
    log(f"tree extracted in {time.time() - t0:.1f}s; booting")
    c = Container(root, work / "boot.log")
    try:
        state = wait_for(lambda: c.sh("systemctl", "is-system-running", check=False).stdout.strip()
                         in ("running", "degraded") and "up", 60, "the container to boot",
                         c.boot_log)
        failed = c.sh("systemctl", "--failed", "--no-legend", check=False).stdout.strip()
        log(f"container booted ({time.time() - t0:.1f}s); failed units: {failed or 'none'}")
        # Install into the running system: the postinst meets a live systemd.
        shutil.copy(deb, c.path("/root/tessera.deb"))
        p = c.sh("dpkg", "-i", "/root/tessera.deb", check=False, timeout=120)
        assert p.returncode == 0, f"dpkg -i failed:\n{p.stdout}\n{p.stderr}"
        c.deb = deb
        yield c
    finally:
        if os.environ.get("TESSERA_TEST_KEEP"):
            log(f"keeping the container running: PID 1 = {c.pid1}")
        else:
            c.stop()


# ---------------------------------------------------------------------------
# Tests, in order: they share one booted container
# ---------------------------------------------------------------------------

def set_conf(c, name, value):
    conf = c.path(CONF)
    text = conf.read_text()
    text, n = re.subn(rf"^{re.escape(name)} .*$", f"{name} {value}", text, flags=re.M)
    if n == 0:
        text += f"\n{name} {value}\n"
    conf.write_text(text)


def test_installed_and_started_by_postinst(container):
    c = container
    assert c.sh("systemctl", "is-enabled", UNIT, check=False).stdout.strip() == "enabled"
    wait_for(lambda: c.prop("ActiveState") == "active", 30, "the service started by the postinst",
             lambda: c.journal())
    assert c.sh("id", "-u", "tessera").returncode == 0
    st = os.stat(c.path(DATA))
    assert oct(st.st_mode & 0o777) == "0o750", oct(st.st_mode)
    mode = c.sh("stat", "-c", "%U:%G %a", CONF).stdout.strip()
    assert mode == "root:tessera 640", mode
    # The binary needs nothing of the Swift toolchain.
    ldd = c.sh("ldd", "/usr/bin/tessera-server").stdout
    assert "libswift" not in ldd and "not found" not in ldd, ldd
    # Served by the unprivileged user (default port 6379 inside the container).
    main_pid = c.prop("MainPID")
    user = c.sh("ps", "-o", "user=", "-p", main_pid).stdout.strip()
    assert user == "tessera", user


def test_unit_verifies_and_security_score(container):
    c = container
    p = c.sh("systemd-analyze", "verify", "--man=no", f"/lib/systemd/system/{UNIT}", check=False)
    assert p.returncode == 0 and not p.stderr.strip(), f"verify:\n{p.stdout}\n{p.stderr}"
    p = c.sh("systemd-analyze", "security", "--offline=true", "--no-pager",
             f"/lib/systemd/system/{UNIT}", check=False)
    m = re.search(r"Overall exposure level for \S+:\s*([0-9.]+)\s*(\S+)", p.stdout)
    assert m, f"no exposure score:\n{p.stdout}\n{p.stderr}"
    score = float(m.group(1))
    log(f"systemd-analyze security --offline=true: exposure {score} {m.group(2)}")
    print(p.stdout)
    assert score <= 2.5, f"exposure {score} regressed (was <= 2.5):\n{p.stdout}"
    # The same, for the running unit (what systemd really applied).
    p = c.sh("systemd-analyze", "security", "--no-pager", UNIT, check=False)
    m2 = re.search(r"Overall exposure level for \S+:\s*([0-9.]+)", p.stdout)
    log(f"systemd-analyze security (live unit): exposure {m2.group(1) if m2 else '?'}")


def _restart_with(c, **conf):
    for k, v in conf.items():
        set_conf(c, k, v)
    c.sh("systemctl", "restart", UNIT, timeout=120)
    assert c.prop("ActiveState") == "active"


def test_loading_is_activating_until_ready(container):
    """Start over a dump that takes > 1 s to load: activating and -LOADING until READY=1."""
    c = container
    _restart_with(c, port=str(PORT), **{"enable-debug-command": "local", "shard-timeout": str(SHARD_TIMEOUT_MS)})
    # A dump big enough that loading takes > 1 s, made once and cached.
    cached = CACHE / f"dump-{POPULATE_KEYS}.rdb"
    dump = c.path(DATA + "/dump.rdb")
    if cached.exists():
        c.sh("systemctl", "stop", UNIT, timeout=120)
        shutil.copy(cached, dump)
        c.sh("chown", "tessera:tessera", DATA + "/dump.rdb")
    else:
        t0 = time.time()
        p = c.cli("DEBUG", "POPULATE", str(POPULATE_KEYS), "key", "10", timeout=300)
        assert p.stdout.strip() == "OK", p.stdout + p.stderr
        assert c.cli("SAVE", timeout=300).stdout.strip() == "OK"
        c.sh("systemctl", "stop", UNIT, timeout=120)
        shutil.copy(dump, str(cached) + ".part")
        os.replace(str(cached) + ".part", cached)
        log(f"dump of {POPULATE_KEYS} keys made in {time.time() - t0:.1f}s and cached in {cached}")

    c.sh("systemctl", "log-level", "debug")
    c.sh("systemctl", "start", "--no-block", UNIT)
    saw_activating_loading = False
    states = []
    deadline = time.time() + 120
    statuses = set()
    while time.time() < deadline:
        props = dict(l.split("=", 1) for l in c.sh("systemctl", "show", "-p", "ActiveState",
                                                   "-p", "StatusText", UNIT).stdout.splitlines() if "=" in l)
        state = props.get("ActiveState")
        if state == "activating":
            statuses.add(props.get("StatusText", ""))
        reply = c.cli("PING").stdout.strip()
        states.append((state, reply[:8]))
        if state == "activating" and reply.startswith("LOADING"):
            saw_activating_loading = True
        if state == "active":
            break
        assert state == "activating", f"unexpected state {state}; seen {states[-5:]}"
        time.sleep(0.05)
    c.sh("systemctl", "log-level", "info")
    assert c.prop("ActiveState") == "active", c.journal()
    # Once active, the dataset is loaded: READY=1 came after the load.
    assert c.cli("PING").stdout.strip() == "PONG"
    assert c.cli("DBSIZE").stdout.strip() == str(POPULATE_KEYS)
    assert saw_activating_loading, (
        f"never saw ActiveState=activating while redis-cli got -LOADING; samples: {states[:10]} ... "
        f"{states[-5:]} (load too fast? raise TESSERA_TEST_KEYS)\n{c.journal()}")
    n_activating = sum(1 for s, _ in states if s == "activating")
    log(f"activating for {n_activating} samples (STATUS= seen: {sorted(statuses)}), then active")
    status = c.prop("StatusText")
    assert status.startswith("Ready"), status


def test_reload(container):
    c = container
    assert c.cli("CONFIG", "GET", "slowlog-max-len").stdout.split() == ["slowlog-max-len", "128"]
    set_conf(c, "slowlog-max-len", "4096")
    c.sh("systemctl", "log-level", "debug")
    c.sh("systemctl", "reload", UNIT, timeout=60)
    wait_for(lambda: c.cli("CONFIG", "GET", "slowlog-max-len").stdout.split()
             == ["slowlog-max-len", "4096"], 15, "the reloaded value", c.journal)
    wait_for(lambda: c.prop("ActiveState") == "active", 15, "active after reload")
    c.sh("systemctl", "log-level", "info")
    j = c.sh("journalctl", "--no-pager", "-o", "cat", "_PID=1", check=False).stdout
    # systemd's own record of the notify messages: running -> reload (RELOADING=1)
    # -> running (READY=1).
    assert re.search(r"tessera.service: Changed running -> reload", j), j[-3000:]
    assert re.search(r"tessera.service: Changed reload -> running", j), j[-3000:]
    assert "Configuration reloaded" in c.journal(), c.journal()
    assert c.prop("NRestarts") == "0"


def test_tessera_ctl_over_the_control_socket(container):
    c = container
    if not c.path("/usr/bin/tessera-ctl").exists():
        pytest.skip("this package has no tessera-ctl (no such product in Package.swift when it was built)")
    sock = "/run/tessera/tessera.sock"
    assert c.sh("stat", "-c", "%U:%G %a", sock).stdout.strip() == "tessera:tessera 660"
    # Root finds the socket through the installed config.
    p = c.sh("tessera-ctl", "ping", check=False)
    assert p.returncode == 0, p.stdout + p.stderr
    p = c.sh("tessera-ctl", "--json", "status", check=False)
    assert p.returncode == 0, p.stdout + p.stderr
    json.loads(p.stdout)
    p = c.sh("tessera-ctl", "config", "get", "slowlog-max-len", check=False)
    assert p.returncode == 0 and "4096" in p.stdout, p.stdout + p.stderr
    # Someone outside the tessera group may not use it: exit status 2.
    p = c.sh("runuser", "-u", "nobody", "--", "tessera-ctl", "--socket", sock, "ping", check=False)
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    assert p.stderr.strip(), "no error message"


def shard_pids(c, main_pid):
    return c.sh("ps", "-o", "pid=", "--ppid", main_pid, check=False).stdout.split()


def test_frozen_shard_is_restarted_by_the_supervisor(container):
    """A stopped shard stops answering: the supervisor kills it after
    shard-timeout and starts a new one that reloads the RDB; no service restart."""
    c = container
    assert c.cli("SET", "survivor", "before-freeze").stdout.strip() == "OK"
    assert c.cli("SAVE", timeout=60).stdout.strip() == "OK"
    main = c.prop("MainPID")
    shards = shard_pids(c, main)
    assert len(shards) == 1, shards
    t0 = time.time()
    c.sh("kill", "-STOP", shards[0])
    new = wait_for(lambda: [p for p in shard_pids(c, main) if p != shards[0]], SHARD_TIMEOUT_MS / 1000 + 30,
                   "the supervisor to replace the frozen shard", c.journal)
    wait_for(lambda: c.cli("PING").stdout.strip() == "PONG", 60, "the new shard to serve", c.journal)
    log(f"frozen shard {shards[0]} replaced by {new[0]} after {time.time() - t0:.1f}s")
    assert c.prop("MainPID") == main
    assert c.prop("NRestarts") == "0"
    assert c.prop("ActiveState") == "active"
    assert c.cli("GET", "survivor").stdout.strip() == "before-freeze"


def test_frozen_supervisor_is_killed_by_the_watchdog(container):
    """A stopped main PID sends no WATCHDOG=1: systemd aborts it after
    WatchdogSec and restarts the service, which reloads its data."""
    c = container
    pid = c.prop("MainPID")
    watchdog = c.prop("WatchdogUSec")
    log(f"freezing MainPID {pid} (WatchdogUSec={watchdog})")
    t0 = time.time()
    c.sh("kill", "-STOP", pid)
    wait_for(lambda: c.prop("NRestarts") == "1", 60, "the watchdog restart", c.journal)
    wait_for(lambda: c.prop("ActiveState") == "active", 120, "active after the restart", c.journal)
    log(f"watchdog fired and the service is active again after {time.time() - t0:.1f}s")
    new_pid = c.prop("MainPID")
    assert new_pid != pid
    assert c.cli("GET", "survivor").stdout.strip() == "before-freeze"
    assert c.cli("DBSIZE").stdout.strip() == str(POPULATE_KEYS + 1)
    j = c.sh("journalctl", "--no-pager", "-o", "cat", "_PID=1", check=False).stdout
    assert "Watchdog timeout" in j, j[-3000:]
    # Nothing of the old generation survives (KillMode=mixed, PDEATHSIG).
    assert c.sh("ps", "-o", "pid=", "-p", pid, check=False).stdout.strip() == ""
    files = sorted(os.listdir(c.path(DATA)))
    log(f"{DATA} after the watchdog restart: {files}")


def test_stop_is_clean_with_final_save(container):
    c = container
    # Small dataset again, and a key that only the final save can persist.
    assert c.cli("FLUSHALL", timeout=60).stdout.strip() == "OK"
    assert c.cli("SAVE").stdout.strip() == "OK"
    assert c.cli("SET", "final", "written-at-shutdown").stdout.strip() == "OK"
    c.sh("systemctl", "stop", UNIT, timeout=120)
    assert c.prop("ActiveState") == "inactive"
    assert c.prop("Result") == "success", c.journal()
    assert c.prop("ExecMainStatus") == "0", c.journal()
    assert c.prop("ExecMainCode") == "1", c.journal()  # CLD_EXITED, not killed
    j = c.journal()
    assert "Saving the final RDB snapshot before exiting." in j, j
    assert "ready to exit" in j, j
    c.sh("systemctl", "start", UNIT, timeout=120)
    assert c.cli("GET", "final").stdout.strip() == "written-at-shutdown"


def test_remove_stops_the_service(container):
    c = container
    p = c.sh("dpkg", "-r", "tessera", check=False, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    assert c.prop("ActiveState") in ("inactive", ""), c.journal()
    # The data stays after remove (and purge).
    assert c.path(DATA + "/dump.rdb").exists()
    p = c.sh("dpkg", "-P", "tessera", check=False, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr


def test_install_without_running_systemd(tmp_path):
    """dpkg -i in a chroot with no systemd running (an image build): the
    postinst creates the user and enables the unit, starts nothing, exits 0."""
    preflight()
    deb = package_path()
    root = tmp_path / "root"
    root.mkdir()
    run(["tar", "-C", str(root), "--numeric-owner", "--xattrs", "-xf", str(cached_tree_tarball())],
        timeout=300)
    shutil.copy(deb, root / "root/tessera.deb")
    p = run(["chroot", str(root), "dpkg", "-i", "/root/tessera.deb"], check=False, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    assert run(["chroot", str(root), "getent", "passwd", "tessera"]).stdout.startswith("tessera:")
    wants = root / "etc/systemd/system/multi-user.target.wants/tessera.service"
    assert os.path.islink(wants), "deb-systemd-helper did not enable the unit"
    st = run(["chroot", str(root), "stat", "-c", "%U:%G %a", CONF]).stdout.strip()
    assert st == "root:tessera 640", st
    p = run(["chroot", str(root), "dpkg", "-P", "tessera"], check=False, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    assert not os.path.lexists(wants)
