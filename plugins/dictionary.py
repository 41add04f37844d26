"""The data dictionary: /-/dictionnaire (HTML), /-/dictionnaire.csv and /-/dictionnaire.json.

Generated from the database itself (tables, views, PRAGMA table_info and
foreign keys, an example value read from each column) and from metadata.yml
(titles and descriptions), so it cannot drift from what is published.
Codes are the columns that point to a reference list (a table loaded from
data/reference/, as the sources table records): their allowed values are
listed with their labels.
"""

import csv
import io
import re
from pathlib import PurePosixPath

from ciso.web import check_visible
from datasette import hookimpl
from datasette.utils import escape_sqlite
from datasette.utils.asgi import Response

DATABASE = "ciso"
CSV_COLUMNS = ["table", "colonne", "type", "description", "exemple", "valeurs_permises"]
INTERNAL = re.compile(r"_fts($|_)|^sqlite_")
EXAMPLE_LENGTH = 120
TYPES = {"TEXT": "texte", "INTEGER": "entier", "REAL": "nombre décimal", "BLOB": "binaire"}
UNKNOWN = "indéterminé (aucune valeur pour l'instant)"  # a view's column that is always null
TYPEOF = {"text": "TEXT", "integer": "INTEGER", "real": "REAL", "blob": "BLOB"}


async def rows(db, sql, params=None):
    return [dict(r) for r in await db.execute(sql, params or {})]


def shorten(value) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= EXAMPLE_LENGTH else text[: EXAMPLE_LENGTH - 1].rstrip() + "…"


async def code_lists(db, tables_meta: dict) -> dict[str, list[dict]]:
    """{table: [{valeur, libelle}]} for each reference list loaded from data/reference/."""
    names = [
        PurePosixPath(r["fichier"]).stem
        for r in await rows(
            db, "select fichier from sources where type = :type order by fichier", {"type": "reference"}
        )
    ]
    existing = set(await db.table_names())
    result = {}
    for table in names:
        if table not in existing or "id" not in await db.table_columns(table):
            continue  # curated readings keyed otherwise (periodes) are not lists of codes
        label = (tables_meta.get(table) or {}).get("label_column") or "id"
        values = await rows(db, f"select id as valeur, {escape_sqlite(label)} as libelle from {escape_sqlite(table)}")
        result[table] = sorted(values, key=lambda v: str(v["valeur"]))
    return result


async def build_dictionary(datasette) -> list[dict]:
    db = datasette.get_database(DATABASE)
    tables_meta = datasette.metadata("tables", database=DATABASE) or {}
    objects = [
        r
        for r in await rows(
            db, "select name, type, sql from sqlite_master where type in ('table', 'view') order by name"
        )
        if not INTERNAL.search(r["name"])
    ]
    order = {name: i for i, name in enumerate(tables_meta)}
    objects.sort(key=lambda r: (order.get(r["name"], len(order)), r["name"]))
    codes = await code_lists(db, tables_meta)
    # Rollups are computed at build time into tables; their SQL is in the `calculs` table.
    computed = {}
    if "calculs" in await db.table_names():
        computed = {r["nom"]: r["sql"] for r in await rows(db, "select nom, sql from calculs")}
    for obj in objects:
        obj["sql"] = computed.get(obj["name"]) or obj["sql"]

    # Foreign keys of the tables; views take the target of the same column name in a table.
    foreign = {}
    for obj in objects:
        if obj["type"] == "table":
            for fk in await rows(db, "select * from pragma_foreign_key_list(:t)", {"t": obj["name"]}):
                foreign[(obj["name"], fk["from"])] = fk["table"]
    table_names = {o["name"] for o in objects if o["type"] == "table"}

    dictionary = []
    for obj in objects:
        name, kind = obj["name"], obj["type"]
        meta = tables_meta.get(name) or {}
        described = meta.get("columns") or {}
        count = (await rows(db, f"select count(*) as n from {escape_sqlite(name)}"))[0]["n"]
        columns = []
        for info in await rows(db, "select * from pragma_table_info(:t) order by cid", {"t": name}):
            column = info["name"]
            quoted = escape_sqlite(column)
            example = await rows(
                db,
                f"select {quoted} as valeur, typeof({quoted}) as genre from {escape_sqlite(name)} "
                f"where {quoted} is not null and {quoted} not in ('', '[]') limit 1",
            )
            value = example[0]["valeur"] if example else None
            sql_type = (info["type"] or "").upper() or (TYPEOF.get(example[0]["genre"], "") if example else "")
            target = foreign.get((name, column))
            if target is None and (kind == "view" or name in computed):
                # The target of a same-named foreign key in the tables the view reads.
                candidates = {
                    other
                    for (table, col), other in foreign.items()
                    if col == column and re.search(rf"\b{re.escape(table)}\b", obj["sql"] or "")
                }
                if len(candidates) == 1:
                    target = next(iter(candidates))
            array = (
                target is None
                and column in table_names
                and isinstance(value, str)
                and value.startswith("[")
                and column in codes
            )
            if array:
                target = column
            allowed = codes.get(target, []) if target else []
            columns.append(
                {
                    "colonne": column,
                    "type": "tableau JSON d'identifiants"
                    if array
                    else TYPES.get(sql_type, sql_type.lower() or UNKNOWN),
                    "type_sql": sql_type,
                    "cle_primaire": bool(info["pk"]),
                    "description": described.get(column, ""),
                    "exemple": shorten(value),
                    "renvoie_a": target,
                    "valeurs_permises": allowed,
                }
            )
        dictionary.append(
            {
                "table": name,
                "nature": "vue" if kind == "view" else ("table calculée" if name in computed else "table"),
                "titre": meta.get("title") or name,
                "description": meta.get("description") or "",
                "lignes": count,
                "colonnes": columns,
            }
        )
    return dictionary


async def dictionary_data(datasette) -> list[dict]:
    """Read once per Datasette instance: the database is immutable."""
    cached = getattr(datasette, "_ciso_dictionnaire", None)
    if cached is None:
        cached = datasette._ciso_dictionnaire = await build_dictionary(datasette)
    return cached


def allowed_text(column: dict) -> str:
    if column["valeurs_permises"]:
        return " ; ".join(f"{v['valeur']} : {v['libelle']}" for v in column["valeurs_permises"])
    if column["renvoie_a"]:
        return f"un identifiant de la table {column['renvoie_a']}"
    return ""


def as_csv(dictionary: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for table in dictionary:
        for c in table["colonnes"]:
            writer.writerow([table["table"], c["colonne"], c["type"], c["description"], c["exemple"], allowed_text(c)])
    return "\ufeff" + out.getvalue()  # BOM: Excel reads the file as UTF-8


async def dictionary_page(datasette, request):
    await check_visible(datasette, request)
    dictionary = await dictionary_data(datasette)
    fmt = request.url_vars.get("format")
    if fmt == ".json":
        return Response.json({"tables": dictionary})
    if fmt == ".csv":
        return Response(
            as_csv(dictionary),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="dictionnaire-ciso.csv"'},
        )
    for table in dictionary:
        for c in table["colonnes"]:
            c["permises"] = allowed_text(c) if not c["valeurs_permises"] else ""
    return Response.html(
        await datasette.render_template(
            "dictionnaire.html",
            {"tables": dictionary, "nb_colonnes": sum(len(t["colonnes"]) for t in dictionary)},
            request=request,
        )
    )


@hookimpl
def register_routes():
    return [(r"^/-/dictionnaire(?P<format>\.json|\.csv)?$", dictionary_page)]
