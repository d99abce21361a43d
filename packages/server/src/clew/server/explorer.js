// Starts GraphiQL on the endpoint that served this page, or says why it cannot.
// Loaded as a file (never inline) so the page runs under a strict Content-Security-Policy.
"use strict";
(function () {
  const root = document.getElementById("graphiql");
  const status = document.getElementById("clew-explorer-status");
  const needed = [
    ["React", "react"],
    ["ReactDOM", "react-dom"],
    ["graphqlWs", "graphql-ws"],
    ["GraphiQL", "graphiql"],
  ];
  const missing = needed.filter(([global]) => typeof window[global] === "undefined");
  if (missing.length > 0) {
    const names = missing.map(([, name]) => name).join(", ");
    const paragraph = document.createElement("p");
    paragraph.textContent =
      "The explorer could not start: these scripts did not load: " + names + ". " +
      "Download them once with `clew explorer-assets DIR` and serve them from this app " +
      "with `Explorer(asset_dir=DIR)`.";
    status.replaceChildren(paragraph);
    status.dataset.state = "failed";
    return;
  }
  const endpoint = new URL(window.location.pathname, window.location.href);
  const socketEndpoint = new URL(endpoint);
  socketEndpoint.protocol = endpoint.protocol === "https:" ? "wss:" : "ws:";
  // graphql-ws' client speaks the graphql-transport-ws subprotocol, on the same URL.
  const fetcher = GraphiQL.createFetcher({
    url: endpoint.href,
    wsClient: graphqlWs.createClient({ url: socketEndpoint.href, lazy: true }),
  });
  const defaultQuery = root.dataset.defaultQuery;
  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, { fetcher, defaultQuery, defaultEditorToolsVisibility: true })
  );
})();
