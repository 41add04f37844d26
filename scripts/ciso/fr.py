"""French formatting for pages: dates, numbers, percentages, file sizes."""

from __future__ import annotations

import datetime as dt

MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip
NNBSP = "\u202f"  # narrow no-break space, the French thousands separator


def date_fr(value) -> str:
    """``2026-11-27`` or a datetime → ``27 novembre 2026`` (``1er`` for the first)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    day = "1er" if value.day == 1 else str(value.day)
    return f"{day} {MONTHS[value.month - 1]} {value.year}"


def jour_fr(value) -> str:
    """A date as precise as it is written: ``2020`` → ``2020``, ``2020-08`` → ``août 2020``,
    ``2020-04-01`` → ``1er avril 2020``; anything else unchanged."""
    if value is None or value == "":
        return ""
    text = str(value)
    parts = text.split("-")
    if len(parts) == 2 and all(p.isdigit() for p in parts) and 1 <= int(parts[1]) <= 12:
        return f"{MONTHS[int(parts[1]) - 1]} {parts[0]}"
    return date_fr(text)


def periode_fr(debut, fin) -> str:
    """A period: ``1er avril 2020 – 30 septembre 2020``; an unknown end is « … »."""
    return f"{jour_fr(debut) or '…'} – {jour_fr(fin) or '…'}"


def nombre_fr(value, decimals: int = 0) -> str:
    """``1234.5`` → ``1 234,5`` with a narrow no-break space."""
    if value is None:
        return ""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", NNBSP).replace(".", ",")


def pourcent_fr(value, decimals: int = 0) -> str:
    """``0.25`` → ``25 %`` (no-break space before the sign)."""
    if value is None:
        return ""
    return f"{nombre_fr(value * 100, decimals)}\u00a0%"


BYTE_UNITS = ("ko", "Mo", "Go", "To")  # as the Office québécois de la langue française writes them


def octets_fr(value) -> str:
    """A file size: ``512`` → ``512 octets``, ``413696`` → ``404,0 ko`` (steps of 1024, as Datasette's
    ``format_bytes``, in French units and decimals). Empty for None."""
    if value is None:
        return ""
    if value < 1024:
        return f"{nombre_fr(value)} octet{'s' if value >= 2 else ''}"
    size = value / 1024
    steps = 0
    while size >= 1024 and steps < len(BYTE_UNITS) - 1:
        size /= 1024
        steps += 1
    return f"{nombre_fr(size, 1)} {BYTE_UNITS[steps]}"
