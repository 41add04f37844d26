"""The IATI 2.03 file: valid against the standard, faithful to the database, refused when broken;
the self-assessment on /-/transparence equals the SQL it links to."""

from __future__ import annotations

import html
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
import sqlite_utils
import xmlschema
from ciso import iati, iati_rules
from ciso.build import fingerprint
from ciso.cli import cli
from ciso.export import ExportError, export
from ciso.load import recompute
from click.testing import CliRunner
from conftest import DATA
from lxml import etree
from test_plan_parser import line_of
from test_transparency import links_of, query

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
CODELISTS = iati.SCHEMA_DIR / "codelists"


def iati_file(built) -> Path:
    return built.parent / "export" / iati.FILE_NAME


def parse(built):
    return etree.parse(str(iati_file(built))).getroot()


def activity(root, action_id: str):
    found = [a for a in root.iter("iati-activity") if a.findtext("iati-identifier").endswith(f"-{action_id}")]
    assert len(found) == 1, action_id
    return found[0]


def codes_of(name: str) -> set[str]:
    """Active codes of a vendored codelist, read independently of ciso.iati."""
    tree = etree.parse(str(CODELISTS / f"{name}.xml"))
    return {
        item.findtext("code").strip() for item in tree.iter("codelist-item") if item.get("status", "active") == "active"
    }


def broken_db(built, tmp_path, *statements) -> Path:
    db = tmp_path / "ciso.db"
    shutil.copy(built, db)
    with sqlite3.connect(db) as conn:
        for sql in statements:
            conn.execute(sql)
    recompute(sqlite_utils.Database(db))  # the computed tables follow the edited base tables
    return db


# --- the real file ---------------------------------------------------------------------------


def test_export_of_the_real_data_validates_against_the_xsd_and_codelists(built):
    path = iati_file(built)
    # An independent validator (xmlschema) on the vendored 2.03 schema, then our own full check.
    xmlschema.XMLSchema(str(iati.SCHEMA_DIR / "iati-activities-schema.xsd")).validate(str(path))
    assert iati.check(path.read_bytes()) == []
    root = parse(built)
    assert root.get("version") == "2.03"
    used = {
        ("//reporting-org/@type", "OrganisationType"),
        ("//participating-org/@role", "OrganisationRole"),
        ("//participating-org/@type", "OrganisationType"),
        ("//activity-status/@code", "ActivityStatus"),
        ("//activity-date/@type", "ActivityDateType"),
        ("//recipient-country/@code", "Country"),
        ("//sector/@vocabulary", "SectorVocabulary"),
        ("//sector/@code", "Sector"),
        ("//tag/@vocabulary", "TagVocabulary"),
        ("//document-link/category/@code", "DocumentCategory"),
        ("//document-link/language/@code", "Language"),
        ("//@xml:lang", "Language"),
    }
    for xpath, name in used:
        values = set(root.xpath(xpath))
        assert values, xpath  # every kind of code is really used, so the check means something
        assert values <= codes_of(name), (xpath, values - codes_of(name))
    published = query(built, "select * from iati_activites where dans_le_fichier = 1")
    assert set(root.xpath("//activity-status/@code")) == {str(r["code_statut_iati"]) for r in published}
    assert set(root.xpath("//sector/@code")) == {r["code"] for r in query(built, "select code from secteurs")}
    # Against every IATI rule we implement: no error; the warnings are those the database lists.
    found = iati_rules.findings(path.read_bytes())
    assert iati_rules.errors(found) == []
    stored = query(built, "select regle_id, activite, element from controles_iati order by id")
    assert [(f.rule, f.activity, f.element) for f in found] == [tuple(r.values()) for r in stored]
    assert {r["regle_id"] for r in stored} <= {r.id for r in iati_rules.RULES if r.severity == "avertissement"}


