"""The API's own documentation works on a network closed to the internet, as hospital networks often are:
/docs and /redoc load their scripts from the platform, never a CDN."""

from __future__ import annotations

import re

import asyncpg
import pytest

from tests.support.api import api_client
from vward.settings import Settings

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_api_docs_load_every_asset_from_the_platform(
    settings: Settings, db_pool: asyncpg.Pool, page: str
) -> None:
    async with api_client(settings, db_pool, role=None) as client:
        html = await client.get(page)
        assert html.status_code == 200
        assets = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", html.text)
        assert any(a.endswith(".js") for a in assets), html.text[:500]
        for asset in assets:
            assert asset.startswith("/"), f"{page} loads {asset} from elsewhere"
            assert (await client.get(asset)).status_code == 200, asset
        assert "/openapi.json" in html.text
