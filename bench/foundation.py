#!/usr/bin/env python3
"""Foundation benchmark (issue 2): import throughput, peak RSS, start-to-ready, idle RSS.

    python3 bench/foundation.py [--runs 3] [--scale-l] [--engines sqlite,postgres]

Builds the release binary, generates the synthetic sets with tools/gen.py, and for each
engine imports scale M into a fresh database `--runs` times (median wall time and peak RSS),
optionally imports scale L once (peak RSS), then measures start-to-ready of `salve serve`
on the migrated, populated database and its idle RSS. Every figure is printed with the
target and its ratio to it. Standard library only.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench", "out")
PG_ADMIN = os.environ.get("SALVE_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def binary():
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    return os.path.join(target, "release", "salve")


def run_measured(args, env):
    """Runs a command; returns (seconds, peak RSS in MB)."""
    started = time.monotonic()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.monotonic() - started
    stderr = proc.stderr.read().decode()
    if status != 0:
        sys.exit("command failed: %s\n%s" % (" ".join(args), stderr))
    return elapsed, usage.ru_maxrss / 1024.0


def fresh_database(engine, workdir):
    if engine == "sqlite":
        path = os.path.join(workdir, "bench-%s.db" % uuid.uuid4().hex[:8])
        return "sqlite://" + path
    name = "salve_bench_%s" % uuid.uuid4().hex[:8]
    subprocess.run(["psql", PG_ADMIN, "-qc", "CREATE DATABASE %s" % name], check=True)
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


def drop_databases():
    listing = subprocess.run(
        ["psql", PG_ADMIN, "-Atc", "SELECT datname FROM pg_database WHERE datname LIKE 'salve_bench_%'"],
        check=True, capture_output=True, text=True).stdout.split()
    for name in listing:
        subprocess.run(["psql", PG_ADMIN, "-qc", "DROP DATABASE IF EXISTS %s" % name], check=True)


def env_for(url):
    env = dict(os.environ)
    env["SALVE_DATABASE_URL"] = url
    env["SALVE_LOG"] = "warn"
    return env


def start_to_ready(url, runs):
    """Median ms from spawning `salve serve` to the first 200 from /readyz, and idle RSS."""
    times, rss = [], []
    for i in range(runs):
        port = 18900 + i
        started = time.monotonic()
        proc = subprocess.Popen([binary(), "serve", "--no-demo", "--bind", "127.0.0.1:%d" % port],
                                env=env_for(url), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while True:
                try:
                    with urllib.request.urlopen("http://127.0.0.1:%d/readyz" % port, timeout=1) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() - started > 30:
                    sys.exit("server did not become ready")
                time.sleep(0.002)
            times.append((time.monotonic() - started) * 1000)
            time.sleep(1.0)
            with open("/proc/%d/status" % proc.pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss.append(int(line.split()[1]) / 1024.0)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return statistics.median(times), statistics.median(rss)


def process_baseline(runs):
    """Median ms to spawn and finish `salve --version` (process start floor)."""
    times = []
    for _ in range(runs):
        started = time.monotonic()
        subprocess.run([binary(), "--version"], check=True, stdout=subprocess.DEVNULL)
        times.append((time.monotonic() - started) * 1000)
    return statistics.median(times)


def report(label, value, unit, target, better="lower"):
    ratio = value / target
    ok = ratio <= 1.0 if better == "lower" else ratio >= 1.0
    print("  %-44s %10.1f %-3s target %6.0f %-3s  ratio %.2f  %s" % (
        label, value, unit, target, unit, ratio, "OK" if ok else "MISSED"))
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--scale-l", action="store_true", help="also import scale L once (peak RSS)")
    ap.add_argument("--engines", default="sqlite,postgres")
    ap.add_argument("--no-build", action="store_true")
    args = ap.parse_args()

    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--bin", "salve"], cwd=ROOT, check=True)
    scales = ["M"] + (["L"] if args.scale_l else [])
    for scale in scales:
        target = os.path.join(OUT, scale)
        if not os.path.exists(os.path.join(target, "technique_products.ndjson")):
            subprocess.run([sys.executable, os.path.join(ROOT, "tools", "gen.py"), "--scale", scale,
                            "--out", target], check=True)

    all_ok = True
    workdir = tempfile.mkdtemp(prefix="salve-bench-")
    try:
        spawn = process_baseline(5)
        print("baseline: process spawn (`salve --version`) median %.1f ms" % spawn)
        for engine in args.engines.split(","):
            print("\n[%s]" % engine)
            times, peaks = [], []
            url = None
            for _ in range(args.runs):
                url = fresh_database(engine, workdir)
                seconds, peak = run_measured([binary(), "import", os.path.join(OUT, "M")], env_for(url))
                times.append(seconds)
                peaks.append(peak)
            print("  import M runs: %s s" % ", ".join("%.2f" % t for t in times))
            all_ok &= report("import scale M, median wall time", statistics.median(times), "s", 20)
            report("import scale M, median peak RSS", statistics.median(peaks), "MB", 150)
            seconds, _ = run_measured([binary(), "import", os.path.join(OUT, "M")], env_for(url))
            print("  re-import M (idempotent, nothing changes): %.2f s" % seconds)
            ready_ms, idle_rss = start_to_ready(url, 5)
            all_ok &= report("start to ready (migrated, scale M), median", ready_ms, "ms", 300)
            print("  %-44s %10.1f ms (spawn baseline ratio %.1fx)" % ("", ready_ms, ready_ms / spawn))
            all_ok &= report("idle RSS after ready, median", idle_rss, "MB", 30)
            if args.scale_l:
                url = fresh_database(engine, workdir)
                seconds, peak = run_measured([binary(), "import", os.path.join(OUT, "L")], env_for(url))
                print("  import L wall time: %.1f s" % seconds)
                all_ok &= report("import scale L, peak RSS", peak, "MB", 150)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if "postgres" in args.engines:
            drop_databases()
    print("\nall targets met" if all_ok else "\nsome targets missed")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
