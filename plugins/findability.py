"""Findable: /sitemap.xml, robots.txt's « Sitemap: » line, the schema.org Dataset on the home and
downloads pages, and the DCAT-AP catalogue at /-/catalogue.jsonld (also .ttl and .rdf).

/robots.txt itself is datasette-block-robots', configured in metadata.yml (and shut on the staff
site by metadata-interne.yml); this plugin adds its Sitemap line through that plugin's
``block_robots_extra_lines`` hook. The descriptions are built by ``ciso.catalogue``.

**Addresses.** A sitemap, robots.txt and a catalogue need absolute addresses. They come from
the public address set at build time (``adresse_site`` of data/reference/iati.yml, or
CISO_IATI_ADRESSE_SITE; table ``parametres_iati``). While it is unknown, they come from the
request (its scheme and ``Host``, as Datasette's own absolute links; behind a proxy see
CISO_PROXIES and CISO_FORCE_HTTPS_URLS): never the placeholder ``.invalid`` address, never a
guess. The JSON-LD inside HTML pages is then root-relative (JSON-LD resolves it against the
page's address), so a page stays the same bytes whatever name it was asked under.

**The sitemap** lists every public page of ours, one line of ``PAGES`` per kind of page, then
the tables described in metadata.yml. The staff site has none (404).
"""

import json
from urllib.parse import quote, urlencode

from ciso import catalogue
from ciso.web import (
    DATABASE,
    absolute_url,
    check_visible,
    downloads_dir,
    is_staff_site,
    json_for_script,
    metadata,
    public_address,
    tables_metadata,
)
from datasette import hookimpl
from datasette.utils import tilde_encode
from datasette.utils.asgi import NotFound, Response
from lxml import etree

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
ROW_PAGES = ("plans", "instruments", "themes")
# Every kind of public page: (path, SQL listing the values of its {fields}, or None for one page).
# A new kind of page (an action's, a country's…) is one more line.
PAGES = [
    ("/", None),
    ("/-/progres", None),
    ("/-/progres/{plan}", "select id as plan from plans order by id"),
    ("/-/progres/{plan}/{n}", "select plan_id as plan, numero as n from objectifs order by plan_id, ordre"),
    ("/-/source/{plan}", "select id as plan from plans order by id"),
    ("/-/transparence", None),
    ("/-/telechargements", None),
    ("/-/dictionnaire", None),
    ("/-/api", None),
    ("/-/recherche", None),
    (f"/{DATABASE}", None),
    # Each action's and activity's page, each country's, region's and organisation's (plugins/places.py).
    ("/-/progres/{plan}/{n}", "select plan_id as plan, numero as n from actions order by plan_id, ordre"),
    ("/-/progres/{plan}/{n}", "select plan_id as plan, numero as n from activites order by plan_id, ordre"),
    ("/-/pays", None),
    ("/-/pays/{code}", "select id as code from pays order by id"),
    ("/-/regions/{id}", "select id from regions order by id"),
    ("/-/organisations", None),
    ("/-/organisations/{id}", "select id from organisations order by id"),
    # The rows that have no page of ours: Datasette's row page.
    *((f"/{DATABASE}/{table}/{{id}}", f"select id from {table} order by id") for table in ROW_PAGES),
]
TABLE_PAGE = f"/{DATABASE}/{{table}}"
CATALOGUE_FORMATS = {  # suffix: (rdflib format, content type); jsonld is written as is
    "jsonld": (None, "application/ld+json; charset=utf-8"),
    "ttl": ("turtle", "text/turtle; charset=utf-8"),
    "rdf": ("pretty-xml", "application/rdf+xml; charset=utf-8"),
}
LITE = "https://lite.datasette.io/"


# --------------------------------------------------------------------------- what the pages say


async def described(datasette) -> dict:
    """Facts of the database and the downloadable files, read once per Datasette instance
    (the database is immutable)."""
    cached = getattr(datasette, "_ciso_catalogue", None)
    if cached is None:
        db = datasette.get_database(DATABASE)
        facts = await db.execute_fn(catalogue.facts)
        files = catalogue.distributions(db.path, f"/{DATABASE}.db", downloads_dir(datasette))
        cached = datasette._ciso_catalogue = {"faits": facts, "fichiers": files}
    return cached


def absolute(datasette, request, address: str | None):
    """Path of the site -> absolute address (``ciso.web.absolute_url``)."""
    return lambda path: absolute_url(datasette, request, address, path)


