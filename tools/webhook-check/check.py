#!/usr/bin/env python3
"""Salve's webhook deliveries, checked end to end by Standard Webhooks' own verifier.

    check.py --binary target/debug/salve --database-url sqlite:///tmp/x.db --port 18741

Runs a local receiver and Salve on a fresh database, registers an endpoint, creates and
publishes 20 benefits through the REST API, and proves that:
- every request received (failed attempts included) passes `Webhook.verify` of the PyPI
  package `standardwebhooks` with the secret Salve issued, and fails it once one byte of
  the body is flipped (so the verifier really checks);
- each event (item.created, item.published per benefit) arrives as exactly one message,
  with its own `webhook-id` and a JSON body `{type, timestamp, data}` naming the item;
- a delivery answered 500 is retried, same `webhook-id` and body, until it succeeds (two
  are failed twice each, so both are due again at once);
- the deliveries list ends with all `succeeded`, payloads as sent, the retried at 3+ attempts.
Standard library plus `standardwebhooks` only; exits 1 with the reason on any failure.
"""
import argparse
import http.server
import importlib.metadata
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

from standardwebhooks import Webhook, WebhookVerificationError

EVENTS = ["item.created", "item.updated", "item.submitted", "item.published",
          "item.unpublished", "item.archived", "item.deleted", "review.recorded"]
BENEFITS = 20
FAILING_IDS, FAILURES = 2, 2  # the first 2 webhook-ids seen are answered 500 twice each


class Fail(Exception):
    pass


