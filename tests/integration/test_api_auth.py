"""The API key guards every route but the public ones, over HTTP and WebSocket, on a real
API process; the route list comes from the app itself, so a new route cannot be forgotten."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
import websockets
from fastapi.routing import iter_route_contexts
from starlette.routing import WebSocketRoute
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from core.config import Settings
from services.api.app import create_app
from services.api.auth import PUBLIC_PATHS, PUBLIC_PREFIXES
from tests.conftest import API_KEY
from tests.support.api import AUTH, api_settings
from tests.support.processes import api_process

PUBLIC = {("GET", "/"), ("GET", "/api/health"), ("GET", "/docs"), ("GET", "/openapi.json")}
DOCS = {("GET", "/docs/oauth2-redirect"), ("GET", "/redoc")}
NOT_ALLOWED = {(method, "/api/messages/batch") for method in ("GET", "PUT", "PATCH", "DELETE")}
"""Undocumented on purpose: they answer 405 (`/batch` is no message id for GET /api/messages/{id})."""
SECRETS = {
    "TRACKER_LLM_API_KEY": "llm-secret-5b1f0c",
    "TRACKER_DASHBOARD_PASSWORD": "dashboard-secret-a81e",
    "TELEGRAM_BOT_TOKEN": "123456:telegram-secret-9d2c",
    "TRACKER_TELEGRAM_WEBHOOK_SECRET": "webhook-secret-77aa",
    "TRACKER_SLACK_SIGNING_SECRET": "slack-secret-31c9",
    "TRACKER_EMAIL_IMAP_PASSWORD": "imap-secret-e04d",
}
BAD_HEADERS = {
    "no-header": {},
    "wrong-key": {"Authorization": "Bearer wrong-key"},
    "key-prefix": {"Authorization": f"Bearer {API_KEY[:-1]}"},
    "key-extended": {"Authorization": f"Bearer {API_KEY}x"},
    "empty-bearer": {"Authorization": "Bearer"},
    "basic-scheme": {"Authorization": f"Basic {API_KEY}"},
    "bare-key": {"Authorization": API_KEY},
    "other-header": {"X-API-Key": API_KEY},
}


@pytest.fixture(scope="module")
def module_settings(database_url: str, nats_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return api_settings(tmp_path_factory.mktemp("api"), database_url, nats_url, "apiauth")


@pytest.fixture(scope="module")
def api_url(module_settings: Settings) -> Iterator[str]:
    with api_process(module_settings, None, **SECRETS) as url:
        yield url


def concrete(path: str) -> str:
    """A path template with every {param} filled in."""
    return re.sub(r"\{[^}]+\}", "1", path)


def http_routes(settings: Settings) -> list[tuple[str, str]]:
    """(method, path) of every HTTP route the app declares, included routers' too."""
    contexts = iter_route_contexts(create_app(settings).routes)
    return sorted(
        (method, str(route.path)) for route in contexts for method in route.methods or () if method != "HEAD"
    )


def protected_routes(settings: Settings) -> list[tuple[str, str]]:
    """Every route the API key guards: all but the public ones and the self-guarded ones."""
    routes = http_routes(settings)
    assert len(routes) >= 12, routes
    return [r for r in routes if not public(r[1])]


def public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def self_guarded_routes(settings: Settings) -> list[tuple[str, str]]:
    """Routes exempt from the API key because they check a secret of their own (webhooks)."""
    return [r for r in http_routes(settings) if public(r[1]) and r not in PUBLIC | DOCS]


def test_only_the_intended_paths_skip_the_key(module_settings: Settings) -> None:
    assert {p for _, p in PUBLIC | DOCS} <= PUBLIC_PATHS
    assert {p for _, p in self_guarded_routes(module_settings)} <= {
        "/api/telegram/webhook",
        "/api/slack/events",
        "/api/exports/hooks/{target}",
    }


def test_self_guarded_routes_refuse_requests_without_their_secret(
    api_url: str, module_settings: Settings
) -> None:
    for method, path in self_guarded_routes(module_settings):
        for headers in BAD_HEADERS.values():
            response = httpx.request(method, api_url + concrete(path), headers=headers, json={})
            assert response.status_code in (401, 403, 404), (method, path, response.text)


