"""The audit and the rules are written down (docs/), complete, and agree with the data."""

from __future__ import annotations

import re
import sqlite3
from collections import Counter

import yaml
from ciso import iati_rules, readings
from ciso.site import ROOT
from conftest import DATA

DOCS = ROOT / "docs"


def query(db, sql, params=()):
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(sql, params)]


def sections(text: str) -> dict[str, list[list[str]]]:
    """Markdown tables under each ``## `` heading: rows of cells (header and separator left out)."""
    found: dict[str, list[list[str]]] = {}
    heading = ""
    for line in text.splitlines():
        if line.startswith("## "):
            heading = line[3:]
        elif line.startswith("|---"):
            found[heading].pop()  # the row above was the table's header
        elif line.startswith("| "):
            found.setdefault(heading, []).append([c.strip() for c in line.strip().strip("|").split(" | ")])
    return found


def audit():
    text = (DOCS / "audit-2020-2021.md").read_text(encoding="utf-8")
    tables = {}
    for heading, rows in sections(text).items():
        tables[heading.split(".")[0] if heading[:1].isdigit() else heading] = rows
    return text, tables


def test_the_audit_covers_every_activity_and_action_without_activity(built):
    _, tables = audit()
    listed = [r[0] for r in tables["1"]]
    expected = [
        r["numero"] for r in query(built, "select numero from activites where plan_id = '2020-2021' order by ordre")
    ]
    expected += [
        r["numero"]
        for r in query(
            built, "select numero from actions where nb_activites = 0 and plan_id = '2020-2021' order by ordre"
        )
    ]
    assert listed == expected
    for row in tables["1"]:
        assert len(row) == 10 and row[7] and row[8], row  # a verdict and a change (« aucun ») on every row
    # The status the audit shows is the one the database reads in the plan (a progress update
    # recorded since, with `ciso suivi ajouter`, rightly supersedes it: those elements are left out).
    statuses = {
        r["numero"]: r["statut_declare"]
        for r in query(
            built,
            "select numero, statut_declare from statut_elements "
            "where plan_id = '2020-2021' and coalesce(source, '') != 'mise_a_jour'",
        )
    }
    assert statuses
    for row in tables["1"]:
        if row[0] in statuses:
            assert row[6].split(" ")[0] == statuses[row[0]], row[0]


def test_the_audit_covers_every_curated_entry(built):
    _, tables = audit()
    listed = {(r[0], r[1]) for r in tables["2"]}
    reference = DATA / "reference"
    for name in ("organisations.yml", "pays.yml", "instruments.yml", "themes.yml", "financements.yml",
                 "partenariats.yml", "positions.yml"):  # fmt: skip
        for entry in yaml.safe_load((reference / name).read_text(encoding="utf-8")):
            assert (name, entry["id"]) in listed, (name, entry["id"])
    governance = yaml.safe_load((reference / "gouvernance.yml").read_text(encoding="utf-8"))
    for key in ("equipe", "instances"):
        for entry in governance[key]:
            assert (f"gouvernance.yml/{key}", entry["id"]) in listed
    for entry in yaml.safe_load((reference / "iati.yml").read_text(encoding="utf-8"))["secteurs"]:
        assert ("iati.yml/secteurs", entry["id"]) in listed
    for name in ("statuts.yml", "statuts_financement.yml", "roles_partenariat.yml", "types_organisation.yml"):
        for entry in yaml.safe_load((reference / name).read_text(encoding="utf-8")):
            assert (name, entry["id"]) in listed, (name, entry["id"])
    new = {(r[0], r[1]) for rows in tables.values() for r in rows if r[0].endswith(".yml")}
    for r in query(built, "select id from corrections_liens"):
        assert ("liens.yml", r["id"]) in new
    for r in query(built, "select id from dependances"):
        assert ("dependances.yml", r["id"]) in new
    for r in query(built, "select plan_id from periodes where origine != 'defaut'"):
        assert ("periodes.yml", r["plan_id"]) in new


def test_the_audit_covers_every_iati_mapping(built):
    _, tables = audit()
    assert [r[0] for r in tables["3"]] == [
        r["numero"]
        for r in query(built, "select numero from iati_activites where plan_id = '2020-2021' order by ordre")
    ]
    updated = {
        r["action"]
        for r in query(
            built,
            "select distinct a.numero as action from suivi s join actions a on a.id = s.action_id "
            "where s.source = 'mise_a_jour'",
        )
    }
    codes = {
        r["numero"]: str(r["code_statut_iati"])
        for r in query(built, "select * from iati_activites where plan_id = '2020-2021'")
    }
    for row in tables["3"]:
        if row[0] not in updated:  # a recorded update rightly changes the IATI status the audit read
            assert row[2].split(" ")[0] == codes[row[0]], row[0]


def test_the_counts_by_kind_are_those_of_the_tables():
    text, tables = audit()
    counted = Counter()
    for heading, rows in tables.items():
        if heading == "Changements, par genre":
            continue
        for row in rows:
            if not row[-1].startswith("("):
                counted.update(k for k in row[-1].split(", ") if k != "aucun")
    summary = {r[0]: int(r[1]) for r in tables["Changements, par genre"]}
    assert summary == dict(counted)
    assert f"Total : **{sum(counted.values())}** changements" in text
    # The corrections the issue names are among them.
    for kind in (
        "lien-ajoute",
        "lien-exclu",
        "pays-mention",
        "financement-affaibli",
        "role-affaibli",
        "iati-secteur",
        "iati-pays",
    ):
        assert summary.get(kind), kind


def test_the_reading_rules_are_written_down():
    text = (DOCS / "regles-de-lecture.md").read_text(encoding="utf-8")
    rules = [r.id for r in readings.STATUS_RULES] + [r.id for r in readings.FUNDING_RULES + readings.ROLE_RULES]
    for rule in rules:
        assert re.search(rf"^\| {re.escape(rule)} \|", text, re.M), rule
    for status in ("sans_bilan", "Sans bilan publié", "hypothese", "CISO_DATE_REFERENCE", "mention", "partenaires"):
        assert status in text


def test_every_implemented_iati_rule_is_documented():
    text = (DOCS / "iati.md").read_text(encoding="utf-8")
    for rule in iati_rules.RULES:
        assert re.search(rf"^\| {re.escape(rule.id)} \| {rule.severity} \|", text, re.M), rule.id
    assert "3.1.2" in text and "à parts égales, par convention" in text
