"""Browser smoke test: the published site in Debian's Chromium."""

from __future__ import annotations

import asyncio

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.asyncio]


async def test_table_page_in_chromium(server, page):
    await page.goto(server + "/ciso/activites?_search=securite")
    assert await page.locator("html").get_attribute("lang") == "fr"
    table = await page.locator("table.rows-and-columns").inner_text()
    assert "sécurité" in table.lower()
    assert "Licence" in await page.locator("footer").inner_text()
    assert page.console_errors == []


JS_BUDGET = 50_000  # bytes of JavaScript on the wire (compressed) before the chart controls are opened


async def test_table_page_is_light_until_the_chart_controls_are_opened(server, first_visit):
    page = first_visit  # what a first visit downloads: nothing in the browser's cache
    pending = []

    async def describe(response):
        sizes = await response.request.sizes()
        return response.url, sizes["responseBodySize"], response.headers.get("content-encoding")

    def record(response):
        if response.request.resource_type == "script":
            pending.append(asyncio.ensure_future(describe(response)))

    page.on("response", record)
    await page.goto(server + "/ciso/activites")  # returns at "load": every script of the page received
    on_load = list(await asyncio.gather(*pending))
    assert any("/-/static/table.js" in url for url, _, _ in on_load)  # the count is real: Datasette's own script
    assert not any("datasette_vega" in url for url, _, _ in on_load)
    assert {encoding for _, _, encoding in on_load} == {"gzip"}
    total = sum(size for _, size, _ in on_load)
    assert 0 < total < JS_BUDGET, on_load
    assert await page.locator("form.datasette-vega").count() == 0

    await page.get_by_role("button", name="Afficher les options de graphique").click()
    await page.locator("form.datasette-vega select[name=x_column]").wait_for(timeout=15000)
    bundle = [(url, size) for url, size, _ in await asyncio.gather(*pending) if "datasette_vega" in url]
    assert len(bundle) == 1 and bundle[0][1] > JS_BUDGET  # the bundle came now, compressed
    assert await page.locator("link[rel=stylesheet][href*=datasette_vega]").count() == 1
    assert "Colonne X" in await page.locator("form.datasette-vega").inner_text()
    assert await page.locator(".ciso-vega").count() == 0  # our button gave way to datasette-vega's controls
    assert page.console_errors == []


async def test_a_link_to_a_chart_draws_it_at_once(server, page):
    """datasette-vega keeps a chart in the address (#g.…): such a link loads the bundle without a click."""
    chart = "#g.mark=bar&g.x_column=id&g.x_type=ordinal&g.y_column=ordre&g.y_type=quantitative"
    await page.goto(server + "/ciso/activites" + chart)
    await page.locator("form.datasette-vega input[name=mark][value=bar]:checked").wait_for(timeout=15000)
    await page.locator(".vega-embed canvas, .vega-embed svg").first.wait_for(timeout=15000)
    assert await page.locator(".ciso-vega").count() == 0
    # vega-embed's own stylesheet is refused by the policy (no inline style): the chart draws without it.
    assert [e for e in page.console_errors if "inline style" not in e] == []
