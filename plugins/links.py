"""Links between related rows, where Datasette does not make them itself.

The database declares every foreign key, on the base tables and on the rollups alike
(``ciso/model.py``, ``ciso/rollups.py``), and metadata.yml names each table's label column:
Datasette then links and labels key columns on table pages and names the values of their
facets by itself; the labels below come from the same place (``label_column_for_table``). This plugin adds only what Datasette 0.65 does not do:

* row pages: the same labelled links for key columns (Datasette labels them on table pages only);
* JSON arrays of ids (``pays``, ``organisations``…): every id a link to its row, with its label,
  and their facets (templates/_facet_results.html, ``ciso_facettes``) named, not numbered;
* query results: a column named like a key of the model (``action_id``) links to its row, a
  search result to the row it names and to its page (``page``), and ``lien_source`` to the plan's line;
* lines of the plan (``ligne``…, from the model) link to that line of the published text.

Keys and labels are read once per Datasette instance (the database is immutable).
"""

import json
import re

from ciso.model import ARRAY_KEYS, ARRAYS, BY_NAME, KEYS, LINE_NAMES, LINES, TABLES
from datasette import hookimpl
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


def link(datasette, table: str, value: str, label: str | None) -> str:
    href = datasette.urls.row(DATABASE, table, value)
    if label is None:
        return f'<a href="{escape(href)}">{escape(value)}</a>'
    return f'<a href="{escape(href)}">{escape(label)}</a>&nbsp;<em>{escape(value)}</em>'


async def facet_labels(datasette, table: str) -> dict[str, dict[str, str]]:
    """{column: {value: label}} for the facets Datasette cannot name: arrays of ids and 0/1 flags."""
    known = await labels(datasette)
    columns = [c for (t, c) in ARRAYS if t == table] if table in BY_NAME else list(ARRAY_KEYS)
    result = {c: known[array_target(table, c)] for c in columns if array_target(table, c) in known}
    return {**result, **FLAG_LABELS}


def render_plan_line(datasette, row, value):
    """A line number of the plan, as a link to that line of the published text."""
    plan = row["plan_id"] if "plan_id" in row.keys() else None
    if not isinstance(value, int) or not isinstance(plan, str):
        return None
    href = datasette.urls.path(f"/-/source/{plan}") + f"#L{value}"
    return Markup(f'<a href="{escape(href)}" title="Ligne {value} du plan {escape(plan)}">{value}</a>')


def render_query_cell(datasette, row, column: str, value):
    """Cells of SQL query results: source lines and search results become links."""
    if column == "lien_source" and isinstance(value, str):
        match = SOURCE_LINK.match(value)
        if match:
            href = datasette.urls.path(value)
            return Markup(f'<a href="{escape(href)}">{escape(match["plan"])}, ligne {escape(match["ligne"])}</a>')
    if (
        column == "id"
        and isinstance(value, str)
        and "table_source" in row.keys()
        and row["table_source"] in SEARCHED_TABLES
    ):
        return Markup(link(datasette, row["table_source"], value, None))
    if column == "page" and isinstance(value, str) and value.startswith("/") and "table_source" in row.keys():
        return Markup('<a href="{}">{}</a>').format(datasette.urls.path(value), value)  # a search result's page
    return None


async def render_link(datasette, target: str, value) -> Markup | None:
    known = await labels(datasette)
    if isinstance(value, str) and target in known:
        return Markup(link(datasette, target, value, known[target].get(value)))
    return None


async def render_array(datasette, target: str, value: str) -> Markup | None:
    ids = json.loads(value)
    if not ids:
        return Markup('<span class="ciso-vide">—</span>')
    names = (await labels(datasette)).get(target, {})
    return Markup(", ".join(link(datasette, target, i, names.get(i)) for i in ids))


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    if database != DATABASE or isinstance(value, dict):  # a dict: a key Datasette already linked
        return None
    if table is None:
        query_cell = render_query_cell(datasette, row, column, value)
        if query_cell is not None or column not in KEYS:
            return query_cell
        return lambda: render_link(datasette, KEYS[column], value)
    if is_plan_line(table, column):
        return render_plan_line(datasette, row, value)
    target = array_target(table, column)
    if target and isinstance(value, str) and value.startswith("["):
        return lambda: render_array(datasette, target, value)
    known = datasette.__dict__.get("_ciso_keys", {}).get(table)
    if known is not None and column not in known:
        return None

    async def inner():
        other = (await keys_of(datasette, table)).get(column)
        return await render_link(datasette, other, value) if other else None

    return inner  # Datasette calls and awaits it (not at all if another plugin rendered the cell first)


@hookimpl
def extra_template_vars(template, database, table, datasette):
    if template != "table.html" or database != DATABASE or not table:
        return None

    async def inner():
        return {"ciso_facettes": await facet_labels(datasette, table)}

    return inner
