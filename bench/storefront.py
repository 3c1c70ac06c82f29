#!/usr/bin/env python3
"""Storefront reads (issues 22 and 23): the demo article as Markdown, as sanitised HTML, as
schema.org JSON-LD, as an embed page and as an oEmbed answer.

    python3 bench/storefront.py [--engines sqlite,postgres] [--duration 10] [--rounds 3]

For each engine: a fresh database with the demo, the release server.
  cached    the read cache on (the default server): /healthz, then the article as
            markdown, ?format=html, Accept: application/ld+json, its embed page and its
            oEmbed answer, each driven by wrk (-t2 -c32, a warm-up, then --duration
            seconds). Target: html, JSON-LD, embed and oEmbed each >= 50% of /healthz's
            req/s in the same run.
  uncached  --no-cache: the server's CPU time (utime + stime from /proc) per request for
            each representation, alternating markdown, html, JSON-LD for --rounds rounds
            (wrk -t2 -c8), medians reported. Target: html <= 1.3x markdown.
Prints every figure and the ratios; the exit status says whether the targets were met.

    python3 bench/storefront.py --compare A,B [--engines sqlite] [--rounds 5]

compares builds instead: the uncached CPU per request of each read (and of a list page),
for each binary on its own fresh database, the binaries alternated within each round;
medians and each build's ratio to the first.
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rest  # noqa: E402  (shared helpers: server, wrk, databases)

ARTICLE = "/v1/articles/massage-for-lower-back-pain"
READS = [
    ("markdown", ARTICLE, None),
    ("html", ARTICLE + "?format=html", None),
    ("json-ld", ARTICLE, "application/ld+json"),
]
# Embeds (issue 23): the article's embed page and its oEmbed answer, cached like the rest.
EMBEDS = [
    ("embed", "/embed/articles/massage-for-lower-back-pain", None),
    ("oembed", None, None),  # the path names the server's own URL: see cached()
]
CACHED_RATIO = 0.5
HTML_CPU_RATIO = 1.3
CLK_TCK = os.sysconf("SC_CLK_TCK")


def wrk(server, path, accept, duration, connections):
    args = ["wrk", "-t2", "-c%d" % connections, "--latency", "--timeout", "5s"]
    if accept:
        args += ["-H", "Accept: " + accept]
    url = server.base() + path
    subprocess.run(args + ["-d2s", url], check=True, capture_output=True)  # warm-up
    out = subprocess.run(args + ["-d%ds" % duration, url], check=True, capture_output=True,
                         text=True).stdout
    result = rest.parse_wrk(out)
    result["requests"] = int(re.search(r"(\d+) requests in", out).group(1))
    return result


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def cached(url, port, duration):
    server = rest.Server(url, port, [], demo=True)
    try:
        results = {"healthz": wrk(server, "/healthz", None, duration, 32)}
        for name, path, accept in READS:
            results[name] = wrk(server, path, accept, duration, 32)
        for name, path, accept in EMBEDS:
            if path is None:
                page = server.base() + EMBEDS[0][1]
                path = "/oembed?url=" + urllib.parse.quote(page, safe="")
            results[name] = wrk(server, path, accept, duration, 32)
    finally:
        server.stop()
    return results


def cpu_per_request(server, path, accept, duration):
    """The server's CPU time per request (in µs) over a wrk run on `path`."""
    before = cpu_seconds(server.proc.pid)
    result = wrk(server, path, accept, duration, 8)
    spent = cpu_seconds(server.proc.pid) - before
    if result["errors"]:
        sys.exit("%s: %d errors" % (path, result["errors"]))
    # The warm-up's requests count too: both ran between the readings.
    return spent / (result["requests"] + result["rps"] * 2) * 1e6


def uncached(url, port, duration, rounds):
    server = rest.Server(url, port, ["--no-cache"], demo=True)
    per_request = {name: [] for name, _, _ in READS}
    try:
        for _ in range(rounds):
            for name, path, accept in READS:
                per_request[name].append(cpu_per_request(server, path, accept, duration))
    finally:
        server.stop()
    return per_request


