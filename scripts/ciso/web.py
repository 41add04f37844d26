"""Helpers shared by the Datasette plugins in plugins/ (one place for site mode and static URLs).

The Datasette APIs that change in 1.0 — ``datasette.metadata()``, ``plugin_config()``,
``permission_allowed()``, ``get_canned_queries()`` — are called here and nowhere else
(tests/test_templates.py checks it), so the move to 1.0 touches this file; so are the permission
decisions of our plugins (``is_staff_site``, ``check_visible``, ``has_permission_rules``).
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache, partial
from pathlib import Path

PLUGIN = "ciso"


def _fetch(conn, sql: str, params: dict) -> list[dict]:
    cursor = conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


async def page_rows(db, sql: str, params: dict | None = None) -> list[dict]:
    """The rows of one of our pages' own fixed queries, as dicts, run outside Datasette's
    ``sql_time_limit_ms``. That limit is for visitors' SQL; ours read the rollups computed at build
    (indexed, bounded by the plans), and under load (10 clients, 100 plans: make bench) waiting for
    the GIL pushed them past its 250 ms of wall time: the page answered 500. The function given to
    ``execute_fn`` is a ``partial`` whose ``keywords["sql"]`` names the query (tests count them)."""
    return await db.execute_fn(partial(_fetch, sql=sql, params=params or {}))


def plugin_settings(datasette) -> dict:
    """The ``ciso`` plugin's settings in the metadata (``plugins: ciso: …``)."""
    return datasette.plugin_config(PLUGIN) or {}


def metadata(datasette, key: str | None = None, database: str | None = None):
    """The site's metadata (metadata.yml), or one key of it, at the top or for a database."""
    return datasette.metadata(key, database=database)


def tables_metadata(datasette, database: str = "ciso") -> dict:
    """``databases: <database>: tables:`` of the metadata: titles, descriptions, columns of each table."""
    return datasette.metadata("tables", database=database) or {}


async def canned_queries(datasette, database: str) -> dict:
    """The database's canned queries, as an anonymous visitor sees them: {name: query}."""
    return await datasette.get_canned_queries(database, None)


async def canned_query(datasette, database: str, name: str) -> dict | None:
    """One canned query, as an anonymous visitor sees it (None if there is no such query)."""
    return await datasette.get_canned_query(database, name, None)


RULE_KEYS = ("allow", "allow_sql")  # the metadata's permission blocks (Datasette 0.65)


def has_permission_rules(datasette) -> bool:
    """True if the metadata gives the instance, a database, a table or a canned query an ``allow``
    (or ``allow_sql``) block, or if a plugin provides metadata or canned queries, which may. Then
    Datasette's own rules decide (plugins/permissions.py). Read once per Datasette instance: the
    metadata does not change while it runs."""
    if not hasattr(datasette, "_ciso_permission_rules"):
        from datasette.plugins import pm

        found = metadata(datasette)
        scopes = [found]
        for database in (found.get("databases") or {}).values():
            if isinstance(database, dict):
                scopes.append(database)
                for kind in ("tables", "queries"):
                    scopes += [s for s in (database.get(kind) or {}).values() if isinstance(s, dict)]
        dynamic = any(getattr(pm.hook, hook).get_hookimpls() for hook in ("get_metadata", "canned_queries"))
        datasette._ciso_permission_rules = dynamic or any(key in scope for scope in scopes for key in RULE_KEYS)
    return datasette._ciso_permission_rules


def datasette_permission(datasette, actor, action, resource):
    """Datasette's own rules (``datasette.default_permissions``, which plugins/permissions.py stands in
    for); when the metadata holds no rule at all, their answer without searching it (each search
    merges the whole metadata: about twenty per page)."""
    import datasette.default_permissions as rules

    if not has_permission_rules(datasette):
        root = bool(actor) and actor.get("id") == "root"
        if action in ("permissions-debug", "debug-menu"):
            return True if root else None
        if action == "view-database" and resource == "_internal" and not root:
            return False
        if action == "execute-sql":
            return None if datasette.setting("default_allow_sql") else False
        if action in ("view-instance", "view-database", "view-table", "view-query"):
            return None
    return rules.permission_allowed(datasette=datasette, actor=actor, action=action, resource=resource)


def is_staff_site(datasette) -> bool:
    """True on the private staff process (``ciso serve --interne``), whose metadata says so.

    The only permission decision our plugins make; moving to Datasette 1.0 touches this function.
    Read once per Datasette instance (every request asks, several times; Datasette 0.65 merges the
    whole metadata for each ``plugin_config``), as the metadata does not change while it runs.
    """
    staff = getattr(datasette, "_ciso_staff", None)
    if staff is None:
        staff = datasette._ciso_staff = bool(plugin_settings(datasette).get("interne"))
    return staff


SITE_PACKAGE = "ciso_site"  # plugins/, installed under this name (pyproject.toml)
DISTRIBUTION = "ciso-donnees"  # Datasette serves the package's static/ at /-/static-plugins/<its name>/


