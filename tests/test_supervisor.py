"""``ciso serve`` keeps the running site up to date: a recorded update, or a database rebuilt
elsewhere, is served within 10 s, and not one request fails meanwhile."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from ciso.build import build
from conftest import DATA, free_port

pytestmark = pytest.mark.timed  # make test runs these alone, after the others: they hold bounds in seconds
CISO = [sys.executable, "-c", "from ciso.cli import main; main()"]


class Loop:
    """Requests in a loop until stopped, on kept-alive connections and on new ones; counts failures.

    Each client pauses 10 ms between requests: a steady stream through the switch, without
    taking from the rebuild the CPU that a 2-core machine has."""

    PAUSE = 0.01

    def __init__(self, url: str):
        self.url, self.done, self.count, self.failures = url, threading.Event(), 0, []
        self.threads = [threading.Thread(target=self.keep_alive) for _ in range(2)]
        self.threads.append(threading.Thread(target=self.new_connections))

    def check(self, get):
        try:
            response = get(self.url)
            self.count += 1
            time.sleep(self.PAUSE)
            if response.status_code != 200:
                self.failures.append(response.status_code)
        except httpx.HTTPError as e:
            self.failures.append(repr(e))

    def keep_alive(self):
        with httpx.Client(timeout=10) as client:
            while not self.done.is_set():
                self.check(client.get)

    def new_connections(self):
        while not self.done.is_set():
            self.check(lambda url: httpx.get(url, timeout=10))

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        for thread in self.threads:
            thread.join()


@contextmanager
def ciso_serve(tmp_path: Path, *options: str, env: dict | None = None):
    """``ciso serve`` on a copy of data/, in tmp_path; yields (url, log path)."""
    port = free_port()
    log = tmp_path / "serve.log"
    process = subprocess.Popen(
        [*CISO, "serve", "--data", "data", "--port", str(port), *options],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(url + "/", timeout=1)
                break
            except httpx.HTTPError:
                assert process.poll() is None, log.read_text()
                time.sleep(0.2)
        else:
            raise AssertionError("ciso serve did not answer within 60 s: " + log.read_text())
        yield url, log
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    assert subprocess.run(["pgrep", "-f", f"--port {port}"], capture_output=True).stdout == b""  # no worker left


@pytest.fixture
def site_copy(tmp_path) -> Path:
    shutil.copytree(DATA, tmp_path / "data", ignore=shutil.ignore_patterns("interne"))
    build(tmp_path / "data", tmp_path / "ciso.db", export_dir=tmp_path / "export")
    return tmp_path


def wait_for(predicate, seconds: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if predicate():
            return time.monotonic() - start
        time.sleep(0.2)
    raise AssertionError(f"not within {seconds} s")


def test_a_recorded_update_reaches_the_running_site_with_no_failed_request(site_copy):
    note = f"Mise à jour de test {uuid.uuid4().hex[:8]}"
    with ciso_serve(site_copy) as (url, log):

        def shown() -> bool:
            page = httpx.get(url + "/-/progres/2020-2021/1.json", timeout=10).json()
            return any(entry.get("note") == note for entry in page["historique"])

        assert not shown()
        with Loop(url + "/-/progres.json") as loop:
            time.sleep(1)
            subprocess.run(
                [*CISO, "suivi", "ajouter", "2020-2021", "1.4.2", "en_cours", "--date", "2020-11-15"]
                + ["--avancement", "40", "--note", note, "--data", "data"],
                cwd=site_copy,
                check=True,
                capture_output=True,
            )
            seconds = wait_for(shown, 10)
            time.sleep(1)
        assert loop.failures == [] and loop.count > 20, (loop.failures[:5], loop.count)
        statuses = httpx.get(url + "/-/progres/2020-2021/1.json", timeout=10).json()
        assert "en_cours" in {a["statut"] for a in statuses["actions"] if a["numero"] == "1.4"} | {
            entry["statut"] for entry in statuses["historique"] if entry.get("note") == note
        }
        assert "Sources modifiées : reconstruction" in log.read_text(encoding="utf-8")
    print(f"update served after {seconds:.1f} s, {loop.count} requests, none failed")


def test_a_database_rebuilt_elsewhere_is_put_in_service(site_copy):
    with ciso_serve(site_copy, "--sans-reconstruire") as (url, log):
        before = httpx.get(url + "/-/progres.json", timeout=10).json()
        with Loop(url + "/ciso/plans.json?_shape=array") as loop:
            time.sleep(0.5)
            for _ in range(2):  # twice: the second worker is replaced as well as the first
                services = log.read_text(encoding="utf-8").count("base en service")
                build(site_copy / "data", site_copy / "ciso.db", export_dir=site_copy / "export")
                wait_for(lambda n=services: log.read_text(encoding="utf-8").count("base en service") > n, 10)
            time.sleep(1)
        assert loop.failures == [] and loop.count > 20, (loop.failures[:5], loop.count)
        assert httpx.get(url + "/-/progres.json", timeout=10).json() == before


def test_a_broken_source_keeps_the_previous_database_in_service(site_copy):
    with ciso_serve(site_copy) as (url, log):
        with (site_copy / "data" / "suivi" / "mises-a-jour.csv").open("a", encoding="utf-8") as updates:
            updates.write("2020-11-15,2020-2021,9.9.9,en_cours,,,,\n")
        wait_for(lambda: "n'a pas été reconstruite" in log.read_text(encoding="utf-8"), 10)
        text = log.read_text(encoding="utf-8")
        assert "mises-a-jour.csv:" in text and "9.9.9" in text
        assert httpx.get(url + "/-/progres.json", timeout=10).status_code == 200


def test_the_staff_site_follows_its_sources_too(site_copy):
    from ciso.site import PASSWORD_ENV, SECRET_ENV
    from datasette_auth_passwords.utils import hash_password

    env = {PASSWORD_ENV: hash_password("mot-de-passe"), SECRET_ENV: "s" * 40}
    with ciso_serve(site_copy, "--interne", env=env) as (url, log):
        staff_db = site_copy / "interne" / "ciso.db"
        built_before = staff_db.stat().st_ino
        with Loop(url + "/-/login") as loop:
            time.sleep(0.5)
            subprocess.run(
                [*CISO, "suivi", "ajouter", "2020-2021", "1.4", "en_cours", "--date", "2020-11-15", "--data", "data"],
                cwd=site_copy,
                check=True,
                capture_output=True,
            )
            wait_for(lambda: log.read_text(encoding="utf-8").count("base en service") == 2, 10)
            time.sleep(1)
        assert loop.failures == [] and loop.count > 20, (loop.failures[:5], loop.count)
        assert staff_db.stat().st_ino != built_before
        assert not (site_copy / "ciso.db").samefile(staff_db)
