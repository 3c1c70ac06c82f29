#!/usr/bin/env python3
"""The GraphiQL IDE's files in assets/graphiql/, copied from the npm packages this folder's
lockfile pins (graphiql, react, react-dom), licences included.

    npm ci --prefix tools/graphiql && python3 tools/graphiql/copy.py          # copy
    npm ci --prefix tools/graphiql && python3 tools/graphiql/copy.py --check  # CI: unchanged?

The server embeds them (src/api/graphql/ide.rs), so GraphiQL works offline; upgrading is a
version bump in package.json, `npm install`, and this script.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MODULES = os.path.join(HERE, "node_modules")
TARGET = os.path.join(ROOT, "assets", "graphiql")
FILES = {
    "graphiql.min.js": "graphiql/graphiql.min.js",
    "graphiql.min.css": "graphiql/graphiql.min.css",
    "react.production.min.js": "react/umd/react.production.min.js",
    "react-dom.production.min.js": "react-dom/umd/react-dom.production.min.js",
    "LICENSE.graphiql": "graphiql/LICENSE",
    "LICENSE.react": "react/LICENSE",
    "LICENSE.react-dom": "react-dom/LICENSE",
}


def main():
    check = "--check" in sys.argv[1:]
    os.makedirs(TARGET, exist_ok=True)
    stale = []
    for name, source in FILES.items():
        with open(os.path.join(MODULES, source), "rb") as f:
            wanted = f.read()
        path = os.path.join(TARGET, name)
        have = open(path, "rb").read() if os.path.exists(path) else None
        if have == wanted:
            continue
        if check:
            stale.append(name)
        else:
            with open(path, "wb") as f:
                f.write(wanted)
            print("copied", name)
    if stale:
        sys.exit("assets/graphiql differs from the pinned packages: %s (run tools/graphiql/copy.py)"
                 % ", ".join(stale))
    print("assets/graphiql: %d files match the pinned packages" % len(FILES))


if __name__ == "__main__":
    main()
