#!/usr/bin/env python3
"""A toy app: serves HTTP on the namespace's inbound address and, for each
request, calls UPSTREAM (host:port) and reports the source address the
upstream saw -- the outbound one."""
import http.server
import os
import urllib.request

PORT = int(os.environ.get("PORT", "8080"))
UPSTREAM = os.environ.get("UPSTREAM", "198.51.100.1:9000")
LISTEN = os.environ["NETNS_INBOUND_ADDRS"].split()[0].split("/")[0]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        try:
            with urllib.request.urlopen(f"http://{UPSTREAM}/", timeout=3) as r:
                body = f"client {self.client_address[0]} came in on {LISTEN}; upstream saw {r.read().decode().strip()}\n"
            code = 200
        except OSError as e:
            body, code = f"upstream {UPSTREAM}: {e}\n", 502
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


http.server.HTTPServer((LISTEN, PORT), Handler).serve_forever()
