// Embed pages and the sample storefront in a real browser (Debian's Chromium, driven by
// playwright-core), with every host but this machine unresolvable:
//   node browser.mjs <salve-url> <admin-key> <storefront-dir> <screenshot-dir>
// Checks: content and attribution are visible; no request leaves 127.0.0.1; a script stored
// in the content does not run (no dialog, the title unchanged, no element it would make);
// the CSP header is present and Chromium reports no violation or parse error under it; the
// storefront shows all three parts; GraphiQL at /graphql renders from the server's own files
// and runs a query. Saves a screenshot of each page.
import { createServer } from "node:http";
import { mkdirSync, readFileSync } from "node:fs";
import { extname, join, normalize } from "node:path";
import { chromium } from "playwright-core";

const [salve, key, storefrontDir, shots] = process.argv.slice(2);
if (!shots) throw new Error("usage: node browser.mjs <salve-url> <admin-key> <storefront-dir> <screenshot-dir>");
mkdirSync(shots, { recursive: true });
const failures = [];
const fail = (message) => {
  failures.push(message);
  console.error(`FAIL ${message}`);
};

/** Stores hostile content in a published technique, through the API: the edit is a draft,
 * then published, so readers (the embed) get it. */
async function plantScripts() {
  const path = `${salve}/v1/techniques/foam-rolling`;
  const current = await fetch(path, { headers: { authorization: `Bearer ${key}` } });
  const etag = current.headers.get("etag");
  const response = await fetch(path, {
    method: "PATCH",
    headers: { authorization: `Bearer ${key}`, "if-match": etag, "content-type": "application/json" },
    body: JSON.stringify({
      summary: "Self-massage <img src=x onerror=\"document.title='pwned'\"> with a roller.",
      description:
        "Roll slowly.\n\n<script>document.title='pwned'</script>\n\n" +
        "<img src=x onerror=\"document.title='pwned'\">\n\n" +
        "[Read more](javascript:document.title='pwned')\n\n" +
        "<iframe src=\"https://evil.example/\"></iframe><svg onload=\"document.title='pwned'\"></svg>",
    }),
  });
  if (response.status !== 200) throw new Error(`planting the scripts: ${response.status} ${await response.text()}`);
  const published = await fetch(`${path}/publish`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "if-match": response.headers.get("etag") },
  });
  if (published.status !== 200) throw new Error(`publishing the scripts: ${published.status} ${await published.text()}`);
}

