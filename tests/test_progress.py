"""Objective progress: sourced statuses, rollup views, pages, and the staff CLI."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
import pytest_asyncio
from ciso.build import build
from ciso.cli import cli
from ciso.fr import date_fr
from ciso.site import datasette_kwargs
from click.testing import CliRunner
from conftest import DATA, REAL_PLAN, plans_own_words
from conftest import rows as query
from datasette.app import Datasette
from test_plan_parser import line_of

LOG_HEADER = "date,plan,element,statut,avancement,note,preuve,par\n"


# --- the plan's own statuses -------------------------------------------------------------


def statuses(db) -> list[str]:
    return [r["id"] for r in query(db, "select id from statuts order by ordre")]


def bullets_of(number: str) -> list[str]:
    """The bullets of an action, read from the plan file independently of the parser."""
    lines = REAL_PLAN.read_text(encoding="utf-8").split("\n")
    start = lines.index(next(x for x in lines if x.startswith(f"{number} ")))
    found = []
    for line in lines[start + 1 :]:
        if re.match(r"^\d+\.\d+ |^OBJECTIF ", line):
            break
        if line.startswith("- "):
            found.append(line)
    return found


def test_every_statement_of_the_plan_quotes_its_own_element(built):
    stated = query(built, "select * from suivi where source = 'plan'")
    assert len(stated) >= 5
    for row in stated:
        major, minor, rank = row["element"].split(".")
        assert row["citation_markup"] in bullets_of(f"{major}.{minor}")[int(rank) - 1], row
        assert row["regle"], row  # every statement of the real plan is read by a rule


def curated_entry(data, text: str) -> Path:
    path = data / "suivi" / "statuts-du-plan.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("[]", text), encoding="utf-8")
    return path


def test_wrong_quotation_fails_the_build_with_file_and_line(data_copy, tmp_path):
    path = curated_entry(
        data_copy,
        '- plan: 2020-2021\n  element: "4.4.2"\n  statut: en_cours\n  citation: "Production d\'un bulletin hebdomadaire"\n',
    )
    text = path.read_text(encoding="utf-8")
    db = tmp_path / "ciso.db"
    db.write_bytes(b"previous database")
    result = CliRunner().invoke(cli, ["build", "--data", str(data_copy), "--db", str(db)])
    assert result.exit_code == 1
    assert (
        f"{path}:{line_of(text, 'bulletin hebdomadaire')}: citation introuvable mot pour mot dans le texte de 4.4.2"
        in result.output
    )
    assert db.read_bytes() == b"previous database"


def test_quotation_from_another_item_is_refused(data_copy):
    curated_entry(
        data_copy,
        '- plan: 2020-2021\n  element: "2.1.3"\n  statut: conditionnel\n  citation: "Si le PSOCI est obtenu"\n',
    )
    result = CliRunner().invoke(cli, ["check", "--data", str(data_copy)])
    assert result.exit_code == 1
    assert "citation introuvable mot pour mot dans le texte de 2.1.3" in result.output
    assert "elle se trouve ailleurs dans le plan" in result.output


def test_a_curated_statement_cannot_read_again_what_a_rule_reads(data_copy):
    path = curated_entry(
        data_copy, '- plan: 2020-2021\n  element: "2.1.2"\n  statut: prevu\n  citation: "Si le PSOCI est obtenu"\n'
    )
    result = CliRunner().invoke(cli, ["check", "--data", str(data_copy)])
    assert result.exit_code == 1
    assert (
        f"{path}:{line_of(path.read_text(encoding='utf-8'), '- plan:')}: 2020-2021 2.1.2 : la règle S2" in result.output
    )
    assert "une même formulation, un même statut" in result.output


@pytest.fixture(scope="module")
def during(tmp_path_factory):
    """The plans' own words (data/, with no recorded update), built on the last day of the
    2020-2021 plan's assumed period (2021-03-31)."""
    root = tmp_path_factory.mktemp("pendant")
    data = plans_own_words(root / "data", until="2020-2021")  # later plans do not exist yet on that day
    build(data, root / "ciso.db", today=dt.date(2021, 3, 31))
    return root / "ciso.db"


