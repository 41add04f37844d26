"""Transparency and downloads: /-/transparence and /-/telechargements.

Every figure on these pages comes from a query below and links to the table
(or filtered table) whose row count it is, so a reader can check it; every
curated statement links to its line of the plan (/-/source/{plan}#L{ligne}).
"""

import json
from pathlib import Path
from urllib.parse import urlencode

from ciso.iati import ENV_IDENTIFIER, ENV_SITE, PLACEHOLDER_IDENTIFIER, PLACEHOLDER_SITE, codelist
from ciso.iati import FILE_NAME as IATI_FILE
from ciso.schema import TABLES
from ciso.site import DOWNLOADS
from ciso.web import check_visible, downloads_dir, json_for_script, static_url
from datasette import hookimpl
from datasette.utils.asgi import Response

DATABASE = "ciso"
EXCLUDED_DOWNLOADS = {"construction"}


async def rows(db, sql, params=None):
    return [dict(r) for r in await db.execute(sql, params or {})]


def figure(datasette, value: int, table: str, **filters) -> dict:
    """A number and the table view whose row count it is."""
    href = datasette.urls.table(DATABASE, table)
    if filters:
        href += "?" + urlencode(filters)
    return {"valeur": value, "href": href}


def map_spec(datasette, countries: list[dict]) -> dict:
    """Vega-Lite world map: the countries where CISO works or has partners (pays_partenaires), coloured by
    the number of activities that take place there or with partners there."""
    values = [
        {
            "code": c["code_numerique"],
            "pays": c["nom"],
            "activites": c["nb_activites_travail"],
            "partenariats": c["nb_partenariats"],
            "organisations": c["nb_organisations"],
        }
        for c in countries
    ]
    topo = {
        "url": static_url(datasette, "vendor/countries-110m.json"),
        "format": {"type": "topojson", "feature": "countries"},
    }
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
        "description": "Pays où le CISO travaille ou a des partenaires, selon le nombre d'activités qui s'y déroulent",
        "width": "container",
        "height": 340,
        "autosize": {"type": "fit-x", "contains": "padding"},
        "projection": {"type": "equalEarth"},
        "layer": [
            {"data": topo, "mark": {"type": "geoshape", "fill": "#e3e3e3", "stroke": "#ffffff", "strokeWidth": 0.5}},
            {
                "data": topo,
                "transform": [
                    {
                        "lookup": "id",
                        "from": {
                            "data": {"values": values},
                            "key": "code",
                            "fields": ["pays", "activites", "partenariats", "organisations"],
                        },
                    },
                    {"filter": "datum.pays != null"},
                ],
                "mark": {"type": "geoshape", "stroke": "#ffffff", "strokeWidth": 0.5},
                "encoding": {
                    "color": {
                        "field": "activites",
                        "type": "quantitative",
                        "title": "Activités",
                        "scale": {"scheme": "blues", "domainMin": 0},
                    },
                    "tooltip": [
                        {"field": "pays", "title": "Pays"},
                        {"field": "activites", "title": "Activités sur place ou avec des partenaires"},
                        {"field": "partenariats", "title": "Partenariats"},
                        {"field": "organisations", "title": "Organisations établies"},
                    ],
                },
            },
        ],
        "config": {"font": "Helvetica, Arial, sans-serif", "view": {"stroke": None}},
    }


