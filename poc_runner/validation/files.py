"""Paths into the scenario folder: they exist, are what they should be, and stay inside the folder.

A scenario is shared as a folder, and its data is copied into the sandbox; a path (or a symlink
inside a data or build folder) that leads elsewhere on the host would copy host files into a
demo, so it is refused before anything runs.

What poc-runner copies itself (data, Compose bind mounts, configs and secrets) is copied from
regular files and folders only, never through a link (sandbox/archive.py: a link swapped in
after validation must not redirect the copy). So a link there is refused here, even one that
stays inside the folder, naming it, rather than failing the sandbox later. A build folder is
sent to the engine, which keeps links as links: a link in it may point anywhere inside.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from poc_runner.diagnostics import KeyPath
from poc_runner.model import Scenario, Service
from poc_runner.model.checks import CsvCheck
from poc_runner.model.data import DataCheck, SchemaCheck
from poc_runner.validation.findings import Findings

Kind = Literal["file", "folder", "file or folder"]
MAX_ENTRIES_SCANNED = 100_000


def check_files(scenario: Scenario, folder: Path, findings: Findings) -> None:
    root = folder.resolve()
    for i, item in enumerate(scenario.data):
        _check_path(root, item.path, ("data", i, "path"), "file or folder", findings, copied=True)
    for name, service in scenario.services.items():
        spec = service.build_spec
        if spec is None:
            continue
        here: KeyPath = ("services", name, "build")
        mapping = not isinstance(service.build, str)
        context_path = (*here, "context") if mapping else here
        if _check_path(root, spec.context, context_path, "folder", findings):
            dockerfile = str(Path(spec.context) / spec.dockerfile)
            dockerfile_path = (*here, "dockerfile") if mapping else here
            _check_path(root, dockerfile, dockerfile_path, "file", findings)
    for name, service in scenario.services.items():
        _check_mounted(root, name, service, findings)
    items = {item.name: item.path for item in scenario.data}
    for i, criterion in enumerate(scenario.acceptance.criteria):
        check = criterion.check
        if isinstance(check, CsvCheck):
            here = ("acceptance", "criteria", i, "check", "expected")
            _check_path(root, check.expected, here, "file", findings)
        source = check.data if isinstance(check, DataCheck | SchemaCheck) else None
        if source is not None and source in items and (root / items[source]).is_dir():
            findings.error(
                ("acceptance", "criteria", i, "check", "data"),
                f"data item {source!r} is a folder; a {check.type} check reads one CSV file:"
                " give that file a data item of its own",
                "path-kind",
            )


def _check_mounted(root: Path, name: str, service: Service, findings: Findings) -> None:
    """What Compose's bind mounts, configs and secrets copy in comes from the scenario folder.
    A bind source that is not there is an empty folder, as Compose makes one."""
    for index, mount in enumerate(service.volumes):
        relative = mount.copied_from
        here: KeyPath = ("services", name, "volumes", index)
        if relative is None:
            continue
        if not os.path.lexists(root / relative):
            findings.warning(
                here,
                f"{relative!r} does not exist in the scenario folder; as Compose does, an empty"
                " folder is mounted there",
                "missing-file",
            )
            continue
        _check_path(root, relative, here, "file or folder", findings, copied=True)
    for kind in ("configs", "secrets"):
        for index, entry in enumerate(getattr(service, kind)):
            if entry.file is not None:
                here = ("services", name, kind, index, "file")
                _check_path(root, entry.file, here, "file", findings, copied=True)


def _check_path(
    root: Path,
    relative: str,
    path: KeyPath,
    kind: Kind,
    findings: Findings,
    *,
    copied: bool = False,
) -> bool:
    """True when `relative` is a usable `kind` inside `root`; otherwise reports why not.
    What poc-runner `copied` itself holds no link at all (module doc)."""
    target = root / relative
    if not os.path.lexists(target):
        findings.error(path, f"{relative!r} does not exist in the scenario folder", "missing-file")
        return False
    real = Path(os.path.realpath(target))
    if copied and target.is_symlink() and _inside(real, root):
        findings.error(path, _a_link(relative, real, root), "link")
        return False
    if not _inside(real, root):
        findings.error(
            path,
            f"{relative!r} leads outside the scenario folder (to {real}); copy what it needs"
            " into the folder instead of linking to it",
            "path-escape",
        )
        return False
    try:
        mode = real.stat().st_mode
    except OSError as exc:
        findings.error(path, f"{relative!r} cannot be read: {exc.strerror}", "missing-file")
        return False
    is_file, is_folder = stat.S_ISREG(mode), stat.S_ISDIR(mode)
    wrong = (
        (kind == "file" and not is_file)
        or (kind == "folder" and not is_folder)
        or not (is_file or is_folder)
    )
    if wrong:
        findings.error(path, f"{relative!r} is not a {kind}", "missing-file")
        return False
    if is_folder:
        problem = next(_unsafe_entries(real, root, copied), None)
        if problem is not None:
            rule = "link" if problem.endswith(_COPY_INSTEAD) else "path-escape"
            findings.error(path, f"{relative!r} holds {problem}", rule)
            return False
    return True


_COPY_INSTEAD = "put a copy of what it points to in its place"


def _a_link(relative: str, real: Path, root: Path) -> str:
    return (
        f"{relative!r} is a link (to {str(real.relative_to(root))!r}): data is copied from"
        f" regular files and folders only, never through a link; {_COPY_INSTEAD}"
    )


def _unsafe_entries(folder: Path, root: Path, copied: bool) -> Iterator[str]:
    """Links that lead out of the scenario folder (any link, in what is `copied`), and entries
    that are not files or folders."""
    scanned = 0
    for current, dirs, files in os.walk(folder):
        for name in dirs + files:
            scanned += 1
            if scanned > MAX_ENTRIES_SCANNED:
                yield f"more than {MAX_ENTRIES_SCANNED:,} entries; sample data should be smaller"
                return
            entry = Path(current, name)
            try:
                info = entry.lstat()
            except OSError:
                continue  # vanished while scanning; the copy at run time checks again
            shown = entry.relative_to(root)
            if stat.S_ISLNK(info.st_mode):
                real = Path(os.path.realpath(entry))
                if not _inside(real, root):
                    yield f"{str(shown)!r}, a link that leads outside the scenario folder"
                elif copied:
                    yield (
                        f"{str(shown)!r}, a link (to {str(real.relative_to(root))!r}): data is"
                        f" copied from regular files and folders only; {_COPY_INSTEAD}"
                    )
            elif not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
                yield f"{str(shown)!r}, which is not a regular file (a pipe, socket or device)"


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents
