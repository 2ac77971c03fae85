"""`depends_on`: every dependency exists, can be met, and the services can start in some order."""

from __future__ import annotations

from poc_runner.diagnostics import KeyPath
from poc_runner.model import Scenario, Service
from poc_runner.validation.findings import Findings
from poc_runner.validation.references import refer_service
from poc_runner.validation.salvage import SetAside


def check_dependencies(
    scenario: Scenario,
    findings: Findings,
    set_aside: SetAside,
    left_out: dict[str, list[str]] | None = None,
) -> None:
    services = scenario.services
    known = set_aside.known("service", services)
    graph: dict[str, list[tuple[str, KeyPath]]] = {}
    for name, service in services.items():
        graph[name] = []
        for dependency, condition, path in _edges(name, service):
            if dependency == name:
                findings.error(
                    path, f"service {name!r} depends on itself", "dependency-cycle", at_key=True
                )
            elif not _required(service, dependency) and dependency not in services:
                continue  # `required: false`: skipped when not in the stack, as in Compose
            elif refer_service(findings, path, dependency, known, left_out or {}, at_key=True) and (
                dependency in services  # not one set aside after a structural error
            ):
                graph[name].append((dependency, path))
                healthcheck = services[dependency].healthcheck
                if condition == "service_healthy" and not (healthcheck and healthcheck.enabled):
                    findings.error(
                        path,
                        f"{dependency!r} has no healthcheck, so `service_healthy` can never be"
                        " met; give it a healthcheck or use `service_started`",
                        "dependency",
                        at_key=True,
                    )
    _report_cycles(graph, findings)


def _required(service: Service, dependency: str) -> bool:
    depends_on = service.depends_on
    return not isinstance(depends_on, dict) or depends_on[dependency].required


def _edges(name: str, service: Service) -> list[tuple[str, str, KeyPath]]:
    here: KeyPath = ("services", name, "depends_on")
    if isinstance(service.depends_on, list):
        return [(dep, "service_started", (*here, i)) for i, dep in enumerate(service.depends_on)]
    return [(dep, spec.condition, (*here, dep)) for dep, spec in service.depends_on.items()]


def _report_cycles(graph: dict[str, list[tuple[str, KeyPath]]], findings: Findings) -> None:
    """Each cycle once, at the dependency that closes it (iterative DFS: no recursion limit)."""
    done: set[str] = set()
    for start in graph:
        if start in done:
            continue
        trail: list[str] = [start]
        pending = [iter(graph[start])]
        while pending:
            step = next(pending[-1], None)
            if step is None:
                done.add(trail.pop())
                pending.pop()
                continue
            target, path = step
            if target in trail:
                cycle = [*trail[trail.index(target) :], target]
                findings.error(
                    path,
                    f"services wait for each other in a circle: {' -> '.join(cycle)}",
                    "dependency-cycle",
                    at_key=True,
                )
            elif target not in done:
                trail.append(target)
                pending.append(iter(graph[target]))
