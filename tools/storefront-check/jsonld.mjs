// Checks Salve's JSON-LD against the schema.org vocabulary, offline: every item of every
// collection is read with `Accept: application/ld+json`, then (1) each document is written
// into a TypeScript file typed with schema-dts (the vocabulary as types) and compiled with
// `tsc --strict`, so an unknown type or property, or a value of the wrong shape, fails to
// compile; and (2) no type or property used is one schema.org has superseded (schema-dts
// marks those `@deprecated`).
//
// Usage: node jsonld.mjs <base-url> <api-key>

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const [base, key] = process.argv.slice(2);
if (!base || !key) {
  console.error("usage: node jsonld.mjs <base-url> <api-key>");
  process.exit(2);
}
const here = dirname(fileURLToPath(import.meta.url));
const COLLECTIONS = ["publishers", "authors", "citations", "conditions", "techniques",
  "benefits", "products", "articles"];

async function get(path, accept) {
  const response = await fetch(base + path, {
    headers: { authorization: `Bearer ${key}`, accept },
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${text}`);
  return { type: response.headers.get("content-type"), body: JSON.parse(text) };
}

const failures = [];
const documents = [];
for (const collection of COLLECTIONS) {
  let cursor = null;
  do {
    const page = (await get(`/v1/${collection}?fields=slug&limit=100` +
      (cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""), "application/json")).body;
    for (const { slug } of page.data) {
      const path = `/v1/${collection}/${slug}`;
      const { type, body } = await get(path, "application/ld+json");
      if (type !== "application/ld+json") failures.push(`${path}: Content-Type ${type}`);
      if (body["@context"] !== "https://schema.org") failures.push(`${path}: @context ${body["@context"]}`);
      documents.push({ path, body });
    }
    cursor = page.page.next_cursor;
  } while (cursor);
}

// (1) Typed with schema-dts and compiled. `@reverse` is JSON-LD syntax, not vocabulary:
// its nodes are typed on their own.
const lines = [`import type * as schema from "schema-dts";`];
documents.forEach(({ path, body }, n) => {
  const { "@reverse": reverse, ...node } = body;
  lines.push(`// ${path}`);
  lines.push(`export const d${n}: schema.WithContext<schema.${node["@type"]}> = ${JSON.stringify(node)};`);
  for (const [property, nodes] of Object.entries(reverse ?? {})) {
    lines.push(`export const d${n}_${property}: schema.Thing[] = ${JSON.stringify(nodes)};`);
  }
});
const work = mkdtempSync(join(tmpdir(), "salve-jsonld-"));
writeFileSync(join(work, "documents.ts"), lines.join("\n") + "\n");
writeFileSync(join(work, "tsconfig.json"), JSON.stringify({
  compilerOptions: { strict: true, noEmit: true, skipLibCheck: true, target: "es2022",
    module: "es2022", moduleResolution: "bundler", types: [],
    baseUrl: here, paths: { "schema-dts": [join(here, "node_modules/schema-dts")] } },
  files: ["documents.ts"],
}));
try {
  execFileSync(join(here, "node_modules/.bin/tsc"), ["-p", join(work, "tsconfig.json")],
    { stdio: "pipe" });
} catch (error) {
  failures.push(`tsc --strict failed on ${join(work, "documents.ts")}:\n${error.stdout}`);
}

// (2) Nothing superseded: schema-dts marks superseded types and properties `@deprecated`.
const require = createRequire(import.meta.url);
const vocabulary = readFileSync(require.resolve("schema-dts/dist/schema.d.ts"), "utf8");
const deprecated = new Set();
for (const match of vocabulary.matchAll(/@deprecated[^\n]*\n(?:\s*\*[^\n]*\n)*\s*\*\/\s*\n\s*(?:export (?:type|interface) )?"?([A-Za-z0-9]+)"?/g)) {
  deprecated.add(match[1]);
}
const used = new Set();
(function walk(value) {
  if (Array.isArray(value)) return value.forEach(walk);
  if (value === null || typeof value !== "object") return;
  for (const [key, inner] of Object.entries(value)) {
    if (key === "@type") used.add(inner);
    else if (!key.startsWith("@")) used.add(key);
    walk(inner);
  }
})(documents.map((d) => d.body));
for (const term of used) {
  if (deprecated.has(term)) failures.push(`schema.org has superseded ${term}`);
}

console.log(`${documents.length} JSON-LD documents; ${used.size} schema.org terms used: ` +
  [...used].sort().join(", "));
if (failures.length) {
  console.error(`${failures.length} failure(s):\n${failures.join("\n")}`);
  process.exit(1);
}
console.log(`tsc --strict accepts them all against schema-dts; none is superseded ` +
  `(${deprecated.size} superseded terms known)`);
