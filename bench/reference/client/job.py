"""The three steps of the reference job: `fetch`, `compute FILE`, `report FILE OUT`.

Standard library only; each step is one short process, as a real product's CLI would be.
"""

import json
import sys
import urllib.request
from pathlib import Path

API = "http://api:8080/"  # the API by its service name, on the sandbox network


def fetch() -> None:
    with urllib.request.urlopen(API, timeout=5) as response:
        answer = json.load(response)
    print(f"api status: {answer['status']}")


def total(path: str) -> int:
    lines = Path(path).read_text().splitlines()
    return sum(int(line) for line in lines if line.strip())


def report(path: str, out: str) -> None:
    Path(out).write_text(json.dumps({"total": total(path)}) + "\n")
    print(f"wrote {out}")


def main(command: str, *args: str) -> None:
    if command == "fetch":
        fetch()
    elif command == "compute":
        print(f"total: {total(*args)}")
    elif command == "report":
        report(*args)
    else:
        sys.exit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(*sys.argv[1:])
