"""Browser tests: the real server (uvicorn in a thread, over a fresh data directory with
the demo data) driven by Debian's Chromium through Playwright's sync API.

Fixtures for page tests:
- `server`: the base URL, e.g. http://127.0.0.1:PORT (one server for the whole run);
- `viewport`: "phone" (375x812) or "desktop" (1280x800); tests using `page` run once
  for each;
- `page`: a fresh browser context and page at that viewport;
- `check_page(page, name)`: screenshot to test-artifacts/screenshots/NAME-VIEWPORT.png,
  no serious or critical axe-core violations, no horizontal scrolling, no errors in the
  browser console (a CSP violation is one), controls of at least 44 px on a phone; the
  desktop run also checks a tablet's 768 px for sideways scrolling (NAME-tablet.png);
- `sign_in(page, username)`: through the login form, with the one-time code for the
  demo users that have one.

Chromium must be at /usr/bin/chromium (`make test` installs it with fonts-noto-cjk).
Without it the tests are skipped on a developer's machine and fail under CI=true."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
import uvicorn

from fapiao import migrate
from fapiao.app import create_app
from fapiao.cli import demo
from fapiao.db import Database
from fapiao.kit.clock import SystemClock
from fapiao.platform import Platform
from fapiao.settings import Settings

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
VIEWPORTS = {"phone": {"width": 375, "height": 812}, "desktop": {"width": 1280, "height": 800}}
TABLET = {"width": 768, "height": 1024}
PASSWORD = demo.PASSWORD
TAP = 44
TOO_SMALL_TO_TAP = f"""() => Array.from(document.querySelectorAll(
    "button, input:not([type=hidden]), select, textarea, nav a"))
  .filter(e => e.offsetParent !== null)
  .filter(e => {{ const r = e.getBoundingClientRect(); return r.height < {TAP}; }})
  .map(e => e.outerHTML.slice(0, 80))"""

if not Path(CHROMIUM).exists():
    if os.environ.get("CI") == "true":
        raise RuntimeError(
            f"{CHROMIUM} is missing: the browser tests must run in CI "
            "(make test installs Debian's chromium and fonts-noto-cjk)"
        )
    pytest.skip(f"{CHROMIUM} is missing (make test installs it)", allow_module_level=True)

from playwright.sync_api import Browser, ConsoleMessage, Page, Response, sync_playwright  # noqa: E402


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("browser-data")
    settings = Settings(
        data_dir=data,
        secret_key="browser-test-secret-" + "x" * 32,
        cookie_secure=False,  # the test server speaks plain http
        rate_login_per_ip="1000/minute",  # every test signs in from 127.0.0.1
        rate_login_per_account="1000/minute",
    )
    database = Database(settings)
    migrate.upgrade(database)
    platform = Platform(settings=settings, database=database, clock=SystemClock())
    demo.seed(platform)
    demo.seed_announcements(platform)  # as `fapiao demo` does
    port = _free_port()
    config = uvicorn.Config(
        create_app(platform=platform, access_log=""),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
    )
    uvicorn_server = uvicorn.Server(config)
    thread = threading.Thread(target=uvicorn_server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uvicorn_server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    uvicorn_server.should_exit = True
    thread.join(timeout=10)
    platform.close()


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        yield launched
        launched.close()


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def page(browser: Browser, server: str, viewport: str) -> Iterator[Page]:
    context = browser.new_context(
        base_url=server, viewport=VIEWPORTS[viewport], locale="zh-CN", has_touch=True
    )
    opened = context.new_page()
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # A page answered with 401 or 422 (a refused form) is logged as a failed load;
        # failed loads are judged by on_response, which knows what was loaded.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    def on_response(response: Response) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            errors.append(f"{response.status} {response.url}")

    opened.on("console", on_console)
    opened.on("response", on_response)
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.console_errors = errors  # type: ignore[attr-defined]
    yield opened
    context.close()


def _axe(page: Page) -> list[dict[str, Any]]:
    # Evaluated over DevTools rather than added as a <script> tag: the page's CSP allows
    # only this site's script files, and it stays on so the test sees what users get.
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result: dict[str, Any] = page.evaluate(
        """() => axe.run(document, {runOnly: {type: "tag",
            values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}})"""
    )
    return [v for v in result["violations"] if v.get("impact") in ("serious", "critical")]


@pytest.fixture
def check_page(viewport: str) -> Callable[[Page, str], None]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def check(page: Page, name: str) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{viewport}.png"), full_page=True)
        violations = _axe(page)
        assert not violations, json.dumps(
            [
                {"id": v["id"], "impact": v["impact"], "nodes": [n["html"] for n in v["nodes"]]}
                for v in violations
            ],
            ensure_ascii=False,
            indent=1,
        )
        if viewport == "phone":  # controls a finger can hit (inline text links aside)
            small = page.evaluate(TOO_SMALL_TO_TAP)
            assert not small, f"{name}: controls under {TAP}px on a phone: {small}"
        widths = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], f"{name} scrolls sideways at {viewport}: {widths}"
        errors = page.console_errors  # type: ignore[attr-defined]
        assert not errors, errors
        if viewport == "desktop":  # and the tablet width in between, for layout only
            page.set_viewport_size(TABLET)
            page.screenshot(path=str(SCREENSHOTS / f"{name}-tablet.png"), full_page=True)
            widths = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
            assert widths[0] <= widths[1], f"{name} scrolls sideways at 768 px: {widths}"
            page.set_viewport_size(VIEWPORTS[viewport])

    return check


_USED_STEPS: dict[str, int] = {}


def totp_code(username: str) -> str:
    """The current one-time code of a demo user with a second factor (what
    `fapiao user totp-code` prints). A code is accepted once: when this run already
    signed the user in during the current 30-second step, wait for the next one."""
    step = int(time.time()) // 30
    last = _USED_STEPS.get(username)
    if last is not None and step <= last:
        time.sleep((last + 1) * 30 - time.time() + 0.2)
        step = int(time.time()) // 30
    _USED_STEPS[username] = step
    return pyotp.TOTP(demo.TOTP_SECRETS[username]).at(step * 30)


@pytest.fixture
def sign_in() -> Callable[..., None]:
    def go(page: Page, username: str, password: str = PASSWORD) -> None:
        page.goto("/ui/login")
        page.fill("#f-username", username)
        page.fill("#f-password", password)
        page.click("button[type=submit]")
        if username in demo.TOTP_SECRETS:
            page.wait_for_selector("#f-totp")
            page.fill("#f-totp", totp_code(username))
            page.click("button[type=submit]")
        page.wait_for_url("**/ui/dashboard")

    return go
