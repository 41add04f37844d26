"""Site-wide pieces: build information for the footer, French filters, stylesheet, scripts, the menu."""

from ciso.fr import date_fr, nombre_fr, octets_fr, periode_fr, pourcent_fr
from ciso.markup import render as render_markup
from ciso.messages import message_fr
from ciso.web import is_staff_site, metadata, static_url
from datasette import __version__, hookimpl
from datasette.plugins import pm
from datasette.utils import await_me_maybe
from markupsafe import Markup

DATABASE = "ciso"
# Datasette's pages that show rows in a table: their cells are labelled on phones (ciso-colonnes.js).
ROWS_PAGES = ("table.html", "row.html", "query.html")
# Where datasette-vega may draw a chart: its bundle loads when a visitor asks for it (vega-fr.js).
CHART_PAGES = ("table.html", "query.html")
VEGA = "datasette_vega"  # the module (its entry point is named "vega")
# The site's menu, in the order of a visit: one list here (Datasette orders each plugin's
# links by when the plugin was registered, which no file states).
MENU = [
    ("/-/progres", "Avancement du plan"),
    ("/-/transparence", "Transparence"),
    ("/-/telechargements", "Téléchargements"),
    ("/-/recherche", "Recherche"),
    ("/-/dictionnaire", "Dictionnaire des données"),
    ("/-/api", "Guide de l'API"),
]


async def site_info(datasette) -> dict:
    """Build date and published plans, read once per Datasette instance."""
    cached = getattr(datasette, "_ciso_site_info", None)
    if cached is not None:
        return cached
    info = {"plans": [], "date_construction": None}
    if DATABASE in datasette.databases:
        db = datasette.get_database(DATABASE)
        rows = await db.execute("select id, fichier, sha256 from plans order by id")
        info["plans"] = [dict(r) for r in rows]
        row = (await db.execute("select valeur from construction where cle = :cle", {"cle": "date"})).first()
        info["date_construction"] = row["valeur"] if row else None
    datasette._ciso_site_info = info
    return info


async def rendered_once(datasette, template_name: str, context) -> Markup:
    """A template that shows the same HTML on every page of an instance, rendered on the first page
    (``context``: an async function giving its variables)."""
    done = datasette.__dict__.setdefault("_ciso_rendered_once", {})
    if template_name not in done:
        template = datasette.jinja_env.get_template(template_name)
        done[template_name] = Markup(await template.render_async(await context()))
    return done[template_name]


async def footer(datasette) -> Markup:
    """The footer (templates/_footer.html), the same on every page of an instance."""

    async def context():
        return {"ciso": await site_info(datasette), "urls": datasette.urls, "datasette_version": __version__}

    return await rendered_once(datasette, "_footer.html", context)


async def public_menu(datasette) -> Markup | None:
    """The menu (templates/_menu.html) of the public site, where no visitor logs in: the same on every
    page. None on the staff site, whose menu depends on who is logged in."""
    if is_staff_site(datasette):
        return None

    async def context():
        login = datasette.urls.path("/-/login")
        links = []
        for found in pm.hook.menu_links(datasette=datasette, actor=None, request=None):
            links += [link for link in (await await_me_maybe(found)) or [] if link["href"] != login]
        return {"links": links, "show_logout": False, "urls": datasette.urls, "site_interne": False}

    return await rendered_once(datasette, "_menu.html", context)


def column_labels(datasette) -> dict:
    """The French label of each column name (metadata.yml, ``libelles_colonnes``), read once per instance."""
    if not hasattr(datasette, "_ciso_column_labels"):
        datasette._ciso_column_labels = metadata(datasette, "libelles_colonnes") or {}
    return datasette._ciso_column_labels


def vega_bundle(datasette) -> dict | None:
    """datasette-vega's script and stylesheet URLs, as that plugin's own hooks give them (space-separated),
    for the button that loads them on demand; None without the plugin. The base template leaves them out
    of every page: about 940 KB of JavaScript that only the chart controls use."""
    if not hasattr(datasette, "_ciso_vega"):
        plugin = next((p for p in pm.get_plugins() if getattr(p, "__name__", "") == VEGA), None)

        def urls(hook: str) -> str:
            found = [u["url"] if isinstance(u, dict) else u for u in getattr(plugin, hook)()]
            return " ".join(datasette.urls.path(u) if u.startswith("/") else u for u in found)

        datasette._ciso_vega = plugin and {"js": urls("extra_js_urls"), "css": urls("extra_css_urls")}
    return datasette._ciso_vega


@hookimpl
def extra_template_vars(datasette, template):
    async def inner():
        return {
            "ciso": await site_info(datasette),
            "ciso_pied": await footer(datasette),
            "ciso_menu": await public_menu(datasette),
            "statique": lambda name: static_url(datasette, name),
            "site_interne": is_staff_site(datasette),
            "vega": vega_bundle(datasette) if template in CHART_PAGES else None,
            "libelles_colonnes": column_labels(datasette) if template in ROWS_PAGES else None,
        }

    return inner


@hookimpl
def prepare_jinja2_environment(env):
    env.filters["date_fr"] = date_fr
    env.filters["nombre_fr"] = nombre_fr
    env.filters["pourcent_fr"] = pourcent_fr
    env.filters["periode_fr"] = periode_fr
    env.filters["octets_fr"] = octets_fr
    env.filters["balisage"] = render_markup
    env.filters["erreur_fr"] = message_fr


@hookimpl
def extra_js_urls(datasette, template):
    scripts = []
    if template in ROWS_PAGES:
        scripts.append(static_url(datasette, "ciso-colonnes.js"))
    if template in CHART_PAGES:
        scripts.append(static_url(datasette, "vega-fr.js"))  # datasette-vega's controls, on demand, in French
    return scripts


@hookimpl
def extra_css_urls(datasette):
    return [static_url(datasette, "ciso.css")]


@hookimpl
def menu_links(datasette):
    if not hasattr(datasette, "_ciso_menu"):  # the same links on every page of an instance
        datasette._ciso_menu = [{"href": datasette.urls.path(path), "label": label} for path, label in MENU]
    return datasette._ciso_menu
