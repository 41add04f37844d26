"""One search box for everything: /-/recherche?q=… (HTML) and /-/recherche.json?q=… (JSON).

The page runs the canned query ``recherche`` of metadata.yml, so what the page
shows and what a journalist's query returns are the same rows; this module only
checks the words typed, groups the rows by table and labels them in French.
Each row says what it is (``nature``), the current status of an action or activity
(``statut``) and the path of its page on the site (``page``: an element's, a
country's, a region's or an organisation's page, not the raw row).
The query quotes every word for SQLite FTS5 (``"`` ``*`` ``-`` ``OR`` typed by
visitors are plain text), and the FTS5 indexes ignore accents and case.

A search that finds nothing suggests nearby terms: the names (countries, regions
and their aliases, organisations and acronyms, themes, titles) and the words of the
plans closest to what was typed, ignoring accents (difflib), kept only when they
find something themselves.
"""

import difflib
import re
import sqlite3
import unicodedata
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
WORDS = re.compile(r"\w[\w'’-]*\w|\w")
MAX_SUGGESTIONS = 5
# The names a visitor may have meant, and the texts whose words make the vocabulary (read once).
NAMES_SQL = """
select nom as nom from pays union select nom from regions
union select value from regions, json_each(regions.alias)
union select nom from organisations union select sigle from organisations where sigle is not null
union select nom from themes union select titre from objectifs union select titre from actions
"""
TEXTS_SQL = "select texte from activites union all select texte from passages"


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


def fold(text: str) -> str:
    """Lower case, without accents: « Amérique » -> « amerique »."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


async def vocabulary(datasette) -> dict:
    """{"noms": {folded name: name}, "mots": {folded word: word}}, read once per Datasette instance."""
    cached = getattr(datasette, "_ciso_vocabulaire", None)
    if cached is not None:
        return cached
    db = datasette.get_database(DATABASE)
    names = {fold(r[0]): r[0] for r in await db.execute(NAMES_SQL) if r[0]}
    words: dict[str, str] = {}
    for (text,) in list(await db.execute(TEXTS_SQL)) + [(n,) for n in names.values()]:
        for word in WORDS.findall(text or ""):
            if len(word) > 2:
                words.setdefault(fold(word), word.lower())
    datasette._ciso_vocabulaire = {"noms": names, "mots": words}
    return datasette._ciso_vocabulaire


async def suggestions(datasette, q: str) -> list[str]:
    """Nearby terms that find something: close names first, then the query with each word corrected."""
    known = await vocabulary(datasette)
    folded = fold(q)
    candidates = [known["noms"][n] for n in difflib.get_close_matches(folded, known["noms"], n=4, cutoff=0.6)]
    corrected = []
    for word in q.split():
        close = difflib.get_close_matches(fold(word), known["mots"], n=1, cutoff=0.7)
        corrected.append(known["mots"][close[0]] if close else word)
    candidates.append(" ".join(corrected))
    for word in q.split():  # a word alone, when several were typed
        close = difflib.get_close_matches(fold(word), known["mots"], n=1, cutoff=0.7)
        if close and len(q.split()) > 1:
            candidates.append(known["mots"][close[0]])
    result: list[str] = []
    for candidate in candidates:
        if fold(candidate) == folded or fold(candidate) in map(fold, result) or not WORD.search(candidate):
            continue
        try:
            if await search(datasette, normalize(candidate)):
                result.append(candidate)
        except SearchRefused:
            continue
        if len(result) == MAX_SUGGESTIONS:
            break
    return result


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
    message, groups, nearby = None, [], []
    if q:
        try:
            check(q)
            groups = group(datasette, await search(datasette, q))
            if not groups:
                nearby = await suggestions(datasette, q)
        except SearchRefused as refused:
            message = str(refused)
    elif as_json:
        message = "Paramètre q manquant : /-/recherche.json?q=mots"
    total = sum(g["nombre"] for g in groups)
    for g in groups:
        for row in g["resultats"]:
            row["href"] = datasette.urls.path(row["page"]) if row.get("page") else None
    proposed = [{"q": n, "href": datasette.urls.path("/-/recherche") + "?" + urlencode({"q": n})} for n in nearby]
    lists = {"pays": datasette.urls.path("/-/pays"), "themes": datasette.urls.table(DATABASE, "themes")}
    if as_json:
        if message:
            return Response.json({"ok": False, "q": q, "erreur": message}, status=400)
        return Response.json(
            {
                "ok": True,
                "q": q,
                "total": total,
                "requete": query_urls(datasette, q)["json"],
                "groupes": groups,
                **({"suggestions": proposed, "listes": lists} if not total else {}),
            }
        )
    for g in groups:
        for row in g["resultats"]:
            row["extrait_html"] = highlight(row["extrait"])
        g["lien_recherche"] = g["lien_table"] + "?" + urlencode({"_search": q})
    statuts = [dict(r) for r in await datasette.get_database(DATABASE).execute("select * from statuts")]
    return Response.html(
        await datasette.render_template(
            "recherche.html",
            {
                "q": q,
                "message": message,
                "groupes": groups,
                "total": total,
                "requete": query_urls(datasette, q),
                "suggestions": proposed,
                "listes": lists,
                "statuts": {st["id"]: st for st in statuts},
            },
            request=request,
        )
    )


@hookimpl
def register_routes():
    return [(r"^/-/recherche(?P<format>\.json)?$", search_page)]
