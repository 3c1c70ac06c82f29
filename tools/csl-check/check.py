#!/usr/bin/env python3
"""Salve's citations, checked against the CSL-JSON schema and against citeproc-js.

    check.py BASE_URL KEY [--accepted FILE] [--timeout SECONDS]
    check.py --self-test

Against a running server (every request sends `Authorization: Bearer KEY`):

(a) Schema. `GET {BASE}/v1/citations?limit=100` with
    `Accept: application/vnd.citationstyles.csl+json` answers a JSON array of CSL-JSON
    items; further pages are followed through the `Link` response header (`rel="next"`,
    resolved against the request URL). The concatenated array is validated against
    csl-data.json (the official CSL-JSON schema, Draft 7); each error is reported with
    the item id and the JSON path. Then `GET {BASE}/v1/citations/{slug}` (same Accept) for
    up to 20 of the listed slugs must answer one item object whose `id` is the slug; each
    answer is validated wrapped in an array.
(b) Formatting. For each style (ama, apa, vancouver), format.mjs formats every fetched
    item alone with citeproc-js, and `GET {BASE}/v1/citations?limit=100&style=STYLE`
    (`Accept: application/json`; answers `{"data": [{"slug", "formatted": {"text",
    "html"}}, ...]}`, paged by the same `Link` header, or by a `links.next` body field
    when there is no such header) must give, per slug:
    - `formatted.text` equal to citeproc's text, both normalised: Unicode NFC, every run
      of whitespace (non-breaking spaces included) collapsed to one space, trimmed;
    - `formatted.html` equal to citeproc's text too once loosened: tags stripped, entities
      unescaped, then normalised the same way.
    A slug on one side only is a difference as well.
(c) Report. Markdown on stdout: the schema result, then per style a table of items
    compared / equal / different, and each difference with the slug, the server's text
    and citeproc's text.

Exit status: 0 when the schema reports no error and every difference is accepted; 1 on
any schema error or unaccepted difference; 2 when the check cannot run (bad arguments,
server unreachable or answering an error status or non-JSON, node or format.mjs failing).

Accepted differences (`--accepted FILE`; default: accepted.json beside this script, if it
exists). A JSON array of objects, each with exactly these keys:

    {
      "style":    "ama" | "apa" | "vancouver" | "*",
      "slug":     "<one slug>" | "*",
      "field":    "text" | "html" | "*",           (optional; default "*")
      "server":   "<regex>",
      "citeproc": "<regex>",
      "reason":   "<why this difference is right, or tolerated; non-empty>"
    }

A difference (style, slug, field) is accepted when an entry's style, slug and field match
and both its regexes match (Python `re.search`) the normalised strings compared: `server`
the server's text (for field html: the server's loosened html), `citeproc` citeproc's
text. Both regexes are required, so an entry says what the server gives and what it
differs from; anchor them (^...$) to accept one exact pair. Accepted differences are
listed (with their reason) but do not fail; an entry that matched nothing is listed as
unused, which does not fail either.

    [{"style": "ama", "slug": "*", "server": "https://doi\\\\.org/", "citeproc": "doi:10\\\\.",
      "reason": "example: the server links DOIs as URLs, AMA 11 writes doi:"}]

--self-test needs no server: it validates sample.json against the schema, prints every
sample item as formatted by citeproc-js in the three styles (for a person to check against
AMA 11th, APA 7th and Citing Medicine), checks that each html entry loosened equals its
text, then runs (a)-(c) against a small in-process stand-in server that serves sample.json
(two pages, Link headers) with one deliberate difference: it must fail without an accepted
entry and pass with one. Standard library plus `jsonschema` (.ci/requirements.txt).
"""
import argparse
import html
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import unicodedata
import urllib.error
import urllib.parse
import urllib.request

try:
    from jsonschema import Draft7Validator
    from jsonschema.exceptions import best_match
