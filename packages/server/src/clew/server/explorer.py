"""The in-browser explorer (GraphiQL): the page a browser gets at the endpoint, and its files.

The page holds no inline script, so it runs under a strict Content-Security-Policy (which it
sends). GraphiQL, React and graphql-ws come from a CDN by default, with Subresource Integrity
hashes, or from a local folder filled by `clew explorer-assets DIR` and served by the app
itself under the endpoint (``?explorer-asset=<name>@<version>/<path>``) with long-lived cache
headers. clew's own small start-up script and stylesheet are always served by the app. Until
the scripts run, the page says in words what to do if they never load.
"""

from __future__ import annotations

import html
import os
from collections.abc import Awaitable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Final, Protocol, final, runtime_checkable
from urllib.parse import urlsplit

from clew.protocol import __version__

from ._bundles import PINNED_BUNDLES, Bundle

if TYPE_CHECKING:
    from starlette.requests import Request

__all__ = [
    "ASSET_PARAMETER",
    "BUNDLES",
    "DEFAULT_ASSET_BASE_URL",
    "Explorer",
    "ExplorerFile",
    "ExplorerHttp405",
    "ExplorerLike",
]

#: A public CDN that serves npm packages under ``/<name>@<version>/<path>``.
DEFAULT_ASSET_BASE_URL: Final = "https://unpkg.com"
#: The query parameter that asks the endpoint for one of the explorer's files.
ASSET_PARAMETER: Final = "explorer-asset"
#: The npm packages the page loads, pinned with their integrity hashes.
BUNDLES: Final[tuple[Bundle, ...]] = PINNED_BUNDLES

#: Versioned names never change content, so browsers may keep them for a year.
_IMMUTABLE: Final = b"public, max-age=31536000, immutable"
_CONTENT_TYPES: Final = {
    ".js": b"text/javascript; charset=utf-8",
    ".css": b"text/css; charset=utf-8",
}
#: clew's own files, shipped in this package; versioned by clew's version.
_OWN_FILES: Final = ("explorer.js", "explorer.css")
_OWN_PREFIX: Final = f"clew@{__version__}"

_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title}</title>
{links}
</head>
<body>
  <div id="graphiql"{default_query}>
    <div class="clew-explorer-status" id="clew-explorer-status" role="status">
      <p><strong>Loading the explorer…</strong></p>
      <p>If this message stays, the explorer's scripts (GraphiQL, React and graphql-ws) could
      not be loaded from {source}: the browser may be offline, behind a firewall, or under a
      Content-Security-Policy that blocks them, or JavaScript is off.</p>
      <p>To run the explorer with no CDN, download the scripts once with
      <code>clew explorer-assets DIR</code> and serve them from this app with
      <code>Explorer(asset_dir=DIR)</code>.</p>
    </div>
  </div>
{scripts}
</body>
</html>
"""


@runtime_checkable
class ExplorerLike(Protocol):
    """Ariadne's explorer protocol: the page for a GET from a browser, or None for 405."""

    def html(self, request: Request) -> str | Awaitable[str | None] | None:
        """The HTML page to answer `request` with; None answers 405 Method Not Allowed."""
        ...


