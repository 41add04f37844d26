"""Cells of Datasette's table, row and query pages that hold HTML: the plans' inline markup
(*italique*, 1^{er}) and the highlighted snippets of the full-text search.

The plans' words are stored twice: plain text (``texte``) and with their markup (``texte_markup``);
only the ``*_markup`` columns are rendered as HTML. The canned query ``recherche`` returns
snippets (``extrait``) with ``<mark>`` around the words found: shown highlighted on its
Datasette page as on /-/recherche.

Datasette calls ``render_cell`` for every cell it shows (a table page: about a thousand), and
pluggy calls every plugin that implements it: this is the site's only one. It decides once per
(table, column) which function renders that column (markup, snippets here; links between rows
in plugins/links.py), so a cell that needs nothing costs one dictionary lookup.
"""

from ciso.markup import MARK, has_markup, highlight, render
from datasette import hookimpl

from . import links

DATABASE = "ciso"
SNIPPET = "extrait"  # column of the canned query "recherche"
MARKUP_SUFFIX = "_markup"


def snippet_cell(datasette, row, value, column):
    return highlight(value) if isinstance(value, str) and MARK in value else None


def markup_cell(datasette, row, value, column):
    return render(value) if isinstance(value, str) and has_markup(value) else None


def handler(datasette, table: str | None, column: str):
    if column == SNIPPET and table is None:
        return snippet_cell, True
    if column.endswith(MARKUP_SUFFIX):
        return markup_cell, True
    return links.handler(datasette, table, column)  # links between rows (plugins/links.py)


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    try:
        render_with = datasette._ciso_cells[(database, table, column)]
    except (AttributeError, KeyError):
        render_with = choose(datasette, database, table, column)
    if render_with is None or value.__class__ is dict:  # a dict: a key Datasette already linked
        return None
    return render_with(datasette, row, value, column)


def choose(datasette, database: str, table: str | None, column: str):
    if database != DATABASE:
        render_with, final = None, True
    else:
        render_with, final = handler(datasette, table, column)
    if final:
        datasette.__dict__.setdefault("_ciso_cells", {})[(database, table, column)] = render_with
    return render_with
