"""Where CISO works and with whom: /-/pays, /-/pays/{code}, /-/organisations, /-/organisations/{id} and
/-/regions/{id} (HTML, and JSON with ``.json``).

Each page says what CISO does there or with them, by status: the activities whose words name the
country (or a country of the region, or the organisation), with their current and declared status,
the counts by status (rollups ``statut_par_pays``, ``statut_par_organisation``, ``statut_par_region``),
and the partnerships, funding and advocacy positions that concern them, each with its quotation and
plan line. Ids are those of the database (``pays.id``, ``organisations.id``, ``regions.id``).
"""

from urllib.parse import quote

from ciso.web import check_visible, static_url
from datasette import hookimpl
from datasette.utils.asgi import NotFound, Response

from .progress_pages import rows, statuses

DATABASE = "ciso"
MAP_SPEC = "charts/carte-pays.vl.json"  # Vega-Lite; its data: the table pays_partenaires

# The activities that name a country, with how (nature: travail or mention) and the words.
ACTIVITIES_OF_COUNTRY = (
    "select s.*, l.nature, l.terme from activites_pays l join statut_activites s on s.activite_id = l.activite_id "
    "join statuts st on st.id = s.statut join statuts sd on sd.id = s.statut_declare "
    "where l.pays_id = :id order by st.ordre, sd.ordre, s.ordre"
)
ACTIVITIES_OF_ORGANISATION = (
    "select s.*, l.terme from activites_organisations l join statut_activites s on s.activite_id = l.activite_id "
    "join statuts st on st.id = s.statut join statuts sd on sd.id = s.statut_declare "
    "where l.organisation_id = :id order by st.ordre, sd.ordre, s.ordre"
)
ACTIVITIES_OF_REGION = (
    "select s.*, group_concat(p.nom, ', ') as pays_noms, max(l.nature = 'travail') as travail "
    "from regions_pays rp join activites_pays l on l.pays_id = rp.pays_id join pays p on p.id = l.pays_id "
    "join statut_activites s on s.activite_id = l.activite_id "
    "join statuts st on st.id = s.statut join statuts sd on sd.id = s.statut_declare "
    "where rp.region_id = :id group by s.activite_id order by st.ordre, sd.ordre, s.ordre"
)
PARTNERSHIPS = (
    "select pa.*, r.libelle as role_libelle, o.libelle as organisation, o.pays_id "
    "from partenariats pa join roles_partenariat r on r.id = pa.role join organisations o on o.id = pa.organisation_id "
    "where {where} order by o.nom, pa.id"
)
FUNDING = (
    "select f.*, sf.libelle as statut_libelle, o.libelle as organisation "
    "from financements f join statuts_financement sf on sf.id = f.statut "
    "left join organisations o on o.id = f.organisation_id where {where} order by sf.ordre, f.nom"
)
# The actions a curated entry concerns (JSON array of action ids), with their numbers, for links.
ACTIONS_OF = "select id, plan_id, numero from actions where id in (select value from json_each(:ids)) order by ordre"


async def with_actions(db, entries: list[dict]) -> list[dict]:
    """Each partnership's, funding's or position's actions, numbered, so the page links them."""
    for entry in entries:
        entry["liste_actions"] = await rows(db, ACTIONS_OF, {"ids": entry.get("actions") or "[]"})
    return entries


async def with_counts(db, items: list[dict], rollup: str, key: str) -> list[dict]:
    """Each item (a country, an organisation) with its rows of a ``statut_par_*`` rollup (``comptes``)."""
    counts = await rows(db, f"select * from {rollup} order by {key}, statut_ordre")  # noqa: S608 (constants)
    for item in items:
        item["comptes"] = [n for n in counts if n[key] == item["id"]]
    return items


def respond(request, data: dict):
    return Response.json(data) if request.url_vars.get("format") == ".json" else None


