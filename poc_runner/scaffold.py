"""`poc init`: a new scenario folder that validates as written and teaches by its comments;
with `--from-compose`, one on an existing Compose file, a smoke step for each of its services."""

from __future__ import annotations

import shutil
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from poc_runner.errors import InvalidInput
from poc_runner.model.types import ScenarioName

_TEMPLATE = files("poc_runner") / "templates" / "scenario"


_FROM_COMPOSE = files("poc_runner") / "templates" / "from-compose.yaml"
_NOT_COPIED = shutil.ignore_patterns(".git", "node_modules", "runs", "__pycache__", ".venv")


def scaffold(folder: Path) -> list[Path]:
    """Writes the template into `folder` (named after the scenario); returns the files created."""
    name = _new_scenario(folder)
    created: list[Path] = []
    for source, relative in _template_files(_TEMPLATE, Path()):
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        text = source.read_text(encoding="utf-8")
        text = text.replace("__NAME__", name).replace("__FOLDER__", str(folder))
        with target.open("x", encoding="utf-8") as handle:  # never overwrite anything
            handle.write(text)
        created.append(target)
    return created


def _new_scenario(folder: Path) -> str:
    """The scenario's name (its folder's), once the folder is known to be empty or new."""
    name = folder.resolve().name
    try:
        TypeAdapter(ScenarioName).validate_python(name)
    except ValidationError as exc:
        raise InvalidInput(
            f"cannot name a scenario after the folder {str(folder)!r}: {exc.errors()[0]['msg']}"
        ) from None
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise InvalidInput(
            f"{str(folder)!r} already exists and is not an empty folder; nothing was written"
        )
    return name


def scaffold_from_compose(compose_file: Path, folder: Path) -> list[Path]:
    """A scenario in `folder` on a copy of the Compose file's folder (under deploy/, so its
    build contexts, env files and mounted files come along), with a smoke step and criterion
    for each service that stays up. Returns the scenario file."""
    from poc_runner.sandbox.startup import jobs
    from poc_runner.validation import validate_file

    if not compose_file.is_file():
        raise InvalidInput(f"{str(compose_file)!r} is not a Compose file")
    name = _new_scenario(folder)
    shutil.copytree(compose_file.parent, folder / "deploy", ignore=_NOT_COPIED, dirs_exist_ok=True)
    reference = f"deploy/{compose_file.name}"
    scenario = folder / "scenario.yaml"
    scenario.write_text(f"apiVersion: poc-runner/v1\nname: {name}\ncompose: {reference}\n")
    merged = validate_file(scenario).scenario
    services = [] if merged is None else [s for s in merged.services if s not in jobs(merged)]
    text = _FROM_COMPOSE.read_text(encoding="utf-8")
    for placeholder, value in {
        "__NAME__": name,
        "__TITLE__": f"{name.replace('-', ' ').capitalize()} runs on the prospect's data",
        "__FOLDER__": str(folder),
        "__COMPOSE__": reference,
        "__STEPS__": "\n".join(_smoke_step(service) for service in services) or "  []",
        "__CRITERIA__": "\n".join(_smoke_criterion(service) for service in services) or "  []",
    }.items():
        text = text.replace(placeholder, value)
    scenario.write_text(text)
    return [scenario]


def _smoke_step(service: str) -> str:
    return f"  - {{name: {_step_name(service)}, service: {service}, run: echo up, timeout: 1m}}"


def _smoke_criterion(service: str) -> str:
    return (
        f"    - id: {_step_name(service)}\n"
        f"      title: {service} is up and runs a command\n"
        "      for: [Operations]\n"
        f"      check: {{type: exit_code, step: {_step_name(service)}}}"
    )


def _step_name(service: str) -> str:
    """A service's name as a step name (lowercase; `.` is not allowed there)."""
    return f"{service.lower().replace('.', '-')}-is-up"


def _template_files(node: Traversable, relative: Path) -> list[tuple[Traversable, Path]]:
    found: list[tuple[Traversable, Path]] = []
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        if child.is_dir():
            if child.name != "__pycache__":
                found.extend(_template_files(child, relative / child.name))
        else:
            found.append((child, relative / child.name))
    return found
