"""Benchmarks: build time by corpus size, HTTP latency of the site; a Markdown report.

1. Build: synthetic corpora of 1x, 10x, 100x and 1000x the real plan
   (``generate.py``: the real plan plus N-1 varied copies, invented test data)
   are built by the real pipeline, ``ciso.build.build``, in this process.
2. SQL: the statements the project's pages run, timed on each database.
3. HTTP: ``datasette serve`` with the project's options (``ciso.site.serve_args``)
   on a free port of 127.0.0.1 serves the 1x database, then the 100x one; each
   URL of ``URLS`` gets a bounded number of GET requests (count and time cap)
   from 1 and then 10 concurrent clients (threads, one keep-alive connection
   each). Every custom page's p99 is reported as a ratio to the p99 of the
   plain table page measured in the same run, on the same server.
4. Stock Datasette: the 1x database served side by side by the project's public server
   (``python -m ciso.server``) and by stock Datasette (same database, metadata.yml and settings;
   none of our plugins or templates: ``STOCK_LAUNCHER``), measured in step (each round, one
   request per client to one side then to the other: ``measure_pair``), from 1 then 10 clients that accept gzip as browsers do; p50 and p99 of each page as a ratio to
   stock's (``STOCK_GOAL``), the home page to /-/progres too, and the bytes each sends.
5. Scale-out: the 1x database served by two replicas as deployed (``python -m ciso.server``)
   and Debian's nginx with deploy/nginx/ciso.conf (``ciso.local_proxy``), once without its
   cache and once with it; wrk loads SCALE_URLS with 10 then 50 clients on one replica
   directly, the two behind nginx, and nginx with its cache. Requests/s and p99 are
   reported as ratios to the replica alone; every replica and nginx must return the same
   bytes. Needs /usr/sbin/nginx and wrk (``make bench`` installs both, as root).

Usage: python benchmarks/run.py --out benchmarks/RESULTATS.md   (what ``make bench`` runs, ~22 min on 2 CPUs)
       python benchmarks/run.py --quick --out /tmp/bench.md     (smoke run, about 25 s)
       python benchmarks/run.py --factors 1,1000 --serve 1000 --out /tmp/x1000.md
           (the 1000x database over HTTP: ~10 min, as a 15 MB CSV takes ~25 s and the
           time cap only stops new requests, not those in flight)
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import html
import http.client
import importlib.metadata
import json
import math
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field, replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from ciso.build import build  # noqa: E402
from ciso.site import SETTINGS, serve_args  # noqa: E402
from generate import generate  # noqa: E402

# The measured URLs; edit freely. kind: "reference" (the baseline every ratio
# divides by; exactly one), "datasette" (Datasette's own features with our
# options) or "projet" (our pages: the goal is p99 <= GOAL x baseline, no error).
URLS = [
    ("Table simple (référence)", "/ciso/activites?_nofacet=1", "reference"),
    ("Table avec ses facettes par défaut", "/ciso/activites", "datasette"),
    ("Facettes", "/ciso/activites?_facet=objectif_id&_facet_array=pays", "datasette"),
    ("Recherche plein texte", "/ciso/activites?_search=securite", "datasette"),
    ("CSV en flux", "/ciso/activites.csv?_stream=on", "datasette"),
    ("Avancement", "/-/progres", "projet"),
    ("Page d'un plan", "/-/progres/2020-2021", "projet"),
    ("Page d'un objectif", "/-/progres/2020-2021/1", "projet"),
    ("Transparence", "/-/transparence", "projet"),
]
GOAL = 1.5  # custom pages: p99 at most 1.5 x the baseline's p99

# What to try when a page misses the goal (printed under « Pistes » for flagged pages only).
ROLLUP_HINT = (
    "précalculer les agrégats à la construction : matérialiser les vues `statut_activites`, `statut_actions`, "
    "`avancement_objectifs` et `avancement_plans` en tables indexées (`plan_id`, `objectif_id`) dans "
    "`scripts/ciso/load.py`, pour qu'aucune requête ne fasse de GROUP BY ni de fenêtre sur tout le corpus"
)
HINTS = {
    "/-/progres": ROLLUP_HINT + " ; et borner la page : elle affiche chaque plan avec son graphique, sa taille croît "
    "donc avec le nombre de plans (n'afficher que les plans récents, ou un plan par page `/-/progres/{plan}`)",
    "/-/progres/2020-2021/1": ROLLUP_HINT + " ; la page ne montre qu'un objectif mais ses requêtes parcourent "
    "tout le corpus",
}

# The SQL the custom pages run (plugins/progress_pages.py), timed directly on each database.
PAGE_SQL = [
    ("/-/progres", "select * from avancement_plans order by plan_id desc"),
    ("/-/progres", "select * from avancement_objectifs order by ordre"),
    ("/-/progres/2020-2021/1", "select * from avancement_objectifs where objectif_id = '2020-2021-1'"),
    ("/-/progres/2020-2021/1", "select * from statut_actions where objectif_id = '2020-2021-1' order by ordre"),
    ("/-/progres/2020-2021/1", "select * from statut_activites where objectif_id = '2020-2021-1' order by ordre"),
    ("/ciso/activites (référence)", "select * from activites order by ordre limit 51"),
    (
        "/ciso/activites (référence)",
        "select objectif_id, count(*) from activites group by objectif_id order by count(*) desc limit 31",
    ),
]


# Scale-out (issue 10): these pages, on the real plan's database, from one replica directly, from
# two replicas behind nginx, and from nginx with its cache (deploy/nginx/ciso.conf), under wrk.
SCALE_URLS = [
    ("Accueil", "/"),
    ("Avancement", "/-/progres"),
    ("Transparence", "/-/transparence"),
    ("Page de table", "/ciso/activites"),
    ("JSON d'une table", "/ciso/activites.json?_shape=array"),
]
SETUPS = [
    ("direct", "1 réplique en direct"),
    ("nginx", "2 répliques derrière nginx"),
    ("cache", "2 répliques, nginx et son cache"),
]


@dataclass
class Config:
    factors: list[int]
    serve_factors: list[int]
    requests: int
    concurrency: list[int]
    time_cap: float
    warmup: int
    quick: bool
    scale_urls: list[tuple[str, str]] = field(default_factory=lambda: list(SCALE_URLS))
    scale_concurrency: list[int] = field(default_factory=lambda: [10, 50])
    scale_seconds: int = 5  # per measure; longer for a slow page, up to scale_max_seconds
    scale_max_seconds: int = 20
    stock_requests: int = 500  # per side, page and concurrency: p99 at 1.1x needs more than the other sections' 200
    stock_time_cap: float = 30.0  # seconds per side, page and concurrency (stock's index page takes 0.5 s)
    stock_pages: int = 0  # 0: every comparison of stock_comparisons()


FULL = Config(
    factors=[1, 10, 100, 1000],
    serve_factors=[1, 100],
    requests=200,
    concurrency=[1, 10],
    time_cap=15.0,
    warmup=5,
    quick=False,
)
QUICK = Config(
    factors=[1, 2],
    serve_factors=[1],
    requests=10,
    concurrency=[1, 10],
    time_cap=5.0,
    warmup=1,
    quick=True,
    scale_urls=SCALE_URLS[:2],
    scale_concurrency=[10],
    scale_seconds=1,
    scale_max_seconds=2,
    stock_pages=3,
    stock_requests=10,
    stock_time_cap=5.0,
)


def repeats(factor: int) -> int:
    """Bounded repetitions: 3 builds for small corpora, 2 for 100x, 1 from 1000x."""
    return 3 if factor < 100 else 2 if factor < 1000 else 1


# --------------------------------------------------------------------------- build


@dataclass
class BuildResult:
    factor: int
    plans: int
    activities: int
    rows: int
    size: int
    seconds: list[float]
    generate_seconds: float

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def bench_builds(config: Config, work: Path, log) -> tuple[list[BuildResult], dict[int, Path]]:
    results, databases = [], {}
    warm = work / "echauffement"  # one untimed build first: imports and caches are not part of any figure
    build(ROOT / "data", warm / "ciso.db")
    shutil.rmtree(warm)
    for factor in config.factors:
        data = work / f"donnees-x{factor}"
        t0 = time.perf_counter()
        generate(ROOT / "data", data, factor)
        generated = time.perf_counter() - t0
        db = work / f"x{factor}" / "ciso.db"  # the file name is the database name in URLs
        db.parent.mkdir()
        seconds = []
        for _ in range(1 if config.quick else repeats(factor)):
            gc.collect()
            t0 = time.perf_counter()
            corpus = build(data, db)
            seconds.append(time.perf_counter() - t0)
        tables = corpus.tables
        result = BuildResult(
            factor=factor,
            plans=len(tables["plans"]),
            activities=len(tables["activites"]),
            rows=sum(len(rows) for rows in tables.values()),
            size=db.stat().st_size,
            seconds=seconds,
            generate_seconds=generated,
        )
        del corpus, tables
        results.append(result)
        databases[factor] = db
        log(f"build x{factor}: {result.plans} plans, {result.rows} rows, {fmt(result.median, 2)} s")
        shutil.rmtree(data)
    return results, databases


def bench_sql(databases: dict[int, Path], runs: int = 5) -> dict[int, list[float]]:
    """Median milliseconds of each PAGE_SQL statement, per database."""
    timings = {}
    for factor, db in databases.items():
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            row = []
            for _, sql in PAGE_SQL:
                samples = []
                for _ in range(runs):
                    t0 = time.perf_counter()
                    conn.execute(sql).fetchall()
                    samples.append(1000 * (time.perf_counter() - t0))
                row.append(statistics.median(samples))
            timings[factor] = row
        finally:
            conn.close()
    return timings


# --------------------------------------------------------------------------- HTTP


@dataclass
class Measure:
    name: str
    path: str
    kind: str
    concurrency: int
    absent: bool = False
    latencies: list[float] = field(default_factory=list)  # seconds, every completed request
    errors: int = 0
    error_examples: list[str] = field(default_factory=list)
    wall: float = 0.0
    size: int = 0
    capped: bool = False

    @property
    def count(self) -> int:
        return len(self.latencies)

    def record(self, elapsed: float, body: bytes, error: str | None) -> None:
        """One completed request: its latency, and its size or its error (three examples kept)."""
        self.latencies.append(elapsed)
        if error is None:
            self.size = max(self.size, len(body))
        else:
            self.errors += 1
            if error not in self.error_examples and len(self.error_examples) < 3:
                self.error_examples.append(error)

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile in milliseconds."""
        ordered = sorted(self.latencies)
        return 1000 * ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]

    @property
    def rps(self) -> float:
        return self.count / self.wall if self.wall else 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def datasette_command(db: Path, port: int) -> list[str]:
    """``datasette serve`` with the project's options (the latency sections)."""
    return ["-m", "datasette", *serve_args(db, "127.0.0.1", port)]


