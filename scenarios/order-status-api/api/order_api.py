"""The product under test: an order-status API over the prospect's order export.

GET /health            -> {"ok": true}
GET /orders/<order_id> -> {"order_id", "status", "carrier", "eta"}, or 404
Search by customer e-mail is on the roadmap, not in this version (the scenario's nice-to-have).
"""

import csv
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ORDERS_FILE = sys.argv[1] if len(sys.argv) > 1 else "/data/orders.csv"
with open(ORDERS_FILE, newline="", encoding="utf-8") as handle:
    ORDERS = {row["order_id"]: row for row in csv.DictReader(handle)}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        if self.path == "/health":
            return self.reply(200, {"ok": True})
        if self.path.startswith("/orders/"):
            order = ORDERS.get(self.path.removeprefix("/orders/"))
            if order is None:
                return self.reply(404, {"error": "no such order"})
            fields = ("order_id", "status", "carrier", "eta")
            return self.reply(200, {key: order[key] or None for key in fields})
        return self.reply(404, {"error": "not found"})

    def reply(self, status: int, body: dict) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        sys.stderr.write(f"{self.command} {self.path} -> {args[1] if len(args) > 1 else ''}\n")


ThreadingHTTPServer(("0.0.0.0", 8080), Handler).serve_forever()
