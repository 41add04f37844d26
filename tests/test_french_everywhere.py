"""French everywhere, by test: no English word on any kind of page (tests/pages.py) — public and staff
sites, error pages and their JSON, page titles, datasette-vega's chart controls once opened.

A visitor reads text nodes, <title>, and the attributes a browser shows (title, alt, placeholder,
aria-label, button values); code names stay allowed inside <code>, <pre>, <textarea> (SQL) and any
element marked lang="en" (an English name or quotation, announced as such).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx
import pytest
import pytest_asyncio
from ciso.site import PASSWORD_ENV, SECRET_ENV, datasette_kwargs
from datasette.app import Datasette
from pages import ERROR_PAGES, PAGE_KINDS, STAFF_PAGE_KINDS, STAFF_PASSWORD, staff_database, staff_environment

# Whole words (case-sensitive) and phrases of Datasette's, its plugins' and the browser libraries' English.
# Not here: words French shares (table, type, source, date, description, page, message, total, action…).
ENGLISH = [
    "Link", "Links", "Numeric", "binned", "Date/time", "Label", "Category", "rows", "row", "sorted by",
    "view-instance", "view-database", "view-table", "view-query", "execute-sql", "database", "Database",
    "Database not found", "Table not found", "Record not found", "Forbidden", "Not found", "Not Found", "Error",
    "Next page", "Load", "Loading", "Facet", "Facets", "facet", "Apply", "Show", "Hide", "columns", "column",
    "Export", "Advanced", "advanced", "Download", "Search", "Sort", "descending", "ascending", "Submit", "Query",
    "Queries", "Views", "hidden", "Home", "home", "Powered", "License", "About", "records", "results", "Log",
    "Login", "Logout", "Username", "Password", "Charting", "Swap", "none", "Save", "Run", "Format", "Bar", "Line",
    "Scatter", "Color", "Size", "Method", "allowed", "Internal", "Server", "Bad Request", "Invalid", "Permission",
    "denied", "Interrupted", "took", "the", "with", "this", "your", "You", "Edit", "View", "Count", "of records",
    "Clear", "Filter", "Remove", "filters", "Suggested", "shape", "expand", "labels", "stream",
]  # fmt: skip
ENGLISH_RE = re.compile(r"(?<![\w/-])(" + "|".join(re.escape(w) for w in ENGLISH) + r")(?![\w/-])")
SKIPPED = {"script", "style", "code", "pre", "textarea", "template", "svg"}
SHOWN_ATTRIBUTES = ("title", "alt", "placeholder", "aria-label")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class VisibleText(HTMLParser):
    """What a visitor reads: text outside code and English-marked elements, and the shown attributes."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.stack: list[bool] = []  # per open element: whether its content is exempt

    def exempt(self) -> bool:
        return bool(self.stack) and self.stack[-1]

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        exempt = self.exempt() or tag in SKIPPED or (attrs.get("lang") or "").startswith("en")
        if not exempt:
            self.parts += [attrs[a] for a in SHOWN_ATTRIBUTES if attrs.get(a)]
            if tag in ("input", "button") and attrs.get("type") in ("submit", "button") and attrs.get("value"):
                self.parts.append(attrs["value"])
        if tag not in VOID:
            self.stack.append(exempt)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag not in VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if not self.exempt():
            self.parts.append(data)


def visible_text(page: str) -> str:
    parser = VisibleText()
    parser.feed(page)
    return " ".join(parser.parts)


def english_in(text: str) -> list[str]:
    return sorted(set(ENGLISH_RE.findall(text)))


def test_the_scan_finds_english_and_spares_code():
    page = (
        "<html><head><title>Link — CISO</title></head><body><p>60 activités <code>rows</code></p>"
        '<em lang="en">Labor for Palestine, the network</em><input type="submit" value="Apply">'
        '<a title="Next page">suivante</a><pre>select * from database</pre></body></html>'
    )
    assert english_in(visible_text(page)) == ["Apply", "Link", "Next page"]
    assert english_in("Exporter la table ; « Renforcer » ; colonnes ; libellé ; Catégorie") == []


def title_of(page: str) -> str:
    found = re.search(r"(?s)<title>(.*?)</title>", page)
    assert found, "no <title>"
    return found[1].strip()


@pytest.mark.asyncio
@pytest.mark.parametrize("path", [p for _, p in PAGE_KINDS], ids=[k for k, _ in PAGE_KINDS])
async def test_public_page_is_in_french(ds, path):
    response = await ds.client.get(path)
    assert response.status_code == 200, path
    assert '<html lang="fr">' in response.text
    assert english_in(visible_text(response.text)) == [], path
    assert len(title_of(response.text)) <= 140  # a title, not a page of SQL


@pytest.mark.asyncio
@pytest.mark.parametrize("method,path,status", [e[1:] for e in ERROR_PAGES], ids=[e[0] for e in ERROR_PAGES])
async def test_error_page_and_its_json_are_in_french(ds, method, path, status):
    response = await ds.client.request(method, path)
    assert response.status_code == status, path
    assert english_in(visible_text(response.text)) == [], path
    if method != "GET":
        return
    base, _, query = path.partition("?")
    if base.endswith("/ciso") or base.count("/") >= 2:  # a JSON twin: /x.json, /ciso.json?sql=…
        answer = await ds.client.get(f"{base}.json" + (f"?{query}" if query else ""))
        assert answer.status_code == status, base
        data = answer.json()
        assert data["ok"] is False and english_in(f"{data.get('title') or ''} {data['error']}") == [], data


