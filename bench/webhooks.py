#!/usr/bin/env python3
"""Webhook benchmark: publish-to-delivery latency, and the write mix with a subscriber.

    python3 bench/webhooks.py [--engines sqlite|postgres] [--publishes 1000] [--threads 8]
                              [--duration 20] [--rounds 3] [--parts delivery,writes]
                              [--binary target/release/salve] [--no-build]

Starts the server with SALVE_WEBHOOK_ALLOW_HTTP and SALVE_WEBHOOK_ALLOW_PRIVATE (the endpoint
is a plain-http receiver on loopback, in this process: it notes each request's arrival and
answers 204 at once), on a fresh database per part (SQLite in a temporary directory, or
PostgreSQL database salve_bench_hooks, dropped at the end).
  delivery  an endpoint for item.published; `--publishes` benefit drafts created (not timed),
            then published by `--threads` keep-alive clients. Each delivery is matched to its
            publish by data.slug; latency is measured two ways, on this machine's clock:
              200 -> delivery        from the publish's 200 arriving at its client: after the
                                     commit, so a lower bound (negative when the delivery
                                     came first: clamped at 0 and counted)
              timestamp -> delivery  from the payload's `timestamp` (taken inside the write's
                                     transaction, before the commit): an upper bound
            Targets: every publish delivered (signatures checked); p99 of both <= 2 s.
  writes    bench/writes.py's editorial mix (bench/wrk/edit.lua over 200 techniques of
            scale M, wrk -t2 -c32, a warm-up, read cache off) with no endpoint, and with one
            subscribed to every item and review event; the two alternate over `--rounds`
            (ABBA). After each subscribed run the backlog is waited out (pending deliveries
            none) and the endpoint deleted. Prints median req/s, p50 and p99 of each and the
            ratios; the p99 with a subscriber should lie within the rounds' spread without
            one (printed, not judged: the receiver shares the machine's cores).
Prints markdown tables; the exit status says whether every delivery target was met and the
write mix had no errors but 412s.
"""
import argparse
import base64
import hashlib
import hmac
import http.client
import json
import os
import queue
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rest  # noqa: E402  (datasets, server, wrk parsing)
import writes  # noqa: E402  (the editorial write mix)

P99_MS = 2000.0
PG_NAME = "salve_bench_hooks"
ALL_EVENTS = ["item.created", "item.updated", "item.submitted", "item.published",
              "item.unpublished", "item.archived", "item.deleted", "review.recorded"]
DRAIN_S = 300


