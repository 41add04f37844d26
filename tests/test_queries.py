"""Canned queries for journalists (metadata.yml `queries:`): each one runs on the real data and returns the right rows."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from ciso.markup import plain
from ciso.site import load_metadata
from conftest import REAL_PLAN, plan_lines
from conftest import rows as sql
from test_french_pages import assert_no_english

QUERIES = load_metadata()["databases"]["ciso"]["queries"]
# Every canned query must appear here, with the tests below that check its rows.
TESTED = {
    "activites_par_pays",
    "activites_par_organisation",
    "activites_conditionnelles",
    "positions_et_instruments",
    "financements_selon_statut",
    "actions_sans_suivi",
    "recherche",
    "texte_du_plan",
}


def has_table(db, name) -> bool:
    return bool(sql(db, "select 1 from sqlite_master where name = ?", [name]))


async def run(ds, name, **params) -> list[dict]:
    response = await ds.client.get(f"/ciso/{name}.json?" + urlencode({**params, "_shape": "array"}))
    assert response.status_code == 200, response.text
    return response.json()


def test_every_canned_query_is_tested_and_described():
    assert set(QUERIES) == TESTED
    for name, query in QUERIES.items():
        assert query["title"] and query["description"], name
        # Named parameters are declared, so the form lists them in a useful order.
        assert set(re.findall(r"(?<!:):(\w+)", query["sql"])) == set(query.get("params", [])), name


@pytest.mark.asyncio
async def test_activities_by_country(ds, built):
    expected = [
        r["numero"]
        for r in sql(
            built,
            "select a.numero from activites a join activites_pays ap on ap.activite_id = a.id "
            "where ap.pays_id = 'MX' order by a.ordre",
        )
    ]
    rows = await run(ds, "activites_par_pays", pays="MX")
    assert [r["numero"] for r in rows] == expected and "2.1.3" in expected  # Gomez Palacio: a curated addition
    assert {r["pays"] for r in rows} == {"Mexique"}
    # By name too, without accents or capitals: "haiti" is Haïti.
    haiti = await run(ds, "activites_par_pays", pays="haiti")
    assert {r["pays_id"] for r in haiti} == {"HT"} and "2.1.2" in [r["numero"] for r in haiti]
    assert [r["numero"] for r in haiti] == [r["numero"] for r in await run(ds, "activites_par_pays", pays="Haïti")]
    # Every row cites its line of the plan, and the line holds the activity's text.
    lines = plan_lines(built)
    for r in rows:
        assert r["lien_source"] == f"/-/source/{r['plan_id']}#L{r['ligne']}"
        assert plain(lines[r["plan_id"]][r["ligne"] - 1]) == "- " + r["texte"].split("\n")[0]  # the words, plain
    # Without a country: every link between an activity and a country.
    everything = await run(ds, "activites_par_pays")
    assert len(everything) == sql(built, "select count(*) n from activites_pays")[0]["n"]
    assert await run(ds, "activites_par_pays", pays="Atlantide") == []


@pytest.mark.asyncio
async def test_activities_by_partner_organisation(ds, built):
    linked = sql(
        built,
        "select a.id from activites_organisations l join activites a on a.id = l.activite_id "
        "where l.organisation_id = 'ickl' order by a.ordre",
    )
    assert "2020-2021-2-1-2" in [r["id"] for r in linked]  # « … l'Institut culturel Karl-Lévêque (ICKL) »
    for value in ("ickl", "ICKL", "Karl-Leveque", "institut culturel karl-lévêque"):
        rows = await run(ds, "activites_par_organisation", organisation=value)
        assert [r["activite_id"] for r in rows] == [r["id"] for r in linked], value
        assert {r["organisation_id"] for r in rows} == {"ickl"}
        psoci = next(r for r in rows if r["activite_id"] == "2020-2021-2-1-2")
        status = sql(built, "select statut from statut_activites where activite_id = '2020-2021-2-1-2'")[0]["statut"]
        assert psoci["statut"] == status and psoci["terme"] == "Institut culturel Karl-Lévêque"
    fat = await run(ds, "activites_par_organisation", organisation="FAT")
    expected = sql(built, "select activite_id from activites_organisations where organisation_id = 'fat'")
    assert sorted(r["activite_id"] for r in fat) == sorted(r["activite_id"] for r in expected) and len(fat) >= 3
    assert {r["type_organisation"] for r in fat} == {"Organisation syndicale"}


@pytest.mark.asyncio
async def test_what_depends_on_funding_not_yet_obtained(ds, built):
    rows = await run(ds, "activites_conditionnelles")
    expected = sql(built, "select numero from statut_activites where statut_declare = 'conditionnel' order by ordre")
    assert [r["numero"] for r in rows] == [r["numero"] for r in expected] == ["2.1.2", "2.1.5"]
    assert {r["statut"] for r in rows} == {
        "sans_bilan"
    }  # years after the plan's end: no source says what became of them
    psoci = rows[0]
    assert psoci["citation"] == "Si le PSOCI est obtenu"
    assert set(psoci["pays"].split(", ")) == {"Haïti", "Mexique"}
    assert "Institut culturel Karl-Lévêque" in psoci["organisations"]
    # "Everything conditional on funding in Mexico".
    assert [r["numero"] for r in await run(ds, "activites_conditionnelles", pays="Mexique")] == ["2.1.2"]
    assert [r["numero"] for r in await run(ds, "activites_conditionnelles", pays="mx")] == ["2.1.2"]
    assert await run(ds, "activites_conditionnelles", pays="PS") == []


@pytest.mark.asyncio
async def test_actions_without_any_recorded_progress(ds, built):
    rows = await run(ds, "actions_sans_suivi")
    expected = sql(built, "select numero from statut_actions where sans_suivi = 1 order by ordre")
    assert [r["numero"] for r in rows] == [r["numero"] for r in expected]
    numbers = {r["numero"] for r in rows if r["plan_id"] == "2020-2021"}
    # 1.1 (postponed internship), 1.3, 2.1 and 5.5 (« Poursuivre l'élaboration… ») have statuses stated by the plan.
    assert not numbers & {"1.1", "1.3", "2.1", "5.5"} and {"3.3", "4.2", "5.6"} <= numbers
    over = {r["plan_id"] for r in sql(built, "select plan_id from periodes where terminee = 1")}
    assert all(r["statut"] == "sans_bilan" for r in rows if r["plan_id"] in over)  # past its plan's end
    assert await run(ds, "actions_sans_suivi", plan="1999-2000") == []


@pytest.mark.parametrize(
    "q,expected",
    [
        (
            "securite",
            {("actions", "2020-2021-5-5"), ("activites", "2020-2021-5-5-1"), ("activites", "2020-2021-5-5-2")},
        ),
        ("haiti", {("activites", "2020-2021-2-1-2"), ("objectifs", "2020-2021-2"), ("pays", "HT")}),
        ("protection sociale", {("activites", "2020-2021-1-4-5"), ("actions", "2020-2021-1-4")}),
        ("equipe", {("passages", "2020-2021-L29")}),
    ],
)
@pytest.mark.asyncio
async def test_full_text_search_query(ds, q, expected):
    rows = await run(ds, "recherche", q=q)
    found = {(r["table_source"], r["id"]) for r in rows}
    assert expected <= found
    assert all("<mark>" in r["extrait"] for r in rows)
    assert all(r["lien_source"] == f"/-/source/{r['plan_id']}#L{r['ligne']}" for r in rows)


@pytest.mark.asyncio
async def test_full_text_search_query_highlights_the_accented_words(ds):
    rows = await run(ds, "recherche", q="securite")
    activity = next(r for r in rows if r["id"] == "2020-2021-5-5-1")
    assert "<mark>sécurité</mark>" in activity["extrait"]
    # Passages already published as an objective, action or activity are not repeated.
    assert not [r for r in rows if r["table_source"] == "passages"]


@pytest.mark.parametrize(
    "q,finds_5_5",
    [('"securite', True), ("-securite", True), ("securite*", True), ("SÉCURITÉ", True), ('"', False), ("***", False)]
    + [("NEAR(", False), ("securite OR", False), ("", False), ("  ", False)],
)
@pytest.mark.asyncio
async def test_full_text_search_query_survives_any_input(ds, q, finds_5_5):
    """Quotes, stars, minus signs and operators are text: never an FTS5 syntax error."""
    rows = await run(ds, "recherche", q=q)
    assert (("actions", "2020-2021-5-5") in {(r["table_source"], r["id"]) for r in rows}) is finds_5_5


@pytest.mark.asyncio
async def test_text_of_the_plan_between_two_lines(ds, built):
    lines = REAL_PLAN.read_text(encoding="utf-8").split("\n")
    rows = await run(ds, "texte_du_plan", plan="2020-2021", debut="186", fin="190")
    assert [r["ligne"] for r in rows] == [186, 187, 188, 189, 190]
    assert [r["texte"] for r in rows] == lines[185:190]
    assert rows[2]["texte"] == "5.5 Sécurité"
    # The plan defaults to the latest one; no bounds gives the whole file.
    latest = sql(built, "select max(id) as id from plans")[0]["id"]
    assert await run(ds, "texte_du_plan", debut="2", fin="3") == await run(
        ds, "texte_du_plan", plan=latest, debut="2", fin="3"
    )
    whole = plan_lines(built)[latest]
    assert len(await run(ds, "texte_du_plan")) == len(whole) - (whole[-1] == "")


@pytest.mark.asyncio
async def test_advocacy_positions_with_instruments_and_activities(ds, built):
    rows = await run(ds, "positions_et_instruments")
    assert len(rows) == sql(built, "select count(*) n from positions")[0]["n"] > 0
    links = sql(built, "select position_id, instrument_id from positions_instruments")
    for r in rows:
        for link in (x for x in links if x["position_id"] == r["id"]):
            assert link["instrument_id"] in (r["instruments_oit"] or "")
        activities = sql(
            built,
            "select a.numero from positions_actions pa join activites a on a.action_id = pa.action_id "
            "where pa.position_id = ?",
            [r["id"]],
        )
        assert sorted((r["activites_liees"] or "").split(", ") if activities else []) == sorted(
            a["numero"] for a in activities
        )
    by_id = {r["id"]: r for r in rows}
    assert by_id["ratification-c189-c169"]["instruments_oit"].count("C1") == 2
    assert "1.4.2" in by_id["ratification-c189-c169"]["activites_liees"].split(", ")
    assert by_id["ratification-c189-c169"]["lien_source"] == "/-/source/2020-2021#L64"
    if links:
        instrument = links[0]["instrument_id"]
        filtered = await run(ds, "positions_et_instruments", instrument=instrument.lower())
        assert filtered and all(instrument in r["instruments_oit"] for r in filtered)


@pytest.mark.asyncio
async def test_funding_sources_by_status(ds, built):
    rows = await run(ds, "financements_selon_statut")
    assert len(rows) == sql(built, "select count(*) n from financements")[0]["n"] > 0
    assert [r["nom"] for r in rows if r["statut"] == "en_attente"] == [
        "Plan de soutien aux organismes de coopération internationale"
    ]
    order = [r["id"] for r in sql(built, "select id from statuts_financement order by ordre")]
    assert order[:2] == ["obtenu", "existant"] and order[-1] == "termine"
    ranks = [order.index(r["statut"]) for r in rows]
    assert ranks == sorted(ranks)
    for statut in {r["statut"] for r in rows}:
        only = await run(ds, "financements_selon_statut", statut=statut)
        expected = sql(built, "select count(*) n from financements where statut = ?", [statut])[0]["n"]
        assert len(only) == expected and {r["statut"] for r in only} == {statut}


@pytest.mark.asyncio
async def test_canned_query_pages_are_french_and_cite_their_lines(ds):
    response = await ds.client.get("/ciso/activites_conditionnelles")
    assert response.status_code == 200
    page = response.text
    assert_no_english(page)
    assert "<h1" in page and "Ce qui dépend d&#39;un financement pas encore obtenu" in page
    assert '<a href="/-/source/2020-2021#L82">2020-2021, ligne 82</a>' in page
    # Ids link to their rows, with their labels.
    assert '<a href="/ciso/actions/2020-2021-2-1">2.1 Gestion de projets</a>' in page
    search = (await ds.client.get("/ciso/recherche?q=securite")).text
    assert '<td class="col-extrait">' in search and "<mark>sécurité</mark>" in search
    assert '<a href="/ciso/actions/2020-2021-5-5">2020-2021-5-5</a>' in search
    equipe = (await ds.client.get("/ciso/recherche?q=equipe")).text
    assert '<a href="/ciso/passages/2020-2021-L29">2020-2021-L29</a>' in equipe


@pytest.mark.asyncio
async def test_canned_queries_are_listed_on_the_database_page(ds):
    page = (await ds.client.get("/ciso")).text
    for name, query in QUERIES.items():
        assert f'href="/ciso/{name}"' in page, name
        assert query["title"].replace("'", "&#39;") in page, name
