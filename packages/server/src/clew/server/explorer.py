"""The in-browser explorer (GraphiQL): the HTML page a browser gets when it opens the endpoint."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from typing import final

__all__ = ["DEFAULT_ASSET_BASE_URL", "Explorer"]

#: A public CDN that serves npm packages under ``/<name>@<version>/<path>``.
DEFAULT_ASSET_BASE_URL = "https://unpkg.com"

_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title}</title>
  <style>body {{ margin: 0; height: 100vh; }} #graphiql {{ height: 100vh; }}</style>
  <link rel="stylesheet" href="{base}/graphiql@{graphiql}/graphiql.min.css">
  <script crossorigin src="{base}/react@{react}/umd/react.production.min.js"></script>
  <script crossorigin src="{base}/react-dom@{react}/umd/react-dom.production.min.js"></script>
  <script crossorigin src="{base}/graphql-ws@{graphql_ws}/umd/graphql-ws.min.js"></script>
  <script crossorigin src="{base}/graphiql@{graphiql}/graphiql.min.js"></script>
</head>
<body>
  <div id="graphiql">Loading the explorer...</div>
  <script>
    const endpoint = new URL(window.location.pathname, window.location.href);
    const socketEndpoint = new URL(endpoint);
    socketEndpoint.protocol = endpoint.protocol === "https:" ? "wss:" : "ws:";
    // graphql-ws' client speaks the graphql-transport-ws subprotocol at the same URL.
    const fetcher = GraphiQL.createFetcher({{
      url: endpoint.href,
      wsClient: graphqlWs.createClient({{ url: socketEndpoint.href, lazy: true }}),
    }});
    const defaultQuery = {default_query};
    ReactDOM.createRoot(document.getElementById("graphiql")).render(
      React.createElement(GraphiQL, {{ fetcher, defaultQuery, defaultEditorToolsVisibility: true }})
    );
  </script>
</body>
</html>
"""


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Explorer:
    """A GraphiQL page whose scripts load from `asset_base_url`.

    To self-host, mirror the npm packages under one base URL in the CDN's layout
    (``<base>/graphiql@<version>/graphiql.min.js`` and so on) and pass that URL.
    Subscriptions run over the `graphql-transport-ws` subprotocol on the same endpoint.
    """

    #: The page title.
    title: str = "clew GraphQL explorer"
    #: Where the GraphiQL, React and graphql-ws bundles are fetched from (no trailing slash).
    asset_base_url: str = DEFAULT_ASSET_BASE_URL
    #: The query shown when the page first opens (None: GraphiQL's own welcome text).
    default_query: str | None = None
    graphiql_version: str = "3.8.3"
    react_version: str = "18.3.1"
    graphql_ws_version: str = "5.16.0"

    def render(self) -> str:
        """The complete HTML page."""
        return _PAGE.format(
            title=html.escape(self.title),
            base=html.escape(self.asset_base_url.rstrip("/"), quote=True),
            graphiql=html.escape(self.graphiql_version, quote=True),
            react=html.escape(self.react_version, quote=True),
            graphql_ws=html.escape(self.graphql_ws_version, quote=True),
            # JSON is valid JavaScript; "<" is escaped so the text cannot close the script.
            default_query=json.dumps(self.default_query).replace("<", "\\u003c"),
        )
