"""The README's own procedures keep the test suite green.

In a copy of data/, this test follows « Ajouter le plan de l'an prochain » (drop an
invented next-year plan into plans/, ``ciso check``) and « Suivre l'avancement » (the
README's own ``ciso suivi ajouter`` examples, read from the README so they stay in step),
then runs every test that reads the real data on the result (``CISO_DATA`` points
conftest.py at the copy). Those tests must derive their figures from the sources or the
database, never from today's counts.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ciso.site import ROOT
from conftest import DATA, FIXTURES

PROCEDURE = pytest.StashKey["Procedure"]()

# Every test module that reads the real data (the built database or data/), minus the slow
# server and browser ones, which read it through the same pages.
DATA_TESTS = [
    "test_api_guide.py",
    "test_audit.py",
    "test_build.py",
    "test_dictionary.py",
    "test_downloads.py",
    "test_facets.py",
    "test_feeds.py",
    "test_findability.py",
    "test_french_pages.py",
    "test_home.py",
    "test_iati.py",
    "test_iati_rules.py",
    "test_links.py",
    "test_progress.py",
    "test_public_pages.py",
    "test_queries.py",
    "test_readings.py",
    "test_search.py",
    "test_site.py",
    "test_transparency.py",
    "test_workbook.py",
]


def readme_commands(prefix: str) -> list[list[str]]:
    """The README's example command lines that start with ``prefix`` (continuation lines joined)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8").replace("\\\n", " ")
    lines = [line.split("  #")[0].strip() for line in text.splitlines()]
    return [shlex.split(line)[1:] for line in lines if line.startswith(prefix)]


class Procedure:
    """The README's procedures applied to a copy of data/ in ``folder``, then the data tests
    started on it in another process (``start``); ``result`` waits for them."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.problem: str | None = None
        self.updates: list[list[str]] = []
        self.process: subprocess.Popen | None = None
        self.log = folder / "pytest.log"

    def start(self) -> Procedure:
        data = self.folder / "data"
        shutil.copytree(DATA, data, ignore=shutil.ignore_patterns("interne"))
        ciso = [sys.executable, "-c", "from ciso.cli import main; main()"]

        # « Ajouter le plan de l'an prochain » : drop the file in plans/, then check.
        shutil.copy(FIXTURES / "plans" / "plan-action-2021-2022.txt", data / "plans")
        checked = subprocess.run([*ciso, "check", "--data", str(data)], capture_output=True, text=True)
        if checked.returncode != 0:
            self.problem = "ciso check: " + checked.stderr
            return self

        # « Suivre l'avancement » : the README's own examples.
        self.updates = readme_commands(".venv/bin/ciso suivi ajouter")
        for arguments in self.updates:
            done = subprocess.run([*ciso, *arguments, "--data", str(data)], capture_output=True, text=True)
            if done.returncode != 0:
                self.problem = f"{arguments}: {done.stderr}"
                return self

        tests = ROOT / "tests"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "pytest",
                    "-q",
                    "-x",
                    "-p",
                    "no:cacheprovider",
                    "-m",
                    "not browser and not data_agnostic",
                ]
                + [str(tests / t) for t in DATA_TESTS],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "CISO_DATA": str(data)},
            )
        return self

    def result(self) -> tuple[int, str]:
        assert self.problem is None, self.problem
        returncode = self.process.wait(timeout=900)
        return returncode, self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def test_following_the_readme_keeps_the_tests_green(request, tmp_path):
    # conftest.py starts it as soon as the session's tests are collected, so that it runs beside
    # the others (the suite mostly waits on one core); run alone, this test starts it here.
    procedure = request.config.stash.get(PROCEDURE, None) or Procedure(tmp_path).start()
    returncode, output = procedure.result()
    data = procedure.folder / "data"
    before = (DATA / "suivi" / "mises-a-jour.csv").read_text(encoding="utf-8").strip().splitlines()
    after = (data / "suivi" / "mises-a-jour.csv").read_text(encoding="utf-8").strip().splitlines()
    assert len(procedure.updates) >= 2
    assert after[: len(before)] == before and len(after) == len(before) + len(procedure.updates)
    lines = output.strip().splitlines()
    summary = lines[-1] if lines else ""
    assert returncode == 0, output[-6000:]
    assert re.search(r"\d+ passed", summary), summary
