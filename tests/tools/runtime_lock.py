"""Print the entries of requirements.lock that a plain `pip install poc-runner` needs: the
package's own dependencies and theirs (extras such as docker[ssh] included), each with its
hashes, and of the dev tools only pytest (with its own), which a CI user installs beside
poc-runner for `pytest --poc`. `make test-tools` downloads them into .tools/wheels, so the
wheel test installs the built wheel and pytest in a fresh venv from files here
(`--no-index`), at the versions the lock pins.

Usage: python tests/tools/runtime_lock.py requirements.lock   (run by the project's venv)
"""

from __future__ import annotations

import re
import sys
from importlib.metadata import requires
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

BESIDE = ("pytest",)  # installed with poc-runner by the wheel test, as a CI user does


def needed(root: str = "poc-runner") -> set[str]:
    """The canonical names of `root`'s runtime dependencies, transitively, as installed here."""
    found: set[str] = set()
    pending = [(root, frozenset[str]())]
    while pending:
        name, extras = pending.pop()
        for text in requires(name) or []:
            requirement = Requirement(text)
            marker = requirement.marker
            wanted = marker is None or any(
                marker.evaluate({"extra": extra}) for extra in (extras or {""})
            )
            key = canonicalize_name(requirement.name)
            if wanted and key not in found:
                found.add(key)
                pending.append((requirement.name, frozenset(requirement.extras)))
            elif wanted and requirement.extras:  # seen, but now with extras: theirs too
                pending.append((requirement.name, frozenset(requirement.extras)))
    return found


def entries(lock: str) -> dict[str, str]:
    """The lock's entries by canonical name: `name==version` and its hash lines."""
    blocks = re.split(r"\n(?=[A-Za-z0-9._-]+==)", lock)
    pinned = {}
    for block in blocks:
        head = block.split("==", 1)[0]
        if re.fullmatch(r"[A-Za-z0-9._-]+", head):
            lines = [line for line in block.splitlines() if not line.strip().startswith("#")]
            pinned[canonicalize_name(head)] = "\n".join(lines).rstrip(" \\\n")
    return pinned


def main(lock_file: str) -> None:
    pinned = entries(Path(lock_file).read_text())
    names = needed().union(*({canonicalize_name(name)} | needed(name) for name in BESIDE))
    missing = sorted(names - pinned.keys())
    if missing:
        sys.exit(f"{lock_file} lacks {', '.join(missing)}: run make lock")
    print("\n".join(pinned[name] for name in sorted(names)))


if __name__ == "__main__":
    main(sys.argv[1])