@lru_cache(maxsize=1)
def static_dir() -> Path:
    """The site's static files: ``static/`` at the top of the repository, shipped in ``ciso_site``."""
    from importlib.resources import files

    return Path(str(files(SITE_PACKAGE) / "static"))


@lru_cache(maxsize=1)
def _distribution_name() -> str:
    import importlib.metadata

    return importlib.metadata.metadata(DISTRIBUTION)[
        "Name"
    ]  # the name Datasette puts in the URL, as the metadata spell it


@lru_cache(maxsize=256)
def _version(path: str, mtime: float) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:10]


def static_url(datasette, name: str) -> str:
    """URL of a file of static/, with ``?v=`` the start of its hash, so it can be cached for a year.

    Worked out once per Datasette instance, like the ETag (plugins/caching.py), which fingerprints
    the static files too: a new release starts new workers (restart ``make serve`` after editing static/)."""
    urls = datasette.__dict__.setdefault("_ciso_static_urls", {})
    url = urls.get(name)
    if url is None:
        path = os.path.join(static_dir(), name)
        try:
            version = _version(path, os.stat(path).st_mtime)
        except OSError:
            version = "0"
        url = urls[name] = str(datasette.urls.static_plugins(_distribution_name(), name)) + f"?v={version}"
    return url


DATABASE = "ciso"
DOWNLOADS_SETTING = "telechargements"  # plugin setting: the export folder, relative to the database's


def downloads_dir(datasette) -> Path | None:
    """The folder whose files are served at /telechargements/: ``export/`` beside the database,
    unless the ``telechargements`` setting of the ``ciso`` plugin names another (``ciso.server --export``).
    None when there is no such folder (a database built without downloads, the staff site)."""
    if DATABASE not in datasette.databases or not datasette.get_database(DATABASE).path:
        return None
    configured = plugin_settings(datasette).get(DOWNLOADS_SETTING) or "export"
    folder = Path(datasette.get_database(DATABASE).path).parent / configured
    return folder if folder.is_dir() else None


def json_for_script(value) -> str:
    """JSON safe inside ``<script type="application/json">``: no ``</script>`` can break out."""
    import json

    text = json.dumps(value, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


async def check_visible(datasette, request) -> None:
    """Raise Forbidden unless the visitor may see the site (always on the public site; logged-in
    staff on the staff site). Our custom pages call this first, like Datasette's own pages do."""
    from datasette.utils.asgi import Forbidden

    if not await datasette.permission_allowed(request.actor, "view-instance", default=True):
        raise Forbidden("Connexion requise.")


async def error_response(datasette, request, status: int, message, title: str | None = None, headers=None):
    """A French error answer: JSON for ``.json`` addresses, else the site's error page."""
    from datasette.utils.asgi import Response
    from markupsafe import Markup

    from .messages import message_fr, not_found_fr, title_fr

    text = (status == 404 and not_found_fr(message, request.path)) or message_fr(message)
    if isinstance(message, Markup) and text == str(message):
        text = message  # HTML we could not translate stays HTML
    info = {"ok": False, "error": text, "status": status, "title": title_fr(title, status)}
    if request.path.endswith(".json"):
        return Response.json(info, status=status, headers=headers)
    html = await datasette.render_template([f"{status}.html", "error.html"], info, request=request)
    return Response.html(html, status=status, headers=headers)


STAFF_DATABASE_MESSAGE = (
    "{path} est la base interne de l'équipe (marquée par « ciso build --interne ») : le site public "
    "refuse de la servir. Servez-la avec « ciso serve --interne » et reconstruisez la base publique "
    "avec « ciso build »."
)


def staff_databases(datasette) -> list[str]:
    """Files served by this Datasette that carry the staff mark (see load.STAFF_APPLICATION_ID)."""
    from .load import is_staff_database

    return [db.path for db in datasette.databases.values() if db.path and is_staff_database(db.path)]


def refuse_staff_databases(datasette) -> None:
    """On the public site, stop at startup if a database is the staff one (a French message, no traceback)."""
    from .problems import Erreur

    if is_staff_site(datasette):
        return
    found = staff_databases(datasette)
    if found:
        raise Erreur(STAFF_DATABASE_MESSAGE.format(path=found[0]))


async def public_address(datasette) -> str | None:
    """The site's public address set at build time (``adresse_site`` of data/reference/iati.yml, or
    CISO_IATI_ADRESSE_SITE), without a trailing slash; None while it is unknown. Read once per
    Datasette instance (the database is immutable)."""
    if not hasattr(datasette, "_ciso_adresse"):
        from .catalogue import site_address

        found = None
        if DATABASE in datasette.databases:
            found = await datasette.get_database(DATABASE).execute_fn(site_address)
        datasette._ciso_adresse = found
    return datasette._ciso_adresse


def absolute_url(datasette, request, address: str | None, path: str) -> str:
    """A path of the site (``/sitemap.xml``) as an absolute address, for documents read elsewhere
    (sitemap, robots.txt, feeds, catalogue): under the public address when it is known, else
    under the request's own scheme and host, as Datasette writes its absolute links (never the
    placeholder address, never a guess)."""
    if address:
        return address + path
    return datasette.absolute_url(request, datasette.urls.path(path))
