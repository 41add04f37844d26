"""The public's task, in Debian's Chromium: « Que fait le CISO en Haïti / en Amérique latine, et où en
est-il ? » — from the home page, in at most 3 clicks, ending on a page that shows the statuses.
And the new pages fit a phone (390 px) with no sideways scrolling."""

from __future__ import annotations

import pytest
from conftest import settled
from test_public_pages import PUBLIC_PAGES

pytestmark = [pytest.mark.browser, pytest.mark.asyncio]
MAX_CLICKS = 3


async def assert_statuses_shown(page):
    badges = page.locator("#titre-activites ~ ol .ciso-badge, .ciso-statuts-resume .ciso-badge")
    assert await badges.count() > 0
    assert await badges.first.is_visible()
    assert await page.locator(".ciso-liste-activites li").count() > 0
    assert page.console_errors == []


async def test_haiti_from_the_home_page(server, page):
    await page.goto(server + "/")
    clicks = 0
    await page.locator("#titre-ou ~ ul a", has_text="Haïti").click()
    clicks += 1
    await page.wait_for_url("**/-/pays/HT")
    assert await page.locator("h1").inner_text() == "Haïti"
    await assert_statuses_shown(page)
    # How far along: the activity that depends on a funding shows its declared status too.
    assert await page.locator(".ciso-declare", has_text="conditionnel").first.is_visible()
    assert clicks <= MAX_CLICKS


async def test_latin_america_from_the_home_page(server, page):
    await page.goto(server + "/")
    clicks = 0
    await page.locator("#titre-ou ~ p a", has_text="Amérique latine et Caraïbes").click()
    clicks += 1
    await page.wait_for_url("**/-/regions/amerique-latine-caraibes")
    assert "Amérique latine" in await page.locator("h1").inner_text()
    await assert_statuses_shown(page)
    # ...and on to one of its countries, still showing statuses.
    await page.locator("main, section.content").locator("a", has_text="Mexique").first.click()
    clicks += 1
    await page.wait_for_url("**/-/pays/MX")
    await assert_statuses_shown(page)
    assert clicks <= MAX_CLICKS


async def test_latin_america_through_the_search_box(server, page):
    await page.goto(server + "/")
    await page.fill("#ciso-q", "amerique latine")
    await page.press("#ciso-q", "Enter")  # typing is not a click
    await page.wait_for_url("**/-/recherche?q=amerique+latine")
    await page.locator("a.ciso-resultat", has_text="Amérique latine et Caraïbes").click()
    await page.wait_for_url("**/-/regions/amerique-latine-caraibes")
    await assert_statuses_shown(page)


async def test_the_countries_page_draws_the_map_with_links(server, page):
    await page.goto(server + "/")
    await page.locator("#titre-ou a").click()
    await page.wait_for_url("**/-/pays")
    await page.wait_for_selector(".ciso-carte.ciso-graphique-pret", timeout=15000)
    await page.locator("#pays-HT a", has_text="Haïti").click()
    await page.wait_for_url("**/-/pays/HT")
    await assert_statuses_shown(page)


@pytest.mark.parametrize("path", PUBLIC_PAGES)
async def test_public_pages_fit_a_phone(server, browser, path):
    context = await browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-CA")
    phone = await context.new_page()
    try:
        await phone.goto(server + path)
        await settled(phone)
        width = await phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path}: {width} px wide"
    finally:
        await context.close()
