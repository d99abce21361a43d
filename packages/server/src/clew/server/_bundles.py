"""The npm packages the explorer page runs on, pinned: versions, tarball hashes, file hashes.

One table serves both the page (which files to load, with which Subresource Integrity hash
when they come from a CDN) and `clew explorer-assets` (which tarballs to fetch, and the
`dist.integrity` each must match).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, final

__all__ = ["PINNED_BUNDLES", "Bundle", "BundleFile"]


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class BundleFile:
    """One file of a package that the page loads."""

    #: The path inside the package (the tarball's ``package/`` prefix removed).
    path: str
    #: Subresource Integrity of the file (``sha384-...``), checked by the browser on a CDN load.
    sri: str

    @property
    def is_stylesheet(self) -> bool:
        """Whether the page links the file as CSS rather than running it as a script."""
        return self.path.endswith(".css")


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Bundle:
    """One npm package at one version, the registry's hash of its tarball, and its used files."""

    name: str
    version: str
    #: The registry's ``dist.integrity`` of the tarball (SRI form, sha512).
    integrity: str
    files: tuple[BundleFile, ...]

    @property
    def key(self) -> str:
        """``name@version``: the folder of the package in a CDN's layout and in an asset dir."""
        return f"{self.name}@{self.version}"


#: Load order matters: React before ReactDOM before GraphiQL (graphql-ws stands alone).
PINNED_BUNDLES: Final = (
    Bundle(
        name="react",
        version="18.3.1",
        integrity="sha512-wS+hAgJShR0KhEvPJArfuPVN1+Hz1t0Y6n5jLrGQbkb4urgPE/0Rve+1kMB1v/oWgHgm4WIcV+i7F2pTVj+2iQ==",
        files=(
            BundleFile(
                path="umd/react.production.min.js",
                sri="sha384-DGyLxAyjq0f9SPpVevD6IgztCFlnMF6oW/XQGmfe+IsZ8TqEiDrcHkMLKI6fiB/Z",
            ),
        ),
    ),
    Bundle(
        name="react-dom",
        version="18.3.1",
        integrity="sha512-5m4nQKp+rZRb09LNH59GM4BxTh9251/ylbKIbpe7TpGxfJ+9kv6BLkLBXIjjspbgbnIBNqlI23tRnTWT0snUIw==",
        files=(
            BundleFile(
                path="umd/react-dom.production.min.js",
                sri="sha384-gTGxhz21lVGYNMcdJOyq01Edg0jhn/c22nsx0kyqP0TxaV5WVdsSH1fSDUf5YJj1",
            ),
        ),
    ),
    Bundle(
        name="graphql-ws",
        version="5.16.0",
        integrity="sha512-Ju2RCU2dQMgSKtArPbEtsK5gNLnsQyTNIo/T7cZNp96niC1x0KdJNZV0TIoilceBPQwfb5itrGl8pkFeOUMl4A==",
        files=(
            BundleFile(
                path="umd/graphql-ws.min.js",
                sri="sha384-oEPbisbEBMo7iCrbQcKx244HXUjGnF1jyS8hkVZ3oCwnw9c9oLfY70c1RKeKj3+i",
            ),
        ),
    ),
    Bundle(
        name="graphiql",
        version="3.8.3",
        integrity="sha512-cuPDYtXVKV86Pu5PHBX642Odi/uVEE2y1Jxq5rGO/Qy1G2lRp7ZZ7a/T30RzxhuLSWo9zUbzq0P3U49//H0Ugw==",
        files=(
            BundleFile(
                path="graphiql.min.css",
                sri="sha384-Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM",
            ),
            BundleFile(
                path="graphiql.min.js",
                sri="sha384-HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie",
            ),
        ),
    ),
)
