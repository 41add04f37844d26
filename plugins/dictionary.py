"""The data dictionary page, /-/dictionnaire: every table and column of the database, on one page.

It reads the two tables the build writes (ciso/data_dictionary.py): ``dictionnaire_tables``
and ``dictionnaire``. Datasette serves those as HTML, JSON and CSV like any other table; the
former addresses of this page's own downloads, /-/dictionnaire.json and /-/dictionnaire.csv,
redirect there.
"""

from ciso.data_dictionary import COLUMNS, SEPARATOR, TABLES
from ciso.web import check_visible
from datasette import hookimpl
from datasette.utils.asgi import Response

DATABASE = "ciso"
DOWNLOADS = {".json": "?_shape=array&_size=max", ".csv": "?_stream=on"}


def allowed_values(text: str) -> list[dict]:
    """``valeurs_permises`` (one « code : label » per line) as a list of {valeur, libelle}."""
    return [dict(zip(("valeur", "libelle"), line.split(SEPARATOR, 1), strict=True)) for line in text.splitlines()]


async def dictionary_page(datasette, request):
    await check_visible(datasette, request)
    fmt = request.url_vars.get("format")
    if fmt:
        return Response.redirect(datasette.urls.table(DATABASE, COLUMNS, format=fmt[1:]) + DOWNLOADS[fmt])
    db = datasette.get_database(DATABASE)
    tables = [dict(r) for r in await db.execute(f"select * from {TABLES} order by ordre")]  # noqa: S608
    by_table = {t["table"]: {**t, "colonnes": []} for t in tables}
    for c in await db.execute(f"select * from {COLUMNS} order by ordre"):  # noqa: S608
        column = dict(c)
        column["valeurs_permises"] = allowed_values(column["valeurs_permises"] or "")
        by_table[column["table"]]["colonnes"].append(column)
    return Response.html(
        await datasette.render_template(
            "dictionnaire.html",
            {
                "tables": list(by_table.values()),
                "nb_colonnes": sum(t["nb_colonnes"] for t in tables),
                "adresses": {
                    "colonnes": datasette.urls.table(DATABASE, COLUMNS),
                    "tables": datasette.urls.table(DATABASE, TABLES),
                    "csv": datasette.urls.table(DATABASE, COLUMNS, format="csv") + DOWNLOADS[".csv"],
                    "json": datasette.urls.table(DATABASE, COLUMNS, format="json") + DOWNLOADS[".json"],
                },
            },
            request=request,
        )
    )


@hookimpl
def register_routes():
    return [(r"^/-/dictionnaire(?P<format>\.json|\.csv)?$", dictionary_page)]
