"""Security headers, the body limit on every route, and no stack traces to clients."""

from __future__ import annotations

import logging
import re
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from conftest import SELLER_ID, World, make_user
from fapiao.app import create_app
from fapiao.db import Database
from fapiao.http.security import CONTENT_SECURITY_POLICY
from fapiao.platform import Platform
from fapiao.settings import Settings
from fapiao.support.api import TICKET_UPLOADS, ticket_upload_limit
from fapiao.taxpayers import service as taxpayers

EXPECTED = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
}


def assert_hardened(response: object, *, tls: bool) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    for name, value in EXPECTED.items():
        assert headers.get(name) == value, name
    assert "camera=()" in headers["permissions-policy"]
    assert ("strict-transport-security" in headers) is tls


def test_headers_on_every_kind_of_response(world: World) -> None:
    client = world.client
    csp = CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    for directive in ("object-src 'none'", "frame-ancestors 'none'", "base-uri 'self'"):
        assert directive in csp
    responses = [
        client.get("/"),
        client.get("/healthz"),
        client.get("/openapi.json"),
        client.get("/api/v1/me", headers=world.as_("seller")),
        client.get("/api/v1/me"),  # 401
        client.get("/nowhere"),  # 404
        client.post("/api/v1/verify", json={}),  # 422
    ]
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 401, 404, 422]
    for response in responses:
        assert_hardened(response, tls=False)


def test_hsts_only_over_tls(world: World, settings: Settings) -> None:
    app = create_app(platform=world.platform)
    assert_hardened(TestClient(app, base_url="https://testserver").get("/healthz"), tls=True)
    assert world.client.get("/healthz").headers.get("strict-transport-security") is None
    # An untrusted peer cannot claim TLS.
    spoofed = world.client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert "strict-transport-security" not in spoofed.headers
    proxied = settings.model_copy(update={"trusted_proxies": "10.0.0.0/8"})
    platform = Platform(settings=proxied, database=Database(proxied), clock=world.platform.clock)
    try:
        behind = TestClient(create_app(platform=platform), client=("10.0.0.5", 1234))
        hsts = behind.get("/healthz", headers={"X-Forwarded-Proto": "https"})
        assert hsts.headers["strict-transport-security"] == "max-age=31536000"
        plain = behind.get("/healthz", headers={"X-Forwarded-Proto": "http"})
        assert "strict-transport-security" not in plain.headers
    finally:
        platform.close()


def test_docs_page_runs_no_inline_script_and_loads_only_local_assets(world: World) -> None:
    page = world.client.get("/docs")
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "script-src 'self' 'unsafe" not in policy
    html = page.text
    # Every <script> has a src on this origin and no body.
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all(body.strip() == "" for _, body in scripts)
    sources = [re.search(r'src="([^"]+)"', attrs).group(1) for attrs, _ in scripts]  # type: ignore[union-attr]
    links = re.findall(r'href="([^"]+)"', html)
    for url in [*sources, *links]:
        assert url.startswith("/"), url
        asset = world.client.get(url)
        assert asset.status_code == 200, url
        assert_hardened(asset, tls=False)
    init = world.client.get("/docs/swagger-init.js")
    assert init.headers["content-type"].startswith("text/javascript")
    assert "/openapi.json" in init.text
    assert world.client.get("/redoc").status_code == 404


def test_unexpected_error_is_a_generic_500_with_a_reference(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(platform=world.platform)

    @app.get("/test-only/explode")
    def explode() -> None:
        raise RuntimeError("db password hunter2 at /srv/fapiao/secret.py line 7")

    client = TestClient(app, raise_server_exceptions=False)
    with caplog.at_level(logging.DEBUG):
        response = client.get("/test-only/explode", headers={"Accept-Language": "en"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    reference = body["reference"]
    assert re.fullmatch(r"[0-9a-f]{16}", reference)
    assert body["code"] == "INTERNAL_ERROR" and reference in body["detail"]
    for leak in ("hunter2", "Traceback", "RuntimeError", "secret.py"):
        assert leak not in response.text
    assert_hardened(response, tls=False)
    logged = [r for r in caplog.records if reference in r.getMessage()]
    assert logged and logged[0].exc_info is not None
    assert "hunter2" in str(logged[0].exc_info[1])


def test_every_route_refuses_a_body_over_the_limit(tmp_path: Path, clock: object) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        secret_key="test-secret-" + "x" * 32,
        max_body_bytes=1024,
        max_upload_bytes=4096,
        ticket_attachment_max_bytes=1024,
    )
    from fapiao import migrate

    database = Database(settings)
    migrate.upgrade(database)
    platform = Platform(settings=settings, database=database, clock=clock)  # type: ignore[arg-type]
    try:
        with database.transaction() as session:
            taxpayers.add_taxpayer(
                session,
                tax_id=SELLER_ID,
                name="北京示例科技有限公司",
                kind="general",
                credit_limit=Decimal("1000.00"),
                now=platform.clock.now(),
            )
        # Signed in as a clerk, so the upload route reads its (streamed) body.
        headers = make_user(platform, "clerk", "clerk", SELLER_ID)
        app = create_app(platform=platform)
        client = TestClient(app, headers=headers)
        # Every operation of the OpenAPI document, and the routes left out of it.
        operations = {
            (method.upper(), path)
            for path, item in app.openapi()["paths"].items()
            for method in item
        }
        operations |= {
            (method, route.path)
            for route in app.routes
            if isinstance(route, APIRoute)
            for method in route.methods
        }
        checked = 0
        for method, template in sorted(operations):
            path = re.sub(r"\{[^}]+\}", "1", template)
            if template.startswith("/api/v1/tickets/"):
                # A valid ticket number, so the upload routes go on to read the body.
                path = path.replace("/tickets/1", "/tickets/T202611-000001", 1)
            limit = 4096 if template == "/api/v1/reconciliations" else 1024
            # Declared by Content-Length, and streamed without one (chunked).
            kind, head = "application/json", b""
            if TICKET_UPLOADS.match(path):
                limit = ticket_upload_limit(settings)
                kind = "multipart/form-data; boundary=b0undary"
                head = (
                    b"--b0undary\r\nContent-Disposition: form-data; name=files; "
                    b'filename="a.png"\r\nContent-Type: image/png\r\n\r\n'
                )
            if template == "/api/v1/reconciliations":
                kind = "multipart/form-data; boundary=b0undary"
                head = (
                    b"--b0undary\r\nContent-Disposition: form-data; name=file; "
                    b'filename="list.csv"\r\nContent-Type: text/csv\r\n\r\n'
                )
            for body in (
                head + b"x" * (limit + 1),
                iter([head, *[b"x" * 1000] * (limit // 1000 + 2)]),
            ):
                response = client.request(
                    method, path, content=body, headers={"Content-Type": kind}
                )
                assert response.status_code == 413, (method, template)
                assert response.json()["code"] == "PAYLOAD_TOO_LARGE"
            checked += 1
        assert checked >= 30
    finally:
        platform.close()
