"""Splitting a suite of scenarios across CI machines: `poc run PATHS --shard i/n`, as
Playwright's and Jest's `--shard` split theirs (1-based), and reading the parts back as one
suite (`poc report --merge`), complete or saying what is not.

Every machine must put each scenario in the same shard, or one would run twice and another
never. So the split depends only on its inputs, never on a machine's state: the scenarios'
names (sorted, dealt out in turn) or, given a durations file (`--shard-durations FILE`, which
`poc report --merge --write-durations FILE` writes, as pytest-split's committed
`.test_durations`), their durations: the longest first, each to the shard with the least work
so far, ties to the lowest shard and to the first name. A scenario the file does not know
counts as a typical one (the median). A run history is never read for it: the first shard's
runs would change the second shard's split on the same machine.

Each part records, in its `--out` folder (`shard.json`), the suite it was cut from (every
scenario's name and file digest), which part it is (`i/n`), how it was split and which
scenarios it holds. `check` reads the parts back: of one suite, covering it exactly once, or
it names what is missing, doubled or foreign.
"""

from __future__ import annotations

import hashlib
import json
import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from poc_runner.atomic import write_atomic
from poc_runner.errors import InvalidInput

_FORM = re.compile(r"([0-9]+)/([0-9]+)")
RECORD = "shard.json"  # in each part's --out folder
SCHEMA_VERSION = "1.0"


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
    """The keys in `total` shards, balanced by their durations (see the module's docstring);
    `total` is at most the number of distinct keys (`pick` makes sure), so none is empty."""
    unique = sorted(set(keys))
    known = [durations[key] for key in unique if key in durations]
    typical = statistics.median(known) if known else 1.0
    weights = {key: max(durations.get(key, typical), 1e-9) for key in unique}
    shards: list[list[str]] = [[] for _ in range(total)]
    loads = [0.0] * total
    for key in sorted(unique, key=lambda k: (-weights[k], k)):
        lightest = min(range(total), key=lambda i: (loads[i], i))
        shards[lightest].append(key)
        loads[lightest] += weights[key]
    return [sorted(shard) for shard in shards]


@dataclass(frozen=True)
class Member:
    """A scenario of the suite: its name and its file's sha256."""

    name: str
    sha256: str


@dataclass
class Record:
    """What a part's `--out` folder says of the suite it was cut from (`shard.json`)."""

    index: int
    total: int
    suite: list[Member]
    part: list[str]  # the names of the scenarios this part runs
    split_by: str = "names"  # or "durations <sha256 of the file>"
    schema_version: str = SCHEMA_VERSION
    folder: Path = field(default=Path(), compare=False)

    def key(self) -> tuple[int, tuple[Member, ...], str]:
        """What every part of one suite has in common."""
        return self.total, tuple(self.suite), self.split_by

    def write(self, out: Path) -> Path:
        body = {k: v for k, v in asdict(self).items() if k != "folder"}
        return write_atomic(out / RECORD, json.dumps(body, indent=2) + "\n")


def pick(
    files: Sequence[Path], shard: Shard, durations: Path | None = None
) -> tuple[list[Path], Record]:
    """The scenario files of one shard, in the order they were given, keyed by scenario name
    (files of one name go together), and the record of the suite they were cut from. A suite
    splits into at most as many parts as it has scenarios: checked before anything else."""
    names = {path: name_of(path) for path in files}
    distinct = sorted(set(names.values()))
    if shard.total > len(distinct):
        raise InvalidInput(
            f"--shard {shard}: the suite found has {len(distinct)} scenario(s), so it splits into"
            f" at most {len(distinct)} part(s); give a total of 1 to {len(distinct)}"
        )
    timed, split_by = read_durations(durations) if durations else ({}, "names")
    mine = split(distinct, timed, shard.total)[shard.index - 1]
    suite = sorted({Member(names[path], _sha256(path)) for path in files}, key=_by_name)
    record = Record(shard.index, shard.total, suite, mine, split_by)
    return [path for path in files if names[path] in set(mine)], record


def _by_name(member: Member) -> tuple[str, str]:
    return member.name, member.sha256


def name_of(path: Path) -> str:
    """The scenario's name as its file says it, read without validating; the path where the
    file does not say plainly."""
    from poc_runner.loader import LoadError, parse, read_text

    try:
        data = parse(read_text(path)).data
    except LoadError:
        return path.as_posix()
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) and "$" not in name else path.as_posix()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_durations(path: Path) -> tuple[dict[str, float], str]:
    """A durations file (`{"scenario": seconds, ...}`) and how it splits: by its digest, so
    parts split with different files are told apart."""
    try:
        data = json.loads(path.read_bytes())
    except OSError as exc:
        raise InvalidInput(f"--shard-durations {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise InvalidInput(f"--shard-durations {path} is not JSON: {exc}") from None
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, int | float) and v >= 0 for k, v in data.items()
    ):
        raise InvalidInput(
            f"--shard-durations {path} is not a durations file: a JSON object of scenario"
            ' names and seconds, as `poc report --merge --write-durations` writes it ({"a": 12.5})'
        )
    return {k: float(v) for k, v in data.items()}, f"durations {_sha256(path)}"


