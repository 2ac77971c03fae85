"""Keep checking a file that has structural errors, so one run reports every problem.

The broken parts (a step, a service, a criterion, or a whole section) are set aside and the
rest is validated again; the whole-scenario rules then run on what is left. Names of the parts
set aside stay known, so a reference to a broken step is not also reported as a missing one,
and paths are mapped back to the original list positions, so every line number stays right.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from poc_runner.diagnostics import KeyPath
from poc_runner.loader import lookup
from poc_runner.model import Scenario

# List sections whose items are set aside one by one, and the names their items give.
_LISTS: dict[KeyPath, tuple[tuple[str, str], ...]] = {
    ("steps",): (("step", "name"), ("artifact", "artifacts")),
    ("data",): (),
    ("acceptance", "criteria"): (),
    ("job", "stakeholders"): (("stakeholder role", "role"),),
}
# What every name of a kind may be when its whole section is set aside.
_SECTION_KINDS = {
    "services": ("service",),
    "steps": ("step", "artifact"),
    "job": ("stakeholder role",),
}
_PLACEHOLDERS = {"apiVersion": "poc-runner/v1", "name": "set-aside"}
_ACCEPTANCE_INPUTS = frozenset({"job", "acceptance"})


@dataclass(frozen=True)
class Choices:
    """The names a reference may use: those defined, and those of parts set aside."""

    defined: list[str]
    set_aside: frozenset[str] = frozenset()

    @property
    def every(self) -> list[str]:
        return [*self.defined, *self.set_aside]


@dataclass
class SetAside:
    """What the whole-scenario rules must not trust, nor report as missing."""

    names: dict[str, set[str]] = field(default_factory=dict)
    any_name: set[str] = field(default_factory=set)  # kinds whose whole section was set aside
    sections: set[str] = field(default_factory=set)  # top-level sections touched

    def known(self, kind: str, defined: Iterable[str]) -> Choices | None:
        """Names a reference of `kind` may use; None when any name could be right."""
        if kind in self.any_name:
            return None
        return Choices(list(defined), frozenset(self.names.get(kind, ())))

    @property
    def acceptance_is_whole(self) -> bool:
        return not self.sections & _ACCEPTANCE_INPUTS


@dataclass
class Salvage:
    scenario: Scenario | None
    set_aside: SetAside
    kept: dict[KeyPath, list[int]]  # list section -> original index of each item kept

    def original_path(self, path: KeyPath) -> KeyPath:
        item = _list_item(path)
        if item is None or item[0] not in self.kept:
            return path
        section, index = item
        return (*section, self.kept[section][index], *path[len(section) + 1 :])


def salvage(data: dict[str, Any], broken: Iterable[KeyPath]) -> Salvage:
    """The scenario without the parts holding `broken` paths (None if it still does not
    validate)."""
    set_aside = SetAside()
    units = {_unit(path) for path in broken}
    if () in units:
        return Salvage(None, set_aside, {})  # the document as a whole is wrong
    data = copy.deepcopy(data)
    removed: dict[KeyPath, set[int]] = {}
    for unit in units:
        set_aside.sections.add(str(unit[0]))
        if unit[:-1] in _LISTS:
            removed.setdefault(unit[:-1], set()).add(int(unit[-1]))
        elif unit[0] == "services" and len(unit) == 2:
            set_aside.names.setdefault("service", set()).add(str(unit[1]))
            services = data.get("services")
            if isinstance(services, dict):
                services.pop(unit[1], None)
        else:
            _set_aside_section(data, str(unit[0]), set_aside)
    kept = {
        section: _drop_items(data, section, gone, set_aside) for section, gone in removed.items()
    }
    try:
        scenario: Scenario | None = Scenario.model_validate(data)
    except ValidationError:
        scenario = None
    return Salvage(scenario, set_aside, {k: v for k, v in kept.items() if v is not None})


def _list_item(path: KeyPath) -> tuple[KeyPath, int] | None:
    """The list section and index `path` lies in, if it lies in an item of one."""
    for section in _LISTS:
        size = len(section)
        index = path[size] if len(path) > size else None
        if path[:size] == section and isinstance(index, int):
            return section, index
    return None


def _unit(path: KeyPath) -> KeyPath:
    """The smallest part of the document that can be set aside on its own."""
    item = _list_item(path)
    if item is not None:
        return (*item[0], item[1])
    if path[:1] == ("services",) and len(path) > 1:
        return path[:2]
    return path[:1]


def _set_aside_section(data: dict[str, Any], key: str, set_aside: SetAside) -> None:
    if key in _PLACEHOLDERS:
        data[key] = _PLACEHOLDERS[key]
        return
    section = data.pop(key, None)
    if key == "job" and isinstance(section, dict):
        _remember(section.get("stakeholders"), ("job", "stakeholders"), set_aside)
        return
    set_aside.any_name.update(_SECTION_KINDS.get(key, ()))


def _drop_items(
    data: dict[str, Any], section: KeyPath, gone: set[int], set_aside: SetAside
) -> list[int] | None:
    items = lookup(data, section)
    if not isinstance(items, list):
        return None
    _remember([items[i] for i in sorted(gone) if i < len(items)], section, set_aside)
    kept = [i for i in range(len(items)) if i not in gone]
    items[:] = [items[i] for i in kept]
    return kept


def _remember(items: Any, section: KeyPath, set_aside: SetAside) -> None:
    """Names the set-aside items still give (a step's name, its artifacts, a role)."""
    if not isinstance(items, list):
        set_aside.any_name.update(kind for kind, _ in _LISTS[section])
        return
    for item in items:
        for kind, key in _LISTS[section]:
            value = item.get(key) if isinstance(item, dict) else None
            values = value if isinstance(value, list) else [value]
            set_aside.names.setdefault(kind, set()).update(v for v in values if isinstance(v, str))