def test_real_statuses_are_exactly_what_the_plan_says(during):
    current = {r["numero"]: r for r in query(during, "select * from statut_activites where plan_id = '2020-2021'")}
    stated = {  # (status, rule): the plan's own words, each read by a rule of readings.py
        "1.1.1": ("reporte", "S1"),  # « sera reporté à l'année 2021-2022 »
        "1.1.2": ("prevu", "S5"),  # « se tiendront en 2020-2021 »
        "1.2.1": ("en_cours", "S4"),  # « nous continuons à offrir »
        "1.3.2": ("en_cours", "S4"),  # « Poursuite de l'appui »
        "1.4.2": ("en_cours", "S4"),  # « Poursuite des démarches »
        "2.1.1": ("en_cours", "S3"),  # « Jusqu'à décembre 2020 »
        "2.1.2": ("conditionnel", "S2"),  # « Si le PSOCI est obtenu »
        "2.1.5": ("conditionnel", "S2"),  # « s'ils sont obtenus »
        "2.3.1": ("en_cours", "S4"),  # « Maintenir nos alliances »
        "5.5.2": ("en_cours", "S4"),  # « Poursuivre l'élaboration »
    }
    for numero, row in current.items():
        if numero in stated:
            assert (row["statut_declare"], row["regle"], row["source"], row["sans_suivi"]) == (
                *stated[numero],
                "plan",
                0,
            ), numero
            assert row["citation_markup"] in REAL_PLAN.read_text(encoding="utf-8").split("\n")[row["suivi_ligne"] - 1]
        else:
            assert (row["statut_declare"], row["source"], row["sans_suivi"]) == ("prevu", None, 1), numero
    assert current["2.1.1"]["date_fin"] == "2020-12-31"
    # On 2021-03-31 the period is not over, but 2.1.1 was due at the end of December 2020.
    assert {n for n, r in current.items() if r["statut"] != r["statut_declare"]} == {"2.1.1"}
    assert current["2.1.1"]["statut"] == "sans_bilan"
    # Nothing is done unless a source says so.
    assert query(during, "select count(*) n from statut_elements where statut = 'realise'")[0]["n"] == 0


def test_real_rollups(built, during):
    for db in (built, during):
        plan = query(db, "select * from avancement_plans where plan_id = '2020-2021'")[0]
        elements = query(db, "select * from statut_elements where plan_id = '2020-2021'")
        assert plan["nb_elements"] == len(elements) == 62  # 60 activities + 3.3 and 4.2, which have none
        for status in statuses(db):
            assert plan[f"nb_{status}"] == sum(e["statut"] == status for e in elements), status
        assert plan["nb_sans_suivi"] == sum(e["sans_suivi"] for e in elements)
        latest = query(db, "select max(date) d from suivi where plan_id = '2020-2021' and source = 'mise_a_jour'")[0][
            "d"
        ]
        assert plan["derniere_mise_a_jour"] == latest
    assert query(during, "select derniere_mise_a_jour from avancement_plans")[0]["derniere_mise_a_jour"] is None
    objectives = query(during, "select numero, nb_elements from avancement_objectifs where plan_id = '2020-2021'")
    assert [(o["numero"], o["nb_elements"]) for o in objectives] == [(1, 15), (2, 11), (3, 5), (4, 13), (5, 18)]
    actions = {r["numero"]: r for r in query(during, "select * from statut_actions")}
    assert (actions["2.1"]["statut"], actions["2.1"]["statut_de"]) == ("sans_bilan", "activites")  # 2.1.1 is due
    assert (actions["2.1"]["statut_declare"], actions["1.1"]["statut"]) == ("en_cours", "prevu")
    assert (actions["1.1"]["nb_reporte"], actions["1.1"]["nb_dependantes"]) == (1, 1)  # 1.1.1; 1.1.4 tied to it
    assert (actions["3.3"]["statut"], actions["3.3"]["sans_suivi"]) == ("prevu", 1)


def test_no_planned_element_after_the_end_of_its_plan_without_a_closing_source(built):
    """Built today, years after 31 March 2021: nothing is « Prévu », « Conditionnel » or « En cours » any more."""
    period = query(built, "select * from periodes where plan_id = '2020-2021'")[0]
    assert period["terminee"] == 1 and period["date_reference"] > period["fin"]
    for e in query(built, "select * from statut_elements"):
        if e["statut_declare"] in ("prevu", "conditionnel", "en_cours"):
            assert e["statut"] == "sans_bilan", e
        else:
            assert e["statut"] == e["statut_declare"], e
    assert query(
        built, "select nb_prevu, nb_conditionnel, nb_en_cours from avancement_plans where plan_id = '2020-2021'"
    )[0] == {
        "nb_prevu": 0,
        "nb_conditionnel": 0,
        "nb_en_cours": 0,
    }


