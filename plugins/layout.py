"""Site-wide pieces: build information for the footer, French filters, stylesheet, the menu."""

from ciso.fr import date_fr, nombre_fr, pourcent_fr
from ciso.markup import render as render_markup
from ciso.messages import message_fr
from ciso.web import is_staff_site, static_url
from datasette import hookimpl

DATABASE = "ciso"
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


@hookimpl
def extra_template_vars(datasette, template):
    async def inner():
        return {
            "ciso": await site_info(datasette),
            "statique": lambda name: static_url(datasette, name),
            "site_interne": is_staff_site(datasette),
            # datasette-vega's 1 MB bundle is only needed where it draws: table and query pages.
            "page_vega": template in ("table.html", "query.html"),
        }

    return inner


@hookimpl
def prepare_jinja2_environment(env):
    env.filters["date_fr"] = date_fr
    env.filters["nombre_fr"] = nombre_fr
    env.filters["pourcent_fr"] = pourcent_fr
    env.filters["balisage"] = render_markup
    env.filters["erreur_fr"] = message_fr


@hookimpl
def extra_js_urls(datasette, template):
    # datasette-vega's chart controls, relabelled in French where that plugin draws (tables, queries).
    if template in ("table.html", "query.html"):
        return [{"url": static_url(datasette, "vega-fr.js"), "module": False}]
    return []


@hookimpl
def extra_css_urls(datasette):
    return [static_url(datasette, "ciso.css")]


@hookimpl
def menu_links(datasette):
    return [{"href": datasette.urls.path(path), "label": label} for path, label in MENU]
