"""The API guide in French: /-/api.

Every example is a real address of this site, built here from the data (the
country and organisation named most often, an activity of that country, the
real token of the second page…), so the guide keeps working when the data
changes; tests/test_api_guide.py requests each example and checks it answers
with data. Canned queries appear only when their tables exist.
"""

import sqlite3
from urllib.parse import urlencode

from ciso.web import canned_queries, check_visible, metadata
from datasette import hookimpl
from datasette.utils.asgi import Response

DATABASE = "ciso"
SEARCH_WORD = "securite"
# Example parameters of each canned query (metadata.yml); {pays}, {organisation}, {plan} come from the data.
QUERY_PARAMS = {
    "activites_par_pays": {"pays": "{pays}"},
    "activites_par_organisation": {"organisation": "{organisation}"},
    "recherche": {"q": SEARCH_WORD},
    "texte_du_plan": {"plan": "{plan}", "debut": "1", "fin": "20"},
}


async def first(db, sql: str, params=None):
    row = (await db.execute(sql, params or {})).first()
    return row[0] if row else None


async def example_values(datasette) -> dict:
    db = datasette.get_database(DATABASE)
    pays = await first(
        db, "select pays_id from activites_pays group by pays_id order by count(*) desc, pays_id limit 1"
    )
    organisation = await first(
        db,
        "select organisation_id from activites_organisations group by organisation_id "
        "order by count(*) desc, organisation_id limit 1",
    )
    return {
        "pays": pays,
        "organisation": organisation,
        "plan": await first(db, "select max(id) from plans"),
        "activite": await first(
            db,
            "select a.id from activites a join activites_pays ap on ap.activite_id = a.id "
            "where ap.pays_id = :pays order by a.ordre limit 1",
            {"pays": pays},
        ),
        "action": await first(db, "select action_id from activites group by action_id order by count(*) desc limit 1"),
        "region": await first(
            db, "select region_id from statut_par_region group by region_id order by sum(nb_activites) desc limit 1"
        ),
    }


async def next_page_token(datasette, path: str) -> str | None:
    """The real ``next`` token of a table's first page, as Datasette computes it."""
    response = await datasette.client.get(path)
    return response.json().get("next") if response.status_code == 200 else None


async def runnable_queries(datasette, values: dict) -> list[dict]:
    """Canned queries whose tables exist, each with example parameters."""
    db = datasette.get_database(DATABASE)
    result = []
    for name, query in (await canned_queries(datasette, DATABASE)).items():
        params = {k: v.format(**values) for k, v in QUERY_PARAMS.get(name, {}).items()}
        for param in query.get("params") or []:
            params.setdefault(param, "")
        try:
            await db.execute_fn(lambda conn, sql=query["sql"], params=params: conn.execute("explain " + sql, params))
        except sqlite3.DatabaseError:
            continue  # a table it reads is not published yet
        shown = {k: v for k, v in params.items() if v}
        suffix = ("?" + urlencode(shown)) if shown else ""
        base = datasette.urls.query(DATABASE, name)
        result.append(
            {
                "nom": name,
                "titre": query.get("title") or name,
                "description": query.get("description") or "",
                "params": query.get("params") or [],
                "html": base + suffix,
                "json": base + ".json?" + urlencode({**shown, "_shape": "array"}),
                "csv": base + ".csv" + suffix,
            }
        )
    return result


