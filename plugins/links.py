"""Links between related rows, where Datasette does not make them itself.

The database declares every foreign key, on the base tables and on the rollups alike
(``ciso/model.py``, ``ciso/rollups.py``), and metadata.yml names each table's label column:
Datasette then links and labels key columns on table pages and names the values of their
facets by itself; the labels below come from the same place (``label_column_for_table``). This plugin adds only what Datasette 0.65 does not do:

* row pages: the same labelled links for key columns (Datasette labels them on table pages only);
* JSON arrays of ids (``pays``, ``organisations``…): every id a link to its row, with its label,
  and their facets (templates/_facet_results.html, ``ciso_facettes``) named, not numbered;
* query results: a column named like a key of the model (``action_id``) links to its row (with its
  label on a canned query's page; ad hoc SQL keeps the id it asked for as the link's text), a
  search result to the row it names and to its page (``page``), and ``lien_source`` to the plan's line;
* lines of the plan (``ligne``…, from the model) link to that line of the published text.

Keys and labels are read once per Datasette instance (the database is immutable).
"""

import json
import re

from ciso.fr import nombre_fr
from ciso.model import ARRAY_KEYS, ARRAYS, BY_NAME, KEYS, LINE_NAMES, LINES, TABLES
from datasette import hookimpl
from datasette.utils import tilde_decode
from jinja2.filters import do_urlencode
from markupsafe import Markup, escape

DATABASE = "ciso"
# Facets on 0/1 columns.
FLAG_LABELS = {"sans_suivi": {"0": "suivi publié", "1": "aucun suivi publié"}}
# Query results (canned or not): the row a search result names.
SEARCHED_TABLES = {t.name for t in TABLES if t.fts}  # the tables the canned query « recherche » searches
SOURCE_LINK = re.compile(r"^/-/source/(?P<plan>[^/#]+)#L(?P<ligne>\d+)$")


async def labels(datasette) -> dict[str, dict[str, str]]:
    """{table: {id: label}} for every table of the model that has a label column (as Datasette finds it)."""
    cached = getattr(datasette, "_ciso_labels", None)
    if cached is not None:
        return cached
    db = datasette.get_database(DATABASE)
    existing = set(await db.table_names())
    result = {}
    for table in BY_NAME:
        key = BY_NAME[table].pk
        column = await db.label_column_for_table(table) if table in existing and isinstance(key, str) else None
        if column:
            rows = await db.execute(f"select [{key}] as id, [{column}] as label from [{table}]")  # noqa: S608
            result[table] = {r["id"]: r["label"] for r in rows}
    datasette._ciso_labels = result
    return result


async def keys_of(datasette, table: str) -> dict[str, str]:
    """{column: table it points to}: the foreign keys the database declares on ``table``."""
    cache = datasette.__dict__.setdefault("_ciso_keys", {})
    if table not in cache:
        foreign = await datasette.get_database(DATABASE).foreign_keys_for_table(table)
        cache[table] = {fk["column"]: fk["other_table"] for fk in foreign}
    return cache[table]


def array_target(table: str, column: str) -> str | None:
    """The table whose ids a JSON array column holds: declared (model), or a rollup's copy of one."""
    if table in BY_NAME:
        return ARRAYS.get((table, column))
    return ARRAY_KEYS.get(column)


def is_plan_line(table: str, column: str) -> bool:
    return column in LINES.get(table, ()) if table in BY_NAME else column in LINE_NAMES


def link(datasette, table: str, value: str, label: str | None) -> Markup:
    """A link to a row, with its label: the same few hundred ids fill every page, so each link is
    written once per Datasette instance (the database is immutable)."""
    made = datasette.__dict__.get("_ciso_links")
    if made is None:
        made = datasette._ciso_links = {}
    key = (table, value, label)
    html = made.get(key)
    if html is None:
        href = datasette.urls.row(DATABASE, table, value)
        if label is None:
            html = Markup('<a href="{}">{}</a>').format(href, value)
        else:
            html = Markup('<a href="{}">{}</a>&nbsp;<em>{}</em>').format(href, label, value)
        made[key] = html
    return html


