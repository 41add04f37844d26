"""The spreadsheet files: ciso-donnees.xlsx read back with openpyxl, ciso-donnees.ods converted by LibreOffice.

Every expected figure comes from the database the session built (row counts, columns, types)
or from the table's CSV file beside it (the same rows, as text).
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
from ciso.export import EXCLUDED
from ciso.model import TABLES
from ciso.site import DETAILED_ACTIVITIES, ROLLUP_DOWNLOADS, SPREADSHEETS, load_metadata
from ciso.spreadsheet import is_formula_like
from ciso.workbook import DETAILED, README, Sheet, finish_ods, start_ods
from conftest import rows

XLSX, ODS = SPREADSHEETS
PUBLISHED = [t.name for t in TABLES if t.name not in EXCLUDED]
SHEETS = [README, DETAILED, *PUBLISHED]
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CODE = re.compile(r"^\d+(\.\d+)+$")  # a number of the plan: 1.4, 1.1.1
# LibreOffice's CSV export: comma, double quote, UTF-8, from line 1, quote every text cell, no
# formulas, cells as shown, every sheet to its own file (token 12 = -1, LibreOffice >= 7.2).
CSV_EXPORT = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,true,false,true,false,false,-1"


def exported_csv(built: Path, name: str) -> tuple[list[str], list[list[str]]]:
    with (built.parent / "export" / "csv" / f"{name}.csv").open(encoding="utf-8", newline="") as f:
        header, *body = list(csv.reader(f))
    return header, body


def column_types(built: Path, table: str) -> dict[str, set[str]]:
    """{column: SQLite types of its non-null values} of a table of the database."""
    names = [c["name"] for c in rows(built, "select name from pragma_table_info(?)", [table])]
    return {
        n: {r["t"] for r in rows(built, f'select distinct typeof("{n}") as t from "{table}" where "{n}" is not null')}
        for n in names
    }


@pytest.fixture(scope="module")
def xlsx(built):
    return openpyxl.load_workbook(built.parent / "export" / XLSX)


def soffice() -> str:
    found = shutil.which("soffice")
    assert found, "LibreOffice (soffice) manque : lancez « make libreoffice » (paquet Debian libreoffice-calc-nogui)"
    return found


@pytest.fixture(scope="module")
def ods_as_csv(built, tmp_path_factory) -> Path:
    """Every sheet of ciso-donnees.ods as CSV, converted by LibreOffice headless in one run."""
    out = tmp_path_factory.mktemp("ods")
    profile = out / "profil"  # a throwaway user profile: no state shared with another run
    command = [soffice(), f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", CSV_EXPORT]
    done = subprocess.run(
        [*command, "--outdir", str(out / "csv"), str(built.parent / "export" / ODS)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    return out / "csv"


# --------------------------------------------------------------------------- .xlsx (openpyxl)


def test_the_xlsx_has_readme_detailed_activities_then_a_sheet_per_table(xlsx):
    assert xlsx.sheetnames == SHEETS
    assert len(xlsx.sheetnames) == len(PUBLISHED) + 2
    assert all(len(name) <= 31 for name in xlsx.sheetnames)
    for ws in xlsx.worksheets:
        assert ws.freeze_panes == "A2", ws.title
        assert all(cell.font.b for cell in ws[1]), ws.title
        widths = [ws.column_dimensions[cell.column_letter].width for cell in ws[1]]
        assert all(6 <= w <= 61 for w in widths), (ws.title, widths)


def test_each_table_sheet_holds_the_table_typed(built, xlsx):
    """Same rows and columns as the database (plus the label columns of its CSV); numbers stay
    numbers, texts stay texts (1.1.1 never becomes a date), ISO days become dates, accents intact."""
    seen = {"code": 0, "date": 0, "accent": 0, "formula-like": 0}
    for table in PUBLISHED:
        ws = xlsx[table]
        header, body = exported_csv(built, table)
        types = column_types(built, table)
        count = rows(built, f'select count(*) as n from "{table}"')[0]["n"]
        assert [c.value for c in ws[1]] == header, table
        assert [h for h in header if h in types] == list(types), table  # every column of the table, in order
        assert ws.max_row - 1 == count == len(body), table
        assert ws.max_column == len(header), table
        for values, cells in zip(body, ws.iter_rows(min_row=2), strict=True):
            for name, text, cell in zip(header, values, cells, strict=True):
                kinds = types.get(name, {"text"})  # label columns are text
                where = (table, name, text)
                if text == "":
                    assert cell.value is None, where
                elif kinds == {"integer"}:
                    assert cell.data_type == "n" and cell.value == int(text), where
                elif kinds == {"real"} or kinds == {"integer", "real"}:
                    assert cell.data_type == "n" and cell.value == float(text), where
                elif DAY.match(text):
                    assert isinstance(cell.value, dt.datetime), where
                    assert cell.value.date().isoformat() == text and cell.number_format == "yyyy-mm-dd", where
                    seen["date"] += 1
                else:
                    assert cell.data_type == "s" and cell.value == text, where
                    seen["code"] += bool(CODE.match(text))
                    seen["accent"] += not text.isascii()
                    if is_formula_like(text):  # kept exactly, as text, with Excel's quote prefix
                        assert cell.quotePrefix, where
                        seen["formula-like"] += 1
    assert all(seen.values()), seen  # the real data has each kind of cell


def test_no_cell_is_a_formula(xlsx):
    assert not [c.coordinate for ws in xlsx.worksheets for row in ws.iter_rows() for c in row if c.data_type == "f"]


def test_the_readme_sheet_names_the_licence_sources_build_and_every_sheet(built, xlsx):
    ws = xlsx[README]
    assert all(row[2].alignment.wrap_text for row in ws.iter_rows(min_row=2))  # long explanations wrap
    lines = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    text = "\n".join(str(v) for line in lines for v in line if v is not None)
    metadata = load_metadata()
    assert metadata["license"] in text and metadata["title"] in text
    for source in rows(built, "select fichier, sha256 from sources"):
        assert [v for v in lines if v[1] == f"data/{source['fichier']}" and source["sha256"] in v[2]], source
    built_on = rows(built, "select valeur from construction where cle = 'date'")[0]["valeur"]
    [date] = [line[1] for line in lines if line[0] == "Construit le"]
    assert date == dt.datetime.combine(dt.datetime.fromisoformat(built_on).date(), dt.time())
    described = {line[1]: line[2] for line in lines if line[0] == "Feuille"}
    assert list(described) == SHEETS[1:]
    tables = metadata["databases"]["ciso"]["tables"]
    for table in PUBLISHED:
        count = rows(built, f'select count(*) as n from "{table}"')[0]["n"]
        assert described[table].startswith(f"{tables[table]['title']} — {count} ligne"), table
        assert tables[table]["description"] in described[table], table


def test_detailed_activities_give_each_activity_with_its_objective_action_and_status(built, xlsx):
    ws = xlsx[DETAILED]
    header = [c.value for c in ws[1]]
    expected = rows(
        built,
        "select a.numero, a.texte, o.titre as objectif_titre, ac.titre as action_titre, s.statut_libelle, "
        "a.ligne as plan_ligne from activites a join objectifs o on o.id = a.objectif_id "
        "join actions ac on ac.id = a.action_id join statut_activites s on s.activite_id = a.id order by a.ordre",
    )
    assert ws.max_row - 1 == len(expected) == rows(built, "select count(*) as n from activites")[0]["n"]
    names = [c["name"] for c in rows(built, "select name from pragma_table_info('activites_detaillees')")]
    assert header == names and ws.max_column == len(names)
    sheet = [dict(zip(header, (c.value for c in row), strict=True)) for row in ws.iter_rows(min_row=2)]
    for want, got in zip(expected, sheet, strict=True):
        assert {k: got[k] for k in want} == want
    countries = rows(
        built,
        "select ap.activite_id, group_concat(p.nom) as noms from activites_pays ap join pays p on p.id = ap.pays_id "
        "group by ap.activite_id",
    )
    by_id = {r["activite_id"]: r for r in sheet}
    assert countries
    for c in countries:
        assert set(by_id[c["activite_id"]]["pays_noms"].split(" ; ")) == set(c["noms"].split(","))


# --------------------------------------------------------------------------- .ods (LibreOffice)


def quoted_fields(raw: str) -> list[list[tuple[str, bool]]]:
    """LibreOffice's CSV (every text cell quoted) as rows of (value, was it quoted)."""
    result, row = [], []
    for m in re.finditer(r'("(?:[^"]|"")*"|[^,\n"]*)(,|\n|$)', raw):
        field, end = m.groups()
        if m.start() == len(raw):
            break
        quoted = field.startswith('"')
        row.append((field[1:-1].replace('""', '"') if quoted else field, quoted))
        if end != ",":
            result.append(row)
            row = []
    return result


