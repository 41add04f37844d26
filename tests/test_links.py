"""Links as the plan says them (issue 12): curated corrections, countries of work, plain-text downloads."""

from __future__ import annotations

import csv
import io
import json
import sqlite3

import pytest
import yaml
from ciso.cli import cli
from ciso.markup import has_markup
from ciso.model import TABLES
from ciso.site import ROLLUP_DOWNLOADS
from click.testing import CliRunner
from conftest import DATA, REAL_PLAN


def query(db, sql, params=()):
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(sql, params)]


def linked(db, table: str, key: str, activity: str) -> set[str]:
    return {
        r[key]
        for r in query(db, f"select {key} from activites_{table} where activite_id = ?", [f"2020-2021-{activity}"])  # noqa: S608
    }


# --- the corrections the audit found -------------------------------------------------------------


def test_the_themes_the_words_missed_are_linked(built):
    # C169 is the ILO convention on indigenous peoples (line 41 ties it to their territorial rights), P029 the
    # protocol on forced labour: 1.4.2 is linked to both themes, which the words of 1.4.2 do not name.
    assert {"peuples-autochtones", "travail-force", "plaidoyer"} <= linked(built, "themes", "theme_id", "1-4-2")
    assert query(built, "select count(*) n from activites_themes where theme_id = 'peuples-autochtones'")[0]["n"] >= 1
    # Funding: the 25 % matching funds (5.2.1, now by the alias « contrepartie »), proposals to foundations and
    # programmes (5.4.1, 5.4.2), projects « s'ils sont obtenus » (2.1.5).
    for activity in ("5-2-1", "5-4-1", "5-4-2", "2-1-5"):
        assert "financement" in linked(built, "themes", "theme_id", activity), activity
    # University internship programmes are not CISO's intersyndical internships.
    assert "stages" not in linked(built, "themes", "theme_id", "5-4-5")
    # Gomez Palacio is in Mexico, where the plan places the waste pickers' project.
    assert "MX" in linked(built, "pays", "pays_id", "2-1-3")


def test_every_correction_quotes_its_activity_and_says_why(built):
    corrections = query(built, "select * from corrections_liens")
    assert {c["operation"] for c in corrections} == {"ajout", "exclusion", "mention"}
    lines = REAL_PLAN.read_text(encoding="utf-8").split("\n")
    for c in corrections:
        text = query(built, "select texte_markup from activites where id = ?", [c["activite_id"]])[0]["texte_markup"]
        assert c["citation_markup"] in text and c["citation_markup"] in lines[c["ligne"] - 1], c["id"]
        assert c["raison"], c["id"]
        if c["appui_citation"]:
            assert c["appui_citation_markup"] in lines[c["appui_citation_ligne"] - 1], c["id"]
        table, key = (
            c["lien"],
            {"organisations": "organisation_id", "pays": "pays_id"}.get(c["lien"], c["lien"][:-1] + "_id"),
        )
        links = query(
            built,
            f"select * from activites_{table} where activite_id = ? and {key} = ?",
            [c["activite_id"], c["cible"]],  # noqa: S608
        )
        if c["operation"] == "exclusion":
            assert links == [], c["id"]
        else:
            assert links and links[0]["correction_id"] == c["id"], c["id"]
            assert links[0]["origine"] == ("ajout" if c["operation"] == "ajout" else "alias")
    # Every other link comes from the words of the activity.
    for table in ("organisations", "pays", "instruments", "themes"):
        for link in query(built, f"select * from activites_{table} where correction_id is null"):  # noqa: S608
            assert link["origine"] == "alias"