def replica_command(db: Path, port: int) -> list[str]:
    """One replica as deployed (deploy/systemd/ciso-public@.service): our runner, ``python -m ciso.server``."""
    return ["-m", "ciso.server", "--db", str(db), "--host", "127.0.0.1", "--port", str(port)]


class Server:
    """A site on a free port of 127.0.0.1 (``datasette serve`` unless told); always stopped by ``stop``."""

    def __init__(self, db: Path, log_path: Path, command=datasette_command):
        self.port = free_port()
        self.log_path = log_path
        self.stopped_alone = False  # set by stop(): the process had exited before we stopped it
        self.log_file = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, *command(db, self.port)],
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"datasette exited with {self.process.returncode}: see {self.log_path}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=2):
                    return
            except (OSError, urllib.error.URLError):
                time.sleep(0.1)
        raise RuntimeError(f"datasette did not answer within {timeout:.0f} s: see {self.log_path}")

    def answers(self) -> bool:
        """True if the server process runs and accepts a request within a few seconds."""
        if self.process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=5):
                return True
        except (OSError, urllib.error.URLError):
            return False

    def log_tail(self, lines: int = 3) -> str:
        """Last lines of the server's output other than access lines, quoted for the report."""
        text = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        kept = [line.strip() for line in text if line.strip() and '" 200' not in line][-lines:]
        return " / ".join(f"`{line[:160]}`" for line in kept) or "(vide)"

    def stop(self) -> None:
        self.stopped_alone = self.process.poll() is not None
        if not self.stopped_alone:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log_file.close()


def fetch(conn: http.client.HTTPConnection, path: str, encoding: str = "identity") -> tuple[int, bytes]:
    conn.request("GET", path, headers={"Accept-Encoding": encoding})
    response = conn.getresponse()
    return response.status, response.read()


ERROR_BOX = re.compile(r'border: 3px solid red;">(.*?)</div>', re.DOTALL)  # templates/error.html
TAG = re.compile(r"<[^>]+>")


def error_message(status: int, body: bytes) -> str:
    """``HTTP 500 (message)``, the message read from the error page when there is one."""
    text = body.decode("utf-8", "replace")
    match = ERROR_BOX.search(text)
    message = " ".join(TAG.sub(" ", html.unescape(match[1] if match else "")).split())
    return f"HTTP {status}" + (f" « {message[:120]} »" if message else "")


