#!/usr/bin/env python3
"""Webhook benchmark: publish-to-delivery latency, and the write mix with a subscriber.

    python3 bench/webhooks.py [--engines sqlite|postgres] [--publishes 1000] [--threads 8]
        [--duration 20] [--rounds 3] [--parts delivery,writes] [--binary PATH] [--no-build]
        [--no-dispatch]

The server (release build, or --binary) runs with SALVE_WEBHOOK_ALLOW_HTTP/_PRIVATE on a fresh
database per part (SQLite in a temporary directory, or PostgreSQL salve_bench_hooks, dropped
at the end). The endpoint is a receiver in this process that notes each request's arrival
(time.time()) and answers 204 at once.
  delivery  one endpoint for item.published; --publishes benefit drafts created (not timed)
            and published by --threads keep-alive clients. Each delivery is matched to its
            publish by data.slug; latency from the publish's 200 reaching its client (after
            the commit: a lower bound; deliveries that came first are clamped at 0, counted)
            and from the payload's `timestamp` (set in the write's transaction, before the
            commit: an upper bound). Targets: every publish delivered once, correctly
            signed; p99 of both <= 2 s.
  writes    bench/writes.py's editorial mix (edit.lua, 200 techniques of scale M, wrk -t2
            -c32, warm-up, read cache off) with no endpoint and with one subscribed to every
            item and review event, alternated over --rounds (ABBA). After each subscribed
            run its backlog is waited out ("drained": seconds until no delivery is pending)
            and the endpoint deleted; "delivered" includes the warm-up. Prints median req/s,
            p50, p99, the cores each party used meanwhile (CPU s per s: the server, every
            PostgreSQL process, the sink), the ratios, and whether the p99 with a subscriber is within the spread
            without one (not judged: the endpoint, bench/hook_sink.js, shares the cores).
Prints markdown tables; exits 0 if the delivery targets were met and no write failed but 412s.
"""
import argparse
import base64
import concurrent.futures
import hashlib
import hmac
import http.client
import json
import os
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
WAIT_S = 300  # at most, for deliveries still due


class Receiver:
    """The endpoint: `seen` holds (arrival, webhook-id, -timestamp, -signature, body) of each POST."""

    def __init__(self):
        self.lock, self.seen, owner = threading.Lock(), [], self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive

            def do_POST(self):
                at, h = time.time(), self.headers
                body = self.rfile.read(int(h.get("Content-Length") or 0))
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()
                with owner.lock:
                    owner.seen.append((at, h["webhook-id"], h["webhook-timestamp"], h["webhook-signature"], body))

            def log_message(self, *args):
                pass
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = "http://127.0.0.1:%d/hook" % self.httpd.server_address[1]

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def signed(secret, msg_id, stamp, signature, body):
    """Standard Webhooks v1: a `v1,<base64>` HMAC-SHA256 of `id.timestamp.body` (whsec_ key)."""
    mac = hmac.new(base64.b64decode(secret.split("_", 1)[1]), ("%s.%s." % (msg_id, stamp)).encode() + body,
                   hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode() in (signature or "").split(" ")


class Client:
    """One keep-alive connection calling with an API key; call() raises unless `expect`."""

    def __init__(self, port, key):
        self.conn, self.key = http.client.HTTPConnection("127.0.0.1", port, timeout=60), key

    def call(self, method, path, expect, body=None, headers=None):
        h = dict(headers or {}, Authorization="Bearer " + self.key)
        if body is not None:
            body, h["Content-Type"] = json.dumps(body).encode(), "application/json"
        self.conn.request(method, path, body, h)
        response = self.conn.getresponse()
        data = response.read()
        if response.status != expect:
            raise RuntimeError("%s %s: %d %s" % (method, path, response.status, data[:300].decode(errors="replace")))
        return response.getheader("ETag"), json.loads(data) if data else None


def fan_out(port, key, threads, items, work):
    """work(client, item) for every item on `threads` keep-alive clients; the results in order."""
    local = threading.local()

    def run(item):
        if not hasattr(local, "client"):
            local.client = Client(port, key)
        return work(local.client, item)
    with concurrent.futures.ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(run, items))


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
    data = Client(server.port, key).call("POST", "/v1/webhooks", 201, {"url": url, "events": events})[1]["data"]
    return data["id"], data["secret"]


def pending(server, key, endpoint, limit=100):
    path = "/v1/webhooks/%s/deliveries?status=pending&limit=%d" % (endpoint, limit)
    return len(Client(server.port, key).call("GET", path, 200)[1]["data"])


