"""Trusted-document manifests: the two JSON formats build tools emit, read and written.

- Apollo's ``persisted-query-manifest.json``: ``{"format": "apollo-persisted-query-manifest",
  "version": 1, "operations": [{"id", "name", "type", "body"}]}``, where the default `id` is
  the unprefixed SHA-256 hex of `body` (apollo-utils `generate-persisted-query-manifest`).
- graphql-codegen's client preset ``persisted-documents.json``: a flat ``{"<id>": "<document>"}``
  whose ids are ``sha256:<hex>`` (client-preset 6+) or plain hex.

Both become one mapping of id to document text. An id that claims to be a SHA-256 hash must be
the hash of its text; any other id is kept as written (custom ids are the server's business).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final, Literal, cast, final

from clew.protocol._codec import describe
from clew.protocol._types import JSONObject, JSONValue

from ._persisted import document_id_hash, sha256_hash

__all__ = [
    "APOLLO_MANIFEST_FORMAT",
    "ManifestOperation",
    "apollo_manifest",
    "documents_by_id",
    "parse_manifest",
]

#: The `format` marker of Apollo's persisted-query manifest.
APOLLO_MANIFEST_FORMAT: Final = "apollo-persisted-query-manifest"


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ManifestOperation:
    """One operation of a manifest: its name, kind and printed document."""

    name: str
    type: Literal["query", "mutation", "subscription"]
    #: The document text clients send (and hash): the operation with the fragments it uses.
    body: str

    @property
    def id(self) -> str:
        """The SHA-256 hex of `body`, the id Apollo's manifest uses by default."""
        return sha256_hash(self.body)


def apollo_manifest(operations: Iterable[ManifestOperation]) -> JSONObject:
    """An Apollo persisted-query manifest (version 1) listing `operations` in the given order."""
    entries: list[JSONValue] = [
        {"id": op.id, "name": op.name, "type": op.type, "body": op.body} for op in operations
    ]
    return {"format": APOLLO_MANIFEST_FORMAT, "version": 1, "operations": entries}


def parse_manifest(value: object) -> dict[str, str]:
    """Documents by id from a decoded manifest of either format; `ValueError` says what is wrong.

    Ids written ``sha256:<hex>`` are stored as the bare hex that the APQ extension carries.
    """
    if not isinstance(value, dict):
        raise ValueError(f"A manifest must be a JSON object, got {describe(value)}")
    manifest = cast("Mapping[str, JSONValue]", value)
    if "format" in manifest:
        return _parse_apollo(manifest)
    for key, body in manifest.items():
        if not isinstance(body, str):
            raise ValueError(f"Manifest entry {key!r} must be a document string")
    return documents_by_id(cast("Mapping[str, str]", manifest))


def documents_by_id(documents: Mapping[str, str]) -> dict[str, str]:
    """`documents` keyed as a server looks them up: an id that is a hash (``sha256:<hex>`` or
    bare hex) as its bare hex, which must be its text's SHA-256 (`ValueError` otherwise); any
    other id as written."""
    return {_checked_id(key, body): body for key, body in documents.items()}


def _parse_apollo(manifest: Mapping[str, JSONValue]) -> dict[str, str]:
    if manifest["format"] != APOLLO_MANIFEST_FORMAT or manifest.get("version") != 1:
        raise ValueError(
            f"Unsupported manifest format {manifest['format']!r} version "
            f"{manifest.get('version')!r}; expected {APOLLO_MANIFEST_FORMAT!r} version 1"
        )
    operations = manifest.get("operations")
    if not isinstance(operations, list):
        raise ValueError("An Apollo manifest needs an 'operations' array")
    documents: dict[str, str] = {}
    for index, operation in enumerate(operations):
        if not isinstance(operation, dict):
            raise ValueError(f"Manifest operation {index} must be an object")
        op_id, body = operation.get("id"), operation.get("body")
        if not isinstance(op_id, str) or not isinstance(body, str):
            raise ValueError(f"Manifest operation {index} needs string 'id' and 'body'")
        documents[_checked_id(op_id, body)] = body
    return documents


def _checked_id(document_id: str, body: str) -> str:
    digest = document_id_hash(document_id)
    if digest is None:
        return document_id
    if digest != sha256_hash(body):
        raise ValueError(f"Manifest id {document_id!r} is not the SHA-256 hash of its document")
    return digest
