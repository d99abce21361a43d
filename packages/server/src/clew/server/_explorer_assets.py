"""`clew explorer-assets DEST`: fetch the explorer's pinned npm packages, verified, for offline use.

For each pinned package the registry's metadata must publish the `dist.integrity` clew pins,
the tarball must hash to it (sha512), and every file the page needs must match its pinned
sha384; only those files are unpacked, in a CDN's ``<name>@<version>/<path>`` layout.
Everything is checked before anything is written, so a failed run leaves DEST as it was.
Only the standard library is used: fetching needs no HTTP client extra.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import tarfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from ._bundles import Bundle
from .explorer import BUNDLES

__all__ = ["DEFAULT_REGISTRY", "AssetDownloadError", "download_explorer_assets"]

#: The public npm registry.
DEFAULT_REGISTRY: Final = "https://registry.npmjs.org"
#: A tarball bigger than this is refused rather than read into memory.
_MAX_TARBALL_BYTES: Final = 64 * 1024 * 1024


class AssetDownloadError(Exception):
    """The packages could not be fetched, or did not match their pinned hashes."""


def download_explorer_assets(
    dest: str | os.PathLike[str],
    *,
    registry: str = DEFAULT_REGISTRY,
    bundles: Sequence[Bundle] = BUNDLES,
    timeout: float = 60.0,
) -> list[Path]:
    """Fetch, verify and unpack the explorer's files into `dest`; the paths written."""
    base = registry.rstrip("/")
    verified: dict[Path, bytes] = {}
    folder = Path(dest)
    for bundle in bundles:
        tarball = _fetch_tarball(base, bundle, timeout)
        for name, body in _unpack(bundle, tarball).items():
            verified[folder / bundle.key / name] = body
    for path, body in verified.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_bytes(body)
        partial.replace(path)
    return list(verified)


def _fetch_tarball(base: str, bundle: Bundle, timeout: float) -> bytes:
    metadata_url = f"{base}/{bundle.name}/{bundle.version}"
    try:
        metadata = json.loads(_get(metadata_url, timeout))
        dist = metadata["dist"]
        published, tarball_url = dist["integrity"], dist["tarball"]
    except (ValueError, KeyError, TypeError) as error:
        raise AssetDownloadError(
            f"{metadata_url} is not npm package metadata with dist.integrity and dist.tarball "
            f"({error!r})"
        ) from None
    if published != bundle.integrity:
        raise AssetDownloadError(
            f"The registry publishes integrity {published} for {bundle.key}, but clew pins "
            f"{bundle.integrity}; refusing the package"
        )
    if not isinstance(tarball_url, str) or not tarball_url.startswith(("https://", "http://")):
        raise AssetDownloadError(f"{bundle.key}: the tarball URL {tarball_url!r} is not HTTP(S)")
    tarball = _get(tarball_url, timeout)
    if not _matches(bundle.integrity, tarball):
        raise AssetDownloadError(
            f"The tarball of {bundle.key} from {tarball_url} does not match its integrity "
            f"{bundle.integrity}; refusing the package"
        )
    return tarball


def _unpack(bundle: Bundle, tarball: bytes) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
            for bundle_file in bundle.files:
                member = archive.extractfile(f"package/{bundle_file.path}")
                if member is None:
                    raise KeyError(bundle_file.path)
                found[bundle_file.path] = member.read()
    except (tarfile.TarError, KeyError) as error:
        raise AssetDownloadError(f"The tarball of {bundle.key} lacks {error}") from None
    for bundle_file in bundle.files:
        if not _matches(bundle_file.sri, found[bundle_file.path]):
            raise AssetDownloadError(
                f"{bundle.key}/{bundle_file.path} does not match its pinned hash {bundle_file.sri}"
            )
    return found


def _matches(integrity: str, body: bytes) -> bool:
    """Whether `body` has one of the Subresource Integrity hashes listed in `integrity`."""
    for entry in integrity.split():
        algorithm, _, digest = entry.partition("-")
        if algorithm in {"sha256", "sha384", "sha512"}:
            actual = base64.b64encode(hashlib.new(algorithm, body).digest()).decode()
            if actual == digest:
                return True
    return False


def _get(url: str, timeout: float) -> bytes:
    request = urllib.request.Request(url, headers={"Accept": "application/json, */*"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body: bytes = response.read(_MAX_TARBALL_BYTES + 1)
    except urllib.error.HTTPError as error:
        raise AssetDownloadError(f"GET {url} answered HTTP {error.code}") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise AssetDownloadError(
            f"Could not fetch {url} ({reason}); pass --registry to use a reachable npm registry"
        ) from None
    if len(body) > _MAX_TARBALL_BYTES:
        raise AssetDownloadError(f"{url} is larger than {_MAX_TARBALL_BYTES} bytes")
    return body
