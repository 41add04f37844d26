"""Progress pages in Debian's Chromium: the chart draws, and everything works without JavaScript."""

from __future__ import annotations

import httpx
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.asyncio]


async def test_chart_is_drawn_without_console_errors(server, page):
    await page.goto(server + "/-/progres")
    chart = page.locator(".ciso-graphique.ciso-graphique-pret svg")
    await chart.first.wait_for(timeout=15000)
    assert await chart.count() == 1
    # Vega drew one bar per objective and status with a non-zero count (the overview: the latest plan).
    objectives = httpx.get(server + "/-/progres.json").json()["objectifs"]
    assert await page.locator(".ciso-graphique svg path[aria-roledescription='bar']").count() >= len(objectives) > 0
    assert page.console_errors == []


async def test_progress_pages_work_without_javascript(server, browser):
    context = await browser.new_context(java_script_enabled=False)
    page = await context.new_page()
    try:
        await page.goto(server + "/-/progres/2020-2021")  # the real plan's overview
        assert await page.locator(".ciso-graphique svg").count() == 0  # no chart without JS...
        table = page.locator("table.ciso-tableau", has=page.locator("caption", has_text="par objectif"))
        assert "Objectif 1" in await table.inner_text()  # ...but the same numbers in a table
        bars = page.locator("svg.ciso-barre[role='img']")
        plans = page.locator("table.ciso-tableau", has=page.locator("caption", has_text="Avancement de chaque plan"))
        listed = await plans.locator("svg.ciso-barre").count()  # one bar per plan, in the table of plans
        assert await bars.count() - listed == 1 + 5  # then the plan itself and its five objectives
        assert "15 éléments" in await bars.nth(listed + 1).get_attribute("aria-label")
        await page.click("text=Objectif 2 : Contribuer concrètement")
        await page.wait_for_url("**/-/progres/2020-2021/2")
        assert "« Si le PSOCI est obtenu »" in await page.locator("main, section.content").first.inner_text()
        await page.click("#activite-2\\.1\\.2 >> text=Ligne 82 du plan")
        await page.wait_for_url("**/-/source/2020-2021#L82")
        assert "Si le PSOCI est obtenu" in await page.locator("tr#L82").inner_text()
    finally:
        await context.close()
