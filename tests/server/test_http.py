"""The HTTP handler: status codes, media types, GET, explorer, OPTIONS, uploads, CSRF, limits."""

from __future__ import annotations

import json

import httpx
import pytest
from starlette.testclient import TestClient

from clew.protocol.http import StatusRules
from clew.server import GraphQL, GraphQLHTTPHandler, Limits
from clew.server.explorer import Explorer

from .helpers import make_app, money_schema

GQL = "application/graphql-response+json; charset=utf-8"
JSON = "application/json; charset=utf-8"
PREFLIGHT = {"GraphQL-Require-Preflight": "1"}


#: What a GraphQL-over-HTTP client sends (the spec's recommended Accept header).
RECOMMENDED_ACCEPT = "application/graphql-response+json, application/json;q=0.9"


def client_for(**options: object) -> TestClient:
    client = TestClient(make_app(**options))
    client.headers["accept"] = RECOMMENDED_ACCEPT
    return client


@pytest.fixture
def client() -> TestClient:
    return client_for()


# -- POST and media types --------------------------------------------------------------------


def test_post_answers_graphql_response_json_when_asked(client: TestClient) -> None:
    response = client.post("/", json={"query": "{ hello }"})
    assert (response.status_code, response.headers["content-type"]) == (200, GQL)
    assert response.json() == {"data": {"hello": "Hello world"}}


@pytest.mark.parametrize("accept", ["*/*", None])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_any_or_no_accept_gets_application_json(
    client: TestClient, accept: str | None, method: str
) -> None:
    # The spec: a server SHOULD answer application/json to `*/*` and to a missing Accept.
    headers = {"accept": accept} if accept is not None else {}
    if method == "POST":
        request = client.build_request(method, "/", json={"query": "{ hello( }"}, headers=headers)
    else:
        request = client.build_request(method, "/", params={"query": "{ hello( }"}, headers=headers)
    if accept is None:
        del request.headers["accept"]
    response = client.send(request)
    assert response.headers["content-type"] == JSON
    # application/json keeps its own status semantics: a request error is still a 200.
    assert response.status_code == 200
    assert "Syntax Error" in response.json()["errors"][0]["message"]


def test_post_answers_application_json_to_legacy_clients(client: TestClient) -> None:
    response = client.post("/", json={"query": "{ hello }"}, headers={"Accept": "application/json"})
    assert (response.status_code, response.headers["content-type"]) == (200, JSON)


def test_variables_and_operation_name(client: TestClient) -> None:
    body = {
        "query": "query A { hello } query B($n: String) { hello(name: $n) }",
        "operationName": "B",
        "variables": {"n": "ada"},
    }
    assert client.post("/", json=body).json() == {"data": {"hello": "Hello ada"}}


def test_unacceptable_accept_is_406(client: TestClient) -> None:
    response = client.post("/", json={"query": "{ hello }"}, headers={"Accept": "text/csv"})
    assert (response.status_code, response.headers["content-type"]) == (406, JSON)
    assert "Accept" in response.json()["errors"][0]["message"]


def test_unsupported_content_type_is_415(client: TestClient) -> None:
    response = client.post("/", content=b"{ hello }", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert response.json()["errors"][0]["message"].startswith("Unsupported Content-Type")


def test_invalid_json_is_400(client: TestClient) -> None:
    response = client.post("/", content=b"{", headers={"Content-Type": "application/json"})
    assert (response.status_code, response.headers["content-type"]) == (400, JSON)
    assert response.json()["errors"][0]["message"].startswith("The request body is not valid JSON")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "The 'query' parameter is required"),
        ({"query": 1}, "The 'query' parameter must be a string, got number"),
        (
            {"query": "{ hello }", "variables": []},
            "The 'variables' parameter must be a JSON object, got array",
        ),
        ([], "The request body must be a JSON object; batched requests are not enabled"),
    ],
)
def test_malformed_requests_are_400(client: TestClient, body: object, message: str) -> None:
    response = client.post("/", json=body)
    assert response.status_code == 400
    assert response.json() == {"errors": [{"message": message}]}


def test_a_syntax_error_is_400(client: TestClient) -> None:
    response = client.post("/", json={"query": "{ hello("})
    assert (response.status_code, response.headers["content-type"]) == (400, GQL)
    assert "data" not in response.json()


