"""Phones, in Debian's Chromium: no page of the site (tests/pages.py) scrolls sideways at 390 px, and
the transparency overview fits one screen's worth at 1280 px, leading to every section's page."""

from __future__ import annotations

from contextlib import asynccontextmanager

import pytest
import pytest_asyncio
from ciso_site.transparency import SECTIONS
from conftest import new_page
from pages import ERROR_PAGES, PAGE_KINDS, STAFF_PAGE_KINDS, STAFF_PASSWORD, staff_database, staff_server

pytestmark = [pytest.mark.browser, pytest.mark.asyncio]

PHONE = {"width": 390, "height": 844}
# The elements wider than the screen that no box of their own scrolls: what a failure names.
OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth, found = [];
  for (const el of document.querySelectorAll("body *")) {
    if (el.getBoundingClientRect().right <= width + 0.5) continue;
    let boxed = false;
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === "auto" || o === "scroll" || o === "hidden") { boxed = true; break; }
    }
    if (!boxed) found.push(el.tagName.toLowerCase() + (el.className ? "." + String(el.className).split(" ")[0] : ""));
  }
  return found.slice(0, 10);
}"""


@asynccontextmanager
async def on_a_phone(browser):
    """A page in a fresh browser context the size of a phone; closed at the end."""
    context = await browser.new_context(viewport=PHONE, locale="fr-CA", is_mobile=True, has_touch=True)
    try:
        yield await context.new_page()
    finally:
        await context.close()


@pytest_asyncio.fixture(scope="module")
async def phone(browser):
    """A phone's browser context shared by the pages that need no login (a new context costs a
    renderer process); each test opens its own page in it (``new_page``)."""
    context = await browser.new_context(viewport=PHONE, locale="fr-CA", is_mobile=True, has_touch=True)
    yield context
    await context.close()


async def assert_fits(page, url: str):
    await page.goto(url)
    await page.wait_for_load_state("load")
    charts = page.locator(".ciso-graphique")
    for i in range(await charts.count()):  # charts are drawn after load, each then marked ready
        await page.locator(".ciso-graphique").nth(i).and_(page.locator(".ciso-graphique-pret")).wait_for(timeout=15000)
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], (url, width, await page.evaluate(OVERFLOWING))


async def fits_a_phone(phone, url: str):
    """assert_fits on a new page of the phone's browser context."""
    async with new_page(phone) as page:
        await assert_fits(page, url)


@pytest.mark.parametrize("path", [p for _, p in PAGE_KINDS], ids=[k for k, _ in PAGE_KINDS])
async def test_public_page_fits_a_phone(server, phone, path):
    async with new_page(phone) as page:
        await assert_fits(page, server + path)
        if await page.locator(".ciso-graphique").count():
            await page.locator(".ciso-graphique-pret").first.wait_for(timeout=15000)
            assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


@pytest.mark.parametrize(
    "path", [p for _, m, p, _ in ERROR_PAGES if m == "GET"], ids=[k for k, m, _, _ in ERROR_PAGES if m == "GET"]
)
async def test_error_page_fits_a_phone(server, phone, path):
    await fits_a_phone(phone, server + path)


async def test_open_chart_controls_and_the_sql_editor_fit_a_phone(server, phone):
    async with new_page(phone) as page:
        await page.goto(server + "/ciso/statut_activites?_facet=statut")
        await page.locator("button", has_text="Afficher les options de graphique").click()
        await page.locator("form.datasette-vega").wait_for(timeout=10000)
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        chart = "#g.mark=bar&g.x_column=statut_libelle&g.x_type=nominal&g.y_column=ligne&g.y_type=quantitative"
        await page.goto(server + "/ciso/statut_activites" + chart)  # a drawn chart, its legend and axes
        await page.locator(".vega-embed canvas, .vega-embed svg").first.wait_for(timeout=15000)
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        await page.goto(server + "/ciso?sql=" + "select+1+as+" + "+%2C+1+as+".join(f"colonne_{i}" for i in range(40)))
        await page.locator(".CodeMirror").wait_for()
        box = await page.locator(".CodeMirror").bounding_box()
        assert box["x"] + box["width"] <= PHONE["width"]
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


@pytest.fixture(scope="module")
def staff_site(tmp_path_factory):
    with staff_server(staff_database(tmp_path_factory.mktemp("telephones"))) as url:
        yield url


@pytest.mark.parametrize(
    "path", [p for _, p, logged in STAFF_PAGE_KINDS if not logged], ids=[k for k, _, lg in STAFF_PAGE_KINDS if not lg]
)
async def test_staff_page_fits_a_phone(staff_site, phone, path):
    await fits_a_phone(phone, staff_site + path)


async def test_staff_pages_fit_a_phone_once_logged_in(staff_site, browser):
    async with on_a_phone(browser) as page:
        await page.goto(staff_site + "/-/login")
        await page.fill("input[name=username]", "equipe")
        await page.fill("input[name=password]", STAFF_PASSWORD)
        async with page.expect_navigation():
            await page.locator("form.ciso-connexion [type=submit], form [type=submit]").first.click()
        for _, path, logged in STAFF_PAGE_KINDS:
            if logged:
                await assert_fits(page, staff_site + path)
                assert "Connectez-vous" not in await page.locator("body").inner_text(), path


async def test_transparency_overview_fits_one_screen_and_leads_to_every_section(server, browser):
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-CA")
    page = await context.new_page()
    try:
        await page.goto(server + "/-/transparence")
        await page.locator(".ciso-carte.ciso-graphique-pret svg").wait_for(timeout=15000)
        await page.locator(".ciso-graphique-financements.ciso-graphique-pret svg").wait_for(timeout=15000)
        height = await page.evaluate("document.documentElement.scrollHeight")
        assert height <= 2400, height
        hrefs = set(
            await page.eval_on_selector_all("main a[href], .content a[href]", "els => els.map(e => e.pathname)")
        )
        assert {f"/-/transparence/{slug}" for slug in SECTIONS} <= hrefs
    finally:
        await context.close()