except ImportError:  # pragma: no cover - message for a bare interpreter
    sys.exit("check.py: the Python package jsonschema is missing: pip install -r .ci/requirements.txt")

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA_PATH = os.path.join(HERE, "csl-data.json")
FORMAT_MJS = os.path.join(HERE, "format.mjs")
SAMPLE_PATH = os.path.join(HERE, "sample.json")
DEFAULT_ACCEPTED = os.path.join(HERE, "accepted.json")
STYLES = {  # name: what the style file says it is (for the report)
    "ama": "AMA Manual of Style 11th edition (american-medical-association.csl)",
    "apa": "APA Style 7th edition (apa.csl)",
    "vancouver": "NLM/Vancouver, Citing Medicine 2nd edition (nlm-citation-sequence.csl)",
}
CSL_JSON = "application/vnd.citationstyles.csl+json"
SINGLE_ITEMS = 20
MAX_PAGES = 1000
NODE_TIMEOUT = 300


class Unrunnable(Exception):
    """The check could not run (exit 2)."""


# ---------------------------------------------------------------------------------------
# HTTP


def next_from_link_header(value):
    """The target of the first link with rel "next" in a Link header value, or None."""
    if not value:
        return None
    for match in re.finditer(r'<([^>]*)>((?:\s*;\s*[^,;<]+(?:=(?:"[^"]*"|[^,;]*))?)*)', value):
        for param in re.finditer(r';\s*([^=;,\s]+)\s*=\s*("([^"]*)"|[^;,]*)', match.group(2)):
            if param.group(1).lower() == "rel":
                rels = (param.group(3) if param.group(3) is not None else param.group(2)).split()
                if "next" in (r.lower() for r in rels):
                    return match.group(1)
    return None


class Client:
    def __init__(self, base, key, timeout):
        self.base, self.key, self.timeout = base.rstrip("/"), key, timeout

    def get(self, url, accept):
        """GET url (absolute, or a path under BASE); returns (json body, headers, url)."""
        if not re.match(r"^[a-z][a-z0-9+.-]*://", url, re.I):
            url = self.base + (url if url.startswith("/") else "/" + url)
        request = urllib.request.Request(
            url, headers={"Authorization": f"Bearer {self.key}", "Accept": accept})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw, headers = response.read(), response.headers
        except urllib.error.HTTPError as err:
            body = err.read()[:400].decode("utf-8", "replace")
            raise Unrunnable(f"GET {url} (Accept: {accept}) answered HTTP {err.code}: {body}")
        except (urllib.error.URLError, OSError) as err:
            reason = getattr(err, "reason", err)
            raise Unrunnable(f"GET {url} failed: {reason} (timeout {self.timeout}s)")
        try:
            return json.loads(raw.decode("utf-8")), headers, url
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise Unrunnable(f"GET {url} (Accept: {accept}) did not answer JSON ({err}): "
                             f"{raw[:200].decode('utf-8', 'replace')}")

    def pages(self, path, accept):
        """Yields (body, headers, url) for each page, following Link rel="next" (or a
        `links.next` body field when there is no Link header)."""
        url, seen = path, set()
        while url:
            if url in seen or len(seen) >= MAX_PAGES:
                raise Unrunnable(f"paging from {path} loops or exceeds {MAX_PAGES} pages (at {url})")
            seen.add(url)
            body, headers, absolute = self.get(url, accept)
            yield body, headers, absolute
            following = next_from_link_header(", ".join(headers.get_all("Link") or []))
            if following is None and isinstance(body, dict):
                links = body.get("links")
                if isinstance(links, dict) and isinstance(links.get("next"), str) and links["next"]:
                    following = links["next"]
            url = urllib.parse.urljoin(absolute, following) if following else None


def media_type(headers):
    return (headers.get("Content-Type") or "").split(";")[0].strip().lower()


# ---------------------------------------------------------------------------------------
# Schema