async def render(datasette, request, template: str, data: dict):
    statuts = await statuses(datasette.get_database(DATABASE))
    return Response.html(
        await datasette.render_template(
            template, {**data, "statuts": {s["id"]: s for s in statuts}, "liste_statuts": statuts}, request=request
        )
    )


def the_map(datasette) -> dict:
    return {"spec": static_url(datasette, MAP_SPEC), "racine": datasette.urls.path("/")}


# --------------------------------------------------------------------------- countries and regions


async def countries_index(datasette, request):
    await check_visible(datasette, request)
    db = datasette.get_database(DATABASE)
    countries = await rows(
        db,
        "select p.id, p.nom, p.relation, p.relation_citation, p.relation_citation_markup, "
        "p.relation_citation_ligne, p.plan_id, "
        "(select count(*) from activites_pays l where l.pays_id = p.id) as nb_activites, "
        "(select count(*) from activites_pays l where l.pays_id = p.id and l.nature = 'travail') "
        "as nb_activites_travail, "
        "(select count(*) from organisations o where o.pays_id = p.id and o.id != 'ciso') as nb_organisations "
        "from pays p order by p.relation = 'partenaires' desc, nb_activites_travail desc, nb_activites desc, p.nom",
    )
    regions = await rows(
        db,
        "select r.id, r.nom, r.code_m49, r.niveau, r.alias, "
        "(select group_concat(p.nom, ', ') from regions_pays rp join pays p on p.id = rp.pays_id "
        "where rp.region_id = r.id) as pays_noms, "
        "(select sum(nb_activites) from statut_par_region s where s.region_id = r.id) as nb_activites "
        "from regions r order by r.code_m49 = '019' or r.code_m49 = '142', r.nom",
    )
    data = {"pays": await with_counts(db, countries, "statut_par_pays", "pays_id"), "regions": regions}
    return respond(request, data) or await render(
        datasette, request, "places_countries.html", {**data, "carte": the_map(datasette)}
    )


async def country_page(datasette, request):
    await check_visible(datasette, request)
    db = datasette.get_database(DATABASE)
    code = request.url_vars["code"]
    found = await rows(db, "select * from pays where id = :id", {"id": code})
    if (
        not found
        and code != code.upper()
        and await rows(db, "select id from pays where id = :id", {"id": code.upper()})
    ):
        suffix = request.url_vars.get("format") or ""
        return Response.redirect(datasette.urls.path(f"/-/pays/{quote(code.upper(), safe='')}{suffix}"))  # ht -> HT
    if not found:
        raise NotFound(
            f"Pays « {code[:40]} » introuvable : l'adresse d'un pays est son code ISO à deux lettres (HT, MX…)."
        )
    params = {"id": code}
    data = {
        "pays": found[0],
        "regions": await rows(
            db,
            "select r.id, r.nom, r.code_m49 from regions_pays rp join regions r on r.id = rp.region_id "
            "where rp.pays_id = :id order by r.code_m49",
            params,
        ),
        "comptes": await rows(db, "select * from statut_par_pays where pays_id = :id order by statut_ordre", params),
        "activites": await rows(db, ACTIVITIES_OF_COUNTRY, params),
        "organisations": await rows(
            db,
            "select o.id, o.libelle, o.type, t.libelle as type_libelle from organisations o "
            "join types_organisation t on t.id = o.type where o.pays_id = :id and o.id != 'ciso' order by o.nom",
            params,
        ),
        "partenariats": await with_actions(db, await rows(db, PARTNERSHIPS.format(where="o.pays_id = :id"), params)),
        "financements": await with_actions(
            db,
            await rows(
                db,
                FUNDING.format(
                    where="f.id in (select x.financement_id from financements_actions x "
                    "join activites a on a.action_id = x.action_id "
                    "join activites_pays l on l.activite_id = a.id where l.pays_id = :id)"
                ),
                params,
            ),
        ),
        "positions": await with_actions(
            db,
            await rows(
                db,
                "select po.* from positions po join positions_pays x on x.position_id = po.id "
                "where x.pays_id = :id order by po.titre",
                params,
            ),
        ),
    }
    return respond(request, data) or await render(datasette, request, "places_country.html", data)


