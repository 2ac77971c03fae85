"""Where a step's artifacts land in the run folder, and why one is not there.

Steps copy their `artifacts` to `<run>/artifacts/<container path>`, and the json, file and csv
checks read them from there. An absent artifact fails its check with the reason that matters to
the prospect: the step that collects it never ran (an earlier step failed), or it ran and the
product did not write it. Only the second proves the artifact absent (`exists: false`).
"""

from __future__ import annotations

import posixpath
from pathlib import Path

from poc_runner.checks.evidence import Evidence
from poc_runner.masking import SECRETS


def local_path(evidence: Evidence, artifact: str) -> Path:
    """Where `artifact` (a container path) was copied to in the run folder, secrets in its
    name masked as the copy masked them (see `archive.extract`)."""
    relative = posixpath.normpath(artifact).lstrip("/")
    return evidence.run_folder / "artifacts" / SECRETS.mask(relative)


def producer(evidence: Evidence, artifact: str) -> str | None:
    """The step that ran and collected `artifact` (or a folder holding it) last, if any: its
    copy is the one in the run folder."""
    found = None
    for name, step in evidence.steps.items():
        if step.ran and any(_within(artifact, collected) for collected in step.artifacts):
            found = name
    return found


def absence(evidence: Evidence, artifact: str) -> str:
    """Why `artifact` is not in the run folder, in words."""
    step = producer(evidence, artifact)
    if step is None:
        return f"artifact {artifact} was never collected: no step that collects it ran"
    refused = evidence.steps[step].artifact_errors
    reason = next((why for path, why in refused.items() if _within(artifact, path)), None)
    if reason is not None:
        return reason
    return f"artifact {artifact} was not produced: step {step!r} ran but did not write it"


def _within(path: str, folder: str) -> bool:
    path, folder = posixpath.normpath(path), posixpath.normpath(folder)
    return path == folder or path.startswith(folder.rstrip("/") + "/")
