"""`clew query`, `clew subscribe` and `clew schema`, run as subprocesses against clew's server."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from clew.server import GraphQL

from .peers.clew_app import new_token, wait_for_stats
from .servers import RunningServer, free_port, running_server, uvicorn_command

CLEW = Path(sys.executable).with_name("clew")
ANSI = "\x1b["


def clew(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLEW), *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def test_query_with_variables_prints_plain_json_when_piped(clew_server: RunningServer) -> None:
    document = "query Add($a: Int!, $b: Int!) { add(a: $a, b: $b) }"
    result = clew("query", clew_server.http_url, document, "--var", "a=2", "-v", "b=40")
    assert (result.returncode, result.stderr) == (0, "")
    assert json.loads(result.stdout) == {"data": {"add": 42}}
    assert ANSI not in result.stdout


def test_text_variables_need_no_quotes(clew_server: RunningServer) -> None:
    result = clew(
        "query", clew_server.http_url, "query($n: String) { hello(name: $n) }", "--var", "n=ada"
    )
    assert json.loads(result.stdout) == {"data": {"hello": "Hello, ada!"}}


def test_a_mutation_runs(clew_server: RunningServer) -> None:
    result = clew("query", clew_server.http_url, 'mutation { echo(message: "hi") }')
    assert json.loads(result.stdout) == {"data": {"echo": "hi"}}


def test_headers_are_sent(clew_server: RunningServer) -> None:
    result = clew(
        "query", clew_server.http_url, "{ whoami }", "--header", "Authorization: Bearer t0"
    )
    assert json.loads(result.stdout) == {"data": {"whoami": "t0"}}


def test_colour_is_used_on_request(clew_server: RunningServer) -> None:
    result = clew("query", clew_server.http_url, "{ hello }", "--color", "always")
    assert result.returncode == 0
    assert f'{ANSI}34;1m"hello"{ANSI}0m' in result.stdout
    assert f'{ANSI}32m"Hello, world!"{ANSI}0m' in result.stdout


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("{ fail }", "boom"),
        ("{ nope }", "Cannot query field 'nope' on type 'Query'."),
        ("{ hello", "Syntax Error"),
    ],
)
def test_graphql_errors_exit_non_zero_with_the_servers_message(
    clew_server: RunningServer, document: str, message: str
) -> None:
    result = clew("query", clew_server.http_url, document)
    assert result.returncode == 1
    assert f"error: {message}" in result.stderr
    assert message in json.dumps(json.loads(result.stdout))


def test_an_unreachable_server_is_explained() -> None:
    result = clew("query", f"http://127.0.0.1:{free_port()}/graphql", "{ hello }")
    assert result.returncode == 1
    assert "error: Could not connect to http://127.0.0.1:" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_arguments_are_refused_by_the_parser(clew_server: RunningServer) -> None:
    result = clew("query", clew_server.http_url, "{ hello }", "--var", "novalue")
    assert result.returncode == 2
    assert "expected name=value" in result.stderr


def test_schema_prints_sdl(clew_server: RunningServer) -> None:
    result = clew("schema", clew_server.http_url)
    assert result.returncode == 0, result.stderr
    assert "type Query {" in result.stdout
    assert 'hello(name: String = "world"): String!' in result.stdout
    assert "type Subscription {" in result.stdout


def test_subscribe_prints_one_json_object_a_line(clew_server: RunningServer) -> None:
    result = clew("subscribe", clew_server.http_url, "subscription { count(to: 3) }")
    assert (result.returncode, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert [json.loads(line) for line in lines] == [{"data": {"count": n}} for n in (1, 2, 3)]


def test_a_failing_subscription_exits_non_zero(clew_server: RunningServer) -> None:
    result = clew("subscribe", clew_server.http_url, "subscription { failAfter(n: 1) }")
    assert result.returncode == 1
    assert json.loads(result.stdout.splitlines()[0]) == {"data": {"failAfter": 1}}
    assert "boom" in result.stderr


def test_an_invalid_subscription_exits_non_zero(clew_server: RunningServer) -> None:
    result = clew("subscribe", clew_server.http_url, "subscription { nope }")
    assert result.returncode == 1
    assert "error: Cannot query field 'nope' on type 'Subscription'." in result.stderr


async def test_ctrl_c_completes_the_subscription_cleanly(clew_server: RunningServer) -> None:
    token = new_token()
    room = f"room-{token}"
    process = await asyncio.create_subprocess_exec(
        str(CLEW),
        "subscribe",
        clew_server.http_url,
        f'subscription {{ messages(room: "{room}") }}',
        "--init",
        f"token={token}",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await wait_for_stats(
            clew_server.url, lambda s: s["streams_started"].get(token) == 1, within=30
        )
        publish = f'mutation {{ publish(room: "{room}", text: "one") }}'
        assert json.loads(clew("query", clew_server.http_url, publish).stdout) == {
            "data": {"publish": True}
        }
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 30)
        assert json.loads(line) == {"data": {"messages": "one"}}
        process.send_signal(signal.SIGINT)
        status = await asyncio.wait_for(process.wait(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.stderr is not None
    stderr = (await process.stderr.read()).decode()
    assert (status, stderr) == (0, "")
    # The server saw the operation completed (its source closed before its end), not a drop.
    await wait_for_stats(
        clew_server.url,
        lambda s: (
            s["streams_closed_early"].get(token) == 1 and s["open_connections"].get(token) == 0
        ),
        within=30,
    )


def on_a_terminal(*args: str, env: dict[str, str]) -> tuple[int, bytes]:
    """Run clew with stdout on a pseudo-terminal; its status and what the terminal showed."""
    primary, secondary = pty.openpty()
    try:
        completed = subprocess.run(
            [str(CLEW), *args], stdout=secondary, env=env, timeout=60, check=False
        )
        os.close(secondary)
        secondary = -1
        output = b""
        while True:
            try:
                chunk = os.read(primary, 4096)
            except OSError:  # the other side is closed: everything was read
                break
            if not chunk:
                break
            output += chunk
    finally:
        os.close(primary)
        if secondary != -1:
            os.close(secondary)
    return completed.returncode, output


def test_a_terminal_gets_colour_unless_no_color_is_set(clew_server: RunningServer) -> None:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    status, output = on_a_terminal("query", clew_server.http_url, "{ hello }", env=env)
    assert status == 0
    assert f'{ANSI}34;1m"hello"{ANSI}0m'.encode() in output
    status, output = on_a_terminal(
        "query", clew_server.http_url, "{ hello }", env={**env, "NO_COLOR": "1"}
    )
    assert status == 0
    assert b'"hello": "Hello, world!"' in output
    assert ANSI.encode() not in output


def create_closed_app() -> GraphQL:
    """A server with introspection off (``uvicorn --factory``)."""
    return GraphQL("type Query { hello: String }", introspection=False)


@pytest.fixture(scope="module")
def closed_server() -> Iterator[RunningServer]:
    port = free_port()
    command = uvicorn_command("test_cli_client:create_closed_app", port)
    with running_server("clew (no introspection)", command, port=port) as server:
        yield server


def test_schema_explains_a_server_that_refuses_introspection(closed_server: RunningServer) -> None:
    result = clew("schema", closed_server.http_url)
    assert result.returncode == 1
    assert "error: GraphQL introspection has been disabled" in result.stderr
    assert result.stdout == ""


def test_a_refused_request_quotes_the_servers_message(clew_server: RunningServer) -> None:
    # The header replaces the JSON content type: the server refuses the body with 415.
    result = clew("query", clew_server.http_url, "{ hello }", "-H", "Content-Type: text/plain")
    assert result.returncode == 1
    assert result.stderr.startswith("error: HTTP 415: ")
    assert "Traceback" not in result.stderr
