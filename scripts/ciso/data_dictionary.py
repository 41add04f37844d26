"""The data dictionary, written into the database at build time.

``dictionnaire_tables`` has one row per table, ``dictionnaire`` one row per column: its type,
description, an example value read from the database (its smallest), the table it points to and, for the
columns that hold codes of a reference list, the allowed values with their labels. Datasette
serves both as HTML, JSON and CSV; /-/dictionnaire (plugins/dictionary.py) shows them as one page.

The rows come from the data model (types, keys, arrays: ``model.py``), from the database itself
(the rollups' columns and foreign keys, row counts, examples) and from metadata.yml (titles and
descriptions), so the dictionary cannot drift from what is published.
"""

from __future__ import annotations

import re

from .model import ARRAY_KEYS, ARRAYS, SOURCED

TABLES, COLUMNS = "dictionnaire_tables", "dictionnaire"
INTERNAL = re.compile(r"_fts($|_)|^sqlite_")
EXAMPLE_LENGTH = 120
ARRAY = "tableau JSON d'identifiants"
TYPES = {"TEXT": "texte", "INTEGER": "entier", "INT": "entier", "REAL": "nombre décimal", "NUM": "nombre"}
TYPEOF = {"text": "TEXT", "integer": "INTEGER", "real": "REAL", "blob": "BLOB"}
UNKNOWN = "indéterminé (aucune valeur pour l'instant)"  # a rollup's column that is always null
SEPARATOR = " : "  # between a code and its label in valeurs_permises (one value per line)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def shorten(value) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= EXAMPLE_LENGTH else text[: EXAMPLE_LENGTH - 1].rstrip() + "…"


def code_lists(conn, described: dict) -> dict[str, str]:
    """{table: "code : label" lines} for each reference list (a table read from data/reference/)."""
    result = {}
    for table in SOURCED:
        if "id" not in table.types:
            continue  # curated readings keyed otherwise (periodes) are not lists of codes
        label = _quote((described.get(table.name) or {}).get("label_column") or "id")
        values = conn.execute(f"select id, {label} from {_quote(table.name)}").fetchall()  # noqa: S608 - model names
        result[table.name] = "\n".join(f"{v}{SEPARATOR}{lab}" for v, lab in sorted(values, key=lambda r: str(r[0])))
    return result


def dictionary_rows(conn, described: dict, computed: set[str]) -> tuple[list[dict], list[dict]]:
    """Rows of ``dictionnaire_tables`` and ``dictionnaire`` for every table of the database.

    ``described``: metadata.yml's tables (title, description, columns); ``computed``: the rollups."""
    names = [
        r[0]
        for r in conn.execute("select name from sqlite_master where type = 'table' order by name")
        if not INTERNAL.search(r[0])
    ]
    order = {name: i for i, name in enumerate(described)}
    names.sort(key=lambda n: (order.get(n, len(order)), n))
    codes = code_lists(conn, described)
    tables, columns = [], []
    for name in names:
        meta = described.get(name) or {}
        foreign = {fk[3]: fk[2] for fk in conn.execute(f"pragma foreign_key_list({_quote(name)})")}
        info = conn.execute(f"pragma table_info({_quote(name)})").fetchall()
        for cid, column, sql_type, _, _, pk in info:
            quoted = _quote(column)
            example = conn.execute(  # the smallest value: the same whatever the order of the rows
                f"select min({quoted}), typeof(min({quoted})) from {_quote(name)} "  # noqa: S608 - names from the database
                f"where {quoted} is not null and {quoted} not in ('', '[]')"
            ).fetchone()
            example = example if example[0] is not None else None
            sql_type = (sql_type or "").upper() or (TYPEOF.get(example[1], "") if example else "")
            array = ARRAYS.get((name, column)) or (ARRAY_KEYS.get(column) if name in computed else None)
            target = foreign.get(column) or array
            columns.append(
                {
                    "table": name,
                    "colonne": column,
                    "position": cid + 1,
                    "type": ARRAY if array else TYPES.get(sql_type, sql_type.lower() or UNKNOWN),
                    "type_sql": sql_type,
                    "cle_primaire": int(bool(pk)),
                    "description": (meta.get("columns") or {}).get(column, ""),
                    "exemple": shorten(example[0]) if example else "",
                    "renvoie_a": target,
                    "valeurs_permises": codes.get(target, "") if target else "",
                    "ordre": len(columns) + 1,
                }
            )
        tables.append(
            {
                "table": name,
                "titre": meta.get("title") or name,
                "description": meta.get("description") or "",
                "nature": "table calculée" if name in computed else "table",
                "lignes": conn.execute(f"select count(*) from {_quote(name)}").fetchone()[0],  # noqa: S608
                "nb_colonnes": len(info),
                "ordre": len(tables) + 1,
            }
        )
    # The dictionary describes itself: its own counts and examples are those of the rows just made.
    own = {TABLES: tables, COLUMNS: columns}
    for t in tables:
        if t["table"] in own:
            t["lignes"] = len(own[t["table"]])
    for c in columns:
        if c["table"] in own and own[c["table"]]:
            c["exemple"] = shorten(own[c["table"]][0][c["colonne"]])
    return tables, columns
