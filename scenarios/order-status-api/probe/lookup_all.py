"""The support desk's day, replayed: look up every order in the export through the API, as an
agent would, and record each answer and how long it took."""

import csv
import json
import statistics
import sys
import time
import urllib.error
import urllib.request

base_url, orders_file, answers_file = sys.argv[1:4]
with open(orders_file, newline="", encoding="utf-8") as handle:
    order_ids = [row["order_id"] for row in csv.DictReader(handle)]

timings, answers = [], []
for _ in range(5):  # five passes over the book, as a busy morning would
    for order_id in order_ids:
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(f"{base_url}/orders/{order_id}", timeout=5) as reply:
                body = json.load(reply)
        except urllib.error.URLError as exc:
            body = {"order_id": order_id, "status": f"error: {exc}"}
        timings.append((time.perf_counter() - started) * 1000)
        answers.append(body)

with open(answers_file, "w", newline="", encoding="utf-8") as handle:
    writer = csv.writer(handle)
    writer.writerow(["order_id", "status"])
    for body in answers[: len(order_ids)]:
        writer.writerow([body.get("order_id"), body.get("status")])

timings.sort()
p95 = timings[int(len(timings) * 0.95) - 1]
print(f"lookups: {len(timings)}")
print(f"median_ms: {statistics.median(timings):.2f}")
print(f"p95_ms: {p95:.2f}")