/** A static file server for the sample storefront, on 127.0.0.1. */
function serveStorefront() {
  const types = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css" };
  const server = createServer((req, res) => {
    const path = normalize(new URL(req.url, "http://x").pathname).replace(/^\/+/, "") || "index.html";
    try {
      const body = readFileSync(join(storefrontDir, path));
      res.writeHead(200, { "content-type": types[extname(path)] ?? "application/octet-stream" });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

/** Opens `url` in a fresh page that records what it requests and what the console says. */
async function open(browser, url, name) {
  const page = await browser.newPage({ viewport: { width: 900, height: 900 } });
  const requests = [];
  const console_ = [];
  page.on("request", (request) => requests.push(request.url()));
  page.on("response", (response) => {
    if (response.status() >= 400) console_.push(`error: ${response.status()} ${response.url()}`);
  });
  page.on("console", (message) => console_.push(`${message.type()}: ${message.text()}`));
  page.on("dialog", async (dialog) => {
    fail(`${name}: a dialog opened (${dialog.message()})`);
    await dialog.dismiss();
  });
  page.on("pageerror", (error) => console_.push(`pageerror: ${error.message}`));
  const response = await page.goto(url, { waitUntil: "networkidle" });
  return { page, response, requests, console: console_ };
}

function checkOnlyLocal(name, requests) {
  for (const url of requests) {
    const { hostname } = new URL(url);
    if (hostname !== "127.0.0.1") fail(`${name}: requested ${url}`);
  }
}

async function checkEmbed(browser, path, expected) {
  const name = path;
  const { page, response, requests, console: logs } = await open(browser, `${salve}${path}`, name);
  if (response.status() !== 200) fail(`${name}: status ${response.status()}`);
  const csp = response.headers()["content-security-policy"] ?? "";
  if (!csp.startsWith("default-src 'none'") || !/style-src 'sha256-[A-Za-z0-9+/=]+'/.test(csp)) {
    fail(`${name}: CSP ${csp}`);
  }
  const complaints = logs.filter((l) => /Content Security Policy|Refused|pageerror/i.test(l));
  if (complaints.length) fail(`${name}: ${complaints.join(" | ")}`);
  // The stylesheet applied (allowed by its hash): the page's main column is laid out.
  const width = await page.evaluate(() => getComputedStyle(document.querySelector("main")).maxWidth);
  if (width !== "720px") fail(`${name}: the stylesheet did not apply (main max-width ${width})`);
  const shown = await page.evaluate(() => document.body.innerText);
  for (const text of expected) {
    if (!shown.includes(text)) fail(`${name}: "${text}" not visible`);
  }
  const title = await page.title();
  if (title.includes("pwned")) fail(`${name}: a stored script ran`);
  const made = await page.evaluate(() => ({
    scripts: [...document.scripts].filter((s) => s.type !== "application/ld+json").length,
    // An <img> left without a source loads nothing; one with a source must not be there.
    images: [...document.images].filter((i) => i.hasAttribute("src")).length,
    frames: document.querySelectorAll("iframe, svg, object, embed").length,
    jsLinks: [...document.links].filter((a) => a.protocol === "javascript:").length,
  }));
  if (made.scripts || made.images || made.frames || made.jsLinks) {
    fail(`${name}: unsafe elements ${JSON.stringify(made)}`);
  }
  checkOnlyLocal(name, requests);
  const file = join(shots, `embed-${path.split("/").slice(2).join("-").replace(/[^A-Za-z0-9-]+/g, "-")}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`ok ${name} (${requests.length} request(s), screenshot ${file})`);
  await page.close();
}

async function checkStorefront(browser, port) {
  const url = `http://127.0.0.1:${port}/index.html?salve=${encodeURIComponent(salve)}`;
  const { page, requests, console: logs } = await open(browser, url, "storefront");
  await page.waitForSelector("#rest[aria-busy=false] .technique", { timeout: 15000 }).catch(() => {});
  await page.waitForSelector("#graphql[aria-busy=false] li", { timeout: 15000 }).catch(() => {});
  await page.waitForSelector("#oembed[aria-busy=false] iframe", { timeout: 15000 }).catch(() => {});
  const error = await page.evaluate(() => document.getElementById("error").textContent);
  if (error) fail(`storefront: ${error}`);
  const parts = await page.evaluate(() => ({
    techniques: document.querySelectorAll("#rest .technique").length,
    benefits: document.querySelectorAll("#graphql li").length,
    ld: document.querySelectorAll("head script[type='application/ld+json']").length,
    attribution: document.querySelector("#rest .attribution").textContent,
  }));
  if (!parts.techniques || !parts.benefits || parts.ld !== 1 || !parts.attribution) {
    fail(`storefront: parts missing ${JSON.stringify(parts)}`);
  }
  // The iframe loads lazily: bring it into view, then read it.
  await page.locator("#oembed iframe").scrollIntoViewIfNeeded().catch(() => {});
  await page.waitForFunction(
    () => document.querySelector("#oembed iframe")?.dataset, null, { timeout: 5000 },
  ).catch(() => {});
  let frame;
  for (let tries = 0; tries < 50 && !frame; tries++) {
    frame = page.frames().find((f) => f.url().includes("/embed/products/sku/"));
    if (!frame) await page.waitForTimeout(100);
  }
  await frame?.waitForLoadState("load").catch(() => {});
  const framed = frame ? await frame.evaluate(() => document.body.innerText) : "";
  if (!framed.includes("Techniques that use it")) fail("storefront: the oEmbed iframe shows no product module");
  if (await page.title() !== "Smooth foam roller – Example Medical Supply") fail("storefront: title changed");
  const errors = logs.filter((l) => /^error|pageerror/.test(l));
  if (errors.length) fail(`storefront: ${errors.join(" | ")}`);
  checkOnlyLocal("storefront", requests);
  const file = join(shots, "storefront.png");
  await page.screenshot({ path: file, fullPage: true });
  console.log(`ok storefront (${requests.length} request(s), screenshot ${file})`);
  await page.close();
}

/** GraphiQL at /graphql: the editor renders from the server's own files and a query runs. */
async function checkGraphiql(browser) {
  const name = "graphiql";
  const { page, response, requests, console: logs } = await open(browser, `${salve}/graphql`, name);
  const csp = response.headers()["content-security-policy"] ?? "";
  if (!csp.includes("script-src 'self'")) fail(`${name}: CSP ${csp}`);
  await page.waitForSelector(".graphiql-container .graphiql-query-editor .CodeMirror", { timeout: 15000 })
    .catch(() => fail(`${name}: the editor did not render`));
  await page.click(".graphiql-execute-button").catch(() => fail(`${name}: no run button`));
  await page.waitForFunction(
    () => document.querySelector(".graphiql-response")?.textContent?.includes("Smooth foam roller"),
    null,
    { timeout: 15000 },
  ).catch(() => fail(`${name}: the query's result did not show`));
  const complaints = logs.filter((l) => /Content Security Policy|Refused|pageerror|^error/i.test(l));
  if (complaints.length) fail(`${name}: ${complaints.join(" | ")}`);
  checkOnlyLocal(name, requests);
  const file = join(shots, "graphiql.png");
  await page.screenshot({ path: file });
  console.log(`ok ${name} (${requests.length} request(s), screenshot ${file})`);
  await page.close();
}

await plantScripts();
const server = await serveStorefront();
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  // Every host but this machine fails to resolve: a request elsewhere cannot succeed, and
  // is recorded above.
  args: ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--no-sandbox"],
});
try {
  await checkEmbed(browser, "/embed/articles/massage-for-lower-back-pain", [
    "Massage for Lower Back Pain", "Written by", "reviewed on", "Licence:", "professional medical advice",
  ]);
  await checkEmbed(browser, "/embed/techniques/foam-rolling", ["Foam rolling", "Roll slowly.", "Licence:"]);
  await checkEmbed(browser, "/embed/conditions/lower-back-pain", ["Lower back pain", "Evidence"]);
  await checkEmbed(browser, "/embed/products/sku/DEMO-FR-SMOOTH?theme=dark", [
    "Techniques that use it", "Written and reviewed by",
  ]);
  await checkStorefront(browser, server.address().port);
  await checkGraphiql(browser);
} finally {
  await browser.close();
  server.close();
}
if (failures.length) {
  console.error(`${failures.length} browser check(s) failed`);
  process.exit(1);
}
console.log("browser checks passed");
