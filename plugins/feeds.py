"""Atom feeds of the progress updates: /-/suivi.atom (every plan) and /-/suivi/{plan}.atom.

An entry is one update of the journal (data/suivi/mises-a-jour.csv, rows of table ``suivi``
whose source is ``mise_a_jour``): the element, its status, date, progress, note, proof, who
recorded it (a role), and a link to the element's own page. The plan's
own statements are not news and are left out. The latest ``LIMIT`` updates, newest first; a
feed with no update recorded yet is a valid, empty feed.

Ids are ``urn:uuid:`` names derived from the update's id (journal file and line, which never
change: the journal is only appended to), so they stay the same whatever address the site is
reached under, before and after its public address is known. Links are absolute
(``ciso.web.absolute_url``). The journal gives a day, not a time: an update is dated at
midnight UTC of that day; a feed with no entry is dated by the build.
"""

import uuid
from urllib.parse import quote

from ciso.catalogue import PUBLISHER
from ciso.fr import date_fr
from ciso.web import DATABASE, absolute_url, check_visible, metadata, public_address
from datasette import hookimpl
from datasette.utils.asgi import NotFound, Response
from lxml import etree

ATOM = "http://www.w3.org/2005/Atom"
XHTML = "http://www.w3.org/1999/xhtml"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
CONTENT_TYPE = "application/atom+xml; charset=utf-8"
# Never change: every feed and entry id is derived from it (uuid5), and readers know entries by id.
NAMESPACE = uuid.UUID("572f657a-5365-49dd-9f23-5e4bdc93b327")
LIMIT = 100
LEVELS = {"action": "Action", "activite": "Activité"}

UPDATES_SQL = """
select s.id, s.plan_id, s.element, s.niveau, s.statut, st.libelle as statut_libelle, s.date, s.avancement,
  s.note, s.preuve, s.par, o.numero as objectif_numero, coalesce(ac.texte, a.titre) as element_texte
from suivi s
join statuts st on st.id = s.statut
join objectifs o on o.id = s.objectif_id
left join actions a on a.id = s.action_id
left join activites ac on ac.id = s.activite_id
where s.source = 'mise_a_jour' and (:plan is null or s.plan_id = :plan)
order by s.date desc, s.rang desc
limit :limit
"""


def feed_path(plan: str | None) -> str:
    return f"/-/suivi/{quote(plan, safe='')}.atom" if plan else "/-/suivi.atom"


def page_path(plan: str | None) -> str:
    return f"/-/progres/{quote(plan, safe='')}" if plan else "/-/progres"


def element_path(update: dict) -> str:
    """Where the element is shown: its own page (/-/progres/{plan}/{numero}, plugins/progress_pages.py)."""
    return f"{page_path(update['plan_id'])}/{quote(update['element'], safe='')}"


def urn(name: str) -> str:
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, name)}"


def atom_date(day: str) -> str:
    return f"{day}T00:00:00Z"


def is_web_address(value: str | None) -> bool:
    return bool(value) and value.startswith(("http://", "https://"))


def _add(parent, tag: str, text: str | None = None, **attributes):
    element = etree.SubElement(parent, f"{{{ATOM}}}{tag}", {k: v for k, v in attributes.items() if v is not None})
    if text is not None:
        element.text = text
    return element


def _paragraph(div, *parts):
    """``<p>`` of texts and (text, href) links."""
    p = etree.SubElement(div, f"{{{XHTML}}}p")
    last = None
    for part in parts:
        if isinstance(part, tuple):
            last = etree.SubElement(p, f"{{{XHTML}}}a", href=part[1])
            last.text = part[0]
        elif last is None:
            p.text = (p.text or "") + part
        else:
            last.tail = (last.tail or "") + part
    return p


def entry_title(u: dict) -> str:
    return f"{LEVELS.get(u['niveau'], u['niveau'])} {u['element']} (plan {u['plan_id']}) : {u['statut_libelle']}"


