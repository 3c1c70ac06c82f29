#!/usr/bin/env python3
"""Evidence and citations (issue 24): what claims, formatted references and CSL-JSON cost a
read, uncached.

    python3 bench/evidence.py [--engines sqlite,postgres] [--duration 10] [--rounds 3] [--no-build]

For each engine: imports scale M into a fresh database, starts the release server with the
read cache off (every request reads the database) and drives it with wrk (-t2 -c32, a
warm-up, then --duration seconds), alternating the pairs for --rounds rounds:
  W1         GET /v1/techniques/{random slug}?include=benefits,citations,products
  W1-ama     the same with &style=ama&min_certainty=very_low (claims filtered, every
             embedded citation with its AMA reference)
  list       GET /v1/citations?limit=100 (JSON)
  list-csl   the same with Accept: application/vnd.citationstyles.csl+json
  W3         POST /graphql, the storefront's condition query (bench/rest.py's W3)
  W3-ama     the same through techniquesLinks, each claim's evidence (certainty, statement,
             citations with formatted(style: AMA)) and every citation formatted
The generated set grades about 40 % of its claim links (tools/gen.py), so the reads with
evidence show it. Before measuring, one request of each GraphQL workload must answer without
errors, and the W3-ama one must show evidence.
Prints the median requests/s, p50 and p99 of each and each pair's throughput ratio (plain
over with; target <= 1.25). The exit status says whether every target was met.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rest  # noqa: E402  (datasets, databases, server, wrk parsing)

TARGET_RATIO = 1.25
CSL = "application/vnd.citationstyles.csl+json"
W1_INCLUDE = "?include=benefits,citations,products"
W3_AMA = ('{ condition(slug: "%s") { name techniquesLinks { evidence { certainty statement '
          'citations { title formatted(style: AMA) { text } } } node { name benefits { name } '
          'citations { title year doi formatted(style: AMA) { text } } products { name sku } } } } }')


def workloads(slugs, conditions):
    w1 = {"SLUGS_FILE": slugs, "PATH_PREFIX": "/v1/techniques/"}
    return [
        ("W1", ("slugs.lua", "/"), dict(w1, PATH_SUFFIX=W1_INCLUDE), ()),
        ("W1-ama", ("slugs.lua", "/"),
         dict(w1, PATH_SUFFIX=W1_INCLUDE + "&style=ama&min_certainty=very_low"), ()),
        ("list", (None, "/v1/citations?limit=100"), {}, ()),
        ("list-csl", (None, "/v1/citations?limit=100"), {}, ("Accept: " + CSL,)),
        ("W3", ("graphql.lua", "/graphql"), {"SLUGS_FILE": conditions, "QUERY_TEMPLATE": rest.W3_QUERY}, ()),
        ("W3-ama", ("graphql.lua", "/graphql"), {"SLUGS_FILE": conditions, "QUERY_TEMPLATE": W3_AMA}, ()),
    ]


def check_graphql(port, conditions):
    """Each GraphQL workload answers without errors, and the one with evidence shows some."""
    with open(conditions) as f:
        slugs = [line.strip() for line in f][:50]
    for template in (rest.W3_QUERY, W3_AMA):
        shown = False
        for slug in slugs:
            body = json.dumps({"query": template % slug}).encode()
            request = urllib.request.Request("http://127.0.0.1:%d/graphql" % port, body,
                                             {"Content-Type": "application/json"})
            with urllib.request.urlopen(request) as response:
                answer = json.load(response)
            if answer.get("errors") or not answer["data"]["condition"]:
                sys.exit("GraphQL answered %s" % json.dumps(answer)[:500])
            shown |= '"certainty"' in json.dumps(answer)
        if template == W3_AMA and not shown:
            sys.exit("no evidence in 50 conditions: is the dataset graded?")


def engine_run(engine, args, workdir):
    url = rest.fresh_database(engine, workdir)
    rest.import_dataset(url, "M")
    slugs = rest.slugs_file("M", workdir)
    conditions = rest.slugs_file("M", workdir, "conditions")
    server = rest.Server(url, 18781, ["--no-cache"])
    try:
        check_graphql(18781, conditions)
        runs = {name: [] for name, *_ in workloads(slugs, conditions)}
        for _ in range(args.rounds):
            for name, workload, env, headers in workloads(slugs, conditions):
                runs[name].append(rest.run_wrk(server, workload, args.duration, env, workdir, headers))
    finally:
        server.stop()
    return {name: {k: statistics.median(r[k] for r in results) for k in ("rps", "p50", "p99", "errors")}
            for name, results in runs.items()}


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
    met = True
    workdir = tempfile.mkdtemp(prefix="salve-evidence-")
    try:
        for engine in args.engines.split(","):
            med = engine_run(engine, args, workdir)
            for name, m in med.items():
                print("%-8s %-9s %7.0f req/s  p50 %7.2f ms  p99 %7.2f ms  errors %d"
                      % (engine, name, m["rps"], m["p50"], m["p99"], m["errors"]))
            for plain, heavy in (("W1", "W1-ama"), ("list", "list-csl"), ("W3", "W3-ama")):
                ratio = med[plain]["rps"] / med[heavy]["rps"]
                ok = ratio <= TARGET_RATIO and med[heavy]["errors"] == 0
                met &= ok
                print("%-8s %s/%s throughput %.2f (target <= %.2f): %s"
                      % (engine, plain, heavy, ratio, TARGET_RATIO, "met" if ok else "MISSED"))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        rest.drop_databases()
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
