"""Clean failure: a build killed at any point leaves the database intact and nothing behind after the next build."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from ciso.build import build
from ciso.site import ROOT
from ciso.staging import KILL_ENV
from conftest import DATA

CISO = [sys.executable, "-c", "from ciso.cli import main; main()"]
# Named points where the test-only hook kills the build (see ciso/staging.py `checkpoint`).
STAGES = ["ecriture", "export", "echange", "renommage"]


def run_ciso(folder: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*CISO, *args], cwd=folder, env={**os.environ, **env}, capture_output=True, text=True, timeout=120
    )


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def content(db: Path) -> dict[str, list]:
    """Every row of every table, the build date masked wherever it is copied (construction, the lists of
    /-/transparence, the dictionary's examples); fails if the file is not a sound database."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        built = conn.execute("select valeur from construction where cle = 'date'").fetchone()[0]
        names = [r[0] for r in conn.execute("select name from sqlite_master where type = 'table' order by name")]
        rows = {n: conn.execute(f"select * from [{n}]").fetchall() for n in names}  # noqa: S608
    return {
        n: [tuple(v.replace(built, "<date>") if isinstance(v, str) else v for v in r) for r in table]
        for n, table in rows.items()
    }


def files(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): digest(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def git_ignored(names: list[str]) -> set[str]:
    """Which of these names, at the root of the repository, .gitignore covers."""
    done = subprocess.run(
        ["git", "-C", str(ROOT), "check-ignore", "--no-index", "--stdin"],
        input="\n".join(names) + "\n",
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr
    return set(done.stdout.split())


@pytest.fixture(scope="module")
def first_build(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("first")
    build(DATA, folder / "ciso.db", export_dir=folder / "export")
    return folder


@pytest.mark.parametrize("stage", STAGES)
def test_killed_build_leaves_the_database_intact_and_nothing_after_the_next_build(first_build, tmp_path, stage):
    folder = tmp_path / "site"
    shutil.copytree(first_build, folder)
    db = folder / "ciso.db"
    before, rows_before, downloads_before = digest(db), content(db), files(folder / "export")

    killed = run_ciso(folder, "build", "--data", str(DATA), "--db", "ciso.db", **{KILL_ENV: stage})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    stray = sorted(set(os.listdir(folder)) - {"ciso.db", "export"})
    assert stray, "the kill left nothing: the hook did not fire where expected"
    assert all(name.startswith(".") for name in stray)
    assert git_ignored(stray) == set(stray), "a crash can leave a file that .gitignore does not cover"
    assert digest(db) == before  # never touched: the new database was still a staging file

    rebuilt = run_ciso(folder, "build", "--data", str(DATA), "--db", "ciso.db")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert sorted(os.listdir(folder)) == ["ciso.db", "export"]
    assert content(db) == rows_before
    after = files(folder / "export")
    assert after.keys() == downloads_before.keys()
    assert {k: v for k, v in after.items() if k.startswith("csv/")} == {
        k: v for k, v in downloads_before.items() if k.startswith("csv/")
    }


def test_only_the_staging_files_of_dead_processes_are_removed(tmp_path):
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
        dead, live = int(ended.stdout), running.pid
        left = [
            f".ciso.db.{dead}.tmp",
            f".ciso.db.{dead}.tmp-journal",
            f"..ciso.db.{dead}.nouvelle.{dead}.tmp",  # names of earlier versions
            f"..ciso.db.{dead}.nouvelle.{dead}.tmp-journal",
            f".ciso.db.{dead}.nouvelle",
        ]
        kept = [f".ciso.db.{live}.tmp", f".ciso.db.{live}.tmp-journal", ".ciso.db.notes", "autre.db"]
        for name in left + kept:
            (tmp_path / name).write_bytes(b"x")
        for name in (f".export.{dead}.tmp", f".export.{dead}.old", f".export.{live}.tmp"):
            (tmp_path / name / "csv").mkdir(parents=True)
            (tmp_path / name / "csv" / "plans.csv").write_text("id\n")
        build(DATA, tmp_path / "ciso.db", export_dir=tmp_path / "export")
        assert sorted(os.listdir(tmp_path)) == sorted([*kept, f".export.{live}.tmp", "ciso.db", "export"])
    finally:
        running.kill()
        running.wait()
