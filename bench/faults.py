#!/usr/bin/env python3
"""Database fault benchmark (issue 20): a real PostgreSQL restart and stop under load.

    python3 bench/faults.py [--scale M] [--stop-seconds 10] [--threads 8] [--no-build]

Imports the dataset into a fresh PostgreSQL database, starts the release server with the read
cache off (every request reaches the database) and drives it with `--threads` keep-alive
clients reading items, lists and /readyz. Then, on the machine's PostgreSQL cluster
(pg_ctlcluster; this ends every other session on that server too):
  restart   `pg_ctlcluster … restart` under load
  stop      `pg_ctlcluster … stop`, `--stop-seconds` of outage, then `start`
For each event it prints the responses by status while the database was away and after it
came back, the seconds from the database accepting connections again until every client's
requests succeed (the last non-200 after it; target <= 2 s), whether /readyz is 200 again,
and the 500s (target 0). The exit status says whether the targets were met.
"""
import argparse
import collections
import http.client
import os
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rest  # noqa: E402  (datasets, server, databases)

RECOVERY_S = 2.0
PATHS = ["/v1/techniques?limit=5", "/v1/conditions?include=techniques&limit=3", "/readyz",
         "/v1/search?q=pain&limit=5"]


class Load:
    """Keep-alive clients recording (monotonic time, status) of every response."""

    def __init__(self, port, threads):
        self.port = port
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.seen = []
        self.threads = [threading.Thread(target=self.client, args=(i,)) for i in range(threads)]
        for t in self.threads:
            t.start()

    def client(self, index):
        conn = None
        i = index
        while not self.stop.is_set():
            path = PATHS[i % len(PATHS)]
            i += 1
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn = None
                status = 0  # the connection failed: counted, never expected
            with self.lock:
                self.seen.append((time.monotonic(), status))

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join()
        return self.seen


def cluster():
    version = sorted(os.listdir("/etc/postgresql"))[0]
    return [version, "main"]


def pg_ctl(action):
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect"] + cluster() + [action], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_accepting():
    while subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"]).returncode != 0:
        time.sleep(0.02)
    return time.monotonic()


def event(server, threads, name, outage):
    """Runs the load around one outage; returns the figures for it."""
    load = Load(server.port, threads)
    time.sleep(3)
    down_at = time.monotonic()
    outage()
    back_at = wait_accepting()
    time.sleep(6)
    seen = load.finish()
    during = collections.Counter(s for t, s in seen if down_at <= t < back_at)
    after = collections.Counter(s for t, s in seen if t >= back_at)
    failures_after = [t for t, s in seen if t >= back_at and s != 200]
    recovered = (max(failures_after) - back_at) if failures_after else 0.0
    ready = rest_status(server, "/readyz")
    return {"event": name, "outage_s": back_at - down_at, "during": dict(during), "after": dict(after),
            "recovered_s": recovered, "readyz": ready,
            "errors_500": sum(n for s, n in list(during.items()) + list(after.items()) if s >= 500 and s != 503),
            "failed_connections": during.get(0, 0) + after.get(0, 0)}


def rest_status(server, path):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.request("GET", path)
    return conn.getresponse().status


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", default="M")
    ap.add_argument("--stop-seconds", type=float, default=10)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--no-build", action="store_true")
    args = ap.parse_args()
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--locked"], cwd=rest.ROOT, check=True)
    workdir = tempfile.mkdtemp()
    url = rest.fresh_database("postgres", workdir)
    rest.import_dataset(url, args.scale)
    server = rest.Server(url, 18790, ["--no-cache"])
    results = []
    try:
        results.append(event(server, args.threads, "restart", lambda: pg_ctl("restart")))

        def stop_start():
            pg_ctl("stop")
            time.sleep(args.stop_seconds)
            pg_ctl("start")
        results.append(event(server, args.threads, "stop %gs" % args.stop_seconds, stop_start))
    finally:
        server.stop()
        wait_accepting()
        rest.drop_databases()
    ok = True
    for r in results:
        met = (r["recovered_s"] <= RECOVERY_S and r["errors_500"] == 0 and r["readyz"] == 200
               and r["failed_connections"] == 0)
        ok &= met
        print("%-9s outage %.1f s | during: %s | after: %s | recovered %.2f s after the database "
              "returned | /readyz %d | 500s %d | failed connections %d | %s"
              % (r["event"], r["outage_s"], fmt(r["during"]), fmt(r["after"]), r["recovered_s"],
                 r["readyz"], r["errors_500"], r["failed_connections"], "met" if met else "MISSED"))
    sys.exit(0 if ok else 1)


def fmt(counter):
    return ", ".join("%s x%d" % (s, n) for s, n in sorted(counter.items())) or "none"


if __name__ == "__main__":
    main()