def measure(
    port: int,
    name: str,
    path: str,
    kind: str,
    concurrency: int,
    config: Config,
    encoding: str = "identity",
    requests: int | None = None,
    time_cap: float | None = None,
    result: Measure | None = None,
) -> Measure:
    """GET ``path`` ``requests`` times (config.requests) from ``concurrency`` clients, within ``time_cap``
    seconds; the latencies are added to ``result`` when given (rounds of the same measure)."""
    requests = requests or config.requests
    time_cap = time_cap or config.time_cap
    result = result or Measure(name, path, kind, concurrency)
    # Warm-up, not counted; a 404 means the page does not exist on this branch.
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        for i in range(config.warmup):
            status, _ = fetch(conn, path, encoding)
            if i == 0 and status == 404:
                result.absent = True
                return result
    except (OSError, http.client.HTTPException):
        pass  # counted below if it persists
    finally:
        conn.close()

    lock = threading.Lock()
    issued = 0
    deadline = 0.0
    start = threading.Barrier(concurrency + 1)

    def worker() -> None:
        nonlocal issued
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        start.wait()
        try:
            while True:
                with lock:
                    if issued >= requests or time.perf_counter() > deadline:
                        return
                    issued += 1
                t0 = time.perf_counter()
                try:
                    status, body = fetch(conn, path, encoding)
                    error = None if status == 200 else error_message(status, body)
                except (OSError, http.client.HTTPException) as e:
                    body, error = b"", f"{type(e).__name__}: {e}"
                    conn.close()
                elapsed = time.perf_counter() - t0
                with lock:
                    result.record(elapsed, body, error)
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for t in threads:
        t.start()
    t0 = time.perf_counter()
    deadline = t0 + time_cap
    counted = result.count
    start.wait()
    for t in threads:
        t.join()
    result.wall += time.perf_counter() - t0
    result.capped = result.capped or result.count - counted < requests
    return result


MAX_RESTARTS = 3


def stopped_how(code: int) -> str:
    if code < 0:
        try:
            return f"tué par le signal {signal.Signals(-code).name}"
        except ValueError:
            return f"tué par le signal {-code}"
    return f"sorti avec le code {code}"


def bench_http(db: Path, config: Config, work: Path, label: str, log, incidents: list[str]) -> list[Measure]:
    """Measure every URL at every concurrency; a server that dies is restarted and the URL measured again."""
    restarts = 0
    server = Server(db, work / f"datasette-{label}-{restarts}.log")
    try:
        server.wait_ready()
        measures = []
        for concurrency in config.concurrency:
            for name, path, kind in URLS:
                while True:
                    m = measure(server.port, name, path, kind, concurrency, config)
                    if not m.errors or server.answers():
                        break
                    server.stop()
                    how = stopped_how(server.process.returncode) if server.stopped_alone else "ne répondait plus"
                    incidents.append(
                        f"base {label}, {concurrency} client(s), `{path}` : le serveur s'est arrêté ({how}) "
                        f"pendant la mesure ; redémarré, mesure refaite. Fin de son journal : {server.log_tail()}"
                    )
                    log(f"http {label}: the server stopped ({how}) while measuring {path}; restarting it")
                    restarts += 1
                    if restarts > MAX_RESTARTS:
                        raise RuntimeError(f"datasette stopped {restarts} times; giving up (see {server.log_path})")
                    server = Server(db, work / f"datasette-{label}-{restarts}.log")
                    server.wait_ready()
                measures.append(m)
                if m.absent:
                    log(f"http {label} c={concurrency} {path}: absent (404)")
                else:
                    log(
                        f"http {label} c={concurrency} {path}: n={m.count} err={m.errors} "
                        f"p50={m.percentile(50):.1f} ms p99={m.percentile(99):.1f} ms {m.rps:.0f} req/s"
                    )
        return measures
    finally:
        server.stop()


# --------------------------------------------------------------------------- stock Datasette

# Stock Datasette: the same installed Datasette, run with none of the plugins installed in this
# environment (Datasette 0.65 loads no entry-point plugin when ``sys._called_from_test`` is set:
# datasette/plugins.py), hence none of our templates either (they come with our plugin package);
# the same database, metadata.yml and settings (``ciso.site.serve_args``).
STOCK_LAUNCHER = "import sys; sys._called_from_test = True; from datasette.cli import cli; cli()"
STOCK_GOAL = 1.1  # every Datasette page: p50 and p99 at most 1.1 x stock's, at 1 and 10 clients
BROWSER_ENCODING = "gzip, deflate"  # what the clients accept, as browsers do


def stock_command(db: Path, port: int) -> list[str]:
    return ["-c", STOCK_LAUNCHER, *serve_args(db, "127.0.0.1", port)]


@dataclass
class Comparison:
    name: str
    path: str  # on our site
    against: str  # "stock" (the same page on stock Datasette) or "ours" (another page of our site)
    against_path: str
    concurrency: int
    ours: Measure
    other: Measure

    def ratio(self, p: float) -> float | None:
        if not self.ours.count or not self.other.count:
            return None
        return self.ours.percentile(p) / self.other.percentile(p)

    @property
    def goal(self) -> float:
        return STOCK_GOAL if self.against == "stock" else 1.0


@dataclass
class WireSize:
    path: str
    server: str  # "ours" or "stock"
    compressed: int  # bytes sent to a client that accepts gzip
    encoding: str  # its Content-Encoding ("" for none)
    plain: int  # bytes sent to a client that accepts none


