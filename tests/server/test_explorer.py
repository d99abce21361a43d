"""The explorer page (no inline script, a CSP), its files served under the endpoint, and the
verified download of its npm packages (`clew explorer-assets`) from a registry on loopback."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from graphql import build_schema
from starlette.testclient import TestClient

from clew.server import Explorer, GraphQL
from clew.server._bundles import Bundle, BundleFile
from clew.server._explorer_assets import AssetDownloadError, download_explorer_assets
from clew.server.cli import main as server_main
from clew.server.explorer import ASSET_PARAMETER, BUNDLES, DEFAULT_ASSET_BASE_URL

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
SCHEMA = build_schema("type Query { hello: String }")


def fill(folder: Path) -> None:
    """A folder laid out as `clew explorer-assets` leaves it (contents are not checked)."""
    for bundle in BUNDLES:
        for bundle_file in bundle.files:
            path = folder / bundle.key / bundle_file.path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"/* {bundle.key} {bundle_file.path} */")


# -- the page ----------------------------------------------------------------------------------


def test_the_default_page_loads_the_bundles_from_the_cdn_with_integrity() -> None:
    page = Explorer().render()
    assert page.startswith("<!doctype html>")
    for bundle in BUNDLES:
        for bundle_file in bundle.files:
            url = f"{DEFAULT_ASSET_BASE_URL}/{bundle.key}/{bundle_file.path}"
            assert f'"{url}" integrity="{bundle_file.sri}" crossorigin="anonymous"' in page
    assert [b.key for b in BUNDLES] == [
        "react@18.3.1",
        "react-dom@18.3.1",
        "graphql-ws@5.16.0",
        "graphiql@3.8.3",
    ]


def test_the_page_has_no_inline_script_or_style() -> None:
    for explorer in (Explorer(), Explorer(asset_dir="/nowhere")):
        page = explorer.render()
        assert "<script>" not in page
        assert page.count("<script defer src=") == 5  # four bundles, then clew's start-up
        assert "<style" not in page
        assert f'src="?{ASSET_PARAMETER}=clew@' in page


def test_with_an_asset_dir_everything_comes_from_the_endpoint() -> None:
    page = Explorer(asset_dir="/nowhere").render()
    assert "unpkg" not in page
    assert "integrity=" not in page
    assert f'src="?{ASSET_PARAMETER}=graphiql@3.8.3/graphiql.min.js"' in page
    assert f'href="?{ASSET_PARAMETER}=graphiql@3.8.3/graphiql.min.css"' in page


def test_the_waiting_text_names_the_fix() -> None:
    page = Explorer().render()
    assert "If this message stays" in page
    assert "<code>clew explorer-assets DIR</code>" in page
    assert "<code>Explorer(asset_dir=DIR)</code>" in page


def test_text_is_escaped() -> None:
    page = Explorer(title="<b>x</b>", default_query='"><script>alert(1)</script>').render()
    assert "<title>&lt;b&gt;x&lt;/b&gt;</title>" in page
    assert "<script>alert" not in page
    assert 'data-default-query="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in page


def test_the_policy_allows_scripts_from_the_endpoint_and_the_cdn_only() -> None:
    policy = Explorer().content_security_policy()
    assert "script-src 'self' https://unpkg.com;" in policy
    assert "connect-src 'self'" in policy
    assert "unsafe-eval" not in policy
    assert "script-src 'self';" in Explorer(asset_dir="/x").content_security_policy()


# -- the files, served under the endpoint --------------------------------------------------------


def test_the_app_serves_the_bundles_with_long_lived_cache_headers(tmp_path: Path) -> None:
    fill(tmp_path)
    client = TestClient(GraphQL(SCHEMA, explorer=Explorer(asset_dir=tmp_path)))
    page = client.get("/graphql", headers=BROWSER)
    assert page.headers["content-security-policy"].startswith("default-src 'none'; script-src")
    name = "graphiql@3.8.3/graphiql.min.js"
    response = client.get("/graphql", params={ASSET_PARAMETER: name})
    assert response.status_code == 200
    assert response.text == "/* graphiql@3.8.3 graphiql.min.js */"
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["x-content-type-options"] == "nosniff"
    css = client.get("/", params={ASSET_PARAMETER: "graphiql@3.8.3/graphiql.min.css"})
    assert css.headers["content-type"] == "text/css; charset=utf-8"


def test_the_start_up_script_is_served_in_cdn_mode_too() -> None:
    client = TestClient(GraphQL(SCHEMA))
    page = client.get("/", headers=BROWSER).text
    start = page.index(f'src="?{ASSET_PARAMETER}=clew@') + len('src="?')
    name = page[start : page.index('"', start)].split("=", 1)[1]
    script = client.get("/", params={ASSET_PARAMETER: name})
    assert script.status_code == 200
    assert "graphqlWs.createClient" in script.text
    assert "clew explorer-assets DIR" in script.text  # what it says when bundles are missing


def test_unknown_files_are_404_and_nothing_outside_the_list_is_read(tmp_path: Path) -> None:
    fill(tmp_path)
    (tmp_path / "secret.txt").write_text("no")
    client = TestClient(GraphQL(SCHEMA, explorer=Explorer(asset_dir=tmp_path)))
    for name in ("secret.txt", "../secret.txt", "graphiql@3.8.3/package.json"):
        response = client.get("/", params={ASSET_PARAMETER: name})
        assert response.status_code == 404
        assert "has no file named" in response.json()["errors"][0]["message"]


def test_an_unfilled_asset_dir_fails_at_start_naming_the_command(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"fill it with `clew explorer-assets .*`"):
        GraphQL(SCHEMA, explorer=Explorer(asset_dir=tmp_path))


# -- clew explorer-assets, against a registry on loopback -----------------------------------------


def sri(algorithm: str, body: bytes) -> str:
    return f"{algorithm}-{base64.b64encode(hashlib.new(algorithm, body).digest()).decode()}"


def tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, body in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(body)
            archive.addfile(info, io.BytesIO(body))
    return buffer.getvalue()


class Registry:
    """npm-style metadata and tarballs served over HTTP on 127.0.0.1."""

    def __init__(self) -> None:
        self.documents: dict[str, bytes] = {}
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = registry.documents.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def publish(self, name: str, version: str, archive: bytes, integrity: str) -> None:
        path = f"/{name}/-/{name}-{version}.tgz"
        dist = {"tarball": self.url + path, "integrity": integrity}
        self.documents[f"/{name}/{version}"] = json.dumps({"dist": dist}).encode()
        self.documents[path] = archive


@pytest.fixture
def registry() -> Iterator[Registry]:
    served = Registry()
    thread = threading.Thread(target=served.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        served.server.shutdown()
        served.server.server_close()
        thread.join()


SCRIPT = b"window.Demo = 1;"


def demo_bundle(archive: bytes, *, integrity: str | None = None) -> Bundle:
    return Bundle(
        name="demo",
        version="1.0.0",
        integrity=integrity or sri("sha512", archive),
        files=(BundleFile(path="dist/demo.min.js", sri=sri("sha384", SCRIPT)),),
    )


def test_only_the_needed_files_are_unpacked_once_verified(
    registry: Registry, tmp_path: Path
) -> None:
    archive = tarball({"dist/demo.min.js": SCRIPT, "README.md": b"x", "dist/other.js": b"y"})
    bundle = demo_bundle(archive)
    registry.publish("demo", "1.0.0", archive, bundle.integrity)
    written = download_explorer_assets(tmp_path, registry=registry.url, bundles=[bundle])
    assert written == [tmp_path / "demo@1.0.0" / "dist" / "demo.min.js"]
    assert written[0].read_bytes() == SCRIPT
    files = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert files == ["demo@1.0.0/dist/demo.min.js"]


def test_a_tampered_tarball_is_refused_and_nothing_is_written(
    registry: Registry, tmp_path: Path
) -> None:
    archive = tarball({"dist/demo.min.js": SCRIPT})
    bundle = demo_bundle(archive)
    tampered = tarball({"dist/demo.min.js": b"steal()"})
    registry.publish("demo", "1.0.0", tampered, bundle.integrity)
    with pytest.raises(AssetDownloadError, match="does not match its integrity"):
        download_explorer_assets(tmp_path, registry=registry.url, bundles=[bundle])
    assert list(tmp_path.iterdir()) == []


def test_published_integrity_must_equal_the_pinned_one(registry: Registry, tmp_path: Path) -> None:
    archive = tarball({"dist/demo.min.js": SCRIPT})
    bundle = demo_bundle(archive)
    registry.publish("demo", "1.0.0", archive, sri("sha512", b"another"))
    with pytest.raises(AssetDownloadError, match="but clew pins"):
        download_explorer_assets(tmp_path, registry=registry.url, bundles=[bundle])


def test_a_file_not_matching_its_pinned_hash_is_refused(registry: Registry, tmp_path: Path) -> None:
    archive = tarball({"dist/demo.min.js": b"window.Other = 1;"})
    bundle = demo_bundle(archive)  # the tarball is as published, the file is not as pinned
    registry.publish("demo", "1.0.0", archive, bundle.integrity)
    with pytest.raises(AssetDownloadError, match="does not match its pinned hash"):
        download_explorer_assets(tmp_path, registry=registry.url, bundles=[bundle])
    assert list(tmp_path.iterdir()) == []


def test_a_missing_file_or_package_is_explained(registry: Registry, tmp_path: Path) -> None:
    archive = tarball({"other.js": SCRIPT})
    bundle = demo_bundle(archive)
    with pytest.raises(AssetDownloadError, match="answered HTTP 404"):
        download_explorer_assets(tmp_path, registry=registry.url, bundles=[bundle])
    registry.publish("demo", "1.0.0", archive, bundle.integrity)
    with pytest.raises(AssetDownloadError, match="lacks"):
        download_explorer_assets(tmp_path, registry=registry.url, bundles=[bundle])


def test_the_command_reports_failures_in_words(
    registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The pinned packages are not on this registry: an error message and status 1, no traceback.
    status = server_main(["explorer-assets", str(tmp_path), "--registry", registry.url])
    assert status == 1
    assert "clew explorer-assets: GET" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
