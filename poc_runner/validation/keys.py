"""Unknown and refused keys, each at its own line, with the closest valid key suggested.

Walks the raw document alongside the models, so every misspelt key in the file is found at once
(pydantic would report them too, but without knowing which keys were meant). Compose fields that
have no place in a sandbox get their reason instead of a suggestion.
"""

from __future__ import annotations

import types
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from poc_runner.diagnostics import KeyPath
from poc_runner.model import Scenario, Service
from poc_runner.validation.findings import Findings, closest

_NO_HOST_ACCESS = "the sandbox never touches the host"
_OUTSIDE = "the sandbox reaches nothing outside it, and resolves only its own services"
REFUSED_SERVICE_KEYS: dict[str, tuple[str, str]] = {
    "volumes_from": ("security", f"`volumes_from` is not allowed: {_NO_HOST_ACCESS}'s volumes"),
    "network_mode": (
        "security",
        "`network_mode` is not allowed: poc-runner wires the sandbox network itself so nothing"
        " inside can route out (set `sandbox.network` for the whole scenario)",
    ),
    "pid": (
        "security",
        "`pid` is not allowed: sharing a process namespace lets the container see and signal"
        " processes outside the sandbox",
    ),
    "ipc": ("security", "`ipc` is not allowed: sharing IPC namespaces crosses the sandbox wall"),
    "devices": (
        "security",
        "`devices` is not allowed: a host device gives the container a way out of the sandbox",
    ),
    "cgroup_parent": ("security", f"`cgroup_parent` is not allowed: {_NO_HOST_ACCESS}'s cgroups"),
    "cgroup": ("security", "`cgroup` is not allowed: the container keeps its own cgroup namespace"),
    "sysctls": ("security", "`sysctls` is not allowed: kernel settings stay at the engine's"),
    "dns": ("security", f"`dns` is not allowed: an outside DNS server is a way out; {_OUTSIDE}"),
    "dns_search": ("security", f"`dns_search` is not allowed: {_OUTSIDE}"),
    "dns_opt": ("security", f"`dns_opt` is not allowed: {_OUTSIDE}"),
    "extra_hosts": (
        "security",
        f"`extra_hosts` is not allowed: it points names at addresses outside; {_OUTSIDE}",
    ),
    "external_links": ("security", f"`external_links` is not allowed: {_OUTSIDE}"),
}


@dataclass
class KeyReport:
    """What the rule said, so the structure stage does not say it again."""

    unknown: set[KeyPath] = field(default_factory=set)  # keys reported as unknown or refused
    meant: set[KeyPath] = field(default_factory=set)  # keys suggested in their place


def check_keys(data: Any, findings: Findings, model: type[BaseModel] = Scenario) -> KeyReport:
    """Reports unknown and refused keys of a scenario (or of the top of a Compose file)."""
    report = KeyReport()
    _walk(data, _plan(model), (), findings, report)
    return report


# How to walk a value: ("model", {type-tag or None: model plan}), ("dict", item plan) or
# ("list", item plan). A model plan maps each key to the plan of its value, or None when the
# value cannot hold a model (text, numbers, lists of text), so those are never visited.
Plan = tuple[str, Any]
_PLANS: dict[Any, Plan | None] = {}


def _walk(
    value: Any, plans: list[Plan], path: KeyPath, findings: Findings, report: KeyReport
) -> None:
    for kind, inner in plans:
        if kind == "model" and isinstance(value, dict):
            tag = value.get("type")
            model = inner.get(tag if isinstance(tag, str) else None) or inner.get(None)
            if model is not None:
                _walk_model(value, model, path, findings, report)
                return
        elif kind == "dict" and isinstance(value, dict):
            for key, item in value.items():
                _walk(item, inner, (*path, key), findings, report)
            return
        elif kind == "list" and isinstance(value, list):
            for index, item in enumerate(value):
                _walk(item, inner, (*path, index), findings, report)
            return


def _walk_model(
    value: dict[str, Any], model: _ModelPlan, path: KeyPath, findings: Findings, report: KeyReport
) -> None:
    for key, item in value.items():
        here = (*path, key)
        if key in model.fields:
            plans = model.fields[key]
            if plans:
                _walk(item, plans, here, findings, report)
            continue
        report.unknown.add(here)
        refused = REFUSED_SERVICE_KEYS.get(key) if model.cls is Service else None
        if refused is not None:
            rule, message = refused
            findings.error(here, message, rule, at_key=True)
            continue
        meant = closest(key, model.fields.keys() - value.keys())
        hint = ""
        if meant is not None:
            report.meant.add((*path, meant))
            hint = f" (did you mean {meant!r}?)"
        elif " " in key.strip():
            hint = " (inside {...}, a comma starts a new key: put text containing commas in quotes)"
        findings.error(here, f"unknown key {key!r}{hint}", "unknown-key", at_key=True, fix=meant)


@dataclass
class _ModelPlan:
    cls: type[BaseModel]
    fields: dict[str, list[Plan]]


def _plan(annotation: Any) -> list[Plan]:
    """The ways a value of this annotation may need walking (cached: built once per type)."""
    plans = []
    for member in _members(annotation):
        key = member if isinstance(member, type) else repr(member)
        if key not in _PLANS:
            _PLANS[key] = None  # stops a model that contains itself from planning forever
            _PLANS[key] = _plan_member(member)
        plan = _PLANS[key]
        if plan is not None:
            plans.append(plan)
    return _merge_models(plans)


def _plan_member(member: Any) -> Plan | None:
    origin = get_origin(member)
    if isinstance(member, type) and issubclass(member, BaseModel):
        fields = {
            info.alias or name: _plan(info.annotation) for name, info in member.model_fields.items()
        }
        return ("model", {_type_tag(member): _ModelPlan(member, fields)})
    if origin is dict:
        inner = _plan(get_args(member)[1])
        return ("dict", inner) if inner else None
    if origin is list:
        inner = _plan(get_args(member)[0])
        return ("list", inner) if inner else None
    return None


def _merge_models(plans: list[Plan]) -> list[Plan]:
    """Union members that are models become one plan, chosen by the value's `type`."""
    models: dict[Any, _ModelPlan] = {}
    rest = []
    for kind, inner in plans:
        if kind == "model":
            models.update(inner)
        else:
            rest.append((kind, inner))
    return [("model", models), *rest] if models else rest


def _members(annotation: Any) -> list[Any]:
    """The plain types an annotation may stand for, looking through Annotated and unions."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _members(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        return [m for arg in get_args(annotation) for m in _members(arg)]
    return [annotation]


def _type_tag(model: type[BaseModel]) -> Any:
    """A union of check models is told apart by `type`; other models stand alone (None)."""
    field = model.model_fields.get("type")
    if field is None or get_origin(field.annotation) is not Literal:
        return None
    return get_args(field.annotation)[0]