def test_one_activity_per_action_in_french(built):
    root = parse(built)
    actions = query(built, "select action_id as id from iati_activites where dans_le_fichier = 1 order by ordre")
    identifiers = [a.findtext("iati-identifier") for a in root.iter("iati-activity")]
    assert identifiers == [f"{iati.PLACEHOLDER_IDENTIFIER}-{a['id']}" for a in actions]
    # Every action of the real plan has a sector, so all are in the file (an action of a plan not yet
    # classed by sector is left out, and /-/transparence says so).
    real = "select count(*) n from {} where plan_id = '2020-2021'"
    assert sum(a["id"].startswith("2020-2021-") for a in actions) == query(built, real.format("actions"))[0]["n"]
    assert all(n.get(XML_LANG) == "fr" for n in root.iter("narrative"))
    titles = [a.find("title/narrative").text for a in root.iter("iati-activity")]
    assert titles[:2] == ["1.1 Stage intersyndical annuel", "1.2 Outils d'éducation"]
    description = activity(root, "2020-2021-1-3").find("description/narrative").text
    assert description.startswith("Plan d'action 2020-2021 du CISO, objectif 1 : Créer et renforcer")
    assert "1.3.2 Poursuite de l'appui à la traduction" in description
    assert "réalisés en collaboration avec Labor for Palestine" in description  # markup removed
    # No amounts in any source: no budget, transaction or money at all; no results recorded.
    for element in ("budget", "planned-disbursement", "transaction", "result", "capital-spend"):
        assert root.find(f".//{element}") is None
    assert root.find("iati-activity").get("default-currency") is None


def test_activity_2_1_partners_countries_and_links(built):
    a = activity(parse(built), "2020-2021-2-1")
    by_role = {}
    for org in a.findall("participating-org"):
        by_role.setdefault(org.get("role"), set()).add(org.findtext("narrative"))
    # Implementing: FAT only. ICKL co-coordinates only « Si le PSOCI est obtenu » (2.1.2): not declared.
    assert by_role["4"] == {"Front authentique du travail"}
    # Funding: none. The Louise-Grenier foundation's « appui » is not said to be funding; PSOCI is only awaited.
    assert "1" not in by_role
    assert by_role["2"] == {"Centre international de solidarité ouvrière"}  # accountable
    implementing = {o.findtext("narrative"): o.get("type") for o in a.findall("participating-org[@role='4']")}
    assert implementing == {"Front authentique du travail": "24"}
    # Haiti is named only by the conditional 2.1.2: Mexico alone, so no percentage is needed.
    countries = {c.get("code"): c.findtext("narrative") for c in a.findall("recipient-country")}
    assert countries == {"MX": "Mexique"}
    assert a.find("recipient-country").get("percentage") is None
    # The status the sources support: the last declared one (2.1.1 « Jusqu'à décembre 2020 » : en cours), explained.
    row = query(built, "select * from iati_activites where action_id = '2020-2021-2-1'")[0]
    assert (row["statut"], row["statut_declare"]) == ("sans_bilan", "en_cours")
    assert a.find("activity-status").get("code") == "2"
    description = a.find("description/narrative").text
    assert "sans bilan publié" in description and "dernier statut que donnent nos sources : en cours" in description
    assert "L'activité 2.1.2 dépend d'une condition que pose le plan (« Si le PSOCI est obtenu »)" in description
    assert "(hypothèse)" in description  # the planned dates are the assumed period of the plan
    assert {d.get("type"): d.get("iso-date") for d in a.findall("activity-date")} == {
        "1": "2020-04-01",
        "3": "2021-03-31",
    }
    assert [(s.get("vocabulary"), s.get("code")) for s in a.findall("sector")] == [("1", "16070")]
    tags = {t.get("code") for t in a.findall("tag")}
    assert tags == {"alternatives-economiques", "covid-19", "financement", "recycleurs"}
    assert {t.get("vocabulary") for t in a.findall("tag")} == {"99"}
    link = a.find("document-link")
    assert link.get("url") == f"{iati.PLACEHOLDER_SITE}/-/source/2020-2021#L79"
    assert link.find("category").get("code") == "A02" and link.find("language").get("code") == "fr"
    assert a.find("reporting-org").get("ref") == iati.PLACEHOLDER_IDENTIFIER