def load_schema():
    with open(SCHEMA_PATH, encoding="utf-8") as f:
        schema = json.load(f)
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema)


def json_path(parts):
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (
            f".{part}" if re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", part) else f"[{json.dumps(part)}]")
    return out


def schema_errors(validator, items, where, bad_indices=None):
    """Validation errors of a CSL-JSON array, as readable lines; the indices of the items
    in error are added to bad_indices when given."""
    lines = []
    for error in sorted(validator.iter_errors(items), key=lambda e: [str(p) for p in e.absolute_path]):
        path = list(error.absolute_path)
        item_id = "(the array itself)"
        if path and isinstance(path[0], int) and isinstance(items, list) and path[0] < len(items):
            item = items[path[0]]
            if bad_indices is not None:
                bad_indices.add(path[0])
            item_id = f"[{path[0]}] " + (json.dumps(item["id"], ensure_ascii=False)
                                         if isinstance(item, dict) and "id" in item else "(no id)")
        message = error.message if len(error.message) <= 300 else error.message[:300] + "..."
        if error.context:
            deepest = best_match(error.context)
            message += f" (closest: {json_path(list(error.absolute_path) + list(deepest.relative_path))}: {deepest.message})"
        lines.append(f"{where}: item {item_id} at {json_path(path)}: {message}")
    return lines


# ---------------------------------------------------------------------------------------
# Formatting and comparison


def run_format(style, items):
    """format.mjs's output for these items: {id: {"text", "html"}}."""
    node = shutil.which("node")
    if not node:
        raise Unrunnable("node is not on PATH (format.mjs needs Node.js)")
    if not os.path.isdir(os.path.join(HERE, "node_modules", "citeproc")):
        raise Unrunnable("citeproc is not installed: npm ci --prefix tools/csl-check")
    with tempfile.NamedTemporaryFile("w", suffix=".json", encoding="utf-8", delete=False) as f:
        json.dump(items, f, ensure_ascii=False)
        path = f.name
    try:
        done = subprocess.run([node, FORMAT_MJS, style, path], capture_output=True, text=True,
                              timeout=NODE_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise Unrunnable(f"format.mjs {style} took more than {NODE_TIMEOUT}s")
    finally:
        os.unlink(path)
    if done.returncode != 0:
        raise Unrunnable(f"format.mjs {style} exited {done.returncode}: {done.stderr.strip()}")
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError as err:
        raise Unrunnable(f"format.mjs {style} printed no JSON ({err})")


def normalise(s):
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", s)).strip()


def loosen_html(s):
    return normalise(html.unescape(re.sub(r"<[^>]*>", "", s)))


def load_accepted(path):
    """The accepted differences file, checked entry by entry (Unrunnable when malformed)."""
    if path is None:
        return []
    try:
        with open(path, encoding="utf-8") as f:
            entries = json.load(f)
    except (OSError, json.JSONDecodeError) as err:
        raise Unrunnable(f"accepted differences {path}: {err}")
    if not isinstance(entries, list):
        raise Unrunnable(f"accepted differences {path}: expected a JSON array")
    keys, out = {"style", "slug", "field", "server", "citeproc", "reason"}, []
    for i, entry in enumerate(entries):
        where = f"accepted differences {path} [{i}]"
        if not isinstance(entry, dict):
            raise Unrunnable(f"{where}: expected an object")
        unknown, missing = set(entry) - keys, (keys - {"field"}) - set(entry)
        if unknown or missing:
            raise Unrunnable(f"{where}: unknown keys {sorted(unknown)}, missing keys {sorted(missing)}")
        if not all(isinstance(v, str) for v in entry.values()):
            raise Unrunnable(f"{where}: every value must be a string")
        if entry["style"] not in list(STYLES) + ["*"]:
            raise Unrunnable(f"{where}: style must be one of {sorted(STYLES)} or \"*\"")
        if entry.get("field", "*") not in ("text", "html", "*"):
            raise Unrunnable(f"{where}: field must be \"text\", \"html\" or \"*\"")
        if not entry["reason"].strip() or not entry["slug"]:
            raise Unrunnable(f"{where}: slug and reason must not be empty")
        compiled = dict(entry, field=entry.get("field", "*"), uses=0)
        for side in ("server", "citeproc"):
            try:
                compiled[side + "_re"] = re.compile(entry[side])
            except re.error as err:
                raise Unrunnable(f"{where}: bad {side} regex {entry[side]!r}: {err}")
        out.append(compiled)
    return out


def acceptance(accepted, style, slug, field, server, citeproc):
    for entry in accepted:
        if (entry["style"] in (style, "*") and entry["slug"] in (slug, "*")
                and entry["field"] in (field, "*")
                and entry["server_re"].search(server) and entry["citeproc_re"].search(citeproc)):
            entry["uses"] += 1
            return entry
    return None


def compare_style(style, server_rows, citeproc_out, accepted):
    """Differences of one style: list of dicts, and the count of items compared/equal."""
    diffs, compared, equal = [], 0, 0
    for slug in sorted(set(server_rows) | set(citeproc_out)):
        if slug not in citeproc_out:
            diffs.append({"slug": slug, "field": "-", "server": "(listed by the server)",
                          "citeproc": "(no such item in the CSL-JSON list)", "accepted": None})
            continue
        if slug not in server_rows:
            diffs.append({"slug": slug, "field": "-", "server": "(missing from the formatted list)",
                          "citeproc": normalise(citeproc_out[slug]["text"]), "accepted": None})
            continue
        compared += 1
        target = normalise(citeproc_out[slug]["text"])
        formatted = server_rows[slug].get("formatted")
        formatted = formatted if isinstance(formatted, dict) else {}
        item_equal = True
        for field, loosen in (("text", normalise), ("html", loosen_html)):
            value = formatted.get(field)
            if not isinstance(value, str):
                server = f"(formatted.{field} missing or not a string)"
                item_equal = False
                diffs.append({"slug": slug, "field": field, "server": server, "citeproc": target,
                              "accepted": None})
                continue
            server = loosen(value)
            if server != target:
                item_equal = False
                diffs.append({"slug": slug, "field": field, "server": server, "citeproc": target,
                              "accepted": acceptance(accepted, style, slug, field, server, target)})
        equal += item_equal
    return diffs, compared, equal


def cell(s):
    return s.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def style_report(style, diffs, compared, equal, out):
    unaccepted = sum(1 for d in diffs if d["accepted"] is None)
    out.append(f"\n### {style}: {STYLES[style]}\n")
    out.append("| items compared | equal | different | differences | accepted | not accepted |")
    out.append("|---:|---:|---:|---:|---:|---:|")
    different_items = len({d["slug"] for d in diffs})
    out.append(f"| {compared} | {equal} | {different_items} | {len(diffs)} | "
               f"{len(diffs) - unaccepted} | {unaccepted} |")
    if diffs:
        out.append("\n| slug | field | server | citeproc-js | verdict |")
        out.append("|---|---|---|---|---|")
        for d in diffs:
            verdict = f"accepted: {d['accepted']['reason']}" if d["accepted"] else "**DIFFERENT**"
            out.append(f"| {cell(d['slug'])} | {d['field']} | {cell(d['server'])} | "
                       f"{cell(d['citeproc'])} | {cell(verdict)} |")
    return unaccepted


# ---------------------------------------------------------------------------------------
# The check


def check(base, key, accepted_path, timeout, out):
    """Runs (a)-(c); appends markdown lines to out; returns the number of failures."""
    validator = load_schema()
    accepted = load_accepted(accepted_path)
    client = Client(base, key, timeout)
    failures = 0

    # (a) the CSL-JSON list, all pages, then single items
    items, pages, warnings = [], 0, []
    for body, headers, url in client.pages("/v1/citations?limit=100", CSL_JSON):
        pages += 1
        if not isinstance(body, list):
            raise Unrunnable(f"GET {url} (Accept: {CSL_JSON}) answered a JSON "
                             f"{type(body).__name__}, not the CSL-JSON array")
        if media_type(headers) != CSL_JSON:
            warnings.append(f"GET {url}: Content-Type {headers.get('Content-Type')!r}, not {CSL_JSON}")
        items.extend(body)
    bad_indices = set()
    errors = schema_errors(validator, items, "list", bad_indices)
    ids = [item.get("id") for item in items if isinstance(item, dict)]
    dupes = sorted({str(i) for i in ids if ids.count(i) > 1})
    if dupes:
        errors.append(f"list: duplicate ids {dupes}")
    slugs = [i for i in ids if isinstance(i, str)][:SINGLE_ITEMS]
    by_id = {str(item.get("id")): item for item in items if isinstance(item, dict)}
    for slug in slugs:
        path = "/v1/citations/" + urllib.parse.quote(slug, safe="")
        body, headers, url = client.get(path, CSL_JSON)
        if not isinstance(body, dict):
            errors.append(f"GET {path}: answered a JSON {type(body).__name__}, not one CSL-JSON item")
            continue
        errors.extend(schema_errors(validator, [body], f"GET {path}"))
        if body.get("id") != slug:
            errors.append(f"GET {path}: id is {json.dumps(body.get('id'))}, not the slug {json.dumps(slug)}")
        elif body != by_id.get(slug):
            changed = sorted(k for k in set(body) | set(by_id[slug]) if body.get(k) != by_id[slug].get(k))
            warnings.append(f"GET {path}: differs from the list's item in {changed}")
        if media_type(headers) != CSL_JSON:
            warnings.append(f"GET {path}: Content-Type {headers.get('Content-Type')!r}, not {CSL_JSON}")
    out.append("## CSL-JSON against the CSL-JSON schema (csl-data.json, Draft 7)\n")
    out.append(f"{len(items)} items on {pages} page(s), and {len(slugs)} single-item answers: "
               f"{len(errors)} error(s).")
    out.extend(f"- {line}" for line in errors)
    out.extend(f"- warning: {line}" for line in warnings)
    failures += len(errors)

    # (b) and (c) formatted references, per style
    out.append("\n## Formatted references against citeproc-js")
    # Items in schema error are not formatted (citeproc may choke on them); their slugs are
    # left out of the comparison, since they already fail above.
    valid_items = [item for i, item in enumerate(items) if i not in bad_indices]
    skipped = {str(item["id"]) for i, item in enumerate(items)
               if i in bad_indices and isinstance(item, dict) and "id" in item}
    if skipped:
        out.append(f"\n{len(skipped)} item(s) in schema error not compared: {sorted(skipped)}")
    for style in STYLES:
        citeproc_out = run_format(style, valid_items)
        rows = {}
        for body, _headers, url in client.pages(f"/v1/citations?limit=100&style={style}",
                                               "application/json"):
            data = body.get("data") if isinstance(body, dict) else None
            if not isinstance(data, list):
                raise Unrunnable(f"GET {url} answered no \"data\" array")
            for row in data:
                if not isinstance(row, dict) or not isinstance(row.get("slug"), str):
                    raise Unrunnable(f"GET {url}: a row of \"data\" has no string \"slug\": {str(row)[:200]}")
                if row["slug"] not in skipped:
                    rows[row["slug"]] = row
        diffs, compared, equal = compare_style(style, rows, citeproc_out, accepted)
        failures += style_report(style, diffs, compared, equal, out)

    unused = [e for e in accepted if e["uses"] == 0]
    if unused:
        out.append("\nAccepted differences that matched nothing (remove them once the cause is gone):")
        out.extend(f"- {e['style']} / {e['slug']} / {e['field']}: {e['reason']}" for e in unused)
    return failures


# ---------------------------------------------------------------------------------------
# Self-test


class StandIn(http.server.ThreadingHTTPServer):
    """Serves items the way the contract says Salve will: CSL-JSON list in pages of 4 with
    Link rel="next", single items, and the formatted list per style (from `formatted`)."""

    def __init__(self, items, formatted, key):
        super().__init__(("127.0.0.1", 0), StandInHandler)
        self.items, self.formatted, self.key = items, formatted, key


class StandInHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        server = self.server
        if self.headers.get("Authorization") != f"Bearer {server.key}":
            return self.answer(401, {"error": "unauthorized"}, "application/json")
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        accept = self.headers.get("Accept", "")
        if url.path == "/v1/citations":
            start = int(query.get("after", "0"))
            limit = min(int(query.get("limit", "100")), 4)
            page = server.items[start:start + limit]
            link = None
            if start + limit < len(server.items):
                rest = {k: v for k, v in query.items() if k != "after"}
                link = "/v1/citations?" + urllib.parse.urlencode(dict(rest, after=start + limit))
            if accept == CSL_JSON:
                return self.answer(200, page, CSL_JSON, link)
            style = query.get("style")
            if style not in server.formatted:
                return self.answer(400, {"error": "unknown style"}, "application/json")
            data = [{"slug": item["id"], "formatted": server.formatted[style].get(item["id"], {})}
                    for item in page]
            return self.answer(200, {"data": data}, "application/json", link)
        if url.path.startswith("/v1/citations/") and accept == CSL_JSON:
            slug = urllib.parse.unquote(url.path[len("/v1/citations/"):])
            for item in server.items:
                if item["id"] == slug:
                    return self.answer(200, item, CSL_JSON)
        return self.answer(404, {"error": "not found"}, "application/json")

    def answer(self, status, body, content_type, link=None):
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(raw)))
        if link:
            self.send_header("Link", f'<{link}>; rel="next"')
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args):
        pass


