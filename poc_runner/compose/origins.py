"""Where each part of the merged services was written: which file, at which key path there.

Compose files are merged (and services extended) before the models read them, so a problem the
models find sits at a path of the merged scenario. Every node the merge placed records the file
and path it came from; a path below a recorded node is found through its nearest recorded
ancestor. A path recorded nowhere is the scenario file's own, at the same path.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from poc_runner.diagnostics import KeyPath
from poc_runner.loader import SourceMap


@dataclass(frozen=True, eq=False)
class Source:
    """One file as diagnostics name it, and where its keys and values were written."""

    file: str
    source_map: SourceMap = field(default_factory=SourceMap)


@dataclass
class Origins:
    _table: dict[KeyPath, tuple[Source, KeyPath]] = field(default_factory=dict)

    def record(self, path: KeyPath, source: Source, written: KeyPath) -> None:
        """`path` (and all below it) came from `written` in `source`; older records below it
        are gone with what they described."""
        if self._table:
            for stale in [p for p in self._table if p[: len(path)] == path and p != path]:
                del self._table[stale]
        self._table[path] = (source, written)

    def locate(self, path: KeyPath) -> tuple[Source, KeyPath] | None:
        """The file and path `path` was written at, or None for the scenario file's own."""
        if not self._table:
            return None
        for end in range(len(path), 0, -1):
            found = self._table.get(path[:end])
            if found is not None:
                return found[0], (*found[1], *path[end:])
        return None

    def copy_below(self, other: Origins, prefix: KeyPath, into: KeyPath) -> None:
        """Records of `other` strictly below `prefix`, placed below `into`."""
        for path, (source, written) in list(other._table.items()):
            if path[: len(prefix)] == prefix and path != prefix:
                self._table[(*into, *path[len(prefix) :])] = (source, written)


@dataclass(frozen=True)
class Side:
    """A tree about to be merged in: its own file, and the origins of what it took from others
    (an extended service)."""

    source: Source
    origins: Origins = field(default_factory=Origins)

    def locate(self, path: KeyPath) -> tuple[Source, KeyPath]:
        return self.origins.locate(path) or (self.source, path)
