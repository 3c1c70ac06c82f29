#!/usr/bin/env node
// Formats CSL-JSON items as bibliography entries with citeproc-js (npm `citeproc`, pinned
// by package-lock.json) and the CSL styles and locale copied in this folder (SOURCES.md).
//
//   node tools/csl-check/format.mjs STYLE ITEMS.json
//
// STYLE is ama, apa or vancouver; ITEMS.json a CSL-JSON array. Prints one JSON object,
// keyed by item id in input order: { "<id>": { "text": "...", "html": "..." }, ... }.
//
// Each item is formatted ALONE (the engine's registry is reset to that one item), so a
// numeric style numbers it 1. The number label is then removed, so both fields hold the
// reference itself:
// - text: citeproc's plain-text output, trimmed, without the leading label ("1. ");
// - html: the html entry's inner content, without <div class="csl-entry"> and without the
//   csl-left-margin div (the csl-right-inline div's content for styles that align the
//   label in a margin; the whole entry for styles without one).
// Exit codes: 0 ok, 1 a formatting error, 2 bad usage or unreadable input.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import CSL from "citeproc";

const HERE = dirname(fileURLToPath(import.meta.url));
const STYLES = {
  ama: "american-medical-association.csl",
  apa: "apa.csl",
  vancouver: "nlm-citation-sequence.csl",
};
const LOCALE_FILE = join(HERE, "locales", "locales-en-US.xml");

function die(code, message) {
  process.stderr.write(`format.mjs: ${message}\n`);
  process.exit(code);
}

function readItems(path) {
  let items;
  try {
    items = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    die(2, `cannot read ${path} as JSON: ${e.message}`);
  }
  if (!Array.isArray(items)) die(2, `${path}: expected a JSON array of CSL-JSON items`);
  const byId = new Map();
  items.forEach((item, i) => {
    if (item === null || typeof item !== "object" || Array.isArray(item)) {
      die(2, `${path}: item [${i}] is not an object`);
    }
    if (typeof item.id !== "string" && typeof item.id !== "number") {
      die(2, `${path}: item [${i}] has no string or number "id"`);
    }
    const key = String(item.id);
    if (byId.has(key)) die(2, `${path}: duplicate id ${JSON.stringify(key)}`);
    byId.set(key, item);
  });
  return byId;
}

// The locale file is en-US; the styles here are English, so every "en" request gets it and
// anything else is declined (citeproc then falls back to en-US by itself).
function makeSys(byId) {
  const localeXml = readFileSync(LOCALE_FILE, "utf8");
  return {
    retrieveLocale(lang) {
      return /^en(-|$)/i.test(String(lang)) ? localeXml : false;
    },
    retrieveItem(id) {
      const item = byId.get(String(id));
      // citeproc annotates the objects it is given: hand it a fresh copy each time.
      return item === undefined ? undefined : JSON.parse(JSON.stringify(item));
    },
  };
}

// Splits one html entry into its parts: margin label (may be "") and the reference.
function splitHtmlEntry(entry) {
  const s = entry.trim();
  const outer = s.match(/^<div class="csl-entry"[^>]*>([\s\S]*)<\/div>$/);
  if (!outer) throw new Error(`unexpected html entry shape: ${s.slice(0, 120)}`);
  const inner = outer[1].trim();
  const margin = inner.match(
    /^<div class="csl-left-margin"[^>]*>([\s\S]*?)<\/div>\s*<div class="csl-right-inline"[^>]*>([\s\S]*)<\/div>$/,
  );
  if (margin) return { label: margin[1], html: margin[2].trim() };
  if (inner.includes('class="csl-left-margin"') || inner.includes('class="csl-block"')) {
    throw new Error(`unexpected html entry layout: ${inner.slice(0, 120)}`);
  }
  return { label: "", html: inner };
}

function stripTags(s) {
  return s.replace(/<[^>]*>/g, "");
}

function formatOne(engine, id) {
  engine.updateItems([id]);
  engine.setOutputFormat("html");
  const html = engine.makeBibliography();
  engine.setOutputFormat("text");
  const text = engine.makeBibliography();
  if (!html || !text || html[1].length !== 1 || text[1].length !== 1) {
    throw new Error("the style produced no bibliography entry");
  }
  const { label, html: body } = splitHtmlEntry(html[1][0]);
  let plain = text[1][0].trim();
  // The label as plain text ("1." for "1. "): remove it from the start of the text output.
  const labelText = stripTags(label).replace(/&#38;/g, "&").trim();
  if (labelText) {
    // Formatted alone, the item must be number 1 ("1.", "[1]", "1)"...), whatever the style.
    if (labelText.replace(/[^0-9A-Za-z]/g, "") !== "1") {
      throw new Error(`expected the entry to be numbered 1, got the label ${JSON.stringify(labelText)}`);
    }
    if (!plain.startsWith(labelText)) {
      throw new Error(`text output does not start with the label ${JSON.stringify(labelText)}: ${plain.slice(0, 80)}`);
    }
    plain = plain.slice(labelText.length).trim();
  }
  return { text: plain, html: body };
}

function main(argv) {
  if (argv.length !== 2 || !(argv[0] in STYLES)) {
    die(2, `usage: node format.mjs ${Object.keys(STYLES).join("|")} ITEMS.json`);
  }
  const [style, itemsPath] = argv;
  const byId = readItems(itemsPath);
  const styleXml = readFileSync(join(HERE, "styles", STYLES[style]), "utf8");
  const engine = new CSL.Engine(makeSys(byId), styleXml, "en-US", true);
  const out = {};
  for (const [key, item] of byId) {
    try {
      out[key] = formatOne(engine, item.id);
    } catch (e) {
      die(1, `${style}: item ${JSON.stringify(key)}: ${e.message}`);
    }
  }
  process.stdout.write(JSON.stringify(out, null, 2) + "\n");
}

main(process.argv.slice(2));
