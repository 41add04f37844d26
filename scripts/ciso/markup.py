"""The plans' light inline markup, rendered as HTML: ``*italique*``, ``1^{er}``, ``45^e``."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_EMPHASIS = re.compile(r"\*([^*\n]+)\*")
_SUPERSCRIPT = re.compile(r"\^\{([^}\n]+)\}|\^([A-Za-zÀ-ÿ]+)")


def render(text: str | None) -> Markup:
    """Escape ``text``, then turn the plan's markup into ``<em>`` and ``<sup>``."""
    if text is None:
        return Markup("")
    html = str(escape(text))
    html = _EMPHASIS.sub(r"<em>\1</em>", html)
    html = _SUPERSCRIPT.sub(lambda m: f"<sup>{m[1] or m[2]}</sup>", html)
    return Markup(html)


def has_markup(text: str) -> bool:
    return bool(_EMPHASIS.search(text) or _SUPERSCRIPT.search(text))


def plain(text: str | None) -> str:
    """The same text without markup, for plain-text formats: ``*Labor*`` → ``Labor``, ``1^{er}`` → ``1er``."""
    if text is None:
        return ""
    text = _EMPHASIS.sub(r"\1", text)
    return _SUPERSCRIPT.sub(lambda m: m[1] or m[2], text)


def split(rows: list[dict], columns: tuple[str, ...]) -> None:
    """Plain text in each of ``columns``, the original (markup included) in ``{column}_markup``."""
    for row in rows:
        for column in columns:
            if column in row:
                original = row[column]
                row[f"{column}_markup"] = original
                row[column] = plain(original) if isinstance(original, str) else original


MARK, END_MARK = "<mark>", "</mark>"  # what full-text search snippets put around the words found


def highlight(snippet: str | None) -> Markup:
    """A search snippet as HTML: everything escaped, except the <mark> tags around the words found."""
    escaped = str(escape(snippet or ""))
    return Markup(escaped.replace(str(escape(MARK)), MARK).replace(str(escape(END_MARK)), END_MARK))