async def transparency_page(datasette, request):
    await check_visible(datasette, request)
    db = datasette.get_database(DATABASE)
    funding = await rows(
        db,
        """select f.*, o.nom as organisation_nom, st.libelle as statut_libelle, r.nom as remplace_par_nom
        from financements f
        left join organisations o on o.id = f.organisation_id
        join statuts_financement st on st.id = f.statut
        left join financements r on r.id = f.remplace_par
        order by st.ordre, f.nom""",
    )
    by_status = await rows(db, "select * from financements_par_statut")
    partnerships = await rows(
        db,
        """select pa.*, o.nom as organisation_nom, o.sigle, o.pays_id, p.nom as pays_nom, r.libelle as role_libelle
        from partenariats pa
        join organisations o on o.id = pa.organisation_id
        left join pays p on p.id = o.pays_id
        join roles_partenariat r on r.id = pa.role
        order by r.id, o.nom""",
    )
    roles = await rows(
        db,
        """select r.id, r.libelle, count(pa.id) as nombre from roles_partenariat r
        left join partenariats pa on pa.role = r.id group by r.id order by r.libelle""",
    )
    countries = await rows(db, "select * from pays_partenaires")
    others = await rows(db, "select * from autres_pays")
    positions = await rows(db, "select * from positions order by rowid")
    instruments = {r["id"]: r for r in await rows(db, "select id, titre, titre_court, url from instruments")}
    actions = {
        r["id"]: r
        for r in await rows(
            db,
            """select id, numero, titre, titre_markup, plan_id, objectif_id from actions where id in (
                select action_id from positions_actions union select action_id from financements_actions
                union select action_id from partenariats_actions)""",
        )
    }
    objectives = {
        r["id"]: r["numero"]
        for r in await rows(
            db,
            "select id, numero from objectifs where id in (select objectif_id from actions where id in "
            "(select action_id from positions_actions))",
        )
    }
    country_names = {c["pays_id"]: c["nom"] for c in countries + others}
    for p in positions:
        p["instruments"] = [instruments[i] for i in json.loads(p["instruments"])]
        p["actions"] = [
            {**actions[a], "objectif": objectives[actions[a]["objectif_id"]]} for a in json.loads(p["actions"])
        ]
        p["pays"] = [{"id": c, "nom": country_names.get(c, c)} for c in json.loads(p["pays"])]
    for item in funding + partnerships:
        item["actions"] = [actions[a] for a in json.loads(item["actions"])]
    readings = await rows(db, "select * from regles_lecture order by ordre")
    corrections = await rows(
        db, "select operation, count(*) as nombre from corrections_liens group by operation order by operation"
    )
    for c in corrections:
        c.update(figure(datasette, c["nombre"], "corrections_liens", operation=c["operation"]))
    team = await rows(db, "select * from equipe order by rowid")
    bodies = await rows(db, "select * from instances order by type desc, rowid")
    # Every reference file, and the files of the five latest plans (all of them are in the sources table).
    sources = await rows(
        db,
        """select * from sources where type != 'plan'
            or plan_id in (select id from plans order by id desc limit 5) order by type, fichier""",
    )
    source_count = (await rows(db, "select count(*) as n from sources"))[0]["n"]
    built = {r["cle"]: r["valeur"] for r in await rows(db, "select cle, valeur from construction")}
    plans = await rows(db, "select id, titre, fichier, sha256 from plans order by id")
    organisations = (await rows(db, "select count(*) as n from organisations where id != 'ciso'"))[0]["n"]
    figures = {
        "financements": figure(datasette, len(funding), "financements"),
        "statuts": [{**s, **figure(datasette, s["nombre"], "financements", statut=s["statut"])} for s in by_status],
        "partenariats": figure(datasette, len(partnerships), "partenariats"),
        "roles": [{**r, **figure(datasette, r["nombre"], "partenariats", role=r["id"])} for r in roles if r["nombre"]],
        "organisations": figure(datasette, organisations, "organisations", id__not="ciso"),
        "pays_partenaires": figure(datasette, len(countries), "pays_partenaires"),
        "autres_pays": figure(datasette, len(others), "autres_pays"),
        "pays": figure(datasette, len(countries) + len(others), "pays"),
        "positions": figure(datasette, len(positions), "positions"),
        "equipe": figure(datasette, len(team), "equipe"),
        "instances": figure(datasette, len(bodies), "instances"),
        "sources": figure(datasette, source_count, "sources"),
    }
    for c in countries:
        c["figure"] = figure(
            datasette, c["nb_activites_travail"], "activites_pays", pays_id=c["pays_id"], nature="travail"
        )
    for c in countries + others:
        c["figure_toutes"] = figure(datasette, c["nb_activites"], "activites_pays", pays_id=c["pays_id"])
    return Response.html(
        await datasette.render_template(
            "transparency.html",
            {
                "financements": funding,
                "partenariats": partnerships,
                "pays": countries,
                "autres_pays": others,
                "positions": positions,
                "equipe": team,
                "instances": bodies,
                "sources": sources,
                "construction": built,
                "plans": plans,
                "chiffres": figures,
                "carte": json_for_script(map_spec(datasette, countries)),
                "graphiques": True,
                "iati": await iati_section(datasette, db),
                "lectures": readings,
                "corrections": corrections,
            },
            request=request,
        )
    )


