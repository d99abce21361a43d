"""Which HTTP status a GraphQL response gets, by media type and by how far the request got.

Theory of operation. With `application/graphql-response+json` the status carries meaning:

- `data` present (even null): 2xx. 200 without errors; with errors it is a partial result,
  200 in the current spec and **294** in the 2026 draft (`StatusRules.partial_result_status`).
  `data: null` only appears after execution began (a non-null error reached the root), so it is
  treated as a partial result too, never as a 4xx.
- `data` absent: execution never started, so 4xx. A request that is not well-formed or whose
  document does not parse is 400; a document that fails validation, names no runnable operation
  or has variables that do not coerce is 400 in the current spec and **422** in the 2026 draft
  (`StatusRules.validation_failure_status`).

With `application/json` the published spec's legacy section says 200 for every well-formed
request, whatever its errors, since a 4xx/5xx JSON body may come from a proxy (only a malformed
request gets 400). The 2026 draft drops that section: a client that accepts only
`application/json` gets the rules above, with replies still labelled `application/json`
(`StatusRules.legacy_json_status=False`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Literal, final

from ._media import MediaType

__all__ = ["FailureKind", "StatusRules", "response_status"]


class FailureKind(Enum):
    """Why a request produced no `data`: the phase that stopped it."""

    #: The request is not a well-formed GraphQL-over-HTTP request (bad JSON, wrong parameter types).
    REQUEST_INVALID = "request-invalid"
    #: The document is not syntactically valid GraphQL.
    DOCUMENT_PARSE = "document-parse"
    #: The document fails validation, or the operation to run is unknown or ambiguous.
    VALIDATION = "validation"
    #: The variables do not coerce to the operation's variable types.
    VARIABLE_COERCION = "variable-coercion"


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class StatusRules:
    """The two status choices the spec drafts disagree on; defaults follow the published draft."""

    #: Status for validation and variable-coercion failures (400 before 2026, 422 after).
    validation_failure_status: Literal[400, 422] = 400
    #: Status for a result that has both data and errors (200 before 2026, 294 after).
    partial_result_status: Literal[200, 294] = 200
    #: Whether `application/json` replies use the legacy "200 for every well-formed request"
    #: rule (True before 2026) or the `application/graphql-response+json` codes (False after).
    legacy_json_status: bool = True

    @classmethod
    def draft_2026(cls) -> StatusRules:
        """The 2026 draft: 422 for validation failures, 294 for partial results, no JSON legacy."""
        return cls(
            validation_failure_status=422, partial_result_status=294, legacy_json_status=False
        )


#: The media types that carry a GraphQL response, and the failures a validation status covers.
_RESPONSE_TYPES = frozenset({MediaType.JSON, MediaType.GRAPHQL_RESPONSE_JSON})
_VALIDATION_FAILURES = frozenset({FailureKind.VALIDATION, FailureKind.VARIABLE_COERCION})


def response_status(
    media_type: MediaType,
    *,
    data_present: bool,
    errors_present: bool,
    failure: FailureKind | None = None,
    rules: StatusRules = StatusRules(),
) -> int:
    """The status for a GraphQL response sent as `media_type` (see the module notes).

    `data_present` is whether the response has a `data` entry (null counts); `failure` says
    why it has none and is required then. `ValueError` for a media type that carries no
    GraphQL response or a data-less response without a failure kind.
    """
    if media_type not in _RESPONSE_TYPES:
        raise ValueError(f"{media_type} does not carry a GraphQL response")
    if not data_present and failure is None:
        raise ValueError("A response without data needs the FailureKind that stopped it")
    if media_type is MediaType.JSON and rules.legacy_json_status:
        # Legacy rule: 200 for every well-formed request; only a malformed one gets a 4xx.
        return 400 if failure is FailureKind.REQUEST_INVALID and not data_present else 200
    if data_present:
        return rules.partial_result_status if errors_present else 200
    if failure in _VALIDATION_FAILURES:
        return rules.validation_failure_status
    return 400