# --- pages on the real data ----------------------------------------------------------------


@pytest.mark.asyncio
async def test_progress_page_numbers_equal_the_views(ds, built):
    html = (await ds.client.get("/-/progres")).text
    data = (await ds.client.get("/-/progres.json")).json()
    latest = query(built, "select max(id) as id from plans")[0]["id"]  # the overview details the latest plan
    objectives = query(built, "select * from avancement_objectifs where plan_id = ? order by ordre", [latest])
    assert data["objectifs"] == objectives and data["plan"] == latest
    assert data["plans"] == query(built, "select * from avancement_plans order by plan_id desc")
    for o in objectives:
        link = f'<a href="/-/progres/{o["plan_id"]}/{o["numero"]}">Objectif {o["numero"]}</a></th>'
        row = html[html.index(link) : html.index("</tr>", html.index(link))]
        cells = re.findall(r'<td class="ciso-nombre">([^<]*)</td>', row)
        names = statuses(built)
        assert cells[: len(names)] == [str(o[f"nb_{s}"]) for s in names]
        assert cells[len(names)] == str(o["nb_elements"])
    plan = next(p for p in data["plans"] if p["plan_id"] == latest)
    assert f"<strong>{plan['nb_elements']}</strong> éléments suivis" in html
    if plan["derniere_mise_a_jour"] is None:
        assert "aucune mise à jour publiée depuis le plan" in html
    else:
        assert f"dernière mise à jour le {date_fr(plan['derniere_mise_a_jour'])}" in html
    first = objectives[0]
    parts = [
        f"{first['nb_' + x['id']]} {(x['libelle_pluriel'] if first['nb_' + x['id']] > 1 else x['libelle']).lower()}"
        for x in data["statuts"]
        if first["nb_" + x["id"]]
    ]
    label = f"{first['nb_elements']} éléments : {', '.join(parts)}"
    assert f'role="img" aria-label="{label}"' in html
    period = query(built, "select * from periodes where plan_id = ?", [latest])[0]
    if period["terminee"]:
        assert "sans bilan publié" in label  # built after the plan's end
    # The period, its source (an assumption for 2020-2021) and the date the statuses are computed at.
    assert f"Période du plan : du {date_fr(period['debut'])} au {date_fr(period['fin'])}" in html
    if latest == "2020-2021":
        assert "du 1er avril 2020 au 31 mars 2021" in html and "<strong>hypothèse</strong>" in html
    assert f"Statuts établis au <strong>{date_fr(plan['date_reference'])}</strong>" in html
    assert data["periode"] == period
    assert "/-/static-plugins/ciso-donnees/vendor/vega-lite.min.js?v=" in html
    # The chart is data: a spec file drawn from the JSON of avancement_objectifs_statuts, this plan's rows.
    chart = re.search(r'data-vega-spec-url="([^"]+)" data-vega-donnees="([^"]+)"', html)
    spec = (await ds.client.get(chart[1])).json()
    assert spec["data"]["url"].startswith("ciso/avancement_objectifs_statuts.json")
    bars = (await ds.client.get(chart[2].replace("&amp;", "&"))).json()
    assert bars and {b["plan_id"] for b in bars} == {latest}
    for o in objectives:
        counts = {b["statut"]: b["nombre"] for b in bars if b["objectif_id"] == o["objectif_id"]}
        assert counts == {s: o[f"nb_{s}"] for s in statuses(built) if o[f"nb_{s}"]}


