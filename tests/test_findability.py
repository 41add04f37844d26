"""Findable and reusable (plugins/findability.py, ciso/catalogue.py, ciso/cors.py): robots.txt and the
sitemap, the schema.org Dataset of the home and downloads pages, the DCAT-AP catalogue, the data
package's catalogue fields, CORS on the public data answers (never on the staff site), and
absolute addresses under the configured public address once it is known.

Every expected value is read from the database or the export the build wrote, never counted by hand.
"""

from __future__ import annotations

import html
import json
import re
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urljoin

import pytest
import pytest_asyncio
from ciso.build import build
from ciso.iati import ENV_SITE, PLACEHOLDER_SITE
from ciso.site import ROLLUP_DOWNLOADS, SPREADSHEETS, datasette_kwargs, load_metadata
from conftest import DATA, free_port, rows, settled
from datasette.app import Datasette
from lxml import etree
from protego import Protego
from rdflib import RDF, Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from test_caching import staff, staff_cookies, staff_db  # noqa: F401 (the staff site's fixtures)
from test_french_pages import assert_no_english

in_session = pytest.mark.asyncio(loop_scope="session")

BASE = "http://localhost"  # the address Datasette's test client asks under
ADDRESS = "https://donnees.example.org"  # a public address set at build time (example.org: reserved for examples)
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCT = Namespace("http://purl.org/dc/terms/")
SPDX = Namespace("http://spdx.org/rdf/terms#")
# Endless or costly addresses that no crawler should follow.
COSTLY = [
    "/ciso?sql=select+*+from+activites",
    "/ciso/activites?_facet=objectif_id",
    "/ciso/activites?_facet_array=pays&objectif_id=2020-2021-1",
    "/ciso/activites?objectif_id=2020-2021-1&pays__arraycontains=HT",
    "/ciso/activites.csv?_stream=on",
    "/ciso/statut_activites.csv?_stream=on&_dl=1",
    "/ciso/activites?_sort=ligne",
    "/ciso/activites?_sort_desc=ligne",
    "/ciso/activites?_search=securite",
    "/ciso/activites?_next=20",
    "/ciso/activites.json?_shape=array",
    "/ciso/activites.json",
    "/ciso/activites_par_pays?pays=HT",
    "/ciso.json?sql=select+1",
    "/-/recherche?q=haiti",
    "/-/recherche.json?q=haiti",
    "/-/progres.json",
    "/-/dictionnaire.csv",
]
# What readers and harvesters need, and crawlers may fetch.
READABLE = [
    "/-/catalogue.jsonld",
    "/-/catalogue.ttl",
    "/-/suivi.atom",
    "/telechargements/datapackage.json",
    "/telechargements/csv/activites.csv",
    "/ciso.db",
]


def structured_data(page: str) -> dict:
    found = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert len(found) == 1
    return json.loads(found[0])


def robots(text: str) -> Protego:
    return Protego.parse(text)


