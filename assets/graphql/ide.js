// GraphiQL against this server's /graphql. An API key goes in the headers editor:
// {"Authorization": "Bearer salve_…"} (reads of drafts need the preview scope).
(function () {
  var defaultQuery = [
    "# A storefront's product page: the product, the techniques that use it, their",
    "# benefits and the evidence. Ctrl+Enter runs it; Ctrl+Space completes.",
    "query Storefront {",
    "  productBySku(sku: \"DEMO-FR-SMOOTH\") {",
    "    name",
    "    techniques {",
    "      name",
    "      benefits { name }",
    "      conditions { name }",
    "      citations { title doi }",
    "    }",
    "  }",
    "}",
    "",
  ].join("\n");
  var fetcher = GraphiQL.createFetcher({ url: window.location.origin + "/graphql" });
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      defaultHeaders: "{}",
    }),
  );
})();