def corrected(data, text: str):
    path = data / "reference" / "liens.yml"
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "entry,message",
    [
        (
            '- plan: 2020-2021\n  element: "2.1.1"\n  lien: pays\n  cible: MX\n  operation: ajout\n'
            '  citation: "au Mexique"\n  raison: Déjà dit.\n',
            "2020-2021-2.1.1-pays-MX (ajout) : les mots de l'activité font déjà ce lien : l'ajout est inutile",
        ),
        (
            '- plan: 2020-2021\n  element: "4.4.2"\n  lien: themes\n  cible: stages\n  operation: exclusion\n'
            '  citation: "bulletin électronique"\n  raison: Rien.\n',
            "2020-2021-4.4.2-themes-stages (exclusion) : les mots de l'activité ne font pas ce lien : rien à exclure",
        ),
        (
            '- plan: 2020-2021\n  element: "4.4.2"\n  lien: themes\n  cible: stages\n  operation: ajout\n'
            '  citation: "Plaidoyer auprès des décideurs"\n  raison: Ailleurs.\n',
            "la citation doit être prise dans le texte de l'activité 4.4.2",
        ),
        (
            '- plan: 2020-2021\n  element: "4.4.2"\n  lien: themes\n  cible: nulle-part\n  operation: ajout\n'
            '  citation: "bulletin électronique"\n  raison: Inconnu.\n',
            "« cible: nulle-part » ne correspond à aucune entrée de themes.yml",
        ),
        (
            '- plan: 2020-2021\n  element: "4.4.2"\n  lien: themes\n  cible: communications\n  operation: mention\n'
            '  citation: "bulletin électronique"\n  raison: Non.\n',
            "« mention » ne vaut que pour un pays (lien: pays)",
        ),
    ],
    ids=["useless-addition", "nothing-to-exclude", "quotation-elsewhere", "unknown-entry", "mention-of-a-theme"],
)
def test_link_corrections_are_checked_with_file_and_line(data_copy, entry, message):
    path = corrected(data_copy, entry)
    text = path.read_text(encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", "--data", str(data_copy)])
    assert result.exit_code == 1
    problem = next(p for p in result.output.splitlines() if message in p)
    first = len(text[: text.rindex("- plan:")].split("\n"))  # the added entry's lines, to the end of the file
    assert problem.startswith(f"{path}:") and first <= int(problem.split(":")[1]) < first + 8, problem


# --- countries: named vs countries of work --------------------------------------------------------


def test_every_country_says_what_the_plan_says_of_it(built):
    lines = REAL_PLAN.read_text(encoding="utf-8").split("\n")
    countries = {r["id"]: r for r in query(built, "select * from pays")}
    for c in countries.values():
        assert c["relation"] in ("partenaires", "siege", "mention")
        assert c["relation_citation_markup"] in lines[c["relation_citation_ligne"] - 1]
    # Brazil and the United States are pandemic examples (line 9), Canada is CISO's own country.
    assert {k for k, c in countries.items() if c["relation"] != "partenaires"} == {"BR", "US", "CA"}
    assert {r["pays_id"] for r in query(built, "select pays_id from pays_partenaires")} == {
        k for k, c in countries.items() if c["relation"] == "partenaires"
    }
    assert {r["pays_id"] for r in query(built, "select pays_id from autres_pays")} == {"BR", "US", "CA"}


def test_a_link_is_work_only_with_a_partner_country_and_more_than_a_name(built):
    relation = {r["id"]: r["relation"] for r in query(built, "select id, relation from pays")}
    mentions = {
        (r["activite_id"], r["cible"])
        for r in query(built, "select * from corrections_liens where operation = 'mention'")
    }
    for link in query(built, "select * from activites_pays"):
        work = relation[link["pays_id"]] == "partenaires" and (link["activite_id"], link["pays_id"]) not in mentions
        assert link["nature"] == ("travail" if work else "mention"), link
    # Every mention is kept: the array column still names the country, for facets and search.
    assert "MX" in query(built, "select pays from activites where numero = '1.1.2'")[0]["pays"]


# --- plain text in every download -----------------------------------------------------------------

SKIPPED = {("calculs", "sql")}  # SQL code, not the plan's words
PAGE_LISTS = {("transparence_listes", "objet"), ("transparence_iati", "objet")}  # JSON: *_markup keys keep it


def plain_values(value, key=""):
    """The texts of a JSON value, those under a *_markup key aside."""
    if isinstance(value, dict):
        return [t for k, v in value.items() if not k.endswith("_markup") for t in plain_values(v, k)]
    if isinstance(value, list):
        return [t for v in value for t in plain_values(v, key)]
    return [value] if isinstance(value, str) else []


def markup_cells(rows: list[dict], table: str) -> list:
    return [
        (table, column, value)
        for row in rows
        for column, value in row.items()
        if isinstance(value, str)
        and not column.endswith("_markup")
        and (table, column) not in SKIPPED
        and any(has_markup(v) for v in (plain_values(json.loads(value)) if (table, column) in PAGE_LISTS else [value]))
    ]


def test_no_markup_in_any_csv_text_column_of_the_downloads(built):
    folder = built.parent / "export"
    files = sorted((folder / "csv").glob("*.csv")) + sorted((folder / "excel").glob("*.csv"))
    assert len(files) == 2 * (len([t for t in TABLES if t.name != "construction"]) + len(ROLLUP_DOWNLOADS))
    found = []
    for path in files:
        delimiter = ";" if path.parent.name == "excel" else ","
        rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig")), delimiter=delimiter))
        found += markup_cells(rows, path.stem)
    assert found == []
    # The markup is kept for the pages, in the *_markup columns only (the real plan has some).
    activites = list(csv.DictReader(io.StringIO((folder / "csv" / "activites.csv").read_text(encoding="utf-8"))))
    marked = [r for r in activites if has_markup(r["texte_markup"])]
    assert marked and all("*" not in r["texte"] and "^" not in r["texte"] for r in marked)
    assert any("45e anniversaire" in r["texte"] for r in activites)  # « 45^e » becomes « 45e »


@pytest.mark.asyncio
async def test_no_markup_in_any_csv_that_datasette_serves(ds, built):
    with sqlite3.connect(built) as conn:
        names = [
            r[0] for r in conn.execute("select name from sqlite_master where type = 'table' and name not like '%fts%'")
        ]
    found = []
    for name in names:
        response = await ds.client.get(f"/ciso/{name}.csv?_stream=on")
        assert response.status_code == 200, name
        found += markup_cells(list(csv.DictReader(io.StringIO(response.text))), name)
    assert found == []


def test_no_markup_in_the_iati_text(built):
    text = (built.parent / "export" / "iati-activities.xml").read_text(encoding="utf-8")
    assert "Labor for Palestine" in text and "pepenadores" in text
    assert "*Labor" not in text and "*pepenadores*" not in text and "^" not in text


def test_curated_files_carry_their_reasons():
    for name in ("liens.yml", "dependances.yml", "periodes.yml"):
        entries = yaml.safe_load((DATA / "reference" / name).read_text(encoding="utf-8"))
        assert entries, name
        for e in entries:
            assert e.get("citation") and (e.get("raison") or e.get("note") or e.get("source")), (name, e)