async def iati_section(datasette, db) -> dict:
    """The IATI file and the self-assessment of the latest plan (the others are one link away):
    every figure is a row count or a row of a computed table."""
    latest = (await rows(db, "select max(id) as id from plans"))[0]["id"]
    criteria = await rows(
        db, "select * from auto_evaluation_iati where plan_id = :plan order by ordre", {"plan": latest}
    )
    plans: dict[str, list[dict]] = {}
    for c in criteria:
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
    sectors = await rows(
        db,
        """select s.*, (select json_group_array(numero) from (select ac.numero from secteurs_actions sa
            join actions ac on ac.id = sa.action_id where sa.secteur_id = s.id order by ac.ordre)) as numeros
        from secteurs s where s.plan_id = :plan order by s.code""",
        {"plan": latest},
    )
    for s in sectors:
        s["numeros"] = json.loads(s["numeros"])
        s["figure"] = figure(datasette, len(s["numeros"]), "secteurs_actions", secteur_id=s["id"])
    unclassified = await rows(
        db,
        "select action_id, plan_id, numero, titre from iati_activites where avec_secteur = 0 and plan_id = :plan "
        "order by ordre",
        {"plan": latest},
    )
    plan_count = (await rows(db, "select count(*) as n from plans"))[0]["n"]
    rules = await rows(db, "select * from regles_iati order by ordre")
    warnings = [r for r in rules if r["gravite"] == "avertissement" and r["nb_constats"]]
    for w in warnings:
        w["figure"] = figure(datasette, w["nb_constats"], "controles_iati", regle_id=w["id"])
        w["actions"] = await rows(
            db,
            """select distinct c.action_id, a.numero, a.plan_id from controles_iati c join actions a on a.id = c.action_id
            where c.regle_id = :rule order by a.ordre""",
            {"rule": w["id"]},
        )
    error_count = (await rows(db, "select count(*) as n from controles_iati where gravite = 'erreur'"))[0]["n"]
    split = await rows(db, "select distinct action_id, nb_pays from iati_pays where nb_pays > 1 order by ordre")
    statuses = await rows(db, "select id, libelle, code_iati from statuts order by ordre")
    for status in statuses:
        status["iati_libelle"] = codelist("ActivityStatus").get(str(status["code_iati"]), {}).get("fr")
    settings = {r["cle"]: r for r in await rows(db, "select * from parametres_iati")}
    count = (await rows(db, "select count(*) as n from iati_activites"))[0]["n"]
    folder = downloads_dir(datasette)
    return {
        "plans": plans,
        "regles": figure(datasette, len(rules), "regles_iati"),
        "erreurs": figure(datasette, error_count, "controles_iati", gravite="erreur"),
        "avertissements": warnings,
        "avertissements_total": figure(
            datasette, sum(w["nb_constats"] for w in warnings), "controles_iati", gravite="avertissement"
        ),
        "repartitions": split,
        "secteurs": sectors,
        "non_classees": unclassified,
        "non_classees_figure": figure(datasette, len(unclassified), "iati_activites", avec_secteur=0, plan_id=latest),
        "plan_courant": latest,
        "autres_plans": plan_count - 1,
        "parametres": settings,
        "statuts": statuses,
        "activites": figure(datasette, count, "iati_activites"),
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


async def downloads_page(datasette, request):
    await check_visible(datasette, request)
    db = datasette.get_database(DATABASE)
    counts = await db.table_counts(limit=1000)
    meta = datasette.metadata("tables", database=DATABASE) or {}
    folder = downloads_dir(datasette)
    base = datasette.urls.path(f"/{DOWNLOADS}")
    tables = []
    for table in TABLES:
        if table.name in EXCLUDED_DOWNLOADS:
            continue
        info = meta.get(table.name, {})
        tables.append(
            {
                "nom": table.name,
                "titre": info.get("title") or table.name,
                "description": info.get("description") or "",
                "lignes": counts.get(table.name),
                "csv": datasette.urls.table(DATABASE, table.name, format="csv") + "?_stream=on",
                "json": datasette.urls.table(DATABASE, table.name, format="json") + "?_shape=array&_stream=on",
                "excel": f"{base}/excel/{table.name}.csv" if folder else None,
                "paquet": f"{base}/csv/{table.name}.csv" if folder else None,
            }
        )
    files = {
        "zip": {"href": f"{base}/ciso-donnees.zip", "octets": size_of(folder and folder / "ciso-donnees.zip")},
        "datapackage": {"href": f"{base}/datapackage.json", "octets": size_of(folder and folder / "datapackage.json")},
        "sqlite": {"href": datasette.urls.database(DATABASE) + ".db", "octets": size_of(Path(db.path))},
        "iati": {"href": f"{base}/{IATI_FILE}", "octets": size_of(folder and folder / IATI_FILE)},
    }
    return Response.html(
        await datasette.render_template(
            "downloads.html", {"tables": tables, "fichiers": files, "dossier": folder is not None}, request=request
        )
    )


@hookimpl
def register_routes():
    return [
        (r"^/-/transparence$", transparency_page),
        (r"^/-/telechargements$", downloads_page),
    ]
