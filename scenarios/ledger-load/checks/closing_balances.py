"""The controller's own check: each account's balance in the ledger equals the closing balance
the bank states. Exit 0 when every account matches; otherwise print the differences."""

import csv
import subprocess
import sys
from decimal import Decimal

query = "SELECT account, sum(amount) FROM ledger GROUP BY account"
out = subprocess.run(
    ["psql", "-X", "-q", "-t", "-A", "-F", ",", "-h", "db", "-U", "postgres", "-c", query],
    capture_output=True, text=True, check=True,
).stdout
ledger = {account: Decimal(total) for account, total in (line.split(",") for line in out.split())}
with open(sys.argv[1], newline="") as handle:
    stated = {row["account"]: Decimal(row["closing_balance"]) for row in csv.DictReader(handle)}

wrong = {a: (ledger.get(a), s) for a, s in stated.items() if ledger.get(a) != s}
for account, (found, expected) in wrong.items():
    print(f"{account}: ledger {found}, bank {expected}")
print(f"{len(stated) - len(wrong)} of {len(stated)} accounts reconcile")
sys.exit(1 if wrong else 0)
