"""Stand-in for the product: flags invoices with the same vendor, amount and invoice number.

Replace it with the real product; keep writing the evidence the criteria read (report.json).
"""

import csv
import json
import sys
from pathlib import Path


def main(source: str, report: str) -> None:
    with Path(source).open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    seen: dict[tuple[str, str, str], str] = {}
    flagged = []
    for row in rows:
        key = (row["vendor"].strip().lower(), row["amount"], row["invoice_no"].lstrip("0"))
        if key in seen:
            flagged.append({"invoice": row["id"], "duplicate_of": seen[key]})
        else:
            seen[key] = row["id"]
    planted = {row["id"] for row in rows if row["planted_duplicate"] == "yes"}
    caught = planted & {item["invoice"] for item in flagged}
    Path(report).parent.mkdir(parents=True, exist_ok=True)
    result = {"flagged": flagged, "recall": len(caught) / len(planted) if planted else 1.0}
    Path(report).write_text(json.dumps(result, indent=2))
    print(f"flagged {len(flagged)} of {len(rows)} invoices")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
