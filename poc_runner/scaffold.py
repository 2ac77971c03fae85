"""`poc init`: a new scenario folder that validates as written and teaches by its comments."""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from poc_runner.errors import InvalidInput
from poc_runner.model.types import ScenarioName

_TEMPLATE = files("poc_runner") / "templates" / "scenario"


def scaffold(folder: Path) -> list[Path]:
    """Writes the template into `folder` (named after the scenario); returns the files created."""
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


def _template_files(node: Traversable, relative: Path) -> list[tuple[Traversable, Path]]:
    found: list[tuple[Traversable, Path]] = []
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        if child.is_dir():
            if child.name != "__pycache__":
                found.extend(_template_files(child, relative / child.name))
        else:
            found.append((child, relative / child.name))
    return found