@pytest.mark.asyncio
async def test_a_404_says_what_was_not_found(ds):
    for path in ("/-/nexistepas", "/nexistepas"):
        page = (await ds.client.get(path)).text
        assert f"Aucune page à l'adresse {path}." in visible_text(page)
        assert "base de données" not in visible_text(page)
    data = (await ds.client.get("/nexistepas.json")).json()
    assert data["error"] == "Aucune page à l'adresse /nexistepas.json."


@pytest.mark.asyncio
async def test_a_canned_query_is_titled_in_french(ds):
    from ciso.site import load_metadata

    queries = load_metadata()["databases"]["ciso"]["queries"]
    for name, query in queries.items():
        page = (await ds.client.get(f"/ciso/{name}")).text
        assert title_of(page) == f"{query['title']} — CISO".replace("'", "&#39;"), name


# --- the staff site ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def staff_env():
    mp = pytest.MonkeyPatch()
    for name, value in staff_environment().items():
        mp.setenv(name, value)
    assert {PASSWORD_ENV, SECRET_ENV} <= set(staff_environment())
    yield
    mp.undo()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def staff(tmp_path_factory, staff_env):
    ds = Datasette(
        immutables=[str(staff_database(tmp_path_factory.mktemp("francais")))], **datasette_kwargs(staff=True)
    )
    await ds.invoke_startup()
    return ds


def staff_client(ds) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=ds.app()), base_url="http://localhost")


async def staff_cookie(ds) -> str:
    """The ds_actor cookie of a login through the staff site's form."""
    async with staff_client(ds) as c:
        form = await c.get("/-/login")
        token = re.search(r'name="csrftoken" value="([^"]+)"', form.text)[1]
        answer = await c.post(
            "/-/login",
            data={"username": "equipe", "password": STAFF_PASSWORD, "csrftoken": token},
            headers={"cookie": f"ds_csrftoken={form.cookies['ds_csrftoken']}", "Origin": "http://localhost"},
        )
    cookie = answer.cookies.get("ds_actor")
    assert cookie, answer.text
    return cookie


@pytest.mark.asyncio(loop_scope="session")
async def test_staff_pages_are_in_french(staff):
    cookie = await staff_cookie(staff)
    async with staff_client(staff) as c:
        for kind, path, logged in STAFF_PAGE_KINDS:
            response = await c.get(path, headers={"cookie": f"ds_actor={cookie}"} if logged else {})
            assert response.status_code == (200 if logged or path == "/-/login" else 403), kind
            text = visible_text(response.text)
            assert english_in(text) == [], kind
            if response.status_code == 403:
                assert "<title>Accès refusé</title>" in response.text and "Connectez-vous" in text, kind
            assert "view-" not in response.text, kind  # a permission's name, Datasette's 403 message
        for path in ("/ciso/activites.json", "/ciso.db"):  # Datasette's own 403s: view-table, view-database-download
            denied = await c.get(path)
            assert denied.status_code == 403 and "view-" not in denied.text and "Forbidden" not in denied.text, path
            assert english_in(visible_text(denied.text)) == [], path
        hidden = await c.get("/-/versions")  # a 404 names the address
        assert "Aucune page à l'adresse /-/versions." in visible_text(hidden.text)


# --- in the browser: what scripts write -------------------------------------------------------------

VISIBLE_IN_BROWSER = """() => {
  const parts = [document.title];
  const walk = (node) => {
    if (node.nodeType === 3) { parts.push(node.nodeValue); return; }
    if (node.nodeType !== 1) return;
    const tag = node.tagName.toLowerCase();
    if (["script", "style", "code", "pre", "textarea", "template"].includes(tag)) return;
    if ((node.getAttribute("lang") || "").startsWith("en")) return;
    const read = !node.closest("[aria-hidden=true]");  // what a screen reader skips, only its text is seen
    for (const a of ["title", "alt", "placeholder", "aria-label"]) if (read && node.getAttribute(a)) parts.push(node.getAttribute(a));
    if (tag === "option" || tag === "button") parts.push(node.textContent);
    node.childNodes.forEach(walk);
  };
  walk(document.body);
  return parts.join(" ");
}"""


@pytest.mark.browser
@pytest.mark.asyncio
async def test_chart_controls_are_in_french(server, page):
    await page.goto(server + "/ciso/statut_activites?_facet=statut")
    await page.locator("button", has_text="Afficher les options de graphique").click()
    form = page.locator("form.datasette-vega")
    await form.wait_for(timeout=10000)
    options = await form.locator("select[name=x_type] option").all_inner_texts()
    assert options == [
        "Nombre",
        "Nombre, par classes",
        "Date et heure",
        "Date et heure, par classes",
        "Libellé",
        "Catégorie",
    ]
    assert english_in(await page.evaluate(VISIBLE_IN_BROWSER)) == []


@pytest.mark.browser
@pytest.mark.asyncio
async def test_a_drawn_chart_and_its_controls_are_in_french(server, page):
    chart = "#g.mark=bar&g.x_column=statut_libelle&g.x_type=nominal&g.y_column=ligne&g.y_type=quantitative"
    await page.goto(server + "/ciso/statut_activites" + chart)
    await page.locator(".vega-embed canvas, .vega-embed svg").first.wait_for(timeout=15000)
    assert english_in(await page.evaluate(VISIBLE_IN_BROWSER)) == []


@pytest.mark.browser
@pytest.mark.asyncio
@pytest.mark.parametrize("path", ["/-/transparence", "/-/progres/2020-2021", "/ciso/avancement_objectifs"])
async def test_pages_with_scripts_are_in_french_once_drawn(server, page, path):
    await page.goto(server + path)
    await page.wait_for_load_state("load")
    if await page.locator(".ciso-graphique").count():
        await page.locator(".ciso-graphique-pret").first.wait_for(timeout=15000)
    assert english_in(await page.evaluate(VISIBLE_IN_BROWSER)) == [], path
