"""Splitting a suite of scenarios across CI machines: `poc run PATHS --shard i/n`, as
Playwright's and Jest's `--shard` split theirs (1-based; `poc report --merge` reads the parts
back as one).

Every machine must put each scenario in the same shard, or one would run twice and another
never. So the assignment depends only on the scenarios' names and, when the run history has
them, their durations: the longest first, each to the shard with the least work so far, ties
to the lowest shard and to the first name. Machines that share a history (restore it from
the CI cache before `poc run`) get the same balanced split; machines with none get the same
split by name. A scenario the history does not know counts as a typical one (the median).
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from poc_runner.errors import InvalidInput

_FORM = re.compile(r"([0-9]+)/([0-9]+)")


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based
    total: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        found = _FORM.fullmatch(text.strip())
        if found is None:
            raise InvalidInput(f"--shard {text!r} is not of the form i/n, e.g. --shard 2/4")
        index, total = int(found[1]), int(found[2])
        if total < 1 or not 1 <= index <= total:
            raise InvalidInput(
                f"--shard {text}: the shard is counted from 1 to its total, so i/n needs"
                " 1 <= i <= n (e.g. 1/4 to 4/4)"
            )
        return cls(index, total)

    def __str__(self) -> str:
        return f"{self.index}/{self.total}"


def split(keys: Sequence[str], durations: Mapping[str, float], total: int) -> list[list[str]]:
    """The keys in `total` shards, balanced by their durations (see the module's docstring)."""
    known = [durations[key] for key in keys if key in durations]
    typical = statistics.median(known) if known else 1.0
    weights = {key: durations.get(key, typical) for key in keys}
    shards: list[list[str]] = [[] for _ in range(total)]
    loads = [0.0] * total
    for key in sorted(set(keys), key=lambda k: (-weights[k], k)):
        lightest = min(range(total), key=lambda i: (loads[i], i))
        shards[lightest].append(key)
        loads[lightest] += weights[key]
    return [sorted(shard) for shard in shards]


def pick(files: Sequence[Path], durations: Mapping[str, float], shard: Shard) -> list[Path]:
    """The scenario files of one shard, in the order they were given, keyed by scenario name
    (files of one name go together)."""
    names = {path: name_of(path) for path in files}
    mine = set(split(list(names.values()), durations, shard.total)[shard.index - 1])
    return [path for path in files if names[path] in mine]


def name_of(path: Path) -> str:
    """The scenario's name as its file says it (the history's key), read without validating;
    the path where the file does not say plainly."""
    from poc_runner.loader import LoadError, parse, read_text

    try:
        data = parse(read_text(path)).data
    except LoadError:
        return path.as_posix()
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) and "$" not in name else path.as_posix()
