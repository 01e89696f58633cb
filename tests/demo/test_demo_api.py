"""The assignments workflow, authentication, health and the browser page."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from demo_harness import Demo, MakeDemo

from signalcheck.demo.auth import TokenIssuer

pytestmark = pytest.mark.anyio


async def test_token_create_get_delete_workflow(demo: Demo) -> None:
    headers = await demo.auth_headers()
    body = {
        "title": "Synthetic Test",
        "assignee": "test@example.com",
        "priority": "high",
        "due_date": "2030-01-31",
    }

    created = await demo.client.post("/v1/assignments", json=body, headers=headers)
    assert created.status_code == 201
    assignment = created.json()
    assert assignment["title"] == "Synthetic Test"
    assert assignment["priority"] == "high"
    assert assignment["due_date"] == "2030-01-31"
    assert assignment["status"] == "open"
    assert assignment["description"] is None
    url = f"/v1/assignments/{assignment['id']}"

    fetched = await demo.client.get(url, headers=headers)
    assert fetched.status_code == 200
    assert fetched.json() == assignment

    deleted = await demo.client.delete(url, headers=headers)
    assert deleted.status_code == 204
    assert deleted.content == b""

    assert (await demo.client.get(url, headers=headers)).status_code == 404
    assert (await demo.client.delete(url, headers=headers)).status_code == 404


async def test_token_response_shape(demo: Demo) -> None:
    credentials = {"client_id": "p", "client_secret": "demo-secret"}
    response = await demo.client.post("/auth/token", json=credentials)
    assert response.status_code == 200
    token = response.json()
    assert token["token_type"] == "bearer"
    assert token["expires_in"] == 3600
    assert len(token["access_token"]) > 20


async def test_priority_defaults_to_medium(demo: Demo) -> None:
    headers = await demo.auth_headers()
    response = await demo.client.post("/v1/assignments", json={"title": "t"}, headers=headers)
    assert response.status_code == 201
    assert response.json()["priority"] == "medium"


async def test_invalid_body_is_422(demo: Demo) -> None:
    headers = await demo.auth_headers()
    empty_title = await demo.client.post("/v1/assignments", json={"title": " "}, headers=headers)
    assert empty_title.status_code == 422
    bad_priority = {"title": "t", "priority": "urgent"}
    response = await demo.client.post("/v1/assignments", json=bad_priority, headers=headers)
    assert response.status_code == 422


async def test_wrong_client_secret_is_401(demo: Demo) -> None:
    credentials = {"client_id": "p", "client_secret": "nope"}
    response = await demo.client.post("/auth/token", json=credentials)
    assert response.status_code == 401
    assert response.json() == {"detail": "invalid client credentials"}


async def test_client_secret_comes_from_settings(make_demo: MakeDemo) -> None:
    demo = await make_demo(client_secret="s3cret")
    credentials = {"client_id": "p", "client_secret": "s3cret"}
    assert (await demo.client.post("/auth/token", json=credentials)).status_code == 200
    credentials["client_secret"] = "demo-secret"
    assert (await demo.client.post("/auth/token", json=credentials)).status_code == 401


async def test_api_requires_a_valid_bearer_token(demo: Demo) -> None:
    body = {"title": "t"}
    missing = await demo.client.post("/v1/assignments", json=body)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    forged_headers = {"Authorization": "Bearer eHg6eQ==.0000"}
    forged = await demo.client.post("/v1/assignments", json=body, headers=forged_headers)
    assert forged.status_code == 401
    basic_headers = {"Authorization": "Basic dXNlcg=="}
    basic = await demo.client.get("/v1/assignments/abc", headers=basic_headers)
    assert basic.status_code == 401


def test_tokens_expire_after_an_hour() -> None:
    issuer = TokenIssuer("secret")
    now = time.time()
    token = issuer.issue("probe-eu", now=now)
    assert issuer.client_of(token, now=now + 3599) == "probe-eu"
    assert issuer.client_of(token, now=now + 3601) is None
    payload, _, signature = token.partition(".")
    assert issuer.client_of(f"{payload}x.{signature}", now=now) is None


async def test_token_of_another_process_is_rejected(make_demo: MakeDemo) -> None:
    first, second = await make_demo(), await make_demo()
    headers = await first.auth_headers()
    response = await second.client.post("/v1/assignments", json={"title": "t"}, headers=headers)
    assert response.status_code == 401


async def test_health_endpoints(demo: Demo) -> None:
    assert (await demo.client.get("/health")).json() == {"status": "ok"}
    ready = await demo.client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"database": "up"}}


async def test_page_loads_rum_sdk_and_calls_the_api(make_demo: MakeDemo) -> None:
    demo = await make_demo(rum_sdk_url="http://127.0.0.1:9999/sdk.js", rum_api_key="key-123")
    page = await demo.client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<script src="http://127.0.0.1:9999/sdk.js"' in page.text
    assert 'data-api-key="key-123"' in page.text
    assert 'data-app-name="demo-web"' in page.text
    assert 'fetch("/health/ready"' in page.text


async def test_page_without_rum_sdk_has_no_sdk_script(demo: Demo) -> None:
    page = await demo.client.get("/")
    assert page.status_code == 200
    assert "data-api-key" not in page.text
    assert 'fetch("/health/ready"' in page.text


async def test_file_database_outlives_the_process(make_demo: MakeDemo, tmp_path: Path) -> None:
    db_path = str(tmp_path / "demo.db")
    first = await make_demo(db_path=db_path)
    headers = await first.auth_headers()
    created = await first.client.post("/v1/assignments", json={"title": "kept"}, headers=headers)
    second = await make_demo(db_path=db_path)
    url = f"/v1/assignments/{created.json()['id']}"
    fetched = await second.client.get(url, headers=await second.auth_headers())
    assert fetched.status_code == 200
    assert fetched.json()["title"] == "kept"
