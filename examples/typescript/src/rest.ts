// A storefront's product page, a cursor walk and a search through Salve's REST API, typed by
// openapi-typescript from the committed OpenAPI document and called with openapi-fetch. No
// `!`: fields the contract promises are used as they are; relations, present only when
// included, are read with `?? []`.
//   node dist/rest.js http://127.0.0.1:8080 [SKU]
import createClient from "openapi-fetch";
import type { paths } from "./generated/rest.js";

const [base = "http://127.0.0.1:8080", sku = "DEMO-FR-SMOOTH"] = process.argv.slice(2);
// JSON and problem+json, not the JSON-LD some reads also offer.
const client = createClient<paths, "application/json" | "application/problem+json">({ baseUrl: base });

async function productPage(): Promise<void> {
  const { data, error } = await client.GET("/v1/products/sku/{sku}", {
    params: {
      path: { sku },
      query: { include: "techniques.benefits,techniques.citations", format: "html" },
    },
  });
  if (error !== undefined) throw new Error(`product ${sku}: ${error.detail}`);
  const product = data.data;
  console.log(`${product.name} (${product.sku})`);
  const techniques = product.techniques ?? [];
  for (const technique of techniques) {
    const benefits = (technique.benefits ?? []).map((b) => b.name).join(", ");
    console.log(`  ${technique.name}: ${benefits || "no benefits listed"}`);
    for (const citation of technique.citations ?? []) {
      const source = [citation.journal, citation.year].filter((part) => part !== null).join(" ");
      console.log(`    evidence: ${citation.title}${source ? ` (${source})` : ""}`);
    }
  }
  const terms = product.syndication;
  if (terms !== undefined) console.log(`  ${terms.attribution_text ?? ""} ${terms.licence_url ?? ""}`.trimEnd());
  if (techniques.length === 0) throw new Error("the demo product has techniques");
}

async function walk(): Promise<void> {
  const slugs: string[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 100; pages++) {
    const query: { limit: number; cursor?: string } = { limit: 2 };
    if (cursor !== null) query.cursor = cursor;
    const { data, error } = await client.GET("/v1/techniques", { params: { query } });
    if (error !== undefined) throw new Error(`techniques: ${error.detail}`);
    slugs.push(...data.data.map((technique) => technique.slug));
    cursor = data.page.next_cursor;
    if (cursor === null) break;
  }
  if (new Set(slugs).size !== slugs.length) throw new Error("a technique came twice");
  console.log(`walked ${slugs.length} techniques, 2 a page`);
}

async function search(): Promise<void> {
  const { data, error } = await client.GET("/v1/search", { params: { query: { q: "massage", limit: 5 } } });
  if (error !== undefined) throw new Error(`search: ${error.detail}`);
  for (const hit of data.data) {
    const label = hit.type === "articles" || hit.type === "citations" ? hit.item.title : hit.item.name;
    console.log(`  ${hit.type} ${hit.item.slug}: ${label} (${hit.score.toFixed(2)})`);
  }
  if (data.data.length === 0) throw new Error("massage finds something in the demo");
}

await productPage();
await walk();
await search();
console.log("rest client: ok");
