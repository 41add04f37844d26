"""The home page, ``/`` (templates/home.html): what CISO is, in the plan's own words, the public's two
doors (« Où travaille le CISO », « Où en est le plan »), what the site holds, its doors, then the databases.

Nothing about CISO is written here: the presentation is the first paragraph of the latest plan,
quoted with its line, and every number is counted in SQL. Everything the page shows is read once
per Datasette instance (the database is immutable), so a visit costs one template rendering.

This route replaces Datasette's index view for ``/`` (``/.json`` stays Datasette's): that view
checks permissions and reads the columns, keys and full-text index of every table on every
request (about 40 ms here), to list what the databases hold — which never changes.
"""

import sqlite3

from ciso.web import canned_queries, check_visible, is_staff_site, metadata
from datasette import hookimpl
from datasette.utils.asgi import Response

DATABASE = "ciso"
COUNTED = ("plans", "objectifs", "actions", "activites", "organisations", "pays", "instruments", "themes")
LISTED = 5  # tables and views named per database, as Datasette's index page does (TRUNCATE_AT)


async def runs(db, sql: str, params: list) -> bool:
    """False while a table the query reads is not published yet."""
    try:
        await db.execute_fn(lambda conn: conn.execute("explain " + sql, dict.fromkeys(params, "")))
        return True
    except sqlite3.DatabaseError:
        return False


async def database_summary(datasette, name: str, db) -> dict:
    """What Datasette's index page says of a database: its tables (with their rows), hidden tables,
    views, and the five biggest tables (then views) by row count."""
    hidden = set(await db.hidden_table_names())
    views = [{"name": v} for v in await db.view_names()]
    counts = await db.table_counts(10)
    counted = not any(v is None for v in counts.values())
    tables = [{"name": t, "count": counts.get(t) if counted else None} for t in await db.table_names()]
    shown = [t for t in tables if t["name"] not in hidden]
    listed = sorted(shown, key=lambda t: (t["count"] or 0, t["name"]), reverse=True)[:LISTED]
    listed += views[: LISTED - len(listed)]
    return {
        "name": name,
        "tables_count": len(shown),
        "table_rows_sum": sum(t["count"] or 0 for t in shown),
        "hidden_tables_count": len(tables) - len(shown),
        "hidden_table_rows_sum": sum(t["count"] or 0 for t in tables if t["name"] in hidden),
        "show_table_row_counts": counted,
        "views_count": len(views),
        "tables_and_views_truncated": listed,
        "tables_and_views_more": len(shown) + len(views) > LISTED,
    }


async def public_doors(db) -> dict:
    """The public's two doors: where CISO works (partner countries, regions with activities) and how far
    the latest plan has got (its counts by status, table avancement_plans)."""
    from .progress_pages import bar_label, segments, statuses

    countries = [dict(r) for r in await db.execute("select pays_id, nom, nb_activites_travail from pays_partenaires")]
    regions = [
        dict(r)
        for r in await db.execute(
            "select r.id, r.nom, sum(s.nb_activites) as nb_activites from regions r "
            "join statut_par_region s on s.region_id = r.id where r.niveau != :niveau group by r.id order by r.nom",
            {"niveau": "region"},
        )
    ]
    plan = (await db.execute("select * from avancement_plans order by plan_id desc limit 1")).first()
    progress = None
    if plan:
        statuts = await statuses(db)
        progress = {
            **dict(plan),
            "segments": segments(dict(plan), statuts),
            "etiquette": bar_label(dict(plan), statuts),
        }
    return {"pays": countries, "regions": regions, "avancement": progress}


async def home_data(datasette) -> dict:
    """Read once per Datasette instance: the database is immutable."""
    cached = getattr(datasette, "_ciso_accueil", None)
    if cached is not None:
        return cached
    data = {"presentation": None, "chiffres": {}, "requetes": [], "conditionnelles": None, "bases": [], "public": None}
    for name, db in datasette.databases.items():
        if name != "_internal" and not db.is_memory:
            data["bases"].append(await database_summary(datasette, name, db))
    if DATABASE not in datasette.databases:
        datasette._ciso_accueil = data
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
    if {"pays_partenaires", "regions", "avancement_plans"} <= existing:
        data["public"] = await public_doors(db)
    if "statut_activites" in existing | set(await db.view_names()):
        n = (
            await db.execute(
                "select count(*) from statut_activites where statut_declare = :statut", {"statut": "conditionnel"}
            )
        ).first()[0]
        data["conditionnelles"] = {
            "nombre": n,
            "href": datasette.urls.table(DATABASE, "statut_activites") + "?statut_declare=conditionnel#facet-pays",
        }
    for name, query in (await canned_queries(datasette, DATABASE)).items():
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


async def home(datasette, request):
    await check_visible(datasette, request)
    # Datasette's index JSON (/.json) stays the page's data, announced as Datasette's pages do.
    json_url = datasette.absolute_url(request, datasette.urls.path("/.json"))
    context = {
        "accueil": await home_data(datasette),
        "metadata": metadata(datasette),
        "private": is_staff_site(datasette),
        "alternate_url_json": json_url,
    }
    html = await datasette.render_template("home.html", context, request=request, view_name="index")
    return Response.html(html, headers={"Link": f'{json_url}; rel="alternate"; type="application/json+datasette"'})


@hookimpl
def register_routes():
    return [(r"^/$", home)]
