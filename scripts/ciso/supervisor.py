"""``ciso serve``: keep the site up to date with its sources, with no restart and no failed request.

The supervisor opens the listening socket itself and runs the site in a worker process
(``python -m ciso.server --fd …``) that shares it. Every second it checks:

* the sources (``build.fingerprint``: plans, references, progress log, code, metadata): if
  they changed, it rebuilds the database (a failed build is reported, ``fichier:ligne``, and
  the site keeps serving the previous database);
* the database file: if it is not the one the worker serves (rebuilt here, or by
  ``make build`` / ``ciso build`` in another terminal), it starts a new worker on the same
  socket, waits until it is ready, then tells the old one to drain (server.py): the old
  worker stops accepting connections and finishes the requests it has, and the new one
  takes every new connection. Not one request fails.

To put a database in service quickly, one worker waits in reserve, its program already
loaded (``--en-reserve``): told to serve, it opens the database and is ready in a fraction of
a second, and another is put in reserve. A worker that dies is started again. SIGHUP starts a fresh worker (e.g. after editing a
plugin); SIGINT/SIGTERM stop everything.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

POLL_SECONDS = 0.5
READY_TIMEOUT = 120.0  # a worker imports Datasette and opens the database: a few seconds
RESTART_PAUSE = 2.0  # before starting again a worker that died


def log(message: str) -> None:
    stamp = time.strftime("%H:%M:%S")
    print(f"[{stamp}] ciso serve : {message}", file=sys.stderr, flush=True)


def listening_socket(host: str, port: int) -> socket.socket:
    """The site's socket, opened once and shared by every worker."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def file_identity(path: Path) -> tuple | None:
    """Changes whenever the file is replaced (a build renames a new file into place)."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return (stat.st_ino, stat.st_mtime_ns, stat.st_size)


@dataclass
class Worker:
    process: subprocess.Popen
    identity: tuple | None


@dataclass
class Supervisor:
    """Runs, watches and replaces the worker that serves ``db_path``."""

    db_path: Path
    sock: socket.socket
    worker_args: list[str]  # after --db/--fd/--ready-fd
    rebuild: Callable[[], None] | None = None  # rebuilds the database when the sources changed
    current: Worker | None = None
    spare: tuple[subprocess.Popen, int] | None = None  # a worker in reserve, and its readiness pipe
    draining: list[subprocess.Popen] = field(default_factory=list)
    stopping: bool = False
    restart_requested: bool = False

    def spawn_spare(self) -> None:
        """Start a worker in reserve: it loads the program, then waits to be told to serve."""
        read_end, write_end = os.pipe()
        args = [sys.executable, "-m", "ciso.server", "--db", str(self.db_path), "--en-reserve"]
        args += ["--fd", str(self.sock.fileno()), "--ready-fd", str(write_end), *self.worker_args]
        process = subprocess.Popen(args, stdin=subprocess.PIPE, pass_fds=(self.sock.fileno(), write_end))
        os.close(write_end)
        self.spare = (process, read_end)

    def start_worker(self) -> Worker | None:
        """The worker in reserve, told to serve the database as it is now, once it says it is
        ready (None if it failed); another one is then put in reserve."""
        identity = file_identity(self.db_path)
        started = time.monotonic()
        if self.spare is None or self.spare[0].poll() is not None:
            self.spawn_spare()
        (process, read_end), self.spare = self.spare, None
        try:
            process.stdin.write(b"servir\n")
            process.stdin.close()
        except BrokenPipeError:
            pass  # it died: seen below
        ready = False
        deadline = time.monotonic() + READY_TIMEOUT
        with os.fdopen(read_end, "rb") as pipe:
            while time.monotonic() < deadline and process.poll() is None:
                readable, _, _ = select.select([pipe], [], [], 0.2)
                if readable:
                    ready = pipe.readline().strip() == b"pret"
                    break
        if not ready:
            log("le nouveau processus n'a pas démarré ; le site continue avec l'ancien.")
            stop(process)
            return None
        log(f"nouveau processus prêt en {time.monotonic() - started:.1f} s.")
        self.spawn_spare()
        return Worker(process, identity)

    def replace_worker(self) -> None:
        new = self.start_worker()
        if new is None:
            return
        old, self.current = self.current, new
        if old is not None:
            old.process.send_signal(signal.SIGUSR1)  # drain: finish its requests, then exit
            self.draining.append(old.process)
        log(f"base en service : {self.db_path} (processus {new.process.pid}).")

    def tick(self) -> None:
        """One round of checks."""
        if self.rebuild is not None:
            self.rebuild()
        self.draining = [p for p in self.draining if p.poll() is None]
        if self.current is not None and self.current.process.poll() is not None:
            log(
                f"le processus {self.current.process.pid} s'est arrêté (code {self.current.process.returncode}) ; redémarrage."
            )
            self.current = None
            time.sleep(RESTART_PAUSE)
        if self.current is None or self.restart_requested or file_identity(self.db_path) != self.current.identity:
            self.restart_requested = False
            if self.db_path.exists():
                self.replace_worker()

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        signal.signal(signal.SIGHUP, self.request_restart)
        try:
            while not self.stopping:
                self.tick()
                time.sleep(POLL_SECONDS)
        finally:
            if self.spare is not None:
                self.spare[0].stdin.close()  # it exits at once
                os.close(self.spare[1])
            for process in [*self.draining, *([self.current.process] if self.current else [])]:
                stop(process)
            if self.spare is not None:
                stop(self.spare[0])

    def stop(self, signum, frame) -> None:
        self.stopping = True

    def request_restart(self, signum, frame) -> None:
        self.restart_requested = True


def stop(process: subprocess.Popen, timeout: float = 20) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
