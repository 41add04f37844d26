"""The home page (templates/index.html): what CISO is, in the plan's own words, what the site holds, its doors.

Nothing about CISO is written here: the presentation is the first paragraph of
the latest plan, quoted with its line, and every number is counted in SQL.
"""

import sqlite3

from datasette import hookimpl

DATABASE = "ciso"
COUNTED = ("plans", "objectifs", "actions", "activites", "organisations", "pays", "instruments", "themes")


async def runs(db, sql: str, params: list) -> bool:
    """False while a table the query reads is not published yet."""
    try:
        await db.execute_fn(lambda conn: conn.execute("explain " + sql, dict.fromkeys(params, "")))
        return True
    except sqlite3.DatabaseError:
        return False


async def home_data(datasette) -> dict:
    """Read once per Datasette instance: the database is immutable."""
    cached = getattr(datasette, "_ciso_accueil", None)
    if cached is not None:
        return cached
    data = {"presentation": None, "chiffres": {}, "requetes": [], "conditionnelles": None}
    if DATABASE not in datasette.databases:
        return data
    db = datasette.get_database(DATABASE)
    existing = set(await db.table_names())
    counts = ", ".join(f"(select count(*) from [{t}]) as [{t}]" for t in COUNTED if t in existing)
    if counts:
        data["chiffres"] = dict((await db.execute(f"select {counts}")).first())
    if {"passages", "plans"} <= existing:
        row = (
            await db.execute(
                "select texte, texte_markup, plan_id, ligne_debut from passages "
                "where plan_id = (select max(id) from plans) and type = :type order by ligne_debut limit 1",
                {"type": "paragraphe"},
            )
        ).first()
        data["presentation"] = dict(row) if row else None
    if "statut_activites" in set(await db.table_names()) | set(await db.view_names()):
        n = (
            await db.execute(
                "select count(*) from statut_activites where statut_declare = :statut", {"statut": "conditionnel"}
            )
        ).first()[0]
        data["conditionnelles"] = {
            "nombre": n,
            "href": datasette.urls.table(DATABASE, "statut_activites") + "?statut_declare=conditionnel#facet-pays",
        }
    for name, query in (await datasette.get_canned_queries(DATABASE, None)).items():
        if await runs(db, query["sql"], query.get("params") or []):
            data["requetes"].append(
                {
                    "titre": query.get("title") or name,
                    "description": query.get("description") or "",
                    "href": datasette.urls.query(DATABASE, name),
                }
            )
    datasette._ciso_accueil = data
    return data


@hookimpl
def extra_template_vars(template, datasette):
    if template != "index.html":
        return None

    async def inner():
        return {"accueil": await home_data(datasette)}

    return inner
