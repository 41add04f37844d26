"""The data dictionary /-/dictionnaire: every column of every table and view, generated, also in CSV and JSON."""

from __future__ import annotations

import csv
import io
import sqlite3

import pytest
from ciso.site import load_metadata
from test_french_pages import assert_no_english
from test_site import described_tables

pytestmark = pytest.mark.asyncio


async def dictionary(ds) -> list[dict]:
    response = await ds.client.get("/-/dictionnaire.json")
    assert response.status_code == 200
    return response.json()["tables"]


async def test_dictionary_covers_every_column_of_every_table(ds, built):
    tables = {t["table"]: t for t in await dictionary(ds)}
    actual = described_tables(built)  # PRAGMA table_info of every table and view (FTS indexes aside)
    assert set(tables) == set(actual)
    for name, columns in actual.items():
        assert [c["colonne"] for c in tables[name]["colonnes"]] == columns, name
        assert tables[name]["description"] and tables[name]["titre"], name
        for c in tables[name]["colonnes"]:
            assert c["description"] and c["type"], (name, c["colonne"])
    with sqlite3.connect(built) as conn:
        for name in ("activites", "statut_activites", "plans"):
            assert tables[name]["lignes"] == conn.execute(f"select count(*) from {name}").fetchone()[0]


async def test_dictionary_gives_types_examples_and_codes(ds, built):
    tables = {t["table"]: {c["colonne"]: c for c in t["colonnes"]} for t in await dictionary(ds)}
    assert tables["activites"]["ligne"]["type"] == "entier"
    assert tables["activites"]["texte"]["type"] == "texte"
    assert tables["activites"]["pays"]["type"] == "tableau JSON d'identifiants"
    with sqlite3.connect(built) as conn:
        first_plan = conn.execute("select id from plans").fetchone()[0]
        statuts = conn.execute("select id, libelle from statuts order by id").fetchall()
        pays = conn.execute("select id, nom from pays order by id").fetchall()
    assert tables["plans"]["id"]["exemple"] == first_plan
    # Codes list their allowed values with labels: the statuses, on the table and on the views.
    for table in ("suivi", "statut_activites", "statut_actions"):
        assert [(v["valeur"], v["libelle"]) for v in tables[table]["statut"]["valeurs_permises"]] == statuts
    assert [(v["valeur"], v["libelle"]) for v in tables["activites"]["pays"]["valeurs_permises"]] == pays
    assert [(v["valeur"], v["libelle"]) for v in tables["organisations"]["pays_id"]["valeurs_permises"]] == pays
    assert {v["valeur"] for v in tables["organisations"]["type"]["valeurs_permises"]} >= {"fondation", "reseau"}
    # Links to tables that are not code lists name the table instead.
    assert tables["activites"]["action_id"]["renvoie_a"] == "actions"
    assert tables["activites"]["action_id"]["valeurs_permises"] == []
    assert tables["passages"]["type"]["renvoie_a"] is None  # a free text column, not a code


async def test_dictionary_csv_opens_in_excel(ds, built):
    response = await ds.client.get("/-/dictionnaire.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert list(rows[0]) == ["table", "colonne", "type", "description", "exemple", "valeurs_permises"]
    assert len(rows) == sum(len(c) for c in described_tables(built).values())
    row = next(r for r in rows if (r["table"], r["colonne"]) == ("statut_activites", "statut"))
    assert "conditionnel : Conditionnel" in row["valeurs_permises"]
    assert row["description"] == load_metadata()["databases"]["ciso"]["tables"]["statut_activites"]["columns"]["statut"]
    row = next(r for r in rows if (r["table"], r["colonne"]) == ("activites", "objectif_id"))
    assert row["valeurs_permises"] == "un identifiant de la table objectifs"


async def test_dictionary_page_is_french(ds):
    response = await ds.client.get("/-/dictionnaire")
    assert response.status_code == 200
    page = response.text
    assert_no_english(page)
    assert "<h1>Dictionnaire des données</h1>" in page
    assert '<h2 id="titre-activites"><code>activites</code> — Activités</h2>' in page
    assert '<tr id="activites-pays">' in page and "<li><code>MX</code> : Mexique</li>" in page
    assert 'href="/-/dictionnaire.csv"' in page
    assert '<li><a href="/-/dictionnaire">Dictionnaire des données</a></li>' in page  # menu
