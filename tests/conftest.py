"""Shared fixtures: the real build on the real plan, one Datasette, a live server.

The session builds ``data/`` (the real, published sources) once into a
temporary database; tests that need edge cases copy ``data/`` and add the
invented fixtures under ``tests/fixtures/``.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
import weakref
from contextlib import asynccontextmanager, closing, contextmanager
from pathlib import Path

import pytest
import pytest_asyncio
from ciso.build import build
from ciso.site import ROOT, datasette_kwargs
from datasette.app import Datasette

# The published sources; CISO_DATA points the data-dependent tests at another copy (the README
# procedures test runs them on data/ plus a new plan and recorded updates).
DATA = Path(os.environ.get("CISO_DATA") or ROOT / "data")
FIXTURES = Path(__file__).parent / "fixtures"
REAL_PLAN = ROOT / "data" / "plans" / "plan-action-2020-2021.txt"  # the plan as received, never edited
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def rows(db: Path, sql: str, params=()) -> list[dict]:
    """The rows of a query on a database file, as dicts."""
    with closing(sqlite3.connect(db)) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(sql, params)]


def plans_own_words(target: Path, until: str | None = None) -> Path:
    """A copy of DATA at ``target`` with no recorded progress update (the log reduced to its
    header): what the plans themselves say. With ``until`` (a plan id such as ``2020-2021``),
    the plans that come after it are left out too. Returns ``target``."""
    shutil.copytree(DATA, target, ignore=shutil.ignore_patterns("interne"))
    log = target / "suivi" / "mises-a-jour.csv"
    log.write_text(log.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    if until is not None:
        for plan in (target / "plans").glob("*.txt"):
            if plan.stem.removeprefix("plan-action-") > until:
                plan.unlink()
    return target


def plan_lines(db: Path) -> dict[str, list[str]]:
    """Each plan's lines, read from its file under DATA (plans.fichier)."""
    return {
        p["id"]: (DATA / p["fichier"]).read_text(encoding="utf-8-sig").replace("\r\n", "\n").split("\n")
        for p in rows(db, "select id, fichier from plans")
    }


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    """The real database, built from data/ by the real pipeline."""
    db = tmp_path_factory.mktemp("real") / "ciso.db"
    build(DATA, db, export_dir=db.parent / "export")
    return db


@pytest.fixture
def data_copy(tmp_path) -> Path:
    """A writable copy of data/ for tests that add or break sources."""
    target = tmp_path / "data"
    shutil.copytree(DATA, target)
    return target


# Every Datasette a test makes, and those kept for the whole session. Datasette keeps each
# connection it opens until its databases are closed, and our limits plugin sets SQLite's
# process-wide heap ceiling (64 MB, meant for one server): a thousand tests in one process
# would reach it. So the instances a test module made are closed when the module ends.
_INSTANCES: weakref.WeakSet = weakref.WeakSet()
_SESSION_INSTANCES: weakref.WeakSet = weakref.WeakSet()
_datasette_init = Datasette.__init__


def _tracked_init(self, *args, **kwargs):
    _datasette_init(self, *args, **kwargs)
    _INSTANCES.add(self)


Datasette.__init__ = _tracked_init


@pytest.fixture(scope="module", autouse=True)
def _close_the_module_datasettes():
    before = set(_INSTANCES)
    yield
    for datasette in set(_INSTANCES) - before - set(_SESSION_INSTANCES):
        for database in datasette.databases.values():
            database.close()


@pytest_asyncio.fixture(scope="session")
async def ds(built) -> Datasette:
    datasette = Datasette(immutables=[str(built)], **datasette_kwargs(export_dir=built.parent / "export"))
    _SESSION_INSTANCES.add(datasette)
    await datasette.invoke_startup()
    return datasette


async def on_the_wire(ds: Datasette, path: str, headers: dict | None = None):
    """A GET of ``path`` and its body as sent, compressed or not (``ds.client`` would decompress it)."""
    import httpx

    transport = httpx.ASGITransport(app=ds.app())
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        response = await client.send(client.build_request("GET", path, headers=headers or {}), stream=True)
        body = b"".join([chunk async for chunk in response.aiter_raw()])
        await response.aclose()
    return response, body


def spy_queries(monkeypatch) -> list[str]:
    """The SQL every Datasette database runs from now on, through ``execute`` or our pages'
    ``ciso.web.page_rows`` (``execute_fn`` with a partial naming its query), in order."""
    from datasette.database import Database

    executed = []
    execute, execute_fn = Database.execute, Database.execute_fn

    async def spy(self, sql, *args, **kwargs):
        executed.append(sql)
        return await execute(self, sql, *args, **kwargs)

    async def spy_fn(self, fn):
        if "sql" in getattr(fn, "keywords", {}):
            executed.append(fn.keywords["sql"])
        return await execute_fn(self, fn)

    monkeypatch.setattr(Database, "execute", spy)
    monkeypatch.setattr(Database, "execute_fn", spy_fn)
    return executed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def site_args(db: Path, port: int, export_dir: Path | None = None, staff: bool = False) -> list[str]:
    """Arguments of ``python -m ciso.server``, the runner ``ciso serve`` starts."""
    args = ["--db", str(db), "--host", "127.0.0.1", "--port", str(port)]
    return args + (["--interne"] if staff else []) + (["--export", str(export_dir)] if export_dir else [])


