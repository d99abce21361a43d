"""The explorer page: GraphiQL from a configurable base URL, subscriptions at the same URL."""

from __future__ import annotations

from clew.server import Explorer
from clew.server.explorer import DEFAULT_ASSET_BASE_URL


def test_the_default_page_loads_graphiql_from_the_public_cdn() -> None:
    page = Explorer().render()
    assert page.startswith("<!doctype html>")
    assert f'{DEFAULT_ASSET_BASE_URL}/graphiql@3.8.3/graphiql.min.js"' in page
    assert f'{DEFAULT_ASSET_BASE_URL}/graphiql@3.8.3/graphiql.min.css"' in page


def test_assets_can_be_self_hosted() -> None:
    page = Explorer(asset_base_url="/static/npm/").render()
    assert 'src="/static/npm/react@' in page
    assert "unpkg" not in page


def test_subscriptions_use_graphql_transport_ws_at_the_same_url() -> None:
    page = Explorer().render()
    # graphql-ws' createClient speaks graphql-transport-ws; the URL is the page's own, ws(s):.
    assert "/graphql-ws@5.16.0/umd/graphql-ws.min.js" in page
    assert "graphqlWs.createClient({ url: socketEndpoint.href" in page
    assert 'socketEndpoint.protocol = endpoint.protocol === "https:" ? "wss:" : "ws:"' in page


def test_text_is_escaped() -> None:
    page = Explorer(title="<b>x</b>", default_query="</script><script>alert(1)").render()
    assert "<title>&lt;b&gt;x&lt;/b&gt;</title>" in page
    assert "</script><script>alert" not in page
    assert '"\\u003c/script>\\u003cscript>alert(1)"' in page