@pytest.mark.asyncio
async def test_objective_page_shows_statuses_quotes_and_sources(ds, built):
    response = await ds.client.get("/-/progres/2020-2021/2")
    assert response.status_code == 200
    html = response.text
    assert "Objectif 2 : Contribuer concrètement" in html
    assert "Titre dans la liste des objectifs du plan" in html  # announced title differs
    assert "« Si le PSOCI est obtenu »" in html
    assert 'href="/-/source/2020-2021#L82"' in html
    assert "jusqu'au 31 décembre 2020" in html
    assert (
        html.count("Aucun suivi publié.")
        == query(built, "select count(*) n from statut_activites where objectif_id = '2020-2021-2' and sans_suivi")[0][
            "n"
        ]
        + query(built, "select count(*) n from statut_actions where objectif_id = '2020-2021-2' and sans_suivi")[0]["n"]
    )
    assert '<a href="/ciso/activites/2020-2021-2-1-2">fiche de l\'activité</a>' in html
    assert (
        "/ciso?sql=select+%2A+from+avancement_objectifs+where+objectif_id+%3D+%3Aobjectif&amp;objectif=2020-2021-2"
        in html
    )
    assert "<em>pepenadores</em>" in html  # the plan's markup is rendered
    data = (await ds.client.get("/-/progres/2020-2021/2.json")).json()
    assert data["avancement"] == query(built, "select * from avancement_objectifs where objectif_id = '2020-2021-2'")[0]
    assert data["avancement"]["nb_sans_bilan"] == data["avancement"]["nb_elements"]  # years after the plan's end
    assert [a["numero"] for a in data["actions"]] == ["2.1", "2.2", "2.3", "2.4"]
    assert [h["element"] for h in data["historique"]] == ["2.1.1", "2.1.2", "2.1.5", "2.3.1"]
    # An element past its due date says so, with what the sources last said.
    assert "Sans bilan publié : l'échéance du 31 décembre 2020 est passée" in html  # 2.1.1, due end of 2020
    assert "dernier statut que donnent les sources : conditionnel" in html  # 2.1.2, « Si le PSOCI est obtenu »
    assert "(règle de lecture S2)" in html


@pytest.mark.asyncio
async def test_sql_links_on_the_objective_page_return_the_same_numbers(ds, built):
    html = (await ds.client.get("/-/progres/2020-2021/1")).text
    href = re.search(r'href="(/ciso\?sql=select\+%2A\+from\+avancement_objectifs[^"]+)"', html)[1].replace("&amp;", "&")
    rows = (await ds.client.get(href.replace("/ciso?", "/ciso.json?") + "&_shape=array")).json()
    assert rows == query(built, "select * from avancement_objectifs where objectif_id = '2020-2021-1'")


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "path",
    [
        "/-/progres/2020-2021/9",
        "/-/progres/1999-2000/1",
        "/-/progres/2020-2021/abc",
        "/-/progres/2020-2021/1.5",
        "/-/progres/nope",
        "/-/progres/2020-2021/9.json",
        "/-/source/1999-2000",
    ],
)
async def test_unknown_plan_or_objective_is_a_french_404(ds, path):
    response = await ds.client.get(path)
    assert response.status_code == 404
    if not path.endswith(".json"):
        assert '<html lang="fr">' in response.text and "introuvable" in response.text


@pytest.mark.asyncio
async def test_plan_page_shows_that_plan(ds, built):
    response = await ds.client.get("/-/progres/2020-2021")
    assert response.status_code == 200
    assert '<h2 id="titre-2020-2021">Plan d\'action 2020-2021</h2>' in response.text
    data = (await ds.client.get("/-/progres/2020-2021.json")).json()
    assert data["objectifs"] == query(
        built, "select * from avancement_objectifs where plan_id = '2020-2021' order by ordre"
    )


@pytest.mark.asyncio
@pytest.mark.parametrize("path", ["/", "/ciso"])
async def test_menu_and_home_link_to_progress(ds, path):
    html = (await ds.client.get(path)).text
    assert '<a href="/-/progres">Avancement du plan</a>' in html


@pytest.mark.asyncio
async def test_status_colours_come_from_the_statuts_table(ds, built):
    css = (await ds.client.get("/-/statuts.css")).text
    for s in query(built, "select id, couleur from statuts"):
        assert f".ciso-badge.ciso-statut-{s['id']} {{ background: {s['couleur']}; }}" in css


# --- an invented progress log (tests only) ------------------------------------------------

LOG = """date,plan,element,statut,avancement,note,preuve,par
2020-10-01,2020-2021,1.4.3,en_cours,30,Préparation du webinaire (inventé),,coordination
2021-02-15,2020-2021,1.4.3,realise,100,Webinaire tenu (inventé),https://example.org/webinaire,coordination
2020-11-20,2020-2021,1.4.3,reporte,,Reporté (inventé),,coordination
2021-01-10,2020-2021,2.1,realise,,Action close (inventé),,coordination
2021-01-05,2020-2021,2.1.2,annule,,PSOCI refusé (inventé),,coordination
"""


