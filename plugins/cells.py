"""Render the plans' inline markup (*italique*, 1^{er}) in Datasette's table and row pages.

The plans' words are stored twice: plain text (``texte``) and with their markup (``texte_markup``);
only the ``*_markup`` columns are rendered as HTML.
"""

from ciso.markup import has_markup, render
from datasette import hookimpl

DATABASE = "ciso"


@hookimpl
def render_cell(value, column, database):
    if database == DATABASE and column.endswith("_markup") and isinstance(value, str) and has_markup(value):
        return render(value)
    return None