def test_a_syntax_error_is_200_for_application_json(client: TestClient) -> None:
    response = client.post("/", json={"query": "{ hello("}, headers={"Accept": "application/json"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("rules", "status"), [(StatusRules(), 400), (StatusRules.draft_2026(), 422)]
)
def test_validation_failure_status_follows_status_rules(rules: StatusRules, status: int) -> None:
    client = client_for(http_handler=GraphQLHTTPHandler(status_rules=rules))
    for query in (
        "{ nope }",
        "query A { hello } query B { hello }",
        "query($n: Int!) { count(n: $n) }",
    ):
        response = client.post("/", json={"query": query, "variables": {"n": "x"}})
        assert response.status_code == status, query
        assert "data" not in response.json()


@pytest.mark.parametrize(
    ("rules", "status"), [(StatusRules(), 200), (StatusRules.draft_2026(), 294)]
)
def test_partial_result_status_follows_status_rules(rules: StatusRules, status: int) -> None:
    client = client_for(http_handler=GraphQLHTTPHandler(status_rules=rules))
    response = client.post("/", json={"query": "{ hello refused }"})
    assert response.status_code == status
    assert response.json()["data"] == {"hello": "Hello world", "refused": None}


def test_null_data_after_a_non_null_error_is_2xx(client: TestClient) -> None:
    response = client.post("/", json={"query": "{ requiredBoom }"})
    assert response.status_code == 200
    assert response.json()["data"] is None


def test_a_failure_outside_resolvers_is_500() -> None:
    def root(*_args: object) -> object:
        raise RuntimeError("no root")

    response = client_for(root_value=root).post("/", json={"query": "{ hello }"})
    assert (response.status_code, response.headers["content-type"]) == (500, JSON)
    assert response.json() == {"errors": [{"message": "Internal server error"}]}


def test_subscriptions_are_refused_over_http(client: TestClient) -> None:
    response = client.post("/", json={"query": "subscription { ticks }"})
    assert response.status_code == 400
    assert "WebSocket" in response.json()["errors"][0]["message"]


def test_the_context_callable_receives_the_request_and_its_data() -> None:
    seen: list[object] = []

    def context(request: object, data: object) -> object:
        seen.append((type(request).__name__, data))
        return "ctx"

    client = client_for(context_value=context)
    assert client.post("/", json={"query": "{ whoami }"}).json() == {"data": {"whoami": "'ctx'"}}
    assert seen == [("Request", {"query": "{ whoami }"})]


# -- GET -------------------------------------------------------------------------------------


def test_get_runs_queries(client: TestClient) -> None:
    response = client.get(
        "/", params={"query": "query($n: String) { hello(name: $n) }", "variables": '{"n": "get"}'}
    )
    assert (response.status_code, response.json()) == (200, {"data": {"hello": "Hello get"}})


def test_get_refuses_mutations_with_405(client: TestClient) -> None:
    response = client.get("/", params={"query": "mutation { add(a: 1, b: 2) }"})
    assert (response.status_code, response.headers["allow"]) == (405, "POST")
    assert (
        response.json()["errors"][0]["message"] == "Mutations cannot be executed over GET; use POST"
    )


def test_get_can_be_disabled() -> None:
    client = client_for(http_handler=GraphQLHTTPHandler(allow_get=False))
    response = client.get("/", params={"query": "{ hello }"})
    assert (response.status_code, response.headers["allow"]) == (405, "POST")


def test_other_methods_are_405(client: TestClient) -> None:
    # PUT and DELETE belong to GraphQL over SSE's single connection mode (tests/server/sse).
    response = client.request("PATCH", "/", json={"query": "{ hello }"})
    assert (response.status_code, response.headers["allow"]) == (405, "GET, POST")


def test_options_lists_the_methods(client: TestClient) -> None:
    response = client.options("/")
    assert (response.status_code, response.headers["allow"], response.content) == (
        200,
        "GET, POST, OPTIONS",
        b"",
    )


# -- the explorer ----------------------------------------------------------------------------

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def test_a_browser_gets_the_explorer(client: TestClient) -> None:
    response = client.get("/", headers=BROWSER)
    assert (response.status_code, response.headers["content-type"]) == (
        200,
        "text/html; charset=utf-8",
    )
    assert "graphiql" in response.text


def test_the_explorer_uses_the_configured_asset_base_url() -> None:
    client = client_for(explorer=Explorer(asset_base_url="https://assets.example/npm/"))
    page = client.get("/", headers=BROWSER)
    assert "https://assets.example/npm/graphiql@" in page.text
    assert "script-src 'self' https://assets.example;" in page.headers["content-security-policy"]


@pytest.mark.parametrize("options", [{"explorer": False}, {"introspection": False}])
def test_no_explorer_when_it_or_introspection_is_off(options: dict[str, object]) -> None:
    client = client_for(**options)
    response = client.get("/", headers=BROWSER)
    assert (response.status_code, response.headers["allow"]) == (405, "GET, POST, OPTIONS")
    assert "explorer is disabled" in response.json()["errors"][0]["message"]
    # A browser may still run a query over GET.
    assert client.get("/", params={"query": "{ hello }"}, headers=BROWSER).status_code == 200


def test_graphql_clients_never_get_the_explorer(client: TestClient) -> None:
    response = client.get("/", params={"query": "{ hello }"}, headers={"Accept": "*/*"})
    assert response.json() == {"data": {"hello": "Hello world"}}


# -- multipart uploads -----------------------------------------------------------------------


def upload(
    client: TestClient,
    files: dict[str, tuple[str, bytes]],
    operations: object,
    file_map: object,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    data = {"operations": json.dumps(operations), "map": json.dumps(file_map)}
    return client.post(
        "/",
        data=data,
        files={k: (name, content, "text/plain") for k, (name, content) in files.items()},
        headers=PREFLIGHT if headers is None else headers,
    )


SINGLE = {"query": "mutation($f: Upload!) { upload(file: $f) }", "variables": {"f": None}}


def test_a_multipart_upload_reaches_the_resolver(client: TestClient) -> None:
    response = upload(client, {"0": ("a.txt", b"alpha")}, SINGLE, {"0": ["variables.f"]})
    assert (response.status_code, response.json()) == (200, {"data": {"upload": "a.txt:alpha"}})


def test_several_uploads(client: TestClient) -> None:
    operations = {
        "query": "mutation($fs: [Upload!]!) { uploadMany(files: $fs) }",
        "variables": {"fs": [None, None]},
    }
    response = upload(
        client,
        {"0": ("a.txt", b"A"), "1": ("b.txt", b"B")},
        operations,
        {"0": ["variables.fs.0"], "1": ["variables.fs.1"]},
    )
    assert response.json() == {"data": {"uploadMany": ["a.txt:A", "b.txt:B"]}}


@pytest.mark.parametrize(
    "header", ["Apollo-Require-Preflight", "X-Apollo-Operation-Name", "GraphQL-Require-Preflight"]
)
def test_any_preflight_header_passes_csrf_protection(client: TestClient, header: str) -> None:
    response = upload(
        client, {"0": ("a.txt", b"x")}, SINGLE, {"0": ["variables.f"]}, headers={header: "yes"}
    )
    assert response.status_code == 200


def test_multipart_without_a_preflight_header_is_refused(client: TestClient) -> None:
    response = upload(client, {"0": ("a.txt", b"x")}, SINGLE, {"0": ["variables.f"]}, headers={})
    assert response.status_code == 400
    assert "CSRF" in response.json()["errors"][0]["message"]


def test_csrf_protection_can_be_turned_off() -> None:
    client = client_for(http_handler=GraphQLHTTPHandler(csrf_protection=False))
    response = upload(client, {"0": ("a.txt", b"x")}, SINGLE, {"0": ["variables.f"]}, headers={})
    assert response.status_code == 200


def test_multipart_can_be_turned_off() -> None:
    client = client_for(http_handler=GraphQLHTTPHandler(multipart_uploads=False))
    assert upload(client, {"0": ("a.txt", b"x")}, SINGLE, {"0": ["variables.f"]}).status_code == 415


def test_a_bad_file_map_is_400(client: TestClient) -> None:
    response = upload(client, {"0": ("a.txt", b"x")}, SINGLE, {"0": ["variables.nope"]})
    assert response.status_code == 400
    assert "does not exist" in response.json()["errors"][0]["message"]


def test_an_upload_over_the_file_limit_is_413() -> None:
    client = client_for(limits=Limits(max_upload_bytes=4))
    response = upload(client, {"0": ("a.txt", b"12345")}, SINGLE, {"0": ["variables.f"]})
    assert response.status_code == 413
    assert "exceeds the limit of 4 bytes" in response.json()["errors"][0]["message"]


def test_too_many_files_is_413() -> None:
    client = client_for(limits=Limits(max_files=1))
    operations = {
        "query": "mutation($fs: [Upload!]!) { uploadMany(files: $fs) }",
        "variables": {"fs": [None, None]},
    }
    response = upload(
        client,
        {"0": ("a.txt", b"A"), "1": ("b.txt", b"B")},
        operations,
        {"0": ["variables.fs.0"], "1": ["variables.fs.1"]},
    )
    assert response.status_code == 413


# -- body limit ------------------------------------------------------------------------------


def test_a_body_over_the_limit_is_413() -> None:
    client = client_for(limits=Limits(max_body_bytes=64))
    response = client.post("/", json={"query": "{ hello }", "extensions": {"pad": "x" * 100}})
    assert response.status_code == 413
    assert response.json() == {
        "errors": [{"message": "The request body exceeds the limit of 64 bytes"}]
    }
    assert client.post("/", json={"query": "{ hello }"}).status_code == 200  # others still served


async def test_a_streamed_body_is_cut_off_at_the_limit() -> None:
    app = make_app(limits=Limits(max_body_bytes=10))
    chunks = [b'{"query":', b'"{ hello }"', b"}" * 10**6]
    received: list[int] = []
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        received.append(1)
        chunk = chunks[len(received) - 1]
        return {"type": "http.request", "body": chunk, "more_body": len(received) < len(chunks)}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json")],
    }
    await app(scope, receive, send)
    assert sent[0]["status"] == 413
    assert len(received) == 2  # the megabyte chunk was never asked for


# -- failures past the resolvers -------------------------------------------------------------


def test_a_result_json_cannot_carry_is_a_logged_500_with_a_json_body(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = GraphQL(money_schema())
    client = TestClient(app, raise_server_exceptions=False)
    with caplog.at_level("ERROR", logger=app.engine.logger.name):
        response = client.post("/", json={"query": "{ price }"})
    assert (response.status_code, response.headers["content-type"]) == (500, JSON)
    assert response.json() == {"errors": [{"message": "Internal server error"}]}
    failure = next(r for r in caplog.records if r.message == "The GraphQL HTTP request failed")
    assert failure.exc_info is not None
    assert "Decimal" in str(failure.exc_info[1])
