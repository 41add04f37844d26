"""The ``ciso`` command line: build, check and serve CISO's open data."""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

import click

from . import __version__
from .build import build as build_database
from .build import check as check_sources
from .build import fingerprint
from .problems import SourceError

CONTEXT = {"help_option_names": ["-h", "--help"]}
DATA_OPTION = click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default="data",
    show_default=True,
    help="Dossier des sources (plans/, reference/).",
)
DB_OPTION = click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default="ciso.db",
    show_default=True,
    help="Base SQLite à écrire.",
)


def progress(items, label):
    """A progress bar on stderr for long work (hidden when stderr is not a terminal)."""
    items = list(items)
    if len(items) < 2 or not sys.stderr.isatty():
        return items
    return _bar(items, label)


def _bar(items, label):
    with click.progressbar(items, label=label, file=sys.stderr) as bar:
        yield from bar


def fail_with(error: SourceError) -> None:
    for problem in error.problems:
        click.echo(str(problem), err=True)
    count = len(error.problems)
    click.echo(
        f"Erreur : {count} problème{'s' if count > 1 else ''} dans les sources ; rien n'a été écrit.",
        err=True,
    )
    sys.exit(1)


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, "--version", prog_name="ciso")
def cli():
    """Données ouvertes du CISO : construire, vérifier et publier la base.

    Exemple : ciso build && ciso serve
    """


@cli.command()
@DATA_OPTION
@DB_OPTION
def build(data_dir: Path, db_path: Path):
    """Lire les plans et les références, vérifier, écrire la base.

    La base est écrite dans un fichier temporaire puis renommée : en cas
    d'erreur, la base existante reste intacte.

    Exemple : ciso build --data data --db ciso.db
    """
    try:
        corpus = build_database(data_dir, db_path, progress)
    except SourceError as e:
        fail_with(e)
    t = corpus.tables
    click.echo(
        f"{db_path} : {len(t['plans'])} plan(s), {len(t['objectifs'])} objectifs, "
        f"{len(t['actions'])} actions, {len(t['activites'])} activités, "
        f"{len(t['passages'])} passages."
    )


@cli.command()
@DATA_OPTION
def check(data_dir: Path):
    """Vérifier les sources sans rien écrire ; liste chaque problème.

    Exemple : ciso check --data data
    """
    try:
        corpus = check_sources(data_dir, progress)
    except SourceError as e:
        fail_with(e)
    click.echo(f"{data_dir} : {len(corpus.plans)} plan(s) valide(s), aucun problème.")


def built_fingerprint(db_path: Path) -> str | None:
    if not db_path.exists():
        return None
    try:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
            row = conn.execute("select valeur from construction where cle = 'empreinte'").fetchone()
    except sqlite3.Error:
        return None
    return row[0] if row else None


@cli.command()
@DATA_OPTION
@DB_OPTION
@click.option("--host", default="127.0.0.1", show_default=True, help="Adresse d'écoute.")
@click.option("--port", "-p", default=8001, show_default=True, type=int, help="Port d'écoute.")
def serve(data_dir: Path, db_path: Path, host: str, port: int):
    """Reconstruire la base si les sources ont changé, puis la servir avec Datasette.

    Exemple : ciso serve --port 8001
    """
    from .site import serve_args

    if built_fingerprint(db_path) != fingerprint(data_dir):
        click.echo("Sources modifiées depuis la dernière construction : reconstruction…", err=True)
        try:
            build_database(data_dir, db_path, progress)
        except SourceError as e:
            fail_with(e)
    args = [sys.executable, "-m", "datasette", *serve_args(db_path, host, port)]
    click.echo(f"Site servi sur http://{host}:{port}/", err=True)
    os.execv(sys.executable, args)


def main():
    cli()
