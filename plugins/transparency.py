"""Transparency: /-/transparence and its sections (the downloads page is plugins/downloads.py).

/-/transparence is an overview that fits a screen: key figures, the map and a chart of funding by
status, each section summed up in a few lines. Each section has its own page with its full tables
(/-/transparence/{section}, SECTIONS below), and each page its JSON (``.json``).

Every figure and list is computed at build time into tables (``transparence_chiffres``,
``transparence_listes``, ``transparence_iati``: ciso/rollups.py, SQL in the ``calculs`` table), so a
page makes at most two queries and a journalist reads the same numbers. Every figure links to the
table (or filtered table) whose row count it is, so a reader can check it; every curated statement
links to its line of the plan (/-/source/{plan}#L{ligne}). Charts are Vega-Lite spec files
(static/charts/) whose data is the JSON of a table; a table gives the same numbers without JavaScript.
"""

import json
from pathlib import Path
from urllib.parse import urlencode

from ciso.iati import ENV_IDENTIFIER, ENV_SITE, PLACEHOLDER_IDENTIFIER, PLACEHOLDER_SITE, codelist
from ciso.iati import FILE_NAME as IATI_FILE
from ciso.site import DOWNLOADS
from ciso.web import check_visible, downloads_dir, static_url
from ciso.web import page_rows as rows  # our fixed queries, outside the limit on visitors' SQL
from datasette import hookimpl
from datasette.utils.asgi import NotFound, Response

DATABASE = "ciso"
MAP_SPEC = "charts/carte-pays.vl.json"
FUNDING_SPEC = "charts/financements-statuts.vl.json"
FIGURES_SQL = "select cle, section, libelle, valeur, table_source, filtres from transparence_chiffres order by ordre"
# The lists a section shows (names of transparence_listes / transparence_iati, in a JSON array), and
# the build's date and version (table construction), which the rollups leave out.
LISTS_SQL = """select liste, rang, objet from (
    select liste, rang, objet from transparence_listes union all
    select liste, rang, objet from transparence_iati union all
    select 'construction' as liste, rowid as rang, json_object('cle', cle, 'valeur', valeur) as objet from construction
) where liste in (select value from json_each(:listes)) order by liste, rang"""
# Each section: its slug (URL), title, and the lists its page shows, in page order.
SECTIONS = {
    "financement": ("Financement", ("financements",)),
    "partenaires": ("Partenaires et pays", ("partenariats", "pays_partenaires", "autres_pays")),
    "plaidoyer": ("Positions de plaidoyer", ("positions",)),
    "gouvernance": ("Équipe et gouvernance", ("equipe", "instances")),
    "iati": (
        "Norme IATI et auto-évaluation",
        (
            "plans", "iati_criteres", "iati_secteurs", "iati_non_classees", "iati_avertissements",
            "iati_repartitions", "iati_statuts", "iati_parametres",
        ),
    ),
    "sources": ("Sources et méthode", ("sources", "plans", "construction", "regles_lecture")),
}  # fmt: skip


def figure(datasette, value: int, table: str, **filters) -> dict:
    """A number and the table view whose row count it is."""
    href = datasette.urls.table(DATABASE, table)
    if filters:
        href += "?" + urlencode(filters)
    return {"valeur": value, "href": href}


def stored_figure(datasette, row: dict) -> dict:
    """A figure of transparence_chiffres: its value, label, section, and the rows it counts."""
    return {
        **figure(datasette, row["valeur"], row["table_source"], **json.loads(row["filtres"])),
        "libelle": row["libelle"],
        "section": row["section"],
    }


async def stored_figures(datasette, db) -> dict[str, dict]:
    return {r["cle"]: stored_figure(datasette, r) for r in await rows(db, FIGURES_SQL)}


def grouped(stored: dict, prefix: str, key: str) -> list[dict]:
    """The figures whose key starts with ``prefix`` (one per status, role…), ``key`` set to the rest."""
    return [{**f, key: k[len(prefix) :]} for k, f in stored.items() if k.startswith(prefix)]


def figures_of(stored: dict) -> dict:
    """The named figures every page uses, and the grouped ones."""
    figures = {k: f for k, f in stored.items() if "." not in k}
    figures["statuts"] = grouped(stored, "financements.", "statut")
    figures["roles"] = grouped(stored, "partenariats.", "id")
    figures["corrections"] = grouped(stored, "corrections.", "operation")
    for key in ("activites", "regles", "erreurs", "avertissements"):
        figures["iati_" + key] = stored["iati." + key]
    return figures


def sections_nav(datasette) -> list[dict]:
    return [
        {"id": slug, "titre": title, "href": datasette.urls.path(f"/-/transparence/{slug}")}
        for slug, (title, _) in SECTIONS.items()
    ]


def charts(datasette) -> dict:
    root = datasette.urls.path("/")
    return {
        "carte": {"spec": static_url(datasette, MAP_SPEC), "racine": root},
        "graphique_financements": {"spec": static_url(datasette, FUNDING_SPEC), "racine": root},
    }


def as_json(context: dict) -> Response:
    """A page's data as JSON: what the template receives, without the functions."""
    return Response.json({k: v for k, v in context.items() if not callable(v)}, default=str)


