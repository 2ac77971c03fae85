"""A tiny JSON API on port 8080: GET / answers {"service": "api", "status": "ok"}.

Standard library only, so the image is the base image plus this file.
"""

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BODY = json.dumps({"service": "api", "status": "ok"}).encode()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: every healthcheck poll would be a log line."""


if __name__ == "__main__":
    ThreadingHTTPServer(("0.0.0.0", 8080), Handler).serve_forever()
