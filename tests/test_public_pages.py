"""The public's way in: a page for every action and activity, country, region and organisation; search
that answers; the home page's two doors. Expected content is read from the built database."""

from __future__ import annotations

import html
import json
import re
from urllib.parse import urlencode

import pytest
from conftest import ROOT, rows
from test_french_pages import assert_no_english

pytestmark = pytest.mark.asyncio

# The kinds of page this module adds, one example each: the supervisor adds them to the phone (390 px)
# and English-word scans; tests/test_browser_accessibility.py runs axe on them.
PUBLIC_PAGES = [
    "/-/progres/2020-2021/1.4",
    "/-/progres/2020-2021/1.4.2",
    "/-/progres/2020-2021/2.1.2",
    "/-/progres/2020-2021/1.1.1",
    "/-/pays",
    "/-/pays/HT",
    "/-/regions/amerique-latine-caraibes",
    "/-/organisations",
    "/-/organisations/fat",
    "/-/recherche?q=amerique+latine",
    "/-/recherche?q=haitii",
]
NOT_FOUND = [
    ("/-/progres/2020-2021/9.9", "Action 9.9 du plan « 2020-2021 » introuvable"),
    ("/-/progres/2020-2021/1.4.99", "Activité 1.4.99 du plan « 2020-2021 » introuvable"),
    ("/-/progres/2020-2021/1.x", "Élément « 1.x » introuvable"),
    ("/-/progres/1999-2000/1.4", "Action 1.4 du plan « 1999-2000 » introuvable"),
    ("/-/pays/XX", "Pays « XX » introuvable"),
    ("/-/regions/atlantide", "Région « atlantide » introuvable"),
    ("/-/organisations/inconnue", "Organisation « inconnue » introuvable"),
]


async def get(ds, path: str):
    response = await ds.client.get(path)
    assert response.status_code == 200, (path, response.text[:500])
    return response


def text(page: str) -> str:
    return html.unescape(page)