async def sitemap_urls(ds) -> list[str]:
    response = await ds.client.get("/sitemap.xml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    root = etree.fromstring(response.content)
    assert root.tag == f"{SITEMAP}urlset"
    return [loc.text for loc in root.iter(f"{SITEMAP}loc")]


# --------------------------------------------------------------------------- robots.txt and the sitemap


@in_session
async def test_robots_points_to_the_sitemap_and_keeps_crawlers_off_costly_addresses(ds):
    response = await ds.client.get("/robots.txt")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    parser = robots(response.text)
    assert list(parser.sitemaps) == [f"{BASE}/sitemap.xml"]
    for path in COSTLY:
        assert not parser.can_fetch(BASE + path, "Googlebot"), path
        assert not parser.can_fetch(BASE + path, "*"), path
    for url in await sitemap_urls(ds):
        assert parser.can_fetch(url, "Googlebot"), url
    for path in READABLE:
        assert parser.can_fetch(BASE + path, "Googlebot"), path


@in_session
async def test_the_sitemap_lists_every_public_page_and_each_answers(ds, built):
    urls = await sitemap_urls(ds)
    assert len(urls) == len(set(urls))
    assert all(u.startswith(BASE + "/") for u in urls)
    paths = [u.removeprefix(BASE) for u in urls]
    expected = ["/", "/-/progres", "/-/transparence", "/-/telechargements", "/-/dictionnaire", "/-/api", "/-/recherche"]
    expected += [f"/-/progres/{p['id']}" for p in rows(built, "select id from plans")]
    expected += [f"/-/source/{p['id']}" for p in rows(built, "select id from plans")]
    expected += [
        f"/-/progres/{o['plan_id']}/{o['numero']}" for o in rows(built, "select plan_id, numero from objectifs")
    ]
    # The pages of every action and activity, country, region and organisation, instead of their row pages.
    for table in ("actions", "activites"):
        expected += [f"/-/progres/{r['plan_id']}/{r['numero']}" for r in rows(built, f"select * from {table}")]
    expected += ["/-/pays", "/-/organisations"]
    expected += [f"/-/pays/{r['id']}" for r in rows(built, "select id from pays")]
    expected += [f"/-/regions/{r['id']}" for r in rows(built, "select id from regions")]
    expected += [f"/-/organisations/{r['id']}" for r in rows(built, "select id from organisations")]
    for table in ("plans", "instruments", "themes"):
        expected += [f"/ciso/{table}/{r['id']}" for r in rows(built, f"select id from {table}")]  # row pages
    described = load_metadata()["databases"]["ciso"]["tables"]
    tables = {r["name"] for r in rows(built, "select name from sqlite_master where type in ('table', 'view')")}
    expected += [f"/ciso/{t}" for t in described if t in tables]
    assert sorted(set(expected) - set(paths)) == []
    assert {"/ciso/activites", "/ciso/objectifs", "/ciso/organisations", "/ciso/pays", "/ciso/suivi"} <= set(paths)
    for path in paths:
        response = await ds.client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html"), path


# --------------------------------------------------------------------------- schema.org Dataset


@in_session
async def test_home_and_downloads_describe_the_dataset_for_search_engines(ds, built):
    home = structured_data((await ds.client.get("/")).text)
    downloads = structured_data((await ds.client.get("/-/telechargements")).text)
    assert home == downloads
    dataset = home
    assert dataset["@context"] == "https://schema.org" and dataset["@type"] == "Dataset"
    # Google's Dataset rules: required name and description (50 to 5000 characters).
    metadata = load_metadata()
    assert dataset["name"] == metadata["title"]
    assert 50 <= len(dataset["description"]) <= 5000 and "CISO" in dataset["description"]
    # Recommended: licence, creator, keywords, coverage, version, distributions…
    assert dataset["license"] == metadata["license_url"]
    assert dataset["isAccessibleForFree"] is True and dataset["inLanguage"] == "fr"
    ciso = rows(built, "select nom, sigle from organisations where id = 'ciso'")[0]
    assert dataset["creator"] == {"@type": "Organization", "name": f"{ciso['nom']} ({ciso['sigle']})"}
    themes = [r["nom"] for r in rows(built, "select nom from themes")]
    assert set(themes) <= set(dataset["keywords"])
    assert set(metadata["catalogue"]["mots_cles"]) <= set(dataset["keywords"])
    period = rows(built, "select min(debut) as debut, max(fin) as fin from periodes")[0]
    assert dataset["temporalCoverage"] == f"{period['debut']}/{period['fin']}"
    countries = rows(built, "select id, nom from pays where relation in ('partenaires', 'siege')")
    assert sorted((c["identifier"], c["name"]) for c in dataset["spatialCoverage"]) == sorted(
        (c["id"], c["nom"]) for c in countries
    )
    assert all(c["@type"] == "Country" for c in dataset["spatialCoverage"])
    mentioned = {r["nom"] for r in rows(built, "select nom from pays where relation = 'mention'")}
    assert not mentioned & {c["name"] for c in dataset["spatialCoverage"]}
    built_row = dict((r["cle"], r["valeur"]) for r in rows(built, "select cle, valeur from construction"))
    assert dataset["version"] == built_row["version"] and dataset["dateModified"] == built_row["date"]
    plans = rows(built, "select plan_id, sha256 from sources where type = 'plan'")
    assert sorted(b["identifier"]["value"] for b in dataset["isBasedOn"]) == sorted(p["sha256"] for p in plans)
    # No public address is configured: addresses are relative to the page, never the placeholder.
    assert PLACEHOLDER_SITE not in json.dumps(dataset)
    assert dataset["url"] == "/"


@in_session
async def test_every_distribution_answers_with_its_format(ds, built):
    dataset = structured_data((await ds.client.get("/-/telechargements")).text)
    distributions = dataset["distribution"]
    package = json.loads((built.parent / "export" / "datapackage.json").read_text(encoding="utf-8"))
    expected = {"/ciso.db", "/telechargements/ciso-donnees.zip", "/telechargements/datapackage.json"}
    expected |= {"/telechargements/iati-activities.xml"}
    expected |= {f"/telechargements/{r['path']}" for r in package["resources"]}
    expected |= {f"/telechargements/{name}" for name in SPREADSHEETS}
    expected |= {f"/telechargements/csv/{name}.csv" for name in ROLLUP_DOWNLOADS}
    assert {d["contentUrl"] for d in distributions} == expected
    for d in distributions:
        assert d["@type"] == "DataDownload" and d["name"] and d["encodingFormat"]
        response = await ds.client.get(urljoin(BASE + "/-/telechargements", d["contentUrl"]).removeprefix(BASE))
        assert response.status_code == 200, d["contentUrl"]
        media = response.headers["content-type"].split(";")[0]
        assert media == d["encodingFormat"] or (media == "application/octet-stream" and d["contentUrl"].endswith(".db"))
        assert d["contentSize"] == f"{len(response.content)} o", d["contentUrl"]


# --------------------------------------------------------------------------- DCAT-AP


async def catalogue_graph(ds, suffix: str = "jsonld", rdf_format: str = "json-ld") -> Graph:
    response = await ds.client.get(f"/-/catalogue.{suffix}")
    assert response.status_code == 200
    return Graph().parse(data=response.text, format=rdf_format)


@in_session
async def test_the_dcat_catalogue_parses_and_names_every_distribution(ds, built):
    graph = await catalogue_graph(ds)
    catalogues = list(graph.subjects(RDF.type, DCAT.Catalog))
    datasets = list(graph.subjects(RDF.type, DCAT.Dataset))
    assert len(catalogues) == 1 and len(datasets) == 1
    catalogue, dataset = catalogues[0], datasets[0]
    assert str(catalogue) == f"{BASE}/-/catalogue"
    follow = await ds.client.get("/-/catalogue")  # the catalogue's IRI leads to its description
    assert follow.status_code == 303 and follow.headers["location"] == "/-/catalogue.jsonld"
    assert (catalogue, DCAT.dataset, dataset) in graph
    assert graph.value(dataset, DCT.title) == Literal(load_metadata()["title"], lang="fr")
    assert graph.value(dataset, DCAT.landingPage) == URIRef(BASE + "/")
    publisher = graph.value(dataset, DCT.publisher)
    ciso = rows(built, "select nom from organisations where id = 'ciso'")[0]["nom"]
    assert ciso in str(graph.value(publisher, URIRef("http://xmlns.com/foaf/0.1/name")))
    temporal = graph.value(dataset, DCT.temporal)
    period = rows(built, "select min(debut) as debut, max(fin) as fin from periodes")[0]
    assert str(graph.value(temporal, DCAT.startDate)) == period["debut"]
    assert str(graph.value(temporal, DCAT.endDate)) == period["fin"]
    # Every file of the schema.org description is a distribution, with its download address and licence.
    schema = structured_data((await ds.client.get("/")).text)
    downloads = {urljoin(BASE + "/", d["contentUrl"]) for d in schema["distribution"]}
    distributions = list(graph.objects(dataset, DCAT.distribution))
    assert {str(graph.value(d, DCAT.downloadURL)) for d in distributions} == downloads
    licence = URIRef(load_metadata()["license_url"])
    package = json.loads((built.parent / "export" / "datapackage.json").read_text(encoding="utf-8"))
    hashes = {f"{BASE}/telechargements/{r['path']}": r["hash"].removeprefix("sha256:") for r in package["resources"]}
    for d in distributions:
        assert (d, RDF.type, DCAT.Distribution) in graph
        assert graph.value(d, DCAT.accessURL) == graph.value(d, DCAT.downloadURL)
        assert str(graph.value(d, DCAT.mediaType)).startswith("http://www.iana.org/assignments/media-types/")
        assert graph.value(d, DCT.license) == licence
        url = str(graph.value(d, DCAT.downloadURL))
        if url in hashes:
            checksum = graph.value(d, SPDX.checksum)
            assert str(graph.value(checksum, SPDX.checksumValue)) == hashes[url]


@in_session
async def test_turtle_and_rdf_xml_say_the_same(ds):
    reference = await catalogue_graph(ds)
    assert isomorphic(reference, await catalogue_graph(ds, "ttl", "turtle"))
    assert isomorphic(reference, await catalogue_graph(ds, "rdf", "xml"))
    for suffix, media in (("jsonld", "application/ld+json"), ("ttl", "text/turtle"), ("rdf", "application/rdf+xml")):
        assert (await ds.client.get(f"/-/catalogue.{suffix}")).headers["content-type"].startswith(media)


# --------------------------------------------------------------------------- the data package


def test_the_data_package_has_keywords_contributors_by_role_homepage_and_version(built):
    package = json.loads((built.parent / "export" / "datapackage.json").read_text(encoding="utf-8"))
    themes = {r["nom"] for r in rows(built, "select nom from themes")}
    assert themes <= set(package["keywords"]) and "CISO" in package["keywords"]
    ciso = rows(built, "select nom, sigle from organisations where id = 'ciso'")[0]
    roles = {r["par"] for r in rows(built, "select distinct par from suivi where source = 'mise_a_jour' and par != ''")}
    # Contributors are CISO itself and the roles that recorded progress updates, never a person's name.
    assert package["contributors"][0] == {
        "title": f"{ciso['nom']} ({ciso['sigle']})",
        "roles": ["creator", "publisher"],
    }
    assert {c["title"] for c in package["contributors"][1:]} == roles
    assert all(c["roles"] for c in package["contributors"])
    assert package["homepage"] == PLACEHOLDER_SITE + "/"  # no public address in data/: the IATI file's placeholder
    assert package["version"] == rows(built, "select valeur from construction where cle = 'version'")[0]["valeur"]


# --------------------------------------------------------------------------- CORS


CORS_PATHS = [
    "/ciso.db",
    "/ciso/activites.json?_shape=array",
    "/ciso/activites.csv",
    "/ciso.json?sql=select+1",
    "/-/progres.json",
    "/telechargements/csv/activites.csv",
    "/telechargements/ciso-donnees.zip",
    "/telechargements/datapackage.json",
    "/-/catalogue.jsonld",
    "/-/suivi.atom",
    "/sitemap.xml",
]


@in_session
async def test_public_data_answers_may_be_read_by_other_sites(ds):
    for path in CORS_PATHS:
        response = await ds.client.get(path, headers={"Origin": "https://observablehq.com"})
        assert response.status_code == 200, path
        assert response.headers["access-control-allow-origin"] == "*", path
        assert "access-control-allow-credentials" not in response.headers, path
    for path in ("/", "/-/progres", "/ciso/activites"):  # pages, not data
        assert "access-control-allow-origin" not in (await ds.client.get(path)).headers, path
    # A revalidated copy (304) keeps the header.
    first = await ds.client.get("/ciso/activites.json")
    again = await ds.client.get("/ciso/activites.json", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.headers["access-control-allow-origin"] == "*"


@in_session
async def test_preflight_allows_reading_and_nothing_more(ds):
    asked = {"Origin": "https://observablehq.com", "Access-Control-Request-Method": "GET"}
    response = await ds.client.options("/ciso/activites.json", headers=asked)
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["access-control-allow-methods"] == "GET, HEAD, OPTIONS"
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"
    # The gate still refuses anything else, in French.
    refused = await ds.client.request("DELETE", "/ciso/activites.json", headers={"Origin": "https://observablehq.com"})
    assert refused.status_code == 405 and "n'est pas permise" in refused.json()["error"]


# --------------------------------------------------------------------------- the staff site


@in_session
async def test_the_staff_site_is_shut_to_crawlers_and_to_other_sites(staff):  # noqa: F811 (fixture)
    robots_txt = await staff.client.get("/robots.txt")
    assert robots_txt.status_code == 200
    assert robots_txt.text.split() == ["User-agent:", "*", "Disallow:", "/"]
    assert not robots(robots_txt.text).can_fetch(BASE + "/", "Googlebot")
    assert (await staff.client.get("/sitemap.xml")).status_code == 404
    cookies = await staff_cookies(staff)
    for path in ("/ciso.db", "/ciso/activites.json", "/ciso/activites.csv", "/-/suivi.atom", "/-/catalogue.jsonld"):
        for response in (
            await staff.client.get(path, cookies=cookies, headers={"Origin": "https://observablehq.com"}),
            await staff.client.get(path, headers={"Origin": "https://observablehq.com"}),
            await staff.client.options(path, headers={"Origin": "https://observablehq.com"}),
        ):
            assert not any(k.lower().startswith("access-control-") for k in response.headers), path
    assert (await staff.client.get("/ciso/activites.json", cookies=cookies)).status_code == 200


# --------------------------------------------------------------------------- the public address, once known


@pytest.fixture(scope="module")
def addressed_db(tmp_path_factory):
    """The real sources built with a public address (CISO_IATI_ADRESSE_SITE, as the README says)."""
    mp = pytest.MonkeyPatch()
    mp.setenv(ENV_SITE, ADDRESS + "/")
    try:
        db = tmp_path_factory.mktemp("findability-address") / "ciso.db"
        build(DATA, db, export_dir=db.parent / "export")
    finally:
        mp.undo()
    return db


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def addressed(addressed_db):
    ds = Datasette(immutables=[str(addressed_db)], **datasette_kwargs(export_dir=addressed_db.parent / "export"))
    await ds.invoke_startup()
    return ds


@in_session
async def test_with_a_public_address_every_document_uses_it(addressed, addressed_db):
    robots_txt = (await addressed.client.get("/robots.txt")).text
    assert list(robots(robots_txt).sitemaps) == [f"{ADDRESS}/sitemap.xml"]
    urls = await sitemap_urls(addressed)
    assert urls and all(u.startswith(ADDRESS + "/") for u in urls)
    dataset = structured_data((await addressed.client.get("/")).text)
    assert dataset["url"] == ADDRESS + "/"
    assert all(d["contentUrl"].startswith(ADDRESS + "/") for d in dataset["distribution"])
    graph = await catalogue_graph(addressed)
    assert all(str(s).startswith(ADDRESS + "/") for s in graph.subjects(RDF.type, DCAT.Distribution))
    feed = etree.fromstring((await addressed.client.get("/-/suivi.atom")).content)
    links = [
        link.get("href") for link in feed.iter("{http://www.w3.org/2005/Atom}link") if link.get("rel") != "related"
    ]
    assert links and all(h.startswith(ADDRESS + "/") for h in links)
    package = json.loads((addressed_db.parent / "export" / "datapackage.json").read_text(encoding="utf-8"))
    assert package["homepage"] == ADDRESS + "/"


@in_session
async def test_datasette_lite_link_only_with_a_public_https_address(addressed, ds):
    page = (await addressed.client.get("/-/telechargements")).text
    assert_no_english(page)
    link = re.search(r'<a href="(https://lite\.datasette\.io/[^"]+)">Ouvrir dans Datasette Lite</a>', page)
    assert (
        link and html.unescape(link[1]) == "https://lite.datasette.io/?url=https%3A%2F%2Fdonnees.example.org%2Fciso.db"
    )
    unknown = (await ds.client.get("/-/telechargements")).text
    assert "lite.datasette.io/?url" not in unknown
    assert "apparaîtra ici quand l'adresse publique du site" in unknown


# --------------------------------------------------------------------------- in a browser


@contextmanager
def another_site():
    """A page of another origin on 127.0.0.1 (another port, no CSP): loopback like the site, so
    Chromium's local network protection does not stand in for CORS."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"<!DOCTYPE html><html lang='fr'><title>Autre site</title></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), Page)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.browser
@in_session
async def test_structured_data_breaks_no_policy_and_other_sites_can_fetch_data(server, browser):
    """In Chromium: the JSON-LD block parses and violates no Content-Security-Policy; a page of another
    origin can fetch the JSON and the database, and not an HTML page (no CORS header there)."""
    context = await browser.new_context(locale="fr-CA")
    page = await context.new_page()
    await page.add_init_script(
        "window.__violations = []; document.addEventListener('securitypolicyviolation', "
        "(e) => window.__violations.push(e.violatedDirective));"
    )
    try:
        for path in ("/", "/-/telechargements"):
            await page.goto(server + path)
            await settled(page)
            kind = await page.evaluate(
                "JSON.parse(document.querySelector('script[type=\"application/ld+json\"]').textContent)['@type']"
            )
            assert kind == "Dataset"
            assert await page.evaluate("window.__violations") == []
        count = len(await (await page.request.get(server + "/ciso/activites.json?_shape=array")).json())
        with another_site() as other:
            await page.goto(other)
            fetched = await page.evaluate(
                """async (base) => {
                    const rows = await (await fetch(base + '/ciso/activites.json?_shape=array')).json();
                    const db = new Uint8Array(await (await fetch(base + '/ciso.db')).arrayBuffer());
                    let html = 'lu';
                    try { await fetch(base + '/-/progres'); } catch (e) { html = 'refusé'; }
                    return [rows.length, String.fromCharCode(...db.slice(0, 15)), html];
                }""",
                server,
            )
        assert fetched == [count, "SQLite format 3", "refusé"]
    finally:
        await context.close()


def test_readme_documents_the_addresses_and_the_choices():
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    for needed in ("/robots.txt", "/sitemap.xml", "/-/catalogue.jsonld", "/-/suivi.atom", "Datasette Lite", "CORS"):
        assert needed in readme, needed
