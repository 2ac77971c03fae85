"""`json` checks: a value the product wrote, picked out of a JSON artifact or a step's stdout by
a JSONPath, compared with the criterion's `op` and `value` (spec, "Check types").

A path without `*` selects one value, compared as it is: `contains` on a list looks for an
equal item, on text for a substring. A path with `*` selects a list of values (the same list
however many matched, so a criterion does not change meaning with the data): `contains` passes
when one of them equals `value`; every other operator must hold for each of them. A path that
selects nothing fails, rather than holding vacuously.
"""

from __future__ import annotations

import json
from typing import Any

from poc_runner import jsonpath
from poc_runner.checks.artifacts import absence, local_path
from poc_runner.checks.compare import Incomparable, compare, expectation
from poc_runner.checks.evidence import Evidence, Judgement, excerpt, missing, never_ran
from poc_runner.model.checks import JsonCheck
from poc_runner.sandbox.capture import CUT_NOTE

JSON_LIMIT = 64 * 1024**2  # parsing costs several times the file's size in memory
MEASURED_LIMIT = 1000  # characters of JSON kept as the measured value


class Unreadable(ValueError):
    """The source holds no JSON document; the message says why."""


def judge_json(check: JsonCheck, evidence: Evidence) -> Judgement:
    expected = expectation(check.op, check.value)
    if check.step is not None and evidence.step(check.step) is None:
        return never_ran(check.step, expected)
    where = f"artifact {check.artifact}" if check.artifact else f"stdout of step {check.step!r}"
    try:
        document = _document(check, evidence)
    except Unreadable as exc:
        return missing(str(exc), expected)
    found = jsonpath.select(document, check.path)
    if not found:
        return missing(f"path {check.path} matched nothing in {where}", expected)
    several = jsonpath.has_wildcard(check.path)
    measured = found if several else found[0]
    passed, why = _verdict(check, measured, several)
    seen = (
        f"selected {len(found)} value(s): {_short(found)}" if several else f"= {_short(measured)}"
    )
    return Judgement(passed, _measured(measured), expected, f"{where}: {check.path} {seen}{why}")


def _verdict(check: JsonCheck, measured: Any, several: bool) -> tuple[bool, str]:
    """Whether the criterion holds, and any reason beyond the values shown (as "; reason")."""
    try:
        if not several or check.op == "contains":
            return compare(measured, check.op, check.value), ""
        for item in measured:
            if not compare(item, check.op, check.value):
                return False, f"; {_short(item)} is not {check.op} {check.value}"
        return True, ""
    except Incomparable as exc:
        return False, f"; {exc}"


def _document(check: JsonCheck, evidence: Evidence) -> Any:
    if check.artifact is not None:
        return _load(_artifact_text(check.artifact, evidence), f"artifact {check.artifact}")
    step = evidence.step(str(check.step))
    assert step is not None  # judge_json looked first
    where = f"stdout of step {check.step!r}"
    try:
        return _load(step.stdout, where)
    except Unreadable as exc:
        if CUT_NOTE in step.stdout:
            cut = "the output was too long: only its head and tail were kept"
            raise Unreadable(f"{exc} ({cut})") from None
        raise


def _artifact_text(artifact: str, evidence: Evidence) -> str:
    path = local_path(evidence, artifact)
    if not path.exists():
        raise Unreadable(absence(evidence, artifact))
    if path.is_dir():
        raise Unreadable(f"artifact {artifact} is a folder, not a JSON file")
    size = path.stat().st_size
    if size > JSON_LIMIT:
        raise Unreadable(
            f"artifact {artifact} is {size} bytes, over the {JSON_LIMIT} a json check reads"
        )
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Unreadable(
            f"artifact {artifact} is not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None
    except OSError as exc:
        raise Unreadable(f"artifact {artifact} could not be read: {exc.strerror}") from None


def _load(text: str, where: str) -> Any:
    if not text.strip():
        raise Unreadable(f"{where} is empty, not JSON")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        seen = excerpt(text[max(0, exc.pos - 30) : exc.pos + 30], 80)
        raise Unreadable(
            f"{where} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
            f" (near {seen!r})"
        ) from None
    except RecursionError:
        raise Unreadable(f"{where} is JSON nested too deeply to read") from None


def _measured(value: Any) -> Any:
    """The value itself when small, else an excerpt of its JSON (results stay small)."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return value if len(text) <= MEASURED_LIMIT else excerpt(text, MEASURED_LIMIT)


def _short(value: Any) -> str:
    return excerpt(json.dumps(value, ensure_ascii=False, default=str), 80)
