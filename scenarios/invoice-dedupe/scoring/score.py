"""Scores the product's flagged list against the prospect's answer key.

Writes recall and precision to a JSON file for the criteria, and prints the overpayment the
flagged duplicates would have caused, for the CFO's metric.
"""

import csv
import json
import sys
from pathlib import Path


def read_pairs(path: str) -> set[tuple[str, str]]:
    with Path(path).open(newline="") as handle:
        return {(row["invoice"], row["duplicate_of"]) for row in csv.DictReader(handle)}


def main(flagged_path: str, known_path: str, invoices_path: str, metrics_path: str) -> None:
    flagged, known = read_pairs(flagged_path), read_pairs(known_path)
    with Path(invoices_path).open(newline="") as handle:
        amounts = {row["id"]: float(row["amount"]) for row in csv.DictReader(handle)}
    caught = flagged & known
    metrics = {
        "flagged": len(flagged),
        "known": len(known),
        "recall": len(caught) / len(known) if known else 1.0,
        "precision": len(caught) / len(flagged) if flagged else 1.0,
        "overpayment_avoided": round(sum(amounts[invoice] for invoice, _ in caught), 2),
    }
    Path(metrics_path).write_text(json.dumps(metrics, indent=2))
    print(f"recall {metrics['recall']:.2f}, precision {metrics['precision']:.2f}")
    print(f"overpayment avoided: {metrics['overpayment_avoided']:.2f}")


if __name__ == "__main__":
    main(*sys.argv[1:5])
