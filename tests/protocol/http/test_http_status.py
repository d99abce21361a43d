"""Status codes for GraphQL responses, per media type and per StatusRules."""

from __future__ import annotations

import pytest

from clew.protocol.http import FailureKind, MediaType, StatusRules, response_status

GRAPHQL = MediaType.GRAPHQL_RESPONSE_JSON
JSON = MediaType.JSON
CURRENT = StatusRules()
DRAFT_2026 = StatusRules.draft_2026()
REQUEST_ERRORS = [
    FailureKind.REQUEST_INVALID,
    FailureKind.DOCUMENT_PARSE,
    FailureKind.VALIDATION,
    FailureKind.VARIABLE_COERCION,
]


def test_default_rules_follow_the_published_draft() -> None:
    assert (
        StatusRules(
            validation_failure_status=400, partial_result_status=200, legacy_json_status=True
        )
        == CURRENT
    )


def test_draft_2026_preset() -> None:
    assert (
        StatusRules(
            validation_failure_status=422, partial_result_status=294, legacy_json_status=False
        )
        == DRAFT_2026
    )


@pytest.mark.parametrize("rules", [CURRENT, DRAFT_2026])
def test_non_null_data_without_errors_is_200(rules: StatusRules) -> None:
    assert response_status(GRAPHQL, data_present=True, errors_present=False, rules=rules) == 200
    assert response_status(JSON, data_present=True, errors_present=False, rules=rules) == 200


@pytest.mark.parametrize(("rules", "status"), [(CURRENT, 200), (DRAFT_2026, 294)])
def test_data_with_errors_is_a_2xx_partial_result(rules: StatusRules, status: int) -> None:
    # Also when data is null: a non-null field error reached the root after execution began.
    assert response_status(GRAPHQL, data_present=True, errors_present=True, rules=rules) == status


@pytest.mark.parametrize(
    ("failure", "current", "draft"),
    [
        (FailureKind.REQUEST_INVALID, 400, 400),
        (FailureKind.DOCUMENT_PARSE, 400, 400),
        (FailureKind.VALIDATION, 400, 422),
        (FailureKind.VARIABLE_COERCION, 400, 422),
    ],
)
def test_no_data_is_4xx_with_graphql_response_json(
    failure: FailureKind, current: int, draft: int
) -> None:
    for rules, status in ((CURRENT, current), (DRAFT_2026, draft)):
        assert (
            response_status(
                GRAPHQL, data_present=False, errors_present=True, failure=failure, rules=rules
            )
            == status
        )


@pytest.mark.parametrize("failure", REQUEST_ERRORS[1:])
@pytest.mark.parametrize(
    "rules", [CURRENT, StatusRules(validation_failure_status=422, partial_result_status=294)]
)
def test_legacy_application_json_is_200_for_every_well_formed_request(
    failure: FailureKind, rules: StatusRules
) -> None:
    status = response_status(
        JSON, data_present=False, errors_present=True, failure=failure, rules=rules
    )
    assert status == 200
    partial = response_status(JSON, data_present=True, errors_present=True, rules=rules)
    assert partial == 200


@pytest.mark.parametrize(
    ("data_present", "errors_present", "failure", "status"),
    [
        (True, False, None, 200),
        (True, True, None, 294),
        (False, True, FailureKind.REQUEST_INVALID, 400),
        (False, True, FailureKind.DOCUMENT_PARSE, 400),
        (False, True, FailureKind.VALIDATION, 422),
        (False, True, FailureKind.VARIABLE_COERCION, 422),
    ],
)
def test_draft_2026_json_only_clients_get_graphql_response_statuses(
    data_present: bool, errors_present: bool, failure: FailureKind | None, status: int
) -> None:
    for media_type in (JSON, GRAPHQL):
        actual = response_status(
            media_type,
            data_present=data_present,
            errors_present=errors_present,
            failure=failure,
            rules=DRAFT_2026,
        )
        assert actual == status


def test_application_json_malformed_request_is_400() -> None:
    status = response_status(
        JSON, data_present=False, errors_present=True, failure=FailureKind.REQUEST_INVALID
    )
    assert status == 400


def test_failure_is_ignored_when_data_is_present() -> None:
    status = response_status(
        GRAPHQL, data_present=True, errors_present=True, failure=FailureKind.VALIDATION
    )
    assert status == 200


def test_no_data_needs_a_failure_kind() -> None:
    with pytest.raises(ValueError, match="needs the FailureKind"):
        response_status(GRAPHQL, data_present=False, errors_present=True)


@pytest.mark.parametrize("media_type", [MediaType.HTML, MediaType.MULTIPART_FORM_DATA])
def test_only_graphql_response_types_have_statuses(media_type: MediaType) -> None:
    with pytest.raises(ValueError, match="does not carry a GraphQL response"):
        response_status(media_type, data_present=True, errors_present=False)