def write_durations(path: Path, seconds: Mapping[str, float]) -> Path:
    """The scenarios' durations into `path`, over what it held (a scenario not run this time
    keeps its figure), names sorted, so the file diffs well when committed."""
    try:
        known, _ = read_durations(path) if path.exists() else ({}, "")
    except InvalidInput:
        known = {}
    merged = {**known, **{name: round(value, 3) for name, value in seconds.items()}}
    return write_atomic(path, json.dumps(dict(sorted(merged.items())), indent=2) + "\n")


def records_under(folder: Path) -> list[Record]:
    """The parts' records under a folder: its own (a part's --out), or those of the parts it
    holds (a folder of parts, as CI downloads them)."""
    return [read_record(path) for path in sorted(folder.rglob(RECORD))]


def read_record(path: Path) -> Record:
    """A part's record; one that cannot be read is invalid input naming it."""
    try:
        data: Any = json.loads(path.read_bytes())
        return Record(
            int(data["index"]),
            int(data["total"]),
            [Member(str(m["name"]), str(m["sha256"])) for m in data["suite"]],
            [str(name) for name in data["part"]],
            str(data["split_by"]),
            str(data["schema_version"]),
            path.parent,
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(
            f"{path} is not a shard record `poc run --shard` wrote ({exc}); remove it or give"
            " the part's --out folder as it was written"
        ) from None


@dataclass
class Coverage:
    """How the parts given cover their suite: complete when every list is empty."""

    suite: list[str]  # the suite's scenario names
    missing: list[str] = field(default_factory=list)  # no run of them
    doubled: dict[str, int] = field(default_factory=dict)  # name -> runs found
    foreign: list[str] = field(default_factory=list)  # what belongs to no part of this suite
    parts: list[str] = field(default_factory=list)  # parts i/n not given

    @property
    def complete(self) -> bool:
        return not (self.missing or self.doubled or self.foreign or self.parts)

    def said(self) -> str:
        """What is wrong, in one line, naming the scenarios."""
        lines = []
        if self.missing:
            lines.append(f"missing {_names(self.missing)}")
        if self.parts:
            lines.append(f"part(s) {', '.join(self.parts)} not given")
        if self.doubled:
            twice = (f"{name} ({count} runs)" for name, count in sorted(self.doubled.items()))
            lines.append(f"run more than once: {', '.join(twice)}")
        if self.foreign:
            lines.append(f"not of this suite: {'; '.join(self.foreign)}")
        return "; ".join(lines)


def _names(names: Iterable[str]) -> str:
    return ", ".join(sorted(names))


def check(folders: Sequence[Path], runs: Mapping[str, list[tuple[str, Path]]]) -> Coverage:
    """How the parts under `folders` cover their suite, given the runs found there (scenario
    name -> the digest of its scenario file and its run folder, per run).

    The first record found says which suite; a folder holding no record, or a part of
    another suite, is foreign, as is a run of a scenario the suite does not hold, or of its
    file as it was not in the suite (changed since). Each part i/n is to be given once."""
    found = {folder: records_under(folder) for folder in dict.fromkeys(folders)}
    bare = [
        f"{folder} (no {RECORD}: not a `--shard` part)" for folder, got in found.items() if not got
    ]
    records = list({r.folder.resolve(): r for got in found.values() for r in got}.values())
    if not records:  # nothing says which suite: nothing can be said complete
        return Coverage([], foreign=bare)
    reference = records[0]
    digests = {member.name: member.sha256 for member in reference.suite}
    coverage = Coverage(sorted(digests), foreign=bare)
    given: set[int] = set()
    for record in records:
        if record.key() == reference.key():
            given.add(record.index)
        else:
            part = f"part {record.index}/{record.total} of {_differs(record, reference)}"
            coverage.foreign.append(f"{record.folder} ({part})")
    total = reference.total
    coverage.parts = [f"{i}/{total}" for i in range(1, total + 1) if i not in given]
    for name, seen in sorted(runs.items()):
        ours = [where for digest, where in seen if digests.get(name) == digest]
        coverage.foreign += [
            f"{name} in {where}" + (" (its file changed since)" if name in digests else "")
            for digest, where in seen
            if digests.get(name) != digest
        ]
        if len(ours) > 1:
            coverage.doubled[name] = len(ours)
    coverage.missing = [
        name
        for name in coverage.suite
        if not any(d == digests[name] for d, _ in runs.get(name, []))
    ]
    return coverage


def _differs(record: Record, reference: Record) -> str:
    """How another part's suite differs from the reference's, in a few words."""
    if record.total != reference.total:
        return f"a split into {record.total}, not {reference.total}"
    if record.split_by != reference.split_by:
        return "a suite split by other durations"
    theirs, ours = set(record.suite), set(reference.suite)
    names = {m.name for m in theirs ^ ours}
    return f"another suite: {_names(names)} differ"
