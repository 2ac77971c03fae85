"""The product under test: a pricing API over the distributor's price list.

GET /health        -> {"ok": true}
GET /prices/<sku>  -> {"sku", "price", "currency"}, or 404
"""

import csv
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PRICES_FILE = sys.argv[1] if len(sys.argv) > 1 else "/data/prices.csv"
with open(PRICES_FILE, newline="", encoding="utf-8") as handle:
    PRICES = {row["sku"]: row for row in csv.DictReader(handle)}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # the http.server API
        if self.path == "/health":
            return self.reply(200, {"ok": True})
        if self.path.startswith("/prices/"):
            item = PRICES.get(self.path.removeprefix("/prices/"))
            if item is None:
                return self.reply(404, {"error": "not on the price list"})
            return self.reply(
                200, {"sku": item["sku"], "price": float(item["price"]), "currency": item["currency"]}
            )
        return self.reply(404, {"error": "not found"})

    def reply(self, status: int, body: dict) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        sys.stderr.write(f"{self.command} {self.path}\n")


ThreadingHTTPServer(("0.0.0.0", 8080), Handler).serve_forever()
