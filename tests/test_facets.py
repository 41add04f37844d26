"""Faceted browsing for staff: default facets from metadata.yml, shown by name, ids kept in the links."""

from __future__ import annotations

import html
import re
import sqlite3

import pytest
from ciso.site import load_metadata
from test_french_pages import assert_no_english

TABLES = load_metadata()["databases"]["ciso"]["tables"]


def count(db, sql, params=()):
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchone()[0]


def facet_values(page: str, column: str) -> dict[str, tuple[str, int]]:
    """{id: (label shown, count)} of one facet block of a table page."""
    blocks = re.findall(rf'<div class="facet-info [^"]*" id="facet-{column}".*?</ul>', page, re.S)
    assert len(blocks) == 1, f"{len(blocks)} facet blocks for {column}"
    values = {}
    for value, label, n in re.findall(
        r'data-facet-value="([^"]*)">([^<]*)</(?:a|span)>(?: &middot;)? ([\d\u202f]+)', blocks[0]
    ):
        values[html.unescape(value)] = (html.unescape(label), int(n.replace("\u202f", "")))
    return values


def configured(table: str) -> list[str]:
    return [f if isinstance(f, str) else next(iter(f.values())) for f in TABLES[table].get("facets", [])]


def test_default_facets_are_configured():
    assert configured("activites") == ["objectif_id", "action_id", "pays", "organisations", "instruments", "themes"]
    assert {"objectif_id", "pays", "organisations", "instruments", "themes"} <= set(configured("actions"))
    assert {"type", "pays_id"} <= set(configured("organisations"))
    # The status is not a column of activites: it is faceted on the current-status view, with the same arrays.
    assert {"objectif_id", "action_id", "statut", "pays", "organisations", "instruments", "themes"} <= set(
        configured("statut_activites")
    )
    assert {"statut", "pays", "organisations", "themes"} <= set(configured("statut_actions"))


@pytest.mark.asyncio
async def test_array_facet_by_country_shows_mexico_with_its_count(ds, built):
    response = await ds.client.get("/ciso/activites?_facet_array=pays")
    assert response.status_code == 200
    page = response.text
    assert_no_english(page)
    mexico = count(
        built, "select count(*) from activites where exists (select 1 from json_each(pays) where value = 'MX')"
    )
    assert mexico == count(built, "select count(*) from activites_pays where pays_id = 'MX'") >= 5
    pays = facet_values(page, "pays")
    assert pays["MX"] == ("Mexique", mexico)
    assert pays["HT"][0] == "Haïti"
    # The link keeps the id.
    assert 'href="http://localhost/ciso/activites?_facet_array=pays&amp;pays__arraycontains=MX"' in page


@pytest.mark.asyncio
async def test_facet_labels_are_names_not_ids(ds):
    page = (await ds.client.get("/ciso/activites")).text
    assert facet_values(page, "organisations")["ickl"][0] == "Institut culturel Karl-Lévêque (ICKL)"
    assert facet_values(page, "instruments")["C189"][0].startswith("C189 — ")
    assert facet_values(page, "themes")["securite"][0] == "Sécurité"
    assert facet_values(page, "action_id")["2020-2021-5-5"][0] == "5.5 Sécurité"
    assert facet_values(page, "objectif_id")["2020-2021-4"][0].startswith("Objectif 4 (2020-2021) : Élargir")
    organisations = (await ds.client.get("/ciso/organisations")).text
    assert facet_values(organisations, "type")["fondation"][0] == "Fondation"
    assert facet_values(organisations, "pays_id")["MX"][0] == "Mexique"


@pytest.mark.asyncio
async def test_status_facets_on_the_current_status_view(ds, built):
    page = (await ds.client.get("/ciso/statut_activites")).text
    # (No English check here: the view page shows its SQL, which says row_number().)
    assert '<html lang="fr">' in page and 'Pays <code class="ciso-nom-colonne">pays</code> (tableau)' in page
    statuts = facet_values(page, "statut")
    for code, n in sqlite3.connect(built).execute("select statut, count(*) from statut_activites group by statut"):
        label = count(built, "select libelle from statuts where id = ?", [code])
        assert statuts[code] == (label, n)
    assert facet_values(page, "sans_suivi")["1"][0] == "aucun suivi publié"
    mexico = count(built, "select count(*) from activites_pays where pays_id = 'MX'")
    assert facet_values(page, "pays")["MX"] == ("Mexique", mexico)
    declared = facet_values(page, "statut_declare")  # what the sources last said, labelled too
    assert declared["conditionnel"] == ("Conditionnel", 2) and declared["prevu"][0] == "Prévu"
    actions = (await ds.client.get("/ciso/statut_actions")).text
    assert facet_values(actions, "statut_declare")["prevu"][0] == "Prévu"


@pytest.mark.asyncio
async def test_conditional_on_funding_in_mexico_in_two_clicks(ds):
    home = (await ds.client.get("/")).text
    link = re.search(r'<a href="([^"]+)">Activités conditionnelles au financement, par pays</a>', home)
    assert link
    page = (await ds.client.get(html.unescape(link[1]))).text
    pays = facet_values(page, "pays")
    assert pays["MX"] == ("Mexique", 1) and pays["HT"] == ("Haïti", 1)
    mexico = re.search(r'<a href="([^"]+)" title="MX" data-facet-value="MX">Mexique</a>', page)
    result = (await ds.client.get(html.unescape(mexico[1]).replace("http://localhost", ""))).text
    assert re.findall(r'<td class="col-numero[^"]*"[^>]*>([\d.]+)</td>', result) == ["2.1.2"]
    assert "Si le PSOCI est obtenu" in result