@pytest.fixture
def logged_db(data_copy, tmp_path):
    (data_copy / "suivi" / "mises-a-jour.csv").write_text(LOG, encoding="utf-8")
    db = tmp_path / "ciso.db"
    build(data_copy, db, today=dt.date(2021, 3, 1))
    return db


def test_latest_update_wins_and_history_is_in_date_order(logged_db):
    row = query(logged_db, "select * from statut_activites where numero = '1.4.3'")[0]
    assert (row["statut"], row["date"], row["avancement"], row["source"]) == (
        "realise",
        "2021-02-15",
        100,
        "mise_a_jour",
    )
    history = query(logged_db, "select date, statut, ligne from suivi where element = '1.4.3' order by rang")
    assert [(h["date"], h["statut"]) for h in history] == [
        ("2020-10-01", "en_cours"),
        ("2020-11-20", "reporte"),
        ("2021-02-15", "realise"),
    ]
    assert [h["ligne"] for h in history] == [2, 4, 3]  # lines of the log file


def test_action_update_applies_to_its_activities_unless_a_later_one_says_otherwise(logged_db):
    rows = {
        r["numero"]: r for r in query(logged_db, "select * from statut_activites where action_id = '2020-2021-2-1'")
    }
    # 2.1 was declared done on 2021-01-10: later than the plan's statements and than 2.1.2's cancellation.
    assert {n: r["statut"] for n, r in rows.items()} == {f"2.1.{i}": "realise" for i in range(1, 6)}
    assert rows["2.1.3"]["statut_de"] == "action"
    action = query(logged_db, "select * from statut_actions where numero = '2.1'")[0]
    assert (action["statut"], action["statut_de"], action["date"]) == ("realise", "action", "2021-01-10")


def test_rollups_follow_the_log(logged_db):
    objective = {
        o["numero"]: o for o in query(logged_db, "select * from avancement_objectifs where plan_id = '2020-2021'")
    }
    assert objective[1]["nb_realise"] == 1 and objective[1]["derniere_mise_a_jour"] == "2021-02-15"
    assert objective[2]["nb_realise"] == 5 and objective[2]["nb_conditionnel"] == 0
    assert objective[2]["part_realise"] == round(5 / 11, 4)
    plan = query(logged_db, "select * from avancement_plans where plan_id = '2020-2021'")[0]
    assert (plan["nb_realise"], plan["nb_mises_a_jour"], plan["derniere_mise_a_jour"]) == (6, 5, "2021-02-15")


@pytest_asyncio.fixture
async def logged_ds(logged_db):
    datasette = Datasette(immutables=[str(logged_db)], **datasette_kwargs())
    await datasette.invoke_startup()
    return datasette


@pytest.mark.asyncio
async def test_pages_show_the_log(logged_ds, logged_db):
    overview = (await logged_ds.client.get("/-/progres/2020-2021")).text  # the plan's own overview
    assert "dernière mise à jour le 15 février 2021" in overview
    assert "(5 mises à jour)" in overview
    page = (await logged_ds.client.get("/-/progres/2020-2021/1")).text
    timeline = page[page.index("Historique du suivi") :]
    dates = re.findall(r'<span class="ciso-date">([^<]+)</span>', timeline)
    stated = query(logged_db, "select count(*) n from suivi where objectif_id = '2020-2021-1' and source = 'plan'")
    assert dates == [
        *["Plan d'action"] * stated[0]["n"],
        "1er octobre 2020",
        "20 novembre 2020",
        "15 février 2021",
    ]
    assert 'href="https://example.org/webinaire"' in page
    assert "avancement 100&nbsp;%" in page


def test_bad_log_line_fails_the_build_with_its_line(data_copy, tmp_path):
    (data_copy / "suivi" / "mises-a-jour.csv").write_text(
        LOG + "2021-01-01,2020-2021,7.1,realise,,,,x\n", encoding="utf-8"
    )
    result = CliRunner().invoke(cli, ["check", "--data", str(data_copy)])
    assert result.exit_code == 1
    assert (
        f"{data_copy / 'suivi' / 'mises-a-jour.csv'}:7: action 7.1 introuvable dans le plan 2020-2021" in result.output
    )


# --- `ciso suivi ajouter` / `ciso suivi liste` ---------------------------------------------


