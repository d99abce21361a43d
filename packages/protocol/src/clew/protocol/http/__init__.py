"""GraphQL over HTTP, sans-IO: the rules both the clew server and the clew client apply.

Requests:
    `GraphQLRequest` holds the four parameters. Build it from a JSON POST body
    (`GraphQLRequest.from_json`, or `from_mapping` for a body decoded elsewhere), from GET query
    parameters (`from_query_params`), or from a batch (`parse_json_body(allow_batch=True)`);
    write it with `to_json_body()` / `to_query_params()`. Invalid requests raise `RequestError`
    carrying the status code, message and headers of the reply (400, 405 + ``Allow``, 406, 413,
    415). `check_request_method` and `ensure_operation_allowed_for_method` enforce POST/GET and
    "no mutations over GET".

Media types:
    `MediaType` names them. `check_post_content_type` validates a request's Content-Type (UTF-8
    only); `negotiate_response_media_type` picks the reply type from Accept (q-values, wildcards,
    order; no header means `application/graphql-response+json`; None means answer 406);
    `accepts_html` spots browser navigation for an explorer page; `parse_media_type` splits a
    header value.

Responses:
    `response_status` maps a result to its status code under `StatusRules`, given the
    `FailureKind` that stopped a request without data. The defaults follow the published draft
    (400 for validation failures, 200 for partial results, 200 for every well-formed request
    answered as `application/json`); `StatusRules.draft_2026()` gives 422, 294 and the same
    codes for `application/json` as for `application/graphql-response+json`. `data: null`
    counts as data (execution began), so it is 2xx. Clients validate bodies with
    `GraphQLResponse.from_json` (`ResponseFormatError` when malformed) after checking
    `is_graphql_response(status, content_type)`.

Persisted documents (Apollo's automatic persisted queries, trusted documents):
    `PersistedQuery` is ``extensions.persistedQuery`` (`GraphQLRequest.persisted_query` reads
    it; a request carrying one may omit `query`); `sha256_hash` gives a query text's hash and
    `PersistedQuery.verify` refuses a text that does not match (400 "provided sha does not
    match query"). `PersistedQueryError.NOT_FOUND` / `NOT_SUPPORTED` carry the exact reply
    (`result`, `headers`; status 200) and `PersistedQueryError.in_result` spots them in a
    response. The spec's persisted-documents appendix names a document by
    `GraphQLRequest.document_id` (``documentId``) instead, held to its syntax by
    `check_document_id`; `document_id_hash` reads the hash a ``sha256:<hex>`` id names, and
    `documents_by_id` keys a manifest's documents the way a server looks them up.
    `parse_manifest` reads a trusted-documents manifest (Apollo's or the flat ``{id: text}``
    one); `apollo_manifest` writes Apollo's from `ManifestOperation`s.

Batching (an Apollo convention; off unless the server opts in):
    `parse_request_value(value, allow_batch=True, max_batch_size=N)` validates a decoded body
    that is one request or an array of them, refusing a bad batch as a whole with 400 before
    anything runs. The reply is a JSON array of results in request order, status 200, which
    clients read with `parse_batch_response(body, expected_length)`.

Uploads (graphql-multipart-request-spec):
    Servers call `parse_multipart_request(operations, map, files)` (or `apply_file_map` on
    decoded fields); clients call `build_multipart_request(request, is_file)`. Both are generic
    over the file type.
"""

from __future__ import annotations

from ._errors import RequestError, ResponseFormatError
from ._manifest import (
    APOLLO_MANIFEST_FORMAT,
    ManifestOperation,
    apollo_manifest,
    documents_by_id,
    parse_manifest,
)
from ._media import (
    MediaType,
    accepts_html,
    check_post_content_type,
    negotiate_response_media_type,
    parse_media_type,
)
from ._multipart import apply_file_map, build_multipart_request, parse_multipart_request
from ._persisted import (
    PERSISTED_QUERY_CACHE_CONTROL,
    PersistedQuery,
    PersistedQueryError,
    check_document_id,
    document_id_hash,
    sha256_hash,
)
from ._request import (
    GraphQLRequest,
    check_request_method,
    ensure_operation_allowed_for_method,
    parse_json_body,
    parse_request_value,
)
from ._response import GraphQLResponse, is_graphql_response, parse_batch_response
from ._status import FailureKind, StatusRules, response_status

__all__ = [
    "APOLLO_MANIFEST_FORMAT",
    "PERSISTED_QUERY_CACHE_CONTROL",
    "FailureKind",
    "GraphQLRequest",
    "GraphQLResponse",
    "ManifestOperation",
    "MediaType",
    "PersistedQuery",
    "PersistedQueryError",
    "RequestError",
    "ResponseFormatError",
    "StatusRules",
    "accepts_html",
    "apollo_manifest",
    "apply_file_map",
    "build_multipart_request",
    "check_document_id",
    "check_post_content_type",
    "check_request_method",
    "document_id_hash",
    "documents_by_id",
    "ensure_operation_allowed_for_method",
    "is_graphql_response",
    "negotiate_response_media_type",
    "parse_batch_response",
    "parse_json_body",
    "parse_manifest",
    "parse_media_type",
    "parse_multipart_request",
    "parse_request_value",
    "response_status",
    "sha256_hash",
]
