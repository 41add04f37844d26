"""Links between related rows: foreign keys and JSON id arrays show labels and link to their rows.

Datasette 0.65 labels foreign keys on table pages only; this makes row pages,
table pages, query results and array columns (``pays``, ``organisations``…)
behave the same, and gives facets (templates/_facet_results.html) names
instead of bare ids, on tables and views alike.
Labels are read once per Datasette instance (the database is immutable).
"""

import json
import re

from datasette import hookimpl
from markupsafe import Markup, escape

DATABASE = "ciso"

# table -> SQL expression giving a row's label
LABELS = {
    "plans": "'Plan ' || id",
    "objectifs": "'Objectif ' || numero || ' (' || plan_id || ') : ' || titre",
    "actions": "numero || ' ' || titre",
    "activites": "'Activité ' || numero || ' (' || plan_id || ')'",
    "pays": "nom",
    "organisations": "nom || coalesce(' (' || sigle || ')', '')",
    "instruments": "id || ' — ' || titre_court",
    "themes": "nom",
    "types_organisation": "libelle",
    "statuts": "libelle",
}
# column -> table it refers to
FOREIGN = {
    "plan_id": "plans",
    "objectif_id": "objectifs",
    "action_id": "actions",
    "activite_id": "activites",
    "pays_id": "pays",
    "organisation_id": "organisations",
    "instrument_id": "instruments",
    "theme_id": "themes",
}
# (table, column) pairs whose meaning depends on the table
FOREIGN_IN = {("organisations", "type"): "types_organisation"}
ARRAYS = {"organisations", "pays", "instruments", "themes"}
ARRAY_TABLES = {"activites", "actions", "statut_activites", "statut_actions"}
# Facets only: columns whose values are codes of a table that is not linked on every page.
FACET_ONLY = {"statut": "statuts", "statut_declare": "statuts", "depend_de_statut": "statuts"}
# Facets on 0/1 columns.
FLAG_LABELS = {"sans_suivi": {"0": "suivi publié", "1": "aucun suivi publié"}}
# Columns that give a line of the plan named by the row's plan_id: they link to /-/source/{plan}#L{line}.
PLAN_LINES = {"ligne", "ligne_debut", "ligne_fin", "ligne_annonce"}
PLAN_LINE_TABLES = {
    "objectifs", "actions", "activites", "passages", "organisations", "pays", "instruments", "themes",
    "statut_activites", "statut_actions", "statut_elements",
}  # fmt: skip
# Query results (canned or not): a link to the plan's line, and the row a search result names.
SEARCHED_TABLES = {"objectifs", "actions", "activites", "passages", "organisations", "pays", "instruments", "themes"}
SOURCE_LINK = re.compile(r"^/-/source/(?P<plan>[^/#]+)#L(?P<ligne>\d+)$")


async def labels(datasette) -> dict[str, dict[str, str]]:
    cached = getattr(datasette, "_ciso_labels", None)
    if cached is not None:
        return cached
    db = datasette.get_database(DATABASE)
    existing = set(await db.table_names())
    result = {}
    for table, expression in LABELS.items():
        if table in existing:
            rows = await db.execute(f"select id, {expression} as label from [{table}]")
            result[table] = {r["id"]: r["label"] for r in rows}
    datasette._ciso_labels = result
    return result


def link(datasette, table: str, value: str, label: str | None) -> str:
    href = datasette.urls.row(DATABASE, table, value)
    if label is None:
        return f'<a href="{escape(href)}">{escape(value)}</a>'
    return f'<a href="{escape(href)}">{escape(label)}</a>&nbsp;<em>{escape(value)}</em>'


def facet_target(table: str, column: str) -> str | None:
    """The table whose labels name a facet's values, for a column of a table or view."""
    if (table, column) in FOREIGN_IN:
        return FOREIGN_IN[(table, column)]
    if column in ARRAYS and table in ARRAY_TABLES:
        return column
    return FOREIGN.get(column) or FACET_ONLY.get(column)


async def facet_labels(datasette, table: str) -> dict[str, dict[str, str]]:
    """{column: {value: label}} for every column of a table page that a facet may name."""
    known = await labels(datasette)
    candidates = {*FOREIGN, *ARRAYS, *FACET_ONLY, *FLAG_LABELS, *(c for t, c in FOREIGN_IN if t == table)}
    result = {}
    for column in candidates:
        target = facet_target(table, column)
        if target in known:
            result[column] = known[target]
        elif column in FLAG_LABELS:
            result[column] = FLAG_LABELS[column]
    return result


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
    return None


async def render_link(datasette, table: str, column: str, value):
    known = await labels(datasette)
    if isinstance(value, dict) and "value" in value:  # a foreign key Datasette already expanded
        value = value["value"]
    target = FOREIGN_IN.get((table, column)) or FOREIGN.get(column)
    if target and isinstance(value, str) and target in known:
        return Markup(link(datasette, target, value, known[target].get(value)))
    if column in ARRAYS and table in ARRAY_TABLES and isinstance(value, str) and value.startswith("["):
        ids = json.loads(value)
        if not ids:
            return Markup('<span class="ciso-vide">—</span>')
        names = known.get(column, {})
        return Markup(", ".join(link(datasette, column, i, names.get(i)) for i in ids))
    return None


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    if database != DATABASE:
        return None
    if table is None:
        query_cell = render_query_cell(datasette, row, column, value)
        if query_cell is not None or column not in FOREIGN:
            return query_cell
    elif column in PLAN_LINES and table in PLAN_LINE_TABLES:
        return render_plan_line(datasette, row, value)
    elif column not in FOREIGN and column not in ARRAYS and (table, column) not in FOREIGN_IN:
        return None

    async def inner():
        return await render_link(datasette, table, column, value)

    return inner


@hookimpl
def extra_template_vars(template, database, table, datasette):
    if template != "table.html" or database != DATABASE or not table:
        return None

    async def inner():
        return {"ciso_facettes": await facet_labels(datasette, table)}

    return inner
