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

from ciso.site import ROOT
from conftest import DATA, FIXTURES

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


def test_following_the_readme_keeps_the_tests_green(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(DATA, data, ignore=shutil.ignore_patterns("interne"))
    ciso = [sys.executable, "-c", "from ciso.cli import main; main()"]

    # « Ajouter le plan de l'an prochain » : drop the file in plans/, then check.
    shutil.copy(FIXTURES / "plans" / "plan-action-2021-2022.txt", data / "plans")
    checked = subprocess.run([*ciso, "check", "--data", str(data)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr

    # « Suivre l'avancement » : the README's own examples.
    updates = readme_commands(".venv/bin/ciso suivi ajouter")
    assert len(updates) >= 2
    for arguments in updates:
        done = subprocess.run([*ciso, *arguments, "--data", str(data)], capture_output=True, text=True)
        assert done.returncode == 0, (arguments, done.stderr)
    before = (DATA / "suivi" / "mises-a-jour.csv").read_text(encoding="utf-8").strip().splitlines()
    after = (data / "suivi" / "mises-a-jour.csv").read_text(encoding="utf-8").strip().splitlines()
    assert after[: len(before)] == before and len(after) == len(before) + len(updates)

    tests = ROOT / "tests"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-x",
            "-p",
            "no:cacheprovider",
            "-m",
            "not browser",
            *[str(tests / t) for t in DATA_TESTS],
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "CISO_DATA": str(data)},
    )
    summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.stderr[-2000:]
    assert run.returncode == 0, run.stdout[-6000:]
    assert re.search(r"\d+ passed", summary), summary
