// A product page showing Salve content three ways. Salve's address comes from
// `?salve=` (default http://127.0.0.1:8080); the product from the page's SKU.
const salve = new URL(location.href).searchParams.get("salve") || "http://127.0.0.1:8080";
const sku = document.getElementById("sku").textContent.trim();

/** Text into an element: never HTML. */
function text(parent, tag, value, className) {
  const element = document.createElement(tag);
  element.textContent = value ?? "";
  if (className) element.className = className;
  parent.append(element);
  return element;
}

async function getJson(path, accept = "application/json") {
  const response = await fetch(salve + path, { headers: { accept } });
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

/** REST: techniques with their descriptions as Salve's sanitised HTML, and the JSON-LD. */
async function fromRest() {
  const section = document.getElementById("rest");
  const path = `/v1/products/sku/${encodeURIComponent(sku)}`;
  const { data } = await getJson(`${path}?include=techniques.benefits&format=html`);
  const list = section.querySelector(".techniques");
  for (const technique of data.techniques) {
    const item = document.createElement("article");
    item.className = "technique";
    text(item, "h3", technique.name);
    const description = document.createElement("div");
    // Rendered from Markdown and sanitised by Salve (no script, no handlers, safe URLs).
    description.innerHTML = technique.description ?? "";
    item.append(description);
    list.append(item);
  }
  const terms = data.syndication;
  section.querySelector(".attribution").textContent =
    [terms.attribution_text, terms.licence_url && `Licence: ${terms.licence_url}`]
      .filter(Boolean).join(" · ");
  section.querySelector(".disclaimer").textContent = terms.disclaimer ?? "";
  // Structured data for search engines, as a data block (textContent: never markup).
  const ld = await getJson(path, "application/ld+json");
  const script = document.createElement("script");
  script.type = "application/ld+json";
  script.textContent = JSON.stringify(ld);
  document.head.append(script);
  section.setAttribute("aria-busy", "false");
}

/** GraphQL: each technique's benefits. */
async function fromGraphql() {
  const section = document.getElementById("graphql");
  const query = `query Product($sku: String!) {
    productBySku(sku: $sku) { name techniques { name benefits { name summary } } }
  }`;
  const response = await fetch(`${salve}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ query, variables: { sku } }),
  });
  const { data, errors } = await response.json();
  if (errors) throw new Error(errors.map((e) => e.message).join("; "));
  const list = section.querySelector(".benefits");
  const seen = new Set();
  for (const technique of data.productBySku.techniques) {
    for (const benefit of technique.benefits) {
      if (seen.has(benefit.name)) continue;
      seen.add(benefit.name);
      const item = text(list, "li", "");
      text(item, "strong", benefit.name);
      item.append(document.createTextNode(benefit.summary ? `: ${benefit.summary}` : ""));
    }
  }
  section.setAttribute("aria-busy", "false");
}

/** oEmbed: the publisher's own embed page, in the sandboxed iframe Salve answers with. */
async function fromOembed() {
  const section = document.getElementById("oembed");
  const url = `${salve}/embed/products/sku/${encodeURIComponent(sku)}`;
  const answer = await getJson(`/oembed?url=${encodeURIComponent(url)}&maxwidth=840`);
  // The answer's html is an <iframe> of Salve's embed page; parse it and take only that.
  const parsed = new DOMParser().parseFromString(answer.html, "text/html");
  const frame = parsed.querySelector("iframe");
  if (!frame || !frame.src.startsWith(salve)) throw new Error("unexpected oEmbed html");
  frame.title = answer.title;
  section.querySelector(".frame").append(document.adoptNode(frame));
  section.setAttribute("aria-busy", "false");
}

for (const part of [fromRest, fromGraphql, fromOembed]) {
  part().catch((error) => {
    const shown = document.getElementById("error");
    shown.hidden = false;
    shown.textContent += `${part.name}: ${error.message} `;
  });
}
