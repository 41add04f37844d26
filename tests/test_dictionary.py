"""The data dictionary: two tables the build writes (every column of every table), and /-/dictionnaire."""

from __future__ import annotations

import csv
import io
import sqlite3

import pytest
from ciso.site import load_metadata
from test_french_pages import assert_no_english
from test_site import described_tables

pytestmark = pytest.mark.asyncio


async def dictionary(ds) -> dict[str, dict]:
    """{table: its dictionnaire_tables row, with "colonnes": its dictionnaire rows}, from Datasette's JSON."""
    tables = await ds.client.get("/ciso/dictionnaire_tables.json?_shape=array&_size=max")
    columns = await ds.client.get("/ciso/dictionnaire.json?_shape=array&_size=max&_sort=ordre")
    assert tables.status_code == columns.status_code == 200
    result = {t["table"]: {**t, "colonnes": []} for t in tables.json()}
    for c in columns.json():
        result[c["table"]]["colonnes"].append(c)
    return result


async def test_dictionary_covers_every_column_of_every_table(ds, built):
    tables = await dictionary(ds)
    actual = described_tables(built)  # PRAGMA table_info of every table (FTS indexes aside)
    assert set(tables) == set(actual)
    described = load_metadata()["databases"]["ciso"]["tables"]
    for name, columns in actual.items():
        assert [c["colonne"] for c in tables[name]["colonnes"]] == columns, name
        assert tables[name]["nb_colonnes"] == len(columns)
        assert tables[name]["titre"] == described[name]["title"], name
        assert tables[name]["description"] == described[name]["description"], name
        for c in tables[name]["colonnes"]:
            assert c["description"] == described[name]["columns"][c["colonne"]] and c["type"], (name, c["colonne"])
    with sqlite3.connect(built) as conn:
        for name in ("activites", "statut_activites", "plans", "dictionnaire", "dictionnaire_tables"):
            assert tables[name]["lignes"] == conn.execute(f"select count(*) from {name}").fetchone()[0]
        computed = {r[0] for r in conn.execute("select nom from calculs")}
    assert {n for n, t in tables.items() if t["nature"] == "table calculée"} == computed


async def test_dictionary_gives_types_examples_and_codes(ds, built):
    tables = {name: {c["colonne"]: c for c in t["colonnes"]} for name, t in (await dictionary(ds)).items()}
    assert tables["activites"]["ligne"]["type"] == "entier"
    assert tables["activites"]["texte"]["type"] == "texte"
    assert tables["activites"]["pays"]["type"] == "tableau JSON d'identifiants"
    assert tables["statut_activites"]["pays"]["type"] == "tableau JSON d'identifiants"  # a rollup's copy
    with sqlite3.connect(built) as conn:
        first_plan = conn.execute("select id from plans").fetchone()[0]
        statuts = conn.execute("select id, libelle from statuts order by id").fetchall()
        pays = conn.execute("select id, nom from pays order by id").fetchall()
    assert tables["plans"]["id"]["exemple"] == first_plan

    def allowed(column: dict) -> list[tuple[str, str]]:
        return [tuple(line.split(" : ", 1)) for line in column["valeurs_permises"].splitlines()]

    # Codes list their allowed values with labels: the statuses, on the table and on the rollups, whose
    # foreign keys the database now declares.
    for table in ("suivi", "statut_activites", "statut_actions"):
        assert tables[table]["statut"]["renvoie_a"] == "statuts"
        assert allowed(tables[table]["statut"]) == statuts
    assert allowed(tables["activites"]["pays"]) == pays
    assert allowed(tables["organisations"]["pays_id"]) == pays
    assert {v for v, _ in allowed(tables["organisations"]["type"])} >= {"fondation", "reseau"}
    # Links to tables that are not code lists name the table instead.
    assert tables["activites"]["action_id"]["renvoie_a"] == "actions"
    assert tables["statut_activites"]["action_id"]["renvoie_a"] == "actions"
    assert tables["activites"]["action_id"]["valeurs_permises"] == ""
    assert tables["passages"]["type"]["renvoie_a"] is None  # a free text column, not a code


async def test_the_former_downloads_redirect_to_the_table(ds):
    for old, new in (
        ("/-/dictionnaire.csv", "/ciso/dictionnaire.csv?_stream=on"),
        ("/-/dictionnaire.json", "/ciso/dictionnaire.json?_shape=array&_size=max"),
    ):
        response = await ds.client.get(old)
        assert response.status_code == 302 and response.headers["location"] == new
    response = await ds.client.get("/ciso/dictionnaire.csv?_stream=on")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {"table", "colonne", "type", "description", "exemple", "valeurs_permises"} <= set(rows[0])
    row = next(r for r in rows if (r["table"], r["colonne"]) == ("statut_activites", "statut"))
    assert "conditionnel : Conditionnel" in row["valeurs_permises"]


async def test_dictionary_page_is_french(ds):
    response = await ds.client.get("/-/dictionnaire")
    assert response.status_code == 200
    page = response.text
    assert_no_english(page)
    assert "<h1>Dictionnaire des données</h1>" in page
    assert '<h2 id="titre-activites"><code>activites</code> — Activités</h2>' in page
    assert '<tr id="activites-pays">' in page and "<li><code>MX</code> : Mexique</li>" in page
    assert 'href="/ciso/dictionnaire.csv?_stream=on"' in page and 'href="/ciso/dictionnaire_tables"' in page
    assert '<li><a href="/-/dictionnaire">Dictionnaire des données</a></li>' in page  # menu
    assert 'href="/ciso/calculs/statut_activites">sa requête dans la table calculs</a>' in page
