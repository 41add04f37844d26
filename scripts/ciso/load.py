"""The one place that writes SQLite: rows in, database file out (atomically)."""

from __future__ import annotations

from pathlib import Path

import sqlite_utils

from . import __version__
from .clock import build_time
from .iati import record_checks
from .schema import FTS_TOKENIZE, PRIVATE_TABLES, TABLES
from .staging import checkpoint, remove_staged_database
from .views import VIEWS


class LoadError(Exception):
    pass


# The staff database (``ciso build --interne``) carries this mark in its SQLite header
# (``PRAGMA application_id``, bytes 68-71 of the file); the public site refuses any file that has it.
STAFF_APPLICATION_ID = int.from_bytes(b"CISI", "big")  # « CISO interne »
SQLITE_MAGIC = b"SQLite format 3\x00"


def is_staff_database(path: Path) -> bool:
    """True if ``path`` is a SQLite file marked as the staff database (read from its header, no SQLite lock)."""
    try:
        with open(path, "rb") as f:
            header = f.read(72)
    except OSError:
        return False
    return header[:16] == SQLITE_MAGIC and int.from_bytes(header[68:72], "big") == STAFF_APPLICATION_ID


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


def write_database(path: Path, corpus, fingerprint: str, progress=None) -> None:
    """Write every table into a new file at ``path`` and check it.

    ``path`` is a staging file (see staging.py): the build renames it into place only once
    the downloads are made too, so an existing database is never half-written. A failure
    removes the staging file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_staged_database(path)
    try:
        _write(path, corpus, fingerprint, progress)
    except BaseException:
        remove_staged_database(path)
        raise


def _write(path: Path, corpus, fingerprint: str, progress) -> None:
    db = sqlite_utils.Database(path)
    try:
        tables = dict(corpus.tables)
        tables["construction"] = [
            {"cle": "date", "valeur": build_time().isoformat(timespec="seconds")},
            {"cle": "empreinte", "valeur": fingerprint},
            {"cle": "version", "valeur": __version__},
        ]
        schema = TABLES + (PRIVATE_TABLES if corpus.private else ())
        steps = progress(schema, "Écriture des tables") if progress else schema
        with db.atomic():  # one transaction for every base table
            for table in steps:
                db[table.name].create(table.columns, pk=table.pk, foreign_keys=list(table.foreign_keys))
                rows = tables.get(table.name, [])
                if rows:
                    db[table.name].insert_all(rows, batch_size=1000)
                    checkpoint("ecriture")  # test-only: killed while writing, inside the transaction
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
        if corpus.private:
            db.execute(f"PRAGMA application_id = {STAFF_APPLICATION_ID}")
        db.vacuum()
    finally:
        db.close()
