"""From the home page to a citable line of the plan, in Debian's Chromium."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.asyncio]


async def test_from_home_search_to_the_source_line(server, page):
    await page.goto(server + "/")
    await page.fill("#ciso-q", "securite")
    await page.press("#ciso-q", "Enter")
    await page.wait_for_url("**/-/recherche?q=securite")
    actions = page.locator("#resultats-actions")
    assert "Actions (moyens) (1)" in await actions.locator("h2").inner_text()
    assert await page.locator("#resultats-actions mark").first.inner_text() == "Sécurité"
    # The action's page...
    await actions.locator("a.ciso-resultat", has_text="5.5 Sécurité").click()
    await page.wait_for_url("**/-/progres/2020-2021/5.5")
    assert "Sécurité" in await page.locator("h1").inner_text()
    assert await page.locator(".ciso-statut-principal .ciso-badge").first.is_visible()
    # ...links its words to the published text of the plan.
    await page.locator("#titre-mots ~ p a.ciso-ligne").first.click()
    await page.wait_for_url("**/-/source/2020-2021#L188")
    line = page.locator("tr#L188")
    assert "5.5 Sécurité" in await line.inner_text()
    assert await page.evaluate("document.querySelector(':target').id") == "L188"
    assert page.console_errors == []


async def test_search_result_links_straight_to_the_line(server, page):
    await page.goto(server + "/-/recherche?q=haiti")
    result = page.locator("#resultats-activites li", has_text="Activité 2.1.2")
    assert "Haïti" in await result.locator(".ciso-extrait mark").first.inner_text()
    await result.locator("a.ciso-ligne").click()
    await page.wait_for_url("**/-/source/2020-2021#L82")
    assert "Si le PSOCI est obtenu" in await page.locator("tr#L82").inner_text()
    assert page.console_errors == []