def test_several_countries_are_split_equally_and_say_so(built):
    """Rule 3.1.2 wants percentages that no source gives: an equal split, labelled as a convention."""
    root = parse(built)
    split = query(built, "select * from iati_pays where nb_pays > 1 order by ordre, pays_id")
    assert {r["action_id"] for r in split} == {"2020-2021-3-2"}  # the partners' countries of 3.2.2
    a = activity(root, "2020-2021-3-2")
    shares = {c.get("code"): float(c.get("percentage")) for c in a.findall("recipient-country")}
    assert shares == {r["pays_id"]: r["pourcentage"] for r in split}
    assert abs(sum(shares.values()) - 100) < 0.001 and max(shares.values()) - min(shares.values()) <= 0.05
    assert (
        "par convention, l'action est répartie à parts égales entre les 6 pays" in a.find("description/narrative").text
    )


def test_actions_held_in_quebec_carry_no_foreign_country(built):
    """1.1 names the 2020 internship in Mexico, 1.3 webinars about Palestine: mentions, not recipients."""
    root = parse(built)
    for action in ("2020-2021-1-1", "2020-2021-1-3", "2020-2021-1-4"):
        assert activity(root, action).find("recipient-country") is None, action
    mentioned = query(built, "select activite_id, pays_id from activites_pays where nature = 'mention' order by 1")
    assert mentioned == [
        {"activite_id": "2020-2021-1-1-2", "pays_id": "MX"},
        {"activite_id": "2020-2021-1-3-2", "pays_id": "PS"},
    ]


def test_unknown_identifier_is_a_marked_placeholder_never_an_invented_one(built):
    text = iati_file(built).read_text(encoding="utf-8")
    assert "identifiant d'organisation PROVISOIRE XX-XXX-CISO-A-CONFIRMER" in text  # an XML comment
    assert "adresse du site PROVISOIRE https://adresse-du-site-a-confirmer.invalid" in text
    root = parse(built)
    assert {r.get("ref") for r in root.iter("reporting-org")} == {iati.PLACEHOLDER_IDENTIFIER}
    assert not root.xpath("//participating-org/@ref")  # the placeholder is not spread further
    settings = {r["cle"]: r for r in query(built, "select * from parametres_iati")}
    assert settings["identifiant_organisation"]["valeur"] is None  # not in our sources
    assert settings["type_organisation"]["valeur"] == "22"
    assert settings["type_organisation"]["origine"] == "reference/iati.yml:19"


def test_the_view_flags_describe_the_file(built):
    """avec_… columns of iati_activites (counted by the self-assessment) match the elements written."""
    root = parse(built)
    rows = query(built, "select * from iati_activites where dans_le_fichier = 1 order by ordre")
    assert len(rows) == len(root.findall("iati-activity"))
    assert (
        sum(r["plan_id"] == "2020-2021" for r in rows)
        == query(built, "select count(*) n from actions where plan_id = '2020-2021'")[0]["n"]
    )
    for row in rows:
        a = activity(root, row["action_id"])
        assert row["avec_dates"] == (len(a.findall("activity-date")) == 2), row["numero"]
        assert row["avec_partenaires"] == bool(a.xpath("participating-org[@role='1' or @role='4']")), row["numero"]
        assert row["avec_pays"] == bool(a.findall("recipient-country")), row["numero"]
        assert row["avec_secteur"] == bool(a.findall("sector")), row["numero"]
        assert row["avec_document"] == bool(a.findall("document-link")), row["numero"]
        assert row["avec_resultats"] == bool(a.findall("result")), row["numero"]
        assert a.find("activity-status").get("code") == str(row["code_statut_iati"])


# --- refusals --------------------------------------------------------------------------------


def _remove(root, xpath):
    element = root.xpath(xpath)[0]
    element.getparent().remove(element)


