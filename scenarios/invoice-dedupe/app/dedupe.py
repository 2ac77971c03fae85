"""Duplicate-invoice detector: the product this scenario proves.

Two invoices are duplicates when they come from the same vendor (ignoring case, punctuation
and legal suffixes), for the same amount, with the same invoice number once formatting is
ignored (`INV-0042` = `inv 42`), within 60 days of each other. A monthly bill with a new number
each month is not a duplicate.
"""

import csv
import re
import sys
from datetime import date
from pathlib import Path

LEGAL_SUFFIXES = re.compile(r"\b(inc|ltd|llc|gmbh|co|corp|sa|ag)\b")
WINDOW_DAYS = 60


def vendor_key(name: str) -> str:
    name = re.sub(r"[^a-z0-9 ]", " ", name.lower())
    return " ".join(LEGAL_SUFFIXES.sub(" ", name).split())


def number_key(number: str) -> str:
    compact = re.sub(r"[^A-Z0-9]", "", number.upper())
    return re.sub(r"(?<![0-9])0+(?=[0-9])", "", compact)  # INV-0042 and inv 42 match


def main(source: str, target: str) -> None:
    with Path(source).open(newline="") as handle:
        invoices = sorted(csv.DictReader(handle), key=lambda row: row["invoice_date"])
    first_seen: dict[tuple[str, str, str], dict[str, str]] = {}
    flagged: list[tuple[str, str]] = []
    for row in invoices:
        key = (vendor_key(row["vendor"]), f"{float(row['amount']):.2f}", number_key(row["invoice_no"]))
        earlier = first_seen.get(key)
        days = (
            (date.fromisoformat(row["invoice_date"]) - date.fromisoformat(earlier["invoice_date"])).days
            if earlier
            else None
        )
        if earlier is not None and days is not None and days <= WINDOW_DAYS:
            flagged.append((row["id"], earlier["id"]))
        else:
            first_seen[key] = row
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    with Path(target).open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["invoice", "duplicate_of"])
        writer.writerows(flagged)
    print(f"checked {len(invoices)} invoices, flagged {len(flagged)} as duplicates")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
