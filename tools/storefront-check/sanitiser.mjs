// Checks Salve's HTML with parts Salve does not share: every XSS vector of the corpus is
// stored through the API and read back with `format=html`, then (1) DOMPurify must leave
// the HTML unchanged (a fixed point: nothing it would remove is there), and (2) a walk of
// the DOM jsdom builds (a browser's tree builder, foreign content included) finds only
// harmless elements, attributes and URLs. Every Markdown field of the stored content is
// checked the same way.
//
// Usage: node sanitiser.mjs <base-url> <api-key with write and preview> <corpus.json>

import { readFileSync } from "node:fs";
import { JSDOM } from "jsdom";
import createDOMPurify from "dompurify";

const [base, key, corpusPath] = process.argv.slice(2);
if (!base || !key || !corpusPath) {
  console.error("usage: node sanitiser.mjs <base-url> <api-key> <corpus.json>");
  process.exit(2);
}

const window = new JSDOM("").window;
const purify = createDOMPurify(window);

const TAGS = new Set(
  ("a abbr b blockquote br caption cite code dd del details dfn div dl dt em figcaption figure " +
    "h1 h2 h3 h4 h5 h6 hr i img ins kbd li mark ol p pre q s samp small span strong sub summary " +
    "sup table tbody td tfoot th thead tr u ul var wbr").split(" "),
);
const ATTRIBUTES = new Set(
  ("href src alt title lang rel hreflang cite datetime start align colspan rowspan headers " +
    "scope width height char charoff span summary dir size").split(" "),
);
const MARKDOWN_FIELDS = { authors: "bio", conditions: "body", techniques: "description",
  benefits: "mechanism", products: "description", articles: "body" };

function safeUrl(element, attribute, value) {
  const url = value.trim().toLowerCase();
  if (element === "img" && attribute === "src") return url.startsWith("https://");
  return ["https://", "http://", "mailto:", "tel:"].some((s) => url.startsWith(s));
}

/** What in `html` could run script or load from elsewhere, as a browser would parse it. */
function unsafeParts(html) {
  const found = [];
  const template = window.document.createElement("template");
  template.innerHTML = html;
  const walker = window.document.createTreeWalker(template.content, 0x1 | 0x80);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.nodeType === 8) { found.push("a comment"); continue; }
    const name = node.localName;
    if (node.namespaceURI !== "http://www.w3.org/1999/xhtml") found.push(`foreign <${name}>`);
    if (!TAGS.has(name)) found.push(`tag <${name}>`);
    for (const { name: attr, value } of node.attributes) {
      if (!ATTRIBUTES.has(attr)) found.push(`attribute ${attr} on <${name}>`);
      if (["href", "src", "cite"].includes(attr) && !safeUrl(name, attr, value)) {
        found.push(`URL ${attr}=${JSON.stringify(value)} on <${name}>`);
      }
    }
    if (name === "a" && node.getAttribute("rel") !== "noopener noreferrer nofollow") {
      found.push("a link without rel");
    }
  }
  return found;
}

async function call(method, path, body) {
  const response = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return JSON.parse(text);
}

const failures = [];
function check(label, html) {
  if (typeof html !== "string") return;
  const purified = purify.sanitize(html);
  if (purified !== html) {
    failures.push(`${label}: DOMPurify changed it\n  salve:     ${JSON.stringify(html)}\n  dompurify: ${JSON.stringify(purified)}`);
  }
  const parts = unsafeParts(html);
  if (parts.length) failures.push(`${label}: ${parts.join(", ")} in ${JSON.stringify(html)}`);
}

const corpus = JSON.parse(readFileSync(corpusPath, "utf8"));
const run = Date.now().toString(36);
let n = 0;
for (const vector of corpus.vectors) {
  const slug = `sanitiser-${run}-${n++}`;
  await call("POST", "/v1/techniques", { slug, name: "x", kind: "self", description: vector.input });
  const read = await call("GET", `/v1/techniques/${slug}?format=html`);
  check(`vector ${n - 1} (${vector.source}) ${JSON.stringify(vector.input)}`, read.data.description);
}
let stored = 0;
for (const [collection, field] of Object.entries(MARKDOWN_FIELDS)) {
  let cursor = null;
  do {
    const page = await call("GET", `/v1/${collection}?format=html&limit=100&fields=slug,${field}` +
      (cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""));
    for (const item of page.data) { stored++; check(`${collection}/${item.slug}`, item[field]); }
    cursor = page.page.next_cursor;
  } while (cursor);
}

console.log(`${corpus.vectors.length} XSS vectors and ${stored} stored items read back as HTML`);
if (failures.length) {
  console.error(`${failures.length} failure(s):\n${failures.join("\n")}`);
  process.exit(1);
}
console.log("DOMPurify left every HTML rendition unchanged; the DOM walk found nothing unsafe");
