#!/usr/bin/env python3
"""http_seeds.py DIR: writes fuzz_http's seed inputs, one per route of the
studio's API with a body it would accept, into DIR.  The layout is
fuzz_http.c's: method, route, header set, body kind, then the path part,
the query and the body separated by NULs; the methods and routes are read
from its methods[] and routes[]."""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def c_strings(name):
    """The strings of the C array NAME[] in fuzz_http.c (one table, read here)."""
    with open(os.path.join(HERE, "fuzz_http.c")) as f:
        text = f.read()
    body = re.search(r"\b%s\[\] = \{(.*?)\};" % name, text, re.S).group(1)
    return re.findall(r'"([^"]*)"', body)


METHODS = c_strings("methods")
ROUTES = c_strings("routes")
SEEDS = [
    ("GET", "/api/status", "", "", ""),
    ("GET", "/healthz", "", "", ""),
    ("GET", "/metrics", "", "", ""),
    ("GET", "/api/rig", "", "", ""),
    ("GET", "/api/rig/files/#", "n1/canon-eos-550d/20261206-1/IMG_0001.jpg", "", ""),
    ("PUT", "/api/rig/files/#", "n1/canon-eos-550d/20261206-1/IMG_0001.jpg", "", "\xff\xd8\xff\xd9"),
    ("POST", "/api/capture", "", "", ""),
    ("GET", "/api/photos", "", "session=default&page=2&per_page=3", ""),
    ("GET", "/api/photos/#", "1", "", ""),
    ("GET", "/api/photos/#/histogram", "1", "", ""),
    ("DELETE", "/api/photos/#", "1", "", ""),
    ("POST", "/api/settings", "", "", '{"path": "iso", "value": "400"}'),
    ("POST", "/api/settings", "", "", '{"values": {"aperture": "8", "shutterspeed": "1/250"}}'),
    ("POST", "/api/presets", "", "", '{"name": "studio", "settings": ["iso", "aperture"]}'),
    ("POST", "/api/presets/#/apply", "studio", "", ""),
    ("DELETE", "/api/presets/#", "studio", "", ""),
    ("POST", "/api/sessions", "", "", '{"name": "wedding"}'),
    ("POST", "/api/sessions/#/activate", "wedding", "", ""),
    ("POST", "/api/focus/area", "", "", '{"x": 0.5, "y": 0.5, "zoom": 5}'),
    ("GET", "/api/focus/measure", "", "", ""),
    ("POST", "/api/focus/auto", "", "", '{"mode": "nearest"}'),
    ("POST", "/api/focus/drive", "", "", '{"steps": -3}'),
    ("POST", "/api/focus/stack", "", "", '{"count": 3, "steps": 10}'),
    ("POST", "/api/focus/trap", "", "", '{"threshold": 0.8}'),
    ("POST", "/api/focus/cancel", "", "", ""),
    ("POST", "/api/interval", "", "", '{"interval_s": 2, "count": 2}'),
    ("POST", "/api/interval/stop", "", "", ""),
    ("POST", "/api/import", "", "", '{"mode": "new"}'),
    ("POST", "/api/import/cancel", "", "", ""),
    ("POST", "/api/webhooks", "", "", '{"url": "https://hooks.example.com/x", "secret": "s3cret-s3cret", "events": ["capture"]}'),
    ("PUT", "/api/webhooks/#", "1", "", '{"enabled": false}'),
    ("POST", "/api/webhooks/#/test", "1", "", ""),
    ("GET", "/api/webhooks/deliveries", "", "limit=5&state=failed", ""),
    ("PUT", "/api/tagging", "", "", '{"gps": "-33.8568,151.2153", "artist": "Jane", "keywords": "a, b", "enabled": true}'),
    ("POST", "/api/tagging/apply", "", "", '{"session": "default"}'),
    ("GET", "/photos/#", "default/2026-01-01/x.jpg", "", ""),
    ("POST", "/login", "", "", '{"token": "wrong-token"}'),
    ("POST", "/login", "", "", "token=wrong+token%21&next=/gallery"),
    ("GET", "/login", "", "failed=1&next=//evil.example", ""),
    ("GET", "/api/photos/#/preview", "1", "", ""),
    ("POST", "/api/focus/zoom", "", "", '{"factor": 5}'),
]
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for i, (method, route, part, query, body) in enumerate(SEEDS):
    form = body.startswith("token=")  # the sign-in form: no Content-Type
    headers = 1 if body and not form else 0  # Content-Type: application/json
    data = bytes([METHODS.index(method), ROUTES.index(route), headers, 0])
    data += part.encode() + b"\0" + query.encode() + b"\0" + body.encode()
    with open(os.path.join(out, "seed-%02d" % i), "wb") as f:
        f.write(data)
