"""The site's search page /-/recherche: accent-insensitive, grouped by table, safe with any input."""

from __future__ import annotations

import html
import re
from urllib.parse import urlencode

import pytest
from test_french_pages import assert_no_english


async def search_json(ds, q: str) -> dict:
    response = await ds.client.get("/-/recherche.json?" + urlencode({"q": q}))
    assert response.status_code == 200, response.text
    return response.json()


def found(payload: dict) -> set[tuple[str, str]]:
    return {(g["table"], r["id"]) for g in payload["groupes"] for r in g["resultats"]}


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "plain,accented,expected",
    [
        ("securite", "Sécurité", ("actions", "2020-2021-5-5")),
        ("haiti", "Haïti", ("pays", "HT")),
        ("elargir", "Élargir", ("objectifs", "2020-2021-4")),
        ("equipe", "ÉQUIPE", ("passages", "2020-2021-L29")),
        ("travailleuses", "TRAVAILLEUSES", ("objectifs", "2020-2021-1")),
    ],
)
async def test_search_ignores_accents_and_case(ds, plain, accented, expected):
    without, with_accents = await search_json(ds, plain), await search_json(ds, accented)
    assert expected in found(without)
    assert found(without) == found(with_accents)
    # The snippet shows the plan's own (accented) spelling, highlighted.
    snippets = " ".join(r["extrait"] for g in without["groupes"] for r in g["resultats"])
    assert re.search(rf"<mark>{re.escape(accented)}</mark>", snippets, re.IGNORECASE)


@pytest.mark.asyncio
async def test_search_page_groups_results_by_table(ds):
    response = await ds.client.get("/-/recherche?q=securite")
    assert response.status_code == 200
    page = response.text
    assert_no_english(page)
    assert '<html lang="fr">' in page and "<title>« securite » : recherche — CISO</title>" in page
    found = (await ds.client.get("/-/recherche.json?q=securite")).json()  # the page's own numbers
    assert f"<strong>{found['total']}</strong> résultats pour « securite »" in page and found["total"] >= 4
    groups = {g["table"]: g for g in found["groupes"]}
    assert groups["actions"]["nombre"] >= 1 and groups["activites"]["nombre"] >= 2
    for group in found["groupes"]:
        heading = f'<h2 id="titre-{group["table"]}">{group["titre"]} <span class="ciso-compte">({group["nombre"]})</span></h2>'
        assert heading in page
    # Each result says what it is, links to its page (not the raw row) and to its line of the plan,
    # with the snippet highlighted and, for an action or activity, its status.
    assert '<span class="ciso-nature">Action</span>' in page
    assert '<a class="ciso-resultat" href="/-/progres/2020-2021/5.5">5.5 Sécurité</a>' in page
    assert '<a class="ciso-ligne" href="/-/source/2020-2021#L188">Ligne 188 du plan 2020-2021</a>' in page
    assert "<mark>sécurité</mark> porté par le réseau de l&#39;AQOCI" in page
    # The same rows as the journalists' canned query, which the page links to.
    assert 'href="/ciso/recherche?q=securite"' in page


@pytest.mark.asyncio
@pytest.mark.parametrize("q", ["securite", "haiti", "protection sociale", "travailleuses migrants"])
async def test_search_page_and_canned_query_agree(ds, q):
    payload = await search_json(ds, q)
    rows = (await ds.client.get("/ciso/recherche.json?" + urlencode({"q": q, "_shape": "array"}))).json()
    assert found(payload) == {(r["table_source"], r["id"]) for r in rows}
    assert payload["total"] == len(rows) > 0
    assert [g["nombre"] for g in payload["groupes"]] == [len(g["resultats"]) for g in payload["groupes"]]


@pytest.mark.asyncio
async def test_several_words_must_all_be_present(ds):
    both = found(await search_json(ds, "protection sociale"))
    assert ("activites", "2020-2021-1-4-5") in both and ("themes", "protection-sociale") in both
    assert both <= found(await search_json(ds, "protection"))
    assert found(await search_json(ds, "protection atlantide")) == set()


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "q,message",
    [
        ('"', "Saisissez au moins un mot"),
        ("*** -- ()", "Saisissez au moins un mot"),
        ("x" * 201, "trop longue"),
    ],
)
async def test_junk_queries_get_a_french_message(ds, q, message):
    response = await ds.client.get("/-/recherche?" + urlencode({"q": q}))
    assert response.status_code == 200
    assert message in html.unescape(response.text)
    assert_no_english(response.text)
    api = await ds.client.get("/-/recherche.json?" + urlencode({"q": q}))
    assert api.status_code == 400 and message in api.json()["erreur"]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "q", ['"securite', "securite*", "-securite", "securite OR haiti", "NEAR(securite", "^securite"]
)
async def test_operators_are_plain_text(ds, q):
    response = await ds.client.get("/-/recherche?" + urlencode({"q": q}))
    assert response.status_code == 200
    assert 'class="ciso-resume"' in response.text and "message-warning" not in response.text  # run, not refused
    found = (await ds.client.get("/-/recherche.json?" + urlencode({"q": q}))).json()
    assert found["ok"] is True and found["q"] == q
    if re.sub(r"\W", "", q) == "securite":  # the operator is a character like any other: the word alone
        plain = (await ds.client.get("/-/recherche.json?q=securite")).json()
        assert found["total"] == plain["total"] > 0


@pytest.mark.asyncio
async def test_empty_search_shows_the_form(ds):
    page = (await ds.client.get("/-/recherche")).text
    assert '<input type="search" id="ciso-q" name="q" value=""' in page
    assert "ciso-resume" not in page and "ciso-groupe" not in page and "message-warning" not in page
    assert (await ds.client.get("/-/recherche.json")).status_code == 400


@pytest.mark.asyncio
async def test_search_is_in_the_menu(ds):
    page = (await ds.client.get("/ciso")).text
    assert '<li><a href="/-/recherche">Recherche</a></li>' in page
