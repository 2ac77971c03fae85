"""Names are unique, and everything a name points at exists (steps -> services, criteria ->
steps, artifacts, services and stakeholders, data -> services)."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable

from poc_runner.diagnostics import KeyPath
from poc_runner.model import Scenario
from poc_runner.model.checks import HttpCheck, IsolationCheck
from poc_runner.model.data import DataCheck, SchemaCheck
from poc_runner.validation.findings import Findings, closest, did_you_mean
from poc_runner.validation.salvage import Choices, SetAside


def check_references(
    scenario: Scenario,
    findings: Findings,
    set_aside: SetAside,
    left_out: dict[str, list[str]] | None = None,
) -> None:
    services = set_aside.known("service", scenario.services)
    left_out = left_out or {}
    criteria = scenario.acceptance.criteria
    _unique(
        findings, "data item", ((("data", i, "name"), d.name) for i, d in enumerate(scenario.data))
    )
    _unique(
        findings, "step", ((("steps", i, "name"), s.name) for i, s in enumerate(scenario.steps))
    )
    _unique(
        findings,
        "criterion",
        ((("acceptance", "criteria", i, "id"), c.id) for i, c in enumerate(criteria)),
    )
    _unique(findings, "secret", ((("secrets", i), name) for i, name in enumerate(scenario.secrets)))
    if scenario.job:
        roles = (
            (("job", "stakeholders", i, "role"), s.role)
            for i, s in enumerate(scenario.job.stakeholders)
        )
        _unique(findings, "stakeholder role", roles)
    for i, name in enumerate(scenario.secrets):
        if name in scenario.vars:
            findings.error(
                ("secrets", i), f"{name!r} is both a var and a secret; keep one", "duplicate-name"
            )

    for i, item in enumerate(scenario.data):
        for j, service in enumerate(item.services or ()):
            refer_service(findings, ("data", i, "services", j), service, services, left_out)
    _check_mounts(scenario, findings)
    for i, step in enumerate(scenario.steps):
        refer_service(findings, ("steps", i, "service"), step.service, services, left_out)
    _check_criteria(scenario, findings, set_aside, services, left_out)


def _check_criteria(
    scenario: Scenario,
    findings: Findings,
    set_aside: SetAside,
    services: Choices | None,
    left_out: dict[str, list[str]],
) -> None:
    steps = set_aside.known("step", (step.name for step in scenario.steps))
    collected = set_aside.known("artifact", (a for step in scenario.steps for a in step.artifacts))
    roles = set_aside.known("stakeholder role", scenario.stakeholder_roles)
    data = set_aside.known("data item", (item.name for item in scenario.data))
    for i, criterion in enumerate(scenario.acceptance.criteria):
        here: KeyPath = ("acceptance", "criteria", i)
        for j, role in enumerate(criterion.for_):
            refer(findings, (*here, "for", j), "stakeholder role", role, roles)
        check = criterion.check
        if (step := getattr(check, "step", None)) is not None:
            refer(findings, (*here, "check", "step"), "step", step, steps)
        if (service := getattr(check, "service", None)) is not None:
            refer_service(findings, (*here, "check", "service"), service, services, left_out)
        if isinstance(check, HttpCheck):
            refer_service(findings, (*here, "check", "url"), check.host, services, left_out)
        if isinstance(check, IsolationCheck):
            for j, name in enumerate(check.services or ()):
                refer_service(findings, (*here, "check", "services", j), name, services, left_out)
        if isinstance(check, DataCheck | SchemaCheck):
            _check_source(check, (*here, "check"), findings, data, services, left_out)
        artifact = getattr(check, "artifact", None)
        if artifact is None or collected is None:
            continue
        if not any(_within(artifact, c) for c in collected.every):
            findings.error(
                (*here, "check", "artifact"),
                f"no step collects {artifact!r}; add it (or a folder holding it) to a step's"
                " `artifacts`",
                "reference",
            )


def _check_source(
    check: DataCheck | SchemaCheck,
    here: KeyPath,
    findings: Findings,
    data: Choices | None,
    services: Choices | None,
    left_out: dict[str, list[str]],
) -> None:
    """The table a data or schema check reads: a service's, or a data item that exists."""
    if check.table is not None:
        refer_service(
            findings, (*here, "table", "service"), check.table.service, services, left_out
        )
    if check.data is not None:
        refer(findings, (*here, "data"), "data item", check.data, data)


def _check_mounts(scenario: Scenario, findings: Findings) -> None:
    """Two data items must not land on the same (or an enclosing) path in one container."""
    placed: dict[str, list[str]] = {name: [] for name in scenario.services}
    for i, item in enumerate(scenario.data):
        for service in item.services or scenario.services:
            taken = placed.get(service)
            if taken is None:
                continue
            clash = next(
                (m for m in taken if _within(item.mount, m) or _within(m, item.mount)), None
            )
            if clash is not None:
                findings.error(
                    ("data", i, "mount"),
                    f"{item.mount!r} overlaps {clash!r}, already used by another data item in"
                    f" service {service!r}",
                    "duplicate-name",
                )
                break
            taken.append(item.mount)


def _within(path: str, folder: str) -> bool:
    path, folder = posixpath.normpath(path), posixpath.normpath(folder)
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _unique(findings: Findings, kind: str, named: Iterable[tuple[KeyPath, str]]) -> None:
    seen: set[str] = set()
    for path, name in named:
        if name in seen:
            findings.error(path, f"{kind} {name!r} is defined more than once", "duplicate-name")
        seen.add(name)


def refer_service(
    findings: Findings,
    path: KeyPath,
    name: str,
    services: Choices | None,
    left_out: dict[str, list[str]],
    *,
    at_key: bool = False,
) -> bool:
    """As `refer`, saying so when the service is left out of the run by its profiles."""
    if name in left_out and (services is None or name not in services.every):
        profiles = left_out[name]
        findings.error(
            path,
            f"service {name!r} is not in this run: its profiles ({', '.join(profiles)}) are not"
            " active; name one under `compose: {profiles: [...]}`",
            "reference",
            at_key=at_key,
            fix=f"compose: {{files: [...], profiles: [{profiles[0]}]}}",
        )
        return False
    return refer(findings, path, "service", name, services, at_key=at_key)


def refer(
    findings: Findings,
    path: KeyPath,
    kind: str,
    name: str,
    choices: Choices | None,
    *,
    at_key: bool = False,
) -> bool:
    """True when `name` is one of `choices` (None: any name may be right, its section is
    broken); otherwise reports it, suggesting the closest."""
    if choices is None or name in choices.every:
        return True
    if closest(name, choices.every) in choices.set_aside:
        return False  # most likely a broken part's own name, already reported
    defined = choices.defined
    known = ", ".join(defined) if defined else "none are defined"
    message = f"no {kind} named {name!r}{did_you_mean(name, defined)}; {kind}s here: {known}"
    findings.error(path, message, "reference", at_key=at_key)
    return False
