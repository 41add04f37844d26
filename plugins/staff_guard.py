"""The public site never serves the staff database (issue 10).

``ciso build --interne`` marks the staff database in its SQLite header (``PRAGMA
application_id``, see ``ciso/load.py``). On the public site:

* at startup, a marked database stops Datasette with a French message — whether it is
  started by ``ciso serve`` or by ``datasette serve`` with these plugins;
* at every request, if a served file has been replaced by a marked one since, the
  answer is a plain 503 page: no page, JSON, CSV or ``.db`` download comes from it.

The staff site (``ciso serve --interne``) serves its marked database as usual.
"""

import sys

from ciso.web import STAFF_DATABASE_MESSAGE, is_staff_site, refuse_staff_databases, staff_databases
from datasette import hookimpl
from datasette.utils.asgi import asgi_send_html

REFUSED = """<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>Service indisponible — CISO</title></head>
<body><h1>Service indisponible</h1>
<p>Le site public est momentanément indisponible. Merci de réessayer dans quelques minutes.</p>
</body></html>
"""


def guard(app, datasette):
    warned = set()

    async def guarded(scope, receive, send):
        found = scope.get("type") == "http" and not is_staff_site(datasette) and staff_databases(datasette)
        if found:
            if found[0] not in warned:  # once, for the operator's log
                warned.add(found[0])
                print(STAFF_DATABASE_MESSAGE.format(path=found[0]), file=sys.stderr)
            await asgi_send_html(send, REFUSED, status=503, headers={"cache-control": "no-store"})
            return
        await app(scope, receive, send)

    return guarded


@hookimpl
def startup(datasette):
    refuse_staff_databases(datasette)


@hookimpl
def asgi_wrapper(datasette):
    return lambda app: guard(app, datasette)
