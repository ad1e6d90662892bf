"""Scale-out (issue 16): several dashboard server processes behind nginx, sticky sessions.

`python -m dashboard serve --replicas N` runs N Streamlit server processes on loopback
ports and nginx in front of them on the public port, all on one database (DATABASE_URL;
PostgreSQL for more than one process). Streamlit keeps each session in the memory of the
process holding its websocket, so nginx routes every request of a browser to the same
process by a cookie of its own (deploy/nginx-replicas.conf.template explains the rule).
Sign-in state is a row in the shared database, so a user whose process stops is moved to
another one still signed in.

Also the one place that starts a single server process and waits until it is healthy
(start_server), used by the benchmark, the load test and the browser tests.
"""

from __future__ import annotations

import json
import logging
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dashboard.core.config import PROJECT_ROOT

log = logging.getLogger("dashboard.replicas")
TEMPLATE = PROJECT_ROOT / "deploy" / "nginx-replicas.conf.template"
AFFINITY_COOKIE = "kss_replica"
REPLICA_HEADER = "X-Dashboard-Replica"
START_SECONDS = 90  # upper bound for one server process to answer its health check
MAX_UPLOAD_MB = 200  # Streamlit's server.maxUploadSize default
SECRET_ENV = "STREAMLIT_SERVER_COOKIE_SECRET"


# --- one server process ---------------------------------------------------------------

def free_port(address: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on at this moment (the caller retries on a race)."""
    with socket.socket() as s:
        s.bind((address, 0))
        return s.getsockname()[1]


def server_env(database_url: str | None = None, extra: dict[str, str] | None = None
               ) -> dict[str, str]:
    """The environment of a server process: this one's, local sign-in unless AUTH_BACKEND
    says otherwise, DATABASE_URL when given, unbuffered output for the log."""
    env = dict(os.environ)
    env.setdefault("AUTH_BACKEND", "local")
    env["PYTHONUNBUFFERED"] = "1"
    if database_url:
        env["DATABASE_URL"] = database_url
    env.update(extra or {})
    return env


def server_command(port: int, address: str = "127.0.0.1",
                   extra_args: Sequence[str] = ()) -> list[str]:
    """`python -m dashboard serve` on address:port, headless, no file watcher."""
    return [sys.executable, "-m", "dashboard", "serve", "--server.headless=true",
            f"--server.port={port}", f"--server.address={address}",
            "--server.fileWatcherType=none", *extra_args]


def healthy(url: str, timeout: float = 2.0) -> bool:
    """True when url/_stcore/health answers "ok"."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=timeout) as resp:
            return resp.read().decode().strip() == "ok"
    except OSError:
        return False


def wait_healthy(proc: subprocess.Popen, url: str, log_path: Path | None = None,
                 seconds: float = START_SECONDS) -> bool:
    """Poll the health check until "ok" from *this* process (its log names the port it
    bound, so a stranger on the port is not mistaken for it); False when it exits."""
    port = url.rsplit(":", 1)[-1]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        if healthy(url) and (log_path is None or f":{port}" in log_path.read_text(
                errors="replace")) and proc.poll() is None:
            return True
        time.sleep(0.1)  # polling interval while the server starts
    return False


def start_server(database_url: str | None, log_path: Path, port: int | None = None,
                 extra_args: Sequence[str] = (), env: dict[str, str] | None = None,
                 attempts: int = 3) -> tuple[subprocess.Popen, str]:
    """Start one server process on loopback (a free port unless `port`) and wait until
    it is healthy; returns (process, base URL such as http://127.0.0.1:8601)."""
    for _attempt in range(attempts if port is None else 1):
        chosen = port or free_port()
        with log_path.open("w") as out:
            proc = subprocess.Popen(server_command(chosen, extra_args=extra_args),
                                    cwd=PROJECT_ROOT, env=env or server_env(database_url),
                                    stdout=out, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{chosen}"
        if wait_healthy(proc, url, log_path):
            return proc, url
        stop(proc)
    raise RuntimeError(f"the server did not start:\n{log_path.read_text()[-3000:]}")


def stop(proc: subprocess.Popen, seconds: float = 15) -> None:
    """Terminate a child process, then kill it if it has not ended within `seconds`."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=seconds)


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB (VmRSS from /proc; 0 when it has gone)."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


# --- nginx ------------------------------------------------------------------------------

def find_nginx() -> str | None:
    """The nginx binary (PATH or Debian's /usr/sbin/nginx), or None."""
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)


def ensure_nginx() -> str:
    """The nginx binary; installs Debian's nginx package with apt-get when it is missing
    and this process runs as root. Raises RuntimeError with what to do otherwise."""
    found = find_nginx()
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise RuntimeError("nginx is not installed: run `sudo apt-get install nginx` "
                           "(Debian/Ubuntu), then start this command again")
    print("Installing Debian's nginx package (apt-get) ...", file=sys.stderr)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "nginx"]):
        done = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
    found = find_nginx()
    if not found:
        raise RuntimeError("apt-get installed nginx but no nginx binary was found")
    return found


