// A storefront's product page, a cursor walk and a search through Salve's GraphQL API, typed
// by graphql-codegen from the committed SDL. No `!`: every field used is one the schema
// promises (or is handled where it may be null).
//   node dist/graphql.js http://127.0.0.1:8080 [SKU]
import type {
  ProductPageQuery,
  ProductPageQueryVariables,
  SearchQuery,
  SearchQueryVariables,
  TechniquePageQuery,
  TechniquePageQueryVariables,
} from "./generated/graphql.js";
import { readFileSync } from "node:fs";

const [base = "http://127.0.0.1:8080", sku = "DEMO-FR-SMOOTH"] = process.argv.slice(2);
const documents = readFileSync(new URL("../src/operations.graphql", import.meta.url), "utf8");

async function run<Result, Variables>(operationName: string, variables: Variables): Promise<Result> {
  const response = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/graphql-response+json" },
    body: JSON.stringify({ query: documents, operationName, variables }),
  });
  const body = (await response.json()) as { data?: Result; errors?: { message: string }[] };
  if (body.errors?.length || body.data === undefined) {
    throw new Error(`${operationName}: ${body.errors?.map((e) => e.message).join("; ") ?? response.status}`);
  }
  return body.data;
}

async function productPage(): Promise<void> {
  const data = await run<ProductPageQuery, ProductPageQueryVariables>("ProductPage", { sku });
  const product = data.productBySku;
  if (product === null) throw new Error(`no product ${sku}`);
  console.log(`${product.name} (${product.sku})`);
  for (const technique of product.techniques) {
    const benefits = technique.benefits.map((b) => b.name).join(", ");
    console.log(`  ${technique.name}: ${benefits || "no benefits listed"}`);
    for (const citation of technique.citations) {
      const source = [citation.journal, citation.year].filter((part) => part !== null).join(" ");
      console.log(`    evidence: ${citation.title}${source ? ` (${source})` : ""}`);
    }
  }
  const terms = product.syndication;
  console.log(`  ${terms.attributionText ?? ""} ${terms.licenceUrl ?? ""}`.trimEnd());
  if (product.techniques.length === 0) throw new Error("the demo product has techniques");
}

async function walk(): Promise<void> {
  const slugs: string[] = [];
  let after: string | null = null;
  for (let pages = 0; pages < 100; pages++) {
    const data: TechniquePageQuery = await run<TechniquePageQuery, TechniquePageQueryVariables>(
      "TechniquePage",
      { after },
    );
    slugs.push(...data.techniques.nodes.map((n) => n.slug));
    if (!data.techniques.pageInfo.hasNextPage) break;
    after = data.techniques.pageInfo.endCursor;
  }
  if (new Set(slugs).size !== slugs.length) throw new Error("a technique came twice");
  console.log(`walked ${slugs.length} techniques, 2 a page`);
}

async function search(): Promise<void> {
  const data = await run<SearchQuery, SearchQueryVariables>("Search", { q: "massage" });
  for (const hit of data.search.hits) {
    const item = hit.item;
    const label = item.__typename === "Article" || item.__typename === "Citation" ? item.title : item.name;
    console.log(`  ${hit.type} ${item.slug}: ${label} (${hit.score.toFixed(2)})`);
  }
  if (data.search.hits.length === 0) throw new Error("massage finds something in the demo");
}

await productPage();
await walk();
await search();
console.log("graphql client: ok");
