"""The downloads page (/-/telechargements): the spreadsheet files first, the rollups, and how to open a CSV.

Figures come from the database the session built; the LibreOffice command the page gives is run
as printed, on the real file, so the advice cannot rot.
"""

from __future__ import annotations

import csv
import html
import re
import shlex
import shutil
import subprocess

import openpyxl
import pytest
from ciso.site import ROLLUP_DOWNLOADS, SPREADSHEETS
from conftest import rows

in_session = pytest.mark.asyncio(loop_scope="session")


@in_session
async def test_the_spreadsheet_files_come_first_then_the_rollups(ds, built):
    page = (await ds.client.get("/-/telechargements")).text
    links = re.findall(r'href="(/telechargements/[^"]+)"', page)
    xlsx, ods = (links.index(f"/telechargements/{name}") for name in SPREADSHEETS)
    assert xlsx < ods < links.index("/telechargements/ciso-donnees.zip")
    assert all(links.index(f"/telechargements/excel/{name}.csv") > ods for name in ROLLUP_DOWNLOADS)
    for name in SPREADSHEETS:  # with their size
        size = (built.parent / "export" / name).stat().st_size
        response = await ds.client.get(f"/telechargements/{name}")
        assert response.status_code == 200 and len(response.content) == size
    tables = page[page.index('id="calculees"') : page.index("Tout en un fichier")]
    for name in ROLLUP_DOWNLOADS:  # each rollup, its row count, its two CSV files
        count = rows(built, f'select count(*) as n from "{name}"')[0]["n"]
        row = re.search(rf"<code>{name}</code></th>\s*<td[^>]*>([^<]+)</td>(.*?)</tr>", tables, re.S)
        assert row and row.group(1).replace("\u202f", "").replace(" ", "") == str(count), name
        assert f"/telechargements/excel/{name}.csv" in row.group(2) and f"/telechargements/csv/{name}.csv" in row.group(
            2
        )
    assert "statut_activites" in tables


@pytest.mark.data_agnostic
@in_session
async def test_the_libreoffice_command_of_the_page_opens_the_excel_csv_in_columns(ds, built, tmp_path):
    """`soffice --convert-to xlsx excel/activites.csv` alone gives one column and broken accents;
    the page's command (with --infilter) gives every column, accents intact, 1.1.1 as text."""
    page = html.unescape((await ds.client.get("/-/telechargements")).text)
    [line] = [x for x in re.findall(r"soffice [^\n<]+", page) if "excel/activites.csv" in x]
    soffice = shutil.which("soffice")
    assert soffice, "LibreOffice (soffice) manque : lancez « make libreoffice »"
    (tmp_path / "excel").mkdir()
    shutil.copy(built.parent / "export" / "excel" / "activites.csv", tmp_path / "excel")
    profile = f"-env:UserInstallation={(tmp_path / 'profil').as_uri()}"
    args = shlex.split(line)
    done = subprocess.run(
        [soffice, profile, *args[1:], "--outdir", str(tmp_path)], cwd=tmp_path, capture_output=True, timeout=180
    )
    assert done.returncode == 0, done.stderr
    sheet = openpyxl.load_workbook(tmp_path / "activites.xlsx").active
    with (built.parent / "export" / "csv" / "activites.csv").open(encoding="utf-8", newline="") as f:
        header, *body = list(csv.reader(f))
    assert [c.value for c in sheet[1]] == header
    assert sheet.max_row - 1 == len(body) == rows(built, "select count(*) as n from activites")[0]["n"]
    numbers = [c.value for c in next(sheet.iter_cols(min_col=header.index("numero") + 1, min_row=2))]
    assert numbers == [r["numero"] for r in rows(built, "select numero from activites order by id")]
    texts = [c.value for c in next(sheet.iter_cols(min_col=header.index("texte") + 1, min_row=2))]
    assert texts == [r["texte"] for r in rows(built, "select texte from activites order by id")]
    assert any(not t.isascii() for t in texts)