def pct(values, p):
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, -(-len(ordered) * p // 100) - 1))]


def delivery(engine, args, workdir):
    """--publishes publishes, each matched to its delivery; whether the targets were met."""
    url = fresh_database(engine, workdir)
    key, receiver = admin_key(url), Receiver()
    server = rest.Server(url, 18810)
    try:
        endpoint, secret = register(server, key, receiver.url, ["item.published"])
        slugs = ["hook-bench-%05d" % i for i in range(args.publishes)]
        etags = fan_out(server.port, key, args.threads, slugs, lambda client, slug: client.call(
            "POST", "/v1/benefits", 201, {"slug": slug, "name": "Hook " + slug})[0])

        def publish(client, item):
            sent = time.time()
            client.call("POST", "/v1/benefits/%s/publish" % item[0], 200, headers={"If-Match": item[1]})
            return sent, time.time()
        started = time.time()
        acks = dict(zip(slugs, fan_out(server.port, key, args.threads, list(zip(slugs, etags)), publish)))
        publish_s = time.time() - started
        while len(receiver.seen) < len(slugs) and time.time() - started < WAIT_S:
            time.sleep(0.1)
        time.sleep(1)  # for late duplicates
        left = pending(server, key, endpoint)
    finally:
        server.stop()
        receiver.stop()
    first, extra, unsigned, to_ack, to_stamp, negative = {}, 0, 0, [], [], 0
    for at, msg_id, stamp, signature, body in sorted(receiver.seen):
        unsigned += not signed(secret, msg_id, stamp, signature, body)
        payload = json.loads(body)
        slug = payload["data"].get("slug")
        if payload["type"] != "item.published" or slug not in acks or slug in first:
            extra += 1
            continue
        first[slug] = at
        negative += at < acks[slug][1]
        to_ack.append(max(0.0, at - acks[slug][1]) * 1000)
        stamp = datetime.fromisoformat(payload["timestamp"].replace("Z", "+00:00")).timestamp()
        to_stamp.append((at - stamp) * 1000)
    rows = [("publish request -> 200", [(a - s) * 1000 for s, a in acks.values()]),
            ("200 -> delivery (%d clamped at 0)" % negative, to_ack), ("timestamp -> delivery", to_stamp)]
    print("\n### Delivery: %s, %d publishes by %d clients, one endpoint (item.published)\n"
          % (engine, len(slugs), args.threads))
    print("| measure | p50 ms | p90 ms | p99 ms | max ms |\n|---|---:|---:|---:|---:|")
    for name, values in rows:
        if values:
            print("| %s | %.1f | %.1f | %.1f | %.1f |" % ((name,) + tuple(pct(values, p) for p in (50, 90, 99, 100))))
    p99 = max(pct(v, 99) for _, v in rows[1:]) if first else float("inf")
    met = len(first) == len(slugs) and extra == unsigned == 0 and p99 <= P99_MS
    print("\ndelivered %d/%d (%d duplicates or unmatched, %d badly signed, %d still pending), %.0f publishes/s;"
          " p99 %.1f ms (target <= %.0f ms): %s" % (len(first), len(slugs), extra, unsigned, left,
                                                    len(slugs) / publish_s, p99, P99_MS, "PASS" if met else "FAIL"))
    return met


class Sink:
    """The write mix's endpoint: bench/hook_sink.js, so that answering costs the shared cores
    little (this process's receiver would take a good part of one)."""

    def __init__(self, port=18812):
        self.url = "http://127.0.0.1:%d/hook" % port
        self.proc = subprocess.Popen(["node", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                           "hook_sink.js"), str(port)])
        for _ in range(100):
            try:
                self.seen()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("hook_sink.js did not start")

    def seen(self):
        conn = http.client.HTTPConnection("127.0.0.1", int(self.url.split(":")[2].split("/")[0]), timeout=5)
        conn.request("GET", "/count")
        return int(conn.getresponse().read())

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def cpu_seconds(pids):
    """CPU time (user + system) the processes `pids` have used so far."""
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass  # ended meanwhile
    return total / os.sysconf("SC_CLK_TCK")


def postgres_pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and comm(p) == "postgres"]


