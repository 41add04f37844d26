"""Accessibility: axe-core finds no serious or critical violation on the main kinds of page."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_asyncio
from ciso_site.transparency import SECTIONS
from conftest import new_page, settled
from test_public_pages import PUBLIC_PAGES

pytestmark = [pytest.mark.browser, pytest.mark.asyncio]

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
PAGES = [
    "/",
    "/ciso",
    "/ciso/activites",
    "/ciso/activites/2020-2021-2-1-2",
    "/-/recherche?q=securite",
    "/-/progres",
    "/-/progres/2020-2021/2",
    "/-/transparence",
    *(f"/-/transparence/{slug}" for slug in SECTIONS),
    "/ciso/statut_activites?_facet=statut",
    "/-/source/2020-2021",
    "/-/telechargements",
    "/-/dictionnaire",
    "/-/api",
    *PUBLIC_PAGES,  # the pages of elements, countries, regions, organisations; search hits and suggestions
]


@pytest_asyncio.fixture(scope="module")
async def axe_context(browser):
    # axe is injected as a script: the page's own Content-Security-Policy would (rightly) refuse it.
    context = await browser.new_context(bypass_csp=True, locale="fr-CA")
    yield context
    await context.close()


@pytest_asyncio.fixture
async def axe_page(axe_context):
    async with new_page(axe_context) as page:
        yield page


@pytest.mark.parametrize("path", PAGES)
async def test_no_serious_or_critical_violation(server, axe_page, path):
    await axe_page.goto(server + path)
    await settled(axe_page)
    await axe_page.add_script_tag(path=str(AXE))
    results = await axe_page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == [], path
