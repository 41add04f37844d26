"""Progress pages: /-/progres, /-/progres/{plan}/{objectif} and the page of every action and activity,
/-/progres/{plan}/{numero} (``1.4``, ``1.4.2``), in HTML and JSON.

Every number comes from the computed tables avancement_plans, avancement_objectifs,
statut_actions and statut_activites; this module only reads and arranges them. The chart is a
Vega-Lite spec file (static/charts/avancement-objectifs.vl.json) drawn from the JSON of the
table avancement_objectifs_statuts; the table beside it gives the same numbers without JavaScript.
"""

import re
from urllib.parse import quote, urlencode

from ciso.web import check_visible, static_url
from ciso.web import page_rows as rows  # our fixed queries, outside the limit on visitors' SQL
from datasette import hookimpl
from datasette.utils.asgi import NotFound, Response

DATABASE = "ciso"
CHART_SPEC = "charts/avancement-objectifs.vl.json"  # Vega-Lite; its data: the table avancement_objectifs_statuts
ELEMENT = re.compile(r"^\d{1,4}\.\d{1,4}(\.\d{1,4})?$")  # 1.4 (an action) or 1.4.2 (an activity)


def element_path(plan: str, numero) -> str:
    """The path of an objective's, an action's or an activity's page (before ``urls.path``)."""
    return f"/-/progres/{quote(str(plan), safe='')}/{quote(str(numero), safe='')}"


async def statuses(db):
    return await rows(
        db, "select id, libelle, libelle_pluriel, couleur, ordre, description, code_iati from statuts order by ordre"
    )


def segments(counts: dict, statuts: list[dict]) -> list[dict]:
    """Bar segments (label, colour, count, share) in status order, for non-zero counts."""
    total = counts.get("nb_elements") or 0
    result, start = [], 0.0
    for s in statuts:
        n = counts.get(f"nb_{s['id']}") or 0
        if n and total:
            width = 100.0 * n / total
            result.append({**s, "n": n, "x": round(start, 3), "largeur": round(width, 3)})
            start += width
    return result


def bar_label(counts: dict, statuts: list[dict]) -> str:
    """Sentence read by screen readers: '15 éléments : 1 en cours, 1 reporté, 13 prévus'."""
    parts = [
        f"{seg['n']} {(seg['libelle_pluriel'] if seg['n'] > 1 else seg['libelle']).lower()}"
        for seg in segments(counts, statuts)
    ]
    total = counts.get("nb_elements") or 0
    return f"{total} élément{'s' if total > 1 else ''} : " + (", ".join(parts) if parts else "aucun")


def sql_url(datasette, sql: str, **params) -> str:
    return datasette.urls.database(DATABASE) + "?" + urlencode({"sql": sql.strip(), **params})


def chart(datasette, plan_id: str) -> dict:
    """The chart of a plan: the spec file, and its data, the plan's rows of avancement_objectifs_statuts."""
    data = datasette.urls.table(DATABASE, "avancement_objectifs_statuts", format="json")
    return {
        "spec": static_url(datasette, CHART_SPEC),
        "donnees": data + "?" + urlencode({"_shape": "array", "_size": "max", "plan_id": plan_id}),
        "racine": datasette.urls.path("/"),
    }


def detail(datasette, plan: dict, objectives: list[dict], statuts: list[dict]) -> dict:
    """A plan with its objectives, bars and chart, ready for the template."""
    plan = {**plan, "objectifs": objectives}
    plan["graphique"] = chart(datasette, plan["plan_id"])
    for o in objectives:
        o["segments"] = segments(o, statuts)
        o["etiquette"] = bar_label(o, statuts)
    plan["sql"] = sql_url(
        datasette, "select * from avancement_objectifs where plan_id = :plan order by ordre", plan=plan["plan_id"]
    )
    return plan


