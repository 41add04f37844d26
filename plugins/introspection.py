"""The schema of a database served immutable (``-i``), read once instead of on every page.

Datasette asks a database for its tables, columns, keys, full-text tables and foreign keys on
every page that shows it, each answer a round trip to its thread pool: the database page
(``/ciso``) made about a thousand for our 111 tables (most of its 0.2 s), a row page a few
dozen. The schema of an immutable database cannot change while it is served (a rebuild is a
new file, put in service by a new process: supervisor.py), so each of these questions is
answered once per process and the answer kept; ``make bench`` measures the difference against
stock Datasette. Mutable databases (``datasette serve`` without ``-i``, the staff site's
session store) are asked every time, as Datasette does.
"""

from datasette import hookimpl

# Database's methods that read only the schema (datasette/database.py, 0.65 and 1.0).
SCHEMA_QUESTIONS = (
    "table_exists",
    "table_names",
    "table_columns",
    "table_column_details",
    "primary_keys",
    "fts_table",
    "label_column_for_table",
    "foreign_keys_for_table",
    "hidden_table_names",
    "view_names",
    "get_all_foreign_keys",
    "get_table_definition",
    "get_view_definition",
)


def answered_once(ask):
    """``ask`` (one of a Database's async schema methods) asked once per set of arguments. A list
    comes back as a new list each time, so that no caller can change what the next one reads."""
    answers = {}

    async def answer(*args):
        if args not in answers:
            answers[args] = await ask(*args)
        found = answers[args]
        return list(found) if isinstance(found, list) else found

    answer.__wrapped__ = ask
    return answer


def read_schema_once(database) -> None:
    if database.is_mutable or getattr(database, "_ciso_schema_once", False):
        return
    for name in SCHEMA_QUESTIONS:
        setattr(database, name, answered_once(getattr(database, name)))
    database._ciso_schema_once = True


@hookimpl
def startup(datasette):
    for database in datasette.databases.values():
        read_schema_once(database)