def self_test():
    passed, failed = 0, []

    def expect(what, ok):
        nonlocal passed
        if ok:
            passed += 1
        else:
            failed.append(what)
            print(f"FAILED: {what}")

    validator = load_schema()
    with open(SAMPLE_PATH, encoding="utf-8") as f:
        items = json.load(f)
    errors = schema_errors(validator, items, "sample.json")
    print(f"## sample.json against csl-data.json: {len(items)} items, {len(errors)} error(s)")
    for line in errors:
        print(f"- {line}")
    expect("sample.json is valid CSL-JSON", not errors)
    bad = [{"id": "x", "type": "article-journal", "issued": "2011", "author": [{"name": "A"}]},
           {"type": "journal"}]
    bad_errors = schema_errors(validator, bad, "t")
    expect("the schema rejects broken items (4 errors, with ids and JSON paths)",
           len(bad_errors) == 4 and 'item [0] "x" at $[0].author[0]:' in bad_errors[0]
           and "item [1] (no id) at $[1]: 'id' is a required property" in bad_errors[2])

    formatted = {}
    for style in STYLES:
        formatted[style] = run_format(style, items)
        print(f"\n## {style}: {STYLES[style]}\n")
        for item in items:
            entry = formatted[style].get(item["id"])
            expect(f"{style} formats {item['id']}", entry is not None)
            if entry is None:
                continue
            print(f"- {item['id']}\n  text: {entry['text']}\n  html: {entry['html']}")
            expect(f"{style} {item['id']}: html loosened equals text",
                   loosen_html(entry["html"]) == normalise(entry["text"]))
            expect(f"{style} {item['id']}: no number label left",
                   not re.match(r"^\[?\d+[\].)]", entry["text"]))

    expect("normalise: NFC and whitespace", normalise(" e\u0301\u00a0 x\n") == "\u00e9 x")
    expect("loosen_html: tags and entities", loosen_html("<i>A</i> &#38;\n B") == "A & B")
    expect("Link: rel=next among others",
           next_from_link_header('</a?x=1>; rel="prev", </b?after=2>; rel="next last"') == "/b?after=2")
    expect("Link: none", next_from_link_header('</a>; rel="prev"') is None)

    # (a)-(c) against the stand-in: equal except one deliberate AMA difference.
    key = "self-test-key"
    served = json.loads(json.dumps(formatted))
    slug = items[0]["id"]
    for field in ("text", "html"):
        served["ama"][slug][field] = served["ama"][slug][field].replace("doi:", "https://doi.org/")
    server = StandIn(items, served, key)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            accepted_path = os.path.join(tmp, "accepted.json")
            with open(accepted_path, "w", encoding="utf-8") as f:
                json.dump([{"style": "ama", "slug": slug, "server": r"\. https://doi\.org/10\.",
                            "citeproc": r"\. doi:10\.", "reason": "self-test: DOI written as a URL"},
                           {"style": "apa", "slug": "*", "field": "html", "server": "^never$",
                            "citeproc": ".", "reason": "self-test: an entry that matches nothing"}], f)
            report = []
            failures = check(base, key, None, 10, report)
            expect("stand-in, no accepted file: the AMA difference fails (text and html)", failures == 2)
            report = []
            failures = check(base, key, accepted_path, 10, report)
            expect("stand-in, with the accepted entry: passes", failures == 0)
            print("\n## Report against the stand-in server, with an accepted difference\n")
            print("\n".join(report))
            server.items = items + [{"id": "broken-2020", "type": "article-journal", "issued": "2020"}]
            report = []
            failures = check(base, key, accepted_path, 10, report)
            expect("stand-in with a schema-invalid item: 2 errors (list, single), item not compared",
                   failures == 2 and "item [6] \"broken-2020\" at $[6].issued" in "\n".join(report)
                   and "not compared: ['broken-2020']" in "\n".join(report))
            try:
                check(base, "wrong-key", None, 10, [])
                expect("a refused key stops the check", False)
            except Unrunnable as err:
                expect("a refused key stops the check with the status", "HTTP 401" in str(err))
    finally:
        server.shutdown()
        server.server_close()

    print(f"\nself-test: {passed} passed, {len(failed)} failed")
    return 1 if failed else 0


