"""Links between related rows: foreign keys and JSON id arrays show labels and link to their rows.

Datasette 0.65 labels foreign keys on table pages only; this makes row pages,
table pages and array columns (``pays``, ``organisations``…) behave the same.
Labels are read once per Datasette instance (the database is immutable).
"""

import json

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
ARRAY_TABLES = {"activites", "actions"}


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
def render_cell(value, column, table, database, datasette):
    if database != DATABASE or table is None:
        return None
    if column not in FOREIGN and column not in ARRAYS and (table, column) not in FOREIGN_IN:
        return None

    async def inner():
        return await render_link(datasette, table, column, value)

    return inner