@pytest.mark.parametrize(
    "change,expected",
    [
        (
            lambda r: _remove(r, "//iati-activity[contains(iati-identifier, '-2020-2021-2-1')]/activity-status"),
            ["2020-2021-2-1", "activity-status", "schéma XSD IATI 2.03", "[6.2.1]"],
        ),
        (
            lambda r: r.xpath("//recipient-country[@code='MX']")[0].set("code", "ZZ"),
            [
                "[9.50.1] recipient-country/@code : « ZZ » n'est pas un code de la liste Country",
                "data/reference/pays.yml",
            ],
        ),
        (
            lambda r: r.xpath("//sector")[0].set("code", "15161"),
            ["[9.76.1] sector/@code : « 15161 » a été retiré de la liste Sector"],
        ),
        (
            lambda r: r.xpath("//activity-date[@type='3']")[0].set("iso-date", "2019-01-01"),
            ["[11.1.2] activity-date : la fin (2019-01-01) précède le début (2020-04-01)"],
        ),
        (
            lambda r: r.xpath("//iati-identifier")[1].__setattr__("text", "XX-AUTRE-1"),
            ["[1.1.1] iati-identifier : « XX-AUTRE-1 » ne commence pas par", "[1.1.21]"],  # warnings
        ),
    ],
    ids=["element-removed", "bad-country", "withdrawn-sector", "dates-reversed", "identifier-prefix"],
)
def test_a_broken_file_is_refused_naming_the_element(built, change, expected):
    root = parse(built)
    change(root)
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    messages = iati.check(data) or [str(f) for f in iati_rules.findings(data)]
    assert messages, "the broken file passed"
    text = "\n".join(messages)
    for fragment in expected:
        assert fragment in text, text
    assert text.startswith(f"{iati.FILE_NAME}, ligne ")


def test_export_refuses_a_bad_code_and_writes_nothing(built, tmp_path):
    db = broken_db(built, tmp_path, "update statuts set code_iati = 9 where id = 'en_cours'")
    out = tmp_path / "out"
    out.mkdir()
    (out / "previous.txt").write_text("previous export", encoding="utf-8")
    with pytest.raises(ExportError) as refused:
        export(db, out, {})
    message = str(refused.value)
    assert "iati-activities.xml refusé ; aucun téléchargement n'a été écrit" in message
    assert "[9.5.1] activity-status/@code : « 9 » n'est pas un code de la liste ActivityStatus" in message
    first = query(db, "select action_id from iati_activites where code_statut_iati = 9 order by ordre")[0]
    assert f"(activité XX-XXX-CISO-A-CONFIRMER-{first['action_id']})" in message
    assert "code_iati dans data/reference/statuts.yml" in message  # what to fix
    assert sorted(p.name for p in out.iterdir()) == ["previous.txt"]  # the previous export is intact
    assert not list(tmp_path.glob(".out.*"))  # no temporary directory left behind


def test_cli_export_refuses_a_missing_element(built, tmp_path):
    db = broken_db(built, tmp_path, "update plans set debut = null, fin = null")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["export", "--db", str(db), "--out", str(out)])
    assert result.exit_code == 1
    assert "iati-activities.xml refusé" in result.output
    assert "Expected is ( activity-date )" in result.output  # names the missing element
    assert "(activité XX-XXX-CISO-A-CONFIRMER-2020-2021-1-1)" in result.output
    assert not out.exists()


# --- settings and classification (data/reference/iati.yml) ----------------------------------------


@pytest.mark.parametrize(
    "old,new,message",
    [
        ('code: "16070"', 'code: "16071"', "code « 16071 » n'est pas un code de la liste Sector de l'IATI 2.03"),
        (
            "libelle: Droits du travail",
            "libelle: Droit du travail",
            "libellé « Droit du travail » : la liste Sector nomme le code 16070 « Droits du travail »",
        ),
        ('type_organisation: "22"', 'type_organisation: "99"', "type_organisation « 99 » n'est pas un code"),
        (
            "identifiant_organisation: null",
            'identifiant_organisation: "CA CRA 12"',
            "identifiant d'organisation IATI invalide : « CA CRA 12 »",
        ),
        (
            "identifiant_organisation: null",
            'identifiant_organisation: "ZZ-TEST-0001"',
            "identifiant d'organisation sans « source_identifiant »",
        ),
        (
            "identifiant_organisation: null",
            "identifiant_organisation: XX-XXX-CISO-A-CONFIRMER",
            "est l'identifiant provisoire",
        ),
        ('actions: ["1.1", "1.2"', 'actions: ["2.1", "1.2"', "action 2.1 déjà classée"),
        ("adresse_site: null", "adresse_site: donnees.example.org", "adresse du site invalide"),
    ],
    ids=[
        "sector-code",
        "sector-label",
        "org-type",
        "identifier-form",
        "identifier-source",
        "placeholder",
        "twice",
        "site",
    ],
)
def test_settings_and_sectors_are_checked_with_file_and_line(data_copy, old, new, message):
    path = data_copy / "reference" / iati.SETTINGS_FILE
    text = path.read_text(encoding="utf-8")
    assert old in text
    text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")
    _, problems = iati.check_reference(data_copy, environ={})
    found = [p for p in problems if message in p.message]
    assert len(found) == 1, problems
    assert (found[0].path, found[0].line) == (str(path), line_of(text, new))


