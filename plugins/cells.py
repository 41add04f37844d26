"""Cells of Datasette's table, row and query pages that hold HTML: the plans' inline markup
(*italique*, 1^{er}), the highlighted snippets of the full-text search and the links between rows.

The plans' words are stored twice: plain text (``texte``) and with their markup (``texte_markup``);
only the ``*_markup`` columns are rendered as HTML. The canned query ``recherche`` returns
snippets (``extrait``) with ``<mark>`` around the words found: shown highlighted on its
Datasette page as on /-/recherche. Links between rows: plugins/links.py.

Datasette offers the ``render_cell`` hook for this, but calls it for every cell of a page (a
table page: about a thousand), through pluggy, and that dispatch alone made our SQL page 10 %
slower than stock Datasette's, for the few columns that need rendering (``make bench``). So
the rows are rendered here instead, column by column: the templates that show rows
(templates/_table.html, query.html) hand Datasette's ``display_rows`` to ``ciso_lignes``, which
decides once per page which columns need a renderer, calls it for those columns' cells only
(every other cell is left as Datasette made it), and writes the rows' ``<tr>`` in one pass: the
same cells as Datasette's templates, without Jinja's per-cell cost (a third of the SQL page's).
"""

from ciso.markup import MARK, has_markup, highlight, render
from datasette import hookimpl
from datasette.utils import to_css_class
from markupsafe import Markup, escape

from . import links

DATABASE = "ciso"
SNIPPET = "extrait"  # column of the canned query "recherche"
MARKUP_SUFFIX = "_markup"
ROWS_PAGES = {"table.html": "table", "row.html": "row", "query.html": "query"}


def snippet_cell(datasette, row, value, column):
    return highlight(value) if isinstance(value, str) and MARK in value else None


def markup_cell(datasette, row, value, column):
    return render(value) if isinstance(value, str) and has_markup(value) else None


def handler(datasette, page: str, table: str | None, column: str):
    """The function rendering this column's cells on this kind of page, or None."""
    if column == SNIPPET and table is None:
        return snippet_cell
    if column.endswith(MARKUP_SUFFIX):
        return markup_cell
    return links.handler(datasette, page, table, column)  # links between rows (plugins/links.py)


async def renderers(datasette, page: str, table: str | None, columns: tuple) -> tuple[list, list[str]]:
    """[(position, function)] of the columns that need rendering, and each column's CSS class,
    worked out once per instance for each (page, table, columns)."""
    chosen = datasette.__dict__.setdefault("_ciso_cells", {})
    key = (page, table, columns)
    if key not in chosen:
        await links.prepare(datasette, table)  # labels and keys, read once per instance
        found = [(i, handler(datasette, page, table, column)) for i, column in enumerate(columns)]
        classes = [to_css_class(column) for column in columns]
        chosen[key] = ([(i, render_with) for i, render_with in found if render_with is not None], classes)
    return chosen[key]


async def rows_html(datasette, page: str, table: str | None, display_rows, rows=None) -> Markup:
    """The ``<tr>`` of Datasette's ``display_rows``, our columns rendered: cells (dicts with ``raw``)
    on table and row pages, lists of values on query pages, ad hoc or canned (``rows``: the values as
    SQLite returned them). The same cells as Datasette's templates write (``_table.html``,
    ``query.html``), written here in one pass: Jinja's loop cost more than the rest of the page."""
    if not display_rows:
        return Markup("")
    query = page in ("query", "canned")
    if query:
        columns = tuple(rows[0].keys()) if rows else ()
    else:
        columns = tuple(cell["column"] for cell in display_rows[0])
    chosen, classes = await renderers(datasette, page, table, columns)
    needs_row = any(getattr(render_with, "needs_row", False) for _, render_with in chosen)
    out = []
    add = out.append
    for n, shown in enumerate(display_rows):
        if query:
            values = list(shown)
            row = rows[n]
            for i, render_with in chosen:
                html = render_with(datasette, row, row[i], columns[i])
                if html is not None:
                    values[i] = html
            add("<tr>")
            for css, value in zip(classes, values, strict=True):
                add(f'<td class="col-{css}">{escape(value)}</td>')
        else:
            cells = shown.cells if hasattr(shown, "cells") else shown
            values = [cell["value"] for cell in cells]
            row = {cell["column"]: cell["raw"] for cell in cells} if needs_row else None
            for i, render_with in chosen:
                html = render_with(datasette, row, cells[i]["raw"], columns[i])
                if html is not None:
                    values[i] = html
            add("<tr>")
            for css, cell, value in zip(classes, cells, values, strict=True):
                add(f'<td class="col-{css} type-{cell["value_type"]}">{escape(value)}</td>')
        add("</tr>\n")
    return Markup("".join(out))


@hookimpl
def extra_template_vars(template, database, table, datasette):
    page = ROWS_PAGES.get(template)
    if page is None or database != DATABASE:
        return None  # the templates loop over the rows themselves

    async def ciso_lignes(display_rows, rows=None, canned_query=None):
        kind = "canned" if page == "query" and canned_query else page
        return await rows_html(datasette, kind, table if page != "query" else None, display_rows, rows)

    return {"ciso_lignes": ciso_lignes}
