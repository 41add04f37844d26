"""Cells of Datasette's table, row and query pages that hold HTML: the plans' inline markup
(*italique*, 1^{er}) and the highlighted snippets of the full-text search.

The plans' words are stored twice: plain text (``texte``) and with their markup (``texte_markup``);
only the ``*_markup`` columns are rendered as HTML. The canned query ``recherche`` returns
snippets (``extrait``) with ``<mark>`` around the words found: shown highlighted on its
Datasette page as on /-/recherche.

Datasette calls ``render_cell`` for every cell it shows (a table page: about a thousand), so
the hook decides from the column name alone before looking at anything else.
"""

from ciso.markup import MARK, has_markup, highlight, render
from datasette import hookimpl

DATABASE = "ciso"
SNIPPET = "extrait"  # column of the canned query "recherche"
MARKUP_SUFFIX = "_markup"


@hookimpl
def render_cell(value, column, table, database):
    if column == SNIPPET:
        if table is None and database == DATABASE and isinstance(value, str) and MARK in value:
            return highlight(value)
    elif column.endswith(MARKUP_SUFFIX):
        if database == DATABASE and isinstance(value, str) and has_markup(value):
            return render(value)
    return None