def facet_items(names: dict, page: str | None, results: list) -> list[Markup]:
    """The ``<li>`` of a facet's values (templates/_facet_results.html): each by its name, with its id
    in the link and in its title, its count in French, and a link to its page where it has one.

    Written here rather than by the template (a table page shows a hundred values, each a dozen
    template expressions), and by ``escape`` on every value put into the HTML, then one string:
    ``Markup.format`` costs about 20 µs a call, three times this whole function per value."""
    items = []
    for result in results:
        value, label = result["value"], result["label"]
        name = names.get(str(value))
        shown_value = escape(value)
        title = f' title="{shown_value}"' if name else ""
        count = escape(nombre_fr(result["count"]))
        href = escape(result["toggle_url"])
        page_link = ""
        if page and value:
            page_href = escape(page + do_urlencode(str(value)))
            page_link = (
                f' <a class="ciso-facette-page" href="{page_href}" aria-label="Page : {escape(name or label)}">page</a>'
            )
        if result["selected"]:
            shown = escape(name or label or "-")
            html = (
                f'<li><span{title} data-facet-value="{shown_value}">{shown}</span> &middot; {count} '
                f'<a href="{href}" class="cross">&#x2716;</a>{page_link}</li>'
            )
        else:
            shown = escape(name or str(label) or "-")
            html = f'<li><a href="{href}"{title} data-facet-value="{shown_value}">{shown}</a> {count}{page_link}</li>'
        items.append(Markup(html))  # noqa: S704 - every value above went through escape()
    return items


async def facet_labels(datasette, table: str) -> dict[str, dict[str, str]]:
    """{column: {value: label}} for the facets Datasette cannot name: arrays of ids and 0/1 flags
    (worked out once per table and Datasette instance)."""
    cache = datasette.__dict__.setdefault("_ciso_facet_labels", {})
    if table not in cache:
        known = await labels(datasette)
        columns = [c for (t, c) in ARRAYS if t == table] if table in BY_NAME else list(ARRAY_KEYS)
        result = {c: known[array_target(table, c)] for c in columns if array_target(table, c) in known}
        cache[table] = {**result, **FLAG_LABELS}
    return cache[table]


def render_plan_line(datasette, row, value):
    """A line number of the plan, as a link to that line of the published text (written once per
    Datasette instance, as ``link``)."""
    plan = row["plan_id"] if "plan_id" in row.keys() else None
    if not isinstance(value, int) or not isinstance(plan, str):
        return None
    made = datasette.__dict__.setdefault("_ciso_line_links", {})
    html = made.get((plan, value))
    if html is None:
        href = datasette.urls.path(f"/-/source/{plan}") + f"#L{value}"
        html = made[(plan, value)] = Markup('<a href="{}" title="Ligne {} du plan {}">{}</a>').format(
            href, value, plan, value
        )
    return html


def render_query_cell(datasette, row, column: str, value):
    """Cells of SQL query results: source lines and search results become links."""
    if column == "lien_source" and isinstance(value, str):
        match = SOURCE_LINK.match(value)
        if match:
            href = datasette.urls.path(value)
            return Markup('<a href="{}">{}, ligne {}</a>').format(href, match["plan"], match["ligne"])
    if (
        column == "id"
        and isinstance(value, str)
        and "table_source" in row.keys()
        and row["table_source"] in SEARCHED_TABLES
    ):
        return link(datasette, row["table_source"], value, None)
    if column == "page" and isinstance(value, str) and value.startswith("/") and "table_source" in row.keys():
        return Markup('<a href="{}">{}</a>').format(datasette.urls.path(value), value)  # a search result's page
    return None


def linked(datasette, known: dict, target: str, value) -> Markup | None:
    if isinstance(value, str) and target in known:
        return link(datasette, target, value, known[target].get(value))
    return None


def linked_array(datasette, known: dict, target: str, value: str) -> Markup:
    arrays = datasette.__dict__.setdefault("_ciso_arrays", {})
    html = arrays.get((target, value))
    if html is None:
        ids = json.loads(value)
        names = known.get(target, {})
        html = Markup(", ").join(link(datasette, target, i, names.get(i)) for i in ids)
        html = arrays[(target, value)] = html or Markup('<span class="ciso-vide">—</span>')
    return html


# --------------------------------------------------------------------------- cells
# plugins/cells.py renders the rows of Datasette's pages; it asks ``handler`` once per
# (page, table, column) which function renders that column's cells, then calls it for each cell.


async def prepare(datasette, table: str | None) -> None:
    """Read what the renderers need (labels, and the table's keys), once per Datasette instance."""
    await labels(datasette)
    if table is not None:
        await keys_of(datasette, table)


def search_result_cell(datasette, row, value, column):
    if isinstance(value, str) and "table_source" in row.keys() and row["table_source"] in SEARCHED_TABLES:
        return link(datasette, row["table_source"], value, None)
    return None


def source_link_cell(datasette, row, value, column):
    return render_query_cell(datasette, row, column, value)