def _worker_user() -> str | None:
    """The account nginx's workers run as when started by root (None: not root)."""
    if os.geteuid() != 0:
        return None
    for name in ("www-data", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    return None


def nginx_config(listen: str, upstreams: Sequence[str], run_dir: Path,
                 user: str | None = None, max_upload_mb: int = MAX_UPLOAD_MB) -> str:
    """deploy/nginx-replicas.conf.template filled in: nginx listens on `listen`
    ("127.0.0.1:8501" or "8501") and sends each browser, by its affinity cookie, to one
    of `upstreams` ("host:port", numbered 1.. in the X-Dashboard-Replica header)."""
    servers = "\n".join(f"        server {u} max_fails=1 fail_timeout=10s;" for u in upstreams)
    numbers = "\n".join(f"        \"~{u.replace('.', '[.]')}$\" {i};"
                        for i, u in enumerate(upstreams, start=1))
    fields = {"user": f"user {user};" if user else "# (not root: no user directive)",
              "run_dir": str(run_dir), "listen": listen, "servers": servers,
              "replica_numbers": numbers, "cookie": AFFINITY_COOKIE,
              "max_upload_mb": str(max_upload_mb)}
    text = TEMPLATE.read_text()
    for key, value in fields.items():
        text = text.replace("{{" + key + "}}", value)
    return text


# --- N replicas behind nginx ------------------------------------------------------------

@dataclass
class Replica:
    number: int
    port: int
    log_path: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


def _shared_cookie_secret(env: dict[str, str]) -> dict[str, str]:
    """Every process signs Streamlit's own cookies (single sign-on) with one secret: the
    configured one (environment or .streamlit/config.toml), else a new random one."""
    if env.get(SECRET_ENV):
        return {}
    config = PROJECT_ROOT / ".streamlit" / "config.toml"
    if config.exists():
        server = tomllib.loads(config.read_text()).get("server", {})
        if server.get("cookieSecret"):
            return {}
    return {SECRET_ENV: secrets.token_hex(32)}


@dataclass
class ReplicaSet:
    """N server processes on loopback and nginx on `listen`, started by start()."""

    count: int
    database_url: str | None = None
    listen: str = "127.0.0.1:8501"
    run_dir: Path | None = None
    extra_args: Sequence[str] = ()
    replicas: list[Replica] = field(default_factory=list)
    nginx: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """The address users open (through nginx)."""
        host, _, port = self.listen.rpartition(":")
        host = host if host and host not in ("0.0.0.0", "[::]") else "127.0.0.1"
        return f"http://{host}:{port}"

    def start(self) -> ReplicaSet:
        nginx = ensure_nginx()
        self.run_dir = Path(self.run_dir or tempfile.mkdtemp(prefix="dashboard-replicas-"))
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._env = server_env(self.database_url)
        self._env.update(_shared_cookie_secret(self._env))
        _migrate_once(self._env.get("DATABASE_URL"))
        self.replicas = [Replica(i + 1, free_port(), self.run_dir / f"replica-{i + 1}.log")
                         for i in range(self.count)]
        for replica in self.replicas:  # all start at once, then each is waited for
            self._launch(replica)
        for replica in self.replicas:
            if not wait_healthy(replica.process, replica.url, replica.log_path):
                self.stop()
                raise RuntimeError(f"replica {replica.number} did not start:\n"
                                   f"{replica.log_path.read_text()[-3000:]}")
        self._start_nginx(nginx)
        self.write_state()
        return self

    def _launch(self, replica: Replica) -> None:
        with replica.log_path.open("a") as out:
            replica.process = subprocess.Popen(
                server_command(replica.port, extra_args=self.extra_args), cwd=PROJECT_ROOT,
                env=self._env, stdout=out, stderr=subprocess.STDOUT)

    def _start_nginx(self, binary: str) -> None:
        user = _worker_user()
        tmp = self.run_dir / "nginx-tmp"
        tmp.mkdir(exist_ok=True)
        if user:  # root: the workers run as `user` and write request bodies here
            os.chmod(self.run_dir, 0o755)
            entry = pwd.getpwnam(user)
            os.chown(tmp, entry.pw_uid, entry.pw_gid)
        conf = self.run_dir / "nginx.conf"
        conf.write_text(nginx_config(self.listen, [f"127.0.0.1:{r.port}"
                                                   for r in self.replicas], self.run_dir, user))
        checked = subprocess.run([binary, "-t", "-q", "-p", str(self.run_dir), "-e",
                                  str(self.run_dir / "nginx-error.log"), "-c", str(conf)],
                                 capture_output=True, text=True)
        if checked.returncode != 0:
            self.stop()
            raise RuntimeError(f"nginx rejected {conf}:\n{checked.stderr[-2000:]}")
        with (self.run_dir / "nginx-stderr.log").open("w") as out:
            self.nginx = subprocess.Popen(
                [binary, "-p", str(self.run_dir), "-e", str(self.run_dir / "nginx-error.log"),
                 "-c", str(conf)], stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while not healthy(self.url):
            if self.nginx.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("nginx did not start: " + (
                    self.run_dir / "nginx-error.log").read_text(errors="replace")[-2000:])
            time.sleep(0.1)  # polling while nginx starts

    def write_state(self) -> Path:
        """run_dir/replicas.json: the public URL, nginx's pid and each replica's number,
        port, pid and log (what an operator or a test needs to find them)."""
        state = {"url": self.url, "nginx_pid": self.nginx.pid if self.nginx else None,
                 "replicas": [{"number": r.number, "port": r.port, "pid": r.pid,
                               "log": str(r.log_path)} for r in self.replicas]}
        path = self.run_dir / "replicas.json"
        path.write_text(json.dumps(state, indent=2))
        return path

    def restart(self, replica: Replica) -> bool:
        """Start a stopped replica again on its port; True once it is healthy."""
        self._launch(replica)
        ok = wait_healthy(replica.process, replica.url)
        self.write_state()
        return ok

    def rss_mb(self) -> float:
        """Resident memory of all server processes together, MB (nginx not included)."""
        return sum(rss_mb(r.pid) for r in self.replicas if r.alive())

    def stop(self) -> None:
        procs = [r.process for r in self.replicas if r.process] + [self.nginx]
        for proc in procs:
            if proc is not None and proc.poll() is None:
                proc.terminate()
        for proc in procs:
            if proc is not None:
                stop(proc)


def _migrate_once(database_url: str | None) -> None:
    """Upgrade the schema before the processes start, so they never run alembic at the
    same instant (each checks it again on its first session, then finds nothing to do)."""
    from dashboard.data import db

    engine = db.make_engine(database_url) if database_url else db.make_engine()
    try:
        db.upgrade(engine)
    finally:
        engine.dispose()


def serve(count: int, listen: str, database_url: str | None = None,
          run_dir: Path | None = None, extra_args: Sequence[str] = (),
          restart: bool = True) -> int:
    """Run `count` replicas behind nginx in the foreground until interrupted (Ctrl-C or
    SIGTERM stops them all). A replica that stops is started again unless restart=False;
    meanwhile nginx sends its users to the others. Returns the exit status."""
    replica_set = ReplicaSet(count, database_url, listen, run_dir, extra_args).start()
    print(f"Dashboard: {replica_set.url} (nginx, pid {replica_set.nginx.pid}) in front of "
          f"{count} server processes:", flush=True)
    for r in replica_set.replicas:
        print(f"  replica {r.number}: {r.url} pid {r.pid} log {r.log_path}", flush=True)
    print(f"State: {replica_set.run_dir / 'replicas.json'}", flush=True)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    try:
        while not stopping:
            time.sleep(0.5)  # supervision interval
            if stopping:
                break
            if replica_set.nginx.poll() is not None:
                print("nginx stopped; stopping the replicas", file=sys.stderr, flush=True)
                return 1
            for r in replica_set.replicas:
                if r.process is None or r.alive() or stopping:
                    continue
                print(f"replica {r.number} (port {r.port}) stopped with status "
                      f"{r.process.returncode}; nginx sends its users to the others",
                      file=sys.stderr, flush=True)
                if restart:
                    ok = replica_set.restart(r)
                    print(f"replica {r.number} {'started again' if ok else 'did not start'}"
                          f" (pid {r.pid})", file=sys.stderr, flush=True)
                else:
                    r.process = None
    except KeyboardInterrupt:
        pass
    finally:
        replica_set.stop()
    return 0
