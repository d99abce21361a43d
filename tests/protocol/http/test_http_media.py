"""Media types: Content-Type checks for POST bodies and Accept negotiation for replies."""

from __future__ import annotations

import pytest

from clew.protocol.http import (
    MediaType,
    RequestError,
    accepts_html,
    check_post_content_type,
    negotiate_response_media_type,
    parse_media_type,
)

GRAPHQL = MediaType.GRAPHQL_RESPONSE_JSON
JSON = MediaType.JSON


# --- parse_media_type ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("application/json", ("application/json", {})),
        ("Application/JSON; Charset=UTF-8", ("application/json", {"charset": "UTF-8"})),
        ('multipart/form-data; boundary="a;b\\"c"', ("multipart/form-data", {"boundary": 'a;b"c'})),
        ("text/html;;q=0.5;", ("text/html", {"q": "0.5"})),
        (" application/json ;charset = utf-8", ("application/json", {"charset": "utf-8"})),
        ('a/b; x=""', ("a/b", {"x": ""})),
    ],
)
def test_parse_media_type(header: str, expected: tuple[str, dict[str, str]]) -> None:
    assert parse_media_type(header) == expected


@pytest.mark.parametrize(
    "header", ["", "json", "application/", "/json", "application/js on", "a/b; charset", "a/b; =x"]
)
def test_parse_media_type_rejects_malformed_values(header: str) -> None:
    with pytest.raises(ValueError, match="is not a media type"):
        parse_media_type(header)


# --- Content-Type of POST bodies -------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "application/json",
        "application/json; charset=utf-8",
        "application/json;charset=UTF-8",
        'application/json; charset="utf-8"',
        "APPLICATION/JSON; charset=utf8",
    ],
)
def test_post_json_is_supported_and_utf8_assumed(header: str) -> None:
    assert check_post_content_type(header) is JSON


def test_multipart_is_accepted_only_when_enabled() -> None:
    header = "multipart/form-data; boundary=----x"
    supported = (JSON, MediaType.MULTIPART_FORM_DATA)
    assert check_post_content_type(header, supported) is MediaType.MULTIPART_FORM_DATA
    with pytest.raises(RequestError) as info:
        check_post_content_type(header)
    assert info.value.status_code == 415


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("text/plain", "Unsupported Content-Type 'text/plain'; use application/json"),
        ("application/x-www-form-urlencoded", "Unsupported Content-Type"),
        ("application/graphql", "Unsupported Content-Type 'application/graphql'"),
        ("application/json; charset=latin-1", "Unsupported charset 'latin-1' for application/json"),
        ("application/json; charset=UTF-16", "Unsupported charset 'utf-16'"),
    ],
)
def test_unsupported_content_type_is_415(header: str, message: str) -> None:
    with pytest.raises(RequestError) as info:
        check_post_content_type(header)
    assert info.value.status_code == 415
    assert info.value.message.startswith(message)


@pytest.mark.parametrize("header", [None, "", "   "])
def test_missing_content_type_is_rejected(header: str | None) -> None:
    with pytest.raises(RequestError) as info:
        check_post_content_type(header)
    assert info.value.status_code == 415
    assert info.value.message == "A POST request needs a Content-Type header; use application/json"


def test_malformed_content_type_is_400() -> None:
    with pytest.raises(RequestError) as info:
        check_post_content_type("application")
    assert info.value.status_code == 400
    assert info.value.message.startswith("The Content-Type header is malformed")


# --- Accept negotiation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        # The recommended client header: both listed, graphql-response+json first.
        (
            "application/graphql-response+json; charset=utf-8, application/json; charset=utf-8",
            GRAPHQL,
        ),
        ("application/graphql-response+json, application/json;q=0.9", GRAPHQL),
        ("application/json", JSON),
        ("application/graphql-response+json", GRAPHQL),
        # q-values beat the order in the header.
        ("application/graphql-response+json;q=0.5, application/json", JSON),
        ("application/json;q=0.1, application/graphql-response+json;q=0.2", GRAPHQL),
        # Equal q: the range listed first wins.
        ("application/json, application/graphql-response+json", JSON),
        # Wildcards alone: application/json, as the spec says a server SHOULD answer.
        ("*/*", JSON),
        ("application/*", JSON),
        ("text/html, */*;q=0.8", JSON),
        # A type named exactly beats the wildcard's default.
        ("*/*, application/graphql-response+json", GRAPHQL),
        ("application/graphql-response+json, */*", GRAPHQL),
        # A more specific range overrides a wildcard.
        ("*/*, application/graphql-response+json;q=0", JSON),
        ("application/*;q=0.3, application/json;q=0.9", JSON),
        ("application/*, application/json", JSON),
        # Case-insensitive.
        ("Application/JSON", JSON),
        # Malformed ranges are skipped, the rest still count.
        ("garbage, application/json", JSON),
        ("application/graphql-response+json;q=abc, application/json", JSON),
        ("application/graphql-response+json;q=2, application/json", JSON),
        # A charset we do not write does not match.
        ("application/graphql-response+json;charset=latin-1, application/json", JSON),
    ],
)
def test_accept_priority_is_honoured(accept: str, expected: MediaType) -> None:
    assert negotiate_response_media_type(accept) is expected


@pytest.mark.parametrize(
    "accept",
    [
        "text/html",
        "image/png, text/*",
        "application/json;q=0, application/graphql-response+json;q=0",
        "*/*;q=0",
        "application/xml",
        "garbage",
    ],
)
def test_nothing_acceptable_returns_none_for_406(accept: str) -> None:
    assert negotiate_response_media_type(accept) is None


@pytest.mark.parametrize("accept", [None, "", "  "])
def test_missing_accept_means_application_json(accept: str | None) -> None:
    assert negotiate_response_media_type(accept) is JSON
    assert negotiate_response_media_type(accept, default=GRAPHQL) is GRAPHQL


def test_a_wildcard_tie_goes_to_the_default() -> None:
    assert negotiate_response_media_type("*/*", default=GRAPHQL) is GRAPHQL
    assert negotiate_response_media_type("*/*, application/json", default=GRAPHQL) is JSON


def test_supported_types_limit_the_choice() -> None:
    accept = "application/graphql-response+json, application/json;q=0.5"
    assert negotiate_response_media_type(accept, (JSON,)) is JSON
    assert negotiate_response_media_type("application/graphql-response+json", (JSON,)) is None


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True),
        ("text/html", True),
        ("text/html, application/json", True),
        ("text/*, application/json;q=0.5", True),
        ("*/*", False),
        ("application/json, text/html", False),
        ("text/html;q=0.5, application/graphql-response+json", False),
        ("application/graphql-response+json, application/json;q=0.9", False),
        ("text/html;q=0, */*", False),
        (None, False),
        ("", False),
    ],
)
def test_accepts_html_only_when_html_is_preferred(accept: str | None, expected: bool) -> None:
    assert accepts_html(accept) is expected
