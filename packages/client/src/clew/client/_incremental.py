"""Incremental delivery for the client: `multipart/mixed` read as it arrives, merged as it goes.

`AIOHTTPBackend.execute_incremental` POSTs with an Accept naming both incremental formats
(the newer first) and then the JSON types; a `multipart/mixed` answer is parsed part by part
(`clew.protocol.incremental.MultipartMixedParser`) and every payload is merged into the result
so far (`IncrementalMerger`), so the caller sees the result fill in. A plain JSON answer (the
operation deferred nothing, or the server does not do incremental delivery) is one result.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Final

import aiohttp

from clew.protocol import ProtocolError
from clew.protocol.http import GraphQLResponse, MediaType, ResponseFormatError
from clew.protocol.incremental import (
    IncrementalFormat,
    IncrementalMerger,
    MultipartMixedParser,
    boundary_of,
)

from .errors import ConnectionFailedError, InvalidResponseError, TransportError

__all__ = ["INCREMENTAL_ACCEPT", "read_incremental"]

#: Both incremental formats, then the JSON types for an operation that defers nothing.
INCREMENTAL_ACCEPT: Final = (
    f"{IncrementalFormat.V0_2.accept}, {IncrementalFormat.V0_1.accept};q=0.9, "
    f"{MediaType.GRAPHQL_RESPONSE_JSON};q=0.8, {MediaType.JSON};q=0.7"
)


async def read_incremental(
    response: aiohttp.ClientResponse,
    read_single: Callable[[aiohttp.ClientResponse], Awaitable[GraphQLResponse]],
) -> AsyncIterator[GraphQLResponse]:
    """The merged results of a `multipart/mixed` response, one per payload.

    Any other response is handed to `read_single` (the backend's ordinary reading, with its
    status rules), and its one result is yielded.
    """
    url = str(response.url)
    boundary = boundary_of(response.headers.get("Content-Type", ""))
    if boundary is None or response.status != 200:
        yield await read_single(response)
        return
    parser = MultipartMixedParser(boundary)
    merger = IncrementalMerger()
    try:
        async for chunk in response.content.iter_any():
            for payload in parser.feed(chunk):
                merged = merger.apply(payload)
                yield GraphQLResponse.from_mapping(merged)
        parser.close()
    except (ProtocolError, ResponseFormatError) as error:
        reason = error.reason if isinstance(error, ProtocolError) else str(error)
        raise InvalidResponseError(
            url, response.status, "", dict(response.headers), reason
        ) from None
    except aiohttp.ClientPayloadError as error:
        raise ConnectionFailedError(url, str(error)) from error
    if merger.has_next:
        raise TransportError(f"{url} ended the response before the last payload (hasNext)")