@contextmanager
def site_process(
    args: list[str], port: int, env: dict | None = None, log: Path | None = None, module: str = "ciso.server"
):
    """``python -m ciso.server`` run with these arguments (from ``site_args``); yields the process,
    with its ``url``, once it answers (any status: the staff site answers 403); stops it at the end.
    Its stderr (the server's log) goes to ``log`` when given. ``module="datasette"`` runs Datasette's own CLI."""
    errors = log.open("wb") if log else subprocess.PIPE
    process = subprocess.Popen(
        [sys.executable, "-m", module, *args],
        stdout=subprocess.DEVNULL,
        stderr=errors,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )
    process.url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(process.url + "/", timeout=1)
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError(log.read_text() if log else process.stderr.read().decode()) from None
                time.sleep(0.1)
        else:
            raise RuntimeError("the site did not start within 15 s")
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        if log:
            errors.close()


@contextmanager
def own_site(db: Path, directory: Path):
    """A public site of the test's own on ``db`` (its memory and its log, ``process.log``, are
    the test's to read)."""
    log = directory / "serveur.log"
    port = free_port()
    with site_process(site_args(db, port, export_dir=db.parent / "export"), port, log=log) as process:
        process.log = log
        yield process


@contextmanager
def site_serving(args: list[str], port: int, env: dict | None = None):
    """Like ``site_process``, yielding only the URL."""
    with site_process(args, port, env) as process:
        yield process.url


@pytest.fixture(scope="session")
def server(built):
    """The real site (``python -m ciso.server``, as ``ciso serve`` runs it) on 127.0.0.1; stopped at the end."""
    port = free_port()
    with site_serving(site_args(built, port, export_dir=built.parent / "export"), port) as url:
        yield url


@pytest_asyncio.fixture(scope="session")
async def browser():
    """Debian's Chromium driven by Playwright. Missing Chromium is an error, never a skip."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run `make test` (it installs Debian's chromium) or apt-get install chromium"
        )
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        await b.close()


@pytest_asyncio.fixture(scope="session")
async def visitor(browser):
    """A browser context for the public site's pages, shared by the tests that use ``page``: a new
    context costs Chromium a renderer process (half the CPU of loading a page), and the public
    site keeps nothing of a visitor's (no cookie, no storage). Tests that log in make their own."""
    context = await browser.new_context(locale="fr-CA")
    yield context
    await context.close()


@asynccontextmanager
async def new_page(context):
    """A new page in ``context``; ``page.console_errors`` collects console errors and uncaught
    exceptions. Closed at the end."""
    pg = await context.new_page()
    pg.console_errors = []
    pg.on("console", lambda m: m.type == "error" and pg.console_errors.append(m.text))
    pg.on("pageerror", lambda e: pg.console_errors.append(str(e)))
    try:
        yield pg
    finally:
        await pg.close()


CHARTS_SETTLED = """() => Array.from(document.querySelectorAll('[data-vega-spec], [data-vega-spec-url]'))
    .every((n) => n.classList.contains('ciso-graphique-pret') || n.classList.contains('ciso-graphique-echec'))"""


async def settled(pg, timeout: float = 15000):
    """The page loaded (its scripts and styles received) and each of its charts drawn or given up
    (static/ciso-charts.js marks them). Playwright's "networkidle" is discouraged by its own docs
    and flaky: it timed out once in CI on a page with no pending request."""
    await pg.wait_for_load_state("load")
    await pg.wait_for_function(CHARTS_SETTLED, timeout=timeout)


@pytest_asyncio.fixture
async def page(visitor):
    """A fresh page (see ``new_page``) in the shared visitor's context."""
    async with new_page(visitor) as pg:
        yield pg


@pytest_asyncio.fixture
async def first_visit(browser):
    """A page in a browser context of its own: nothing cached yet, as on a first visit."""
    context = await browser.new_context(locale="fr-CA")
    try:
        async with new_page(context) as pg:
            yield pg
    finally:
        await context.close()


# --------------------------------------------------------------------------- README procedures


# Test modules that take longest, run first: under pytest-xdist (``make test``), each worker takes the
# next module when it is done with one, so the long ones must not be left for the end.
FIRST = (
    "test_readme_procedures.py",
    "test_container.py",
    "test_browser_accessibility.py",
    "test_browser_phones.py",
    "test_requests.py",
    "test_benchmarks.py",
    "test_strict_inputs.py",
    "test_staging.py",
)


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: FIRST.index(item.path.name) if item.path.name in FIRST else len(FIRST))


def pytest_collection_finish(session):
    """test_readme_procedures.py reruns the data tests on a copy of data/ where the README's
    procedures were followed: started now, in another process, it runs beside the session. Under
    pytest-xdist every worker collects every test, so the test starts it itself, first of its worker's."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    if os.environ.get("CISO_DATA") or not any(item.path.name == "test_readme_procedures.py" for item in session.items):
        return
    import tempfile

    from test_readme_procedures import PROCEDURE, Procedure

    folder = Path(tempfile.mkdtemp(prefix="ciso-procedures-"))
    session.config.stash[PROCEDURE] = Procedure(folder).start()


def pytest_sessionfinish(session):
    module = sys.modules.get("test_readme_procedures")
    procedure = session.config.stash.get(module.PROCEDURE, None) if module else None
    if procedure is not None:
        procedure.stop()
        shutil.rmtree(procedure.folder, ignore_errors=True)
