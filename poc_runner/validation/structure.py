"""The schema stage: the models read the document, and their errors become plain-language findings.

Pydantic reports where an error is by model location, which also names union members; the
location is mapped back onto the document's own keys so it can be found in the file.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from poc_runner.diagnostics import KeyPath
from poc_runner.model import Scenario
from poc_runner.model.checks import CHECK_TYPES
from poc_runner.model.types import show
from poc_runner.validation.findings import Findings, did_you_mean
from poc_runner.validation.keys import KeyReport

_EXPECTED = {
    "string_type": "expected text",
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "finite_number": "expected a finite number",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "list_type": "expected a list",
    "dict_type": "expected a mapping (key: value pairs)",
    "model_type": "expected a mapping (key: value pairs)",
    "model_attributes_type": "expected a mapping (key: value pairs)",
}
_BOUNDS = {
    "greater_than": "must be more than {gt}",
    "greater_than_equal": "must be at least {ge}",
    "less_than": "must be less than {lt}",
    "less_than_equal": "must be at most {le}",
}


M = TypeVar("M", bound=BaseModel)


def check_structure(
    data: Any, findings: Findings, keys: KeyReport
) -> tuple[Scenario | None, set[KeyPath]]:
    """The scenario, or None and the paths of every structural error (all reported)."""
    return check_model(Scenario, data, findings, keys)


def check_model(
    model: type[M], data: Any, findings: Findings, keys: KeyReport
) -> tuple[M | None, set[KeyPath]]:
    """`data` read by `model`, or None and the paths of every structural error (all reported).

    Errors at explained paths (a reference that could not be filled) and at keys the keys rule
    reported are consequences of problems already reported, so they are not repeated.
    """
    try:
        return model.model_validate(data), set()
    except ValidationError as exc:
        suggested_in = {meant[:-1] for meant in keys.meant}
        broken: set[KeyPath] = set()
        for details in exc.errors(include_url=False):
            loc = details["loc"]
            path = _document_path(data, loc)
            broken.add(path)
            if path in keys.unknown or findings.is_explained(path):
                continue
            if details["type"] == "missing":
                path = (*path, loc[-1])  # shown as the key that is missing; placed at its parent
                if path in keys.meant:
                    continue  # "did you mean" already named it
            elif path in suggested_in:
                continue  # a rule about the mapping as a whole, likely broken by the misspelt key
            message, rule = _describe(details)
            findings.error(path, message, rule, at_key="[key]" in loc)
        return None, broken


def _document_path(data: Any, loc: tuple[int | str, ...]) -> KeyPath:
    """The document keys a model location passes through; union tags and the like are skipped."""
    path: list[str | int] = []
    here = data
    for part in loc:
        if isinstance(here, dict) and here.get("type") == part:
            continue  # a check's union tag, even where a key has the same name (`data`)
        in_mapping = isinstance(here, dict) and part in here
        in_list = isinstance(here, list) and isinstance(part, int) and 0 <= part < len(here)
        if in_mapping or in_list:
            here = here[part]
            path.append(part)
    return tuple(path)


def _describe(details: ErrorDetails) -> tuple[str, str]:
    kind = details["type"]
    ctx = details.get("ctx") or {}
    given = details.get("input")
    field = details["loc"][-1] if details["loc"] else ""
    if kind == "missing":
        return f"`{field}` is required here", "missing-key"
    if kind == "extra_forbidden":
        return f"unknown key {field!r}", "unknown-key"
    if kind in _EXPECTED:
        return f"{_EXPECTED[kind]}, got {show(given)}", "type"
    if kind in _BOUNDS:
        return f"{_BOUNDS[kind].format(**ctx)}, got {show(given)}", "range"
    if kind == "literal_error":
        return f"{show(given)} is not allowed here; use {ctx.get('expected')}", "choice"
    if kind == "union_tag_invalid":
        tag = str(ctx.get("tag", ""))
        return (
            f"unknown check type {tag!r}{did_you_mean(tag, CHECK_TYPES)};"
            f" use one of {', '.join(CHECK_TYPES)}",
            "check-type",
        )
    if kind == "union_tag_not_found":
        return f"a check needs a `type`: one of {', '.join(CHECK_TYPES)}", "check-type"
    if kind in ("value_error", "assertion_error"):
        return details["msg"].split(", ", 1)[-1], "schema"
    return details["msg"], kind