def stock_comparisons(db: Path) -> list[tuple[str, str, str, str]]:
    """(name, our path, "stock" or "ours", the path it is compared with)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        row = conn.execute("select id from activites order by ordre limit 1").fetchone()[0]
    sql = "/ciso?" + urllib.parse.urlencode({"sql": "select * from activites order by ordre limit 50"})
    pages = [
        ("Table sans facettes", "/ciso/activites?_nofacet=1"),
        ("Table avec ses facettes par défaut", "/ciso/activites"),
        ("Page d'une ligne", f"/ciso/activites/{row}"),
        ("Requête SQL", sql),
        ("Page de la base", "/ciso"),
        ("JSON d'une table", "/ciso/activites.json"),
        ("CSV d'une table (en flux)", "/ciso/activites.csv?_stream=on"),
    ]
    return [(name, path, "stock", path) for name, path in pages] + [
        ("Accueil (notre page) / accueil de Datasette", "/", "stock", "/"),
        ("Accueil / page Avancement", "/", "ours", "/-/progres"),
    ]


def wire_size(port: int, path: str, server: str) -> WireSize:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path, headers={"Accept-Encoding": BROWSER_ENCODING})
        response = conn.getresponse()
        compressed, encoding = response.read(), response.getheader("content-encoding") or ""
        _, plain = fetch(conn, path)
    finally:
        conn.close()
    return WireSize(path, server, len(compressed), encoding, len(plain))


def measure_pair(ports: tuple[int, int], paths: tuple[str, str], concurrency: int, config: Config, results) -> None:
    """Two pages measured in step, request by request: in each round every client sends one request
    to the first side, then (once all have answered) one to the second; the side that goes first
    alternates from round to round. Both sides thus see the machine in the same state, within a
    few milliseconds (its other load changes within seconds), and get the same number of requests.
    Stops after ``config.stock_requests`` per side, or at the round that passes the time cap."""
    for port, path in zip(ports, paths, strict=True):  # warm-up, not counted
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            for _ in range(config.warmup):
                fetch(conn, path, BROWSER_ENCODING)
        except (OSError, http.client.HTTPException):
            pass  # counted below if it persists
        finally:
            conn.close()
    rounds = max(1, config.stock_requests // concurrency)
    barrier = threading.Barrier(concurrency)
    lock = threading.Lock()
    stop = threading.Event()
    started = time.perf_counter()

    def request(conn, side: int) -> http.client.HTTPConnection:
        t0 = time.perf_counter()
        try:
            try:
                status, body = fetch(conn, paths[side], BROWSER_ENCODING)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed this kept-alive connection while the other side was measured (a
                # round of stock's index page lasts longer than uvicorn's keep-alive): a browser
                # sends the request again on a new connection, and so do we.
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", ports[side], timeout=60)
                status, body = fetch(conn, paths[side], BROWSER_ENCODING)
            error = None if status == 200 else error_message(status, body)
        except (OSError, http.client.HTTPException) as e:
            body, error = b"", f"{type(e).__name__}: {e}"
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", ports[side], timeout=60)
        elapsed = time.perf_counter() - t0
        with lock:
            results[side].record(elapsed, body, error)
        return conn

    def client(first: bool) -> None:
        conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=60) for port in ports]
        try:
            for r in range(rounds):
                for side in (0, 1) if r % 2 == 0 else (1, 0):
                    conns[side] = request(conns[side], side)
                    barrier.wait()
                if first and time.perf_counter() - started > 2 * config.stock_time_cap:
                    stop.set()
                barrier.wait()
                if stop.is_set():
                    return
        finally:
            for conn in conns:
                conn.close()

    threads = [threading.Thread(target=client, args=(i == 0,), daemon=True) for i in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    for m in results:
        m.wall += wall / 2
        m.capped = m.capped or m.count < rounds * concurrency


def bench_stock(db: Path, config: Config, work: Path, log) -> tuple[list[Comparison], list[WireSize]]:
    """Our public server and stock Datasette side by side, each page measured in step on both
    (``measure_pair``)."""
    from contextlib import ExitStack

    comparisons = stock_comparisons(db)
    if config.stock_pages:
        comparisons = comparisons[: config.stock_pages - 1] + comparisons[-1:]
    with ExitStack() as stack:
        servers = {
            "ours": Server(db, work / "stock-nous.log", command=replica_command),
            "stock": Server(db, work / "stock-origine.log", command=stock_command),
        }
        for server in servers.values():
            stack.callback(server.stop)
        for server in servers.values():
            server.wait_ready()
        results = []
        for concurrency in config.concurrency:
            for name, path, against, against_path in comparisons:
                ours = Measure(name, path, "projet", concurrency)
                other = Measure(name, against_path, against, concurrency)
                ports = (servers["ours"].port, servers[against].port)
                measure_pair(ports, (path, against_path), concurrency, config, (ours, other))
                c = Comparison(name, path, against, against_path, concurrency, ours, other)
                results.append(c)
                log(
                    f"stock c={concurrency} {path} vs {against} {against_path}: p50 {fmt(c.ratio(50) or 0, 2)}x "
                    f"p99 {fmt(c.ratio(99) or 0, 2)}x n={ours.count}/{other.count} errors {ours.errors}/{other.errors}"
                )
        pages = {}  # each (server, path) compared, once, in the order of the comparisons
        for _, path, against, against_path in comparisons:
            pages[("ours", path)] = None
            pages[(against, against_path)] = None
        sizes = [wire_size(servers[server].port, path, server) for server, path in pages]
        return results, sizes


def stock_section(comparisons: list[Comparison], sizes: list[WireSize], config: Config) -> tuple[list[str], list[str]]:
    """The « Datasette d'origine » section of the report, and its flags for « Constats »."""
    out, flags = [], []
    w = out.append
    w("## Datasette d'origine")
    w("")
    w("Base du plan réel (1×), servie côte à côte par notre serveur public (`python -m ciso.server`, tel que")
    w("déployé) et par Datasette d'origine : le même Datasette installé, la même base, le même `metadata.yml`")
    w("et les mêmes réglages (`ciso.site.serve_args`), sans aucun de nos plugins ni gabarits (lancé avec")
    w("`sys._called_from_test`, qui fait ignorer à Datasette 0.65 les plugins installés).")
    w(
        "Les deux côtés sont mesurés pas à pas : à chaque tour, chaque client envoie une requête à l'un, "
        "puis, toutes servies, une à l'autre ; celui qui commence alterne d'un tour à l'autre. Les deux voient "
        "donc la machine dans le même état, à quelques millisecondes près (sa charge change en quelques secondes). "
        f"{config.stock_requests} requêtes de chaque côté (moins si un tour dépasse "
        f"{fmt(2 * config.stock_time_cap, 0)} s en tout), par des clients qui acceptent gzip "
        f"(`Accept-Encoding: {BROWSER_ENCODING}`), comme les navigateurs."
    )
    w(
        f"Objectif : p50 et p99 de chaque page de Datasette au plus {fmt(STOCK_GOAL)}× ceux de Datasette "
        "d'origine, à 1 et à 10 clients ; notre accueil au plus 1× la page Avancement ; aucune erreur."
    )
    w("")
    w(
        "| page | notre adresse | comparée à | clients | p50 (ms) | p50 comparé (ms) | p50 ratio | p99 (ms) "
        "| p99 comparé (ms) | p99 ratio | erreurs | objectif |"
    )
    w("|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|")
    for c in comparisons:
        against = "Datasette d'origine" if c.against == "stock" else f"notre `{c.against_path}`"
        r50, r99 = c.ratio(50), c.ratio(99)
        errors = c.ours.errors + c.other.errors
        problems = []
        if errors:
            problems.append(f"**{errors} erreur{'s' if errors > 1 else ''}**")
            examples = " ; ".join(c.ours.error_examples + c.other.error_examples)
            flags.append(f"comparaison `{c.path}`, {c.concurrency} client(s) : {errors} erreur(s) : {examples}.")
        for p, r in ((50, r50), (99, r99)):
            if r is None or r > c.goal:
                problems.append(f"**p{p} au-delà de {fmt(c.goal)}×**")
                flags.append(
                    f"comparaison `{c.path}` / {against}, {c.concurrency} client(s) : p{p} "
                    f"{fmt(c.ours.percentile(p)) if c.ours.count else '—'} ms = "
                    f"{fmt(r, 2) if r else '—'}× ({fmt(c.other.percentile(p)) if c.other.count else '—'} ms), "
                    f"au-delà de {fmt(c.goal)}×."
                )
        cells = [
            c.name,
            f"`{c.path}`",
            against,
            str(c.concurrency),
            fmt(c.ours.percentile(50)) if c.ours.count else "—",
            fmt(c.other.percentile(50)) if c.other.count else "—",
            relative(r50 or 0, 1, 2) if r50 else "—",
            fmt(c.ours.percentile(99)) if c.ours.count else "—",
            fmt(c.other.percentile(99)) if c.other.count else "—",
            relative(r99 or 0, 1, 2) if r99 else "—",
            str(errors),
            " ; ".join(problems) or "ok",
        ]
        w("| " + " | ".join(cells) + " |")
    w("")
    w("### Octets envoyés")
    w("")
    w("Une requête par page et par serveur, acceptant gzip puis n'acceptant aucune compression.")
    w("")
    w("| adresse | serveur | octets envoyés (gzip accepté, ko) | compression | sans compression (ko) |")
    w("|---|---|--:|---|--:|")
    for size in sizes:
        server = "notre site" if size.server == "ours" else "Datasette d'origine"
        w(
            f"| `{size.path}` | {server} | {fmt(size.compressed / 1024)} | {size.encoding or 'aucune'} "
            f"| {fmt(size.plain / 1024)} |"
        )
    w("")
    return out, flags