def plan_line_cell(datasette, row, value, column):
    return render_plan_line(datasette, row, value)


plan_line_cell.needs_row = True  # reads the row's plan_id (plugins/cells.py builds the row for it)


def array_cell(target: str):
    def render(datasette, row, value, column):
        if not isinstance(value, str) or not value.startswith("["):
            return None
        return linked_array(datasette, datasette._ciso_labels, target, value)

    return render


def key_cell(target: str):
    def render(datasette, row, value, column):
        return linked(datasette, datasette._ciso_labels, target, value)

    return render


def query_key_cell(target: str):
    def render(datasette, row, value, column):
        return link(datasette, target, value, None) if isinstance(value, str) else None

    return render


def handler(datasette, page: str, table: str | None, column: str):
    """The function rendering the cells of this column, or None (``prepare`` has run)."""
    if table is None:  # SQL query results, canned or not
        if column in ("lien_source", "page"):
            return source_link_cell
        if column == "id":
            return search_result_cell
        if column not in KEYS:
            return None
        # A canned query is a page of the site: its keys are labelled, as on row pages. Ad hoc SQL
        # shows the values it asked for, each a link to its row (labels would add a third to the page).
        return key_cell(KEYS[column]) if page == "canned" else query_key_cell(KEYS[column])
    if is_plan_line(table, column):
        return plan_line_cell
    target = array_target(table, column)
    if target:
        return array_cell(target)
    if page == "table":
        return None  # Datasette links and labels a table's keys itself (not on row pages)
    keys = datasette._ciso_keys[table]
    return key_cell(keys[column]) if column in keys else None


# The site's own page of a row (row pages link to it at their top), and the link's words.
PAGE_OF_ROW = {
    "objectifs": (
        "select id, '/-/progres/' || plan_id || '/' || numero as page from objectifs",
        "Voir la page de l'objectif : l'avancement de ses actions et activités",
    ),
    "actions": (
        "select id, '/-/progres/' || plan_id || '/' || numero as page from actions",
        "Voir la page de l'action : son statut, sa source, ses activités et ce qui s'y rattache",
    ),
    "activites": (
        "select id, '/-/progres/' || plan_id || '/' || numero as page from activites",
        "Voir la page de l'activité : son statut, sa source, son historique et ce qui s'y rattache",
    ),
    "pays": (
        "select id, '/-/pays/' || id as page from pays",
        "Voir la page du pays : ce que le CISO y fait, et où il en est",
    ),
    "organisations": (
        "select id, '/-/organisations/' || id as page from organisations",
        "Voir la page de l'organisation : ce que le CISO fait avec elle",
    ),
    "regions": (
        "select id, '/-/regions/' || id as page from regions",
        "Voir la page de la région : ce que le CISO y fait, et où il en est",
    ),
}
FACET_PAGES = {
    "pays": "/-/pays/",
    "pays_id": "/-/pays/",
    "organisations": "/-/organisations/",
    "organisation_id": "/-/organisations/",
}  # facets whose values have a page of ours


async def page_of_row(datasette, table: str, pk: str) -> dict | None:
    """{"href", "nom"} of the site's page for a row, or None; the paths are read once per instance."""
    cache = datasette.__dict__.setdefault("_ciso_pages_of_rows", {})
    if table not in cache:
        rows = await datasette.get_database(DATABASE).execute(PAGE_OF_ROW[table][0])
        cache[table] = {r["id"]: r["page"] for r in rows}
    path = cache[table].get(pk)
    return {"href": datasette.urls.path(path), "nom": PAGE_OF_ROW[table][1]} if path else None


@hookimpl
def extra_template_vars(template, database, table, datasette, request):
    if template == "table.html" and database != DATABASE:
        return {"ciso_valeurs_facette": facet_items}  # other databases' facets: values by their label
    if database != DATABASE or not table:
        return None
    if template == "row.html" and table in PAGE_OF_ROW and request is not None:
        pks = (request.url_vars or {}).get("pks")

        async def row_page():
            return {"ciso_page": await page_of_row(datasette, table, tilde_decode(pks)) if pks else None}

        return row_page
    if template != "table.html":
        return None

    async def inner():
        pages = datasette.__dict__.get("_ciso_facet_pages")
        if pages is None:
            pages = datasette._ciso_facet_pages = {c: datasette.urls.path(p) for c, p in FACET_PAGES.items()}
        return {
            "ciso_facettes": await facet_labels(datasette, table),
            "ciso_pages_facettes": pages,
            "ciso_valeurs_facette": facet_items,
        }

    return inner
