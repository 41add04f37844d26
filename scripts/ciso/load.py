"""The one place that writes SQLite: rows in, database file out (atomically)."""

from __future__ import annotations

from pathlib import Path

import sqlite_utils

from . import __version__
from .clock import build_time
from .data_dictionary import COLUMNS as DICTIONARY
from .data_dictionary import TABLES as DICTIONARY_TABLES
from .data_dictionary import dictionary_rows
from .iati import record_checks
from .model import BY_NAME, FTS_TOKENIZE, PRIVATE_TABLES, TABLES
from .rollups import AFTER_CHECKS, ROLLUPS, keys
from .staging import checkpoint, remove_staged_database


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


INDEXED = ("activite_id", "action_id", "objectif_id", "plan_id")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def recompute(db, described: dict | None = None) -> None:
    """Drop and recompute every computed table (after an edit of the base tables, e.g. in tests)."""
    with db.conn:
        for name in ROLLUPS:
            db.execute(f"drop table if exists [{name}]")
        for name in ("calculs", DICTIONARY, DICTIONARY_TABLES):
            db.execute(f"delete from [{name}]")
    materialise(db, ROLLUPS)
    describe(db, described)


def materialise(db, names) -> None:
    """Compute rollups of rollups.py once, at build time, each into a table of the same name.

    The database is read-only once published, so the rollups never go stale; pages and
    journalists read the same rows without any request-time GROUP BY. Each table gets its
    foreign keys (``rollups.keys``), so Datasette labels and links its columns and facets, and
    the SQL of each rollup is published in the ``calculs`` table, so anyone can recompute and compare.
    """
    with db.conn:
        for name in names:
            db.execute(f"create temp table rollup as {ROLLUPS[name]}")
            info = db.execute("pragma temp.table_info(rollup)").fetchall()
            references = dict(keys(name, [c[1] for c in info]))
            definitions = []
            for _, column, kind, *_ in info:
                definition = f"{_quote(column)} {kind}".rstrip()
                if column in references:
                    target = BY_NAME[references[column]]
                    other = target.pk if isinstance(target.pk, str) else "id"
                    definition += f" REFERENCES {_quote(target.name)}({_quote(other)})"
                definitions.append(definition)
            db.execute(f"create table {_quote(name)} (" + ", ".join(definitions) + ")")
            db.execute(f"insert into {_quote(name)} select * from temp.rollup")  # noqa: S608 - our names
            db.execute("drop table temp.rollup")
            for key in INDEXED:
                if key in references:
                    db[name].create_index([key])
            order = list(ROLLUPS).index(name) + 1
            db["calculs"].insert({"nom": name, "ordre": order, "sql": ROLLUPS[name].strip()})


def describe(db, described: dict | None) -> None:
    """Write the data dictionary (data_dictionary.py) from the model, the database and metadata.yml."""
    tables, columns = dictionary_rows(db.conn, described or {}, set(ROLLUPS))
    with db.conn:
        db[DICTIONARY_TABLES].insert_all(tables)
        db[DICTIONARY].insert_all(columns)


def compute_labels(db, schema) -> None:
    """Fill the label columns the model computes from other columns (``Column.sql``)."""
    with db.conn:
        for table in schema:
            for column in table.columns:
                if column.sql:
                    db.execute(f"update {_quote(table.name)} set {_quote(column.name)} = {column.sql}")


def write_database(path: Path, corpus, fingerprint: str, progress=None, described: dict | None = None) -> None:
    """Write every table into a new file at ``path`` and check it.

    ``path`` is a staging file (see staging.py): the build renames it into place only once
    the downloads are made too, so an existing database is never half-written. A failure
    removes the staging file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_staged_database(path)
    try:
        _write(path, corpus, fingerprint, progress, described)
    except BaseException:
        remove_staged_database(path)
        raise


def _write(path: Path, corpus, fingerprint: str, progress, described: dict | None) -> None:
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
                db[table.name].create(table.types, pk=table.pk, foreign_keys=list(table.foreign_keys))
                rows = tables.get(table.name, [])
                if rows:
                    db[table.name].insert_all(rows, batch_size=1000)
                    checkpoint("ecriture")  # test-only: killed while writing, inside the transaction
                for columns in table.indexes:
                    db[table.name].create_index(list(columns))
        compute_labels(db, schema)
        for table in schema:
            if table.fts:
                db[table.name].enable_fts(list(table.fts), tokenize=FTS_TOKENIZE)
        materialise(db, [n for n in ROLLUPS if n not in AFTER_CHECKS])
        record_checks(db.conn)  # the IATI file's rule checks (iati.py reads the rollups above)
        materialise(db, AFTER_CHECKS)  # the figures of /-/transparence, which count those checks
        describe(db, described)
        problems = db.execute("PRAGMA foreign_key_check").fetchall()
        if problems:
            raise LoadError(f"clés étrangères invalides : {problems[:5]}")
        if corpus.private:
            db.execute(f"PRAGMA application_id = {STAFF_APPLICATION_ID}")
        db.vacuum()
    finally:
        db.close()
