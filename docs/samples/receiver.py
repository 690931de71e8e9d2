"""A webhook+ receiver that checks the signature: HOOK_SECRET=... python receiver.py"""

import hashlib
import hmac
import json
import os
from http.server import BaseHTTPRequestHandler, HTTPServer


class Hook(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        key = os.environ["HOOK_SECRET"].encode()
        good = "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(good, self.headers.get("X-Newsmonitor-Signature", "")):
            return self.send_error(401)  # not from us: newsmonitor gives up on 4xx
        alert = json.loads(body)  # X-Newsmonitor-Delivery repeats on a retry: dedupe on it
        print(alert["kind"], alert.get("article", {}).get("title"), flush=True)
        self.send_response(204)
        self.end_headers()


if __name__ == "__main__":
    HTTPServer(("127.0.0.1", 8080), Hook).serve_forever()
