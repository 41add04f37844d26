"""Transparency: /-/transparence (the downloads page is plugins/downloads.py).

Every figure and list of /-/transparence is computed at build time into tables
(``transparence_chiffres``, ``transparence_listes``, ``transparence_iati``: ciso/rollups.py, SQL
in the ``calculs`` table), so the page makes two queries and a journalist reads the same numbers. Every figure links
to the table (or filtered table) whose row count it is, so a reader can check it; every
curated statement links to its line of the plan (/-/source/{plan}#L{ligne}). The map is a
Vega-Lite spec file (static/charts/carte-pays.vl.json) whose data is the JSON of the
``pays_partenaires`` table; the table under it gives the same numbers without JavaScript.
"""

import json
from pathlib import Path
from urllib.parse import urlencode

from ciso.iati import ENV_IDENTIFIER, ENV_SITE, PLACEHOLDER_IDENTIFIER, PLACEHOLDER_SITE, codelist
from ciso.iati import FILE_NAME as IATI_FILE
from ciso.rollups import LISTS
from ciso.site import DOWNLOADS
from ciso.web import check_visible, downloads_dir, static_url
from datasette import hookimpl
from datasette.utils.asgi import Response

DATABASE = "ciso"
MAP_SPEC = "charts/carte-pays.vl.json"
FIGURES_SQL = "select cle, libelle, valeur, table_source, filtres from transparence_chiffres order by ordre"
LISTS_SQL = (  # the build's date and version too (table construction), which the rollups leave out
    "select liste, rang, objet from transparence_listes union all "
    "select liste, rang, objet from transparence_iati union all "
    "select 'construction', rowid, json_object('cle', cle, 'valeur', valeur) from construction order by liste, rang"
)


async def rows(db, sql, params=None):
    return [dict(r) for r in await db.execute(sql, params or {})]


def figure(datasette, value: int, table: str, **filters) -> dict:
    """A number and the table view whose row count it is."""
    href = datasette.urls.table(DATABASE, table)
    if filters:
        href += "?" + urlencode(filters)
    return {"valeur": value, "href": href}


def stored_figure(datasette, row: dict) -> dict:
    """A figure of transparence_chiffres: its value, label, and the rows it counts."""
    return {
        **figure(datasette, row["valeur"], row["table_source"], **json.loads(row["filtres"])),
        "libelle": row["libelle"],
    }


async def transparency_page(datasette, request):
    """Two queries: the figures and the lists, computed at build time (rollups.py, SQL in the table calculs)."""
    await check_visible(datasette, request)
    db = datasette.get_database(DATABASE)
    stored = {r["cle"]: stored_figure(datasette, r) for r in await rows(db, FIGURES_SQL)}
    lists: dict[str, list[dict]] = {name: [] for name in (*LISTS, "construction")}
    for r in await rows(db, LISTS_SQL):
        lists[r["liste"]].append(json.loads(r["objet"]))

    def grouped(prefix: str, key: str) -> list[dict]:
        return [{**f, key: k[len(prefix) :]} for k, f in stored.items() if k.startswith(prefix)]

    figures = {
        name: stored[name]
        for name in (
            "financements", "partenariats", "organisations", "pays_partenaires", "autres_pays", "pays",
            "positions", "equipe", "instances", "sources",
        )
    }  # fmt: skip
    figures["statuts"] = grouped("financements.", "statut")
    figures["roles"] = grouped("partenariats.", "id")
    for c in lists["pays_partenaires"]:
        c["figure"] = figure(
            datasette, c["nb_activites_travail"], "activites_pays", pays_id=c["pays_id"], nature="travail"
        )
    for c in lists["pays_partenaires"] + lists["autres_pays"]:
        c["figure_toutes"] = figure(datasette, c["nb_activites"], "activites_pays", pays_id=c["pays_id"])
    return Response.html(
        await datasette.render_template(
            "transparency.html",
            {
                "financements": lists["financements"],
                "partenariats": lists["partenariats"],
                "pays": lists["pays_partenaires"],
                "autres_pays": lists["autres_pays"],
                "positions": lists["positions"],
                "equipe": lists["equipe"],
                "instances": lists["instances"],
                "sources": lists["sources"],
                "construction": {r["cle"]: r["valeur"] for r in lists["construction"]},
                "plans": lists["plans"],
                "chiffres": figures,
                "carte": {
                    "spec": static_url(datasette, MAP_SPEC),
                    "racine": datasette.urls.path("/"),
                },
                "graphiques": True,
                "iati": iati_section(datasette, stored, lists),
                "lectures": lists["regles_lecture"],
                "corrections": grouped("corrections.", "operation"),
            },
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
        (r"^/-/transparence$", transparency_page),
    ]
