"""A cached query over HTTP leaves nothing for the cyclic GC: every object a request makes is
freed by reference counting, so serving requests sets off no collections (which would pause
every request in flight)."""

from __future__ import annotations

import gc

from clew.server import GraphQL

from .helpers import make_app

_BODY = b'{"query": "{ hello }"}'


def _scope() -> dict[str, object]:
    headers = [
        (b"host", b"127.0.0.1"),
        (b"content-type", b"application/json"),
        (b"accept", b"application/json"),
        (b"content-length", str(len(_BODY)).encode()),
    ]
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/",
        "raw_path": b"/",
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
    }


async def _serve(app: GraphQL, answers: list[bytes]) -> None:
    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": _BODY, "more_body": False}

    async def send(message: dict[str, object]) -> None:
        if message["type"] == "http.response.body":
            body = message["body"]
            assert isinstance(body, bytes)
            answers.append(body)

    await app(_scope(), receive, send)  # type: ignore[arg-type]


async def test_a_cached_query_leaves_no_cyclic_garbage() -> None:
    app = make_app()
    answers: list[bytes] = []
    await _serve(app, answers)  # compiles and caches the document
    assert app.engine.plans_compiled == 1
    gc.collect()
    gc.disable()
    try:
        for _ in range(50):
            await _serve(app, answers)
        unreachable = gc.collect()
    finally:
        gc.enable()
    assert answers == [b'{"data":{"hello":"Hello world"}}'] * 51
    assert unreachable == 0
