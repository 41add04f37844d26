"""Objective progress pages: /-/progres and /-/progres/{plan}/{objectif} (HTML and JSON).

Every number comes from the computed tables avancement_plans, avancement_objectifs,
statut_actions and statut_activites; this module only reads and arranges them. The chart is a
Vega-Lite spec file (static/charts/avancement-objectifs.vl.json) drawn from the JSON of the
table avancement_objectifs_statuts; the table beside it gives the same numbers without JavaScript.
"""

from urllib.parse import urlencode

from ciso.web import check_visible, static_url
from datasette import hookimpl
from datasette.utils.asgi import NotFound, Response

DATABASE = "ciso"
CHART_SPEC = "charts/avancement-objectifs.vl.json"  # Vega-Lite; its data: the table avancement_objectifs_statuts


async def rows(db, sql, params=None):
    return [dict(r) for r in await db.execute(sql, params or {})]


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
    return [datasette.urls.path("/-/statuts.css")]