def main():
    parser = argparse.ArgumentParser(
        description="Check Salve's citations against the CSL-JSON schema and citeproc-js.",
        epilog="Accepted differences and exit codes: see the module docstring.")
    parser.add_argument("base_url", nargs="?", help="e.g. http://127.0.0.1:18733")
    parser.add_argument("key", nargs="?", help="API key, sent as Authorization: Bearer KEY")
    parser.add_argument("--accepted", help="accepted differences (JSON); default: accepted.json "
                        "beside this script when it exists")
    parser.add_argument("--timeout", type=float, default=30.0, help="per HTTP request, seconds")
    parser.add_argument("--self-test", action="store_true", help="no server: see the docstring")
    args = parser.parse_args()
    report = []
    try:
        if args.self_test:
            if args.base_url or args.key:
                parser.error("--self-test takes no BASE_URL or KEY")
            return self_test()
        if not (args.base_url and args.key):
            parser.error("BASE_URL and KEY are required (or --self-test)")
        accepted = args.accepted
        if accepted is None and os.path.exists(DEFAULT_ACCEPTED):
            accepted = DEFAULT_ACCEPTED
        failures = check(args.base_url, args.key, accepted, args.timeout, report)
        print("\n".join(report))
        print(f"\ncsl-check: {'FAILED, ' + str(failures) + ' problem(s)' if failures else 'passed'}")
        return 1 if failures else 0
    except Unrunnable as err:
        if report:
            print("\n".join(report))  # what was established before the check stopped
        print(f"check.py: cannot run the check: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
