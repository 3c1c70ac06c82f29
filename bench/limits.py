#!/usr/bin/env python3
"""Rate-limiter cost (issue 26): cached W1 and W3 with this build against a baseline build.

    SALVE_BASELINE_BINARY=/path/to/salve python3 bench/limits.py [--engines sqlite] [--rounds 3] [--duration 8] [--no-build]

Imports scale M into a fresh database per engine, then alternates the two builds (the read
cache on, as deployed) for `--rounds` rounds: each round starts one server, warms it and
drives cached W1 (REST item with includes) and W3 (GraphQL) with wrk, then the other. Every
request of this build is counted by the limiter (anonymous, per address, at the default
quota). Prints median requests/s of each build and this build's over the baseline's
(target >= 0.95, i.e. the limiter costs <= 5 %).
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rest  # noqa: E402

TARGET = 0.95


def measure(exe, url, port, loads, duration, workdir):
    server = rest.Server(url, port, [], exe=exe)
    try:
        return {name: rest.run_wrk(server, load, duration, env, workdir)["rps"] for name, load, env in loads}
    finally:
        server.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--engines", default="sqlite")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=8)
    ap.add_argument("--no-build", action="store_true")
    args = ap.parse_args()
    baseline = os.environ.get("SALVE_BASELINE_BINARY")
    if not baseline:
        sys.exit("set SALVE_BASELINE_BINARY to a build without the limiter (e.g. of the previous commit)")
    rest.ensure_wrk()
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--locked"], cwd=rest.ROOT, check=True)
    met = True
    with tempfile.TemporaryDirectory() as workdir:
        for engine in args.engines.split(","):
            url = rest.fresh_database(engine, workdir)
            rest.import_dataset(url, "M")
            techniques = rest.slugs_file("M", workdir)
            conditions = rest.slugs_file("M", workdir, "conditions")
            loads = [w for w in rest.workloads(techniques, conditions) if w[0] in ("W1", "W3")]
            runs = {"baseline": [], "this": []}
            for _ in range(args.rounds):
                runs["baseline"].append(measure(baseline, url, 18791, loads, args.duration, workdir))
                runs["this"].append(measure(rest.binary(), url, 18792, loads, args.duration, workdir))
            for name, _, _ in loads:
                base = statistics.median(r[name] for r in runs["baseline"])
                this = statistics.median(r[name] for r in runs["this"])
                ratio = this / base
                met = met and ratio >= TARGET
                print("%-8s %-3s baseline %8.0f req/s  this %8.0f req/s  ratio %.3f (target >= %.2f)"
                      % (engine, name, base, this, ratio, TARGET))
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