async def render_progress(datasette, request, featured: str | None):
    """The overview (featured = latest plan) or one plan's page: every plan as a bar, one plan in full."""
    db = datasette.get_database(DATABASE)
    statuts = await statuses(db)
    plans = await rows(db, "select * from avancement_plans order by plan_id desc")
    if featured is None:
        featured = plans[0]["plan_id"] if plans else None
    elif featured not in {p["plan_id"] for p in plans}:
        raise NotFound(f"Plan « {featured} » introuvable.")
    objectives = await rows(
        db, "select * from avancement_objectifs where plan_id = :plan order by ordre", {"plan": featured}
    )
    period = await period_of(db, featured)
    if request.url_vars.get("format") == ".json":
        return Response.json(
            {"statuts": statuts, "plans": plans, "plan": featured, "periode": period, "objectifs": objectives}
        )
    for plan in plans:
        plan["segments"] = segments(plan, statuts)
        plan["etiquette"] = bar_label(plan, statuts)
    chosen = next((p for p in plans if p["plan_id"] == featured), None)
    return Response.html(
        await datasette.render_template(
            "progress.html",
            {
                "statuts": statuts,
                "plans": plans,
                "plan": detail(datasette, chosen, objectives, statuts) if chosen else None,
                "periode": period,
                "page_plan": request.url_vars.get("plan") is not None,
                "graphiques": True,
            },
            request=request,
        )
    )


async def period_of(db, plan: str | None) -> dict | None:
    """The plan's period, where it comes from, and the date the statuses are computed at (table periodes)."""
    found = await rows(db, "select * from periodes where plan_id = :plan", {"plan": plan})
    return found[0] if found else None


async def progress_overview(datasette, request):
    await check_visible(datasette, request)
    return await render_progress(datasette, request, None)


async def progress_plan(datasette, request):
    await check_visible(datasette, request)
    return await render_progress(datasette, request, request.url_vars["plan"])


async def objective_data(datasette, plan: str, numero: str):
    db = datasette.get_database(DATABASE)
    if not numero.isdigit() or len(numero) > 6:
        raise NotFound(f"Objectif « {numero} » introuvable : le numéro d'un objectif est un entier.")
    found = await rows(
        db,
        "select o.*, p.fichier, p.debut, p.fin from objectifs o join plans p on p.id = o.plan_id "
        "where o.plan_id = :plan and o.numero = :numero",
        {"plan": plan, "numero": int(numero)},
    )
    if not found:
        raise NotFound(f"Objectif {numero} du plan « {plan} » introuvable.")
    objective = found[0]
    params = {"objectif": objective["id"]}
    progress = (await rows(db, "select * from avancement_objectifs where objectif_id = :objectif", params))[0]
    actions = await rows(db, "select * from statut_actions where objectif_id = :objectif order by ordre", params)
    activities = await rows(db, "select * from statut_activites where objectif_id = :objectif order by ordre", params)
    for action in actions:
        action["activites"] = [a for a in activities if a["action_id"] == action["action_id"]]
    history = await rows(
        db,
        "select s.*, st.libelle as statut_libelle, st.couleur from suivi s join statuts st on st.id = s.statut "
        "where s.objectif_id = :objectif order by s.rang",
        params,
    )
    return objective, progress, actions, history


async def progress_objective(datasette, request):
    await check_visible(datasette, request)
    plan = request.url_vars["plan"]
    if "." in request.url_vars["objectif"]:
        return await progress_element(datasette, request)
    objective, progress, actions, history = await objective_data(datasette, plan, request.url_vars["objectif"])
    db = datasette.get_database(DATABASE)
    period = await period_of(db, plan)
    if request.url_vars.get("format") == ".json":
        return Response.json(
            {
                "objectif": objective,
                "periode": period,
                "avancement": progress,
                "actions": actions,
                "historique": history,
            }
        )
    statuts = await statuses(db)
    oid = objective["id"]
    sql = {
        "avancement": sql_url(
            datasette, "select * from avancement_objectifs where objectif_id = :objectif", objectif=oid
        ),
        "actions": sql_url(
            datasette, "select * from statut_actions where objectif_id = :objectif order by ordre", objectif=oid
        ),
        "activites": sql_url(
            datasette, "select * from statut_activites where objectif_id = :objectif order by ordre", objectif=oid
        ),
        "historique": sql_url(
            datasette, "select * from suivi where objectif_id = :objectif order by rang", objectif=oid
        ),
    }
    siblings = await rows(db, "select numero from objectifs where plan_id = :plan order by numero", {"plan": plan})
    return Response.html(
        await datasette.render_template(
            "progress_objective.html",
            {
                "objectif": objective,
                "avancement": progress,
                "segments": segments(progress, statuts),
                "etiquette": bar_label(progress, statuts),
                "actions": actions,
                "historique": history,
                "statuts": {s["id"]: s for s in statuts},
                "liste_statuts": statuts,
                "sql": sql,
                "voisins": [s["numero"] for s in siblings],
                "periode": period,
            },
            request=request,
        )
    )


