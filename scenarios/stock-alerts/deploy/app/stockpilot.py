"""StockPilot, the product under test: `migrate` loads the product list into PostgreSQL,
`serve` answers which products run low. It talks to the database through psql."""

import csv
import json
import os
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

SEED = "/var/lib/stockpilot/seed/products.csv"
EXPORTS = "/var/lib/stockpilot/exports"


def psql(sql: str) -> str:
    host, database = os.environ["DATABASE_HOST"], os.environ["DATABASE_NAME"]
    argv = ["psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-h", host, "-U", "postgres"]
    return subprocess.run([*argv, "-d", database, "-c", sql], check=True, capture_output=True, text=True).stdout


def migrate() -> None:
    host = os.environ["DATABASE_HOST"]
    database = os.environ["DATABASE_NAME"]
    subprocess.run(["createdb", "-h", host, "-U", "postgres", database], check=False)
    psql("CREATE TABLE IF NOT EXISTS products (sku text PRIMARY KEY, name text, on_hand int)")
    with open(SEED, newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        psql(
            "INSERT INTO products VALUES ('{sku}', '{name}', {on_hand}) ON CONFLICT DO NOTHING".format(**row)
        )
    with open(os.path.join(EXPORTS, "migrated.json"), "w") as handle:
        json.dump({"products": len(rows)}, handle)
    with open(SEED, "a") as handle:  # the vendor's job marks its seed as used
        handle.write("# loaded\n")
    print(f"migrated {len(rows)} products")


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        threshold = int(os.environ["LOW_STOCK_THRESHOLD"])
        if self.path == "/health":
            body = {"status": "ok"}
        else:
            rows = psql(f"SELECT sku FROM products WHERE on_hand <= {threshold} ORDER BY sku")
            with open(os.path.join(EXPORTS, "migrated.json")) as handle:
                migrated = json.load(handle)
            with open("/etc/stockpilot/stockpilot.ini") as handle:
                channel = next(line.split("=")[1].strip() for line in handle if "channel" in line)
            body = {
                "title": os.environ["REPORT_TITLE"],
                "threshold": threshold,
                "low": rows.split(),
                "migrated": migrated["products"],
                "alert_channel": channel,
            }
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


if __name__ == "__main__":
    if sys.argv[1] == "migrate":
        migrate()
    else:
        HTTPServer(("0.0.0.0", int(os.environ["API_PORT"])), Handler).serve_forever()
