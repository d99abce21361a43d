"""Reading a graphql-sse request: its headers, token, query parameters and GraphQL parameters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import final
from urllib.parse import parse_qsl

import orjson

from clew.protocol.http import GraphQLRequest, RequestError, check_post_content_type
from clew.protocol.sse import TOKEN_HEADER, TOKEN_QUERY_PARAMETER
from clew.server._http_io import read_body
from clew.server._types import Receive, Scope

__all__ = ["RequestHead", "read_graphql_request"]

_TOKEN_HEADER = TOKEN_HEADER.encode()


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class RequestHead:
    """What routing needs from a request before its body is read."""

    method: str
    accept: str | None
    content_type: str | None
    #: The reservation token, from the header or else the `token` query parameter.
    token: str | None
    params: Mapping[str, str]

    @classmethod
    def from_scope(cls, scope: Scope) -> RequestHead:
        accept = content_type = token = None
        for name, value in scope["headers"]:
            if name == b"accept":
                accept = value.decode("latin-1")
            elif name == b"content-type":
                content_type = value.decode("latin-1")
            elif name == _TOKEN_HEADER:
                token = value.decode("latin-1")
        params = dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True))
        if token is None:
            token = params.get(TOKEN_QUERY_PARAMETER)
        return cls(
            method=scope["method"].upper(),
            accept=accept,
            content_type=content_type,
            token=token or None,
            params=params,
        )


async def read_graphql_request(
    head: RequestHead, receive: Receive, max_body_bytes: int
) -> tuple[GraphQLRequest, Mapping[str, object]]:
    """The GraphQL parameters of a GET (query string) or POST (JSON body), and the raw data.

    Refusals are the GraphQL-over-HTTP ones: 415 for a body that is not JSON, 413 for one too
    large, 400 for a malformed one.
    """
    if head.method == "GET":
        params = {k: v for k, v in head.params.items() if k != TOKEN_QUERY_PARAMETER}
        return GraphQLRequest.from_query_params(params), params
    check_post_content_type(head.content_type)
    body = await read_body(receive, max_body_bytes)
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise RequestError(400, f"The request body is not valid JSON: {error}") from None
    return GraphQLRequest.from_mapping(data), data