# --------------------------------------------------------------------------- an action's or an activity's page

# What an element names, through the words of its activities (an action: all of its activities).
NAMED = {
    "organisations": (
        "select o.id, o.nom, o.sigle, o.libelle, o.pays_id, group_concat(distinct l.terme) as termes, "
        "count(distinct a.id) as nb_activites "
        "from activites_organisations l join activites a on a.id = l.activite_id "
        "join organisations o on o.id = l.organisation_id "
        "where a.id = :id or a.action_id = :id group by o.id order by o.nom"
    ),
    "pays": (
        "select p.id, p.nom, p.relation, group_concat(distinct l.terme) as termes, "
        "max(l.nature = 'travail') as travail, count(distinct a.id) as nb_activites "
        "from activites_pays l join activites a on a.id = l.activite_id join pays p on p.id = l.pays_id "
        "where a.id = :id or a.action_id = :id group by p.id order by p.nom"
    ),
    "instruments": (
        "select i.id, i.titre, i.titre_court, i.libelle, i.url, group_concat(distinct l.terme) as termes, "
        "count(distinct a.id) as nb_activites "
        "from activites_instruments l join activites a on a.id = l.activite_id "
        "join instruments i on i.id = l.instrument_id "
        "where a.id = :id or a.action_id = :id group by i.id order by i.id"
    ),
    "themes": (
        "select t.id, t.nom, group_concat(distinct l.terme) as termes, count(distinct a.id) as nb_activites "
        "from activites_themes l join activites a on a.id = l.activite_id join themes t on t.id = l.theme_id "
        "where a.id = :id or a.action_id = :id group by t.id order by t.nom"
    ),
}
# What the curated tables tie to the element's action.
OF_ACTION = {
    "partenariats": (
        "select pa.*, r.libelle as role_libelle, o.libelle as organisation, o.pays_id "
        "from partenariats pa join partenariats_actions x on x.partenariat_id = pa.id "
        "join roles_partenariat r on r.id = pa.role join organisations o on o.id = pa.organisation_id "
        "where x.action_id = :action order by o.nom"
    ),
    "financements": (
        "select f.*, sf.libelle as statut_libelle, o.libelle as organisation "
        "from financements f join financements_actions x on x.financement_id = f.id "
        "join statuts_financement sf on sf.id = f.statut left join organisations o on o.id = f.organisation_id "
        "where x.action_id = :action order by sf.ordre, f.nom"
    ),
    "positions": (
        "select po.* from positions po join positions_actions x on x.position_id = po.id "
        "where x.action_id = :action order by po.titre"
    ),
}
ELEMENT_SQL = {
    "activite": (
        "select s.*, s.activite_id as element_id, a.ligne_fin, o.numero as objectif_numero, "
        "o.titre_markup as objectif_titre_markup, o.titre as objectif_titre, ac.numero as action_numero, "
        "ac.titre as action_titre, ac.titre_markup as action_titre_markup "
        "from statut_activites s join activites a on a.id = s.activite_id "
        "join objectifs o on o.id = s.objectif_id join actions ac on ac.id = s.action_id "
        "where s.plan_id = :plan and s.numero = :numero"
    ),
    "action": (
        "select s.*, s.action_id as element_id, ac.description, ac.description_markup, "
        "o.numero as objectif_numero, o.titre_markup as objectif_titre_markup, o.titre as objectif_titre "
        "from statut_actions s join actions ac on ac.id = s.action_id join objectifs o on o.id = s.objectif_id "
        "where s.plan_id = :plan and s.numero = :numero"
    ),
}
HISTORY = (
    "select s.*, st.libelle as statut_libelle from suivi s join statuts st on st.id = s.statut "
    "where s.element_id = :id or s.element_id = :action or s.action_id = :id order by s.rang"
)
# Steps the element's activities are tied to (dependances.yml), and the elements tied to this one.
DEPENDS_ON = (
    "select d.*, a.numero as numero_element, dep.statut_declare as statut_etape, "
    "coalesce(sa.statut_declare, sac.statut_declare) as statut_depend_de "
    "from dependances d join activites a on a.id = d.element_id "
    "left join statut_activites dep on dep.activite_id = d.element_id "
    "left join statut_activites sa on sa.activite_id = d.depend_de_id "
    "left join statut_actions sac on sac.action_id = d.depend_de_id "
    "where a.id = :id or a.action_id = :id order by a.ordre"
)
DEPENDED_ON = (
    "select d.*, s.statut_declare as statut_element from dependances d "
    "join statut_activites s on s.activite_id = d.element_id "
    "where d.depend_de_id = :id or d.depend_de_id in (select id from activites where action_id = :id) "
    "order by s.ordre"
)


