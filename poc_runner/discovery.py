"""Which scenario files a PATH argument names: the file itself, or every scenario.yaml/.yml under
a folder (hidden folders and dependency trees skipped, symlinked folders not followed)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

SCENARIO_FILE_NAMES = ("scenario.yaml", "scenario.yml")
_SKIPPED_FOLDERS = frozenset({"node_modules", "__pycache__", "runs"})


@dataclass
class Discovery:
    files: list[Path] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (path as given, message)


def discover(arguments: list[str]) -> Discovery:
    found = Discovery()
    seen: set[Path] = set()
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            files = _scenarios_under(path)
            if not files:
                found.problems.append(
                    (argument, "no scenario.yaml (or scenario.yml) in this folder or below it")
                )
        elif path.exists():
            files = [path]
        else:
            found.problems.append((argument, "no such file or folder"))
            files = []
        for file in files:
            key = file.resolve()
            if key not in seen:
                seen.add(key)
                found.files.append(file)
    return found


def _scenarios_under(folder: Path) -> list[Path]:
    files: list[Path] = []
    for current, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIPPED_FOLDERS)
        files.extend(Path(current, name) for name in SCENARIO_FILE_NAMES if name in names)
    return files