def test_route_list_matches_the_served_openapi(api_url: str, module_settings: Settings) -> None:
    schema = httpx.get(f"{api_url}/openapi.json").json()
    served = {(m.upper(), p) for p, ops in schema["paths"].items() for m in ops}
    assert served | PUBLIC | DOCS | NOT_ALLOWED == set(http_routes(module_settings))


def test_every_protected_route_refuses_a_missing_or_wrong_key(
    api_url: str, module_settings: Settings
) -> None:
    failures = []
    routes = protected_routes(module_settings)
    for method, path in routes:
        for name, headers in BAD_HEADERS.items():
            response = httpx.request(method, api_url + concrete(path), headers=headers, json={})
            if response.status_code != 401 or "Bearer" not in response.headers.get("www-authenticate", ""):
                failures.append((method, path, name, response.status_code))
    assert not failures
    assert ("POST", "/api/messages") in routes and ("PATCH", "/api/tasks/{task_id}") in routes


def test_auth_is_checked_before_the_body_is_read(api_url: str, module_settings: Settings) -> None:
    """Without a key, even an unreadable body gets 401: nothing about the input leaks."""
    bodies = [b"{not json", b"\xff\xfe", b"[" * 10_000]
    for method, path in protected_routes(module_settings):
        for body in bodies:
            headers = {"content-type": "application/json"}
            response = httpx.request(method, api_url + concrete(path), content=body, headers=headers)
            assert response.status_code == 401, (method, path, body[:10], response.text)


def test_token_query_parameter_is_only_for_websockets(api_url: str) -> None:
    response = httpx.get(f"{api_url}/api/tasks", params={"token": API_KEY})
    assert response.status_code == 401


def test_the_right_key_passes_every_protected_route(api_url: str, module_settings: Settings) -> None:
    for method, path in protected_routes(module_settings):
        response = httpx.request(method, api_url + concrete(path), headers=AUTH, json={})
        assert response.status_code != 401 and response.status_code < 500, (method, path, response.text)


@pytest.mark.parametrize("path", sorted(p for _, p in PUBLIC | DOCS))
def test_public_routes_need_no_key(api_url: str, path: str) -> None:
    response = httpx.get(api_url + path)
    assert response.status_code == 200, response.text


def test_root_tells_status_and_version(api_url: str) -> None:
    body = httpx.get(api_url + "/").json()
    assert body["status"] == "ok" and body["version"]


def test_config_reveals_no_secret(api_url: str) -> None:
    response = httpx.get(f"{api_url}/api/config", headers=AUTH)
    assert response.status_code == 200
    assert response.json()["features"]["telegram"] is True
    for path in ("/api/config", "/", "/api/health", "/openapi.json"):
        text = httpx.get(api_url + path, headers=AUTH).text
        for secret in [API_KEY, *SECRETS.values()]:
            assert secret not in text, (path, secret)


def ws_url(api_url: str, query: str = "") -> str:
    return api_url.replace("http://", "ws://") + "/ws" + query


def test_websocket_routes_are_the_ones_tested(module_settings: Settings) -> None:
    contexts = iter_route_contexts(create_app(module_settings).routes)
    assert [r.path for r in contexts if isinstance(r.original_route, WebSocketRoute)] == ["/ws"]


@pytest.mark.parametrize(
    ("query", "headers"),
    [
        ("", {}),
        ("?token=wrong", {}),
        ("?token=", {}),
        ("", {"Authorization": "Bearer wrong"}),
        ("", {"Authorization": f"Basic {API_KEY}"}),
        (f"?token={API_KEY[:-1]}", {}),
    ],
    ids=["none", "wrong-token", "empty-token", "wrong-header", "basic-scheme", "token-prefix"],
)
async def test_websocket_without_the_key_is_refused(
    api_url: str, query: str, headers: dict[str, str]
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(ws_url(api_url, query), additional_headers=headers, open_timeout=10):
            pass
    assert refused.value.response.status_code == 403


@pytest.mark.parametrize(
    ("query", "headers"), [("", AUTH), (f"?token={API_KEY}", {})], ids=["header", "token"]
)
async def test_websocket_with_the_key_is_accepted(api_url: str, query: str, headers: dict[str, str]) -> None:
    async with connect(ws_url(api_url, query), additional_headers=headers, open_timeout=10) as ws:
        assert ws.state is websockets.protocol.State.OPEN
        await ws.ping()
