"""The staff database stays in interne/, carries a mark, and the public site never serves it (issue 10)."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import click
import pytest
import pytest_asyncio
from ciso.build import build
from ciso.cli import cli
from ciso.load import STAFF_APPLICATION_ID, is_staff_database
from ciso.site import PASSWORD_ENV, datasette_kwargs
from click.testing import CliRunner
from conftest import DATA, FIXTURES, free_port
from datasette.app import Datasette

SECRET = "SECRET-NOTE-91c2"  # in tests/fixtures/hostile/notes.yml, staff-only


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def application_id(path: Path) -> int:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return conn.execute("PRAGMA application_id").fetchone()[0]


@pytest.fixture(scope="module")
def databases(tmp_path_factory) -> dict[str, Path]:
    """Sources with staff-only notes; the public database and the staff one built from them."""
    root = tmp_path_factory.mktemp("staff")
    data = root / "data"
    shutil.copytree(DATA, data)
    shutil.copy(FIXTURES / "hostile" / "notes.yml", data / "interne" / "notes.yml")
    public = root / "public" / "ciso.db"
    build(data, public)
    staff = root / "interne" / "ciso.db"
    build(data, staff, private=True)
    assert SECRET.encode() in staff.read_bytes() and SECRET.encode() not in public.read_bytes()
    return {"data": data, "public": public, "staff": staff}


def test_only_the_staff_database_carries_the_mark(databases):
    assert application_id(databases["staff"]) == STAFF_APPLICATION_ID
    assert application_id(databases["public"]) == 0
    assert is_staff_database(databases["staff"]) and not is_staff_database(databases["public"])


# --- --interne writes only inside interne/ -----------------------------------------------------


@pytest.fixture
def site(tmp_path, monkeypatch, databases):
    """A working folder as the README has it: ciso.db and export/ public, interne/ for the staff."""
    shutil.copy(databases["public"], tmp_path / "ciso.db")
    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "datapackage.json").write_text("{}")
    (tmp_path / "interne").mkdir()
    (tmp_path / "interne" / "vers-public.db").symlink_to(tmp_path / "ciso.db")
    (tmp_path / "interne" / "dossier-public").symlink_to(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(PASSWORD_ENV, "pbkdf2_sha256$480000$x$y")
    return tmp_path


def forbid_starting_a_server(monkeypatch):
    """`ciso serve` must stop before running anything; if it did not, fail instead of replacing pytest."""

    def refuse(*args, **kwargs):
        raise AssertionError("the server would have started")

    monkeypatch.setattr(os, "execv", refuse)
    monkeypatch.setattr(subprocess, "run", refuse)


OUTSIDE = [
    ["--db", "ciso.db"],
    ["--db", "ABSOLU/ciso.db"],
    ["--db", "interne/../ciso.db"],
    ["--db", "interne/vers-public.db"],
    ["--db", "interne/dossier-public/ciso.db"],
    ["--db", "autre.db"],
    ["--export", "export"],
    ["--export", "ABSOLU/export"],
    ["--export", "interne/../export"],
    ["--export", "interne/dossier-public/export"],
]


@pytest.mark.parametrize("command", ["build", "serve"])
@pytest.mark.parametrize("option", OUTSIDE, ids=lambda o: " ".join(o))
def test_interne_refuses_a_db_or_export_outside_interne(site, monkeypatch, command, option):
    forbid_starting_a_server(monkeypatch)
    name, value = option
    value = value.replace("ABSOLU", str(site))
    before = digest(site / "ciso.db")
    result = CliRunner().invoke(cli, [command, "--interne", "--data", str(DATA), name, value])
    assert result.exit_code == 1, result.output
    assert f"avec --interne, {name} doit désigner un chemin du dossier interne/ : « {value} » en sort" in result.output
    assert "Traceback" not in result.output
    assert digest(site / "ciso.db") == before
    assert sorted(os.listdir(site / "interne")) == ["dossier-public", "vers-public.db"]  # nothing written


def test_interne_build_goes_to_interne_by_default_and_is_marked(site):
    before = digest(site / "ciso.db")
    result = CliRunner().invoke(cli, ["build", "--interne", "--data", str(DATA)])
    assert result.exit_code == 0, result.output
    assert application_id(site / "interne" / "ciso.db") == STAFF_APPLICATION_ID
    assert digest(site / "ciso.db") == before


# --- the public site refuses the staff database ------------------------------------------------


def test_ciso_serve_refuses_a_staff_database(site, monkeypatch, databases):
    forbid_starting_a_server(monkeypatch)
    shutil.copy(databases["staff"], site / "ciso.db")
    before = digest(site / "ciso.db")
    result = CliRunner().invoke(cli, ["serve", "--data", str(databases["data"])])
    assert result.exit_code == 1, result.output
    assert "ciso.db est la base interne de l'équipe" in result.output and "le site public refuse" in result.output
    assert digest(site / "ciso.db") == before  # not rebuilt over, not served


def test_ciso_export_refuses_to_publish_a_staff_database(site, databases):
    result = CliRunner().invoke(cli, ["export", "--db", str(databases["staff"]), "--out", "export"])
    assert result.exit_code == 1 and "est la base interne de l'équipe" in result.output
    assert os.listdir(site / "export") == ["datapackage.json"]


@pytest.mark.asyncio
async def test_public_datasette_refuses_to_start_on_a_staff_database(databases):
    public = Datasette(immutables=[str(databases["staff"])], **datasette_kwargs())
    with pytest.raises(click.ClickException, match="est la base interne de l'équipe"):
        await public.invoke_startup()
    staff = Datasette(immutables=[str(databases["staff"])], **datasette_kwargs(staff=True))
    await staff.invoke_startup()  # the staff site serves it


def test_datasette_serve_with_our_plugins_refuses_a_staff_database(databases):
    """`datasette serve` itself (not `ciso serve`) stops with the French message, before serving anything."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "datasette",
            "serve",
            "-i",
            str(databases["staff"]),
        ]
        + ["--port", str(free_port()), "--get", "/ciso.db"],
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "est la base interne de l'équipe" in done.stderr.decode()
    assert SECRET.encode() not in done.stdout


@pytest_asyncio.fixture
async def running_public(databases, tmp_path):
    db = tmp_path / "ciso.db"
    shutil.copy(databases["public"], db)
    ds = Datasette(immutables=[str(db)], **datasette_kwargs())
    await ds.invoke_startup()
    return ds, db


@pytest.mark.asyncio
async def test_running_public_site_stops_serving_a_file_replaced_by_the_staff_database(running_public, databases):
    ds, db = running_public
    assert (await ds.client.get("/ciso/suivi.json")).status_code == 200
    staged = db.with_name(".remplacement")
    shutil.copy(databases["staff"], staged)
    os.replace(staged, db)  # what `ciso build --interne --db "$PWD/ciso.db"` used to do
    for path in ["/", "/ciso", "/ciso.db", "/ciso/notes_internes", "/ciso/notes_internes.json", "/-/progres"]:
        response = await ds.client.get(path)
        assert response.status_code == 503, path
        assert SECRET.encode() not in response.content and b"SQLite format" not in response.content
        assert "Service indisponible" in response.text and 'lang="fr"' in response.text
