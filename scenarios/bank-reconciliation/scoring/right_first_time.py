"""The controller's own scoring: of the lines the matcher matched, how many went to the invoice
the hospital's answer key says they pay (data/answer-key.csv, reconciled by hand for November).

    python3 right_first_time.py MATCHES.csv ANSWER_KEY.csv OUT.json
"""

import csv
import json
import sys


def read(path):
    with open(path, newline="", encoding="utf-8-sig") as stream:
        return {row["line_id"]: row["invoice_id"] for row in csv.DictReader(stream)}


matches, key = read(sys.argv[1]), read(sys.argv[2])
right = [line for line, invoice in matches.items() if key.get(line) == invoice]
wrong = sorted(set(matches) - set(right))
score = {
    "matched": len(matches),
    "right": len(right),
    "right_percent": round(len(right) / len(matches) * 100, 2) if matches else 0.0,
    "wrong": wrong,
}
with open(sys.argv[3], "w") as stream:
    json.dump(score, stream, indent=2)
print(f"{len(right)} of {len(matches)} matches are right: {score['right_percent']}%; wrong: {wrong}")