async def region_page(datasette, request):
    await check_visible(datasette, request)
    db = datasette.get_database(DATABASE)
    region_id = request.url_vars["id"]
    found = await rows(db, "select * from regions where id = :id", {"id": region_id})
    if not found:
        raise NotFound(f"Région « {region_id[:60]} » introuvable : voyez la liste des régions sur la page des pays.")
    params = {"id": region_id}
    data = {
        "region": found[0],
        "pays": await rows(
            db,
            "select p.id, p.nom, p.relation, (select count(*) from activites_pays l where l.pays_id = p.id) "
            "as nb_activites from regions_pays rp join pays p on p.id = rp.pays_id where rp.region_id = :id "
            "order by nb_activites desc, p.nom",
            params,
        ),
        "comptes": await rows(
            db, "select * from statut_par_region where region_id = :id order by statut_ordre", params
        ),
        "activites": await rows(db, ACTIVITIES_OF_REGION, params),
    }
    return respond(request, data) or await render(datasette, request, "places_region.html", data)


# --------------------------------------------------------------------------- organisations


async def organisations_index(datasette, request):
    await check_visible(datasette, request)
    db = datasette.get_database(DATABASE)
    organisations = await rows(
        db,
        "select o.id, o.nom, o.sigle, o.libelle, o.type, t.libelle as type_libelle, o.pays_id, p.nom as pays_nom, "
        "(select count(*) from activites_organisations l where l.organisation_id = o.id) as nb_activites, "
        "(select count(*) from partenariats pa where pa.organisation_id = o.id) as nb_partenariats, "
        "(select count(*) from financements f where f.organisation_id = o.id) as nb_financements "
        "from organisations o join types_organisation t on t.id = o.type left join pays p on p.id = o.pays_id "
        "order by t.libelle, o.nom",
    )
    data = {"organisations": await with_counts(db, organisations, "statut_par_organisation", "organisation_id")}
    return respond(request, data) or await render(datasette, request, "places_organisations.html", data)


async def organisation_page(datasette, request):
    await check_visible(datasette, request)
    db = datasette.get_database(DATABASE)
    org_id = request.url_vars["id"]
    found = await rows(
        db,
        "select o.*, t.libelle as type_libelle, p.nom as pays_nom from organisations o "
        "join types_organisation t on t.id = o.type left join pays p on p.id = o.pays_id where o.id = :id",
        {"id": org_id},
    )
    if not found:
        raise NotFound(f"Organisation « {org_id[:60]} » introuvable : voyez la liste des organisations.")
    params = {"id": org_id}
    data = {
        "organisation": found[0],
        "comptes": await rows(
            db, "select * from statut_par_organisation where organisation_id = :id order by statut_ordre", params
        ),
        "activites": await rows(db, ACTIVITIES_OF_ORGANISATION, params),
        "partenariats": await with_actions(
            db, await rows(db, PARTNERSHIPS.format(where="pa.organisation_id = :id"), params)
        ),
        "financements": await with_actions(db, await rows(db, FUNDING.format(where="f.organisation_id = :id"), params)),
    }
    return respond(request, data) or await render(datasette, request, "places_organisation.html", data)


@hookimpl
def register_routes():
    return [
        (r"^/-/pays(?P<format>\.json)?$", countries_index),
        (r"^/-/pays/(?P<code>[^/]+?)(?P<format>\.json)?$", country_page),
        (r"^/-/regions/(?P<id>[^/]+?)(?P<format>\.json)?$", region_page),
        (r"^/-/organisations(?P<format>\.json)?$", organisations_index),
        (r"^/-/organisations/(?P<id>[^/]+?)(?P<format>\.json)?$", organisation_page),
    ]
