#!/usr/bin/env python3
"""A/B of the read workloads between two release binaries (a change against the commit
before it), with the read cache off.

    python3 bench/ab.py --a /tmp/salve-before --b target/release/salve \
        [--engines sqlite,postgres] [--rounds 3] [--duration 10] [--only W1,W2,W3,W4]

Each binary imports scale M into a database of its own (their schemas may differ), then
the two alternate for `--rounds` rounds (A B, B A, A B, …), each round running the
workloads of bench/rest.py against a fresh server. Prints, per engine and workload, the
median requests/s and p99 of each binary and the ratios B/A: throughput near 1.00 and p99
near 1.00 mean no regression; the rounds' spread shows the machine's noise.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rest  # noqa: E402  (the workloads, the server and wrk, shared)


def import_with(exe, url):
    subprocess.run([exe, "import", rest.dataset("M")], env=rest.env_for(url), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if url.startswith("postgres"):
        subprocess.run(["psql", url, "-qc", "VACUUM ANALYZE"], check=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--a", required=True, help="the baseline binary")
    ap.add_argument("--b", required=True, help="the binary under test")
    ap.add_argument("--engines", default="sqlite,postgres")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--only", default="W1,W2,W3,W4")
    args = ap.parse_args()
    rest.ensure_wrk()
    wanted = args.only.split(",")
    workdir = tempfile.mkdtemp(prefix="salve-ab-")
    try:
        for n, engine in enumerate(args.engines.split(",")):
            binaries = {"A": args.a, "B": args.b}
            urls = {}
            for label, exe in binaries.items():
                urls[label] = rest.fresh_database(engine, workdir)
                import_with(exe, urls[label])
            chosen = [w for w in rest.workloads(rest.slugs_file("M", workdir),
                                                rest.slugs_file("M", workdir, "conditions"))
                      if w[0] in wanted]
            results = {label: {w[0]: [] for w in chosen} for label in binaries}
            for round_no in range(args.rounds):
                order = ["A", "B"] if round_no % 2 == 0 else ["B", "A"]
                for label in order:
                    server = rest.Server(urls[label], 18700 + 10 * n, ["--no-cache"], exe=binaries[label])
                    try:
                        for name, workload, wenv in chosen:
                            results[label][name].append(
                                rest.run_wrk(server, workload, args.duration, wenv, workdir))
                    finally:
                        server.stop()
            print("\n[%s, scale M, cache off, %d rounds x %ds, A = %s, B = %s]"
                  % (engine, args.rounds, args.duration, args.a, args.b))
            print("  %-8s %10s %10s %8s %9s %9s %8s %s" % (
                "workload", "A req/s", "B req/s", "B/A", "A p99", "B p99", "B/A", "B/A req/s per round"))
            for name, _, _ in chosen:
                a, b = results["A"][name], results["B"][name]
                rps = [statistics.median(r["rps"] for r in runs) for runs in (a, b)]
                p99 = [statistics.median(r["p99"] for r in runs) for runs in (a, b)]
                spread = " ".join("%.2f" % (y["rps"] / x["rps"]) for x, y in zip(a, b))
                errors = sum(r["errors"] for r in a + b)
                print("  %-8s %10.0f %10.0f %8.2f %9.2f %9.2f %8.2f %s%s" % (
                    name, rps[0], rps[1], rps[1] / rps[0], p99[0], p99[1], p99[1] / p99[0], spread,
                    "  (%d errors)" % errors if errors else ""))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if "postgres" in args.engines:
            rest.drop_databases()
    return 0


if __name__ == "__main__":
    sys.exit(main())