def test_libreoffice_reads_every_sheet_of_the_ods_as_written(built, ods_as_csv):
    """Same rows and values as the CSV files, and the same kinds as in the database: a text cell
    stays text (quoted by LibreOffice, 1.1.1 included), a number or an ISO day does not."""
    files = {p.name.removeprefix("ciso-donnees-").removesuffix(".csv"): p for p in ods_as_csv.glob("*.csv")}
    assert sorted(files) == sorted(SHEETS)
    seen = {"code": 0, "date": 0, "number": 0, "accent": 0}
    for table in [*PUBLISHED, DETAILED_ACTIVITIES]:
        sheet = DETAILED if table == DETAILED_ACTIVITIES else table
        header, *body = quoted_fields(files[sheet].read_text(encoding="utf-8"))
        want_header, want = exported_csv(built, table)
        count = rows(built, f'select count(*) as n from "{table}"')[0]["n"]
        assert [v for v, _ in header] == want_header and len(body) == len(want) == count, sheet
        types = column_types(built, table)
        for got, expected in zip(body, want, strict=True):
            assert len(got) == len(expected), sheet
            for name, (value, quoted), text in zip(want_header, got, expected, strict=True):
                kinds, where = types.get(name, {"text"}), (sheet, name, text, value)
                if text == "":
                    assert value == "" and not quoted, where
                elif kinds <= {"integer", "real"}:
                    assert float(value) == float(text) and not quoted, where
                    seen["number"] += 1
                elif DAY.match(text):
                    assert value == text and not quoted, where
                    seen["date"] += 1
                else:
                    assert value == text and quoted, where
                    seen["code"] += bool(CODE.match(text))
                    seen["accent"] += not text.isascii()
    assert all(seen.values()), seen


