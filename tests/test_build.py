"""The `ciso` CLI: build, check, atomic writes, several plans, reference data."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from ciso.cli import cli
from click.testing import CliRunner
from conftest import DATA, FIXTURES, plan_lines, rows
from test_plan_parser import RULES, line_of

FIXTURE_PLAN = FIXTURES / "plans" / "plan-action-2021-2022.txt"


def run(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result


def test_real_plan_loads_with_expected_counts(built):
    """The plan as received (never edited) always gives these counts, whatever other plans are added."""
    assert rows(
        built, "select id, debut, fin, fichier from plans where fichier = 'plans/plan-action-2020-2021.txt'"
    ) == [{"id": "2020-2021", "debut": "2020-04-01", "fin": "2021-03-31", "fichier": "plans/plan-action-2020-2021.txt"}]
    counts = {
        t: rows(built, f"select count(*) n from {t} where plan_id = '2020-2021'")[0]["n"]
        for t in ("objectifs", "actions", "activites")
    }
    assert counts == {"objectifs": 5, "actions": 22, "activites": 60}


def joined(lines: list[str], first: int, last: int) -> str:
    """A paragraph of the plan that may run over several lines, as one line."""
    return " ".join(line.strip() for line in lines[first - 1 : last])


def test_every_ligne_points_at_its_text(built):
    lines = plan_lines(built)
    for o in rows(built, "select * from objectifs"):
        text = lines[o["plan_id"]]
        assert text[o["ligne"] - 1].startswith(f"OBJECTIF {o['numero']} : {o['titre_markup']}")
        assert text[o["ligne_annonce"] - 1] == f"Objectif {o['numero']} : {o['titre_annonce_markup']}"
    for a in rows(built, "select * from actions"):
        assert lines[a["plan_id"]][a["ligne"] - 1] == f"{a['numero']} {a['titre_markup']}"
    for act in rows(built, "select * from activites"):
        assert joined(lines[act["plan_id"]], act["ligne"], act["ligne_fin"]) == f"- {act['texte_markup']}"
    for p in rows(built, "select * from passages"):
        prefix = "- " if p["type"] == "puce" else ""
        assert joined(lines[p["plan_id"]], p["ligne_debut"], p["ligne_fin"]) == prefix + p["texte_markup"]
    for table in ("organisations", "pays", "instruments", "themes"):
        for r in rows(built, f"select * from {table}"):
            assert r["citation_markup"] in lines[r["plan_id"]][r["ligne"] - 1], (table, r["id"])


def test_the_plans_words_are_plain_text_with_the_markup_kept_beside_them(built):
    """Search, CSV, JSON and IATI get the words only; the pages render the *_markup twin."""
    from ciso.markup import has_markup, plain
    from ciso.model import MARKUP

    assert MARKUP["activites"] == ("texte",) and "citation" in MARKUP["financements"]
    marked = 0
    for table, columns in MARKUP.items():
        for r in rows(built, f"select * from {table}"):
            for column in columns:
                original = r[f"{column}_markup"]
                assert r[column] == (None if original is None else plain(original)), (table, column)
                assert r[column] is None or not has_markup(r[column]), (table, column)
                marked += bool(r[f"{column}_markup"] and has_markup(r[f"{column}_markup"]))
    assert marked  # the real plan has markup (*Labor for Palestine*, 45^e, 1^{er}): the test means something
    one = rows(built, "select texte, texte_markup from lignes where texte_markup like '%45^e%'")
    assert one == [{"texte": one[0]["texte_markup"].replace("45^e", "45e"), "texte_markup": one[0]["texte_markup"]}]


def test_passages_read_back_the_whole_document(built):
    for plan_id, text in plan_lines(built).items():
        passages = rows(
            built,
            "select type, texte_markup, ligne_debut, ligne_fin from passages where plan_id = ? order by ordre",
            [plan_id],
        )
        assert [("- " if p["type"] == "puce" else "") + p["texte_markup"] for p in passages] == [
            joined(text, p["ligne_debut"], p["ligne_fin"]) for p in passages
        ]
        covered = {n for p in passages for n in range(p["ligne_debut"], p["ligne_fin"] + 1)}
        assert covered == {n for n, line in enumerate(text, 1) if line.strip()}  # every non-blank line, once
        lines = rows(built, "select texte_markup from lignes where plan_id = ? order by numero", [plan_id])
        assert "\n".join(r["texte_markup"] for r in lines) == "\n".join(text).rstrip("\n")


def test_ids_are_stable_readable_and_derived_from_numbering(built):
    ids = [r["id"] for r in rows(built, "select id from activites order by ordre")]
    assert ids[0] == "2020-2021-1-1-1"
    assert "2020-2021-1-4-2" in ids
    assert rows(built, "select numero, texte from activites where id = ?", ["2020-2021-1-4-2"])[0]["numero"] == "1.4.2"
    for table in ("objectifs", "actions", "activites", "passages"):
        for r in rows(built, f"select id from {table}"):
            assert all(c.isalnum() or c in "-_" for c in r["id"]), r


def test_second_plan_loads_next_to_the_first(data_copy, tmp_path):
    shutil.copy(FIXTURE_PLAN, data_copy / "plans")
    db = tmp_path / "ciso.db"
    result = run("build", "--data", data_copy, "--db", db)
    assert result.exit_code == 0, result.output
    assert [r["id"] for r in rows(db, "select id from plans order by id")] == ["2020-2021", "2021-2022"]
    assert rows(db, "select count(*) n from actions where plan_id = '2021-2022'")[0]["n"] == 3
    assert rows(db, "select count(*) n from activites where plan_id = '2020-2021'")[0]["n"] == 60
    new = rows(db, "select * from activites where id = '2021-2022-1-1-1'")[0]
    assert new["pays"] == '["MX"]' and new["organisations"] == '["fat"]'
    haiti = rows(db, "select * from activites where id = '2021-2022-2-1-1'")[0]
    assert haiti["instruments"] == '["C189"]' and haiti["organisations"] == '["ickl"]'
    # Both plans' rows sort in plan order then line order.
    plans = [r["plan_id"] for r in rows(db, "select plan_id from activites order by ordre")]
    assert plans == sorted(plans)


@pytest.fixture
def existing_db(tmp_path, built):
    db = tmp_path / "ciso.db"
    shutil.copy(built, db)
    return db


@pytest.mark.parametrize("name,transform,needle,fragment", RULES, ids=[r[0] for r in RULES])
def test_cli_rejects_with_file_and_line_and_leaves_db_intact(data_copy, existing_db, name, transform, needle, fragment):
    text = transform(FIXTURE_PLAN.read_text(encoding="utf-8"))
    broken = data_copy / "plans" / "plan-action-2021-2022.txt"
    broken.write_text(text, encoding="utf-8")
    before = existing_db.read_bytes()
    result = run("build", "--data", data_copy, "--db", existing_db)
    assert result.exit_code == 1
    assert f"{broken}:{line_of(text, needle)}: " in result.output
    assert fragment in result.output
    assert "Traceback" not in result.output
    assert existing_db.read_bytes() == before
    assert not list(existing_db.parent.glob(".*.tmp"))


@pytest.mark.parametrize(
    "data,line",
    [
        (b"", 1),
        (
            FIXTURE_PLAN.read_bytes().replace(b"Veille documentaire", b"Veille \xe9crite"),
            line_of(FIXTURE_PLAN.read_text(encoding="utf-8"), "Veille documentaire"),
        ),
    ],
    ids=["empty", "latin-1"],
)
def test_cli_rejects_unreadable_plans(data_copy, existing_db, data, line):
    path = data_copy / "plans" / "plan-action-2021-2022.txt"
    path.write_bytes(data)
    before = existing_db.read_bytes()
    result = run("build", "--data", data_copy, "--db", existing_db)
    assert result.exit_code == 1
    assert f"{path}:{line}: " in result.output
    assert existing_db.read_bytes() == before


def test_check_lists_every_problem_and_writes_nothing(data_copy, tmp_path):
    text = FIXTURE_PLAN.read_text(encoding="utf-8")
    text = text.replace("1.2 Veille documentaire", "1.1 Veille documentaire").replace(
        "AUTOUR DE 2 OBJECTIFS", "AUTOUR DE 4 OBJECTIFS"
    )
    (data_copy / "plans" / "plan-action-2021-2022.txt").write_text(text, encoding="utf-8")
    before = sorted(p.name for p in data_copy.rglob("*"))
    result = run("check", "--data", data_copy)
    assert result.exit_code == 1
    assert "action 1.1 en double" in result.output
    assert "4 objectifs annoncés, mais 2 sections" in result.output
    assert "2 problèmes" in result.output
    assert sorted(p.name for p in data_copy.rglob("*")) == before


def test_check_passes_on_real_data():
    result = run("check", "--data", DATA)
    assert result.exit_code == 0, result.output
    assert f"{len(list((DATA / 'plans').glob('*.txt')))} plan(s) valide(s)" in result.output


def test_quotation_not_in_plan_fails_with_yaml_line(data_copy, existing_db):
    path = data_copy / "reference" / "organisations.yml"
    text = path.read_text(encoding="utf-8")
    text = text.replace(
        'citation: "co-coordination du projet avec le Front authentique du travail (FAT)"',
        'citation: "co-coordination du projet avec le Front authentique des travailleurs (FAT)"',
    )
    path.write_text(text, encoding="utf-8")
    before = existing_db.read_bytes()
    result = run("build", "--data", data_copy, "--db", existing_db)
    assert result.exit_code == 1
    assert f"{path}:{line_of(text, 'Front authentique des travailleurs')}: citation introuvable" in result.output
    assert existing_db.read_bytes() == before


def test_unknown_reference_and_bad_yaml_are_reported(data_copy):
    orgs = data_copy / "reference" / "organisations.yml"
    text = orgs.read_text(encoding="utf-8").replace("  pays: MX\n", "  pays: ZZ\n")
    orgs.write_text(text, encoding="utf-8")
    themes = data_copy / "reference" / "themes.yml"
    themes.write_text(themes.read_text(encoding="utf-8") + "- id: [oops\n", encoding="utf-8")
    result = run("check", "--data", data_copy)
    assert result.exit_code == 1
    assert (
        f"{orgs}:{line_of(text, 'pays: ZZ')}: « pays: ZZ » ne correspond à aucune entrée de pays.yml" in result.output
    )
    assert f"{themes}:" in result.output and "YAML invalide" in result.output


def test_missing_data_directory_is_a_clear_error(tmp_path):
    result = run("check", "--data", tmp_path / "nowhere")
    assert result.exit_code == 1
    assert "dossier de données introuvable" in result.output
    assert "Traceback" not in result.output


def test_links_fat_in_mexico_on_activities_of_2_1(built):
    assert rows(built, "select pays_id, type from organisations where id = 'fat'") == [
        {"pays_id": "MX", "type": "organisation_syndicale"}
    ]
    linked = rows(
        built,
        "select a.numero, a.texte from activites_organisations l join activites a on a.id = l.activite_id "
        "where l.organisation_id = 'fat' and a.plan_id = '2020-2021' order by a.ordre",
    )
    assert [r["numero"] for r in linked] == ["2.1.1", "2.1.2", "2.1.4"]
    for r in rows(built, "select numero, texte, organisations from activites where action_id = '2020-2021-2-1'"):
        names_fat = "FAT" in r["texte"]
        assert ('"fat"' in r["organisations"]) == names_fat, r


def test_links_ilo_instruments_on_1_4(built):
    linked = rows(
        built,
        "select l.instrument_id from activites_instruments l join activites a on a.id = l.activite_id "
        "where a.numero = '1.4.2' order by 1",
    )
    assert [r["instrument_id"] for r in linked] == ["C169", "C189", "P029"]
    assert rows(built, "select instruments from activites where numero = '1.4.2'")[0]["instruments"] == (
        '["C169", "C189", "P029"]'
    )


def test_links_countries_of_3_2(built):
    activity = rows(built, "select id, pays from activites where numero = '3.2.2'")[0]
    linked = rows(built, "select pays_id from activites_pays where activite_id = ? order by 1", [activity["id"]])
    assert [r["pays_id"] for r in linked] == ["BD", "CL", "CO", "HT", "MX", "PS"]
    assert rows(built, "select pays from actions where numero = '3.2'")[0]["pays"] == (
        '["BD", "CL", "CO", "HT", "MX", "PS"]'
    )


def test_linking_is_whole_word_and_accent_insensitive():
    from ciso.linking import Matcher

    m = Matcher({"HT": ["Haïti"], "fat": ["FAT"], "oit": ["OIT"]})
    assert m.find("Appui en HAITI et en haïti") == {"HT": "Haïti"}
    assert m.find("le fatalisme, l'exploit") == {}
    assert m.find("avec le FAT; et l'OIT.") == {"fat": "FAT", "oit": "OIT"}


def build_in_process(data, db, env):
    """``ciso build`` in a process of its own (its own hash seed: set orders must not leak into files)."""
    ciso = Path(sys.executable).with_name("ciso")
    return subprocess.Popen(
        [ciso, "build", "--data", data, "--db", db],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.mark.data_agnostic
def test_same_sources_and_source_date_epoch_give_the_same_bytes(data_copy, tmp_path):
    """Reproducible builds: the database and every download are byte-identical, and dated by SOURCE_DATE_EPOCH."""
    epoch = {"SOURCE_DATE_EPOCH": "1700000000"}  # 2023-11-14T22:13:20Z
    first = build_in_process(DATA, tmp_path / "a" / "ciso.db", epoch)
    second = build_in_process(data_copy, tmp_path / "b" / "ciso.db", {**epoch, "PYTHONHASHSEED": "1"})
    assert first.wait(timeout=300) == 0 and second.wait(timeout=300) == 0, first.stderr.read() + second.stderr.read()
    a, b = tmp_path / "a", tmp_path / "b"
    assert (a / "ciso.db").read_bytes() == (b / "ciso.db").read_bytes()
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert len(files) > 10
    for name in files:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    when = "2023-11-14T22:13:20+00:00"
    assert rows(a / "ciso.db", "select valeur from construction where cle = 'date'") == [{"valeur": when}]
    assert json.loads((a / "export" / "datapackage.json").read_text("utf-8"))["created"] == when
    assert f'generated-datetime="{when}"' in (a / "export" / "iati-activities.xml").read_text("utf-8")
    assert {e.date_time for e in zipfile.ZipFile(a / "export" / "ciso-donnees.zip").infolist()} == {
        (2023, 11, 14, 22, 13, 20)
    }


def test_a_bad_source_date_epoch_is_refused_and_nothing_is_written(tmp_path):
    build = build_in_process(DATA, tmp_path / "ciso.db", {"SOURCE_DATE_EPOCH": "hier"})
    assert build.wait(timeout=120) == 1
    assert "SOURCE_DATE_EPOCH" in build.stderr.read().decode() and not (tmp_path / "ciso.db").exists()


def test_the_build_time_is_now_without_source_date_epoch():
    from ciso.clock import build_time
    from ciso.periods import reference_date

    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    assert before <= build_time({}) <= dt.datetime.now(dt.UTC)
    assert build_time({"SOURCE_DATE_EPOCH": "0"}) == dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    # The statuses' reference date: CISO_DATE_REFERENCE, else the build's day.
    assert reference_date(None, {"SOURCE_DATE_EPOCH": "1700000000"}) == dt.date(2023, 11, 14)
    both = {"SOURCE_DATE_EPOCH": "1700000000", "CISO_DATE_REFERENCE": "2021-01-31"}
    assert reference_date(None, both) == dt.date(2021, 1, 31)
