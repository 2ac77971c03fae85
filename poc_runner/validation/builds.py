"""Builds run as isolated as the sandbox: what a Dockerfile would download is said before
anything starts.

In an isolated sandbox a service's image is built without a network (Service.build_network),
so a `RUN apt-get install ...` fails half way through a build. Each RUN that downloads gets a
warning at its own line of the Dockerfile, with the way to allow it (`build.network: default`).
An `ADD` of a URL (or a git remote) is fetched by the engine itself, from the host, whatever
the build's network: a network-less build would still reach out, even to the host's own
loopback listeners, so it is refused, as is an `ADD` whose source is a build variable (it may
be a URL); the file belongs in the build folder, or the build gets `build.network: default`.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from collections.abc import Iterator
from pathlib import Path

from poc_runner.diagnostics import KeyPath, Severity
from poc_runner.loader import Mark
from poc_runner.model import Scenario
from poc_runner.validation.findings import Findings

# Commands that fetch from the network, as they appear in a RUN instruction.
DOWNLOADS = re.compile(
    r"(?<![\w.-])(?:apt-get|apt|aptitude)\s+(?:-\S+\s+)*(?:install|update|upgrade|build-dep)\b"
    r"|(?<![\w.-])apk\s+(?:-\S+\s+)*(?:add|update|upgrade)\b"
    r"|(?<![\w.-])(?:pip3?|python3?\s+-m\s+pip|uv\s+pip|poetry|pipenv)\s+(?:-\S+\s+)*install\b"
    r"|(?<![\w.-])(?:npm|pnpm)\s+(?:-\S+\s+)*(?:install|i|ci|add)\b|(?<![\w.-])yarn\b"
    r"|(?<![\w.-])(?:curl|wget|git\s+clone)\b"
    r"|(?<![\w.-])(?:gem\s+install|go\s+(?:get|install|mod\s+download)|cargo\s+(?:install|fetch))\b"
)
_REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|git@)", re.IGNORECASE)
_INSTRUCTION = re.compile(r"\s*([A-Za-z]+)\b")
MAX_DOCKERFILE = 1024 * 1024  # bytes read; a longer Dockerfile is checked as far as that


def check_builds(scenario: Scenario, folder: Path, findings: Findings) -> None:
    root = folder.resolve()
    for name, service in scenario.services.items():
        spec = service.build_spec
        if spec is None:
            continue
        dockerfile = folder / spec.context / spec.dockerfile
        text = _read_inside(dockerfile, root)
        if text is None:
            continue  # check_files said why
        if service.build_network(scenario.sandbox.network) != "none":
            continue
        here: KeyPath = ("services", name, "build")
        fix = f"build: {{context: {spec.context}, network: default}}"
        for line, column, instruction in instructions(text):
            keyword = instruction.split(None, 1)[0].upper()
            downloads = DOWNLOADS.search(instruction) if keyword == "RUN" else None
            if downloads:
                findings.add(
                    Mark(line, column),
                    here,
                    f"RUN downloads (`{downloads[0]}`), but service {name!r} is built without"
                    " a network, as the sandbox runs: the build will fail here. If it must"
                    " download, give it `build.network: default`",
                    "build-network",
                    Severity.WARNING,
                    file=str(dockerfile),
                    fix=fix,
                )
            elif keyword == "ADD" and (source := fetched_source(instruction)):
                how = "is a build variable, which may be a URL" if "$" in source else "is remote"
                findings.add(
                    Mark(line, column),
                    here,
                    f"ADD's source {source[:80]} {how}: the engine fetches it itself, from the"
                    f" host, although service {name!r} is built without a network, as the"
                    " sandbox runs. Put the file in the build folder and COPY it, or give the"
                    " build `build.network: default`",
                    "build-network",
                    Severity.ERROR,
                    file=str(dockerfile),
                    fix=fix,
                )


def fetched_source(instruction: str) -> str | None:
    """The first source of an ADD the engine would fetch (a URL, a git remote) or cannot be
    told from one (a build variable); None when every source is in the build folder."""
    rest = "".join(instruction.split(None, 1)[1:])  # what follows ADD
    words: list[str] | None = None
    if rest.lstrip().startswith("["):  # the JSON form: ADD ["src", ..., "dest"]
        try:
            parsed = json.loads(rest)
        except json.JSONDecodeError:
            parsed = None
        if isinstance(parsed, list):
            words = [str(word) for word in parsed]
    if words is None:
        try:
            words = shlex.split(rest, comments=False, posix=True)
        except ValueError:
            words = rest.split()
    sources = [word for word in words if not word.startswith("--")][:-1]  # the last: the target
    return next((s for s in sources if _REMOTE.match(s) or "$" in s), None)


def instructions(text: str) -> Iterator[tuple[int, int, str]]:
    """Each instruction of a Dockerfile with the line and column it starts at, its
    continuation lines (ending in `\\`) joined and comment lines left out."""
    start, column, parts = 0, 0, list[str]()
    for number, line in enumerate(text.splitlines(), start=1):
        if not parts and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if parts and line.lstrip().startswith("#"):
            continue  # a comment inside a continued instruction
        if not parts:
            start, column = number, len(line) - len(line.lstrip()) + 1
        stripped = line.rstrip()
        parts.append(stripped.removesuffix("\\"))
        if not stripped.endswith("\\"):
            joined = " ".join(parts)
            parts = []
            if _INSTRUCTION.match(joined):
                yield start, column, joined.strip()
    if parts and _INSTRUCTION.match(" ".join(parts)):
        yield start, column, " ".join(parts).strip()


def _read_inside(path: Path, root: Path) -> str | None:
    """The Dockerfile's text, if it is a regular file inside the scenario folder."""
    real = Path(os.path.realpath(path))
    if root not in real.parents or not real.is_file():
        return None
    try:
        with real.open("rb") as handle:
            return handle.read(MAX_DOCKERFILE).decode("utf-8", "replace")
    except OSError:
        return None