def ajouter(data, *args):
    return CliRunner().invoke(cli, ["suivi", "ajouter", *args, "--data", str(data)])


@pytest.mark.parametrize(
    "args,message",
    [
        (["2020-2021", "9.9", "realise", "--date", "2020-12-01"], "action 9.9 introuvable dans le plan 2020-2021"),
        (["2020-2021", "1.4.99", "realise", "--date", "2020-12-01"], "activité 1.4.99 introuvable"),
        (["1999-2000", "1.4", "realise", "--date", "2020-12-01"], "plan « 1999-2000 » inconnu"),
        (["2020-2021", "1.4", "fini", "--date", "2020-12-01"], "statut « fini » inconnu"),
        (["2020-2021", "1.4", "realise", "--date", "01/12/2020"], "date « 01/12/2020 » invalide"),
        (["2020-2021", "1.4", "realise", "--date", "2020-02-30"], "date « 2020-02-30 » invalide"),
        (["2020-2021", "1.4", "realise", "--date", "1990-01-01"], "trop ancienne pour le plan 2020-2021"),
        (
            ["2020-2021", "1.4", "realise", "--date", (dt.date.today() + dt.timedelta(days=1)).isoformat()],
            "dans le futur",
        ),
        (["2020-2021", "1.4", "realise", "--date", "2020-12-01", "--avancement", "101"], "avancement « 101 » invalide"),
        (["2020-2021", "1.4", "realise", "--date", "2020-12-01", "--avancement", "-1"], "avancement « -1 » invalide"),
        (["2020-2021", "1.4", "realise", "--date", "2020-12-01", "--avancement", "50%"], "avancement « 50% » invalide"),
        (["2020-2021", "1.4", "realise", "--date", "2020-12-01", "--preuve", "ftp://x"], "preuve « ftp://x »"),
    ],
)
def test_ajouter_refuses_and_writes_nothing(data_copy, args, message):
    log = data_copy / "suivi" / "mises-a-jour.csv"
    log.write_text(LOG, encoding="utf-8")
    before = log.read_bytes()
    result = ajouter(data_copy, *args)
    assert result.exit_code == 1
    assert message in result.output
    assert "Rien n'a été écrit." in result.output
    assert log.read_bytes() == before


def test_ajouter_appends_one_line_that_the_next_build_publishes(data_copy, tmp_path):
    log = data_copy / "suivi" / "mises-a-jour.csv"
    log.write_text(LOG_HEADER, encoding="utf-8")  # a log with no update after the build date below
    before = log.read_bytes()
    result = ajouter(
        data_copy,
        "2020-2021",
        "1.4.2",
        "en_cours",
        "--date",
        "2020-12-01",
        "--avancement",
        "40",
        "--note",
        "Lettre envoyée, « avec guillemets », virgules",
        "--preuve",
        "https://example.org/lettre",
    )
    assert result.exit_code == 0, result.output
    after = log.read_bytes()
    assert after.startswith(before)
    added = after[len(before) :].decode("utf-8")
    assert added == (
        '2020-12-01,2020-2021,1.4.2,en_cours,40,"Lettre envoyée, « avec guillemets », virgules",'
        "https://example.org/lettre,équipe du CISO\n"
    )
    db = tmp_path / "ciso.db"
    build(data_copy, db, today=dt.date(2021, 1, 1))
    row = query(db, "select * from statut_activites where numero = '1.4.2'")[0]
    assert (row["statut"], row["avancement"], row["note"]) == (
        "en_cours",
        40,
        "Lettre envoyée, « avec guillemets », virgules",
    )
    build(data_copy, db)  # today: an « en cours » logged before the plan's end no longer closes it
    row = query(db, "select * from statut_activites where numero = '1.4.2'")[0]
    assert (row["statut"], row["statut_declare"], row["date"]) == ("sans_bilan", "en_cours", "2020-12-01")


def test_ajouter_refuses_a_computed_status(data_copy):
    log = data_copy / "suivi" / "mises-a-jour.csv"
    before = log.read_bytes()
    result = ajouter(data_copy, "2020-2021", "1.4.2", "sans_bilan", "--date", "2020-12-01")
    assert result.exit_code == 1 and "statut « sans_bilan » inconnu" in result.output
    assert log.read_bytes() == before