def test_check_command_reports_a_bad_status_code(data_copy):
    path = data_copy / "reference" / "statuts.yml"
    text = path.read_text(encoding="utf-8").replace("code_iati: 6", "code_iati: 7")
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", "--data", str(data_copy)])
    assert result.exit_code == 1
    assert f"{path}:{line_of(text, 'code_iati: 7')}: code_iati « 7 » n'est pas un code de la liste ActivityStatus" in (
        result.output
    )


def test_environment_overrides_and_a_configured_identifier(built, tmp_path, monkeypatch):
    env = {iati.ENV_IDENTIFIER: "ZZ-TEST-0001", iati.ENV_SITE: "https://donnees.example.org/"}
    rows, problems = iati.check_reference(DATA, environ=env)
    assert problems == []
    settings = {r["cle"]: r for r in rows}
    assert settings["identifiant_organisation"] == {
        "cle": "identifiant_organisation",
        "valeur": "ZZ-TEST-0001",
        "origine": "variable d'environnement CISO_IATI_IDENTIFIANT",
    }
    assert settings["adresse_site"]["valeur"] == "https://donnees.example.org"
    bad, problems = iati.check_reference(DATA, environ={iati.ENV_IDENTIFIER: "pas un identifiant"})
    assert [str(p) for p in problems] == [
        "variable d'environnement CISO_IATI_IDENTIFIANT: identifiant d'organisation IATI invalide : "
        "« pas un identifiant » (forme attendue : agence-numéro, par exemple CA-CRA_ACR-123456789RR0001, "
        "sans espace ni / & | ? #)"
    ]

    db = broken_db(
        built,
        tmp_path,
        "update parametres_iati set valeur = 'ZZ-TEST-0001' where cle = 'identifiant_organisation'",
        "update parametres_iati set valeur = 'https://donnees.example.org' where cle = 'adresse_site'",
    )
    with sqlite3.connect(db) as conn:
        data = iati.export_xml(conn)
    root = etree.fromstring(data)
    assert b"PROVISOIRE" not in data
    a = activity(root, "2020-2021-2-1")
    assert a.findtext("iati-identifier") == "ZZ-TEST-0001-2020-2021-2-1"
    assert a.find("participating-org[@role='2']").get("ref") == "ZZ-TEST-0001"
    assert a.find("document-link").get("url") == "https://donnees.example.org/-/source/2020-2021#L79"

    before = fingerprint(DATA)
    monkeypatch.setenv(iati.ENV_IDENTIFIER, "ZZ-TEST-0001")
    assert fingerprint(DATA) != before  # `ciso serve` rebuilds when the override changes