class Receiver(http.server.ThreadingHTTPServer):
    """Records every POST (lower-cased headers, raw body, status answered). Answers 204, or
    500 to the first `fail_times` requests of each of the first `fail_ids` webhook-ids."""

    def __init__(self, fail_ids, fail_times):
        super().__init__(("127.0.0.1", 0), Handler)
        self.lock, self.requests = threading.Lock(), []
        self.fail_ids, self.fail_times, self.failing = fail_ids, fail_times, {}

    def answer(self, headers, body):
        with self.lock:
            hook_id = headers.get("webhook-id", "")
            if hook_id not in self.failing and len(self.failing) < self.fail_ids:
                self.failing[hook_id] = self.fail_times
            status = 500 if self.failing.get(hook_id, 0) > 0 else 204
            if status == 500:
                self.failing[hook_id] -= 1
            self.requests.append({"headers": headers, "body": body, "status": status})
            return status

    def snapshot(self):
        with self.lock:
            return list(self.requests)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(self.server.answer({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def call(method, url, key, want, body=None, headers=None):
    """(headers, parsed JSON) of a request answered `want`; any other answer fails."""
    data = None if body is None else json.dumps(body).encode()
    head = {"Authorization": f"Bearer {key}", "Content-Type": "application/json", **(headers or {})}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data, head, method=method),
                                    timeout=30) as resp:
            status, head, raw = resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        status, head, raw = err.code, err.headers, err.read()
    if status != want:
        raise Fail(f"{method} {url}: expected {want}, got {status}: {raw.decode(errors='replace')}")
    return head, json.loads(raw) if raw else None


def refused(verifier, body, headers):
    try:
        verifier.verify(body, headers)
    except WebhookVerificationError:
        return True
    return False


def wait_until(what, seconds, probe, explain=lambda: ""):
    deadline = time.monotonic() + seconds
    while not probe():
        if time.monotonic() > deadline:
            raise Fail(f"{what}: not within {seconds} s{explain()}")
        time.sleep(0.1)


def run(base, key, receiver, server):
    def api(method, path, want, **kwargs):
        return call(method, base + path, key, want, **kwargs)

    def ready():
        if server.poll() is not None:
            raise Fail(f"the server exited with {server.returncode} before it was ready")
        try:
            return call("GET", f"{base}/readyz", key, 200) is not None
        except (Fail, OSError):
            return False
    wait_until("GET /readyz == 200", 30, ready)

    hook_url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    _, created = api("POST", "/v1/webhooks", 201, body={"url": hook_url, "events": EVENTS})
    endpoint, secret = created["data"]["id"], created["data"]["secret"]
    if not secret.startswith("whsec_"):
        raise Fail(f"the endpoint's secret is not a whsec_ secret: {secret!r}")

    def listed():
        _, page = api("GET", f"/v1/webhooks/{endpoint}/deliveries?limit=100", 200)
        return {d["message_id"]: d for d in page["data"]}

    def unsettled():
        rows = [f"\n  {d['message_id']} {d['event_type']} {d['status']}, {d['attempts']} attempts,"
                f" last: {d['last_status'] or d['last_error']}, next: {d['next_attempt_at']}"
                for d in listed().values() if d["status"] != "succeeded"]
        return "; deliveries not succeeded:" + "".join(rows) if rows else ""

    expected = set()
    for n in range(BENEFITS):
        slug = f"webhook-check-{n}"
        head, _ = api("POST", "/v1/benefits", 201, body={"slug": slug, "name": f"Webhook check {n}"})
        api("POST", f"/v1/benefits/{slug}/publish", 200, headers={"If-Match": head["ETag"]})
        expected |= {("item.created", slug), ("item.published", slug)}

    def delivered():
        ok = {r["headers"].get("webhook-id") for r in receiver.snapshot() if r["status"] == 204}
        return len(ok) >= len(expected)
    wait_until(f"{len(expected)} successful deliveries", 30, delivered, unsettled)
    time.sleep(0.5)  # anything sent twice or unexpected shows up too

    verifier, seen, messages = Webhook(secret), {}, {}
    requests = receiver.snapshot()
    for n, req in enumerate(requests):
        hook_id, headers, body = req["headers"].get("webhook-id"), req["headers"], req["body"]
        where = f"request {n + 1} (webhook-id {hook_id}, answered {req['status']})"
        try:
            payload = verifier.verify(body, headers)
        except WebhookVerificationError as err:
            shown = {k: v for k, v in headers.items() if k.startswith("webhook-")}
            raise Fail(f"{where}: standardwebhooks refuses it ({err}); headers {shown}, body {body!r}")
        if not refused(verifier, body[:len(body) // 2] + bytes([body[len(body) // 2] ^ 1])
                       + body[len(body) // 2 + 1:], headers):
            raise Fail(f"{where}: with one byte of the body flipped, it still verifies")
        if not headers.get("content-type", "").startswith("application/json"):
            raise Fail(f"{where}: content-type {headers.get('content-type')!r}")
        data = payload.get("data") or {}
        event = (payload.get("type"), data.get("slug"))
        if event not in expected or data.get("collection") != "benefits" or "timestamp" not in payload:
            raise Fail(f"{where}: unexpected payload {payload}")
        if seen.setdefault(event, hook_id) != hook_id:
            raise Fail(f"{where}: {event} came with webhook-ids {seen[event]} and {hook_id}")
        if messages.setdefault(hook_id, body) != body:
            raise Fail(f"{where}: an attempt of {hook_id} had another body")
    if set(seen) != expected or len(messages) != len(expected):
        raise Fail(f"{len(messages)} webhook-ids; no delivery for {sorted(expected - set(seen))}")

    answers = {i: [r["status"] for r in requests if r["headers"].get("webhook-id") == i] for i in messages}
    retried = {i for i, got in answers.items() if 500 in got}
    odd = {i: answers[i] for i in retried if answers[i][:FAILURES + 1] != [500] * FAILURES + [204]}
    if odd or len(retried) != FAILING_IDS:
        raise Fail(f"expected {FAILING_IDS} deliveries answered {FAILURES} × 500 then 204; got "
                   f"{len(retried)} failed on purpose, answers out of order: {odd}")

    final = {}
    wait_until("every delivery listed as succeeded", 10,
               lambda: final.update(listed()) or set(final) == set(messages) and
               all(d["status"] == "succeeded" for d in final.values()), unsettled)
    for hook_id, body in messages.items():
        entry, sent = final[hook_id], json.loads(body)
        least = FAILURES + 1 if hook_id in retried else 1
        if entry["attempts"] < least or entry["payload"] != sent or entry["event_type"] != sent["type"]:
            raise Fail(f"{hook_id}: listed as {entry}; expected {least}+ attempts and the body sent")
    return len(messages), len(requests), len(retried)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", required=True, help="the salve binary")
    parser.add_argument("--database-url", required=True, help="a fresh database (sqlite or postgres)")
    parser.add_argument("--port", type=int, required=True, help="the port salve serves on")
    args = parser.parse_args()
    name = f"webhook-check ({args.database_url.split(':', 1)[0]})"
    env = {**os.environ, "SALVE_DATABASE_URL": args.database_url, "SALVE_LOG": "warn", "NO_COLOR": "1"}
    made = subprocess.run([args.binary, "keys", "create", "--name", "hook-admin", "--scopes", "admin"],
                          env=env, capture_output=True, text=True)
    key = re.search(r"salve_[A-Za-z0-9_]+", made.stdout)
    if made.returncode != 0 or not key:
        print(f"{name}: FAILED: `keys create` exited {made.returncode}:\n{made.stdout}{made.stderr}")
        return 1
    env.update(SALVE_WEBHOOK_ALLOW_HTTP="true", SALVE_WEBHOOK_ALLOW_PRIVATE="true",
               SALVE_WEBHOOK_RETRY_FIRST_MS="200", SALVE_WEBHOOK_RETRY_FOR="1h")
    receiver = Receiver(FAILING_IDS, FAILURES)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    log, failure = tempfile.TemporaryFile(), None
    server = subprocess.Popen([args.binary, "serve", "--bind", f"127.0.0.1:{args.port}"],
                              env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        count, requests, retried = run(f"http://127.0.0.1:{args.port}", key.group(), receiver, server)
    except Exception as err:  # noqa: BLE001 (any failure: stop the server, show its log)
        failure = str(err) if isinstance(err, Fail) else f"{type(err).__name__}: {err}"
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill(), server.wait()
                failure = failure or "the server did not stop within 15 s of SIGTERM"
        receiver.shutdown()
        log.seek(0)
        output = log.read().decode(errors="replace").splitlines()
    if not failure and (server.returncode != 0 or any("panicked" in line for line in output)):
        failure = f"the server exited with {server.returncode} or panicked"
    if failure:
        print(f"{name}: FAILED: {failure}")
        if output:
            print(f"--- server output (last 40 of {len(output)} lines) ---", *output[-40:], sep="\n")
        return 1
    print(f"{name}: {count} deliveries ({requests} requests) verified by standardwebhooks "
          f"{importlib.metadata.version('standardwebhooks')} ({retried} retried {FAILURES}× "
          "with the same webhook-id)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
