"""Browser smoke test: the published site in Debian's Chromium."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.asyncio]


async def test_table_page_in_chromium(server, page):
    await page.goto(server + "/ciso/activites?_search=securite")
    assert await page.locator("html").get_attribute("lang") == "fr"
    table = await page.locator("table.rows-and-columns").inner_text()
    assert "sécurité" in table.lower()
    assert "Licence" in await page.locator("footer").inner_text()
    assert page.console_errors == []
