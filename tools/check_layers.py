#!/usr/bin/env python3
"""Fails on an import cycle between source files or an import from a lower layer to a higher one.

    python3 tools/check_layers.py [--graph]

Every `crate::…` and `super::…` path in `src/` (in `use` lines and inline) is resolved to
the file that defines it; a reference from a module to its own descendants is not an edge
(a parent owns its children). The layers, highest first:

    app      main, lib, cli, startup   (assembles everything; may import each other)
    api      HTTP transport: REST, GraphQL, OpenAPI
    state    the shared application state the handlers receive
    service  every rule that needs the database
    domain   validated types and the content model;  db  connections and migrations
    base     telemetry above config and error

A file may import from its own module or any lower layer; domain and db may not import
each other, nor config and error; REST and GraphQL share code through modules of their own,
never each other; and below `state` no file uses the web framework or the GraphQL crate. With `--graph`, prints every edge.
"""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
LAYERS = {
    "main": 6, "lib": 6, "cli": 6, "startup": 6,
    "api": 5,
    "state": 4,
    "service": 3,
    "domain": 2, "db": 2,
    "telemetry": 1.5,
    "config": 1, "error": 1,
}
# Layers whose modules may import each other.
OPEN_LAYERS = {6}
# Transport crates: only the api layer and above may use them.
TRANSPORT = re.compile(r"\b(actix_web|actix_cors|async_graphql|async_graphql_value)::")
TRANSPORT_FLOOR = 4
# Sibling modules of one layer that must not import each other.
APART = [(("api", "rest"), ("api", "graphql"))]
PATH = re.compile(r"\b(crate|super)((?:::(?:[A-Za-z_][A-Za-z0-9_]*|\{))+)")
USE = re.compile(r"\buse\s+([^;]*);", re.S)


def modules():
    """Module path (tuple) → file, for every file under src/."""
    found = {}
    for folder, _, files in os.walk(ROOT):
        for name in files:
            if not name.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(folder, name), ROOT)[:-3].split(os.sep)
            if rel[-1] == "mod":
                rel = rel[:-1]
            if rel in (["lib"], ["main"]):
                found[(rel[0],)] = os.path.join(folder, name)
            else:
                found[tuple(rel)] = os.path.join(folder, name)
    return found


def expand(tree):
    """`a::{b, c::{d, e}}` → ["a::b", "a::c::d", "a::c::e"]."""
    tree = re.sub(r"\s+", "", tree)
    depth, start = 0, None
    for i, ch in enumerate(tree):
        if ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                prefix, inner, rest = tree[:start], tree[start + 1:i], tree[i + 1:]
                parts, level, last = [], 0, 0
                for j, c in enumerate(inner):
                    level += c == "{"
                    level -= c == "}"
                    if c == "," and level == 0:
                        parts.append(inner[last:j])
                        last = j + 1
                parts.append(inner[last:])
                return [p for part in parts if part for p in expand(prefix + part + rest)]
    return [tree]


def paths_in(text):
    """Every crate:: or super:: path in the file, as strings."""
    text = re.sub(r"//[^\n]*", "", text)
    found = []
    for use in USE.finditer(text):
        found.extend(p for p in expand(use.group(1)) if p.startswith(("crate::", "super::")))
    body = USE.sub("", text)
    found.extend(m.group(1) + m.group(2).rstrip("{").rstrip(":") for m in PATH.finditer(body))
    return found


def resolve(path, here, mods):
    """The module (tuple) a path names, given the importing module `here`."""
    segments = path.split("::")
    if segments[0] == "crate":
        base, rest = (), segments[1:]
    else:
        base = here if is_dir_module(here, mods) else here[:-1]
        rest = segments
        while rest and rest[0] == "super":
            base, rest = base[:-1], rest[1:]
    target = base
    for segment in rest:
        if target + (segment,) in mods:
            target = target + (segment,)
        else:
            break
    return target or None


def is_dir_module(module, mods):
    path = mods.get(module, "")
    return path.endswith("mod.rs") or module in (("lib",), ("main",))


def graph(mods):
    edges = {}
    for module, path in mods.items():
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for p in paths_in(text):
            target = resolve(p, module, mods)
            if target and target != module and target[:len(module)] != module:
                edges.setdefault(module, set()).add(target)
    return edges


def cycles(edges):
    """Strongly connected components with more than one file (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    sys.setrecursionlimit(10000)
    for v in list(edges):
        if v not in index:
            visit(v)
    return out


def name(module):
    return "::".join(module) or "crate"


def main():
    mods = modules()
    edges = graph(mods)
    if "--graph" in sys.argv:
        for a in sorted(edges):
            for b in sorted(edges[a]):
                print(name(a), "->", name(b))
    problems = []
    for a in sorted(edges):
        for b in sorted(edges[a]):
            la, lb = LAYERS.get(a[0]), LAYERS.get(b[0])
            if la is None or lb is None:
                problems.append("%s -> %s: %s has no layer in tools/check_layers.py"
                                % (name(a), name(b), a[0] if la is None else b[0]))
            elif lb > la or (lb == la and a[0] != b[0] and la not in OPEN_LAYERS):
                problems.append("upward import: %s (%s) -> %s (%s)" % (name(a), a[0], name(b), b[0]))
    for a, b in APART:
        for x, y in ((a, b), (b, a)):
            for src in sorted(edges):
                if src[:len(x)] == x and any(t[:len(y)] == y for t in edges[src]):
                    problems.append("sideways import: %s -> %s (share it from a common module)"
                                    % (name(src), name(y)))
    for module, path in sorted(mods.items()):
        if LAYERS.get(module[0], 99) < TRANSPORT_FLOOR:
            with open(path, encoding="utf-8") as f:
                for number, line in enumerate(f, 1):
                    if TRANSPORT.search(line) and not line.lstrip().startswith("//"):
                        problems.append("transport crate below the handlers: %s:%d: %s"
                                        % (os.path.relpath(path, os.path.dirname(ROOT)), number, line.strip()))
    for component in cycles(edges):
        problems.append("import cycle: " + ", ".join(name(m) for m in component))
    for line in problems:
        print(line)
    if problems:
        print("%d layer problem(s)" % len(problems))
        return 1
    print("layers: %d files, %d imports, no cycle, no upward import" %
          (len(mods), sum(len(v) for v in edges.values())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
