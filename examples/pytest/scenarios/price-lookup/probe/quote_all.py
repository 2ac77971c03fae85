"""Quote every item of the price list through the API; write sku,price to a CSV.

Usage: quote_all.py BASE_URL PRICE_LIST OUT_CSV
"""

import csv
import json
import sys
import urllib.request

base, price_list, out = sys.argv[1:4]
with open(price_list, newline="", encoding="utf-8") as handle:
    skus = [row["sku"] for row in csv.DictReader(handle)]
with open(out, "w", newline="", encoding="utf-8") as handle:
    writer = csv.writer(handle)
    writer.writerow(["sku", "price"])
    for sku in skus:
        with urllib.request.urlopen(f"{base}/prices/{sku}", timeout=5) as answer:
            writer.writerow([sku, json.load(answer)["price"]])
print(f"quoted {len(skus)} items")
