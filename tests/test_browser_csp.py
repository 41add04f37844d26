"""In Chromium, the Content-Security-Policy (no inline script or style; eval only where
datasette-vega may draw) blocks nothing the pages need: no violation, and the charts draw."""

from __future__ import annotations

import pytest
from conftest import settled

PAGES = [
    "/",
    "/ciso",
    "/ciso/activites",
    "/ciso/activites/2020-2021-1-1-1",
    "/ciso?sql=select+numero,+texte+from+activites+limit+5",
    "/ciso/activites_conditionnelles",
    "/-/progres",
    "/-/progres/2020-2021",
    "/-/progres/2020-2021/1",
    "/-/transparence",
    "/-/source/2020-2021",
    "/-/telechargements",
    "/-/recherche?q=haiti",
    "/-/dictionnaire",
    "/-/api",
    "/nexistepas",
]
LISTEN = """window.__violations = [];
document.addEventListener('securitypolicyviolation',
    (e) => window.__violations.push([e.violatedDirective, e.sourceFile, e.sample]));"""


@pytest.mark.browser
@pytest.mark.asyncio
@pytest.mark.parametrize("path", PAGES)
async def test_the_policy_blocks_nothing(server, page, path):
    await page.add_init_script(LISTEN)
    await page.goto(server + path)
    await settled(page)
    if path.startswith(("/-/progres", "/-/transparence")) and path != "/-/progres/2020-2021/1":
        await page.locator(".ciso-graphique-pret svg").first.wait_for(timeout=15000)
    if path == "/ciso":
        await page.locator(".CodeMirror").wait_for()  # the SQL editor, with its resize handle
    assert await page.evaluate("window.__violations") == []
    assert [e for e in page.console_errors if "Content Security Policy" in e] == []


@pytest.mark.browser
@pytest.mark.asyncio
async def test_datasette_vega_controls_open_under_the_policy(server, page):
    await page.add_init_script(LISTEN)
    await page.goto(server + "/ciso/activites")
    await page.get_by_text("Afficher les options de graphique").click()
    await page.locator("select[name=x_column]").wait_for()
    assert await page.evaluate("window.__violations") == []
    assert page.console_errors == []
