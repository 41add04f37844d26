"""Find reference entries named in a text: whole words, ignoring case and accents."""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[^0-9a-z]+")


def normalize(text: str) -> str:
    """Lower-case ASCII words separated by single spaces, padded with spaces.

    ``"l'Institut culturel Karl-Lévêque"`` becomes ``" l institut culturel karl leveque "``,
    so an alias is found as a whole word by a plain substring test.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    stripped = stripped.replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae")
    return " " + _NON_WORD.sub(" ", stripped.casefold()).strip() + " "


class Matcher:
    """Matches the aliases of one reference table against texts."""

    def __init__(self, aliases: dict[str, list[str]]):
        # Longest aliases first, so the recorded term is the most specific one.
        self._terms = sorted(
            ((normalize(alias), entry_id, alias) for entry_id, names in aliases.items() for alias in names),
            key=lambda t: -len(t[0]),
        )
        self._terms = [t for t in self._terms if t[0].strip()]

    def find(self, text: str, normalized: str | None = None) -> dict[str, str]:
        """Return ``{entry_id: alias}`` for every entry named in ``text`` (``normalized``: its ``normalize``)."""
        haystack = normalized if normalized is not None else normalize(text)
        found: dict[str, str] = {}
        for needle, entry_id, alias in self._terms:
            if entry_id not in found and needle in haystack:
                found[entry_id] = alias
        return found