def add_entry(feed, u: dict, url) -> None:
    entry = _add(feed, "entry")
    _add(entry, "id", urn(f"suivi/{u['id']}"))
    _add(entry, "title", entry_title(u))
    _add(entry, "updated", atom_date(u["date"]))
    _add(entry, "published", atom_date(u["date"]))
    if u["par"]:
        _add(_add(entry, "author"), "name", u["par"])
    _add(entry, "link", rel="alternate", type="text/html", href=url(element_path(u)))
    if is_web_address(u["preuve"]):
        _add(entry, "link", rel="related", href=u["preuve"], title="Preuve")
    _add(entry, "category", term=u["statut"], label=u["statut_libelle"], scheme=url(f"/{DATABASE}/statuts"))
    content = _add(entry, "content", type="xhtml")
    div = etree.SubElement(content, f"{{{XHTML}}}div", nsmap={None: XHTML})
    progress = f" (avancement {u['avancement']} %)" if u["avancement"] is not None else ""
    _paragraph(div, f"Statut : {u['statut_libelle']}{progress}, le {date_fr(u['date'])}.")
    level = LEVELS.get(u["niveau"], u["niveau"])
    _paragraph(
        div,
        f"{level} {u['element']} du plan d'action {u['plan_id']}, objectif {u['objectif_numero']} : ",
        (f"« {u['element_texte']} »", url(element_path(u))),
    )
    if u["note"]:
        _paragraph(div, f"Note : {u['note']}")
    if is_web_address(u["preuve"]):
        _paragraph(div, "Preuve : ", (u["preuve"], u["preuve"]))
    elif u["preuve"]:
        _paragraph(div, f"Preuve : {u['preuve']} (document du CISO)")
    if u["par"]:
        _paragraph(div, f"Inscrit par : {u['par']}.")


async def feed_xml(datasette, request, plan: str | None) -> bytes:
    db = datasette.get_database(DATABASE)
    address = await public_address(datasette)

    def url(path):
        return absolute_url(datasette, request, address, path)

    updates = [dict(r) for r in await db.execute(UPDATES_SQL, {"plan": plan, "limit": LIMIT})]
    publisher = (await db.execute("select nom from organisations where id = :id", {"id": PUBLISHER})).first()
    built = (await db.execute("select valeur from construction where cle = :cle", {"cle": "date"})).first()
    feed = etree.Element(f"{{{ATOM}}}feed", {XML_LANG: "fr"}, nsmap={None: ATOM})
    _add(feed, "id", urn(f"suivi/{plan}" if plan else "suivi"))
    _add(feed, "title", f"Suivi du plan d'action {plan} du CISO" if plan else "Suivi des plans d'action du CISO")
    _add(
        feed,
        "subtitle",
        "Les mises à jour de l'avancement inscrites au journal de suivi : élément, statut, date, note et preuve.",
    )
    _add(feed, "updated", atom_date(updates[0]["date"]) if updates else built["valeur"])
    _add(_add(feed, "author"), "name", publisher["nom"] if publisher else "CISO")
    _add(feed, "link", rel="self", type="application/atom+xml", href=url(feed_path(plan)))
    _add(feed, "link", rel="alternate", type="text/html", href=url(page_path(plan)))
    if metadata(datasette, "license"):
        _add(feed, "rights", "Licence : " + metadata(datasette, "license"))
    for update in updates:
        add_entry(feed, update, url)
    return etree.tostring(feed, xml_declaration=True, encoding="UTF-8", pretty_print=True)


async def site_feed(datasette, request):
    await check_visible(datasette, request)
    return Response(await feed_xml(datasette, request, None), content_type=CONTENT_TYPE)


async def plan_feed(datasette, request):
    await check_visible(datasette, request)
    plan = request.url_vars["plan"]
    db = datasette.get_database(DATABASE)
    if not (await db.execute("select 1 from plans where id = :plan", {"plan": plan})).first():
        raise NotFound(f"Plan « {plan[:100]} » introuvable : pas de flux de suivi.")
    return Response(await feed_xml(datasette, request, plan), content_type=CONTENT_TYPE)


def feeds_of(datasette, plan: str | None) -> list[dict]:
    """The feeds a progress page offers: every plan's, and its own plan's."""
    found = [{"href": datasette.urls.path(feed_path(None)), "titre": "Suivi de tous les plans (Atom)"}]
    if plan:
        found.append({"href": datasette.urls.path(feed_path(plan)), "titre": f"Suivi du plan {plan} (Atom)"})
    return found


@hookimpl
def register_routes():
    return [
        (r"^/-/suivi\.atom$", site_feed),
        (r"^/-/suivi/(?P<plan>[^/]+)\.atom$", plan_feed),
    ]


@hookimpl
def extra_template_vars(template, datasette, request):
    if template not in ("progress.html", "progress_objective.html", "progress_element.html"):
        return None
    plan = (request.url_vars or {}).get("plan") if request is not None else None
    return {"flux_suivi": feeds_of(datasette, plan)}
