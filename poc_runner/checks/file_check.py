"""`file` checks: that the product wrote an artifact, and what it wrote (spec, "Check types").

`exists` (default true), `sha256` and `size` (bytes) are all judged and every failure is
reported. A folder artifact can exist, and its size is the total of the files in it; it has no
sha256. `exists: false` passes only when the step that collects the artifact ran and found
nothing: a step that never ran proves no absence.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from poc_runner.checks.artifacts import absence, local_path, producer
from poc_runner.checks.compare import Incomparable, compare, expectation
from poc_runner.checks.evidence import Evidence, Judgement, missing
from poc_runner.model.checks import FileCheck


def judge_file(check: FileCheck, evidence: Evidence) -> Judgement:
    expected = _expected(check)
    path = local_path(evidence, check.artifact)
    if not path.exists():
        return _judge_absent(check, evidence, expected)
    try:
        size, kind = _measure(path)
        if not check.exists:
            return Judgement(
                False, {"exists": True}, expected, f"artifact {check.artifact} exists: {kind}"
            )
        return _judge_present(check, path, size, kind, expected)
    except OSError as exc:
        return missing(f"artifact {check.artifact} could not be read: {exc.strerror}", expected)


def _judge_absent(check: FileCheck, evidence: Evidence, expected: dict[str, Any]) -> Judgement:
    reason = absence(evidence, check.artifact)
    if producer(evidence, check.artifact) is None:  # never looked for: proves nothing
        return missing(reason, expected)
    return Judgement(not check.exists, {"exists": False}, expected, reason)


def _judge_present(
    check: FileCheck, path: Path, size: int, kind: str, expected: dict[str, Any]
) -> Judgement:
    measured: dict[str, Any] = {"exists": True}
    failures: list[str] = []
    if check.sha256 is not None:
        if path.is_dir():
            failures.append("is a folder, which has no sha256")
        else:
            measured["sha256"] = _sha256(path)
            if measured["sha256"] != check.sha256:
                failures.append(f"has sha256 {measured['sha256']}, not {check.sha256}")
    if check.size is not None:
        measured["size"] = size
        try:
            if not compare(size, check.size.op, check.size.value):
                failures.append(f"is not {check.size.op} {check.size.value} bytes")
        except Incomparable as exc:
            failures.append(str(exc))
    said = "; ".join(failures) if failures else "satisfies every condition"
    return Judgement(not failures, measured, expected, f"artifact {check.artifact} ({kind}) {said}")


def _expected(check: FileCheck) -> dict[str, Any]:
    expected: dict[str, Any] = {"exists": check.exists}
    if check.sha256 is not None:
        expected["sha256"] = check.sha256
    if check.size is not None:
        expected["size"] = expectation(check.size.op, check.size.value)
    return expected


def _measure(path: Path) -> tuple[int, str]:
    """Size in bytes (a folder's: the total of its files) and a description."""
    if not path.is_dir():
        size = path.stat().st_size
        return size, f"a file of {size} bytes"
    files = [item for item in path.rglob("*") if item.is_file() and not item.is_symlink()]
    size = sum(item.stat().st_size for item in files)
    return size, f"a folder of {len(files)} file(s), {size} bytes"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()