class Receiver:
    """A webhook endpoint on loopback: records (arrival, id, timestamp, signature, body)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.seen = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the dispatcher's client expects

            def do_POST(self):
                at = time.time()
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()
                h = self.headers
                with owner.lock:
                    owner.seen.append((at, h["webhook-id"], h["webhook-timestamp"], h["webhook-signature"], body))

            def log_message(self, *args):
                pass
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = "http://127.0.0.1:%d/hook" % self.httpd.server_address[1]

    def count(self):
        with self.lock:
            return len(self.seen)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def signed(secret, msg_id, stamp, signature, body):
    """Standard Webhooks v1: HMAC-SHA256 of `id.timestamp.body` under the whsec_ key."""
    key = base64.b64decode(secret.split("_", 1)[1])
    mac = hmac.new(key, ("%s.%s." % (msg_id, stamp)).encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode() in (signature or "").split(" ")


class Client:
    """One keep-alive connection calling with an API key."""

    def __init__(self, port, key):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.key = key

    def call(self, method, path, body=None, headers=None):
        h = dict(headers or {}, Authorization="Bearer " + self.key)
        data = None if body is None else json.dumps(body).encode()
        if data is not None:
            h["Content-Type"] = "application/json"
        self.conn.request(method, path, data, h)
        response = self.conn.getresponse()
        return response.status, response.getheader("ETag"), response.read()


def fan_out(port, key, threads, items, work):
    """work(client, item) for every item, on `threads` clients; the results in item order."""
    results, errors, todo = [None] * len(items), [], queue.Queue()
    for i in range(len(items)):
        todo.put(i)

    def run():
        client = Client(port, key)
        while not errors:
            try:
                i = todo.get_nowait()
            except queue.Empty:
                return
            try:
                results[i] = work(client, items[i])
            except Exception as error:  # noqa: BLE001 (reported below, the run stops)
                errors.append(error)
    pool = [threading.Thread(target=run) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    if errors:
        sys.exit("request failed: %s" % errors[0])
    return results


def expect(status, wanted, what, body):
    if status != wanted:
        raise RuntimeError("%s: %d %s" % (what, status, body[:300].decode(errors="replace")))


def fresh_database(engine, workdir):
    if engine == "sqlite":
        return "sqlite://" + os.path.join(workdir, "hooks-%s.db" % uuid.uuid4().hex[:8])
    drop_database()
    subprocess.run(["psql", rest.PG_ADMIN, "-qc", "CREATE DATABASE " + PG_NAME], check=True)
    return rest.PG_ADMIN.rsplit("/", 1)[0] + "/" + PG_NAME


def drop_database():
    subprocess.run(["psql", rest.PG_ADMIN, "-qc", "SET client_min_messages = warning",
                    "-c", "DROP DATABASE IF EXISTS %s WITH (FORCE)" % PG_NAME], check=True)


def admin_key(url):
    out = subprocess.run([rest.binary(), "keys", "create", "--name", "bench-hooks", "--scopes", "admin"],
                         env=rest.env_for(url), check=True, capture_output=True, text=True)
    return re.search(r"salve_[A-Za-z0-9_]+", out.stdout + out.stderr).group(0)


def register(server, key, url, events):
    status, _, body = Client(server.port, key).call("POST", "/v1/webhooks", {"url": url, "events": events})
    expect(status, 201, "register the endpoint", body)
    data = json.loads(body)["data"]
    return data["id"], data["secret"]


def pct(values, p):
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, -(-len(ordered) * p // 100) - 1))]


def delivery(engine, args, workdir):
    """Part A: --publishes publishes, each matched to its delivery."""
    url = fresh_database(engine, workdir)
    receiver, server = Receiver(), None
    try:
        key = admin_key(url)
        server = rest.Server(url, 18810)
        endpoint, secret = register(server, key, receiver.url, ["item.published"])
        slugs = ["hook-bench-%05d" % i for i in range(args.publishes)]

        def create(client, slug):
            status, etag, body = client.call("POST", "/v1/benefits", {"slug": slug, "name": "Hook " + slug})
            expect(status, 201, "create " + slug, body)
            return etag

        def publish(client, item):
            sent = time.time()
            status, _, body = client.call("POST", "/v1/benefits/%s/publish" % item[0], headers={"If-Match": item[1]})
            acked = time.time()
            expect(status, 200, "publish " + item[0], body)
            return sent, acked
        etags = fan_out(server.port, key, args.threads, slugs, create)
        started = time.time()
        acks = dict(zip(slugs, fan_out(server.port, key, args.threads, list(zip(slugs, etags)), publish)))
        publish_s = time.time() - started
        deadline = time.monotonic() + DRAIN_S
        while receiver.count() < len(slugs) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1)  # late duplicates, if any
        status, _, body = Client(server.port, key).call(
            "GET", "/v1/webhooks/%s/deliveries?status=pending&limit=100" % endpoint)
        pending = len(json.loads(body)["data"]) if status == 200 else -1
    finally:
        if server:
            server.stop()
        receiver.stop()
    first, duplicates, unsigned, to_ack, to_stamp, negative = {}, 0, 0, [], [], 0
    for at, msg_id, stamp, signature, body in sorted(receiver.seen):
        unsigned += not signed(secret, msg_id, stamp, signature, body)
        payload = json.loads(body)
        slug = payload["data"]["slug"]
        if payload["type"] != "item.published" or slug not in acks or slug in first:
            duplicates += 1
            continue
        first[slug] = at
        committed = datetime.fromisoformat(payload["timestamp"].replace("Z", "+00:00")).timestamp()
        negative += at < acks[slug][1]
        to_ack.append(max(0.0, at - acks[slug][1]) * 1000)
        to_stamp.append((at - committed) * 1000)
    rows = [("publish request -> 200", [(a - s) * 1000 for s, a in acks.values()])]
    rows += [("200 -> delivery (%d clamped at 0)" % negative, to_ack), ("timestamp -> delivery", to_stamp)]
    print("\n### Delivery: %s, %d publishes by %d clients, one endpoint (item.published)\n"
          % (engine, len(slugs), args.threads))
    print("| measure | p50 ms | p90 ms | p99 ms | max ms |\n|---|---:|---:|---:|---:|")
    for name, values in rows:
        if values:
            print("| %s | %.1f | %.1f | %.1f | %.1f |" % (name, pct(values, 50), pct(values, 90), pct(values, 99),
                                                       max(values)))
    p99 = max(pct(v, 99) for _, v in rows[1:]) if first else float("inf")
    met = len(first) == len(slugs) and unsigned == 0 and p99 <= P99_MS
    print("\ndelivered %d/%d (%d duplicate or unmatched, %d badly signed, %d still pending), "
          "%.0f publishes/s; p99 %.1f ms (target <= %.0f ms): %s"
          % (len(first), len(slugs), duplicates, unsigned, pending, len(slugs) / publish_s, p99, P99_MS,
             "PASS" if met else "FAIL"))
    return met


def drain(server, key, endpoint):
    """Seconds until the endpoint has no pending delivery (the backlog the run left)."""
    started = time.monotonic()
    client = Client(server.port, key)
    while time.monotonic() - started < DRAIN_S:
        status, _, body = client.call("GET", "/v1/webhooks/%s/deliveries?status=pending&limit=1" % endpoint)
        expect(status, 200, "list pending deliveries", body)
        if not json.loads(body)["data"]:
            return time.monotonic() - started
        time.sleep(0.1)
    return float("inf")


def write_mix(engine, args, workdir):
    """Part B: bench/writes.py's write mix without and with an endpoint subscribed to all."""
    url = fresh_database(engine, workdir)
    rest.import_dataset(url, "M")
    edited = os.path.join(workdir, "edited.txt")
    with open(rest.slugs_file("M", workdir)) as src, open(edited, "w") as dst:
        dst.writelines(src.readlines()[:writes.ITEMS])
    env = {"SLUGS_FILE": edited, "API_KEY": writes.publish_key(url)}
    key = admin_key(url)
    runs = {"none": [], "all events": []}
    receiver, server = Receiver(), rest.Server(url, 18811, ["--no-cache"])
    try:
        for n in range(args.rounds):
            for setup in (("none", "all events") if n % 2 == 0 else ("all events", "none")):
                if setup == "none":
                    runs[setup].append(writes.wrk(server, "edit.lua", "/", args.duration, env))
                    continue
                endpoint, _ = register(server, key, receiver.url, ALL_EVENTS)
                before = receiver.count()
                result = writes.wrk(server, "edit.lua", "/", args.duration, env)
                result["drain"] = drain(server, key, endpoint)
                result["delivered"] = receiver.count() - before
                status, _, body = Client(server.port, key).call("DELETE", "/v1/webhooks/" + endpoint)
                expect(status, 200, "delete the endpoint", body)
                runs[setup].append(result)
    finally:
        server.stop()
        receiver.stop()
    print("\n### Write mix: %s, scale M, edit.lua over %d techniques, wrk -t2 -c32, %d s per run, "
          "median of %d round%s\n" % (engine, writes.ITEMS, args.duration, args.rounds, "" if args.rounds == 1 else "s"))
    print("| endpoint | req/s | p50 ms | p99 ms | p99 per round | writes ok | 412 | errors | delivered | "
          "backlog drained |\n|---|---:|---:|---:|---|---:|---:|---:|---:|---:|")
    med = {}
    for setup, results in runs.items():
        med[setup] = {k: statistics.median(r[k] for r in results) for k in ("rps", "p50", "p99")}
        extra = ("%d | %.1f s" % (sum(r["delivered"] for r in results), max(r["drain"] for r in results))
                 if setup != "none" else "- | -")
        print("| %s | %.0f | %.2f | %.2f | %s | %d | %d | %d | %s |" % (
            setup, med[setup]["rps"], med[setup]["p50"], med[setup]["p99"],
            ", ".join("%.1f" % r["p99"] for r in results), sum(r.get("writes", 0) for r in results),
            sum(r.get("stale", 0) for r in results), sum(r.get("write_errors", r["errors"]) for r in results), extra))
    ratio = {k: med["all events"][k] / med["none"][k] for k in ("rps", "p50", "p99")}
    print("| with / without | %.2f | %.2f | %.2f | | | | | | |" % (ratio["rps"], ratio["p50"], ratio["p99"]))
    spread = [r["p99"] for r in runs["none"]]
    print("\np99 with a subscriber %.2f ms; without, over the rounds: %.2f-%.2f ms (%s)"
          % (med["all events"]["p99"], min(spread), max(spread),
             "within" if med["all events"]["p99"] <= max(spread) else "above"))
    return all(r.get("write_errors", r["errors"]) == 0 for rs in runs.values() for r in rs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--engines", default="sqlite", help="sqlite, postgres or both, comma separated")
    ap.add_argument("--publishes", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=8, help="publishing clients")
    ap.add_argument("--duration", type=int, default=20, help="seconds per write-mix run")
    ap.add_argument("--rounds", type=int, default=3, help="write-mix rounds; figures are medians")
    ap.add_argument("--parts", default="delivery,writes")
    ap.add_argument("--binary", help="the server to measure (default: the release build)")
    ap.add_argument("--no-build", action="store_true")
    args = ap.parse_args()
    if args.binary:
        os.environ["SALVE_BENCH_BINARY"] = os.path.abspath(args.binary)  # rest.binary() reads it
    elif not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--bin", "salve"], cwd=rest.ROOT, check=True)
    os.environ.update(SALVE_WEBHOOK_ALLOW_HTTP="true", SALVE_WEBHOOK_ALLOW_PRIVATE="true")
    parts = args.parts.split(",")
    if "writes" in parts:
        rest.ensure_wrk()
    ok = True
    workdir = tempfile.mkdtemp(prefix="salve-hooks-bench-")
    try:
        for engine in args.engines.split(","):
            if "delivery" in parts:
                ok &= delivery(engine, args, workdir)
            if "writes" in parts:
                ok &= write_mix(engine, args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if "postgres" in args.engines:
            drop_database()
    print("\nall targets met" if ok else "\nsome targets missed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
