#!/usr/bin/env python3
"""hookrecv: a webhook receiver for the tests (tests/integration/studio_webhook.sh).

Listens on 127.0.0.1:PORT, checks each delivery the way docs/API.md tells a
receiver to (HMAC-SHA256 of "<X-Tether-Timestamp>.<raw body>" with the
shared secret, compared in constant time; the key in X-Tether-Delivery,
Idempotency-Key and the body's "id" agree), applies each key once, and
writes one JSON line per request to --log:

    {"n": 3, "key": "...", "event": "capture", "valid": true, "status": 200,
     "duplicate": false, "photo": 12, "timestamp": 1732300000}

"valid" is the signature check (null when no secret was given), "status"
what it answered, "duplicate" whether that key had been applied before.
It answers --fail-status (500) to the first --fail-first requests, 200
after.  It prints "listening on 127.0.0.1:PORT" once it listens and exits
on SIGTERM.  An independent implementation (Python's hmac), so that a
signing bug in tether does not check itself.

Usage: hookrecv.py --port PORT [--secret S] [--fail-first N]
                   [--fail-status CODE] --log FILE
"""
import argparse
import hashlib
import hmac
import json
import signal
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--secret", default=None)
    ap.add_argument("--fail-first", type=int, default=0)
    ap.add_argument("--fail-status", type=int, default=500)
    ap.add_argument("--log", required=True)
    args = ap.parse_args()
    log = open(args.log, "a", buffering=1)
    seen = {"n": 0, "applied": set()}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt, *a):  # quiet
            pass

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            seen["n"] += 1
            n = seen["n"]
            key = self.headers.get("X-Tether-Delivery", "")
            ts = self.headers.get("X-Tether-Timestamp", "")
            valid = None
            if args.secret is not None:
                sig = self.headers.get("X-Tether-Signature", "")
                want = "sha256=" + hmac.new(args.secret.encode(), ts.encode() + b"." + raw,
                                            hashlib.sha256).hexdigest()
                valid = hmac.compare_digest(sig, want)
            try:
                body = json.loads(raw)
            except ValueError:
                body = {}
            consistent = (key != "" and self.headers.get("Idempotency-Key") == key and body.get("id") == key
                          and self.headers.get("X-Tether-Event") == body.get("event")
                          and self.headers.get("Content-Type") == "application/json")
            status = args.fail_status if n <= args.fail_first else 200
            if valid is False or not consistent:
                status = 400
            duplicate = key in seen["applied"]
            if status == 200 and not duplicate:
                seen["applied"].add(key)  # "apply" the event once
            photo = body.get("photo") or {}
            log.write(json.dumps({"n": n, "key": key, "event": body.get("event"), "valid": valid,
                                  "consistent": consistent, "status": status, "duplicate": duplicate,
                                  "photo": photo.get("id"), "timestamp": int(ts) if ts.isdigit() else None,
                                  "body": body}) + "\n")
            reply = b'{"ok": true}' if status == 200 else b'{"ok": false}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

    HTTPServer.allow_reuse_address = True
    srv = HTTPServer(("127.0.0.1", args.port), Handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("listening on 127.0.0.1:%d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    finally:
        srv.server_close()
        log.close()


if __name__ == "__main__":
    main()
