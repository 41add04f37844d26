"""One search box for everything: /-/recherche?q=… (HTML) and /-/recherche.json?q=… (JSON).

The page runs the canned query ``recherche`` of metadata.yml, so what the page
shows and what a journalist's query returns are the same rows; this module only
checks the words typed, groups the rows by table and labels them in French.
The query quotes every word for SQLite FTS5 (``"`` ``*`` ``-`` ``OR`` typed by
visitors are plain text), and the FTS5 indexes ignore accents and case.
"""

import re
import sqlite3
from urllib.parse import urlencode

from ciso.markup import highlight
from ciso.web import canned_query, check_visible, tables_metadata
from datasette import hookimpl
from datasette.database import QueryInterrupted
from datasette.utils.asgi import Response

DATABASE = "ciso"
QUERY = "recherche"
MAX_LENGTH = 200
WORD = re.compile(r"\w")


class SearchRefused(Exception):
    """A query that cannot be searched; the message is shown to the visitor."""


def normalize(q: str | None) -> str:
    """Single spaces between words: the canned query splits words on spaces."""
    return " ".join((q or "").split())


def check(q: str) -> None:
    if len(q) > MAX_LENGTH:
        raise SearchRefused(f"La recherche est trop longue : {MAX_LENGTH} caractères au plus.")
    if not WORD.search(q):
        raise SearchRefused(
            "Saisissez au moins un mot : les signes seuls (guillemets, astérisques, tirets…) ne sont pas cherchés."
        )


async def search(datasette, q: str) -> list[dict]:
    """Rows of the canned query, as dicts, in its order (table, then relevance)."""
    query = await canned_query(datasette, DATABASE, QUERY)
    db = datasette.get_database(DATABASE)
    try:
        results = await db.execute(query["sql"], {"q": q})
    except QueryInterrupted:
        raise SearchRefused("La recherche a pris trop de temps ; essayez des mots plus précis.") from None
    except sqlite3.DatabaseError:
        raise SearchRefused("Cette recherche n'a pas pu être faite ; essayez d'autres mots.") from None
    return [dict(r) for r in results]


def group(datasette, rows: list[dict]) -> list[dict]:
    tables = tables_metadata(datasette, DATABASE)
    groups: dict[str, dict] = {}
    for row in rows:
        table = row["table_source"]
        if table not in groups:
            groups[table] = {
                "table": table,
                "titre": (tables.get(table) or {}).get("title") or table,
                "lien_table": datasette.urls.table(DATABASE, table),
                "resultats": [],
            }
        groups[table]["resultats"].append(row)
    for g in groups.values():
        g["nombre"] = len(g["resultats"])
    return list(groups.values())


def query_urls(datasette, q: str) -> dict:
    base = datasette.urls.query(DATABASE, QUERY)
    return {
        "html": base + "?" + urlencode({"q": q}),
        "json": base + ".json?" + urlencode({"q": q, "_shape": "array"}),
        "csv": base + ".csv?" + urlencode({"q": q}),
    }


async def search_page(datasette, request):
    await check_visible(datasette, request)
    q = normalize(request.args.get("q"))
    as_json = request.url_vars.get("format") == ".json"
    message, groups = None, []
    if q:
        try:
            check(q)
            groups = group(datasette, await search(datasette, q))
        except SearchRefused as refused:
            message = str(refused)
    elif as_json:
        message = "Paramètre q manquant : /-/recherche.json?q=mots"
    total = sum(g["nombre"] for g in groups)
    if as_json:
        if message:
            return Response.json({"ok": False, "q": q, "erreur": message}, status=400)
        return Response.json(
            {"ok": True, "q": q, "total": total, "requete": query_urls(datasette, q)["json"], "groupes": groups}
        )
    for g in groups:
        for row in g["resultats"]:
            row["extrait_html"] = highlight(row["extrait"])
            row["href"] = datasette.urls.row(DATABASE, row["table_source"], row["id"])
        g["lien_recherche"] = g["lien_table"] + "?" + urlencode({"_search": q})
    return Response.html(
        await datasette.render_template(
            "recherche.html",
            {"q": q, "message": message, "groupes": groups, "total": total, "requete": query_urls(datasette, q)},
            request=request,
        )
    )


@hookimpl
def register_routes():
    return [(r"^/-/recherche(?P<format>\.json)?$", search_page)]
