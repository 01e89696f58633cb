"""The local stack keeps its secrets and stores private, and splits the RUM keys by role: the
demo page embeds the ingest key, which sends but cannot read anyone's analytics."""

from __future__ import annotations

import re
import stat

import httpx
import pytest

pytestmark = pytest.mark.stack


def test_secrets_and_stores_are_readable_by_their_owner_only(stack):
    data = stack.data_dir
    private = [stack.admin_token_path, stack.rum_api_key_path, stack.rum_read_key_path]
    private += sorted(data.glob("rum.db*")) + sorted(data.glob("capture.db*"))
    assert {p.name for p in private} >= {"rum.db", "capture.db", "rum-read-key"}
    modes = {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in private}
    assert modes == dict.fromkeys(modes, "0o600")


def test_the_page_embeds_the_ingest_key_and_it_cannot_read(stack, stack_config):
    ingest_key = stack.rum_api_key_path.read_text().strip()
    read_key = stack.rum_read_key_path.read_text().strip()
    assert ingest_key != read_key
    page = httpx.get(str(stack_config.regions["us-east-1"].base_url), timeout=5).text
    assert re.findall(r'data-api-key="([^"]*)"', page) == [ingest_key]
    assert read_key not in page
    rum = stack_config.backends.rum_ingest.base_url
    vitals = f"{rum}/v1/analytics/web-vitals"
    refused = httpx.get(vitals, headers={"X-API-Key": ingest_key}, timeout=5)
    assert refused.status_code == 403, refused.text
    assert "an ingest key can only send events" in refused.json()["detail"]
    assert httpx.get(vitals, headers={"X-API-Key": read_key}, timeout=5).status_code == 200
    sent = httpx.post(
        f"{rum}/v1/events", json={"events": []}, headers={"X-API-Key": read_key}, timeout=5
    )
    assert sent.status_code == 403 and "a read key cannot send events" in sent.json()["detail"]
