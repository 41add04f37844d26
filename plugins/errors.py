"""Error answers in French, rendered like every other page, never a traceback.

Datasette's default handler renders error.html without the template variables plugins add
(footer facts) and prints a rich traceback for every 404; this one renders through
``ciso.web.error_response``. Datasette raises some errors that the visitor's parameters
caused (an unknown ``_sort`` column…) with status 500: those become 400. SQLite running out
of the memory the site allows it (plugins/limits.py) is a 400 too. Any other exception is
a 500, printed to the log. A 403 (the forbidden hook) is French too.

Datasette writes some JSON errors itself (a failed ``?sql=`` query): the wrapper below
puts their message in French too.
"""

import json
import traceback

from ciso.messages import is_client_error, message_fr, title_fr
from ciso.web import error_response
from datasette import hookimpl
from datasette.plugins import pm
from datasette.utils.asgi import Base400
from datasette.views.base import DatasetteError
from markupsafe import Markup

# Datasette awaits every handle_exception hook, so its default one would still run after ours:
# printing a rich traceback for every 404, and failing when called outside an ``except`` block.
# This plugin handles every case the default does, so the default is retired: blocked, since
# entry-point plugins (this one) are loaded before Datasette registers its default ones.
pm.set_blocked("datasette.handle_exception")

JSON_ERROR_LIMIT = 1_000_000  # bytes of a JSON error answer we translate (they are small)


def describe(exception):
    """(status, message, title) for an exception raised while answering."""
    if isinstance(exception, Base400):
        return exception.status, exception.args[0] if exception.args else "", None
    if isinstance(exception, DatasetteError):
        message = Markup(exception.message) if exception.message_is_html else exception.message
        status = exception.status
        if status == 500 and is_client_error(exception.message):
            status = 400
        return status, message, exception.title
    if isinstance(exception, MemoryError):
        return 400, "out of memory", None
    if isinstance(exception, OverflowError):  # a parameter bound to SQLite is too large an integer
        return 400, "Python int too large to convert to SQLite INTEGER", None
    traceback.print_exception(type(exception), exception, exception.__traceback__)
    return 500, "Erreur interne du serveur.", None


def translated_json(body: bytes) -> bytes:
    try:
        data = json.loads(body)
    except ValueError:
        return body
    if not isinstance(data, dict) or data.get("ok") is not False or not data.get("error"):
        return body
    data["error"] = message_fr(data["error"])
    if data.get("title"):
        data["title"] = title_fr(data["title"], data.get("status") or 400)
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def french_json_errors(app):
    """Translate the message of JSON error answers (status 400 and up) that Datasette wrote itself."""

    async def wrapped(scope, receive, send):
        if scope["type"] != "http" or not (scope.get("path") or "").endswith(".json"):
            return await app(scope, receive, send)
        start, chunks = None, []

        async def buffering_send(message):
            nonlocal start
            if message["type"] == "http.response.start":
                if message.get("status", 200) < 400:
                    start = False
                    return await send(message)
                start = message
                return None
            if start is False:
                return await send(message)
            chunks.append(message.get("body", b""))
            if message.get("more_body") and sum(map(len, chunks)) < JSON_ERROR_LIMIT:
                return None
            body = b"".join(chunks)
            if not message.get("more_body"):
                body = translated_json(body)
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body, "more_body": message.get("more_body", False)})
            start = False

        await app(scope, receive, buffering_send)

    return wrapped


@hookimpl
def handle_exception(datasette, request, exception):
    async def inner():
        status, message, title = describe(exception)
        return await error_response(datasette, request, status, message, title)

    return inner


@hookimpl
def forbidden(datasette, request, message):
    """A 403 in French (Datasette's own says « Forbidden » and the permission's name, view-instance…)."""

    async def inner():
        return await error_response(datasette, request, 403, message)

    return inner


@hookimpl
def asgi_wrapper():
    return french_json_errors