# --------------------------------------------------------------------------- scale-out

# wrk prints its own summary, then this line of JSON (latencies in microseconds).
WRK_REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\\n{"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, "status": %d, '
    .. '"timeout": %d, "p50_us": %d, "p99_us": %d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass
class LoadRun:
    name: str
    path: str
    setup: str
    concurrency: int
    requests: int
    seconds: float
    errors: dict[str, int]
    p50: float  # milliseconds
    p99: float
    hits: int = 0  # answers nginx's cache served (its access log)
    planned: int = 0  # seconds wrk was asked to run

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


@dataclass
class ScaleOut:
    runs: list[LoadRun]
    identical: list[tuple[str, int, bool, bool]]  # path, size, same bytes everywhere, same ETag everywhere
    versions: dict[str, str]
    seconds: int
    max_seconds: int


def public_get(port: int, path: str) -> tuple[int, dict, bytes]:
    """One GET with the public site's name (Datasette's absolute links carry it), uncompressed."""
    from ciso.local_proxy import PUBLIC_HOST

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path, headers={"Host": PUBLIC_HOST, "Accept-Encoding": "identity"})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


WRK_TIMEOUT = 30  # seconds: a request still unanswered after this is an error


def wrk(port: int, path: str, concurrency: int, seconds: int, script: Path) -> dict:
    from ciso.local_proxy import PUBLIC_HOST

    command = ["wrk", "-t", str(min(2, concurrency)), "-c", str(concurrency), "-d", f"{seconds}s"]
    command += ["--timeout", f"{WRK_TIMEOUT}s"]
    # The headers of public_get, whose warm-up requests filled nginx's cache: the answers vary on
    # Accept-Encoding, and wrk's requests without one would start on an empty variant, 9 of 10
    # clients waiting for proxy_cache_lock (nginx looks again every 500 ms) — which wrk's
    # correction for coordinated omission turns into a p99 of 440 ms.
    command += ["-s", str(script), "-H", f"Host: {PUBLIC_HOST}", "-H", "Accept-Encoding: identity"]
    command += [f"http://127.0.0.1:{port}{path}"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + WRK_TIMEOUT + 30)
    if done.returncode != 0:
        raise RuntimeError(f"wrk: {done.stderr.strip() or done.stdout.strip()}")
    return json.loads([line for line in done.stdout.splitlines() if line.startswith("{")][-1])


def cache_hits(directory: Path, path: str) -> int:
    lines = (directory / "access.log").read_text(encoding="utf-8").splitlines()
    return sum(line.split("|")[1] == "HIT" and line.endswith(f"GET {path} HTTP/1.1") for line in lines)


