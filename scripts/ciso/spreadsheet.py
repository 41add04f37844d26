"""Cells that spreadsheet software cannot run as formulas (CSV/formula injection).

Excel, LibreOffice and Google Sheets treat a cell that starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return as a formula (``=HYPERLINK(...)``, DDE…). As OWASP
recommends (https://owasp.org/www-community/attacks/CSV_Injection), the Excel CSVs write
their text cells through ``spreadsheet_value``: such a cell gets a leading single quote,
which the software shows as text. Numbers are written as they are. The plain CSV, the
data package and the database keep the exact value.

The .xlsx and .ods files (``workbook.py``) need no quote: their cells are typed, and a
text cell is never read as a formula; they keep the exact value, and Excel's cells that
``is_formula_like`` get the « quote prefix » so they stay text when edited.
"""

from __future__ import annotations

from collections.abc import Iterable

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(text: str) -> bool:
    return text.startswith(FORMULA_PREFIXES)


def spreadsheet_value(value):
    """A cell value safe for spreadsheet software: formula-like text is quoted, the rest unchanged."""
    if isinstance(value, str) and is_formula_like(value):
        return "'" + value
    return value


def spreadsheet_row(values: Iterable) -> list:
    return [spreadsheet_value(v) for v in values]
