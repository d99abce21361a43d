"""The demo's explorer in a real browser: Debian's headless chromium, driven by Playwright.

The browser may reach 127.0.0.1 only: every other request is aborted and recorded, and host
resolution maps everything else to nowhere. With the scripts served by the app
(`Explorer(asset_dir=...)`, filled by `make test` through `clew explorer-assets`) the page runs
a mutation, a query and a subscription under its own Content-Security-Policy; with the CDN out
of reach the page says what to do. Screenshots are saved as artifacts.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Route, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from .servers import HOST, RunningServer, free_port, running_server, uvicorn_command

ROOT = Path(__file__).resolve().parents[2]
#: Filled by `make test` (and `make run`) with `clew explorer-assets`.
ASSETS = Path(os.environ.get("CLEW_EXPLORER_ASSETS", ROOT / ".cache" / "explorer-assets"))
#: Where screenshots go; CI keeps this folder.
ARTIFACTS = Path(os.environ.get("CLEW_TEST_ARTIFACTS", ROOT / ".cache" / "test-artifacts"))
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
#: Generous: the machine is shared, and the first GraphiQL render parses 3.5 MB of script.
WAIT_MS = 30_000

pytestmark = pytest.mark.timeout(180)


def _demo_server(asset_dir: Path | None) -> Iterator[RunningServer]:
    port = free_port()
    env = {"CLEW_EXPLORER_ASSETS": str(asset_dir) if asset_dir else ""}
    command = uvicorn_command("clew.server.demo:create_app", port, in_package=False)
    with running_server("clew demo", command, port=port, env=env) as server:
        yield server


@pytest.fixture
def offline_demo() -> Iterator[RunningServer]:
    """The demo with the explorer's scripts served by the app itself."""
    if not (ASSETS / ".complete").exists():
        pytest.fail(f"{ASSETS} is not filled: run `make test`, which runs `clew explorer-assets`")
    yield from _demo_server(ASSETS)


@pytest.fixture
def cdn_demo() -> Iterator[RunningServer]:
    """The demo as a plain install serves it: scripts from the CDN."""
    yield from _demo_server(None)


class Browser:
    """A headless chromium with a fresh profile that may only talk to 127.0.0.1."""

    def __init__(self, context: BrowserContext) -> None:
        self.context = context
        self.blocked: list[str] = []
        self.console_errors: list[str] = []
        context.route("**/*", self._only_loopback)

    def _only_loopback(self, route: Route) -> None:
        url = route.request.url
        if url.startswith((f"http://{HOST}:", f"ws://{HOST}:")):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort("internetdisconnected")

    def open(self, url: str) -> Page:
        page = self.context.new_page()
        page.on("console", self._console)
        page.goto(url)
        return page

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            headless=True,
            viewport={"width": 1280, "height": 720},
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE {HOST}",
            ],
        )
        try:
            yield Browser(context)
        finally:
            context.close()


def _post(server: RunningServer, query: str) -> dict[str, object]:
    request = urllib.request.Request(
        server.http_url,
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        answer: dict[str, object] = json.loads(response.read())
        return answer


def _run(page: Page, document: str, *, over_http: bool = True) -> None:
    # CodeMirror's own API sets the editor text (typing would fight its auto-closed brackets).
    page.evaluate(
        "text => document.querySelector('.graphiql-query-editor .CodeMirror')"
        ".CodeMirror.setValue(text)",
        document,
    )
    # GraphiQL reads the edited document a moment later, and a click while it still loads the
    # schema does nothing: click until the operation leaves, by POST or on a new WebSocket.
    for _ in range(20):
        try:
            if over_http:
                with page.expect_request(
                    lambda request: (
                        request.method == "POST" and _sent(request.post_data) == document
                    ),
                    timeout=1_500,
                ):
                    page.click(".graphiql-execute-button")
            else:
                with page.expect_websocket(timeout=1_500):
                    page.click(".graphiql-execute-button")
        except PlaywrightTimeoutError:
            continue
        return
    raise AssertionError(f"the explorer never sent {document!r}")


def _sent(body: str | None) -> object:
    try:
        return json.loads(body or "{}").get("query")
    except ValueError:
        return None


def _response_text(page: Page) -> str:
    return page.locator(".graphiql-response").inner_text()


def _save(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path))
    return path


def test_the_explorer_runs_queries_and_a_subscription_with_no_cdn(
    offline_demo: RunningServer, browser: Browser
) -> None:
    page = browser.open(offline_demo.http_url)
    page.wait_for_selector(".graphiql-query-editor .CodeMirror", timeout=WAIT_MS)

    _run(page, 'mutation { postMessage(author: "chromium", text: "posted from a browser") { id } }')
    page.wait_for_function(
        "() => document.querySelector('.graphiql-response').innerText.includes('postMessage')",
        timeout=WAIT_MS,
    )
    assert '"id": "1"' in _response_text(page)

    _run(page, "{ messages { author text } }")
    page.wait_for_function(
        "() => document.querySelector('.graphiql-response').innerText"
        ".includes('posted from a browser')",
        timeout=WAIT_MS,
    )
    assert '"author": "chromium"' in _response_text(page)

    # The subscription runs over graphql-transport-ws at the page's own URL; messages posted
    # from here reach it. Post until one arrives (the socket opens after the click).
    _run(page, "subscription { messagePosted { author text } }", over_http=False)
    arrived = False
    for attempt in range(60):
        _post(
            offline_demo,
            f'mutation {{ postMessage(author: "pytest", text: "live {attempt}") {{ id }} }}',
        )
        try:
            page.wait_for_function(
                "() => document.querySelector('.graphiql-response').innerText"
                '.includes(\'"author": "pytest"\')',
                timeout=500,
            )
        except PlaywrightTimeoutError:  # the subscription is not listening yet
            continue
        arrived = True
        break
    assert arrived, _response_text(page)
    assert '"text": "live ' in _response_text(page)
    _save(page, "explorer-subscription.png")

    # Everything came from 127.0.0.1, and the page's own policy blocked nothing it needed.
    assert browser.blocked == []
    assert not [m for m in browser.console_errors if "Content Security Policy" in m]


def test_without_the_cdn_the_page_says_why_and_names_the_fix(
    cdn_demo: RunningServer, browser: Browser
) -> None:
    page = browser.open(cdn_demo.http_url)
    status = page.locator("#clew-explorer-status[data-state=failed]")
    status.wait_for(timeout=WAIT_MS)
    text = status.inner_text()
    assert "react, react-dom, graphql-ws, graphiql" in text
    assert "clew explorer-assets DIR" in text
    assert "Explorer(asset_dir=DIR)" in text
    # The CDN was asked (and refused by this test), with nothing else leaving the machine.
    assert browser.blocked
    assert all(url.startswith("https://unpkg.com/") for url in browser.blocked)
    _save(page, "explorer-no-cdn.png")
