"""Unknown and refused keys, each at its own line, with the closest valid key suggested.

Walks the raw document alongside the models, so every misspelt key in the file is found at once
(pydantic would report them too, but without knowing which keys were meant). Compose fields that
have no place in a sandbox get their reason instead of a suggestion.
"""

from __future__ import annotations

import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from poc_runner.diagnostics import KeyPath
from poc_runner.model import Scenario, Service
from poc_runner.validation.findings import Findings, did_you_mean

_NO_HOST_ACCESS = "the sandbox never touches the host"
REFUSED_SERVICE_KEYS: dict[str, tuple[str, str]] = {
    "volumes": (
        "security",
        "`volumes` is not allowed: host paths (and the Docker socket above all) are never mounted"
        " into the sandbox; list files under `data` and they are copied in read-only",
    ),
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
    "networks": (
        "unsupported",
        "`networks` is not supported: every service joins the scenario's own network and"
        " reaches the others by service name",
    ),
    "links": ("unsupported", "`links` is not needed: services reach each other by name"),
    "external_links": (
        "unsupported",
        "`external_links` is not supported: nothing outside is reachable",
    ),
    "dns": (
        "unsupported",
        "`dns` is not supported: an isolated sandbox resolves only its services",
    ),
    "dns_search": (
        "unsupported",
        "`dns_search` is not supported: the sandbox resolves service names only",
    ),
    "dns_opt": (
        "unsupported",
        "`dns_opt` is not supported: the sandbox resolves service names only",
    ),
    "extra_hosts": (
        "unsupported",
        "`extra_hosts` is not supported: nothing outside the sandbox is reachable",
    ),
    "container_name": (
        "unsupported",
        "`container_name` is not supported: poc-runner names containers per run, so runs"
        " never collide",
    ),
    "restart": (
        "unsupported",
        "`restart` is not supported: sandbox containers are never restarted, a crash is evidence",
    ),
    "env_file": (
        "unsupported",
        "`env_file` is not supported: write values under `environment`, or list names under"
        " `secrets`",
    ),
    "cap_drop": ("unsupported", "`cap_drop` is not needed: every capability is already dropped"),
    "expose": ("unsupported", "`expose` is not needed: services reach each other on every port"),
    "mem_limit": ("unsupported", "write memory limits as `resources: {memory: 512m}`"),
    "cpus": ("unsupported", "write CPU limits as `resources: {cpus: 1.0}`"),
    "pids_limit": ("unsupported", "write process limits as `resources: {pids: 256}`"),
    "deploy": ("unsupported", "write limits as `resources: {memory, cpus, pids}`"),
    "secrets": ("unsupported", "list secrets at the top level of the scenario, under `secrets`"),
}


def check_keys(data: Any, findings: Findings) -> set[KeyPath]:
    """Reports unknown and refused keys; returns their paths so no other rule repeats them."""
    reported: set[KeyPath] = set()
    _walk(data, Scenario, (), findings, reported)
    return reported


def _walk(
    value: Any, annotation: Any, path: KeyPath, findings: Findings, reported: set[KeyPath]
) -> None:
    for member in _members(annotation):
        origin = get_origin(member)
        if isinstance(value, dict) and isinstance(member, type) and issubclass(member, BaseModel):
            if _selects(member, value):
                _walk_model(value, member, path, findings, reported)
                return
        elif isinstance(value, dict) and origin is dict:
            item_type = get_args(member)[1]
            for key, item in value.items():
                _walk(item, item_type, (*path, key), findings, reported)
            return
        elif isinstance(value, list) and origin is list:
            (item_type,) = get_args(member)
            for index, item in enumerate(value):
                _walk(item, item_type, (*path, index), findings, reported)
            return


def _walk_model(
    value: dict[str, Any],
    model: type[BaseModel],
    path: KeyPath,
    findings: Findings,
    reported: set[KeyPath],
) -> None:
    fields = {info.alias or name: info for name, info in model.model_fields.items()}
    for key, item in value.items():
        here = (*path, key)
        info = fields.get(key)
        if info is not None:
            _walk(item, info.annotation, here, findings, reported)
            continue
        reported.add(here)
        refused = REFUSED_SERVICE_KEYS.get(key) if model is Service else None
        if refused is not None:
            rule, message = refused
            findings.error(here, message, rule, at_key=True)
        else:
            findings.error(
                here, f"unknown key {key!r}{did_you_mean(key, fields)}", "unknown-key", at_key=True
            )


def _members(annotation: Any) -> list[Any]:
    """The plain types an annotation may stand for, looking through Annotated and unions."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _members(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        return [m for arg in get_args(annotation) for m in _members(arg)]
    return [annotation]


def _selects(model: type[BaseModel], value: dict[str, Any]) -> bool:
    """A union of check models is told apart by `type`; other models stand alone."""
    field = model.model_fields.get("type")
    if field is None or get_origin(field.annotation) is not Literal:
        return True
    return value.get("type") in get_args(field.annotation)
