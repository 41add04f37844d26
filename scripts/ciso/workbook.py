"""Spreadsheet files for allies: ``ciso-donnees.xlsx`` (Excel) and ``ciso-donnees.ods`` (LibreOffice).

The same workbook in two formats, written by ``export.py`` from the rows of the CSV files:

* « Lisez-moi » first: the dataset, its licence, the build's date and version, each source file
  with its SHA-256 (table ``sources``), and what each sheet holds (title and description from
  metadata.yml, number of rows);
* « Activités détaillées »: the rollup ``activites_detaillees`` (each activity with its objective and
  action, current status, countries, partners, instruments, themes and line of the plan);
* then one sheet per published table, named after it, with the columns of its CSV.

Cells keep their kind: a number from SQLite is a number; a text that is a whole ISO day
(``2020-04-01``) is a date, shown as ``AAAA-MM-JJ``; every other text is a text cell, so a
code such as ``1.1.1``, ``2020-2021`` or ``0042`` never becomes a date or a number. A text that
looks like a formula (``spreadsheet.py``) is a text cell too, never a formula; Excel gets it with
the « quote prefix », the typed leading apostrophe, so it stays text even when the cell is edited.
The header row is bold and frozen; each column is as wide as its longest value (within bounds).

XlsxWriter writes the .xlsx, odfpy the .ods (the OpenDocument library pandas uses). Both are
reproducible: the documents' dates are the build's (``clock.py``, ``SOURCE_DATE_EPOCH``) and so
are the zip entries' (XlsxWriter's are a fixed date). odfpy needs about a second for the whole
database, so the build writes the .ods in another Python process (``start_ods``) while it checks
the data package, which takes as long.
"""

from __future__ import annotations

import datetime as dt
import io
import pickle
import re
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .spreadsheet import is_formula_like

README = "Lisez-moi"
DETAILED = "Activités détaillées"
SHEET_NAME_MAX = 31  # Excel's limit
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MIN_WIDTH, MAX_WIDTH, DATE_WIDTH = 6, 60, 11  # column widths, in characters
CM_PER_CHARACTER = 0.21  # .ods column widths: about one character of 10-point Liberation Sans
XLSX_CELL_MAX = 32767  # Excel's limit on the characters of a cell
SPECIAL_SPACES = re.compile(r"\t| {2}|^ | $")  # what an .ods text paragraph must spell out


@dataclass(frozen=True)
class Sheet:
    name: str
    header: tuple[str, ...]
    rows: list[list]
    wrap: bool = False  # long texts wrap within their column (« Lisez-moi »)


