"""Error pages rendered like every other page: French template, footer, menu and CSP nonce.

Datasette's default handler renders error.html without the template variables
plugins add (footer facts, CSP nonce); this one renders through
``datasette.render_template`` and otherwise behaves the same. Unexpected
exceptions still give a 500 (and are printed), never a traceback to visitors.
"""

import traceback

from datasette import hookimpl
from datasette.plugins import pm
from datasette.utils import add_cors_headers
from datasette.utils.asgi import Base400, Response
from datasette.views.base import DatasetteError
from markupsafe import Markup

# Datasette awaits every handle_exception hook, so its default one would still run after ours:
# printing a rich traceback for every 404, and failing when called outside an ``except`` block.
# This plugin handles every case the default does, so the default is retired.
if pm.has_plugin("datasette.handle_exception"):
    pm.unregister(name="datasette.handle_exception")


def describe(exception):
    title = None
    if isinstance(exception, Base400):
        return exception.status, {}, exception.args[0] if exception.args else "", None
    if isinstance(exception, DatasetteError):
        message = Markup(exception.message) if exception.message_is_html else exception.message
        return exception.status, dict(exception.error_dict or {}), message, exception.title
    traceback.print_exception(type(exception), exception, exception.__traceback__)
    return 500, {}, "Erreur interne du serveur.", title


@hookimpl
def handle_exception(datasette, request, exception):
    async def inner():
        status, info, message, title = describe(exception)
        info.update({"ok": False, "error": message, "status": status, "title": title})
        headers = {}
        if datasette.cors:
            add_cors_headers(headers)
        if request.path.split("?")[0].endswith(".json"):
            return Response.json(info, status=status, headers=headers)
        html = await datasette.render_template([f"{status}.html", "error.html"], info, request=request)
        return Response.html(html, status=status, headers=headers)

    return inner