def test_libreoffice_keeps_the_accents_of_the_readme(built, ods_as_csv):
    raw = (ods_as_csv / f"ciso-donnees-{README}.csv").read_text(encoding="utf-8")
    assert load_metadata()["title"] in raw and "Précision" in raw
    for source in rows(built, "select sha256 from sources"):
        assert source["sha256"] in raw


def test_the_ods_freezes_each_header_row(built):
    """The header is frozen as LibreOffice records it (settings.xml; headless conversions ignore views)."""
    with zipfile.ZipFile(built.parent / "export" / ODS) as ods:
        settings = ods.read("settings.xml").decode("utf-8")
        assert (
            ods.namelist()[0] == "mimetype"
            and ods.read("mimetype") == b"application/vnd.oasis.opendocument.spreadsheet"
        )
    for sheet in SHEETS:
        entry = re.search(
            rf'<config:config-item-map-entry config:name="{re.escape(sheet)}">(.*?)</config:config-item-map-entry>',
            settings,
            re.S,
        )
        assert entry, sheet
        items = dict(re.findall(r'config:name="(\w+)"[^>]*>([^<]*)<', entry.group(1)))
        assert items["VerticalSplitMode"] == "2" and items["VerticalSplitPosition"] == "1", sheet


def test_the_ods_process_reports_its_failure(tmp_path):
    """The build writes the .ods in another process: its error reaches the build, which stops."""
    when = dt.datetime(2020, 4, 1, tzinfo=dt.UTC)
    sheet = Sheet("feuille", ("code",), [["1.1.1"]])
    done = start_ods(tmp_path / "x.ods", [sheet], {}, when, (2020, 4, 1, 0, 0, 0))
    finish_ods(done)
    with zipfile.ZipFile(tmp_path / "x.ods") as ods:
        assert "<text:p>1.1.1</text:p>" in ods.read("content.xml").decode("utf-8")
    failed = start_ods(tmp_path / "absent" / "x.ods", [sheet], {}, when, (2020, 4, 1, 0, 0, 0))
    with pytest.raises(RuntimeError, match="FileNotFoundError"):
        finish_ods(failed)


def test_a_failed_ods_stops_the_export_and_leaves_the_downloads_as_they_were(built, tmp_path, monkeypatch):
    import ciso.export

    def failing(*args):
        command = [sys.executable, "-c", "import sys; sys.exit('odfpy en panne')"]
        return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    out = tmp_path / "export"
    shutil.copytree(built.parent / "export", out)
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    monkeypatch.setattr(ciso.export, "start_ods", failing)
    with pytest.raises(ciso.export.ExportError, match="ciso-donnees.ods n'a pas pu être écrit.*odfpy en panne"):
        ciso.export.export(built, out, load_metadata())
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    assert sorted(os.listdir(tmp_path)) == ["export"]  # no staging folder left behind


# --------------------------------------------------------------------------- rollups as CSV


def test_the_useful_rollups_are_csv_files_too(built):
    for name in ROLLUP_DOWNLOADS:
        header, body = exported_csv(built, name)
        assert header == [c["name"] for c in rows(built, "select name from pragma_table_info(?)", [name])], name
        assert len(body) == rows(built, f'select count(*) as n from "{name}"')[0]["n"], name
        excel = (built.parent / "export" / "excel" / f"{name}.csv").read_bytes()
        assert excel.startswith(b"\xef\xbb\xbf" + ";".join(header).encode()), name
