#!/usr/bin/env python3
"""Search benchmark (issue 20): search across collections against search in one.

    python3 bench/search.py [--engines sqlite,postgres] [--duration 10] [--rounds 3] [--no-build]

For each engine: imports scale M into a fresh database, starts the release server with the
read cache off (every request ranks) and drives it with wrk (32 connections, a warm-up run,
then `--duration` seconds), alternating the workloads for `--rounds` rounds:
  single   GET /v1/techniques?q=pain&limit=20       (one collection, ~1,000 matches)
  across   GET /v1/search?q=massage&limit=20        (every searchable type, ~15,600 matches)
  across2  GET /v1/search?q=massage&limit=20&cursor=…  (the second page)
Prints the median requests/s, p50 and p99 of each, and single's throughput over across's
(target <= 3). The exit status says whether the target was met on every engine.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rest  # noqa: E402  (datasets, databases, server, wrk parsing)

TARGET_RATIO = 3.0


def second_page(server):
    with urllib.request.urlopen(server.base() + "/v1/search?q=massage&limit=20", timeout=30) as r:
        cursor = json.load(r)["page"]["next_cursor"]
    return "/v1/search?q=massage&limit=20&cursor=" + urllib.parse.quote(cursor, safe="")


def wrk(server, path, duration):
    args = ["wrk", "-t2", "-c32", "--latency", "--timeout", "5s"]
    subprocess.run(args + ["-d2s", server.base() + path], check=True, capture_output=True)
    out = subprocess.run(args + ["-d%ds" % duration, server.base() + path], check=True,
                         capture_output=True, text=True).stdout
    return rest.parse_wrk(out)


def engine_run(engine, args, workdir):
    url = rest.fresh_database(engine, workdir)
    rest.import_dataset(url, "M")
    server = rest.Server(url, 18780, ["--no-cache"])
    try:
        workloads = {"single": "/v1/techniques?q=pain&limit=20",
                     "across": "/v1/search?q=massage&limit=20",
                     "across2": second_page(server)}
        runs = {name: [] for name in workloads}
        for _ in range(args.rounds):
            for name, path in workloads.items():
                runs[name].append(wrk(server, path, args.duration))
    finally:
        server.stop()
    med = {name: {k: statistics.median(r[k] for r in results) for k in ("rps", "p50", "p99", "errors")}
           for name, results in runs.items()}
    for name, m in med.items():
        print("%-8s %-8s %8.0f req/s  p50 %7.2f ms  p99 %7.2f ms  errors %d"
              % (engine, name, m["rps"], m["p50"], m["p99"], m["errors"]))
    ratio = med["single"]["rps"] / med["across"]["rps"]
    errors = sum(m["errors"] for m in med.values())
    met = ratio <= TARGET_RATIO and errors == 0
    print("%-8s single/across throughput %.2f (target <= %.0f): %s"
          % (engine, ratio, TARGET_RATIO, "met" if met else "MISSED"))
    return met


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--engines", default="sqlite,postgres")
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-build", action="store_true")
    args = ap.parse_args()
    rest.ensure_wrk()
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--locked"], cwd=rest.ROOT, check=True)
    workdir = tempfile.mkdtemp()
    ok = True
    try:
        for engine in args.engines.split(","):
            ok &= engine_run(engine, args, workdir)
    finally:
        rest.drop_databases()
        shutil.rmtree(workdir, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
