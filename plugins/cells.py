"""Render the plans' inline markup (*italique*, 1^{er}) in Datasette's table and row pages."""

from ciso.markup import has_markup, render
from datasette import hookimpl

DATABASE = "ciso"
TEXT_COLUMNS = {"texte", "titre", "titre_annonce", "description", "citation"}


@hookimpl
def render_cell(value, column, database):
    if database == DATABASE and column in TEXT_COLUMNS and isinstance(value, str) and has_markup(value):
        return render(value)
    return None
