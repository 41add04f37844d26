"""Transparency: curated funding, partners, positions and governance; downloads for allies."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import shutil
import sqlite3
import zipfile
from html.parser import HTMLParser

import pytest
from ciso.cli import cli
from ciso.export import validate_package
from ciso.fr import periode_fr
from ciso_site.transparency import SECTIONS
from click.testing import CliRunner
from conftest import REAL_PLAN
from test_plan_parser import line_of


def query(db, sql, params=()):
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(sql, params)]


class Links(HTMLParser):
    """Collects <a> tags with their attributes and text."""

    def __init__(self):
        super().__init__()
        self.links, self._current = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._current = {**dict(attrs), "text": ""}
            self.links.append(self._current)

    def handle_data(self, data):
        if self._current is not None:
            self._current["text"] += data

    def handle_endtag(self, tag):
        if tag == "a":
            self._current = None


def links_of(html: str) -> list[dict]:
    parser = Links()
    parser.feed(html)
    return parser.links


# --- curated data, checked at build time -------------------------------------------------


@pytest.mark.parametrize(
    "file,old,new",
    [
        (
            "financements.yml",
            "Nous attendons toujours la réponse quant à l'obtention de ce financement pour 2020-2022.",
            "Nous attendons la réponse pour 2020-2022.",
        ),
        ("partenariats.yml", "co-coordonné par l'Institut culturel Karl-Lévêque (ICKL)", "co-dirigé par l'ICKL"),
        (
            "positions.yml",
            '"les pratiques des distributeurs alimentaires en sol québécois"',
            '"les distributeurs alimentaires du Québec"',
        ),
        (
            "gouvernance.yml",
            "Un comité ad hoc sur les droits des peuples autochtones a été créé en 2020.",
            "Un comité créé en 2019.",
        ),
    ],
)
def test_curated_quotation_not_in_plan_fails_the_build(data_copy, tmp_path, file, old, new):
    path = data_copy / "reference" / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    db = tmp_path / "ciso.db"
    db.write_bytes(b"previous")
    result = CliRunner().invoke(cli, ["build", "--data", str(data_copy), "--db", str(db)])
    assert result.exit_code == 1
    assert f"{path}:{line_of(text, new)}: citation introuvable mot pour mot dans le plan 2020-2021" in result.output
    assert db.read_bytes() == b"previous"


def test_unknown_action_in_curated_data_is_reported(data_copy):
    path = data_copy / "reference" / "positions.yml"
    text = path.read_text(encoding="utf-8").replace('actions: ["3.1"]', 'actions: ["3.9"]')
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", "--data", str(data_copy)])
    assert result.exit_code == 1
    assert f"{path}:{line_of(text, '3.9')}: action « 3.9 » introuvable dans le plan 2020-2021" in result.output


def test_every_curated_statement_points_at_its_line(built):
    lines = REAL_PLAN.read_text(encoding="utf-8").split("\n")
    for table in ("financements", "partenariats", "positions", "equipe", "instances"):
        for row in query(built, f"select * from {table}"):
            assert row["citation_markup"] in lines[row["ligne"] - 1], (table, row["id"])
    for row in query(built, "select * from positions where cible_citation is not null"):
        assert row["cible_citation"] in lines[row["cible_citation_ligne"] - 1]


def test_funding_as_the_plan_states_it(built):
    funding = {r["id"]: r for r in query(built, "select * from financements")}
    assert (funding["psoci"]["statut"], funding["psoci"]["organisation_id"]) == ("en_attente", "mrif")
    assert (funding["pecm"]["statut"], funding["pecm"]["remplace_par"]) == ("termine", "psoci")
    assert funding["pqdi"]["statut"] == "vise"
    assert funding["subvention-salariale-urgence"]["statut"] == "obtenu"
    assert funding["contrepartie-25"]["statut"] == "vise"
    # Read no further than the plan's words (issue 12): « avec l'appui de » says neither funding nor obtained;
    # membership dues are an existing mechanism (action 5.1); « réfléchir à » is only considered.
    assert funding["fondation-louise-grenier-cooperative"]["statut"] == "non_precise"
    assert funding["cotisations"]["statut"] == "existant"
    assert (
        funding["sociofinancement"]["statut"] == funding["fonds-petites-moyennes-organisations"]["statut"] == "envisage"
    )
    columns = [c[1] for c in sqlite3.connect(built).execute("pragma table_info(financements)")]
    assert not [c for c in columns if "montant" in c]  # no amounts: no source gives any


def test_partners_and_positions(built):
    partners = {r["organisation_id"]: r for r in query(built, "select * from partenariats")}
    assert partners["fat"]["role"] == "co_coordination" and partners["ickl"]["role"] == "co_coordination"
    assert partners["rcrce"]["role"] == "coalition"
    # ICKL co-coordinates only « Si le PSOCI est obtenu »; the Louise-Grenier foundation gives « l'appui »,
    # not funds the plan names; the MRIF funds CISO but the plan ties no 2020-2021 action to that funding.
    assert (partners["fat"]["condition_citation"], partners["ickl"]["condition_citation"]) == (
        None,
        "Si le PSOCI est obtenu",
    )
    assert partners["fondation-louise-grenier"]["role"] == "appui"
    assert partners["mrif"]["role"] == "bailleur_de_fonds" and json.loads(partners["mrif"]["actions"]) == []
    targets = {r["id"]: r for r in query(built, "select * from positions")}
    assert targets["ratification-c189-c169"]["cible"] is None and targets["mise-en-oeuvre-p029"]["cible"] is None
    assert targets["luttes-internationales"]["cible_citation"] == "Plaidoyer auprès des décideurs"
    instruments = query(
        built, "select position_id, instrument_id from positions_instruments order by position_id, instrument_id"
    )
    assert instruments == [
        {"position_id": "mise-en-oeuvre-p029", "instrument_id": "P029"},
        {"position_id": "ratification-c189-c169", "instrument_id": "C169"},
        {"position_id": "ratification-c189-c169", "instrument_id": "C189"},
    ]
    titles = {r["titre"] for r in query(built, "select titre from positions")}
    assert "« Des droits essentiels pour des travailleuses et travailleurs essentiels »" in titles


def test_governance_has_roles_never_names(built):
    with sqlite3.connect(built) as conn:
        tables = [r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")]
        for table in tables:
            for column in (r[1] for r in conn.execute("select * from pragma_table_info(?)", [table])):
                assert not re.search(r"prenom|nom_famille|personne|name|auteur|responsable", column), (table, column)
    team = query(built, "select * from equipe")
    assert {r["role"] for r in team} == {
        "Coordination",
        "Suivi des projets et des stages",
        "Comptabilité",
        "Communications (renfort)",
        "Appuis ponctuels",
    }
    assert "nom" not in team[0] and "intitule" in query(built, "select * from instances")[0]
    created = {r["id"]: r["creation"] for r in query(built, "select * from instances")}
    assert created["comite-peuples-autochtones"] == "2020"


# --- the transparency page ---------------------------------------------------------------


TRANSPARENCY_PAGES = ["/-/transparence", *(f"/-/transparence/{slug}" for slug in SECTIONS)]


@pytest.mark.asyncio
@pytest.mark.parametrize("page", TRANSPARENCY_PAGES)
async def test_every_figure_equals_the_rows_it_links_to(ds, page):
    html = (await ds.client.get(page)).text
    figures = [a for a in links_of(html) if "ciso-chiffre" in (a.get("class") or "")]
    assert figures
    for a in figures:
        href = a["href"]
        path, _, params = href.partition("?")
        data = (await ds.client.get(f"{path}.json?{params}&_size=0")).json()
        assert int(a["data-valeur"]) == data["filtered_table_rows_count"], href
        assert a["text"].replace("\u202f", "") == a["data-valeur"]


@pytest.mark.asyncio
async def test_overview_sums_up_every_section_and_links_to_its_page(ds, built):
    html = (await ds.client.get("/-/transparence")).text
    hrefs = [a["href"] for a in links_of(html)]
    for slug in SECTIONS:
        assert f'<section id="{slug}"' in html
        assert hrefs.count(f"/-/transparence/{slug}") >= 2, slug  # the heading and « more »
    figures = {a["href"]: int(a["data-valeur"]) for a in links_of(html) if "ciso-chiffre" in (a.get("class") or "")}
    for table in ("financements", "partenariats", "positions", "equipe", "instances", "sources", "iati_activites"):
        assert figures[f"/ciso/{table}"] == query(built, f"select count(*) n from {table}")[0]["n"], table
    # one page's worth: no table of rows, two charts that are data (spec files on our JSON)
    assert "<table" not in html
    specs = re.findall(r'data-vega-spec-url="([^"]+)"', html)
    assert len(specs) == 2
    funding = (await ds.client.get(specs[0].replace("&amp;", "&"))).json()
    rows_ = (await ds.client.get("/" + funding["data"]["url"])).json()
    assert {r["statut"]: r["nombre"] for r in rows_} == {
        r["statut"]: r["n"] for r in query(built, "select statut, count(*) n from financements group by statut")
    }
    data = (await ds.client.get("/-/transparence.json")).json()
    assert data["chiffres"]["financements"]["valeur"] == figures["/ciso/financements"]
    assert [s["href"] for s in data["sections"]] == [f"/-/transparence/{slug}" for slug in SECTIONS]


@pytest.mark.asyncio
async def test_section_pages_have_their_full_tables_and_json(ds, built):
    funding = (await ds.client.get("/-/transparence/financement")).text
    assert "<h1>Financement</h1>" in funding and 'aria-current="page">Financement</a>' in funding
    assert funding.count('href="/ciso/financements/') >= query(built, "select count(*) n from financements")[0]["n"]
    assert 'href="/-/source/2020-2021#L33"' in funding  # PSOCI, funding statements
    partners = (await ds.client.get("/-/transparence/partenaires")).text
    assert "<strong>à condition</strong> : « Si le PSOCI est obtenu »" in partners  # ICKL's partnership
    # countries and organisations lead to their own pages
    hrefs = {a["href"] for a in links_of(partners)}
    assert "/-/pays/MX" in hrefs and "/-/organisations/fat" in hrefs
    assert not any(h.startswith(("/ciso/pays/", "/ciso/organisations/")) for h in hrefs)
    sources = (await ds.client.get("/-/transparence/sources")).text
    for source in query(built, "select sha256 from sources"):
        assert source["sha256"] in sources
    assert "Aucun nom de personne." in sources and "Aucun montant." in sources and "Licence proposée" in sources
    assert 'id="lecture"' in sources  # the reading rules
    for slug in SECTIONS:
        data = (await ds.client.get(f"/-/transparence/{slug}.json")).json()
        assert data["section"] == slug and data["chiffres"]["financements"]["valeur"] > 0
    data = (await ds.client.get("/-/transparence/financement.json")).json()
    assert {f["id"] for f in data["financements"]} == {r["id"] for r in query(built, "select id from financements")}


@pytest.mark.asyncio
async def test_dates_are_french_never_iso(ds, built):
    funding = (await ds.client.get("/-/transparence/financement")).text
    assert "1er avril 2020 – 30 septembre 2020" in funding  # the emergency wage subsidy
    assert "août 2020 – mars 2021" in funding and "2020 – 2022" in funding
    team = (await ds.client.get("/-/transparence/gouvernance")).text
    for page in (funding, team):
        text = re.sub(r"(?s)<(script|code)\b.*?</\1>|<[^>]+>", " ", page)
        assert not re.search(r"\b\d{4}-\d{2}(-\d{2})?\b(?!-)", text.replace("2020-2021", "")), "ISO date shown"


def test_periods_in_french():
    assert periode_fr("2020-04-01", "2020-09-30") == "1er avril 2020 – 30 septembre 2020"
    assert periode_fr("2020-08", "2021-03") == "août 2020 – mars 2021"
    assert periode_fr("2020", None) == "2020 – …"


@pytest.mark.asyncio
async def test_unknown_section_is_a_french_404(ds):
    for path in ("/-/transparence/inconnue", "/-/transparence/inconnue.json"):
        response = await ds.client.get(path)
        assert response.status_code == 404
        assert "Aucune section « inconnue » dans la page Transparence" in response.text.replace("&#34;", '"')


@pytest.mark.asyncio
async def test_the_map_is_data(ds, built):
    html = (await ds.client.get("/-/transparence/partenaires")).text
    # The map is data: a Vega-Lite spec file, whose countries come from the JSON of pays_partenaires.
    div = re.search(r'<div class="ciso-graphique ciso-carte" data-vega-spec-url="([^"]+)" data-vega-racine="/"', html)
    assert div and '<script type="application/json"' not in html
    spec = (await ds.client.get(div[1].replace("&amp;", "&"))).json()
    lookup = spec["layer"][1]["transform"][0]
    assert lookup["from"]["key"] == "code_numerique" and spec["layer"][0]["data"]["url"] == (
        re.search(r'src="/(-/static-plugins/[^"?]+/)vendor/vega.min.js', html)[1] + "vendor/countries-110m.json"
    )
    values = (await ds.client.get("/" + lookup["from"]["data"]["url"])).json()
    work = query(built, "select count(*) n from activites_pays where pays_id = 'MX' and nature = 'travail'")[0]["n"]
    mexico = next(v for v in values if v["pays_id"] == "MX")
    assert (mexico["code_numerique"], mexico["nom"], mexico["nb_activites_travail"]) == ("484", "Mexique", work)
    assert (mexico["nb_partenariats"], mexico["nb_organisations"]) == (1, 1)
    # Only the countries where CISO works or has partners are on the map (issue 12: not Brazil, not the USA).
    partners = {
        r["code_numerique"] for r in query(built, "select code_numerique from pays where relation = 'partenaires'")
    }
    assert {v["code_numerique"] for v in values} == partners and not partners & {"076", "840", "124"}


@pytest.mark.asyncio
async def test_source_page_highlights_lines_and_links_headings(ds):
    html = (await ds.client.get("/-/source/2020-2021")).text
    lines = REAL_PLAN.read_text(encoding="utf-8").split("\n")
    assert html.count('<tr id="L') == 198
    assert '<tr id="L82"' in html and 'href="#L82"' in html
    assert "Si le PSOCI est obtenu" in html[html.index('<tr id="L82"') : html.index('<tr id="L83"')]
    assert lines[81].startswith("- Si le PSOCI est obtenu")
    row = html[html.index('<tr id="L39"') : html.index('<tr id="L40"')]
    assert '<a class="ciso-fiche" href="/ciso/objectifs/2020-2021-1">' in row
    row = html[html.index('<tr id="L188"') : html.index('<tr id="L189"')]
    assert '<a class="ciso-fiche" href="/ciso/actions/2020-2021-5-5">' in row
    assert "<em>Labor for Palestine</em>" in html and "1<sup>er</sup>" in html


# --- downloads ---------------------------------------------------------------------------


def test_export_bundle_validates_with_frictionless(built):
    folder = built.parent / "export"
    assert validate_package(folder / "datapackage.json") == []
    with zipfile.ZipFile(folder / "ciso-donnees.zip") as z:
        names = set(z.namelist())
        assert "datapackage.json" in names and "csv/activites.csv" in names
        package = json.loads(z.read("datapackage.json"))
    assert package["$schema"] == "https://datapackage.org/profiles/2.0/datapackage.json"
    resources = {r["name"]: r for r in package["resources"]}
    assert {f"csv/{name}.csv" for name in resources} <= names
    activites = resources["activites"]["schema"]
    assert activites["primaryKey"] == ["id"]
    assert {"fields": ["action_id"], "reference": {"resource": "actions", "fields": ["id"]}} in activites["foreignKeys"]
    statut = next(f for f in resources["suivi"]["schema"]["fields"] if f["name"] == "statut")
    assert statut["constraints"]["enum"] == sorted(r["id"] for r in query(built, "select id from statuts"))
    assert {"prevu", "reporte", "sans_bilan"} <= set(statut["constraints"]["enum"])
    assert statut["description"].startswith("Statut déclaré")


@pytest.mark.data_agnostic
def test_frictionless_cli_validates_the_zip_and_rejects_a_dangling_foreign_key(built, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    frictionless = Path(sys.executable).parent / "frictionless"
    folder = built.parent / "export"
    ok = subprocess.run([frictionless, "validate", "ciso-donnees.zip"], cwd=folder, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout[-2000:]

    broken = tmp_path / "broken"
    shutil.copytree(folder, broken)
    table = broken / "csv" / "activites_pays.csv"
    table.write_text(table.read_text(encoding="utf-8").replace(",MX,", ",ZZ,", 1), encoding="utf-8")
    descriptor = json.loads((broken / "datapackage.json").read_text(encoding="utf-8"))
    for resource in descriptor["resources"]:  # keep hashes right, so only the foreign key is wrong
        if resource["name"] == "activites_pays":
            data = table.read_bytes()
            resource["hash"], resource["bytes"] = f"sha256:{hashlib.sha256(data).hexdigest()}", len(data)
    (broken / "datapackage.json").write_text(json.dumps(descriptor, ensure_ascii=False), encoding="utf-8")
    bad = subprocess.run([frictionless, "validate", "datapackage.json"], cwd=broken, capture_output=True, text=True)
    assert bad.returncode != 0
    assert "foreign-key" in bad.stdout and "ZZ" in bad.stdout
    assert any("violates the foreign key" in m for m in validate_package(broken / "datapackage.json"))
    assert validate_package(broken / "datapackage.json", foreign_keys=False) == []  # what the build leaves to SQLite


def test_every_foreign_key_of_the_package_is_one_sqlite_checked_on_the_same_values(built):
    """The build validates its CSV files without their foreign keys (export.validate_package): each
    key the package declares is a foreign key of the database, whose values the CSV file holds as
    they are, and the database holds no dangling key."""
    folder = built.parent / "export"
    descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    declared = 0
    for resource in descriptor["resources"]:
        in_sqlite = {
            (r["from"], r["table"], r["to"])
            for r in query(built, "select * from pragma_foreign_key_list(?)", (resource["name"],))
        }
        for key in resource["schema"].get("foreignKeys", []):
            (column,), (target,) = key["fields"], key["reference"]["fields"]
            assert (column, key["reference"]["resource"], target) in in_sqlite, (resource["name"], key)
            declared += 1
            exported = [r[column] for r in csv.DictReader(io.StringIO((folder / resource["path"]).read_text("utf-8")))]
            stored = [r["v"] for r in query(built, f'select "{column}" as v from "{resource["name"]}"')]  # noqa: S608
            assert sorted(exported) == sorted("" if v is None else str(v) for v in stored), (resource["name"], column)
    assert declared > 10
    assert query(built, "pragma foreign_key_check") == []


def test_a_rebuild_validates_again_only_what_changed_and_what_refers_to_it(built, tmp_path):
    from ciso.export import unchanged_resources

    folder = built.parent / "export"
    current = folder / "datapackage.json"
    descriptor = json.loads(current.read_text(encoding="utf-8"))
    names = {r["name"] for r in descriptor["resources"]}
    assert unchanged_resources(current, None) == set()
    assert unchanged_resources(current, current) == names  # the same export: nothing to read again

    for resource in descriptor["resources"]:  # the previous export had other countries
        if resource["name"] == "pays":
            resource["hash"] = "sha256:" + "0" * 64
    previous = tmp_path / "datapackage.json"
    previous.write_text(json.dumps(descriptor, ensure_ascii=False), encoding="utf-8")
    kept = unchanged_resources(current, previous)
    referring = {
        r["name"]
        for r in descriptor["resources"]
        if any(k["reference"].get("resource") == "pays" for k in r["schema"].get("foreignKeys", []))
    }
    assert referring >= {"activites_pays", "organisations", "regions_pays"}
    assert kept == names - {"pays"} - referring

    # A country removed: the links to it are read again (their own data did not change) and refused.
    broken = tmp_path / "broken"
    shutil.copytree(folder, broken)
    table = broken / "csv" / "pays.csv"
    lines = table.read_text(encoding="utf-8").splitlines(keepends=True)
    table.write_text("".join(line for line in lines if not line.startswith("MX,")), encoding="utf-8")
    changed = json.loads((broken / "datapackage.json").read_text(encoding="utf-8"))
    for resource in changed["resources"]:
        if resource["name"] == "pays":
            data = table.read_bytes()
            resource["hash"], resource["bytes"] = f"sha256:{hashlib.sha256(data).hexdigest()}", len(data)
    (broken / "datapackage.json").write_text(json.dumps(changed, ensure_ascii=False), encoding="utf-8")
    errors = validate_package(broken / "datapackage.json", current)
    assert any("violates the foreign key" in m and "MX" in m for m in errors), errors[:3]


def test_excel_csv_keeps_accents_and_labels(built):
    data = (built.parent / "export" / "excel" / "actions.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert "Sécurité".encode() in data
    text = data.decode("utf-8-sig")
    assert "Sécurité" in text and "\r\n" in text
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][:3] == ["id", "plan_id", "objectif_id"]
    orgs = list(csv.DictReader(io.StringIO((built.parent / "export" / "csv" / "organisations.csv").read_text("utf-8"))))
    fat = next(r for r in orgs if r["id"] == "fat")
    assert (fat["type"], fat["type_libelle"], fat["pays_id"], fat["pays_libelle"]) == (
        "organisation_syndicale",
        "Organisation syndicale",
        "MX",
        "Mexique",
    )
    header = next(csv.reader(io.StringIO((built.parent / "export" / "csv" / "activites.csv").read_text("utf-8"))))
    assert header.index("pays_libelles") == header.index("pays") + 1


@pytest.mark.asyncio
async def test_downloads_page_links_every_table_and_the_files(ds):
    response = await ds.client.get("/-/telechargements")
    html = response.text
    hrefs = {a["href"] for a in links_of(html)}
    for table in ("activites", "financements", "positions", "suivi"):
        assert f"/telechargements/excel/{table}.csv" in hrefs
        assert f"/ciso/{table}.csv?_stream=on" in hrefs
    assert "/telechargements/ciso-donnees.zip" in hrefs and "/ciso.db" in hrefs
    zipped = await ds.client.get("/telechargements/ciso-donnees.zip")
    assert zipped.status_code == 200 and zipped.content[:2] == b"PK"
    excel = await ds.client.get("/telechargements/excel/actions.csv")
    assert excel.content.startswith(b"\xef\xbb\xbf") and "Sécurité".encode() in excel.content


@pytest.mark.asyncio
@pytest.mark.parametrize("path", ["/", "/ciso/activites", "/-/progres", "/-/transparence"])
async def test_every_page_footer_links_downloads(ds, path):
    assert '<a href="/-/telechargements">Téléchargements</a>' in (await ds.client.get(path)).text


@pytest.mark.data_agnostic
def test_export_command(built, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["export", "--db", str(built), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "ciso-donnees.zip").exists() and (out / "datapackage.json").exists()
    missing = CliRunner().invoke(cli, ["export", "--db", str(tmp_path / "none.db"), "--out", str(out)])
    assert missing.exit_code == 1 and "lancez d'abord « ciso build »" in missing.output


@pytest.mark.data_agnostic
def test_refused_export_leaves_the_previous_database_and_downloads(data_copy, tmp_path, monkeypatch):
    import ciso.export

    db = tmp_path / "ciso.db"
    result = CliRunner().invoke(cli, ["build", "--data", str(data_copy), "--db", str(db)])
    assert result.exit_code == 0, result.output
    before = db.read_bytes()
    zip_before = (tmp_path / "export" / "ciso-donnees.zip").read_bytes()

    def broken(*args, **kwargs):
        raise ciso.export.ExportError("paquet invalide (simulé)")

    monkeypatch.setattr(ciso.export, "export", broken)
    (data_copy / "suivi" / "mises-a-jour.csv").write_text(
        "date,plan,element,statut,avancement,note,preuve,par\n2020-12-01,2020-2021,1.4,en_cours,,,,coordination\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["build", "--data", str(data_copy), "--db", str(db)])
    assert result.exit_code == 1
    assert "paquet invalide (simulé)" in result.output and "Rien n'a été remplacé" in result.output
    assert db.read_bytes() == before
    assert (tmp_path / "export" / "ciso-donnees.zip").read_bytes() == zip_before
    assert not list(tmp_path.glob(".ciso.db.*"))