def page_url(datasette, address: str | None):
    """Path of the site -> address printed in a page: absolute if the public address is known,
    else root-relative (the page's own address completes it)."""
    if address:
        return lambda path: address + path
    return datasette.urls.path


async def structured_data(datasette) -> str:
    """The schema.org Dataset, as JSON safe inside ``<script type="application/ld+json">``."""
    info = await described(datasette)
    facts = info["faits"]
    dataset = catalogue.schema_org(facts, metadata(datasette), info["fichiers"], page_url(datasette, facts["adresse"]))
    return json_for_script(dataset)


def lite_link(address: str | None) -> str | None:
    """« Ouvrir dans Datasette Lite »: only with a known public https address, which Datasette Lite
    (an https page, in the reader's browser) can fetch the database from (CORS: ciso.cors)."""
    if not address or not address.startswith("https://"):
        return None
    return LITE + "?" + urlencode({"url": f"{address}/{DATABASE}.db"})


# --------------------------------------------------------------------------- views


async def sitemap_paths(datasette) -> list[str]:
    db = datasette.get_database(DATABASE)
    paths = []
    for pattern, sql in PAGES:
        if sql is None:
            paths.append(pattern)
            continue
        # Datasette's paths tilde-encode their values (``1.4`` -> ``1~2E4``); ours percent-encode them.
        encode = (lambda v: quote(v, safe="")) if pattern.startswith("/-/") else tilde_encode
        for row in await db.execute(sql):
            paths.append(pattern.format(**{k: encode(str(row[k])) for k in row.keys()}))
    described_tables = tables_metadata(datasette, DATABASE)
    existing = set(await db.table_names()) | set(await db.view_names())
    hidden = set(await db.hidden_table_names())
    paths += [TABLE_PAGE.format(table=tilde_encode(name)) for name in described_tables if name in existing - hidden]
    return paths


async def sitemap(datasette, request):
    if is_staff_site(datasette):
        raise NotFound("Le site de l'équipe n'a pas de plan du site.")
    await check_visible(datasette, request)
    url = absolute(datasette, request, await public_address(datasette))
    root = etree.Element(f"{{{SITEMAP_NS}}}urlset", nsmap={None: SITEMAP_NS})
    for path in await sitemap_paths(datasette):
        etree.SubElement(etree.SubElement(root, f"{{{SITEMAP_NS}}}url"), f"{{{SITEMAP_NS}}}loc").text = url(path)
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return Response(body, content_type="application/xml; charset=utf-8")


async def catalogue_view(datasette, request):
    await check_visible(datasette, request)
    info = await described(datasette)
    facts = info["faits"]
    url = absolute(datasette, request, facts["adresse"])
    document = catalogue.dcat(facts, metadata(datasette), info["fichiers"], url)
    rdf_format, content_type = CATALOGUE_FORMATS[request.url_vars["format"]]
    text = json.dumps(document, ensure_ascii=False, indent=2)
    if rdf_format is not None:
        from rdflib import Graph  # a second and more to import: only when asked

        text = Graph().parse(data=text, format="json-ld").serialize(format=rdf_format)
    return Response(text, content_type=content_type)


async def catalogue_home(datasette, request):
    """The catalogue's own address (its IRI in the description): 303 to its JSON-LD, as linked data does."""
    await check_visible(datasette, request)
    return Response.redirect(datasette.urls.path("/-/catalogue.jsonld"), status=303)


# --------------------------------------------------------------------------- hooks


@hookimpl
def register_routes():
    return [
        (r"^/sitemap\.xml$", sitemap),
        (r"^/-/catalogue$", catalogue_home),
        (r"^/-/catalogue\.(?P<format>jsonld|ttl|rdf)$", catalogue_view),
    ]


@hookimpl
def block_robots_extra_lines(datasette, request):
    if is_staff_site(datasette):
        return []

    async def inner():
        return ["", "Sitemap: " + absolute_url(datasette, request, await public_address(datasette), "/sitemap.xml")]

    return inner


@hookimpl
def extra_template_vars(template, datasette):
    if template not in ("home.html", "downloads.html") or DATABASE not in datasette.databases:
        return None

    async def inner():
        # Read once per Datasette instance (the database is immutable): the home page stays as
        # fast as the progress pages (make bench).
        cached = getattr(datasette, "_ciso_donnees_structurees", None)
        if cached is None:
            address = await public_address(datasette)
            cached = datasette._ciso_donnees_structurees = {
                "donnees_structurees": await structured_data(datasette),
                "datasette_lite": lite_link(address),
                "adresse_publique": address,
            }
        return cached

    return inner
