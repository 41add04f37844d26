"""The plans as published: /-/source/{plan}, line-numbered, every line anchorable (#L42)."""

from ciso.web import check_visible
from datasette import hookimpl
from datasette.utils.asgi import NotFound, Response

DATABASE = "ciso"


async def source_page(datasette, request):
    await check_visible(datasette, request)
    db = datasette.get_database(DATABASE)
    plan_id = request.url_vars["plan"]
    plans = [dict(r) for r in await db.execute("select * from plans where id = :plan", {"plan": plan_id})]
    if not plans:
        raise NotFound(f"Plan « {plan_id} » introuvable.")
    lines = [
        dict(r)
        for r in await db.execute(
            "select numero, texte, texte_markup from lignes where plan_id = :plan order by numero", {"plan": plan_id}
        )
    ]
    # Headings link to their rows: objective sections, actions and bullets.
    links = {}
    for r in await db.execute(
        "select ligne_debut, ligne_fin, type, objectif_id, action_id, activite_id from passages "
        "where plan_id = :plan and type in ('objectif', 'action', 'puce')",
        {"plan": plan_id},
    ):
        if r["type"] == "objectif":
            links[r["ligne_debut"]] = ("objectifs", r["objectif_id"], "fiche de l'objectif")
        elif r["type"] == "action":
            links[r["ligne_debut"]] = ("actions", r["action_id"], "fiche de l'action")
        else:
            links[r["ligne_debut"]] = ("activites", r["activite_id"], "fiche de l'activité")
    for line in lines:
        target = links.get(line["numero"])
        if target:
            table, row_id, label = target
            line["lien"] = {"href": datasette.urls.row(DATABASE, table, row_id), "label": label, "table": table}
    return Response.html(
        await datasette.render_template("source.html", {"plan": plans[0], "lignes": lines}, request=request)
    )


@hookimpl
def register_routes():
    return [(r"^/-/source/(?P<plan>[^/]+)$", source_page)]