async def transparency_page(datasette, request):
    """The overview: one query, the stored figures (rollups.py, SQL in the table calculs)."""
    await check_visible(datasette, request)
    db = datasette.get_database(DATABASE)
    stored = await stored_figures(datasette, db)
    context = {"chiffres": figures_of(stored), "sections": sections_nav(datasette)}
    if request.url_vars.get("format") == ".json":
        return as_json(context)
    return Response.html(
        await datasette.render_template(
            "transparency.html", {**context, **charts(datasette), "graphiques": True}, request=request
        )
    )


async def transparency_section(datasette, request):
    """One section's full tables: two queries, the stored figures and the section's stored lists."""
    await check_visible(datasette, request)
    slug = request.url_vars["section"]
    if slug not in SECTIONS:
        raise NotFound(f"Aucune section « {slug} » dans la page Transparence ; les sections : {', '.join(SECTIONS)}.")
    title, names = SECTIONS[slug]
    db = datasette.get_database(DATABASE)
    stored = await stored_figures(datasette, db)
    lists: dict[str, list[dict]] = {name: [] for name in names}
    for r in await rows(db, LISTS_SQL, {"listes": json.dumps(names)}):
        lists[r["liste"]].append(json.loads(r["objet"]))
    context = {"section": slug, "titre": title, "chiffres": figures_of(stored), **lists}
    if slug == "partenaires":
        for c in lists["pays_partenaires"]:
            c["figure"] = figure(
                datasette, c["nb_activites_travail"], "activites_pays", pays_id=c["pays_id"], nature="travail"
            )
        for c in lists["pays_partenaires"] + lists["autres_pays"]:
            c["figure_toutes"] = figure(datasette, c["nb_activites"], "activites_pays", pays_id=c["pays_id"])
    if slug == "iati":
        context["iati"] = iati_section(datasette, stored, lists)
    if slug == "sources":
        context["construction"] = {r["cle"]: r["valeur"] for r in lists["construction"]}
    if request.url_vars.get("format") == ".json":
        return as_json(context)
    return Response.html(
        await datasette.render_template(
            "transparency_section.html",
            {**context, **charts(datasette), "sections": sections_nav(datasette), "graphiques": slug == "partenaires"},
            request=request,
        )
    )


def iati_section(datasette, stored: dict, lists: dict) -> dict:
    """The IATI file and the self-assessment of the latest plan (the others are one link away):
    every figure is a row count or a row of a computed table."""
    latest = lists["plans"][-1]["id"] if lists["plans"] else None
    plans: dict[str, list[dict]] = {}
    for c in lists["iati_criteres"]:
        c["remplies"] = figure(
            datasette, c["nb_actions_remplies"], "iati_activites", plan_id=c["plan_id"], **{c["colonne"]: 1}
        )
        c["total"] = figure(datasette, c["nb_actions"], "iati_activites", plan_id=c["plan_id"])
        c["part_href"] = (
            datasette.urls.table(DATABASE, "auto_evaluation_iati")
            + "?"
            + urlencode({"plan_id": c["plan_id"], "critere": c["critere"]})
        )
        plans.setdefault(c["plan_id"], []).append(c)
    for s in lists["iati_secteurs"]:
        s["figure"] = figure(datasette, len(s["numeros"]), "secteurs_actions", secteur_id=s["id"])
    warnings = lists["iati_avertissements"]
    for w in warnings:
        w["figure"] = figure(datasette, w["nb_constats"], "controles_iati", regle_id=w["id"])
    statuses = lists["iati_statuts"]
    for status in statuses:
        status["iati_libelle"] = codelist("ActivityStatus").get(str(status["code_iati"]), {}).get("fr")
    settings = {r["cle"]: r for r in lists["iati_parametres"]}
    folder = downloads_dir(datasette)
    return {
        "plans": plans,
        "regles": stored["iati.regles"],
        "erreurs": stored["iati.erreurs"],
        "avertissements": warnings,
        "avertissements_total": stored["iati.avertissements"],
        "repartitions": lists["iati_repartitions"],
        "secteurs": lists["iati_secteurs"],
        "non_classees": lists["iati_non_classees"],
        "non_classees_figure": stored["iati.non_classees"],
        "plan_courant": latest,
        "autres_plans": stored["plans"]["valeur"] - 1,
        "parametres": settings,
        "statuts": statuses,
        "activites": stored["iati.activites"],
        "fichier": {
            "href": datasette.urls.path(f"/{DOWNLOADS}/{IATI_FILE}"),
            "octets": size_of(folder and folder / IATI_FILE),
        },
        "identifiant": (settings.get("identifiant_organisation") or {}).get("valeur"),
        "adresse_site": (settings.get("adresse_site") or {}).get("valeur"),
        "provisoire": {"identifiant": PLACEHOLDER_IDENTIFIER, "adresse": PLACEHOLDER_SITE},
        "variables": {"identifiant": ENV_IDENTIFIER, "adresse": ENV_SITE},
    }


def size_of(path: Path | None) -> int | None:
    return path.stat().st_size if path is not None and path.exists() else None


@hookimpl
def register_routes():
    return [
        (r"^/-/transparence(?P<format>\.json)?$", transparency_page),
        (r"^/-/transparence/(?P<section>[^/]+?)(?P<format>\.json)?$", transparency_section),
    ]