# --- pages -----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_self_assessment_figures_equal_the_sql_they_link_to(ds, built):
    page = (await ds.client.get("/-/transparence/iati")).text
    section = page[page.index('<div class="ciso-section-transparence" id="iati">') :]
    links = links_of(section)
    shares = [a for a in links if a.get("class") == "ciso-part"]
    latest = query(built, "select max(id) as id from plans")[0]["id"]  # the page details the latest plan
    expected = query(built, "select * from auto_evaluation_iati where plan_id = ? order by ordre", [latest])
    assert len(shares) == len(expected) == 7
    for a, row in zip(shares, expected, strict=True):
        path, _, params = a["href"].partition("?")
        linked = (await ds.client.get(f"{path}.json?{params}&_shape=array")).json()
        assert len(linked) == 1 and linked[0]["critere"] == row["critere"], a["href"]
        assert float(a["data-valeur"]) == linked[0]["part"]
        # The share is the view's, and the view's is the count of the file's actions that meet the criterion.
        met = query(
            built,
            f"select count(*) as n from iati_activites where plan_id = ? and {row['colonne']} = 1",  # noqa: S608
            (row["plan_id"],),
        )[0]["n"]
        assert linked[0]["part"] == round(met / row["nb_actions"], 4)
        assert a["text"] == f"{round(row['part'] * 100)}\u00a0%"
    figures = {a["href"]: int(a["data-valeur"]) for a in links if a.get("class") == "ciso-chiffre"}
    for column in ("avec_partenaires", "avec_pays", "avec_secteur", "avec_resultats"):
        expected_count = query(
            built,
            f"select count(*) n from iati_activites where {column} = 1 and plan_id = ?",
            [latest],  # noqa: S608
        )[0]["n"]
        assert figures[f"/ciso/iati_activites?plan_id={latest}&{column}=1"] == expected_count
    unclassified = query(
        built, "select count(*) n from iati_activites where avec_secteur = 0 and plan_id = ?", [latest]
    )
    assert (
        figures[f"/ciso/iati_activites?plan_id={latest}&avec_secteur=1"] + unclassified[0]["n"]
        == figures[f"/ciso/iati_activites?plan_id={latest}"]
    )
    assert figures[f"/ciso/iati_activites?plan_id={latest}&avec_resultats=1"] == 0
    # The rules checked, no error, and every remaining warning with what would fix it.
    assert figures["/ciso/controles_iati?gravite=erreur"] == 0
    assert figures["/ciso/regles_iati"] == query(built, "select count(*) n from regles_iati")[0]["n"]
    warnings = query(built, "select * from regles_iati where gravite = 'avertissement' and nb_constats > 0")
    assert {w["id"] for w in warnings} >= {"1.14.8", "3.7.1"}  # placeholder identifier; actions held in Québec
    for w in warnings:
        row = section[section.index(f'<tr id="regle-{w["id"]}">') :]
        row = html.unescape(row[: row.index("</tr>")])
        assert w["correction"] in row and w["controle"] in row
        assert figures[f"/ciso/controles_iati?regle_id={w['id']}"] == w["nb_constats"]
    text = html.unescape(re.sub(r"<[^>]+>", "", section))
    assert "Identifiant provisoire." in text and iati.PLACEHOLDER_IDENTIFIER in text
    assert "Aucune de nos sources n'en contient encore" in text  # results: zero, said honestly
    assert "pas les mots du CISO" in text
    assert "Ni budget ni transaction" in text


@pytest.mark.asyncio
async def test_iati_file_is_downloadable_and_linked(ds, built):
    for path in ("/-/telechargements", "/-/transparence/iati"):
        hrefs = {a["href"] for a in links_of((await ds.client.get(path)).text)}
        assert "/telechargements/iati-activities.xml" in hrefs, path
    response = await ds.client.get("/telechargements/iati-activities.xml")
    assert response.status_code == 200
    assert response.content == iati_file(built).read_bytes()
    assert response.content.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<iati-activities version=\"2.03\"")


def test_build_says_the_downloads_were_refused_and_keeps_the_previous_ones(tmp_path, monkeypatch):
    import ciso.export

    def invalid(conn):
        raise iati.IatiError(["iati-activities.xml, ligne 9 (activité X) : activity-status/@code « 9 » …"])

    monkeypatch.setattr(ciso.export, "export_xml", invalid)
    out = tmp_path / "export"
    out.mkdir()
    (out / "previous.txt").write_text("previous export", encoding="utf-8")
    db = tmp_path / "ciso.db"
    result = CliRunner().invoke(cli, ["build", "--data", str(DATA), "--db", str(db), "--export", str(out)])
    assert result.exit_code == 1
    assert "iati-activities.xml refusé ; aucun téléchargement n'a été écrit (1 problème)" in result.output
    assert "activity-status/@code « 9 »" in result.output
    assert f"Rien n'a été remplacé : ni la base, ni les téléchargements de {out}/." in result.output
    assert sorted(p.name for p in out.iterdir()) == ["previous.txt"]
    assert not db.exists()  # no previous database here, and the new one was not put in place