def as_date(value) -> dt.date | None:
    """The day a text cell holds, when it is a whole ISO day (``2020-04-01``), else None."""
    if isinstance(value, str) and DAY.match(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def widths(sheet: Sheet) -> list[int]:
    """Each column's width in characters: its longest line, header included, within bounds."""
    result = []
    for i, name in enumerate(sheet.header):
        longest = len(name)
        for row in sheet.rows:
            value = row[i]
            if value is None:
                continue
            size = DATE_WIDTH if as_date(value) else max(len(line) for line in str(value).split("\n"))
            longest = max(longest, size)
        result.append(min(max(longest + 1, MIN_WIDTH), MAX_WIDTH))
    return result


def check_names(sheets: list[Sheet]) -> None:
    names = [s.name for s in sheets]
    too_long = [n for n in names if len(n) > SHEET_NAME_MAX]
    if too_long or len(set(names)) != len(names):
        raise ValueError(f"noms de feuilles trop longs (plus de {SHEET_NAME_MAX} caractères) ou en double : {names}")


def readme(conn, metadata: dict, sheets: list[Sheet], titles: dict[str, tuple[str, str]], built: str) -> Sheet:
    """The « Lisez-moi » sheet: what the file is, where it comes from, what each sheet holds.

    ``sheets``: the other sheets; ``titles``: {sheet name: (title, description)} from metadata.yml;
    ``built``: the build's date and time (ISO 8601, table ``construction``)."""
    from .catalogue import description as dataset_description  # not at the top: the .ods process skips it

    version = dict(conn.execute("select cle, valeur from construction").fetchall()).get("version")
    when = dt.datetime.fromisoformat(built)
    rows: list[list] = [
        ["Jeu de données", metadata.get("title"), dataset_description(metadata)],
        ["Licence", metadata.get("license"), metadata.get("license_url")],
        ["Construit le", when.date().isoformat(), f"{built} (version {version})"],
        [
            "Lecture",
            "Codes et dates",
            "Les numéros du plan (1.1.1) et les codes sont du texte ; les dates sont des dates (AAAA-MM-JJ). "
            "Une colonne codée est suivie de son libellé en français (statut, puis statut_libelle). "
            "Les listes d'identifiants sont en JSON, leurs libellés séparés par « ; ». Les textes du plan sont "
            "sans balisage (le balisage est dans les colonnes …_markup).",
        ],
    ]
    for fichier, kind, sha256 in conn.execute("select fichier, type, sha256 from sources order by type, fichier"):
        rows.append([f"Source ({kind})", f"data/{fichier}", f"SHA-256 {sha256}"])
    for sheet in sheets:
        title, description = titles.get(sheet.name, (sheet.name, ""))
        count = len(sheet.rows)
        rows.append(
            ["Feuille", sheet.name, f"{title} — {count} ligne{'s' if count > 1 else ''}. {description}".strip()]
        )
    return Sheet(README, ("Rubrique", "Valeur", "Précision"), rows, wrap=True)


# --------------------------------------------------------------------------- Excel (.xlsx)


def write_xlsx(path: Path, sheets: list[Sheet], metadata: dict, built: dt.datetime) -> None:
    import xlsxwriter

    check_names(sheets)
    options = {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False}
    book = xlsxwriter.Workbook(str(path), options)
    book.set_properties(
        {
            "title": metadata.get("title") or "",
            "author": "CISO",
            "comments": metadata.get("license") or "",
            "created": built.replace(tzinfo=None),
        }
    )
    bold = book.add_format({"bold": True})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    quoted = book.add_format({"quote_prefix": True})
    wrapped = book.add_format({"text_wrap": True, "valign": "top"})
    for sheet in sheets:
        ws = book.add_worksheet(sheet.name)
        for c, name in enumerate(sheet.header):
            ws.write_string(0, c, name, bold)
        for r, row in enumerate(sheet.rows, start=1):
            for c, value in enumerate(row):
                if value is None or value == "":
                    continue
                if isinstance(value, bool | int | float):
                    ws.write_number(r, c, value)
                elif (date := as_date(value)) is not None:
                    ws.write_datetime(r, c, dt.datetime.combine(date, dt.time()), day)
                else:
                    text = str(value)[:XLSX_CELL_MAX]
                    ws.write_string(r, c, text, quoted if is_formula_like(text) else wrapped if sheet.wrap else None)
        for c, width in enumerate(widths(sheet)):
            ws.set_column(c, c, width)
        ws.freeze_panes(1, 0)
        if sheet.rows:
            ws.autofilter(0, 0, len(sheet.rows), len(sheet.header) - 1)
    book.close()


# --------------------------------------------------------------------------- LibreOffice (.ods)


def _freeze_header(names: list[str]):
    """settings.xml: the first row of each sheet frozen (as LibreOffice writes a « Figer la première ligne »)."""
    from odf.config import ConfigItem, ConfigItemMapEntry, ConfigItemMapIndexed, ConfigItemMapNamed, ConfigItemSet

    view_settings = ConfigItemSet(name="ooo:view-settings")
    views = ConfigItemMapIndexed(name="Views")
    view = ConfigItemMapEntry()
    view.addElement(ConfigItem(name="ViewId", type="string", text="view1"))
    tables = ConfigItemMapNamed(name="Tables")
    for name in names:
        entry = ConfigItemMapEntry(name=name)
        for item, kind, value in (
            ("HorizontalSplitMode", "short", "0"),
            ("VerticalSplitMode", "short", "2"),
            ("HorizontalSplitPosition", "int", "0"),
            ("VerticalSplitPosition", "int", "1"),
            ("ActiveSplitRange", "short", "2"),
            ("PositionLeft", "int", "0"),
            ("PositionRight", "int", "0"),
            ("PositionTop", "int", "0"),
            ("PositionBottom", "int", "1"),
        ):
            entry.addElement(ConfigItem(name=item, type=kind, text=value))
        tables.addElement(entry)
    view.addElement(tables)
    views.addElement(view)
    view_settings.addElement(views)
    return view_settings


def _text_cell(text: str, **attributes):
    """A text cell: one paragraph per line, as LibreOffice writes a cell of several lines."""
    from odf.table import TableCell
    from odf.teletype import addTextToElement
    from odf.text import P

    cell = TableCell(valuetype="string", **attributes)
    for line in text.split("\n"):
        paragraph = P()
        if SPECIAL_SPACES.search(line):
            addTextToElement(paragraph, line)  # tabs and runs of spaces as ODF spells them
        else:
            paragraph.addText(line)
        cell.addElement(paragraph)
    return cell


def write_ods(path: Path, sheets: list[Sheet], metadata: dict, built: dt.datetime, when: tuple[int, ...]) -> None:
    """``when``: the zip entries' date (``export.zip_time``), so the same build gives the same bytes."""
    from odf import dc, meta
    from odf.number import DateStyle, Day, Month, Text, Year
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.style import Style, TableCellProperties, TableColumnProperties, TextProperties
    from odf.table import Table, TableCell, TableColumn, TableRow

    check_names(sheets)
    doc = OpenDocumentSpreadsheet()
    doc.meta.addElement(dc.Title(text=metadata.get("title") or ""))
    doc.meta.addElement(dc.Language(text="fr"))
    doc.meta.addElement(meta.CreationDate(text=built.replace(tzinfo=None).isoformat()))
    doc.meta.addElement(dc.Date(text=built.replace(tzinfo=None).isoformat()))
    iso = DateStyle(name="jour-iso")
    for part in (Year(style="long"), Text(text="-"), Month(style="long"), Text(text="-"), Day(style="long")):
        iso.addElement(part)
    doc.automaticstyles.addElement(iso)
    day = Style(name="jour", family="table-cell", datastylename="jour-iso")
    bold = Style(name="entete", family="table-cell")
    wrapped = Style(name="renvoi", family="table-cell")
    wrapped.addElement(TableCellProperties(wrapoption="wrap", verticalalign="top"))
    bold.addElement(TextProperties(fontweight="bold"))
    for style in (day, bold, wrapped):
        doc.automaticstyles.addElement(style)
    column_styles: dict[int, Style] = {}

    def column_style(width: int) -> Style:
        if width not in column_styles:
            style = Style(name=f"col{width}", family="table-column")
            style.addElement(TableColumnProperties(columnwidth=f"{width * CM_PER_CHARACTER:.2f}cm"))
            doc.automaticstyles.addElement(style)
            column_styles[width] = style
        return column_styles[width]

    for sheet in sheets:
        table = Table(name=sheet.name)
        for width in widths(sheet):
            table.addElement(TableColumn(stylename=column_style(width)))
        header = TableRow()
        for name in sheet.header:
            header.addElement(_text_cell(name, stylename=bold))
        table.addElement(header)
        for row in sheet.rows:
            line = TableRow()
            for value in row:
                if value is None or value == "":
                    cell = TableCell()
                elif isinstance(value, bool | int | float):  # no text: the software shows the value
                    cell = TableCell(valuetype="float", value=str(value))
                elif (date := as_date(value)) is not None:
                    cell = TableCell(valuetype="date", datevalue=date.isoformat(), stylename=day)
                else:
                    cell = _text_cell(str(value), **({"stylename": wrapped} if sheet.wrap else {}))
                line.addElement(cell)
            table.addElement(line)
        doc.spreadsheet.addElement(table)
    doc.settings.addElement(_freeze_header([s.name for s in sheets]))
    buffer = io.BytesIO()
    doc.write(buffer)
    Path(path).write_bytes(restamp(buffer.getvalue(), when))


def restamp(data: bytes, when: tuple[int, ...]) -> bytes:
    """The same zip with every entry dated ``when`` (odfpy dates them with the clock), order and
    compression kept (an OpenDocument's ``mimetype`` stays first and stored)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=when)
            entry.compress_type = info.compress_type
            entry.external_attr = 0o644 << 16
            target.writestr(entry, source.read(info))
    return out.getvalue()


def start_ods(path: Path, sheets: list[Sheet], metadata: dict, built: dt.datetime, when: tuple[int, ...]):
    """``write_ods`` in another Python process (``python -m ciso.workbook PATH``, arguments pickled on
    its standard input), so that it runs beside the rest of the build; ``finish_ods`` waits for it."""
    with tempfile.TemporaryFile() as arguments:
        pickle.dump((sheets, metadata, built, when), arguments, protocol=pickle.HIGHEST_PROTOCOL)
        arguments.seek(0)
        command = [sys.executable, "-m", "ciso.workbook", str(path)]
        return subprocess.Popen(command, stdin=arguments, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def finish_ods(process: subprocess.Popen, timeout: float = 300) -> None:
    """Wait for ``start_ods``'s process; raise RuntimeError with its last words if it failed."""
    _, errors = process.communicate(timeout=timeout)
    if process.returncode != 0:
        last = errors.decode("utf-8", "replace").strip().splitlines()[-5:]
        raise RuntimeError(f"code {process.returncode} : " + " / ".join(last))


def stop_ods(process: subprocess.Popen) -> None:
    """End ``start_ods``'s process if the build stops before it is done (nothing left writing)."""
    if process.poll() is None:
        process.kill()
    process.wait()
    if process.stderr is not None:
        process.stderr.close()


if __name__ == "__main__":  # start_ods's process
    write_ods(Path(sys.argv[1]), *pickle.load(sys.stdin.buffer))