async def guide_data(datasette, request) -> dict:
    v = await example_values(datasette)
    db = datasette.get_database(DATABASE)
    # The pages of elements: /-/progres/{their plan}/{their number}.
    v["action_page"] = await first(
        db, "select plan_id || '/' || numero from actions where id = :id", {"id": v["action"]}
    )
    v["activite_page"] = await first(
        db, "select plan_id || '/' || numero from activites where id = :id", {"id": v["activite"]}
    )
    v["action_numero"] = v["action_page"].split("/")[-1]
    v["activite_numero"] = v["activite_page"].split("/")[-1]
    t = datasette.urls.table
    db_url = datasette.urls.database(DATABASE)
    token = await next_page_token(datasette, t(DATABASE, "activites", format="json") + "?_size=20")
    sql_by_country = (
        "select p.nom as pays, count(*) as activites from activites_pays ap "
        "join pays p on p.id = ap.pays_id group by p.nom order by activites desc, p.nom"
    )
    sql_with_param = "select numero, texte, ligne from activites where action_id = :action order by ordre"
    paths = {
        "json": t(DATABASE, "activites", format="json"),
        "array": t(DATABASE, "activites", format="json") + "?_shape=array",
        "objects": t(DATABASE, "activites", format="json") + "?_shape=objects",
        "object": t(DATABASE, "pays", format="json") + "?_shape=object",
        "json_arrays": t(DATABASE, "activites", format="json") + "?_shape=array&_json=pays&_json=organisations",
        "labels": t(DATABASE, "activites", format="json") + "?_shape=array&_labels=on",
        "row": datasette.urls.row(DATABASE, "activites", v["activite"], format="json"),
        "csv": t(DATABASE, "activites", format="csv"),
        "csv_stream": t(DATABASE, "activites", format="csv") + "?_stream=on",
        "csv_dl": t(DATABASE, "statut_activites", format="csv") + "?_stream=on&_dl=1",
        "size": t(DATABASE, "activites", format="json") + "?_size=20",
        "next": t(DATABASE, "activites", format="json") + "?" + urlencode({"_size": 20, "_next": token}),
        "exact": t(DATABASE, "organisations", format="json") + "?" + urlencode({"pays_id__exact": v["pays"]}),
        "arraycontains": t(DATABASE, "activites", format="json")
        + "?"
        + urlencode({"pays__arraycontains": v["pays"], "_shape": "array"}),
        "startswith": t(DATABASE, "activites", format="json") + "?numero__startswith=2.1&_shape=array",
        "statut": t(DATABASE, "statut_activites", format="json") + "?statut_declare=conditionnel&_shape=array",
        "gte": t(DATABASE, "activites", format="json") + "?ligne__gte=150&_sort_desc=ligne&_shape=array",
        "col": t(DATABASE, "activites", format="json") + "?_col=numero&_col=texte&_shape=array",
        "facets": t(DATABASE, "activites", format="json") + "?_facet_array=pays&_size=0",
        "search_table": t(DATABASE, "activites", format="json") + f"?_search={SEARCH_WORD}&_shape=array",
        "search_site": datasette.urls.path("/-/recherche.json") + "?" + urlencode({"q": "protection sociale"}),
        "sql": db_url + ".json?" + urlencode({"sql": sql_by_country, "_shape": "array"}),
        "sql_param": db_url + ".json?" + urlencode({"sql": sql_with_param, "action": v["action"], "_shape": "array"}),
        "database": datasette.urls.path(f"/{DATABASE}.db"),
        "dictionary": t(DATABASE, "dictionnaire", format="csv") + "?_stream=on",
        "progress": datasette.urls.path("/-/progres.json"),
        # The pages of elements, countries, regions and organisations (progress_pages.py, places.py).
        "action_page": datasette.urls.path(f"/-/progres/{v['action_page']}.json"),
        "activite_page": datasette.urls.path(f"/-/progres/{v['activite_page']}.json"),
        "pays_index": datasette.urls.path("/-/pays.json"),
        "pays_page": datasette.urls.path(f"/-/pays/{v['pays']}.json"),
        "region_page": datasette.urls.path(f"/-/regions/{v['region']}.json"),
        "organisations_index": datasette.urls.path("/-/organisations.json"),
        "organisation_page": datasette.urls.path(f"/-/organisations/{v['organisation']}.json"),
        # Reusing elsewhere: feeds, catalogue, sitemap (plugins/feeds.py, plugins/findability.py).
        "feed": datasette.urls.path("/-/suivi.atom"),
        "feed_plan": datasette.urls.path(f"/-/suivi/{v['plan']}.atom"),
        "catalogue": datasette.urls.path("/-/catalogue.jsonld"),
        "catalogue_ttl": datasette.urls.path("/-/catalogue.ttl"),
        "sitemap": datasette.urls.path("/sitemap.xml"),
    }
    examples = {
        key: {"chemin": path, "url": datasette.absolute_url(request, path), "format": path_format(path)}
        for key, path in paths.items()
    }
    return {
        "exemples": examples,
        "requetes": await runnable_queries(datasette, v),
        "valeurs": v,
        "jeton": token,
        "sql_par_pays": sql_by_country,
        "sql_parametre": sql_with_param,
        "limite_temps": datasette.setting("sql_time_limit_ms"),
        "lignes_max": datasette.setting("max_returned_rows"),
        "taille_page": datasette.setting("default_page_size"),
        "mot": SEARCH_WORD,
        "licence": metadata(datasette, "license"),
        "licence_url": metadata(datasette, "license_url"),
    }


def path_format(path: str) -> str:
    base = path.split("?")[0]
    for fmt in ("json", "csv", "db", "atom", "jsonld", "ttl", "xml"):
        if base.endswith("." + fmt):
            return fmt
    return "html"


async def api_page(datasette, request):
    await check_visible(datasette, request)
    data = await guide_data(datasette, request)
    return Response.html(await datasette.render_template("api.html", data, request=request))


@hookimpl
def register_routes():
    return [(r"^/-/api$", api_page)]
