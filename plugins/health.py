"""/-/sante: is the site up? For the container's HEALTHCHECK and a load balancer's probe.

Answers 200 with the build's date, fingerprint and version, read from the database (so a site
that cannot read its database answers 503), and is never cached.
"""

import sqlite3

from ciso.web import DATABASE, check_visible
from datasette import hookimpl
from datasette.utils.asgi import Response

NOT_CACHED = {"cache-control": "no-store"}


async def health(datasette, request):
    await check_visible(datasette, request)
    try:
        rows = await datasette.get_database(DATABASE).execute("select cle, valeur from construction")
    except (KeyError, sqlite3.DatabaseError):
        return Response.json({"ok": False, "erreur": "base de données illisible"}, status=503, headers=NOT_CACHED)
    built = {row["cle"]: row["valeur"] for row in rows}
    answer = {"ok": True, **{key: built.get(key) for key in ("date", "empreinte", "version")}}
    return Response.json(answer, headers=NOT_CACHED)


@hookimpl
def register_routes():
    return [(r"^/-/sante$", health)]
