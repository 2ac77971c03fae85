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


Origin = tuple[Source, KeyPath]


@dataclass
class _Node:
    """One key path of the merged tree in the record: where it was written, if recorded, and
    the records below it (a trie, so recording and looking up cost the path's length, not the
    number of records: a Compose file may have thousands of services)."""

    origin: Origin | None = None
    below: dict[str | int, _Node] = field(default_factory=dict)


@dataclass
class Origins:
    _root: _Node = field(default_factory=_Node)

    def record(self, path: KeyPath, source: Source, written: KeyPath) -> None:
        """`path` (and all below it) came from `written` in `source`; older records below it
        are gone with what they described."""
        node = self._root
        for part in path:
            node = node.below.setdefault(part, _Node())
        node.origin = (source, written)
        node.below = {}

    def locate(self, path: KeyPath) -> Origin | None:
        """The file and path `path` was written at, or None for the scenario file's own."""
        node, found, depth = self._root, None, 0
        for index, part in enumerate(path):
            next_node = node.below.get(part)
            if next_node is None:
                break
            node = next_node
            if node.origin is not None:
                found, depth = node.origin, index + 1
        if found is None:
            return None
        return found[0], (*found[1], *path[depth:])

    def copy_below(self, other: Origins, prefix: KeyPath, into: KeyPath) -> None:
        """Records of `other` strictly below `prefix`, placed below `into`."""
        node: _Node | None = other._root
        for part in prefix:
            node = node.below.get(part) if node is not None else None
        if node is None or not node.below:
            return
        pending = [(into, node)]
        while pending:
            at, here = pending.pop()
            for part, child in here.below.items():
                if child.origin is not None:
                    self._set((*at, part), child.origin)
                pending.append(((*at, part), child))

    def _set(self, path: KeyPath, origin: Origin) -> None:
        """A record placed without dropping what is below it (copy_below keeps a subtree)."""
        node = self._root
        for part in path:
            node = node.below.setdefault(part, _Node())
        node.origin = origin


@dataclass(frozen=True)
class Side:
    """A tree about to be merged in: its own file, and the origins of what it took from others
    (an extended service)."""

    source: Source
    origins: Origins = field(default_factory=Origins)

    def locate(self, path: KeyPath) -> tuple[Source, KeyPath]:
        return self.origins.locate(path) or (self.source, path)