def tool_version(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except OSError:
        return "absent"
    text = (done.stdout + done.stderr).strip().splitlines()
    return text[0] if text else "inconnue"


def measure_seconds(port: int, path: str, concurrency: int, config: Config) -> int:
    """How long to load a page: long enough for every client of one replica alone to be answered a
    few times (a page that takes 0.4 s keeps 50 clients waiting 20 s each), within the bounds."""
    samples = []
    for _ in range(max(3, config.warmup)):
        t0 = time.perf_counter()
        public_get(port, path)
        samples.append(time.perf_counter() - t0)
    wanted = math.ceil(2.5 * concurrency * statistics.median(samples))
    return min(config.scale_max_seconds, max(config.scale_seconds, wanted))


def bench_scaleout(db: Path, config: Config, work: Path, log) -> ScaleOut:
    """One replica directly, two behind nginx, two behind nginx with its cache: same pages, same run."""
    from contextlib import ExitStack

    from ciso.local_proxy import NGINX, running_nginx

    for program in (NGINX, "wrk"):
        if not shutil.which(program):
            raise SystemExit(f"{program} manque : apt-get install nginx wrk (make bench les installe, en root)")
    script = work / "rapport.lua"
    script.write_text(WRK_REPORT, encoding="utf-8")
    with ExitStack() as stack:
        replicas = []
        for i in (1, 2):
            replica = Server(db, work / f"replique-{i}.log", command=replica_command)
            stack.callback(replica.stop)
            replicas.append(replica)
        for replica in replicas:
            replica.wait_ready()
        ports = {"direct": replicas[0].port, "nginx": free_port(), "cache": free_port()}
        folders = {setup: work / f"nginx-{setup}" for setup in ("nginx", "cache")}
        for setup, folder in folders.items():
            stack.enter_context(
                running_nginx(folder, ports[setup], [r.port for r in replicas], free_port(), cache=setup == "cache")
            )

        identical = []
        for _, path in config.scale_urls:
            answers = [public_get(r.port, path) for r in replicas] + [public_get(ports[s], path) for s in folders]
            bodies = {body for _, _, body in answers}
            tags = {headers.get("etag") for _, headers, _ in answers}
            ok = all(status == 200 for status, _, _ in answers)
            identical.append((path, len(answers[0][2]), ok and len(bodies) == 1, ok and len(tags) == 1))
            log(f"scale-out {path}: {len(bodies)} distinct bod{'y' if len(bodies) == 1 else 'ies'}")

        runs = []
        for concurrency in config.scale_concurrency:
            for name, path in config.scale_urls:
                seconds = measure_seconds(ports["direct"], path, concurrency, config)
                for setup, _ in SETUPS:  # interleaved: a slower moment of the machine hits all three alike
                    for _ in range(config.warmup):
                        public_get(ports[setup], path)
                    hits_before = cache_hits(folders[setup], path) if setup in folders else 0
                    result = wrk(ports[setup], path, concurrency, seconds, script)
                    hits = cache_hits(folders[setup], path) - hits_before if setup in folders else 0
                    errors = {k: result[k] for k in ("connect", "read", "write", "status", "timeout")}
                    run = LoadRun(
                        name, path, setup, concurrency, result["requests"], result["duration_us"] / 1e6,
                        errors, result["p50_us"] / 1000, result["p99_us"] / 1000, hits, seconds,
                    )  # fmt: skip
                    runs.append(run)
                    log(
                        f"scale-out c={concurrency} {setup} {path}: {run.rps:.0f} req/s "
                        f"p99={run.p99:.1f} ms errors={run.error_count}"
                    )
    versions = {"nginx": tool_version([NGINX, "-v"]), "wrk": tool_version(["wrk", "--version"])}
    return ScaleOut(runs, identical, versions, config.scale_seconds, config.scale_max_seconds)


# --------------------------------------------------------------------------- report


def fmt(x: float, digits: int = 1) -> str:
    """French decimal comma."""
    return f"{x:.{digits}f}".replace(".", ",")


def thousands(n: int) -> str:
    return f"{n:,}".replace(",", "\u202f")


def plural(n: int, word: str) -> str:
    return f"{thousands(n)} {word}{'s' if n > 1 else ''}"


def version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "absent"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def git_revision() -> str:
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "scripts", "plugins", "templates", "metadata.yml"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return rev + (" (avec des modifications non validées)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "inconnue"


def command_line(argv: list[str]) -> str:
    python = Path(sys.executable)
    try:
        python = python.relative_to(ROOT) if python.is_relative_to(ROOT) else python
    except ValueError:
        pass
    script = Path(__file__)
    script = script.relative_to(ROOT) if script.is_relative_to(ROOT) else script
    command = shlex.join([str(python), str(script), *argv])
    if os.environ.get("MAKELEVEL"):
        return f"make bench   # soit : {command}"
    return command


def linear_fit(xs: list[float], ys: list[float]) -> tuple[float, float, float]:
    """Least squares y = a + b x (the standard library's); returns (a, b, R²)."""
    slope, intercept = statistics.linear_regression(xs, ys)
    return intercept, slope, statistics.correlation(xs, ys) ** 2


def ratio(m: Measure, baseline: Measure | None, p: float = 99) -> float | None:
    if m.absent or not m.count or baseline is None or not baseline.count:
        return None
    return m.percentile(p) / baseline.percentile(p)


def verdict(m: Measure, r: float | None) -> str:
    if m.absent:
        return "absente (404)"
    if m.kind == "reference":
        return "référence"
    problems = []
    if m.errors:
        problems.append(f"**{m.errors} erreur{'s' if m.errors > 1 else ''}**")
    if m.kind == "projet" and r is not None and r > GOAL:
        problems.append(f"**au-delà de {fmt(GOAL)}×**")
    if problems:
        return " ; ".join(problems)
    return "ok" if m.kind == "projet" else "—"


def times(r: float | None, m: Measure) -> str:
    return "—" if r is None or m.kind == "reference" else fmt(r, 2) + "×"


def http_table(measures: list[Measure], concurrency: int) -> tuple[list[str], list[str]]:
    """Markdown rows for one concurrency, and the flags found."""
    rows = [m for m in measures if m.concurrency == concurrency]
    baseline = next((m for m in rows if m.kind == "reference" and not m.absent), None)
    lines = [
        "| page | adresse | requêtes | erreurs | p50 (ms) | p99 (ms) | requêtes/s | taille (ko) "
        "| p50 / référence | p99 / référence | objectif ≤ 1,5× |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    flags = []
    for m in rows:
        if m.absent:
            lines.append(f"| {m.name} | `{m.path}` | — | — | — | — | — | — | — | — | absente (404) |")
            flags.append(f"`{m.path}` : page absente (404) sur ce code ; non mesurée.")
            continue
        r = ratio(m, baseline)
        v = verdict(m, r)
        capped = " (plafond de temps)" if m.capped else ""
        lines.append(
            f"| {m.name} | `{m.path}` | {m.count}{capped} | {m.errors} | {fmt(m.percentile(50))} "
            f"| {fmt(m.percentile(99))} | {fmt(m.rps, 0)} | {fmt(m.size / 1024)} "
            f"| {times(ratio(m, baseline, 50), m)} | {times(r, m)} | {v} |"
        )
        if m.errors:
            flags.append(f"`{m.path}` : {m.errors} erreur(s) sur {m.count} requêtes : {' ; '.join(m.error_examples)}.")
        if m.kind == "projet" and r is not None and r > GOAL:
            flags.append(
                f"`{m.path}` : p99 {fmt(m.percentile(99))} ms = {fmt(r, 2)}× la référence "
                f"({fmt(baseline.percentile(99))} ms), au-delà de l'objectif de {fmt(GOAL)}×."
            )
    return lines, flags


def report(
    config: Config,
    argv: list[str],
    started: dt.datetime,
    total: float,
    builds: list[BuildResult],
    sql: dict[int, list[float]],
    http: dict[int, list[Measure]],
    load: tuple[float, float],
    incidents: list[str],
    scale: ScaleOut | None = None,
    stock: tuple[list[Comparison], list[WireSize]] | None = None,
) -> str:
    out = []
    w = out.append
    w("# Mesures de performance")
    w("")
    w(
        "Produit par `benchmarks/run.py`"
        + (" en mode rapide (`--quick`, essai seulement)" if config.quick else "")
        + "."
    )
    w("Les corpus au-delà du plan réel sont **des données de test inventées** (`benchmarks/generate.py`),")
    w("jamais publiées : le plan 2020-2021 réel, suivi de copies dont le texte est varié mot à mot.")
    w("")
    w("## Conditions")
    w("")
    w(f"- Commande : `{command_line(argv)}`")
    w(f"- Date : {started.strftime('%Y-%m-%d %H:%M')} UTC ; durée totale : {fmt(total, 0)} s")
    w(f"- Code mesuré : révision {git_revision()}")
    w(f"- Machine : {os.cpu_count()} processeur(s) logique(s), {cpu_model()} ; {platform.platform()}")
    w(
        f"- Charge moyenne de la machine (1 min) : {fmt(load[0], 2)} au début, {fmt(load[1], 2)} à la fin "
        "(d'autres processus que ces mesures la font monter et ralentissent tous les chiffres de la même façon)"
    )
    w(
        f"- Python {platform.python_version()}, Datasette {version('datasette')}, "
        f"uvicorn {version('uvicorn')}, sqlite-utils {version('sqlite-utils')}, SQLite {sqlite3.sqlite_version}"
    )
    w(
        f"- Serveur : `datasette serve` avec les options du projet (`ciso.site.serve_args`, base immuable `-i`, "
        f"`sql_time_limit_ms` = {SETTINGS['sql_time_limit_ms']}, `facet_time_limit_ms` = "
        f"{SETTINGS['facet_time_limit_ms']}), sur 127.0.0.1, même machine que les clients"
    )
    w(
        f"- Clients : {' puis '.join(str(c) for c in config.concurrency)} client(s) simultané(s) "
        f"(fils Python, une connexion persistante chacun) ; {config.requests} requêtes par adresse et par "
        f"niveau de concurrence, plafonnées à {fmt(config.time_cap, 0)} s ; {config.warmup} requête(s) "
        "d'échauffement non comptées ; p50 et p99 au rang le plus proche ; une réponse autre que 200 est une erreur"
    )
    w("")

    w("## Construction de la base")
    w("")
    w("`ciso.build.build` (lecture, vérification, écriture SQLite, index plein texte, vues, `VACUUM`), ")
    w("appelé dans le processus ; médiane de quelques constructions (3 jusqu'à 10×, 2 à 100×, 1 à 1000×).")
    w("")
    w(
        "| facteur | plans | activités | lignes en base | taille (Mo) | constructions | temps (s) "
        "| s par plan | temps / temps 1× |"
    )
    w("|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    first = builds[0] if builds else None
    for b in builds:
        w(
            f"| {b.factor}× | {thousands(b.plans)} | {thousands(b.activities)} | {thousands(b.rows)} "
            f"| {fmt(b.size / 1e6)} | {len(b.seconds)} | {fmt(b.median, 2)} | {fmt(b.median / b.plans, 3)} "
            f"| {fmt(b.median / first.median, 1)} |"
        )
    if len(builds) >= 2:
        fixed, per_plan, r2 = linear_fit([b.plans for b in builds], [b.median for b in builds])
        w("")
        w(
            f"Ajustement linéaire (moindres carrés) : temps ≈ {fmt(fixed, 2)} s + {fmt(per_plan * 1000, 1)} ms "
            f"× nombre de plans, R² = {fmt(r2, 4)}."
        )
        w("")
        w("Croissance d'un facteur au suivant (linéaire si le temps croît comme la taille) :")
        w("")
        for a, b in zip(builds, builds[1:], strict=False):
            w(
                f"- {a.factor}× → {b.factor}× : taille × {fmt(b.rows / a.rows, 1)}, "
                f"temps × {fmt(b.median / a.median, 1)}"
            )
    w("")

    if sql:
        w("## Requêtes SQL des pages du projet")
        w("")
        w(
            "Les requêtes que `plugins/progress_pages.py` exécute, chronométrées directement dans SQLite (médiane de 5, ms),"
        )
        w("comparées à deux requêtes de la page de table simple : ses 50 premières lignes et l'une de ses facettes.")
        w("")
        factors = sorted(sql)
        w("| page | requête | " + " | ".join(f"{f}×" for f in factors) + " |")
        w("|---|---|" + "--:|" * len(factors))
        for i, (page, statement) in enumerate(PAGE_SQL):
            w(f"| `{page}` | `{statement}` | " + " | ".join(fmt(sql[f][i], 1) for f in factors) + " |")
        w("")

    if http:
        w("## Lecture des tableaux de temps de réponse")
        w("")
        w("- Temps en millisecondes, du début de l'envoi de la requête à la réception du dernier octet.")
        w("- « p99 / référence » : p99 de la page divisé par le p99 de la page de table simple (de même pour")
        w("  p50), même base, même nombre de clients, même exécution. Seules les pages du projet (`/-/…`) sont")
        w("  tenues à l'objectif, qui porte sur le p99 ;")
        w("  facettes, recherche et CSV sont des fonctions de Datasette, données pour comparaison.")
        w("- La page de référence `/ciso/activites` calcule à chaque requête les facettes que `metadata.yml` lui")
        w("  donne (objectif, action, pays, organisations, instruments, thèmes) : son coût croît lui aussi avec")
        w("  la base.")
        w("- Le CSV en flux renvoie toute la table : sa taille, donc son temps, croît avec la base.")
        w("- « (plafond de temps) » : moins de requêtes que prévu dans le temps imparti ; sous 100 requêtes,")
        w("  le p99 est le temps le plus long observé.")
        w(f"- Clients et serveur partagent les {os.cpu_count()} processeurs de la machine : à 10 clients, les")
        w("  temps comprennent surtout l'attente de son tour.")
        w("")

    all_flags, flagged = [], []
    for factor, measures in http.items():
        build_info = next((b for b in builds if b.factor == factor), None)
        size = (
            f" ({plural(build_info.plans, 'plan')}, {plural(build_info.activities, 'activité')})" if build_info else ""
        )
        w(f"## Temps de réponse — base {factor}×{size}")
        w("")
        for concurrency in config.concurrency:
            w(f"### {concurrency} client{'s' if concurrency > 1 else ''} simultané{'s' if concurrency > 1 else ''}")
            w("")
            lines, flags = http_table(measures, concurrency)
            out.extend(lines)
            all_flags.extend(f"base {factor}×, {concurrency} client(s) : {f}" for f in flags)
            flagged.extend(
                m.path
                for m in measures
                if m.concurrency == concurrency
                and m.kind == "projet"
                and any(f"`{m.path}`" in f for f in flags)
                and not m.absent
            )
            w("")

    if stock is not None:
        lines, flags = stock_section(*stock, config)
        out.extend(lines)
        all_flags.extend(flags)

    if scale is not None:
        lines, flags = scaleout_section(scale)
        out.extend(lines)
        all_flags.extend(flags)

    w("## Constats")
    w("")
    w(
        f"Objectif : chaque page du projet au plus {fmt(GOAL)}× le p99 de la page de table simple mesurée "
        f"dans la même exécution, sans erreur ; chaque page de Datasette au plus {fmt(STOCK_GOAL)}× Datasette "
        "d'origine (p50 et p99), l'accueil au plus 1× la page Avancement ; derrière nginx, aucune erreur et "
        "les mêmes octets sur chaque réplique."
    )
    w("")
    if all_flags:
        for f in all_flags:
            w(f"- {f}")
    else:
        w("- Aucun dépassement ni aucune erreur.")
    w("")
    if incidents:
        w("Incidents (serveur arrêté pendant une mesure, puis redémarré ; la mesure publiée est celle refaite) :")
        w("")
        for incident in incidents:
            w(f"- {incident}")
        w("")
    hints = [(path, HINTS[path]) for path in dict.fromkeys(flagged) if path in HINTS]
    if hints:
        w("Pistes :")
        w("")
        for path, hint in hints:
            w(f"- `{path}` : {hint}.")
        w("")
    return "\n".join(out)


def relative(value: float, base: float, digits: int) -> str:
    """``value / base`` as « 1,50× » (« — » when the baseline has nothing to divide by)."""
    return fmt(value / base, digits) + "×" if base else "—"


def scaleout_section(scale: ScaleOut) -> tuple[list[str], list[str]]:
    """The « Montée en charge » section of the report, and its flags for « Constats »."""
    out, flags = [], []
    w = out.append
    labels = dict(SETUPS)
    w("## Montée en charge : répliques derrière nginx")
    w("")
    w("Base du plan réel (1×). Chaque réplique est le site public tel que déployé (`python -m ciso.server`, comme")
    w("`deploy/systemd/ciso-public@.service`) ; nginx lit `deploy/nginx/ciso.conf` tel quel, seuls ports et")
    w("dossiers réécrits (`ciso.local_proxy`) : une instance sans cache (`proxy_cache off`), une avec.")
    w(
        f"Charge : wrk, 2 fils, connexions persistantes, réponses non compressées, en-tête `Host` du site public, "
        f"après quelques requêtes d'échauffement ; {scale.seconds} s par mesure, davantage (jusqu'à "
        f"{scale.max_seconds} s) pour une page lente, le temps que chaque client d'une réplique seule soit "
        "servi plusieurs fois : la même durée pour les trois montages."
    )
    w(
        "Pour chaque page, les trois montages sont mesurés tour à tour dans la même exécution ; tout tourne sur "
        f"les mêmes {os.cpu_count()} processeurs, wrk compris : deux répliques n'y ont pas deux processeurs à elles."
    )
    w(f"Versions : {scale.versions['nginx']} ; {scale.versions['wrk']}.")
    w("")
    w("- « × direct » : requêtes par seconde du montage divisées par celles d'une réplique en direct")
    w("  (plus haut, mieux) ; « p99 ÷ direct » : son p99 divisé par celui de la réplique en direct (plus bas,")
    w("  mieux), même page, même nombre de clients.")
    w(
        f"- Erreur : connexion, lecture ou écriture échouée, délai de {WRK_TIMEOUT} s dépassé, ou réponse "
        "autre que 2xx/3xx."
    )
    w("- « servies par le cache » : réponses que nginx a tirées de son cache (`HIT` dans son journal).")
    w("")
    by_key = {(r.concurrency, r.path, r.setup): r for r in scale.runs}
    concurrencies = sorted({r.concurrency for r in scale.runs})
    paths = list(dict.fromkeys(r.path for r in scale.runs))
    w("Synthèse (requêtes/s × direct ; p99 ÷ direct) :")
    w("")
    header = "| page |" + "".join(f" {c} clients : {labels[s]} |" for c in concurrencies for s in ("nginx", "cache"))
    w(header)
    w("|---|" + "--:|" * (2 * len(concurrencies)))
    for path in paths:
        cells = []
        for c in concurrencies:
            base = by_key[(c, path, "direct")]
            for setup in ("nginx", "cache"):
                run = by_key[(c, path, setup)]
                cells.append(f"{relative(run.rps, base.rps, 1)} ; {relative(run.p99, base.p99, 2)}")
        w(f"| `{path}` | " + " | ".join(cells) + " |")
    w("")
    for c in concurrencies:
        w(f"### {c} clients simultanés")
        w("")
        w(
            "| page | adresse | montage | durée (s) | requêtes | erreurs | requêtes/s | × direct | p50 (ms) "
            "| p99 (ms) | p99 ÷ direct | servies par le cache |"
        )
        w("|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
        for path in paths:
            base = by_key[(c, path, "direct")]
            for setup, label in SETUPS:
                run = by_key[(c, path, setup)]
                behind = setup != "direct"
                measured = run.requests > 0
                w(
                    f"| {run.name} | `{path}` | {label} | {run.planned} | {thousands(run.requests)} | {run.error_count} "
                    f"| {fmt(run.rps, 0)} | {relative(run.rps, base.rps, 2) if behind else '—'} "
                    f"| {fmt(run.p50) if measured else '—'} | {fmt(run.p99) if measured else '—'} "
                    f"| {relative(run.p99, base.p99, 2) if behind and measured else '—'} "
                    f"| {thousands(run.hits) if behind else '—'} |"
                )
                if not measured:
                    flags.append(
                        f"montée en charge, {c} clients, {label}, `{path}` : aucune réponse complète en "
                        f"{run.planned} s (chaque client attend plus longtemps que la mesure ne dure)."
                    )
                if run.error_count:
                    kinds = ", ".join(f"{k} {v}" for k, v in run.errors.items() if v)
                    flags.append(
                        f"montée en charge, {c} clients, {label}, `{path}` : {run.error_count} erreur(s) ({kinds})."
                    )
        w("")
    w("### Mêmes octets sur chaque réplique")
    w("")
    w("Chaque page demandée à chacune des deux répliques, puis à nginx sans et avec cache :")
    w("")
    w("| adresse | taille (ko) | corps identiques | même ETag |")
    w("|---|--:|---|---|")
    for path, size, same, same_tag in scale.identical:
        w(f"| `{path}` | {fmt(size / 1024)} | {'oui' if same else '**non**'} | {'oui' if same_tag else '**non**'} |")
        if not (same and same_tag):
            flags.append(f"montée en charge : `{path}` diffère d'une réplique à l'autre ou à travers nginx.")
    w("")
    return out, flags


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="Markdown report to write")
    parser.add_argument("--quick", action="store_true", help="smoke run: factors 1 and 2, 10 requests per URL")
    parser.add_argument("--factors", help="corpus sizes to build, e.g. 1,10,100,1000")
    parser.add_argument("--serve", help="corpus sizes to serve over HTTP, e.g. 1,100")
    parser.add_argument("--requests", type=int, help="requests per URL and concurrency level")
    parser.add_argument("--time-cap", type=float, help="seconds per URL and concurrency level")
    parser.add_argument("--keep", type=Path, help="keep the generated databases in this directory")
    args = parser.parse_args(argv)

    base = QUICK if args.quick else FULL
    # Every setting not given on the command line comes from the chosen preset (QUICK or FULL).
    config = replace(
        base,
        factors=[int(x) for x in args.factors.split(",")] if args.factors else base.factors,
        serve_factors=[int(x) for x in args.serve.split(",")] if args.serve else base.serve_factors,
        requests=args.requests or base.requests,
        time_cap=args.time_cap or base.time_cap,
    )
    if 1 not in config.factors:
        parser.error("--factors must include 1 (the real plan)")
    missing = set(config.serve_factors) - set(config.factors)
    if missing:
        parser.error(f"--serve {sorted(missing)} must be among --factors")
    if sum(kind == "reference" for _, _, kind in URLS) != 1:
        parser.error("URLS must have exactly one 'reference' entry")

    def log(message: str) -> None:
        print(f"[bench] {message}", file=sys.stderr, flush=True)

    started = dt.datetime.now(dt.UTC)
    load_start = os.getloadavg()[0]
    t0 = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="ciso-bench-"))
    try:
        builds, databases = bench_builds(config, work, log)
        sql = bench_sql(databases)
        http, incidents = {}, []
        for factor in config.serve_factors:
            http[factor] = bench_http(databases[factor], config, work, f"{factor}×", log, incidents)
        stock = bench_stock(databases[1], config, work, log)
        scale = bench_scaleout(databases[1], config, work, log)
        load = (load_start, os.getloadavg()[0])
        text = report(config, argv, started, time.perf_counter() - t0, builds, sql, http, load, incidents, scale, stock)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
        log(f"report written to {args.out}")
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for factor, db in databases.items():
                shutil.copy2(db, args.keep / f"ciso-x{factor}.db")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