def compare(binaries, engine, workdir, duration, rounds):
    """Uncached CPU per request of each read for each binary, alternated by round."""
    reads = READS + [("list", "/v1/techniques?limit=20", None)]
    urls = [rest.fresh_database(engine, workdir) for _ in binaries]
    samples = [{name: [] for name, _, _ in reads} for _ in binaries]
    for _ in range(rounds):
        for n, (exe, url) in enumerate(zip(binaries, urls)):
            server = rest.Server(url, 18790 + n, ["--no-cache"], demo=True, exe=exe)
            try:
                for name, path, accept in reads:
                    samples[n][name].append(cpu_per_request(server, path, accept, duration))
            finally:
                server.stop()
    print("\n[%s, demo, --no-cache, wrk -t2 -c8, %d rounds of %ds, server CPU per request, medians]"
          % (engine, rounds, duration))
    print("  %-9s" % "read" + "".join("%24s" % os.path.basename(b)[-24:] for b in binaries))
    for name, _, _ in reads:
        base = statistics.median(samples[0][name])
        cells = []
        for n in range(len(binaries)):
            median = statistics.median(samples[n][name])
            cells.append("%12.1f us %6.2fx" % (median, median / base))
        print("  %-9s" % name + "".join("%24s" % c for c in cells))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--engines", default="sqlite,postgres")
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--compare", help="comma-separated binaries: compare their uncached reads")
    args = ap.parse_args()
    rest.ensure_wrk()
    if args.compare:
        workdir = tempfile.mkdtemp(prefix="salve-storefront-ab-")
        try:
            for engine in args.engines.split(","):
                compare(args.compare.split(","), engine, workdir, args.duration, args.rounds)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
            if "postgres" in args.engines:
                rest.drop_databases()
        return 0
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--bin", "salve"], cwd=rest.ROOT, check=True)
    workdir = tempfile.mkdtemp(prefix="salve-storefront-bench-")
    ok = True
    try:
        for n, engine in enumerate(args.engines.split(",")):
            url = rest.fresh_database(engine, workdir)
            hot = cached(url, 18700 + 10 * n, args.duration)
            ceiling = hot["healthz"]["rps"]
            print("\n[%s, demo, cache on, wrk -t2 -c32, %ds each]" % (engine, args.duration))
            print("  %-9s %10s %9s %9s %7s %10s" % ("read", "req/s", "p50 ms", "p99 ms", "errors", "vs healthz"))
            for name, r in hot.items():
                ratio = r["rps"] / ceiling
                print("  %-9s %10.0f %9.2f %9.2f %7d %9.2fx" % (name, r["rps"], r["p50"], r["p99"],
                                                              r["errors"], ratio))
                ok &= r["errors"] == 0
                if name in ("html", "json-ld", "embed", "oembed"):
                    ok &= ratio >= CACHED_RATIO
            cold = uncached(url, 18701 + 10 * n, args.duration, args.rounds)
            base = statistics.median(cold["markdown"])
            print("[%s, demo, --no-cache, wrk -t2 -c8, %d rounds of %ds, server CPU per request]"
                  % (engine, args.rounds, args.duration))
            for name, samples in cold.items():
                median = statistics.median(samples)
                print("  %-9s median %7.1f us  (rounds: %s)  %.2fx markdown" % (
                    name, median, ", ".join("%.1f" % s for s in samples), median / base))
            html_ratio = statistics.median(cold["html"]) / base
            ok &= html_ratio <= HTML_CPU_RATIO
            print("  targets: html, json-ld, embed and oembed cached >= %.0f%% of healthz; html uncached <= %.1fx markdown"
                  % (CACHED_RATIO * 100, HTML_CPU_RATIO))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if "postgres" in args.engines:
            rest.drop_databases()
    print("\nall targets met" if ok else "\nsome targets missed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