@final
class ExplorerHttp405:
    """An explorer that never shows a page: a browser's GET gets 405 (Ariadne's)."""

    def html(self, request: Request | None = None) -> None:
        """No page."""
        return


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ExplorerFile:
    """One file the endpoint serves for the explorer: its bytes and response headers."""

    body: bytes
    content_type: bytes

    @property
    def headers(self) -> list[tuple[bytes, bytes]]:
        """The headers of a response carrying the file."""
        return [
            (b"content-type", self.content_type),
            (b"cache-control", _IMMUTABLE),
            (b"x-content-type-options", b"nosniff"),
        ]


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Explorer:
    """A GraphiQL page; its scripts load from a CDN, or from `asset_dir` through the app.

    Subscriptions run over the `graphql-transport-ws` subprotocol on the same endpoint.
    """

    #: The page title.
    title: str = "clew GraphQL explorer"
    #: Where the GraphiQL, React and graphql-ws bundles load from (a CDN in its
    #: ``<name>@<version>/<path>`` layout) when `asset_dir` is not set.
    asset_base_url: str = DEFAULT_ASSET_BASE_URL
    #: A folder filled by ``clew explorer-assets DIR``: the app serves the bundles itself, and
    #: the page needs nothing but the endpoint.
    asset_dir: str | os.PathLike[str] | None = None
    #: The query shown when the page first opens (None: GraphiQL's own welcome text).
    default_query: str | None = None

    def html(self, request: Request | None = None) -> str:
        """The page, the same for every request (Ariadne's explorer protocol)."""
        return self.render()

    def render(self) -> str:
        """The complete HTML page."""
        links, scripts = [], []
        for url, integrity, stylesheet in self._references():
            extra = f' integrity="{integrity}" crossorigin="anonymous"' if integrity else ""
            if stylesheet:
                links.append(f'  <link rel="stylesheet" href="{url}"{extra}>')
            else:
                # `defer` keeps the order and lets the start-up script run even when a bundle
                # failed, so it can say which one.
                scripts.append(f'  <script defer src="{url}"{extra}></script>')
        query = self.default_query
        source = "this server" if self.asset_dir is not None else self.asset_base_url
        return _PAGE.format(
            title=html.escape(self.title),
            links="\n".join(links),
            scripts="\n".join(scripts),
            source=html.escape(source),
            default_query=(
                "" if query is None else f' data-default-query="{html.escape(query, quote=True)}"'
            ),
        )

    def content_security_policy(self) -> str:
        """The policy sent with the page: scripts only from the endpoint (and the CDN)."""
        origins = ["'self'"]
        if self.asset_dir is None:
            parts = urlsplit(self.asset_base_url)
            if parts.scheme and parts.netloc:
                origins.append(f"{parts.scheme}://{parts.netloc}")
        allowed = " ".join(origins)
        return (
            f"default-src 'none'; script-src {allowed}; "
            # GraphiQL's editors set element styles at run time; its fonts are data: URLs.
            f"style-src {allowed} 'unsafe-inline'; font-src data:; img-src 'self' data:; "
            "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
        )

    def files(self) -> dict[str, ExplorerFile]:
        """What the endpoint serves under `ASSET_PARAMETER`, by name (read once, at start-up).

        Raises `FileNotFoundError` naming the command to run when `asset_dir` lacks a file.
        """
        served: dict[str, ExplorerFile] = {}
        package = resources.files(__package__ or "clew.server")
        for name in _OWN_FILES:
            body = package.joinpath(name).read_bytes()
            served[f"{_OWN_PREFIX}/{name}"] = _file(name, body)
        if self.asset_dir is None:
            return served
        folder = Path(self.asset_dir)
        for bundle in BUNDLES:
            for bundle_file in bundle.files:
                name = f"{bundle.key}/{bundle_file.path}"
                try:
                    body = (folder / name).read_bytes()
                except FileNotFoundError:
                    raise FileNotFoundError(
                        f"The explorer's asset folder {str(folder)!r} has no {name}: "
                        f"fill it with `clew explorer-assets {folder}`"
                    ) from None
                served[name] = _file(name, body)
        return served

    def _references(self) -> list[tuple[str, str | None, bool]]:
        # (url, integrity or None, is a stylesheet), in load order; clew's own files last.
        local = self.asset_dir is not None
        base = self.asset_base_url.rstrip("/")
        found: list[tuple[str, str | None, bool]] = []
        for bundle in BUNDLES:
            for bundle_file in bundle.files:
                name = f"{bundle.key}/{bundle_file.path}"
                if local:
                    found.append((_endpoint_url(name), None, bundle_file.is_stylesheet))
                else:
                    url = html.escape(f"{base}/{name}", quote=True)
                    found.append((url, bundle_file.sri, bundle_file.is_stylesheet))
        for own in _OWN_FILES:
            found.append((_endpoint_url(f"{_OWN_PREFIX}/{own}"), None, own.endswith(".css")))
        return found


def _endpoint_url(name: str) -> str:
    # A reference made of a query alone keeps the page's own path, wherever the app is mounted.
    return html.escape(f"?{ASSET_PARAMETER}={name}", quote=True)


def _file(name: str, body: bytes) -> ExplorerFile:
    return ExplorerFile(body=body, content_type=_CONTENT_TYPES[Path(name).suffix])
