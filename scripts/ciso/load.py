"""The one place that writes SQLite: rows in, database file out (atomically)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import sqlite_utils

from . import __version__
from .iati import record_checks
from .schema import FTS_TOKENIZE, PRIVATE_TABLES, TABLES
from .views import VIEWS


class LoadError(Exception):
    pass


KEYS = ("activite_id", "action_id", "objectif_id", "plan_id")


def recompute(db) -> None:
    """Drop and recompute every computed table (after an edit of the base tables, e.g. in tests)."""
    with db.conn:
        for name in VIEWS:
            db.execute(f"drop table if exists [{name}]")
        db.execute("drop table if exists calculs")
    materialise(db)


def materialise(db) -> None:
    """Compute every rollup of views.py once, at build time, into a table of the same name.

    The database is read-only once published, so the rollups never go stale; pages and
    journalists read the same rows without any request-time GROUP BY. The SQL of each
    rollup is published in the ``calculs`` table, so anyone can recompute and compare.
    """
    with db.conn:
        for name, sql in VIEWS.items():
            db.execute(f"create table [{name}] as {sql}")
            columns = {c.name for c in db[name].columns}
            for key in KEYS:
                if key in columns:
                    db[name].create_index([key])
        db["calculs"].insert_all(
            [{"nom": name, "ordre": order, "sql": sql.strip()} for order, (name, sql) in enumerate(VIEWS.items(), 1)],
            pk="nom",
        )


def write_database(db_path: Path, corpus, fingerprint: str, progress=None) -> None:
    """Write every table to a temporary file, check it, then rename it into place.

    A failure at any step removes the temporary file and leaves an existing
    database untouched.
    """
    db_path = Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = db_path.with_name(f".{db_path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        _write(tmp, corpus, fingerprint, progress)
        os.replace(tmp, db_path)
    finally:
        tmp.unlink(missing_ok=True)


def _write(path: Path, corpus, fingerprint: str, progress) -> None:
    db = sqlite_utils.Database(path)
    try:
        tables = dict(corpus.tables)
        tables["construction"] = [
            {"cle": "date", "valeur": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")},
            {"cle": "empreinte", "valeur": fingerprint},
            {"cle": "version", "valeur": __version__},
        ]
        schema = TABLES + (PRIVATE_TABLES if corpus.private else ())
        steps = progress(schema, "Écriture des tables") if progress else schema
        with db.conn:
            for table in steps:
                db[table.name].create(table.columns, pk=table.pk, foreign_keys=list(table.foreign_keys))
                rows = tables.get(table.name, [])
                if rows:
                    db[table.name].insert_all(rows, batch_size=1000)
                for columns in table.indexes:
                    db[table.name].create_index(list(columns))
        for table in schema:
            if table.fts:
                db[table.name].enable_fts(list(table.fts), tokenize=FTS_TOKENIZE)
        materialise(db)
        record_checks(db.conn)  # the IATI file's rule checks, for /-/transparence (iati.py)
        problems = db.execute("PRAGMA foreign_key_check").fetchall()
        if problems:
            raise LoadError(f"clés étrangères invalides : {problems[:5]}")
        db.vacuum()
    finally:
        db.close()