def test_ajouter_refuses_when_the_sources_are_broken(data_copy):
    log = data_copy / "suivi" / "mises-a-jour.csv"
    log.write_text(LOG + "2021-01-01,2020-2021,7.1,realise,,,,x\n", encoding="utf-8")
    before = log.read_bytes()
    result = ajouter(data_copy, "2020-2021", "1.4", "realise", "--date", "2020-12-01")
    assert result.exit_code == 1 and "7.1 introuvable" in result.output
    assert log.read_bytes() == before


def test_liste_prints_current_statuses(data_copy, tmp_path):
    shutil.copy(DATA / "suivi" / "mises-a-jour.csv", data_copy / "suivi" / "mises-a-jour.csv")
    result = CliRunner().invoke(
        cli, ["suivi", "liste", "2020-2021", "--data", str(data_copy), "--db", str(tmp_path / "ciso.db")]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:6] == ["plan", "numéro", "niveau", "statut", "source", "date"]
    assert len(lines) == 1 + 22 + 60
    assert any(re.match(r"2020-2021\s+1\.1\.1\s+activité\s+reporte\s+plan", line) for line in lines)
    assert any(re.match(r"2020-2021\s+4\.2\s+action\s+sans_bilan\s+aucun suivi", line) for line in lines)
    unknown = CliRunner().invoke(
        cli, ["suivi", "liste", "1999-2000", "--data", str(data_copy), "--db", str(tmp_path / "ciso.db")]
    )
    assert unknown.exit_code == 1 and "plan « 1999-2000 » inconnu" in unknown.output


def test_computed_tables_equal_their_published_sql(built):
    """Rollups are computed at build time; recomputing each from the `calculs` table gives the same rows."""
    with sqlite3.connect(built) as conn:
        computed = conn.execute("select nom, sql from calculs order by ordre").fetchall()
        assert {"statut_activites", "statut_actions", "avancement_objectifs", "avancement_plans"} <= {
            n for n, _ in computed
        }
        for name, sql in computed:
            stored = conn.execute(f"select count(*) from [{name}]").fetchone()[0]
            again = conn.execute(f"select count(*) from ({sql})").fetchone()[0]
            assert stored == again > 0, name
            assert conn.execute(f"select * from [{name}] except select * from ({sql})").fetchall() == [], name
            assert conn.execute(f"select * from ({sql}) except select * from [{name}]").fetchall() == [], name


@pytest.mark.asyncio
async def test_several_plans_each_get_a_bar_and_a_page(data_copy, tmp_path):
    from conftest import FIXTURES

    shutil.copy(FIXTURES / "plans" / "plan-action-2021-2022.txt", data_copy / "plans")
    db = tmp_path / "ciso.db"
    build(data_copy, db)
    datasette = Datasette(immutables=[str(db)], **datasette_kwargs())
    overview = (await datasette.client.get("/-/progres")).text
    assert '<a href="/-/progres/2020-2021">2020-2021</a>' in overview  # the older plan, as a bar
    assert '<h2 id="titre-2021-2022">' in overview and '<h2 id="titre-2020-2021">' not in overview
    older = (await datasette.client.get("/-/progres/2020-2021")).text
    assert '<h2 id="titre-2020-2021">' in older and '<a href="/-/progres/2021-2022">2021-2022</a>' in older


# --- our pages' own queries under load -----------------------------------------------------


@pytest.mark.asyncio
async def test_the_pages_own_queries_are_not_bound_by_the_limit_on_visitors_sql(built):
    """Under load, a progress page whose query waited its turn past ``sql_time_limit_ms`` answered
    500 (make bench, 100 plans, 10 clients). With no time at all for SQL (0 ms: SQLite interrupts a
    query at its first step), Datasette's execute gives up and our pages' helper still reads."""
    from ciso.web import page_rows
    from ciso_site import places, progress_pages, transparency
    from datasette.database import QueryInterrupted

    kwargs = datasette_kwargs(export_dir=built.parent / "export")
    kwargs["settings"] = {**kwargs["settings"], "sql_time_limit_ms": 0}
    db = Datasette(immutables=[str(built)], **kwargs).get_database("ciso")
    sql = "select plan_id, count(*) as n from activites group by plan_id order by plan_id"
    with pytest.raises(QueryInterrupted):
        await db.execute(sql)
    assert await page_rows(db, sql) == query(built, sql)
    assert progress_pages.rows is transparency.rows is places.rows is page_rows