async def element_data(datasette, plan: str, numero: str) -> dict:
    """Everything about one action or activity, from the rollups and the link tables."""
    if not ELEMENT.match(numero):
        raise NotFound(
            f"Élément « {numero} » introuvable dans le plan « {plan} » : une action se numérote comme 1.4, "
            "une activité comme 1.4.2."
        )
    level = "activite" if numero.count(".") == 2 else "action"
    db = datasette.get_database(DATABASE)
    found = await rows(db, ELEMENT_SQL[level], {"plan": plan, "numero": numero})
    if not found:
        kind = "Activité" if level == "activite" else "Action"
        raise NotFound(f"{kind} {numero} du plan « {plan} » introuvable.")
    element = found[0]
    eid, action_id = element["element_id"], element["action_id"]
    statement = await rows(db, "select * from suivi where id = :id", {"id": element["suivi_id"]})
    data = {
        "niveau": level,
        "element": element,
        "declaration": statement[0] if statement else None,
        "historique": await rows(db, HISTORY, {"id": eid, "action": action_id}),
        "activites": (
            await rows(db, "select * from statut_activites where action_id = :id order by ordre", {"id": eid})
            if level == "action"
            else []
        ),
        "depend_de": await rows(db, DEPENDS_ON, {"id": eid}),
        "dependantes": await rows(db, DEPENDED_ON, {"id": eid}),
    }
    for name, sql in NAMED.items():
        data[name] = await rows(db, sql, {"id": eid})
    for name, sql in OF_ACTION.items():
        data[name] = await rows(db, sql, {"action": action_id})
    data["periode"] = await period_of(db, plan)
    return data


async def progress_element(datasette, request):
    plan, numero = request.url_vars["plan"], request.url_vars["objectif"]
    data = await element_data(datasette, plan, numero)
    if request.url_vars.get("format") == ".json":
        return Response.json(data)
    db = datasette.get_database(DATABASE)
    statuts = await statuses(db)
    element = data["element"]
    siblings = await rows(
        db,
        "select numero from activites where action_id = :action order by ordre"
        if data["niveau"] == "activite"
        else "select numero from actions where objectif_id = :objectif order by ordre",
        {"action": element["action_id"], "objectif": element["objectif_id"]},
    )
    table = "statut_activites" if data["niveau"] == "activite" else "statut_actions"
    key = "activite_id" if data["niveau"] == "activite" else "action_id"
    return Response.html(
        await datasette.render_template(
            "progress_element.html",
            {
                **data,
                "statuts": {s["id"]: s for s in statuts},
                "voisins": [s["numero"] for s in siblings],
                "fiche": datasette.urls.row(
                    DATABASE, "activites" if data["niveau"] == "activite" else "actions", element["element_id"]
                ),
                "sql": sql_url(datasette, f"select * from {table} where {key} = :id", id=element["element_id"]),
                "json": datasette.urls.path(element_path(plan, numero) + ".json"),
            },
            request=request,
        )
    )


async def status_css(datasette, request):
    """Badge colours generated from the statuts table, so the colours are defined once."""
    await check_visible(datasette, request)
    statuts = await statuses(datasette.get_database(DATABASE))
    css = "".join(f".ciso-badge.ciso-statut-{s['id']} {{ background: {s['couleur']}; }}\n" for s in statuts)
    return Response(css, content_type="text/css; charset=utf-8", headers={"Cache-Control": "max-age=3600"})


@hookimpl
def register_routes():
    return [
        (r"^/-/statuts\.css$", status_css),
        (r"^/-/progres(?P<format>\.json)?$", progress_overview),
        (r"^/-/progres/(?P<plan>[^/]+?)/(?P<objectif>[^/]+?)(?P<format>\.json)?$", progress_objective),
        (r"^/-/progres/(?P<plan>[^/]+?)(?P<format>\.json)?$", progress_plan),
    ]


@hookimpl
def extra_css_urls(datasette):
    return [str(datasette.urls.path("/-/statuts.css"))]
