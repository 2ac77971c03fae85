"""The product under test: matches each bank line to the open invoice it pays.

Rule 1: the remittance text names an open invoice. Rule 2: no usable reference, but exactly one
open invoice has the amount paid. Anything else is left for a person. Writes the matches (no
patient or payer names: they stay in the hospital's systems) and a summary.

    python3 match.py BANK_LINES.csv OPEN_INVOICES.csv OUT_FOLDER
"""

import csv
import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path


def read(path):
    with open(path, newline="", encoding="utf-8-sig") as stream:
        return list(csv.DictReader(stream))


def main(lines_path, invoices_path, out):
    invoices = {row["invoice_id"]: row for row in read(invoices_path)}
    lines = read(lines_path)
    still_open = set(invoices)
    matches, pending = [], []
    for line in lines:
        named = re.search(r"INV-\d+", line["reference"] or "")
        if named and named.group() in still_open:
            matches.append((line, named.group(), "reference"))
            still_open.discard(named.group())
        else:
            pending.append(line)
    for line in pending:
        same = [i for i in sorted(still_open) if invoices[i]["amount"] == line["amount"]]
        if len(same) == 1:
            matches.append((line, same[0], "amount"))
            still_open.discard(same[0])
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    with open(folder / "matches.csv", "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["line_id", "invoice_id", "amount", "rule", "matched_at"])
        for line, invoice, rule in sorted(matches, key=lambda m: m[0]["line_id"]):
            writer.writerow([line["line_id"], invoice, line["amount"], rule, now])
    summary = {
        "lines": len(lines),
        "matched": len(matches),
        "matched_percent": round(len(matches) / len(lines) * 100, 2),
        "left_for_a_person": [line["line_id"] for line in lines if line not in [m[0] for m in matches]],
    }
    (folder / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"{len(matches)} of {len(lines)} bank lines matched")


if __name__ == "__main__":
    main(*sys.argv[1:4])