def comm(pid):
    try:
        with open("/proc/%s/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return ""


def measured_wrk(server, receiver, args, env):
    """writes.wrk, with the cores each party used meanwhile (CPU s per wall s)."""
    parties = {"salve": lambda: [server.proc.pid], "sink": lambda: [receiver.proc.pid],
               "postgres": postgres_pids}
    before = {name: cpu_seconds(pids()) for name, pids in parties.items()}
    started = time.monotonic()
    result = writes.wrk(server, "edit.lua", "/", args.duration, env)
    wall = time.monotonic() - started
    result["cores"] = {name: (cpu_seconds(pids()) - before[name]) / wall for name, pids in parties.items()}
    return result


def subscribed_run(server, key, receiver, args, env):
    """One write-mix run with an endpoint for every event; waits out its backlog, deletes it."""
    endpoint, _ = register(server, key, receiver.url, ALL_EVENTS)
    before = receiver.seen()
    result = measured_wrk(server, receiver, args, env)
    finished = time.monotonic()
    while not args.no_dispatch and pending(server, key, endpoint, 1) and time.monotonic() - finished < WAIT_S:
        time.sleep(0.1)
    result.update(drained=time.monotonic() - finished, delivered=receiver.seen() - before)
    Client(server.port, key).call("DELETE", "/v1/webhooks/" + endpoint, 200)
    return result


def write_mix(engine, args, workdir):
    """bench/writes.py's write mix without and with a subscriber; whether it had no errors."""
    url = fresh_database(engine, workdir)
    rest.import_dataset(url, "M")
    edited = os.path.join(workdir, "edited.txt")
    with open(rest.slugs_file("M", workdir)) as src, open(edited, "w") as dst:
        dst.writelines(src.readlines()[:writes.ITEMS])
    env, key = {"SLUGS_FILE": edited, "API_KEY": writes.publish_key(url)}, admin_key(url)
    runs = {"none": [], "all events": []}
    extra = ["--no-cache"] + (["--no-webhook-dispatch"] if args.no_dispatch else [])
    receiver, server = Sink(), rest.Server(url, 18811, extra)
    try:
        for n in range(args.rounds):
            for setup in ("none", "all events")[::1 if n % 2 == 0 else -1]:
                runs[setup].append(measured_wrk(server, receiver, args, env) if setup == "none"
                                   else subscribed_run(server, key, receiver, args, env))
    finally:
        server.stop()
        receiver.stop()
    print("\n### Write mix: %s, scale M, edit.lua over %d techniques, wrk -t2 -c32, %d s per run, median of %d\n"
          % (engine, writes.ITEMS, args.duration, args.rounds))
    print("| endpoint | req/s | p50 ms | p99 ms | p99 per round | writes ok | 412 | errors | delivered | drained"
          " | cores: salve, database, sink |\n|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---|")
    med = {}
    for setup, results in runs.items():
        med[setup] = [statistics.median(r[k] for r in results) for k in ("rps", "p50", "p99")]
        total = {k: sum(r.get(k, 0) for r in results) for k in ("writes", "stale", "write_errors", "delivered")}
        print("| %s | %.0f | %.2f | %.2f | %s | %d | %d | %d | %s | %s | %s |" % (
            setup, med[setup][0], med[setup][1], med[setup][2], ", ".join("%.1f" % r["p99"] for r in results),
            total["writes"], total["stale"], total["write_errors"], total["delivered"] if setup != "none" else "-",
            "%.1f s" % max(r["drained"] for r in results) if setup != "none" else "-",
            ", ".join("%.2f" % statistics.median(r["cores"][name] for r in results)
                      for name in ("salve", "postgres", "sink"))))
    ratios = tuple(a / b for a, b in zip(med["all events"], med["none"]))
    print("| with / without | %.2f | %.2f | %.2f | | | | | | | |" % ratios)
    alone = [r["p99"] for r in runs["none"]]
    print("\np99 with a subscriber %.2f ms, without it %.2f-%.2f ms over the rounds: %s" % (
        med["all events"][2], min(alone), max(alone), "within" if med["all events"][2] <= max(alone) else "above"))
    return all(r.get("write_errors", r["errors"]) == 0 for rs in runs.values() for r in rs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--engines", default="sqlite", help="sqlite, postgres, or both comma separated")
    ap.add_argument("--publishes", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=8, help="publishing clients")
    ap.add_argument("--duration", type=int, default=20, help="seconds per write-mix run")
    ap.add_argument("--rounds", type=int, default=3, help="write-mix rounds; figures are medians")
    ap.add_argument("--parts", default="delivery,writes")
    ap.add_argument("--binary", help="the server to measure (default: the release build, built first)")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--no-dispatch", action="store_true",
                    help="write mix: record events but deliver none (the outbox's cost alone)")
    args = ap.parse_args()
    if args.binary:
        os.environ["SALVE_BENCH_BINARY"] = os.path.abspath(args.binary)  # rest.binary() reads it
    elif not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--bin", "salve"], cwd=rest.ROOT, check=True)
    os.environ.update(SALVE_WEBHOOK_ALLOW_HTTP="true", SALVE_WEBHOOK_ALLOW_PRIVATE="true")
    parts = args.parts.split(",")
    if "writes" in parts:
        rest.ensure_wrk()
    ok, workdir = True, tempfile.mkdtemp(prefix="salve-hooks-bench-")
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