def words(page: str) -> str:
    """What a reader sees: tags (the plan's italics…) removed, entities decoded, spaces single."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", page)).split())


def badge(statut: str) -> str:
    return f'<span class="ciso-badge ciso-statut-{statut}"'


# --------------------------------------------------------------------------- elements


async def test_every_action_and_activity_has_a_page_with_its_status(ds, built):
    elements = rows(built, "select plan_id, numero, statut, statut_libelle, ligne from statut_activites")
    elements += rows(built, "select plan_id, numero, statut, statut_libelle, ligne from statut_actions")
    for e in elements:
        page = (await get(ds, f"/-/progres/{e['plan_id']}/{e['numero']}")).text
        assert '<html lang="fr">' in page
        assert f'<p class="ciso-statut-principal">Statut : {badge(e["statut"])}' in page, e["numero"]
        assert f'href="/-/source/{e["plan_id"]}#L{e["ligne"]}"' in page, e["numero"]  # its words' plan line
        data = (await get(ds, f"/-/progres/{e['plan_id']}/{e['numero']}.json")).json()
        assert data["element"]["statut"] == e["statut"] and data["element"]["numero"] == e["numero"]


async def test_activity_page_shows_status_source_quotation_and_onward_links(ds, built):
    a = rows(built, "select * from statut_activites where numero = '2.1.2' and plan_id = '2020-2021'")[0]
    page = (await get(ds, "/-/progres/2020-2021/2.1.2")).text
    assert "<h1>Activité 2.1.2</h1>" in page
    # Current status, and the declared one behind it, with its quotation and the line it stands on.
    assert badge(a["statut"]) in page and badge(a["statut_declare"]) in page
    assert a["statut_declare_libelle"] == "Conditionnel"
    assert f"« {a['citation']} »" in words(page) and f'href="/-/source/2020-2021#L{a["suivi_ligne"]}"' in page
    assert a["texte"][:80] in words(page)  # its words
    # Its objective and action, and everything it names, each a link onward.
    assert 'href="/-/progres/2020-2021/2"' in page and 'href="/-/progres/2020-2021/2.1"' in page
    for p in rows(built, "select pays_id from activites_pays where activite_id = ?", (a["activite_id"],)):
        assert f'href="/-/pays/{p["pays_id"]}"' in page
    for o in rows(
        built, "select organisation_id from activites_organisations where activite_id = ?", (a["activite_id"],)
    ):
        assert f'href="/-/organisations/{o["organisation_id"]}"' in page
    for t in rows(built, "select theme_id from activites_themes where activite_id = ?", (a["activite_id"],)):
        assert f"themes__arraycontains={t['theme_id']}" in page
    for f in rows(built, "select financement_id from financements_actions where action_id = ?", (a["action_id"],)):
        assert f'href="/ciso/financements/{f["financement_id"]}"' in page
    # Its history: every statement about it or its action.
    for s in rows(built, "select id from suivi where element_id in (?, ?)", (a["activite_id"], a["action_id"])):
        assert f'href="/ciso/suivi/{s["id"]}"' in page
    assert_no_english(page)


async def test_action_page_lists_its_activities_partners_and_funding(ds, built):
    action = rows(built, "select * from statut_actions where plan_id = '2020-2021' and numero = '2.1'")[0]
    page = (await get(ds, "/-/progres/2020-2021/2.1")).text
    assert badge(action["statut"]) in page
    for a in rows(built, "select numero, statut from statut_activites where action_id = ?", (action["action_id"],)):
        assert f'href="/-/progres/2020-2021/{a["numero"]}">Activité {a["numero"]}</a>' in page
    for p in rows(
        built,
        "select organisation_id from partenariats join partenariats_actions x on x.partenariat_id = id "
        "where x.action_id = ?",
        (action["action_id"],),
    ):
        assert f'href="/-/organisations/{p["organisation_id"]}"' in page
    data = (await get(ds, "/-/progres/2020-2021/2.1.json")).json()
    assert data["niveau"] == "action" and len(data["activites"]) == action["nb_activites"]
    assert {f["id"] for f in data["financements"]} == {
        r["financement_id"]
        for r in rows(
            built, "select financement_id from financements_actions where action_id = ?", (action["action_id"],)
        )
    }


async def test_dependencies_are_shown_both_ways(ds, built):
    deps = rows(built, "select * from dependances")
    assert deps, "the plan ties some activities to a postponed step"
    for d in deps:
        page = (await get(ds, f"/-/progres/{d['plan_id']}/{d['element']}")).text
        assert "Ce dont cela dépend" in page
        assert f'href="/-/progres/{d["plan_id"]}/{d["depend_de"]}"' in page and f"« {d['citation']} »" in words(page)
        step = text((await get(ds, f"/-/progres/{d['plan_id']}/{d['depend_de']}")).text)
        assert f'href="/-/progres/{d["plan_id"]}/{d["element"]}">Activité {d["element"]}</a>' in step
    postponed = rows(built, "select numero, citation from statut_activites where statut_declare = 'reporte'")
    for p in postponed:
        page = words((await get(ds, f"/-/progres/2020-2021/{p['numero']}")).text)
        assert "cette activité est « Reporté »" in page and p["citation"] in page


async def test_a_country_code_in_lower_case_leads_to_the_country(ds):
    response = await ds.client.get("/-/pays/ht")
    assert response.status_code == 302 and response.headers["location"] == "/-/pays/HT"
    assert (await ds.client.get("/-/pays/ht.json")).headers["location"] == "/-/pays/HT.json"


@pytest.mark.parametrize("path,message", NOT_FOUND)
async def test_unknown_ids_are_french_404s_in_html_and_json(ds, path, message):
    response = await ds.client.get(path)
    assert response.status_code == 404, path
    assert '<html lang="fr">' in response.text and message in text(response.text)
    as_json = await ds.client.get(path + ".json")
    assert as_json.status_code == 404 and message in as_json.json()["error"]


async def test_objective_pages_link_to_the_pages_of_their_actions_and_activities(ds, built):
    for o in rows(built, "select id, plan_id, numero from objectifs"):
        page = (await get(ds, f"/-/progres/{o['plan_id']}/{o['numero']}")).text
        for a in rows(built, "select numero from actions where objectif_id = ?", (o["id"],)):
            assert f'href="/-/progres/{o["plan_id"]}/{a["numero"]}"' in page and f'id="action-{a["numero"]}"' in page
        for a in rows(built, "select numero from activites where objectif_id = ?", (o["id"],)):
            assert f'href="/-/progres/{o["plan_id"]}/{a["numero"]}"' in page and f'id="activite-{a["numero"]}"' in page


@pytest.mark.parametrize(
    "table,sql,page",
    [
        ("objectifs", "select id, plan_id || '/' || numero as p from objectifs", "/-/progres/{p}"),
        ("actions", "select id, plan_id || '/' || numero as p from actions", "/-/progres/{p}"),
        ("activites", "select id, plan_id || '/' || numero as p from activites", "/-/progres/{p}"),
        ("pays", "select id, id as p from pays", "/-/pays/{p}"),
        ("organisations", "select id, id as p from organisations", "/-/organisations/{p}"),
    ],
)
async def test_row_pages_lead_to_the_page_at_their_top(ds, built, table, sql, page):
    for r in rows(built, sql)[:8]:
        shown = (await get(ds, f"/ciso/{table}/{r['id']}")).text
        link = f'<p class="ciso-page-element-lien"><a href="{page.format(p=r["p"])}">'
        assert link in shown, r["id"]
        assert shown.index(link) < shown.index("<table"), "the link comes before the row's table"


# --------------------------------------------------------------------------- places and partners


async def test_every_country_page_says_what_ciso_does_there_by_status(ds, built):
    for c in rows(built, "select * from pays"):
        page = (await get(ds, f"/-/pays/{c['id']}")).text
        data = (await get(ds, f"/-/pays/{c['id']}.json")).json()
        expected = rows(built, "select activite_id from activites_pays where pays_id = ?", (c["id"],))
        assert {a["activite_id"] for a in data["activites"]} == {e["activite_id"] for e in expected}
        counts = rows(
            built,
            "select statut, sum(nb_activites) as n from statut_par_pays where pays_id = ? group by statut",
            (c["id"],),
        )
        assert sum(n["n"] for n in counts) == len(expected)
        for n in counts:
            assert badge(n["statut"]) + ' title="' in page
        for a in data["activites"]:
            assert f'href="/-/progres/{a["plan_id"]}/{a["numero"]}">Activité {a["numero"]}</a>' in page
        assert f'href="/-/source/{c["plan_id"]}#L{c["relation_citation_ligne"]}"' in page
        for o in rows(built, "select id from organisations where pays_id = ? and id != 'ciso'", (c["id"],)):
            assert f'href="/-/organisations/{o["id"]}"' in page
        for r in rows(built, "select region_id from regions_pays where pays_id = ?", (c["id"],)):
            assert f'href="/-/regions/{r["region_id"]}"' in page


async def test_haiti_page_shows_the_conditional_project_its_partner_and_funding(ds, built):
    page = words((await get(ds, "/-/pays/HT")).text)
    conditional = rows(
        built,
        "select s.numero, s.citation from statut_activites s join activites_pays l on l.activite_id = s.activite_id "
        "where l.pays_id = 'HT' and s.statut_declare = 'conditionnel'",
    )
    assert conditional
    for a in conditional:
        assert f"Activité {a['numero']}" in page and f"« {a['citation']} »" in page
    assert "déclaré : conditionnel" in page
    for p in rows(
        built,
        "select pa.citation from partenariats pa join organisations o on o.id = pa.organisation_id where o.pays_id = 'HT'",
    ):
        assert p["citation"] in page
    assert "Financements" in page and "Positions de plaidoyer" in page


async def test_every_organisation_page_and_the_index(ds, built):
    index = (await get(ds, "/-/organisations")).text
    for o in rows(built, "select id, nom from organisations"):
        assert f'href="/-/organisations/{o["id"]}"' in index
        page = words((await get(ds, f"/-/organisations/{o['id']}")).text)
        assert o["nom"] in page
        for p in rows(built, "select citation from partenariats where organisation_id = ?", (o["id"],)):
            assert p["citation"] in page
        for f in rows(built, "select id from financements where organisation_id = ?", (o["id"],)):
            assert f"/ciso/financements/{f['id']}" in text((await get(ds, f"/-/organisations/{o['id']}")).text)
        data = (await get(ds, f"/-/organisations/{o['id']}.json")).json()
        linked = rows(built, "select activite_id from activites_organisations where organisation_id = ?", (o["id"],))
        assert {a["activite_id"] for a in data["activites"]} == {r["activite_id"] for r in linked}


async def test_countries_index_has_the_map_every_country_and_the_regions(ds, built):
    page = (await get(ds, "/-/pays")).text
    assert "<h1>Où travaille le CISO</h1>" in page and 'data-vega-spec-url="' in page and "carte-pays.vl.json" in page
    for c in rows(built, "select id from pays"):
        assert f'href="/-/pays/{c["id"]}"' in page
    for r in rows(built, "select id from regions"):
        assert f'href="/-/regions/{r["id"]}"' in page
    data = (await get(ds, "/-/pays.json")).json()
    ht = next(c for c in data["pays"] if c["id"] == "HT")
    assert sum(n["nb_activites"] for n in ht["comptes"]) == ht["nb_activites"] > 0
    assert_no_english(page)


async def test_the_map_links_each_country_to_its_page():
    spec = json.loads((ROOT / "static" / "charts" / "carte-pays.vl.json").read_text(encoding="utf-8"))
    layer = spec["layer"][1]
    assert layer["encoding"]["href"]["field"] == "lien"
    assert {"calculate": "'-/pays/' + datum.pays_id", "as": "lien"} in layer["transform"]


async def test_regions_are_curated_from_un_m49_and_cover_every_country(built):
    regions = rows(built, "select * from regions")
    assert regions and all("unstats.un.org/unsd/methodology/m49" in r["source"] for r in regions)
    covered = {r["pays_id"] for r in rows(built, "select pays_id from regions_pays")}
    missing = {c["id"] for c in rows(built, "select id from pays")} - covered
    assert missing == set(), f"add these countries of pays.yml to their groupings in regions.yml: {missing}"
    assert "M49" in (ROOT / "data" / "reference" / "regions.yml").read_text(encoding="utf-8")


async def test_latin_america_page_shows_the_activities_of_its_countries_by_status(ds, built):
    page = (await get(ds, "/-/regions/amerique-latine-caraibes")).text
    expected = rows(
        built,
        "select distinct s.numero, s.statut from regions_pays rp join activites_pays l on l.pays_id = rp.pays_id "
        "join statut_activites s on s.activite_id = l.activite_id where rp.region_id = 'amerique-latine-caraibes'",
    )
    assert expected
    for a in expected:
        assert f"Activité {a['numero']}</a>" in page and badge(a["statut"]) in page
    for c in rows(built, "select pays_id from regions_pays where region_id = 'amerique-latine-caraibes'"):
        assert f'href="/-/pays/{c["pays_id"]}"' in page


async def test_country_and_organisation_facets_link_to_their_pages(ds):
    page = (await get(ds, "/ciso/statut_activites")).text
    assert '<a class="ciso-facette-page" href="/-/pays/HT" aria-label="Page : Haïti">page</a>' in page
    assert 'class="ciso-facette-page" href="/-/organisations/fat"' in page


# --------------------------------------------------------------------------- search


async def search(ds, q: str) -> dict:
    response = await ds.client.get("/-/recherche.json?" + urlencode({"q": q}))
    assert response.status_code == 200
    return response.json()


def hits(payload: dict) -> dict[tuple[str, str], dict]:
    return {(g["table"], r["id"]): r for g in payload["groupes"] for r in g["resultats"]}


@pytest.mark.parametrize(
    "q,region",
    [
        ("Amérique latine", "amerique-latine-caraibes"),
        ("amerique latine", "amerique-latine-caraibes"),
        ("AMERIQUE CENTRALE", "amerique-centrale"),
        ("caraibes", "caraibes"),
        ("Moyen-Orient", "asie-occidentale"),
        ("moyen orient", "asie-occidentale"),
        ("asie du sud", "asie-du-sud"),
    ],
)
async def test_regions_are_searchable_without_accents(ds, q, region):
    found = hits(await search(ds, q))
    assert ("regions", region) in found
    hit = found[("regions", region)]
    assert hit["nature"] == "Région" and hit["page"] == f"/-/regions/{region}"
    page = (await get(ds, "/-/recherche?" + urlencode({"q": q}))).text
    assert f'<a class="ciso-resultat" href="/-/regions/{region}">' in page


@pytest.mark.parametrize("q", ["FAT", "fat", "ICKL", "Front authentique du travail", "institut culturel karl leveque"])
async def test_organisations_are_searchable_by_acronym_and_full_name(ds, built, q):
    found = hits(await search(ds, q))
    orgs = [k for k in found if k[0] == "organisations"]
    assert orgs, q
    for _, oid in orgs:
        assert found[("organisations", oid)]["page"] == f"/-/organisations/{oid}"


async def test_hits_say_what_they_are_show_their_status_and_link_to_their_page(ds, built):
    payload = await search(ds, "haiti")
    found = hits(payload)
    assert found[("pays", "HT")]["page"] == "/-/pays/HT"
    page = (await get(ds, "/-/recherche?q=haiti")).text
    for (table, rid), hit in found.items():
        if table == "activites":
            s = rows(
                built,
                "select statut, statut_declare, plan_id, numero from statut_activites where activite_id = ?",
                (rid,),
            )[0]
            assert hit["statut"] == s["statut"] and hit["statut_declare"] == s["statut_declare"]
            assert hit["page"] == f"/-/progres/{s['plan_id']}/{s['numero']}"
            assert (
                f'<a class="ciso-resultat" href="{hit["page"]}">{hit["libelle"]}</a>\n      {badge(s["statut"])}'
                in page
            )
    assert '<span class="ciso-nature">Activité</span>' in page and '<span class="ciso-nature">Pays</span>' in page
    assert "déclaré : " in page  # 2.1.2: « Conditionnel » behind « Sans bilan publié »
    assert "/ciso/activites/" not in page.split('id="resultats')[1]  # no raw row page as a hit's link


async def test_accents_and_case_do_not_change_what_is_found(ds):
    for plain, accented in [("amerique", "Amérique"), ("haiti", "HAÏTI"), ("leveque", "Lévêque")]:
        assert hits(await search(ds, plain)).keys() == hits(await search(ds, accented)).keys() != set()


async def test_an_empty_result_suggests_nearby_terms_that_find_something(ds):
    payload = await search(ds, "haitii")
    assert payload["total"] == 0 and "Haïti" in [s["q"] for s in payload["suggestions"]]
    for s in payload["suggestions"]:
        assert (await search(ds, s["q"]))["total"] > 0, s
    assert payload["listes"] == {"pays": "/-/pays", "themes": "/ciso/themes"}
    page = text((await get(ds, "/-/recherche?q=haitii")).text)
    assert "Vouliez-vous dire" in page and 'href="/-/recherche?q=Ha%C3%AFti"' in page
    assert 'href="/-/pays"' in page and 'href="/ciso/themes"' in page
    nothing = await search(ds, "xyzzy qwvbn")
    assert nothing["total"] == 0 and nothing["suggestions"] == [] and nothing["listes"]["pays"] == "/-/pays"
    assert "suggestions" not in await search(ds, "haiti")  # only when nothing is found


# --------------------------------------------------------------------------- home


async def test_home_leads_the_public_to_where_and_how_far(ds, built):
    page = (await get(ds, "/")).text
    where = page.index('<h2 id="titre-ou"><a href="/-/pays">Où travaille le CISO</a></h2>')
    how_far = page.index('<h2 id="titre-avancement"><a href="/-/progres">Où en est le plan</a></h2>')
    assert where < how_far < page.index("Pour l'équipe du CISO")  # before the staff's shortcuts
    for c in rows(built, "select pays_id, nom from pays_partenaires"):
        assert f'<a href="/-/pays/{c["pays_id"]}">{html.escape(c["nom"])}</a>' in page
    assert 'href="/-/regions/amerique-latine-caraibes"' in page
    plan = rows(built, "select * from avancement_plans order by plan_id desc limit 1")[0]
    assert f"{plan['nb_elements']} éléments" in page


# --------------------------------------------------------------------------- a site under a prefix


@pytest.mark.parametrize(
    "path,links",
    [
        (
            "/-/pays/HT",
            ["/prefixe/-/progres/2020-2021/2.1.2", "/prefixe/-/organisations/ickl", "/prefixe/-/regions/caraibes"],
        ),
        ("/-/progres/2020-2021/2.1.2", ["/prefixe/-/pays/HT", "/prefixe/-/progres/2020-2021/2.1"]),
        ("/-/recherche?q=haiti", ["/prefixe/-/pays/HT", "/prefixe/-/progres/2020-2021/2.1.2"]),
        ("/", ["/prefixe/-/pays/HT", "/prefixe/-/regions/amerique-latine-caraibes", "/prefixe/-/progres"]),
        ("/ciso/activites/2020-2021-2-1-2", ["/prefixe/-/progres/2020-2021/2.1.2"]),
    ],
)
async def test_links_keep_the_base_url(built, path, links):
    from ciso.site import datasette_kwargs
    from datasette.app import Datasette

    kwargs = datasette_kwargs(export_dir=built.parent / "export")
    kwargs["settings"] = {**kwargs["settings"], "base_url": "/prefixe/"}
    prefixed = Datasette(immutables=[str(built)], **kwargs)
    response = await prefixed.client.get(path)  # the client adds the prefix
    assert response.status_code == 200, path
    for link in links:
        assert f'href="{link}"' in response.text, (path, link)


@pytest.mark.parametrize("path", PUBLIC_PAGES)
async def test_public_pages_are_in_french(ds, path):
    page = (await get(ds, path)).text
    assert '<html lang="fr">' in page
    assert_no_english(page)
